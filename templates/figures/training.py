"""Figures of `nnexam train`: drawn straight to PNG files with matplotlib (not solver Figures).

Loss/accuracy curves, a grid of 28x28 images (k-means centres, generated digits), the digit/cluster table as a
heatmap, and HW5's 3-D scatter of (x1, x2, f(x1, x2)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import pyplot


def _save(fig, path: Path) -> Path:
    plt = pyplot()
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
    return path


def curves(path: Path, series: dict[str, list[float]], ylabel: str, title: str) -> Path:
    """Curves against the epoch (index 0 = before training), one per named series."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for name, values in series.items():
        ax.plot(range(len(values)), values, marker="o" if len(values) <= 30 else None, markersize=3, label=name)
    ax.set_xlabel("epoch (0 = before training)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if len(series) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def image_grid(path: Path, images: np.ndarray, rows: int, cols: int, titles: list[str] | None = None,
               title: str = "") -> Path:
    """rows x cols grid of 28x28 grey images (values shown on a fixed [0, 1] scale, ink white on black)."""
    plt = pyplot()
    images = np.asarray(images).reshape(-1, 28, 28)
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.45 * rows + 0.3))
    for k, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k], cmap="gray", vmin=0, vmax=1)
            if titles:
                ax.set_title(titles[k], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def table_heatmap(path: Path, table: np.ndarray, title: str) -> Path:
    """The 10x10 digit/cluster table: rows digit i, columns centre j, counts printed in the cells."""
    plt = pyplot()
    table = np.asarray(table)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(table, cmap="Blues")
    top = table.max() or 1
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            ax.text(j, i, str(int(table[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if table[i, j] > 0.6 * top else "black")
    ax.set_xticks(range(table.shape[1]))
    ax.set_yticks(range(table.shape[0]))
    ax.set_xlabel("centre j")
    ax.set_ylabel("digit i")
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def boundary_scatter(path: Path, X: np.ndarray, f: np.ndarray, Y: np.ndarray | None = None, title: str = "") -> Path:
    """HW5 Q2 (e): the 3-D scatter of (x1, x2, f(x1, x2)) of the trained network (friend's labels in grey)."""
    plt = pyplot()
    fig = plt.figure(figsize=(6, 6))
    ax = fig.add_subplot(projection="3d")
    if Y is not None:
        ax.scatter3D(X[0], X[1], np.ravel(Y), color="lightgrey", s=4, label="friend's label y")
    ax.scatter3D(X[0], X[1], np.ravel(f), color="green", s=4, label="trained f(x1, x2)")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_zlabel("y")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)
