"""Figures of curves against an iteration or a parameter: distance to the optimum for several learning
rates (gradient descent), the weight norm along Hebbian updates, bias^2 and variance against eta; and the
path of a weight vector among the data. Drawn as SVG directly; a log axis has its ticks at powers of ten."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import drawer
from .plot import GREY, PALETTE, RED, Plot
from .svg import label


def _values(ys: list[Any], log: bool) -> np.ndarray:
    y = np.asarray([np.nan if v is None else v for v in ys], dtype=float)
    y[~np.isfinite(y)] = np.nan
    if log:
        y[y <= 0] = np.nan  # a distance of exactly 0 has no place on a log axis
    return y


@drawer("curves")
def curves(data: dict[str, Any]):
    """data: series (list of {label, y, x (optional, default 0, 1, ...), diverges, given}), xlabel, ylabel,
    log (bool: log-scale y), title, markers (optional list of {x, y, label}), vline (optional {x, label})."""
    log = bool(data.get("log"))
    series = []
    for s in data["series"]:
        y = _values(s["y"], log)
        x = np.asarray(s.get("x", range(len(y))), dtype=float)
        series.append((s, x, y))
    xs = np.concatenate([x for _, x, _ in series])
    ys = np.concatenate([y for _, _, y in series])
    markers = data.get("markers") or []
    extra_y = [m["y"] for m in markers if not log or m["y"] > 0]
    finite = ys[np.isfinite(ys)]
    lo = float(min([*finite, *extra_y])) if finite.size or extra_y else (1.0 if log else 0.0)
    hi = float(max([*finite, *extra_y])) if finite.size or extra_y else (10.0 if log else 1.0)
    if not log:
        lo = min(lo, 0.0) if lo >= 0 and lo < 0.5 * hi else lo
    x_lo, x_hi = float(np.nanmin(xs)), float(np.nanmax(xs))
    vline = data.get("vline")
    if vline:
        x_lo, x_hi = min(x_lo, vline["x"]), max(x_hi, vline["x"])
    p = Plot((x_lo, x_hi), (lo, hi), xlabel=label(data.get("xlabel", "")), ylabel=label(data.get("ylabel", "")),
             title=label(data.get("title", "")), ylog=log, tight_x=True, width=470, height=330,
             integer_x=all("x" not in s for s in data["series"]))
    for i, (s, x, y) in enumerate(series):
        p.line(x, [None if math.isnan(v) else v for v in y], PALETTE[i % len(PALETTE)],
               2.4 if s.get("given") else 1.5, "6 4" if s.get("diverges") else None,
               label=label(s["label"]) + (" (diverges)" if s.get("diverges") and "diverg" not in s["label"] else ""))
    if vline:
        top = p.ylim[1]
        p.line([vline["x"], vline["x"]], [p.ylim[0], top], GREY, 1.2, "2 3", label=label(vline.get("label") or ""),
               cls="vline")
    for m in markers:
        if log and m["y"] <= 0:
            continue
        p.marker(m["x"], m["y"], "circle", 4.0, "#000", cls="marker point")
        p.annotate(m["x"], m["y"], label(m["label"]), size=10)
    return p.finish()


@drawer("weight_path")
def weight_path(data: dict[str, Any]):
    """data: points (n x 2), path (the weight vector before the first and after every presentation)."""
    points = np.asarray(data["points"], dtype=float)
    path = np.asarray(data["path"], dtype=float)
    every = np.vstack([points, path, [[0.0, 0.0]]])
    lo, hi = every.min(0), every.max(0)
    pad = np.maximum((hi - lo) * 0.15, 0.3)
    p = Plot((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]), equal=True, width=470,
             height=400, title="Data and the path of the weight vector")
    p.segment((p.xlim[0], 0), (p.xlim[1], 0), "#bbb", 0.8, cls="zero")
    p.segment((0, p.ylim[0]), (0, p.ylim[1]), "#bbb", 0.8, cls="zero")
    final = path[-1]
    if np.linalg.norm(final) > 0:
        normal = np.array([-final[1], final[0]]) / np.linalg.norm(final)
        span = float(np.linalg.norm(hi - lo)) * 4 + 10.0
        p.segment(tuple(-span * normal), tuple(span * normal), RED, 1.0, "2 3", cls="separator")
        p.legend_entries.append(("w^T x = 0", {"line": (RED, 1.0, "2 3")}))
    p.line(path[:, 0], path[:, 1], PALETTE[0], 1.0, label="weights", cls="path")
    a, b = p.px(0.0, 0.0), p.px(*final)
    p.canvas.arrow(*a, *b, RED, 1.8, 8, cls="final-arrow")
    p.scatter(points, "circle", 4.0, "#000", label="data", cls="marker data")
    p.scatter(path[:1], "square", 5.0, GREY, label="initial w", cls="marker initial")
    p.scatter(path[-1:], "cross", 6.0, RED, label="final w", cls="marker final")
    for i, (x, y) in enumerate(points):
        p.annotate(x, y, f"x_{{{i + 1}}}")
    return p.finish()
