"""A private, checksummed store of byte strings on disk: the folder behind the caches of solutions
(`solvers.cache`) and of rendered documents (`nnexam render`). It imports nothing heavy.

The base folder is `$NNEXAM_CACHE_DIR`, else `$XDG_CACHE_HOME/nnexam`, else `~/.cache/nnexam`; each cache has
a subfolder. `NNEXAM_CACHE=0` turns every cache off. A subfolder is used only if it is a real folder that
this user owns and nobody else can write (it is created 0700; any other folder turns that cache off), and an
entry is read through descriptors checked after opening (no symlink, this user's, writable by nobody else),
so an entry is only ever one we wrote: that, not the checksum, is what makes it trusted. The SHA-256 checksum
catches a truncated or corrupt entry, which is ignored (the caller computes the value again and overwrites it).
Entries are written to a temporary file and renamed, so a reader never sees half an entry.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

MAGIC = b"nnexam-cache-1\n"


def enabled() -> bool:
    return os.environ.get("NNEXAM_CACHE", "1").strip().lower() not in ("0", "off", "no", "false")


def base() -> Path:
    if os.environ.get("NNEXAM_CACHE_DIR"):
        return Path(os.environ["NNEXAM_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "nnexam"


def private_folder(name: str, create: bool) -> Path | None:
    """The subfolder `name` of the cache if it is a real folder only this user can write (made 0700 if asked)."""
    if not enabled():
        return None
    path = base() / name
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


def read(name: str, key: str) -> bytes | None:
    """The bytes stored under `key` in the cache `name`, or None (missing, corrupt or untrusted; never raises)."""
    folder = private_folder(name, create=False)
    if folder is None:
        return None
    try:
        data = _read_owned(folder, key)
    except OSError:
        return None
    if data is None:
        return None
    end = len(MAGIC) + 64
    if not data.startswith(MAGIC) or len(data) < end + 1 or data[end:end + 1] != b"\n":
        return None
    payload = data[end + 1:]
    if hashlib.sha256(payload).hexdigest().encode() != data[len(MAGIC):end]:
        return None
    return payload


def _owned(info: os.stat_result) -> bool:
    return not info.st_mode & 0o022 and (not hasattr(os, "getuid") or info.st_uid == os.getuid())


def _read_owned(folder: Path, key: str) -> bytes | None:
    """The entry's bytes, read through descriptors checked after opening (so a folder or file swapped for a
    symlink between the check and the read is refused): the folder and the entry, no symlink either, both
    this user's and writable by nobody else."""
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    directory = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | nofollow)
    try:
        if not _owned(os.fstat(directory)) or os.fstat(directory).st_mode & 0o077:
            return None
        fd = os.open(key, os.O_RDONLY | nofollow, dir_fd=directory)
    finally:
        os.close(directory)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or not _owned(info):
            return None
        return handle.read()


def write(name: str, key: str, payload: bytes) -> None:
    """Store `payload` under `key` (best effort: a full disk or a read-only home only loses the speed-up)."""
    folder = private_folder(name, create=True)
    if folder is None:
        return
    data = MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, folder / key)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def digest_tree(digest, root: Path, suffixes: tuple[str, ...] | None = None) -> None:
    """Feed every file under `root` (path and content; `__pycache__` left out) into the hash `digest`."""
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        if suffixes is not None and path.suffix not in suffixes:
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
