"""Backpropagation through a fully connected network for one data point (see `solvers.networks`).

With g^(l) = dL/da^(l) and delta^(l) = dL/dv^(l):
    g^(L) = dL/da^(L) from the loss,                   g^(l) = (W^(l+1))^T delta^(l+1) below it,
    delta^(l) = g^(l) * act'(v^(l)) elementwise,        except softmax: delta_j = a_j (g_j - sum_k a_k g_k)
                                                         (its full Jacobian diag(a) - a a^T; with ce: a sum(t) - t),
    grad_W^(l) = delta^(l) (a^(l-1))^T,  grad_b^(l) = delta^(l),
    and with a learning rate eta: W^(l) <- W^(l) - eta grad_W^(l), b^(l) <- b^(l) - eta grad_b^(l).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from . import forward_pass
from . import params as P
from .activations import ACTIVATIONS
from .core import Solution, SolverWarning, Step, Sym, exact_field
from .networks import (
    EXPAND_LIMIT,
    LOSS_GRADIENTS,
    Products,
    all_exact,
    derivative,
    display_number,
    forward,
    forward_steps,
    loss_gradient,
    loss_step,
    loss_value,
    read_network,
)
from .numeric import as_float, exact_str
from .registry import register

# warning codes (SolverWarning.code)
NO_GRADIENT_FLOW = "no_gradient_flow"
RELU_AT_ZERO = "relu_at_zero"

# Homework 5 Q2: the two-layer network W, b -> z -> U, c -> f with the sigmoid of slope a = 5 and the squared
# loss (f - y)^2 (= "se" for one output), one SGD step with eta = 0.01 as in part (d). The homework gives the
# shapes (W 3 x 3, b 3, U 1 x 3, c 1) but no numbers; these are small weights like its N(0, 0.1) start.
HW5_Q2 = {
    "x": [1, -1, 0.5],
    "layers": [
        {"W": [[0.1, -0.2, 0.1], [0.05, 0.1, -0.1], [-0.1, 0.2, 0.2]], "b": [0.1, -0.1, 0.05],
         "activation": "sigmoid", "slope": 5},
        {"W": [[0.2, -0.1, 0.1]], "b": [0.05], "activation": "sigmoid", "slope": 5},
    ],
    "target": [1],
    "loss": "se",
    "learning_rate": 0.01,
}
# The forward pass's study-notes network and softmax example, here with a target and a gradient step.
STUDY_NOTES_321 = {**forward_pass.STUDY_NOTES_321, "target": [1], "loss": "se", "learning_rate": 0.5}
RELU_MSE_EXACT = {
    "x": [1, 2],
    "layers": [
        {"W": [[1, -1], [0.5, 1]], "b": [0, -1], "activation": "relu"},
        {"W": [[1, 2], [-1, 1]], "b": [0.5, 0], "activation": "linear"},
    ],
    "target": [1, 0],
    "loss": "mse",
    "learning_rate": 0.1,
}


@register("backprop", "Backpropagation for one data point: deltas, weight gradients, one gradient step",
          examples={"hw5_q2_sigmoid_slope_5": HW5_Q2, "study_notes_321_sigmoid": STUDY_NOTES_321,
                    "relu_mse_exact": RELU_MSE_EXACT, "softmax_cross_entropy": forward_pass.SOFTMAX_CE})
def solve(params: dict[str, Any]) -> Solution:
    net = read_network(params, extra=("learning_rate",), need_loss=True)
    eta = None
    if params.get("learning_rate") is not None:
        r = P.rational(params["learning_rate"], "learning_rate", positive=True)
        eta = Fraction(int(r.p), int(r.q))
    assert net.target is not None and net.loss is not None
    t, loss = net.target, net.loss
    vs, acts = forward(net)
    output = acts[-1]
    L = loss_value(loss, output, t)
    steps = forward_steps(net, vs, acts)
    steps.append(loss_step(net, output, L))
    warnings: list[str] = []

    g = loss_gradient(loss, output, t)
    last = len(net.layers) - 1
    grad_step = Step(f"Gradient of the loss with respect to the output a^({last})",
                     text=f"For the {loss} loss, {LOSS_GRADIENTS[loss]}.")
    if loss in ("se", "mse") and len(t) <= EXPAND_LIMIT:
        factor = 2 if loss == "se" else Fraction(2, len(t))
        for j, (oj, tj) in enumerate(zip(output, t, strict=True)):
            grad_step.math.append([Sym(f"g_{j + 1}^({last})"), Products.of([[factor, oj - tj]]), g[j]])
    grad_step.math.append([Sym(f"g^({last})"), g])
    steps.append(grad_step)

    deltas: list[list[Any]] = [[] for _ in net.layers]
    upstream = g
    for l in range(last, -1, -1):
        layer, v, a = net.layers[l], vs[l], acts[l]
        prev = net.x if l == 0 else acts[l - 1]
        small = len(v) <= EXPAND_LIMIT and len(prev) <= EXPAND_LIMIT
        step = Step(f"Layer {l}: delta^({l}) = dL/dv^({l}) and the gradients of W^({l}), b^({l})")
        if l < last:
            above = net.layers[l + 1]
            upstream = [sum((above.W[k][j] * deltas[l + 1][k] for k in range(above.outputs)), Fraction(0))
                        for j in range(len(v))]
            step.text = (f"Back through W^({l + 1}): g^({l}) = (W^({l + 1}))^T delta^({l + 1}) is the gradient "
                         f"with respect to a^({l}). ")
            if small and above.outputs <= EXPAND_LIMIT:
                for j in range(len(v)):
                    terms = [[above.W[k][j], deltas[l + 1][k]] for k in range(above.outputs)]
                    step.math.append([Sym(f"g_{j + 1}^({l})"), Products.of(terms), upstream[j]])
            step.math.append([Sym(f"g^({l})"), upstream])
        if layer.activation == "softmax":
            delta = _softmax_delta(step, l, a, upstream, t if l == last and loss == "ce" else None, small)
        else:
            d = derivative(layer, v, a)
            slope = f" with slope {display_number(layer.slope)}: sigma'(v) = {display_number(layer.slope)} " \
                    "sigma(v)(1 - sigma(v))" if layer.activation == "sigmoid" and layer.slope != 1 else ""
            step.text += (f"delta^({l}) = g^({l}) * d^({l}) elementwise, where d^({l}) = {layer.activation}'(v^({l})): "
                          f"{ACTIVATIONS[layer.activation].derivative_formula if not slope else 'sigmoid' + slope}.")
            if layer.activation in ("step", "sign"):
                warnings.append(SolverWarning(NO_GRADIENT_FLOW, f"layer {l} uses {layer.activation}, whose derivative "
                                f"is 0 wherever it is defined: no gradient flows back through it (delta^({l}) = 0, "
                                "and so are the deltas and gradients of the layers before it)"))
                step.text += " No gradient flows back through this layer."
            if layer.activation == "relu" and any(vj == 0 for vj in v):
                units = ", ".join(str(j + 1) for j, vj in enumerate(v) if vj == 0)
                warnings.append(SolverWarning(RELU_AT_ZERO, f"layer {l}: v = 0 at unit(s) {units}, where ReLU has no "
                                                            "derivative; ReLU'(0) is taken as 0, as PyTorch does"))
                step.text += f" At unit(s) {units}, v = 0 and ReLU'(0) is taken as 0 (PyTorch's convention)."
            if small:
                for j in range(len(v)):
                    if layer.activation == "sigmoid":
                        step.math.append([Sym(f"d_{j + 1}^({l})"), Products.of([[layer.slope, a[j], 1 - a[j]]]),
                                          d[j]])
                    elif layer.activation == "tanh":
                        step.math.append([Sym(f"d_{j + 1}^({l})"), Products.of([[1], [-a[j], a[j]]]), d[j]])
            step.math.append([Sym(f"d^({l})"), d])
            delta = [gj * dj for gj, dj in zip(upstream, d, strict=True)]
            if small:
                for j in range(len(v)):
                    step.math.append([Sym(f"delta_{j + 1}^({l})"), Products.of([[upstream[j], d[j]]]), delta[j]])
        step.math.append([Sym(f"delta^({l})"), delta])
        deltas[l] = delta
        step.children.append(Step(
            f"Gradients of layer {l}",
            text=f"grad_W^({l}) = delta^({l}) ({'x' if l == 0 else f'a^({l - 1})'})^T (entry j, i is "
                 f"delta_j a_i) and grad_b^({l}) = delta^({l}).",
            math=[[Sym(f"grad_W^({l})"), _outer(delta, prev)], [Sym(f"grad_b^({l})"), delta]]))
        steps.append(step)

    grad_W = [_outer(deltas[l], net.x if l == 0 else acts[l - 1]) for l in range(len(net.layers))]
    grad_b = deltas
    answer: dict[str, Any] = {"loss": L, "output_gradient": g, "deltas": deltas, "grad_W": grad_W, "grad_b": grad_b}
    if eta is not None:
        new_W = [[[w - eta * gw for w, gw in zip(row, grow, strict=True)]
                  for row, grow in zip(layer.W, gW, strict=True)] for layer, gW in zip(net.layers, grad_W, strict=True)]
        new_b = [[b - eta * gb for b, gb in zip(layer.b, gB, strict=True)]
                 for layer, gB in zip(net.layers, grad_b, strict=True)]
        update = Step("One gradient-descent step",
                      text="W^(l) <- W^(l) - eta grad_W^(l) and b^(l) <- b^(l) - eta grad_b^(l) for every layer.",
                      inputs={"eta": eta})
        for l in range(len(net.layers)):
            update.math.append([Sym(f"W_new^({l})"), new_W[l]])
            update.math.append([Sym(f"b_new^({l})"), new_b[l]])
        steps.append(update)
        answer.update(updated_W=new_W, updated_b=new_b)
    exact = {name: value for name, value in answer.items() if all_exact(value)}
    for name, value in exact.items():
        answer[exact_field(name)] = exact_str(value)
    for name in ("loss", "output_gradient", "deltas", "grad_W", "grad_b", "updated_W", "updated_b"):
        if name in answer:
            answer[name] = as_float(answer[name])
    normalized: dict[str, Any] = {"x": net.x, "layers": [layer.normalized() for layer in net.layers],
                                  "target": t, "loss": loss}
    if eta is not None:
        normalized["learning_rate"] = eta
    forward_pass_values = {"pre_activations": as_float(vs), "activations": as_float(acts), "output": as_float(output)}
    return Solution("backprop", normalized, steps, answer, warnings, exact, details=forward_pass_values)


def _outer(delta: list[Any], prev: list[Any]) -> list[list[Any]]:
    return [[dj * ai for ai in prev] for dj in delta]


def _softmax_delta(step: Step, l: int, a: list[Any], g: list[Any], ce_target: list[Any] | None,
                   small: bool) -> list[Any]:
    """delta = J^T g with the softmax Jacobian J = diag(a) - a a^T: delta_j = a_j (g_j - sum_k a_k g_k)."""
    if ce_target is not None:
        total = sum(ce_target, Fraction(0))
        step.text += (f"Softmax output with the cross-entropy loss: the full Jacobian diag(a) - a a^T of the softmax "
                      f"times g gives delta^({l}) = a^({l}) sum_k t_k - t"
                      + (" = a - t, since the target sums to 1." if total == 1 else "."))
        delta = [aj * total - tj for aj, tj in zip(a, ce_target, strict=True)]
        if small:
            for j in range(len(a)):
                terms = [[a[j]] if total == 1 else [a[j], total], [-ce_target[j]]]
                step.math.append([Sym(f"delta_{j + 1}^({l})"), Products.of(terms), delta[j]])
        return delta
    s = sum(aj * gj for aj, gj in zip(a, g, strict=True))
    step.text += (f"A softmax layer mixes its units, so delta^({l}) uses its full Jacobian diag(a) - a a^T: "
                  f"delta_j = a_j (g_j - s) with s = sum_k a_k g_k.")
    if small:
        step.math.append([Sym(f"s^({l})"), Products.of([[aj, gj] for aj, gj in zip(a, g, strict=True)]), s])
    delta = [aj * (gj - s) for aj, gj in zip(a, g, strict=True)]
    if small:
        for j in range(len(a)):
            step.math.append([Sym(f"delta_{j + 1}^({l})"), Products.of([[a[j], g[j] - s]]), delta[j]])
    return delta
