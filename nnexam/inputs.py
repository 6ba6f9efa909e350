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
    if path.is_file():
        body = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            try:
                return yaml.safe_load(body)
            except yaml.YAMLError as exc:
                raise InputError(f"{path}: not valid YAML ({_first_line(exc)})") from exc
        return _parse(body, str(path))
    raise InputError(f"--params: expected a JSON object or the path of a JSON/YAML file; no file {text!r}")


def _parse(body: str, where: str) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160]
