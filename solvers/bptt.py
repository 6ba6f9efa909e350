"""Backpropagation through time for a simple RNN, fully unrolled (lecture 24: "unrolled ... and trained using
standard backpropagation").

Forward, t = 1..T:  a_t = U x_t + W s_(t-1) + b,  s_t = act(a_t),  o_t = V s_t + c,  y_t = out_act(o_t).
Loss: L = sum over the steps with a target of l(y_t, t_t): se sum_k (y - t)^2, mse its mean over the step's
outputs, ce -sum_k t log y (softmax outputs). Backward, from t = T down to 1, with delta_(T+1) = 0:
    dL/do_t = out_act'(o_t)^T dL/dy_t        (softmax with ce: y_t sum(t_t) - t_t; 0 without a target),
    dL/ds_t = V^T dL/do_t + W^T delta_(t+1),  delta_t = dL/da_t = dL/ds_t * act'(a_t)   (relu'(0) = 0),
    grad_V = sum_t dL/do_t s_t^T, grad_c = sum_t dL/do_t, grad_U = sum_t delta_t x_t^T,
    grad_W = sum_t delta_t s_(t-1)^T, grad_b = sum_t delta_t, grad_s0 = W^T delta_1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import params as P
from .core import Solution, Step, Sym
from .errors import ParamError
from .networks import LOSS_NAMES
from .registry import register

ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")
OUTPUT_ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "softmax")
LOSSES = ("se", "mse", "ce")
MAX_STEPS = 200

# Lecture 24's character model over {h, e, l, o, end}: after "h", "e", "l", "l" predict "e", "l", "l", "o" (one-hot
# letters, a 2-unit tanh state, softmax outputs, cross-entropy at every step).
HELL = {"inputs": [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0]],
        "U": [[0.5, -0.5, 1, 0, 0], [0, 1, -1, 0.5, 0]], "W": [[0.5, 0.25], [-0.25, 0.5]],
        "V": [[1, 0], [0, 1], [1, 1], [-1, 1], [0, -1]], "output_activation": "softmax", "loss": "ce",
        "targets": [[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0]]}
MANY_TO_ONE = {"inputs": [[1], [-1], [2]], "U": [[1], [0.5]], "W": [[0.5, 0], [0.5, -0.5]], "b": [0, 0.1],
               "V": [[1, -1]], "targets": [None, None, [1]], "loss": "se"}


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(v / 2))


def _act(name: str, v: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.tanh(v)
    if name == "sigmoid":
        return _sigmoid(v)
    if name == "relu":
        return np.maximum(v, 0)
    if name == "softmax":
        e = np.exp(v - v.max())
        return e / e.sum()
    return v


def _act_back(name: str, v: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """act'(v)^T grad (elementwise, or the softmax Jacobian diag(y) - y y^T)."""
    if name == "tanh":
        return grad * (1 - y * y)
    if name == "sigmoid":
        return grad * y * (1 - y)
    if name == "relu":
        return grad * (v > 0)
    if name == "softmax":
        return y * (grad - y @ grad)
    return grad


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["inputs", "U", "W", "b", "V", "c", "s0", "activation", "output_activation", "cell",
                          "targets", "loss"])
    P.choice(P.get(params, "cell", "simple"), "cell", ["simple"])
    xs = P.matrix(P.get(params, "inputs"), "inputs")
    if len(xs) > MAX_STEPS:
        raise ParamError("inputs", f"at most {MAX_STEPS} time steps, got {len(xs)}")
    d = xs.shape[1]
    U = P.matrix(P.get(params, "U"), "U", None, d)
    n = U.shape[0]
    W = P.matrix(P.get(params, "W"), "W", n, n)
    b = P.vector(P.get(params, "b", [0] * n), "b", n)
    V = P.matrix(P.get(params, "V", np.eye(n).tolist()), "V", None, n)
    m = V.shape[0]
    c = P.vector(P.get(params, "c", [0] * m), "c", m)
    s0 = P.vector(P.get(params, "s0", [0] * n), "s0", n)
    act = P.choice(P.get(params, "activation", "tanh"), "activation", ACTIVATIONS)
    out_act = P.choice(P.get(params, "output_activation", "linear"), "output_activation", OUTPUT_ACTIVATIONS)
    loss = P.choice(P.get(params, "loss", "se"), "loss", LOSSES)
    if loss == "ce" and out_act != "softmax":
        raise ParamError("loss", "ce is the cross-entropy of softmax outputs: set output_activation: softmax")
    raw = P.get(params, "targets")
    if not isinstance(raw, (list, tuple)) or len(raw) != len(xs):
        raise ParamError("targets", f"expected {len(xs)} targets (one per step, null where there is none)")
    targets = []
    for t, target in enumerate(raw):
        if target is None:
            targets.append(None)
            continue
        if not isinstance(target, (list, tuple)) and m == 1:
            target = [target]
        vec = P.vector(target, f"targets[{t}]", m)
        if loss == "ce" and (vec < 0).any():
            raise ParamError(f"targets[{t}]", "cross-entropy targets are probabilities (>= 0)")
        targets.append(vec)
    if all(t is None for t in targets):
        raise ParamError("targets", "no step has a target, so there is no loss to backpropagate")
    return {"inputs": xs, "U": U, "W": W, "b": b, "V": V, "c": c, "s0": s0, "activation": act,
            "output_activation": out_act, "loss": loss, "targets": targets}


def _loss(loss: str, y: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    if loss == "se":
        return float(((y - t) ** 2).sum()), 2 * (y - t)
    if loss == "mse":
        return float(((y - t) ** 2).mean()), 2 * (y - t) / len(y)
    return float(-(t[t != 0] * np.log(y[t != 0])).sum()), -np.divide(t, y, out=np.zeros_like(t), where=t != 0)


@register("bptt", "Backpropagation through time for a simple RNN: the unrolled forward pass, the deltas per step "
          "and the gradients of U, W, b, V, c, s0",
          examples={"lecture_24_hell_to_ello": HELL, "many_to_one_se": MANY_TO_ONE,
                    "relu_mse_two_steps": {"inputs": [[1, 0], [0, 1]], "U": [[1, -1], [0.5, 1]],
                                           "W": [[0.5, 0], [0, 0.5]], "activation": "relu",
                                           "targets": [[1, 0], [0, 1]], "loss": "mse"}})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    with np.errstate(all="ignore"):  # an overflow is refused below, without numpy's warnings
        return _solve(r)


def _solve(r: dict[str, Any]) -> Solution:
    xs, U, W, b, V, c = r["inputs"], r["U"], r["W"], r["b"], r["V"], r["c"]
    act, out_act, loss = r["activation"], r["output_activation"], r["loss"]
    T = len(xs)
    states, pres, outs, ys = [r["s0"]], [], [], []
    steps = [Step("The unrolled network",
                  text=(f"$a_t = U x_t + W s_(t-1) + b$, $s_t = {act}(a_t)$, "
                        "$o_t = V s_t + c$, "
                        f"$y_t = {out_act}(o_t)$. The loss is the {LOSS_NAMES[loss]} summed over the steps "
                        "with a target. "
                        "Unrolled, the RNN is a feedforward network whose layers share $U, W, b, V, c$, so each "
                        "gradient sums over the time steps."),
                  inputs={"U": U, "W": W, "b": b, "V": V, "c": c, "s_0": r["s0"]})]
    forward = Step("Forward pass")
    total = 0.0
    dys = []
    for t, x in enumerate(xs, start=1):
        a = U @ x + W @ states[-1] + b
        s = _act(act, a)
        o = V @ s + c
        y = _act(out_act, o)
        pres.append(a)
        states.append(s)
        outs.append(o)
        ys.append(y)
        target = r["targets"][t - 1]
        child = Step(f"t = {t}", inputs={f"x_{t}": x},
                     math=[[Sym(f"a_{t}"), a], [Sym(f"s_{t}"), s], [Sym(f"y_{t}"), y]])
        if target is not None:
            value, dy = _loss(loss, y, target)
            total += value
            child.math.append([Sym(f"l_{t}"), value])
            dys.append(dy)
        else:
            dys.append(np.zeros_like(y))
            child.text = "No target at this step: it adds nothing to the loss."
        forward.children.append(child)
    steps.append(forward)
    steps.append(Step("Loss", text="L adds the losses of the steps with a target.", result={"L": total}))
    n, m = len(b), len(c)
    grads = {"U": np.zeros_like(U), "W": np.zeros_like(W), "b": np.zeros(n), "V": np.zeros_like(V),
             "c": np.zeros(m)}
    deltas = [None] * T
    after = np.zeros(n)
    backward = Step("Backward pass, from the last step to the first",
                    text="At each step the state gradient has two sources: the step's own output ($V^T dL/do_t$) "
                         "and the next step's state ($W^T delta_(t+1)$, 0 after the last step).")
    for t in range(T, 0, -1):
        i = t - 1
        target = r["targets"][i]
        if target is None:
            do = np.zeros(m)
        elif loss == "ce":
            do = ys[i] * target.sum() - target
        else:
            do = _act_back(out_act, outs[i], ys[i], dys[i])
        ds = V.T @ do + W.T @ after
        delta = _act_back(act, pres[i], states[t], ds)
        deltas[i] = delta
        grads["V"] += np.outer(do, states[t])
        grads["c"] += do
        grads["U"] += np.outer(delta, xs[i])
        grads["W"] += np.outer(delta, states[i])
        grads["b"] += delta
        backward.children.append(Step(f"t = {t}", math=[[Sym(f"dL/do_{t}"), do], [Sym(f"dL/ds_{t}"), ds],
                                                        [Sym(f"delta_{t}"), delta]]))
        after = delta
    grad_s0 = W.T @ deltas[0]
    if act == "relu" and any((a == 0).any() for a in pres):
        backward.text += " Where $a_t = 0$, $ReLU'(0)$ is taken as 0 (PyTorch's convention)."
    steps.append(backward)
    steps.append(Step("Gradients: sums over the time steps",
                      text="$grad_U = sum_t delta_t x_t^T$, $grad_W = sum_t delta_t s_(t-1)^T$, "
                           "$grad_b = sum_t delta_t$, $grad_V = sum_t dL/do_t s_t^T$, $grad_c = sum_t dL/do_t$, "
                           "$grad_(s_0) = W^T delta_1$.",
                      result={f"grad_{k}": v for k, v in grads.items()} | {"grad_s_0": grad_s0}))
    answer = {"states": [s.tolist() for s in states[1:]], "outputs": [y.tolist() for y in ys], "loss": total,
              "deltas": [d.tolist() for d in deltas]} | {f"grad_{k}": v.tolist() for k, v in grads.items()} | {
        "grad_s0": grad_s0.tolist()}
    if not all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in answer.values()):
        raise ParamError("inputs", "the values overflow (beyond 1e308): use smaller weights or fewer steps")
    normalized = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items() if k != "targets"}
    normalized["targets"] = [None if t is None else t.tolist() for t in r["targets"]]
    return Solution("bptt", normalized, steps, answer, [])
