"""The forward pass of a fully connected network: v^(l) = W^(l) a^(l-1) + b^(l), a^(l) = act(v^(l)),
a^(-1) = x, then the loss of the output against a target when one is given (see `solvers.networks`)."""

from __future__ import annotations

from typing import Any

from .core import Solution, Step, exact_field
from .networks import all_exact, forward, forward_steps, loss_step, loss_value, read_network
from .numeric import as_float, exact_str
from .registry import register

# Study notes (000), "Step 1: Compute Hidden Layer Activations": a 3-2-1 sigmoid network without biases.
STUDY_NOTES_321 = {
    "x": [1, 2, 3],
    "layers": [
        {"W": [[0.5, -0.4, 0.3], [-0.2, 0.1, 0.6]], "activation": "sigmoid"},
        {"W": [[0.7, -0.5]], "activation": "sigmoid"},
    ],
}
# Lecture notes (001): ReLU then sigmoid. The seed writes the input as (1, 1), but W^(0) is 3 x 3, so the
# input has 3 entries; (1, 1, 1) reproduces the seed's v^(0) = (1, 6, -4).
LECTURE_RELU = {
    "x": [1, 1, 1],
    "layers": [
        {"W": [[1, -1, 0], [2, 0, 3], [0, -2, -3]], "b": [1, 1, 1], "activation": "relu"},
        {"W": [[1, -2, 1]], "b": [0], "activation": "sigmoid"},
    ],
}
SOFTMAX_CE = {
    "x": [1, -1],
    "layers": [
        {"W": [[1, 2], [0.5, -1]], "b": [0, 0.5], "activation": "tanh"},
        {"W": [[1, -1], [2, 0.5], [-1, 1]], "activation": "softmax"},
    ],
    "target": [0, 1, 0],
    "loss": "ce",
}


@register("forward_pass", "Forward pass of a fully connected network, layer by layer, and its loss",
          examples={"study_notes_321_sigmoid": STUDY_NOTES_321, "lecture_relu_sigmoid": LECTURE_RELU,
                    "softmax_cross_entropy": SOFTMAX_CE})
def solve(params: dict[str, Any]) -> Solution:
    net = read_network(params)
    vs, acts = forward(net)
    output = acts[-1]
    steps = forward_steps(net, vs, acts)
    loss = None
    if net.loss is not None:
        loss = loss_value(net.loss, output, net.target)
        steps.append(loss_step(net, output, loss))
    steps.append(Step("Output", result={"y": output, **({"L": loss} if loss is not None else {})}))
    answer: dict[str, Any] = {
        "pre_activations": as_float(vs),
        "activations": as_float(acts),
        "output": as_float(output),
        "loss": None if loss is None else float(loss),
    }
    exact = {name: value for name, value in (("pre_activations", vs), ("activations", acts), ("output", output),
                                             ("loss", loss)) if value is not None and all_exact(value)}
    for name, value in exact.items():
        answer[exact_field(name)] = exact_str(value)
    normalized: dict[str, Any] = {"x": net.x, "layers": [layer.normalized() for layer in net.layers]}
    if net.loss is not None:
        normalized.update(target=net.target, loss=net.loss)
    return Solution("forward_pass", normalized, steps, answer, [], exact)
