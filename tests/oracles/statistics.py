"""Oracles for pca and gmm_em, written independently of solvers/: principal components from numpy.linalg's SVD of
the centred data (not an eigen-decomposition of the covariance), EM with scipy.stats.multivariate_normal."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.stats import multivariate_normal


def _array(x):
    return np.array([[float(Fraction(v)) if isinstance(v, str) else float(v) for v in row] for row in x])


def pca(params):
    X = _array(params["X"])
    n, d = X.shape
    ddof = params.get("ddof", 0)
    k = params.get("components", d)
    Xc = X - X.mean(axis=0)
    _, s, Vt = np.linalg.svd(Xc, full_matrices=True)
    values = np.zeros(d)
    values[: len(s)] = s**2 / (n - ddof)
    for row in Vt:  # the sign convention: the largest-magnitude entry positive
        j = int(np.argmax(np.abs(row) >= np.abs(row).max() - 1e-9))
        row *= np.sign(row[j])
    out = {"mean": X.mean(axis=0), "covariance": np.cov(X.T, ddof=ddof).reshape(d, d), "eigenvalues": values,
           "explained_variance_ratio": values[:k] / values.sum()}
    distinct = all(values[i] - values[i + 1] > 1e-9 * max(1, values[0]) for i in range(d - 1))
    if distinct:  # a repeated eigenvalue leaves its eigenvectors free: compared only without one
        out.update(eigenvectors=Vt, projections=Xc @ Vt[:k].T)
        if params.get("whiten"):
            W = np.diag(1 / np.sqrt(values[:k])) @ Vt[:k]
            out.update(whitening_matrix=W, whitened=Xc @ W.T)
    return out


ORACLES = {"pca": pca}


def gmm_em(params):
    """EM written from the formulas, with scipy's multivariate normal density."""
    X = _array(params["points"])
    n, d = X.shape
    means = _array(params["initial_means"])
    K = len(means)
    covs = [np.array(S, dtype=float) for S in params.get("initial_covariances") or [np.eye(d)] * K]
    weights = np.array(params.get("initial_weights") or [1 / K] * K, dtype=float)
    iterations = []

    def weighted_densities():
        return np.stack([weights[k] * multivariate_normal(means[k], covs[k]).pdf(X).reshape(n) for k in range(K)],
                        axis=1)

    for _ in range(params.get("iterations", 1)):
        p = weighted_densities()
        loglik = float(np.log(p.sum(axis=1)).sum())
        r = p / p.sum(axis=1, keepdims=True)
        Nk = r.sum(axis=0)
        weights = Nk / n
        means = np.stack([(r[:, k, None] * X).sum(axis=0) / Nk[k] for k in range(K)])
        covs = [sum(r[i, k] * np.outer(X[i] - means[k], X[i] - means[k]) for i in range(n)) / Nk[k]
                for k in range(K)]
        iterations.append({"responsibilities": r, "weights": weights, "means": means, "covariances": np.stack(covs),
                           "log_likelihood": loglik})
    final = float(np.log(weighted_densities().sum(axis=1)).sum())
    return {"final_means": means, "final_covariances": np.stack(covs), "final_weights": weights,
            "final_log_likelihood": final, "_iterations": iterations}


ORACLES["gmm_em"] = lambda p: {k: v for k, v in gmm_em(p).items() if not k.startswith("_")}
