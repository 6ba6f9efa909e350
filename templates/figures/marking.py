"""Figures of a marked class: the histogram of the exam scores, and each graded value's difficulty (mean
fraction of its points) against its discrimination index. Drawn as SVG directly."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import drawer
from .plot import BLUE, RED, Plot


@drawer("score_histogram")
def score_histogram(data: dict[str, Any]):
    """data: scores (one per student), max_score, bins (optional, default one per point up to 40)."""
    scores = np.asarray(data["scores"], dtype=float)
    top = float(data["max_score"]) or 1.0
    bins = int(data.get("bins") or min(max(top, 1), 40))
    counts, edges = np.histogram(scores, bins=bins, range=(0, top))
    p = Plot((0, top), (0, max(1, int(counts.max()) if counts.size else 1)), xlabel=f"score (out of {top:g})",
             ylabel="students", title=f"Scores of {len(scores)} students", tight_x=True, width=470, height=300)
    for count, lo, hi in zip(counts, edges, edges[1:], strict=False):
        if count:
            x0, y0 = p.px(lo, count)
            x1, y1 = p.px(hi, 0)
            p.canvas.rect(x0, y0, x1 - x0, y1 - y0, fill=BLUE, stroke="#fff", width=0.8, cls="bar")
            p.markers.append(((x0 + x1) / 2, y0, 1))  # the legend keeps off the bars' tops
            p.markers.append(((x0 + x1) / 2, (y0 + y1) / 2, 1))
    if len(scores):
        mean = float(scores.mean())
        p.line([mean, mean], [p.ylim[0], p.ylim[1]], RED, 1.4, "5 3", label=f"mean {mean:.2f}", cls="mean")
    return p.finish()


@drawer("item_map")
def item_map(data: dict[str, Any]):
    """data: items (list of {label, difficulty, discrimination}; discrimination None where it is undefined)."""
    items = [i for i in data["items"] if i["discrimination"] is not None]
    ys = [float(i["discrimination"]) for i in items]
    p = Plot((0, 1), (min([-0.2, *ys]), 1), xlabel="difficulty p (mean fraction of the points; 1 = everyone right)",
             ylabel="discrimination r (item-rest correlation)",
             title="Graded values: difficulty against discrimination", width=470, height=340)
    p.line([p.xlim[0], p.xlim[1]], [0.2, 0.2], RED, 1.0, "2 3", label="discrimination 0.2", cls="threshold")
    p.scatter([(float(i["difficulty"]), float(i["discrimination"])) for i in items], size=3.5, fill=BLUE)
    for i in items:
        p.annotate(float(i["difficulty"]), float(i["discrimination"]), str(i["label"]), size=8)
    return p.finish()
