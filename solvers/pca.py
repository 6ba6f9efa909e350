"""Mean, covariance, principal components and whitening of a dataset (lecture 13's preprocessing).

With the samples x_i as the rows of X (n x d):
    mu = (1/n) sum x_i,   C = 1/(n - ddof) sum (x_i - mu)(x_i - mu)^T = U D U^T,
eigenvalues in D descending, unit eigenvectors as the rows of U^T, each with its largest-magnitude entry positive
(within 1e-9 of a tie, the first such entry). The projections onto the first k components are (X - mu) U_k, the
explained variance ratio lambda_j / sum of all lambda, and whitening is x_new = D_k^(-1/2) U_k^T (x - mu), whose
samples have zero mean and covariance I (lecture 13). The mean and the covariance are exact fractions; the
eigenvalues are exact in the steps where the characteristic polynomial factors into pieces of degree <= 2.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from . import params as P
from . import pointwise as pw
from .core import Figure, Solution, SolverWarning, Step, Sym, exact_field
from .errors import ParamError
from .numeric import exact_str
from .registry import register

# warning codes (SolverWarning.code)
REPEATED_EIGENVALUE = "repeated_eigenvalue"

TIE = 1e-9
SYMBOLIC_DIMENSION = 4  # the characteristic polynomial is written out up to this dimension

# Lecture 13, "Computing mean (vector) and covariance (matrix)", then x_new = D^(-1/2) U^T (x - mu).
LECTURE_13 = {"X": [[2, 0], [0, 1], [4, 5], [2, 2]], "whiten": True}


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["X", "components", "ddof", "whiten"])
    X = pw.exact(P.matrix(P.get(params, "X"), "X", exact=True))
    n, d = len(X), len(X[0])
    ddof = P.integer(P.get(params, "ddof", 0), "ddof", low=0)
    if n - ddof < 1:
        raise ParamError("ddof", f"the covariance divides by n - ddof = {n - ddof}: needs more samples than ddof")
    k = P.integer(P.get(params, "components", d), "components", low=1, high=d)
    whiten = P.boolean(P.get(params, "whiten", False), "whiten")
    return {"X": X, "n": n, "d": d, "ddof": ddof, "k": k, "whiten": whiten}


def _oriented(vectors: np.ndarray) -> np.ndarray:
    """Rows with the largest-magnitude entry positive (the first of entries within TIE of the largest)."""
    out = vectors.copy()
    for i, v in enumerate(out):
        big = np.abs(v).max()
        j = int(np.argmax(np.abs(v) >= big - TIE))
        if v[j] < 0:
            out[i] = -v
    return out


def _exact_eigenvalues(C: sp.Matrix) -> list[sp.Expr] | None:
    lam = sp.Symbol("lambda")
    _, factors = sp.factor_list(C.charpoly(lam).as_expr(), lam)
    if not all(sp.degree(f, lam) <= 2 for f, _ in factors):
        return None
    values = []
    for f, mult in factors:
        for root in sp.roots(sp.Poly(f, lam), multiple=True):
            values.extend([sp.radsimp(root)] * mult)
    if not all(v.is_real for v in values):
        return None
    return sorted(values, key=lambda v: -float(v))


@register("pca", "Mean, covariance, eigen-decomposition, principal components, explained variance and whitening",
          examples={"lecture_13_whitening": LECTURE_13,
                    "one_component_3d": {"X": [[1, 2, 0], [3, 1, 1], [0, 0, 2], [2, 3, 1], [4, 4, 1]],
                                         "components": 1, "ddof": 1},
                    "correlated_2d": {"X": [[1, 1], [2, 2], [3, 3.5], [4, 3], [5, 5.5]], "components": 1}})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    X, n, d, k, ddof = r["X"], r["n"], r["d"], r["k"], r["ddof"]
    mu = [sum(col, Fraction(0)) / n for col in zip(*X, strict=True)]
    centred = [[xj - mj for xj, mj in zip(x, mu, strict=True)] for x in X]
    C = [[sum((row[a] * row[b] for row in centred), Fraction(0)) / (n - ddof) for b in range(d)] for a in range(d)]
    Cf = np.array(pw.floats(C))
    if not Cf.any():
        raise ParamError("X", "every sample is the same point: the covariance is 0 and there is no principal "
                              "direction")
    values, vectors = np.linalg.eigh(Cf)
    order = np.argsort(-values, kind="stable")
    values = np.clip(values[order], 0.0, None)
    U_T = _oriented(vectors[:, order].T)
    warnings: list[str] = []
    scale = max(1.0, float(values[0]))
    repeated = [(i, i + 1) for i in range(d - 1) if values[i] - values[i + 1] <= TIE * scale]
    for i, j in repeated:
        warnings.append(SolverWarning(REPEATED_EIGENVALUE,
                                      f"eigenvalues {i + 1} and {j + 1} are equal ({values[i]:.6g}): any unit "
                                      "vectors spanning their eigenspace are eigenvectors, so those eigenvectors "
                                      "(and projections) are one choice among many"))
    Xc = np.array(pw.floats(centred))
    projections = Xc @ U_T[:k].T
    ratio = values[:k] / values.sum()
    steps = [Step("Mean", text=f"$mu = (1/n) sum_i x_i$ over the $n = {n}$ samples (the rows of $X$).",
                  inputs={"X": X}, result={"mu": mu}),
             Step("Centre the data and form the covariance",
                  text=("$X_c = X - mu$ (row by row); "
                        "$C = 1/(n - q) sum_i (x_i - mu)(x_i - mu)^T = X_c^T X_c / (n - q)$ with "
                        f"$n - q = {n - ddof}$ (`ddof` $q = {ddof}$)"
                        + (" (dividing by $n$: the maximum-likelihood covariance of the lecture)." if ddof == 0 else
                           " (the unbiased sample covariance).")),
                  values={"X_c": centred}, result={"C": C})]
    eigen_step = Step("Eigenvalues and unit eigenvectors of $C$",
                      text="$C$ is symmetric positive semidefinite, so $C = U D U^T$ with orthonormal eigenvectors. "
                           "Each eigenvector is scaled to unit length with its largest-magnitude entry positive.")
    exact_values = None
    if d <= SYMBOLIC_DIMENSION:
        Cs = sp.Matrix([[sp.Rational(v.numerator, v.denominator) for v in row] for row in C])
        lam = sp.Symbol("lambda")
        eigen_step.math.append([sp.Function("det")(Cs - lam * sp.eye(d)), sp.expand(Cs.charpoly(lam).as_expr()), 0])
        exact_values = _exact_eigenvalues(Cs)
    for i in range(d):
        value: Any = values[i] if exact_values is None else exact_values[i]
        chain = [Sym(f"lambda_{i + 1}"), value] + ([float(value)] if exact_values is not None and
                                                   not value.is_Rational else [])
        eigen_step.math.append(chain)
        eigen_step.math.append([Sym(f"u_{i + 1}"), U_T[i]])
    for i, j in repeated:
        eigen_step.text += (f" $lambda_{i + 1} = lambda_{j + 1}$: their eigenvectors are not unique (any orthonormal "
                            "basis of the eigenspace).")
    steps.append(eigen_step)
    steps.append(Step(f"Project onto the first {k} component(s)",
                      text="The coordinates of each centred sample along $u_1$ to $u_k$: row $i$ is "
                           "$(x_i - mu)^T U_k$. The explained variance ratio of component $j$ is $lambda_j$ over the "
                           "sum of all eigenvalues (the trace of $C$).",
                      math=[[Sym("trace(C)"), float(values.sum())]],
                      result={"projections": projections, "ratio": ratio}))
    answer: dict[str, Any] = {"mean": pw.floats(mu), "covariance": Cf.tolist(), "eigenvalues": values.tolist(),
                              "eigenvectors": U_T.tolist(), "projections": projections.tolist(),
                              "explained_variance_ratio": ratio.tolist(), exact_field("mean"): exact_str(mu),
                              exact_field("covariance"): exact_str(C)}
    exact = {"mean": mu, "covariance": C}
    if exact_values is not None:
        answer[exact_field("eigenvalues")] = [str(v) for v in exact_values]
        exact["eigenvalues"] = exact_values
    if r["whiten"]:
        if values[k - 1] <= TIE * scale:
            raise ParamError("whiten", f"eigenvalue {k} is 0 (the data lie in a lower-dimensional subspace): "
                                       f"whitening divides by its square root; use components <= "
                                       f"{int((values > TIE * scale).sum())}")
        W = np.diag(1 / np.sqrt(values[:k])) @ U_T[:k]
        whitened = Xc @ W.T
        steps.append(Step("Whiten", text="$x_new = D_k^(-1/2) U_k^T (x - mu)$: rotate onto the eigenvectors and "
                                          "divide each coordinate by the square root of its eigenvalue, so the new "
                                          "samples have mean 0 and covariance $I$ (with the same divisor $n - q$).",
                          result={"W": W, "x_new": whitened}))
        answer.update(whitening_matrix=W.tolist(), whitened=whitened.tolist())
    if d == 2:
        steps.append(Step("Picture: the principal axes over the data", figure=Figure(
            "pca_axes", {"points": pw.floats(X), "mean": pw.floats(mu), "eigenvalues": values.tolist(),
                         "eigenvectors": U_T.tolist()},
            "The samples, their mean and the principal axes $u_j$ drawn with length $2 sqrt(lambda_j)$.")))
    normalized = {"X": X, "components": k, "ddof": ddof, "whiten": r["whiten"]}
    return Solution("pca", normalized, steps, answer, warnings, exact)
