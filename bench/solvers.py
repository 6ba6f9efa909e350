"""Each registered kind's median solve time on each of its examples, and what serializing and rendering
the solution as text cost next to it (ratios measured in the same run).

    python bench/solvers.py [--repeat 7] [KIND ...]
"""

from __future__ import annotations

import argparse
import json
import time

from _common import header, median_time, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kinds", nargs="*")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    t = time.perf_counter()
    import solvers
    from templates.render import render_solution
    import_s = time.perf_counter() - t

    header("solvers: median solve time per kind and example")
    print(f"import solvers + templates.render: {import_s * 1000:.0f} ms (once per process)\n")
    rows, errors = [], []
    for kind in args.kinds or solvers.kinds():
        for label, params in solvers.kind_info(kind).examples.items():
            try:
                t = time.perf_counter()
                solution = solvers.solve(kind, params)
                first = time.perf_counter() - t
                solve_s, runs = median_time(lambda k=kind, p=params: solvers.solve(k, p), args.repeat)
                json_s, _ = median_time(lambda s=solution: json.dumps(s.to_json()), args.repeat)
                text_s, _ = median_time(lambda s=solution: render_solution(s, "text"), args.repeat)
            except Exception as exc:  # a solver or printer still being written: say so and go on
                errors.append(f"{kind}/{label}: {type(exc).__name__}: {' '.join(str(exc).split())[:100]}")
                continue
            rows.append([kind, label, f"{solve_s * 1000:.2f}", f"{first * 1000:.1f}", runs,
                         f"{json_s / solve_s:.2f}", f"{text_s / solve_s:.2f}"])
    table(rows, ["kind", "example", "solve median (ms)", "first call (ms)", "runs",
                 "to_json / solve", "text render / solve"])
    if rows:
        slowest = max(rows, key=lambda r: float(r[2]))
        print(f"slowest example: {slowest[0]}/{slowest[1]} at {slowest[2]} ms median")
    for line in errors:
        print(f"not measured (error): {line}")


if __name__ == "__main__":
    main()
