"""Load: one batch of hw5 submissions, a third of them hostile, graded by `grade_folder` in a child process.

Every submission gets a results file and a CSV row (none lost); the batch is killed mid-way and resumed
without regrading what was done (unchanged results-file mtimes and a count of gradings); the grader's peak
RSS stays bounded. Sizes fit CI (24 submissions, tight sandbox limits); `bench/load.py` is the 500 version.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.load_grader import GRADER, complete_results, sandbox_workers
from tests.patches import source

ROOT = Path(__file__).resolve().parent.parent
GOOD = ["reference_copy.py", "other_style.py"]
WRONG = ["sign_error.py", "wrong_phi_prime.py"]
BROKEN = {
    "syntax_error.py": "def gradient(w)\n    return w\n",
    "raises_on_import.py": "raise RuntimeError('not finished')\n",
    "nothing_defined.py": "x = 1\n",
    "returns_strings.py": "def gradient(w):\n    return 'zero'\n\n\ndef gradient_descent(eta, iterations):\n"
                          "    return 'done'\n",
}
HOSTILE = ["hostile_exit.py", "hostile_os_exit.py", "hostile_patch.py", "hostile_forge.py", "hostile_search.py",
           "hostile_network.py", "hostile_memory.py", "hostile_loop.py", "hostile_fork.py"]

def make_batch(folder: Path, size: int) -> dict[str, str]:
    """`size` submissions: a third hostile, the rest correct, wrong or broken. Returns name -> category."""
    folder.mkdir()
    categories = {}
    plain = [("good", n, source(f"hw5/{n}")) for n in GOOD] + [("wrong", n, source(f"hw5/{n}")) for n in WRONG]
    plain += [("broken", n, text) for n, text in BROKEN.items()]
    hostile = [("hostile", n, source(f"hw5/{n}")) for n in HOSTILE]
    for i in range(size):
        pool = hostile if i % 3 == 2 else plain
        category, name, text = pool[(i // 3) % len(pool)] if pool is hostile else pool[i % len(pool)]
        target = f"s{i:03d}_{name}"
        (folder / target).write_text(f"# submission {i}\n{text}")
        categories[Path(target).stem] = category
    return categories


def grader(folder: Path, csv_path: Path, tmp: Path) -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", GRADER, str(folder), str(csv_path), "tight", "2"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.slow
def test_batch_with_hostile_submissions_survives_a_kill_and_resumes(tmp_path):
    size = 24
    categories = make_batch(tmp_path / "subs", size)
    # The sandbox's private folders go under TMPDIR and are entered as an unprivileged user, so TMPDIR must be
    # traversable by others (pytest's tmp_path sits under a 0700 folder).
    sandbox_tmp = Path(tempfile.mkdtemp(prefix="nnexam-load-"))
    sandbox_tmp.chmod(0o711)
    try:
        run_batch(tmp_path, categories, size, sandbox_tmp)
    finally:
        shutil.rmtree(sandbox_tmp, ignore_errors=True)


def run_batch(tmp_path: Path, categories: dict[str, str], size: int, sandbox_tmp: Path) -> None:
    csv_path, results_dir = tmp_path / "grades.csv", tmp_path / "grades-results"

    first = grader(tmp_path / "subs", csv_path, sandbox_tmp)
    while len(complete_results(results_dir)) < 6 and first.poll() is None:
        time.sleep(0.2)  # polling for progress, not a time limit
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    first.stdout.close()
    first.stderr.close()
    orphans = sandbox_workers(sandbox_tmp)
    print(f"sandbox workers still alive after the grader was killed: {len(orphans)}")
    for pid in orphans:  # a killed grader's workers are ours to end
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    done_before = complete_results(results_dir)
    assert 6 <= len(done_before) < size

    second = grader(tmp_path / "subs", csv_path, sandbox_tmp)
    out, err = second.communicate()
    assert second.returncode == 0, err[-3000:]
    regraded = [line.split()[1] for line in out.splitlines() if line.startswith("graded ")]
    assert sorted(Path(n).stem for n in regraded) == sorted(set(categories) - set(done_before)), out

    done_after = complete_results(results_dir)
    assert set(done_after) == set(categories), "a submission has no results file"
    assert all(done_after[name] == mtime for name, mtime in done_before.items()), "a results file was rewritten"
    with open(csv_path) as fh:
        rows = {Path(r["submission"]).stem: r for r in csv.DictReader(fh)}
    assert set(rows) == set(categories), "the CSV lost a submission"
    for name, category in categories.items():
        score = float(rows[name]["score"])
        if category == "hostile" or category == "broken":
            assert score == 0, f"{name} ({category}) earned {score}"
        if category == "good":
            assert score == float(rows[name]["max_score"]), f"{name} lost points"

    maxrss_mb = float(next(line.split()[1] for line in out.splitlines() if line.startswith("maxrss_mb")))
    print(f"grader peak RSS: {maxrss_mb:.0f} MB for {size} submissions")
    assert maxrss_mb < 1500, f"the grader's peak RSS is {maxrss_mb:.0f} MB"
