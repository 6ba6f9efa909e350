"""Figures of the kinds perceptron, conv2d_backprop, transformer_block, optimizer_step, pca and gmm_em.

The perceptron's lines, the principal axes and the EM ellipses are drawn as SVG directly; the contour plot
and the two grids of numbers still use matplotlib (imported only when drawn)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import drawer
from .plot import BLUE, GREY, ORANGE, PALETTE, RED, Plot


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


@drawer("perceptron_boundary", direct=True)
def perceptron_boundary(data: dict[str, Any]):
    """data: points (n x 2), labels (n), initial and final [w1, w2, b]: the lines w . x + b = 0."""
    points = np.asarray(data["points"], dtype=float)
    labels = np.asarray(data["labels"], dtype=float)
    x0, x1, y0, y1 = _box(points)
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


@drawer("pca_axes", direct=True)
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


@drawer("gmm_ellipses", direct=True)
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


@drawer("optimizer_path")
def optimizer_path(data: dict[str, Any], ax) -> None:
    """data: x, y (grid axes), z (values on the grid, rows along y), path (iterates), xlabel, ylabel, title."""
    x, y = np.asarray(data["x"], dtype=float), np.asarray(data["y"], dtype=float)
    z = np.asarray(data["z"], dtype=float)
    finite = z[np.isfinite(z)]
    if finite.size and finite.max() > finite.min():
        levels = np.unique(np.quantile(finite, np.linspace(0.02, 0.98, 12)))
        ax.contour(x, y, z, levels=levels, cmap="viridis", linewidths=0.8)
    path = np.asarray(data["path"], dtype=float)
    ax.plot(path[:, 0], path[:, 1], "-o", color="tab:red", markersize=3, linewidth=1.2, label="iterates")
    ax.plot(path[0, 0], path[0, 1], "s", color="k", markersize=6, label="start")
    ax.plot(path[-1, 0], path[-1, 1], "*", color="tab:red", markersize=11, label="last")
    ax.set_xlabel(data["xlabel"])
    ax.set_ylabel(data["ylabel"])
    ax.legend(loc="best", fontsize=7)
    ax.set_title(data["title"], fontsize=10)


def _panels(ax, count: int) -> list:
    """`count` side-by-side Axes in place of `ax` (one per channel or head)."""
    if count == 1:
        return [ax]
    fig = ax.figure
    ax.remove()
    return list(np.ravel(fig.subplots(1, count)))


@drawer("pool_routing")
def pool_routing(data: dict[str, Any], ax) -> None:
    """data: activated (channels x H x W), routing (channels x P_h x P_w x [row, col]), size, stride, upstream."""
    maps = np.asarray(data["activated"], dtype=float)
    (ph, pw_), (sh, sw) = data["size"], data["stride"]
    for o, panel in enumerate(_panels(ax, len(maps))):
        m = maps[o]
        H, W = m.shape
        panel.imshow(np.zeros_like(m), cmap="Greys", vmin=0, vmax=1, extent=(-0.5, W - 0.5, H - 0.5, -0.5))
        routed: dict[tuple[int, int], float] = {}
        for p, row in enumerate(data["routing"][o]):
            for q, (i, j) in enumerate(row):
                routed[(i, j)] = routed.get((i, j), 0.0) + data["upstream"][o][p][q]
                panel.add_patch(_rectangle(q * sw - 0.5, p * sh - 0.5, pw_, ph, edgecolor="tab:blue", fill=False,
                                           linewidth=0.8, linestyle=":"))
        for i in range(H):
            for j in range(W):
                hit = (i, j) in routed
                if hit:
                    panel.add_patch(_rectangle(j - 0.5, i - 0.5, 1, 1, facecolor="tab:red", alpha=0.25))
                panel.text(j, i, f"{m[i, j]:.3g}", ha="center", va="center", fontsize=9,
                           fontweight="bold" if hit else "normal")
                if hit:
                    panel.text(j + 0.45, i + 0.42, f"{routed[(i, j)]:+.3g}", ha="right", va="bottom", fontsize=6,
                               color="tab:red")
        panel.set_xticks(range(W))
        panel.set_yticks(range(H))
        panel.set_title(f"channel {o}" + (": maxima (red) get the gradient" if len(maps) == 1 else " (red: maxima)"),
                        fontsize=8)


def _rectangle(x: float, y: float, w: float, h: float, **style):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, **style)


@drawer("attention_heads")
def attention_heads(data: dict[str, Any], ax) -> None:
    """data: weights (per head, n x n: row i = token i's weights over j), causal (bool)."""
    heads = [np.asarray(w, dtype=float) for w in data["weights"]]
    for h, (panel, w) in enumerate(zip(_panels(ax, len(heads)), heads, strict=True)):
        panel.imshow(w, cmap="Blues", vmin=0, vmax=1)
        n = len(w)
        if n <= 8:
            for i in range(n):
                for j in range(n):
                    panel.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=7,
                               color="white" if w[i, j] > 0.6 else "black")
        panel.set_xticks(range(n))
        panel.set_yticks(range(n))
        panel.set_xlabel("key token j", fontsize=8)
        panel.set_ylabel("query token i", fontsize=8)
        panel.set_title(f"head {h}" + (" (causal)" if data["causal"] else ""), fontsize=9)
