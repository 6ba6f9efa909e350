"""Grading throughput: `nnexam grade` on a folder of generated hw7 submissions (correct, wrong, broken)
against `otter run` per submission on the same two questions, measured in the same run.

    python bench/grading.py [--count 100] [--otter 12] [--jobs 2] [--repeat 3]

`otter run` costs several seconds per submission, so it runs on a subset (`--otter`, spread over the
categories) and its time for the whole folder is extrapolated from the median (the output says so).
`otter run` executes the submission as a notebook: it needs a Jupyter kernel (`pip install ipykernel`
and `python -m ipykernel install --sys-prefix`); without one the otter half is skipped.
The otter tests are what an Otter course would write by hand (the k-means output against the reference
with the same centres; the autoencoder's output shape, parameter count and gradients): fewer checks than
nnexam's, so otter's time is a lower bound for the same depth of checking.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, header, table
from _submissions import make_batch

OTTER_Q1 = r'''
>>> import torch
>>> _ = torch.manual_seed(0)
>>> from autograder.references.hw7 import KMeansNet as Reference
>>> ref = Reference(); mine = KMeansNet()
>>> with torch.no_grad(): _ = list(mine.parameters())[0].copy_(ref.centers)
>>> x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(1))
>>> bool(torch.allclose(mine(x), ref(x), atol=1e-5))
True
'''
OTTER_Q2 = r'''
>>> import torch
>>> _ = torch.manual_seed(0)
>>> from autograder.references.hw7 import Autoencoder as Reference
>>> mine = Autoencoder()
>>> sum(p.numel() for p in mine.parameters()) == sum(p.numel() for p in Reference().parameters())
True
>>> out = mine(torch.rand(4, 1, 28, 28))
>>> tuple(out.shape)
(4, 794)
>>> out.pow(2).mean().backward(); all(p.grad is not None for p in mine.parameters())
True
'''


FLOOR = r'''
import json, os, statistics, time
import torch
from autograder.references.hw7 import Autoencoder, KMeansNet
torch.set_num_threads(1)  # as in a grading worker
def fork():
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return time.perf_counter() - t
models = (KMeansNet(), Autoencoder())
def one_pass():
    t = time.perf_counter()
    for model in models:
        out = model(torch.rand(8, 1, 28, 28))
        if out.requires_grad:
            out.pow(2).mean().backward()
    return time.perf_counter() - t
one_pass()
print(json.dumps({"fork_s": statistics.median(fork() for _ in range(20)),
                  "pass_s": statistics.median(one_pass() for _ in range(20))}))
'''


def otter_test(name: str, code: str, points: int) -> str:
    case = {"code": code, "hidden": False, "locked": False}
    suite = {"cases": [case], "scored": True, "setup": "", "teardown": "", "type": "doctest"}
    return "OK_FORMAT = True\n\ntest = " + repr({"name": name, "points": points, "suites": [suite]}) + "\n"


def build_otter(folder: Path) -> Path | None:
    """An Otter autograder zip with the two questions; None when otter cannot run here."""
    probe = subprocess.run([sys.executable, "-c", "import jupyter_client.kernelspec as k; "
                            "k.KernelSpecManager().get_kernel_spec('python3')"], capture_output=True)
    if probe.returncode != 0:
        print("otter run needs a python3 Jupyter kernel (pip install ipykernel; python -m ipykernel install "
              "--sys-prefix): skipping otter\n")
        return None
    tests = folder / "tests"
    tests.mkdir(parents=True)
    (tests / "q1.py").write_text(otter_test("q1", OTTER_Q1, 10))
    (tests / "q2.py").write_text(otter_test("q2", OTTER_Q2, 10))
    zip_path = folder / "autograder.zip"
    subprocess.run(["otter", "generate", "-t", str(tests), "-o", str(zip_path), "--no-requirements",
                    "--no-environment"], cwd=folder, check=True, capture_output=True)
    return zip_path


def otter_run(zip_path: Path, submission: Path, work: Path) -> tuple[float, float | None]:
    """(seconds, score) of `otter run` on one submission (alone in its folder, as otter wants)."""
    alone = work / submission.stem
    (alone / "out").mkdir(parents=True)
    shutil.copy(submission, alone / submission.name)
    t = time.perf_counter()
    subprocess.run(["otter", "run", "-a", str(zip_path), "-o", str(alone / "out"), "--no-logo",
                    str(alone / submission.name)], capture_output=True, cwd=alone)
    seconds = time.perf_counter() - t
    results = alone / "out" / "results.json"
    score = json.loads(results.read_text()).get("score") if results.exists() else None
    if score is None and results.exists():
        tests = json.loads(results.read_text()).get("tests", [])
        score = sum(t.get("score") or 0 for t in tests)
    return seconds, score


def median_of(command: list[str], repeat: int, times: list[float] | None = None) -> float:
    times = [] if times is None else times
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(command, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--otter", type=int, default=12, help="submissions otter runs on (extrapolated)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    header(f"grading: nnexam grade vs otter run, {args.count} generated hw7 submissions")
    work = Path(tempfile.mkdtemp(prefix="nnexam-bench-grading-"))
    work.chmod(0o711)
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> None:
    folder = work / "submissions"
    categories = make_batch(folder, args.count, "hw7")
    counts = {c: list(categories.values()).count(c) for c in sorted(set(categories.values()))}
    print(f"submissions: {counts}\n")
    nnexam = shutil.which("nnexam") or "nnexam"

    python_s = median_of([sys.executable, "-I", "-c", "pass"], args.repeat)
    torch_times: list[float] = []  # measured before and after the batch: the machine's load varies
    torch_s = median_of([sys.executable, "-I", "-c", "import torch"], args.repeat, torch_times)
    one = folder / next(f"{s}.py" for s, c in categories.items() if c == "correct")
    broken = next((folder / f"{s}.py" for s, c in categories.items() if c == "broken"), one)
    single_s = median_of([nnexam, "grade", "hw7", str(one)], args.repeat)
    broken_s = median_of([nnexam, "grade", "hw7", str(broken)], args.repeat)
    table([["python -I -c pass", f"{python_s:.2f}"], ["python -I -c 'import torch'", f"{torch_s:.2f}"],
           ["nnexam grade hw7 <one correct file>", f"{single_s:.2f}"],
           [f"nnexam grade hw7 <one {'broken' if broken != one else 'correct'} file>", f"{broken_s:.2f}"]],
          [f"start-up and single-submission cost (median of {args.repeat})", "seconds"])

    t = time.perf_counter()
    done = subprocess.run([nnexam, "grade", "hw7", str(folder), "-o", str(work / "grades.csv"), "-j",
                           str(args.jobs)], capture_output=True, text=True)
    batch_s = time.perf_counter() - t
    if done.returncode != 0:
        print(f"nnexam grade failed: {done.stderr[-500:]}")
        return
    torch_s = median_of([sys.executable, "-I", "-c", "import torch"], args.repeat, torch_times)
    print(f"python -I -c 'import torch' after the batch: median of {len(torch_times)} runs before and after: "
          f"{torch_s:.2f} s\n")
    with open(work / "grades.csv") as fh:
        rows = {Path(r["submission"]).stem: r for r in csv.DictReader(fh)}
    perfect = [s for s in categories if float(rows[s]["score"]) == float(rows[s]["max_score"])]
    full = {c: f"{sum(1 for s in perfect if categories[s] == c)}/{n}" for c, n in counts.items()}
    nnexam_rate = args.count / batch_s

    print(f"nnexam grade -j {args.jobs}: {args.count} submissions in {batch_s:.1f} s\n", flush=True)
    zip_path = build_otter(work / "otter") if args.otter > 0 else None
    rows_out = [[f"nnexam grade (folder, -j {args.jobs})", args.count, f"{batch_s:.1f}",
                 f"{batch_s / args.count:.2f}", f"{nnexam_rate:.3f}", "measured", str(full)]]
    if zip_path is not None:
        by_category = [[s for s, sc in categories.items() if sc == c] for c in sorted(counts)]
        rounds = [group[i:i + 1] for i in range(args.otter) for group in by_category]  # round robin
        subset = [s for one in rounds for s in one][:args.otter]
        timings, full_counts, same = [], {c: 0 for c in counts}, 0
        for stem in subset:
            seconds, score = otter_run(zip_path, folder / f"{stem}.py", work / "otter-runs")
            timings.append(seconds)
            if score == 20:
                full_counts[categories[stem]] += 1
            same += (score == 20) == (stem in perfect)
        in_subset = {c: sum(1 for s in subset if categories[s] == c) for c in counts}
        otter_full = {c: f"{full_counts[c]}/{in_subset[c]}" for c in counts}
        per = statistics.median(timings)
        serial_s = per * args.count
        rows_out.append(["otter run, one per submission (serial)", len(subset), f"{serial_s:.1f}",
                         f"{per:.2f}", f"{1 / per:.3f}",
                         f"extrapolated from the median of {len(subset)} runs", f"{otter_full} (subset)"])
        rows_out.append([f"otter run, {args.jobs} at a time (ideal)", "-", f"{serial_s / args.jobs:.1f}",
                         f"{per / args.jobs:.2f}", f"{args.jobs / per:.3f}", "serial figure / jobs", ""])
    table(rows_out, ["grader", "submissions", f"seconds for {args.count}", "seconds / submission",
                     "submissions / s", "how", "full marks / submissions, by category"])
    if zip_path is not None:
        print(f"ratio nnexam / otter (throughput): {nnexam_rate * per:.2f}x serial otter, "
              f"{nnexam_rate * per / args.jobs:.2f}x otter at {args.jobs} at a time")
        print(f"same verdict (full marks or not) from otter and nnexam on {same}/{len(subset)} of the subset")
    floor = json.loads(subprocess.run([sys.executable, "-c", FLOOR], capture_output=True, text=True, cwd=ROOT,
                                      check=True).stdout)
    floor_s = args.count * (floor["fork_s"] + floor["pass_s"]) / args.jobs
    print(f"floor: a process fork ({floor['fork_s'] * 1000:.1f} ms) and one forward/backward pass of each "
          f"reference model ({floor['pass_s'] * 1000:.1f} ms) per submission, {args.jobs} at a time: "
          f"{floor_s:.1f} s for {args.count}; nnexam takes {batch_s / floor_s:.1f}x that")
    per_sub = batch_s * args.jobs / args.count
    print(f"per-submission cost inside the batch ({args.jobs} workers): {per_sub:.2f} s; workers are forked from "
          f"a zygote that imported torch once, so they no longer pay a Python + torch start-up ({torch_s:.2f} s)")


if __name__ == "__main__":
    main()
