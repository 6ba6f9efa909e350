"""Gradient descent on an objective R given as an expression: w^(t+1) = w^(t) - eta grad R(w^(t)).

The gradient is derived by sympy. Points keep the shape of `start`: a list (even of one entry, `[2]`) gives
lists, a bare number (one variable) gives numbers. Iterates are exact fractions while the objective, the start and the
learning rate are rational and the fractions stay short (`EXACT_DIGITS`); floats otherwise.
For a quadratic R(w) = 1/2 w^T H w + c^T w + const the gradient is linear, grad R(w) = H w + c, and
w^(t+1) - w* = (I - eta H)(w^(t) - w*): descent converges from every start iff every eigenvalue lambda of H
satisfies 0 < eta lambda < 2 (or lambda = 0 with c in the range of H), i.e. eta < 2 / lambda_max.
An iterate that overflows (|w| > `DIVERGED`) stops the run: the rest are null and a warning says so.
The figure (quadratics) plots the distance to w* for the learning rates `compare_rates` (HW5 Q1 asks for
0.02, 0.05 and 0.1), by default for the given rate and rates around the critical one.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import sympy as sp

from . import params as P
from .core import Figure, Solution, SolverWarning, Step, Sym, Table
from .registry import register

# warning codes (SolverWarning.code)
RUN_STOPPED = "run_stopped"
ABOVE_CRITICAL_RATE = "above_critical_rate"
NO_UNIQUE_STATIONARY_POINT = "no_unique_stationary_point"

EXACT_DIGITS = 80  # exact fractions longer than this (numerator or denominator) switch to floats
DIVERGED_EXPONENT = 100
DIVERGED = 10.0**DIVERGED_EXPONENT
MAX_ITERATIONS = 10_000
WRITTEN_OUT = 3  # iterations written out one by one; the rest go to a table
TABLE_HEAD, TABLE_TAIL = 10, 5
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RESERVED = {"exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "Abs", "abs", "pi", "E", "atan", "asin",
             "acos", "sinh", "cosh", "erf", "oo", "inf", "Rational", "Piecewise", "Min", "Max", "I", "S", "N"}

HW5_Q1 = {"objective": "13*w1^2 - 10*w1*w2 + 4*w1 + 2*w2^2 - 2*w2 + 1", "variables": ["w1", "w2"],
          "start": [0, 0], "learning_rate": 0.02, "iterations": 500}


def _read(params: dict[str, Any]) -> tuple[sp.Expr, list[sp.Symbol], list[sp.Rational], sp.Rational, int, bool]:
    """The objective, its variables, the start, the learning rate, the iteration count, and whether the start
    is a bare number (then points are reported as numbers; a list start gives lists, one entry per variable)."""
    P.no_unknown(params, ["objective", "variables", "start", "learning_rate", "iterations", "compare_rates"])
    raw = P.get(params, "variables")
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names:
        raise P.ParamError("variables", f"expected a list of variable names such as [\"w1\", \"w2\"], got {raw!r}")
    if len(names) > 20:
        raise P.ParamError("variables", f"at most 20 variables, got {len(names)}")
    for i, name in enumerate(names):
        if not isinstance(name, str) or not _NAME.match(name) or name in _RESERVED:
            raise P.ParamError(f"variables[{i}]", f"expected a name such as w1 (letters, digits, _), got {name!r}")
    if len(set(names)) != len(names):
        raise P.ParamError("variables", f"names must be distinct, got {names}")
    objective = P.expression(P.get(params, "objective"), "objective", names)
    objective = _rational(objective)  # 0.5 means 1/2, as for every other input
    symbols = sorted(objective.free_symbols, key=lambda s: names.index(str(s)))
    by_name = {str(s): s for s in symbols}
    symbols = [by_name.get(n, sp.Symbol(n, real=True)) for n in names]
    start_raw = P.get(params, "start")
    bare = len(names) == 1 and not isinstance(start_raw, (list, tuple))
    if bare:
        start_raw = [start_raw]
    start = P.vector(start_raw, "start", len(names), exact=True)
    eta = P.rational(P.get(params, "learning_rate"), "learning_rate", positive=True)
    iterations = P.integer(P.get(params, "iterations"), "iterations", low=0, high=MAX_ITERATIONS)
    return objective, symbols, start, eta, iterations, bare


def _rational(expr: sp.Expr) -> sp.Expr:
    """`sp.nsimplify(expr, rational=True)`: every float as the rational of its decimal digits. A float of at
    most 10 significant digits is that decimal exactly (nsimplify finds no other number that close to it), so
    those are replaced directly; nsimplify, which costs ~10 ms a float, handles any other."""
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    exact = {}
    for f in floats:
        digits = repr(float(f))
        mantissa = digits.lower().split("e")[0].replace("-", "").replace(".", "").lstrip("0")
        if not f.is_finite or len(mantissa) > 10:
            return sp.nsimplify(expr, rational=True)
        exact[f] = sp.Rational(digits)
    return expr.xreplace(exact)


def _compare_rates(params: dict[str, Any]) -> list[float] | None:
    """The learning rates the figure compares, or None for the default choice around the critical rate."""
    raw = params.get("compare_rates")
    if raw is None:
        return None
    if not isinstance(raw, list) or not 1 <= len(raw) <= 8:
        raise P.ParamError("compare_rates", f"expected a list of 1 to 8 learning rates, got {raw!r}")
    return sorted({float(P.rational(r, f"compare_rates[{i}]", positive=True)) for i, r in enumerate(raw)})


def _short(r: sp.Rational) -> bool:
    return len(str(abs(r.p))) <= EXACT_DIGITS and len(str(r.q)) <= EXACT_DIGITS


def _exact_run(gradient: list[sp.Expr], symbols: list[sp.Symbol], start: list[sp.Rational], eta: sp.Rational,
               iterations: int):
    """Exact iterates and gradients while they stay rational and short; stops at the first that does not.
    The gradient is evaluated by substituting the rationals into the exact expression (a pole gives zoo,
    which is not rational, so the run stops there)."""
    w, points, grads = list(start), [list(start)], []
    for _ in range(iterations):
        try:
            at = dict(zip(symbols, w, strict=True))
            g = [sp.nsimplify(v) if isinstance(v, sp.Float) else v for v in (gi.xreplace(at) for gi in gradient)]
        except (ZeroDivisionError, TypeError, ValueError):
            break
        if not all(isinstance(v, sp.Rational) for v in g):
            break
        w = [wi - eta * gi for wi, gi in zip(w, g, strict=True)]
        if not all(_short(v) for v in w):
            break
        grads.append(g)
        points.append(list(w))
    return points, grads


def _float_run(grad_float, start: np.ndarray, eta: float, iterations: int):
    """Float iterates; stops (returning why) at an overflow or a gradient that is not a finite number."""
    w, points, grads = np.array(start, dtype=float), [np.array(start, dtype=float)], []
    for t in range(iterations):
        with np.errstate(all="ignore"):
            try:
                g = np.asarray(grad_float(*w), dtype=float).reshape(-1)
            except (ZeroDivisionError, OverflowError, ValueError, TypeError):
                return points, grads, f"the gradient cannot be evaluated at $w^({t})$"
            if not np.all(np.isfinite(g)):
                return points, grads, f"the gradient at $w^({t})$ is not a finite number"
            w = w - eta * g
        if not np.all(np.isfinite(w)) or np.max(np.abs(w)) > DIVERGED:
            return points, grads, f"the iterates diverge: $|w^({t + 1})| > 10^{DIVERGED_EXPONENT}$"
        grads.append(g)
        points.append(w.copy())
    return points, grads, None


def _quadratic(objective: sp.Expr, symbols: list[sp.Symbol]) -> dict[str, Any] | None:
    """Hessian, eigenvalues, stationary points and the critical rate of a quadratic objective."""
    if not objective.is_polynomial(*symbols):
        return None
    poly = sp.Poly(objective, *symbols)
    if poly.total_degree() != 2 or not all(c.is_Rational for c in poly.coeffs()):
        return None
    n = len(symbols)
    H = sp.ImmutableMatrix(sp.hessian(objective, symbols))
    c = sp.ImmutableMatrix([sp.diff(objective, s).subs({v: 0 for v in symbols}) for s in symbols])
    eigen = _eigenvalues(H)
    numeric = [float(v) for v in eigen]
    solution = sp.linsolve((H, -c), *symbols)
    points = [list(p) for p in solution]
    unique = H.rank() == n
    top = eigen[-1]
    critical = sp.radsimp(2 / top) if numeric[-1] > 0 else None
    return {"H": H, "c": c, "eigen": eigen, "numeric": numeric, "points": points, "unique": unique,
            "critical": critical, "psd": numeric[0] >= -1e-12 and all(_sign(v, "is_nonnegative")
                                                                      for v in eigen)}


def _eigenvalues(H: sp.ImmutableMatrix) -> list[sp.Expr]:
    """Eigenvalues in ascending order: exact where the characteristic polynomial factors into pieces of
    degree at most 2 over the rationals, floats otherwise."""
    lam = sp.Symbol("lambda")
    _, factors = sp.factor_list(H.charpoly(lam).as_expr(), lam)
    if all(sp.degree(f, lam) <= 2 for f, _ in factors):
        values = []
        for f, mult in factors:
            for root in sp.roots(sp.Poly(f, lam), multiple=True):
                values.extend([sp.radsimp(root)] * mult)
        if all(v.is_real for v in values):
            return sorted(values, key=float)
    return [sp.Float(v) for v in sorted(np.linalg.eigvalsh(np.asarray(H.tolist(), dtype=float)))]


def _converges(q: dict[str, Any], eta: sp.Rational) -> bool:
    """From every start: every eigenvalue in (0, 2/eta), or 0 where the stationary points exist."""
    if not q["points"] or not q["psd"] or q["critical"] is None:
        return False
    return bool(_sign(eta * q["eigen"][-1] - 2, "is_negative"))


def _sign(value: sp.Expr, question: str) -> bool | None:
    """`value.is_negative` (or another sign question) of an exact number, simplifying it only when sympy's
    assumptions cannot decide it as it stands (simplify is the slow part of a solve)."""
    answer = getattr(value, question)
    return answer if answer is not None else getattr(sp.simplify(value), question)


def _show(point: list[Any], scalar: bool) -> Any:
    """A point in the shape of the start: a number for a bare-number start, else a list (one entry per variable)."""
    return point[0] if scalar else point


@register("gradient_descent", "Gradient descent on an expression; for quadratics the Hessian, stationary point, "
          "critical learning rate and distance to the optimum",
          examples={"hw5_q1": HW5_Q1,
                    "hw5_q1_eta_0.1": {**HW5_Q1, "learning_rate": 0.1, "iterations": 60},
                    "quartic": {"objective": "w^4", "variables": ["w"], "start": 1, "learning_rate": "1/8",
                                "iterations": 3}})
def solve(params: dict[str, Any]) -> Solution:
    objective, symbols, start, eta, iterations, scalar = _read(params)
    compare = _compare_rates(params)
    warnings: list[str] = []
    polynomial = objective.is_polynomial(*symbols)  # its derivatives are polynomials: expand is their simplest form
    gradient = [sp.expand(sp.diff(objective, s)) if polynomial else sp.simplify(sp.diff(objective, s))
                for s in symbols]
    R = sp.Lambda(tuple(symbols), objective)
    steps = [Step("Compute the gradient",
                  text="Differentiate $R$ with respect to each variable.",
                  math=[[Sym("R"), objective],
                        *[[sp.Derivative(sp.Symbol("R"), s, evaluate=False), g] for s, g in zip(
                            symbols, gradient, strict=True)]])]

    exact_points, exact_grads = _exact_run(gradient, symbols, start, eta, iterations)
    all_exact = len(exact_points) == iterations + 1
    if all_exact:
        points = [[float(v) for v in p] for p in exact_points]
        grads = [[float(v) for v in g] for g in exact_grads]
        stop = None
    else:
        grad_float = sp.lambdify(symbols, gradient, modules=[np])
        fpoints, fgrads, stop = _float_run(grad_float, np.array([float(v) for v in start]), float(eta), iterations)
        points = [p.tolist() for p in fpoints]
        grads = [g.tolist() for g in fgrads]
    if stop:
        warnings.append(SolverWarning(RUN_STOPPED, f"{stop}; gradient descent stopped after {len(points) - 1} of "
                                      f"{iterations} iterations and the remaining iterates (and the final point) "
                                      "are reported as null"))

    q = _quadratic(objective, symbols)
    answer: dict[str, Any] = {"gradient": [str(g) for g in gradient]}
    optimum = None
    if q is not None:
        steps.extend(_quadratic_steps(q, symbols, eta, warnings))
        if q["unique"]:
            optimum = np.array([float(v) for v in q["points"][0]])

    steps.append(_iterate_steps(exact_points if exact_points and len(exact_points) > 1 else None, points, grads,
                                eta, scalar))
    steps.append(_table_step(points, R, optimum, iterations, scalar))

    padded = points + [None] * (iterations + 1 - len(points))
    answer["iterates"] = [None if p is None else _show(p, scalar) for p in padded]
    answer["final"] = None if padded[-1] is None else _show(padded[-1], scalar)
    exact: dict[str, Any] = {}
    if all_exact:
        exact["iterates"] = [_show(list(p), scalar) for p in exact_points]
        exact["final"] = exact["iterates"][-1]
        answer["iterates_exact"] = [_show([str(v) for v in p], scalar) for p in exact_points]
        answer["final_exact"] = answer["iterates_exact"][-1]
    if q is not None:
        answer["stationary_points"] = [_show([_num(v) for v in p], scalar) for p in q["points"]]
        answer["hessian_eigenvalues"] = [float(v) for v in q["eigen"]]
        answer["critical_learning_rate"] = None if q["critical"] is None else float(q["critical"])
        answer["converges"] = _converges(q, eta)
        answer["distance_to_optimum"] = (
            [None if p is None else float(np.linalg.norm(np.array(p) - optimum)) for p in padded]
            if optimum is not None else None)
        if all(v.is_Rational or not v.is_Float for v in q["eigen"]):
            exact["hessian_eigenvalues"] = list(q["eigen"])
            answer["hessian_eigenvalues_exact"] = [str(v) for v in q["eigen"]]
            if q["critical"] is not None:
                exact["critical_learning_rate"] = q["critical"]
                answer["critical_learning_rate_exact"] = str(q["critical"])
        if q["points"] and all(all(v.is_Rational for v in p) for p in q["points"]):
            exact["stationary_points"] = [_show(list(p), scalar) for p in q["points"]]
            answer["stationary_points_exact"] = [_show([str(v) for v in p], scalar) for p in q["points"]]
        if optimum is None:
            warnings.append(SolverWarning(NO_UNIQUE_STATIONARY_POINT, "the quadratic has no unique stationary "
                                                                      "point, so distance_to_optimum is null"))
    steps.append(_figure_step(q, symbols, gradient, np.array([float(v) for v in start]), float(eta), iterations,
                              optimum, points, grads, compare))

    normalized = {"objective": str(objective), "variables": [str(s) for s in symbols],
                  "start": _show([str(v) if not v.is_Integer else int(v) for v in start], scalar),
                  "learning_rate": str(eta) if not eta.is_Integer else int(eta), "iterations": iterations}
    if compare is not None:
        normalized["compare_rates"] = compare
    return Solution("gradient_descent", normalized, steps, answer, warnings, exact)


def _num(v: sp.Expr) -> Any:
    return float(v) if v.is_number else str(v)


def _quadratic_steps(q: dict[str, Any], symbols: list[sp.Symbol], eta: sp.Rational, warnings: list[str]):
    H, eigen = q["H"], q["eigen"]
    hess = Step("Hessian and its eigenvalues",
                text="$R$ is quadratic, so its Hessian $H$ is constant and the gradient is linear: "
                     "$grad R(w) = H w + c$. The error then evolves as $w^(t+1) - w^* = (I - eta H) (w^(t) - w^*)$: "
                     "along the eigenvector of "
                     "eigenvalue $lambda$ it is multiplied by $(1 - eta lambda)$ at every step.",
                math=[[Sym("H"), H], [Sym("c"), q["c"]]],
                result={f"lambda_{i + 1}": v for i, v in enumerate(eigen)})
    critical = q["critical"]
    if critical is None:
        hess.children.append(Step("No learning rate converges",
                                  text="The largest eigenvalue is not positive, so $R$ is not bounded below "
                                       "in some direction and gradient descent cannot converge."))
    else:
        conv = _converges(q, eta)
        below = bool(_sign(eta * eigen[-1] - 2, "is_negative"))
        if conv:
            decision = "$eta < eta_crit$: every factor $|1 - eta lambda|$ is below 1, so gradient descent converges."
        elif not below:
            decision = ("$eta >= eta_crit$: the factor $|1 - eta lambda_max|$ along the top eigenvector is at "
                        "least 1, so the error grows (or oscillates) and gradient descent does not converge.")
        else:
            decision = "Some eigenvalue is not positive, so gradient descent does not converge from every start."
        hess.children.append(Step(
            "Critical learning rate",
            text="Convergence from every start needs $rho_i = |1 - eta lambda_i| < 1$ for every eigenvalue, i.e. "
                 "$0 < eta < 2/lambda_max$; the error then shrinks by the largest $rho_i$ per step. " + decision,
            math=[[Sym("eta_crit"), sp.Mul(2, sp.Pow(sp.Symbol("lambda_max"), -1)), critical, float(critical)],
                  *[[Sym(f"rho_{i + 1}"), sp.Abs(1 - eta * lam), float(abs(1 - eta * lam))]
                    for i, lam in enumerate(eigen)]],
            values={"eta": eta}))
        if not conv:
            warnings.append(SolverWarning(ABOVE_CRITICAL_RATE, f"learning rate {float(eta):g} is at or above the "
                                          f"critical rate $2/lambda_max = {float(critical):.6g}$ (or $R$ has no "
                                          "minimum): gradient descent does not converge"))
    steps = [hess]
    points = q["points"]
    stat = Step("Stationary point", text="Set the gradient to zero: $H w + c = 0$.")
    if q["unique"]:
        w_star = points[0]
        kind = ("$H$ is positive definite, so it is the unique minimum." if float(eigen[0]) > 0 else
                "$H$ is not positive definite, so it is a saddle point or a maximum, not a minimum.")
        stat.text += " $H$ is invertible, so there is exactly one solution. " + kind
        stat.math = [[Sym("w^*"), sp.ImmutableMatrix(w_star) if len(w_star) > 1 else w_star[0]]]
    elif points:
        stat.text += " $H$ is singular: the stationary points form a line or plane (free variables remain)."
        stat.math = [[Sym("w^*"), sp.ImmutableMatrix(points[0])]]
    else:
        stat.text += " $H$ is singular and $c$ is not in its range: there is no stationary point."
    steps.append(stat)
    return steps


def _iterate_steps(exact_points, points, grads, eta, scalar: bool) -> Step:
    shown = exact_points if exact_points is not None else points
    count = min(WRITTEN_OUT, len(shown) - 1, len(grads))
    step = Step("The first iterations",
                text="Each iteration moves against the gradient: $w^(t+1) = w^(t) - eta g^(t)$, "
                     "with $g^(t) = grad R(w^(t))$.",
                inputs={"eta": eta, "w^(0)": _show(shown[0], scalar)})
    for t in range(count):
        g = grads[t] if exact_points is None else _exact_grad(exact_points, t, eta)
        step.children.append(Step(
            f"Iteration {t + 1}",
            values={f"g^({t})": _show(g, scalar)},
            math=[[Sym(f"w^({t + 1})"), _update_expr(shown[t], g, eta, scalar), _show(shown[t + 1], scalar)]]))
    if count == 0:
        step.text += " There are no iterations to perform."
    return step


def _exact_grad(points, t, eta):
    return [(a - b) / eta for a, b in zip(points[t], points[t + 1], strict=True)]


def _update_expr(w, g, eta, scalar: bool) -> Any:
    """w - eta g, written out (unevaluated) for a scalar, as the vector of component updates otherwise."""
    U = sp.UnevaluatedExpr

    def one(wi, gi):
        return sp.Add(U(_readable(wi)), -U(_readable(eta)) * U(_readable(gi)), evaluate=False)

    if scalar:
        return one(w[0], g[0])
    return [one(wi, gi) for wi, gi in zip(w, g, strict=True)]


def _readable(v: Any) -> sp.Expr:
    """A number inside a written-out update: decimals (1/50 -> 0.02) print as decimals, 1/8 stays a fraction."""
    if isinstance(v, float):
        return sp.Float(v, 6)
    r = sp.Rational(v)
    q = int(r.q)
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    return sp.Float(float(r), 6) if q == 1 and r.q % 5 == 0 else r


def _table_step(points, R, optimum, iterations, scalar: bool) -> Step:
    rows_idx = list(range(len(points)))
    elided = False
    if len(rows_idx) > TABLE_HEAD + TABLE_TAIL + 1:
        rows_idx = rows_idx[:TABLE_HEAD] + rows_idx[-TABLE_TAIL:]
        elided = True
    columns = ["$t$", "$w^(t)$", "$R(w^(t))$"] + (["distance to $w^*$"] if optimum is not None else [])
    rows = []
    for i in rows_idx:
        if elided and i == len(points) - TABLE_TAIL:
            rows.append(["..."] * len(columns))
        p = points[i]
        with np.errstate(all="ignore"):
            value = float(R(*p))
        row = [i, _show(p, scalar), value]
        if optimum is not None:
            row.append(float(np.linalg.norm(np.array(p) - optimum)))
        rows.append(row)
    text = "Iterates (floats)."
    if elided:
        text += f" Iterations {TABLE_HEAD} to {len(points) - TABLE_TAIL - 1} are left out of the table."
    if len(points) < iterations + 1:
        text += f" The run stopped after iteration {len(points) - 1}."
    return Step("All iterates", text=text, table=Table(columns, rows))


def _figure_step(q, symbols, gradient, start, eta, iterations, optimum, points, grads, compare=None) -> Step:
    if q is not None and optimum is not None and q["critical"] is not None and float(q["eigen"][0]) > 0:
        critical = float(q["critical"])
        if compare is None:
            rates = [eta]
            for f in (0.5, 0.9, 1.1):
                r = float(f"{f * critical:.2g}")
                if all(abs(r - other) > 0.05 * other for other in rates):
                    rates.append(r)
        else:
            rates = list(compare)
        H = np.asarray(q["H"].tolist(), dtype=float)
        c = np.asarray(q["c"].tolist(), dtype=float).reshape(-1)
        series, cut = [], []
        for r in sorted(rates):
            w, ys = start.copy(), [float(np.linalg.norm(start - optimum))]
            limit = 1e4 * max(1.0, ys[0])
            for _ in range(max(iterations, 1)):
                w = w - r * (H @ w + c)
                ys.append(float(np.linalg.norm(w - optimum)))
                if ys[-1] > limit:
                    cut.append(f"$eta = {r:g}$ after iteration {len(ys) - 1}")
                    break
            given = r == eta and compare is None
            series.append({"label": f"$eta = {r:g}$" + (" (given)" if given else "") + (" (diverges)" if r >= critical
                                                                                       else ""),
                           "y": ys, "diverges": r >= critical, "given": given})
        data = {"series": series, "xlabel": "iteration t", "ylabel": "distance $||w^(t) - w^*||$", "log": True,
                "title": f"Distance to the optimum (critical rate $2/lambda_max = {critical:.4g}$)"}
        if compare is None:
            caption = ("Distance to the optimum against the iteration, for the given learning rate and rates around "
                       f"the critical rate {critical:.4g} (log scale; rates above it diverge).")
        else:
            caption = ("Distance to the optimum against the iteration for $eta = "
                       + ", ".join(f"{r:g}" for r in rates) + f"$ (log scale); the critical rate is {critical:.4g}, "
                       "rates above it diverge.")
        if cut:
            caption += (" A diverging curve is cut where the distance passes $10^4$ times its start: "
                        + ", ".join(cut) + ".")
        return Step("Distance to the optimum for several learning rates", figure=Figure("curves", data, caption),
                    text="Below the critical rate the distance falls geometrically, by the factor "
                         "$max |1 - eta lambda|$ per step; above it, it grows.")
    norms = [float(np.linalg.norm(g)) for g in grads]
    data = {"series": [{"label": f"$eta = {eta:g}$", "y": norms, "diverges": False, "given": True}],
            "xlabel": "iteration t", "ylabel": "gradient norm $||nabla R(w^(t))||$", "log": True,
            "title": "Gradient norm along the iterations"}
    return Step("Gradient norm along the iterations",
                figure=Figure("curves", data, "The norm of the gradient at each iterate (log scale)."))
