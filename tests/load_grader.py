"""Shared by tests/test_load_grading.py, tests/test_runner_hostile.py and bench/load.py: a grader run in a
child process, the sandbox workers it left behind, and the results files it finished."""

from __future__ import annotations

import json
import os
from pathlib import Path

# `grade_folder` in a child process: argv folder, csv, "tight" (small limits, so hostile ones cost little) or
# "module" (hw5's own), jobs. Prints one line per grading (what a resumed run regraded) and, at the end, its
# own peak RSS and its largest child's.
GRADER = r"""
import resource, sys, threading
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
        print("graded", getattr(path, "name", path), flush=True)  # a Submission, or a path
    return out
results.grade_submission = counted
records = results.grade_folder("hw5", Path(sys.argv[1]), Path(sys.argv[2]), jobs=int(sys.argv[4]))
print("done", len(records), flush=True)
print("maxrss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)
print("children_maxrss_mb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, flush=True)
"""


def sandbox_workers(tmp: Path) -> list[int]:
    """Sandbox workers still alive: processes whose working folder is under `tmp` (the grader's TMPDIR)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd").startswith(str(tmp)):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def complete_results(results_dir: Path) -> dict[str, int]:
    """Results files that hold whole JSON: submission stem -> mtime (ns)."""
    done = {}
    for path in results_dir.glob("*.json"):
        try:
            json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        done[path.stem] = path.stat().st_mtime_ns
    return done
