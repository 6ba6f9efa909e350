"""Diagrams drawn as SVG directly from a solver's data: the tensor blocks of a layer stack (encoder above,
decoder below, brackets joining the stages that invert each other), an RNN unrolled over its steps, and a
graph with its attention weights on the edges."""

from __future__ import annotations

import math
from typing import Any

from . import drawer
from .plot import BLUE, GREY, ORANGE, RED
from .svg import Canvas, text_width

SIZE = 10.0


def _block_size(shape: list[int]) -> tuple[float, float, float]:
    """(face width, face height, depth) of a block: a C x H x W tensor as a box C deep, a vector as a bar;
    sizes grow with the logarithm of the dimensions so that 1 and 720 both fit."""
    if len(shape) >= 3:
        c, h, w = shape[-3], shape[-2], shape[-1]
        return 4 + 5 * math.log2(c + 1), 18 + 40 * math.log10(h + 1), 10 + 22 * math.log10(w + 1)
    n = math.prod(shape)
    return 9.0, 18 + 32 * math.log10(n + 1), 0.0


def _block(c: Canvas, cx: float, cy: float, shape: list[int], fill: str) -> tuple[float, float]:
    """A block centred at (cx, cy): front face, and top and side faces in an oblique projection. Returns
    the half width and half height it takes."""
    fw, fh, depth = _block_size(shape)
    dx, dy = depth * 0.6, -depth * 0.45
    x0, y0 = cx - (fw + dx) / 2, cy - (fh - dy) / 2 - dy
    if depth:
        c.polygon([(x0, y0), (x0 + dx, y0 + dy), (x0 + dx + fw, y0 + dy), (x0 + fw, y0)], "#eef3fa", "#333", 0.8,
                  cls="block-side")
        c.polygon([(x0 + fw, y0), (x0 + fw + dx, y0 + dy), (x0 + fw + dx, y0 + dy + fh), (x0 + fw, y0 + fh)],
                  "#d5e1f0", "#333", 0.8, cls="block-side")
    c.rect(x0, y0, fw, fh, fill=fill, stroke="#333", width=0.9, cls="block")
    return (fw + dx) / 2, (fh - dy) / 2


def _shape_text(shape: list[int]) -> str:
    return "×".join(str(v) for v in shape)


def _columns(top: list[int], bottom: list[int], pairs: dict[int, int]) -> tuple[dict[int, int], dict[int, int]]:
    """Columns for the encoder stages (left to right) and the decoder stages (output first): a pair shares
    its column, an unpaired stage gets one of its own."""
    col_top, col_bottom, i, j, col = {}, {}, 0, 0, 0
    while i < len(top) or j < len(bottom):
        if i < len(top) and top[i] not in pairs:
            col_top[top[i]] = col
            i += 1
        elif j < len(bottom) and bottom[j] not in pairs.values():
            col_bottom[bottom[j]] = col
            j += 1
        elif i < len(top):
            col_top[top[i]] = col
            partner = pairs[top[i]]
            col_bottom[partner] = col
            i += 1
            j = bottom.index(partner) + 1
        else:
            col_bottom[bottom[j]] = col
            j += 1
        col += 1
    return col_top, col_bottom


@drawer("tensor_blocks")
def tensor_blocks(data: dict[str, Any]):
    """data: stages ({label, shape}, the input first), split (index of the encoder's last stage, the code),
    pairs ([encoder stage, decoder stage] that invert each other). One row when there is no decoder."""
    stages, split = data["stages"], data["split"]
    pairs = {a: b for a, b in data["pairs"]}
    top = list(range(split + 1))
    bottom = list(range(len(stages) - 1, split, -1))  # the output first: the decoder reads right to left
    col_top, col_bottom = _columns(top, bottom, pairs)
    ncol = max([*col_top.values(), *col_bottom.values()]) + 1
    widths = [0.0] * ncol
    for k, col in [*col_top.items(), *col_bottom.items()]:
        st = stages[k]
        fw, _, depth = _block_size(st["shape"])
        widths[col] = max(widths[col], fw + depth * 0.6, text_width(st["label"], SIZE),
                          text_width(_shape_text(st["shape"]), SIZE))
    gap = 22.0
    xs, x = [], 14.0
    for w in widths:
        xs.append(x + w / 2)
        x += w + gap
    row_h = max(_block_size(st["shape"])[1] + _block_size(st["shape"])[2] * 0.45 for st in stages)
    row_top = 14 + SIZE * 1.4  # a row title, then the op labels
    y_top = row_top + SIZE * 1.6 + row_h / 2
    y_bottom = y_top + row_h + 3 * SIZE + 52 if bottom else None
    height = (y_bottom if bottom else y_top) + row_h / 2 + (4 if bottom else 2.5) * SIZE + 10
    c = Canvas(x - gap + 14 + 60, height)
    c.text(14, 14 + SIZE, "Encoder" if bottom else "Stages", SIZE + 1, weight="bold", cls="row-title")
    extent: dict[int, tuple[float, float, float, float]] = {}

    def place(k: int, cx: float, cy: float, fill: str) -> None:
        hw, hh = _block(c, cx, cy, stages[k]["shape"], fill)
        c.text(cx, cy - row_h / 2 - 6, stages[k]["label"], SIZE, "middle", cls="stage-label")
        c.text(cx, cy + row_h / 2 + 4 + SIZE, _shape_text(stages[k]["shape"]), SIZE, "middle", cls="shape")
        extent[k] = (cx - hw, cx + hw, cy - hh, cy + hh)

    for k in top:
        place(k, xs[col_top[k]], y_top, "#fde9c9" if k == split and bottom else "#dbe8f6")
    for a, b in zip(top, top[1:], strict=False):
        c.arrow(extent[a][1] + 3, y_top, extent[b][0] - 3, y_top, "#333", 1.0, 5, cls="flow")
    if bottom:
        c.text(14, y_bottom + row_h / 2 + 4 + 2.6 * SIZE, "Decoder (read right to left)", SIZE + 1,
               weight="bold", cls="row-title")
        for k in bottom:
            place(k, xs[col_bottom[k]], y_bottom, "#e2f0d9")
        for a, b in zip(bottom, bottom[1:], strict=False):
            c.arrow(extent[b][0] - 3, y_bottom, extent[a][1] + 3, y_bottom, "#333", 1.0, 5, cls="flow")
        first = bottom[-1]  # the decoder's first stage, fed by the code
        right = max(extent[split][1], extent[first][1], xs[col_top[split]] + 40) + 12  # clear of "inverts"
        c.polyline([(extent[split][1] + 3, y_top), (right, y_top), (right, y_bottom)], "#333", 1.0, cls="flow")
        c.arrow(right, y_bottom, extent[first][1] + 3, y_bottom, "#333", 1.0, 5, cls="flow")
        for a in pairs:
            cx = xs[col_top[a]]
            y1, y2 = y_top + row_h / 2 + SIZE + 10, y_bottom - row_h / 2 - SIZE - 10
            c.bracket(cx - 6, y1, cx - 6, y2, 5, ORANGE, 1.3, cls="pair")
            c.text(cx - 1, (y1 + y2) / 2 + SIZE * 0.35, "inverts", SIZE * 0.85, "start", ORANGE, cls="pair-label")
    return c


@drawer("rnn_architecture")
def rnn_architecture(data: dict[str, Any]):
    """data: input_size d, state_size n, output_size o, steps T, cell (simple or lstm), activation,
    output_activation. The network unrolled over the T steps: inputs x_t (below), units (middle, joined by
    the recurrent weights W from s_0), outputs y_t (above)."""
    d, n, o, T = data["input_size"], data["state_size"], data["output_size"], data["steps"]
    lstm = data.get("cell") == "lstm"
    shown = list(range(1, T + 1)) if T <= 6 else [1, 2, 3, None, T]
    col, left = 104.0, 74.0
    width = left + col * len(shown) + 20
    y_out, y_unit, y_in = 40.0, 130.0, 220.0
    act = data.get("activation", "tanh")
    out_act = data.get("output_activation", "linear")
    unit_eq = ("LSTM cell: gates i, f, g, o from U x_t + W s_{t−1} + b" if lstm
               else f"s_t = {act}(U x_t + W s_{{t−1}} + b) ∈ ℝ^{n}")
    out_eq = f"y_t = V s_t + c ∈ ℝ^{o}" if out_act == "linear" else f"y_t = {out_act}(V s_t + c) ∈ ℝ^{o}"
    lines = [f"inputs x_t ∈ ℝ^{d}, embedded by U (n × d = {n} × {d})", unit_eq, out_eq]
    width = max(width, 20 + max(text_width(s, SIZE) for s in lines))
    c = Canvas(width, y_in + 40 + len(lines) * SIZE * 1.5)
    bw, bh = 62.0, 34.0
    c.rect(12, y_unit - bh / 2, 44, bh, fill="#f2f2f2", stroke=GREY, width=0.9, rx=4, cls="initial-state")
    c.text(34, y_unit + SIZE * 0.35, "s_0", SIZE, "middle", cls="unit-label")
    prev_right = 56.0
    for k, t in enumerate(shown):
        cx = left + col * k + col / 2
        if t is None:
            c.text(cx, y_unit + SIZE * 0.35, "⋯", SIZE * 2, "middle", cls="dots")
            c.line(prev_right + 3, y_unit, cx - 14, y_unit, "#333", 1.0, "3 3")
            prev_right = cx + 14
            continue
        c.rect(cx - bw / 2, y_unit - bh / 2, bw, bh, fill="#dbe8f6", stroke="#333", width=1.0, rx=5, cls="unit")
        c.text(cx, y_unit + SIZE * 0.35, ("LSTM " if lstm else "") + f"s_{{{t}}}", SIZE + 1, "middle",
               cls="unit-label")
        c.rect(cx - 22, y_in - 12, 44, 24, fill="#e2f0d9", stroke="#333", width=0.9, rx=12, cls="input")
        c.text(cx, y_in + SIZE * 0.35, f"x_{{{t}}}", SIZE + 1, "middle", cls="input-label")
        c.rect(cx - 22, y_out - 12, 44, 24, fill="#fde9c9", stroke="#333", width=0.9, rx=12, cls="output")
        c.text(cx, y_out + SIZE * 0.35, f"y_{{{t}}}", SIZE + 1, "middle", cls="output-label")
        c.arrow(cx, y_in - 12, cx, y_unit + bh / 2 + 1, BLUE, 1.2, 6, cls="input-arrow")
        c.text(cx + 5, (y_in + y_unit) / 2 + 8, "U", SIZE, "start", BLUE, cls="weight-label")
        c.arrow(cx, y_unit - bh / 2, cx, y_out + 13, RED, 1.2, 6, cls="output-arrow")
        c.text(cx + 5, (y_out + y_unit) / 2 - 2, "V", SIZE, "start", RED, cls="weight-label")
        c.arrow(prev_right + 1, y_unit, cx - bw / 2 - 1, y_unit, "#333", 1.2, 6, cls="recurrent")
        c.text((prev_right + cx - bw / 2) / 2, y_unit - 5, "W", SIZE, "middle", "#333", cls="weight-label")
        prev_right = cx + bw / 2
    for k, s in enumerate(lines):
        c.text(12, y_in + 36 + k * SIZE * 1.5, s, SIZE, cls="legend-text")
    return c


def _layout(n: int, radius: float) -> list[tuple[float, float]]:
    if n == 1:
        return [(0.0, 0.0)]
    return [(radius * math.sin(2 * math.pi * v / n), -radius * math.cos(2 * math.pi * v / n)) for v in range(n)]


@drawer("attention_graph")
def attention_graph(data: dict[str, Any]):
    """data: weights (n x n, row v = node v's weights alpha_{v v'}), edges ([v, v'] pairs). One node per
    vertex, one arrow per edge, from v' into v (the value V_{v'} that node v takes in with weight alpha_{v v'});
    a self-loop for (v, v)."""
    weights, edges = data["weights"], data["edges"]
    n = len(weights)
    R, r = (0.0 if n == 1 else 105.0), 17.0
    raw = _layout(n, R)
    x_lo, y_lo = min(x for x, _ in raw), min(y for _, y in raw)
    margin = 90.0  # room for the self-loops and their labels around the nodes
    pos = [(x - x_lo + margin, y - y_lo + margin - 20) for x, y in raw]
    c = Canvas(max(x for x, _ in pos) + margin, max(y for _, y in pos) + margin - 20)
    centre = (margin - x_lo, margin - 20 - y_lo)
    labels = []
    for v, u in edges:
        a = weights[v][u]
        text = f"α_{{{v},{u}}} = {a:.3g}"
        if v == u:
            x, y = pos[v]
            ox, oy = x - centre[0], y - centre[1]
            norm = math.hypot(ox, oy) or 1.0
            ux, uy = (ox / norm, oy / norm) if n > 1 else (0.0, -1.0)
            lx, ly = x + ux * (r + 9), y + uy * (r + 9)
            c.circle(lx, ly, 10, "none", GREY, 1.2, cls="edge self-loop")
            half = text_width(text, SIZE) / 2  # the label's box, centred beyond the loop along the way out
            tx, ty = lx + ux * (14 + half), ly + uy * (14 + SIZE * 0.5) + SIZE * 0.35
            labels.append((tx, ty, text))
            continue
        (x1, y1), (x2, y2) = pos[u], pos[v]  # the message flows from u = v' into v
        length = math.hypot(x2 - x1, y2 - y1)
        ex, ey = (x2 - x1) / length, (y2 - y1) / length
        nx, ny = -ey, ex
        bend = 14.0
        sx, sy = x1 + ex * r + nx * 5, y1 + ey * r + ny * 5
        tx_, ty_ = x2 - ex * (r + 2) + nx * 5, y2 - ey * (r + 2) + ny * 5
        cx, cy = (x1 + x2) / 2 + nx * bend, (y1 + y2) / 2 + ny * bend
        c.path(f"M {sx:.2f} {sy:.2f} Q {cx:.2f} {cy:.2f} {tx_:.2f} {ty_:.2f}", stroke=BLUE, width=1.2,
               cls="edge")
        hx, hy = tx_ - cx, ty_ - cy
        hl = math.hypot(hx, hy)
        hx, hy = hx / hl, hy / hl
        bx, by = tx_ - 7 * hx, ty_ - 7 * hy
        c.polygon([(tx_, ty_), (bx - 3 * hy, by + 3 * hx), (bx + 3 * hy, by - 3 * hx)], BLUE, cls="arrowhead")
        mx, my = 0.25 * sx + 0.5 * cx + 0.25 * tx_, 0.25 * sy + 0.5 * cy + 0.25 * ty_
        # near the head (the receiving node v), beside the curve
        lx, ly = mx + (tx_ - mx) * 0.45 + nx * 10, my + (ty_ - my) * 0.45 + ny * 10
        labels.append((lx, ly, text))
    for v, (x, y) in enumerate(pos):
        c.circle(x, y, r, "#dbe8f6", "#333", 1.2, cls="node")
        c.text(x, y + SIZE * 0.4, str(v), SIZE + 2, "middle", cls="node-label")
    for x, y, text in labels:
        w = text_width(text, SIZE)
        x = min(max(x, w / 2 + 3), c.width - w / 2 - 3)
        c.rect(x - w / 2 - 1, y - SIZE, w + 2, SIZE + 3, fill="#fff", stroke="none", cls="edge-label-bg")
        c.text(x, y, text, SIZE, "middle", RED, cls="edge-label")
    return c
