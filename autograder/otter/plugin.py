"""The Otter plugin that puts our sandboxed runner's scores into Otter's results (see `autograder.otter`).

Otter calls the plugin's events in its grading process (on Gradescope: `run_autograder` -> `run_otter.py`;
locally: `otter run -a ZIP SUBMISSION`), in this order:

1. `before_grading` (no student code has run anywhere yet): take the submission's bytes, empty the submission
   folder of everything the student uploaded (`.OTTER_LOG` included, before Otter would unpickle it; stray
   modules that could shadow an import in Otter's kernel; the submission itself, replaced by a comment), then
   grade the saved copy with `nnexam grade ASSIGNMENT FILE --format json` in a fresh `python -I` process whose
   working folder is a private temporary one. That process runs the submission only inside our sandbox.
2. `before_execution`: hand Otter's kernel a notebook with no student code in it.
3. `after_grading`: replace Otter's test results with one result per question built from our JSON.

If anything goes wrong the submission gets 0 with a line saying why (fail closed); the zip's placeholder
tests fail on their own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from otter.plugins import AbstractOtterPlugin
from otter.test_files.abstract_test import TestCase, TestCaseResult, TestFile

PLUGIN = "autograder.otter.plugin.NnexamPlugin"
KEEP = {"tests"}  # what Otter itself put in the submission folder (`prepare_files` copies the zip's tests)
GRADE_TIMEOUT_S = 1800


class RunnerResult(TestFile):
    """One question's result as our runner computed it: the score, the maximum and the feedback lines."""

    def __init__(self, name: str, score: float, max_score: float, output: str):
        case = TestCase(name=name, body="graded by nnexam's sandboxed runner", hidden=False, points=max_score,
                        success_message=None, failure_message=None)
        super().__init__(name, "nnexam", [case], all_or_nothing=False)
        self.test_case_results = [TestCaseResult(test_case=case, message=output, passed=score >= max_score)]
        self._score = score
        self.feedback = output

    def summary(self, public_only: bool = False) -> str:
        return self.feedback

    @classmethod
    def from_file(cls, path: str) -> RunnerResult:
        raise NotImplementedError("runner results are built by the plugin, not read from files")

    @classmethod
    def from_metadata(cls, s, path: str) -> RunnerResult:
        raise NotImplementedError("runner results are built by the plugin, not read from notebooks")

    def run(self, global_environment) -> None:
        raise NotImplementedError("runner results are computed outside Otter's kernel")


def notebook_to_script(nb: nbformat.NotebookNode) -> str:
    """The code cells of a notebook as one script: IPython magics, shell escapes and Otter's own lines
    (`import otter`, `grader = otter.Notebook(...)`, `grader.check(...)`) become `pass`."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("%", "!", "import otter", "grader.", "grader =", "grader=")):
                line = line[: len(line) - len(stripped)] + "pass"
            lines.append(line)
        lines.append("")
    return "\n".join(lines) + "\n"


def grade_with_runner(assignment: str, source: bytes, suffix: str) -> dict:
    """Grade the submission's bytes with `nnexam grade` in a fresh process; a Gradescope results dict."""
    private = Path(tempfile.mkdtemp(prefix="nnexam-otter-"))
    try:
        os.chmod(private, 0o700)
        script = private / "submission.py"
        if suffix == ".ipynb":
            script.write_text(notebook_to_script(nbformat.reads(source.decode("utf-8"), as_version=4)))
        else:
            script.write_bytes(source)
        proc = subprocess.run(
            [sys.executable, "-I", "-c", "from nnexam.cli import main; main()", "grade", assignment, str(script),
             "--format", "json"],
            cwd=private, capture_output=True, text=True, timeout=GRADE_TIMEOUT_S)
        if proc.returncode != 0:
            raise RuntimeError(f"nnexam grade exited with status {proc.returncode}: {proc.stderr.strip()[-500:]}")
        return json.loads(proc.stdout)
    finally:
        shutil.rmtree(private, ignore_errors=True)


class NnexamPlugin(AbstractOtterPlugin):
    """Configured in otter_config.json as {"autograder.otter.plugin.NnexamPlugin": {"assignment": "hw5",
    "questions": {"q1": 8, "q2": 12}}}."""

    def __init__(self, submission_path, submission_metadata, plugin_config):
        super().__init__(submission_path, submission_metadata, plugin_config)
        self.results: dict | None = None
        self.error: str | None = None

    def before_grading(self, config) -> None:
        path = Path(self.submission_path)
        try:
            source = path.read_bytes()
        except OSError as exc:
            source, self.error = None, f"the submission could not be read: {exc}"
        _clear_submission_folder(path)
        if source is None:
            return
        try:
            self.results = grade_with_runner(self.plugin_config["assignment"], source, path.suffix)
        except Exception as exc:  # noqa: BLE001 - any failure is reported and scores 0
            self.error = f"the sandboxed grader failed: {type(exc).__name__}: {exc}"

    def before_execution(self, submission):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            "# This submission was graded by nnexam's sandboxed runner; no student code runs in this kernel.")])

    def after_grading(self, results) -> None:
        results.clear_results()
        expected = self.plugin_config.get("questions", {})
        got = {t["name"]: t for t in (self.results or {}).get("tests", [])}
        for name in expected or got:
            test = got.get(name)
            if test is None:
                why = self.error or "no result came back from the sandboxed grader"
                results.results[name] = RunnerResult(name, 0.0, float(expected.get(name, 0)), why)
            else:
                results.results[name] = RunnerResult(name, float(test["score"]), float(test["max_score"]),
                                                     test.get("output", ""))
        if self.error:
            results.set_output(self.error)


def _clear_submission_folder(submission: Path) -> None:
    """Remove everything the student uploaded, so Otter and its kernel read nothing of theirs; the
    submission's own path stays, holding a comment (Otter reads it before `before_execution` replaces it)."""
    folder = submission.parent
    for entry in folder.iterdir():
        if entry.name in KEEP or entry == submission:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    (folder / "__init__.py").write_text("")  # Otter makes this file; a student's own one is gone
    if submission.is_symlink():
        submission.unlink()
    if submission.suffix == ".ipynb":
        nbformat.write(nbformat.v4.new_notebook(), submission)
    else:
        submission.write_text("# graded by nnexam's sandboxed runner\n")
