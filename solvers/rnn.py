"""A recurrent network unrolled over a sequence: a simple RNN cell or an LSTM cell.

Simple cell (`cell: simple`, the default):
    s_t = act(U x_t + W s_(t-1) + b),   y_t = out_act(V s_t + c),   t = 1..T,
with U (n x d), W (n x n), b [zeros], V (m x n) [identity], c [zeros], s0 [zeros], act [tanh] (tanh,
sigmoid, relu, linear) and out_act [linear] (linear, sigmoid, tanh, relu, softmax).

LSTM cell (`cell: lstm`), in PyTorch's gate order i, f, g, o: U (4n x d), W (4n x n) and b (4n) stack the
four gates' matrices as row blocks, exactly like torch.nn.LSTMCell's weight_ih, weight_hh and
bias_ih + bias_hh. With z_t = U x_t + W s_(t-1) + b split into four blocks of n:
    i_t = sigmoid(z_i), f_t = sigmoid(z_f), g_t = tanh(z_g), o_t = sigmoid(z_o),
    cell_t = f_t * cell_(t-1) + i_t * g_t,   s_t = o_t * tanh(cell_t)   (products elementwise),
starting from s0 and `cell0` [zeros]; the output y_t = out_act(V s_t + c) is as above (`activation` does
not apply). Answers: `states` (s_1..s_T), `outputs` (y_1..y_T); for lstm also `gates` (per step
{i, f, g, o}) and `cells` (cell_1..cell_T).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import params as P
from .activations import ACTIVATIONS as TABLE
from .activations import choices
from .core import Figure, Solution, Step
from .errors import ParamError
from .registry import register

STATE_ACTIVATIONS = choices("tanh", "sigmoid", "relu", "linear")
OUTPUT_ACTIVATIONS = choices(*STATE_ACTIVATIONS, "softmax")


def _nc(name: str) -> sp.Symbol:
    return sp.Symbol(name, commutative=False)


def _apply(fn: str, arg: sp.Expr) -> sp.Expr:
    return arg if fn == "linear" else sp.Function(fn)(arg)


# In the spirit of mock final Q6 (transliteration): one-hot letters in, a 2-unit tanh state, a softmax over
# 3 output letters at each step.
SEQ2SEQ = {
    "inputs": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    "U": [[1, -1, 0.5], [0, 1, -1]], "W": [[0.5, 0], [-0.5, 1]], "b": [0, 0.1],
    "V": [[1, 0], [0, 1], [-1, 1]], "c": [0, 0, 0.5], "output_activation": "softmax",
}
LSTM_EXAMPLE = {
    "cell": "lstm",
    "inputs": [[1], [-1]],
    "U": [[1], [0.5], [2], [-1]], "W": [[0.5], [0], [-1], [1]], "b": [0, 1, 0, 0],
}


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["inputs", "U", "W", "b", "V", "c", "s0", "cell0", "activation", "output_activation",
                          "cell"])
    cell = P.choice(P.get(params, "cell", "simple"), "cell", ["simple", "lstm"])
    xs = P.matrix(P.get(params, "inputs"), "inputs")
    d = xs.shape[1]
    U = P.matrix(P.get(params, "U"), "U", None, d)
    rows = U.shape[0]
    if cell == "lstm":
        if rows % 4:
            raise ParamError("U", f"an LSTM's U stacks the gates i, f, g, o: expected 4n rows, got {rows}")
        if params.get("activation") is not None:
            raise ParamError("activation", "does not apply to an LSTM cell (its gates use sigmoid and tanh)")
    elif params.get("cell0") is not None:
        raise ParamError("cell0", "only an LSTM cell has a cell state")
    n = rows // 4 if cell == "lstm" else rows
    W = P.matrix(P.get(params, "W"), "W", rows, n)
    b = P.vector(P.get(params, "b", [0] * rows), "b", rows)
    V = P.matrix(P.get(params, "V", np.eye(n).tolist()), "V", None, n)
    c = P.vector(P.get(params, "c", [0] * V.shape[0]), "c", V.shape[0])
    s0 = P.vector(P.get(params, "s0", [0] * n), "s0", n)
    cell0 = P.vector(P.get(params, "cell0", [0] * n), "cell0", n)
    act = P.choice(P.get(params, "activation", "tanh"), "activation", STATE_ACTIVATIONS)
    out_act = P.choice(P.get(params, "output_activation", "linear"), "output_activation", OUTPUT_ACTIVATIONS)
    return {"cell": cell, "inputs": xs, "U": U, "W": W, "b": b, "V": V, "c": c, "s0": s0, "cell0": cell0,
            "activation": act, "output_activation": out_act, "n": n}


@register("rnn", "A simple RNN or an LSTM unrolled over a sequence: states, outputs (and gates)",
          examples={"seq2seq_transliteration": SEQ2SEQ, "lstm_one_unit": LSTM_EXAMPLE})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    xs, U, W, b, V, c = r["inputs"], r["U"], r["W"], r["b"], r["V"], r["c"]
    n, lstm = r["n"], r["cell"] == "lstm"
    act, out_act = r["activation"], r["output_activation"]
    s, cell = r["s0"], r["cell0"]
    states, outputs, cells, gates = [], [], [], []
    y_eq = _apply(out_act, _nc("V") * _nc("s_t") + _nc("c"))
    if lstm:
        intro = ("LSTM cell, gates in PyTorch's order $i, f, g, o$: $z_t = U x_t + W s_(t-1) + b$ is split into four "
                 f"blocks of $n = {n}$; $i, f, o$ are the sigmoid of their blocks, $g$ the tanh of its block; "
                 "$cell_t = f_t * cell_(t-1) + i_t * g_t$ and $s_t = o_t * tanh(cell_t)$, products elementwise.")
        given = {"s_0": s, "cell_0": cell}
    else:
        intro = (f"Simple recurrent cell: $s_t = {act}(U x_t + W s_(t-1) + b)$, starting from $s_0$."
                 if act != "linear" else "Simple recurrent cell: $s_t = U x_t + W s_(t-1) + b$, starting from $s_0$.")
        given = {"s_0": s}
    intro += f" Output $y_t = {out_act}(V s_t + c)$." if out_act != "linear" else " Output $y_t = V s_t + c$."
    architecture = Figure("rnn_architecture", {
        "input_size": int(xs.shape[1]), "state_size": int(n), "output_size": int(V.shape[0]), "steps": len(xs),
        "cell": r["cell"], "activation": act, "output_activation": out_act},
        "The network unrolled over the steps: inputs $x_t$, embedded by $U$ into the recurrent units, which pass "
        "their state on through $W$ and give the outputs $y_t$ through $V$.")
    steps = [Step("The recurrence", text=intro, inputs={"U": U, "W": W, "b": b, "V": V, "c": c, **given},
                  figure=architecture)]
    for t, x in enumerate(xs, start=1):
        z = U @ x + W @ s + b
        pre = _nc("U") * _nc(f"x_{t}") + _nc("W") * _nc(f"s_{t - 1}") + _nc("b")
        step = Step(f"Time step {t}", inputs={f"x_{t}": x})
        if lstm:
            blocks = {name: z[k * n:(k + 1) * n] for k, name in enumerate("ifgo")}
            gate = {name: TABLE["tanh" if name == "g" else "sigmoid"].array(v) for name, v in blocks.items()}
            cell = gate["f"] * cell + gate["i"] * gate["g"]
            s = gate["o"] * TABLE["tanh"].array(cell)
            step.math = [[_nc(f"z_{t}"), pre, z]]
            step.math += [[_nc(f"{name}_{t}"), _apply("tanh" if name == "g" else "sigmoid", _nc(f"z_{name}")),
                           gate[name]] for name in "ifgo"]
            step.math.append([_nc(f"cell_{t}"), _nc(f"f_{t}") * _nc(f"cell_{t - 1}") + _nc(f"i_{t}") * _nc(
                f"g_{t}"), cell])
            step.math.append([_nc(f"s_{t}"), _nc(f"o_{t}") * sp.Function("tanh")(_nc(f"cell_{t}")), s])
            gates.append({name: v.tolist() for name, v in gate.items()})
            cells.append(cell.tolist())
        else:
            s = TABLE[act].array(z)
            step.math = [[_nc(f"a_{t}"), pre, z], [_nc(f"s_{t}"), _apply(act, _nc(f"a_{t}")), s]]
        y = TABLE[out_act].array(V @ s + c)
        step.math.append([_nc(f"y_{t}"), y_eq.subs(_nc("s_t"), _nc(f"s_{t}")), y])
        states.append(s.tolist())
        outputs.append(y.tolist())
        steps.append(step)
    steps.append(Step("States and outputs", result={"s": states, "y": outputs}))
    answer: dict[str, Any] = {"states": states, "outputs": outputs}
    if lstm:
        answer |= {"gates": gates, "cells": cells}
    normalized = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r.items() if k != "n"}
    if not lstm:
        normalized.pop("cell0")
    else:
        normalized.pop("activation")
    return Solution("rnn", normalized, steps, answer, [])
