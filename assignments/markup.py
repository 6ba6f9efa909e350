"""The small markup that statement templates and model answers are written in, for Typst, LaTeX and text.

Templates are jinja2 with nnexam's delimiters (`<< value >>`, `<% block a %>`). Plain prose is written as
is (avoid the characters `* _ # $ @ < \\ % & ~ ^ { }`); everything else goes through these helpers:

    m(value)           inline math of a solver value (number, Fraction, vector, matrix, sympy expression)
    ex("2 - 2*x")      inline math of an expression string (parsed with sympy)
    mx(typst, latex)   inline math written by hand for each target (text shows the LaTeX unless given)
    dm(typst, latex)   display math written by hand
    b("text"), it("text"), t("text")   bold, italic, escaped prose
    pr("the rule $w <- w + eta (x - w)$")   prose with maths in the notation of step prose (templates.mathprint)
    ordinal(2) -> "second";  frac(q) -> a fraction as math
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import sympy as sp

from templates.mathprint import escape, expression_value, fmt, fmt_inline, prose
from templates.render import environment as render_environment

ORDINALS = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]


@lru_cache(maxsize=64)
def environment(folder: Path, target: str) -> jinja2.Environment:
    """The statement templates of an assignment folder, with the helpers below as globals (made once per
    folder and target: jinja2 then compiles each template once per process, not once per variant)."""
    env = render_environment(target, folder, keep_trailing_newline=False)
    env.globals.update(helpers(target))
    return env


def helpers(target: str) -> dict[str, Any]:
    def inline(body: str) -> str:
        return body if target == "text" else f"${body}$"

    def m(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return inline(fmt_inline(expression_value(value), target))

    def ex(text: str) -> str:
        return inline(fmt(sp.parse_expr(str(text), evaluate=True), target))

    def mx(typst: str, latex: str, text: str | None = None) -> str:
        if target == "text":
            return text if text is not None else latex
        return inline(typst if target == "typst" else latex)

    def dm(typst: str, latex: str, text: str | None = None) -> str:
        if target == "text":
            return "\n    " + (text if text is not None else latex) + "\n"
        return f"\n$ {typst} $\n" if target == "typst" else f"\n\\[ {latex} \\]\n"

    def b(text: str) -> str:
        return {"typst": f"*{escape(text, target)}*", "latex": rf"\textbf{{{escape(text, target)}}}"}.get(target, text)

    def it(text: str) -> str:
        return {"typst": f"_{escape(text, target)}_", "latex": rf"\emph{{{escape(text, target)}}}"}.get(target, text)

    def t(text: Any) -> str:
        return escape(str(text), target)

    def pr(text: Any) -> str:
        return prose(str(text), target)

    def frac(value: Any) -> str:
        return m(sp.Rational(str(Fraction(str(value)))))

    def ordinal(n: int) -> str:
        return ORDINALS[n] if 0 <= n < len(ORDINALS) else f"{n}th"

    def one_based(values: Any) -> list[Any]:
        return [v + 1 for v in values]

    return {"one_based": one_based, "m": m, "ex": ex, "mx": mx, "dm": dm, "b": b, "it": it, "t": t, "pr": pr,
            "frac": frac, "ordinal": ordinal, "target": target}
