"""Drawers for `solvers.Figure` data: one function per figure kind, registered with `@drawer("kind")`.

Each drawer takes the figure's data and a fresh matplotlib Axes; `draw` saves the result to a file.
Modules in this package are imported automatically.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from solvers.core import Figure  # noqa: E402

_DRAWERS: dict[str, Callable[[dict[str, Any], Any], None]] = {}


def drawer(kind: str):
    """Register `draw(data, ax)` for figures of `kind`; it draws on a fresh matplotlib Axes."""

    def decorate(fn):
        _DRAWERS[kind] = fn
        return fn

    return decorate


def draw(figure: Figure, path: Path) -> Path:
    """Draw `figure` into `path` (SVG or PNG, by suffix) and return the path."""
    if figure.kind not in _DRAWERS:
        raise KeyError(f"no drawer for figure kind {figure.kind!r}")
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    try:
        _DRAWERS[figure.kind](figure.data, ax)
        fig.tight_layout()
        fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    finally:
        plt.close(fig)
    return path


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
