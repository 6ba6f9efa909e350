"""The mock final's documents: end to end (`nnexam render mock-final`: problems, solutions, key; new process)
with an empty solution cache (cold) and a filled one (warm), next to the baseline, a bare Python process that
imports `typst` and compiles a one-page document; then per stage, in process: solve (every part, caches
cleared), template (context with and without drawing the figures, then jinja2 to Typst source) and compile
(Typst to PDF). Ratios are measured in the same run.

    python bench/render.py [--repeat 5] [--assignment mock-final]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, header, median_time, table

BARE_TYPST = """
import sys
from pathlib import Path

import typst

folder = Path(sys.argv[1])
(folder / "main.typ").write_text("= One page\\nSome text and $x^2 + y^2 = z^2$.\\n", encoding="utf-8")
(folder / "main.pdf").write_bytes(typst.compile(str(folder / "main.typ")))
"""


def _timed(command: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--assignment", default="mock-final")
    args = parser.parse_args()
    header(f"render: {args.assignment} solutions PDF, end to end and per stage")

    from assignments import build, load
    from assignments import core as assignment_core
    from assignments.documents import document_context
    from templates.render import FigureSink, compile_typst, render_template

    spec = load(args.assignment)

    os.environ["NNEXAM_CACHE"] = "0"  # the solve stage measures solving, not reading the disk cache

    def solve():
        assignment_core.solve_cached.cache_clear()
        return build(spec, None)

    variant = solve()
    work = Path(tempfile.mkdtemp(prefix="nnexam-bench-render-"))
    try:
        def context(draw: bool):
            folder = work / "figs"
            folder.mkdir(exist_ok=True)
            return document_context(variant, "typst", FigureSink(folder if draw else None), True)

        source = render_template("assignment", context(True), "typst")
        solve_s, runs = median_time(solve, args.repeat)
        ctx_figs_s, _ = median_time(lambda: context(True), args.repeat)
        ctx_plain_s, _ = median_time(lambda: context(False), args.repeat)
        ctx = context(False)
        jinja_s, _ = median_time(lambda: render_template("assignment", ctx, "typst"), args.repeat)
        compile_s, _ = median_time(lambda: compile_typst(source, work / "figs", work / "s.pdf"), args.repeat)
        pdf_kb = (work / "s.pdf").stat().st_size / 1024

        nnexam = shutil.which("nnexam") or "nnexam"

        def end_to_end(cache: Path | None, i: int) -> float:
            """One `nnexam render` in a new process; `cache` None: a new, empty cache folder (cold)."""
            folder = cache if cache is not None else work / f"cold-cache-{i}"
            env = {k: v for k, v in os.environ.items() if k != "NNEXAM_CACHE"} | {"NNEXAM_CACHE_DIR": str(folder)}
            t = time.perf_counter()
            done = subprocess.run([nnexam, "render", args.assignment, "-o", str(work / f"cli{i}")],
                                  capture_output=True, text=True, cwd=ROOT, env=env)
            seconds = time.perf_counter() - t
            if done.returncode != 0:
                raise SystemExit(f"nnexam render failed: {done.stderr.strip()[-300:]}")
            return seconds

        def bare_typst() -> float:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", BARE_TYPST, str(work / "bare")], check=True, cwd=ROOT)
            return time.perf_counter() - t

        (work / "bare").mkdir()
        bare_s = statistics.median([bare_typst() for _ in range(args.repeat)])
        cold_s = statistics.median([end_to_end(None, i) for i in range(args.repeat)])
        end_to_end(work / "warm-cache", 0)
        warm_s = statistics.median([end_to_end(work / "warm-cache", i) for i in range(args.repeat)])

        def solutions_only(i: int) -> float:  # the symbolic work cached, the documents made again
            shutil.rmtree(work / "warm-cache" / "documents", ignore_errors=True)
            return end_to_end(work / "warm-cache", i)

        solutions_s = statistics.median([solutions_only(i) for i in range(args.repeat)])
        python_s = statistics.median([_timed([sys.executable, "-c", "pass"]) for _ in range(args.repeat)])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    figures_s = max(ctx_figs_s - ctx_plain_s, 0.0)
    stages = solve_s + ctx_figs_s + jinja_s + compile_s
    rows = [
        ["solve (every part, cache cleared)", f"{solve_s * 1000:.0f}", f"{solve_s / stages:.0%}"],
        ["template: printing values into the context", f"{ctx_plain_s * 1000:.0f}", f"{ctx_plain_s / stages:.0%}"],
        ["template: drawing the figures", f"{figures_s * 1000:.0f}", f"{figures_s / stages:.0%}"],
        ["template: jinja2 to Typst source", f"{jinja_s * 1000:.0f}", f"{jinja_s / stages:.0%}"],
        ["compile: Typst to PDF", f"{compile_s * 1000:.0f}", f"{compile_s / stages:.0%}"],
        ["sum of the stages (solutions PDF only)", f"{stages * 1000:.0f}", "100%"],
    ]
    table(rows, [f"stage (median of {runs})", "ms", "share"])
    floor_s = python_s + 2 * compile_s
    e2e = [
        ["baseline: bare python, import typst, compile a one-page document", f"{bare_s * 1000:.0f}", "1.00x"],
        [f"nnexam render {args.assignment}, warm cache (problems + solutions PDFs, key)", f"{warm_s * 1000:.0f}",
         f"{warm_s / bare_s:.2f}x"],
        [f"nnexam render {args.assignment}, solutions cached, documents made again", f"{solutions_s * 1000:.0f}",
         f"{solutions_s / bare_s:.2f}x"],
        [f"nnexam render {args.assignment}, cold: empty cache", f"{cold_s * 1000:.0f}", f"{cold_s / bare_s:.2f}x"],
        ["floor: python start-up + two Typst compiles", f"{floor_s * 1000:.0f}", f"{floor_s / bare_s:.2f}x"],
    ]
    table(e2e, [f"end to end, new process (median of {args.repeat})", "ms", "/ baseline"])
    def met(seconds: float) -> str:
        return "met" if seconds < 1 and seconds < 3 * bare_s else "NOT met"

    print(f"target (under 1000 ms and within 3x of the baseline): warm {met(warm_s)}, solutions cached "
          f"{met(solutions_s)}, cold {met(cold_s)}; "
          f"warm is {warm_s / floor_s:.1f}x its floor")
    print(f"solutions PDF: {len(source) / 1024:.0f} KiB of Typst source, {pdf_kb:.0f} KiB of PDF")
    slowest = max(rows[:5], key=lambda r: float(r[1]))
    print(f"slowest stage: {slowest[0]} ({slowest[1]} ms)")


if __name__ == "__main__":
    main()
