"""sympy expressions as Maxima, the computer algebra system under Moodle's STACK question type.

    maxima(sp.sympify("sqrt(8*z + 1)/2 - 1/2"))   # -> "sqrt(8*z+1)/2-1/2"

sympy's string printer is close to Maxima's syntax already; what differs is the power operator (`^`), the
constants (`%pi`, `%e`, `%i`, `inf`), a few function names and piecewise functions (`if ... then ... else`).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

FUNCTIONS = {"Abs": "abs", "asin": "asin", "acos": "acos", "atan": "atan", "log": "log", "exp": "exp",
             "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh",
             "tanh": "tanh", "erf": "erf", "Max": "max", "Min": "min", "Heaviside": "unit_step", "sign": "signum"}


class MaximaPrinter(StrPrinter):
    """Prints a sympy expression in Maxima's syntax; refuses (ValueError) what it has no Maxima word for."""

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if exp == sp.S.Half:
            return f"sqrt({self._print(base)})"
        if exp == -sp.S.Half:
            return f"1/sqrt({self._print(base)})"
        if exp == -1:
            return f"1/{self.parenthesize(base, precedence(expr))}"
        return f"{self.parenthesize(base, precedence(expr), strict=False)}^{self.parenthesize(exp, precedence(expr))}"

    def _print_Exp1(self, expr):
        return "%e"

    def _print_Pi(self, expr):
        return "%pi"

    def _print_ImaginaryUnit(self, expr):
        return "%i"

    def _print_Infinity(self, expr):
        return "inf"

    def _print_NegativeInfinity(self, expr):
        return "minf"

    def _print_Rational(self, expr):
        return f"{expr.p}/{expr.q}"

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_exp(self, expr):
        return f"exp({self._print(expr.args[0])})"

    def _print_Function(self, expr):
        name = type(expr).__name__
        if name not in FUNCTIONS:
            raise ValueError(f"no Maxima function for {name}")
        return f"{FUNCTIONS[name]}({', '.join(self._print(a) for a in expr.args)})"

    _print_Abs = _print_Max = _print_Min = _print_Function

    def _print_Piecewise(self, expr):
        out = ""
        for value, cond in expr.args:
            if cond == sp.true:
                return out + f"({self._print(value)})"
            out += f"if {self._print(cond)} then ({self._print(value)}) else "
        return out + "und"

    def _print_Relational(self, expr):
        ops = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "=", "!=": "#"}
        return f"{self._print(expr.lhs)} {ops[expr.rel_op]} {self._print(expr.rhs)}"

    def _print_And(self, expr):
        return " and ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(f"({self._print(a)})" for a in expr.args)


def maxima(expr: sp.Basic) -> str:
    """`expr` in Maxima's syntax."""
    return MaximaPrinter().doprint(expr)
