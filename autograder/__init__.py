"""The autograder: reference implementations, a sandboxed worker and the comparison engine.

A submission never runs in the grader's process. `sandbox.run_plan` starts `worker.py` in a private folder,
as an unprivileged user when possible, with resource limits; the worker returns plain arrays only and the
grader (`engine.py`) compares them with the references (`references/`), which only the grader imports.
"""
