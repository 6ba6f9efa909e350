"""Oracles for optimisation and learning-rule kinds, written independently of solvers/: torch autograd for
gradients, numpy loops for iterations, numpy.linalg for least squares and eigenvalues, scipy-free root finding
by bisection for the bias/variance balance."""

from __future__ import annotations

import numpy as np
import sympy as sp
import torch


def gradient_descent(params):
    """Iterate with torch autograd on the objective (parsed by sympy into a torch-evaluable function)."""
    names = params["variables"] if isinstance(params["variables"], list) else [params["variables"]]
    syms = sp.symbols(names, real=True)
    expr = sp.sympify(str(params["objective"]).replace("^", "**"), locals=dict(zip(names, syms, strict=True)))
    f = sp.lambdify(syms, expr, modules=[{"exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt}, "math"])
    bare = not isinstance(params["start"], list)
    start = [params["start"]] if bare else params["start"]
    eta = float(sp.Rational(str(params["learning_rate"])))
    w = torch.tensor([float(sp.Rational(str(v))) for v in start], dtype=torch.float64)
    points = [w.clone()]
    for _ in range(params["iterations"]):
        w = w.clone().requires_grad_(True)
        value = f(*w)
        (grad,) = torch.autograd.grad(value, w)
        w = (w - eta * grad).detach()
        points.append(w.clone())
    iterates = np.array([p.numpy() for p in points])
    out = {"iterates": iterates[:, 0] if bare else iterates}
    if sp.Poly(expr, *syms).total_degree() == 2:
        H = np.array(sp.hessian(expr, syms).tolist(), dtype=float)
        lam = np.linalg.eigvalsh(H)
        c = np.array([float(sp.diff(expr, s).subs({v: 0 for v in syms})) for s in syms])
        out.update({"hessian_eigenvalues": lam, "critical_learning_rate": 2 / lam[-1]})
        if abs(np.linalg.det(H)) > 1e-12:  # a singular Hessian has no unique stationary point
            w_star = np.linalg.solve(H, -c)
            out.update({"converges": bool(lam[0] > 0 and eta < 2 / lam[-1]),
                        "stationary_points": [float(w_star[0]) if bare else w_star.tolist()],
                        "distance_to_optimum": np.linalg.norm(iterates - w_star, axis=1)})
    return out


def linear_regression(params):
    X = np.asarray(params["X"], dtype=float)
    Y = np.asarray(params["Y"], dtype=float)
    X2 = X[:, None] if X.ndim == 1 else X
    Y2 = Y[:, None] if Y.ndim == 1 else Y
    B, *_ = np.linalg.lstsq(X2, Y2, rcond=None)  # X2 B ~ Y2, so W = B^T
    W = B.T
    risk = float(((Y2 - X2 @ B) ** 2).sum())
    return {"W": W[0] if Y.ndim == 1 else W, "risk": risk}


def hebbian(params):
    x = np.asarray(params["points"], dtype=float)
    w = np.asarray(params["initial_weights"], dtype=float).copy()
    eta = float(params["learning_rate"])
    weights = []
    for _ in range(params.get("epochs", 1)):
        for xi in x:
            v = w @ xi
            y = np.sign(v) if params["output"] == "sign" else v
            if params["rule"] == "hebb":
                w = w + eta * y * xi
            elif params["rule"] == "oja":
                w = w + eta * y * (xi - y * w)
            else:
                w = float(params["alpha"]) * w + eta * y * xi
            weights.append(w.copy())
    return {"final_weights": w, "_weights": weights}


def minibatch_kmeans(params):
    """alpha from the gradient of the reduced loss at equal clusters; the balance by bisection on
    bias^2 - variance, which falls from +inf to -1/b on (0, 1]."""
    b, k, eta = params["batch_size"], params["num_clusters"], float(params["learning_rate"])
    norm = {"sum": 1.0, "batch_mean": float(b), "mean": float(b * params.get("dim", 1))}[params["reduction"]]
    per_eta = 2 * (b / k) / norm

    def gap(a):
        return ((1 - a) / a) ** 2 - (1 / b) * a**2 / (1 - (1 - a) ** 2)

    lo, hi = 1e-9, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
    return {"alpha": per_eta * eta, "balance_alpha": lo, "balance_learning_rate": lo / per_eta}


ORACLES = {"gradient_descent": gradient_descent,
           "linear_regression": linear_regression,
           "hebbian": lambda p: {"final_weights": hebbian(p)["final_weights"]},
           "minibatch_kmeans": minibatch_kmeans}
