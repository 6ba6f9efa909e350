"""Lloyd's algorithm for k-means: assign each point to its nearest centre, move each centre to the mean
of its cell, repeat until no assignment changes.

energy = sum_i min_j ||x_i - c_j||^2 (computed with the assignments of that iteration).
Ties (a point equidistant from two centres) go to the lower-indexed centre; an empty cell keeps its
centre where it is. Both are reported in `warnings`.
"""

from __future__ import annotations

from typing import Any

from . import params as P
from .core import Figure, Solution, SolverWarning, Step, Sym, Table
from .numeric import EXACT_LIMIT, as_float, exact_str, mean, sqdist, to_fractions
from .registry import register

# warning codes (SolverWarning.code)
EQUIDISTANT = "equidistant_point"
EMPTY_CELL = "empty_cell"
NOT_CONVERGED = "not_converged"

MOCK_FINAL_Q1 = {"points": [[-0.01, 1], [1, 1], [0.01, -1], [-1, -1]], "initial_indices": [1, 2]}


def _read(params: dict[str, Any]) -> tuple[list, list, list[int] | None, int]:
    P.no_unknown(params, ["points", "initial_centers", "initial_indices", "max_iterations"])
    points = P.matrix(P.get(params, "points"), "points")
    n, d = points.shape
    has_centers, has_indices = params.get("initial_centers") is not None, params.get("initial_indices") is not None
    if has_centers == has_indices:
        raise P.ParamError("initial_centers", "give exactly one of initial_centers or initial_indices")
    indices = None
    if has_indices:
        raw = params["initial_indices"]
        if not isinstance(raw, list) or not raw:
            raise P.ParamError("initial_indices", f"expected a non-empty list of point indices, got {raw!r}")
        indices = [P.index(v, f"initial_indices[{i}]", n, "point") for i, v in enumerate(raw)]
        if len(set(indices)) != len(indices):
            raise P.ParamError("initial_indices", f"indices must be distinct, got {indices}")
        centers = points[indices]
    else:
        centers = P.matrix(params["initial_centers"], "initial_centers", None, d)
    max_iterations = P.integer(P.get(params, "max_iterations", 100), "max_iterations", low=1, high=10_000)
    return points, centers, indices, max_iterations


@register("lloyd", "Lloyd's k-means iterations until no assignment changes, with Voronoi cells",
          examples={"mock_final_q1": MOCK_FINAL_Q1,
                    "two_blobs": {"points": [[0, 0], [0, 1], [5, 5], [5, 6]], "initial_indices": [0, 2]}})
def solve(params: dict[str, Any]) -> Solution:
    points_f, centers_f, indices, max_iterations = _read(params)
    n, d = points_f.shape
    k = len(centers_f)
    exact = n * k * d <= EXACT_LIMIT
    points = to_fractions(points_f) if exact else points_f.tolist()
    centers = to_fractions(centers_f) if exact else centers_f.tolist()
    warnings: list[str] = []

    init = Step("Initialise the centres", result={f"c_{j + 1}": centers[j] for j in range(k)})
    if indices is not None:
        init.text = "The initial centres are data points " + ", ".join(f"$x_{i + 1}$" for i in indices) + "."
        init.math = [[Sym(f"c_{j + 1}"), Sym(f"x_{i + 1}"), centers[j]] for j, i in enumerate(indices)]
        init.result = {}
    steps = [init]
    iterations = []
    previous = None
    converged = False
    initial_centers = centers
    for t in range(1, max_iterations + 1):
        dists = [[sqdist(p, c) for c in centers] for p in points]
        assignments = []
        rows = []
        for i, row in enumerate(dists):
            best = min(row)
            winners = [j for j, v in enumerate(row) if v == best]
            if len(winners) > 1:
                message = (f"iteration {t}: point {i + 1} is equidistant from centres "
                           f"{', '.join(str(j + 1) for j in winners)}; tie broken towards the lower index "
                           f"(centre {winners[0] + 1})")
                warnings.append(SolverWarning(EQUIDISTANT, message))
            assignments.append(winners[0])
            rows.append([Sym(f"x_{i + 1}"), *row, Sym(f"c_{winners[0] + 1}")])
        energy = sum(dists[i][a] for i, a in enumerate(assignments))
        changed = assignments != previous
        assign = Step(
            f"Iteration {t}: assign each point to its nearest centre",
            table=Table(["point", *[f"$||x - c_{j + 1}||^2$" for j in range(k)], "nearest"], rows),
            values={"E": energy},
            text="The energy $E = sum_i min_j ||x_i - c_j||^2$ sums the squared distances of the points to their "
                 "nearest centres.",
        )
        cells = {j: [i for i, a in enumerate(assignments) if a == j] for j in range(k)}
        after = []
        if not changed:
            assign.children.append(Step("No assignment changed, so the centres stay where they are: stop.",
                                        text="Lloyd's algorithm has converged."))
            after = centers
            converged = True
        else:
            update = Step("Move each centre to the mean of its cell")
            for j in range(k):
                members = cells[j]
                if not members:
                    warnings.append(SolverWarning(EMPTY_CELL, f"iteration {t}: centre {j + 1} has an empty cell; "
                                                             "it stays where it is"))
                    update.math.append([Sym(f"c_{j + 1}"), centers[j]])
                    after.append(centers[j])
                    continue
                m = mean([points[i] for i in members])
                after.append(m)
                update.math.append([Sym(f"c_{j + 1}"), _mean_expr(members), m])
            assign.children.append(update)
        steps.append(assign)
        iterations.append({"centers_before": centers, "assignments": assignments, "energy": energy,
                           "centers_after": after})
        previous = assignments
        centers = after
        if converged:
            break
    if not converged:
        warnings.append(SolverWarning(NOT_CONVERGED, f"did not converge within max_iterations = {max_iterations}"))

    final_dists = [[sqdist(p, c) for c in centers] for p in points]
    final_assign = iterations[-1]["assignments"] if converged else [r.index(min(r)) for r in final_dists]
    final_energy = sum(final_dists[i][a] for i, a in enumerate(final_assign))
    steps.append(Step(
        "Final centres and Voronoi cells",
        result={f"c_{j + 1}": centers[j] for j in range(k)},
        figure=Figure("voronoi", {"points": as_float(points), "initial_centers": as_float(initial_centers),
                                  "final_centers": as_float(centers), "assignments": final_assign},
                      "Data points with the initial (dashed) and final (solid) Voronoi cells."),
    ))
    answer = {
        "iterations": [{"centers_before": as_float(it["centers_before"]), "assignments": it["assignments"],
                        "energy": float(it["energy"]), "centers_after": as_float(it["centers_after"])}
                       for it in iterations],
        "final_centers": as_float(centers),
        "final_assignments": final_assign,
        "final_energy": float(final_energy),
        "num_iterations": len(iterations),
        "converged": converged,
    }
    exact_values = {"final_centers": centers, "final_energy": final_energy} if exact else {}
    if exact:
        answer["final_centers_exact"] = exact_str(centers)
        answer["final_energy_exact"] = str(final_energy)
    normalized = {"points": points_f.tolist(), "max_iterations": max_iterations}
    if indices is not None:
        normalized["initial_indices"] = indices
    else:
        normalized["initial_centers"] = centers_f.tolist()
    return Solution("lloyd", normalized, steps, answer, warnings, exact_values, one_based=("final_assignments",))


def _mean_expr(members: list[int]) -> Any:
    import sympy as sp

    total = sp.Add(*[sp.Symbol(f"x_{i + 1}") for i in members], evaluate=False)
    return total if len(members) == 1 else sp.Mul(sp.Rational(1, len(members)), total, evaluate=False)
