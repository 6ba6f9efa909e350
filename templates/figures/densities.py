"""Figures for the probability kinds: densities, CDFs and the optimal GAN discriminator on a grid.

The solver samples every curve on `x` (None where a curve is undefined); a drawer only plots.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import drawer


def _line(ax, x: np.ndarray, values: list[Any], **style) -> None:
    y = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    ax.plot(x, y, **style)


@drawer("gan_discriminator")
def gan_discriminator(data: dict[str, Any], ax) -> None:
    """data: x (grid), p_data, p_g, D (values on the grid)."""
    x = np.asarray(data["x"], dtype=float)
    _line(ax, x, data["p_data"], color="tab:blue", lw=2, label="$p_{data}(x)$")
    _line(ax, x, data["p_g"], color="tab:orange", lw=2, ls="--", label="$p_g(x)$ (generator)")
    _line(ax, x, data["D"], color="tab:red", lw=1.6, ls="-.", label="$D^*(x)$")
    ax.axhline(0.5, color="tab:gray", lw=0.6, ls=":")
    ax.set_xlabel("x")
    ax.legend(loc="best", fontsize=8)
    ax.set_title("Densities and the optimal discriminator", fontsize=10)


@drawer("gan_generator")
def gan_generator(data: dict[str, Any], ax) -> None:
    """data: x (grid), p_data, cdf (values on the grid)."""
    x = np.asarray(data["x"], dtype=float)
    _line(ax, x, data["p_data"], color="tab:blue", lw=2, label="$p_{data}(x)$")
    _line(ax, x, data["cdf"], color="tab:green", lw=2, ls="--", label="$F(x) = P(X \\leq x)$")
    ax.set_xlabel("x")
    ax.legend(loc="best", fontsize=8)
    ax.set_title("Data density and its CDF ($G = F^{-1}$)", fontsize=10)


@drawer("derived_distribution")
def derived_distribution(data: dict[str, Any], ax) -> None:
    """data: z, p_z (the input density on its grid), x, p_x (the derived density on its grid)."""
    _line(ax, np.asarray(data["z"], dtype=float), data["p_z"], color="tab:gray", lw=1.6, ls="--",
          label="$p_Z(z)$ (input)")
    _line(ax, np.asarray(data["x"], dtype=float), data["p_x"], color="tab:blue", lw=2, label="$p_X(x)$, $x = f(z)$")
    ax.set_xlabel("z or x")
    ax.legend(loc="best", fontsize=8)
    ax.set_title("Input density and derived density", fontsize=10)
