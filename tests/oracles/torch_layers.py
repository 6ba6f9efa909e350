"""Oracles for the layer kinds (conv2d, layer_shapes, conv1x1_backprop, attention, rnn): PyTorch in float64,
written independently of solvers/ (torch's own conv, pooling, modules, autograd, masked softmax and cells)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DT = torch.float64


def _t(x):
    return torch.tensor(np.asarray(x, dtype=float), dtype=DT)


def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def conv2d(params):
    x = _t(params["input"])
    k = _t(params["kernel"])
    if x.dim() == 2:
        x, k = x[None], k[None]
    out = F.conv2d(x[None], k[None], bias=_t([params.get("bias") or 0]), stride=_pair(params.get("stride") or 1),
                   padding=_pair(params.get("padding") or 0))[0, 0]
    result = {"output": out.numpy(), "output_shape": list(out.shape)}
    pool = params.get("pool")
    if pool:
        size = _pair(pool["size"])
        stride = _pair(pool.get("stride") or pool["size"])
        fn = F.max_pool2d if pool["kind"] == "max" else F.avg_pool2d
        pooled = fn(out[None, None], size, stride)[0, 0]
        result |= {"pooled": pooled.numpy(), "pooled_shape": list(pooled.shape)}
    return result


def build_module(spec, rank):
    """The torch module for one layer spec of `layer_shapes` (rank: of the incoming sample, for batchnorm)."""
    a = {k: v for k, v in spec.items() if k != "type"}
    kind = spec["type"]
    if kind == "conv2d":
        return nn.Conv2d(**a)
    if kind == "conv_transpose2d":
        return nn.ConvTranspose2d(**a)
    if kind == "maxpool2d":
        return nn.MaxPool2d(**a)
    if kind == "avgpool2d":
        return nn.AvgPool2d(**a)
    if kind == "upsample":
        return nn.Upsample(**a)
    if kind == "flatten":
        return nn.Flatten(**a)
    if kind == "unflatten":
        return nn.Unflatten(a["dim"], tuple(a["unflattened_size"]))
    if kind == "linear":
        return nn.Linear(**a)
    if kind == "batchnorm":
        return (nn.BatchNorm2d if rank == 3 else nn.BatchNorm1d)(**a)
    if kind == "dropout":
        return nn.Dropout(**a)
    if kind == "softmax":
        return nn.Softmax(dim=a.get("dim", -1))
    return {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[kind]()


def layer_shapes(params):
    x = torch.zeros((1, *params["input_shape"]), dtype=DT)
    shapes, counts = [], []
    with torch.no_grad():
        for spec in params["layers"]:
            module = build_module(spec, x.dim() - 1).to(DT).eval()
            x = module(x)
            shapes.append(list(x.shape[1:]))
            counts.append(sum(p.numel() for p in module.parameters()))
    return {"shapes": shapes, "parameters": counts, "total_parameters": sum(counts)}


ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh, "linear": lambda v: v}


def conv1x1_backprop(params):
    image = _t(params["image"]).requires_grad_(True)
    w = _t(params["w"]).requires_grad_(True)
    b = _t(params["b"]).requires_grad_(True)
    out = ACT[params["activation"]](w[:, None, None] * image[None] + b[:, None, None])
    (out * _t(params["upstream"])).sum().backward()
    return {"grad_w": w.grad.numpy(), "grad_b": b.grad.numpy(), "grad_image": image.grad.numpy()}


def _edge_mask(edges, n):
    if edges is None:
        return torch.ones(n, n, dtype=torch.bool)
    mask = torch.zeros(n, n, dtype=torch.bool)
    square = len(edges) == n and all(isinstance(r, (list, tuple)) and len(r) == n for r in edges)
    if square and all(v in (0, 1) for r in edges for v in r):
        return _t(edges) != 0
    for v, u in edges:
        mask[v, u] = True
    return mask


def attention(params):
    x = _t(params["X"])
    q, k, v = x @ _t(params["W_Q"]).T, x @ _t(params["W_K"]).T, x @ _t(params["W_V"]).T
    scale = params.get("scale")
    scale = 1 / math.sqrt(k.shape[1]) if scale is None else float(scale)
    scores = scale * q @ k.T
    mask = _edge_mask(params.get("edges"), x.shape[0])
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    weights = torch.nan_to_num(weights, nan=0.0)  # a node without neighbours: an all -inf row
    return {"scores": scores.numpy(), "weights": weights.numpy(), "outputs": (weights @ v).numpy()}


def attention_sdpa(params):
    """The same through torch's fused scaled_dot_product_attention with a boolean mask."""
    x = _t(params["X"])
    q, k, v = x @ _t(params["W_Q"]).T, x @ _t(params["W_K"]).T, x @ _t(params["W_V"]).T
    mask = _edge_mask(params.get("edges"), x.shape[0])
    out = F.scaled_dot_product_attention(q[None], k[None], v[None], attn_mask=mask[None],
                                         scale=params.get("scale"))
    return {"outputs": torch.nan_to_num(out[0], nan=0.0).numpy()}


OUT_ACT = {**ACT, "softmax": lambda v: torch.softmax(v, dim=-1)}


def rnn(params):
    xs = _t(params["inputs"])
    lstm = params.get("cell", "simple") == "lstm"
    U = _t(params["U"])
    n = U.shape[0] // 4 if lstm else U.shape[0]
    W = _t(params["W"])
    b = _t(params["b"]) if params.get("b") is not None else torch.zeros(U.shape[0], dtype=DT)
    V = _t(params["V"]) if params.get("V") is not None else torch.eye(n, dtype=DT)
    c = _t(params["c"]) if params.get("c") is not None else torch.zeros(V.shape[0], dtype=DT)
    h = _t(params["s0"]) if params.get("s0") is not None else torch.zeros(n, dtype=DT)
    if lstm:
        cell = nn.LSTMCell(xs.shape[1], n, dtype=DT)
        cs = _t(params["cell0"]) if params.get("cell0") is not None else torch.zeros(n, dtype=DT)
    elif params.get("activation", "tanh") in ("tanh", "relu"):
        cell = nn.RNNCell(xs.shape[1], n, nonlinearity=params.get("activation", "tanh"), dtype=DT)
    else:  # torch's RNNCell has only tanh and relu: the same recurrence written out
        act = ACT[params["activation"]]

        def cell(x, h):
            return act(x @ U.T + h @ W.T + b)
    with torch.no_grad():
        if isinstance(cell, nn.Module):
            cell.weight_ih.copy_(U)
            cell.weight_hh.copy_(W)
            cell.bias_ih.copy_(b)
            cell.bias_hh.zero_()
        states, cells, outputs = [], [], []
        for x in xs:
            if lstm:
                h, cs = cell(x[None], (h[None], cs[None]))
                h, cs = h[0], cs[0]
                cells.append(cs.numpy().copy())
            else:
                h = cell(x[None], h[None])[0]
            states.append(h.numpy().copy())
            outputs.append(OUT_ACT[params.get("output_activation", "linear")](V @ h + c).numpy())
    result = {"states": states, "outputs": outputs}
    if lstm:
        result["cells"] = cells
    return result


def layer_shapes_counts(params):
    """For the shared suite, which compares arrays: `shapes` is ragged, so tests/test_layer_shapes.py
    compares it in full."""
    expected = layer_shapes(params)
    return {"parameters": expected["parameters"], "total_parameters": expected["total_parameters"]}


ORACLES = {"conv2d": conv2d, "layer_shapes": layer_shapes_counts, "conv1x1_backprop": conv1x1_backprop,
           "attention": attention, "rnn": rnn}
