"""A disk cache of solutions, so that a symbolic solve (sympy integration: gan, derived_distribution, elbo,
gradient_descent's symbolic route) is paid once per machine, not once per run.

Solvers are pure functions of their parameters, so a solution is stored under the SHA-256 of the kind, the
canonical JSON of its parameters and a fingerprint of the code that computed it (every source file of the
`solvers` package and the versions of Python, sympy and numpy): editing a solver, or upgrading sympy,
changes every key, and stale entries are simply never read again.

The folder is `$NNEXAM_CACHE_DIR`, else `$XDG_CACHE_HOME/nnexam/solutions`, else `~/.cache/nnexam/solutions`.
`NNEXAM_CACHE=0` turns the cache off. Entries are pickles, so they are read only from a folder that this user
owns and nobody else can write (mode 0700; any other folder turns the cache off), and only after their
SHA-256 checksum matches: a truncated, corrupt or unreadable entry is ignored, solved again and rewritten.
Entries are written to a temporary file and renamed, so a reader never sees half an entry. Only solutions
that took at least `MIN_SOLVE_SECONDS` are stored (reading a numeric kind back costs as much as solving it).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .core import Solution

MAGIC = b"nnexam-solution-1\n"
MIN_SOLVE_SECONDS = 0.005


def enabled() -> bool:
    return os.environ.get("NNEXAM_CACHE", "1").strip().lower() not in ("0", "off", "no", "false")


def folder() -> Path:
    if os.environ.get("NNEXAM_CACHE_DIR"):
        return Path(os.environ["NNEXAM_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nnexam" / "solutions"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """A hash of the code a solution depends on: the solvers package's sources and the library versions."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    for dist in ("sympy", "numpy"):
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{dist}={version}\0".encode())
    digest.update(f"python={platform.python_version()} {sys.implementation.name}".encode())
    return digest.hexdigest()


def key(kind: str, params_json: str) -> str:
    return hashlib.sha256(f"{fingerprint()}\0{kind}\0{params_json}".encode()).hexdigest()


def _private_folder(create: bool) -> Path | None:
    """The cache folder if it is a real folder that only this user can write (created 0700 if asked)."""
    path = folder()
    try:
        if create:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o077:
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    return path


def load(kind: str, params_json: str) -> Solution | None:
    """The stored solution, or None when there is none or it cannot be trusted (never raises)."""
    if not enabled():
        return None
    base = _private_folder(create=False)
    if base is None:
        return None
    entry = base / key(kind, params_json)
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    checksum_end = len(MAGIC) + 64
    if not data.startswith(MAGIC) or len(data) <= checksum_end + 1:
        return None
    checksum, payload = data[len(MAGIC):checksum_end], data[checksum_end + 1:]
    if hashlib.sha256(payload).hexdigest().encode() != checksum:
        return None
    try:
        solution = pickle.loads(payload)
    except Exception:  # an entry written by an incompatible version: solve again and overwrite it
        return None
    return solution if isinstance(solution, Solution) else None


def store(kind: str, params_json: str, solution: Solution) -> None:
    """Store a solution (best effort: a full disk or a read-only home only loses the speed-up)."""
    if not enabled():
        return
    base = _private_folder(create=True)
    if base is None:
        return
    try:
        payload = pickle.dumps(solution, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a value that does not pickle: keep it in process only
        return
    data = MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    try:
        fd, tmp = tempfile.mkstemp(dir=base, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, base / key(kind, params_json))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def solve_through(kind: str, params_json: str, solve: Callable[[], Solution]) -> Solution:
    """`solve()`, or the stored solution of the same kind, parameters and code."""
    solution = load(kind, params_json)
    if solution is not None:
        return solution
    start = time.perf_counter()
    solution = solve()
    if time.perf_counter() - start >= MIN_SOLVE_SECONDS:
        store(kind, params_json, solution)
    return solution
