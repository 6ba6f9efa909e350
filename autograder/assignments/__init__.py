"""How each assignment's code questions are graded: what to probe and how to compare with the references.

The questions themselves (statement, starter code, public checks, the points of each check) live with the
assignment, in `assignments/<name>/code.py`. Each module here defines POINTS (read from there: {question id:
{check name: points}}), QUESTIONS (objects with `id`, `title`, `plan() -> (probes, inputs)` and
`grade(view) -> [(check name, fraction, message)]`) and LIMITS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Question:
    id: str
    title: str
    plan: Callable[[], tuple[list[dict], dict[str, np.ndarray]]]
    grade: Callable


def signature_check(view, probe_id: str, expected: dict[str, int]) -> tuple[float, str]:
    """Each name exists, is callable (a class for nn.Modules) and takes the statement's number of arguments."""
    meta, _, problem = view.get(probe_id)
    if meta is None:
        return 0.0, problem
    bad = []
    for name, count in expected.items():
        info = meta.get(name, {})
        if info.get("kind") in (None, "missing", "other"):
            bad.append(f"{name} is missing")
        elif info.get("params") is not None and count >= 0 and len(info["params"]) < count:
            bad.append(f"{name} takes {len(info['params'])} arguments, the statement's {count}")
    if bad:
        return 1 - len(bad) / len(expected), "; ".join(bad)
    return 1.0, ", ".join(expected) + " defined with the statement's arguments"
