"""Densities of one real variable on an interval, for the probability kinds (GANs, derived distributions).

A density is an expression p(v) on a support [a, b] (either end may be infinite). `read_density` checks it
is real, finite and >= 0 on the support (sampled everywhere, and by sympy for rational functions) and that
it integrates to 1 (sympy). `transform` is the change of variables x = f(z) for a monotone f:

    p_X(x) = p_Z(f^-1(x)) |d f^-1(x) / dx|   on f([a, b])   (ends swapped when f decreases)

and `invert` solves y = f(v) for v, keeping the root that lies in the support and saying why the others
are rejected. Floats in expressions are taken at their decimal value (0.5 -> 1/2), so everything is exact.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from sympy.calculus.util import continuous_domain
from sympy.integrals.rationaltools import ratint
from sympy.solvers.solvers import check_assumptions

from . import params as P
from .core import Step, Sym, math_text, notation
from .errors import ParamError

X = sp.Symbol("x", real=True)
Z = sp.Symbol("z", real=True)
U = sp.Symbol("u", real=True)
TOL = 1e-9
REACH = 100.0


@dataclass
class Density:
    """A density `expr` in `var` on the support [low, high]."""

    expr: sp.Expr
    var: sp.Symbol
    low: sp.Expr
    high: sp.Expr

    @property
    def support(self) -> tuple[sp.Expr, sp.Expr]:
        return self.low, self.high

    def interval(self) -> sp.Interval:
        return sp.Interval(self.low, self.high)

    def indicator(self) -> Any:
        """The condition `var` in the support, as a sympy boolean (infinite ends left out)."""
        parts = []
        if self.low.is_finite:
            parts.append(self.var >= self.low)
        if self.high.is_finite:
            parts.append(self.var <= self.high)
        return sp.And(*parts) if parts else sp.true


def support_text(low: sp.Expr, high: sp.Expr) -> str:
    left = "(" if low == -sp.oo else "["
    right = ")" if high == sp.oo else "]"
    return f"{left}{_num_text(low)}, {_num_text(high)}{right}"


def support_math(low: sp.Expr, high: sp.Expr) -> str:
    """A support as a math segment of the prose notation, "$[0, 1]$", "$[0, inf)$"."""
    return f"${support_text(low, high).replace('oo', 'inf')}$"


def _num_text(v: sp.Expr) -> str:
    if v == sp.oo:
        return "oo"
    if v == -sp.oo:
        return "-oo"
    return str(v)


def support_json(low: sp.Expr, high: sp.Expr) -> tuple[list[float], list[str]]:
    """A support as JSON floats (inf for an infinite end) and as exact strings ("oo" for an infinite end)."""
    return [_float(low), _float(high)], [_num_text(low), _num_text(high)]


def _float(v: sp.Expr) -> float:
    if v == sp.oo:
        return math.inf
    if v == -sp.oo:
        return -math.inf
    return float(v)


def exact(expr: sp.Expr) -> sp.Expr:
    """Floats become the rationals they spell (0.1 -> 1/10)."""
    return sp.nsimplify(expr, rational=True) if expr.has(sp.Float) else expr


CHECK_FRACTIONS = np.array([0.5, 0.25, 0.75, 0.05, 0.95, 0.01, 0.99])


def tidy_logs(expr: sp.Expr) -> sp.Expr:
    """log(c / u) with a number c -> -log(u / c): log(-1/(z - 1)) reads -log(1 - z)."""

    def flip(e: sp.Expr) -> sp.Expr:
        num, den = sp.fraction(sp.together(e.args[0]))
        return -sp.log(sp.expand(den / num)) if num.is_number and den.has(sp.Symbol) else e

    return expr.replace(lambda e: isinstance(e, sp.log), flip)


def interior_points(low: sp.Expr, high: sp.Expr, n: int = 201, t: np.ndarray | None = None) -> np.ndarray:
    """`n` points strictly inside the support, spread over it (or at the fractions `t` of it). An infinite
    end is sampled up to REACH away from the finite end (or from 0), denser near it: far enough for the
    densities of a course, near enough that exp(x) stays a float."""
    t = (np.arange(n) + 0.5) / n if t is None else t
    lo, hi = _float(low), _float(high)
    if math.isfinite(lo) and math.isfinite(hi):
        return lo + (hi - lo) * t
    if math.isfinite(lo):
        return lo + REACH * t**2
    if math.isfinite(hi):
        return hi - REACH * (1 - t) ** 2
    return REACH * np.sign(2 * t - 1) * (2 * t - 1) ** 2


def evaluate(expr: sp.Expr, var: sp.Symbol, points: np.ndarray) -> np.ndarray:
    """`expr` at `points` as complex numbers (nan where undefined)."""
    # numpy the module, not the name "numpy": lambdify then runs `from numpy import *`, which loads numpy's
    # f2py, testing and eight more submodules (60 ms of a cold `nnexam render`) for the same functions
    fn = sp.lambdify(var, expr, modules=[np, {"erf": np.vectorize(math.erf)}])
    with np.errstate(all="ignore"):
        try:
            values = np.asarray(fn(points.astype(complex)), dtype=complex)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            values = np.asarray([complex(expr.subs(var, float(p)).evalf()) for p in points])
    return np.broadcast_to(values, points.shape).copy()


def _real_finite(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values) & (np.abs(values.imag) <= 1e-9 * np.maximum(1.0, np.abs(values.real)))


def is_rational_function(expr: sp.Expr, var: sp.Symbol) -> bool:
    num, den = sp.fraction(sp.together(expr))
    return num.is_polynomial(var) and den.is_polynomial(var)


@lru_cache(maxsize=256)  # pure, of immutable sympy values: a class's variants share their densities' terms
def integral_f_log_f(f: sp.Expr, var: sp.Symbol, low: sp.Expr, high: sp.Expr) -> sp.Expr | None:
    """The integral of f log f over [low, high], exactly, for a polynomial f with rational coefficients that is
    positive inside the finite rational interval; None where this route does not apply (the caller integrates).

    Factor f = c g_1^m_1 ... g_k^m_k over Q; since f > 0, log f = log|c| + sum m_j log|g_j|. For a linear
    factor with root r, take F = the antiderivative of f with F(r) = 0; then F/(x - r) is a polynomial Q and
    the integral of f log|x - r| is F log|x - r| - (antiderivative of Q), which tends to 0 at r (so an end of the
    interval where f vanishes needs no limit). A factor of higher degree without a root in [low, high] is
    integrated by parts: F log|g| minus the integral of the rational function F g'/g (sympy's `ratint`, whose
    real antiderivative is continuous where g has no root). Sympy's general `integrate` reaches the same value
    through the Risch algorithm, 10-100 times slower (the tests compare the two)."""
    if not (low.is_Rational and high.is_Rational and low < high and f.is_polynomial(var)):
        return None
    poly = sp.Poly(f, var)
    if not (poly.domain.is_ZZ or poly.domain.is_QQ) or poly.is_zero:
        return None
    inside = [r for r in sp.real_roots(poly) if low < r < high]
    if inside or not poly.eval((low + high) / 2) > 0:
        return None  # f vanishes or is negative inside (a double root in the interval needs the general route)
    c, factors = poly.factor_list()
    antiderivative = poly.integrate()
    mass = antiderivative.eval(high) - antiderivative.eval(low)
    total = sp.log(abs(c)) * mass
    for g, m in factors:
        if g.degree() == 1:
            a, root = g.nth(1), -g.nth(0) / g.nth(1)
            F = antiderivative - antiderivative.eval(root)
            q, rest = sp.div(F, sp.Poly(var - root, var))
            if not rest.is_zero:
                return None
            Q = q.integrate()

            ends = [(0 if v == root else F.eval(v) * sp.log(abs(v - root))) - Q.eval(v) for v in (high, low)]
            part = sp.log(abs(a)) * mass + ends[0] - ends[1]
        else:
            if g.count_roots(low, high):
                return None
            part = (antiderivative.eval(high) * sp.log(abs(g.eval(high)))
                    - antiderivative.eval(low) * sp.log(abs(g.eval(low)))
                    - _integral_f_dg_over_g(antiderivative, g, var, low, high))
        total += m * part
    return total


def _integral_f_dg_over_g(F: sp.Poly, g: sp.Poly, var: sp.Symbol, low: sp.Expr, high: sp.Expr) -> sp.Expr:
    """The integral of F g'/g over [low, high], for a polynomial g without roots there. A quadratic without
    real roots (a x^2 + b x + c, D = 4ac - b^2 > 0) in closed form: F g' = P g + r1 x + r0, and
    r1 x + r0 = r1/(2a) g' + (r0 - r1 b/(2a)), whose integral over g is r1/(2a) log|g| plus
    (r0 - r1 b/(2a)) 2/sqrt(D) atan((2a x + b)/sqrt(D)); sympy's `ratint` (ten times slower) otherwise."""
    a, b, c = (g.nth(k) for k in (2, 1, 0))
    D = 4 * a * c - b ** 2
    if g.degree() != 2 or not D > 0:  # (for another degree, a, b, c and D mean nothing)
        anti = ratint((F * g.diff(var)).as_expr() / g.as_expr(), var)
        return anti.subs(var, high) - anti.subs(var, low)
    P, rest = sp.div(F * g.diff(var), g)
    r1, r0 = rest.nth(1), rest.nth(0)
    Pi = P.integrate()

    def anti(v):
        return (Pi.eval(v) + r1 / (2 * a) * sp.log(abs(g.eval(v)))
                + (r0 - r1 * b / (2 * a)) * 2 / sp.sqrt(D) * sp.atan((2 * a * v + b) / sp.sqrt(D)))
    return anti(high) - anti(low)


def negative_part(expr: sp.Expr, var: sp.Symbol, low: sp.Expr, high: sp.Expr) -> sp.Set:
    """Where the rational function `expr` is negative on [low, high], exactly (a union of intervals; isolated
    zeros and poles are not part of it). With rational coefficients: the real roots of numerator and
    denominator cut the interval into pieces of constant sign, each decided by an exact value inside it, which
    is what sympy's `solveset(expr < 0)` does through its general inequality solver, 20 times slower; other
    coefficients go through solveset."""
    num, den = sp.fraction(sp.together(expr))
    try:
        polys = [sp.Poly(num, var), sp.Poly(den, var)]
    except sp.PolynomialError:
        polys = []
    if len(polys) != 2 or not all(q.domain.is_ZZ or q.domain.is_QQ for q in polys):
        return sp.solveset(expr < 0, var, sp.Interval(low, high))
    cuts = sorted({r for q in polys for r in q.real_roots() if low < r < high}, key=lambda r: float(r))
    ends = [low, *cuts, high]
    pieces = []
    for a, b in zip(ends, ends[1:], strict=False):
        if a.is_finite and b.is_finite:
            inside = (a + b) / 2 if (a + b).is_Rational else sp.Rational(float((a + b) / 2))  # exact binary
            if not a < inside < b:  # two roots closer than a float's digits: fall back to the general route
                return sp.solveset(expr < 0, var, sp.Interval(low, high))
        else:
            inside = b - 1 if a.is_infinite and b.is_finite else a + 1 if a.is_finite else sp.Integer(0)
        if (polys[0].eval(inside) / polys[1].eval(inside)) < 0:
            pieces.append(sp.Interval.open(a, b))
    return sp.Union(*pieces) if pieces else sp.S.EmptySet


def read_density(value: Any, support_value: Any, field: str, support_field: str, var: sp.Symbol) -> Density:
    """Parse and check a density: real, finite and >= 0 on the support, integral 1. A pure function of its
    arguments, so it is kept per process (a batch of variants reads each drawn density many times); a refused
    density raises every time."""
    try:
        key = json.dumps([value, support_value], sort_keys=True)
    except (TypeError, ValueError):
        return _read_density(value, support_value, field, support_field, var)
    return dataclasses.replace(_read_density_kept(key, field, support_field, var))


@lru_cache(maxsize=256)
def _read_density_kept(key: str, field: str, support_field: str, var: sp.Symbol) -> Density:
    value, support_value = json.loads(key)
    return _read_density(value, support_value, field, support_field, var)


def _read_density(value: Any, support_value: Any, field: str, support_field: str, var: sp.Symbol) -> Density:
    low, high = P.interval(support_value, support_field)
    expr = exact(P.expression(value, field, [var.name]))
    text = support_text(low, high)
    points = interior_points(low, high)
    values = evaluate(expr, var, points)
    bad = ~_real_finite(values)
    if bad.any():
        at = points[np.argmax(bad)]
        raise ParamError(field, f"{expr} is not a finite real number at {var} = {at:.4g}, inside the support {text}")
    negative = values.real < -1e-12
    if negative.any():
        i = int(np.argmax(negative))
        raise ParamError(field, f"{expr} is negative on the support {text}: it is {values.real[i]:.4g} at "
                                f"{var} = {points[i]:.4g}; a density must be >= 0")
    if is_rational_function(expr, var):
        below = negative_part(expr, var, low, high)
        if below is not sp.S.EmptySet and below.measure != 0:
            raise ParamError(field, f"{expr} is negative on the support {text}, where {var} is in {below}; "
                                    "a density must be >= 0")
    total = sp.integrate(expr, (var, low, high))
    if total.has(sp.Integral):
        raise ParamError(field, f"sympy cannot integrate {expr} over {text}, so it cannot check that it is a density")
    total = sp.simplify(total)
    if not (total.is_number and total.is_finite):
        raise ParamError(field, f"{expr} integrates to {total} on {text}, not 1, so it is not a density")
    if sp.simplify(total - 1) != 0 and abs(float(total) - 1) > TOL:
        approx = "" if total.is_Rational else f" (= {float(total):.6g})"
        raise ParamError(field, f"{expr} integrates to {total}{approx} on {text}, not 1, so it is not a density")
    return Density(expr, var, low, high)


def cdf(density: Density) -> sp.Expr:
    """F(v) = integral of p from the lower end to v, valid on the support."""
    t = sp.Dummy("t", real=True)
    value = sp.integrate(density.expr.subs(density.var, t), (t, density.low, density.var))
    if isinstance(value, sp.Piecewise):
        value = value.args[0][0]
    value = sp.simplify(value)
    return sp.expand(value) if value.is_polynomial(density.var) else value


@dataclass
class Inverse:
    """The root v = g(y) of y = f(v) kept (None if sympy found none in the support) and the rejected ones."""

    expr: sp.Expr | None
    candidates: list[sp.Expr] = field(default_factory=list)
    rejected: list[tuple[sp.Expr, str]] = field(default_factory=list)


def invert(f: sp.Expr, var: sp.Symbol, y: sp.Symbol, low: sp.Expr, high: sp.Expr,
           image_low: sp.Expr, image_high: sp.Expr) -> Inverse:
    """Solve y = f(var) for var, keeping the root that maps the image [image_low, image_high] into the support
    [low, high] (checked at points inside the image)."""
    try:
        # check=False: sympy's own check of each root is symbolic and costs more than the solve; every root
        # is checked below numerically on the image (real, inside the support, solving the equation). What
        # sympy's check also does, dropping roots that contradict the variable's assumptions (x real, root
        # I*z^(1/4)), is kept: those are not candidates, and the document does not list them. simplify=False:
        # each root is simplified below anyway, and solve's own pass doubled that work
        roots = [r for r in sp.solve(sp.Eq(f, y), var, check=False, simplify=False)
                 if check_assumptions(r, **var.assumptions0) is not False]
    except (NotImplementedError, ValueError, TypeError):
        roots = []
    roots = [tidy_logs(sp.simplify(r)) for r in roots if isinstance(r, sp.Expr)]
    checks = interior_points(image_low, image_high, t=CHECK_FRACTIONS)
    lo, hi = _float(low), _float(high)
    result = Inverse(None, list(roots))
    for root in roots:
        values = evaluate(root, y, checks)
        ok = _real_finite(values)
        if not ok.all():
            at = checks[np.argmin(ok)]
            result.rejected.append((root, f"it is not a real number at ${y} = {at:.4g}$"))
            continue
        outside = (values.real < lo - 1e-9) | (values.real > hi + 1e-9)
        if outside.any():
            i = int(np.argmax(outside))
            result.rejected.append((root, f"at ${y} = {checks[i]:.4g}$ it gives ${var} = {values.real[i]:.4g}$, "
                                          f"outside the support {support_math(low, high)}"))
            continue
        back = evaluate(f, var, values.real)
        if not np.allclose(back.real, checks, rtol=1e-6, atol=1e-8):
            result.rejected.append((root, "it does not solve the equation on the whole image"))
            continue
        if result.expr is None:
            result.expr = root
        else:
            result.rejected.append((root, f"it coincides with the root {math_text(result.expr)} already kept"))
    return result


@dataclass
class Transform:
    """x = f(z) on [low, high] for a monotone f: its direction, image, inverse and the derived density."""

    f: sp.Expr
    increasing: bool
    derivative: sp.Expr
    image: tuple[sp.Expr, sp.Expr]
    inverse: Inverse
    inverse_derivative: sp.Expr | None = None
    density: sp.Expr | None = None


def limit_at(f: sp.Expr, var: sp.Symbol, point: sp.Expr, side: str) -> sp.Expr:
    value = sp.limit(f, var, point, side)
    return sp.simplify(value)


def monotone(f: sp.Expr, var: sp.Symbol, low: sp.Expr, high: sp.Expr, field: str) -> tuple[bool, sp.Expr]:
    """Check that f is defined, real and monotone on the support; return (increasing, f')."""
    text = support_text(low, high)
    points = interior_points(low, high, 401)
    values = evaluate(f, var, points)
    ok = _real_finite(values)
    if not ok.all():
        at = points[np.argmin(ok)]
        raise ParamError(field, f"{f} is not a finite real number at {var} = {at:.4g}, inside {text}")
    inside = sp.Interval.open(low, high)
    try:
        continuous = continuous_domain(f, var, inside)
    except (NotImplementedError, ValueError, TypeError):
        continuous = inside
    gap = sp.Complement(inside, continuous)
    if gap is not sp.S.EmptySet:
        raise ParamError(field, f"{f} is not continuous on {text} (at {var} in {gap}), so it is not monotone")
    df = sp.simplify(sp.diff(f, var))
    slopes = evaluate(df, var, points).real
    scale = max(1.0, float(np.nanmax(np.abs(slopes))) if np.isfinite(slopes).any() else 1.0)
    up = slopes > 1e-12 * scale
    down = slopes < -1e-12 * scale
    if up.any() and down.any():
        i, j = int(np.argmax(up)), int(np.argmax(down))
        raise ParamError(field, f"{f} is not monotone on {text}: its derivative {df} is {slopes[i]:.3g} at "
                                f"{var} = {points[i]:.3g} but {slopes[j]:.3g} at {var} = {points[j]:.3g}; "
                                "use a monotone transform")
    if not (up.any() or down.any()):
        raise ParamError(field, f"{f} is constant on {text}, so it has no density")
    increasing = bool(up.any())
    if is_rational_function(df, var):
        wrong = negative_part(df if increasing else -df, var, low, high)
        if wrong is not sp.S.EmptySet and wrong.measure != 0:
            raise ParamError(field, f"{f} is not monotone on {text}: its derivative {df} changes sign "
                                    f"(on {wrong})")
    return increasing, df


def transform(density: Density, f: sp.Expr, field: str, out: sp.Symbol) -> Transform:
    """The density of out = f(var) when var has `density` (change of variables with |d f^-1 / d out|). A pure
    function of its arguments, kept per process (the mock final's generators recur across variants); each
    caller gets its own copy of the lists in it."""
    kept = _transform_kept(density.expr, density.var, density.low, density.high, f, field, out)
    inverse = dataclasses.replace(kept.inverse, candidates=list(kept.inverse.candidates),
                                  rejected=list(kept.inverse.rejected))
    return dataclasses.replace(kept, inverse=inverse)


@lru_cache(maxsize=256)
def _transform_kept(expr: sp.Expr, var: sp.Symbol, low: sp.Expr, high: sp.Expr, f: sp.Expr, field: str,
                    out: sp.Symbol) -> Transform:
    return _transform(Density(expr, var, low, high), f, field, out)


def _transform(density: Density, f: sp.Expr, field: str, out: sp.Symbol) -> Transform:
    var = density.var
    increasing, df = monotone(f, var, density.low, density.high, field)
    at_low = limit_at(f, var, density.low, "+")
    at_high = limit_at(f, var, density.high, "-")
    image = (at_low, at_high) if increasing else (at_high, at_low)
    for end in image:
        if not (end.is_number and (end.is_finite or end in (sp.oo, -sp.oo))) or end.has(sp.zoo, sp.nan):
            raise ParamError(field, f"cannot find the image of the support under {f} (limit {end})")
    inv = invert(f, var, out, density.low, density.high, *image)
    result = Transform(f, increasing, df, image, inv)
    if inv.expr is None:
        return result
    dinv = sp.simplify(sp.diff(inv.expr, out))
    result.inverse_derivative = dinv
    absolute = dinv if increasing else -dinv
    result.density = sp.simplify(density.expr.subs(var, inv.expr) * absolute)
    return result


def chain(*terms: Any) -> list[Any]:
    """An equation chain without repeated neighbouring terms."""
    out: list[Any] = []
    for t in terms:
        if not out or not (isinstance(t, sp.Basic) and isinstance(out[-1], sp.Basic) and t == out[-1]):
            out.append(t)
    return out


def change_of_variables_step(source: Density, tr: Transform, fname: str, out_name: str, what: str) -> Step:
    """The change of variables x = f(z) as a step, each rejected root of the inversion as a child."""
    direction = "increasing" if tr.increasing else "decreasing"
    image_text = support_text(*tr.image)
    if tr.increasing:
        cdf_text = "$P(X <= x) = P(Z <= z)$, so differentiating gives $p_X(x) = p_Z(z) dz/dx$ with $dz/dx > 0$."
    else:
        cdf_text = ("$P(X <= x) = P(Z >= z) = 1 - F_Z(z)$, so differentiating gives $p_X(x) = -p_Z(z) dz/dx "
                    "= p_Z(z) |dz/dx|$: the minus sign makes the density positive. The ends of the interval "
                    "swap: the low end of $z$ maps to the high end of $x$.")
    text = (f"${fname}(z) = {notation(tr.f)}$ is {direction} on {support_math(*source.support)} (its derivative "
            f"is {math_text(tr.derivative)}), so it is invertible and the {what} lie in {support_math(*tr.image)}, the "
            f"image of the support. With $z = {fname}^-1(x)$: {cdf_text}")
    dzdx = tr.inverse_derivative
    step = Step(f"Density of the {what} (change of variables)", text=text,
                math=[[Sym("z"), tr.inverse.expr], [Sym("dz/dx"), dzdx],
                      chain(Sym(out_name), sp.Mul(source.expr.subs(source.var, tr.inverse.expr),
                                                  sp.Abs(dzdx, evaluate=False), evaluate=False), tr.density)],
                result={out_name: tr.density, "support": image_text})
    for root, why in tr.inverse.rejected:
        step.children.append(Step(f"Reject the root $z = {notation(root)}$",
                                  text=f"The other solution $z = {notation(root)}$ of $x = {fname}(z)$ is rejected: "
                                       f"{why}."))
    return step
