"""The negative ELBO of a Gaussian autoencoder with a linear decoder, for one input x.

prior z ~ N(0, I_d), encoder z | x ~ N(g, I_d) (g = g(x)), decoder x | z ~ N(f(z), Sigma), f(z) = A z + c.

    -ELBO = E_{z ~ enc}[-log p_prior(z) - log p_dec(x | z) + log p_enc(z | x)]
    E[-log p_prior(z)]  = d/2 log 2 pi + 1/2 (|g|^2 + d)
    E[log p_enc(z | x)] = -d/2 log 2 pi - d/2                       (the d-constants cancel: sum 1/2 |g|^2)
    E[-log p_dec(x | z)] = D/2 log 2 pi + 1/2 log det Sigma + 1/2 E[(x - f(z))^T Sigma^-1 (x - f(z))]
    E[(x - A z - c)^T S^-1 (x - A z - c)] = r^T S^-1 r + tr(A^T S^-1 A),   r = x - A g - c

so -ELBO = latent + reconstruction + log_det + constant exactly, with
latent = |g|^2 / 2, reconstruction = (r^T S^-1 r + tr(A^T S^-1 A)) / 2, log_det = log det Sigma / 2,
constant = D/2 log 2 pi.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import params as P
from .core import Solution, Step, Sym
from .errors import ParamError
from .registry import register

# Mock final Q4 has no numbers; this instance (2-d data, 1-d code) makes its derivation concrete.
MOCK_FINAL_Q4 = {"x": [1, 2], "encoder_mean": [0.5], "decoder": {"A": [[1], [2]], "c": [0, 1]},
                 "decoder_covariance": [[2, 1], [1, 2]]}


def _read(params: dict[str, Any]):
    P.no_unknown(params, ["x", "encoder_mean", "decoder", "decoder_covariance"])
    x = P.vector(P.get(params, "x"), "x", exact=True)
    g = P.vector(P.get(params, "encoder_mean"), "encoder_mean", exact=True)
    decoder = P.mapping(P.get(params, "decoder"), "decoder")
    P.no_unknown(decoder, ["A", "c"], "decoder")
    big_d, d = len(x), len(g)
    A = P.matrix(P.get(decoder, "A", field="decoder.A"), "decoder.A", big_d, d, exact=True)
    c = P.vector(decoder.get("c", [0] * big_d), "decoder.c", big_d, exact=True)
    S = P.matrix(P.get(params, "decoder_covariance"), "decoder_covariance", big_d, big_d, exact=True)
    S = sp.Matrix(S)
    if S != S.T:
        i, j = next((i, j) for i in range(big_d) for j in range(big_d) if S[i, j] != S[j, i])
        raise ParamError("decoder_covariance", f"not symmetric: entry [{i}][{j}] = {S[i, j]} but "
                                               f"[{j}][{i}] = {S[j, i]}; a covariance matrix is symmetric")
    eig = np.linalg.eigvalsh(np.asarray(S.evalf(), dtype=float))
    minors = [S[:k, :k].det() for k in range(1, big_d + 1)]
    if eig.min() <= 0 or any(m <= 0 for m in minors):
        raise ParamError("decoder_covariance", f"not positive definite (smallest eigenvalue {eig.min():.4g}); "
                                               "a covariance matrix must be symmetric positive definite")
    return sp.Matrix(x), sp.Matrix(g), sp.Matrix(A), sp.Matrix(c), S


@register("elbo_gaussian",
          "Negative ELBO of a Gaussian autoencoder with a linear decoder: latent, reconstruction, log det, constant",
          examples={"mock_final_q4_instance": MOCK_FINAL_Q4,
                    "identity_covariance": {"x": [0, 1, 2], "encoder_mean": [1, -1],
                                            "decoder": {"A": [[1, 0], [0, 1], [1, 1]], "c": [0, 0, 1]},
                                            "decoder_covariance": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
                    "scalar": {"x": [3], "encoder_mean": [1], "decoder": {"A": [[2]], "c": [0]},
                               "decoder_covariance": [[4]]}},
          # Sigma is learned, so 1/2 log det Sigma depends on what is optimized; only the constant may go
          required_terms={"terms": ("latent", "reconstruction", "log_det")})
def solve(params: dict[str, Any]) -> Solution:
    x, g, A, c, S = _read(params)
    big_d, d = x.rows, g.rows
    Sinv = S.inv()
    two_pi = 2 * sp.pi
    zz = sp.Symbol("|z|^2")
    steps = [Step(
        "The general ELBO loss",
        text=("For one input $x$, the loss is the negative evidence lower bound, an expectation over the encoder's "
              "sample $z ~ p_enc(z | x)$: $-ELBO = E[-log(p_prior(z) p_dec(x | z) / p_enc(z | x))] "
              "= E[-log p_prior(z)] + E[log p_enc(z | x)] + E[-log p_dec(x | z)]$."),
        inputs={"x": x, "g": g, "A": A, "c": c, "Sigma": S},
        values={"d": d, "D": big_d},
    )]
    steps.append(Step(
        "The log of each density",
        text=("Prior $N(0, I_d)$, encoder $N(g(x), I_d)$ (the network's output plus standard noise), decoder "
              "$N(f(z), Sigma)$ with $f(z) = A z + c$. Keep every normalizing constant: the $1/sqrt(det Sigma)$ of "
              "the decoder matters, since $Sigma$ is learned (dropping it, as the mock final's key does, would let "
              "$Sigma$ grow without bound to shrink the reconstruction term). Below, $ell_prior = -log p_prior(z)$, "
              "$ell_enc = log p_enc(z | x)$, $ell_dec = -log p_dec(x | z)$ and "
              "$Q = (x - f(z))^T Sigma^-1 (x - f(z))$."),
        math=[[Sym("ell_prior"), d * sp.log(two_pi) / 2 + zz / 2],
              [Sym("ell_enc"), -d * sp.log(two_pi) / 2 - sp.Symbol("|z - g|^2") / 2],
              [Sym("ell_dec"), big_d * sp.log(two_pi) / 2 + sp.log(sp.Function("det")(sp.Symbol("Sigma"))) / 2
               + sp.Symbol("Q") / 2]],
    ))
    gg = (g.T * g)[0, 0]
    prior = d * sp.log(two_pi) / 2 + (gg + d) / 2
    enc = -d * sp.log(two_pi) / 2 - sp.Rational(d, 2)
    latent = gg / 2
    steps.append(Step(
        "Expectations of the prior and encoder terms",
        text=("$E_prior = E[ell_prior]$ and $E_enc = E[ell_enc]$. Under the encoder $z = g + n$ with "
              "$n ~ N(0, I_d)$: $E|z|^2 = |g|^2 + d$ and $E|z - g|^2 = d$. The $d/2 log 2 pi$ and $d/2$ constants "
              "of the two terms cancel exactly, leaving $|g|^2/2$ (the key's 'constant' for this part is zero)."),
        math=[[Sym("E_prior"), prior],
              [Sym("E_enc"), enc],
              [Sym("latent"), sp.Symbol("|g|^2") / 2, latent]],
    ))
    r = x - A * g - c
    quad = (r.T * Sinv * r)[0, 0]
    trace = (A.T * Sinv * A).trace()
    reconstruction = (quad + trace) / 2
    log_det = sp.simplify(sp.log(S.det()) / 2)
    constant = big_d * sp.log(two_pi) / 2
    steps.append(Step(
        "Expectation of the decoder term (linear decoder)",
        text=("$x - f(z) = r - A n$ with $r = x - A g - c$, and $E[n] = 0$, $E[n n^T] = I$, so "
              "$E[Q] = E[(x - f(z))^T Sigma^-1 (x - f(z))] = r^T Sigma^-1 r + tr(A^T Sigma^-1 A) = q + t$."),
        values={"r": r, "Sigma^-1": Sinv},
        math=[[Sym("q"), quad], [Sym("t"), trace],
              [Sym("reconstruction"), (quad + trace) / 2, float(reconstruction)],
              [Sym("log_det"), log_det, float(log_det)], [Sym("constant"), constant, float(constant)]],
    ))
    total = latent + reconstruction + log_det + constant
    steps.append(Step(
        "The negative ELBO",
        text="The sum of the four terms is the negative ELBO, $L = -ELBO$, exactly (no constant dropped).",
        math=[[Sym("L"), sp.Symbol("latent") + sp.Symbol("reconstruction") + sp.Symbol("log_det")
               + sp.Symbol("constant"), total, float(total)]],
    ))
    terms = {"latent": latent, "reconstruction": reconstruction, "log_det": log_det, "constant": constant}
    answer = {"terms": {k: float(v) for k, v in terms.items()}, "negative_elbo": float(total),
              "terms_exact": {k: str(v) for k, v in terms.items()}, "negative_elbo_exact": str(total)}
    normalized = {"x": [float(v) for v in x], "encoder_mean": [float(v) for v in g],
                  "decoder": {"A": A.tolist(), "c": [float(v) for v in c]}, "decoder_covariance": S.tolist()}
    return Solution("elbo_gaussian", normalized, steps, answer, [], {"terms": terms, "negative_elbo": total})
