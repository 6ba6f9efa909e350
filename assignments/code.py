"""Code questions of an assignment: what students see and submit, and the points of each graded check.

An assignment folder with code questions holds `code.py` defining `CODE`, a StudentAssignment: per question
the statement, the starter code (the names and signatures the grader calls), the public checks students run
themselves (doctest pairs that Otter runs with `grader.check("q1")` or `otter check FILE`), and `points`, the
one place where a question's points are allocated among its checks. The graded checks (probes, references,
comparisons) live in the autograder (`autograder/assignments/<name>.py`), which reads this.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class StudentQuestion:
    id: str
    points: dict[str, float]  # graded check -> points
    title: str
    statement: str  # markdown
    starter: str  # Python: signatures, docstrings, `raise NotImplementedError`
    checks: list[tuple[str, str]] = field(default_factory=list)  # public: (code, expected printed output)


@dataclass(frozen=True)
class StudentAssignment:
    name: str
    title: str
    imports: str
    questions: list[StudentQuestion]


@cache
def code_assignments() -> dict[str, StudentAssignment]:
    """{name: StudentAssignment} for every assignment folder that has a `code.py` (the folders are the list)."""
    found = {}
    for folder in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if folder.ispkg and (Path(__file__).parent / folder.name / "code.py").exists():
            spec = importlib.import_module(f"{__package__}.{folder.name}.code").CODE
            found[spec.name] = spec
    return found


def points(name: str) -> dict[str, dict[str, float]]:
    """{question id: {check: points}} of assignment `name`'s code questions."""
    return {q.id: dict(q.points) for q in code_assignments()[name].questions}
