"""Backpropagation through a fully connected network for one data point or a minibatch (see `solvers.networks`).

With g^(l) = dL/da^(l) and delta^(l) = dL/dv^(l):
    g^(L) = dL/da^(L) from the loss,                   g^(l) = (W^(l+1))^T delta^(l+1) below it,
    delta^(l) = g^(l) * act'(v^(l)) elementwise,        except softmax: delta_j = a_j (g_j - sum_k a_k g_k)
                                                         (its full Jacobian diag(a) - a a^T; with ce: a sum(t) - t),
    grad_W^(l) = delta^(l) (a^(l-1))^T,  grad_b^(l) = delta^(l),
    and with a learning rate eta: W^(l) <- W^(l) - eta grad_W^(l), b^(l) <- b^(l) - eta grad_b^(l).

A minibatch (`batch`: samples {x, target}) has the loss L = (1/B) sum_s L_s (`reduction: mean`) or sum_s L_s
(`sum`); each sample's output gradient, and so its deltas, carry that factor, and grad_W^(l) = sum_s
delta_s^(l) (a_s^(l-1))^T. Regularization adds the penalty weight_decay/2 sum W^2 + l1 sum |W| (reported
apart from `loss`) and so weight_decay W + l1 sign(W) to every weight gradient (sign(0) = 0); biases are
not decayed.
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
    LOSS_NAMES,
    LOSSES,
    Network,
    Products,
    all_exact,
    check_target_range,
    derivative,
    display_number,
    forward,
    forward_steps,
    loss_gradient,
    loss_step,
    loss_value,
    read_input,
    read_layers,
    read_network,
    read_target,
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


# Lecture 13's minibatch SGD with regularization ("Delta = grad R + lambda grad g(w)"; the averaged gradients of
# Homework 5's code): two samples through a relu-linear network, mean reduction, L2 weight decay, one step.
MINIBATCH_L2 = {
    "batch": [{"x": [1, 2], "target": [1]}, {"x": [-1, 0.5], "target": [0]}],
    "layers": [
        {"W": [[0.5, -1], [1, 0.5]], "b": [0, 0.5], "activation": "relu"},
        {"W": [[1, -0.5]], "b": [0.25], "activation": "linear"},
    ],
    "loss": "se", "reduction": "mean", "weight_decay": 0.1, "learning_rate": 0.5,
}
# Lecture 11-13's L1 penalty (||w||_1, gradient sign(w)), summed over a batch of three with a sigmoid output.
BATCH_L1_SUM = {
    "batch": [{"x": [1, 0], "target": [1]}, {"x": [0, 1], "target": [0]}, {"x": [1, 1], "target": [1]}],
    "layers": [{"W": [[0.5, 0]], "b": [0], "activation": "sigmoid"}],
    "loss": "bce", "reduction": "sum", "l1": 0.01, "learning_rate": 1,
}
MAX_BATCH = 64


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ("x", "layers", "target", "loss", "learning_rate", "batch", "reduction", "weight_decay",
                          "l1"))
    if params.get("batch") is not None:
        for name in ("x", "target"):
            if params.get(name) is not None:
                raise P.ParamError(name, "give either x and target or batch (a list of {x, target}), not both")
        raw = params["batch"]
        if not isinstance(raw, list) or not raw:
            raise P.ParamError("batch", "expected a non-empty list of samples {x, target}")
        if len(raw) > MAX_BATCH:
            raise P.ParamError("batch", f"at most {MAX_BATCH} samples, got {len(raw)}")
        items = []
        for s, item in enumerate(raw):
            item = P.mapping(item, f"batch[{s}]")
            P.no_unknown(item, ("x", "target"), f"batch[{s}]")
            items.append(item)
        width = None
        xs = []
        for s, item in enumerate(items):
            x = read_input(P.get(item, "x", field=f"batch[{s}].x"), f"batch[{s}].x")
            if width is not None and len(x) != width:
                raise P.ParamError(f"batch[{s}].x", f"expected {width} entries, as batch[0].x, got {len(x)}")
            width = len(x)
            xs.append(x)
        layers = read_layers(P.get(params, "layers"), width)
        loss = P.choice(P.get(params, "loss"), "loss", LOSSES)
        nets = []
        for s, (item, x) in enumerate(zip(items, xs, strict=True)):
            field = f"batch[{s}].target"
            t = read_target(P.get(item, "target", field=field), field, layers[-1].outputs)
            check_target_range(loss, t, field)
            nets.append(Network(x, layers, t, loss))
    else:
        core = {k: v for k, v in params.items() if k in ("x", "layers", "target", "loss")}
        nets = [read_network(core, need_loss=True)]
    eta = None
    if params.get("learning_rate") is not None:
        eta = _fraction(P.rational(params["learning_rate"], "learning_rate", positive=True))
    return {"nets": nets, "batch": params.get("batch") is not None, "eta": eta,
            "reduction": P.choice(P.get(params, "reduction", "mean"), "reduction", ["mean", "sum"]),
            "weight_decay": _fraction(P.rational(P.get(params, "weight_decay", 0), "weight_decay", nonnegative=True)),
            "l1": _fraction(P.rational(P.get(params, "l1", 0), "l1", nonnegative=True))}


def _fraction(r: Any) -> Fraction:
    return Fraction(int(r.p), int(r.q))


@register("backprop", "Backpropagation for one data point or a minibatch: deltas, weight gradients with L2/L1 "
          "regularization, one gradient step",
          examples={"hw5_q2_sigmoid_slope_5": HW5_Q2, "study_notes_321_sigmoid": STUDY_NOTES_321,
                    "relu_mse_exact": RELU_MSE_EXACT, "softmax_cross_entropy": forward_pass.SOFTMAX_CE,
                    "lecture_13_minibatch_l2": MINIBATCH_L2, "batch_l1_sum_bce": BATCH_L1_SUM})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    nets, eta, wd, l1 = r["nets"], r["eta"], r["weight_decay"], r["l1"]
    layers = nets[0].layers
    B = len(nets)
    scale = Fraction(1, B) if r["batch"] and r["reduction"] == "mean" else Fraction(1)
    warnings: list[str] = []
    samples = [_sample(net, scale, warnings, f"sample {s}: " if r["batch"] else "") for s, net in enumerate(nets)]
    L = sum((smp["loss"] for smp in samples), Fraction(0)) * scale if all(
        isinstance(smp["loss"], Fraction) for smp in samples) else sum(smp["loss"] for smp in samples) * float(scale)
    if r["batch"]:
        steps = [Step(f"Sample {s}: forward and backward pass", children=smp["steps"],
                      text=("Each sample's output gradient carries the factor $1/B = 1/" + str(B) + "$ of the mean "
                            "reduction, so its deltas are derivatives of the batch loss.") if scale != 1 else
                      "The batch loss is the sum of the sample losses.")
                 for s, smp in enumerate(samples)]
        steps.append(Step("Batch loss", text=f"$L$ = {'$1/B$ times the ' if scale != 1 else ''}sum of the {B} sample "
                                             "losses "
                                             f"({r['reduction']} reduction).",
                          math=[[Sym("L"), L]]))
    else:
        steps = samples[0]["steps"]
    grad_W = [[[sum((smp["grad_W"][l][j][i] for smp in samples), Fraction(0) * 0) for i in range(len(row))]
               for j, row in enumerate(layer.W)] for l, layer in enumerate(layers)]
    grad_b = [[sum((smp["deltas"][l][j] for smp in samples), Fraction(0) * 0) for j in range(layer.outputs)]
              for l, layer in enumerate(layers)]
    if r["batch"]:
        steps.append(Step("Sum the gradients over the batch",
                          text="$grad_W^(l)$ = the sum over the samples of $delta^(l) (a^(l-1))^T$ and $grad_b^(l)$ = "
                               "the sum of the $delta^(l)$ (the deltas already carry the reduction's factor).",
                          math=[item for l in range(len(layers)) for item in (
                              [Sym(f"grad_W^({l})"), grad_W[l]], [Sym(f"grad_b^({l})"), grad_b[l]])]))
    penalty = sum((wd / 2 * w * w + l1 * abs(w) for layer in layers for row in layer.W for w in row), Fraction(0))
    if wd or l1:
        grad_W = [[[g + wd * w + l1 * _sign(w) for g, w in zip(grow, wrow, strict=True)]
                   for grow, wrow in zip(gl, layer.W, strict=True)] for gl, layer in zip(grad_W, layers, strict=True)]
        terms = ([f"$lambda/2 sum W^2$ (weight decay $lambda = {wd}$)"] if wd else []) + (
            [f"$mu sum |W|$ (L1 weight $mu = {l1}$)"] if l1 else [])
        grads = (["$lambda W$"] if wd else []) + (["$mu sign(W)$ ($sign(0) = 0$)"] if l1 else [])
        steps.append(Step("Regularization",
                          text=("The penalty " + " + ".join(terms) + " is added to the objective, not to the loss "
                                "reported; its gradient adds " + " + ".join(grads) + " to every weight gradient. "
                                "Biases are not decayed."),
                          math=[[Sym("penalty"), penalty],
                                *[[Sym(f"grad_W^({l})"), grad_W[l]] for l in range(len(layers))]]))
    answer: dict[str, Any] = {"loss": L, "penalty": penalty,
                              "output_gradient": [smp["g"] for smp in samples] if r["batch"] else samples[0]["g"],
                              "deltas": [smp["deltas"] for smp in samples] if r["batch"] else samples[0]["deltas"],
                              "grad_W": grad_W, "grad_b": grad_b}
    if eta is not None:
        new_W = [[[w - eta * gw for w, gw in zip(row, grow, strict=True)]
                  for row, grow in zip(layer.W, gW, strict=True)] for layer, gW in zip(layers, grad_W, strict=True)]
        new_b = [[b - eta * gb for b, gb in zip(layer.b, gB, strict=True)]
                 for layer, gB in zip(layers, grad_b, strict=True)]
        update = Step("One gradient-descent step",
                      text="$W^(l) <- W^(l) - eta grad_W^(l)$ and $b^(l) <- b^(l) - eta grad_b^(l)$ for every layer.",
                      inputs={"eta": eta})
        for l in range(len(layers)):
            update.math.append([Sym(f"W_new^({l})"), new_W[l]])
            update.math.append([Sym(f"b_new^({l})"), new_b[l]])
        steps.append(update)
        answer.update(updated_W=new_W, updated_b=new_b)
    exact = {name: value for name, value in answer.items() if all_exact(value)}
    for name, value in exact.items():
        answer[exact_field(name)] = exact_str(value)
    for name in ("loss", "penalty", "output_gradient", "deltas", "grad_W", "grad_b", "updated_W", "updated_b"):
        if name in answer:
            answer[name] = as_float(answer[name])
    normalized: dict[str, Any] = {"layers": [layer.normalized() for layer in layers], "loss": nets[0].loss}
    if r["batch"]:
        normalized["batch"] = [{"x": net.x, "target": net.target} for net in nets]
        normalized["reduction"] = r["reduction"]
    else:
        normalized.update(x=nets[0].x, target=nets[0].target)
    if wd:
        normalized["weight_decay"] = wd
    if l1:
        normalized["l1"] = l1
    if eta is not None:
        normalized["learning_rate"] = eta
    forward_values = {key: as_float(samples[0][key]) for key in ("pre_activations", "activations", "output")}
    return Solution("backprop", normalized, steps, answer, warnings, exact,
                    details=forward_values if not r["batch"] else {})


def _sign(w: Fraction) -> Fraction:
    return Fraction((w > 0) - (w < 0))


def _sample(net: Network, scale: Fraction, warnings: list[str], label: str) -> dict[str, Any]:
    """Forward and backward pass of one sample; the output gradient is scaled by `scale` (1/B for a mean)."""
    t, loss = net.target, net.loss
    vs, acts = forward(net)
    output = acts[-1]
    L = loss_value(loss, output, t)
    steps = forward_steps(net, vs, acts)
    steps.append(loss_step(net, output, L))

    g = [scale * gj for gj in loss_gradient(loss, output, t)]
    last = len(net.layers) - 1
    grad_step = Step(f"Gradient of the loss with respect to the output $a^({last})$",
                     text=f"For the {LOSS_NAMES[loss]} loss, {LOSS_GRADIENTS[loss]}"
                          + (f", times ${scale}$ for the batch mean." if scale != 1 else "."))
    if loss in ("se", "mse") and len(t) <= EXPAND_LIMIT:
        factor = (2 if loss == "se" else Fraction(2, len(t))) * scale
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
        step = Step(f"Layer {l}: $delta^({l}) = dL/dv^({l})$ and the gradients of $W^({l})$, $b^({l})$")
        if l < last:
            above = net.layers[l + 1]
            upstream = [sum((above.W[k][j] * deltas[l + 1][k] for k in range(above.outputs)), Fraction(0))
                        for j in range(len(v))]
            step.text = (f"Back through $W^({l + 1})$: $g^({l}) = (W^({l + 1}))^T delta^({l + 1})$ is the gradient "
                         f"with respect to $a^({l})$. ")
            if small and above.outputs <= EXPAND_LIMIT:
                for j in range(len(v)):
                    terms = [[above.W[k][j], deltas[l + 1][k]] for k in range(above.outputs)]
                    step.math.append([Sym(f"g_{j + 1}^({l})"), Products.of(terms), upstream[j]])
            step.math.append([Sym(f"g^({l})"), upstream])
        if layer.activation == "softmax":
            delta = _softmax_delta(step, l, a, upstream, t if l == last and loss == "ce" else None, small, scale)
        else:
            d = derivative(layer, v, a)
            slope = f" with slope {display_number(layer.slope)}: $sigma'(v) = {display_number(layer.slope)} " \
                    "sigma(v)(1 - sigma(v))$" if layer.activation == "sigmoid" and layer.slope != 1 else ""
            step.text += (f"$delta^({l}) = g^({l}) * d^({l})$ elementwise, where "
                          f"$d^({l}) = {layer.activation}'(v^({l}))$: "
                          f"{ACTIVATIONS[layer.activation].derivative_formula if not slope else 'sigmoid' + slope}.")
            if layer.activation in ("step", "sign"):
                warnings.append(SolverWarning(NO_GRADIENT_FLOW, f"{label}layer {l} uses {layer.activation}, whose "
                                f"derivative is 0 wherever it is defined: no gradient flows back through it "
                                f"($delta^({l}) = 0$, and so are the deltas and gradients of the layers before it)"))
                step.text += " No gradient flows back through this layer."
            if layer.activation == "relu" and any(vj == 0 for vj in v):
                units = ", ".join(str(j + 1) for j, vj in enumerate(v) if vj == 0)
                warnings.append(SolverWarning(RELU_AT_ZERO, f"{label}layer {l}: $v = 0$ at unit(s) {units}, where "
                                              "ReLU has no derivative; $ReLU'(0)$ is taken as 0, as PyTorch does"))
                step.text += f" At unit(s) {units}, $v = 0$ and $ReLU'(0)$ is taken as 0 (PyTorch's convention)."
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
            text=f"$grad_W^({l}) = delta^({l}) {'x^T' if l == 0 else f'(a^({l - 1}))^T'}$ (entry $j, i$ is "
                 f"$delta_j a_i$) and $grad_b^({l}) = delta^({l})$.",
            math=[[Sym(f"grad_W^({l})"), _outer(delta, prev)], [Sym(f"grad_b^({l})"), delta]]))
        steps.append(step)


    grad_W = [_outer(deltas[l], net.x if l == 0 else acts[l - 1]) for l in range(len(net.layers))]
    return {"loss": L, "g": g, "deltas": deltas, "grad_W": grad_W, "steps": steps, "pre_activations": vs,
            "activations": acts, "output": output}


def _outer(delta: list[Any], prev: list[Any]) -> list[list[Any]]:
    return [[dj * ai for ai in prev] for dj in delta]


def _softmax_delta(step: Step, l: int, a: list[Any], g: list[Any], ce_target: list[Any] | None,
                   small: bool, scale: Fraction) -> list[Any]:
    """delta = J^T g with the softmax Jacobian J = diag(a) - a a^T: delta_j = a_j (g_j - sum_k a_k g_k)
    (with ce: scale (a sum(t) - t), `scale` being the batch reduction's factor)."""
    if ce_target is not None:
        total = sum(ce_target, Fraction(0))
        step.text += (f"Softmax output with the cross-entropy loss: the full Jacobian $diag(a) - a a^T$ of the softmax "
                      f"times $g$ gives $delta^({l}) = a^({l}) sum_k t_k - t"
                      + (" = a - t$, since the target sums to 1" if total == 1 else "$")
                      + (f", times ${scale}$ for the batch mean." if scale != 1 else "."))
        delta = [scale * (aj * total - tj) for aj, tj in zip(a, ce_target, strict=True)]
        if small:
            for j in range(len(a)):
                terms = [[a[j]] if total == 1 else [a[j], total], [-ce_target[j]]]
                if scale == 1:
                    step.math.append([Sym(f"delta_{j + 1}^({l})"), Products.of(terms), delta[j]])
        return delta
    s = sum(aj * gj for aj, gj in zip(a, g, strict=True))
    step.text += (f"A softmax layer mixes its units, so $delta^({l})$ uses its full Jacobian $diag(a) - a a^T$: "
                  f"$delta_j = a_j (g_j - s)$ with $s = sum_k a_k g_k$.")
    if small:
        step.math.append([Sym(f"s^({l})"), Products.of([[aj, gj] for aj, gj in zip(a, g, strict=True)]), s])
    delta = [aj * (gj - s) for aj, gj in zip(a, g, strict=True)]
    if small:
        for j in range(len(a)):
            step.math.append([Sym(f"delta_{j + 1}^({l})"), Products.of([[a[j], g[j] - s]]), delta[j]])
    return delta
