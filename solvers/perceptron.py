"""The perceptron learning rule and the delta rule (lectures 7-8), one point at a time, epoch after epoch.

With v = w . x + b for the point x and its label (target) y:
    perceptron: output = sign(v) (sign(0) = 0), error = y - output, w <- w + eta error x, b <- b + eta error;
    delta:      output = g(v), error = y - output, w <- w + eta error g'(v) x, b <- b + eta error g'(v),
with g linear (Widrow-Hoff LMS), sigmoid 1/(1 + e^(-slope v)) (g' = slope g (1 - g)) or tanh (g' = 1 - g^2).
The delta rule is one step of gradient descent on (y - g(v))^2 / 2 for the point presented.

An epoch's errors are counted before each update: the number of points with output != y (perceptron), or the
sum of error^2 (delta). A run converges when an epoch has no error (delta: every |error| <= 1e-9); with
`stop_when_no_errors` it stops after the first such epoch. Exact rationals while every value is rational
(perceptron; delta with a linear g) and the fractions stay short; floats otherwise.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from . import params as P
from . import pointwise as pw
from .conv2d import factor_text, num_text
from .core import Figure, Solution, SolverWarning, Step, Sym, Table, exact_field
from .errors import ParamError
from .numeric import exact_str
from .registry import register

# warning codes (SolverWarning.code)
NOT_CONVERGED = "not_converged"
OUTPUT_AT_ZERO = "output_at_zero"

MAX_EPOCHS = 1000
MAX_PRESENTATIONS = 20_000
TOLERANCE = 1e-9
TABLE_ROWS = 48
WRITTEN_OUT = 3  # presentations written out as equations
ACTIVATIONS = ("linear", "sigmoid", "tanh")

# Lecture 7-8's setting: a perceptron with a bias learns AND on +-1 inputs (labels +1/-1), eta = 1/2.
AND_GATE = {"points": [[1, 1], [1, -1], [-1, 1], [-1, -1]], "labels": [1, -1, -1, -1],
            "initial_weights": [0, 0], "bias": 0, "learning_rate": 0.5, "epochs": 10}
# Lecture 8's delta rule, one data point at a time: w <- w + eta (y - g(w^T x)) g'(w^T x) x, Widrow-Hoff LMS with
# the identity g (real targets).
LMS = {"points": [[1, 0], [1, 1], [1, 2]], "labels": [1, 2, 2.5], "initial_weights": [0, 0],
       "learning_rate": 0.25, "epochs": 2, "rule": "delta"}
# Lecture 8's sigmoid g(v) = 1/(1 + e^(-a v)) with a = 2 in the delta rule.
DELTA_SIGMOID = {"points": [[1, 2], [-1, 1], [2, -1]], "labels": [1, 0, 1], "initial_weights": [0.1, -0.2],
                 "bias": 0, "learning_rate": 0.5, "epochs": 3, "rule": "delta", "activation": "sigmoid",
                 "slope": 2}


class _Inexact(Exception):
    """The exact fractions grew too long: redo the run in floats."""


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["points", "labels", "initial_weights", "bias", "learning_rate", "epochs", "rule",
                          "activation", "slope", "stop_when_no_errors"])
    points = pw.exact(P.matrix(P.get(params, "points"), "points", exact=True))
    n, d = len(points), len(points[0])
    raw_labels = P.get(params, "labels")
    labels = pw.exact(P.vector(raw_labels, "labels", exact=True))
    if len(labels) != n:
        raise ParamError("labels", f"expected {n} labels (one per point), got {len(labels)}")
    w = pw.exact(P.vector(P.get(params, "initial_weights"), "initial_weights", d, exact=True))
    b = pw.exact([P.rational(P.get(params, "bias", 0), "bias")])[0]
    eta = pw.exact([P.rational(P.get(params, "learning_rate"), "learning_rate", positive=True)])[0]
    epochs = P.integer(P.get(params, "epochs"), "epochs", low=1, high=MAX_EPOCHS)
    if epochs * n > MAX_PRESENTATIONS:
        raise ParamError("epochs", f"{epochs} epochs of {n} points is {epochs * n} presentations (the limit is "
                                   f"{MAX_PRESENTATIONS})")
    rule = P.choice(P.get(params, "rule", "perceptron"), "rule", ["perceptron", "delta"])
    activation = "sign"
    slope = Fraction(1)
    if rule == "perceptron":
        for name in ("activation", "slope"):
            if params.get(name) is not None:
                raise ParamError(name, "only the delta rule takes an activation (the perceptron outputs sign(v))")
        for i, y in enumerate(labels):
            if y not in (1, -1):
                raise ParamError(f"labels[{i}]", f"the perceptron's labels are +1 or -1, got {float(y):g} "
                                                 "(real targets need rule: delta)")
    else:
        activation = P.choice(P.get(params, "activation", "linear"), "activation", ACTIVATIONS)
        if params.get("slope") is not None:
            if activation != "sigmoid":
                raise ParamError("slope", f"only a sigmoid has a slope; the activation is {activation}")
            slope = pw.exact([P.rational(params["slope"], "slope", positive=True)])[0]
    stop = P.boolean(P.get(params, "stop_when_no_errors", rule == "perceptron"), "stop_when_no_errors")
    return {"points": points, "labels": labels, "w": w, "b": b, "eta": eta, "epochs": epochs, "rule": rule,
            "activation": activation, "slope": slope, "stop": stop}


def _sign(v: Any) -> Fraction:
    return Fraction((v > 0) - (v < 0))


def _run(r: dict[str, Any], exact: bool) -> dict[str, Any]:
    """Present the points in order, epoch after epoch; raise _Inexact when exact fractions grow too long."""
    conv = (lambda a: a) if exact else pw.floats
    points, labels = conv(r["points"]), conv(r["labels"])
    w, b, eta, slope = conv(r["w"]), conv(r["b"]), conv(r["eta"]), conv(r["slope"])
    records, per_epoch, clean = [], [], False
    for epoch in range(1, r["epochs"] + 1):
        misses, squared, worst = 0, 0 * b, 0.0
        for i, (x, y) in enumerate(zip(points, labels, strict=True)):
            v = sum((wj * xj for wj, xj in zip(w, x, strict=True)), 0 * b) + b
            if r["rule"] == "perceptron":
                out = _sign(v) if exact else float(_sign(v))
                err = y - out
                factor = eta * err
                slope_here = None
            else:
                out = pw.g(r["activation"], v, slope)
                slope_here = pw.dg(r["activation"], v, out, slope)
                err = y - out
                factor = eta * err * slope_here
            misses += out != y
            squared += err * err
            worst = max(worst, abs(float(err)))
            w = [wj + factor * xj for wj, xj in zip(w, x, strict=True)]
            b = b + factor
            if exact and pw.too_long([*w, b]):
                raise _Inexact
            records.append({"epoch": epoch, "point_index": i, "v": v, "output": out, "error": err,
                            "slope": slope_here, "weights": list(w), "bias": b})
        per_epoch.append(misses if r["rule"] == "perceptron" else squared)
        clean = misses == 0 if r["rule"] == "perceptron" else worst <= TOLERANCE
        if not np.all(np.isfinite(pw.floats([*w, b]))) or max(abs(float(v)) for v in [*w, b]) > 1e100:
            raise ParamError("learning_rate", f"the weights diverge in epoch {epoch} (beyond 1e100): use a smaller "
                                              "learning rate or fewer epochs")
        if clean and r["stop"]:
            break
    return {"records": records, "errors_per_epoch": per_epoch, "converged": clean, "epochs_run": len(per_epoch),
            "w": w, "b": b, "exact": exact}


@register("perceptron", "The perceptron learning rule and the delta rule (Widrow-Hoff LMS) over a dataset",
          examples={"lecture_7_and_gate": AND_GATE, "lecture_8_lms": LMS, "lecture_8_delta_sigmoid": DELTA_SIGMOID,
                    "separable_2d": {"points": [[2, 1], [1, 3], [-1, -1], [-2, 1]], "labels": [1, 1, -1, -1],
                                     "initial_weights": [1, -1], "learning_rate": 1, "epochs": 5}})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    exact_possible = r["rule"] == "perceptron" or r["activation"] == "linear"
    try:
        run = _run(r, exact=exact_possible)
    except _Inexact:
        run = _run(r, exact=False)
    steps = [_rule_step(r)]
    steps.extend(_epoch_steps(r, run))
    steps.append(_summary_step(r, run))
    if len(r["w"]) == 2:
        steps.append(_figure_step(r, run))
    warnings = []
    if not run["converged"]:
        warnings.append(SolverWarning(NOT_CONVERGED,
                                      f"no error-free epoch within {r['epochs']} epoch(s): the run did not converge"
                        if r["stop"] or r["rule"] == "perceptron" else
                        f"the last epoch still has errors: the run did not converge in {r['epochs']} epoch(s)"))
    zero_outputs = [rec for rec in run["records"] if r["rule"] == "perceptron" and rec["output"] == 0]
    if zero_outputs:
        first = zero_outputs[0]
        warnings.append(SolverWarning(OUTPUT_AT_ZERO,
                                      f"$v = 0$ at {len(zero_outputs)} presentation(s) (first: epoch "
                                      f"{first['epoch']}, point {first['point_index']}): $sign(0) = 0$, so the "
                                      "error is the label itself and the update is half a full step"))
    answer: dict[str, Any] = {
        "steps": [{"epoch": rec["epoch"], "point_index": rec["point_index"], "output": float(rec["output"]),
                   "error": float(rec["error"]), "weights": pw.floats(rec["weights"]), "bias": float(rec["bias"])}
                  for rec in run["records"]],
        "final_weights": pw.floats(run["w"]), "final_bias": float(run["b"]),
        "errors_per_epoch": [float(e) if r["rule"] == "delta" else int(e) for e in run["errors_per_epoch"]],
        "converged": run["converged"], "epochs_run": run["epochs_run"],
    }
    exact = {"final_weights": run["w"], "final_bias": run["b"]} if run["exact"] else {}
    if run["exact"]:
        answer[exact_field("final_weights")] = exact_str(run["w"])
        answer[exact_field("final_bias")] = str(run["b"])
    normalized: dict[str, Any] = {"points": r["points"], "labels": r["labels"], "initial_weights": r["w"],
                                  "bias": r["b"], "learning_rate": r["eta"], "epochs": r["epochs"],
                                  "rule": r["rule"], "stop_when_no_errors": r["stop"]}
    if r["rule"] == "delta":
        normalized["activation"] = r["activation"]
        if r["activation"] == "sigmoid":
            normalized["slope"] = r["slope"]
    return Solution("perceptron", normalized, steps, answer, warnings, exact)


def _rule_step(r: dict[str, Any]) -> Step:
    if r["rule"] == "perceptron":
        text = ("Present the points in order. For each: $v = w . x + b$, the output $y = sign(v)$ "
                "($sign(0) = 0$), the error $e = t - y$ with the label $t$, then $w <- w + eta e x$ and "
                "$b <- b + eta e$. A correctly classified point has error 0 and changes nothing.")
    else:
        g = pw.FORMULAS[r["activation"]]
        if r["activation"] == "sigmoid" and r["slope"] != 1:
            g = f"$g(v) = 1/(1 + e^(-{r['slope']} v))$"
        d = pw.DERIVATIVES[r["activation"]] if r["activation"] != "sigmoid" else (
            f"$g'(v) = {r['slope']} g(v) (1 - g(v))$" if r["slope"] != 1 else pw.DERIVATIVES["sigmoid"])
        text = ("Delta rule, one point at a time (a gradient step on $(t - g(v))^2 / 2$ with the target $t$): "
                f"$v = w . x + b$, the output $y = g(v)$ with {g}, the error $e = t - y$, then "
                f"$w <- w + eta e g'(v) x$ and $b <- b + eta e g'(v)$, where {d}."
                + (" With the identity $g$ this is the Widrow-Hoff LMS rule." if r["activation"] == "linear" else ""))
    return Step("The learning rule", text=text,
                inputs={"eta": r["eta"], "w^(0)": r["w"], "b^(0)": r["b"]})


def _epoch_steps(r: dict[str, Any], run: dict[str, Any]) -> list[Step]:
    records = run["records"]
    n = len(r["points"])
    shown_epochs = sorted({1, 2, run["epochs_run"]} & set(range(1, run["epochs_run"] + 1)))
    if len(records) <= TABLE_ROWS:
        shown_epochs = list(range(1, run["epochs_run"] + 1))
    delta = r["rule"] == "delta"
    columns = (["point", "$x$", "label $t$", "$v$", "output $y$", "error $e$"] + (["$g'(v)$"] if delta else [])
               + ["$w$ after", "$b$ after"])
    steps = []
    for epoch in shown_epochs:
        rows = []
        for rec in records[(epoch - 1) * n: epoch * n]:
            i = rec["point_index"]
            row = [i, r["points"][i], r["labels"][i], rec["v"], rec["output"], rec["error"]]
            if delta:
                row.append(rec["slope"])
            rows.append([*row, rec["weights"], rec["bias"]])
        step = Step(f"Epoch {epoch}", table=Table(columns, rows),
                    result={"errors": run["errors_per_epoch"][epoch - 1]})
        if epoch == 1:
            step.text = "Points count from 0, as in the parameters."
            before_w, before_b = r["w"], r["b"]
            for rec in records[:WRITTEN_OUT]:
                step.children.append(_presentation(r, rec, before_w, before_b))
                before_w, before_b = rec["weights"], rec["bias"]
        steps.append(step)
    if len(shown_epochs) < run["epochs_run"]:
        steps[-1].text = (f"Epochs {shown_epochs[-2] + 1} to {run['epochs_run'] - 1} go the same way; their error "
                          "counts are in the summary.")
    return steps


def _presentation(r: dict[str, Any], rec: dict[str, Any], w: list[Any], b: Any) -> Step:
    i = rec["point_index"]
    x, y = r["points"][i], r["labels"][i]
    step = Step(f"Point {i}: $x = {_text(x)}$, label ${_text(y)}$")
    step.math.append([Sym("v"), " + ".join(f"{factor_text(wj)}·{factor_text(xj)}" for wj, xj in zip(w, x, strict=True))
                      + f" + {factor_text(b)}", rec["v"]])
    step.math.append([Sym("output"), Sym("sign(v)" if r["rule"] == "perceptron" else "g(v)"), rec["output"]])
    step.math.append([Sym("error"), f"{_text(y)} - {factor_text(rec['output'])}", rec["error"]])
    factor = f"{factor_text(r['eta'])}·{factor_text(rec['error'])}"
    if r["rule"] == "delta":
        step.math.append([Sym("g'(v)"), rec["slope"]])
        factor += f"·{factor_text(rec['slope'])}"
    if rec["error"] == 0:
        step.text = "No error: the weights and the bias stay."
    else:
        step.math.append([Sym("w"), f"{_text(w)} + {factor}·{_text(x)}", rec["weights"]])
        step.math.append([Sym("b"), f"{factor_text(b)} + {factor}", rec["bias"]])
    return step


def _text(v: Any) -> str:
    if isinstance(v, list):
        return "(" + ", ".join(num_text(a) for a in v) + ")"
    return num_text(v)


def _summary_step(r: dict[str, Any], run: dict[str, Any]) -> Step:
    what = "misclassified points" if r["rule"] == "perceptron" else "sum of squared errors"
    rows = [[k + 1, e] for k, e in enumerate(run["errors_per_epoch"])]
    if run["converged"]:
        text = (f"Epoch {run['epochs_run']} has no error" + (", so the run stops there." if r["stop"] else "."))
    else:
        text = f"Epoch {run['epochs_run']} still has errors: not converged."
    return Step("Errors per epoch and the final weights", text=text, table=Table(["epoch", what], rows),
                result={"w": run["w"], "b": run["b"]})


def _figure_step(r: dict[str, Any], run: dict[str, Any]) -> Step:
    data = {"points": pw.floats(r["points"]), "labels": pw.floats(r["labels"]),
            "initial": [*pw.floats(r["w"]), float(r["b"])], "final": [*pw.floats(run["w"]), float(run["b"])]}
    caption = ("The points (by label) and the lines $w . x + b = 0$ before (dashed) and after (solid) training."
               if any(data["initial"][:-1]) else
               "The points (by label) and the line $w . x + b = 0$ after training (solid); the initial $w = 0$ "
               "has no line.")
    return Step("Picture: the data and the decision boundary",
                figure=Figure("perceptron_boundary", data, caption))
