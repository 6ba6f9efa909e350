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

from assignments.code import code_assignments
from solvers.errors import NnexamError

from .frames import MalformedResult, validate
from .sandbox import InfrastructureError, Limits, RunResult, run_plan
from .submission import Submission, read_submission

ASSIGNMENTS = tuple(code_assignments())  # the assignment folders with code questions
REFERENCE_LOCK = threading.Lock()  # torch's global seed: reference runs happen one at a time


class UnknownAssignmentError(NnexamError):
    """The assignment name is not one the autograder knows."""


class GraderFault(InfrastructureError):
    """The grader itself failed on a submission (not the submission's doing): it is not graded."""


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


def grade_submission(assignment: str, submission: Path | Submission, limits: Limits | None = None,
                     report: dict | None = None) -> list[QuestionResult]:
    """Grade one submission (a path, read safely, or a Submission) against every question of `assignment`;
    `report`, if given, receives the protections that took effect.

    A malformed result from the worker costs the checks that needed it; any other failure of the grader is a
    GraderFault naming the submission's file (the submission is then not graded, never given a 0)."""
    module = load_assignment(assignment)
    if not isinstance(submission, Submission):
        submission = read_submission(Path(submission))
    probes, inputs = [], {}
    for q in module.QUESTIONS:
        q_probes, q_inputs = q.plan()
        probes += [dict(p, id=f"{q.id}.{p['id']}") for p in q_probes]
        inputs.update(q_inputs)  # keys already start with the question id
    plan = {"probes": probes, "notebook": submission.notebook}
    run = run_plan(submission.source, plan, inputs, limits or module.LIMITS)
    if report is not None:
        report.update(run.protections)
    kinds = {p["id"]: p["kind"] for p in probes}
    results = []
    for q in module.QUESTIONS:
        view = RunView(run, q.id, inputs, kinds, submission)
        checks = [Check(name, pts) for name, pts in module.POINTS[q.id].items()]
        by_name = {c.name: c for c in checks}
        if not view.imported:
            for c in checks:
                c.message = view.import_message()
        else:
            try:
                with REFERENCE_LOCK:
                    for name, fraction, message in q.grade(view):
                        by_name[name].fraction, by_name[name].message = float(fraction), message
            except InfrastructureError:
                raise
            except Exception as exc:  # noqa: BLE001 - the grader's own failure, reported with the file
                raise GraderFault(f"{submission.name}: the grader failed on {q.id} "
                                  f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from exc
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
    """One question's view of a worker run: its probes' results, validated, with a reason whenever one is
    missing or malformed. Messages name the student's own file (and, for a notebook, the cell)."""

    def __init__(self, run: RunResult, qid: str, inputs: dict[str, np.ndarray], kinds: dict[str, str],
                 submission: Submission):
        self.run, self.qid, self.inputs, self.kinds, self.submission = run, qid, inputs, kinds, submission

    def _import_meta(self) -> dict | None:
        frame = self.run.frames.get("__import__")
        if frame is None:
            return None
        meta = frame[0]
        if meta.get("ok") is True:
            return {"ok": True}
        try:
            return validate("call", meta, {})
        except MalformedResult:
            return {"ok": False, "error": "unknown error", "line": None}

    @property
    def imported(self) -> bool:
        meta = self._import_meta()
        return bool(meta and meta["ok"])

    def import_message(self) -> str:
        meta = self._import_meta()
        if meta is not None:
            return f"{self.submission.name} could not be imported: {self.error_text(meta)}"
        return f"{self.submission.name} could not be imported: {(self.run.problems or [self.run.why_stopped()])[0]}"

    def error_text(self, meta: dict) -> str:
        where = self.submission.where(meta.get("line"))
        return meta["error"] + (f" ({where})" if where else "")

    def input(self, key: str) -> np.ndarray:
        return self.inputs[f"{self.qid}.{key}"]

    def get(self, probe_id: str) -> tuple[dict | None, dict, str]:
        """(meta, arrays, problem): meta is None when the probe failed, never reported, or sent results that do
        not fit its kind's schema."""
        full = f"{self.qid}.{probe_id}"
        frame = self.run.frames.get(full)
        if frame is None:
            return None, {}, (self.run.problems or [self.run.why_stopped()])[0]
        meta, arrays = frame
        try:
            meta = validate(self.kinds[full], meta, arrays)
        except MalformedResult as exc:
            return None, {}, f"your code sent results the grader cannot use ({exc})"
        if not meta["ok"]:
            return None, {}, f"your code raised {self.error_text(meta)}"
        return meta, arrays, ""


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def compare(name: str, got, expected, atol: float = 1e-6, rtol: float = 1e-4) -> tuple[bool, str]:
    """(equal, message) for arrays; shapes must agree up to squeezed unit axes. A value that is not finite
    never matches; an expected value that is not finite is the grader's fault (GraderFault)."""
    expected = np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(expected)):
        raise GraderFault(f"the expected value of {name} is not finite")
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
