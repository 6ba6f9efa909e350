"""Solutions as plain data: a solver returns steps and an answer, never formatted text.

A value inside a step (an input, an intermediate value, a result, a term of an equation) is any of:
a Python number, a `fractions.Fraction`, a sympy expression or matrix, a numpy array, a nested list of
numbers, a string (plain prose), a bool or None. `to_json` turns each into JSON; the printers in
`templates.mathprint` turn each into Typst, LaTeX or terminal text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp


@dataclass
class Figure:
    """A picture described by data; `templates.figures` draws it. `kind` names the drawer (e.g. "voronoi")."""

    kind: str
    data: dict[str, Any]
    caption: str = ""


@dataclass
class Table:
    """A table of values, e.g. one row per presentation of a data point in competitive learning."""

    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Step:
    """One step of a solution.

    title: what is done, in a few plain words ("Assign each point to its nearest centre").
    text: optional prose that explains the step or states a decision ("tie: ..."). Title, text, table headers
    and string cells, captions and warnings hold no markup; their maths goes between `$`s in the notation of
    solvers/CATALOG.md ("Steps: prose with maths"): "Only the winner moves: $w <- w + eta (x - w)$".
    inputs, values, result: named values (names are math symbols such as "w_1", "eta", "delta^(1)").
    math: chains of equal terms, each printed as `t0 = t1 = ...`; a term is a value or a `Sym`.
    """

    title: str
    text: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    math: list[list[Any]] = field(default_factory=list)
    table: Table | None = None
    figure: Figure | None = None
    children: list[Step] = field(default_factory=list)


@dataclass(frozen=True)
class Sym:
    """A symbol name used as a term in an equation chain (printed as math, not evaluated)."""

    name: str


def math_text(value: Any) -> str:
    """A value as a math segment of the prose notation (solvers/CATALOG.md, "Steps: prose with maths"), to put
    in a step's title or text: `math_text(sp.sqrt(1 - z) + 1)` -> "$sqrt(1 - z) + 1$",
    `math_text(Fraction(1, 2))` -> "$1/2$"."""
    return f"${notation(value)}$"


def notation(value: Any) -> str:
    """A value written in the prose notation, without the `$`s (sympy's `**` as `^`, `oo` as `inf`)."""
    if isinstance(value, Sym):
        return value.name
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(notation(v) for v in value) + ")"
    text = sp.sstr(value) if isinstance(value, sp.Basic) else str(value)
    text = re.sub(r"\boo\b", "inf", text.replace("**", "^"))
    return re.sub(r"\bAbs\(([^()]*)\)", r"|\1|", text)


class SolverWarning(str):
    """A warning of a solution: its text (what the JSON output and the documents print), with a stable `code`
    that programs match on (the samplers' constraints), so that rewording a warning changes nothing that
    depends on it. Each kind names its codes as constants at the top of its module."""

    code: str

    def __new__(cls, code: str, text: str) -> SolverWarning:
        warning = super().__new__(cls, text)
        warning.code = code
        return warning

    def __reduce__(self):
        return SolverWarning, (self.code, str(self))


def exact_field(name: str) -> str:
    """The answer field that carries the exact value of the field `name` as strings (`<field>_exact` in
    solvers/CATALOG.md)."""
    return f"{name}_exact"


@dataclass
class Solution:
    """A solved problem. `answer` is the catalog's answer, JSON data (numbers, strings, lists, records).

    `exact` holds, as data, the exact value of answer fields where the JSON answer holds a float or a string:
    Fractions and sympy numbers (also in the JSON answer as the strings of `exact_field(name)`) and sympy
    expressions (whose strings are the JSON answer itself). The documents print these values, never parsing
    the JSON strings back.

    `details` holds more of the working as data, addressed like the answer but not among the catalog's answer
    fields (the JSON output leaves it out; the audit reads it): e.g. competitive's `steps[i].point` and
    `steps[i].unrounded`, or backprop's forward pass (`pre_activations`, `activations`, `output`).

    `one_based` names the answer fields that hold 0-based indices (lloyd's `final_assignments`, competitive's
    `clusters`): JSON keeps them 0-based, the documents print them from 1 like the steps' prose."""

    kind: str
    params: dict[str, Any]
    steps: list[Step]
    answer: dict[str, Any]
    warnings: list[str] = field(default_factory=list)  # SolverWarning: text and code
    exact: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    one_based: tuple[str, ...] = ()  # answer fields of 0-based indices that documents count from 1, as prose

    def to_json(self, prose: Callable[[str], str] = str) -> dict[str, Any]:
        """JSON data; `prose` prints the steps' prose and the warnings (the documents pass the text printer
        of the maths notation, `templates.mathprint.plain`, so that the JSON steps read as Unicode)."""
        return {
            "kind": self.kind,
            "params": to_json(self.params),
            "answer": to_json(self.answer),
            "steps": [step_to_json(s, prose) for s in self.steps],
            "warnings": [prose(w) for w in self.warnings],
        }


def step_to_json(step: Step, prose: Callable[[str], str] = str) -> dict[str, Any]:
    out: dict[str, Any] = {"title": prose(step.title)}
    if step.text:
        out["text"] = prose(step.text)
    for name in ("inputs", "values", "result"):
        value = getattr(step, name)
        if value:
            out[name] = {k: to_json(v) for k, v in value.items()}
    if step.math:
        out["math"] = [[to_json(t) for t in chain] for chain in step.math]
    if step.table is not None:
        rows = [[prose(v) if isinstance(v, str) else to_json(v) for v in row] for row in step.table.rows]
        out["table"] = {"columns": [prose(c) for c in step.table.columns], "rows": rows}
    if step.figure is not None:
        out["figure"] = {"kind": step.figure.kind, "caption": prose(step.figure.caption)}
    if step.children:
        out["children"] = [step_to_json(c, prose) for c in step.children]
    return out


def to_json(value: Any) -> Any:
    """Convert a solver value to JSON data: numbers stay numbers, expressions become strings."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Sym):
        return value.name
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, Fraction):
        return _finite_float(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if np.isfinite(v) else str(v)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, sp.MatrixBase):
        return [[to_json(value[i, j]) for j in range(value.cols)] for i in range(value.rows)]
    if isinstance(value, sp.Basic):
        if isinstance(value, sp.Integer):
            return int(value)
        if value.is_number and not value.free_symbols:
            try:
                if value.is_real:
                    return _finite_float(value)
            except (TypeError, ValueError):
                pass
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "tolist"):  # torch tensors and friends
        return to_json(value.tolist())
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


def _finite_float(value: Any) -> Any:
    """A float, or the exact value as a string when it is too large for one (JSON has no infinity)."""
    try:
        v = float(value)
    except OverflowError:
        return str(value)
    return v if np.isfinite(v) else str(value)

