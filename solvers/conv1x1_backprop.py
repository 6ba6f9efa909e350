"""Backpropagation through a single-layer CNN with 1 x 1 kernels (the mock final's Q3).

Output channel c of an H x W image x is f^c_ij = g(v^c_ij) with v^c_ij = w_c x_ij + b_c. Given the upstream
gradients dl/df^c_ij, the chain rule summed over every pixel (i, j) gives

    delta^c_ij = dl/dv^c_ij = dl/df^c_ij g'(v^c_ij),
    dl/dw_c = sum_ij delta^c_ij x_ij,     dl/db_c = sum_ij delta^c_ij,     dl/dx_ij = sum_c delta^c_ij w_c.

g is sigmoid (g' = g (1 - g)), tanh (g' = 1 - g^2), relu (g' = 1 for v > 0 and 0 otherwise, also at v = 0
as PyTorch takes it; such pixels are reported in `warnings`) or linear (g' = 1). With relu or linear and
rational inputs the arithmetic is exact (answers also as `<field>_exact`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from . import params as P
from .activations import ACTIVATIONS as TABLE
from .activations import choices
from .conv2d import factor_text
from .core import Solution, SolverWarning, Step, Sym, exact_field
from .networks import Products
from .numeric import as_float, exact_str, to_fractions
from .registry import register

# warning codes (SolverWarning.code)
RELU_AT_ZERO = "relu_at_zero"

ACTIVATIONS = choices("sigmoid", "tanh", "relu", "linear")
DERIVATIVE = {"sigmoid": "$g'(v) = g(v) (1 - g(v))$", "tanh": "$g'(v) = 1 - g(v)^2$",
              "relu": "$g'(v) = 1$ if $v > 0$, else 0 (0 at $v = 0$, as PyTorch takes it)", "linear": "$g'(v) = 1$"}


@register("conv1x1_backprop", "Gradients of a single-layer CNN with 1x1 kernels and bias (mock final Q3)",
          examples={
              "mock_final_q3_relu": {"image": [[1, 2], [-1, 3]], "w": [1, -1], "b": [-1, 2], "activation": "relu",
                                     "upstream": [[[1, -1], [2, 1]], [[0.5, 1], [-1, 2]]]},
              "mock_final_q3_sigmoid": {"image": [[0.5, -1], [2, 0]], "w": [1, 2], "b": [0, -1],
                                        "activation": "sigmoid",
                                        "upstream": [[[1, 0], [0, 1]], [[-1, 1], [1, -1]]]}})
def solve(params: dict[str, Any]) -> Solution:
    P.no_unknown(params, ["image", "w", "b", "activation", "upstream"])
    x_f = P.matrix(P.get(params, "image"), "image")
    H, W = x_f.shape
    w_f = P.vector(P.get(params, "w"), "w")
    C = len(w_f)
    b_f = P.vector(P.get(params, "b"), "b", C)
    activation = P.choice(P.get(params, "activation"), "activation", ACTIVATIONS)
    act = TABLE[activation]
    up_f = P.array(P.get(params, "upstream"), "upstream", 3, (C, H, W))
    exact = activation in ("relu", "linear")
    conv = to_fractions if exact else (lambda a: a.tolist())
    x, w, b, up = conv(x_f), conv(w_f), conv(b_f), conv(up_f)
    zero = Fraction(0) if exact else 0.0
    warnings: list[str] = []
    steps = [Step("The layer and the chain rule",
                  text=("Output channel $c$ applies the 1 × 1 kernel $w_c$ and the bias $b_c$ at every pixel: "
                        "$f^c_ij = g(v^c_ij)$ with $v^c_ij = w_c x_ij + b_c$, and " + DERIVATIVE[activation] + ". "
                        "Every pixel $(i, j)$ of channel $c$ depends on $w_c$ and $b_c$, so their gradients sum over "
                        "all pixels: $dl/dw_c = sum_ij dl/df^c_ij g'(v^c_ij) x_ij$ and $dl/db_c = sum_ij dl/df^c_ij "
                        "g'(v^c_ij)$. Pixel $x_ij$ feeds every channel, so "
                        "$dl/dx_ij = sum_c dl/df^c_ij g'(v^c_ij) w_c$."),
                  inputs={"x": x, "w": w, "b": b})]
    grad_w, grad_b = [], []
    grad_x = [[zero] * W for _ in range(H)]
    for c in range(C):
        v = [[w[c] * x[i][j] + b[c] for j in range(W)] for i in range(H)]
        g = [[act.value(v[i][j]) for j in range(W)] for i in range(H)]
        dg = [[act.derivative(v[i][j], g[i][j]) for j in range(W)] for i in range(H)]
        delta = [[up[c][i][j] * dg[i][j] for j in range(W)] for i in range(H)]
        if activation == "relu":
            at_zero = [(i, j) for i in range(H) for j in range(W) if v[i][j] == 0]
            if at_zero:
                warnings.append(SolverWarning(RELU_AT_ZERO, f"channel {c + 1}: the pre-activation is exactly 0 at "
                                              "pixel(s) " + ", ".join(f"({i + 1}, {j + 1})" for i, j in at_zero)
                                              + "; $ReLU'(0)$ is taken as 0, as PyTorch does"))
        gw = sum((delta[i][j] * x[i][j] for i in range(H) for j in range(W)), zero)
        gb = sum((delta[i][j] for i in range(H) for j in range(W)), zero)
        for i in range(H):
            for j in range(W):
                grad_x[i][j] += delta[i][j] * w[c]
        grad_w.append(gw)
        grad_b.append(gb)
        pixels = [(i, j) for i in range(H) for j in range(W)]
        sum_w = Products.of([[delta[i][j], x[i][j]] for i, j in pixels])
        sum_b = Products.of([[delta[i][j]] for i, j in pixels])
        steps.append(Step(
            f"Channel {c + 1}: forward values and local gradients",
            text=(f"Pre-activations $v^{c + 1} = w_{c + 1} x + b_{c + 1}$, outputs $f^{c + 1} = g(v^{c + 1})$, "
                  f"slopes $g'^{c + 1} = g'(v^{c + 1})$, and pixel by pixel $delta^{c + 1}_ij = dl/df^{c + 1}_ij "
                  f"g'(v^{c + 1}_ij)$."),
            values={f"v^{c + 1}": v, f"f^{c + 1}": g, f"g'^{c + 1}": dg, f"dl/df^{c + 1}": up[c],
                    f"delta^{c + 1}": delta},
            math=[[Sym(f"dl/dw_{c + 1}"), sum_w, gw], [Sym(f"dl/db_{c + 1}"), sum_b, gb]],
        ))
    steps.append(Step("Gradient with respect to the image",
                      text="Each pixel feeds every channel: $dl/dx_ij = " + " + ".join(
                          f"delta^{c + 1}_ij*{factor_text(w[c])}" for c in range(C)).replace("+ -", "- ") + "$.",
                      result={"dl/dx": grad_x}))
    answer: dict[str, Any] = {"grad_w": as_float(grad_w), "grad_b": as_float(grad_b),
                              "grad_image": as_float(grad_x)}
    exact_values = {"grad_w": grad_w, "grad_b": grad_b, "grad_image": grad_x} if exact else {}
    answer |= {exact_field(name): exact_str(value) for name, value in exact_values.items()}
    normalized = {"image": x_f.tolist(), "w": w_f.tolist(), "b": b_f.tolist(), "activation": activation,
                  "upstream": up_f.tolist()}
    return Solution("conv1x1_backprop", normalized, steps, answer, warnings, exact_values)
