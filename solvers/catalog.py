"""The solver contract, `solvers/CATALOG.md` (package data), read as data: each kind's params, answer fields and
notes, as `nnexam kinds KIND` prints them and tests/test_catalog.py checks them against the registry.

    rows_of("backprop")   # [Row("backprop", "", ...), Row("backprop", "(minibatch)", ...)]
    notes_of("pca")       # the notes below the tables that start with `pca`

The catalog has a table of kinds, then a section "New kinds" with a second table (new kinds and extensions of
existing ones, such as `backprop` (minibatch)) and notes, one bullet per convention: "- `kind`: text".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

ROW = re.compile(r"\|\s*`(\w+)`\s*(\([^)]*\))?\s*\|(.*)\|(.*)\|\s*$")
NOTE = re.compile(r"- `(\w+)`\s*(\([^)]*\))?:\s*(.*)$")
PIPE = "\x00"  # stands for an escaped `\|` inside a cell while the row is split


@dataclass(frozen=True)
class Row:
    kind: str
    variant: str  # "" for the kind itself, else the extension it describes, e.g. "(minibatch)"
    params: str
    answer: str
    section: str  # "kinds" (the first table) or "new kinds"


def text() -> str:
    return resources.files(__package__).joinpath("CATALOG.md").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def rows() -> tuple[Row, ...]:
    out = []
    section = "kinds"
    for line in text().splitlines():
        if line.startswith("## "):
            section = "new kinds" if line.startswith("## New kinds") else line[3:].strip().lower()
        m = ROW.match(line.replace("\\|", PIPE))
        if m:
            params, answer = (cell.strip().replace(PIPE, "|") for cell in (m.group(3), m.group(4)))
            out.append(Row(m.group(1), m.group(2) or "", params, answer, section))
    return tuple(out)


def rows_of(kind: str) -> list[Row]:
    return [r for r in rows() if r.kind == kind]


def notes_of(kind: str) -> list[str]:
    """The notes about `kind` (those of its extensions begin with the extension, e.g. "(minibatch) ...")."""
    out = []
    for line in text().splitlines():
        m = NOTE.match(line)
        if m and m.group(1) == kind:
            out.append(f"{m.group(2)} {m.group(3)}" if m.group(2) else m.group(3))
    return out
