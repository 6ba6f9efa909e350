"""The comparison engine: plans probes for an assignment, runs them in the sandbox, grades each question.

Every question declares its checks with their points in its assignment module's `POINTS` table (the one
place where points are allocated). A check earns `fraction * points` and says why in one line; the first
divergence found is named ("the output of the 2nd Linear differs: max abs error 0.31 at index (0, 3)").
The grader is the only process that imports a reference or computes an expected value.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from solvers.errors import NnexamError

from .sandbox import Limits, RunResult, run_plan

ASSIGNMENTS = ("hw5", "hw6", "hw7")
REFERENCE_LOCK = threading.Lock()  # torch's global seed: reference runs happen one at a time


class UnknownAssignmentError(NnexamError):
    """The assignment name is not one the autograder knows."""


@dataclass
class Check:
    name: str
    points: float
    fraction: float = 0.0
    message: str = ""

    @property
    def score(self) -> float:
        return round(self.points * max(0.0, min(1.0, self.fraction)), 4)


@dataclass
class QuestionResult:
    id: str
    title: str
    checks: list[Check] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(c.points for c in self.checks), 4)

    def output(self) -> str:
        lines = []
        for c in self.checks:
            mark = "PASS" if c.fraction >= 1 else "FAIL" if c.fraction <= 0 else "PARTIAL"
            lines.append(f"[{mark}] {c.name} ({c.score:g}/{c.points:g}): {c.message}")
        return "\n".join(lines)


def load_assignment(name: str):
    """The assignment module `autograder.assignments.<name>` (QUESTIONS, POINTS, LIMITS)."""
    if name not in ASSIGNMENTS:
        raise UnknownAssignmentError(f"unknown assignment {name!r}: expected one of {', '.join(ASSIGNMENTS)}")
    return importlib.import_module(f"{__package__}.assignments.{name}")


def grade_submission(assignment: str, submission: Path, limits: Limits | None = None) -> list[QuestionResult]:
    """Grade one submission file against every question of `assignment`."""
    module = load_assignment(assignment)
    probes, inputs = [], {}
    for q in module.QUESTIONS:
        q_probes, q_inputs = q.plan()
        probes += [dict(p, id=f"{q.id}.{p['id']}") for p in q_probes]
        inputs.update(q_inputs)  # keys already start with the question id
    run = run_plan(Path(submission), {"probes": probes}, inputs, limits or module.LIMITS)
    results = []
    for q in module.QUESTIONS:
        view = RunView(run, q.id, inputs)
        checks = [Check(name, pts) for name, pts in module.POINTS[q.id].items()]
        by_name = {c.name: c for c in checks}
        if not view.imported:
            for c in checks:
                c.message = view.import_message()
        else:
            with REFERENCE_LOCK:
                for name, fraction, message in q.grade(view):
                    by_name[name].fraction, by_name[name].message = fraction, message
        _gate_signatures(checks)
        results.append(QuestionResult(q.id, q.title, checks))
    return results


def _gate_signatures(checks: list[Check]) -> None:
    """Defining the right names earns nothing unless some behaviour check passes too."""
    gate = [c for c in checks if c.name == "signatures"]
    if gate and all(c.score == 0 for c in checks if c.name != "signatures"):
        for c in gate:
            if c.fraction > 0:
                c.fraction, c.message = 0.0, c.message + " (no credit: no behaviour check passed)"


class RunView:
    """One question's view of a worker run: its probes' results, with a reason whenever one is missing."""

    def __init__(self, run: RunResult, qid: str, inputs: dict[str, np.ndarray]):
        self.run, self.qid, self.inputs = run, qid, inputs

    @property
    def imported(self) -> bool:
        meta = self.run.frames.get("__import__", ({}, {}))[0]
        return bool(meta.get("ok"))

    def import_message(self) -> str:
        meta = self.run.frames.get("__import__")
        if meta is not None:
            return f"your file could not be imported: {meta[0].get('error', 'unknown error')}"
        return f"your file could not be imported: {(self.run.problems or [self.run.why_stopped()])[0]}"

    def input(self, key: str) -> np.ndarray:
        return self.inputs[f"{self.qid}.{key}"]

    def get(self, probe_id: str) -> tuple[dict | None, dict, str]:
        """(meta, arrays, problem): meta is None when the probe failed or never reported."""
        frame = self.run.frames.get(f"{self.qid}.{probe_id}")
        if frame is None:
            return None, {}, self.run.why_stopped()
        meta, arrays = frame
        if not meta.get("ok"):
            return None, {}, f"your code raised {meta.get('error', 'an error')}"
        return meta, arrays, ""


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def compare(name: str, got, expected, atol: float = 1e-6, rtol: float = 1e-4) -> tuple[bool, str]:
    """(equal, message) for arrays; shapes must agree up to squeezed unit axes."""
    expected = np.asarray(expected, dtype=np.float64)
    if got is None:
        return False, f"{name} is missing"
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        if got.size == expected.size and np.squeeze(got).shape == np.squeeze(expected).shape:
            got = got.reshape(expected.shape)
        else:
            return False, f"{name} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    if not np.all(np.isfinite(got)):
        return False, f"{name} holds NaN or infinite values"
    err = np.abs(got - expected)
    bad = err > atol + rtol * np.abs(expected)
    if not bad.any():
        return True, f"{name} matches"
    index = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), err.shape)
    return False, (f"{name} differs: max abs error {float(err[index]):.3g} at index {tuple(int(i) for i in index)}"
                   f" (got {float(got[index]):.6g}, expected {float(expected[index]):.6g})")
