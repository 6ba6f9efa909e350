"""A class roster: the students of `nnexam generate --roster`, one variant each.

A roster is a CSV file with a header row: an id column (`id`, `student_id`, `sid`, `student id` or `student`)
and optionally `name`. Ids must be present and distinct; a student's variant folder is named after the id.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from solvers.errors import NnexamError


class RosterError(NnexamError):
    """The roster file cannot be used."""


ID_COLUMNS = ("id", "student_id", "sid", "student id", "student")


def read_roster(path: Path) -> list[dict[str, str]]:
    """Students from a CSV with a header row: an id column (`id`, `student_id`, `sid`) and optionally `name`."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise RosterError(f"{path}: no students (expected a header row, then one student per row)")
    header = {h.strip().lower(): h for h in rows[0] if h}
    id_col = next((header[c] for c in ID_COLUMNS if c in header), None)
    if id_col is None:
        raise RosterError(f"{path}: no id column; expected one of {', '.join(ID_COLUMNS)} in the header")
    name_col = header.get("name")
    students, seen = [], set()
    for line, row in enumerate(rows, start=2):
        sid = (row.get(id_col) or "").strip()
        if not sid:
            raise RosterError(f"{path}: line {line}: empty student id")
        if sid in seen:
            raise RosterError(f"{path}: line {line}: student id {sid!r} appears twice")
        seen.add(sid)
        student = {"id": sid}
        if name_col and (row.get(name_col) or "").strip():
            student["name"] = row[name_col].strip()
        students.append(student)
    return students


def folder_name(student_id: str) -> str:
    """The student's variant folder: the id with anything but letters, digits, `.`, `_` and `-` made `_`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", student_id).strip("._") or "student"
