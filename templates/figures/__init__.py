"""Drawers for `solvers.Figure` data: one function per figure kind, registered with `@drawer("kind")`.

A drawer takes the figure's data and returns an `svg.Canvas`: the SVG is written directly (`svg.py`, a small
canvas; `plot.py`, axes, ticks and legends over it), no plotting library. `draw` saves it to a file.
`pyplot()` is for `training.py`'s PNG plots of `nnexam train`, which import matplotlib only when they run.
Modules in this package are imported automatically.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from solvers.core import Figure

_DRAWERS: dict[str, Callable[[dict[str, Any]], Any]] = {}


def drawer(kind: str):
    """Register `draw(data) -> svg.Canvas` for figures of `kind`."""

    def decorate(fn):
        _DRAWERS[kind] = fn
        return fn

    return decorate


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported on first use (it costs ~0.4 s)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


SET_WIDTH = 0.75  # of the text width, for a figure as wide as REFERENCE
REFERENCE = 470.0  # SVG units: a drawing this wide has its 10-12 unit text at about 8-9 pt when set


def display_width(path: Path) -> float:
    """The fraction of the text width to set the figure at: in proportion to the drawing's width (so that
    its text comes out the same size in every figure), at most the whole width; SET_WIDTH for any other file."""
    head = Path(path).read_text(encoding="utf-8", errors="replace")[:400] if Path(path).suffix == ".svg" else ""
    found = re.search(r'<svg[^>]*\bwidth="([0-9.]+)"', head)
    if not found:
        return SET_WIDTH
    return round(min(1.0, max(0.4, SET_WIDTH * float(found.group(1)) / REFERENCE)), 2)


def draw(figure: Figure, path: Path) -> Path:
    """Draw `figure` into the SVG file `path` (written through a temporary file) and return the path."""
    if figure.kind not in _DRAWERS:
        raise KeyError(f"no drawer for figure kind {figure.kind!r}")
    path = Path(path)
    if path.suffix != ".svg":
        raise ValueError(f"figures are drawn as SVG, not {path.suffix!r}: {path}")
    return _DRAWERS[figure.kind](figure.data).save(path)


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
