"""Oracle for competitive learning: a direct loop over presentations in exact rationals (sympy), written
independently of solvers/competitive.py."""

from __future__ import annotations

import sympy as sp


def _q(v):
    return sp.Rational(str(v)) if isinstance(v, float) else sp.Rational(v)


def _round(v, mode):
    floor = sp.floor(v)
    rest = v - floor
    if rest == sp.Rational(1, 2):
        if mode == "half_even":
            return floor if floor % 2 == 0 else floor + 1
        return floor + 1 if v > 0 else floor  # away from zero
    return floor + 1 if rest > sp.Rational(1, 2) else floor


def competitive(params):
    X = sp.Matrix([[_q(v) for v in row] for row in params["points"]])
    W = sp.Matrix([[_q(v) for v in row] for row in params["initial_weights"]])
    eta = _q(params["learning_rate"])
    rule = params.get("rule", "standard")
    rounding = params.get("rounding")
    highest = params.get("tie_break", "lowest") == "highest"

    def win(x):
        y = W * x.T
        order = range(W.rows - 1, -1, -1) if highest else range(W.rows)
        best = max(y)
        return next(i for i in order if y[i] == best), y

    history = []
    for epoch in range(1, params["epochs"] + 1):
        for n in range(X.rows):
            x = X.row(n)
            i, y = win(x)
            scale = eta if rule == "standard" else eta * y[i]
            w = W.row(i) + scale * (x - W.row(i))
            if rounding:
                w = w.applyfunc(lambda v: _round(v, rounding))
            W[i, :] = w
            if any(abs(v) > 10**12 for v in w):
                return {"diverged": True}
            history.append({"epoch": epoch, "point_index": n, "winner": i, "outputs": [float(v) for v in y],
                            "weights": [[float(v) for v in W.row(r)] for r in range(W.rows)]})
    return {"diverged": False, "final_weights": [[float(v) for v in W.row(r)] for r in range(W.rows)],
            "clusters": [win(X.row(n))[0] for n in range(X.rows)], "history": history}


def _answer(params):
    return {k: v for k, v in competitive(params).items() if k in ("final_weights", "clusters")}


ORACLES = {"competitive": _answer}
