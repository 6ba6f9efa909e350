"""A disk cache of what `nnexam render` writes (the PDFs and key.json), so that rendering an assignment that
was rendered before costs a hash and a copy, not a solve, a template and two Typst compiles.

A rendering is a pure function of its request (assignment, seed, redraws, format) and of the code and data
that make it, so it is stored under the SHA-256 of the request and a fingerprint of every file of the
`nnexam`, `solvers`, `templates` and `assignments` packages (sources, templates, assignment data) and the
installed files of the libraries that shape the output (typst, sympy, numpy, jinja2, PyYAML, matplotlib): any
edit or upgrade changes every key. Entries live in the `documents` folder of `solvers.store` (private to
this user, checksummed, written atomically; `NNEXAM_CACHE=0` turns it off) as a JSON header line followed
by the files' bytes, never a pickle. This module imports nothing heavy, so a hit never imports sympy.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import tempfile
from functools import lru_cache
from importlib import util
from pathlib import Path
from typing import Any

from solvers import store

FOLDER = "documents"
PACKAGES = ("nnexam", "solvers", "templates", "assignments")
LIBRARIES = ("typst", "sympy", "numpy", "jinja2", "yaml", "matplotlib")


@lru_cache(maxsize=1)
def fingerprint() -> str:
    digest = hashlib.sha256()
    for package in PACKAGES:
        spec = util.find_spec(package)  # finds the folder without importing the package
        for location in (spec.submodule_search_locations or []) if spec else []:
            digest.update(f"[{package}]\0".encode())
            store.digest_tree(digest, Path(location))
    for library in LIBRARIES:  # where each is installed and when (an upgrade rewrites the file); no import
        spec = util.find_spec(library)
        try:
            info = os.stat(spec.origin) if spec and spec.origin else None
        except OSError:
            info = None
        where = f"{spec.origin}:{info.st_mtime_ns}:{info.st_size}" if info else "-"
        digest.update(f"{library}={where}\0".encode())
    digest.update(f"python={platform.python_version()}".encode())
    return digest.hexdigest()


def key(request: dict[str, Any]) -> str:
    return hashlib.sha256(f"{fingerprint()}\0{json.dumps(request, sort_keys=True)}".encode()).hexdigest()


def load(request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    """(header, {file name: bytes}) of a stored rendering, or None (never raises)."""
    payload = store.read(FOLDER, key(request))
    if payload is None:
        return None
    try:
        line, _, rest = payload.partition(b"\n")
        header = json.loads(line)
        if not isinstance(header, dict) or not re.fullmatch(r"[\w-]+", str(header.get("name"))):
            return None  # the name becomes the default output folder: a plain name, never a path
        files, offset = {}, 0
        for name, size in header["files"]:
            if not isinstance(name, str) or not name or "/" in name or name.startswith(".") or \
                    not isinstance(size, int) or isinstance(size, bool) or size < 0:
                return None
            files[name] = rest[offset:offset + size]
            offset += size
        if offset != len(rest):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    return header, files


def save(request: dict[str, Any], header: dict[str, Any], paths: list[Path]) -> None:
    """Store the written files `paths` (plain names in one folder) with `header`."""
    if not store.enabled():
        return
    blobs = [(p.name, p.read_bytes()) for p in paths]
    line = json.dumps({**header, "files": [[name, len(data)] for name, data in blobs]}).encode()
    store.write(FOLDER, key(request), line + b"\n" + b"".join(data for _, data in blobs))


def write_files(outdir: Path, files: dict[str, bytes]) -> list[Path]:
    """Write each file into `outdir` through a temporary file and a rename."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        fd, tmp = tempfile.mkstemp(dir=outdir, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, outdir / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(outdir / name)
    return written


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
