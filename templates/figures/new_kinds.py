"""Figures of the kinds perceptron, conv2d_backprop, transformer_block, optimizer_step, pca and gmm_em."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import drawer


def _box(points: np.ndarray, pad: float = 0.25) -> tuple[float, float, float, float]:
    lo, hi = points.min(0), points.max(0)
    margin = np.maximum((hi - lo) * pad, 0.5)
    return lo[0] - margin[0], hi[0] + margin[0], lo[1] - margin[1], hi[1] + margin[1]


def _line(ax, w: list[float], box: tuple[float, float, float, float], **style) -> None:
    """The line w0 x + w1 y + w2 = 0 inside the box (nothing when w0 = w1 = 0)."""
    a, b, c = w
    x0, x1, y0, y1 = box
    if abs(b) > 1e-12:
        xs = np.array([x0, x1])
        ax.plot(xs, -(a * xs + c) / b, **style)
    elif abs(a) > 1e-12:
        ax.plot([-c / a, -c / a], [y0, y1], **style)


@drawer("perceptron_boundary")
def perceptron_boundary(data: dict[str, Any], ax) -> None:
    """data: points (n x 2), labels (n), initial and final [w1, w2, b]: the lines w . x + b = 0."""
    points = np.asarray(data["points"], dtype=float)
    labels = np.asarray(data["labels"], dtype=float)
    box = _box(points)
    high = labels > (labels.max() + labels.min()) / 2 if labels.max() > labels.min() else labels >= 0
    ax.scatter(points[high, 0], points[high, 1], marker="o", color="tab:blue", s=45, zorder=3, label="higher label")
    ax.scatter(points[~high, 0], points[~high, 1], marker="s", color="tab:orange", s=45, zorder=3,
               label="lower label")
    for i, p in enumerate(points):
        ax.annotate(f"{i} ({labels[i]:g})", p, textcoords="offset points", xytext=(5, 5), fontsize=8)
    _line(ax, data["initial"], box, color="tab:gray", linestyle="--", linewidth=1.2, label="initial boundary")
    _line(ax, data["final"], box, color="tab:red", linewidth=1.8, label="final boundary")
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="best", fontsize=7)
    ax.set_title("Points and the boundary w . x + b = 0", fontsize=10)


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


@drawer("pca_axes")
def pca_axes(data: dict[str, Any], ax) -> None:
    """data: points (n x 2), mean, eigenvalues (descending), eigenvectors (rows)."""
    points = np.asarray(data["points"], dtype=float)
    mean = np.asarray(data["mean"], dtype=float)
    ends = [mean + 2 * np.sqrt(lam) * np.asarray(u) for lam, u in zip(data["eigenvalues"], data["eigenvectors"],
                                                                        strict=True)]
    box = _box(np.vstack([points, *ends, *[2 * mean - e for e in ends]]), pad=0.1)
    ax.scatter(points[:, 0], points[:, 1], color="tab:blue", s=30, zorder=3, label="samples")
    ax.plot(*mean, "P", color="k", markersize=9, zorder=4, label="mean")
    for j, (lam, end) in enumerate(zip(data["eigenvalues"], ends, strict=True)):
        start = 2 * mean - end
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": f"C{j + 1}", "lw": 1.8})
        ax.annotate(f"u{j + 1} (lambda = {lam:.3g})", end, textcoords="offset points", xytext=(4, 4), fontsize=8,
                    color=f"C{j + 1}")
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="best", fontsize=7)
    ax.set_title("Principal axes (length 2 sqrt(lambda) each way)", fontsize=10)


def _ellipse(mean: np.ndarray, cov: np.ndarray, radius: float = 2.0) -> np.ndarray:
    """Points of the ellipse (x - mu)^T S^-1 (x - mu) = radius^2."""
    values, vectors = np.linalg.eigh(cov)
    angle = np.linspace(0, 2 * np.pi, 100)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    return (mean[:, None] + vectors @ (radius * np.sqrt(np.clip(values, 0, None))[:, None] * circle)).T


@drawer("gmm_ellipses")
def gmm_ellipses(data: dict[str, Any], ax) -> None:
    """data: points (n x 2), history (per iteration, from the initial one: [weights, means, covariances]),
    responsibilities (n x K, the last iteration's)."""
    points = np.asarray(data["points"], dtype=float)
    resp = np.asarray(data["responsibilities"], dtype=float)
    history = data["history"]
    K = resp.shape[1]
    outlines = []
    for t, (_, means, covs) in enumerate(history):
        last = t == len(history) - 1
        for k in range(K):
            e = _ellipse(np.asarray(means[k], dtype=float), np.asarray(covs[k], dtype=float))
            outlines.append(e)
            ax.plot(e[:, 0], e[:, 1], color=f"C{k}", linestyle="--" if t == 0 else "-",
                    linewidth=1.8 if last else 0.9, alpha=1.0 if last or t == 0 else 0.35,
                    label=f"component {k}" if last else None)
            ax.plot(*means[k], "x" if not last else "X", color=f"C{k}", markersize=5 if not last else 9)
    colours = resp @ np.array([matplotlib_rgb(k) for k in range(K)])
    ax.scatter(points[:, 0], points[:, 1], c=np.clip(colours, 0, 1), edgecolors="k", s=40, zorder=3)
    box = _box(np.vstack([points, *outlines]), pad=0.05)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="best", fontsize=7)
    ax.set_title(f"EM: 2-sigma ellipses over {len(history) - 1} iteration(s)", fontsize=10)


def matplotlib_rgb(k: int) -> np.ndarray:
    from matplotlib.colors import to_rgb

    return np.asarray(to_rgb(f"C{k % 10}"))


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
