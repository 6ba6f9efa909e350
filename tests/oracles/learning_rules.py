"""Oracle for the perceptron and delta rules: plain Python loops over floats, written from lectures 7-8."""

from __future__ import annotations

import math
from fractions import Fraction


def _g(name, v, a):
    if name == "sigmoid":
        return 1 / (1 + math.exp(-a * v))
    if name == "tanh":
        return math.tanh(v)
    return v


def _g_prime(name, v, a):
    if name == "sigmoid":
        s = 1 / (1 + math.exp(-a * v))
        return a * s * (1 - s)
    if name == "tanh":
        return 1 - math.tanh(v) ** 2
    return 1


def perceptron(params):
    """Exact fractions where the rule keeps values rational (sign, identity g): the sign of v = 0 must not
    depend on rounding. Floats for sigmoid and tanh."""
    rational = params.get("rule", "perceptron") == "perceptron" or params.get("activation", "linear") == "linear"

    def _num(v):
        v = Fraction(v) if isinstance(v, str) else Fraction(repr(v)) if isinstance(v, float) else Fraction(v)
        return v if rational else float(v)

    X = [[_num(v) for v in x] for x in params["points"]]
    Y = [_num(y) for y in params["labels"]]
    w = [_num(v) for v in params["initial_weights"]]
    b = _num(params.get("bias", 0))
    eta = _num(params["learning_rate"])
    delta = params.get("rule", "perceptron") == "delta"
    act, a = params.get("activation", "linear"), _num(params.get("slope", 1))
    stop = params.get("stop_when_no_errors", not delta)
    weights, per_epoch, converged = [], [], False
    for _ in range(params["epochs"]):
        count, worst = 0, 0
        for x, y in zip(X, Y, strict=True):
            v = sum(wi * xi for wi, xi in zip(w, x, strict=True)) + b
            if delta:
                e = y - _g(act, v, a)
                step = eta * e * _g_prime(act, v, a)
                count += e * e
                worst = max(worst, abs(float(e)))
            else:
                out = 1 if v > 0 else (-1 if v < 0 else 0)
                e = y - out
                step = eta * e
                count += out != y
            w = [wi + step * xi for wi, xi in zip(w, x, strict=True)]
            b += step
            weights.append([float(wi) for wi in w])
        per_epoch.append(count)
        converged = (worst <= 1e-9) if delta else count == 0
        if converged and stop:
            break
    return {"final_weights": [float(wi) for wi in w], "final_bias": float(b),
            "errors_per_epoch": [float(c) for c in per_epoch], "converged": converged,
            "epochs_run": len(per_epoch), "_weights": weights}


ORACLES = {"perceptron": lambda p: {k: v for k, v in perceptron(p).items() if not k.startswith("_")}}
