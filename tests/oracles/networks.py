"""Oracles for forward_pass and backprop: the same network built in PyTorch (float64), gradients by autograd.

`network(params)` returns every answer field (lists per layer); `ORACLES` returns the fields the shared
suite can compare as one array (the per-layer lists are ragged, tests/test_forward_backprop.py checks them).
"""

from __future__ import annotations

import torch


def _act(name, v, slope):
    if name == "sigmoid":
        return torch.sigmoid(slope * v)
    if name == "relu":
        return torch.relu(v)
    if name == "tanh":
        return torch.tanh(v)
    if name == "linear":
        return v
    if name == "softmax":
        return torch.softmax(v, dim=0)
    if name == "step":
        return v * 0 + (v >= 0).to(v.dtype)  # derivative 0, as for any step
    return torch.sign(v)


def _loss(name, a, t):
    if name == "se":
        return ((a - t) ** 2).sum()
    if name == "mse":
        return torch.nn.functional.mse_loss(a, t)
    if name == "bce":
        return torch.nn.functional.binary_cross_entropy(a, t)
    return -(t * torch.log(a)).sum()


def network(params):
    """Every answer field; with `batch`, per-sample lists (output_gradient[s], deltas[s][l]) and the summed
    gradients of the reduced loss plus the penalty weight_decay/2 sum W^2 + l1 sum |W|."""
    batched = params.get("batch") is not None
    samples = params["batch"] if batched else [{"x": params["x"], "target": params.get("target")}]
    Ws, bs = [], []
    for layer in params["layers"]:
        W = torch.tensor(layer["W"], dtype=torch.float64, requires_grad=True)
        Ws.append(W)
        bs.append(torch.tensor(layer.get("b") or [0.0] * W.shape[0], dtype=torch.float64, requires_grad=True))
    runs = []
    for sample in samples:
        a = torch.tensor(sample["x"], dtype=torch.float64)
        vs, acts = [], []
        for layer, W, b in zip(params["layers"], Ws, bs, strict=True):
            v = W @ a + b
            v.retain_grad()
            a = _act(layer["activation"], v, float(layer.get("slope", 1)))
            if a.requires_grad:
                a.retain_grad()
            vs.append(v), acts.append(a)
        runs.append((vs, acts))
    out = {"pre_activations": [v.tolist() for v in runs[0][0]], "activations": [t.tolist() for t in runs[0][1]],
           "output": runs[0][1][-1].tolist(), "loss": None}
    if params.get("loss") is None:
        return out
    losses = []
    for sample, (_, acts) in zip(samples, runs, strict=True):
        target = sample["target"]
        t = torch.tensor(target if isinstance(target, list) else [target], dtype=torch.float64)
        losses.append(_loss(params["loss"], acts[-1], t))
    loss = torch.stack(losses).sum() / (len(samples) if params.get("reduction", "mean") == "mean" else 1)
    wd, l1 = float(params.get("weight_decay", 0)), float(params.get("l1", 0))
    penalty = sum(wd / 2 * (W**2).sum() + l1 * W.abs().sum() for W in Ws)
    (loss + penalty).backward()

    def grad(tensor):
        return torch.zeros_like(tensor) if tensor.grad is None else tensor.grad

    per_sample_g = [grad(acts[-1]).tolist() for _, acts in runs]
    per_sample_deltas = [[grad(v).tolist() for v in vs] for vs, _ in runs]
    out.update(loss=loss.item(), penalty=float(penalty.detach()) if torch.is_tensor(penalty) else 0.0,
               output_gradient=per_sample_g if batched else per_sample_g[0],
               deltas=per_sample_deltas if batched else per_sample_deltas[0],
               grad_W=[grad(W).tolist() for W in Ws], grad_b=[grad(b).tolist() for b in bs])
    if params.get("learning_rate") is not None:
        eta = float(params["learning_rate"])
        out["updated_W"] = [(W - eta * grad(W)).tolist() for W in Ws]
        out["updated_b"] = [(b - eta * grad(b)).tolist() for b in bs]
    return out


def forward_pass(params):
    out = network(params)
    return {"output": out["output"], **({"loss": out["loss"]} if out["loss"] is not None else {})}


def backprop(params):
    out = network(params)
    return {"loss": out["loss"], "penalty": out["penalty"], "output_gradient": out["output_gradient"]}


ORACLES = {"forward_pass": forward_pass, "backprop": backprop}
