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
    x = torch.tensor(params["x"], dtype=torch.float64)
    Ws, bs, vs, acts = [], [], [], []
    a = x
    for layer in params["layers"]:
        W = torch.tensor(layer["W"], dtype=torch.float64, requires_grad=True)
        b = torch.tensor(layer.get("b") or [0.0] * W.shape[0], dtype=torch.float64, requires_grad=True)
        v = W @ a + b
        v.retain_grad()
        a = _act(layer["activation"], v, float(layer.get("slope", 1)))
        if a.requires_grad:
            a.retain_grad()
        Ws.append(W), bs.append(b), vs.append(v), acts.append(a)
    out = {"pre_activations": [v.tolist() for v in vs], "activations": [t.tolist() for t in acts],
           "output": acts[-1].tolist(), "loss": None}
    if params.get("loss") is None:
        return out
    target = params["target"]
    t = torch.tensor(target if isinstance(target, list) else [target], dtype=torch.float64)
    loss = _loss(params["loss"], acts[-1], t)
    loss.backward()

    def grad(tensor):
        return torch.zeros_like(tensor) if tensor.grad is None else tensor.grad

    out.update(loss=loss.item(), output_gradient=grad(acts[-1]).tolist(), deltas=[grad(v).tolist() for v in vs],
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
    return {"loss": out["loss"], "output_gradient": out["output_gradient"]}


ORACLES = {"forward_pass": forward_pass, "backprop": backprop}
