"""Figures of curves against an iteration or a parameter: distance to the optimum for several learning
rates (gradient descent), the weight norm along Hebbian updates, bias^2 and variance against eta."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import drawer


@drawer("curves")
def curves(data: dict[str, Any], ax) -> None:
    """data: series (list of {label, y, x (optional, default 0, 1, ...), diverges, given}), xlabel, ylabel,
    log (bool: log-scale y), title, markers (optional list of {x, y, label}), vline (optional {x, label})."""
    for i, s in enumerate(data["series"]):
        y = np.asarray([np.nan if v is None else v for v in s["y"]], dtype=float)
        x = np.asarray(s.get("x", range(len(y))), dtype=float)
        if data.get("log"):
            y = np.where(y > 0, y, np.nan)  # a distance of exactly 0 has no place on a log axis
        style = "--" if s.get("diverges") else "-"
        ax.plot(x, y, style, color=f"C{i % 10}", linewidth=2.2 if s.get("given") else 1.4, label=s["label"])
    for m in data.get("markers", []):
        ax.plot([m["x"]], [m["y"]], "o", color="k", zorder=5)
        ax.annotate(m["label"], (m["x"], m["y"]), textcoords="offset points", xytext=(6, 6), fontsize=8)
    if data.get("vline"):
        ax.axvline(data["vline"]["x"], color="tab:gray", linestyle=":", linewidth=1.2,
                   label=data["vline"].get("label"))
    if data.get("log"):
        ax.set_yscale("log")
    ax.set_xlabel(data.get("xlabel", ""))
    ax.set_ylabel(data.get("ylabel", ""))
    ax.set_title(data.get("title", ""), fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=7)


@drawer("weight_path")
def weight_path(data: dict[str, Any], ax) -> None:
    """data: points (n x 2), path (the weight vector before the first and after every presentation)."""
    points = np.asarray(data["points"], dtype=float)
    path = np.asarray(data["path"], dtype=float)
    ax.scatter(points[:, 0], points[:, 1], color="k", s=30, zorder=3, label="data")
    for i, p in enumerate(points):
        ax.annotate(f"$x_{{{i + 1}}}$", p, textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.plot(path[:, 0], path[:, 1], "-", color="tab:blue", linewidth=1, alpha=0.7, label="weights")
    ax.plot(path[0, 0], path[0, 1], "s", color="tab:gray", label="initial w")
    ax.annotate("", xy=path[-1], xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 1.8})
    ax.plot(path[-1, 0], path[-1, 1], "X", color="tab:red", markersize=9, label="final w")
    every = np.vstack([points, path, [[0.0, 0.0]]])
    lo, hi = every.min(0), every.max(0)
    pad = np.maximum((hi - lo) * 0.15, 0.3)
    final = path[-1]
    if np.linalg.norm(final) > 0:
        normal = np.array([-final[1], final[0]]) / np.linalg.norm(final)
        span = float(np.linalg.norm(hi - lo)) + 1.0
        line = np.outer([-span, span], normal)
        ax.plot(line[:, 0], line[:, 1], ":", color="tab:red", linewidth=1, label="w^T x = 0")
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.axhline(0, color="0.8", linewidth=0.8)
    ax.axvline(0, color="0.8", linewidth=0.8)
    ax.set_title("Data and the path of the weight vector", fontsize=10)
    ax.legend(loc="best", fontsize=7)
