"""Backpropagation through a convolutional layer: k x k kernels shared over the image, an activation, and
optional max or average pooling (lecture 12: "just accumulate the gradients"; max pooling routes them).

Forward, cross-correlation as PyTorch (see `conv2d`), for output channel o and zero-padded input xpad:
    v[o, i, j] = b[o] + sum_{c, m, n} xpad[c, i s + m, j s + n] k[o, c, m, n],   a = g(v),   final = pool(a) or a.
With L = sum(upstream * final), the backward pass is
    dL/da: max pool sends each upstream value to its window's maximum (a tie: the first maximum in row-major
           order, as torch), average pool shares it equally over the window; overlapping windows add up;
    delta = dL/dv = dL/da * g'(v)   (relu'(0) = 0),
    dL/dk[o, c, m, n] = sum_{i, j} delta[o, i, j] xpad[c, i s + m, j s + n]   (the kernel is shared: sum over i, j),
    dL/db[o] = sum_{i, j} delta[o, i, j],
    dL/dxpad[c, i s + m, j s + n] += delta[o, i, j] k[o, c, m, n]  over o, i, j, m, n; dL/dx drops the padding.
Exact rationals for linear and relu; floats for sigmoid and tanh.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from . import params as P
from . import pointwise as pw
from .activations import display_name
from .conv2d import depth, factor_text, num_text, pair, read_pool
from .core import Figure, Solution, SolverWarning, Step, Sym, Table, exact_field
from .errors import ParamError
from .numeric import exact_str
from .registry import register

# warning codes (SolverWarning.code)
RELU_AT_ZERO = "relu_at_zero"
MAX_POOL_TIE = "max_pool_tie"

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")
SHOWN = 12  # entries written out as sums of products, per map

# Lecture 12's 5 x 5 input and its shared 2 x 2 filter [1 -1; 0 2], then 2 x 2 max pooling with stride 2 (the
# lecture's "max. pooling: how does the backward graph look like?"), with the upstream gradient of L = sum of
# the pooled values.
LECTURE_12 = {"input": [[1, 2, 0, 3, 1], [-1, -1, 2, 0, 1], [1, -1, -1, 0, 1], [3, 1, 2, -1, 1], [1, 4, 0, 1, 2]],
              "kernel": [[1, -1], [0, 2]], "activation": "relu", "pool": {"kind": "max", "size": 2},
              "upstream": [[1, 1], [1, 1]]}
TWO_FILTERS = {"input": [[[1, 0, 2], [0, 1, 1], [2, 1, 0]], [[0, 1, 1], [1, 0, 2], [1, 1, 0]]],
               "kernel": [[[[1, 0], [0, -1]], [[0, 1], [1, 0]]], [[[1, 1], [0, 0]], [[-1, 0], [0, 1]]]],
               "bias": [0, 0.5], "activation": "sigmoid",
               "upstream": [[[1, -1], [0.5, 0]], [[0, 1], [-1, 2]]]}


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["input", "kernel", "bias", "stride", "padding", "activation", "pool", "upstream"])
    activation = P.choice(P.get(params, "activation", "linear"), "activation", ACTIVATIONS)
    exact = activation in pw.EXACT
    raw_x, raw_k = P.get(params, "input"), P.get(params, "kernel")
    dx = depth(raw_x)
    if dx not in (2, 3):
        raise ParamError("input", "expected an H x W matrix or a C_in x H x W list of matrices")
    x = P.array(raw_x, "input", dx, exact=exact)
    x = [x] if dx == 2 else x
    C = len(x)
    dk = depth(raw_k)
    if dk not in (2, 3, 4):
        raise ParamError("kernel", "expected h x w, C_in x h x w (one output channel) or out x C_in x h x w")
    k = P.array(raw_k, "kernel", dk, exact=exact)
    k = [[k]] if dk == 2 else [k] if dk == 3 else k
    if len(k[0]) != C:
        raise ParamError("kernel", f"channel mismatch: the kernel has {len(k[0])} input channel(s), the input {C}")
    out = len(k)
    raw_b = P.get(params, "bias", [0] * out)
    if not isinstance(raw_b, (list, tuple)) and out == 1:
        raw_b = [raw_b]
    b = P.vector(raw_b, "bias", out, exact=exact)
    to = pw.exact if exact else (lambda a: np.asarray(a, dtype=float).tolist())
    x, k, b = to(x), to(k), to(b)
    stride, padding = pair(P.get(params, "stride", 1), "stride", 1), pair(P.get(params, "padding", 0), "padding", 0)
    H, W, h, w = len(x[0]), len(x[0][0]), len(k[0][0]), len(k[0][0][0])
    hp, wp = H + 2 * padding[0], W + 2 * padding[1]
    if h > hp or w > wp:
        raise ParamError("kernel", f"the kernel ({h} x {w}) is larger than the padded input ({hp} x {wp})")
    out_h, out_w = (hp - h) // stride[0] + 1, (wp - w) // stride[1] + 1
    pool = read_pool(params, out_h, out_w)
    final = (out_h, out_w) if pool is None else ((out_h - pool["size"][0]) // pool["stride"][0] + 1,
                                                 (out_w - pool["size"][1]) // pool["stride"][1] + 1)
    raw_up = P.get(params, "upstream")
    if out == 1 and depth(raw_up) == 2:
        raw_up = [raw_up]
    up = to(P.array(raw_up, "upstream", 3, (out, *final), exact=exact))
    return {"x": x, "k": k, "b": b, "stride": stride, "padding": padding, "activation": activation, "pool": pool,
            "up": up, "exact": exact, "dims": (C, H, W, out, h, w, out_h, out_w), "ranks": (dx, dk)}


def _zeros(shape: tuple[int, ...], zero: Any) -> Any:
    if len(shape) == 1:
        return [zero] * shape[0]
    return [_zeros(shape[1:], zero) for _ in range(shape[0])]


@register("conv2d_backprop", "Backpropagation through a convolutional layer with shared k x k kernels, an "
          "activation and max/avg pooling (gradient routing)",
          examples={"lecture_12_relu_maxpool": LECTURE_12, "two_filters_sigmoid": TWO_FILTERS,
                    "stride_padding_avgpool": {"input": [[1, 2, 0], [0, -1, 1], [2, 0, 1]],
                                               "kernel": [[1, 0], [-1, 1]], "padding": 1, "stride": 1,
                                               "pool": {"kind": "avg", "size": 2, "stride": 1},
                                               "upstream": [[1, 0, -1], [2, 1, 0], [0, 1, 1]]},
                    "maxpool_tie_overlap": {"input": [[1, 1, 0], [1, 1, 2], [0, 2, 2]], "kernel": [[1]],
                                            "activation": "relu", "pool": {"kind": "max", "size": 2, "stride": 1},
                                            "upstream": [[1, 2], [3, 4]]}})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    x, k, b, act, exact = r["x"], r["k"], r["b"], r["activation"], r["exact"]
    C, H, W, out, h, w, out_h, out_w = r["dims"]
    (sh, sw), (ph, pw_) = r["stride"], r["padding"]
    zero = Fraction(0) if exact else 0.0
    xp = [[[zero] * (W + 2 * pw_) for _ in range(ph)] + [[zero] * pw_ + list(row) + [zero] * pw_ for row in ch]
          + [[zero] * (W + 2 * pw_) for _ in range(ph)] for ch in x]
    warnings: list[str] = []
    steps = [Step("Sizes", text="Cross-correlation as PyTorch computes it: the output size is "
                                "$floor((n + 2 p - h) / s) + 1$ for an input size $n$, padding $p$, kernel size $h$ "
                                "and stride $s$. The loss is $L = sum u * y$ over the final output $y$ with the "
                                "upstream gradient $u$, so $dL/dy = u$.",
                  inputs={"C_in": C, "H": H, "W": W, "out": out, "h": h, "w": w},
                  math=[[Sym("H_out"), f"floor(({H} + 2·{ph} - {h}) / {sh}) + 1", out_h],
                        [Sym("W_out"), f"floor(({W} + 2·{pw_} - {w}) / {sw}) + 1", out_w]])]
    v = _zeros((out, out_h, out_w), zero)
    rows = []
    for o in range(out):
        for i in range(out_h):
            for j in range(out_w):
                terms, total = [], zero
                for c in range(C):
                    for m in range(h):
                        for n in range(w):
                            a = xp[c][i * sh + m][j * sw + n]
                            total += a * k[o][c][m][n]
                            terms.append(f"{factor_text(a)}·{factor_text(k[o][c][m][n])}")
                v[o][i][j] = total + b[o]
                if len(rows) < SHOWN:
                    rows.append([o, f"({i}, {j})", " + ".join(terms) + (f" + {factor_text(b[o])}" if b[o] else ""),
                                 v[o][i][j]])
    steps.append(Step("Forward: slide each kernel over the (padded) input",
                      text="$v[o, i, j] = b[o] + sum_(c,m,n) x_pad[c, i s + m, j s + n] k[o, c, m, n]$ (indices "
                           f"from 0). The first {len(rows)} entries are written out.",
                      inputs={"k": k, "b": b} | ({"x_pad": xp} if ph or pw_ else {"x": x}),
                      table=Table(["o", "(i, j)", "sum of products", "v"], rows), result={"v": v}))
    a = [[[pw.g(act, val) for val in row] for row in ch] for ch in v]
    slope = [[[pw.dg(act, val, av) for val, av in zip(row, arow, strict=True)] for row, arow in zip(ch, ach,
                                                                                                   strict=True)]
             for ch, ach in zip(v, a, strict=True)]
    if act != "linear":
        steps.append(Step(f"Activation {display_name(act)}", text=f"{pw.FORMULAS[act]}, elementwise.", result={"a": a}))
    if act == "relu":
        at_zero = [(o, i, j) for o in range(out) for i in range(out_h) for j in range(out_w) if v[o][i][j] == 0]
        if at_zero:
            warnings.append(SolverWarning(RELU_AT_ZERO,
                                          f"$v = 0$ at {len(at_zero)} position(s) (first: channel {at_zero[0][0]}, "
                                          f"row {at_zero[0][1]}, column {at_zero[0][2]}); $ReLU'(0)$ is taken as 0, "
                                          "as PyTorch does"))
    answer: dict[str, Any] = {"output": v, "output_shape": [out, out_h, out_w], "activated": a}
    ga = _zeros((out, out_h, out_w), zero)
    if r["pool"] is not None:
        pooled, routing = _pool(r, a, ga, steps, warnings)
        answer.update(pooled=pooled, pooled_shape=[out, len(pooled[0]), len(pooled[0][0])])
        if routing is not None:
            answer["pool_routing"] = routing
    else:
        ga = [[list(row) for row in ch] for ch in r["up"]]
    gpre = [[[g * s for g, s in zip(grow, srow, strict=True)] for grow, srow in zip(gch, sch, strict=True)]
            for gch, sch in zip(ga, slope, strict=True)]
    steps.append(Step("Back through the activation",
                      text=f"$delta = dL/dv = dL/da * g'(v)$ elementwise, with {pw.DERIVATIVES[act]}.",
                      values={"g'(v)": slope}, result={"delta": gpre}))
    gk = _zeros((out, C, h, w), zero)
    gb = [sum((val for row in ch for val in row), zero) for ch in gpre]
    gxp = _zeros((C, H + 2 * ph, W + 2 * pw_), zero)
    krows = []
    for o in range(out):
        for c in range(C):
            for m in range(h):
                for n in range(w):
                    terms, total = [], zero
                    for i in range(out_h):
                        for j in range(out_w):
                            val = xp[c][i * sh + m][j * sw + n]
                            total += gpre[o][i][j] * val
                            gxp[c][i * sh + m][j * sw + n] += gpre[o][i][j] * k[o][c][m][n]
                            if gpre[o][i][j] != 0 and val != 0:
                                terms.append(f"{factor_text(gpre[o][i][j])}·{factor_text(val)}")
                    gk[o][c][m][n] = total
                    if len(krows) < SHOWN:
                        krows.append([f"({o}, {c}, {m}, {n})", " + ".join(terms) or "0", total])
    steps.append(Step("Kernel and bias gradients (weight sharing)",
                      text="The same kernel weight $k[o, c, m, n]$ multiplies an input value at every output "
                           "position $(i, j)$, so its gradient adds them all: "
                           "$dL/dk[o, c, m, n] = sum_(i,j) delta[o, i, j] x_pad[c, i s + m, j s + n]$ (zero terms "
                           "left out), and $dL/db[o] = sum_(i,j) delta[o, i, j]$.",
                      table=Table(["$(o, c, m, n)$", "sum of $delta * x$", "$dL/dk$"], krows),
                      result={"dL/dk": gk, "dL/db": gb}))
    gx = [[row[pw_:pw_ + W] for row in ch[ph:ph + H]] for ch in gxp]
    steps.append(Step("Input gradient",
                      text="Each input value feeds every output position whose window covers it: "
                           "$dL/dx_pad[c, i s + m, j s + n]$ collects $delta[o, i, j] k[o, c, m, n]$ over "
                           "$o, i, j, m, n$ (a full correlation with the kernel); $dL/dx$ is $dL/dx_pad$ without the "
                           "padding.",
                      result={"dL/dx": gx}))
    answer.update(grad_activated=ga, grad_pre_activation=gpre, grad_kernel=gk, grad_bias=gb, grad_input=gx)
    exact_values = {}
    if exact:
        for name in ("output", "activated", "pooled", "grad_activated", "grad_pre_activation", "grad_kernel",
                     "grad_bias", "grad_input"):
            if name in answer:
                exact_values[name] = answer[name]
                answer[exact_field(name)] = exact_str(answer[name])
    for name in ("output", "activated", "pooled", "grad_activated", "grad_pre_activation", "grad_kernel", "grad_bias",
                 "grad_input"):
        if name in answer:
            answer[name] = pw.floats(answer[name])
    if not np.all(np.isfinite(np.asarray(answer["grad_input"], dtype=float))):
        raise ParamError("input", "the values overflow (beyond 1e308): use smaller numbers")
    dx, dk = r["ranks"]
    normalized: dict[str, Any] = {"input": x[0] if dx == 2 else x,
                                  "kernel": k[0][0] if dk == 2 else k[0] if dk == 3 else k, "bias": b,
                                  "stride": list(r["stride"]), "padding": list(r["padding"]), "activation": act,
                                  "upstream": r["up"][0] if out == 1 and depth(params["upstream"]) == 2 else r["up"]}
    if r["pool"] is not None:
        normalized["pool"] = {"kind": r["pool"]["kind"], "size": list(r["pool"]["size"]),
                              "stride": list(r["pool"]["stride"])}
    return Solution("conv2d_backprop", normalized, steps, answer, warnings, exact_values)


def _pool(r: dict[str, Any], a: list, ga: list, steps: list[Step], warnings: list[str]):
    """Pool the activated maps; route the upstream gradient into ga (in place). Returns pooled, routing."""
    (ph, pw_), (sh, sw) = r["pool"]["size"], r["pool"]["stride"]
    is_max = r["pool"]["kind"] == "max"
    out, out_h, out_w = len(a), len(a[0]), len(a[0][0])
    P_h, P_w = (out_h - ph) // sh + 1, (out_w - pw_) // sw + 1
    pooled = _zeros((out, P_h, P_w), None)
    routing = _zeros((out, P_h, P_w), None) if is_max else None
    rows, ties = [], []
    share = Fraction(1, ph * pw_) if r["exact"] else 1 / (ph * pw_)
    for o in range(out):
        for p in range(P_h):
            for q in range(P_w):
                cells = [(p * sh + m, q * sw + n) for m in range(ph) for n in range(pw_)]
                values = [a[o][i][j] for i, j in cells]
                g = r["up"][o][p][q]
                if is_max:
                    best = max(values)
                    first = values.index(best)
                    if values.count(best) > 1:
                        ties.append((o, p, q))
                    i, j = cells[first]
                    pooled[o][p][q] = best
                    routing[o][p][q] = [i, j]
                    ga[o][i][j] += g
                    how = f"max = {num_text(best)} at ({i}, {j})"
                else:
                    pooled[o][p][q] = sum(values) * share
                    for i, j in cells:
                        ga[o][i][j] += g * share
                    how = f"mean = {num_text(pooled[o][p][q])}; each cell gets {num_text(g * share)}"
                if len(rows) < SHOWN:
                    rows.append([o, f"({p}, {q})", ", ".join(num_text(val) for val in values), how, g])
    for o, p, q in ties:
        warnings.append(SolverWarning(MAX_POOL_TIE,
                                      f"max-pool tie in channel {o}, window ({p}, {q}): the gradient goes to "
                                      "the first maximum in row-major order, as torch does"))
    overlap = sh < ph or sw < pw_
    text = ("Max pooling keeps each window's largest value; backward, the window's upstream gradient goes to that "
            "position only (the others get 0)." if is_max else
            f"Average pooling keeps each window's mean; backward, each of its {ph * pw_} cells gets $1/{ph * pw_}$ of "
            "the window's upstream gradient.")
    if overlap:
        text += " The windows overlap, so a cell in several windows adds up their contributions."
    if ties:
        text += " A tie goes to the first maximum in row-major order (torch's choice)."
    step = Step(f"{'Max' if is_max else 'Average'} pooling and its backward pass", text=text,
                table=Table(["$o$", "window", "values", "pooling", "upstream"], rows),
                result={"pooled": pooled, "dL/da": ga})
    steps.append(step)
    if is_max:
        steps.append(Step("Picture: where max pooling routes the gradient", figure=Figure(
            "pool_routing", {"activated": pw.floats(a), "routing": routing, "size": [ph, pw_], "stride": [sh, sw],
                             "upstream": pw.floats(r["up"])},
            "The activated map with each pooling window's maximum (the only cell its upstream gradient reaches).")))
    return pooled, routing
