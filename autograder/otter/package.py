"""The Gradescope autograder zip: `otter generate` on placeholder tests, our plugin's config and a wheel of nnexam.

Everything is built offline: the wheel comes from the INSTALLED packages (copied into a scratch project and built
with `pip wheel --no-deps --no-build-isolation`, so nothing is downloaded and the source checkout is not
touched), and `otter generate` only renders templates and zips (no Gradescope token: no course or assignment id
in the config). The zip's requirements install that wheel on Gradescope's machine (which has internet while it
builds the image); `otter run` never installs anything, it uses this environment.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from solvers.errors import NnexamError

from .material import ok_test
from .plugin import GRADE_TIMEOUT_S, PLUGIN

PACKAGES = ("nnexam", "solvers", "assignments", "autograder", "templates")
PYTHON_VERSION = "3.11"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


class OtterBuildError(NnexamError):
    """Building the wheel or the autograder zip failed."""


def placeholder_test(qid: str, points: float) -> str:
    """A test worth the question's points that fails by itself: the plugin replaces its result.

    It is a doctest on a name that nothing defines (with the plugin, Otter's kernel runs no student code). The
    plugin is not optional: Otter stops with an error, and scores nothing, when a configured plugin cannot be
    imported."""
    return ("# Placeholder: nnexam's Otter plugin replaces this question's result with the score computed by the\n"
            "# sandboxed runner (autograder/otter/plugin.py). On its own it always fails.\n"
            + ok_test(qid, [("__nnexam_graded_outside_this_kernel__", "True")], points=points, hidden=True))


def build_wheel(out_dir: Path) -> Path:
    """A wheel of the installed nnexam packages, built offline; returns its path."""
    out_dir = out_dir.resolve()  # pip runs in a scratch folder: a relative path would land the wheel there
    dist = importlib.metadata.distribution("nnexam")
    requires = [r for r in (dist.requires or []) if "extra ==" not in r]
    with tempfile.TemporaryDirectory(prefix="nnexam-wheel-") as scratch:
        project = Path(scratch) / "project"
        project.mkdir()
        for name in PACKAGES:
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.submodule_search_locations:
                continue
            shutil.copytree(Path(list(spec.submodule_search_locations)[0]), project / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        deps = ",\n".join(f"    {json.dumps(r)}" for r in requires)
        (project / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "nnexam"\nversion = "{dist.version}"\nrequires-python = ">=3.11"\n'
            f"dependencies = [\n{deps}\n]\n\n[project.scripts]\nnnexam = \"nnexam.cli:main\"\n\n"
            "[tool.setuptools.packages.find]\n"
            f"include = {json.dumps([p + '*' for p in PACKAGES])}\n\n"
            '[tool.setuptools.package-data]\n"*" = ["**/*"]\n')
        out_dir.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                               "--no-index", "-q", "-w", str(out_dir), str(project)],
                              capture_output=True, text=True, cwd=scratch)
        if proc.returncode != 0:
            raise OtterBuildError(f"building the nnexam wheel failed: {proc.stderr.strip()[-400:]}")
    wheels = sorted(out_dir.glob(f"nnexam-{dist.version}-*.whl"))
    if not wheels:
        raise OtterBuildError("building the nnexam wheel produced no file")
    return wheels[-1]


def build_zip(assignment: str, points: dict[str, float], build_dir: Path, zip_path: Path,
              visibility: str = "visible", timeout: float = GRADE_TIMEOUT_S) -> Path:
    """Writes tests/, otter_config.json and requirements.txt into `build_dir`, runs `otter generate` there, and
    ends the zip's setup.sh with `nnexam selftest ASSIGNMENT` (the image build fails unless the reference scores
    full marks and a cheat 0 on Gradescope's own machine)."""
    if build_dir.exists():
        shutil.rmtree(build_dir)
    tests = build_dir / "tests"
    tests.mkdir(parents=True)
    for qid, total in points.items():
        (tests / f"{qid}.py").write_text(placeholder_test(qid, total))
    wheel = build_wheel(build_dir)
    config = {
        "lang": "python",
        "plugins": [{PLUGIN: {"assignment": assignment, "questions": points, "visibility": visibility,
                              "timeout": timeout}}],
        "show_hidden": True,       # no separate "Public Tests" entry: our per-question results are the tests
        "show_all_public": True,   # our results are marked public, so Gradescope shows them right away
        "force_public_test_summary": False,
        "show_stdout": False,
        "pdf": False,
    }
    (build_dir / "otter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    (build_dir / "requirements.txt").write_text(
        f"--extra-index-url {TORCH_CPU_INDEX}\n/autograder/source/files/{wheel.name}\n")
    zip_path = zip_path.resolve()
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", "from otter.cli import cli; cli()", "generate", "--tests-dir", "tests",
         "--output-path", str(zip_path), "--config", "otter_config.json", "--requirements", "requirements.txt",
         "--no-environment", "--python-version", PYTHON_VERSION, wheel.name],
        capture_output=True, text=True, cwd=build_dir)
    if proc.returncode != 0 or not zip_path.exists():
        raise OtterBuildError(f"otter generate failed: {(proc.stderr or proc.stdout).strip()[-400:]}")
    append_to_member(zip_path, "setup.sh", SELF_TEST.format(assignment=assignment))
    return zip_path


SELF_TEST = """
# nnexam: stop the image build unless the grader works on this machine (the reference must score full marks,
# a submission that imports or reads the reference must score 0)
mamba run -n otter-env nnexam selftest {assignment}
"""


def append_to_member(zip_path: Path, member: str, text: str) -> None:
    """Rewrite `zip_path` with `text` appended to `member` (zip files cannot be edited in place)."""
    with zipfile.ZipFile(zip_path) as old:
        items = [(info, old.read(info)) for info in old.infolist()]
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in items:
            new.writestr(info, data + text.encode() if info.filename == member else data)
    os.replace(tmp, zip_path)
