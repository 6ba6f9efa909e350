"""Our own printer from solver values (numbers, arrays, sympy expressions) to Typst math, LaTeX and text.

`fmt(value, target)` with target "typst", "latex" or "text". Exact rationals print as fractions, floats
with at most `DIGITS` significant digits, vectors as column vectors and matrices as matrices.

Prose with maths: `prose(text, target)`. Any prose a solver or an assignment hands to the documents (step titles
and text, table headers and string cells, figure captions, warnings) may hold math segments between `$` and `$`
(a literal dollar is `\\$`), written in this ASCII notation, never in Typst or LaTeX:

    names          w_1  x_ij  delta^(1)  a^(l-1)  W^T  G^-1  g'  sigma'  eta  Sigma  x_hat  mu_c  s_(t-1)  f^c_ij
                   (a bracketed superscript that is an index, as in delta^(1), keeps its brackets; "log_det", a
                   word with a word subscript, is one word)
    numbers        0.5  12
    operators      + - * / ^ ( ) [ ] { } , ;      * a product (a centred dot), a/b an inline fraction (a slash),
                   ` . ` (spaced) a dot product, (x - mu)^2 a power of a bracket
    relations      = != < > <= >= <- -> approx in ~ |->
    functions      sqrt(x) exp log max min argmax argmin det tr floor(x) sum_i sum_ij sum_(i,j) prod_k
                   E[...]  P(...)  N(mu, Sigma)  |x|  ||x||  inf (infinity)
    derivatives    dl/dw_c  dL/do_t  d^2 L/dw^2      printed as partial derivatives, ∂l/∂w_c

Outside the math segments, `...` between backticks is code (a PyTorch module `conv2d(in_channels=1)`), set in
monospace.

The Typst printer sets each segment as `$...$` Typst maths, the LaTeX printer as `\\(...\\)`, the text printer
as readable Unicode (η, ←, ∂l/∂w, ·, ≤, √, Σᵢⱼ; sub- and superscripts in Unicode where they exist, else `_`, `^`).
A segment is parsed once (a tokenizer, brackets nested, a printer per target; cached). A segment that does not
parse (an unclosed bracket, a stray script) and an unmatched `$` print as plain text: prose never breaks a document.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter as SympyLatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from solvers.core import Sym
from solvers.params import FUNCTIONS, guarded_parse

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
    if "/" in name or name.startswith("|") or (target == "text" and re.fullmatch(_NAME, name)):
        # a derivative such as "dl/dw_1", a norm such as "|z - g|^2", and every name in the terminal (w₁, η, δ⁽¹⁾):
        # the notation reads it
        try:
            return math_segment(name, target)
        except NotationError:
            if target == "text":
                return name
    call = _split_call(name)
    if call and target != "text":
        head, inner = call
        args = ", ".join(name_text(a.strip(), target) for a in _split_args(inner))
        return f"{name_text(head, target)}({args})"
    compound = re.fullmatch(r"([A-Za-z]{2,})_([A-Za-z]{3,})", name)
    if compound and not {compound.group(1), compound.group(2)} & (GREEK | TYPST_WORDS):
        name = f"{compound.group(1)}-{compound.group(2)}"  # "log_det": one word, not log to the base det
    base, supers, subs = split_super_sub(name)
    primes = len(base) - len(base.rstrip("'"))
    base = base.rstrip("'") or base

    def word(w: str) -> str:
        if target == "text":
            return w
        if w in GREEK:
            return w if target == "typst" else "\\" + w
        if w in TYPST_WORDS:
            return w if target == "typst" else {"infinity": r"\infty"}.get(w, "\\" + w)
        if len(w) == 1 or w.isdigit():
            return w
        w = w.replace('"', "'")
        return f'"{w}"' if target == "typst" else _latex_word(w)

    out = word(base) + "'" * primes
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
    if isinstance(value, str):  # a formula a solver wrote in the prose notation ("p_0 - lr·d_1"), else words
        if re.search(r"\b[a-z]{3,} [a-z]{2,}\b", value):
            return text_literal(value, target)
        try:
            return math_segment(value.replace("·", " * "), target)
        except NotationError:
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

    def _print_Add(self, expr, order=None):
        order = "none" if any(a.has(sp.UnevaluatedExpr) for a in expr.args) else order
        return super()._print_Add(expr, order)


class TextPrinter(StrPrinter):
    printmethod = None  # every value is printed by the methods below and StrPrinter's, none prints itself

    def _print_Products(self, e):
        return e.written(self._print, "*")

    def _print_Float(self, e):
        return float_text(float(e), "text")

    def _print_Add(self, expr, order=None):
        # a sum written with unevaluated terms keeps its written order (w - eta g, not -eta g + w)
        order = "none" if any(a.has(sp.UnevaluatedExpr) for a in expr.args) else order
        return _signed_terms(super()._print_Add(expr, order))

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
        if ex == -1 and base.is_commutative is False:  # a matrix inverse, (X^T X)^(-1): not a fraction
            return f"{self._paren(base, PRECEDENCE['Pow'] + 1)}^(-1)"
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

    def _print_Add(self, expr, order=None):
        # a sum written with unevaluated terms keeps its written order (w - eta g, not -eta g + w)
        order = "none" if any(a.has(sp.UnevaluatedExpr) for a in expr.args) else order
        return _signed_terms(super()._print_Add(expr, order))

    def _print_Interval(self, e):
        left = "(" if e.left_open else "["
        right = ")" if e.right_open else "]"
        return f"lr({left} {self._print(e.start)}, {self._print(e.end)} {right})"


def _signed_terms(text: str) -> str:
    """sympy writes an unevaluated negative number that leads a sum as "-(0.08)": write it "-0.08"."""
    return re.sub(r"(^|[-+] )-\((\d+(?:\.\d+)?)\)(?= |$)", r"\1-\2", text)


def _atomic(s: str) -> bool:
    return s.replace(".", "").isalnum() or (s.startswith('"') and s.endswith('"'))


def equation(chain: list[Any], target: str) -> str:
    """A chain of equal terms, `t0 = t1 = ...`; a term printed like its left neighbour is left out (an exact
    0.9 and its float 0.9 are written once)."""
    printed: list[str] = []
    for t in chain:
        text = fmt(t, target)
        if not printed or text != printed[-1]:
            printed.append(text)
    return " = ".join(printed)


def fmt_inline(value: Any, target: str) -> str:
    """A value inside a line of prose: as `fmt`, but a column vector of more than two entries is written as a
    transposed row, (1, 1, 2, 2)^T, so that it does not stand taller than the line."""
    items = value.tolist() if isinstance(value, np.ndarray) else value
    if isinstance(value, sp.MatrixBase) and value.cols == 1:
        items = [value[i, 0] for i in range(value.rows)]
    if isinstance(items, (list, tuple)) and len(items) > 2 and all(_is_scalar(v) for v in items) \
            and target != "text":
        row = "(" + ", ".join(fmt(v, target) for v in items) + ")"
        return row + ("^T" if target == "typst" else "^{T}")
    return fmt(value, target)


EXPRESSION = re.compile(r"[\w.]+\s*[-+*/^(]|\d")


def expression_value(value: Any) -> Any:
    """An answer string that is a sympy expression (the catalog's expression fields, "26*w1 - 10*w2 + 4") as
    the sympy value, so that the answer box typesets it; other strings stay text."""
    if isinstance(value, (list, tuple)):
        return [expression_value(v) for v in value]
    if not isinstance(value, str) or not EXPRESSION.search(value):
        return value
    try:  # through the one guarded parser (no eval of Python): a value may come from a key or an answer file
        return guarded_parse(value, FUNCTIONS, allow="<>=&|")
    except ValueError:
        return value


def named(name: str, value: Any, target: str, inline: bool = False) -> str:
    """`name = value` as math (`inline`: inside a line of prose, see `fmt_inline`)."""
    return f"{name_text(name, target)} = {(fmt_inline if inline else fmt)(value, target)}"


# --- Prose with maths -------------------------------------------------------------------------------------
# The notation of solvers/CATALOG.md ("Steps: prose with maths"): prose holds math segments between `$`s,
# written in a small ASCII notation that `prose` parses once and prints for each target.

SEGMENT = re.compile(r"(?<!\\)\$")
_NAME = (r"[A-Za-z]+[0-9]*(?:'+|\^\*|[_^](?:\((?:[^()]|\([^()]*\))*\)|-?[A-Za-z0-9]+))*'*")
_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>" + _NAME + r")|(?P<op>\|->|\|\||<=|>=|!=|<-|->|"
                    r"\s\.(?=\s)|[-+*/^_=<>~(){}\[\],;|!:']))")
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
_SUP = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀ", strict=True))
_GREEK_TEXT = dict(zip(
    ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
     "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"],
    "αβγδεζηθικλμνξπρστυφχψω", strict=True))
_GREEK_TEXT |= {k.capitalize(): v for k, v in zip(
    ["gamma", "delta", "theta", "lambda", "xi", "pi", "sigma", "upsilon", "phi", "psi", "omega"], "ΓΔΘΛΞΠΣΥΦΨΩ",
    strict=True)}
_GREEK_TEXT |= {k.capitalize(): k[0].upper() for k in _GREEK_TEXT if k.capitalize() not in _GREEK_TEXT}
_ACCENTS = {"hat": ("hat", r"\hat", "\u0302"), "bar": ("overline", r"\bar", "\u0304"),
            "tilde": ("tilde", r"\tilde", "\u0303")}
# relations, arrows and operators: Typst, LaTeX, text
_OPS = {
    "=": ("=", "=", "="), "!=": ("!=", r"\neq", "≠"), "<": ("<", "<", "<"), ">": (">", ">", ">"),
    "<=": ("<=", r"\le", "≤"), ">=": (">=", r"\ge", "≥"), "<-": ("<-", r"\leftarrow", "←"),
    "->": ("->", r"\to", "→"), "|->": ("|->", r"\mapsto", "↦"), "~": ("tilde.op", r"\sim", "~"),
    "approx": ("approx", r"\approx", "≈"), "in": ("in", r"\in", "∈"), "inf": ("infinity", r"\infty", "∞"),
    "*": ("dot", r"\cdot", "·"), " . ": ("dot", r"\cdot", "·"), "/": ("slash", "/", "/"),
    "+": ("+", "+", "+"), "-": ("-", "-", "-"), ",": (",", ",", ","), ";": (";", ";", ";"), ":": (":", ":", ":"),
    "!": ("!", "!", "!"), "'": ("'", "'", "'"), " | ": ("bar.v", r"\mid", "|"),
    " || ": ("parallel", r"\parallel", "‖"),
}
_WORD_OPS = {"approx", "in", "inf"}
# functions and big operators: Typst, LaTeX, text
_FUNCS = {
    "exp": ("exp", r"\exp", "exp"), "log": ("log", r"\log", "log"), "ln": ("ln", r"\ln", "ln"),
    "max": ("max", r"\max", "max"), "min": ("min", r"\min", "min"), "det": ("det", r"\det", "det"),
    "tr": ("tr", r"\operatorname{tr}", "tr"), "sin": ("sin", r"\sin", "sin"), "cos": ("cos", r"\cos", "cos"),
    "tanh": ("tanh", r"\tanh", "tanh"), "lim": ("lim", r"\lim", "lim"),
    "argmax": ('op("arg max", limits: #true)', r"\operatorname*{arg\,max}", "argmax"),
    "argmin": ('op("arg min", limits: #true)', r"\operatorname*{arg\,min}", "argmin"),
    "sum": ("sum", r"\sum", "Σ"), "prod": ("product", r"\prod", "Π"),
}
_CALLS = {"E": ("EE", r"\mathbb{E}", "E"), "N": ("cal(N)", r"\mathcal{N}", "N")}  # only before a bracket
_OPEN = {"(": ")", "[": "]", "{": "}"}
_IDX = {"typst": 0, "latex": 1, "text": 2}


class NotationError(ValueError):
    """A math segment that does not parse (bad brackets, a stray script): printed as plain text instead."""


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, name, op, group
    value: Any  # the text, or for a group (open, close, tokens)
    space: bool  # whitespace before it in the source


def _tokens(segment: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(segment):
        if not segment[pos:].strip():
            break
        m = _TOKEN.match(segment, pos)
        if not m or m.end() == pos:
            raise NotationError(f"cannot read {segment[pos:]!r}")
        kind = m.lastgroup
        value = m.group(kind)
        space = m.start(kind) > pos
        if kind == "op" and value.strip() == ".":
            value, space = " . ", True
        if kind == "op" and value in ("|", "||") and space and segment[m.end():m.end() + 1].isspace():
            value = f" {value} "  # spaced: "given" as in p(z | x), "between" as in KL(p || q); unspaced: |x|, ||x||
        if kind == "name" and value in _WORD_OPS:
            kind = "op"
        out.append(_Tok(kind, value, space))
        pos = m.end()
    return out


def _groups(tokens: list[_Tok]) -> list[_Tok]:
    """Nest brackets and bars into group tokens; unbalanced brackets raise NotationError."""
    stack: list[tuple[str, bool, list[_Tok]]] = [("", False, [])]
    for t in tokens:
        v = t.value if t.kind == "op" else None
        top = stack[-1][0]
        if v in _OPEN:
            stack.append((v, t.space, []))
        elif v in (")", "]", "}") or (v in ("|", "||") and top == v):
            interval = top in "([" and v in ")]" and top  # [0, 1) and (0, 1] are intervals
            if len(stack) == 1 or (v not in ("|", "||") and _OPEN.get(top) != v and not interval):
                raise NotationError(f"unbalanced {v!r}")
            opener, space, inner = stack.pop()
            stack[-1][2].append(_Tok("group", (opener, v, inner), space))
        elif v in ("|", "||"):
            stack.append((v, t.space, []))
        else:
            stack[-1][2].append(t)
    if len(stack) != 1:
        raise NotationError(f"unclosed {stack[-1][0]!r}")
    return stack[0][2]


def _script_parts(name: str) -> tuple[str, str, list[tuple[str, str]], int]:
    """ "f^c_ij" -> ("f", "", [("^", "c"), ("_", "ij")], 0); "x_hat" -> ("x", "hat", [], 0); "g'" -> primes 1."""
    m = re.match(r"([A-Za-z]+)([0-9]*)", name)
    base, digits, rest = m.group(1), m.group(2), name[m.end():]
    scripts = [("_", digits)] if digits else []
    accent, primes = "", 0
    for mark, body, ticks in re.findall(r"([_^])(\((?:[^()]|\([^()]*\))*\)|-?[A-Za-z0-9]+|\*)|('+)", rest):
        if ticks and scripts:
            scripts[-1] = (scripts[-1][0], scripts[-1][1] + ticks)  # sum_v': the prime is the index's
        elif ticks:
            primes += len(ticks)
        elif mark == "_" and body in _ACCENTS and not scripts:
            accent = body
        else:
            scripts.append((mark, body))
    return base, accent, scripts, primes


def _unicode_script(s: str, table: dict[str, str], mark: str) -> str:
    if s and all(c in table for c in s):
        return "".join(table[c] for c in s)
    return f"{mark}{s}" if len(s) == 1 or (s.startswith("(") and s.endswith(")")) else f"{mark}({s})"


_SYMBOL_WORDS = {"ell": ("ell", r"\ell", "ℓ"), "nabla": ("nabla", r"\nabla", "∇"),
                 "partial": ("partial", r"\partial", "∂")}


def _word(w: str, target: str) -> str:
    i = _IDX[target]
    if w in _SYMBOL_WORDS:
        return _SYMBOL_WORDS[w][i]
    if target == "text":
        return _GREEK_TEXT.get(w, _FUNCS.get(w, (w, w, w))[2])
    if w in GREEK:
        return w if target == "typst" else "\\" + w
    if w in _FUNCS:
        return _FUNCS[w][i]
    if len(w) == 1:
        return w
    return f'"{w}"' if target == "typst" else _latex_word(w)


def _latex_word(w: str) -> str:
    return rf"\text{{{w}}}" if "-" in w or " " in w else rf"\mathrm{{{w}}}"  # math mode drops spaces


def _name(name: str, target: str) -> str:
    """One name of the notation ("w_1", "delta^(1)", "x_hat", "f^c_ij", "sum_(i,j)") for `target`."""
    base, accent, scripts, primes = _script_parts(name)
    if len(base) > 1 and base not in GREEK and base not in _SYMBOL_WORDS and len(scripts) == 1 \
            and scripts[0][0] == "_" and scripts[0][1].isalpha() and len(scripts[0][1]) > 2:
        base, scripts = f"{base}-{scripts[0][1]}", []  # "log_det": one word, not log to the base det
    out = _word(base, target)
    if accent:
        a = _ACCENTS[accent][_IDX[target]]
        out = f"{out}{a}" if target == "text" else (f"{a}({out})" if target == "typst" else f"{a}{{{out}}}")
    out += "'" * primes
    for mark, body in sorted(scripts, key=lambda s: s[0] == "^"):  # subscripts first, as name_text prints
        out += _notation_script(mark, body, target, keep_parens=mark == "^" and base != "e"
                       and re.fullmatch(r"\([A-Za-z0-9]+(?:[-+][0-9]+)?\)", body) is not None)
    return out


def _notation_script(mark: str, body: str, target: str, keep_parens: bool = False) -> str:
    """A subscript or superscript: an index ("ij": two italic letters), a word, or a bracketed expression."""
    inner = body[1:-1] if body.startswith("(") and body.endswith(")") else body
    if inner == "*":  # D^*: an optimum
        return {"typst": "^*", "latex": "^{*}", "text": "*"}[target]
    if re.fullmatch(r"[A-Za-z]{1,2}", inner) and inner not in GREEK:
        printed = inner if target != "typst" else " ".join(inner)
    elif re.fullmatch(r"[A-Za-z]+", inner):
        printed = _word(inner, target)
    else:
        printed = _segment(inner, target)
    if keep_parens:
        printed = f"({printed})"
    if target == "text":
        if re.fullmatch(r"[A-Za-z]+", inner) and inner not in GREEK and len(inner) > 2:
            return f"{mark}{printed}"
        return _unicode_script(printed, _SUB if mark == "_" else _SUP, mark)
    return f"{mark}({printed})" if target == "typst" else f"{mark}{{{printed}}}"


def _derivative(toks: list[_Tok], i: int) -> tuple[int, int, str, str] | None:
    """`dl/dw_c` or `d^2 L/dw^2` starting at toks[i]: (tokens used, order, numerator, denominator names)."""
    t = toks[i]
    if t.kind != "name" or not t.value.startswith("d"):
        return None
    if re.fullmatch(r"d\^\d+", t.value) and i + 3 < len(toks) and toks[i + 1].kind == "name":
        order, top, used = int(t.value[2:]), toks[i + 1].value, 2
    elif len(t.value) > 1 and t.value[1].isalpha():
        order, top, used = 1, t.value[1:], 1
    else:
        return None
    if i + used + 1 >= len(toks):
        return None
    slash, bottom = toks[i + used], toks[i + used + 1]
    if slash.value != "/" or bottom.kind != "name" or not bottom.value.startswith("d") or len(bottom.value) < 2 \
            or bottom.space or slash.space:
        return None
    return used + 2, order, top, bottom.value[1:]


def _print(toks: list[_Tok], target: str) -> str:
    parts: list[tuple[str, bool]] = []  # (printed, whitespace before)
    i = 0
    while i < len(toks):
        t = toks[i]
        d = _derivative(toks, i)
        if d is not None:
            used, order, top, bottom = d
            p = {"typst": "partial", "latex": r"\partial ", "text": "∂"}[target]
            sup = "" if order == 1 else (_notation_script("^", str(order), target))
            slash = _OPS["/"][_IDX[target]]
            parts.append((f"{p}{sup} {_name(top, target)} {slash} {p} {_name(bottom, target)}" if target != "text"
                          else f"{p}{sup}{_name(top, target)}/{p}{_name(bottom, target)}", t.space))
            i += used
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        call = nxt is not None and nxt.kind == "group" and not nxt.space
        if t.kind == "num":
            parts.append((t.value, t.space))
        elif t.kind == "name" and call and t.value in ("sqrt", "floor"):
            inner = _print(nxt.value[2], target)
            if target == "typst":
                printed = f"{t.value}({inner})"
            elif target == "latex":
                printed = rf"\sqrt{{{inner}}}" if t.value == "sqrt" else rf"\lfloor {inner} \rfloor"
            else:
                printed = f"√{inner}" if t.value == "sqrt" and re.fullmatch(r"[\w.]+", inner) else \
                    (f"√({inner})" if t.value == "sqrt" else f"⌊{inner}⌋")
            parts.append((printed, t.space))
            i += 2
            continue
        elif t.kind == "name" and call and t.value in _CALLS and (t.value == "E" or nxt.value[0] == "("):
            parts.append((_CALLS[t.value][_IDX[target]], t.space))
        elif t.kind == "name":
            parts.append((_name(t.value, target), t.space))
        elif t.kind == "group":
            parts.append((_group(t.value, target), t.space))
        elif t.value in ("^", "_"):
            if nxt is None or nxt.kind == "op":
                raise NotationError(f"{t.value!r} without a script")
            body = nxt.value if nxt.kind != "group" else None
            if body is not None and nxt.kind == "num" or (nxt.kind == "name" and re.fullmatch(r"[A-Za-z0-9]+",
                                                                                              nxt.value)):
                printed = _notation_script(t.value, nxt.value, target)
            else:
                inner = _print(nxt.value[2], target) if nxt.kind == "group" and nxt.value[0] == "(" else \
                    _print([_Tok(nxt.kind, nxt.value, False)], target)
                if target == "text":
                    printed = _unicode_script(inner, _SUB if t.value == "_" else _SUP, t.value)
                else:
                    printed = f"{t.value}({inner})" if target == "typst" else f"{t.value}{{{inner}}}"
            if not parts:
                raise NotationError(f"{t.value!r} without a base")
            parts[-1] = (parts[-1][0] + printed, parts[-1][1])
            i += 2
            continue
        elif t.value == "*" and i > 0 and toks[i - 1].kind == "num" and nxt is not None \
                and nxt.kind in ("name", "group") and not _derivative(toks, i + 1):
            pass  # 2*x is written 2 x
        elif t.value in _OPS:
            op = _OPS[t.value][_IDX[target]]
            # a word operator is never followed directly by a bracket: `dot(-1)` would be Typst's dot accent
            parts.append((op + " " if target == "typst" and op[-1].isalpha() else op, t.space))
        else:
            raise NotationError(f"unexpected {t.value!r}")
        i += 1
    if target == "text":
        return "".join((" " if space and k else "") + p for k, (p, space) in enumerate(parts))
    out = ""
    for k, (p, space) in enumerate(parts):
        glue = k > 0 and (space or (out[-1].isalnum() or out[-1] in "\"'") and (p[0].isalnum() or p[0] in '"')
                          or (p[0] == "\\" and out[-1] not in "([{"))
        if target == "latex" and k > 0 and re.search(r"\\[A-Za-z]+$", out) and p[0].isalpha():
            glue = True
        out += (" " if glue and not out.endswith(" ") else "") + p
    return out.strip()


def _group(value: tuple[str, str, list[_Tok]], target: str) -> str:
    opener, closer, inner = value
    body = _print(inner, target)
    if opener == "|":
        return {"typst": f"abs({body})", "latex": rf"\lvert {body} \rvert", "text": f"|{body}|"}[target]
    if opener == "||":
        return {"typst": f"norm({body})", "latex": rf"\lVert {body} \rVert", "text": f"‖{body}‖"}[target]
    if opener == "{" and target == "latex":
        return rf"\{{ {body} \}}"
    if opener == "{" and target == "typst":
        return f"{{{body}}}"
    return f"{opener}{body}{closer}"


@functools.lru_cache(maxsize=8192)
def _segment(segment: str, target: str) -> str:
    return _print(_groups(_tokens(segment)), target)


def math_segment(segment: str, target: str) -> str:
    """One math segment of the notation (the text between two `$`) as Typst math, LaTeX math or Unicode
    text, without delimiters. Raises NotationError when it does not parse."""
    return _segment(segment.strip(), target)


@functools.lru_cache(maxsize=8192)
def prose(text: str, target: str = "typst") -> str:
    """Prose with `$...$` math segments printed for `target`: Typst markup with Typst maths, LaTeX with
    `\\(...\\)`, or readable Unicode text. A literal dollar is `\\$`. A segment that does not parse, or an
    unmatched `$`, is printed as plain text: a document never fails on its prose."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    pieces = SEGMENT.split(text)
    if len(pieces) % 2 == 0:  # an unmatched `$`: the whole text is plain
        pieces = [text.replace(r"\$", "$")]
    out = []
    for k, piece in enumerate(pieces):
        if k % 2 == 0:
            out.append(_text_with_code(piece.replace(r"\$", "$"), target))
            continue
        try:
            printed = math_segment(piece, target)
        except NotationError:
            out.append(escape(piece, target))
            continue
        out.append({"typst": f"${printed}$", "latex": rf"\({printed}\)", "text": printed}[target])
    return "".join(out)


def _text_with_code(text: str, target: str) -> str:
    """Plain prose in which `...` (backticks) is code, such as a PyTorch module `conv2d(in_channels=1)`: set in
    monospace (Typst raw, LaTeX \\texttt), as is in text. An unmatched backtick leaves the text plain."""
    parts = text.split("`")
    if len(parts) % 2 == 0:
        return escape(text, target)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(escape(part, target))
        elif target == "typst":
            out.append('#raw("' + part.replace("\\", "\\\\").replace('"', '\\"') + '");')  # `;` ends the call
        elif target == "latex":
            out.append(r"\texttt{" + latex_escape(part) + "}")
        else:
            out.append(part)
    return "".join(out)


def plain(text: str) -> str:
    """Prose with its math segments as readable Unicode, no markup (the JSON steps' text)."""
    return prose(text, "text")
