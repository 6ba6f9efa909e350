"""Hostile submissions earn nothing, get a clear feedback line, harm nothing, and the batch carries on.

Limits are tight (a few CPU seconds, a small process cap) so that these tests cannot hurt a shared machine.
"""

import json
import socket
import threading
from pathlib import Path

import pytest

from autograder.engine import grade_submission
from autograder.results import grade_folder
from autograder.sandbox import Limits, run_plan

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
    ("hostile_forge.py", "differs"),
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
        assert report["user"] == 65534
        assert {"mount", "network", "pid"} <= set(report["namespaces"])
        assert str(Path(__file__).resolve().parents[1]) in report["hidden"]


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
