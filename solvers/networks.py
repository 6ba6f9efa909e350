"""Fully connected networks shared by `forward_pass` and `backprop`: reading the layers, the activations
and their derivatives, the losses and their gradients, and the steps of a forward pass.

Layer l (``layers[l]``, counting from 0 as the lecture's W^(0), b^(0) do) computes
    v^(l) = W^(l) a^(l-1) + b^(l),   a^(l) = act(v^(l)),   a^(-1) = x.
Activations (their values and derivatives are `solvers.activations`): sigmoid 1/(1 + e^(-slope v)), relu, tanh,
linear, softmax, step (1 if v >= 0 else 0), sign (-1, 0, 1, as numpy and PyTorch take it).
Losses for the output a and the target t with n entries: se sum (a - t)^2, mse (1/n) sum (a - t)^2,
bce -(1/n) sum [t log a + (1 - t) log(1 - a)] (PyTorch's BCELoss), ce -sum t log a (on probabilities).

Arithmetic is exact (Fractions) as long as the values stay rational: the inputs are read at their decimal
value, and relu, linear, step, sign, se and mse keep rationals rational; the other functions return floats,
and Python carries floats on from there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from . import params as P
from .activations import ACTIVATIONS as TABLE
from .activations import choices, display_name
from .core import Step, Sym
from .numeric import is_decimal

ACTIVATIONS = choices("sigmoid", "relu", "tanh", "linear", "softmax", "step", "sign")
LOSSES = ("se", "mse", "bce", "ce")
LAYER_FIELDS = ("W", "b", "activation", "slope")
MAX_LAYERS = 100
EXPAND_LIMIT = 8  # show each unit's sum of products when a layer has at most this many inputs and outputs

LOSS_FORMULAS = {
    "se": "$L = sum_j (a_j - t_j)^2$",
    "mse": "$L = (1/n) sum_j (a_j - t_j)^2$",
    "bce": "$L = -(1/n) sum_j [t_j log a_j + (1 - t_j) log(1 - a_j)]$",
    "ce": "$L = -sum_j t_j log a_j$",
}
LOSS_NAMES = {"se": "squared error", "mse": "mean squared error", "bce": "binary cross-entropy", "ce": "cross-entropy"}
LOSS_GRADIENTS = {
    "se": "$dL/da_j = 2 (a_j - t_j)$",
    "mse": "$dL/da_j = (2/n) (a_j - t_j)$",
    "bce": "$dL/da_j = (1/n) (a_j - t_j) / (a_j (1 - a_j))$",
    "ce": "$dL/da_j = -t_j / a_j$",
}


@dataclass
class Layer:
    W: list[list[Any]]
    b: list[Any]
    activation: str
    slope: Any = 1

    @property
    def outputs(self) -> int:
        return len(self.W)

    def normalized(self) -> dict[str, Any]:
        out: dict[str, Any] = {"W": self.W, "b": self.b, "activation": self.activation}
        if self.activation == "sigmoid":
            out["slope"] = self.slope
        return out


@dataclass
class Network:
    x: list[Any]
    layers: list[Layer]
    target: list[Any] | None
    loss: str | None


def _fractions(value: Any) -> Any:
    if isinstance(value, list):
        return [_fractions(v) for v in value]
    return Fraction(int(value.p), int(value.q))


def _exact_number(value: Any, field: str, **bounds: Any) -> Fraction:
    r = P.rational(value, field, **bounds)
    return Fraction(int(r.p), int(r.q))


def read_input(value: Any, field: str) -> list[Fraction]:
    return _fractions(P.vector(value, field, exact=True))


def read_layers(raw_layers: Any, width: int) -> list[Layer]:
    """Validate `layers` for an input of `width` entries, layer by layer."""
    if not isinstance(raw_layers, list) or not raw_layers:
        raise P.ParamError("layers", f"expected a non-empty list of layers {{W, b, activation}}, "
                                     f"got {raw_layers!r:.40}")
    if len(raw_layers) > MAX_LAYERS:
        raise P.ParamError("layers", f"too many layers: {len(raw_layers)} (the limit is {MAX_LAYERS})")
    layers = []
    for i, raw in enumerate(raw_layers):
        field = f"layers[{i}]"
        if not isinstance(raw, dict):
            raise P.ParamError(field, f"expected an object {{W, b, activation}}, got {raw!r:.40}")
        P.no_unknown(raw, LAYER_FIELDS, field)
        W = P.matrix(P.get(raw, "W", field=f"{field}.W"), f"{field}.W", exact=True)
        rows, cols = len(W), len(W[0])
        if cols != width:
            after = f"the input x with {width} entries" if i == 0 else f"a layer with {width} outputs"
            raise P.ParamError(f"{field}.W", f"expected {rows} x {width} (outputs x inputs) to follow {after}, "
                                             f"got {rows} x {cols}")
        b = raw.get("b")
        b = [Fraction(0)] * rows if b is None else _fractions(P.vector(b, f"{field}.b", rows, exact=True))
        activation = P.choice(P.get(raw, "activation", field=f"{field}.activation"), f"{field}.activation",
                              ACTIVATIONS)
        slope: Any = Fraction(1)
        if raw.get("slope") is not None:
            if activation != "sigmoid":
                raise P.ParamError(f"{field}.slope", f"only a sigmoid layer has a slope; this layer is {activation}")
            slope = _exact_number(raw["slope"], f"{field}.slope", positive=True)
        if activation == "softmax" and rows < 2:
            raise P.ParamError(f"{field}.activation", "softmax needs at least 2 outputs (one output is always 1)")
        layers.append(Layer(_fractions(W), b, activation, slope))
        width = rows
    return layers


def read_target(raw_t: Any, field: str, width: int) -> list[Fraction]:
    """A target with one entry per output (a bare number for one output)."""
    if isinstance(raw_t, (int, float, str)) and not isinstance(raw_t, bool) and width == 1:
        raw_t = [raw_t]
    target = _fractions(P.vector(raw_t, field, exact=True))
    if len(target) != width:
        raise P.ParamError(field, f"expected {width} entries (one per output of the last layer), got {len(target)}")
    return target


def read_network(params: dict[str, Any], *, extra: tuple[str, ...] = (), need_loss: bool = False) -> Network:
    """Validate x, layers, target and loss, layer by layer, with errors that name the field."""
    P.no_unknown(params, ("x", "layers", "target", "loss", *extra))
    x = read_input(P.get(params, "x"), "x")
    layers = read_layers(P.get(params, "layers"), len(x))
    width = layers[-1].outputs
    target = None
    if params.get("target") is not None:
        target = read_target(params["target"], "target", width)
    elif need_loss:
        raise P.ParamError("target", "missing required field")
    loss = None
    if params.get("loss") is not None:
        loss = P.choice(params["loss"], "loss", LOSSES)
        if target is None:
            raise P.ParamError("target", "a loss needs a target: add target (one entry per output)")
    elif need_loss:
        raise P.ParamError("loss", "missing required field")
    elif target is not None:
        raise P.ParamError("loss", f"a target needs a loss: add loss ({', '.join(LOSSES)})")
    check_target_range(loss, target, "target")
    return Network(x, layers, target, loss)


def check_target_range(loss: str | None, target: list[Fraction] | None, field: str) -> None:
    if loss in ("bce", "ce") and any(t < 0 or (loss == "bce" and t > 1) for t in target):
        where = "between 0 and 1" if loss == "bce" else ">= 0"
        raise P.ParamError(field, f"the {loss} loss needs targets {where}, got {[float(t) for t in target]}")


# --- activations (solvers.activations) ----------------------------------------------------------------------

def activate(layer: Layer, v: list[Any]) -> list[Any]:
    act = TABLE[layer.activation]
    return [act.value(vj, layer.slope) for vj in v] if act.elementwise else act.value(v)


def derivative(layer: Layer, v: list[Any], a: list[Any]) -> list[Any]:
    """act'(v) elementwise (not for softmax, whose Jacobian is full)."""
    act = TABLE[layer.activation]
    return [act.derivative(vj, aj, layer.slope) for vj, aj in zip(v, a, strict=True)]


def forward(net: Network) -> tuple[list[list[Any]], list[list[Any]]]:
    vs, acts = [], []
    a = net.x
    for layer in net.layers:
        v = [sum((w * ai for w, ai in zip(row, a, strict=True)), Fraction(0)) + bj
             for row, bj in zip(layer.W, layer.b, strict=True)]
        a = activate(layer, v)
        vs.append(v)
        acts.append(a)
    return vs, acts


# --- losses ------------------------------------------------------------------------------------------------

def loss_value(loss: str, a: list[Any], t: list[Any]) -> Any:
    n = len(a)
    if loss in ("se", "mse"):
        total = sum(((aj - tj) * (aj - tj) for aj, tj in zip(a, t, strict=True)), Fraction(0))
        return total if loss == "se" else total / n
    if loss == "bce":
        _check_open(a, "bce needs every output strictly between 0 and 1")
        return -sum(tj * math.log(aj) + (1 - tj) * math.log(1 - aj) for aj, tj in zip(a, t, strict=True)) / n
    _check_ce(a, t)
    return -sum(tj * math.log(aj) for aj, tj in zip(a, t, strict=True) if tj != 0)


def loss_gradient(loss: str, a: list[Any], t: list[Any]) -> list[Any]:
    n = len(a)
    if loss == "se":
        return [2 * (aj - tj) for aj, tj in zip(a, t, strict=True)]
    if loss == "mse":
        return [Fraction(2, n) * (aj - tj) for aj, tj in zip(a, t, strict=True)]
    if loss == "bce":
        return [(aj - tj) / (n * aj * (1 - aj)) for aj, tj in zip(a, t, strict=True)]
    return [-tj / aj if tj != 0 else 0.0 for aj, tj in zip(a, t, strict=True)]


def _check_open(a: list[Any], message: str) -> None:
    for j, aj in enumerate(a):
        if not 0 < aj < 1:
            raise P.ParamError("loss", f"{message}; output[{j}] = {float(aj):g} (use a sigmoid or softmax output)")


def _check_ce(a: list[Any], t: list[Any]) -> None:
    for j, (aj, tj) in enumerate(zip(a, t, strict=True)):
        if tj != 0 and not aj > 0:
            raise P.ParamError("loss", f"ce needs a positive output wherever the target is not 0; output[{j}] = "
                                       f"{float(aj):g} (use a softmax output layer)")


# --- display helpers ---------------------------------------------------------------------------------------

def display_number(value: Any) -> sp.Expr:
    """A number as a sympy atom for an equation: integers, decimals (0.3), fractions (1/3), 4-digit floats."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return sp.Integer(value.numerator)
        if is_decimal(value):
            return sp.Float(repr(float(value)))
        return sp.Rational(value.numerator, value.denominator)
    v = float(value)
    if v == int(v) and abs(v) < 1e15:
        return sp.Integer(int(v))
    return sp.Float(float(f"{v:.4g}"))


class Products(sp.Basic):
    """A sum of products of numbers kept in the written order, e.g. 0.5 * 1 + (-0.4) * 2 + 0.3 * 3.

    sympy sorts the terms of an Add when printing; an exam writes them in the order of the weights. The
    printers (`templates.mathprint`) write one with `written(print_factor, times)`; its string form (what
    `to_json` gives) is the expression with `*`, as sympy would parse it."""

    @classmethod
    def of(cls, terms: list[list[Any]]) -> Products:
        return cls(*[sp.Tuple(*[f if isinstance(f, sp.Basic) else display_number(f) for f in term])
                     for term in terms])

    def written(self, print_factor: Callable[[sp.Basic], str], times: str) -> str:
        """The terms in order, factors joined by `times`; a negative number among several factors in
        parentheses, and `a + -b` written `a - b`."""
        parts = []
        for term in self.args:
            factors = []
            for f in term.args:
                s = print_factor(f)
                negative = f.is_Number and f.is_negative
                factors.append(f"({s})" if negative and len(term.args) > 1 else s)
            parts.append(times.join(factors))
        text = " + ".join(parts)
        return text.replace("+ -", "- ") if len(self.args) > 1 else text

    def _sympystr(self, printer: Any) -> str:
        return self.written(printer._print, "*")


def apply(name: str, value: Any) -> sp.Expr:
    """name(value) as an unevaluated function application, e.g. sigma(0.6)."""
    return sp.Function(name)(display_number(value))


def in_name(l: int) -> str:
    """The input of layer l: x for the first layer, a^(l-1) after it."""
    return "x" if l == 0 else f"a^({l - 1})"  # a name of the notation: put it between $s in prose


def forward_steps(net: Network, vs: list[list[Any]], acts: list[list[Any]]) -> list[Step]:
    """One step per layer: v = W a + b with each unit's sum of products, then a = act(v)."""
    steps = [Step("The network and its input",
                  text=f"{len(net.layers)} layer(s); layer $l$ computes $v^(l) = W^(l) a^(l-1) + b^(l)$ and "
                       "$a^(l) = act(v^(l))$, with $a^(-1) = x$. Layers count from 0 as in the parameters.",
                  inputs={"x": net.x})]
    for l, (layer, v, a) in enumerate(zip(net.layers, vs, acts, strict=True)):
        prev = net.x if l == 0 else acts[l - 1]
        act = TABLE[layer.activation]
        text = f"Activation {display_name(layer.activation)}: {act.formula}"
        if layer.activation == "sigmoid" and layer.slope != 1:
            text = (f"Activation sigmoid with slope {display_number(layer.slope)}: "
                    f"$a = sigma({display_number(layer.slope)} v) = 1/(1 + e^(-{display_number(layer.slope)} v))$")
        step = Step(f"Layer {l}: $v^({l}) = W^({l}) {in_name(l)} + b^({l})$, then $a^({l}) = "
                    f"{layer.activation}(v^({l}))$", text=text + ".",
                    inputs={f"W^({l})": layer.W, f"b^({l})": layer.b})
        small = len(layer.W) <= EXPAND_LIMIT and len(prev) <= EXPAND_LIMIT
        if small:
            for j, (row, bj) in enumerate(zip(layer.W, layer.b, strict=True)):
                terms = [[w, ai] for w, ai in zip(row, prev, strict=True)]
                if bj != 0:
                    terms.append([bj])
                step.math.append([Sym(f"v_{j + 1}^({l})"), Products.of(terms), v[j]])
        step.math.append([Sym(f"v^({l})"), v])
        if small and act.elementwise and act.symbol:
            for j in range(len(v)):
                name = act.symbol
                if layer.activation == "sigmoid" and layer.slope != 1:
                    arg = Products.of([[layer.slope, v[j]]])
                    step.math.append([Sym(f"a_{j + 1}^({l})"), sp.Function(name)(arg), apply(name, layer.slope * v[j]),
                                      a[j]])
                else:
                    step.math.append([Sym(f"a_{j + 1}^({l})"), apply(name, v[j]), a[j]])
        step.math.append([Sym(f"a^({l})"), a])
        steps.append(step)
    return steps


def loss_step(net: Network, output: list[Any], value: Any) -> Step:
    t = net.target
    assert t is not None and net.loss is not None
    step = Step(f"Loss ({LOSS_NAMES[net.loss]})", text=LOSS_FORMULAS[net.loss] + f", with $n = {len(t)}$ outputs.",
                inputs={"t": t})
    if net.loss in ("se", "mse") and len(t) <= EXPAND_LIMIT:
        diffs = [oj - tj for oj, tj in zip(output, t, strict=True)]
        total = Products.of([[d, d] for d in diffs])
        chain: list[Any] = [Sym("L"), total]
        if net.loss == "mse":
            chain = [Sym("L"), Products.of([[Fraction(1, len(t)), sum(d * d for d in diffs)]])]
        step.math.append([*chain, value])
    elif len(t) <= EXPAND_LIMIT:
        n = len(t)
        terms = []
        for oj, tj in zip(output, t, strict=True):
            if tj != 0:
                terms.append([-tj if net.loss == "ce" else -tj / n, sp.log(display_number(oj), evaluate=False)])
            if net.loss == "bce" and tj != 1:
                terms.append([-(1 - tj) / n, sp.log(display_number(1 - oj), evaluate=False)])
        step.math.append([Sym("L"), Products.of(terms), value] if terms else [Sym("L"), value])
    else:
        step.math.append([Sym("L"), value])
    return step


def all_exact(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(all_exact(v) for v in value)
    return isinstance(value, (Fraction, int))


