"""Figures for clustering: data points with the Voronoi cells of centres."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import drawer


def _voronoi_lines(ax, centers: np.ndarray, box: tuple[float, float, float, float], **style) -> None:
    """Draw the Voronoi cells of `centers` inside `box` by contouring the nearest-centre label."""
    x0, x1, y0, y1 = box
    xs, ys = np.meshgrid(np.linspace(x0, x1, 500), np.linspace(y0, y1, 500))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
    d = ((grid[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    label = d.argmin(1).reshape(xs.shape)
    if len(centers) > 1:
        ax.contour(xs, ys, label, levels=np.arange(len(centers)) + 0.5, **style)


@drawer("voronoi")
def voronoi(data: dict[str, Any], ax) -> None:
    """data: points (n x 2), initial_centers, final_centers (k x 2), assignments (final, optional)."""
    points = np.asarray(data["points"], dtype=float)
    init = np.asarray(data["initial_centers"], dtype=float)
    final = np.asarray(data["final_centers"], dtype=float)
    every = np.vstack([points, init, final])
    lo, hi = every.min(0), every.max(0)
    pad = np.maximum((hi - lo) * 0.25, 0.5)
    box = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    _voronoi_lines(ax, init, box, colors="tab:gray", linestyles="dashed", linewidths=1.2)
    _voronoi_lines(ax, final, box, colors="tab:red", linewidths=1.6)
    assignments = data.get("assignments")
    colors = None if assignments is None else [f"C{a % 10}" for a in assignments]
    ax.scatter(points[:, 0], points[:, 1], c=colors or "k", s=36, zorder=3, label="data")
    for i, p in enumerate(points):
        ax.annotate(f"$x_{{{i + 1}}}$", p, textcoords="offset points", xytext=(5, 5), fontsize=9)
    ax.scatter(init[:, 0], init[:, 1], marker="s", facecolors="none", edgecolors="tab:gray", s=90,
               label="initial centres (dashed cells)", zorder=4)
    ax.scatter(final[:, 0], final[:, 1], marker="X", color="tab:red", s=90,
               label="final centres (solid cells)", zorder=5)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="best", fontsize=7)
    ax.set_title("Data, initial and final Voronoi cells", fontsize=10)
