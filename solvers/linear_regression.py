"""Linear least squares with samples as rows: find W with y_i ~ W x_i, minimising the sum of squared errors
R(W) = sum_i ||y_i - W x_i||^2 = ||Y - X W^T||_F^2.

The gradient -2 (Y^T X - W X^T X) vanishes at the normal equations W (X^T X) = Y^T X, so
W = Y^T X (X^T X)^-1 (the lecture writes samples as columns: W = Y X^T (X X^T)^-1, the same thing).
There is no intercept: to fit y ~ W x + b, add a column of ones to X.
When X^T X is singular (fewer samples than features, or dependent columns) every solution of the normal
equations has the same risk; we return the one of least norm, W = Y^T (X^+)^T with X^+ the Moore-Penrose
pseudo-inverse (what numpy.linalg.lstsq returns), and say so in `warnings`.
Exact rationals where the inputs are rational and small, floats otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import params as P
from .core import Solution, SolverWarning, Step, Sym, Table
from .numeric import exact_str
from .registry import register

# warning codes (SolverWarning.code)
SINGULAR = "singular_normal_equations"

EXACT_LIMIT = 400  # numbers in X and Y together; above this, floats

_X, _XT, _YT = (sp.Symbol(name, commutative=False) for name in ("X", "X^T", "Y^T"))
STRANG_4_3 = {"X": [[1, 0], [1, 1], [1, 2]], "Y": [[6], [0], [0]]}  # Strang, Introduction to Linear Algebra, 4.3


def _read(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, bool, bool]:
    P.no_unknown(params, ["X", "Y"])
    X_raw, Y_raw = P.get(params, "X"), P.get(params, "Y")
    x_flat = isinstance(X_raw, (list, tuple)) and X_raw and not isinstance(X_raw[0], (list, tuple))
    y_flat = isinstance(Y_raw, (list, tuple)) and Y_raw and not isinstance(Y_raw[0], (list, tuple))
    X = P.vector(X_raw, "X")[:, None] if x_flat else P.matrix(X_raw, "X")
    Y = P.vector(Y_raw, "Y", len(X))[:, None] if y_flat else P.matrix(Y_raw, "Y", len(X))
    return X, Y, bool(x_flat), bool(y_flat)


def _rational_matrix(raw: Any, flat: bool) -> sp.Matrix:
    rows = [[v] for v in raw] if flat else raw
    return sp.Matrix([[P.rational(v, "X") for v in row] for row in rows])


@register("linear_regression", "Least squares W with y ~ W x (samples as rows) via the normal equations",
          examples={"strang_line_fit": STRANG_4_3,
                    "two_outputs": {"X": [[1, 0], [0, 1], [1, 1], [2, 1]], "Y": [[1, 2], [0, 1], [2, 2], [3, 5]]},
                    "singular": {"X": [[1, 2], [2, 4], [3, 6]], "Y": [1, 2, 2]}})
def solve(params: dict[str, Any]) -> Solution:
    X_f, Y_f, x_flat, y_flat = _read(params)
    n, p = X_f.shape
    q = Y_f.shape[1]
    exact = X_f.size + Y_f.size <= EXACT_LIMIT
    warnings: list[str] = []
    if exact:
        X = _rational_matrix(params["X"], x_flat)
        Y = _rational_matrix(params["Y"], y_flat)
    else:
        X, Y = X_f, Y_f

    setup = Step(
        "Set up the least-squares problem",
        text=f"{n} samples (the rows of $X$ and $Y$), {p} input features, {q} output(s). We look for the "
             f"{q} × {p} matrix $W$ minimising the sum of squared errors $R(W) = sum_i ||y_i - W x_i||^2$. "
             "The model has no intercept: to fit $y approx W x + b$, add a column of ones to $X$.",
        inputs={"X": X, "Y": Y})
    XtX = X.T * X if exact else X.T @ X
    YtX = Y.T * X if exact else Y.T @ X
    normal = Step(
        "Normal equations",
        text="Setting the gradient $dR/dW = -2 (Y^T X - W X^T X)$ to zero gives $W (X^T X) = Y^T X$.",
        math=[[_XT * _X, XtX], [_YT * _X, YtX]])
    rank = int(np.linalg.matrix_rank(X_f)) if not exact else X.rank()
    steps = [setup, normal]
    if rank == p:
        if exact:
            inverse = XtX.inv()
            W = YtX * inverse
            det = XtX.det()
        else:
            inverse = np.linalg.inv(XtX)
            W = np.linalg.solve(XtX, YtX.T).T
            det = float(np.linalg.det(XtX))
        steps.append(Step(
            "Solve the normal equations",
            text="$X$ has full column rank, so $X^T X$ is invertible and the solution is unique.",
            math=[[sp.Function("det")(_XT * _X), det], [(_XT * _X) ** -1, inverse],
                  [Sym("W"), _YT * _X * (_XT * _X) ** -1, W]]))
    else:
        pinv = X.pinv() if exact else np.linalg.pinv(X_f)
        W = Y.T * pinv.T if exact else Y_f.T @ pinv.T
        if exact:
            W = sp.Matrix(W).applyfunc(sp.nsimplify)
        message = (f"$X^T X$ is singular ($X$ has rank {rank} < {p} features): the normal equations have many "
                   "solutions, all with the same risk; $W$ is the one of least norm, $Y^T (X^(+))^T$ with the "
                   "pseudo-inverse $X^(+)$")
        warnings.append(SolverWarning(SINGULAR, message))
        steps.append(Step("Solve the normal equations (singular case)", text=message + ".",
                          values={"X^+": pinv}, math=[[Sym("W"), W]]))

    pred = X * W.T if exact else X_f @ np.asarray(W, dtype=float).T
    resid = Y - pred
    rows, risk = [], 0
    for i in range(n):
        r_i = resid[i, :] if exact else resid[i]
        se = sum(v * v for v in (list(r_i) if exact else r_i.tolist()))
        risk += se
        rows.append([i + 1, _vec(X, i, exact), _vec(Y, i, exact), _vec(pred, i, exact), se])
    steps.append(Step("Predictions and the risk",
                      text="Each prediction is $W x_i$; the risk is the sum of the squared errors.",
                      table=Table(["sample", "$x_i$", "$y_i$", "$W x_i$", "squared error"], rows),
                      result={"R(W)": risk}))

    W_out = np.asarray(np.array(W.tolist() if exact else W, dtype=float))
    answer = {"W": W_out[0].tolist() if y_flat else W_out.tolist(), "risk": float(risk),
              "normal_equations": {"XtX": _floats(XtX, exact), "YtX": _floats(YtX, exact),
                                   "equation": "W XtX = YtX"}}
    exact_values = {}
    if exact:
        rows_exact = [list(W.row(i)) for i in range(q)]
        exact_values = {"W": rows_exact[0] if y_flat else rows_exact, "risk": risk}
        answer["W_exact"] = exact_str(exact_values["W"])
        answer["risk_exact"] = str(risk)
    normalized = {"X": X_f[:, 0].tolist() if x_flat else X_f.tolist(), "Y": Y_f[:, 0].tolist() if y_flat
                  else Y_f.tolist()}
    return Solution("linear_regression", normalized, steps, answer, warnings, exact_values)


def _vec(M: Any, i: int, exact: bool) -> Any:
    row = list(M.row(i)) if exact else M[i].tolist()
    return row[0] if len(row) == 1 else row


def _floats(M: Any, exact: bool) -> list[list[float]]:
    return np.asarray(M.tolist() if exact else M, dtype=float).tolist()
