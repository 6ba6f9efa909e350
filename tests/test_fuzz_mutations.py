"""Mutations of a kind's example parameters, shared by the solver and CLI fuzz tests.

A mutation takes valid parameters and breaks (or merely changes) them in one place: drop a field, add an
unknown field, replace a value with garbage (NaN, inf, huge or tiny numbers, strings, None, empty or nested
lists, bools, negative sizes), change a list's shape, or set an iteration count to something huge.
Every input stays small, so each solve is quick unless a solver itself is pathologically slow.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import random
import re
from typing import Any

import solvers

Path = tuple[Any, ...]

GARBAGE: list[Any] = [
    math.nan, math.inf, -math.inf, 1e308, -1e308, 1e300, 10**30, -(10**30), 1e-300, 5e-324, 0, 0.0, -1, -7,
    2**31, 10**12, "abc", "", "1/0", "nan", "inf", "1e999", "x**", "__import__('os')", "0" * 200, None, [], {},
    [[]], [[[1]]], [1, [2]], [None], {"a": [1, None]}, True, False, [True, False], [math.nan, 1], ["1", "2"],
]

ITERATION_FIELD = re.compile(r"(iter|epoch|steps$|max_|repeat|count)", re.I)
HUGE_COUNTS = [10**6, 10**9, 10**18, 2**63, -1, 0]


def paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every position in a JSON-like value (the root is the empty path), at most 200 of them."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(paths(item, (*prefix, i)))
    return out[:200]


def get_at(value: Any, path: Path) -> Any:
    for key in path:
        value = value[key]
    return value


def set_at(value: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    get_at(value, path[:-1])[path[-1]] = new
    return value


def _reshape(item: list, rng: random.Random) -> Any:
    """A list with a different shape: shorter, longer, wrapped, unwrapped, ragged, transposed or empty."""
    choice = rng.choice(["drop", "append", "wrap", "unwrap", "ragged", "transpose", "empty", "repeat"])
    if choice == "drop" and item:
        return item[:-1]
    if choice == "append" and item:
        return [*item, copy.deepcopy(item[-1])]
    if choice == "wrap":
        return [item]
    if choice == "unwrap" and item:
        return item[0]
    if choice == "ragged" and item and isinstance(item[0], list):
        return [[*item[0], 1], *item[1:]]
    if choice == "transpose" and item and all(isinstance(r, list) for r in item):
        lengths = {len(r) for r in item}
        if len(lengths) == 1:
            return [list(col) for col in zip(*item, strict=True)]
    if choice == "repeat" and item:
        return item * 3
    return []


def mutate(params: dict[str, Any], rng: random.Random) -> tuple[Any, str]:
    """One mutation of `params` (deep-copied), and a short description of it for failure messages."""
    params = copy.deepcopy(params)
    positions = paths(params)
    op = rng.choice(["drop", "unknown", "garbage", "garbage", "garbage", "reshape", "number", "count", "root"])
    dicts = [p for p in positions if isinstance(get_at(params, p), dict) and get_at(params, p)]
    lists = [p for p in positions if isinstance(get_at(params, p), list)]
    leaves = [p for p in positions if p and not isinstance(get_at(params, p), (dict, list))]
    numbers = [p for p in leaves if isinstance(get_at(params, p), (int, float))
               and not isinstance(get_at(params, p), bool)]
    counts = [p for p in positions if p and isinstance(p[-1], str) and ITERATION_FIELD.search(p[-1])]
    if op == "drop" and dicts:
        where = rng.choice(dicts)
        key = rng.choice(sorted(get_at(params, where), key=str))
        del get_at(params, where)[key]
        return params, f"drop {_name((*where, key))}"
    if op == "unknown" and dicts:
        where = rng.choice(dicts)
        get_at(params, where)[rng.choice(["bogus", "Points", "extra_field", "learning rate"])] = rng.choice(
            [1, "x", None, [1, 2]])
        return params, f"unknown field in {_name(where) or 'params'}"
    if op == "reshape" and lists:
        where = rng.choice(lists)
        return set_at(params, where, _reshape(get_at(params, where), rng)), f"reshape {_name(where)}"
    if op == "number" and numbers:
        where = rng.choice(numbers)
        new = rng.choice([rng.uniform(-10, 10), rng.randint(-3, 5), round(rng.uniform(-2, 2), 1), 0.5])
        return set_at(params, where, new), f"{_name(where)} = {new!r}"
    if op == "count" and counts:
        where = rng.choice(counts)
        new = rng.choice(HUGE_COUNTS)
        return set_at(params, where, new), f"{_name(where)} = {new!r}"
    if op == "root":
        new = rng.choice([None, [], "params", 3, [params]])
        return new, f"params replaced by {type(new).__name__}"
    where = rng.choice(leaves or positions[1:] or [()])
    new = copy.deepcopy(rng.choice(GARBAGE))
    return set_at(params, where, new), f"{_name(where) or 'params'} = {new!r}"[:120]


def _name(path: Path) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def known_fields(kind: str, *params: Any) -> set[str]:
    """Names a ParamError of `kind` may start with: the keys of its examples and of the given params, and
    every quoted name in the solver's module (its optional fields)."""
    info = solvers.kind_info(kind)
    names = {"params"}
    for p in (*info.examples.values(), *params):
        if isinstance(p, dict):
            names.update(str(k) for k in p)
    try:
        source = inspect.getsource(inspect.getmodule(info.solver))
    except (OSError, TypeError):
        source = ""
    names.update(re.findall(r"""["']([A-Za-z_]\w*)""", source))
    return names


def check_param_error(kind: str, exc: Exception, params: Any) -> None:
    """A refusal is one line that starts with a field name the kind knows."""
    text = str(exc)
    assert "\n" not in text.strip(), f"{kind}: ParamError spans several lines: {text!r}"
    field = getattr(exc, "field", "")
    assert field, f"{kind}: ParamError names no field: {text!r}"
    root = re.match(r"[A-Za-z_][\w ]*", field)
    assert root, f"{kind}: ParamError field {field!r} is not a field name"
    assert root.group(0) in known_fields(kind, params), f"{kind}: ParamError field {field!r} is not a parameter"


SUPPORT_LIKE = re.compile(r"support|bound|interval|limit", re.I)


def nonfinite(value: Any, where: str = "answer") -> list[str]:
    """Positions in a solver's answer holding NaN or an infinity (a sympy nan/zoo anywhere; an infinity
    only where the field is a support or bound, which may be unbounded)."""
    import numpy as np
    import sympy as sp

    bad: list[str] = []
    allow_inf = bool(SUPPORT_LIKE.search(where))
    if isinstance(value, bool) or value is None or isinstance(value, (int, np.integer)):
        return bad
    if isinstance(value, (float, np.floating)):
        if math.isnan(value) or (math.isinf(value) and not allow_inf):
            bad.append(f"{where} = {value}")
    elif isinstance(value, str):
        if re.fullmatch(r"\s*[-+]?(nan|inf|infinity|zoo)\s*", value, re.I) and not (
                allow_inf and "nan" not in value.lower() and "zoo" not in value.lower()):
            bad.append(f"{where} = {value!r}")
        elif re.search(r"\b(nan|zoo)\b", value):
            bad.append(f"{where} = {value!r}")
    elif isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            bad.append(f"{where} has non-finite entries")
        elif value.dtype == object:
            bad.extend(nonfinite(value.tolist(), where))
    elif isinstance(value, sp.MatrixBase):
        bad.extend(nonfinite(value.tolist(), where))
    elif isinstance(value, sp.Basic):
        if value.has(sp.nan, sp.zoo) or (value.has(sp.oo, -sp.oo) and not allow_inf and value.is_number):
            bad.append(f"{where} = {value}")
    elif isinstance(value, dict):
        for k, v in value.items():
            bad.extend(nonfinite(v, f"{where}.{k}"))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            bad.extend(nonfinite(v, f"{where}[{i}]"))
    return bad


def describe(params: Any) -> str:
    try:
        return json.dumps(params, default=str)[:2000]
    except (TypeError, ValueError):
        return repr(params)[:2000]


def test_mutations_are_reproducible_and_leave_the_example_alone():
    example = {"points": [[0, 1], [1, 1]], "initial_indices": [0, 1], "max_iterations": 5}
    before = copy.deepcopy(example)
    first = [mutate(example, random.Random(seed)) for seed in range(50)]
    again = [mutate(example, random.Random(seed)) for seed in range(50)]
    assert describe(first) == describe(again)
    assert example == before
    assert len({description for _, description in first}) > 10


def test_nonfinite_finds_nan_and_infinity_but_allows_unbounded_supports():
    assert nonfinite({"a": [1.0, math.nan]}) == ["answer.a[1] = nan"]
    assert nonfinite({"x": "zoo"}) and nonfinite({"w": [[math.inf]]})
    assert nonfinite({"support": ["-oo", "oo"], "final": 1.5, "note": "inference"}) == []
