"""Comparing a claimed value with the truth, the way a careful marker reads a hand-written answer.

The engine of `nnexam audit` (hand-written keys), the exam marking and the LMS export (`answer_tolerance`):

    from nnexam.comparison import Options, Written, compare
    compare(Written(0.645, "0.645"), 0.6457, label="activations[0][0]")
    # -> ["activations[0][0]: the key says 0.645, the answer is 0.6457 (checked to half a unit in its last
    #      digit, ±0.0005)"]
    compare("eta/5", 0.9, Options(names={"eta": 4.5}), label="alpha")        # -> []

`compare(claimed, truth, options, label)` returns the problems, one sentence each ([] when the claim holds):

- Lists are compared element by element (their lengths must agree); booleans and None exactly.
  `compare_unordered` compares a list as a set: each claimed entry against a different true one, in any order.
- A decimal as written (`Written`: the float and its digits, e.g. read from YAML as 0.645 or 1.67e-5) holds when
  the truth is within half a unit of its last written digit (trailing zeros count: 0.50 claims two decimals);
  integers, other floats and fractions are exact, up to a relative 1e-9 of floating-point noise
  (`written_tolerance`, `close`). `Options.tolerance` overrides the rule; a truth that was sampled is allowed its
  own error (`Options.sampling_error`).
- A string is an expression, read by the guarded parser (`solvers.params.guarded_parse`: arithmetic only, never
  evaluated as Python). Against an expression (a string truth) it holds by symbolic equivalence: sympy simplifies
  the difference (for at most SIMPLIFY_SECONDS), then sampled points of `Options.support` decide. Against a number
  it holds by its value. `Options.names` binds names to numbers or to nested lists (indexable, `x[i, j]`; sums
  such as `Sum(x[i, j], (i, 0, 1))` are carried out), `Options.functions` defines functions in order
  ({"phi(v)": "1/(1 + exp(-5*v))", "dphi(v)": "5*phi(v)*(1 - phi(v))"}).
- A wrong density (`Options.density`) is also said to be negative on part of its support, or to integrate to
  something other than 1 there.

An expression that cannot be read raises `ExpressionError`; its `field` says which text it was: "value", the
definition "functions.<signature>", or "" for the truth.
"""

from __future__ import annotations

import re
import signal
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from solvers.errors import NnexamError
from solvers.params import guarded_parse, refusal

EXACT_RTOL = 1e-9
SIMPLIFY_SECONDS = 5
KEY_CHARACTERS = "[]<>=!&|~"  # beyond arithmetic, what a written expression may use: indexing, comparisons
SYMPY_NAMES = {name: getattr(sp, name) for name in (
    "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan", "asin", "acos", "erf", "Abs", "Max",
    "Min", "Piecewise", "Heaviside", "Sum", "Integral", "Rational", "det", "Matrix", "pi", "E", "oo")}
SYMPY_NAMES |= {"ln": sp.log, "abs": sp.Abs, "inf": sp.oo}  # the functions a written expression may call


class ExpressionError(NnexamError):
    """An expression of a claim (or of the truth) cannot be read; `field` names which text."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class Written(float):
    """A decimal number as it was written; `text` keeps the digits (and so the rounding) of the claim."""

    text: str

    def __new__(cls, value: float, text: str):
        obj = super().__new__(cls, value)
        obj.text = text
        return obj


@dataclass
class Options:
    """How to compare. `support`: the interval (sympy numbers, ends may be infinite) where an expression's
    variable lives, for sampled points and density notes; (0, 1) when not given."""

    tolerance: float | None = None
    sampling_error: float | None = None
    names: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    support: tuple[sp.Expr, sp.Expr] | None = None
    density: bool = False


def compare(claimed: Any, truth: Any, options: Options | None = None, label: str = "") -> list[str]:
    """The problems with `claimed` as an answer whose truth is `truth` (module docstring); [] when it holds."""
    problems: list[str] = []
    _walk(claimed, truth, options or Options(), label, problems)
    return problems


def compare_unordered(claimed: Any, truth: Any, options: Options | None = None, label: str = "") -> list[str]:
    """As `compare`, for a set written as a list (a cell's members, a set of centres): each claimed entry must
    hold against a different entry of the truth, in any order."""
    if not isinstance(claimed, list) or not isinstance(truth, list):
        return compare(claimed, truth, options, label)
    if len(claimed) != len(truth):
        return [f"{label}: the key gives {len(claimed)} entries, the answer has {len(truth)}"]
    holds = [[not compare(c, t, options) for t in truth] for c in claimed]

    def match(i: int, used: frozenset[int]) -> bool:  # a perfect matching of claims to truths, by backtracking
        return i == len(claimed) or any(holds[i][j] and j not in used and match(i + 1, used | {j})
                                        for j in range(len(truth)))

    if match(0, frozenset()):
        return []
    return [f"{label}: the entries, in any order, do not all match {_shown_truth(truth)}"]


def written_tolerance(claimed: Any, override: float | None = None) -> tuple[float, str]:
    """The tolerance of a claim and how to say it: half a unit in the last written digit of a decimal,
    0 (exact) for integers and fractions; `override` replaces the rule."""
    if override is not None:
        return override, f"to the key's tolerance {override:g}"
    if isinstance(claimed, Written):
        text = claimed.text.strip().lower().lstrip("+-")
        mantissa, _, exponent = text.partition("e")
        decimals = len(mantissa.partition(".")[2]) - (int(exponent) if exponent else 0)
        if "." not in mantissa and not exponent:
            return 0.0, "exactly"
        tol = 0.5 * 10.0 ** (-decimals)
        return tol, f"to half a unit in its last digit, ±{tol:g}"
    return 0.0, "exactly"


def answer_tolerance(value: float, digits: int) -> tuple[str, float]:
    """How an answer `value` is to be written, `digits` significant digits (an integer as it is), and the
    half-width around `value` that the marking rule accepts for that writing: `written_tolerance` of it, plus
    `close`'s floating-point noise. The LMS export gives this interval to Moodle and Canvas."""
    value = float(value)
    text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:#.{digits}g}"
    tol, _ = written_tolerance(Written(value, text))
    return text, tol + EXACT_RTOL * max(1.0, abs(value))


def close(a: float, b: float, tol: float) -> bool:
    """|a - b| within `tol`, plus a relative EXACT_RTOL of floating-point noise."""
    return abs(a - b) <= tol + EXACT_RTOL * max(1.0, abs(b))


def read_expression(text: str, names: dict[str, Any] | None = None) -> sp.Basic:
    """A written expression through the guarded parser: the SYMPY_NAMES, then `names`, any other name a real
    symbol. Raises ValueError with the reason it cannot be read."""
    local: dict[str, Any] = dict(SYMPY_NAMES)
    local.update({n: sp.Symbol(n, real=True) for n in set(re.findall(r"[A-Za-z_]\w*", text)) - set(SYMPY_NAMES)})
    local.update(names or {})
    value = guarded_parse(text, local, KEY_CHARACTERS)
    return value if isinstance(value, sp.Basic) else sp.sympify(value)  # a bare True or 2 from the parser


def unreadable(text: str) -> str:
    """Why a written expression would be refused before parsing ("" when it would not): for checking a key
    before anything runs."""
    return refusal(text, KEY_CHARACTERS)


def number_or_infinity(value: Any) -> sp.Expr:
    """A support end ("oo", "-inf", 0, "1/2", 2.5) as a sympy number."""
    text = str(value).strip().lower()
    if text in ("inf", "+inf", "infinity", "oo"):
        return sp.oo
    if text in ("-inf", "-infinity", "-oo"):
        return -sp.oo
    return read_expression(str(value))


# --------------------------------------------------------------------------------------------- values


def _walk(claimed: Any, truth: Any, options: Options, where: str, problems: list[str]) -> None:
    if isinstance(claimed, list):
        if not isinstance(truth, list) or len(truth) != len(claimed):
            size = f"{len(truth)} entries" if isinstance(truth, list) else "a single value"
            problems.append(f"{where}: the key gives {len(claimed)} entries, the answer has {size}")
            return
        for i, (c, t) in enumerate(zip(claimed, truth, strict=False)):
            _walk(c, t, options, f"{where}[{i}]", problems)
        return
    if isinstance(claimed, bool) or claimed is None or isinstance(truth, bool) or truth is None:
        if claimed != truth:
            problems.append(f"{where}: the key says {claimed}, the answer is {truth}")
        return
    if isinstance(claimed, str) or isinstance(truth, str):
        message = _compare_expression(claimed if isinstance(claimed, str) else str(claimed), truth, options)
        if message:
            problems.append(f"{where}: {message}")
        return
    tol, how = written_tolerance(claimed, options.tolerance)
    if options.sampling_error is not None and options.sampling_error > tol:
        tol, how = options.sampling_error, f"within the reference's sampling error {options.sampling_error:g}"
    if not close(float(claimed), float(truth), tol):
        problems.append(f"{where}: the key says {_shown(claimed)}, the answer is {_shown_truth(truth)} "
                        f"(checked {how})")


def _shown(v: Any) -> str:
    return v.text if isinstance(v, Written) else str(v)


def _shown_truth(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


# --------------------------------------------------------------------------------------------- expressions


def _compare_expression(claimed: str, truth: Any, options: Options) -> str:
    """'' when the claim agrees with the truth, else a sentence saying how they differ."""
    try:
        value = _evaluate(claimed, options)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        reason = str(exc) if type(exc) is ValueError else type(exc).__name__
        raise ExpressionError("value", f"cannot read the expression {claimed!r} ({reason})") from exc
    if isinstance(truth, str):
        try:
            correct = number_or_infinity(truth) if truth.strip().lower().lstrip("+-") in ("inf", "infinity") else \
                read_expression(truth)
        except ValueError as exc:
            raise ExpressionError("", f"the answer {truth!r} is not an expression") from exc
        if value == correct or (not (value.has(sp.oo, -sp.oo) or correct.has(sp.oo, -sp.oo))
                                and equivalent(value, correct, _domain(options))):
            return ""
        message = f"the key's {claimed} is not equivalent to {truth}"
        return message + (_density_notes(value, options) if options.density else "")
    if not isinstance(truth, (int, float)):
        return f"the key gives an expression, the answer is {truth!r}"
    if value.free_symbols:
        free = sorted({s.name for s in value.free_symbols if isinstance(s, sp.Symbol)} - set(options.names))
        free = free or sorted(str(s) for s in value.free_symbols)
        return (f"the key's {claimed} leaves {', '.join(free)} free, so it is not a number; "
                f"the answer is {_shown_truth(truth)}")
    number = complex(sp.N(value, 30))
    if abs(number.imag) > 1e-12:
        return f"the key's {claimed} is not a real number; the answer is {_shown_truth(truth)}"
    tol = options.tolerance or 0.0
    if options.sampling_error is not None:
        tol = max(tol, options.sampling_error)
    if close(number.real, float(truth), tol):
        return ""
    return f"the key's {claimed} = {number.real:.6g}, the answer is {_shown_truth(truth)}"


def _evaluate(text: str, options: Options) -> sp.Expr:
    """Read a claimed expression with its bound names and functions; sums are carried out, bound lists looked
    up, and bound numbers substituted."""
    local: dict[str, Any] = {}
    for name, value in options.names.items():
        local[name] = sp.IndexedBase(name) if isinstance(value, list) else sp.Symbol(name, real=True)
    for sig, body in options.functions.items():
        fname, args = sig.split("(", 1)
        arg_symbols = [sp.Symbol(a.strip(), real=True) for a in args.rstrip(")").split(",")]
        try:
            definition = read_expression(body, {**local, **{str(s): s for s in arg_symbols}})
        except ValueError as exc:
            raise ExpressionError(f"functions.{sig}", f"cannot read {body!r} ({exc})") from exc
        local[fname.strip()] = sp.Lambda(tuple(arg_symbols), definition)
    expr = read_expression(text, local).doit()

    def lookup(indexed: sp.Indexed) -> Any:
        data = options.names[str(indexed.base)]
        for idx in indexed.indices:
            if not idx.is_Integer:
                return indexed
            data = data[int(idx)]
        return sp.nsimplify(data) if isinstance(data, (int, float)) else indexed

    expr = expr.replace(lambda e: isinstance(e, sp.Indexed), lookup)
    scalars = {local[n]: sp.nsimplify(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
               for n, v in options.names.items() if not isinstance(v, list)}
    return expr.subs(scalars) if scalars else expr


def equivalent(a: sp.Expr, b: sp.Expr, domain: tuple[float, float] = (0.0, 1.0)) -> bool:
    """Symbolic equivalence: the difference expands or simplifies (within SIMPLIFY_SECONDS) to 0, or else the
    two agree at points sampled in `domain`."""
    a, b = _unify_symbols(a, b)
    diff = a - b
    try:
        if sp.expand(diff) == 0:
            return True
    except Exception:  # noqa: BLE001 (expand may give up on odd expressions; sampling decides then)
        pass
    simplified = _simplify_with_budget(diff)
    if simplified is not None:
        if simplified == 0:
            return True
        if simplified.is_number and simplified.free_symbols == set():
            try:
                return abs(complex(simplified)) < 1e-12
            except TypeError:
                pass
    return _numerically_equal(a, b, domain)


def _unify_symbols(a: sp.Expr, b: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Symbols with the same name but different assumptions become one."""
    names = {s.name: sp.Symbol(s.name, real=True) for s in a.free_symbols | b.free_symbols}
    return (a.subs({s: names[s.name] for s in a.free_symbols}),
            b.subs({s: names[s.name] for s in b.free_symbols}))


def _simplify_with_budget(expr: sp.Expr) -> sp.Expr | None:
    """sympy.simplify, given up after SIMPLIFY_SECONDS where a timer is available (main thread, POSIX)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        return None

    class _Late(Exception):
        pass

    def late(signum, frame):
        raise _Late

    old = signal.signal(signal.SIGALRM, late)
    signal.alarm(SIMPLIFY_SECONDS)
    try:
        return sp.simplify(expr)
    except _Late:
        return None
    except Exception:  # noqa: BLE001 (simplify can fail on odd input; sampling decides then)
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _domain(options: Options) -> tuple[float, float]:
    """A finite window of the support to sample in."""
    lo, hi = options.support or (sp.Integer(0), sp.Integer(1))
    if lo.is_finite and hi.is_finite:
        return float(lo), float(hi)
    if lo.is_finite:
        return float(lo), float(lo) + 10.0
    if hi.is_finite:
        return float(hi) - 10.0, float(hi)
    return -5.0, 5.0


def _numerically_equal(a: sp.Expr, b: sp.Expr, domain: tuple[float, float], samples: int = 24) -> bool:
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = np.random.default_rng(0)
    lo, hi = domain
    width = hi - lo
    compared = 0
    fa, fb = sp.lambdify(symbols, a, "mpmath"), sp.lambdify(symbols, b, "mpmath")
    for _ in range(samples):
        point = [lo + width * (0.02 + 0.96 * rng.random()) for _ in symbols]
        try:
            va, vb = complex(fa(*point)), complex(fb(*point))
        except (ZeroDivisionError, ValueError, TypeError, OverflowError):
            continue
        if not (np.isfinite(va) and np.isfinite(vb)):
            continue
        compared += 1
        if abs(va - vb) > 1e-9 * max(1.0, abs(vb)):
            return False
    return compared > 0


def _density_notes(expr: sp.Expr, options: Options) -> str:
    """Where a claimed density is negative on the support, and what it integrates to."""
    symbols = sorted(expr.free_symbols, key=str)
    if len(symbols) != 1:
        return ""
    lo, hi = _domain(options)
    f = sp.lambdify(symbols, expr, "mpmath")
    notes = []
    grid = [lo + (hi - lo) * (k + 0.5) / 200 for k in range(200)]
    try:
        negative = [t for t in grid if complex(f(t)).real < 0]
    except (ZeroDivisionError, ValueError, TypeError):
        negative = []
    if negative:
        notes.append(f"it is negative on part of the support (e.g. at {symbols[0]} = {negative[0]:.3g})")
    try:
        a, b = options.support or (sp.Integer(0), sp.Integer(1))
        total = round(float(sp.Integral(expr, (symbols[0], a, b)).evalf(15)), 12) + 0.0
        if abs(total - 1) > 1e-9:
            notes.append(f"it integrates to {total:.6g} over [{a}, {b}], not 1")
    except (TypeError, ValueError):
        pass
    return (": " + " and ".join(notes)) if notes else ""


__all__ = ["EXACT_RTOL", "ExpressionError", "Options", "SIMPLIFY_SECONDS", "Written", "answer_tolerance", "close",
           "compare", "compare_unordered", "equivalent", "number_or_infinity", "read_expression", "unreadable",
           "written_tolerance"]
