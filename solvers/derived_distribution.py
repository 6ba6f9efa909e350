"""Derived distributions: the density of x = f(z) for a monotone f (lecture 19).

    P(X <= x) = P(f(Z) <= x) = F_Z(f^-1(x))        (f increasing)
                             = 1 - F_Z(f^-1(x))    (f decreasing)
    p_X(x) = p_Z(f^-1(x)) |d f^-1(x) / dx|      on f(support), whose ends swap when f decreases.

A transform that is not monotone on the support is refused (its density would sum several branches).
A list `transform` (x1 = f1(z1..zd), ...) is the change of variables in d dimensions with the Jacobian
determinant of the inverse map (see `solvers.joint_density`); a string keeps the 1-D form above.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import densities as dens
from . import joint_density as joint
from . import params as P
from .core import Figure, Solution, Step, Sym
from .densities import X, Z
from .errors import ParamError
from .registry import register

# Lecture 19's example: Z uniform on [0, 1], x = -log z. The seed writes the density as -e^(-x) on x < 0
# (the signed Jacobian and the wrong side); the truth is e^(-x) on [0, oo).
LECTURE_19 = {"z_density": "1", "z_support": [0, 1], "transform": "-log(z)"}
# Lecture 19's "say z, x in R^d": two independent Exp(1) variables, their sum and the first one's share,
# x1 = z1 + z2, x2 = z1 / (z1 + z2), so z1 = x1 x2, z2 = x1 (1 - x2), |det dz/dx| = x1: p_X = x1 e^(-x1).
SUM_AND_SHARE = {"z_density": "exp(-z1 - z2)", "z_support": [[0, "oo"], [0, "oo"]],
                 "transform": ["z1 + z2", "z1/(z1 + z2)"]}
LINEAR_MAP = {"z_density": "1", "z_support": [[0, 1], [0, 1]], "transform": ["z1 + z2", "z1 - z2"]}
SHEAR = {"z_density": "exp(-(z1^2 + z2^2)/2)/(2*pi)", "z_support": ["R", "R"], "transform": ["z1", "z1 + 2*z2"]}


def _read(params: dict[str, Any]):
    P.no_unknown(params, ["z_density", "z_support", "transform"])
    source = dens.read_density(P.get(params, "z_density"), P.get(params, "z_support"), "z_density", "z_support", Z)
    f = dens.exact(P.expression(P.get(params, "transform"), "transform", ["z"]))
    return source, f


@register("derived_distribution",
          "Density of x = f(z) for a monotone f: |Jacobian| and the image of the support",
          examples={"lecture_19_minus_log": LECTURE_19,
                    "affine_decreasing": {"z_density": "2*z", "z_support": [0, 1], "transform": "3 - 2*z"},
                    "exponential_of_normal": {"z_density": "exp(-z^2/2)/sqrt(2*pi)", "z_support": ["-oo", "oo"],
                                              "transform": "exp(z)"},
                    "lecture_19_sum_and_share": SUM_AND_SHARE, "linear_map_of_uniforms": LINEAR_MAP,
                    "shear_of_normals": SHEAR})
def solve(params: dict[str, Any]) -> Solution:
    if isinstance(params.get("transform"), (list, tuple)):
        return _solve_joint(params)
    source, f = _read(params)
    tr = dens.transform(source, f, "transform", X)
    if tr.density is None:
        raise ParamError("transform", f"sympy cannot solve x = {f} for z on {dens.support_text(*source.support)}")
    low, high = tr.image
    steps = [Step("The input density and the transform",
                  inputs={"p_Z": source.expr, "support_Z": dens.support_text(*source.support), "f": f},
                  text="$x = f(z)$. For a monotone $f$, the event $f(Z) <= x$ is an event about $Z$ alone, so the "
                       "CDF of $X$ follows from the CDF of $Z$.")]
    steps.append(dens.change_of_variables_step(source, tr, "f", "p_X", "values x = f(z)"))
    F_z = dens.cdf(source)
    t = sp.Symbol("t", real=True)  # the integration variable, for display
    cdf_x = F_z.subs(Z, tr.inverse.expr) if tr.increasing else 1 - F_z.subs(Z, tr.inverse.expr)
    check = sp.simplify(sp.diff(cdf_x, X) - tr.density)
    steps.append(Step(
        "Check by the CDF route",
        text=("$P(X <= x) = " + ("F_Z(f^-1(x))" if tr.increasing else "P(Z >= f^-1(x)) = 1 - F_Z(f^-1(x))")
              + "$; its derivative is the density found above, and the density integrates to 1 over "
              + dens.support_math(low, high) + "."),
        math=[[Sym("F_Z"), F_z], dens.chain(Sym("F_X"), sp.simplify(cdf_x)),
              [Sym("p_X"), sp.simplify(sp.diff(cdf_x, X))],
              [sp.Integral(tr.density.subs(X, t), (t, low, high)), sp.simplify(sp.integrate(tr.density, (X, low,
                                                                                                          high)))]],
    ))
    if check != 0:
        steps[-1].text += " (sympy could not confirm the two routes agree symbolically.)"
    if not tr.increasing:
        steps[-1].children.append(Step(
            "The sign and the support",
            text=("$f$ decreases, so $(f^-1)'(x) < 0$: without the absolute value the density would come out "
                  "negative, and the support runs from $f$ at the high end to $f$ at the low end, here "
                  f"{dens.support_math(low, high)}.")))
    derived = dens.Density(tr.density, X, low, high)
    zgrid = np.linspace(*_range(source), 301)
    xgrid = np.linspace(*_range(derived), 301)
    steps.append(Step("Picture: the input and derived densities", figure=Figure(
        "derived_distribution",
        {"z": zgrid.tolist(), "p_z": _curve(source, zgrid), "x": xgrid.tolist(), "p_x": _curve(derived, xgrid)},
        "The density of $Z$ and the derived density of $X = f(Z)$.")))
    support, support_exact = dens.support_json(low, high)
    answer = {"density": str(tr.density), "support": support, "support_exact": support_exact}
    normalized = {"z_density": str(source.expr), "z_support": dens.support_json(*source.support)[1],
                  "transform": str(f)}
    return Solution("derived_distribution", normalized, steps, answer, [],
                    {"density": tr.density, "support": [low, high]})


def _solve_joint(params: dict[str, Any]) -> Solution:
    P.no_unknown(params, ["z_density", "z_support", "transform"])
    j = joint.read(params)
    change = joint.change_of_variables(j)
    answer = {"density": str(change.density), "jacobian_determinant": str(change.determinant)}
    normalized = {"z_density": str(j.density), "z_support": [dens.support_json(lo, hi)[1] for lo, hi in j.support],
                  "transform": [str(fi) for fi in j.f]}
    return Solution("derived_distribution", normalized, joint.steps(j, change), answer, [],
                    {"density": change.density, "jacobian_determinant": change.determinant})


def _range(d: dens.Density) -> tuple[float, float]:
    """A plotting range: the support, infinite ends cut where the density is tiny."""
    points = dens.interior_points(d.low, d.high, 4001)
    values = np.nan_to_num(dens.evaluate(d.expr, d.var, points).real)
    keep = points[values > 1e-3 * values.max()] if values.max() > 0 else points
    lo = float(d.low) if d.low.is_finite else float(keep.min())
    hi = float(d.high) if d.high.is_finite else float(keep.max())
    return lo, hi


def _curve(d: dens.Density, grid: np.ndarray) -> list[float | None]:
    values = dens.evaluate(d.expr, d.var, grid)
    return [float(v.real) if np.isfinite(v) and abs(v.imag) < 1e-9 else None for v in values]
