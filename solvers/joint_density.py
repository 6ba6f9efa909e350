"""The change of variables in d dimensions for `derived_distribution` (lecture 19: "say z, x in R^d"):

    x = f(z) invertible on the support, z = g(x) = f^-1(x),   p_X(x) = p_Z(g(x)) |det dz/dx|,

where dz/dx is the Jacobian matrix of the inverse map (entry (i, j) = dz_i/dx_j). The density of Z is a joint
density in z1..zd on a box (each variable on [low, high], ends possibly infinite, or "R"); it is checked to be
>= 0 (sampled) and to integrate to 1 (sympy). The inverse is the root of x = f(z) that maps f(z) back to z at
points spread over the support; the Jacobian determinant must keep one sign there (then |det| = +-det).
The density is valid on the image of the support (0 elsewhere); the image itself is not derived.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from . import densities as dens
from . import params as P
from .core import Step, Sym
from .errors import ParamError

MAX_DIMENSION = 4
SAMPLES_PER_AXIS = 3


@dataclass
class Joint:
    density: sp.Expr
    z: list[sp.Symbol]
    x: list[sp.Symbol]
    support: list[tuple[sp.Expr, sp.Expr]]
    f: list[sp.Expr]


def read(params: dict[str, Any]) -> Joint:
    raw_f = params["transform"]
    d = len(raw_f)
    if not 1 <= d <= MAX_DIMENSION:
        raise ParamError("transform", f"expected 1 to {MAX_DIMENSION} expressions (x1 = f1(z), ...), got {d}")
    names = [f"z{i + 1}" for i in range(d)]
    z = [sp.Symbol(n, real=True) for n in names]
    x = [sp.Symbol(f"x{i + 1}", real=True) for i in range(d)]
    raw_support = P.get(params, "z_support")
    if not isinstance(raw_support, (list, tuple)) or len(raw_support) != d:
        raise ParamError("z_support", f"expected {d} intervals [low, high] (or \"R\"), one per variable z1..z{d}")
    support = [(-sp.oo, sp.oo) if isinstance(s, str) and s.strip() == "R" else P.interval(s, f"z_support[{i}]")
               for i, s in enumerate(raw_support)]
    density = dens.exact(P.expression(P.get(params, "z_density"), "z_density", names))
    f = [dens.exact(P.expression(e, f"transform[{i}]", names)) for i, e in enumerate(raw_f)]
    _check_density(density, z, support)
    return Joint(density, z, x, support, f)


def _grid(support: list[tuple[sp.Expr, sp.Expr]], per_axis: int) -> np.ndarray:
    axes = [dens.interior_points(lo, hi, per_axis) for lo, hi in support]
    return np.array(list(itertools.product(*axes)), dtype=float)


def _evaluate(expr: sp.Expr, symbols: list[sp.Symbol], points: np.ndarray) -> np.ndarray:
    fn = sp.lambdify(symbols, expr, modules=[np])
    with np.errstate(all="ignore"):
        try:
            values = np.asarray(fn(*points.T.astype(complex)), dtype=complex)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError):
            values = np.array([complex(expr.subs(dict(zip(symbols, p, strict=True))).evalf()) for p in points])
    return np.broadcast_to(values, (len(points),)).copy()


def _real(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values) & (np.abs(values.imag) <= 1e-9 * np.maximum(1.0, np.abs(values.real)))


def _check_density(density: sp.Expr, z: list[sp.Symbol], support: list[tuple[sp.Expr, sp.Expr]]) -> None:
    points = _grid(support, 7 if len(z) <= 2 else 4)
    values = _evaluate(density, z, points)
    ok = _real(values)
    if not ok.all():
        at = points[np.argmin(ok)]
        raise ParamError("z_density", f"{density} is not a finite real number at z = {np.round(at, 4).tolist()}")
    if (values.real < -1e-12).any():
        at = points[np.argmax(values.real < -1e-12)]
        raise ParamError("z_density", f"{density} is negative at z = {np.round(at, 4).tolist()}; a density is >= 0")
    total = density
    for var, (lo, hi) in zip(z, support, strict=True):
        total = sp.integrate(total, (var, lo, hi))
        if total.has(sp.Integral):
            raise ParamError("z_density", f"sympy cannot integrate {density} over the support, so it cannot check "
                                          "that it is a density")
    total = sp.simplify(total)
    if not (total.is_number and total.is_finite) or (sp.simplify(total - 1) != 0 and abs(float(total) - 1) > 1e-9):
        raise ParamError("z_density", f"{density} integrates to {total} over the support, not 1, so it is not a "
                                      "density")


@dataclass
class Change:
    inverse: list[sp.Expr]
    jacobian: sp.Matrix
    determinant: sp.Expr
    sign: int
    forward_determinant: sp.Expr
    density: sp.Expr
    rejected: int


def change_of_variables(j: Joint) -> Change:
    points = _grid(j.support, SAMPLES_PER_AXIS)
    images = np.stack([_evaluate(fi, j.z, points) for fi in j.f], axis=1)
    if not _real(images).all():
        raise ParamError("transform", "the transform is not a finite real number everywhere on the support")
    images = images.real
    forward = sp.simplify(sp.Matrix(j.f).jacobian(j.z).det())
    fd = _evaluate(forward, j.z, points)
    if not _real(fd).all() or (np.abs(fd.real) < 1e-12).any():
        raise ParamError("transform", f"its Jacobian determinant det df/dz = {forward} vanishes (or is undefined) on "
                                      "the support, so the transform is not invertible there")
    if not ((fd.real > 0).all() or (fd.real < 0).all()):
        raise ParamError("transform", f"its Jacobian determinant {forward} changes sign on the support, so the "
                                      "transform is not one-to-one there")
    try:
        roots = sp.solve([sp.Eq(xi, fi) for xi, fi in zip(j.x, j.f, strict=True)], j.z, dict=True)
    except (NotImplementedError, ValueError, TypeError):
        roots = []
    chosen, rejected = None, 0
    for root in roots:
        if set(root) != set(j.z):
            rejected += 1
            continue
        g = [sp.simplify(root[zi]) for zi in j.z]
        back = np.stack([_evaluate(gi, j.x, images) for gi in g], axis=1)
        if _real(back).all() and np.allclose(back.real, points, rtol=1e-7, atol=1e-9):
            if chosen is None:
                chosen = g
            continue
        rejected += 1
    if chosen is None:
        raise ParamError("transform", f"sympy finds no inverse z = f^-1(x) that maps the support back onto itself "
                                      f"({len(roots)} candidate(s)); use a transform invertible on the support")
    J = sp.Matrix(chosen).jacobian(j.x).applyfunc(sp.simplify)
    det = sp.simplify(J.det())
    sign = 1 if fd.real[0] > 0 else -1
    density = sp.simplify(j.density.subs(dict(zip(j.z, chosen, strict=True)), simultaneous=True) * sign * det)
    return Change(chosen, J, det, sign, forward, density, rejected)


def steps(j: Joint, c: Change) -> list[Step]:
    support = ", ".join(f"${z} in {dens.support_text(lo, hi).replace('oo', 'inf')}$"
                        for z, (lo, hi) in zip(j.z, j.support, strict=True))
    out = [Step("The joint density and the transform", text=f"$Z = ({', '.join(str(z) for z in j.z)})$ has the "
                f"density $p_Z$ on {support}; $x = f(z)$ maps it to $X$. For an invertible $f$, "
                "$p_X(x) = p_Z(f^-1(x)) |det(dz/dx)|$.",
                inputs={"p_Z": j.density},
                math=[[Sym(f"x_{i + 1}"), fi] for i, fi in enumerate(j.f)])]
    inverse = Step("Invert the transform", text="Solve $x = f(z)$ for $z$, keeping the root that maps $f(z)$ back "
                   "to $z$ "
                   "across the support" + (f" ({c.rejected} other root(s) rejected)." if c.rejected else "."),
                   math=[[Sym(f"z_{i + 1}"), gi] for i, gi in enumerate(c.inverse)])
    out.append(inverse)
    out.append(Step("Jacobian of the inverse map", text="Entry $(i, j)$ of $dz/dx$ is $dz_i/dx_j$. Its determinant "
                    f"has one sign on the support ({'positive' if c.sign > 0 else 'negative'}), so "
                    f"$|det(dz/dx)| = {'' if c.sign > 0 else '-'}det(dz/dx)$. Check: $det(dz/dx) = 1 / det(df/dz)$ "
                    "at $z = f^-1(x)$.",
                    math=[[Sym("dz/dx"), c.jacobian], [Sym("det(dz/dx)"), c.determinant],
                          [Sym("det(df/dz)"), c.forward_determinant]]))
    substituted = j.density.subs(dict(zip(j.z, c.inverse, strict=True)), simultaneous=True)
    out.append(Step("The density of $X$", text="$p_X(x) = p_Z(z(x)) |det(dz/dx)|$ on the image of the support (0 "
                    "elsewhere).",
                    math=[[Sym("p_X"), sp.Mul(substituted, sp.Abs(c.determinant, evaluate=False), evaluate=False),
                           c.density]]))
    return out
