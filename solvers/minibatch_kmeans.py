"""Minibatch k-means as a network trained by SGD (Homework 7): the factor alpha of one step and the
bias/variance balance of the homework's last pages.

The network: scores 20 (x C^T - 1/2 ||C||^2), softmax, reconstruction softmax(.) C, error e = recon - x,
loss on e against zeros. With the softmax behaving like an argmax, the reconstruction of x_n is its nearest
centre C_a(n) and no gradient flows through the scores, so for the loss L = (1/N) sum_n ||C_a(n) - x_n||^2
  dL/dC_i = (2/N) sum_{n in V_i} (C_i - x_n) = (2 |V_i| / N) (C_i - m_i),
  C_i <- C_i - eta dL/dC_i = (1 - alpha) C_i + alpha m_i,   alpha = 2 eta |V_i| / N,
with |V_i| = b/k (equal clusters) and N the loss's normaliser: 1 (sum), b (batch_mean), b D (mean, which
is torch.nn.MSELoss's default: it averages over every element, the D coordinates included).
Bias and variance of the minibatch average (one coordinate, pixel scale a):
  bias ~ a (1 - alpha) / alpha,   variance ~ (a^2 / b) alpha^2 / (1 - (1 - alpha)^2) = (a^2 / b) alpha / (2 - alpha),
equal where b (2 - alpha) (1 - alpha)^2 = alpha^3: one root in (0, 1) (the left side falls from 2b to 0, the
right side rises from 0 to 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import params as P
from .core import Figure, Solution, SolverWarning, Step, Sym, Table
from .registry import register

# warning codes (SolverWarning.code)
UNEQUAL_CLUSTERS = "unequal_clusters"
ALPHA_DIVERGES = "alpha_diverges"
ALPHA_OVERSHOOTS = "alpha_overshoots"

HW7 = {"batch_size": 64, "num_clusters": 10, "dim": 784, "learning_rate": 4.5, "reduction": "batch_mean"}
NORMALISER = {"sum": "1", "batch_mean": "b", "mean": "b D"}

_a, _b, _k, _D, _eta = sp.symbols("alpha b k D eta", positive=True)


def _read(params: dict[str, Any]):
    P.no_unknown(params, ["batch_size", "num_clusters", "dim", "learning_rate", "reduction"])
    b = P.integer(P.get(params, "batch_size"), "batch_size", low=1, high=10**9)
    k = P.integer(P.get(params, "num_clusters"), "num_clusters", low=1, high=b)
    reduction = P.choice(P.get(params, "reduction"), "reduction", ["batch_mean", "mean", "sum"])
    if reduction == "mean":
        D = P.integer(P.get(params, "dim"), "dim", low=1, high=10**9)
    else:
        D = P.integer(params["dim"], "dim", low=1, high=10**9) if params.get("dim") is not None else None
    eta = P.rational(P.get(params, "learning_rate"), "learning_rate", positive=True)
    return b, k, D, eta, reduction


def alpha_of(eta: Any, b: int, k: int, D: int | None, reduction: str) -> Any:
    """alpha = 2 eta |V_i| / N with |V_i| = b/k and N = 1, b or b D."""
    size = sp.Rational(b, k)
    norm = {"sum": 1, "batch_mean": b, "mean": b * (D or 1)}[reduction]
    return 2 * eta * size / norm


def balance_alpha(b: int) -> sp.Expr:
    """The root in (0, 1) of b (2 - alpha) (1 - alpha)^2 - alpha^3 (bias^2 = variance)."""
    poly = sp.Poly(b * (2 - _a) * (1 - _a) ** 2 - _a**3, _a)
    roots = [r for r in poly.real_roots() if 0 < r.evalf(30) < 1]
    return roots[0]


@register("minibatch_kmeans", "Minibatch k-means by SGD (Homework 7): the update factor alpha and the "
          "bias/variance balance", examples={"hw7_batch_mean": HW7, "hw7_torch_mse_mean": {**HW7, "reduction": "mean"},
                                             "hw7_sum": {**HW7, "reduction": "sum"}})
def solve(params: dict[str, Any]) -> Solution:
    b, k, D, eta, reduction = _read(params)
    warnings: list[str] = []
    if b % k:
        warnings.append(SolverWarning(UNEQUAL_CLUSTERS, f"the batch size {b} is not a multiple of the {k} "
                                      f"clusters: the equal clusters of $b/k = {b / k:g}$ points are an average"))
    alpha = alpha_of(eta, b, k, D, reduction)
    steps = [Step(
        "The network and its loss",
        text="Each centre $C_i$ is a row of $C$. The scores $20 (x C_i^T - 1/2 ||C_i||^2)$ go through a softmax; "
             "assuming it behaves like an argmax, the reconstruction of $x_n$ is its nearest centre $C_(a(n))$, "
             "and no gradient flows back through the scores. The loss compares the error $C_(a(n)) - x_n$ with "
             f"zero, with the reduction `{reduction}`: the summed squared errors "
             "$S = sum_n ||C_(a(n)) - x_n||^2$ are divided by "
             f"$N = {NORMALISER[reduction]}$.",
        math=[[Sym("L"), sp.Mul(sp.Pow(sp.Symbol("N"), -1), sp.Symbol("S")), ],
              [Sym("N"), {"sum": sp.Integer(1), "batch_mean": _b, "mean": _b * _D}[reduction],
               {"sum": 1, "batch_mean": b, "mean": b * (D or 1)}[reduction]]],
        inputs={"b": b, "k": k, **({"D": D} if D is not None else {}), "eta": eta})]
    size = sp.Rational(b, k)
    steps.append(Step(
        "Gradient and the update",
        text="Only the centre a point is assigned to receives its gradient: "
             "$dL/dC_i = (2/N) sum_(x_n in V_i) (C_i - x_n) = (2 |V_i| / N)(C_i - m_i)$, with $m_i$ the mean of the "
             "batch's points in cell $V_i$. One SGD step $C_i <- C_i - eta dL/dC_i$ is then "
             f"$C_i <- (1 - alpha) C_i + alpha m_i$. With equal clusters $|V_i| = b/k = {size}$.",
        math=[[Sym("alpha"), 2 * _eta * sp.Symbol("|V_i|") / sp.Symbol("N"),
               {"sum": 2 * _eta * _b / _k, "batch_mean": 2 * _eta / _k, "mean": 2 * _eta / (_k * _D)}[reduction],
               alpha, float(alpha)]]))
    if alpha >= 2:
        warnings.append(SolverWarning(ALPHA_DIVERGES, f"$alpha = {float(alpha):.4g} >= 2$: each step moves the "
                                      "centres further from the batch means than they were, so the updates diverge"))
    elif alpha > 1:
        warnings.append(SolverWarning(ALPHA_OVERSHOOTS, f"$alpha = {float(alpha):.4g} > 1$: each step overshoots the "
                                      "batch mean (the homework's unstable region, $eta$ beyond the value that gives "
                                      "$alpha = 1$)"))

    root = balance_alpha(b)
    a_star = float(root.evalf(30))
    eta_per_alpha = 1 / alpha_of(sp.Integer(1), b, k, D, reduction)
    eta_star = a_star * float(eta_per_alpha)
    bias2 = ((1 - _a) / _a) ** 2
    var = _a / (_b * (2 - _a))
    steps.append(Step(
        "Bias and variance of the minibatch average",
        text="Unrolling the update, $C(T) approx sum_s alpha (1 - alpha)^s m(T - s)$: a geometric average of the "
             "batch means. With the homework's model $m(t) = M + a (T - t) + a Z_t / sqrt(b)$, the bias is $a$ "
             "times the mean age $(1 - alpha)/alpha$ of that average, and the variance is $a^2/b$ times the sum of "
             "the squared weights, $alpha^2 / (1 - (1 - alpha)^2) = alpha/(2 - alpha)$. The scale $a$ cancels in "
             "the balance.",
        math=[[sp.Symbol("bias^2") / sp.Symbol("a") ** 2, bias2],
              [sp.Symbol("variance") / sp.Symbol("a") ** 2, _a**2 / (_b * (1 - (1 - _a) ** 2)), var]]))
    cubic = sp.expand(b * (2 - _a) * (1 - _a) ** 2 - _a**3)
    balance = Step(
        "Balance the squared bias and the variance",
        text="Setting $((1 - alpha)/alpha)^2 = (1/b) alpha/(2 - alpha)$ and clearing denominators gives "
             "$b (2 - alpha)(1 - alpha)^2 = alpha^3$, a cubic with one root in $(0, 1)$. The learning rate that "
             f"gives it under the reduction `{reduction}` is $eta = alpha N / (2 |V_i|)$.",
        math=[[sp.Eq(cubic, 0)], [Sym("alpha^*"), a_star], [Sym("eta^*"), eta_per_alpha * _a, eta_star]])
    etas = np.linspace(0.02, 1.0, 200) * float(eta_per_alpha)
    alphas = etas / float(eta_per_alpha)
    balance.figure = Figure("curves", {
        "series": [{"label": "$bias^2 / a^2 = ((1 - alpha)/alpha)^2$", "x": etas.tolist(),
                    "y": (((1 - alphas) / alphas) ** 2).tolist()},
                   {"label": "$variance / a^2 = alpha / (b (2 - alpha))$", "x": etas.tolist(),
                    "y": (alphas / (b * (2 - alphas))).tolist()}],
        "markers": [{"x": eta_star, "y": ((1 - a_star) / a_star) ** 2,
                     "label": f"balance: $eta = {eta_star:.4g}$, $alpha = {a_star:.4g}$"}],
        "vline": {"x": float(eta), "label": f"given $eta = {float(eta):g}$"} if float(alpha) <= 1 else None,
        "xlabel": f"learning rate $eta$ (reduction {reduction.replace('_', ' ')}; $alpha = 1$ at "
                  f"$eta = {float(eta_per_alpha):.4g}$)",
        "ylabel": "relative error", "log": True, "title": f"$Bias^2$ and variance for $b = {b}$"},
        f"Squared bias and variance of the minibatch centres against the learning rate, $b = {b}$, $k = {k}$; "
        "they cross at the balance point.")
    steps.append(balance)
    steps.append(_comparison(b, k, D, eta, a_star))

    answer = {"alpha": float(alpha), "balance_alpha": a_star, "balance_learning_rate": eta_star,
              "alpha_exact": str(alpha)}
    normalized = {"batch_size": b, "num_clusters": k, "learning_rate": float(eta), "reduction": reduction}
    if D is not None:
        normalized["dim"] = D
    return Solution("minibatch_kmeans", normalized, steps, answer, warnings, {"alpha": alpha})


def _comparison(b: int, k: int, D: int | None, eta: sp.Rational, a_star: float) -> Step:
    """alpha and the balancing eta under every reduction, for these b, k (and D)."""
    rows = []
    for reduction in ("batch_mean", "mean", "sum"):
        if reduction == "mean" and D is None:
            continue
        per = alpha_of(sp.Integer(1), b, k, D, reduction)
        rows.append([f"`{reduction}`", f"$N = {NORMALISER[reduction]}$", per * _eta,
                     float(alpha_of(eta, b, k, D, reduction)),
                     a_star / float(per)])
    text = ("The factor depends on how the loss is reduced. The homework's $alpha = eta/5$ ($b = 64$, $k = 10$) "
            "is the `batch_mean` case, $2 eta/k$; `torch.nn.MSELoss`'s default `'mean'` also divides by the $D$ "
            "coordinates, which makes $alpha$ $D$ times smaller for the same $eta$.")
    return Step("The factor under each reduction", text=text,
                table=Table(["reduction", "normaliser", "$alpha$", f"$alpha$ at $eta = {float(eta):g}$",
                             "balancing $eta$"], rows))
