"""Drawers for `solvers.Figure` data: one function per figure kind, registered with `@drawer("kind")`.

A direct drawer (`@drawer("kind", direct=True)`) takes the figure's data and returns an `svg.Canvas`: the SVG
is written directly, without a plotting library. Any other drawer takes the data and a fresh matplotlib Axes;
matplotlib is imported only when such a drawer is used. `draw` saves the result to a file.
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

_DRAWERS: dict[str, Callable[..., Any]] = {}
_DIRECT: set[str] = set()


def drawer(kind: str, direct: bool = False):
    """Register a drawer for figures of `kind`: `draw(data) -> svg.Canvas` when `direct`, else
    `draw(data, ax)` on a fresh matplotlib Axes."""

    def decorate(fn):
        _DRAWERS[kind] = fn
        if direct:
            _DIRECT.add(kind)
        else:
            _DIRECT.discard(kind)
        return fn

    return decorate


def is_direct(kind: str) -> bool:
    """Whether figures of `kind` are drawn as SVG directly (no matplotlib)."""
    return kind in _DIRECT


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported on first use (it costs ~0.4 s)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


SET_WIDTH = 0.75  # of the text width, for a figure as wide as REFERENCE
REFERENCE = 470.0  # SVG units: a direct drawing this wide has its 10-12 unit text at about 8-9 pt when set


def display_width(path: Path) -> float:
    """The fraction of the text width to set the figure at: SET_WIDTH for a matplotlib figure, and for a
    direct drawing in proportion to its width (so its text comes out the same size in every figure), at
    most the whole width."""
    head = Path(path).read_text(encoding="utf-8", errors="replace")[:400] if Path(path).suffix == ".svg" else ""
    found = re.search(r'<svg[^>]*\bwidth="([0-9.]+)"', head)
    if not found:
        return SET_WIDTH
    return round(min(1.0, max(0.4, SET_WIDTH * float(found.group(1)) / REFERENCE)), 2)


def _fit_text(fig) -> None:
    """Wrap each axes' title and labels to the axes' size, so that none is clipped at the figure's edge."""
    import textwrap

    width, height = fig.get_size_inches()
    for ax in fig.axes:
        box = ax.get_position()
        for get, put, span in ((ax.get_title, ax.set_title, width), (ax.get_xlabel, ax.set_xlabel, width),
                               (ax.get_ylabel, ax.set_ylabel, height)):
            text = get()
            if not text:
                continue
            size = (ax.title if get == ax.get_title else ax.xaxis.label if get == ax.get_xlabel
                    else ax.yaxis.label).get_fontsize()
            share = 0.9 if get == ax.get_title and len(fig.axes) == 1 else (
                box.width if span is width else box.height)  # a lone title may span the figure
            chars = max(12, int(span * share * 72 / (0.55 * size)))
            if len(text) > chars:
                put("\n".join(textwrap.wrap(text, chars)), fontsize=size)


def draw(figure: Figure, path: Path) -> Path:
    """Draw `figure` into `path` (SVG; PNG too for the matplotlib drawers) and return the path."""
    if figure.kind not in _DRAWERS:
        raise KeyError(f"no drawer for figure kind {figure.kind!r}")
    path = Path(path)
    if figure.kind in _DIRECT:
        if path.suffix != ".svg":
            raise ValueError(f"figure kind {figure.kind!r} is drawn as SVG only, not {path.suffix!r}")
        return _DRAWERS[figure.kind](figure.data).save(path)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    try:
        _DRAWERS[figure.kind](figure.data, ax)
        _fit_text(fig)
        fig.tight_layout()
        fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    finally:
        plt.close(fig)
    return path


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
