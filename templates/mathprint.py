"""Our own printer from solver values (numbers, arrays, sympy expressions) to Typst math, LaTeX and text.

`fmt(value, target)` with target "typst", "latex" or "text". Exact rationals print as fractions, floats
with at most `DIGITS` significant digits, vectors as column vectors and matrices as matrices.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter as SympyLatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from solvers.core import Sym

DIGITS = 4
TARGETS = ("typst", "latex", "text")

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
}
GREEK |= {g.capitalize() for g in GREEK}
TYPST_WORDS = {"nabla", "partial", "infinity", "ell"}


def float_text(v: float, target: str) -> str:
    """A float with at most DIGITS significant digits; integers without a decimal point."""
    if not np.isfinite(v):
        return {"typst": "infinity", "latex": r"\infty", "text": "inf"}[target] if v > 0 else {
            "typst": "-infinity", "latex": r"-\infty", "text": "-inf"}[target] if v < 0 else "NaN"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.{DIGITS}g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        exp = str(int(exp))
        if target == "typst":
            return f"{mantissa} dot 10^({exp})"
        if target == "latex":
            return rf"{mantissa} \cdot 10^{{{exp}}}"
    return text


def name_text(name: str, target: str) -> str:
    """A symbol name such as "w_1", "eta", "delta^(1)", "grad_W", "x_ij", "p_data(x)" as math."""
    call = _split_call(name)
    if call and target != "text":
        head, inner = call
        args = ", ".join(name_text(a.strip(), target) for a in _split_args(inner))
        return f"{name_text(head, target)}({args})"
    base, supers, subs = split_super_sub(name)

    def word(w: str) -> str:
        if target == "text":
            return w
        if w in GREEK:
            return w if target == "typst" else "\\" + w
        if w in TYPST_WORDS and target == "typst":
            return w
        if len(w) == 1 or w.isdigit():
            return w
        w = w.replace('"', "'")
        return f'"{w}"' if target == "typst" else rf"\mathrm{{{w}}}"

    out = word(base)
    for mark, scripts in (("_", subs), ("^", supers)):
        printed = [_script(mark, s, word, target) for s in scripts]
        if target == "latex" and len(printed) > 1:  # LaTeX refuses x_a_b: one script, its parts comma-separated
            printed = [mark + "{" + ",".join(p[2:-1] for p in printed) + "}"]
        out += "".join(printed)
    return out


def _split_call(name: str) -> tuple[str, str] | None:
    """ "p_g(G(z))" -> ("p_g", "G(z)"); None when the name does not end in a call (or ends in a script)."""
    if not name.endswith(")"):
        return None
    depth = 0
    for i in range(len(name) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(name[i], 0)
        if depth == 0:
            head = name[:i]
            if head and head[-1] not in "_^" and re.fullmatch(r"[\w^*']+", head):
                return head, name[i + 1:-1]
            return None
    return None


def _split_args(inner: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for c in inner:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    return [*parts, current]


def _script(mark: str, text: str, word, target: str) -> str:
    inner = text[1:-1] if text.startswith("(") and text.endswith(")") else text
    if target == "text":
        return f"{mark}{text}"
    if inner.isalpha() and len(inner) <= 2 and inner not in GREEK:
        body = " ".join(inner) if target == "typst" else inner  # x_ij: two italic indices
    else:
        body = word(inner) if inner.isalpha() else inner
    if text.startswith("("):
        body = f"({body})"  # Typst strips one pair of parentheses around a script, added below
    return f"{mark}({body})" if target == "typst" else f"{mark}{{{body}}}"


def text_literal(s: str, target: str) -> str:
    if target == "typst":
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if target == "latex":
        return r"\text{" + latex_escape(s) + "}"
    return s


def latex_escape(s: str) -> str:
    repl = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(repl.get(c, c) for c in s)


def typst_escape(s: str) -> str:
    """Escape plain prose for Typst markup."""
    out = []
    for c in s:
        if c in '\\#*_`$<>@[]~=-+/"\'':
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def escape(s: str, target: str) -> str:
    return {"typst": typst_escape, "latex": latex_escape, "text": lambda x: x}[target](s)


def fmt(value: Any, target: str = "typst") -> str:
    """Print a solver value as math for `target`."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    if isinstance(value, Sym):
        return name_text(value.name, target)
    if value is None:
        return text_literal("none", target)
    if isinstance(value, (bool, np.bool_)):
        return text_literal("true" if value else "false", target)
    if isinstance(value, str):
        return text_literal(value, target)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return float_text(float(value), target)
    if isinstance(value, Fraction):
        value = sp.Rational(value.numerator, value.denominator)
    if isinstance(value, sp.Rational) and _decimal_denominator(int(value.q)):
        text = repr(float(value))
        return text.removesuffix(".0") if len(text) <= 10 and "e" not in text else float_text(float(value), target)
    if isinstance(value, np.ndarray):
        return _array(value.tolist(), target)
    if isinstance(value, sp.MatrixBase):
        rows = [[value[i, j] for j in range(value.cols)] for i in range(value.rows)]
        return _array(rows if value.cols > 1 else [r[0] for r in rows], target)
    if isinstance(value, (list, tuple)):
        return _array(list(value), target)
    if isinstance(value, dict):
        return ", ".join(named(str(k), v, target) for k, v in value.items())
    if isinstance(value, sp.Basic):
        return expr(value, target)
    if hasattr(value, "tolist"):
        return _array(value.tolist(), target)
    return text_literal(str(value), target)


def _decimal_denominator(q: int) -> bool:
    """Denominators with a factor 5 and no primes but 2 and 5 come from decimal inputs (0.01 -> 1/100):
    print those as decimals; halves, quarters and eighths stay fractions as an exam writes them."""
    if q % 5:
        return False
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    return q == 1


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (int, float, Fraction, np.number, sp.Basic)) and not isinstance(v, sp.MatrixBase)


def _array(items: list[Any], target: str) -> str:
    if not items:
        return {"typst": "()", "latex": r"\emptyset", "text": "[]"}[target]
    if all(_is_scalar(v) for v in items):
        cells = [fmt(v, target) for v in items]
        if target == "typst":
            return "vec(" + ", ".join(cells) + ")"
        if target == "latex":
            return r"\begin{bmatrix}" + r" \\ ".join(cells) + r"\end{bmatrix}"
        return "[" + ", ".join(cells) + "]"
    rectangular = all(isinstance(r, (list, tuple)) and all(_is_scalar(v) for v in r) for r in items)
    if rectangular and len({len(r) for r in items}) == 1:
        rows = [[fmt(v, target) for v in r] for r in items]
        if target == "typst":
            return "mat(" + "; ".join(", ".join(r) for r in rows) + ")"
        if target == "latex":
            return r"\begin{bmatrix}" + r" \\ ".join(" & ".join(r) for r in rows) + r"\end{bmatrix}"
        return "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"
    parts = [fmt(v, target) for v in items]
    if target == "text":
        return "[" + ", ".join(parts) + "]"
    return "(" + ", ".join(parts) + ")" if target == "typst" else r"\left(" + ", ".join(parts) + r"\right)"


def expr(e: sp.Basic, target: str) -> str:
    if target == "typst":
        return TypstPrinter().doprint(e)
    if target == "latex":
        return LatexPrinter({"symbol_names": {s: name_text(s.name, "latex") for s in e.free_symbols
                                              if isinstance(s, sp.Symbol)}}).doprint(e)
    return TextPrinter().doprint(e)


class LatexPrinter(SympyLatexPrinter):
    """sympy's LaTeX, and the written order of `Products`."""

    def _print_Products(self, e):
        return e.written(self._print, r" \cdot ")


class TextPrinter(StrPrinter):
    printmethod = None  # every value is printed by the methods below and StrPrinter's, none prints itself

    def _print_Products(self, e):
        return e.written(self._print, "*")

    def _print_Float(self, e):
        return float_text(float(e), "text")

    def _print_Derivative(self, e):
        var = " ".join(f"d{self._print(v)}" + (f"^{n}" if n != 1 else "") for v, n in e.variable_count)
        order = sum(n for _, n in e.variable_count)
        top = "d" if order == 1 else f"d^{order}"
        return f"{top}{self.parenthesize(e.expr, PRECEDENCE['Mul'])}/{var}"


class TypstPrinter(StrPrinter):
    """sympy expressions as Typst math: implicit products, fractions, e^(...), sqrt, cases."""

    printmethod = None  # every value is printed by the methods below, none prints itself

    def _print_Products(self, e):
        return e.written(self._print, " dot ")

    def _paren(self, e, level):
        s = self._print(e)
        return f"({s})" if precedence(e) < level else s

    def _print_Symbol(self, e):
        return name_text(e.name, "typst")

    _print_Dummy = _print_Symbol

    def _print_Float(self, e):
        return float_text(float(e), "typst")

    def _print_Integer(self, e):
        return str(int(e))

    def _print_Rational(self, e):
        if e.q == 1:
            return str(e.p)
        sign = "-" if e.p < 0 else ""
        return f"{sign}{abs(e.p)}/{e.q}"

    def _print_Infinity(self, e):
        return "infinity"

    def _print_NegativeInfinity(self, e):
        return "-infinity"

    def _print_Pi(self, e):
        return "pi"

    def _print_Exp1(self, e):
        return "e"

    def _print_ImaginaryUnit(self, e):
        return "i"

    def _print_NaN(self, e):
        return '"NaN"'

    def _print_Mul(self, e):
        coeff, rest = e.as_coeff_Mul()
        if coeff < 0:
            inner = self._print_Mul_positive(-e)
            return "-" + inner
        return self._print_Mul_positive(e)

    def _print_Mul_positive(self, e):
        num, den = sp.fraction(e, exact=True)
        if den != 1:
            top = self._product(num) if isinstance(num, sp.Mul) else self._print(num)
            bottom = self._product(den) if isinstance(den, sp.Mul) else self._print(den)
            return f"({top})/({bottom})" if not _atomic(top) or not _atomic(bottom) else f"{top}/{bottom}"
        return self._product(e)

    def _product(self, e):
        if not isinstance(e, sp.Mul):
            return self._paren(e, PRECEDENCE["Mul"])
        factors = e.as_ordered_factors()
        parts = []
        for f in factors:
            s = self._paren(f, PRECEDENCE["Mul"])
            if parts and (s[0].isdigit() or s[0] == "-"):
                parts.append("dot " + s)
            else:
                parts.append(s)
        return " ".join(parts)

    def _print_Pow(self, e):
        base, ex = e.as_base_exp()
        if ex == sp.Rational(1, 2):
            return f"sqrt({self._print(base)})"
        if ex == -1:
            return f"1/{self._paren(base, PRECEDENCE['Pow'] + 1)}"
        if ex.is_Rational and ex < 0:
            return f"1/({self._print(sp.Pow(base, -ex, evaluate=False))})"
        if base == sp.E:
            return f"e^({self._print(ex)})"
        b = self._paren(base, PRECEDENCE["Pow"] + 1)
        return f"{b}^({self._print(ex)})"

    def _print_exp(self, e):
        return f"e^({self._print(e.args[0])})"

    def _print_Abs(self, e):
        return f"abs({self._print(e.args[0])})"

    def _print_log(self, e):
        if len(e.args) == 1:
            return f"log({self._print(e.args[0])})"
        return f"log_({self._print(e.args[1])})({self._print(e.args[0])})"

    def _print_Function(self, e):
        name = type(e).__name__
        known = {"sin", "cos", "tan", "tanh", "sinh", "cosh", "exp", "log", "max", "min", "det"}
        head = name if name in known or len(name) == 1 else (name if name in GREEK else f'op("{name}")')
        return f"{head}({', '.join(self._print(a) for a in e.args)})"

    def _print_Max(self, e):
        return f"max({', '.join(self._print(a) for a in e.args)})"

    def _print_Min(self, e):
        return f"min({', '.join(self._print(a) for a in e.args)})"

    def _print_Piecewise(self, e):
        rows = []
        for value, cond in e.args:
            c = '"otherwise"' if cond == sp.true else f'"if" {self._print(cond)}'
            rows.append(f"{self._print(value)} & {c}")
        return "cases(" + ", ".join(rows) + ")"

    def _print_Relational(self, e):
        op = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[e.rel_op]
        return f"{self._print(e.lhs)} {op} {self._print(e.rhs)}"

    def _print_And(self, e):
        return ' "and" '.join(self._print(a) for a in e.args)

    def _print_Or(self, e):
        return ' "or" '.join(self._print(a) for a in e.args)

    def _print_BooleanTrue(self, e):
        return '"true"'

    def _print_BooleanFalse(self, e):
        return '"false"'

    def _print_Integral(self, e):
        body = self._paren(e.function, PRECEDENCE["Mul"])
        out = []
        for lim in e.limits:
            var = self._print(lim[0])
            if len(lim) == 3:
                out.append(f"integral_({self._print(lim[1])})^({self._print(lim[2])})")
            else:
                out.append("integral")
            body = f"{body} dif {var}"
        return " ".join(out) + " " + body

    def _print_Derivative(self, e):
        var = " ".join(f"partial {self._print(v)}" for v, _ in e.variable_count)
        return f"(partial {self._paren(e.expr, PRECEDENCE['Mul'])})/({var})"

    def _print_MatrixBase(self, e):
        return fmt(e, "typst")

    _print_ImmutableDenseMatrix = _print_MatrixBase
    _print_MutableDenseMatrix = _print_MatrixBase

    def _print_Tuple(self, e):
        return "(" + ", ".join(self._print(a) for a in e.args) + ")"

    def _print_UnevaluatedExpr(self, e):
        return self._print(e.args[0])

    def _print_Interval(self, e):
        left = "(" if e.left_open else "["
        right = ")" if e.right_open else "]"
        return f"lr({left} {self._print(e.start)}, {self._print(e.end)} {right})"


def _atomic(s: str) -> bool:
    return s.replace(".", "").isalnum() or (s.startswith('"') and s.endswith('"'))


def equation(chain: list[Any], target: str) -> str:
    """A chain of equal terms, `t0 = t1 = ...`."""
    return " = ".join(fmt(t, target) for t in chain)


def named(name: str, value: Any, target: str) -> str:
    """`name = value` as math."""
    return f"{name_text(name, target)} = {fmt(value, target)}"
