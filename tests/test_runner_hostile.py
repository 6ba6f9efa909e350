"""Hostile submissions earn nothing, get a clear feedback line, harm nothing, and the batch carries on.

Limits are tight (a few CPU seconds, a small process cap) so that these tests cannot hurt a shared machine.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.engine import grade_submission
from autograder.results import NOT_GRADED, grade_folder
from autograder.sandbox import UID_BASE, UID_SLOTS, InfrastructureError, Limits, run_plan, zygote_workers
from tests.load_grader import sandbox_workers

HW5 = Path(__file__).parent / "submissions" / "hw5"
TIGHT = Limits(cpu_s=4, wall_s=15, memory_mb=3072, file_mb=4, nproc=24)


def total(name):
    results = grade_submission("hw5", HW5 / name, limits=TIGHT)
    return sum(q.score for q in results), "\n".join(q.output() for q in results)


@pytest.mark.parametrize("name, words", [
    ("hostile_exit.py", "could not be imported: SystemExit"),
    ("hostile_os_exit.py", "could not be imported"),
    ("hostile_loop.py", "could not be imported"),
    ("hostile_memory.py", "could not be imported"),
    ("hostile_fork.py", "could not be imported"),
    ("hostile_patch.py", "differs"),
    ("hostile_search.py", "missing"),
    ("hostile_forge.py", "cannot use"),  # its frames carry no n_out: refused by the schema
])
def test_hostile_submission_earns_nothing(name, words):
    score, feedback = total(name)
    assert score == 0, feedback
    assert words in feedback, feedback


def test_network_is_unreachable():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 47831))
    server.listen(1)
    server.settimeout(0.2)
    got = []

    def accept():
        for _ in range(100):
            try:
                got.append(server.accept())
                return
            except TimeoutError:
                if done.is_set():
                    return

    done = threading.Event()
    thread = threading.Thread(target=accept)
    thread.start()
    try:
        score, feedback = total("hostile_network.py")
    finally:
        done.set()
        thread.join()
        server.close()
    assert score == 0
    assert not got, "the submission reached a server outside its sandbox"


def test_protections_are_recorded():
    run = run_plan(HW5 / "hostile_search.py", {"probes": []}, {}, TIGHT)
    assert "__import__" in run.frames
    report = run.protections
    assert report["limits"]["nproc"] == 24
    import os

    if os.geteuid() == 0:  # CI and this machine run as root: every protection must hold
        assert UID_BASE <= report["user"] < UID_BASE + UID_SLOTS  # a uid of its own, not the shared nobody
        assert {"mount", "network", "pid"} <= set(report["namespaces"])
        project = str(Path(__file__).resolve().parents[1])
        assert any(project == h or project.startswith(h.rstrip("/") + "/") for h in report["hidden"]), report
        assert not {"usr", "etc"} & {Path(h).name for h in report["hidden"] if Path(h).parent == Path("/")}


def test_batch_carries_on_and_resumes(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in ("hostile_exit.py", "other_style.py", "hostile_forge.py"):
        (folder / name).write_bytes((HW5 / name).read_bytes())
    csv_path = tmp_path / "grades.csv"
    records = grade_folder("hw5", folder, csv_path, jobs=2)
    by_name = {r["submission"]: r["score"] for r in records}
    assert by_name == {"hostile_exit.py": 0, "hostile_forge.py": 0, "other_style.py": 20}
    assert csv_path.read_text().count("\n") == 4
    results = tmp_path / "grades-results"
    stamp = (results / "other_style.json").stat().st_mtime_ns
    (folder / "hostile_exit.py").write_text("raise ImportError('changed')\n")
    grade_folder("hw5", folder, csv_path, jobs=2)
    assert (results / "other_style.json").stat().st_mtime_ns == stamp  # unchanged: not regraded
    assert "changed" in json.loads((results / "hostile_exit.json").read_text())["tests"][0]["output"]


ROOT = Path(__file__).resolve().parents[1]
MODES = ["spawn", "zygote"]


def in_mode(mode):
    """A context in which workers are spawned (python launcher.py) or forked from the zygote."""
    if mode == "spawn":
        import contextlib

        return contextlib.nullcontext()
    return zygote_workers()


@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb_does_not_starve_a_concurrent_submission(mode):
    """RLIMIT_NPROC counts processes per uid: with one shared uid a fork bomb at its cap made the honest
    submission graded beside it fail to start. Each sandbox now has its own uid."""
    small = Limits(cpu_s=4, wall_s=15, memory_mb=3072, file_mb=4, nproc=8)
    with in_mode(mode):
        bomb = threading.Thread(target=grade_submission, args=("hw5", HW5 / "hostile_fork.py", small))
        bomb.start()
        while bomb.is_alive() and not _uid_at_cap(small.nproc):
            time.sleep(0.1)  # polling until the bomb holds its process cap
        results = grade_submission("hw5", HW5 / "other_style.py", limits=small)
        bomb.join()
    assert sum(q.score for q in results) == 20, "\n".join(q.output() for q in results)


def _uid_at_cap(nproc: int) -> bool:
    """Some sandbox uid (nobody, or one of the range) runs `nproc` processes: the fork bomb is at its cap."""
    counts = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                uid = entry.stat().st_uid
            except OSError:
                continue
            counts[uid] = counts.get(uid, 0) + 1
    return any(n >= nproc for uid, n in counts.items() if uid == 65534 or UID_BASE <= uid < UID_BASE + UID_SLOTS)


def test_zygote_child_keeps_nothing_but_its_pipe(tmp_path):
    """A worker forked from the zygote: only stdin/out/err and its result pipe open, the run's environment,
    one thread, and torch computes correctly after the fork."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os, threading, torch\n"
        "FDS = sorted(int(f) for f in os.listdir('/proc/self/fd'))\n"
        "ENV = sorted(os.environ)\n"
        "THREADS = len(os.listdir('/proc/self/task'))\n"
        "VALUE = float(torch.nn.functional.linear(torch.ones(1, 3), torch.full((2, 3), 2.0)).sum())\n"
        "def gradient(w):\n"
        "    return [len(FDS), THREADS, VALUE, int('NNEXAM_SECRET' in ENV), int(os.getuid())]\n")
    plan = {"probes": [{"id": "g", "kind": "call", "func": "gradient", "args": [{"value": 0}]}]}
    os.environ["NNEXAM_SECRET"] = "x"  # the grader's environment must not reach the worker
    try:
        with zygote_workers() as zygote:
            assert zygote is not None, "the zygote did not start"
            run = run_plan(probe, plan, {}, TIGHT)
    finally:
        del os.environ["NNEXAM_SECRET"]
    meta, arrays = run.frames["g"]
    assert meta["ok"], meta
    n_fds, threads, value, secret, uid = arrays["r0.out0"]
    assert n_fds == 5  # 0, 1, 2, the result pipe, and the listdir's own descriptor
    assert threads == 1 and value == 12.0 and secret == 0
    if os.geteuid() == 0:
        assert UID_BASE <= uid < UID_BASE + UID_SLOTS


@pytest.mark.parametrize("name, words", [
    ("hostile_fork.py", "could not be imported"),
    ("hostile_memory.py", "could not be imported"),
    ("hostile_patch.py", "differs"),
    ("hostile_search.py", "missing"),
    ("hostile_forge.py", "result stream was corrupted"),  # its frames, without the token, reach the pipe first
])
def test_hostile_submission_earns_nothing_in_the_zygote(name, words):
    with zygote_workers() as zygote:
        assert zygote is not None
        score, feedback = total(name)
    assert score == 0, feedback
    assert words in feedback, feedback


KILLED_GRADER = r"""
import sys
from pathlib import Path
import autograder.assignments.hw5 as hw5
from autograder.results import grade_folder
from autograder.sandbox import Limits
hw5.LIMITS = Limits(cpu_s=60, wall_s=600, memory_mb=3072, file_mb=4, nproc=24)
grade_folder("hw5", Path(sys.argv[1]), Path(sys.argv[2]), jobs=2)
"""


@pytest.mark.parametrize("mode", MODES)
def test_killed_grader_leaves_no_worker(tmp_path, mode):
    """kill -9 of the grader (alone, not its process group) ends its sleeping workers: PR_SET_PDEATHSIG on
    the launcher / zygote and on each namespace init, and the PID namespace takes the rest."""
    folder = tmp_path / "subs"
    folder.mkdir()
    for i in range(2):
        (folder / f"sleeper{i}.py").write_text("import time\nwhile True:\n    time.sleep(1)\n")
    sandbox_tmp = Path(tempfile.mkdtemp(prefix="nnexam-kill-"))
    sandbox_tmp.chmod(0o711)
    env = dict(os.environ, TMPDIR=str(sandbox_tmp), PYTHONPATH=str(ROOT), NNEXAM_ZYGOTE="1" if mode == "zygote"
               else "0")
    env.pop("NNEXAM_SANDBOX_DIR", None)
    grader = subprocess.Popen([sys.executable, "-c", KILLED_GRADER, str(folder), str(tmp_path / "g.csv")],
                              cwd=ROOT, env=env)
    try:
        while len(sandbox_workers(sandbox_tmp)) < 2 and grader.poll() is None:
            time.sleep(0.1)  # polling until both sleepers run
        assert grader.poll() is None
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        for _ in range(100):  # the kernel delivers the parent-death signals at once; allow for a busy machine
            if not sandbox_workers(sandbox_tmp):
                break
            time.sleep(0.1)
        left = sandbox_workers(sandbox_tmp)
        assert not left, f"sandbox workers alive after the grader was killed: {left}"
    finally:
        for pid in sandbox_workers(sandbox_tmp):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(sandbox_tmp, ignore_errors=True)


def test_unenterable_tmpdir_is_not_the_students_fault(tmp_path):
    """TMPDIR under pytest's 0700 folder: the sandbox folders go to a base its uid can enter instead."""
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    env = dict(os.environ, TMPDIR=str(locked), PYTHONPATH=str(ROOT))
    env.pop("NNEXAM_SANDBOX_DIR", None)
    done = subprocess.run([sys.executable, "-m", "nnexam.cli", "grade", "hw5", str(HW5 / "other_style.py"),
                           "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == 20, done.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="hiding the Python installation needs a mount namespace")
def test_infrastructure_error_is_reported_and_regraded(tmp_path, monkeypatch):
    """A worker that cannot start (here: the Python installation hidden from it) is an infrastructure error:
    one line from the CLI, non-zero exit; in a batch, "not graded" (never a 0) and graded again on resume."""
    from click.testing import CliRunner

    from nnexam.cli import cli

    monkeypatch.setenv("NNEXAM_ZYGOTE", "0")
    monkeypatch.setattr(sandbox, "_keep_paths", lambda: [])
    with pytest.raises(InfrastructureError):
        grade_submission("hw5", HW5 / "other_style.py", limits=TIGHT)
    single = subprocess.run([sys.executable, "-c", "import sys, autograder.sandbox as s; s._keep_paths = lambda: []; "
                             "from nnexam.cli import main; sys.argv = ['nnexam', 'grade', 'hw5', sys.argv[1]]; main()",
                             str(HW5 / "other_style.py")], cwd=ROOT, capture_output=True, text=True,
                            env=dict(os.environ, NNEXAM_ZYGOTE="0", PYTHONPATH=str(ROOT)))
    assert single.returncode != 0 and single.stdout == ""
    assert len(single.stderr.strip().splitlines()) == 1 and "could not start the worker" in single.stderr
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "good.py").write_bytes((HW5 / "other_style.py").read_bytes())
    result = CliRunner().invoke(cli, ["grade", "hw5", str(folder), "-o", str(tmp_path / "g.csv")])
    assert result.exit_code != 0
    record = json.loads((tmp_path / "g-results" / "good.json").read_text())
    assert record["status"] == NOT_GRADED and record["score"] is None
    assert NOT_GRADED in (tmp_path / "g.csv").read_text()
    monkeypatch.undo()
    records = grade_folder("hw5", folder, tmp_path / "g.csv", jobs=1)
    assert records[0]["score"] == 20 and "status" not in records[0]
