"""The SVG figures drawn directly (templates/figures): each parses, holds its elements where the data puts them,
keeps its text inside the picture and its legend off the data. Positions are read back from the SVG alone:
the axes' own tick labels give the map from data to picture (fitted here), the maths is redone with numpy or
torch."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from solvers import solve
from solvers.registry import kind_info, kinds
from templates.figures import draw

NS = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[1]


def figures_of(solution):
    stack = list(solution.steps)
    while stack:
        step = stack.pop(0)
        stack = list(step.children) + stack
        if step.figure is not None:
            yield step.figure


def svg_of(kind: str, params: dict, tmp_path: Path, which: str | None = None) -> ET.Element:
    figure = next(f for f in figures_of(solve(kind, params)) if which is None or f.kind == which)
    path = draw(figure, tmp_path / f"{figure.kind}.svg")
    return ET.parse(path).getroot()


def with_class(root: ET.Element, name: str, tag: str | None = None) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()
            and (tag is None or e.tag == NS + tag)]


def text_of(e: ET.Element) -> str:
    return "".join(e.itertext())


def text_boxes(root: ET.Element):
    """(x0, x1, y0, y1, text) of every text element: 0.6 em per character at each tspan's own size, the ascent
    one em above the baseline, the descent 0.3 em below; a rotate(-90) group turns its box."""
    parents = {child: parent for parent in root.iter() for child in parent}
    for e in root.iter(NS + "text"):
        size = float(e.get("font-size"))
        width = 0.6 * size * len(e.text or "")
        for span in e.iter(NS + "tspan"):
            width += 0.6 * float(span.get("font-size", size)) * len(span.text or "")
        x, y = float(e.get("x")), float(e.get("y"))
        anchor = e.get("text-anchor", "start")
        x0 = x - {"start": 0, "middle": width / 2, "end": width}[anchor]
        box = (x0, x0 + width, y - size, y + 0.3 * size)
        group = parents.get(e)
        transform = group.get("transform", "") if group is not None else ""
        turn = re.match(r"rotate\(-90 ([-0-9.]+) ([-0-9.]+)\)", transform)
        if turn:
            cx, cy = float(turn.group(1)), float(turn.group(2))
            # rotating by -90 degrees about (cx, cy): (x, y) -> (cx + (y - cy), cy - (x - cx))
            xs = [cx + (box[2] - cy), cx + (box[3] - cy)]
            ys = [cy - (box[0] - cx), cy - (box[1] - cx)]
            box = (min(xs), max(xs), min(ys), max(ys))
        yield (*box, text_of(e))


def assert_text_inside(root: ET.Element) -> None:
    _, _, w, h = (float(v) for v in root.get("viewBox").split())
    for x0, x1, y0, y1, text in text_boxes(root):
        assert x0 >= -0.5 and x1 <= w + 0.5 and y0 >= -0.5 and y1 <= h + 0.5, \
            f"text {text!r} at x {x0:.1f}..{x1:.1f}, y {y0:.1f}..{y1:.1f} leaves the picture 0..{w} x 0..{h}"


def axis_maps(root: ET.Element):
    """Data -> picture maps of both axes, fitted to the tick labels and their positions (x tick labels are
    centred below the axes box, y tick labels end to its left)."""
    xs, ys = [], []
    for e in with_class(root, "tick", "text"):
        value = float(text_of(e).replace("\u2212", "-"))
        if e.get("text-anchor") == "middle":
            xs.append((value, float(e.get("x"))))
        else:
            ys.append((value, float(e.get("y")) - 0.35 * float(e.get("font-size"))))
    fx = np.polyfit(*zip(*xs, strict=True), 1)
    fy = np.polyfit(*zip(*ys, strict=True), 1)
    return fx, fy


def to_data(fx, fy, px: float, py: float) -> np.ndarray:
    return np.array([(px - fx[1]) / fx[0], (py - fy[1]) / fy[0]])


def marker_centres(root: ET.Element, name: str) -> np.ndarray:
    out = []
    for e in with_class(root, name):
        if e.tag == NS + "circle":
            out.append((float(e.get("cx")), float(e.get("cy"))))
        elif e.tag == NS + "rect":
            out.append((float(e.get("x")) + float(e.get("width")) / 2, float(e.get("y")) + float(e.get("height")) / 2))
        else:
            pts = np.array([[float(v) for v in p.split(",")] for p in e.get("points").split()])
            out.append(tuple(pts.mean(0)))
    return np.array(out)


def every_example_figure():
    for kind in kinds():
        for name, params in kind_info(kind).examples.items():
            for k, figure in enumerate(figures_of(solve(kind, params))):
                yield pytest.param(figure, id=f"{kind}-{name}-{k}")


@pytest.mark.parametrize("figure", list(every_example_figure()))
def test_every_figure_parses_and_keeps_its_text_inside(figure, tmp_path):
    root = ET.parse(draw(figure, tmp_path / "f.svg")).getroot()
    assert root.tag == NS + "svg"
    assert_text_inside(root)
    for legend in with_class(root, "legend", "rect"):  # the legend hides no marker
        x, y, w, h = (float(legend.get(k)) for k in ("x", "y", "width", "height"))
        for cx, cy in marker_centres(root, "marker"):
            assert not (x - 4 <= cx <= x + w + 4 and y - 4 <= cy <= y + h + 4), "the legend covers a marker"


LLOYD = {"points": [[-0.01, 1], [1, 1], [0.01, -1], [-1, -1], [0.4, 0.3]], "initial_indices": [1, 2]}
THREE = {"points": [[0, 0], [0.2, 0.1], [4, 0], [4.2, 0.3], [2, 3], [2.1, 3.3], [1.8, 2.9]],
         "initial_indices": [0, 2, 4]}


@pytest.mark.parametrize("params", [LLOYD, THREE], ids=["two-centres", "three-centres"])
def test_voronoi_markers_and_boundaries_where_the_data_puts_them(params, tmp_path):
    root = svg_of("lloyd", params, tmp_path)
    sol = solve("lloyd", params)
    centres = np.asarray(sol.answer["final_centers"], dtype=float)
    fx, fy = axis_maps(root)
    points = np.asarray(params["points"], dtype=float)
    drawn = np.array([to_data(fx, fy, *p) for p in marker_centres(root, "data")])
    assert drawn.shape == points.shape
    assert np.allclose(drawn, points, atol=2e-3 * np.ptp(points, axis=0).max())
    finals = np.array([to_data(fx, fy, *p) for p in marker_centres(root, "final-centre")])
    assert np.allclose(finals, centres, atol=0.02)
    segments = with_class(root, "final", "line")
    assert segments, "no final cell boundary drawn"
    axes = with_class(root, "axes", "rect")[0]
    ax0, ay0 = float(axes.get("x")), float(axes.get("y"))
    ax1, ay1 = ax0 + float(axes.get("width")), ay0 + float(axes.get("height"))
    for seg in segments:
        a = (float(seg.get("x1")), float(seg.get("y1")))
        b = (float(seg.get("x2")), float(seg.get("y2")))
        for px, py in (a, b):  # clipped to the axes box
            assert ax0 - 0.5 <= px <= ax1 + 0.5 and ay0 - 0.5 <= py <= ay1 + 0.5
        for t in (0.0, 0.3, 0.5, 1.0):  # on a bisector of the two nearest centres, which tie
            p = to_data(fx, fy, a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
            d = np.sort(np.linalg.norm(centres - p, axis=1))
            assert d[1] - d[0] < 0.02 * max(d[1], 1.0), f"{p} is not on a cell boundary: distances {d}"
    # every pair of cells that touch inside the box gets a boundary: sample the box on a grid
    lo, hi = to_data(fx, fy, ax0, ay1), to_data(fx, fy, ax1, ay0)
    grid = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], 80), np.linspace(lo[1], hi[1], 80)), -1).reshape(-1, 2)
    label = np.linalg.norm(grid[:, None] - centres[None], axis=2).argmin(1).reshape(80, 80)
    touching = {tuple(sorted(p)) for p in zip(label[:, :-1].ravel(), label[:, 1:].ravel(), strict=True) if p[0] != p[1]}
    touching |= {tuple(sorted(p)) for p in zip(label[:-1].ravel(), label[1:].ravel(), strict=True) if p[0] != p[1]}
    assert len(segments) >= len(touching)
    # the initial cells are drawn after (over) the final ones, dashed
    order = [e for e in root.iter(NS + "line") if "boundary" in (e.get("class") or "")]
    kinds_in_order = ["initial" in e.get("class") for e in order]
    assert kinds_in_order == sorted(kinds_in_order)
    assert all(e.get("stroke-dasharray") for e in with_class(root, "initial", "line"))
    # 1-based labels: x_1 .. x_n and c_1 .. c_k
    labels = {text_of(e) for e in with_class(root, "annotation", "text")}
    assert labels == {f"x{i + 1}" for i in range(len(points))} | {f"c{j + 1}" for j in range(len(centres))}


def test_density_curves_follow_the_data(tmp_path):
    params = kind_info("gan_discriminator").examples["mock_final_q5a"]
    root = svg_of("gan_discriminator", params, tmp_path)
    sol = solve("gan_discriminator", params)
    figure = next(figures_of(sol))
    fx, fy = axis_maps(root)
    x = np.asarray(figure.data["x"], dtype=float)
    curves = with_class(root, "curve", "polyline")
    assert len(curves) >= 3
    for name, curve in zip(["p_data", "p_g", "D"], curves, strict=False):
        y = np.array([np.nan if v is None else v for v in figure.data[name]], dtype=float)
        pts = np.array([to_data(fx, fy, *map(float, p.split(","))) for p in curve.get("points").split()])
        expected = np.interp(pts[:, 0], x, np.nan_to_num(y))
        assert np.allclose(pts[:, 1], expected, atol=0.02 * np.nanmax(y) + 1e-9), name
    assert {text_of(e) for e in with_class(root, "legend-text")} >= {"pdata(x)", "pg(x) (generator)"}


def test_rnn_diagram_has_a_unit_an_input_and_an_output_per_step(tmp_path):
    params = {"inputs": [[1, 0], [0, 1], [1, 1], [2, 0]], "U": [[1, 0], [0, 1], [1, 1]],
              "W": [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]], "V": [[1, -1, 0]], "activation": "relu"}
    root = svg_of("rnn", params, tmp_path, "rnn_architecture")
    for name in ("unit", "input", "output"):
        assert len(with_class(root, name, "rect")) == 4, name
    assert len(with_class(root, "recurrent")) == 2 * 4  # a line and a head per W arrow, s_0 -> s_1 included
    assert [text_of(e) for e in with_class(root, "unit-label")] == ["s0", "s1", "s2", "s3", "s4"]
    legend = " ".join(text_of(e) for e in with_class(root, "legend-text"))
    assert "ℝ2" in legend and "ℝ3" in legend and "ℝ1" in legend  # sizes of x, s and y
    assert_text_inside(root)


def test_mock_final_q6b_solution_shows_the_rnn_diagram():
    from assignments import load

    assignment = load("mock-final")
    q6 = next(q for q in assignment.questions if q.id == "q6")
    part = next(p for p in q6.parts if p.id == "b")
    sol = solve(part.kind, part.params)
    assert [f.kind for f in figures_of(sol)] == ["rnn_architecture"]


def _torch_shapes(input_shape, layers):
    """Each layer's output shape (batch left out) from the real PyTorch modules."""
    import torch
    from torch import nn

    def module(spec):
        t, a = spec["type"], {k: v for k, v in spec.items() if k != "type"}
        if t == "batchnorm":
            return nn.Identity()  # shape-preserving; nn.BatchNorm1d/2d would need the rank
        return {"conv2d": nn.Conv2d, "conv_transpose2d": nn.ConvTranspose2d, "maxpool2d": nn.MaxPool2d,
                "upsample": nn.Upsample, "flatten": nn.Flatten, "unflatten": nn.Unflatten, "linear": nn.Linear,
                "dropout": nn.Dropout, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}[t](**a)

    x = torch.zeros(1, *input_shape)
    out = []
    with torch.no_grad():
        for spec in layers:
            x = module(spec)(x)
            out.append(list(x.shape[1:]))
    return out


def test_hw7_tensor_blocks_show_encoder_and_decoder_with_their_inverse_pairs(tmp_path):
    import yaml

    spec = yaml.safe_load((ROOT / "assignments/hw7/assignment.yaml").read_text())
    params = next(q for q in spec["questions"] if q["id"] == "q2")["parts"][0]["params"]
    root = svg_of("layer_shapes", params, tmp_path, "tensor_blocks")
    shapes = _torch_shapes(params["input_shape"], params["layers"])
    stage_types = {"conv2d", "conv_transpose2d", "maxpool2d", "upsample", "flatten", "unflatten", "linear"}
    expected = [params["input_shape"]] + [s for s, l in zip(shapes, params["layers"], strict=True)
                                          if l["type"] in stage_types]
    blocks = with_class(root, "block", "rect")
    assert len(blocks) == len(expected) == 14
    drawn = sorted(text_of(e) for e in with_class(root, "shape", "text"))
    assert drawn == sorted("×".join(map(str, s)) for s in expected)
    assert {"1×28×28", "10×24×24", "20×4×4", "10", "20×6×6", "20×27×27"} <= set(drawn)  # both halves
    assert len(with_class(root, "pair", "polyline")) == 6
    figure = next(f for f in figures_of(solve("layer_shapes", params)) if f.kind == "tensor_blocks")
    inverse = {"conv2d": "conv_transpose2d", "maxpool2d": "upsample", "flatten": "unflatten", "linear": "linear"}
    st = figure.data["stages"]
    for a, b in figure.data["pairs"]:
        assert a <= figure.data["split"] < b
        assert inverse[st[a]["type"]] == st[b]["type"]
    assert_text_inside(root)


def test_attention_graph_has_a_node_per_vertex_and_an_edge_per_adjacency_entry(tmp_path):
    X = np.array([[1, 0], [0, 1], [1, 1], [2, -1]], dtype=float)
    edges = [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2], [2, 1], [2, 3], [3, 3], [3, 0]]
    params = {"X": X.tolist(), "W_Q": [[1, 0], [0, 1]], "W_K": [[0, 1], [1, 0]], "W_V": [[1, 0], [0, 1]],
              "edges": edges}
    root = svg_of("attention", params, tmp_path, "attention_graph")
    assert len(with_class(root, "node", "circle")) == 4
    assert len(with_class(root, "edge")) == len(edges)
    assert len(with_class(root, "self-loop")) == 3
    # the weights on the edges, redone with numpy: softmax of q_v . k_u / sqrt(2) over v's neighbours
    Q, K = X, X @ np.array([[0, 1], [1, 0]]).T
    shown = {}
    for e in with_class(root, "edge-label", "text"):
        m = re.fullmatch(r"α(\d),(\d) = ([-0-9.e]+)", text_of(e))
        shown[(int(m.group(1)), int(m.group(2)))] = float(m.group(3))
    assert set(shown) == {tuple(e) for e in edges}
    for v in range(4):
        nb = [u for a, u in edges if a == v]
        s = Q[v] @ K[nb].T / np.sqrt(2)
        alpha = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
        for u, a in zip(nb, alpha, strict=True):
            assert shown[(v, u)] == pytest.approx(a, rel=2e-3, abs=1e-3)
    assert_text_inside(root)


def test_render_mock_final_never_imports_matplotlib(tmp_path):
    code = ("import sys\nfrom nnexam.cli import main\n"
            f"try:\n    main(['render', 'mock-final', '-o', {str(tmp_path)!r}])\nexcept SystemExit as e:\n"
            "    assert not e.code, e.code\n"
            "print('matplotlib' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "False"
    assert (tmp_path / "solutions.pdf").stat().st_size > 0


@pytest.mark.parametrize("span", [0.013, 0.7, 1.0, 3.3, 47.0, 500.0, 12345.0])
def test_ticks_follow_the_1_2_5_rule(span):
    from templates.figures.plot import nice_limits

    lo, hi, ticks = nice_limits(-0.3 * span, 0.7 * span)
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 5)) < 1e-6
    assert 4 <= len(ticks) <= 11 and lo <= -0.3 * span and hi >= 0.7 * span
    assert np.allclose(np.diff(ticks), step)


def test_log_axis_ticks_are_powers_of_ten(tmp_path):
    params = {**kind_info("gradient_descent").examples["hw5_q1"], "iterations": 40}
    root = svg_of("gradient_descent", params, tmp_path, "curves")
    axes = with_class(root, "axes", "rect")[0]
    left = float(axes.get("x"))
    y_ticks = [e for e in with_class(root, "tick", "text") if e.get("text-anchor") == "end"]
    assert len(y_ticks) >= 2
    exponents = []
    for e in y_ticks:
        assert e.text == "10" and float(e.get("x")) < left
        (sup,) = list(e)
        assert float(sup.get("dy")) < 0  # raised: a superscript
        exponents.append(int(sup.text.replace("\u2212", "-")))
    assert exponents == sorted(exponents) and len(set(np.diff(exponents))) == 1
    assert_text_inside(root)
