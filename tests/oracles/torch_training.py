"""Oracles for the training kinds, written independently of solvers/: torch.optim's own optimizers
(optimizer_step) and torch.nn.functional with autograd (batchnorm, conv2d_backprop, bptt, transformer_block)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp
import torch

DT = torch.float64


def _num(v):
    return float(Fraction(v)) if isinstance(v, str) else float(v)


def _t(x):
    return torch.tensor(np.asarray(x, dtype=float), dtype=DT)


def _optimizer(params, p):
    name = params["optimizer"]
    kw = {"lr": _num(params["lr"])}
    for key in ("momentum", "dampening", "weight_decay", "alpha", "eps", "initial_accumulator_value"):
        if params.get(key) is not None:
            kw[key] = _num(params[key])
    if params.get("betas") is not None:
        kw["betas"] = tuple(_num(b) for b in params["betas"])
    if params.get("centered") is not None:
        kw["centered"] = params["centered"]
    if name in ("sgd", "momentum", "nesterov"):
        return torch.optim.SGD([p], nesterov=name == "nesterov", **kw)
    return {"adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}[name]([p], **kw)


BUFFERS = ("momentum_buffer", "sum", "square_avg", "grad_avg", "exp_avg", "exp_avg_sq")


def optimizer_step(params):
    p = _t([_num(v) for v in params["params"]]).requires_grad_(True)
    opt = _optimizer(params, p)
    if params.get("gradients") is not None:
        grads = [_t([_num(v) for v in g]) for g in params["gradients"]]
        f = None
    else:
        names = params["variables"] if isinstance(params["variables"], list) else [params["variables"]]
        syms = sp.symbols(names, real=True)
        expr = sp.sympify(str(params["objective"]).replace("^", "**"), locals=dict(zip(names, syms, strict=True)))
        f = sp.lambdify(syms, expr, modules=[{"exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt}, "math"])
        grads = [None] * params.get("steps", 1)
    iterates, states, used = [p.detach().numpy().copy()], [], []
    for g in grads:
        opt.zero_grad()
        if f is None:
            p.grad = g.clone()
        else:
            f(*p).backward()
        used.append(p.grad.numpy().copy())
        opt.step()
        iterates.append(p.detach().numpy().copy())
        state = opt.state[p]
        states.append({k: state[k].numpy().copy() for k in BUFFERS if torch.is_tensor(state.get(k))})
    return {"iterates": iterates, "gradients": used, "final": iterates[-1], "_state": states}


ORACLES = {"optimizer_step": lambda p: {k: v for k, v in optimizer_step(p).items() if not k.startswith("_")}}


def batchnorm(params):
    x = _t(params["X"]).requires_grad_(True)
    C = x.shape[1]
    gamma = _t(params.get("gamma", [1] * C)).requires_grad_(True)
    beta = _t(params.get("beta", [0] * C)).requires_grad_(True)
    rm = _t(params.get("running_mean", [0] * C))
    rv = _t(params.get("running_var", [1] * C))
    train = params.get("mode", "train") == "train"
    y = torch.nn.functional.batch_norm(x, rm, rv, gamma, beta, training=train,
                                       momentum=_num(params.get("momentum", 0.1)), eps=_num(params.get("eps", 1e-5)))
    dims = [0] + list(range(2, x.dim()))
    out = {"output": y.detach().numpy(), "running_mean_after": rm.numpy(), "running_var_after": rv.numpy()}
    if train:
        out["mean"] = x.detach().mean(dim=dims).numpy()
        out["variance"] = x.detach().var(dim=dims, unbiased=False).numpy()
    if params.get("upstream") is not None:
        (y * _t(params["upstream"])).sum().backward()
        out.update(grad_X=x.grad.numpy(), grad_gamma=gamma.grad.numpy(), grad_beta=beta.grad.numpy())
    return out


ORACLES["batchnorm"] = batchnorm


ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh, "linear": lambda v: v}


def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def conv2d_backprop(params):
    x = _t(params["input"])
    x = (x[None] if x.dim() == 2 else x).requires_grad_(True)
    k = _t(params["kernel"])
    k = (k[None, None] if k.dim() == 2 else k[None] if k.dim() == 3 else k).requires_grad_(True)
    bias = params.get("bias", [0.0] * k.shape[0])
    b = _t(bias if isinstance(bias, list) else [bias]).requires_grad_(True)
    v = torch.nn.functional.conv2d(x[None], k, b, stride=_pair(params.get("stride", 1)),
                                   padding=_pair(params.get("padding", 0)))[0]
    v.retain_grad()
    a = ACT[params.get("activation", "linear")](v)
    a.retain_grad()
    out = {"output": v.detach().numpy(), "output_shape": list(v.shape), "activated": a.detach().numpy()}
    final = a
    pool = params.get("pool")
    if pool:
        size, stride = _pair(pool["size"]), _pair(pool.get("stride") or pool["size"])
        if pool["kind"] == "max":
            final, idx = torch.nn.functional.max_pool2d(a[None], size, stride, return_indices=True)
            final, idx = final[0], idx[0]
            W = a.shape[2]
            out["pool_routing"] = torch.stack([idx // W, idx % W], dim=-1).numpy()
        else:
            final = torch.nn.functional.avg_pool2d(a[None], size, stride)[0]
        out.update(pooled=final.detach().numpy(), pooled_shape=list(final.shape))
    up = _t(params["upstream"])
    (final * up.reshape(final.shape)).sum().backward()
    out.update(grad_activated=a.grad.numpy(), grad_pre_activation=v.grad.numpy(), grad_kernel=k.grad.numpy(),
               grad_bias=b.grad.numpy(), grad_input=x.grad.numpy())
    return out


ORACLES["conv2d_backprop"] = conv2d_backprop


OUT = {**ACT, "softmax": lambda v: torch.softmax(v, dim=-1)}


def bptt(params):
    xs = _t(params["inputs"])
    U = _t(params["U"]).requires_grad_(True)
    n = U.shape[0]
    W = _t(params["W"]).requires_grad_(True)
    b = _t(params.get("b", [0.0] * n)).requires_grad_(True)
    V = _t(params.get("V", np.eye(n).tolist())).requires_grad_(True)
    c = _t(params.get("c", [0.0] * V.shape[0])).requires_grad_(True)
    s0 = _t(params.get("s0", [0.0] * n)).requires_grad_(True)
    act, out_act = ACT[params.get("activation", "tanh")], OUT[params.get("output_activation", "linear")]
    loss_name = params.get("loss", "se")
    s, states, pres, outputs, loss = s0, [], [], [], 0
    for x, target in zip(xs, params["targets"], strict=True):
        a = U @ x + W @ s + b
        a.retain_grad()
        s = act(a)
        y = out_act(V @ s + c)
        pres.append(a)
        states.append(s.detach().numpy().copy())
        outputs.append(y.detach().numpy().copy())
        if target is not None:
            t = _t(target if isinstance(target, list) else [target])
            if loss_name == "se":
                loss = loss + ((y - t) ** 2).sum()
            elif loss_name == "mse":
                loss = loss + torch.nn.functional.mse_loss(y, t)
            else:
                loss = loss - (t * torch.log(y)).sum()
    loss.backward()
    def grad(v):  # a step after the last target gets no gradient at all
        return np.zeros(tuple(v.shape)) if v.grad is None else v.grad.numpy()

    return {"states": states, "outputs": outputs, "loss": loss.item(), "deltas": [grad(a) for a in pres],
            "grad_U": U.grad.numpy(), "grad_W": W.grad.numpy(), "grad_b": b.grad.numpy(), "grad_V": V.grad.numpy(),
            "grad_c": c.grad.numpy(), "grad_s0": s0.grad.numpy()}


ORACLES["bptt"] = bptt


FFN_ACT = {"relu": torch.relu, "gelu": torch.nn.functional.gelu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "linear": lambda v: v}


def transformer_block(params):
    """The block from torch.nn.functional: scaled_dot_product_attention (with its own causal mask), layer_norm."""
    F = torch.nn.functional
    X = _t(params["X"])
    n, d = X.shape
    causal = params.get("mask", "none") == "causal"

    def ln(Z, spec):
        spec = spec or {}
        return F.layer_norm(Z, (d,), _t(spec.get("gamma", [1.0] * d)), _t(spec.get("beta", [0.0] * d)),
                            eps=_num(spec.get("eps", 1e-5)))

    pre = params.get("norm", "post") == "pre"
    Z = ln(X, params.get("ln_1")) if pre else X
    outs, weights = [], []
    for head in params["heads"]:
        q, k, v = Z @ _t(head["W_Q"]).T, Z @ _t(head["W_K"]).T, Z @ _t(head["W_V"]).T
        scale = params.get("scale")
        outs.append(F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=causal,
                                                   scale=None if scale is None else _num(scale))[0])
        s = (q @ k.T) * (1 / q.shape[1] ** 0.5 if scale is None else _num(scale))
        if causal:
            s = s.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
        weights.append(torch.softmax(s, dim=-1))
    concat = torch.cat(outs, dim=1)
    attention = concat @ _t(params["W_O"]).T
    ffn = params["ffn"]
    hidden_dim = len(ffn["W1"])

    def feed_forward(Z):
        hidden = FFN_ACT[ffn.get("activation", "relu")](Z @ _t(ffn["W1"]).T + _t(ffn.get("b1", [0.0] * hidden_dim)))
        return hidden, hidden @ _t(ffn["W2"]).T + _t(ffn.get("b2", [0.0] * d))

    residual_1 = X + attention
    if pre:
        norm_1 = Z
        norm_2 = ln(residual_1, params.get("ln_2"))
        hidden, ffn_out = feed_forward(norm_2)
        residual_2 = residual_1 + ffn_out
        output = residual_2
    else:
        norm_1 = ln(residual_1, params.get("ln_1"))
        hidden, ffn_out = feed_forward(norm_1)
        residual_2 = norm_1 + ffn_out
        norm_2 = ln(residual_2, params.get("ln_2"))
        output = norm_2
    return {"concat": concat.numpy(), "attention_output": attention.numpy(), "residual_1": residual_1.numpy(),
            "norm_1": norm_1.numpy(), "ffn_hidden": hidden.numpy(), "ffn_output": ffn_out.numpy(),
            "residual_2": residual_2.numpy(), "norm_2": norm_2.numpy(), "output": output.numpy(),
            "_weights": [w.numpy() for w in weights]}


ORACLES["transformer_block"] = lambda p: {k: v for k, v in transformer_block(p).items() if not k.startswith("_")}
