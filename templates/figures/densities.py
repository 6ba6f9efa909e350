"""Figures for the probability kinds: densities, CDFs and the optimal GAN discriminator on a grid, drawn as
SVG directly.

The solver samples every curve on `x` (None where a curve is undefined); a drawer only plots.
"""

from __future__ import annotations

from typing import Any

from . import drawer
from .plot import BLUE, GREEN, GREY, ORANGE, RED, Plot


def _range(*series: list[Any]) -> tuple[float, float]:
    values = [float(v) for s in series for v in s if v is not None]
    lo, hi = min(values + [0.0]), max(values + [1e-9])
    return lo, hi + 0.04 * (hi - lo)  # headroom: a curve at its maximum stays off the frame


def _plot(xs: list[list[float]], ys: list[list[Any]], xlabel: str, title: str) -> Plot:
    lo = min(min(x) for x in xs)
    hi = max(max(x) for x in xs)
    return Plot((float(lo), float(hi)), _range(*ys), xlabel=xlabel, title=title, tight_x=True, tight_y=True)


@drawer("gan_discriminator")
def gan_discriminator(data: dict[str, Any]):
    """data: x (grid), p_data, p_g, D (values on the grid)."""
    x = data["x"]
    p = _plot([x], [data["p_data"], data["p_g"], data["D"], [0.5]], "x",
              "Densities and the optimal discriminator")
    p.line([p.xlim[0], p.xlim[1]], [0.5, 0.5], GREY, 0.8, "2 3", cls="guide")
    p.line(x, data["p_data"], BLUE, 2.0, label="p_{data}(x)")
    p.line(x, data["p_g"], ORANGE, 2.0, "7 4", label="p_g(x) (generator)")
    p.line(x, data["D"], RED, 1.6, "8 3 2 3", label="D*(x)")
    return p.finish()


@drawer("gan_generator")
def gan_generator(data: dict[str, Any]):
    """data: x (grid), p_data, cdf (values on the grid)."""
    x = data["x"]
    p = _plot([x], [data["p_data"], data["cdf"]], "x", "Data density and its CDF (G = F^{−1})")
    p.line(x, data["p_data"], BLUE, 2.0, label="p_{data}(x)")
    p.line(x, data["cdf"], GREEN, 2.0, "7 4", label="F(x) = P(X ≤ x)")
    return p.finish()


@drawer("derived_distribution")
def derived_distribution(data: dict[str, Any]):
    """data: z, p_z (the input density on its grid), x, p_x (the derived density on its grid)."""
    p = _plot([data["z"], data["x"]], [data["p_z"], data["p_x"]], "z or x", "Input density and derived density")
    p.line(data["z"], data["p_z"], GREY, 1.6, "7 4", label="p_Z(z) (input)")
    p.line(data["x"], data["p_x"], BLUE, 2.0, label="p_X(x), x = f(z)")
    return p.finish()
