"""Exact-or-float arithmetic shared by solvers: rationals where the inputs allow, floats otherwise."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

EXACT_LIMIT = 20_000  # above this many numbers, exact rational arithmetic is too slow to be worth it


def to_fractions(a: Any) -> Any:
    """Nested lists of Fractions from numbers (floats taken at their decimal value: 0.1 -> 1/10)."""
    if isinstance(a, np.ndarray):
        a = a.tolist()
    if isinstance(a, (list, tuple)):
        return [to_fractions(x) for x in a]
    if isinstance(a, float):
        return Fraction(repr(a))
    return Fraction(a)


def exact_str(a: Any) -> Any:
    """Fractions (nested) as strings such as "7/16" and "2"."""
    if isinstance(a, (list, tuple)):
        return [exact_str(x) for x in a]
    return str(a)


def as_float(a: Any) -> Any:
    if isinstance(a, (list, tuple)):
        return [as_float(x) for x in a]
    return float(a)


def sqdist(p: list[Any], q: list[Any]) -> Any:
    return sum((a - b) * (a - b) for a, b in zip(p, q, strict=True))


def mean(rows: list[list[Any]]) -> list[Any]:
    n = len(rows)
    return [sum(col) / n for col in zip(*rows, strict=True)]
