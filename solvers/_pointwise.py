"""Elementwise activations and their derivatives for the kinds conv2d_backprop, perceptron, transformer_block
and bptt, on Python numbers: Fractions stay exact through linear and relu; sigmoid, tanh and gelu give floats.

    linear v, relu max(0, v) (relu'(0) = 0, as PyTorch), sigmoid 1/(1 + e^(-slope v)) with
    sigmoid' = slope g (1 - g), tanh with tanh' = 1 - g^2, gelu v Phi(v) = v (1 + erf(v / sqrt 2)) / 2 with
    gelu' = Phi(v) + v phi(v) (erf form, PyTorch's default).

(One small place of its own until the shared activation table takes it over.)
"""

from __future__ import annotations

import math
from typing import Any

EXACT = ("linear", "relu")
FORMULAS = {
    "linear": "g(v) = v",
    "relu": "g(v) = max(0, v)",
    "sigmoid": "g(v) = 1/(1 + e^(-v))",
    "tanh": "g(v) = tanh(v)",
    "gelu": "g(v) = v Phi(v) = v (1 + erf(v/sqrt(2)))/2",
}
DERIVATIVES = {
    "linear": "g'(v) = 1",
    "relu": "g'(v) = 1 if v > 0, else 0 (0 at v = 0, as PyTorch takes it)",
    "sigmoid": "g'(v) = g(v) (1 - g(v))",
    "tanh": "g'(v) = 1 - g(v)^2",
    "gelu": "g'(v) = Phi(v) + v e^(-v^2/2)/sqrt(2 pi)",
}


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def g(name: str, v: Any, slope: Any = 1) -> Any:
    """The activation `name` at v (slope only for sigmoid)."""
    if name == "linear":
        return v
    if name == "relu":
        return v if v > 0 else v * 0
    if name == "sigmoid":
        return _sigmoid(float(slope * v))
    if name == "tanh":
        return math.tanh(float(v))
    if name == "gelu":
        x = float(v)
        return 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0)))
    raise KeyError(name)


def dg(name: str, v: Any, out: Any, slope: Any = 1) -> Any:
    """The derivative of `name` at v, given out = g(v)."""
    if name == "linear":
        return v * 0 + 1
    if name == "relu":
        return v * 0 + (1 if v > 0 else 0)
    if name == "sigmoid":
        return float(slope) * out * (1 - out)
    if name == "tanh":
        return 1 - out * out
    if name == "gelu":
        x = float(v)
        return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0))) + x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    raise KeyError(name)


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
