"""Validation of problem parameters, up front, with errors that name the field.

Every reader takes the raw value and the field's dotted name (``layers[1].W``) and returns a normalized
value or raises `ParamError` ("layers[1].W: expected a matrix with 3 columns, got 2").
"""

from __future__ import annotations

import io
import keyword
import math
import re
import tokenize
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .errors import ParamError

MISSING = object()
MAX_ELEMENTS = 1_000_000
MAX_MAGNITUDE = Fraction(10) ** 12   # course problems use modest numbers; beyond this, arithmetic overflows
MIN_MAGNITUDE = Fraction(1, 10**12)  # and below this (but not 0) exact arithmetic and sympy crawl


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def mapping(params: Any, field: str = "params") -> Mapping[str, Any]:
    if not isinstance(params, Mapping):
        raise ParamError(field, f"expected a JSON object of parameters, got {type(params).__name__}")
    return params


def no_unknown(params: Mapping[str, Any], allowed: Iterable[str], field: str = "params") -> None:
    """Refuse fields the kind does not know (a typo would otherwise be ignored silently)."""
    allowed = list(allowed)
    extra = [k for k in params if k not in allowed]
    if extra:
        where = f"{field}." if field != "params" else ""
        raise ParamError(
            f"{where}{extra[0]}", f"unknown field; the fields here are: {', '.join(allowed)}"
        )


def get(params: Mapping[str, Any], name: str, default: Any = MISSING, field: str | None = None) -> Any:
    field = field or name
    if name not in params or params[name] is None:
        if default is MISSING:
            raise ParamError(field, "missing required field")
        return default
    return params[name]


def _scalar(value: Any, field: str) -> Any:
    """A finite number of sensible magnitude (0, or between 1e-12 and 1e12 in absolute value)."""
    v = _raw_scalar(value, field)
    size = abs(Fraction(v)) if not isinstance(v, float) else abs(Fraction(repr(v)))
    if size and not MIN_MAGNITUDE <= size <= MAX_MAGNITUDE:
        shown = _describe(value) if isinstance(value, str) else str(sp.Float(sp.Rational(v) if not isinstance(
            v, float) else v, 3))
        raise ParamError(field, f"{shown} is out of range: numbers must be 0 or between 1e-12 and 1e12 in size")
    return v


def _raw_scalar(value: Any, field: str) -> Any:
    if isinstance(value, bool) or value is None:
        raise ParamError(field, f"expected a number, got {_describe(value)}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise ParamError(field, f"expected a finite number, got {value}")
        return float(value)
    if isinstance(value, Fraction):
        return value
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[-+]?\d+(\.\d*)?(e[-+]?\d+)?(/\d+)?|[-+]?\.\d+(e[-+]?\d+)?", text, re.I):
            try:
                frac = Fraction(text)
            except (ValueError, ZeroDivisionError) as exc:
                raise ParamError(field, f"expected a number, got {_describe(value)}") from exc
            return frac
        raise ParamError(field, f"expected a number, got {_describe(value)}")
    if isinstance(value, sp.Basic) and value.is_number:
        if value.is_Rational:
            return Fraction(int(value.p), int(value.q))
        return _raw_scalar(float(value), field)
    raise ParamError(field, f"expected a number, got {_describe(value)}")


def number(
    value: Any,
    field: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """A finite real number as a float ("1/8" and 0.125 are both accepted)."""
    v = float(_scalar(value, field))
    _check_range(v, field, positive, nonnegative, low, high)
    return v


def rational(value: Any, field: str, **bounds: Any) -> sp.Rational:
    """A number kept exact: 0.1 becomes 1/10 (its decimal value), "1/8" becomes 1/8."""
    v = _scalar(value, field)
    if isinstance(v, float):
        r = sp.Rational(repr(v))
    elif isinstance(v, Fraction):
        r = sp.Rational(v.numerator, v.denominator)
    else:
        r = sp.Integer(v)
    _check_range(float(r), field, bounds.get("positive", False), bounds.get("nonnegative", False),
                 bounds.get("low"), bounds.get("high"))
    return r


def _check_range(v: float, field: str, positive: bool, nonnegative: bool, low: Any, high: Any) -> None:
    if positive and not v > 0:
        raise ParamError(field, f"expected a positive number, got {v:g}")
    if nonnegative and v < 0:
        raise ParamError(field, f"expected a number >= 0, got {v:g}")
    if low is not None and v < low:
        raise ParamError(field, f"expected a number >= {low}, got {v:g}")
    if high is not None and v > high:
        raise ParamError(field, f"expected a number <= {high}, got {v:g}")


def integer(value: Any, field: str, *, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)):
        raise ParamError(field, f"expected an integer, got {_describe(value)}")
    if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
        raise ParamError(field, f"expected an integer, got {_describe(value)}")
    v = int(value)
    if low is not None and v < low:
        raise ParamError(field, f"expected an integer >= {low}, got {v}")
    if high is not None and v > high:
        raise ParamError(field, f"expected an integer <= {high}, got {v}")
    return v


def index(value: Any, field: str, size: int, what: str = "item") -> int:
    """An index counting from 0 into something of `size` items (an int: 1.0 is refused)."""
    if size <= 0:
        raise ParamError(field, f"there is no {what} to index")
    if isinstance(value, float):
        raise ParamError(field, f"expected an integer index, got {value!r}")
    v = integer(value, field)
    if not 0 <= v < size:
        raise ParamError(field, f"index {value} is out of range: there are {size} {what}s, indices 0..{size - 1}")
    return v


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ParamError(field, f"expected true or false, got {_describe(value)}")
    return value


def choice(value: Any, field: str, options: Iterable[str]) -> str:
    options = list(options)
    if not isinstance(value, str) or value not in options:
        raise ParamError(field, f"expected one of {', '.join(options)}; got {_describe(value)}")
    return value


def _nested(value: Any, field: str, depth: int) -> list[Any]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        kind = ["a number", "a list of numbers", "a matrix (list of rows)", "a list of matrices"][depth]
        raise ParamError(field, f"expected {kind}, got {_describe(value)}")
    return list(value)


def array(value: Any, field: str, ndim: int, shape: tuple[int | None, ...] | None = None,
          *, exact: bool = False, allow_empty: bool = False) -> Any:
    """A rectangular array of finite numbers with `ndim` dimensions (float numpy array, or sympy
    Rationals in nested lists when `exact`). `shape` entries that are None are free."""
    names = {1: "vector", 2: "matrix", 3: "3-d array", 4: "4-d array"}

    def walk(v: Any, path: str, d: int) -> Any:
        if d == 0:
            return rational(v, path) if exact else number(v, path)
        items = _nested(v, path, min(d, 3))
        if not items and not allow_empty:
            raise ParamError(path, f"expected a non-empty {names.get(d, 'list')}")
        return [walk(x, f"{path}[{i}]", d - 1) for i, x in enumerate(items)]

    nested = walk(value, field, ndim)
    got = _shape(nested, ndim, field)
    if shape is not None:
        for axis, (want, have) in enumerate(zip(shape, got, strict=True)):
            if want is not None and want != have:
                raise ParamError(
                    field,
                    f"expected a {names.get(ndim, 'array')} of shape {_fmt_shape(shape)}, "
                    f"got {_fmt_shape(got)} (axis {axis} has {have}, expected {want})",
                )
    size = int(np.prod(got)) if got else 1
    if size > MAX_ELEMENTS:
        raise ParamError(field, f"too large: {size} numbers (the limit is {MAX_ELEMENTS})")
    return nested if exact else np.asarray(nested, dtype=float).reshape(got)


def _shape(nested: Any, ndim: int, field: str) -> tuple[int, ...]:
    shape: list[int] = []
    level = [nested]
    for d in range(ndim):
        lengths = {len(x) for x in level}
        if len(lengths) > 1:
            raise ParamError(field, f"rows of different lengths at depth {d} ({sorted(lengths)})")
        n = lengths.pop() if lengths else 0
        shape.append(n)
        level = [y for x in level for y in x]
    return tuple(shape)


def _fmt_shape(shape: Iterable[int | None]) -> str:
    return " x ".join("?" if s is None else str(s) for s in shape)


def vector(value: Any, field: str, length: int | None = None, **kw: Any) -> Any:
    return array(value, field, 1, (length,), **kw)


def matrix(value: Any, field: str, rows: int | None = None, cols: int | None = None, **kw: Any) -> Any:
    return array(value, field, 2, (rows, cols), **kw)


MAX_EXPRESSION = 2000  # characters
ARITHMETIC = r"\w\s.+\-*/^(),"  # the characters of an expression: names, numbers, operators, calls
_FUNCTIONS = {
    name: getattr(sp, name)
    for name in ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "Abs", "pi", "E", "atan", "asin",
                 "acos", "sinh", "cosh", "erf", "oo", "Rational", "Piecewise", "Min", "Max")
}
_FUNCTIONS["abs"] = sp.Abs
_FUNCTIONS["ln"] = sp.log
_FUNCTIONS["inf"] = sp.oo
FUNCTIONS = _FUNCTIONS  # the functions and constants an expression of the catalog may name (read-only use)


def refusal(text: str, allow: str = "") -> str:
    """Why `text` is not an expression we may parse, or "" when it is: only the characters of arithmetic (and
    those in `allow`, e.g. "[]" for indexing), at most MAX_EXPRESSION of them, no `__`, no attribute access
    (`.` only inside numbers) and no Python keyword but True and False. What passes can name nothing but
    the names it is given and new symbols: no builtin, no module, no attribute of an object."""
    if len(text) > MAX_EXPRESSION:
        return f"longer than {MAX_EXPRESSION} characters"
    if "__" in text:
        return "a name with __"
    if not re.fullmatch(f"[{ARITHMETIC}{re.escape(allow)}]*", text):
        bad = next(c for c in text if not re.fullmatch(f"[{ARITHMETIC}{re.escape(allow)}]", c))
        return f"the character {bad!r}"
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text.replace("^", "**")).readline))
    except (tokenize.TokenError, SyntaxError):
        return ""  # unbalanced: the parser says so
    for tok in tokens:
        if tok.type == tokenize.OP and tok.string == ".":
            return "attribute access (a dot outside a number)"
        if tok.type == tokenize.NAME and keyword.iskeyword(tok.string) and tok.string not in ("True", "False"):
            return f"the Python keyword {tok.string!r}"
    return ""


def guarded_parse(text: str, names: Mapping[str, Any], allow: str = "") -> Any:
    """Parse `text` with sympy, without evaluating Python: `refusal(text, allow)` must be empty, and the
    parsed code sees only `names` (functions, constants, symbols; with `Function` among them an unknown name
    called becomes an undefined function) and no builtin; any other name becomes a new symbol. Raises
    ValueError with the reason, or the name of the parser's error."""
    why = refusal(text, allow)
    if why:
        raise ValueError(why)
    local = dict(names)
    space = {"Integer": sp.Integer, "Float": sp.Float, "Symbol": sp.Symbol, **local, "__builtins__": {}}
    operators = {name: getattr(sp, name) for name in ("Add", "Mul", "Pow", "Mod", "Lt", "Le", "Gt", "Ge", "Eq",
                                                       "Ne", "And", "Or", "Not", "Xor")}
    try:  # first unevaluated (the operators as calls), to refuse what would take sympy minutes to evaluate
        unevaluated = sp.parse_expr(text.replace("^", "**"), local_dict=local, global_dict={**operators, **space},
                                    evaluate=False)
    except Exception:  # sympy raises many types for malformed input: the evaluating parse says which
        unevaluated = None
    why = too_large(unevaluated)
    if why:
        raise ValueError(why)
    try:
        return sp.parse_expr(text.replace("^", "**"), local_dict=local, global_dict=space, evaluate=True)
    except Exception as exc:
        raise ValueError(type(exc).__name__) from exc


MAX_EXPONENT = 1000  # a written power beyond this (9^9^9^9, (x + 1)^(10^9)) would take sympy minutes to evaluate


def too_large(expr: Any) -> str:
    """Why evaluating the parsed, unevaluated `expr` could hang ("" when it cannot): a numeric exponent beyond
    MAX_EXPONENT (estimated in floating point, which a tower of powers does not hang). Applied before anything
    evaluates."""
    if not isinstance(expr, sp.Basic):
        return ""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.exp.is_number:
            try:
                size = abs(complex(node.exp.evalf(15)))
            except (TypeError, ValueError, OverflowError):
                return f"an exponent beyond {MAX_EXPONENT}"
            if not size <= MAX_EXPONENT:  # also NaN
                return f"an exponent beyond {MAX_EXPONENT}"
    return ""


def expression(value: Any, field: str, variables: Iterable[str]) -> sp.Expr:
    """Parse an expression string in the given variables without evaluating arbitrary Python."""
    variables = list(variables)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = repr(value)
    if not isinstance(value, str) or not value.strip():
        raise ParamError(field, f"expected an expression in {', '.join(variables)}, got {_describe(value)}")
    if refusal(value):
        raise ParamError(field, f"not an expression we can read: {_describe(value)}")
    symbols = {v: sp.Symbol(v, real=True) for v in variables}
    try:
        expr = guarded_parse(value, {**_FUNCTIONS, **symbols})
    except ValueError as exc:
        raise ParamError(field, f"cannot parse the expression {_describe(value)}") from exc
    if not isinstance(expr, sp.Expr):
        raise ParamError(field, f"expected an expression, got {_describe(value)}")
    extra = sorted(str(s) for s in expr.free_symbols if str(s) not in symbols)
    if extra:
        raise ParamError(
            field, f"unknown symbol {extra[0]!r}; the expression may use {', '.join(variables) or 'no variable'}"
        )
    if expr.has(sp.nan, sp.zoo):
        raise ParamError(field, f"the expression {_describe(value)} is undefined")
    if expr.has(sp.oo, -sp.oo):
        raise ParamError(field, f"the expression {_describe(value)} is infinite")
    for number in expr.atoms(sp.Number):
        if number != 0 and not MIN_MAGNITUDE <= abs(Fraction(str(sp.Rational(number)))) <= MAX_MAGNITUDE:
            raise ParamError(field, f"the number {sp.Float(number, 3)} in the expression is out of range "
                                    "(0, or 1e-12 to 1e12 in size)")
    return expr


def interval(value: Any, field: str) -> tuple[sp.Expr, sp.Expr]:
    """A support [a, b] with a < b; a may be "-oo"/"-inf" and b "oo"/"inf"."""
    items = _nested(value, field, 1)
    if len(items) != 2:
        raise ParamError(field, f"expected an interval [low, high], got {_describe(value)}")
    ends = []
    for i, end in enumerate(items):
        if isinstance(end, str) and end.strip().lstrip("+-") in ("oo", "inf", "infinity"):
            ends.append(-sp.oo if end.strip().startswith("-") else sp.oo)
        else:
            ends.append(rational(end, f"{field}[{i}]"))
    if not ends[0] < ends[1]:
        raise ParamError(field, f"expected low < high, got {_describe(value)}")
    return ends[0], ends[1]
