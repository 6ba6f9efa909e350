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


def is_decimal(v: Fraction) -> bool:
    """Whether a fraction is written as a decimal (0.1, 0.05, 0.2): its denominator is 2^a 5^b with b >= 1.
    Halves and quarters stay fractions (1/2, 3/4)."""
    q = v.denominator
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    return q == 1 and v.denominator % 5 == 0


def as_float(a: Any) -> Any:
    if isinstance(a, (list, tuple)):
        return [as_float(x) for x in a]
    return float(a)


def sqdist(p: list[Any], q: list[Any]) -> Any:
    return sum((a - b) * (a - b) for a, b in zip(p, q, strict=True))


def mean(rows: list[list[Any]]) -> list[Any]:
    n = len(rows)
    return [sum(col) / n for col in zip(*rows, strict=True)]
