"""Reading parameters from the command line: inline JSON, a JSON or YAML file, or '-' for stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from solvers.errors import NnexamError


class InputError(NnexamError):
    """The parameters could not be read (bad JSON, missing file)."""


def load_params(text: str) -> Any:
    """Parse `--params`: a JSON object, a path to a .json/.yaml file, or '-' for standard input."""
    if text == "-":
        return _parse(sys.stdin.read(), "standard input")
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        return _parse(stripped, "--params")
    path = Path(text)
    if path.exists() or path.is_symlink():
        body = read_text(path, "--params")
        if path.suffix in (".yaml", ".yml"):
            try:
                return yaml.safe_load(body)
            except yaml.YAMLError as exc:
                raise InputError(f"{path}: not valid YAML ({_first_line(exc)})") from exc
        return _parse(body, str(path))
    raise InputError(f"--params: expected a JSON object or the path of a JSON/YAML file; no file {text!r}")


def read_text(path: Path, what: str, max_bytes: int = 64 << 20) -> str:
    """The text of a regular file given on the command line (never a FIFO or a device, which could block or
    never end), as UTF-8; a one-line InputError otherwise."""
    import os
    import stat

    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(f"{what}: {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what}: {path} is not a regular file")
    if info.st_size > max_bytes:
        raise InputError(f"{what}: {path} is larger than {max_bytes >> 20} MiB")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what}: {path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{what}: {path}: {exc.strerror}") from None


def _parse(body: str, where: str) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160]
