"""Number helpers of the kinds conv2d_backprop, perceptron, optimizer_step, pca, transformer_block and bptt, and
their activations, taken from the one table (`solvers.activations`): Fractions stay exact through linear and
relu; sigmoid, tanh and gelu give floats.
"""

from __future__ import annotations

from typing import Any

from .activations import ACTIVATIONS

EXACT = ("linear", "relu")
FORMULAS = {name: a.formula for name, a in ACTIVATIONS.items()}
DERIVATIVES = {name: a.derivative_formula for name, a in ACTIVATIONS.items()}


def g(name: str, v: Any, slope: Any = 1) -> Any:
    """The activation `name` at v (slope only for sigmoid)."""
    return ACTIVATIONS[name].value(v, slope)


def dg(name: str, v: Any, out: Any, slope: Any = 1) -> Any:
    """The derivative of `name` at v, given out = g(v)."""
    return ACTIVATIONS[name].derivative(v, out, slope)


def exact(value: Any) -> Any:
    """Nested sympy Rationals (from `params.array(..., exact=True)`) as nested Fractions."""
    from fractions import Fraction

    if isinstance(value, (list, tuple)):
        return [exact(v) for v in value]
    return Fraction(int(value.p), int(value.q))


def floats(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [floats(v) for v in value]
    return float(value)


def too_long(value: Any, digits: int = 60) -> bool:
    """Whether an exact value (nested Fractions) has grown past `digits` digits in a numerator or denominator."""
    if isinstance(value, (list, tuple)):
        return any(too_long(v, digits) for v in value)
    limit = 10**digits
    return hasattr(value, "denominator") and (value.denominator > limit or abs(value.numerator) > limit)
