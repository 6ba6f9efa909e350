"""Oracles for clustering kinds: plain numpy loops, written independently of solvers/."""

from __future__ import annotations

import numpy as np


def lloyd(params):
    x = np.asarray(params["points"], dtype=float)
    if params.get("initial_indices") is not None:
        c = x[list(params["initial_indices"])].copy()
    else:
        c = np.asarray(params["initial_centers"], dtype=float).copy()
    previous = None
    count = 0
    for _ in range(params.get("max_iterations", 100)):
        count += 1
        d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
        a = d.argmin(1)  # argmin takes the first minimum: ties to the lower index
        if previous is not None and (a == previous).all():
            break
        for j in range(len(c)):
            if (a == j).any():
                c[j] = x[a == j].mean(0)
        previous = a
    d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    return {"final_centers": c, "final_assignments": d.argmin(1), "final_energy": d.min(1).sum(),
            "num_iterations": count}


ORACLES = {"lloyd": lloyd}
