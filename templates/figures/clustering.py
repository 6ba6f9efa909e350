"""Figures for clustering: data points with the Voronoi cells of centres, drawn as SVG directly.

A cell boundary between centres c_i and c_j is the part of their perpendicular bisector where both are nearest
(no other centre is closer), clipped to the plot box: computed exactly, as a segment per pair of centres.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import drawer
from .plot import BLUE, GREY, PALETTE, RED, Plot


def voronoi_segments(centers: np.ndarray, box: tuple[float, float, float, float]) -> list[tuple]:
    """(i, j, p, q) for every pair of centres whose cells share the boundary segment p-q inside box
    (x0, x1, y0, y1). On the bisector p(t) = m + t u, "c_i no farther than c_k" is the linear condition
    2 p . (c_k - c_i) <= |c_k|^2 - |c_i|^2, so each centre and each box side cuts the range of t."""
    x0, x1, y0, y1 = box
    out = []
    for i in range(len(centers)):
        for j in range(i + 1, len(centers)):
            ci, cj = centers[i], centers[j]
            d = cj - ci
            if np.hypot(*d) < 1e-12:
                continue
            m, u = (ci + cj) / 2, np.array([-d[1], d[0]])
            lo, hi = -np.inf, np.inf
            cuts = [(-u[0], m[0] - x0), (u[0], x1 - m[0]), (-u[1], m[1] - y0), (u[1], y1 - m[1])]
            for k, ck in enumerate(centers):
                if k in (i, j):
                    continue
                cuts.append((2 * u @ (ck - ci), ck @ ck - ci @ ci - 2 * m @ (ck - ci)))
            for a, b in cuts:  # a t <= b
                if abs(a) < 1e-12:
                    if b < -1e-12:
                        lo, hi = 1.0, 0.0
                    continue
                if a > 0:
                    hi = min(hi, b / a)
                else:
                    lo = max(lo, b / a)
            if hi - lo > 1e-9:
                out.append((i, j, tuple(m + lo * u), tuple(m + hi * u)))
    return out


@drawer("voronoi")
def voronoi(data: dict[str, Any]):
    """data: points (n x 2), initial_centers, final_centers (k x 2), assignments (final, optional; 0-based
    indices, labelled 1-based as the centres c_1, ..., c_k)."""
    points = np.asarray(data["points"], dtype=float)
    init = np.asarray(data["initial_centers"], dtype=float)
    final = np.asarray(data["final_centers"], dtype=float)
    every = np.vstack([points, init, final])
    lo, hi = every.min(0), every.max(0)
    pad = np.maximum((hi - lo) * 0.25, 0.5)
    p = Plot((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]), equal=True, width=470,
             height=400, title="Data, initial and final Voronoi cells")
    box = (*p.xlim, *p.ylim)
    for _, _, a, b in voronoi_segments(final, box):
        p.segment(a, b, RED, 1.8, cls="boundary final")
    for _, _, a, b in voronoi_segments(init, box):  # on top of the final cells, so a shared line shows both
        p.segment(a, b, BLUE, 1.3, "5 4", cls="boundary initial")
    assignments = data.get("assignments")
    fills = None if assignments is None else [PALETTE[a % len(PALETTE)] for a in assignments]
    p.scatter(points, "circle", 4.0, "#000", fills=fills, label="data x_i (colour: final cell)", cls="marker data")
    p.scatter(init, "square", 5.5, "none", GREY, label="initial centres", cls="marker initial-centre")
    p.scatter(final, "cross", 6.0, RED, label="final centres c_j", cls="marker final-centre")
    p.legend_entries.insert(2, ("initial cells (dashed)", {"line": (BLUE, 1.3, "5 4")}))
    p.legend_entries.append(("final cells", {"line": (RED, 1.8, None)}))
    for i, (x, y) in enumerate(points):
        p.annotate(x, y, f"x_{{{i + 1}}}")
    for j, (x, y) in enumerate(final):
        p.annotate(x, y, f"c_{{{j + 1}}}", fill=RED)
    return p.finish()
