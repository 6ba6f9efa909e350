"""Figures of the kinds perceptron, conv2d_backprop, transformer_block, optimizer_step, pca and gmm_em.
All drawn as SVG directly (contours by marching squares)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import drawer
from .plot import BLUE, GREY, ORANGE, PALETTE, RED, Plot
from .svg import Canvas, label, text_width


def _box(points: np.ndarray, pad: float = 0.25) -> tuple[float, float, float, float]:
    lo, hi = points.min(0), points.max(0)
    margin = np.maximum((hi - lo) * pad, 0.5)
    return lo[0] - margin[0], hi[0] + margin[0], lo[1] - margin[1], hi[1] + margin[1]


def _line(p: Plot, w: list[float], **style) -> bool:
    """The line w0 x + w1 y + w2 = 0 across the plot box (nothing when w0 = w1 = 0)."""
    a, b, c = (float(v) for v in w)
    if math.hypot(a, b) < 1e-12:
        return False
    (x0, x1), (y0, y1) = p.xlim, p.ylim
    foot = np.array([-a * c, -b * c]) / (a * a + b * b)  # the point of the line nearest the origin
    along = np.array([-b, a]) / math.hypot(a, b)
    span = 2 * (abs(x1 - x0) + abs(y1 - y0) + float(np.abs(foot).sum()))
    return p.segment(tuple(foot - span * along), tuple(foot + span * along), **style)


def _near_points(points: np.ndarray, lines: list[list[float]]) -> list[np.ndarray]:
    """For each line w0 x + w1 y + w2 = 0 within three data spans of the points' centre, its point nearest that
    centre, so that the box shows the boundary the caption speaks of (a far-away line is left out of the box)."""
    centre = points.mean(0)
    span = max(float(np.ptp(points, 0).max()), 1.0)
    near = []
    for w in lines:
        a, b, c = (float(v) for v in w)
        norm = math.hypot(a, b)
        if norm < 1e-12:
            continue
        n = np.array([a, b]) / norm
        d = float(n @ centre) + c / norm
        if abs(d) <= 3 * span:
            near.append(centre - d * n)
    return near


@drawer("perceptron_boundary")
def perceptron_boundary(data: dict[str, Any]):
    """data: points (n x 2), labels (n), initial and final [w1, w2, b]: the lines w . x + b = 0."""
    points = np.asarray(data["points"], dtype=float)
    labels = np.asarray(data["labels"], dtype=float)
    x0, x1, y0, y1 = _box(np.vstack([points, *_near_points(points, [data["initial"], data["final"]])]))
    p = Plot((x0, x1), (y0, y1), xlabel="x_1", ylabel="x_2", title="Points and the boundary w · x + b = 0")
    if _line(p, data["initial"], stroke=GREY, width=1.3, dash="5 4", cls="boundary initial"):
        p.legend_entries.append(("initial boundary", {"line": (GREY, 1.3, "5 4")}))
    if _line(p, data["final"], stroke=RED, width=1.8, cls="boundary final"):
        p.legend_entries.append(("final boundary", {"line": (RED, 1.8, None)}))
    high = labels > (labels.max() + labels.min()) / 2 if labels.max() > labels.min() else labels >= 0
    p.scatter(points[high], "circle", 4.5, BLUE, label="higher label", cls="marker data")
    p.scatter(points[~high], "square", 4.0, ORANGE, label="lower label", cls="marker data")
    for i, (x, y) in enumerate(points):
        p.annotate(x, y, f"{i} ({labels[i]:g})")
    return p.finish()


@drawer("pca_axes")
def pca_axes(data: dict[str, Any]):
    """data: points (n x 2), mean, eigenvalues (descending), eigenvectors (rows)."""
    points = np.asarray(data["points"], dtype=float)
    mean = np.asarray(data["mean"], dtype=float)
    ends = [mean + 2 * np.sqrt(max(lam, 0.0)) * np.asarray(u, dtype=float)
            for lam, u in zip(data["eigenvalues"], data["eigenvectors"], strict=True)]
    x0, x1, y0, y1 = _box(np.vstack([points, *ends, *[2 * mean - e for e in ends]]), pad=0.1)
    p = Plot((x0, x1), (y0, y1), equal=True, xlabel="x_1", ylabel="x_2", width=470, height=400,
             title="Principal axes (length 2√λ each way)")
    for j, (lam, end) in enumerate(zip(data["eigenvalues"], ends, strict=True)):
        colour = PALETTE[(j + 1) % len(PALETTE)]
        a, b = p.px(*(2 * mean - end)), p.px(*end)
        p.canvas.arrow(*a, *b, colour, 1.8, 8, cls="axis-arrow")
        p.curve_points.extend((a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t) for t in np.linspace(0, 1, 40))
        p.annotate(*end, f"u_{j + 1} (λ = {lam:.3g})", fill=colour)
    p.scatter(points, "circle", 4.0, BLUE, label="samples", cls="marker data")
    p.scatter([mean], "cross", 6.0, "#000", label="mean", cls="marker mean")
    return p.finish()


def _ellipse(mean: np.ndarray, cov: np.ndarray, radius: float = 2.0) -> np.ndarray:
    """Points of the ellipse (x - mu)^T S^-1 (x - mu) = radius^2."""
    values, vectors = np.linalg.eigh(cov)
    angle = np.linspace(0, 2 * np.pi, 100)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    return (mean[:, None] + vectors @ (radius * np.sqrt(np.clip(values, 0, None))[:, None] * circle)).T


def _mix(weights: np.ndarray) -> str:
    """The colour mixing the components' palette colours by `weights` (responsibilities)."""
    rgb = np.array([[int(PALETTE[k % len(PALETTE)][i:i + 2], 16) for i in (1, 3, 5)] for k in range(len(weights))])
    r, g, b = np.clip(weights @ rgb, 0, 255).round().astype(int)
    return f"#{r:02x}{g:02x}{b:02x}"


@drawer("gmm_ellipses")
def gmm_ellipses(data: dict[str, Any]):
    """data: points (n x 2), history (per iteration, from the initial one: [weights, means, covariances]),
    responsibilities (n x K, the last iteration's)."""
    points = np.asarray(data["points"], dtype=float)
    resp = np.asarray(data["responsibilities"], dtype=float)
    history = data["history"]
    K = resp.shape[1]
    outlines = [[_ellipse(np.asarray(means[k], dtype=float), np.asarray(covs[k], dtype=float)) for k in range(K)]
                for _, means, covs in history]
    x0, x1, y0, y1 = _box(np.vstack([points, *[e for row in outlines for e in row]]), pad=0.05)
    p = Plot((x0, x1), (y0, y1), equal=True, xlabel="x_1", ylabel="x_2", width=470, height=400,
             title=f"EM: 2σ ellipses over {len(history) - 1} iteration(s)")
    for t, row in enumerate(outlines):
        last = t == len(history) - 1
        for k, e in enumerate(row):
            colour = PALETTE[k % len(PALETTE)]
            p.line(e[:, 0], e[:, 1], colour if last or t == 0 else "#c8c8c8", 1.8 if last else 0.9,
                   "5 4" if t == 0 and not last else None, label=f"component {k}" if last else None,
                   cls="ellipse")
            mean = history[t][1][k]
            p.marker(*mean, "cross", 6.0 if last else 3.5, colour, cls="marker mean")
    if len(history) > 1:
        p.legend_entries.append(("initial (dashed)", {"line": (GREY, 0.9, "5 4")}))
    for i, (x, y) in enumerate(points):
        p.marker(x, y, "circle", 4.5, _mix(resp[i]), "#000", cls="marker data")
    return p.finish()


VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
           "#fde725"]


def contour_segments(x: np.ndarray, y: np.ndarray, z: np.ndarray, level: float) -> list[tuple]:
    """Marching squares: the segments of the curve z = level through the grid (z[i, j] at (x[j], y[i])),
    each crossing of a cell edge placed by linear interpolation; cells with a missing value are skipped."""
    out = []
    for i in range(len(y) - 1):
        for j in range(len(x) - 1):
            corners = [(x[j], y[i], z[i, j]), (x[j + 1], y[i], z[i, j + 1]), (x[j + 1], y[i + 1], z[i + 1, j + 1]),
                       (x[j], y[i + 1], z[i + 1, j])]
            if any(not np.isfinite(c[2]) for c in corners):
                continue
            cuts = []
            for (ax, ay, av), (bx, by, bv) in zip(corners, corners[1:] + corners[:1], strict=True):
                if (av < level) != (bv < level):
                    t = (level - av) / (bv - av)
                    cuts.append((ax + t * (bx - ax), ay + t * (by - ay)))
            if len(cuts) == 2:
                out.append((cuts[0], cuts[1]))
            elif len(cuts) == 4:  # a saddle: pair the crossings around the corners on the same side
                out += [(cuts[0], cuts[1]), (cuts[2], cuts[3])]
    return out


@drawer("optimizer_path")
def optimizer_path(data: dict[str, Any]):
    """data: x, y (grid axes), z (values on the grid, rows along y), path (iterates), xlabel, ylabel, title."""
    x, y = np.asarray(data["x"], dtype=float), np.asarray(data["y"], dtype=float)
    z = np.asarray([[np.nan if v is None else v for v in row] for row in data["z"]], dtype=float)
    p = Plot((x[0], x[-1]), (y[0], y[-1]), xlabel=label(data["xlabel"]), ylabel=label(data["ylabel"]),
             title=label(data["title"]), tight_x=True, tight_y=True, width=470, height=360)
    finite = z[np.isfinite(z)]
    if finite.size and finite.max() > finite.min():
        levels = np.unique(np.quantile(finite, np.linspace(0.02, 0.98, 12)))
        for k, level in enumerate(levels):
            d = []
            for a, b in contour_segments(x, y, z, float(level)):
                (ax, ay), (bx, by) = p.px(*a), p.px(*b)
                d.append(f"M{ax:.1f} {ay:.1f}L{bx:.1f} {by:.1f}")
            if d:
                colour = VIRIDIS[round(k * (len(VIRIDIS) - 1) / max(len(levels) - 1, 1))]
                p.canvas.path("".join(d), stroke=colour, width=0.8, cls="contour")
    path = np.asarray(data["path"], dtype=float)
    p.line(path[:, 0], path[:, 1], RED, 1.2, label="iterates", cls="path")
    p.scatter(path, "circle", 2.2, RED, cls="marker iterate")
    p.scatter(path[:1], "square", 4.0, "#000", label="start", cls="marker start")
    p.scatter(path[-1:], "cross", 6.0, RED, label="last", cls="marker last")
    return p.finish()


def _blues(value: float) -> str:
    """matplotlib's "Blues" at value in [0, 1], from its ends and middle."""
    stops = [(0.0, (247, 251, 255)), (0.5, (107, 174, 214)), (1.0, (8, 48, 107))]
    v = min(max(value, 0.0), 1.0)
    (a, ca), (b, cb) = next((s, t) for s, t in zip(stops, stops[1:], strict=False) if v <= t[0])
    f = (v - a) / (b - a)
    r, g, bl = (round(ca[i] + f * (cb[i] - ca[i])) for i in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def _grid_panels(count: int, rows: int, cols: int, cell: float, titles: list[str], xlabel: str, ylabel: str):
    """A canvas with `count` side-by-side grids of rows x cols cells; returns it and each grid's top-left."""
    panel = cols * cell
    over = max(0.0, (max(text_width(t, 11) for t in titles) - panel) / 2 + 4)  # a title wider than its grid
    left, top, gap = 34.0 + (14 if ylabel else 0) + over, 24.0, max(30.0, 2 * over + 10)
    width = left + count * panel + (count - 1) * gap + max(12.0, over + 4)
    c = Canvas(width, top + rows * cell + 30 + (14 if xlabel else 0))
    origins = []
    for k in range(count):
        x0 = left + k * (cols * cell + gap)
        origins.append((x0, top))
        c.text(x0 + cols * cell / 2, top - 8, titles[k], 11, "middle", cls="title")
        for j in range(cols):
            c.text(x0 + (j + 0.5) * cell, top + rows * cell + 14, str(j), 10, "middle", cls="tick")
        for i in range(rows):
            c.text(x0 - 5, top + (i + 0.5) * cell + 3.5, str(i), 10, "end", cls="tick")
        if xlabel:
            c.text(x0 + cols * cell / 2, top + rows * cell + 30, xlabel, 10, "middle", cls="xlabel")
    if ylabel:
        cy = top + rows * cell / 2
        c.items.append(f'<g transform="rotate(-90 {12 + 10:.2f} {cy:.2f})">')
        c.text(22, cy, ylabel, 10, "middle", cls="ylabel")
        c.items.append("</g>")
    return c, origins


@drawer("pool_routing")
def pool_routing(data: dict[str, Any]):
    """data: activated (channels x H x W), routing (channels x P_h x P_w x [row, col]), size, stride, upstream."""
    maps = np.asarray(data["activated"], dtype=float)
    (ph, pw_), (sh, sw) = data["size"], data["stride"]
    H, W = maps.shape[1:]
    cell = 44.0
    titles = [f"channel {o}" + (": maxima (red) get the gradient" if len(maps) == 1 else " (red: maxima)")
              for o in range(len(maps))]
    c, origins = _grid_panels(len(maps), H, W, cell, titles, "", "")
    for o, (x0, y0) in enumerate(origins):
        routed: dict[tuple[int, int], float] = {}
        for p_, row in enumerate(data["routing"][o]):
            for q, (i, j) in enumerate(row):
                routed[(i, j)] = routed.get((i, j), 0.0) + data["upstream"][o][p_][q]
        for i in range(H):
            for j in range(W):
                hit = (i, j) in routed
                c.rect(x0 + j * cell, y0 + i * cell, cell, cell, fill="#f4c7c7" if hit else "#fff", stroke="#999",
                       width=0.6, cls="cell")
                c.text(x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell + 4, f"{maps[o, i, j]:.3g}", 11, "middle",
                       weight="bold" if hit else None, cls="value")
                if hit:
                    c.text(x0 + (j + 1) * cell - 3, y0 + (i + 1) * cell - 4, f"{routed[(i, j)]:+.3g}", 8, "end", RED,
                           cls="routed")
        for p_, row in enumerate(data["routing"][o]):
            for q, _ in enumerate(row):
                c.rect(x0 + q * sw * cell + 2, y0 + p_ * sh * cell + 2, pw_ * cell - 4, ph * cell - 4, stroke=BLUE,
                       width=0.8, dash="2 2", cls="window")
    return c


@drawer("attention_heads")
def attention_heads(data: dict[str, Any]):
    """data: weights (per head, n x n: row i = token i's weights over j), causal (bool)."""
    heads = [np.asarray(w, dtype=float) for w in data["weights"]]
    n = len(heads[0])
    cell = max(12.0, min(40.0, 320.0 / n))
    titles = [f"head {h}" + (" (causal)" if data["causal"] else "") for h in range(len(heads))]
    c, origins = _grid_panels(len(heads), n, n, cell, titles, "key token j", "query token i")
    for (x0, y0), w in zip(origins, heads, strict=True):
        for i in range(n):
            for j in range(n):
                c.rect(x0 + j * cell, y0 + i * cell, cell, cell, fill=_blues(w[i, j]), stroke="none", cls="cell")
                if n <= 8:
                    c.text(x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell + 3, f"{w[i, j]:.2f}", 8, "middle",
                           "#fff" if w[i, j] > 0.6 else "#000", cls="value")
        c.rect(x0, y0, n * cell, n * cell, stroke="#333", width=0.8, cls="frame")
    return c
