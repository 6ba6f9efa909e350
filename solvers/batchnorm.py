"""Batch normalization forward and backward, in training and in evaluation mode, as torch's batch_norm.

Statistics are per feature of an N x C batch, or per channel over N, H and W of an N x C x H x W batch (m values
each). Training uses the batch's mean mu and biased variance s^2 = (1/m) sum (x - mu)^2; evaluation uses the
running ones, unchanged:
    x_hat = (x - mu) / sqrt(s^2 + eps),   y = gamma x_hat + beta.
Training also updates running = (1 - momentum) running + momentum statistic, with the unbiased variance
m/(m - 1) s^2. With the upstream gradient dy = dL/dy:
    dL/dbeta = sum dy,   dL/dgamma = sum dy x_hat,
    train: dL/dx = gamma / (m sqrt(s^2 + eps)) (m dy - sum dy - x_hat sum dy x_hat)   (mu, s^2 depend on x),
    eval:  dL/dx = gamma dy / sqrt(s^2 + eps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import params as P
from .conv2d import depth
from .core import Solution, Step, Sym
from .errors import ParamError
from .registry import register

# The cheat sheet's batch norm (mu_j, sigma_j^2, x_hat, y = gamma x_hat + beta), "WRITE BATCHNORM BACKPROP":
# a batch of 4 samples with 2 features, and an upstream gradient.
CHEAT_SHEET = {"X": [[1, 2], [3, 6], [5, 4], [7, 0]], "gamma": [1, 0.5], "beta": [0, 1],
               "upstream": [[1, 0], [0, 1], [-1, 0], [0, -1]]}


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["X", "gamma", "beta", "eps", "mode", "running_mean", "running_var", "momentum",
                          "upstream"])
    raw = P.get(params, "X")
    rank = depth(raw)
    if rank not in (2, 4):
        raise ParamError("X", "expected an N x C matrix or an N x C x H x W array")
    X = P.array(raw, "X", rank)
    C = X.shape[1]
    r = {"X": X, "C": C}
    r["gamma"] = P.vector(P.get(params, "gamma", [1] * C), "gamma", C)
    r["beta"] = P.vector(P.get(params, "beta", [0] * C), "beta", C)
    r["eps"] = P.number(P.get(params, "eps", 1e-5), "eps", nonnegative=True)
    r["mode"] = P.choice(P.get(params, "mode", "train"), "mode", ["train", "eval"])
    r["running_mean"] = P.vector(P.get(params, "running_mean", [0] * C), "running_mean", C)
    r["running_var"] = P.vector(P.get(params, "running_var", [1] * C), "running_var", C)
    if (r["running_var"] < 0).any():
        c = int(np.argmax(r["running_var"] < 0))
        raise ParamError(f"running_var[{c}]", f"a variance is >= 0, got {r['running_var'][c]:g}")
    r["momentum"] = P.number(P.get(params, "momentum", 0.1), "momentum", low=0, high=1)
    r["upstream"] = None
    if params.get("upstream") is not None:
        r["upstream"] = P.array(params["upstream"], "upstream", rank, X.shape)
    r["m"] = X.size // C
    if r["mode"] == "train" and r["m"] < 2:
        raise ParamError("X", "training needs more than one value per channel (torch refuses too): add samples or "
                              "use mode: eval")
    return r


@register("batchnorm", "Batch normalization forward and backward, train and eval, with the running statistics",
          examples={"cheat_sheet_train_backward": CHEAT_SHEET,
                    "eval_running_stats": {"X": [[1, 2], [3, 6]], "gamma": [2, 1], "beta": [0.5, 0], "mode": "eval",
                                           "running_mean": [2, 3], "running_var": [4, 1],
                                           "upstream": [[1, -1], [0.5, 2]]},
                    "conv_channels": {"X": [[[[1, 2], [3, 4]], [[0, 1], [1, 0]]],
                                            [[[2, 0], [1, 1]], [[2, 2], [0, 1]]]],
                                      "gamma": [1, 2], "beta": [0, -1], "momentum": 0.5,
                                      "upstream": [[[[1, 0], [0, 0]], [[0, 1], [1, 0]]],
                                                   [[[0, 0], [0, -1]], [[1, 0], [0, 1]]]]}})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    with np.errstate(all="ignore"):  # an overflow is refused below, without numpy's warnings
        return _solve(r)


def _solve(r: dict[str, Any]) -> Solution:
    X, C, m, eps = r["X"], r["C"], r["m"], r["eps"]
    axes = (0,) if X.ndim == 2 else (0, 2, 3)
    shape = (1, C) if X.ndim == 2 else (1, C, 1, 1)
    train = r["mode"] == "train"
    per_channel = "feature" if X.ndim == 2 else "channel (over N, H, W)"
    steps = []
    if train:
        mean = X.mean(axis=axes)
        var = ((X - mean.reshape(shape)) ** 2).mean(axis=axes)
        steps.append(Step("Batch mean", text=f"Per {per_channel}: $mu_c = (1/m) sum x$, with $m = {m}$ values.",
                          inputs={"X": X}, result={"mu": mean}))
        steps.append(Step("Batch variance (biased)", text="$sigma_c^2 = (1/m) sum (x - mu_c)^2$, divided by $m$, "
                                                          "not $m - 1$ (the normalization uses the biased "
                                                          "variance).",
                          result={"sigma^2": var}))
    else:
        mean, var = r["running_mean"], r["running_var"]
        steps.append(Step("Evaluation mode: the running statistics",
                          text="In eval mode the layer normalizes with the running mean and variance; the batch's "
                               "own statistics are not used and the running ones do not change.",
                          inputs={"X": X}, result={"mu": mean, "sigma^2": var}))
    zero = [c for c in range(C) if var[c] + eps <= 0]
    if zero:
        where = "running_var" if not train else "X"
        raise ParamError("eps", f"{per_channel.split()[0]} {zero[0]} has variance 0 ({where}) and eps = 0: the "
                                "normalization would divide by 0; use eps > 0")
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (X - mean.reshape(shape)) * inv_std.reshape(shape)
    output = r["gamma"].reshape(shape) * x_hat + r["beta"].reshape(shape)
    steps.append(Step("Normalize", text="$x_hat = (x - mu_c) / s_c$ with $s_c = sqrt(sigma_c^2 + epsilon)$: "
                                        "$epsilon$ inside the square root.",
                      values={"epsilon": eps, "s": np.sqrt(var + eps)}, result={"x_hat": x_hat}))
    steps.append(Step("Scale and shift", text="$y = gamma_c x_hat + beta_c$.",
                      inputs={"gamma": r["gamma"], "beta": r["beta"]}, result={"y": output}))
    if train:
        unbiased = var * m / (m - 1)
        rm = (1 - r["momentum"]) * r["running_mean"] + r["momentum"] * mean
        rv = (1 - r["momentum"]) * r["running_var"] + r["momentum"] * unbiased
        steps.append(Step("Running statistics",
                          text="running statistic $<- (1 - momentum) * running + momentum * batch$, with the "
                               f"unbiased variance $m/(m - 1) sigma^2 = {m}/{m - 1} sigma^2$ (as PyTorch).",
                          inputs={"momentum": r["momentum"], "running_mean": r["running_mean"],
                                  "running_var": r["running_var"]},
                          values={"sigma^2_unbiased": unbiased},
                          result={"running mean after": rm, "running var after": rv}))
    else:
        rm, rv = r["running_mean"], r["running_var"]
    answer: dict[str, Any] = {"mean": mean.tolist(), "variance": var.tolist(), "x_hat": x_hat.tolist(),
                              "output": output.tolist(), "running_mean_after": rm.tolist(),
                              "running_var_after": rv.tolist()}
    if r["upstream"] is not None:
        dy = r["upstream"]
        grad_beta = dy.sum(axis=axes)
        grad_gamma = (dy * x_hat).sum(axis=axes)
        g = r["gamma"].reshape(shape) * inv_std.reshape(shape)
        if train:
            grad_X = g / m * (m * dy - grad_beta.reshape(shape) - x_hat * grad_gamma.reshape(shape))
            text = ("Backward in training mode: $mu$ and $sigma^2$ depend on every $x$ of the batch, so "
                    "$dL/dx = gamma / (m sqrt(sigma^2 + epsilon)) (m dy - sum dy - x_hat sum dy x_hat)$ with "
                    f"$dy = dL/dy$, sums per {per_channel.split()[0]}.")
        else:
            grad_X = g * dy
            text = ("Backward in eval mode: the statistics are constants, so "
                    "$dL/dx = gamma dy / sqrt(sigma^2 + epsilon)$ with $dy = dL/dy$.")
        steps.append(Step("Backward pass", text=text, inputs={"dL/dy": dy},
                          math=[[Sym("dL/dbeta"), Sym("sum dy"), grad_beta],
                                [Sym("dL/dgamma"), Sym("sum dy x_hat"), grad_gamma]],
                          result={"dL/dX": grad_X}))
        answer.update(grad_X=grad_X.tolist(), grad_gamma=grad_gamma.tolist(), grad_beta=grad_beta.tolist())
    bad = [k for k, v in answer.items() if not np.all(np.isfinite(np.asarray(v, dtype=float)))]
    if bad:
        raise ParamError("X", f"the values overflow ({bad[0]} is not finite): use smaller numbers")
    normalized: dict[str, Any] = {"X": X.tolist(), "gamma": r["gamma"].tolist(), "beta": r["beta"].tolist(),
                                  "eps": eps, "mode": r["mode"], "running_mean": r["running_mean"].tolist(),
                                  "running_var": r["running_var"].tolist(), "momentum": r["momentum"]}
    if r["upstream"] is not None:
        normalized["upstream"] = r["upstream"].tolist()
    return Solution("batchnorm", normalized, steps, answer, [])
