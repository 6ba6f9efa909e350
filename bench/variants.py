"""Mock-final variants per second: keys only (problems, solutions and key solved, no documents) and with
PDFs (problems.pdf, solutions.pdf, key.json), both end to end (`nnexam generate`, new process) and as the
marginal cost of one more variant (difference between two runs of different sizes, so start-up cancels).
Each mode runs warm (the solution cache filled by an earlier run of the same seeds) and cold (every run with
a new, empty cache folder, so every symbolic solve is paid).

    python bench/variants.py [--keys 40] [--pdfs 4] [--repeat 3] [--assignment mock-final]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import ROOT, header, table


def generate(assignment: str, count: int, out: Path, keys_only: bool, seed: int, cache: Path, jobs: int = 1) -> float:
    nnexam = shutil.which("nnexam") or "nnexam"
    command = [nnexam, "generate", assignment, "--variants", str(count), "--seed", str(seed), "-o", str(out)]
    if keys_only:
        command.append("--keys-only")
    if jobs > 1:
        command += ["-j", str(jobs)]
    t = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, NNEXAM_CACHE_DIR=str(cache)))
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"nnexam generate failed: {done.stderr.strip()[-400:]}")
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="mock-final")
    parser.add_argument("--keys", type=int, default=40, help="variants in the larger keys-only run")
    parser.add_argument("--pdfs", type=int, default=4, help="variants in the larger run with PDFs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2, help="nnexam generate -j for the runs with PDFs")
    args = parser.parse_args()
    header(f"variants: {args.assignment} variants per second, without and with PDFs")
    work = Path(tempfile.mkdtemp(prefix="nnexam-bench-variants-"))
    rows, marginal = [], {}
    try:
        modes = [(f"{what}, {state}", keys_only, big, state == "cold", jobs)
                 for what, keys_only, big, jobs in (("keys only", True, args.keys, 1),
                                                    ("with PDFs", False, args.pdfs, args.jobs))
                 for state in ("warm", "cold")]
        for label, keys_only, big, cold, jobs in modes:
            small_t, big_t, warm = [], [], work / f"warm-cache-{keys_only}"
            if not cold:  # fill the cache with the same seeds once
                for r in range(args.repeat):
                    generate(args.assignment, 1, work / "a", keys_only, 100 + r, warm)
                    generate(args.assignment, big, work / "b", keys_only, 200 + r, warm, jobs)
            for r in range(args.repeat):
                small_t.append(generate(args.assignment, 1, work / "a", keys_only, 100 + r,
                                        work / f"cold-a-{label}-{r}" if cold else warm))
                big_t.append(generate(args.assignment, big, work / "b", keys_only, 200 + r,
                                      work / f"cold-b-{label}-{r}" if cold else warm, jobs))
            small_s, big_s = statistics.median(small_t), statistics.median(big_t)
            per = max((big_s - small_s) / (big - 1), 1e-9)
            marginal[label] = per
            shown = label + (f" (-j {jobs})" if jobs > 1 else "")
            rows.append([shown, f"{small_s:.2f}", big, f"{big_s:.2f}", f"{big / big_s:.2f}", f"{per * 1000:.0f}",
                         f"{1 / per:.2f}"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table(rows, ["mode", "1 variant, end to end (s)", "N", "N variants, end to end (s)",
                 "variants/s end to end", "marginal ms / variant", "marginal variants/s"])
    for state in ("warm", "cold"):
        keys, pdfs = marginal[f"keys only, {state}"], marginal[f"with PDFs, {state}"]
        print(f"{state}: target (20 keys-only variants/s and 5 with PDFs, marginal): {1 / keys:.1f}/s "
              f"{'met' if 1 / keys >= 20 else 'NOT met'}, {1 / pdfs:.1f}/s {'met' if 1 / pdfs >= 5 else 'NOT met'}; "
              f"one variant with PDFs costs {pdfs / keys:.1f}x a keys-only one")


if __name__ == "__main__":
    main()
