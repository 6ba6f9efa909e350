"""Competitive (winner-take-all) learning, one data point at a time, in the given order, for some epochs.

Each presentation of a point x computes every neuron's output y_i = w_i . x (no bias, identity activation).
The winner is the neuron with the LARGEST OUTPUT w_i . x (the lecture's and the mock final's criterion; it is
the nearest neuron only when all ||w_i|| are equal); a tie goes to the lowest or highest index (`tie_break`).
Only the winner moves:
    standard:         w <- w + eta (x - w)
    output_weighted:  w <- w + eta y (x - w),  y = w . x the winner's output
and with `rounding` each coordinate of the winner's new weights is rounded to an integer (half_even: halves to
the even integer; half_away: halves away from zero). Arithmetic is exact (inputs are read at their decimal
value), so ties and half-way cases are detected exactly; each is reported in `warnings` and in the steps.
Where the run met a convention the statement may leave open (a tie, a half-way rounding), a last step says which
convention this solution takes and gives the final weights under the others (`alternatives` in the answer).
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import product
from typing import Any

from . import params as P
from .core import Solution, SolverWarning, Step, Sym, Table
from .registry import register

# warning codes (SolverWarning.code)
WINNER_TIE = "winner_tie"
HALF_WAY_ROUNDING = "half_way_rounding"
CLUSTER_TIE = "cluster_tie"

MAX_PRESENTATIONS = 100_000
DIVERGED = 10**12  # a weight beyond this means the run has diverged (the output-weighted rule can explode)
TABLE_ROWS = 200  # presentations listed in the tables of the steps (the answer has them all)

# Mock final Q2 (002): the output-weighted rule, weights rounded after every update; the seed's key rounds
# 1/2 to 0, i.e. half to even.
MOCK_FINAL_Q2 = {
    "points": [[0, 1], [1, 1], [0, -1], [-1, -1]],
    "initial_weights": [[-1, 2], [2, -1]],
    "learning_rate": 0.5,
    "epochs": 2,
    "rule": "output_weighted",
    "rounding": "half_even",
    "tie_break": "lowest",
}
# Lecture notes (002, "3 Competitive learning"): the standard rule, one epoch.
LECTURE_STANDARD = {
    "points": [[1, 1], [0.9, 1], [1, 1.1], [1, -1], [1.1, -1], [1, -1.1]],
    "initial_weights": [[0.8, 0], [0.9, 0.1]],
    "learning_rate": 0.5,
    "epochs": 1,
    "rule": "standard",
}


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["points", "initial_weights", "learning_rate", "epochs", "rule", "rounding", "tie_break"])
    points = P.matrix(P.get(params, "points"), "points", exact=True)
    d = len(points[0])
    weights = P.matrix(P.get(params, "initial_weights"), "initial_weights", None, d, exact=True)
    eta = P.rational(P.get(params, "learning_rate"), "learning_rate", positive=True)
    epochs = P.integer(P.get(params, "epochs"), "epochs", low=1)
    if epochs * len(points) > MAX_PRESENTATIONS:
        raise P.ParamError("epochs", f"too many presentations: {epochs} epochs x {len(points)} points "
                                     f"(the limit is {MAX_PRESENTATIONS})")
    rule = P.choice(P.get(params, "rule", "standard"), "rule", ["standard", "output_weighted"])
    rounding = params.get("rounding")
    if rounding is not None:
        rounding = P.choice(rounding, "rounding", ["half_even", "half_away"])
    tie_break = P.choice(P.get(params, "tie_break", "lowest"), "tie_break", ["lowest", "highest"])

    def frac(rows: list[list[Any]]) -> list[list[Fraction]]:
        return [[Fraction(int(v.p), int(v.q)) for v in row] for row in rows]

    return {"points": frac(points), "initial_weights": frac(weights), "learning_rate": Fraction(int(eta.p), int(eta.q)),
            "epochs": epochs, "rule": rule, "rounding": rounding, "tie_break": tie_break}


def _round(value: Fraction, mode: str) -> int:
    if mode == "half_even":
        return round(value)  # Fraction.__round__ rounds halves to even
    return int(math.copysign(math.floor(abs(value) + Fraction(1, 2)), value))


def _winner(outputs: list[Fraction], tie_break: str) -> tuple[int, list[int]]:
    best = max(outputs)
    tied = [i for i, y in enumerate(outputs) if y == best]
    return (tied[0] if tie_break == "lowest" else tied[-1]), tied


def _final_weights(p: dict[str, Any], tie_break: str, rounding: str | None) -> list[list[Fraction]] | None:
    """The final weights of the same run under another tie break or rounding (None if it diverges)."""
    weights = [list(w) for w in p["initial_weights"]]
    for _ in range(p["epochs"]):
        for x in p["points"]:
            outputs = [sum((wi * xi for wi, xi in zip(w, x, strict=True)), Fraction(0)) for w in weights]
            winner, _tied = _winner(outputs, tie_break)
            factor = p["learning_rate"] if p["rule"] == "standard" else p["learning_rate"] * outputs[winner]
            new = [wi + factor * (xi - wi) for wi, xi in zip(weights[winner], x, strict=True)]
            if rounding:
                new = [Fraction(_round(v, rounding)) for v in new]
            if any(abs(v) > DIVERGED for v in new):
                return None
            weights[winner] = new
    return weights


def _conventions(p: dict[str, Any], weights: list[list[Fraction]], tie: bool, half: bool) -> tuple[Step, list]:
    """The step that names the conventions taken and the final weights under the other ones."""
    ties = ["lowest", "highest"] if tie else [p["tie_break"]]
    roundings = ["half_even", "half_away"] if half else [p["rounding"]]
    tie_words = {"lowest": "towards the lower index", "highest": "towards the higher index"}
    round_words = {"half_even": "halves to the even integer", "half_away": "halves away from zero", None: "none"}
    taken = [f"a tie is broken {tie_words[p['tie_break']]}"] * tie + \
            [f"rounding takes {round_words[p['rounding']]}"] * half
    rows, alternatives = [], []
    for t, r in product(ties, roundings):
        final = weights if (t, r) == (p["tie_break"], p["rounding"]) else _final_weights(p, t, r)
        alternatives.append({"tie_break": t, "rounding": r,
                             "final_weights": None if final is None else [[float(v) for v in w] for w in final]})
        row = [tie_words[t]] * tie + [round_words[r]] * half
        rows.append([*row, "diverges" if final is None else [list(w) for w in final],
                     "taken" if final is weights else ""])
    columns = ["tie broken"] * tie + ["rounding"] * half + ["final weights (rows $w_i$)", ""]
    text = ("The run meets " + " and ".join(["a tie between the largest outputs"] * tie
                                            + ["a half-way rounding"] * half)
            + ", which the rule alone does not settle. This solution takes: " + "; ".join(taken)
            + ". The final weights under each convention:")
    return Step("Conventions", text=text, table=Table(columns, rows)), alternatives


def _tie_text(tied: list[int], winner: int, tie_break: str) -> str:
    names = ", ".join(str(i + 1) for i in tied[:-1]) + f" and {tied[-1] + 1}"
    side = "lower" if tie_break == "lowest" else "higher"
    return f"tie between neurons {names}: broken towards the {side} index (neuron {winner + 1} wins)"


@register("competitive", "Competitive (winner-take-all) learning: winners by largest w.x, updates, rounding",
          examples={"mock_final_q2": MOCK_FINAL_Q2, "lecture_standard_rule": LECTURE_STANDARD})
def solve(params: dict[str, Any]) -> Solution:
    p = _read(params)
    points, eta, rule, rounding, tie_break = p["points"], p["learning_rate"], p["rule"], p["rounding"], p["tie_break"]
    weights = [list(w) for w in p["initial_weights"]]
    k = len(weights)
    update_text = "$w <- w + eta (x - w)$" if rule == "standard" else \
        "$w <- w + eta y (x - w)$, with $y = w . x$ the winner's output"
    halves_text = "halves to the even integer" if rounding == "half_even" else "halves away from zero"
    intro = Step(
        "The rule",
        text=(f"{k} neurons, {len(points)} points presented in order for {p['epochs']} epoch(s). Each neuron outputs "
              "$y_i = w_i . x$; the winner is the neuron with the largest output (ties broken towards the "
              f"{'lower' if tie_break == 'lowest' else 'higher'} index). Only the winner moves: {update_text}."
              + (f" After each update its weights are rounded to integers ({halves_text})." if rounding else "")),
        inputs={"eta": eta},
        result={f"w_{i + 1}": w for i, w in enumerate(weights)},
    )
    steps = [intro]
    warnings: list[str] = []
    records = []
    presented = []  # per step: the point and the winner's weights before rounding (Solution.details)
    count = 0
    for epoch in range(1, p["epochs"] + 1):
        rows = []
        notes = []
        for n, x in enumerate(points):
            count += 1
            outputs = [sum((wi * xi for wi, xi in zip(w, x, strict=True)), Fraction(0)) for w in weights]
            winner, tied = _winner(outputs, tie_break)
            where = f"epoch {epoch}, point {n + 1}"
            if len(tied) > 1:
                message = f"{where}: {_tie_text(tied, winner, tie_break)}"
                warnings.append(SolverWarning(WINNER_TIE, message))
                notes.append(message)
            w = weights[winner]
            factor = eta if rule == "standard" else eta * outputs[winner]
            moved = [wi + factor * (xi - wi) for wi, xi in zip(w, x, strict=True)]
            new = moved
            if rounding:
                new = [Fraction(_round(v, rounding)) for v in moved]
                halves = [j for j, v in enumerate(moved) if v.denominator == 2]
                if halves:
                    coords = ", ".join(f"${moved[j]} -> {new[j]}$" for j in halves)
                    message = f"{where}: half-way rounding of $w_{winner + 1}$ ({coords}; {halves_text})"
                    warnings.append(SolverWarning(HALF_WAY_ROUNDING, message))
                    notes.append(message)
            if any(abs(v) > DIVERGED for v in new):
                raise P.ParamError("learning_rate", f"the weights diverge: |w_{winner + 1}| exceeds {DIVERGED:.0e} at "
                                                    f"{where}; use a smaller learning rate or fewer epochs")
            weights[winner] = new
            presented.append({"point": x, "unrounded": moved})
            records.append({"epoch": epoch, "point_index": n, "outputs": outputs, "winner": winner,
                            "tie": len(tied) > 1, "weights": [list(v) for v in weights]})
            if count <= TABLE_ROWS:
                row = [count, Sym(f"x_{n + 1}"), x, outputs, winner + 1, factor, moved]
                if rounding:
                    row.append(new)
                rows.append([*row, [list(v) for v in weights]])
        columns = ["it.", "point", "$x$", "outputs $w_i . x$", "winner", "$eta$" if rule == "standard" else "$eta y$",
                   "$w + eta y (x - w)$" if rule != "standard" else "$w + eta (x - w)$"]
        if rounding:
            columns.append("rounded")
        columns.append("weights after (rows $w_i$)")
        step = Step(f"Epoch {epoch}", table=Table(columns, rows) if rows else None,
                    text=" ".join(note[0].upper() + note[1:] + "." for note in notes))
        if count > TABLE_ROWS and not rows:
            step.text = (step.text + " " if step.text else "") + f"(The table stops after {TABLE_ROWS} presentations.)"
        step.result = {f"w_{i + 1}": w for i, w in enumerate(weights)}
        steps.append(step)

    clusters = []
    cluster_rows = []
    for n, x in enumerate(points):
        outputs = [sum((wi * xi for wi, xi in zip(w, x, strict=True)), Fraction(0)) for w in weights]
        winner, tied = _winner(outputs, tie_break)
        if len(tied) > 1:
            warnings.append(SolverWarning(CLUSTER_TIE, f"clusters, point {n + 1}: "
                                                       f"{_tie_text(tied, winner, tie_break)}"))
        clusters.append(winner)
        cluster_rows.append([Sym(f"x_{n + 1}"), outputs, winner + 1])
    steps.append(Step("Clusters under the final weights",
                      text="Each point belongs to the neuron that wins it with the final weights.",
                      table=Table(["point", "outputs $w_i . x$", "neuron"], cluster_rows)))
    tie = any(r["tie"] for r in records)
    half = any(w.code == HALF_WAY_ROUNDING for w in warnings)
    alternatives = None
    if tie or half:
        step, alternatives = _conventions(p, weights, tie, half)
        steps.append(step)
    answer: dict[str, Any] = {
        "steps": [{**r, "outputs": [float(y) for y in r["outputs"]],
                   "weights": [[float(v) for v in w] for w in r["weights"]]} for r in records],
        "final_weights": [[float(v) for v in w] for w in weights],
        "final_weights_exact": [[str(v) for v in w] for w in weights],
        "clusters": clusters,
    }
    if alternatives is not None:
        answer["alternatives"] = alternatives
    normalized = {**p, "points": p["points"], "initial_weights": p["initial_weights"]}
    return Solution("competitive", normalized, steps, answer, warnings, {"final_weights": weights},
                    details={"steps": presented}, one_based=("clusters",))
