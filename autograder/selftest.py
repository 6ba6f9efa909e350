"""A self-test of the grader where it is installed: the reference must score full marks, a cheat nothing.

The cheat knows everything an attacker could learn from the package: it imports the references by their
module names and reads the reference file by its real path on this machine. Run by `nnexam selftest` and at
the end of the Gradescope image's `setup.sh`, where a failure stops the image build in front of the instructor.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

from .engine import grade_submission
from .submission import Submission


@dataclass
class SelfTest:
    assignment: str
    reference: tuple[float, float]
    cheat: tuple[float, float]
    protections: dict

    @property
    def ok(self) -> bool:
        return self.reference[0] == self.reference[1] > 0 and self.cheat[0] == 0

    def lines(self) -> list[str]:
        p = self.protections
        namespaces = ", ".join(p.get("namespaces", [])) or "none"
        return [f"{self.assignment}: the reference scores {self.reference[0]:g}/{self.reference[1]:g} "
                f"(expected full marks), a cheating submission {self.cheat[0]:g}/{self.cheat[1]:g} (expected 0)",
                f"  environment: {p.get('host', {}).get('mode', '?')}; namespaces: {namespaces}; "
                f"uid: {p.get('user')}; memory: {p.get('memory', '?')}"]


def cheat_source(assignment: str) -> str:
    module = importlib.import_module(f"autograder.references.{assignment}")
    path = inspect.getsourcefile(module)
    return (f"try:\n    from autograder.references.{assignment} import *  # noqa\nexcept Exception:\n    pass\n"
            f"try:\n    exec(compile(open({path!r}).read().replace('from __future__ import annotations', ''),"
            f" 'ref', 'exec'))\nexcept Exception:\n    pass\n")


def run(assignment: str) -> SelfTest:
    """Grade the reference file and the cheat; the protections as the last run recorded them."""
    module = importlib.import_module(f"autograder.references.{assignment}")
    reference = Path(inspect.getsourcefile(module)).read_bytes()
    scores, protections = [], {}
    for source in (reference, cheat_source(assignment).encode()):
        results = grade_submission(assignment, Submission(f"{assignment}-selftest.py", source), report=protections)
        scores.append((sum(q.score for q in results), sum(q.max_score for q in results)))
    return SelfTest(assignment, scores[0], scores[1], protections)
