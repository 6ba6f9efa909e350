"""Tensor shapes and parameter counts through a stack of PyTorch layers (an `nn.Sequential`).

`input_shape` is the shape of ONE sample, without the batch dimension: [C, H, W] for images, [features]
for vectors (any rank is accepted where a layer allows it). Every reported shape leaves the batch out too.
Arguments that name a dimension (`flatten.start_dim`, `unflatten.dim`, `softmax.dim`) count it as PyTorch
does on a batched tensor: dimension 0 is the batch, so `dim: 1` is the first dimension of `input_shape`.

Each layer is a JSON object with a `type` and the arguments of the PyTorch module of that name (an int or a
[height, width] pair wherever PyTorch accepts either):

- `conv2d` (nn.Conv2d): in_channels, out_channels, kernel_size, stride [1], padding [0], dilation [1],
  bias [true]. H_out = floor((H + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1;
  parameters out_channels in_channels kh kw (+ out_channels).
- `conv_transpose2d` (nn.ConvTranspose2d): the same plus output_padding [0] (less than stride or dilation).
  H_out = (H - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1;
  parameters in_channels out_channels kh kw (+ out_channels).
- `maxpool2d`, `avgpool2d` (nn.MaxPool2d, nn.AvgPool2d): kernel_size, stride [kernel_size], padding [0]
  (at most half the kernel), and dilation [1] for max pooling; sizes as conv2d, no parameters.
- `upsample` (nn.Upsample): scale_factor (number or pair) or size (int or pair), mode [nearest]: nearest,
  bilinear, bicubic. H_out = floor(H scale_factor).
- `flatten` (nn.Flatten): start_dim [1], end_dim [-1]. `unflatten` (nn.Unflatten): dim, unflattened_size
  (one entry may be -1).
- `linear` (nn.Linear): in_features, out_features, bias [true]; acts on the last dimension, which must be
  in_features; parameters in_features out_features (+ out_features).
- `batchnorm` (nn.BatchNorm1d on [C] or [C, L], nn.BatchNorm2d on [C, H, W]): num_features (= C), affine
  [true]; 2 C learnable parameters (the running mean and variance are buffers, not parameters).
- `dropout` (nn.Dropout): p [0.5]. `relu`, `sigmoid`, `tanh`, `softmax` (dim [-1]): no parameters.

Parameters are what `sum(p.numel() for p in layer.parameters())` counts.
"""

from __future__ import annotations

import math
from typing import Any

from . import params as P
from .activations import choices
from .conv2d import pair
from .core import Figure, Solution, Step, Sym, Table
from .errors import ParamError
from .registry import register

ACTIVATIONS = choices("relu", "sigmoid", "tanh", "softmax")  # as torch modules: shape kept, nothing learned
TYPES = ("conv2d", "conv_transpose2d", "maxpool2d", "avgpool2d", "upsample", "flatten", "unflatten", "linear",
         "batchnorm", "dropout", *ACTIVATIONS)

# Homework 7 Q2's decoder: "Add batch normalization and dropout (with probability 0.1) after every ReLU".
HW7_DECODER = {
    "input_shape": [10],
    "layers": [
        {"type": "linear", "in_features": 10, "out_features": 360}, {"type": "relu"},
        {"type": "batchnorm", "num_features": 360}, {"type": "dropout", "p": 0.1},
        {"type": "linear", "in_features": 360, "out_features": 720}, {"type": "relu"},
        {"type": "batchnorm", "num_features": 720}, {"type": "dropout", "p": 0.1},
        {"type": "unflatten", "dim": 1, "unflattened_size": [20, 6, 6]},
        {"type": "upsample", "scale_factor": 2, "mode": "bicubic"},
        {"type": "conv_transpose2d", "in_channels": 20, "out_channels": 20, "kernel_size": 4, "stride": 2,
         "output_padding": 1},
        {"type": "relu"}, {"type": "batchnorm", "num_features": 20}, {"type": "dropout", "p": 0.1},
        {"type": "conv_transpose2d", "in_channels": 20, "out_channels": 1, "kernel_size": 4, "stride": 1,
         "padding": 1},
        {"type": "sigmoid"},
    ],
}
# A LeNet-style encoder for 28 x 28 digits ending in 10 outputs (PyTorch's MNIST example network, with
# max pooling after each convolution).
MNIST_CNN = {
    "input_shape": [1, 28, 28],
    "layers": [
        {"type": "conv2d", "in_channels": 1, "out_channels": 10, "kernel_size": 5}, {"type": "maxpool2d",
                                                                                      "kernel_size": 2},
        {"type": "relu"},
        {"type": "conv2d", "in_channels": 10, "out_channels": 20, "kernel_size": 5}, {"type": "dropout", "p": 0.5},
        {"type": "maxpool2d", "kernel_size": 2}, {"type": "relu"},
        {"type": "flatten"},
        {"type": "linear", "in_features": 320, "out_features": 50}, {"type": "relu"},
        {"type": "linear", "in_features": 50, "out_features": 10},
    ],
}


def _shape_text(shape: list[int]) -> str:
    return " × ".join(str(s) for s in shape)


class _Layer:
    """Reads one layer spec, checks it against the incoming shape, and computes its output."""

    def __init__(self, spec: Any, index: int, shape: list[int]):
        self.f = f"layers[{index}]"
        self.spec = P.mapping(spec, self.f)
        self.kind = P.choice(P.get(self.spec, "type", field=f"{self.f}.type"), f"{self.f}.type", TYPES)
        self.shape = shape
        self.math: list[list[Any]] = []
        self.text = ""
        self.params = 0

    def arg(self, name: str, default: Any = P.MISSING) -> Any:
        return P.get(self.spec, name, default, field=f"{self.f}.{name}")

    def fail(self, name: str, message: str) -> ParamError:
        return ParamError(f"{self.f}.{name}" if name else self.f, message)

    def need_rank(self, rank: int, what: str) -> None:
        if len(self.shape) != rank:
            raise self.fail("", f"{self.kind} expects {what}, but its input has shape [{_shape_text(self.shape)}]")

    def run(self) -> list[int]:
        allowed = {
            "conv2d": ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "bias"],
            "conv_transpose2d": ["in_channels", "out_channels", "kernel_size", "stride", "padding",
                                 "output_padding", "dilation", "bias"],
            "maxpool2d": ["kernel_size", "stride", "padding", "dilation"],
            "avgpool2d": ["kernel_size", "stride", "padding"],
            "upsample": ["scale_factor", "size", "mode"],
            "flatten": ["start_dim", "end_dim"],
            "unflatten": ["dim", "unflattened_size"],
            "linear": ["in_features", "out_features", "bias"],
            "batchnorm": ["num_features", "affine", "eps", "momentum"],
            "dropout": ["p"],
            "softmax": ["dim"],
        }.get(self.kind, [])
        P.no_unknown(self.spec, ["type", *allowed], self.f)
        method = getattr(self, "_" + self.kind, None)
        if method is None:  # relu, sigmoid, tanh: elementwise, nothing to learn
            self.text = "An elementwise activation: the shape does not change and there is nothing to learn."
            return list(self.shape)
        return method()

    def _dim(self, name: str, default: Any, rank: int) -> int:
        """A dimension index counted as on a batched tensor (0 is the batch), normalized to 1..rank."""
        d = P.integer(self.arg(name, default), f"{self.f}.{name}", low=-rank, high=rank)
        d = d + rank + 1 if d < 0 else d
        if d == 0:
            raise self.fail(name, "dimension 0 is the batch dimension; the dimensions of the sample are "
                                  f"1..{rank} (or -{rank}..-1)")
        return d

    def _conv_args(self) -> tuple[int, int, tuple, tuple, tuple, tuple]:
        self.need_rank(3, "a C x H x W input")
        cin = P.integer(self.arg("in_channels"), f"{self.f}.in_channels", low=1)
        cout = P.integer(self.arg("out_channels"), f"{self.f}.out_channels", low=1)
        if cin != self.shape[0]:
            raise self.fail("in_channels", f"is {cin}, but the input has {self.shape[0]} channels "
                                           f"(shape [{_shape_text(self.shape)}])")
        k = pair(self.arg("kernel_size"), f"{self.f}.kernel_size", 1)
        s = pair(self.arg("stride", 1), f"{self.f}.stride", 1)
        p = pair(self.arg("padding", 0), f"{self.f}.padding", 0)
        d = pair(self.arg("dilation", 1), f"{self.f}.dilation", 1)
        bias = P.boolean(self.arg("bias", True), f"{self.f}.bias")
        self.params = cin * cout * k[0] * k[1] + (cout if bias else 0)
        self.math.append([Sym("parameters"), f"{cin}·{cout}·{k[0]}·{k[1]}" + (f" + {cout}" if bias else ""),
                          self.params])
        return cin, cout, k, s, p, d

    def _sliding(self, k: tuple, s: tuple, p: tuple, d: tuple, what: str) -> list[int]:
        out = []
        for axis, name in ((0, "H"), (1, "W")):
            size = self.shape[1 + axis]
            span = d[axis] * (k[axis] - 1) + 1
            if size + 2 * p[axis] < span:
                raise self.fail("kernel_size", f"the {what} window ({span} wide with dilation) is larger than "
                                               f"the padded input ({size + 2 * p[axis]}) along {name}")
            value = (size + 2 * p[axis] - span) // s[axis] + 1
            dil = f" - {d[axis]}·({k[axis]} - 1) - 1" if d[axis] != 1 else f" - {k[axis]}"
            self.math.insert(axis, [Sym(f"{name}_out"), f"floor(({size} + 2·{p[axis]}{dil}) / {s[axis]}) + 1",
                                    value])
            out.append(value)
        return out

    def _conv2d(self) -> list[int]:
        _, cout, k, s, p, d = self._conv_args()
        self.text = ("Each of the `out_channels` filters spans all input channels: `in_channels`·kh·kw "
                     "weights plus one bias.")
        return [cout, *self._sliding(k, s, p, d, "kernel")]

    def _conv_transpose2d(self) -> list[int]:
        _, cout, k, s, p, d = self._conv_args()
        op = pair(self.arg("output_padding", 0), f"{self.f}.output_padding", 0)
        out = []
        for axis, name in ((0, "H"), (1, "W")):
            if op[axis] >= max(s[axis], d[axis]):
                raise self.fail("output_padding", f"must be smaller than the stride or the dilation, got "
                                                  f"{op[axis]} with stride {s[axis]}")
            size = self.shape[1 + axis]
            value = (size - 1) * s[axis] - 2 * p[axis] + d[axis] * (k[axis] - 1) + op[axis] + 1
            if value < 1:
                raise self.fail("padding", f"the output would have size {value} along {name}")
            self.math.insert(axis, [Sym(f"{name}_out"), f"({size} - 1)·{s[axis]} - 2·{p[axis]} + {d[axis]}·("
                                    f"{k[axis]} - 1) + {op[axis]} + 1", value])
            out.append(value)
        self.text = ("A transposed convolution spreads each input pixel over a kernel-sized patch of the output, "
                     "the patches stride apart. Its weight has shape `in_channels` × `out_channels` × kh × kw.")
        return [cout, *out]

    def _pool(self, dilation: bool) -> list[int]:
        self.need_rank(3, "a C x H x W input")
        k = pair(self.arg("kernel_size"), f"{self.f}.kernel_size", 1)
        s = pair(self.arg("stride", list(k)), f"{self.f}.stride", 1)
        p = pair(self.arg("padding", 0), f"{self.f}.padding", 0)
        d = pair(self.arg("dilation", 1), f"{self.f}.dilation", 1) if dilation else (1, 1)
        for axis in (0, 1):
            if 2 * p[axis] > k[axis]:
                raise self.fail("padding", f"must be at most half the kernel size, got {p[axis]} with kernel "
                                           f"{k[axis]}")
        self.text = "Pooling keeps the channels and shrinks each map; it has nothing to learn."
        return [self.shape[0], *self._sliding(k, s, p, d, "pooling")]

    def _maxpool2d(self) -> list[int]:
        return self._pool(True)

    def _avgpool2d(self) -> list[int]:
        return self._pool(False)

    def _upsample(self) -> list[int]:
        self.need_rank(3, "a C x H x W input")
        P.choice(self.arg("mode", "nearest"), f"{self.f}.mode", ["nearest", "bilinear", "bicubic"])
        has_scale, has_size = self.spec.get("scale_factor") is not None, self.spec.get("size") is not None
        if has_scale == has_size:
            raise self.fail("scale_factor", "give exactly one of scale_factor or size")
        if has_size:
            out = list(pair(self.spec["size"], f"{self.f}.size", 1))
            self.text = "The output size is given."
        else:
            raw = self.spec["scale_factor"]
            raw = raw if isinstance(raw, (list, tuple)) else [raw, raw]
            if len(raw) != 2:
                raise self.fail("scale_factor", "expected a number or a pair [height, width]")
            out = []
            for axis, name in ((0, "H"), (1, "W")):
                f = P.number(raw[axis], f"{self.f}.scale_factor", positive=True)
                value = math.floor(self.shape[1 + axis] * f)
                if value < 1:
                    raise self.fail("scale_factor", f"the output would have size {value} along {name}")
                self.math.append([Sym(f"{name}_out"), f"floor({self.shape[1 + axis]}·{f:g})", value])
                out.append(value)
            self.text = "Upsampling multiplies each spatial size by the scale factor; the mode only changes values."
        return [self.shape[0], *out]

    def _flatten(self) -> list[int]:
        rank = len(self.shape)
        start, end = self._dim("start_dim", 1, rank), self._dim("end_dim", -1, rank)
        if start > end:
            raise self.fail("start_dim", f"comes after end_dim ({start} > {end})")
        merged = math.prod(self.shape[start - 1:end])
        self.text = f"Dimensions {start} to {end} (dimension 0 being the batch) are merged into one."
        self.math.append([Sym("size"), " · ".join(str(v) for v in self.shape[start - 1:end]), merged])
        return [*self.shape[:start - 1], merged, *self.shape[end:]]

    def _unflatten(self) -> list[int]:
        rank = len(self.shape)
        dim = self._dim("dim", P.MISSING, rank)
        raw = self.arg("unflattened_size")
        if not isinstance(raw, (list, tuple)) or not raw:
            raise self.fail("unflattened_size", f"expected a non-empty list of sizes, got {raw!r}")
        sizes = [P.integer(v, f"{self.f}.unflattened_size[{i}]", low=-1) for i, v in enumerate(raw)]
        if sizes.count(-1) > 1 or 0 in sizes:
            raise self.fail("unflattened_size", "sizes must be positive, with at most one -1")
        n = self.shape[dim - 1]
        known = math.prod(v for v in sizes if v != -1)
        if -1 in sizes:
            if n % known:
                raise self.fail("unflattened_size", f"cannot split {n} into {sizes}")
            sizes[sizes.index(-1)] = n // known
        elif known != n:
            raise self.fail("unflattened_size", f"the sizes multiply to {known}, but dimension {dim} has {n}")
        self.text = f"Dimension {dim} (size {n}, dimension 0 being the batch) is split into {_shape_text(sizes)}."
        return [*self.shape[:dim - 1], *sizes, *self.shape[dim:]]

    def _linear(self) -> list[int]:
        n_in = P.integer(self.arg("in_features"), f"{self.f}.in_features", low=1)
        n_out = P.integer(self.arg("out_features"), f"{self.f}.out_features", low=1)
        bias = P.boolean(self.arg("bias", True), f"{self.f}.bias")
        if self.shape[-1] != n_in:
            raise self.fail("in_features", f"is {n_in}, but the input's last dimension is {self.shape[-1]} "
                                           f"(shape [{_shape_text(self.shape)}])")
        self.params = n_in * n_out + (n_out if bias else 0)
        self.text = ("A linear layer acts on the last dimension: a weight matrix `out_features` × `in_features` "
                     "and a bias.")
        self.math.append([Sym("parameters"), f"{n_in}·{n_out}" + (f" + {n_out}" if bias else ""), self.params])
        return [*self.shape[:-1], n_out]

    def _batchnorm(self) -> list[int]:
        if len(self.shape) not in (1, 2, 3):
            raise self.fail("", f"batchnorm expects [C], [C, L] or [C, H, W], got [{_shape_text(self.shape)}]")
        c = P.integer(self.arg("num_features"), f"{self.f}.num_features", low=1)
        affine = P.boolean(self.arg("affine", True), f"{self.f}.affine")
        P.number(self.arg("eps", 1e-5), f"{self.f}.eps", positive=True)
        P.number(self.arg("momentum", 0.1), f"{self.f}.momentum", nonnegative=True)
        if c != self.shape[0]:
            raise self.fail("num_features", f"is {c}, but the input has {self.shape[0]} channels "
                                            f"(shape [{_shape_text(self.shape)}])")
        self.params = 2 * c if affine else 0
        which = "BatchNorm2d" if len(self.shape) == 3 else "BatchNorm1d"
        self.text = (f"{which}: one scale ($gamma$) and one shift ($beta$) per channel are learned; the running mean "
                     f"and variance are buffers, not parameters.")
        if affine:
            self.math.append([Sym("parameters"), f"2·{c}", self.params])
        return list(self.shape)

    def _dropout(self) -> list[int]:
        p = P.number(self.arg("p", 0.5), f"{self.f}.p", low=0, high=1)
        self.text = f"Dropout zeroes each entry with probability {p:g} while training; the shape does not change."
        return list(self.shape)

    def _softmax(self) -> list[int]:
        dim = self._dim("dim", -1, len(self.shape))
        self.text = f"Softmax over dimension {dim} (dimension 0 being the batch): the shape does not change."
        return list(self.shape)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.spec.items() if k != "type")
        return f"`{self.kind}({args})`"  # code in the prose notation: set in monospace

# Stages of a tensor-block sketch: the layers that make a new tensor (not the elementwise ones), and which
# decoder stage inverts which encoder stage (a transposed convolution a convolution, an upsampling a pooling,
# an unflatten a flatten, a linear layer a linear layer).
INVERSE = {"conv2d": "conv", "conv_transpose2d": "conv", "maxpool2d": "pool", "avgpool2d": "pool",
           "upsample": "pool", "flatten": "flat", "unflatten": "flat", "linear": "linear"}
DOWN, UP = {"conv2d", "maxpool2d", "avgpool2d", "flatten"}, {"conv_transpose2d", "upsample", "unflatten"}


def _stage_label(spec: dict[str, Any]) -> str:
    kind = spec["type"]
    k = spec.get("kernel_size")
    size = "" if k is None else (f" {k}×{k}" if not isinstance(k, (list, tuple)) else f" {k[0]}×{k[1]}")
    stride = spec.get("stride")
    step = f" /{stride}" if kind != "conv_transpose2d" and stride not in (None, 1) else ""
    if kind == "conv_transpose2d" and stride not in (None, 1):
        step = f" ×{stride}"
    if kind == "upsample":
        factor = spec.get("scale_factor")
        return f"upsample ×{factor}" if factor is not None else "upsample"
    name = {"conv2d": "conv", "conv_transpose2d": "conv^T", "maxpool2d": "max pool", "avgpool2d": "avg pool"}
    return name.get(kind, kind) + size + step


def tensor_blocks(input_shape: list[int], layers: list[dict[str, Any]], shapes: list[list[int]]) -> dict:
    """The stages (input, then every layer that makes a new tensor) with their shapes; when the stack both
    shrinks (conv, pool, flatten) and grows (transposed conv, upsample, unflatten), the encoder ends at the
    smallest tensor before the first growing layer, and `pairs` joins each decoder stage to the encoder stage
    it inverts, matched by kind outwards from that code (order kept, so no two brackets cross)."""
    stages = [{"layer": None, "label": "input", "shape": list(input_shape)}]
    for i, (spec, shape) in enumerate(zip(layers, shapes, strict=True)):
        if spec["type"] in INVERSE:
            stages.append({"layer": i, "label": _stage_label(spec), "shape": list(shape), "type": spec["type"]})
    kinds = {st.get("type") for st in stages}
    split, pairs = len(stages) - 1, []
    if kinds & DOWN and kinds & UP:
        first_up = next(k for k, st in enumerate(stages) if st.get("type") in UP)
        split = min(range(first_up), key=lambda k: (math.prod(stages[k]["shape"]), -k))
        queues: dict[str, list[int]] = {}
        for k in range(split, 0, -1):  # encoder stages from the code outwards
            queues.setdefault(INVERSE[stages[k]["type"]], []).append(k)
        last = -1
        for k in range(split + 1, len(stages)):  # decoder stages from the code outwards
            queue = queues.get(INVERSE[stages[k]["type"]])
            if queue and (last < 0 or queue[0] < last):
                last = queue.pop(0)
                pairs.append([last, k])
    return {"stages": stages, "split": split, "pairs": pairs}


@register("layer_shapes", "Output shape and parameter count of each layer of a PyTorch layer stack",
          examples={"hw7_decoder": HW7_DECODER, "mnist_cnn_encoder": MNIST_CNN})
def solve(params: dict[str, Any]) -> Solution:
    P.no_unknown(params, ["input_shape", "layers"])
    raw_shape = P.get(params, "input_shape")
    if not isinstance(raw_shape, (list, tuple)) or not raw_shape:
        raise ParamError("input_shape", f"expected a list such as [1, 28, 28] or [784], got {raw_shape!r}")
    shape = [P.integer(v, f"input_shape[{i}]", low=1) for i, v in enumerate(raw_shape)]
    layers = P.get(params, "layers")
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ParamError("layers", "expected a non-empty list of layer specs")
    input_shape = list(shape)
    shapes, counts, rows, children = [], [], [], []
    for i, spec in enumerate(layers):
        layer = _Layer(spec, i, shape)
        shape = layer.run()
        shapes.append(shape)
        counts.append(layer.params)
        rows.append([i, layer.describe(), _shape_text(shape), layer.params])
        children.append(Step(f"Layer {i}: {layer.describe()}", text=layer.text,
                             math=layer.math, result={"shape": _shape_text(shape)}))
    total = sum(counts)
    blocks = tensor_blocks(input_shape, layers, shapes)
    steps = [
        Step("Shapes through the layers",
             text=(f"The input has shape {_shape_text(input_shape)} (one sample; the batch dimension is left out "
                   f"of every shape). Layers are counted from 0."),
             table=Table(["layer", "module", "output shape", "parameters"], rows),
             children=children),
        Step("Tensor blocks", figure=Figure("tensor_blocks", blocks,
                                             "Each stage's tensor as a block (channels × height × width, or a "
                                             "vector), batch left out"
                                             + ("; brackets join a decoder stage to the encoder stage it inverts."
                                                if blocks["pairs"] else "."))),
        Step("Count the parameters", math=[[Sym("total"), " + ".join(str(c) for c in counts if c) or "0", total]],
             text=f"The output has shape {_shape_text(shape)}."),
    ]
    answer = {"shapes": shapes, "parameters": counts, "total_parameters": total}
    return Solution("layer_shapes", {"input_shape": input_shape, "layers": [dict(s) for s in layers]}, steps,
                    answer, [])

