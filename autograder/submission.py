"""Reading a submission file safely, and turning a notebook into the script its code cells make.

A submission is read, never followed: a symbolic link, a FIFO, a device or a folder is refused with one line,
and so is a file over MAX_BYTES or a notebook that is not UTF-8 JSON. A notebook's code cells are converted
the way IPython itself reads them (IPython's input transformer: `%magic`, `!cmd`, `x?`, `%%cell` magics become
`get_ipython()` calls); in the worker those calls run nothing, except the magics that only wrap the cell's own
code (`%%time`, `%%capture`, ...), which run that code. Otter's own lines (`import otter`, `grader = ...`,
`grader.check(...)`) are dropped. Shell escapes never run.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from solvers.errors import NnexamError

MAX_BYTES = 4 << 20
SUFFIXES = (".py", ".ipynb")
OTTER_LINES = ("import otter", "grader.", "grader =", "grader=", "from otter")
# cell magics whose body is not Python (it never runs); every other cell magic's body is kept as code
FOREIGN_CELLS = {"bash", "sh", "script", "system", "html", "javascript", "js", "latex", "markdown", "svg",
                 "writefile", "file", "perl", "ruby", "python2", "python3", "pypy", "sx", "HTML", "SVG"}


class SubmissionError(NnexamError):
    """A submission that cannot be graded as it is (not a regular file, too large, not a notebook)."""


@dataclass(frozen=True)
class Submission:
    """What the worker runs (`source`, Python bytes) and how to name places in the student's own file."""

    name: str
    source: bytes
    notebook: bool = False
    cells: tuple[tuple[int, int], ...] = field(default=())  # per script line: (cell number, line in cell)

    def where(self, line: int | None) -> str:
        """'line 3 of hw5.py', or 'cell 4, line 2 of hw5.ipynb'."""
        if not line:
            return ""
        if not self.notebook:
            return f"line {line} of {self.name}"
        if 0 < line <= len(self.cells):
            cell, inner = self.cells[line - 1]
            return f"cell {cell}, line {inner} of {self.name}"
        return f"{self.name}"


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file, opened without following a symbolic link; a one-line error otherwise."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise SubmissionError(f"{path}: cannot be read ({exc.strerror})") from None
    kind = _kind(info.st_mode)
    if kind:
        raise SubmissionError(f"{path}: is {kind}, not a regular file; not graded (submit the file itself)")
    if info.st_size > max_bytes:
        raise SubmissionError(f"{path}: is {info.st_size} bytes; submissions over {max_bytes >> 20} MiB are refused")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise SubmissionError(f"{path}: cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        if _kind(os.fstat(fh.fileno()).st_mode):
            raise SubmissionError(f"{path}: changed while it was read; not graded")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SubmissionError(f"{path}: grew over {max_bytes >> 20} MiB while it was read; refused")
    return data


def _kind(mode: int) -> str:
    """'' for a regular file, else what the entry is."""
    if stat.S_ISREG(mode):
        return ""
    return ("a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode)
            else "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


def entry_problem(path: Path) -> str:
    """Why a folder entry is not a submission to grade ('' when it is a regular file)."""
    try:
        return _kind(os.lstat(path).st_mode)
    except OSError as exc:
        return exc.strerror or "unreadable"


def read_submission(path: Path, name: str | None = None) -> Submission:
    """A .py or .ipynb file as a Submission named `name` (default: the file's name)."""
    path = Path(path)
    name = name or path.name
    if path.suffix not in SUFFIXES:
        raise SubmissionError(f"{path}: expected a .py file or a .ipynb notebook")
    data = read_bytes(path)
    if path.suffix == ".py":
        return Submission(name, data)
    return notebook_submission(data, name)


def notebook_submission(data: bytes, name: str) -> Submission:
    try:
        notebook = json.loads(data.decode("utf-8"))
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
        raise SubmissionError(f"{name}: not a Jupyter notebook (expected UTF-8 JSON with a list of cells)") from None
    script, where = [], []
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if not isinstance(source, str):
            continue
        lines = cell_to_python(source).split("\n")
        original = source.split("\n")
        for i, line in enumerate(lines):
            script.append(line)
            where.append((number, min(i + 1, len(original)) if len(lines) == len(original) else 1))
        script.append("")
        where.append((number, len(original)))
    return Submission(name, ("\n".join(script) + "\n").encode(), notebook=True, cells=tuple(where))


def cell_to_python(source: str) -> str:
    """One code cell as Python, read as IPython reads it; the line count is kept where IPython keeps it."""
    from IPython.core.inputtransformer2 import TransformerManager

    lines = source.split("\n")
    first = lines[0].strip()
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic in FOREIGN_CELLS:
            return "\n".join("pass" if i == 0 else "" for i in range(len(lines)))
        lines[0] = "pass"  # %%time, %%capture, ...: the body is the cell's own code, run as it is
    lines = [_indent(line) + "pass" if line.lstrip().startswith(OTTER_LINES) else line for line in lines]
    text = "\n".join(lines)
    try:
        converted = TransformerManager().transform_cell(text + "\n")
    except (SyntaxError, ValueError, IndexError):
        return text  # the worker reports the syntax error with its line
    return converted[:-1] if converted.endswith("\n") else converted


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
