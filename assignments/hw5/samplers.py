"""Samplers of homework 5: a positive-definite quadratic with an integer minimizer and learning rates on
both sides of the critical rate; a small sigmoid network."""

from __future__ import annotations

import numpy as np
import sympy as sp

from assignments.sampling import Constraint, pick, sampler

HESSIANS = [[[26, -10], [-10, 4]], [[10, 4], [4, 2]], [[6, 2], [2, 2]], [[8, -2], [-2, 2]], [[12, 4], [4, 4]],
            [[18, 6], [6, 4]], [[20, -8], [-8, 6]]]
RATES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5]


def _critical(s):
    return s["a"].answer["critical_learning_rate"]


@sampler("quadratic_descent", constraints=[
    Constraint("positive_definite", "the Hessian is positive definite (one minimizer)",
               lambda d, s: s["a"].answer["hessian_eigenvalues"][0] > 0),
    Constraint("integer_minimizer", "the minimizer has integer coordinates",
               lambda d, s: all(float(v).is_integer() for v in s["a"].answer["stationary_points"][0])),
    Constraint("rates_straddle_critical", "the first two rates are below the critical rate, the third above",
               lambda d, s: d["a"]["learning_rate"] < d["b"]["learning_rate"] < _critical(s) < d["c"]["learning_rate"]),
    Constraint("third_rate_diverges", "gradient descent with the third rate does not converge",
               lambda d, s: not s["c"].answer["converges"]),
])
def quadratic_descent(rng):
    """R(w) = 1/2 (w - w*)^T H (w - w*) + r0, expanded, with H from a list of small integer positive-definite
    matrices, an integer minimizer w* and a constant r0; three learning rates from a fixed grid."""
    H = sp.Matrix(pick(rng, HESSIANS))
    w_star = sp.Matrix([int(v) for v in rng.integers(-3, 4, size=2)])
    w1, w2 = sp.symbols("w1 w2")
    w = sp.Matrix([w1, w2])
    r0 = int(rng.integers(0, 4))
    objective = sp.expand((w - w_star).T * H * (w - w_star) / 2)[0] + r0
    critical = 2 / max(np.linalg.eigvalsh(np.asarray(H.tolist(), dtype=float)))
    below = [r for r in RATES if r < critical]
    above = [r for r in RATES if r > critical]
    rates = sorted(rng.choice(below, size=2, replace=False).tolist()) if len(below) >= 2 else [0.0, 0.0]
    rates.append(pick(rng, above[:2]) if above else 1.0)
    text = str(objective).replace("**", "^")
    common = {"objective": text, "variables": ["w1", "w2"], "start": [0, 0], "iterations": 500}
    draw = {pid: {**common, "learning_rate": float(r)} for pid, r in zip("abc", rates, strict=True)}
    draw["a"]["compare_rates"] = [float(r) for r in rates]  # part (a)'s worked solution plots all three runs
    return draw


@sampler("small_network", constraints=[
    Constraint("nonzero_gradient", "the output layer's gradient is not zero",
               lambda d, s: any(abs(v) > 1e-12 for row in s["c"].answer["grad_W"][-1] for v in row)),
])
def small_network(rng):
    """A 3-3-1 sigmoid network (slope 5) with weights that are multiples of 0.05 in [-0.2, 0.2]."""
    def weights(shape):
        return (rng.integers(-4, 5, size=shape) * 0.05).round(2).tolist()

    x = [pick(rng, [1, -1, 0.5, -0.5]) for _ in range(3)]
    return {"c": {"x": x, "layers": [
        {"W": weights((3, 3)), "b": weights(3), "activation": "sigmoid", "slope": 5},
        {"W": weights((1, 3)), "b": weights(1), "activation": "sigmoid", "slope": 5}],
        "target": [pick(rng, [0, 1])], "loss": "se", "learning_rate": 0.01}}
