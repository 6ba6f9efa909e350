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
