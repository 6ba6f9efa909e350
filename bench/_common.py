"""Shared helpers of the benchmark scripts: a header naming the machine, the command and the date, and
medians over repeated runs. Benchmarks print figures; they never assert a time."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The scripts are named after what they measure (bench/solvers.py), so their folder must not shadow the
# packages of the same name: the repository root comes first, the bench folder (its helpers) last.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, ROOT / "bench")]
sys.path.append(str(ROOT / "bench"))

# The commands timed run as in a default install, whose modules are compiled once to bytecode (pip compiles
# an installed wheel; Python writes __pycache__ for an editable one): a shell that sets PYTHONDONTWRITEBYTECODE
# would make every process compile nnexam from source again (about 0.3 s a start here). Dropped for the
# processes the scripts start, and the packages compiled before anything is timed.
BYTECODE_WAS_OFF = os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None


def header(title: str) -> None:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"# {title}")
    print(f"# command: python {' '.join(sys.argv)}")
    print(f"# date:    {_dt.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"# machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"os.cpu_count()={os.cpu_count()}, python {platform.python_version()}")
    print(f"# load average at start: {', '.join(f'{x:.2f}' for x in load)}")
    print(f"# machine speed: a pure-Python loop of 10^7 additions takes {_reference_loop():.2f} s (shared cores vary "
          "from hour to hour; compare figures of one run, or runs with a like reference)")
    _compile_packages()
    print()


def _reference_loop() -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - t)
    return best


def _compile_packages() -> None:
    import compileall

    for package in ("nnexam", "solvers", "assignments", "autograder", "templates"):
        compileall.compile_dir(ROOT / package, quiet=1)
    if BYTECODE_WAS_OFF:
        print("# bytecode: PYTHONDONTWRITEBYTECODE was set; unset for the runs (the packages compiled first), as "
              "in a default install")


def median_time(fn: Callable[[], Any], repeat: int = 7, min_total: float = 0.0) -> tuple[float, int]:
    """Median wall time of `fn()` in seconds over `repeat` runs (more if they add up to less than
    `min_total` seconds), after one warm-up call. Returns (median, runs)."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeat or (time.perf_counter() - start < min_total and len(times) < 1000):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.2f} ms"


def table(rows: list[list[Any]], columns: list[str]) -> None:
    """Print a Markdown table (so the output pastes into BENCHMARKS.md as is)."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()
