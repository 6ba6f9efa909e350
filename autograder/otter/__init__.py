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
  starts the kernel (Otter itself has only chosen the file: the notebook if there is one, and parsed it as JSON).
  It reads the submission's bytes (a regular file only, never through a link), notes any other code file the
  student uploaded, then deletes everything the student uploaded from the submission folder (`.OTTER_LOG`, extra
  modules that could shadow an import, the file itself, replaced by an empty one); no student byte is ever
  unpickled or imported by Otter. It grades the saved bytes with `nnexam grade ASSIGNMENT FILE --format json
  --name THEIR_FILE` in a fresh `python -I` process started in a private temporary folder (no student file on its
  import path), stopped after the configured timeout (480 s, below Gradescope's 10 minutes). That process is our
  runner: the submission runs only inside the sandboxed worker (README, "How a grade is computed": a separate
  process with CPU, wall, memory-over-all-processes, file-size, scratch-size and process limits, a uid of its
  own; where the container allows, fresh mount/network/PID/IPC namespaces with everything but the system hidden
  and nnexam's own packages masked inside site-packages; where it does not (no CAP_SYS_ADMIN), nnexam's files
  made private to root instead), which can touch only its run folder and a pipe of plain numeric npz frames
  behind a per-run token, read by the grader as hostile data. For nn.Module questions the grader draws the
  weights, so a module's own initial weights decide nothing. What the submission prints or writes is never read
  as a result.
* `before_execution` hands Otter's kernel a one-comment notebook, so Otter's kernel runs no student code; its
  tests are placeholders that cannot pass (a doctest on an undefined name). `after_grading` replaces Otter's
  results with one result per question from our JSON, each with the configured visibility (`nnexam otter
  --visibility`: the feedback of graded checks names their expected values), which Otter then writes as
  Gradescope's results.json. Any failure (no result, a crash or timeout of the grader, the plugin not
  importable) gives 0 with a line saying why: fail closed. `tests/test_otter.py` submits a poisoned `.OTTER_LOG`
  and a `numpy/` package that would shadow numpy: with the plugin neither is touched; with the same zip minus
  the plugin, Otter unpickles the log and its kernel imports the fake numpy.
* The image checks itself: the zip's `setup.sh` ends with `nnexam selftest ASSIGNMENT`, which grades the
  reference (full marks expected) and a submission that imports the references and reads their file by its real
  path (0 expected) on Gradescope's own machine, and fails the image build otherwise.
* What the student can touch, in each path: in our runner, the sandbox's run folder and its result pipe (forged
  frames carry no token; a lying worker reports only what a correct submission would compute; malformed frames
  cost the checks that needed them); in Otter's process and kernel, nothing (no student code or file is left when
  they run); on the student's own machine (`otter check`, `grader.check`), everything, which is fine: those
  public checks give feedback, not grades.
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
