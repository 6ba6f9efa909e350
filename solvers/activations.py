"""The activation functions of every kind, in one table: name -> value, derivative, symbol.

    act = ACTIVATIONS["sigmoid"]
    act.value(v, slope)                 one number; relu, linear, step and sign keep a Fraction exact
    act.derivative(v, a, slope)         act'(v) for one number, given a = act.value(v, slope)
    act.array(v, slope)                 elementwise on a float numpy array
    act.array_derivative(v, a, slope)   act'(v) elementwise, given a = act.array(v, slope)
    act.symbol                          its name in an equation (sigma, ReLU, ...); None for the identity

The functions (v is the pre-activation; `slope` only changes the sigmoid):
    sigmoid  1/(1 + e^(-slope v)),        derivative slope a (1 - a)
    relu     max(0, v),                   derivative 1 for v > 0, else 0 (0 at v = 0, as PyTorch takes it)
    tanh     tanh(v),                     derivative 1 - a^2
    linear   v,                           derivative 1
    gelu     v Phi(v) = (v/2)(1 + erf(v/sqrt(2))) (PyTorch's default, the erf form),
                                          derivative Phi(v) + v phi(v), phi the standard normal density
    step     1 if v >= 0, else 0,         derivative 0 wherever it is defined
    sign     -1, 0 or 1 (sign(0) = 0),    derivative 0 wherever it is defined
    softmax  e^(v_j) / sum_k e^(v_k) over a whole vector (`value` takes the vector, `array` the last axis);
             its derivative is the full Jacobian diag(a) - a a^T, so `derivative` and `array_derivative` are
             None and a kind applies the Jacobian itself.

A kind offers its own subset (its catalog entry says which): `choices("sigmoid", "relu")` names them from
this table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Activation:
    name: str
    symbol: str | None
    formula: str  # plain prose for a step's text, in the lectures' notation
    derivative_formula: str | None
    value: Callable[..., Any]
    derivative: Callable[..., Any] | None
    array: Callable[..., np.ndarray]
    array_derivative: Callable[..., np.ndarray] | None
    elementwise: bool = True


def _sigmoid(z: Any) -> float:
    """1/(1 + e^(-z)) without overflow for large |z|."""
    z = float(z)
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _softmax(v: list[Any]) -> list[float]:
    m = max(float(vj) for vj in v)
    e = [math.exp(float(vj) - m) for vj in v]
    s = sum(e)
    return [ej / s for ej in e]


def _softmax_array(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _gelu(v: Any) -> float:
    v = float(v)
    return 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0)))


def _gelu_derivative(v: Any) -> float:
    v = float(v)
    return 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) + v * math.exp(-0.5 * v * v) / math.sqrt(2.0 * math.pi)


_erf = np.vectorize(math.erf, otypes=[float])
ZERO, ONE = Fraction(0), Fraction(1)

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    Activation("sigmoid", "sigma", "$sigma(v) = 1/(1 + e^(-v))$", "$sigma'(v) = sigma(v) (1 - sigma(v))$",
               lambda v, slope=1: _sigmoid(slope * v),
               lambda v, a, slope=1: slope * a * (1 - a),
               lambda v, slope=1: 1 / (1 + np.exp(-(slope * v))),
               lambda v, a, slope=1: slope * a * (1 - a)),
    Activation("relu", "ReLU", "$ReLU(v) = max(0, v)$",
               "$ReLU'(v) = 1$ if $v > 0$, else 0 (0 at $v = 0$, as PyTorch takes it)",
               lambda v, slope=1: v if v > 0 else ZERO,
               lambda v, a, slope=1: ONE if v > 0 else ZERO,
               lambda v, slope=1: np.maximum(v, 0),
               lambda v, a, slope=1: (v > 0).astype(float)),
    Activation("tanh", "tanh", "$tanh(v) = (e^v - e^(-v))/(e^v + e^(-v))$", "$tanh'(v) = 1 - tanh(v)^2$",
               lambda v, slope=1: math.tanh(float(v)),
               lambda v, a, slope=1: 1 - a * a,
               lambda v, slope=1: np.tanh(v),
               lambda v, a, slope=1: 1 - a * a),
    Activation("linear", None, "the identity, $a = v$", "the derivative of the identity is 1",
               lambda v, slope=1: v,
               lambda v, a, slope=1: ONE,
               lambda v, slope=1: v,
               lambda v, a, slope=1: np.ones_like(v, dtype=float)),
    Activation("softmax", "softmax", "$softmax(v)_j = e^(v_j) / sum_k e^(v_k)$", None,
               lambda v, slope=1: _softmax(v), None, lambda v, slope=1: _softmax_array(v), None,
               elementwise=False),
    Activation("step", "step", "$step(v) = 1$ if $v >= 0$, else 0", "$step'(v) = 0$ wherever it is defined",
               lambda v, slope=1: ONE if v >= 0 else ZERO,
               lambda v, a, slope=1: ZERO,
               lambda v, slope=1: np.where(v >= 0, 1.0, 0.0),
               lambda v, a, slope=1: np.zeros_like(v, dtype=float)),
    Activation("sign", "sign", "$sign(v) = 1$ if $v > 0$, 0 if $v = 0$, $-1$ if $v < 0$",
               "$sign'(v) = 0$ wherever it is defined",
               lambda v, slope=1: Fraction((v > 0) - (v < 0)),
               lambda v, a, slope=1: ZERO,
               lambda v, slope=1: np.sign(v).astype(float),
               lambda v, a, slope=1: np.zeros_like(v, dtype=float)),
    Activation("gelu", "GELU", "$GELU(v) = v Phi(v) = (v/2)(1 + erf(v/sqrt(2)))$",
               "$GELU'(v) = Phi(v) + v phi(v)$, with $phi$ the standard normal density",
               lambda v, slope=1: _gelu(v),
               lambda v, a, slope=1: _gelu_derivative(v),
               lambda v, slope=1: 0.5 * v * (1.0 + _erf(v / math.sqrt(2.0))),
               lambda v, a, slope=1: 0.5 * (1.0 + _erf(v / math.sqrt(2.0)))
               + v * np.exp(-0.5 * v * v) / math.sqrt(2.0 * math.pi)),
)}


def choices(*names: str) -> tuple[str, ...]:
    """The names a kind offers, each checked against the table (the order is the kind's, for its messages)."""
    for name in names:
        if name not in ACTIVATIONS:
            raise KeyError(f"no activation {name!r} in solvers.activations")
    return names


def display_name(name: str) -> str:
    """An activation's name as prose writes it: ReLU and GELU in their usual capitals, the others as they are."""
    return {"relu": "ReLU", "gelu": "GELU"}.get(name, name)
