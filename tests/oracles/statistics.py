"""Oracles for pca and gmm_em, written independently of solvers/: principal components from numpy.linalg's SVD of
the centred data (not an eigen-decomposition of the covariance), EM with scipy.stats.multivariate_normal."""

from __future__ import annotations

from fractions import Fraction

import numpy as np


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
