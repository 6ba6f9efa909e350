"""Otter-Grader integration: the student material's public checks, and the Gradescope zip whose scores come from
our sandboxed runner. The same submissions graded through `otter run -a ZIP` and `nnexam grade` get the same
scores; a forger and a poisoned `.OTTER_LOG` gain nothing and the log is never unpickled."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from assignments.code import code_assignments
from autograder.otter import build, question_points
from autograder.otter.material import starter_notebook, starter_py, write_student
from autograder.otter.package import placeholder_test
from autograder.otter.plugin import GRADE_TIMEOUT_S
from autograder.submission import notebook_submission
from tests.patches import source, submission

HW5 = Path(__file__).parent / "submissions" / "hw5"
OTTER = shutil.which("otter") or str(Path(sys.executable).parent / "otter")


def run(args, cwd, timeout=None):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def nnexam_grade(assignment: str, submission: Path) -> dict:
    proc = run([sys.executable, "-c", "from nnexam.cli import main; main()", "grade", assignment, str(submission),
                "--format", "json"], cwd=submission.parent)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def otter_run(zip_path: Path, submission: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    proc = run([OTTER, "run", "-a", str(zip_path), "-o", str(out), "--no-logo", str(submission)], cwd=out)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads((out / "results.json").read_text())


def scores(results: dict) -> dict[str, float]:
    return {t["name"]: t["score"] for t in results["tests"] if "score" in t}


@pytest.mark.parametrize("name", sorted(code_assignments()))
def test_student_material_is_valid(name, tmp_path):
    paths = write_student(name, tmp_path)
    nbformat.validate(nbformat.read(paths["ipynb"], as_version=4))
    compile(paths["py"].read_text(), str(paths["py"]), "exec")
    assert set(question_points(name)) == {q.id for q in code_assignments()[name].questions}
    for q in code_assignments()[name].questions:
        namespace: dict = {}
        exec(compile(paths[q.id].read_text(), q.id, "exec"), namespace)  # the OK-format test file itself
        assert namespace["OK_FORMAT"] is True and namespace["test"]["name"] == q.id
        assert all(not case["hidden"] for case in namespace["test"]["suites"][0]["cases"])
    text = paths["py"].read_text()
    assert "otter check" in text and all(q.starter.split("(")[0] in text for q in code_assignments()[name].questions)
    assert "references" not in text  # the student material names no grader internals


def test_notebook_conversion_drops_otter_and_keeps_the_code():
    nb = starter_notebook(code_assignments()["hw5"])
    extra = "%matplotlib inline\n!pip install x\nif True:\n    grader.check('q1')"
    nb.cells.insert(1, nbformat.v4.new_code_cell(extra))
    script = notebook_submission(nbformat.writes(nb).encode(), "hw5.ipynb").source.decode()
    compile(script, "nb", "exec")
    assert "otter" not in script.replace("otter check", "") and "%matplotlib" not in script and "!pip" not in script
    assert "get_ipython().system('pip install x')" in script  # a call the worker's shell answers with nothing
    assert "def backward(x, y, W, b, U, c):" in script and "    pass" in script
    assert starter_py(code_assignments()["hw5"]).count("def ") == script.count("def ")


def test_placeholder_test_never_passes_alone():
    namespace: dict = {}
    exec(placeholder_test("q1", 8.0), namespace)
    assert namespace["test"]["points"] == 8.0
    case = namespace["test"]["suites"][0]["cases"][0]
    assert case["hidden"] and "__nnexam_graded_outside_this_kernel__" in case["code"]


@pytest.mark.slow
def test_public_checks_with_otter_check(tmp_path):
    """The reference passes every public check offline; the untouched starter fails them."""
    for name in ("hw5", "hw6"):
        folder = tmp_path / name
        paths = write_student(name, folder)
        shutil.copyfile(submission(f"{name}/reference_copy.py"), folder / "ref.py")
        good = run([OTTER, "check", "ref.py", "-t", "tests"], cwd=folder)
        assert good.returncode == 0 and "All tests passed!" in good.stdout, good.stdout[-2000:] + good.stderr
        bad = run([OTTER, "check", paths["py"].name, "-t", "tests", "-q", "q1"], cwd=folder)
        assert "All tests passed!" not in bad.stdout and "NotImplementedError" in bad.stdout


@pytest.fixture(scope="module")
def hw5_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("otter-hw5")
    result = build("hw5", out)
    with zipfile.ZipFile(result.autograder_zip) as zf:
        names = set(zf.namelist())
        config = json.loads(zf.read("otter_config.json"))
        requirements = zf.read("environment.yml").decode()
    assert {"run_autograder", "setup.sh", "tests/q1.py", "tests/q2.py", "otter_config.json"} <= names
    wheel = next(n for n in names if n.startswith("files/nnexam-") and n.endswith(".whl"))
    assert wheel.removeprefix("files/") in requirements
    plugin = config["plugins"][0]["autograder.otter.plugin.NnexamPlugin"]
    assert plugin["assignment"] == "hw5" and plugin["visibility"] == "visible"
    assert plugin["timeout"] == GRADE_TIMEOUT_S < 600  # below Gradescope's default 10 minutes
    with zipfile.ZipFile(result.autograder_zip) as zf:
        setup = zf.read("setup.sh").decode()
    assert setup.rstrip().endswith("mamba run -n otter-env nnexam selftest hw5")
    return result.autograder_zip


@pytest.mark.slow
@pytest.mark.parametrize("name", ["reference_copy.py", "sign_error.py", "hostile_forge.py"])
def test_otter_run_and_nnexam_grade_agree(hw5_zip, name, tmp_path):
    ours = nnexam_grade("hw5", submission(f"hw5/{name}"))
    otter = otter_run(hw5_zip, submission(f"hw5/{name}"), tmp_path / "out")
    assert scores(otter) == scores(ours), (otter, ours)
    assert sum(scores(otter).values()) == ours["score"]
    by_name = {t["name"]: t for t in otter["tests"]}
    for test in ours["tests"]:
        assert by_name[test["name"]]["max_score"] == test["max_score"]
        assert by_name[test["name"]]["output"] == test["output"]
    expected = {"reference_copy.py": 20, "sign_error.py": 12, "hostile_forge.py": 0}[name]
    assert ours["score"] == expected


class _Poison:
    """Unpickling this creates the marker file: proof that someone unpickled the student's log."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.slow
def test_submitted_otter_log_is_never_unpickled_and_kernel_forgery_fails(hw5_zip, tmp_path):
    marker = tmp_path / "UNPICKLED"
    source = (HW5 / "hostile_forge.py").read_text() + "\n__nnexam_graded_outside_this_kernel__ = True\n"
    submission = tmp_path / "submission.zip"
    with zipfile.ZipFile(submission, "w") as zf:
        zf.writestr("forger.py", source)
        zf.writestr(".OTTER_LOG", pickle.dumps(_Poison(str(marker))))
        # a package that would shadow numpy in Otter's kernel (its cwd is the submission folder)
        zf.writestr("numpy/__init__.py", f"open({str(marker)!r}, 'w').close()\n")
    otter = otter_run(hw5_zip, submission, tmp_path / "out")
    assert not marker.exists(), "a student's .OTTER_LOG or module ran in Otter's process or kernel"
    assert scores(otter) == {"q1": 0.0, "q2": 0.0}


@pytest.mark.slow
def test_a_notebook_submission_is_graded_like_its_script(hw5_zip, tmp_path):
    nb = starter_notebook(code_assignments()["hw5"])
    reference = source("hw5/reference_copy.py")
    starters = [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError" in c.source]
    starters[0].source, starters[1].source = reference, "# (all in the cell above)"
    path = tmp_path / "hw5.ipynb"
    nbformat.write(nb, path)
    otter = otter_run(hw5_zip, path, tmp_path / "out")
    assert scores(otter) == {"q1": 8.0, "q2": 12.0}


@pytest.mark.slow
def test_grader_check_in_the_starter_notebook(tmp_path):
    """The notebook's grader.check cells run offline: all pass once the reference code is filled in."""
    from nbclient import NotebookClient

    paths = write_student("hw5", tmp_path)
    nb = nbformat.read(paths["ipynb"], as_version=4)
    starters = [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError" in c.source]
    starters[0].source, starters[1].source = source("hw5/reference_copy.py"), "# (all in the cell above)"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    checks = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("grader.check")]
    texts = [o.get("data", {}).get("text/plain", "") for c in checks for o in c.outputs]
    assert len(texts) == 2 and all("All test cases passed!" in t for t in texts), texts


def test_wheel_lands_in_a_relative_output_folder(tmp_path, monkeypatch):
    # `nnexam otter hw5 -o otter-hw5/` (a relative path, as in the README) once lost the wheel in pip's scratch
    # folder: "building the nnexam wheel produced no file".
    from autograder.otter.package import build_wheel

    monkeypatch.chdir(tmp_path)
    wheel = build_wheel(Path("relative-out"))
    assert wheel.is_file() and wheel.parent == (tmp_path / "relative-out").resolve()


@pytest.mark.slow
def test_several_files_and_visibility(tmp_path):
    """--visibility after_due_date reaches Gradescope's results; with a notebook and a .py submitted together,
    Otter grades the notebook and the feedback says so."""
    result = build("hw5", tmp_path / "build", visibility="after_due_date")
    notebook = {"cells": [{"cell_type": "code", "source": source("hw5/reference_copy.py"), "metadata": {},
                           "outputs": [], "execution_count": None}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    submission = tmp_path / "submission.zip"
    with zipfile.ZipFile(submission, "w") as zf:
        zf.writestr("hw5.ipynb", json.dumps(notebook))
        zf.writestr("scratch.py", "raise SystemExit('not this one')\n")
    otter = otter_run(result.autograder_zip, submission, tmp_path / "out")
    tests = [t for t in otter["tests"] if "max_score" in t]
    assert {t["visibility"] for t in tests} == {"after_due_date"}
    assert sum(t["score"] for t in tests) == 20
    assert "after the due date" in otter["output"]
    assert "scratch.py" in otter["output"] and "only hw5.ipynb was graded" in otter["output"]
