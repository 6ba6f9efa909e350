"""Hebbian learning for one neuron, presenting the points in order, epoch after epoch.

Output y = sign(w^T x) (sign(0) = 0: no update, reported) or y = w^T x (linear).
  hebb:   w <- w + eta y x                 (the activity product rule; unstable: ||w|| grows without bound)
  oja:    w <- w + eta y (x - y w)         (the decay y^2 w keeps ||w|| near 1; with a linear output and a small
                                            eta, w tends to the principal eigenvector of sum x x^T)
  damped: w <- alpha w + eta y x           (alpha < 1: the weights stay bounded; the lecture calls this a fix)
Exact rationals while the inputs are rational and the fractions stay short; floats otherwise. A run whose
weights overflow (||w|| > `DIVERGED`) stops there with a warning; the later steps have null weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import params as P
from .core import Figure, Solution, SolverWarning, Step, Sym, Table
from .numeric import as_float, exact_str, to_fractions
from .registry import register

# warning codes (SolverWarning.code)
NOT_DAMPED = "alpha_does_not_damp"
RUN_STOPPED = "run_stopped"
SIGN_OF_ZERO = "sign_of_zero"
UNBOUNDED_GROWTH = "unbounded_growth"

EXACT_DIGITS = 40
DIVERGED = 1e100
MAX_PRESENTATIONS = 100_000
TABLE_ROWS = 40

LECTURE_EXAMPLE = {  # lecture notes, "2 Hebbian Learning": two classes, one neuron without threshold
    "points": [[1, 1], [0.9, 1], [1, 1.1], [1, -1], [1.1, -1], [1, -1.1]],
    "initial_weights": [0.1, 0.1], "learning_rate": 1, "epochs": 1, "output": "sign", "rule": "hebb"}


class _Inexact(Exception):
    """Exact fractions grew too long: redo the run in floats."""


def _read(params: dict[str, Any]):
    P.no_unknown(params, ["points", "initial_weights", "learning_rate", "epochs", "output", "rule", "alpha"])
    points = P.matrix(P.get(params, "points"), "points")
    n, d = points.shape
    w0 = P.vector(P.get(params, "initial_weights"), "initial_weights", d)
    eta = P.number(P.get(params, "learning_rate"), "learning_rate", positive=True)
    epochs = P.integer(P.get(params, "epochs", 1), "epochs", low=1, high=10_000)
    if n * epochs > MAX_PRESENTATIONS:
        raise P.ParamError("epochs", f"{n} points x {epochs} epochs = {n * epochs} presentations; the limit is "
                                     f"{MAX_PRESENTATIONS}")
    output = P.choice(P.get(params, "output"), "output", ["sign", "linear"])
    rule = P.choice(P.get(params, "rule"), "rule", ["hebb", "oja", "damped"])
    alpha = None
    if rule == "damped":
        alpha = P.number(P.get(params, "alpha"), "alpha", positive=True)
    elif params.get("alpha") is not None:
        raise P.ParamError("alpha", f"alpha is only used by rule damped, not {rule}")
    return points, w0, eta, epochs, output, rule, alpha


def _sign(v: Any) -> int:
    return (v > 0) - (v < 0)


def _run(points, w0, eta, alpha, epochs, output, rule, exact: bool):
    """Every presentation: (epoch, index, v = w^T x, y, w after). Stops early at an overflow."""
    w = list(w0)
    records = []
    for epoch in range(1, epochs + 1):
        for i, x in enumerate(points):
            v = sum(a * b for a, b in zip(w, x, strict=True))
            y = _sign(v) if output == "sign" else v
            if rule == "hebb":
                w = [wj + eta * y * xj for wj, xj in zip(w, x, strict=True)]
            elif rule == "oja":
                w = [wj + eta * y * (xj - y * wj) for wj, xj in zip(w, x, strict=True)]
            else:
                w = [alpha * wj + eta * y * xj for wj, xj in zip(w, x, strict=True)]
            if exact and any(len(str(c.numerator)) > EXACT_DIGITS or len(str(c.denominator)) > EXACT_DIGITS
                             for c in w):
                raise _Inexact
            if not exact:
                norm = float(np.linalg.norm(w))
                if not np.isfinite(norm) or norm > DIVERGED:
                    return records, f"the weights overflow at epoch {epoch}, point {i + 1} (||w|| > {DIVERGED:.0e})"
            records.append((epoch, i, v, y, list(w)))
    return records, None


@register("hebbian", "Hebbian learning of one neuron (Hebb, Oja, damped Hebb), step by step",
          examples={"lecture_two_classes": LECTURE_EXAMPLE,
                    "saturation_linear": {"points": [[1]], "initial_weights": [1], "learning_rate": 1, "epochs": 4,
                                          "output": "linear", "rule": "hebb"},
                    "damped_sign": {"points": [[1]], "initial_weights": [1], "learning_rate": 1, "epochs": 6,
                                    "output": "sign", "rule": "damped", "alpha": 0.5},
                    "oja_linear": {"points": [[2, 1], [1, 1], [-2, -1], [-1, -0.5]], "initial_weights": [1, 0],
                                   "learning_rate": 0.05, "epochs": 30, "output": "linear", "rule": "oja"}})
def solve(params: dict[str, Any]) -> Solution:
    points_f, w0_f, eta_f, epochs, output, rule, alpha_f = _read(params)
    n, d = points_f.shape
    warnings: list[str] = []
    exact = True
    try:
        records, stop = _run(to_fractions(points_f), to_fractions(w0_f), to_fractions(eta_f),
                             None if alpha_f is None else to_fractions(alpha_f), epochs, output, rule, True)
    except _Inexact:
        exact = False
        records, stop = _run(points_f.tolist(), w0_f.tolist(), eta_f, alpha_f, epochs, output, rule, False)
    if not exact:
        records = [(e, i, float(v), float(y), [float(c) for c in w]) for e, i, v, y, w in records]
    if alpha_f is not None and alpha_f >= 1:
        warnings.append(SolverWarning(NOT_DAMPED, f"$alpha = {alpha_f:g} >= 1$ does not damp the weights "
                                                  "($alpha = 1$ is plain Hebb)"))
    if stop:
        warnings.append(SolverWarning(RUN_STOPPED, f"{stop}; the run stops there and the later steps report "
                                                   "null weights"))
    zeros = [(e, i) for e, i, v, _, _ in records if output == "sign" and v == 0]
    for e, i in zeros:
        warnings.append(SolverWarning(SIGN_OF_ZERO, f"epoch {e}, point {i + 1}: $w^T x = 0$, so $sign(0) = 0$ and "
                                                    "the weights do not change"))

    w0 = to_fractions(w0_f) if exact else w0_f.tolist()
    eta = to_fractions(eta_f) if exact else eta_f
    rule_text = {"hebb": "$w <- w + eta y x$ (Hebb's activity product rule)",
                 "oja": "$w <- w + eta y (x - y w)$ (Oja's rule)",
                 "damped": "$w <- alpha w + eta y x$ (Hebb's rule with damping $alpha$)"}[rule]
    out_text = "$y = sign(w^T x)$, with $sign(0) = 0$" if output == "sign" else "$y = w^T x$ (linear output)"
    inputs = {"eta": eta, "w^(0)": w0}
    if alpha_f is not None:
        inputs["alpha"] = to_fractions(alpha_f) if exact else alpha_f
    steps = [Step("The rule", text=f"Output {out_text}. Update {rule_text}. The points are presented in order, "
                                   f"{epochs} epoch(s). The rows of $X$ are the points $x_1$ to $x_{n}$.",
                  inputs=inputs,
                  values={"X": to_fractions(points_f) if exact else points_f.tolist()})]

    norms = [float(np.linalg.norm(np.asarray(w0_f)))] + [float(np.linalg.norm(np.asarray(r[4], dtype=float)))
                                                         for r in records]
    written = Step("The first presentations, written out")
    previous = w0
    for k, (e, i, v, y, w) in enumerate(records[:3]):
        written.children.append(Step(
            f"Epoch {e}, point $x_{i + 1}$",
            math=[[Sym("v"), v], [Sym("y"), y], [Sym(f"w^({k + 1})"), w]],
            values={f"w^({k})": previous}))
        previous = w
    steps.append(written)
    rows_idx = list(range(len(records)))
    if len(rows_idx) > TABLE_ROWS:
        rows_idx = rows_idx[:TABLE_ROWS - 5] + rows_idx[-5:]
    rows = []
    for j in rows_idx:
        if rows and j != rows_idx[rows_idx.index(j) - 1] + 1:
            rows.append(["..."] * 6)
        e, i, v, y, w = records[j]
        rows.append([e, i + 1, v, y, w, norms[j + 1]])
    table_text = "One row per presentation: the output, then the weights after the update."
    if len(rows_idx) < len(records):
        table_text += f" Presentations {TABLE_ROWS - 4} to {len(records) - 5} are left out."
    steps.append(Step("Every presentation", text=table_text,
                      table=Table(["epoch", "point", "$w^T x$", "$y$", "$w$ after", "$||w||$"], rows)))

    growth = _growth_text(norms, n, rule, output)
    if growth:
        warnings.append(SolverWarning(UNBOUNDED_GROWTH, growth))
    final = records[-1][4] if records and not stop else None
    if not records:
        final = w0
    behaviour = Step("How the weight norm behaves",
                     text=growth[:1].upper() + growth[1:] + "." if growth else _bounded_text(rule, norms),
                     figure=Figure("curves", {
                         "series": [{"label": f"{rule}, {output} output", "y": norms, "given": True}],
                         "xlabel": "presentation", "ylabel": "$||w||$", "log": bool(growth) and min(norms) > 0,
                         "title": "Weight norm after each presentation"},
                         "The norm of the weight vector after each presentation."))
    steps.append(behaviour)
    if d == 2 and final is not None:
        steps.append(Step("The weight vector among the data",
                          figure=Figure("weight_path", {"points": points_f.tolist(),
                                                        "path": [as_float(w0)] + [as_float(r[4]) for r in records]},
                                        "Data points and the path of the weight vector (the line through the "
                                        "origin along the final $w$ separates the signs of $w^T x$).")))

    padded = records + [None] * (n * epochs - len(records))
    answer = {
        "steps": [{"epoch": r[0], "point_index": r[1], "output": float(r[3]), "weights": as_float(r[4])}
                  if r is not None else {"epoch": 1 + k // n, "point_index": k % n, "output": None, "weights": None}
                  for k, r in enumerate(padded)],
        "final_weights": None if final is None else as_float(final),
    }
    if exact and final is not None:
        answer["final_weights_exact"] = exact_str(final)
    normalized = {"points": points_f.tolist(), "initial_weights": w0_f.tolist(), "learning_rate": eta_f,
                  "epochs": epochs, "output": output, "rule": rule}
    if alpha_f is not None:
        normalized["alpha"] = alpha_f
    return Solution("hebbian", normalized, steps, answer, warnings,
                    {"final_weights": final} if exact and final is not None else {})


def _growth_text(norms: list[float], n: int, rule: str, output: str) -> str:
    """A warning when ||w|| keeps growing: over the last epoch it grew, and it ends far above its start."""
    if len(norms) < 3:
        return ""
    last = norms[-n - 1:] if len(norms) > n else norms
    start = max(norms[0], 1e-12)
    if norms[-1] > 4 * start and last[-1] > last[0] * (1 + 1e-9):
        cause = ("plain Hebb with a linear output multiplies the component along the data by "
                 "$(1 + eta ||x||^2)$ at every step" if rule == "hebb" and output == "linear" else
                 "plain Hebb adds $eta x$ (or subtracts it) at every step and nothing pulls $w$ back"
                 if rule == "hebb" else f"the {rule} rule does not hold it back at this learning rate")
        return (f"the weight norm grows without bound (saturation): $||w||$ went from {norms[0]:.4g} to "
                f"{norms[-1]:.4g}, still growing in the last epoch; {cause}")
    return ""


def _bounded_text(rule: str, norms: list[float]) -> str:
    base = f"$||w||$ goes from {norms[0]:.4g} to {norms[-1]:.4g}."
    if rule == "oja":
        return base + " Oja's decay term $-eta y^2 w$ keeps the norm near 1."
    if rule == "damped":
        return base + " The damping $alpha < 1$ keeps the weights bounded (for a fixed input $x$ and sign " \
                      "output, $w$ tends to $eta x / (1 - alpha)$)."
    return base

