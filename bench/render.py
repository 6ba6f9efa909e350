"""The mock final's solutions PDF: end to end (`nnexam render mock-final`) and per stage, in process:
solve (every part, solver cache cleared), template (context with and without drawing the figures, then
jinja2 to Typst source) and compile (Typst to PDF). Ratios are measured in the same run.

    python bench/render.py [--repeat 5] [--assignment mock-final]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import ROOT, header, median_time, table


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
        end_to_end = []
        for i in range(args.repeat):
            t = time.perf_counter()
            done = subprocess.run([nnexam, "render", args.assignment, "-o", str(work / f"cli{i}")],
                                  capture_output=True, text=True, cwd=ROOT)
            end_to_end.append(time.perf_counter() - t)
            if done.returncode != 0:
                print(f"nnexam render failed: {done.stderr.strip()[-300:]}")
                break
        cli_s = statistics.median(end_to_end)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    figures_s = max(ctx_figs_s - ctx_plain_s, 0.0)
    stages = solve_s + ctx_figs_s + jinja_s + compile_s
    rows = [
        ["solve (every part, cache cleared)", f"{solve_s * 1000:.0f}", f"{solve_s / stages:.0%}"],
        ["template: printing values into the context", f"{ctx_plain_s * 1000:.0f}", f"{ctx_plain_s / stages:.0%}"],
        ["template: drawing the figures (matplotlib)", f"{figures_s * 1000:.0f}", f"{figures_s / stages:.0%}"],
        ["template: jinja2 to Typst source", f"{jinja_s * 1000:.0f}", f"{jinja_s / stages:.0%}"],
        ["compile: Typst to PDF", f"{compile_s * 1000:.0f}", f"{compile_s / stages:.0%}"],
        ["sum of the stages (solutions PDF only)", f"{stages * 1000:.0f}", "100%"],
        [f"end to end: nnexam render {args.assignment} (problems + solutions PDFs, key; new process)",
         f"{cli_s * 1000:.0f}", f"{cli_s / stages:.2f}x the stages"],
    ]
    table(rows, [f"stage (median of {runs})", "ms", "share"])
    print(f"solutions PDF: {len(source) / 1024:.0f} KiB of Typst source, {pdf_kb:.0f} KiB of PDF")
    slowest = max(rows[:5], key=lambda r: float(r[1]))
    print(f"slowest stage: {slowest[0]} ({slowest[1]} ms)")


if __name__ == "__main__":
    main()
