"""A small plotting layer over `svg.Canvas`: one axes box with ticks by the 1-2-5 rule (10^k on a log axis),
a title and axis labels that always fit the picture, lines clipped to the box, markers, and a legend placed
where it covers no data (inside a free corner, else below the axes).

    p = Plot((0, 1), (0, 2), xlabel="x", title="...")
    p.line(xs, ys, stroke=BLUE, label="p_{data}(x)")
    p.scatter(points, shape="circle", label="data", cls="data")
    p.finish().save(path)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .svg import Canvas, text_width, wrap

BLUE, ORANGE, GREEN, RED, PURPLE, GREY = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#7f7f7f"
PALETTE = [BLUE, ORANGE, GREEN, RED, PURPLE, "#8c564b", "#e377c2", GREY, "#bcbd22", "#17becf"]
TICK, LABEL, TITLE, LEGEND = 10.0, 11.0, 12.0, 10.0
PAD = 6.0


def nice_step(span: float, count: int = 6, integer: bool = False) -> float:
    """The 1-2-5 step (1, 2 or 5 times a power of ten) giving about `count` ticks over `span`; at least 1
    when the axis counts (`integer`)."""
    raw = max(span / max(count - 1, 1), 1.0 if integer else 0.0)
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * 0.7)  # at least count - 1 ticks or so


def nice_limits(lo: float, hi: float, count: int = 6) -> tuple[float, float, list[float]]:
    """Limits widened to whole 1-2-5 steps around [lo, hi], and the ticks between them."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi - lo < 1e-12:
        lo, hi = lo - max(abs(lo) * 0.5, 0.5), hi + max(abs(hi) * 0.5, 0.5)
    step = nice_step(hi - lo, count)
    start, stop = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    ticks = [round(start + k * step, 12) for k in range(int(round((stop - start) / step)) + 1)]
    return start, stop, ticks


def inner_ticks(lo: float, hi: float, count: int = 6, integer: bool = False) -> list[float]:
    """The 1-2-5 ticks inside [lo, hi] (limits kept as they are)."""
    if hi - lo < 1e-12:
        return nice_limits(lo, hi, count)[2]
    step = nice_step(hi - lo, count, integer)
    first = math.ceil(lo / step - 1e-9)
    return [round(k * step, 12) for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def tick_text(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs; minus as U+2212."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


def log_ticks(lo: float, hi: float) -> tuple[float, float, list[int]]:
    """Whole decades around [lo, hi] (both > 0): the limits and the exponents k of the 10^k ticks."""
    a, b = math.floor(math.log10(lo) + 1e-9), math.ceil(math.log10(hi) - 1e-9)
    if b == a:
        b = a + 1
    every = max(1, math.ceil((b - a) / 7))
    return 10.0 ** a, 10.0 ** b, list(range(a, b + 1, every))


def clip_segment(p, q, box) -> tuple | None:
    """Liang-Barsky: the part of segment p-q inside box (x0, x1, y0, y1), or None."""
    (x0, x1, y0, y1), (px, py), (qx, qy) = box, p, q
    dx, dy = qx - px, qy - py
    t0, t1 = 0.0, 1.0
    for edge_p, edge_q in ((-dx, px - x0), (dx, x1 - px), (-dy, py - y0), (dy, y1 - py)):
        if abs(edge_p) < 1e-15:
            if edge_q < 0:
                return None
            continue
        t = edge_q / edge_p
        if edge_p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return (px + t0 * dx, py + t0 * dy), (px + t1 * dx, py + t1 * dy)


class Plot:
    """One axes box of `width` x `height` (the whole picture; margins come out of it) over xlim x ylim.

    `equal`: one unit is as long on both axes (the box shrinks to fit). `ylog`: a log y axis. `tight_x`,
    `tight_y`: the limits as given, ticks inside them (else the limits widen to whole tick steps)."""

    def __init__(self, xlim: Sequence[float], ylim: Sequence[float], *, xlabel: str = "", ylabel: str = "",
                 title: str = "", width: float = 460, height: float = 330, ylog: bool = False,
                 equal: bool = False, tight_x: bool = False, tight_y: bool = False, integer_x: bool = False):
        self.ylog = ylog
        if tight_x and xlim[1] - xlim[0] > 1e-12:
            self.xlim = (float(xlim[0]), float(xlim[1]))
            self.xticks = inner_ticks(*self.xlim, integer=integer_x)
        else:
            self.xlim, self.xticks = self._axis(xlim)
        if ylog:
            lo, hi, exps = log_ticks(*ylim)
            self.ylim, self.yticks = (lo, hi), [10.0 ** k for k in exps]
            self.ylabels = [f"10^{{{k}}}".replace("-", "\u2212") for k in exps]
        else:
            if tight_y and ylim[1] - ylim[0] > 1e-12:
                self.ylim = (float(ylim[0]), float(ylim[1]))
                self.yticks = inner_ticks(*self.ylim)
            else:
                self.ylim, self.yticks = self._axis(ylim)
            step = self.yticks[1] - self.yticks[0] if len(self.yticks) > 1 else 1.0
            self.ylabels = [tick_text(v, step) for v in self.yticks]
        xstep = self.xticks[1] - self.xticks[0] if len(self.xticks) > 1 else max(abs(self.xticks[0]), 1.0)
        self.xlabels = [tick_text(v, xstep) for v in self.xticks]
        self.width, self.height = float(width), float(height)
        self.title = wrap(title, TITLE, self.width - 2 * PAD) if title else []
        left = PAD + max(text_width(t, TICK) for t in self.ylabels) + 5 + (LABEL + 4 if ylabel else 0)
        top = PAD + len(self.title) * TITLE * 1.25 + (4 if self.title else 4)
        right = PAD + text_width(self.xlabels[-1], TICK) / 2 + 2 if self.xlabels else PAD
        bottom = PAD + TICK + 8 + (LABEL * 1.3 if xlabel else 0)
        w, h = self.width - left - right, self.height - top - bottom
        self.ylabel_x = PAD + LABEL
        if equal:
            sx = w / (self.xlim[1] - self.xlim[0])
            sy = h / (self.ylim[1] - self.ylim[0])
            s = min(sx, sy)
            new_w, h = s * (self.xlim[1] - self.xlim[0]), s * (self.ylim[1] - self.ylim[0])
            self.ylabel_x += (w - new_w) / 2
            left += (w - new_w) / 2  # the picture keeps its width (title, legend), the box is centred in it
            w = new_w
            self.height = top + h + bottom
        self.box = (left, top, w, h)  # pixels: the axes box
        self.xlabel, self.ylabel = xlabel, ylabel
        self.canvas = Canvas(self.width, self.height)
        self.legend_entries: list[tuple[str, dict]] = []
        self.markers: list[tuple[float, float, float]] = []  # pixel centre and radius of every marker
        self.curve_points: list[tuple[float, float]] = []  # pixel points on the drawn lines
        self.labels: list[tuple[float, float, float, float]] = []  # pixel boxes of the annotations
        self._frame()

    @staticmethod
    def _axis(lim):
        lo, hi, t = nice_limits(float(lim[0]), float(lim[1]))
        return (lo, hi), t

    def px(self, x: float, y: float) -> tuple[float, float]:
        """Data coordinates to picture coordinates."""
        left, top, w, h = self.box
        fx = (x - self.xlim[0]) / (self.xlim[1] - self.xlim[0])
        if self.ylog:
            fy = (math.log10(y) - math.log10(self.ylim[0])) / (math.log10(self.ylim[1]) - math.log10(self.ylim[0]))
        else:
            fy = (y - self.ylim[0]) / (self.ylim[1] - self.ylim[0])
        return left + fx * w, top + (1 - fy) * h

    def _frame(self) -> None:
        c, (left, top, w, h) = self.canvas, self.box
        for k, line in enumerate(self.title):
            c.text(self.width / 2, PAD + TITLE + k * TITLE * 1.25, line, TITLE, "middle", cls="title")
        for v, label in zip(self.xticks, self.xlabels, strict=True):
            x, _ = self.px(v, self.ylim[0])
            c.line(x, top, x, top + h, "#e6e6e6", 0.6)
            c.line(x, top + h, x, top + h + 4, "#000", 0.8)
            c.text(x, top + h + 5 + TICK, label, TICK, "middle", cls="tick")
        for v, label in zip(self.yticks, self.ylabels, strict=True):
            _, y = self.px(self.xlim[0], v)
            c.line(left, y, left + w, y, "#e6e6e6", 0.6)
            c.line(left - 4, y, left, y, "#000", 0.8)
            c.text(left - 6, y + TICK * 0.35, label, TICK, "end", cls="tick")
        c.rect(left, top, w, h, stroke="#000", width=0.9, cls="axes")
        if self.xlabel:
            c.text(left + w / 2, self.height - PAD - 2, self.xlabel, LABEL, "middle", cls="xlabel")

    def _ylabel(self) -> None:
        if not self.ylabel:
            return
        left, top, w, h = self.box
        x, y = self.ylabel_x, top + h / 2
        text_len = text_width(self.ylabel, LABEL)
        if text_len > h:  # too long to stand beside the axis: set it above the axes instead
            self.canvas.text(self.ylabel_x - LABEL, top - 4, self.ylabel, LABEL, "start", cls="ylabel")
            return
        self.canvas.items.append(f'<g transform="rotate(-90 {x:.2f} {y:.2f})">')
        self.canvas.text(x, y, self.ylabel, LABEL, "middle", cls="ylabel")
        self.canvas.items.append("</g>")

    def line(self, xs: Iterable[float], ys: Iterable, stroke=BLUE, width=1.6, dash=None, label=None,
             cls="curve") -> None:
        """A curve through (x, y), broken where y is None or not finite, clipped to the axes box."""
        x0, x1 = self.xlim
        y0, y1 = self.ylim
        run: list[tuple[float, float]] = []
        pieces = []
        pts = [(float(x), None if y is None else float(y)) for x, y in zip(xs, ys, strict=True)]
        for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False):
            if ay is None or by is None or not (math.isfinite(ay) and math.isfinite(by)) or (
                    self.ylog and (ay <= 0 or by <= 0)):
                if run:
                    pieces.append(run)
                run = []
                continue
            seg = clip_segment((ax, ay), (bx, by), (x0, x1, y0, y1))
            if seg is None:
                if run:
                    pieces.append(run)
                run = []
                continue
            p, q = self.px(*seg[0]), self.px(*seg[1])
            if run and math.hypot(run[-1][0] - p[0], run[-1][1] - p[1]) > 1e-6:
                pieces.append(run)
                run = []
            if not run:
                run = [p]
            run.append(q)
        if run:
            pieces.append(run)
        for piece in pieces:
            self.canvas.polyline(piece, stroke, width, dash, cls=cls)
            for (ax, ay), (bx, by) in zip(piece, piece[1:], strict=False):
                n = max(1, int(math.hypot(bx - ax, by - ay) / 4))
                self.curve_points.extend((ax + (bx - ax) * t / n, ay + (by - ay) * t / n) for t in range(n + 1))
        if label:
            self.legend_entries.append((label, {"line": (stroke, width, dash)}))

    def segment(self, p, q, stroke=RED, width=1.6, dash=None, cls="segment") -> bool:
        """A straight segment in data coordinates, clipped to the axes box; whether any of it is inside."""
        seg = clip_segment(p, q, (*self.xlim, *self.ylim))
        if seg is None or math.dist(*seg) < 1e-12:
            return False
        (ax, ay), (bx, by) = self.px(*seg[0]), self.px(*seg[1])
        self.canvas.line(ax, ay, bx, by, stroke, width, dash, cls=cls)
        n = max(2, int(math.hypot(bx - ax, by - ay) / 4))
        self.curve_points.extend((ax + (bx - ax) * t, ay + (by - ay) * t) for t in np.linspace(0, 1, n))
        return True

    def marker(self, x: float, y: float, shape="circle", size=4.0, fill="#000", stroke="none", cls="marker"):
        px, py = self.px(x, y)
        draw_marker(self.canvas, px, py, shape, size, fill, stroke, cls)
        self.markers.append((px, py, size + 1))

    def scatter(self, points, shape="circle", size=4.0, fill="#000", stroke="none", label=None, cls="marker",
                fills: list[str] | None = None) -> None:
        for i, (x, y) in enumerate(points):
            self.marker(x, y, shape, size, fills[i] if fills else fill, stroke, cls)
        if label:
            self.legend_entries.append((label, {"marker": (shape, size, fill if not fills else "#000", stroke)}))

    def annotate(self, x: float, y: float, label: str, size=10.0, fill="#000") -> None:
        """`label` next to the data point (x, y): the first spot around it (upper right, lower right, upper
        left, ...) inside the axes box that overlaps no marker and no label placed before."""
        px, py = self.px(x, y)
        left, top, w, h = self.box
        width = text_width(label, size)
        spots = [(px + 6, py - 6), (px + 6, py + 6 + size), (px - 6 - width, py - 6),
                 (px - 6 - width, py + 6 + size), (px + 8, py + size * 0.35), (px - 8 - width, py + size * 0.35),
                 (px - width / 2, py - 8), (px - width / 2, py + 8 + size)]
        inside = [(tx, ty) for tx, ty in spots if tx >= left + 2 and tx + width <= left + w - 2
                  and ty - size >= top + 2 and ty <= top + h - 2] or spots[:1]

        def clashes(spot):
            tx, ty = spot
            box = (tx, ty - size * 0.8, width, size)
            hits = sum(1 for mx, my, r in self.markers if box[0] - r <= mx <= box[0] + box[2] + r
                       and box[1] - r <= my <= box[1] + box[3] + r)
            hits += sum(1 for bx, by, bw, bh in self.labels if bx < box[0] + box[2] and box[0] < bx + bw
                        and by < box[1] + box[3] and box[1] < by + bh)
            crossed = sum(1 for cx, cy in self.curve_points
                          if box[0] <= cx <= box[0] + box[2] and box[1] <= cy <= box[1] + box[3])
            return hits * 1000 + crossed  # markers and labels first, then lines

        tx, ty = min(inside, key=clashes)
        self.labels.append((tx, ty - size * 0.8, width, size))
        self.canvas.text(tx, ty, label, size, "start", fill, cls="annotation")

    def _legend_size(self) -> tuple[float, float]:
        width = max(text_width(t, LEGEND) for t, _ in self.legend_entries) + 34
        return width, len(self.legend_entries) * LEGEND * 1.5 + 6

    def _covers(self, x: float, y: float, w: float, h: float) -> int:
        """How many markers, curve points and labels the rectangle x, y, w, h would hide."""
        hits = sum(1 for px, py, r in self.markers if x - r <= px <= x + w + r and y - r <= py <= y + h + r)
        hits += sum(1 for px, py in self.curve_points if x - 2 <= px <= x + w + 2 and y - 2 <= py <= y + h + 2)
        hits += sum(1 for bx, by, bw, bh in self.labels if bx < x + w and x < bx + bw and by < y + h and y < by + bh)
        return hits

    def finish(self) -> Canvas:
        """Draw the y label and the legend (last, so nothing covers it) and return the canvas."""
        self._ylabel()
        if not self.legend_entries:
            return self.canvas
        left, top, w, h = self.box
        lw, lh = self._legend_size()
        spots = [(left + w - lw - 4, top + 4), (left + 4, top + 4), (left + w - lw - 4, top + h - lh - 4),
                 (left + 4, top + h - lh - 4), (left + (w - lw) / 2, top + 4), (left + (w - lw) / 2, top + h - lh - 4)]
        free = [s for s in spots if s[0] >= left and s[1] >= top and lw <= w - 8 and lh <= h - 8
                and self._covers(*s, lw, lh) == 0]
        if free:
            x, y = free[0]
        else:  # no free corner: below the axes, on a canvas grown to hold it
            x, y = max(PAD, left + (w - lw) / 2), self.height
            self.canvas.height = self.height = y + lh + PAD
            self.canvas.width = self.width = max(self.width, x + lw + PAD)
        self.legend_box = (x, y, lw, lh)
        c = self.canvas
        c.rect(x, y, lw, lh, fill="#fff", stroke="#999", width=0.7, cls="legend")
        for k, (label, style) in enumerate(self.legend_entries):
            cy = y + 3 + LEGEND * 1.5 * (k + 0.5)
            if "line" in style:
                stroke, width, dash = style["line"]
                c.line(x + 5, cy, x + 27, cy, stroke, width, dash, cls="legend-key")
            else:
                shape, size, fill, stroke = style["marker"]
                draw_marker(c, x + 16, cy, shape, size, fill, stroke, "legend-key")
            c.text(x + 31, cy + LEGEND * 0.35, label, LEGEND, "start", cls="legend-text")
        return c


def draw_marker(c: Canvas, x: float, y: float, shape: str, size: float, fill: str, stroke: str, cls: str) -> None:
    """A marker of half-width `size` centred at (x, y): circle, square or cross (an X)."""
    if shape == "circle":
        c.circle(x, y, size, fill, stroke, 1.2, cls=cls)
    elif shape == "square":
        c.rect(x - size, y - size, 2 * size, 2 * size, fill=fill, stroke=stroke, width=1.4, cls=cls)
    else:
        a, b = size, size * 0.35
        pts = [(x - a, y - a + b), (x - a + b, y - a), (x, y - b), (x + a - b, y - a), (x + a, y - a + b),
               (x + b, y), (x + a, y + a - b), (x + a - b, y + a), (x, y + b), (x - a + b, y + a),
               (x - a, y + a - b), (x - b, y)]
        c.polygon(pts, fill, stroke, 0.8, cls=cls)
