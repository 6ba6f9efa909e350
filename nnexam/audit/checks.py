"""Checks of homework statements with small reference code: what the statement's code really does.

A key names one with `check:` instead of `kind:`; it returns an answer (a dict of fields the claims
address) and the sampling tolerance of each field (0 where the value is computed, not sampled).

- `kmeans_network_step`: HW7 Q1's k-means network (centres C as a parameter, scores x C_i^T - ||C_i||^2/2,
  times `softmax_scale`, softmax, reconstruction softmax C, error x_rec - x0, MSELoss against zeros) takes one
  real torch SGD step on a batch whose points sit near their own centres (so the softmax acts as an argmax).
  Reading C_i(t) = (1 - alpha) C_i(t-1) + alpha m_i(t) off the step gives `alpha`, scaled to clusters of the
  equal size b/k the homework assumes (a cluster of n points moves by a factor proportional to n).
- `generation_noise`: HW7 Q2's line `z2 = enc_mode*z + (2-enc_mode)*torch.randn(z.shape)`, sampled many
  times for a fixed z: `noise_mean` and `noise_variance` of z2 - enc_mode*z, per coordinate, averaged.
- `derivative`: the derivative of `function` in `variable` (HW5's phi'), by sympy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from solvers import params as P

REDUCTIONS = ("mean", "batch_mean", "sum")


def kmeans_network_step(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    import torch
    from torch import nn

    P.no_unknown(params, ["batch_size", "num_clusters", "dim", "learning_rate", "reduction", "softmax_scale"])
    b = P.integer(P.get(params, "batch_size"), "batch_size", low=1, high=4096)
    k = P.integer(P.get(params, "num_clusters"), "num_clusters", low=1, high=b)
    dim = P.integer(P.get(params, "dim"), "dim", low=k, high=100_000)
    eta = float(P.number(P.get(params, "learning_rate"), "learning_rate"))
    reduction = P.choice(P.get(params, "reduction", "mean"), "reduction", REDUCTIONS)
    scale = float(P.number(P.get(params, "softmax_scale", 20), "softmax_scale"))

    class KMeansNet(nn.Module):
        def __init__(self, centers: torch.Tensor):
            super().__init__()
            self.centers = nn.Parameter(centers.clone())
            self.flatten = nn.Flatten()
            self.softmax = nn.Softmax(dim=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x0 = self.flatten(x)
            x = torch.matmul(x0, self.centers.t()) - 0.5 * torch.sum(self.centers ** 2, 1).flatten()
            x = self.softmax(scale * x)
            return torch.matmul(x, self.centers) - x0

    gen = torch.Generator().manual_seed(0)
    block = dim // k
    centers = torch.zeros(k, dim, dtype=torch.float64)
    for i in range(k):
        centers[i, i * block:(i + 1) * block] = 1.0
    labels = torch.arange(b) % k
    batch = 0.8 * centers[labels] + 0.05 * torch.rand(b, dim, generator=gen, dtype=torch.float64)
    model = KMeansNet(centers).double()
    out = model(batch)
    target = torch.zeros_like(out)
    if reduction == "batch_mean":
        loss = (out ** 2).sum(dim=1).mean()
    else:
        loss = nn.MSELoss(reduction=reduction)(out, target)
    optimizer = torch.optim.SGD(model.parameters(), lr=eta)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    after = model.centers.detach()
    alphas = []
    for i in range(k):
        members = batch[labels == i]
        m = members.mean(dim=0)
        direction = centers[i] - m
        moved = centers[i] - after[i]
        alpha_i = float(torch.dot(moved, direction) / torch.dot(direction, direction))
        alphas.append(alpha_i * (b / k) / len(members))
    alpha = sum(alphas) / len(alphas)
    return {"alpha": alpha, "alpha_per_cluster": alphas}, {"alpha": 1e-6 * max(1.0, abs(alpha))}


def generation_noise(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    import torch

    P.no_unknown(params, ["enc_mode", "dim", "samples"])
    enc_mode = P.integer(P.get(params, "enc_mode"), "enc_mode", low=0, high=1)
    dim = P.integer(P.get(params, "dim", 10), "dim", low=1, high=1000)
    samples = P.integer(P.get(params, "samples", 20000), "samples", low=100, high=1_000_000)
    torch.manual_seed(0)
    z = torch.linspace(-1.0, 1.0, dim).repeat(samples, 1)
    z2 = enc_mode * z + (2 - enc_mode) * torch.randn(z.shape)
    noise = (z2 - enc_mode * z).double()
    mean = float(noise.mean())
    variance = float(noise.var(dim=0).mean())
    n = samples * dim
    # six standard errors: of a mean (sd/sqrt(n)) and of a Gaussian variance (var*sqrt(2/n))
    return ({"noise_mean": mean, "noise_variance": variance, "noise_std": variance ** 0.5},
            {"noise_mean": 6 * variance ** 0.5 / n ** 0.5, "noise_variance": 6 * variance * (2 / n) ** 0.5,
             "noise_std": 3 * variance ** 0.5 * (2 / n) ** 0.5})


def derivative(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    """The derivative of `function` (an expression) in `variable`, e.g. an activation's phi'."""
    P.no_unknown(params, ["function", "variable"])
    variable = P.get(params, "variable")
    if not isinstance(variable, str) or not variable.isidentifier():
        raise P.ParamError("variable", f"expected a variable name, got {variable!r}")
    function = P.expression(P.get(params, "function"), "function", [variable])
    import sympy as sp

    symbol = next((s for s in function.free_symbols if s.name == variable), sp.Symbol(variable))
    return {"function": str(function), "derivative": str(sp.diff(function, symbol))}, {}


CHECKS: dict[str, Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, float]]]] = {
    "kmeans_network_step": kmeans_network_step,
    "generation_noise": generation_noise,
    "derivative": derivative,
}
