"""GANs in one dimension: the optimal discriminator for a given generator, and the optimal generator.

Idealized GAN loss (real samples X ~ p_data, generated samples G(Z), Z ~ p_Z):

    L(D) = E[-log D(X)] + E[-log(1 - D(G(Z)))]

A sample's label S is 1 (real) or 0 (generated), each with probability 1/2; L is twice the cross-entropy
between P(S | X) and D, so the best D is the posterior D(x) = P(S = 1 | X = x) = p_data / (p_data + p_g),
where p_g is the density of G(Z) (change of variables). At that D, L = 2 log 2 - 2 JSD(p_data, p_g).

The best generator makes G(Z) distributed as X: with F the data's CDF, G = F^-1(U) for uniform noise and
G = F^-1(Phi(Z)) for standard normal noise (the increasing choice).
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import sympy as sp

from . import densities as dens
from . import params as P
from .core import Figure, Solution, SolverWarning, Step, Sym, notation
from .densities import X, Z
from .errors import ParamError
from .registry import register

# warning codes (SolverWarning.code)
DISCRIMINATOR_ARBITRARY = "discriminator_arbitrary"
VALUE_NOT_CLOSED_FORM = "value_not_closed_form"
NO_CLOSED_FORM_INVERSE = "no_closed_form_inverse"

HALF = sp.Rational(1, 2)
P_DATA, P_G, P_Z = sp.Symbol("p_data"), sp.Symbol("p_g"), sp.Symbol("p_Z")

MOCK_FINAL_Q5A = {"data_density": "2 - 2*x", "support": [0, 1], "generator": "z"}
MOCK_FINAL_Q5B = {"data_density": "2 - 2*x", "support": [0, 1], "noise": "uniform"}


def _ratio(num: Any, den: Any) -> sp.Expr:
    return sp.Mul(num, sp.Pow(den, -1, evaluate=False), evaluate=False)


def _algebraic(expr: sp.Expr) -> bool:
    """Built from numbers and symbols by + * and rational powers only (no exp, log, erf, ...)."""
    return not expr.atoms(sp.Function) and all(p.exp.is_Rational for p in expr.atoms(sp.Pow))


def _tidy(expr: sp.Expr) -> sp.Expr:
    """`expr` or a form with fewer operations. An algebraic expression (the mock final's densities and their
    ratios: rational functions, with a 1/sqrt(x) at most) tries only what simplify would use on it, cancel,
    factor and together, which on every sampled mock-final draw finds simplify's form at a sixth of its cost;
    anything else goes through simplify."""
    if _algebraic(expr):
        candidates = [sp.cancel(expr), sp.factor(expr), sp.together(expr)]
    else:
        candidates = [sp.simplify(expr)]
    simpler = min(candidates, key=sp.count_ops)
    return simpler if sp.count_ops(simpler) < sp.count_ops(expr) else expr


def _plot_range(*supports: tuple[sp.Expr, sp.Expr], densities: list[dens.Density]) -> tuple[float, float]:
    """A finite x-range showing every support (an infinite end is cut where the densities are tiny)."""
    lows = [float(lo) for lo, _ in supports if lo.is_finite]
    highs = [float(hi) for _, hi in supports if hi.is_finite]
    lo = min(lows) if lows else None
    hi = max(highs) if highs else None
    if lo is None or hi is None:
        grid = np.linspace(-60, 60, 4801) if lo is None and hi is None else (
            np.linspace(lo, lo + 60, 2401) if hi is None else np.linspace(hi - 60, hi, 2401))
        mass = np.zeros_like(grid)
        for d in densities:
            vals = dens.evaluate(sp.Piecewise((d.expr, d.indicator()), (0, True)), d.var, grid).real
            mass = np.maximum(mass, np.nan_to_num(vals))
        keep = grid[mass > 1e-3 * mass.max()]
        lo = float(keep.min()) if lo is None else lo
        hi = float(keep.max()) if hi is None else hi
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def _curve(expr: sp.Expr, var: sp.Symbol, grid: np.ndarray) -> list[float | None]:
    vals = dens.evaluate(expr, var, grid)
    ok = np.isfinite(vals) & (np.abs(vals.imag) < 1e-9)
    return [float(v.real) if good else None for v, good in zip(vals, ok, strict=True)]


def _inside(point: float, *supports: dens.Density) -> bool:
    return any(float(d.low) <= point <= float(d.high) for d in supports)


def _on(density: dens.Density, expr: sp.Expr | None = None) -> sp.Expr:
    """`expr` (default: the density) inside the support, 0 outside."""
    body = density.expr if expr is None else expr
    cond = density.indicator()
    return body if cond is sp.true else sp.Piecewise((body, cond), (0, True))


def _read_discriminator(params: dict[str, Any]):
    P.no_unknown(params, ["data_density", "support", "generator", "noise_density", "noise_support"])
    data = dens.read_density(P.get(params, "data_density"), P.get(params, "support"), "data_density", "support", X)
    noise = dens.read_density(P.get(params, "noise_density", "1"), P.get(params, "noise_support", [0, 1]),
                              "noise_density", "noise_support", Z)
    generator = dens.exact(P.expression(P.get(params, "generator"), "generator", ["z"]))
    return data, noise, generator


@register("gan_discriminator",
          "GAN in 1-d: the generator's density, the optimal discriminator and the loss at it (2 log 2 - 2 JSD)",
          examples={"mock_final_q5a": MOCK_FINAL_Q5A,
                    "shifted_generator": {"data_density": "2*x", "support": [0, 1], "generator": "z/2 + 1/2"},
                    "square_root_generator": {"data_density": "3*x^2", "support": [0, 1],
                                              "generator": "sqrt(z)"}})
def solve_discriminator(params: dict[str, Any]) -> Solution:
    data, noise, generator = _read_discriminator(params)
    warnings: list[str] = []
    steps: list[Step] = []

    steps.append(Step(
        "Real or generated: the label S and the posterior",
        text=("Each sample the discriminator sees is real ($S = 1$, drawn from $p_data$) or generated ($S = 0$, "
              "$G(Z)$ with $Z$ drawn from the noise), and the loss weighs both expectations equally, so "
              "$P(S = 1) = P(S = 0) = 1/2$. Then $E[-log D(X)] + E[-log(1 - D(G(Z)))] = "
              "2 E[-S log D(X) - (1 - S) log(1 - D(X))]$, twice the cross-entropy between $P(S | X)$ and $D$, "
              "which is smallest when $D(x)$ is the posterior $P(S = 1 | X = x)$. By Bayes' rule "
              "$D(x) = P(S = 1) p_data(x) / (P(S = 0) p_g(x) + P(S = 1) p_data(x))$, where $p_g$ is the density of "
              "$G(Z)$."),
        inputs={"p_data": data.expr, "support": dens.support_text(*data.support),
                "G": generator, "p_Z": noise.expr, "support_Z": dens.support_text(*noise.support)},
        math=[[Sym("D^*"), _ratio(sp.Mul(HALF, P_DATA, evaluate=False),
                                     sp.Add(sp.Mul(HALF, P_G, evaluate=False), sp.Mul(HALF, P_DATA, evaluate=False),
                                            evaluate=False)), _ratio(P_DATA, P_DATA + P_G)]],
    ))

    tr = dens.transform(noise, generator, "generator", X)
    if tr.density is None:
        raise ParamError("generator", f"sympy cannot invert x = {generator} on the noise support "
                                      f"{dens.support_text(*noise.support)}, so p_g has no closed form here")
    p_g = dens.Density(tr.density, X, *tr.image)
    steps.append(dens.change_of_variables_step(noise, tr, "G", "p_g", "generator's samples $x = G(z)$"))

    same_support = p_g.support == data.support
    ratio = data.expr / (sp.expand(data.expr + p_g.expr) if (data.expr + p_g.expr).is_polynomial(X)
                         else _tidy(data.expr + p_g.expr))
    ratio = _tidy(ratio)
    lo = sp.Max(data.low, p_g.low)
    hi = sp.Min(data.high, p_g.high)
    overlap = bool(lo < hi)
    d_step = Step("The optimal discriminator", math=[dens.chain(Sym("D^*"), _ratio(P_DATA, P_DATA + P_G),
                                                            _ratio(data.expr, data.expr + p_g.expr), ratio)])
    if same_support:
        discriminator = ratio
        generator_density = p_g.expr
        d_step.text = (f"Both densities live on {dens.support_math(*data.support)}, so one formula holds on the "
                       "whole support.")
    else:
        generator_density = _on(p_g)
        pieces = []
        if overlap:
            inside = dens.Density(X, X, lo, hi).indicator()
            pieces.append((ratio, inside))
        pieces.append((sp.Integer(1), data.indicator()))
        pieces.append((sp.Integer(0), p_g.indicator()))
        pieces.append((HALF, sp.true))
        discriminator = sp.Piecewise(*pieces)
        d_step.text = (f"The supports differ: data on {dens.support_math(*data.support)}, generated samples on "
                       f"{dens.support_math(*p_g.support)}. Where only real samples occur ($p_g = 0 < p_data$) the "
                       "posterior is $D = 1$; where only generated samples occur ($p_data = 0 < p_g$) it is $D = 0$; "
                       "outside both supports no sample ever occurs, any $D$ is optimal, and we write $D = 1/2$.")
        d_step.result = {"D^*": discriminator}
        warnings.append(SolverWarning(DISCRIMINATOR_ARBITRARY, "outside both supports the optimal discriminator is "
                                      "arbitrary (no sample occurs there); the answer sets $D = 1/2$ there"))
    steps.append(d_step)

    value, value_step = _value_step(data, p_g, ratio, lo, hi, overlap, warnings)
    steps.append(value_step)

    x0, x1 = _plot_range(data.support, p_g.support, densities=[data, p_g])
    grid = np.linspace(x0, x1, 401)
    steps.append(Step("Picture: the two densities and the optimal discriminator", figure=Figure(
        "gan_discriminator",
        {"x": grid.tolist(), "p_data": _curve(_on(data), X, grid), "p_g": _curve(_on(p_g), X, grid),
         "D": [v if _inside(g, data, p_g) else None for g, v in zip(grid, _curve(discriminator, X, grid),
                                                                    strict=True)]},
        "Data density, generator density and the optimal discriminator $D = p_data/(p_data + p_g)$.")))

    answer = {"generator_density": str(generator_density), "discriminator": str(discriminator),
              "value": None if value is None else float(value)}
    exact = {"generator_density": generator_density, "discriminator": discriminator}
    if value is not None:
        answer["value_exact"] = str(value)
        exact["value"] = value
    normalized = {"data_density": str(data.expr), "support": dens.support_json(*data.support)[1],
                  "generator": str(generator), "noise_density": str(noise.expr),
                  "noise_support": dens.support_json(*noise.support)[1]}
    return Solution("gan_discriminator", normalized, steps, answer, warnings, exact)


def _quad(integrand: sp.Expr, lo: sp.Expr, hi: sp.Expr) -> float:
    """The integral numerically: mpmath's tanh-sinh quadrature (an integrable singularity at an end, such as
    1/sqrt(x) at 0, costs nothing extra), on a lambdified integrand: sympy's `N` of the Integral is the same
    quadrature evaluated through sympy, 20-50 times slower."""
    f = sp.lambdify(X, integrand, "mpmath")
    def end(v: sp.Expr):
        return mpmath.mpf(str(sp.Float(v, 25))) if v.is_finite else (mpmath.inf if v > 0 else -mpmath.inf)

    with mpmath.workdps(20):
        value = mpmath.quad(f, [end(lo), end(hi)])
    return float(mpmath.re(value))


def _value_step(data: dens.Density, p_g: dens.Density, ratio: sp.Expr, lo: sp.Expr, hi: sp.Expr, overlap: bool,
                warnings: list[str]) -> tuple[sp.Expr | None, Step]:
    """L(D*) = integral over the overlap of p_data log((p_data + p_g)/p_data) + p_g log((p_data + p_g)/p_g).

    Polynomial densities are integrated term by term in closed form (`densities.integral_f_log_f`); sympy
    integrates the other rational functions (log of a rational function times a rational function); other
    integrands (exponentials: polylogarithms) can keep sympy busy for minutes, so they get a numerical value
    (mpmath's quadrature) and `value` null."""
    text = ("At $D^*$, $-log D^* = log((p_data + p_g)/p_data)$ and $-log(1 - D^*) = log((p_data + p_g)/p_g)$. "
            "Where only one density is positive the matching term is $log 1 = 0$, so only the overlap of the "
            "supports counts. Writing $m = (p_data + p_g)/2$ gives "
            "$L = 2 log 2 - KL(p_data || m) - KL(p_g || m) = 2 log 2 - 2 JSD$.")
    step = Step("The loss at the optimal discriminator", text=text)
    if not overlap:
        step.text += " The supports do not overlap: $L = 0$, $JSD = log 2$ (the largest it can be)."
        step.math = [[Sym("L^*"), 0], [Sym("JSD"), sp.log(2)]]
        return sp.Integer(0), step
    s = data.expr + p_g.expr
    integrand = data.expr * sp.log(s / data.expr) + p_g.expr * sp.log(s / p_g.expr)
    integral = sp.Integral(integrand, (X, lo, hi))
    value = integral
    # p log((p + q)/p) + q log((p + q)/q) = (p + q) log(p + q) - p log p - q log q, each term exact for
    # polynomials (densities.integral_f_log_f); other rational densities go through sympy's integrate
    terms = [dens.integral_f_log_f(f, X, lo, hi) for f in (s, data.expr, p_g.expr)]
    exact_terms = all(t is not None for t in terms)
    if exact_terms:
        value = terms[0] - terms[1] - terms[2]
    elif dens.is_rational_function(data.expr, X) and dens.is_rational_function(p_g.expr, X):
        try:
            value = sp.integrate(integrand, (X, lo, hi))
        except (NotImplementedError, ValueError, TypeError):
            value = integral
    if value.has(sp.Integral) or not value.is_number or value.has(sp.nan, sp.zoo) or not value.is_finite \
            or abs(complex(sp.N(value)).imag) > 1e-12:
        numeric = _quad(integrand, lo, hi)
        warnings.append(SolverWarning(VALUE_NOT_CLOSED_FORM, f"the loss at the optimal discriminator is not computed "
                                      f"in closed form (only rational densities are integrated symbolically); "
                                      f"numerically it is {float(numeric):.6g}; value is null"))
        step.math = [[Sym("L^*"), integral, float(numeric)]]
        step.text += " Sympy finds no closed form for this integral; its numerical value is given."
        return None, step
    # the exact terms are already sums of logs, arctangents and rationals: combining and re-expanding the
    # logs gives the form simplify() gives, in a twentieth of the time
    value = sp.expand(sp.expand_log(sp.logcombine(value), force=True)) if exact_terms else sp.simplify(value)
    expanded = sp.expand_log(value, force=True)  # force: checked numerically (log(ab) = log a + log b needs a, b > 0)
    value = expanded if abs(complex(sp.N(expanded - value))) < 1e-12 else value
    jsd = sp.expand(sp.log(2) - value / 2) if exact_terms else _tidy(sp.log(2) - value / 2)
    step.math = [[Sym("L^*"), integral, value, float(value)],
                 [Sym("JSD"), sp.log(2) - sp.Mul(HALF, sp.Symbol("L"), evaluate=False),
                  jsd, float(jsd)],
                 [Sym("L^*"), 2 * sp.log(2) - 2 * sp.Symbol("JSD"), float(value)]]
    return value, step


# ---------------------------------------------------------------------------------------------- generator

def _read_generator(params: dict[str, Any]):
    P.no_unknown(params, ["data_density", "support", "noise"])
    data = dens.read_density(P.get(params, "data_density"), P.get(params, "support"), "data_density", "support", X)
    noise = P.choice(P.get(params, "noise", "uniform"), "noise", ["uniform", "standard_normal"])
    return data, noise


@register("gan_generator",
          "GAN in 1-d: the data's CDF and the increasing generator G = F^-1(U) (or F^-1(Phi(Z)))",
          examples={"mock_final_q5b": MOCK_FINAL_Q5B,
                    "exponential_uniform_noise": {"data_density": "exp(-x)", "support": [0, "oo"]},
                    "power_normal_noise": {"data_density": "3*x^2", "support": [0, 1], "noise": "standard_normal"}})
def solve_generator(params: dict[str, Any]) -> Solution:
    data, noise = _read_generator(params)
    warnings: list[str] = []
    F = dens.cdf(data)
    t = sp.Symbol("t", real=True)  # the integration variable, for display
    steps = [Step(
        "The data's CDF",
        text=(f"$F(x) = P(X <= x)$ is the integral of the density from the low end of the support "
              f"{dens.support_math(*data.support)} ($F = 0$ below it, $F = 1$ above it)."),
        inputs={"p_data": data.expr},
        math=[dens.chain(Sym("F"), sp.Integral(data.expr.subs(X, t), (t, data.low, X)), F)],
    )]
    steps.append(Step(
        "What the generator must do",
        text=("Choose $G$ increasing, hence invertible. $G(Z)$ has the data's distribution when "
              "$P(G(Z) <= x) = P(X <= x) = F(x)$ for every $x$. "
              + ("For uniform noise $P(Z <= z) = z$, so $P(G(Z) <= x) = P(Z <= G^-1(x)) = G^-1(x)$: $G^-1 = F$, "
                 "i.e. $G(z) = F^-1(z)$, found by solving $F(x) = z$ for $x$."
                 if noise == "uniform" else
                 "For standard normal noise, $Phi(Z)$ is uniform on $[0, 1]$ ($Phi$ the normal CDF), so "
                 "$G(z) = F^-1(Phi(z))$: solve $F(x) = u$ for $x$, then put $u = Phi(z)$.")),
    ))
    u = Z if noise == "uniform" else dens.U
    inv = dens.invert(F, X, u, data.low, data.high, sp.Integer(0), sp.Integer(1))
    solve_step = Step(f"Solve $F(x) = {u}$ for $x$", math=[[F, u]])
    for root, why in inv.rejected:
        solve_step.children.append(Step(f"Reject the root $x = {notation(root)}$",
                                        text=f"The root $x = {notation(root)}$ is rejected: {why}; $G$ must map the "
                                             f"noise into the data's support {dens.support_math(*data.support)}."))
    generator = None
    if inv.expr is None:
        warnings.append(SolverWarning(NO_CLOSED_FORM_INVERSE, "sympy finds no closed-form inverse of the CDF; "
                                                              "generator is null ($G = F^-1$ numerically)"))
        solve_step.text = ("Sympy finds no closed form for the inverse of $F$; $G = F^-1$ has to be computed "
                           "numerically.")
    else:
        solve_step.text = ("The root kept maps $(0, 1)$ into the support and increases with "
                           f"${u}$, as $G$ must." + (" It is the only root." if not inv.rejected else ""))
        solve_step.result = {"x": inv.expr}
        if noise == "uniform":
            generator = inv.expr
        else:
            phi = (1 + sp.erf(Z / sp.sqrt(2))) / 2
            generator = _tidy(inv.expr.subs(dens.U, phi))
            solve_step.children.append(Step("Substitute $u = Phi(z)$", math=[[Sym("Phi"), phi],
                                                                           [Sym("G"), generator]]))
    steps.append(solve_step)
    if generator is not None:
        composed = F.subs(X, generator if noise == "uniform" else inv.expr)
        check = sp.expand(composed)  # F(G(u)) = u mostly takes expanding only; simplify where it does not
        check = check if check == u else sp.simplify(composed)
        steps.append(Step(f"Check: $F(G({u})) = {u}$", text="$F$ evaluated at the root kept gives back "
                                                             f"${u}$: $G$ is the inverse of $F$.",
                          math=[[Sym(f"F(G({u}))"), check]]))
        steps.append(Step("The optimal generator", result={"G": generator}))
    x0, x1 = _plot_range(data.support, densities=[data])
    grid = np.linspace(x0, x1, 401)
    full_cdf = sp.Piecewise(*([(0, X < data.low)] if data.low.is_finite else []),
                            *([(1, X > data.high)] if data.high.is_finite else []), (F, True))
    steps.append(Step("Picture: the data density and its CDF", figure=Figure(
        "gan_generator", {"x": grid.tolist(), "p_data": _curve(_on(data), X, grid),
                          "cdf": _curve(full_cdf, X, grid)},
        "The data density and its CDF $F$; the generator is $G = F^-1$ applied to uniform noise.")))
    answer = {"cdf": str(F), "generator": None if generator is None else str(generator)}
    normalized = {"data_density": str(data.expr), "support": dens.support_json(*data.support)[1], "noise": noise}
    exact = {"cdf": F} if generator is None else {"cdf": F, "generator": generator}
    return Solution("gan_generator", normalized, steps, answer, warnings, exact)
