"""forward_pass and backprop against PyTorch autograd (float64), on the seeds' networks and on random ones."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import solvers
from solvers import ParamError, solve
from tests.oracles.networks import network as oracle

FIELDS = ("loss", "output_gradient", "deltas", "grad_W", "grad_b", "updated_W", "updated_b")


def assert_nested_close(actual, expected, field, tol=1e-9):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{field}: {actual} != {expected}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_nested_close(a, e, f"{field}[{i}]", tol)
    elif expected is None:  # e.g. the loss of a forward pass without a target
        assert actual is None, f"{field}: {actual} != None"
    else:
        assert actual == pytest.approx(expected, rel=tol, abs=tol), f"{field}: {actual} != {expected}"


def check_against_torch(kind, params):
    sol = solve(kind, params)
    data = json.loads(json.dumps(sol.to_json()))["answer"]
    expected = oracle(params)
    fields = ("pre_activations", "activations", "output", "loss") if kind == "forward_pass" else FIELDS
    for field in fields:
        if field in expected:
            assert_nested_close(data[field], expected[field], field)
    if kind == "backprop":
        assert ("updated_W" in data) == (params.get("learning_rate") is not None)
    return sol


def example(kind, label):
    return solvers.kind_info(kind).examples[label]


def test_study_notes_321_sigmoid_network():
    # Study notes (000), "Step 1: Compute Hidden Layer Activations". The seed rounds sigma(0.6) to 0.645 (it is
    # 0.6457) and labels that line z_2 although it is z_1; then it carries the rounded 0.645 and 0.858 into the
    # output layer and gets v = 0.4515 - 0.429 = 0.0225, where the truth is 0.7 * 0.6457 - 0.5 * 0.8581 = 0.02288.
    # Its final y = 0.506 survives the slip (y = 0.50572).
    sol = check_against_torch("forward_pass", example("forward_pass", "study_notes_321_sigmoid"))
    a = sol.answer
    assert a["pre_activations"][0] == pytest.approx([0.6, 1.8])
    assert [round(z, 4) for z in a["activations"][0]] == [0.6457, 0.8581]
    assert round(a["pre_activations"][1][0], 5) == 0.02288
    assert round(a["output"][0], 4) == 0.5057 and round(a["output"][0], 3) == 0.506
    assert a["loss"] is None


def test_lecture_relu_network():
    # Lecture notes (001): the seed writes the input as (1, 1) but W^(0) is 3 x 3; (1, 1, 1) reproduces its
    # F^(0) x = (1, 6, -4). Its slip: W^(1) ReLU(...) = (1, -2, 1).(1, 6, 0) = 1 - 12 + 0 = -11, not -1, so the
    # output is sigma(-11) = 1.670e-5, not sigma(-1) ~ 0.000051 (and 1/(1 + e^-1) would be 0.731 anyway).
    sol = check_against_torch("forward_pass", example("forward_pass", "lecture_relu_sigmoid"))
    a = sol.answer
    assert a["pre_activations_exact"] == [["1", "6", "-4"], ["-11"]]
    assert a["activations"][0] == [1, 6, 0]
    assert a["output"][0] == pytest.approx(1 / (1 + np.exp(11)), rel=1e-12)
    assert a["output"][0] == pytest.approx(1.670e-5, rel=1e-3)
    assert a["output"][0] != pytest.approx(0.000051, rel=0.1)


def test_hw5_q2_backprop_with_slope_5():
    # Homework 5 Q2: phi(v) = 1/(1 + e^(-a v)) with a = 5 and the loss (f - y)^2 (= se). The seed's solution
    # writes phi'(v) = 3 phi (1 - phi); the derivative is a phi (1 - phi) = 5 phi (1 - phi). Its equations also
    # write delta_z = grad_f l * g'(v_z) in one line; the right one (which its code does use) is
    # delta_z = (U^T delta_f) * phi'(v_z). Torch autograd confirms every number here.
    params = example("backprop", "hw5_q2_sigmoid_slope_5")
    sol = check_against_torch("backprop", params)
    a = sol.answer
    f = oracle(params)["activations"][-1][0]
    z = np.array(oracle(params)["activations"][0])
    U = np.array(params["layers"][1]["W"][0])
    delta_f = 2 * (f - 1) * 5 * f * (1 - f)
    assert a["deltas"][1][0] == pytest.approx(delta_f, rel=1e-12)
    assert a["deltas"][1][0] != pytest.approx(2 * (f - 1) * 3 * f * (1 - f), rel=1e-3)
    np.testing.assert_allclose(a["deltas"][0], U * delta_f * 5 * z * (1 - z), rtol=1e-12)
    np.testing.assert_allclose(a["grad_W"][1], [delta_f * z], rtol=1e-12)


@pytest.mark.parametrize("label", ["study_notes_321_sigmoid", "relu_mse_exact", "softmax_cross_entropy"])
def test_backprop_examples_match_torch(label):
    check_against_torch("backprop", example("backprop", label))


def test_forward_softmax_example_matches_torch():
    check_against_torch("forward_pass", example("forward_pass", "softmax_cross_entropy"))


def test_exact_fields_when_every_value_is_rational():
    sol = solve("backprop", example("backprop", "relu_mse_exact"))
    a = sol.answer
    assert a["loss_exact"] == "17/4"
    assert a["deltas_exact"] == [["0", "13/2"], ["5/2", "3/2"]]
    assert a["updated_W_exact"][0] == [["1", "-1"], ["-3/20", "-3/10"]]


def test_softmax_cross_entropy_delta_is_a_minus_t():
    params = example("backprop", "softmax_cross_entropy")
    sol = solve("backprop", params)
    out = oracle(params)["output"]
    np.testing.assert_allclose(sol.answer["deltas"][-1], np.array(out) - np.array(params["target"]), atol=1e-12)


def test_hidden_softmax_uses_the_full_jacobian():
    params = {"x": [1, 2], "layers": [
        {"W": [[1, 0], [0, 1], [1, 1]], "activation": "softmax"},
        {"W": [[1, -2, 0.5]], "activation": "linear"}], "target": [0], "loss": "se"}
    sol = check_against_torch("backprop", params)
    a = np.array(oracle(params)["activations"][0])
    g = np.array([1, -2, 0.5]) * sol.answer["deltas"][1][0]
    elementwise = g * a * (1 - a)
    assert not np.allclose(sol.answer["deltas"][0], elementwise)  # the diagonal alone would be wrong


@pytest.mark.parametrize("activation", ["step", "sign"])
def test_zero_derivative_activations_are_warned(activation):
    params = {"x": [1, -1], "layers": [{"W": [[1, 2], [0.5, 1]], "activation": activation},
                                      {"W": [[1, 1]], "activation": "linear"}], "target": [1], "loss": "se"}
    sol = check_against_torch("backprop", params)
    assert any(activation in w and "derivative is 0" in w for w in sol.warnings)
    assert sol.answer["deltas"][0] == [0, 0]


def test_relu_at_zero_is_reported():
    params = {"x": [1, 1], "layers": [{"W": [[1, -1]], "activation": "relu"}, {"W": [[2]], "activation": "linear"}],
              "target": [1], "loss": "se"}
    sol = check_against_torch("backprop", params)
    assert any("ReLU'(0)" in w for w in sol.warnings)


def test_bias_defaults_to_zero_and_target_may_be_a_number():
    sol = solve("forward_pass", {"x": [2], "layers": [{"W": [[3]], "activation": "linear"}], "target": 1,
                                 "loss": "se"})
    assert sol.answer["output_exact"] == ["6"] and sol.answer["loss_exact"] == "25"


# --- random networks against torch autograd ----------------------------------------------------------------

VALUES = st.integers(-6, 6).map(lambda k: k / 4)


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 4)) for _ in range(depth + 1)]
    loss = draw(st.sampled_from(["se", "mse", "bce", "ce"]))
    layers = []
    for i in range(depth):
        last = i == depth - 1
        if last and loss in ("bce", "ce"):
            options = ["sigmoid", "softmax"] if loss == "ce" else ["sigmoid"]
        else:
            options = ["sigmoid", "relu", "tanh", "linear", "softmax", "step", "sign"]
        act = draw(st.sampled_from(options))
        if act == "softmax" and widths[i + 1] < 2:
            widths[i + 1] = 2
        n_out, n_in = widths[i + 1], widths[i]
        layer = {"W": [[draw(VALUES) for _ in range(n_in)] for _ in range(n_out)], "activation": act}
        if draw(st.booleans()):
            layer["b"] = [draw(VALUES) for _ in range(n_out)]
        if act == "sigmoid" and draw(st.booleans()):
            layer["slope"] = draw(st.sampled_from([0.5, 2, 5]))
        layers.append(layer)
    n = widths[-1] if layers[-1]["activation"] != "softmax" else len(layers[-1]["W"])
    if loss == "bce":
        target = [draw(st.sampled_from([0, 0.25, 1])) for _ in range(n)]
    elif loss == "ce":
        target = [draw(st.sampled_from([0, 0.5, 1])) for _ in range(n)]
    else:
        target = [draw(VALUES) for _ in range(n)]
    params = {"x": [draw(VALUES) for _ in range(widths[0])], "layers": layers, "target": target, "loss": loss}
    if draw(st.booleans()):
        params["learning_rate"] = draw(st.sampled_from([0.1, 0.5, 1]))
    return params


@settings(max_examples=40, deadline=None)
@given(networks())
def test_random_networks_match_torch_autograd(params):
    if params["loss"] == "bce":
        # A saturated sigmoid (1 - y below 1e-6) leaves torch's float64 1 - y with few correct digits, so its
        # bce gradient (1 - t)/(1 - y) is no reference there (hypothesis found y = 1 - 1.8e-12, slope 5).
        output = solve("forward_pass", {k: v for k, v in params.items() if k != "learning_rate"}).answer["output"]
        assume(all(1 - y > 1e-6 for y in output))
    check_against_torch("backprop", params)
    check_against_torch("forward_pass", {k: v for k, v in params.items() if k != "learning_rate"})


# --- bad parameters ----------------------------------------------------------------------------------------

GOOD = {"x": [1, 2], "layers": [{"W": [[1, 2], [3, 4]], "activation": "relu"},
                                {"W": [[1, -1]], "activation": "sigmoid"}], "target": [1], "loss": "se"}


def with_layer(i, **changes):
    layers = [dict(layer) for layer in GOOD["layers"]]
    layers[i].update(changes)
    return {**GOOD, "layers": layers}


@pytest.mark.parametrize(("kind", "params", "field", "words"), [
    ("forward_pass", {"layers": GOOD["layers"]}, "x", "missing"),
    ("forward_pass", {"x": [1, 2]}, "layers", "missing"),
    ("forward_pass", {**GOOD, "layers": []}, "layers", "non-empty"),
    ("forward_pass", with_layer(1, W=[[1, 2, 3]]), "layers[1].W",
     "expected 1 x 2 (outputs x inputs) to follow a layer with 2 outputs, got 1 x 3"),
    ("forward_pass", with_layer(0, W=[[1, 2, 3]]), "layers[0].W", "to follow the input x with 2 entries"),
    ("forward_pass", with_layer(0, W=[[1, 2], [3]]), "layers[0].W", "different lengths"),
    ("forward_pass", with_layer(0, W=[[1, float("nan")], [3, 4]]), "layers[0].W[0][1]", "finite"),
    ("forward_pass", with_layer(0, W=[[1, "a"], [3, 4]]), "layers[0].W[0][1]", "number"),
    ("forward_pass", with_layer(0, activation="swish"), "layers[0].activation", "expected one of"),
    ("forward_pass", with_layer(0, b=[1, 2, 3]), "layers[0].b", "shape"),
    ("forward_pass", with_layer(0, slope=2), "layers[0].slope", "only a sigmoid"),
    ("forward_pass", with_layer(1, slope=-1), "layers[1].slope", "positive"),
    ("forward_pass", with_layer(0, weights=[[1]]), "layers[0].weights", "unknown field"),
    ("forward_pass", {**GOOD, "target": [1, 2]}, "target", "expected 1 entries"),
    ("forward_pass", {**GOOD, "loss": "hinge"}, "loss", "expected one of"),
    ("forward_pass", {**GOOD, "loss": None}, "loss", "a target needs a loss"),
    ("forward_pass", {**GOOD, "learning_rate": 0.1}, "learning_rate", "unknown field"),
    ("forward_pass", {**with_layer(1, activation="linear"), "loss": "bce"}, "loss", "strictly between 0 and 1"),
    ("backprop", {**GOOD, "target": None}, "target", "missing"),
    ("backprop", {**GOOD, "loss": None}, "loss", "missing"),
    ("backprop", {**GOOD, "learning_rate": -1}, "learning_rate", "positive"),
    ("backprop", {**GOOD, "target": [2], "loss": "bce"}, "target", "between 0 and 1"),
    ("backprop", {**with_layer(1, activation="softmax")}, "layers[1].activation", "at least 2 outputs"),
])
def test_bad_parameters_name_the_field(kind, params, field, words):
    with pytest.raises(ParamError) as err:
        solve(kind, params)
    message = str(err.value)
    assert message.startswith(field + ":"), message
    assert words in message and "\n" not in message


def test_cli_refuses_bad_parameters_in_one_line():
    for kind, params in [("backprop", with_layer(1, W=[[1, 2, 3]])), ("forward_pass", with_layer(0, activation="x"))]:
        out = subprocess.run([sys.executable, "-m", "nnexam.cli", "solve", kind, "--params", json.dumps(params)],
                             capture_output=True, text=True)
        assert out.returncode == 2, out.stderr
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
        assert "layers[" in out.stderr
