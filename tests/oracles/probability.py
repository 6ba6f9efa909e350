"""Oracles for the probability kinds, written independently of solvers/: densities through the CDF route
(d/dx P(f(Z) <= x)), losses by numerical quadrature (mpmath), the ELBO by exact Gauss-Hermite quadrature
of torch log-densities."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import sympy as sp
import torch

x, z = sp.Symbol("x", real=True), sp.Symbol("z", real=True)
NAMES = {"x": x, "z": z, "pi": sp.pi, "oo": sp.oo, "inf": sp.oo}


def parse(text, var=None):
    return sp.nsimplify(sp.sympify(str(text).replace("^", "**"), locals=NAMES), rational=True)


def end(v):
    if isinstance(v, str) and v.strip().lstrip("+-") in ("oo", "inf"):
        return -sp.oo if v.strip().startswith("-") else sp.oo
    return sp.nsimplify(v, rational=True)


def sample_point(lo, hi, t):
    """A point at fraction t inside [lo, hi] (possibly infinite)."""
    if lo.is_finite and hi.is_finite:
        return lo + (hi - lo) * sp.Rational(t)
    if lo.is_finite:
        return lo + sp.Rational(t) / (1 - sp.Rational(t))
    if hi.is_finite:
        return hi - (1 - sp.Rational(t)) / sp.Rational(t)
    return sp.Rational(t) * 4 - 2


def pushforward(p, var, lo, hi, f, out):
    """Density of out = f(var) by the CDF route, and its support."""
    a, b = sp.limit(f, var, lo, "+"), sp.limit(f, var, hi, "-")
    increasing = bool(a < b)
    img_lo, img_hi = (a, b) if increasing else (b, a)
    mid = sample_point(img_lo, img_hi, "3/7")
    inverse = None
    for root in sp.solve(sp.Eq(f, out), var):
        value = complex(sp.N(root.subs(out, mid)))
        if abs(value.imag) < 1e-12 and float(lo) - 1e-12 <= value.real <= float(hi) + 1e-12:
            inverse = root
            break
    t = sp.Dummy("t", real=True)
    F = sp.integrate(p.subs(var, t), (t, lo, var))
    if isinstance(F, sp.Piecewise):
        F = F.args[0][0]
    cdf = F.subs(var, inverse) if increasing else 1 - F.subs(var, inverse)
    return sp.simplify(sp.diff(cdf, out)), (img_lo, img_hi)


def gan_discriminator(params):
    p_data = parse(params["data_density"])
    lo, hi = (end(v) for v in params["support"])
    nz = parse(params.get("noise_density", "1"))
    zlo, zhi = (end(v) for v in params.get("noise_support", [0, 1]))
    p_g, (glo, ghi) = pushforward(nz, z, zlo, zhi, parse(params["generator"]), x)
    a, b = max(lo, glo), min(hi, ghi)
    fd = sp.lambdify(x, p_data, "mpmath")
    fg = sp.lambdify(x, p_g, "mpmath")

    def kl_to_mixture(f, h):
        def integrand(t):
            u, m = f(t), (f(t) + h(t)) / 2
            return 0 if u == 0 else u * mpmath.log(u / m)
        return mpmath.quad(integrand, [float(a), float(b)]) if a < b else 0

    # the parts of each density outside the overlap have m = p/2: KL contribution mass * log 2
    data_mass_in = mpmath.quad(fd, [float(a), float(b)]) if a < b else 0
    gen_mass_in = mpmath.quad(fg, [float(a), float(b)]) if a < b else 0
    kl_d = kl_to_mixture(fd, fg) + (1 - data_mass_in) * math.log(2)
    kl_g = kl_to_mixture(fg, fd) + (1 - gen_mass_in) * math.log(2)
    jsd = (kl_d + kl_g) / 2
    out = {"value": float(2 * math.log(2) - 2 * jsd)}
    if (lo, hi) == (glo, ghi):
        out["generator_density"] = str(p_g)
        out["discriminator"] = str(p_data / (p_data + p_g))
    return out


def shortest_logs(e):
    """log(a) or -log(1/a), whichever is shorter, so that two spellings of one real function compare equal
    under sympify (which drops the assumption that the variable is real)."""
    def pick(term):
        other = -sp.log(sp.simplify(1 / term.args[0]))
        return other if sp.count_ops(other) < sp.count_ops(term) else term
    return e.replace(lambda t: isinstance(t, sp.log), pick)


def phi(v):
    return (1 + sp.erf(v / sp.sqrt(2))) / 2


def gan_generator(params):
    p = parse(params["data_density"])
    lo, hi = (end(v) for v in params["support"])
    antiderivative = sp.integrate(p, x)
    F = sp.simplify(antiderivative - sp.limit(antiderivative, x, lo, "+"))
    u = sp.Symbol("u", real=True)
    keep = None
    for root in sp.solve(sp.Eq(F, u), x):
        values = [complex(sp.N(root.subs(u, sp.Rational(k, 10)))) for k in (1, 5, 9)]
        if all(abs(v.imag) < 1e-12 and float(lo) - 1e-12 <= v.real <= float(hi) + 1e-12 for v in values):
            keep = root
    noise = params.get("noise", "uniform")
    keep = shortest_logs(keep)
    generator = keep.subs(u, z) if noise == "uniform" else keep.subs(u, phi(z))
    return {"cdf": str(F), "generator": str(generator)}


def joint_derived_distribution(params):
    """d variables: the inverse by sympy, then p_X = p_Z(g(x)) / |det df/dz| at z = g(x), the forward Jacobian
    (the solver differentiates the inverse instead); the sign of det df/dz read at one interior point."""
    d = len(params["transform"])
    zs = sp.symbols(f"z1:{d + 1}", real=True)
    xs = sp.symbols(f"x1:{d + 1}", real=True)
    names = {str(v): v for v in (*zs, *xs)} | {"pi": sp.pi, "oo": sp.oo}

    def expr(text):
        return sp.nsimplify(sp.sympify(str(text).replace("^", "**"), locals=names), rational=True)

    f = [expr(e) for e in params["transform"]]
    point = {}
    for z, s in zip(zs, params["z_support"], strict=True):
        lo, hi = (-sp.oo, sp.oo) if s == "R" else (end(v) for v in s)
        point[z] = sample_point(lo, hi, "2/5")
    forward = sp.Matrix(f).jacobian(zs).det()
    sign = 1 if forward.subs(point) > 0 else -1
    x_at = {x: fi.subs(point) for x, fi in zip(xs, f, strict=True)}
    for root in sp.solve([sp.Eq(x, fi) for x, fi in zip(xs, f, strict=True)], zs, dict=True):
        if all(abs(complex(sp.N(root[z].subs(x_at))) - float(point[z])) < 1e-9 for z in zs):
            g = root
            break
    inverse_det = sp.simplify(1 / forward.subs(g, simultaneous=True))
    density = sp.simplify(expr(params["z_density"]).subs(g, simultaneous=True) * sign * inverse_det)
    return {"density": str(density), "jacobian_determinant": str(inverse_det)}


def derived_distribution(params):
    if isinstance(params["transform"], list):
        return joint_derived_distribution(params)
    p = parse(params["z_density"])
    lo, hi = (end(v) for v in params["z_support"])
    density, (a, b) = pushforward(p, z, lo, hi, parse(params["transform"]), x)
    return {"density": str(density), "support": [float(a), float(b)]}


def _mvn(mean, cov):
    return torch.distributions.MultivariateNormal(torch.as_tensor(mean, dtype=torch.float64),
                                                  covariance_matrix=torch.as_tensor(cov, dtype=torch.float64))


def elbo_gaussian(params):
    """E over z ~ N(g, I) by Gauss-Hermite quadrature (exact: every integrand is quadratic in z)."""
    xv = np.asarray(params["x"], dtype=float)
    g = np.asarray(params["encoder_mean"], dtype=float)
    A = np.asarray(params["decoder"]["A"], dtype=float)
    c = np.asarray(params["decoder"].get("c", np.zeros(len(xv))), dtype=float)
    S = np.asarray(params["decoder_covariance"], dtype=float)
    d = len(g)
    nodes, weights = np.polynomial.hermite_e.hermegauss(3)
    weights = weights / weights.sum()
    prior, enc = _mvn(np.zeros(d), np.eye(d)), _mvn(g, np.eye(d))
    total = latent = quad = 0.0
    Sinv = np.linalg.inv(S)
    for idx in itertools.product(range(len(nodes)), repeat=d):
        zv = g + nodes[list(idx)]
        w = float(np.prod(weights[list(idx)]))
        zt = torch.as_tensor(zv, dtype=torch.float64)
        dec = _mvn(A @ zv + c, S)
        lp, le, ld = prior.log_prob(zt).item(), enc.log_prob(zt).item(), dec.log_prob(torch.as_tensor(xv)).item()
        total += w * (-lp - ld + le)
        latent += w * (-lp + le)
        resid = xv - A @ zv - c
        quad += w * 0.5 * resid @ Sinv @ resid
    return {"negative_elbo": total, "terms": {"latent": latent, "reconstruction": quad,
                                              "log_det": 0.5 * float(torch.logdet(torch.as_tensor(S))),
                                              "constant": len(xv) / 2 * math.log(2 * math.pi)}}


def elbo_total(params):
    """The shared suite compares flat fields; the terms are compared in tests/test_elbo.py."""
    return {"negative_elbo": elbo_gaussian(params)["negative_elbo"]}


ORACLES = {"gan_discriminator": gan_discriminator, "gan_generator": gan_generator,
           "derived_distribution": derived_distribution, "elbo_gaussian": elbo_total}
