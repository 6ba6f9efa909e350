"""Expectation-maximization for a mixture of Gaussians with full covariances.

Each iteration takes the weights w_k, means mu_k and covariances S_k before it and
    E-step:  r_ik = w_k N(x_i; mu_k, S_k) / sum_j w_j N(x_i; mu_j, S_j)   (responsibilities; each row sums to 1),
             log_likelihood = sum_i log sum_k w_k N(x_i; mu_k, S_k)          (at the parameters before the step),
    M-step:  N_k = sum_i r_ik,  w_k = N_k / n,  mu_k = sum_i r_ik x_i / N_k,
             S_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N_k   (with the new mu_k),
where log N(x; mu, S) = -(d log 2 pi + log det S + (x - mu)^T S^-1 (x - mu)) / 2. An iteration reports its
parameters after the M-step; `final_log_likelihood` is the log-likelihood at the final parameters. A
covariance that is (or becomes) singular is refused, naming the component: its density is not defined.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import params as P
from .core import Figure, Solution, Step, Sym, Table
from .errors import ParamError
from .registry import register

MAX_ITERATIONS = 200
SINGULAR = 1e-10
WRITTEN_OUT = 2  # iterations written out in full

# The study notes' Gaussian mixture model (000, "Gaussian Mixture Models ... uses expectation-maximization"):
# two clusters in the plane, EM started from two of the points.
TWO_CLUSTERS = {"points": [[0, 0], [1, 0], [0, 1], [4, 4], [5, 4], [4, 5]],
                "initial_means": [[0, 0], [1, 0]], "iterations": 3}
ONE_DIMENSIONAL = {"points": [[-2], [-1], [0], [3], [4]], "initial_means": [[-1], [1]],
                   "initial_covariances": [[[1]], [[2]]], "initial_weights": [0.5, 0.5], "iterations": 2}


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["points", "initial_means", "initial_covariances", "initial_weights", "iterations"])
    X = P.matrix(P.get(params, "points"), "points")
    n, d = X.shape
    means = P.matrix(P.get(params, "initial_means"), "initial_means", None, d)
    K = len(means)
    if params.get("initial_covariances") is None:
        covs = np.stack([np.eye(d)] * K)
    else:
        covs = P.array(params["initial_covariances"], "initial_covariances", 3, (K, d, d))
    for k, S in enumerate(covs):
        scale = max(1.0, float(np.abs(S).max()))
        if np.abs(S - S.T).max() > 1e-9 * scale:
            raise ParamError(f"initial_covariances[{k}]", "a covariance is symmetric; this one is not")
        _check_definite(S, f"initial_covariances[{k}]", f"component {k}")
    weights = P.vector(P.get(params, "initial_weights", [1 / K] * K), "initial_weights", K)
    if (weights <= 0).any():
        k = int(np.argmax(weights <= 0))
        raise ParamError(f"initial_weights[{k}]", f"mixture weights are > 0, got {weights[k]:g}")
    if abs(weights.sum() - 1) > 1e-9:
        raise ParamError("initial_weights", f"mixture weights sum to 1, these sum to {weights.sum():.6g}")
    iterations = P.integer(P.get(params, "iterations", 1), "iterations", low=1, high=MAX_ITERATIONS)
    return {"X": X, "means": means, "covs": covs, "weights": weights, "iterations": iterations}


def _check_definite(S: np.ndarray, field: str, what: str) -> None:
    eig = np.linalg.eigvalsh(S)
    if eig[0] <= SINGULAR * max(1.0, float(np.abs(eig).max())):
        kind = "singular" if eig[0] > -SINGULAR * max(1.0, float(np.abs(eig).max())) else "not positive definite"
        raise ParamError(field, f"the covariance of {what} is {kind} (smallest eigenvalue {eig[0]:.3g}), so its "
                                "Gaussian has no density")


def _log_densities(X: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
    """log N(x_i; mu_k, S_k) for every point i and component k, through the Cholesky factor S = L L^T."""
    n, d = X.shape
    out = np.empty((n, len(means)))
    for k, (mu, S) in enumerate(zip(means, covs, strict=True)):
        L = np.linalg.cholesky(S)
        z = np.linalg.solve(L, (X - mu).T)
        out[:, k] = -0.5 * (d * math.log(2 * math.pi) + 2 * np.log(np.diag(L)).sum() + (z * z).sum(axis=0))
    return out


def _e_step(X, weights, means, covs):
    logp = _log_densities(X, means, covs) + np.log(weights)
    top = logp.max(axis=1, keepdims=True)
    total = top[:, 0] + np.log(np.exp(logp - top).sum(axis=1))
    return np.exp(logp - total[:, None]), float(total.sum()), np.exp(logp)


@register("gmm_em", "EM for a Gaussian mixture: responsibilities, weights, means, covariances, log-likelihood",
          examples={"study_notes_two_clusters": TWO_CLUSTERS, "one_dimensional": ONE_DIMENSIONAL,
                    "full_covariances": {"points": [[0, 0], [2, 1], [1, 2], [3, 3], [-1, 1]],
                                         "initial_means": [[0, 1], [2, 2]],
                                         "initial_covariances": [[[1, 0.5], [0.5, 1]], [[2, 0], [0, 1]]],
                                         "initial_weights": [0.4, 0.6], "iterations": 1}})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    X, n = r["X"], len(r["X"])
    weights, means, covs = r["weights"], r["means"], r["covs"]
    history = [(weights, means, covs)]
    records = []
    steps = [Step("The mixture and the EM updates",
                  text="$p(x) = sum_k w_k N(x; mu_k, S_k)$. E-step: "
                       "$r_ik = w_k N(x_i; mu_k, S_k) / sum_j w_j N(x_i; mu_j, S_j)$. M-step: $N_k = sum_i r_ik$, "
                       "$w_k = N_k / n$, $mu_k = sum_i r_ik x_i / N_k$, "
                       "$S_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N_k$ with the new $mu_k$. Points and "
                       "components count from 0.",
                  inputs={"w": weights, "mu": means, "S": covs})]
    for t in range(1, r["iterations"] + 1):
        resp, loglik, weighted = _e_step(X, weights, means, covs)
        Nk = resp.sum(axis=0)
        if (Nk <= SINGULAR * n).any():
            k = int(np.argmin(Nk))
            raise ParamError("iterations", f"iteration {t}: component {k} takes no responsibility "
                                           f"(N_{k} = {Nk[k]:.3g}), so its mean is undefined; start it nearer the "
                                           "data")
        weights = Nk / n
        means = (resp.T @ X) / Nk[:, None]
        covs = np.stack([((resp[:, k, None] * (X - means[k])).T @ (X - means[k])) / Nk[k] for k in range(len(Nk))])
        for k, S in enumerate(covs):
            try:
                _check_definite(S, "iterations", f"component {k} after iteration {t}")
            except ParamError as exc:
                raise ParamError("iterations", f"{str(exc).removeprefix('iterations: ')}; the component collapses "
                                               "onto too few points: run fewer iterations or start elsewhere") from exc
        records.append({"responsibilities": resp, "weights": weights, "means": means, "covariances": covs,
                        "log_likelihood": loglik, "N": Nk, "weighted": weighted})
        history.append((weights, means, covs))
        if t <= WRITTEN_OUT:
            steps.extend(_iteration_steps(t, X, records[-1]))
    final_loglik = _e_step(X, weights, means, covs)[1]
    rows = [[t, rec["log_likelihood"]] for t, rec in enumerate(records, start=1)] + [["final", final_loglik]]
    summary = Step("Log-likelihood along the iterations",
                   text="EM never decreases the log-likelihood. Row $t$ is at the parameters before iteration $t$; "
                        "the last row at the final parameters.",
                   table=Table(["iteration", "log-likelihood"], rows),
                   result={"w": weights, "mu": means, "S": covs})
    if r["iterations"] > WRITTEN_OUT:
        summary.text = (f"Iterations {WRITTEN_OUT + 1} to {r['iterations']} repeat the same E- and M-steps. "
                        + summary.text)
    steps.append(summary)
    if X.shape[1] == 2:
        steps.append(Step("Picture: the components' ellipses per iteration", figure=Figure(
            "gmm_ellipses", {"points": X.tolist(), "history": [[w.tolist(), m.tolist(), S.tolist()]
                                                               for w, m, S in history],
                             "responsibilities": records[-1]["responsibilities"].tolist()},
            "The points (coloured by their last responsibilities) and each component's $2 sigma$ ellipse, from the "
            "initial parameters (dashed) to the final ones (solid).")))
    answer = {
        "iterations": [{"responsibilities": rec["responsibilities"].tolist(), "weights": rec["weights"].tolist(),
                        "means": rec["means"].tolist(), "covariances": rec["covariances"].tolist(),
                        "log_likelihood": rec["log_likelihood"]} for rec in records],
        "final_means": means.tolist(), "final_covariances": covs.tolist(), "final_weights": weights.tolist(),
        "final_log_likelihood": final_loglik,
    }
    normalized = {"points": X.tolist(), "initial_means": r["means"].tolist(), "initial_covariances": r["covs"].tolist(),
                  "initial_weights": r["weights"].tolist(), "iterations": r["iterations"]}
    return Solution("gmm_em", normalized, steps, answer, [])


def _iteration_steps(t: int, X: np.ndarray, rec: dict[str, Any]) -> list[Step]:
    K = len(rec["N"])
    rows = [[i, X[i], *rec["weighted"][i], *rec["responsibilities"][i]] for i in range(len(X))]
    columns = ["point", "$x$"] + [f"$w_{k} N_{k}$" for k in range(K)] + [f"$r_(i,{k})$" for k in range(K)]
    e_step = Step(f"Iteration {t}: E-step",
                  text="For each point, the weighted densities $w_k N(x_i; mu_k, S_k)$ of the parameters before "
                       "this iteration, and the responsibilities $r_ik$ (each weighted density over their sum).",
                  table=Table(columns, rows),
                  math=[[Sym(f"L^({t})"), "sum_i log sum_k w_k N(x_i; mu_k, S_k)",
                         rec["log_likelihood"]]])
    e_step.text += f" $L^({t})$ is the log-likelihood at those parameters."
    m_step = Step(f"Iteration {t}: M-step",
                  text="The responsibilities act as soft counts: each component refits its weight, mean and "
                       "covariance to the points it is responsible for.",
                  math=[[Sym("N"), rec["N"]], [Sym("w"), Sym("N / n"), rec["weights"]]],
                  result={f"mu_{k}": rec["means"][k] for k in range(K)} | {f"S_{k}": rec["covariances"][k]
                                                                          for k in range(K)})
    return [e_step, m_step]
