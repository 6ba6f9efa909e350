"""Steps of the optimizers of torch.optim, exactly as PyTorch computes them, on a vector of parameters p.

The gradient g_t at step t (t = 1, 2, ...) is given (`gradients`) or the gradient of `objective` at the current
p (p.grad). With weight decay, g <- g + wd p first (L2, not AdamW). Elementwise, with torch's names:
    sgd:       p <- p - lr g
    momentum:  b <- g (t = 1, undamped), else mu b + (1 - dampening) g;   p <- p - lr b
    nesterov:  b as for momentum;                                         p <- p - lr (g + mu b)
    adagrad:   s <- s + g^2 (s starts at initial_accumulator_value);      p <- p - lr g / (sqrt(s) + eps)
    rmsprop:   a <- alpha a + (1 - alpha) g^2; centered: m <- alpha m + (1 - alpha) g, d = sqrt(a - m^2) + eps,
               else d = sqrt(a) + eps; momentum mu > 0: b <- mu b + g / d, p <- p - lr b; else p <- p - lr g / d
    adam:      m <- beta1 m + (1 - beta1) g, v <- beta2 v + (1 - beta2) g^2,
               p <- p - lr m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t).
`state` holds torch's buffers after each step (momentum_buffer, sum, square_avg, grad_avg, exp_avg,
exp_avg_sq); `gradients` the p.grad of each step (before weight decay). sgd, momentum and nesterov are exact
when every input is rational; the square roots make the others floats.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from . import params as P
from . import pointwise as pw
from .core import Figure, Solution, Step, Sym, Table, exact_field
from .errors import ParamError
from .numeric import exact_str
from .registry import register

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
TORCH_NAMES = {"sgd": "SGD", "momentum": "SGD", "nesterov": "SGD (nesterov=True)", "adagrad": "Adagrad",
               "rmsprop": "RMSprop", "adam": "Adam"}
TAKES = {
    "sgd": ("lr", "weight_decay"),
    "momentum": ("lr", "momentum", "dampening", "weight_decay"),
    "nesterov": ("lr", "momentum", "dampening", "weight_decay"),
    "adagrad": ("lr", "weight_decay", "eps", "initial_accumulator_value"),
    "rmsprop": ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
    "adam": ("lr", "betas", "eps", "weight_decay"),
}
HYPERPARAMETERS = ("lr", "momentum", "dampening", "weight_decay", "alpha", "eps", "betas", "centered",
                   "initial_accumulator_value")
MAX_STEPS = 1000
DIVERGED = 1e100
WRITTEN_OUT = 3
TABLE_HEAD, TABLE_TAIL = 12, 4
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# The cheat sheet's optimizers on the quadratic 13 w1^2 - 10 w1 w2 + 4 w1 + 2 w2^2 - 2 w2 + 1 of Homework 5.
HW5_OBJECTIVE = "13*w1^2 - 10*w1*w2 + 4*w1 + 2*w2^2 - 2*w2 + 1"
MOMENTUM_HW5 = {"params": [0, 0], "objective": HW5_OBJECTIVE, "variables": ["w1", "w2"], "steps": 20,
                "optimizer": "momentum", "lr": 0.02, "momentum": 0.9}
ADAM_HW5 = {"params": [0, 0], "objective": HW5_OBJECTIVE, "variables": ["w1", "w2"], "steps": 30,
            "optimizer": "adam", "lr": 0.1}


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["params", "gradients", "objective", "variables", "steps", "optimizer", *HYPERPARAMETERS])
    start = pw.exact(P.vector(P.get(params, "params"), "params", exact=True))
    d = len(start)
    optimizer = P.choice(P.get(params, "optimizer"), "optimizer", OPTIMIZERS)
    for name in HYPERPARAMETERS:
        if params.get(name) is not None and name not in TAKES[optimizer]:
            raise ParamError(name, f"{optimizer} (torch.optim.{TORCH_NAMES[optimizer]}) does not take {name}; its "
                                   f"hyperparameters are: {', '.join(TAKES[optimizer])}")
    r: dict[str, Any] = {"start": start, "optimizer": optimizer, "objective": None, "symbols": None}
    if params.get("gradients") is not None:
        for name in ("objective", "variables", "steps"):
            if params.get(name) is not None:
                raise ParamError(name, "give either gradients (one step per gradient) or objective, variables and "
                                       "steps, not both")
        r["gradients"] = pw.exact(P.matrix(params["gradients"], "gradients", None, d, exact=True))
        if len(r["gradients"]) > MAX_STEPS:
            raise ParamError("gradients", f"at most {MAX_STEPS} steps, got {len(r['gradients'])}")
        r["steps"] = len(r["gradients"])
    elif params.get("objective") is not None:
        names = P.get(params, "variables")
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or len(names) != d:
            raise ParamError("variables", f"expected {d} variable names (one per entry of params, in order), "
                                          f"got {names!r:.40}")
        for i, name in enumerate(names):
            if not isinstance(name, str) or not _NAME.match(name) or name in P._FUNCTIONS or name in ("I", "S", "N"):
                raise ParamError(f"variables[{i}]", f"expected a name such as w1 (letters, digits, _), got {name!r}")
        if len(set(names)) != d:
            raise ParamError("variables", f"names must be distinct, got {names}")
        objective = sp.nsimplify(P.expression(params["objective"], "objective", names), rational=True)
        r["objective"] = objective
        r["symbols"] = [next((s for s in objective.free_symbols if s.name == n), sp.Symbol(n, real=True))
                        for n in names]
        r["steps"] = P.integer(P.get(params, "steps", 1), "steps", low=1, high=MAX_STEPS)
    else:
        raise ParamError("gradients", "missing: give gradients (one vector per step) or an objective with its "
                                      "variables")
    h: dict[str, Any] = {"lr": _rational(params, "lr", None, nonnegative=True)}
    if optimizer in ("momentum", "nesterov"):
        h["momentum"] = _rational(params, "momentum", None, positive=True)
        h["dampening"] = _rational(params, "dampening", 0, low=0, high=1)
        if optimizer == "nesterov" and h["dampening"] != 0:
            raise ParamError("dampening", "nesterov momentum needs zero dampening (as torch.optim.SGD requires)")
    h["weight_decay"] = _rational(params, "weight_decay", 0, nonnegative=True)
    if optimizer in ("adagrad", "rmsprop", "adam"):
        h["eps"] = float(_rational(params, "eps", Fraction(1, 10**10) if optimizer == "adagrad" else
                                   Fraction(1, 10**8), nonnegative=True))
    if optimizer == "adagrad":
        h["initial_accumulator_value"] = float(_rational(params, "initial_accumulator_value", 0, nonnegative=True))
    if optimizer == "rmsprop":
        h["alpha"] = float(_rational(params, "alpha", Fraction(99, 100), low=0, high=1))
        h["momentum"] = float(_rational(params, "momentum", 0, nonnegative=True))
        h["centered"] = P.boolean(P.get(params, "centered", False), "centered")
    if optimizer == "adam":
        raw = P.get(params, "betas", [0.9, 0.999])
        betas = P.vector(raw, "betas", 2)
        for i, beta in enumerate(betas):
            if not 0 <= beta < 1:
                raise ParamError(f"betas[{i}]", f"expected 0 <= beta < 1, got {beta:g}")
        h["betas"] = [float(b) for b in betas]
    r["h"] = h
    return r


def _rational(params: dict[str, Any], name: str, default: Any, **bounds: Any) -> Fraction:
    value = P.get(params, name, default)
    return pw.exact([P.rational(value, name, **bounds)])[0]


class _Inexact(Exception):
    """A value left the rationals (or grew too long): redo the run in floats."""


def _gradient_at(r: dict[str, Any], t: int, p: list[Any], exact: bool) -> list[Any]:
    if r["objective"] is None:
        g = r["gradients"][t]
        return list(g) if exact else pw.floats(g)
    if exact:
        values = [v.subs(dict(zip(r["symbols"], [sp.Rational(x.numerator, x.denominator) for x in p], strict=True)))
                  for v in r["grad_expr"]]
        if not all(isinstance(v, sp.Rational) for v in values):
            raise _Inexact
        return [Fraction(int(v.p), int(v.q)) for v in values]
    with np.errstate(all="ignore"):
        try:
            g = [complex(v) for v in r["grad_float"](*p)]
        except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
            raise ParamError("objective", f"its gradient cannot be evaluated at step {t + 1} (p = "
                                          f"{[f'{v:.4g}' for v in p]})") from exc
    if not all(math.isfinite(v.real) and abs(v.imag) < 1e-12 for v in g):
        raise ParamError("objective", f"its gradient is not a finite real number at step {t + 1} (p = "
                                      f"{[f'{v:.4g}' for v in p]})")
    return [v.real for v in g]


def _run(r: dict[str, Any], exact: bool) -> dict[str, Any]:
    """The optimizer's steps; each record holds the gradient, the decayed gradient, the buffers and p after."""
    h, opt = r["h"], r["optimizer"]
    conv = (lambda a: a) if exact else pw.floats
    lr, wd = conv(h["lr"]), conv(h["weight_decay"])
    p = conv(r["start"])
    d = len(p)
    state: dict[str, list[Any]] = {}
    if opt == "adagrad":
        state["sum"] = [h["initial_accumulator_value"]] * d
    records = []
    for t in range(1, r["steps"] + 1):
        grad = _gradient_at(r, t - 1, p, exact)
        g = [gi + wd * pi for gi, pi in zip(grad, p, strict=True)] if wd else list(grad)
        if opt == "sgd":
            direction = g
        elif opt in ("momentum", "nesterov"):
            mu, damp = conv(h["momentum"]), conv(h["dampening"])
            buf = g if t == 1 else [mu * b + (1 - damp) * gi for b, gi in zip(state["momentum_buffer"], g, strict=True)]
            state["momentum_buffer"] = list(buf)
            direction = [gi + mu * b for gi, b in zip(g, buf, strict=True)] if opt == "nesterov" else buf
        elif opt == "adagrad":
            state["sum"] = [s + gi * gi for s, gi in zip(state["sum"], g, strict=True)]
            direction = [_ratio(gi, math.sqrt(s) + h["eps"], t) for gi, s in zip(g, state["sum"], strict=True)]
        elif opt == "rmsprop":
            a = h["alpha"]
            sq = state.get("square_avg", [0.0] * d)
            state["square_avg"] = [a * s + (1 - a) * gi * gi for s, gi in zip(sq, g, strict=True)]
            if h["centered"]:
                ga = [a * m + (1 - a) * gi for m, gi in zip(state.get("grad_avg", [0.0] * d), g, strict=True)]
                state["grad_avg"] = ga
                denom = [math.sqrt(max(s - m * m, 0.0)) + h["eps"] for s, m in zip(state["square_avg"], ga,
                                                                                    strict=True)]
            else:
                denom = [math.sqrt(s) + h["eps"] for s in state["square_avg"]]
            scaled = [_ratio(gi, di, t) for gi, di in zip(g, denom, strict=True)]
            if h["momentum"] > 0:
                buf = state.get("momentum_buffer", [0.0] * d)
                state["momentum_buffer"] = [h["momentum"] * b + s for b, s in zip(buf, scaled, strict=True)]
                direction = state["momentum_buffer"]
            else:
                direction = scaled
        else:  # adam
            b1, b2 = h["betas"]
            m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(state.get("exp_avg", [0.0] * d), g, strict=True)]
            v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(state.get("exp_avg_sq", [0.0] * d), g, strict=True)]
            state["exp_avg"], state["exp_avg_sq"] = m, v
            c1, c2 = 1 - b1**t, 1 - b2**t
            direction = [_ratio(mi / c1, math.sqrt(vi / c2) + h["eps"], t) for mi, vi in zip(m, v, strict=True)]
        p = [pi - lr * di for pi, di in zip(p, direction, strict=True)]
        if exact and pw.too_long(p + [x for buf in state.values() for x in buf]):
            raise _Inexact
        size = max(abs(float(x)) for x in p)
        if not math.isfinite(size) or size > DIVERGED:
            raise ParamError("lr", f"the iterates diverge at step {t} (|p| > {DIVERGED:.0e}): use a smaller lr or "
                                   "fewer steps")
        records.append({"grad": list(grad), "g": list(g), "direction": list(direction), "p": list(p),
                        "state": {k: list(v) for k, v in state.items()}})
    return {"records": records, "exact": exact}


def _ratio(num: float, den: float, t: int) -> float:
    if den == 0:
        raise ParamError("eps", f"with eps = 0 a zero gradient makes the step 0/0 at step {t}: use eps > 0")
    return num / den


def _with_objective(r: dict[str, Any]) -> None:
    if r["objective"] is not None:
        grad = [sp.diff(r["objective"], s) for s in r["symbols"]]
        r["grad_expr"] = grad
        r["grad_float"] = sp.lambdify(r["symbols"], grad, modules=[np])


@register("optimizer_step", "Steps of torch.optim's SGD, momentum, Nesterov, Adagrad, RMSprop and Adam: buffers "
          "and iterates",
          examples={"cheat_sheet_momentum_hw5": MOMENTUM_HW5, "cheat_sheet_adam_hw5": ADAM_HW5,
                    "nesterov_given_gradients": {"params": [1, -2], "gradients": [[2, -4], [1, -1], [0.5, 0]],
                                                 "optimizer": "nesterov", "lr": 0.1, "momentum": 0.5},
                    "adagrad_weight_decay": {"params": [1, 0.5], "gradients": [[0.5, -1], [0.25, 0.5]],
                                             "optimizer": "adagrad", "lr": 0.5, "weight_decay": 0.1},
                    "rmsprop_centered_momentum": {"params": [0.5], "objective": "w^4 - w", "variables": ["w"],
                                                  "steps": 4, "optimizer": "rmsprop", "lr": 0.05, "alpha": 0.9,
                                                  "momentum": 0.5, "centered": True},
                    "sgd_one_step": {"params": [2, -1, 0.5], "gradients": [[1, -2, 4]], "optimizer": "sgd",
                                     "lr": 0.25}})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    _with_objective(r)
    try:
        run = _run(r, exact=r["optimizer"] in ("sgd", "momentum", "nesterov"))
    except _Inexact:
        run = _run(r, exact=False)
    records = run["records"]
    iterates = [r["start"]] + [rec["p"] for rec in records]
    steps = [_rule_step(r)]
    steps.extend(_written_steps(r, records))
    steps.append(_table_step(r, iterates, records))
    if r["objective"] is not None and len(r["symbols"]) == 2:
        steps.append(_figure_step(r, iterates))
    answer: dict[str, Any] = {
        "iterates": [pw.floats(p) for p in iterates],
        "state": [{k: pw.floats(v) for k, v in rec["state"].items()} for rec in records],
        "gradients": [pw.floats(rec["grad"]) for rec in records],
        "final": pw.floats(iterates[-1]),
    }
    exact_values = {"iterates": iterates, "final": iterates[-1]} if run["exact"] else {}
    if run["exact"]:
        answer[exact_field("iterates")] = [exact_str(p) for p in iterates]
        answer[exact_field("final")] = answer[exact_field("iterates")][-1]
    normalized: dict[str, Any] = {"params": r["start"], "optimizer": r["optimizer"]}
    if r["objective"] is None:
        normalized["gradients"] = r["gradients"]
    else:
        normalized.update(objective=str(r["objective"]), variables=[s.name for s in r["symbols"]], steps=r["steps"])
    normalized.update({k: v for k, v in r["h"].items()})
    return Solution("optimizer_step", normalized, steps, answer, [], exact_values)


RULES = {
    "sgd": "$p <- p - lr g$.",
    "momentum": "$b <- g$ at the first step (undamped), then $b <- mu b + (1 - tau) g$; $p <- p - lr b$.",
    "nesterov": "$b <- g$ at the first step, then $b <- mu b + g$; $p <- p - lr (g + mu b)$: the step looks "
                "ahead along the momentum.",
    "adagrad": "$s <- s + g^2$ (elementwise, from $s_0$); $p <- p - lr g / (sqrt(s) + epsilon)$.",
    "rmsprop": "$a <- alpha a + (1 - alpha) g^2$; $p <- p - lr g / (sqrt(a) + epsilon)$.",
    "adam": "$m <- beta_1 m + (1 - beta_1) g$, $v <- beta_2 v + (1 - beta_2) g^2$ (both from 0); with the bias "
            "corrections $m_hat = m / (1 - beta_1^t)$, $v_hat = v / (1 - beta_2^t)$: "
            "$p <- p - lr m_hat / (sqrt(v_hat) + epsilon)$.",
}
BUFFERS = {"sgd": [], "momentum": ["momentum_buffer"], "nesterov": ["momentum_buffer"], "adagrad": ["sum"],
           "rmsprop": ["square_avg"], "adam": ["exp_avg", "exp_avg_sq"]}  # torch's state names in the rules


def _rule_step(r: dict[str, Any]) -> Step:
    opt, h = r["optimizer"], r["h"]
    text = f"`torch.optim.{TORCH_NAMES[opt]}`, elementwise: " + RULES[opt]
    buffers = list(BUFFERS[opt])
    if opt == "rmsprop" and h["centered"]:
        text += (" Centered: $m <- alpha m + (1 - alpha) g$, and the denominator is "
                 "$sqrt(a - m^2) + epsilon$.")
        buffers.append("grad_avg")
    if opt == "rmsprop" and h["momentum"] > 0:
        text += " With momentum: $b <- mu b + g / D$ with that denominator $D$; $p <- p - lr b$."
        buffers.append("momentum_buffer")
    if h["weight_decay"]:
        text += " Weight decay first adds $wd p$ to the gradient (L2 regularization): $g <- g + wd p$."
    if opt in ("adagrad", "rmsprop", "adam"):
        text += " $epsilon$ is added outside the square root, as PyTorch does (the cheat sheet writes it inside)."
    source = ("The gradient of each step is given." if r["objective"] is None else
              "Each step uses the gradient of the objective at the current $p$.")
    text += (" Below, " + ", ".join(f"${BUFFER_SYMBOLS[name]}_t$ is `{name}`" for name in buffers)
             + " after step $t$, and " if buffers else " Below, ") + \
        "$d_t$ is what lr multiplies: $p_t = p_(t-1) - lr d_t$."
    inputs = {"p_0": r["start"]}
    for k, v in h.items():
        if k == "betas":
            inputs.update(beta_1=v[0], beta_2=v[1])
        elif not isinstance(v, bool):
            inputs[HYPER_SYMBOLS[k]] = v
    step = Step("The optimizer", text=text + " " + source, inputs=inputs)
    if r["objective"] is not None:
        step.math = [[Sym("f"), r["objective"]], *[[sp.Derivative(sp.Symbol("f"), s, evaluate=False), g]
                                                   for s, g in zip(r["symbols"], r["grad_expr"], strict=True)]]
    return step


BUFFER_SYMBOLS = {"momentum_buffer": "b", "sum": "s", "square_avg": "a", "grad_avg": "m", "exp_avg": "m",
                  "exp_avg_sq": "v"}
HYPER_SYMBOLS = {"lr": "lr", "momentum": "mu", "dampening": "tau", "weight_decay": "wd", "eps": "epsilon",
                 "alpha": "alpha", "initial_accumulator_value": "s_0"}


def _written_steps(r: dict[str, Any], records: list[dict[str, Any]]) -> list[Step]:
    steps = []
    for t, rec in enumerate(records[:WRITTEN_OUT], start=1):
        step = Step(f"Step {t}")
        if r["objective"] is not None:
            step.math.append([Sym(f"g_{t}"), Sym(f"grad_f(p_{t - 1})"), rec["grad"]])
        else:
            step.math.append([Sym(f"g_{t}"), rec["grad"]])
        if r["h"]["weight_decay"]:
            step.math.append([Sym(f"g_{t}"), f"g_{t} + wd·p_{t - 1}", rec["g"]])
        for name, value in rec["state"].items():
            step.math.append([Sym(f"{BUFFER_SYMBOLS[name]}_{t}"), value])
        step.math.append([Sym(f"d_{t}"), rec["direction"]])
        step.math.append([Sym(f"p_{t}"), f"p_{t - 1} - lr·d_{t}", rec["p"]])
        steps.append(step)
    if len(records) > WRITTEN_OUT:
        steps[-1].text = f"The other {len(records) - WRITTEN_OUT} step(s) go the same way (table below)."
    return steps


def _table_step(r: dict[str, Any], iterates: list[list[Any]], records: list[dict[str, Any]]) -> Step:
    rows_idx = list(range(len(iterates)))
    if len(rows_idx) > TABLE_HEAD + TABLE_TAIL + 1:
        rows_idx = rows_idx[:TABLE_HEAD] + [-1] + rows_idx[-TABLE_TAIL:]
    columns = ["$t$", "$g_t$", "$p_t$"] + (["$f(p_t)$"] if r["objective"] is not None else [])
    rows = []
    f = sp.lambdify(r["symbols"], r["objective"], modules="math") if r["objective"] is not None else None
    for t in rows_idx:
        if t == -1:
            rows.append(["..."] * len(columns))
            continue
        row = [t, "-" if t == 0 else records[t - 1]["grad"], iterates[t]]
        if f is not None:
            try:
                row.append(float(f(*pw.floats(iterates[t]))))
            except (OverflowError, ValueError, ZeroDivisionError):
                row.append("-")
        rows.append(row)
    return Step("All iterates", table=Table(columns, rows), result={"p_final": iterates[-1]})


def _figure_step(r: dict[str, Any], iterates: list[list[Any]]) -> Step:
    path = np.array([pw.floats(p) for p in iterates])
    lo, hi = path.min(0), path.max(0)
    span = np.maximum(hi - lo, 1.0)
    xs = np.linspace(lo[0] - 0.3 * span[0], hi[0] + 0.3 * span[0], 81)
    ys = np.linspace(lo[1] - 0.3 * span[1], hi[1] + 0.3 * span[1], 81)
    f = sp.lambdify(r["symbols"], r["objective"], modules=[np])
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        Z = np.broadcast_to(np.asarray(f(X, Y), dtype=float), X.shape)
    names = [s.name for s in r["symbols"]]
    data = {"x": xs.tolist(), "y": ys.tolist(), "z": np.where(np.isfinite(Z), Z, np.nan).tolist(),
            "path": path.tolist(), "xlabel": names[0], "ylabel": names[1],
            "title": f"{r['optimizer']} on the contours of f"}
    return Step("Picture: the path on the contours of the objective",
                figure=Figure("optimizer_path", data, f"The iterates of {r['optimizer']} (dots, from the square) "
                                                      "on the contour lines of $f$."))
