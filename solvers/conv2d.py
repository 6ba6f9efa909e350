"""A 2-d convolutional layer with one output channel, as PyTorch computes it (cross-correlation):

    out[i, j] = bias + sum_c sum_{m, n} xpad[c, i*s + m, j*s + n] * k[c, m, n],

where xpad is the input with `padding` rows/columns of zeros on every side and s the stride, so
H_out = floor((H + 2 p - h) / s) + 1 (the same for widths). The kernel is not flipped.

An optional pooling layer then slides a `size` window with its `stride` (default: the size) over the feature
map and keeps the maximum (`max`) or the mean (`avg`) of each window; windows that would run past the edge
are dropped (PyTorch's default, ceil_mode=False), so P_out = floor((H_out - size) / stride) + 1.

Inputs are H x W (one channel) or C x H x W; the kernel has the same rank and the same C. Rational inputs
are computed exactly (answers also as `<field>_exact`); the steps write the first entries of the feature map
as sums of products, and every entry when the map is small.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from . import params as P
from .core import Solution, Step, Sym, Table
from .errors import ParamError
from .numeric import EXACT_LIMIT, as_float, exact_str, is_decimal, to_fractions
from .registry import register

SHOWN_ENTRIES = 16  # feature maps up to this many entries have every entry written out as a sum of products

# Lecture 12's example (5 x 5 input, one 2 x 2 filter, the 16 neurons "share the weights [1 -1 0 2]"); the
# transcription prints the filter as "1 1 / 0 2", but its first entry (-3) and the weights list fix it.
LECTURE_5X5 = {
    "input": [[1, 2, 0, 3, 1], [-1, -1, 2, 0, 1], [1, -1, -1, 0, 1], [3, 1, 2, -1, 1], [1, 4, 0, 1, 2]],
    "kernel": [[1, -1], [0, 2]],
}
# Lecture 12's colour example (R, G, B channels and a 3-channel 2 x 2 filter), restricted to the first three
# rows of each channel: the transcription lost a row of the G channel.
LECTURE_RGB = {
    "input": [[[1, 1, 2, 1], [2, 0, -1, 1], [-1, 1, 0, -1]],
              [[1, -1, 1, -1], [0, 1, 0, 2], [2, 3, 0, 1]],
              [[4, 1, 4, 2], [2, 3, 1, 3], [1, 2, 3, 1]]],
    "kernel": [[[1, -1], [1, 2]], [[1, 0], [0, 6]], [[3, 2], [1, 0]]],
}


def depth(value: Any) -> int:
    """How deeply lists are nested (0 for a number)."""
    d = 0
    while isinstance(value, (list, tuple)) and value:
        d += 1
        value = value[0]
    return d


def num_text(v: Any) -> str:
    """A number as plain text for a sum of products: 3, 1/2, 0.25, -1.5 (4 significant digits for floats)."""
    if isinstance(v, Fraction):
        if v.denominator == 1:
            return str(v.numerator)
        if is_decimal(v):
            return repr(float(v))
        return str(v)
    v = float(v)
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else f"{v:.4g}"


def factor_text(v: Any) -> str:
    text = num_text(v)
    return f"({text})" if text.startswith("-") or "/" in text else text


def read_pool(params: dict[str, Any], out_h: int, out_w: int) -> dict[str, Any] | None:
    """The optional `pool` {kind: max|avg, size, stride [size]} over an out_h x out_w feature map, or None."""
    if params.get("pool") is None:
        return None
    raw = P.mapping(params["pool"], "pool")
    P.no_unknown(raw, ["kind", "size", "stride"], "pool")
    kind = P.choice(P.get(raw, "kind", field="pool.kind"), "pool.kind", ["max", "avg"])
    size = pair(P.get(raw, "size", field="pool.size"), "pool.size", 1)
    pstride = pair(P.get(raw, "stride", list(size)), "pool.stride", 1)
    if size[0] > out_h or size[1] > out_w:
        raise ParamError("pool.size", f"the pooling window ({size[0]} x {size[1]}) is larger than the "
                                      f"feature map ({out_h} x {out_w})")
    return {"kind": kind, "size": size, "stride": pstride}


def pair(value: Any, field: str, low: int) -> tuple[int, int]:
    """An int or a pair of ints (height, width), each >= low."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ParamError(field, f"expected an integer or a pair [height, width], got {value!r}")
        return (P.integer(value[0], f"{field}[0]", low=low), P.integer(value[1], f"{field}[1]", low=low))
    v = P.integer(value, field, low=low)
    return v, v


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["input", "kernel", "bias", "stride", "padding", "pool"])
    raw_input, raw_kernel = P.get(params, "input"), P.get(params, "kernel")
    d_in = depth(raw_input)
    if d_in not in (2, 3):
        raise ParamError("input", "expected an H x W matrix or a C x H x W list of matrices")
    x = P.array(raw_input, "input", d_in)
    if d_in == 2:
        x = x[None]
    d_k = depth(raw_kernel)
    if d_k != d_in:
        want = "an h x w matrix" if d_in == 2 else f"a C x h x w list with C = {x.shape[0]} matrices"
        raise ParamError("kernel", f"expected {want} (the input has {d_in} dimensions), got {d_k} dimensions")
    k = P.array(raw_kernel, "kernel", d_k)
    if d_k == 2:
        k = k[None]
    if k.shape[0] != x.shape[0]:
        raise ParamError("kernel", f"channel mismatch: the kernel has {k.shape[0]} channels, the input "
                                   f"{x.shape[0]}")
    bias = P.number(P.get(params, "bias", 0), "bias")
    stride = pair(P.get(params, "stride", 1), "stride", 1)
    padding = pair(P.get(params, "padding", 0), "padding", 0)
    hp, wp = x.shape[1] + 2 * padding[0], x.shape[2] + 2 * padding[1]
    if k.shape[1] > hp or k.shape[2] > wp:
        raise ParamError("kernel", f"the kernel ({k.shape[1]} x {k.shape[2]}) is larger than the padded input "
                                   f"({hp} x {wp})")
    out_h = (hp - k.shape[1]) // stride[0] + 1
    out_w = (wp - k.shape[2]) // stride[1] + 1
    pool = read_pool(params, out_h, out_w)
    return {"x": x, "k": k, "bias": bias, "stride": stride, "padding": padding, "pool": pool,
            "rank": d_in, "raw_bias": P.get(params, "bias", 0)}


def _pad(x: list, p: tuple[int, int], zero: Any) -> list:
    out = []
    for ch in x:
        w = len(ch[0]) + 2 * p[1]
        rows = [[zero] * w for _ in range(p[0])]
        rows += [[zero] * p[1] + list(r) + [zero] * p[1] for r in ch]
        rows += [[zero] * w for _ in range(p[0])]
        out.append(rows)
    return out


@register("conv2d", "A convolutional layer (cross-correlation, stride, zero padding, bias) and pooling",
          examples={"lecture_5x5_filter": LECTURE_5X5,
                    "lecture_rgb_filter": LECTURE_RGB,
                    "padding_stride_maxpool": {"input": [[1, 0, 2, 1], [0, 1, -1, 3], [2, 1, 0, 1], [1, 2, 1, 0]],
                                               "kernel": [[1, 0, -1], [1, 0, -1], [1, 0, -1]], "bias": 1,
                                               "padding": 1, "stride": 1,
                                               "pool": {"kind": "max", "size": 2}},
                    "avgpool_stride_2": {"input": [[0.5, 1, 0, 2, 1], [1, -1, 2, 0, 1], [0, 1, 1, 1, 0],
                                                   [2, 0, -1, 1, 1], [1, 1, 0, 0, 2]],
                                         "kernel": [[1, 2], [0, -1]], "stride": 2, "padding": 1,
                                         "pool": {"kind": "avg", "size": 2, "stride": 1}}})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    xf, kf = r["x"], r["k"]
    C, H, W = xf.shape
    _, h, w = kf.shape
    (sh, sw), (ph, pw) = r["stride"], r["padding"]
    hp, wp = H + 2 * ph, W + 2 * pw
    out_h, out_w = (hp - h) // sh + 1, (wp - w) // sw + 1
    exact = out_h * out_w * C * h * w <= EXACT_LIMIT
    if exact:
        x, k, bias, zero = to_fractions(xf), to_fractions(kf), to_fractions(r["bias"]), Fraction(0)
    else:
        x, k, bias, zero = xf.tolist(), kf.tolist(), r["bias"], 0.0
    xp = _pad(x, (ph, pw), zero)
    steps = []
    shape_step = Step(
        "Size of the feature map",
        text=("PyTorch's convolution is a cross-correlation: the kernel slides over the zero-padded input "
              "without being flipped, moving by the stride; each output entry is the sum of the products of "
              "the kernel with the window under it, summed over the channels, plus the bias. "
              "Along the height $H_out = floor((H + 2 p - h) / s) + 1$, with the padding $p$ and the stride $s$ "
              "in that direction, and likewise $W_out$ along the width."),
        inputs={"C": C, "H": H, "W": W, "h": h, "w": w, "s": list(r["stride"]), "p": list(r["padding"])},
        math=[[Sym("H_out"), f"floor(({H} + 2·{ph} - {h}) / {sh}) + 1", out_h],
              [Sym("W_out"), f"floor(({W} + 2·{pw} - {w}) / {sw}) + 1", out_w]],
    )
    for axis, size, pad, ker, st, out in (("rows", H, ph, h, sh, out_h), ("columns", W, pw, w, sw, out_w)):
        left = (size + 2 * pad - ker) - (out - 1) * st
        if left:
            shape_step.text += (f" The last {left} padded {axis} are not covered by any window (the stride "
                                f"does not divide evenly) and are ignored.")
    steps.append(shape_step)
    if ph or pw:
        steps.append(Step(f"Pad the input with {ph} row(s) and {pw} column(s) of zeros on each side",
                          result={f"x_pad^{c + 1}" if C > 1 else "x_pad": xp[c] for c in range(C)}))

    out = [[None] * out_w for _ in range(out_h)]
    rows = []
    for i in range(out_h):
        for j in range(out_w):
            terms, total = [], zero
            for c in range(C):
                for m in range(h):
                    for n in range(w):
                        a = xp[c][i * sh + m][j * sw + n]
                        total += a * k[c][m][n]
                        terms.append(f"{factor_text(a)}·{factor_text(k[c][m][n])}")
            total += bias
            out[i][j] = total
            if len(rows) < SHOWN_ENTRIES:
                if bias != 0:
                    terms.append(factor_text(bias))
                rows.append([f"({i + 1}, {j + 1})", f"rows {i * sh + 1}-{i * sh + h}, "
                             f"columns {j * sw + 1}-{j * sw + w}", " + ".join(terms), total])
    n_out = out_h * out_w
    text = ("Each entry (row, column) of the feature map, counted from 1, is the sum of the products of the "
            "kernel entries with the window of the padded input under it" + (", over all channels" if C > 1 else "")
            + (", plus the bias." if bias != 0 else "."))
    if n_out > SHOWN_ENTRIES:
        text += (f" The first {SHOWN_ENTRIES} of the {n_out} entries are written out; the others are computed "
                 f"the same way.")
    steps.append(Step("Slide the kernel over the input", text=text,
                      inputs=({} if ph or pw else {"x" if C == 1 else f"x^{c + 1}": x[c] for c in range(C)})
                      | {"k" if C == 1 else f"k^{c + 1}": k[c] for c in range(C)} | (
                          {"b": bias} if bias != 0 else {}),
                      table=Table(["entry", "window (padded input)", "sum of products", "value"], rows),
                      result={"output": out}))
    answer: dict[str, Any] = {"output": as_float(out), "output_shape": [out_h, out_w]}
    exact_values: dict[str, Any] = {}
    if exact:
        answer["output_exact"] = exact_str(out)
        exact_values["output"] = out
    if r["pool"] is not None:
        pooled, pool_step = _pool(out, r["pool"], exact)
        steps.append(pool_step)
        answer["pooled"] = as_float(pooled)
        answer["pooled_shape"] = [len(pooled), len(pooled[0])]
        if exact:
            answer["pooled_exact"] = exact_str(pooled)
            exact_values["pooled"] = pooled
    normalized = {"input": xf[0].tolist() if r["rank"] == 2 else xf.tolist(),
                  "kernel": kf[0].tolist() if r["rank"] == 2 else kf.tolist(), "bias": r["bias"],
                  "stride": list(r["stride"]), "padding": list(r["padding"])}
    if r["pool"] is not None:
        normalized["pool"] = {"kind": r["pool"]["kind"], "size": list(r["pool"]["size"]),
                              "stride": list(r["pool"]["stride"])}
    return Solution("conv2d", normalized, steps, answer, [], exact_values)


def _pool(fmap: list, pool: dict[str, Any], exact: bool) -> tuple[list, Step]:
    (ph, pw), (sh, sw) = pool["size"], pool["stride"]
    H, W = len(fmap), len(fmap[0])
    out_h, out_w = (H - ph) // sh + 1, (W - pw) // sw + 1
    pooled = [[None] * out_w for _ in range(out_h)]
    rows = []
    for i in range(out_h):
        for j in range(out_w):
            window = [fmap[i * sh + m][j * sw + n] for m in range(ph) for n in range(pw)]
            if pool["kind"] == "max":
                value = max(window)
                how = "max(" + ", ".join(num_text(v) for v in window) + ")"
            else:
                value = sum(window) / len(window)
                how = "(" + " + ".join(factor_text(v) for v in window) + f") / {len(window)}"
            pooled[i][j] = value
            if len(rows) < SHOWN_ENTRIES:
                rows.append([f"({i + 1}, {j + 1})", f"rows {i * sh + 1}-{i * sh + ph}, columns {j * sw + 1}-"
                             f"{j * sw + pw}", how, value])
    name = "Max" if pool["kind"] == "max" else "Average"
    text = (f"{name} pooling with a {ph} × {pw} window and stride ({sh}, {sw}): each entry is the "
            f"{'largest' if pool['kind'] == 'max' else 'mean'} value of its window of the feature map; windows "
            f"that would run past the edge are dropped. A pooled side is "
            f"$floor((n - k) / s) + 1$ for a side of $n$ entries, a window side $k$ and a stride $s$.")
    if out_h * out_w > SHOWN_ENTRIES:
        text += f" The first {SHOWN_ENTRIES} of the {out_h * out_w} entries are written out."
    return pooled, Step(f"{name} pooling", text=text,
                        math=[[Sym("P_rows"), f"floor(({H} - {ph}) / {sh}) + 1", out_h],
                              [Sym("P_cols"), f"floor(({W} - {pw}) / {sw}) + 1", out_w]],
                        table=Table(["entry", "window (feature map)", "pooling", "value"], rows),
                        result={"pooled": pooled})
