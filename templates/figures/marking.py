"""Figures of a marked class: the histogram of the exam scores, and each graded value's difficulty (mean
fraction of its points) against its discrimination index."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import drawer


@drawer("score_histogram")
def score_histogram(data: dict[str, Any], ax) -> None:
    """data: scores (one per student), max_score, bins (optional, default one per point up to 40)."""
    scores = np.asarray(data["scores"], dtype=float)
    top = float(data["max_score"])
    bins = data.get("bins") or int(min(max(top, 1), 40))
    ax.hist(scores, bins=bins, range=(0, top), color="C0", edgecolor="white")
    if len(scores):
        ax.axvline(scores.mean(), color="C3", linestyle="--", linewidth=1.4, label=f"mean {scores.mean():.2f}")
        ax.legend(loc="best", fontsize=8)
    ax.set_xlim(0, top)
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("students")
    ax.set_title(f"Scores of {len(scores)} students", fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)


@drawer("item_map")
def item_map(data: dict[str, Any], ax) -> None:
    """data: items (list of {label, difficulty, discrimination}; discrimination None where it is undefined)."""
    items = [i for i in data["items"] if i["discrimination"] is not None]
    x = [i["difficulty"] for i in items]
    y = [i["discrimination"] for i in items]
    ax.axhspan(-1, 0.2, color="C3", alpha=0.07)
    ax.scatter(x, y, color="C0", zorder=3)
    for i in items:
        ax.annotate(i["label"], (i["difficulty"], i["discrimination"]), textcoords="offset points",
                    xytext=(4, 3), fontsize=6)
    ax.axhline(0.2, color="C3", linestyle=":", linewidth=1, label="discrimination 0.2")
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(min([-0.2, *y]) - 0.05, 1.05)
    ax.set_xlabel("difficulty p (mean fraction of the points; 1 = everyone right)")
    ax.set_ylabel("discrimination r (item-rest correlation)")
    ax.set_title("Graded values: difficulty against discrimination", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize=7)
