"""Otter-Grader and Gradescope integration: student material with public checks, and an autograder zip whose
scores come from our sandboxed runner.

`build(assignment, out)` writes

    out/student/   NAME.ipynb and NAME.py (signatures, docstrings, shapes) and tests/q1.py ... (OK-format PUBLIC
                   checks: names, shapes, values the statement gives). Students run `grader.check("q1")` or
                   `otter check NAME.py` offline; the graded checks are never in this folder.
    out/autograder/  the `otter generate` inputs (placeholder tests, otter_config.json, requirements.txt, the
                   nnexam wheel) and out/NAME-autograder.zip, the file to upload to Gradescope.

Otter is used for what it does well (test-file format, notebook self-checks, Gradescope packaging and image
setup); the trust stays in our runner. The trust argument, path by path:

* Otter's own grading is not a safe place for a score: the submission and the tests share one kernel (hidden
  tests are readable, `grader.check` results forgeable), the kernel's results come back to Otter's process as a
  pickle it loads, and a submitted `.OTTER_LOG` is unpickled by Otter's runner. On Gradescope all of that runs
  as root, so student code there could rewrite anything, results.json included. Hence: student code never
  runs in Otter's process or kernel on our path.
* Our plugin (`plugin.NnexamPlugin`) acts at `before_grading`, which Otter calls before it loads a log or
  starts the kernel. It reads the submission's bytes, then deletes everything the student uploaded from the
  submission folder (`.OTTER_LOG`, extra modules that could shadow an import, the file itself, replaced by a
  comment); no student byte is ever unpickled or imported by Otter. It grades the saved bytes with
  `nnexam grade ASSIGNMENT FILE --format json` in a fresh `python -I` process started in a private temporary
  folder (no student file on its import path). That process is our runner: the submission runs only inside
  the sandboxed worker (separate process; CPU, wall, memory, file-size and process limits; user `nobody`,
  fresh mount/network/PID namespaces and the project, home folders and /tmp hidden where the system allows),
  which can touch only its private folder and a pipe of plain numeric npz frames behind a per-run token; the
  grader compares them with the references. What the submission prints or writes is never read as a result.
* `before_execution` hands Otter's kernel a one-comment notebook, so Otter's kernel runs no student code; its
  tests are placeholders that cannot pass (a doctest on an undefined name). `after_grading` replaces Otter's
  results with one result per question from our JSON, which Otter then writes as Gradescope's results.json.
  Any failure (no result, a crash of the grader, the plugin not importable) gives 0 with a line saying why:
  fail closed. `tests/test_otter.py` submits a poisoned `.OTTER_LOG` and a `numpy/` package that would shadow
  numpy: with the plugin neither is touched; with the same zip minus the plugin, Otter unpickles the log and
  its kernel imports the fake numpy.
* What the student can touch, in each path: in our runner, the sandbox's private folder and its result pipe
  (forged frames carry no token; a lying worker reports only what a correct submission would compute); in
  Otter's process and kernel, nothing (no student code or file is left when they run); on the student's own
  machine (`otter check`, `grader.check`), everything, which is fine: those public checks give feedback, not
  grades.

Limits: on Gradescope the sandbox gets only what the container allows (if namespaces are refused, the worker
still gets its own process, the resource limits and `nobody`; the protections are recorded per run).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class OtterBuild:
    student: Path
    notebook: Path
    script: Path
    autograder_zip: Path
    points: dict[str, float]


def question_points(assignment: str) -> dict[str, float]:
    """{question id: its maximum score}, from the assignment's POINTS table (the one place points live)."""
    from ..engine import load_assignment

    module = load_assignment(assignment)
    return {q.id: float(sum(module.POINTS[q.id].values())) for q in module.QUESTIONS}


def build(assignment: str, out: Path, visibility: str = "visible") -> OtterBuild:
    """Student material in out/student and the Gradescope zip out/ASSIGNMENT-autograder.zip; `visibility` is
    Gradescope's for the per-question tests (their feedback names expected values)."""
    from .material import write_student
    from .package import build_zip

    points = question_points(assignment)
    out = Path(out)
    student = out / "student"
    paths = write_student(assignment, student)
    zip_path = build_zip(assignment, points, out / "autograder", out / f"{assignment}-autograder.zip", visibility)
    return OtterBuild(student, paths["ipynb"], paths["py"], zip_path, points)
