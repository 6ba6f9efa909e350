"""Load: grade a batch of hw5 submissions (default 500), a third of them hostile (exit, os._exit, infinite
loop, memory and fork bombs, patching, disk search, forged results, network), in one `grade_folder` run in a
child process; kill it mid-batch, resume, and report: throughput, results written and lost, what the resumed
run regraded, and the grader's peak RSS (resource.getrusage in the child).

    python bench/load.py [--count 500] [--jobs 2] [--kill-at 0.5] [--module-limits]

By default the sandbox limits are tight (4 CPU s, 20 wall s per submission: tests/load_grader.py's, as in
tests/test_load_grading.py) so that hostile loops cost little; `--module-limits` keeps hw5's own limits (30 CPU s,
45 wall s).
"""

from __future__ import annotations

import argparse
import csv
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

from tests.load_grader import GRADER, complete_results, sandbox_workers


def start(folder: Path, csv_path: Path, tmp: Path, limits: str, jobs: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", GRADER, str(folder), str(csv_path), limits, str(jobs)],
                            cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


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
    while len(complete_results(results_dir)) < target and first.poll() is None:
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    first_s = time.perf_counter() - t0
    left = sandbox_workers(tmp)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    before = complete_results(results_dir)

    t1 = time.perf_counter()
    second = start(work / "subs", csv_path, tmp, limits, args.jobs, work / "second.log")
    second.wait()
    second_s = time.perf_counter() - t1
    log = (work / "second.log").read_text()
    regraded = [line.split()[1] for line in log.splitlines() if line.startswith("graded ")]
    value = lambda key: float(next((ln.split()[1] for ln in log.splitlines() if ln.startswith(key)), "nan"))  # noqa: E731
    after = complete_results(results_dir)
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
