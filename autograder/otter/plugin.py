"""The Otter plugin that puts our sandboxed runner's scores into Otter's results (see `autograder.otter`).

Otter calls the plugin's events in its grading process (on Gradescope: `run_autograder` -> `run_otter.py`;
locally: `otter run -a ZIP SUBMISSION`), in this order:

1. `before_grading` (no student code has run anywhere yet): take the submission's bytes (a regular file only,
   never followed through a link), note any other code files the student uploaded beside it, empty the
   submission folder of everything the student uploaded (`.OTTER_LOG` included, before Otter would unpickle it;
   stray modules that could shadow an import in Otter's kernel; the submission itself, replaced by an empty
   one), then grade the saved copy with `nnexam grade ASSIGNMENT FILE --format json --name THEIR_FILE_NAME` in a
   fresh `python -I` process whose working folder is a private temporary one, within the configured timeout
   (below Gradescope's 10 minutes, so that a slow run still writes results). That process runs the submission
   only inside our sandbox; a notebook is converted there, as IPython reads it.
2. `before_execution`: hand Otter's kernel a notebook with no student code in it.
3. `after_grading`: replace Otter's test results with one result per question built from our JSON, each with
   the configured Gradescope visibility (`nnexam otter --visibility`).

If anything goes wrong the submission gets 0 with a line saying why (fail closed); the zip's placeholder
tests fail on their own.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from otter.plugins import AbstractOtterPlugin
from otter.test_files.abstract_test import TestCase, TestCaseResult, TestFile

from ..submission import SUFFIXES, SubmissionError, read_bytes

PLUGIN = "autograder.otter.plugin.NnexamPlugin"
KEEP = {"tests"}  # what Otter itself put in the submission folder (`prepare_files` copies the zip's tests)
GRADE_TIMEOUT_S = 480  # Gradescope stops an autograder after 10 minutes by default: leave time to write results


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


def grade_with_runner(assignment: str, source: bytes, suffix: str, name: str,
                      timeout: float = GRADE_TIMEOUT_S) -> dict:
    """Grade the submission's bytes with `nnexam grade` in a fresh process; a Gradescope results dict."""
    private = Path(tempfile.mkdtemp(prefix="nnexam-otter-"))
    try:
        os.chmod(private, 0o700)
        script = private / f"submission{suffix}"
        script.write_bytes(source)
        try:
            proc = subprocess.run(
                [sys.executable, "-I", "-c", "from nnexam.cli import main; main()", "grade", assignment, str(script),
                 "--format", "json", "--name", name], cwd=private, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"grading took longer than {timeout:g} s and was stopped") from None
        if proc.returncode != 0:
            raise RuntimeError(f"nnexam grade exited with status {proc.returncode}: {proc.stderr.strip()[-500:]}")
        return json.loads(proc.stdout)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def printable(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)[:120]


class NnexamPlugin(AbstractOtterPlugin):
    """Configured in otter_config.json as {"autograder.otter.plugin.NnexamPlugin": {"assignment": "hw5",
    "questions": {"q1": 8, "q2": 12}}}."""

    def __init__(self, submission_path, submission_metadata, plugin_config):
        super().__init__(submission_path, submission_metadata, plugin_config)
        self.results: dict | None = None
        self.error: str | None = None
        self.note: str | None = None

    def before_grading(self, config) -> None:
        path = Path(self.submission_path)
        name = printable(path.name)
        others = sorted(printable(p.name) for p in path.parent.iterdir()
                        if p.suffix in SUFFIXES and p.name not in (path.name, "__init__.py")  # Otter makes that one
                        and not p.name.startswith("."))
        if others:
            self.note = (f"You submitted {len(others) + 1} code files ({', '.join([name, *others])}); only {name} "
                         "was graded. Submit one .py or one .ipynb.")
        try:
            source = read_bytes(path)
        except SubmissionError as exc:
            source, self.error = None, f"the submission could not be read: {exc}"
        _clear_submission_folder(path)
        if source is None:
            return
        try:
            self.results = grade_with_runner(self.plugin_config["assignment"], source, path.suffix, name,
                                             float(self.plugin_config.get("timeout", GRADE_TIMEOUT_S)))
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
                output = test.get("output", "")
                results.results[name] = RunnerResult(name, float(test["score"]), float(test["max_score"]),
                                                     f"{self.note}\n{output}" if self.note else output)
        message = "\n".join(filter(None, [self.error, self.note]))
        if message:
            results.set_output(message)
        visibility = self.plugin_config.get("visibility", "visible")
        if visibility != "visible":
            results.to_gradescope_dict = _with_visibility(results.to_gradescope_dict, visibility)


def _with_visibility(to_gradescope_dict, visibility: str):
    """Otter's results -> Gradescope dict, with every question's test (whose feedback names the expected values)
    set to `visibility`, and a visible line saying when the details appear."""

    def convert(ag_config):
        output = to_gradescope_dict(ag_config)
        for test in output.get("tests", []):
            if "max_score" in test:
                test["visibility"] = visibility
        when = {"after_due_date": "after the due date", "after_published": "when grades are published",
                "hidden": "only to the instructors"}[visibility]
        output["output"] = (output.get("output", "") + f"\nThe checks and their feedback are shown {when}.").strip()
        return output

    return convert


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
    if submission.is_symlink() or submission.exists() and not stat.S_ISREG(os.lstat(submission).st_mode):
        submission.unlink()  # a link, a FIFO or a device is never written through
    if submission.suffix == ".ipynb":
        nbformat.write(nbformat.v4.new_notebook(), submission)
    else:
        submission.write_text("# graded by nnexam's sandboxed runner\n")
