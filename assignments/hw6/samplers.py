"""Samplers of homework 6: integer convolutions and 1x1-kernel layers with small numbers."""

from __future__ import annotations

import numpy as np

from assignments.sampling import Constraint, no_relu_kink_1x1, pick, sampler


@sampler("small_convolution", constraints=[
    Constraint("no_pooling_ties", "every pooling window has a single largest value",
               lambda d, s: _single_max(s["a"].answer["output"], d["a"]["pool"]["size"], d["a"]["pool"]["stride"])),
    Constraint("small_outputs", "every output is at most 12 in absolute value",
               lambda d, s: np.max(np.abs(s["a"].answer["output"])) <= 12),
])
def small_convolution(rng):
    """A 4x4 integer input in [-1, 3], a 2x2 integer kernel in [-1, 2], max pooling 2x2 with stride 1."""
    image = rng.integers(-1, 4, size=(4, 4)).tolist()
    kernel = rng.integers(-1, 3, size=(2, 2)).tolist()
    return {"a": {"input": image, "kernel": kernel, "pool": {"kind": "max", "size": 2, "stride": 1}}}


def _single_max(output, size, stride):
    out = np.asarray(output, dtype=float)
    for i in range(0, out.shape[0] - size + 1, stride):
        for j in range(0, out.shape[1] - size + 1, stride):
            window = out[i:i + size, j:j + size]
            if np.sum(window == window.max()) > 1:
                return False
    return True


@sampler("conv1x1_layer", constraints=[
    Constraint("no_relu_kink", "no pre-activation is exactly 0", no_relu_kink_1x1("a")),
])
def conv1x1_layer(rng):
    """A 2x2 integer image, weights in {-2, -1, 1, 2}, integer biases, ReLU, integer upstream gradients."""
    w = [pick(rng, [-2, -1, 1, 2]) for _ in range(2)]
    return {"a": {"image": rng.integers(-3, 4, size=(2, 2)).tolist(), "w": w,
                  "b": rng.integers(-2, 3, size=2).tolist(), "activation": "relu",
                  "upstream": rng.integers(-2, 3, size=(2, 2, 2)).tolist()}}
