"""Load: grade a batch of hw5 submissions (default 500), a third of them hostile (exit, os._exit, infinite
loop, memory and fork bombs, patching, disk search, forged results, network), in one `grade_folder` run in a
child process; kill it mid-batch, resume, and report: throughput, results written and lost, what the resumed
run regraded, and the grader's peak RSS (resource.getrusage in the child).

    python bench/load.py [--count 500] [--jobs 2] [--kill-at 0.5] [--module-limits]

By default the sandbox limits are tight (4 CPU s, 20 wall s per submission, as in tests/test_load_grading.py)
so that hostile loops cost little; `--module-limits` keeps hw5's own limits (30 CPU s, 45 wall s).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, header, table
from _submissions import make_batch

GRADER = r"""
import resource, sys, threading, time
from pathlib import Path
import autograder.assignments.hw5 as hw5
import autograder.results as results
from autograder.sandbox import Limits
if sys.argv[3] == "tight":
    hw5.LIMITS = Limits(cpu_s=4, wall_s=20, memory_mb=3072, file_mb=4, nproc=24)
original, lock = results.grade_submission, threading.Lock()
def counted(assignment, path, *args, **kwargs):
    out = original(assignment, path, *args, **kwargs)
    with lock:
        print("graded", Path(path).name, flush=True)
    return out
results.grade_submission = counted
records = results.grade_folder("hw5", Path(sys.argv[1]), Path(sys.argv[2]), jobs=int(sys.argv[4]))
print("done", len(records), flush=True)
print("maxrss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)
print("children_maxrss_mb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, flush=True)
"""


def start(folder: Path, csv_path: Path, tmp: Path, limits: str, jobs: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", GRADER, str(folder), str(csv_path), limits, str(jobs)],
                            cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def complete(results_dir: Path) -> dict[str, int]:
    out = {}
    for path in results_dir.glob("*.json"):
        try:
            json.loads(path.read_text())
            out[path.stem] = path.stat().st_mtime_ns
        except (OSError, json.JSONDecodeError):
            pass
    return out


def orphans(tmp: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd").startswith(str(tmp)):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.5, help="share of results written before the kill")
    parser.add_argument("--module-limits", action="store_true")
    args = parser.parse_args()
    limits = "module" if args.module_limits else "tight"
    header(f"load: {args.count} hw5 submissions, a third hostile, killed at {args.kill_at:.0%} and resumed "
           f"({limits} limits, -j {args.jobs})")
    work = Path(tempfile.mkdtemp(prefix="nnexam-bench-load-"))
    work.chmod(0o711)
    try:
        run(args, work, limits)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path, limits: str) -> None:
    categories = make_batch(work / "subs", args.count, "hw5", hostile_share=1 / 3)
    counts = {c: list(categories.values()).count(c) for c in sorted(set(categories.values()))}
    print(f"submissions: {counts}\n")
    csv_path, results_dir = work / "grades.csv", work / "grades-results"
    tmp = work / "tmp"
    tmp.mkdir()
    tmp.chmod(0o711)

    t0 = time.perf_counter()
    first = start(work / "subs", csv_path, tmp, limits, args.jobs, work / "first.log")
    target = max(1, int(args.count * args.kill_at))
    while len(complete(results_dir)) < target and first.poll() is None:
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    first_s = time.perf_counter() - t0
    left = orphans(tmp)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    before = complete(results_dir)

    t1 = time.perf_counter()
    second = start(work / "subs", csv_path, tmp, limits, args.jobs, work / "second.log")
    second.wait()
    second_s = time.perf_counter() - t1
    log = (work / "second.log").read_text()
    regraded = [line.split()[1] for line in log.splitlines() if line.startswith("graded ")]
    value = lambda key: float(next((ln.split()[1] for ln in log.splitlines() if ln.startswith(key)), "nan"))  # noqa: E731
    after = complete(results_dir)
    with open(csv_path) as fh:
        rows = {Path(r["submission"]).stem: r for r in csv.DictReader(fh)} if csv_path.exists() else {}
    rewritten = sum(1 for k, m in before.items() if after.get(k) != m)
    hostile_scored = sum(1 for s, c in categories.items() if c == "hostile" and s in rows
                         and float(rows[s]["score"]) > 0)
    total_graded = len(before) + len(regraded)
    table([
        ["first run: results written before the kill", len(before), f"{first_s:.1f} s"],
        ["sandbox workers left alive after the kill (then ended)", len(left), ""],
        ["resumed run: submissions graded", len(regraded), f"{second_s:.1f} s"],
        ["results files rewritten by the resumed run", rewritten, ""],
        ["results files at the end / submissions", f"{len(after)} / {args.count}", ""],
        ["CSV rows at the end", len(rows), ""],
        ["hostile submissions that earned points", hostile_scored, ""],
        ["grader peak RSS (MB, resumed run)", f"{value('maxrss_mb'):.0f}", ""],
        ["largest sandbox worker peak RSS (MB)", f"{value('children_maxrss_mb'):.0f}", ""],
        ["throughput over both runs (submissions/s)", f"{total_graded / (first_s + second_s):.2f}",
         f"{first_s + second_s:.1f} s in all"],
    ], ["measure", "value", "time"])
    if second.returncode != 0:
        print(f"the resumed run failed (exit {second.returncode}): {log[-800:]}")


if __name__ == "__main__":
    main()
