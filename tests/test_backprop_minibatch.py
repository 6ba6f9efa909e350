import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.networks import network as oracle

FIELDS = ("loss", "penalty", "output_gradient", "deltas", "grad_W", "grad_b", "updated_W", "updated_b")
LAYERS = [{"W": [[0.5, -1], [1, 0.5]], "b": [0, 0.5], "activation": "relu"},
          {"W": [[1, -0.5]], "b": [0.25], "activation": "linear"}]
BATCH = [{"x": [1, 2], "target": [1]}, {"x": [-1, 0.5], "target": [0]}]


def _close(actual, expected, field):
    """Nested lists (ragged across layers) compared entry by entry."""
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), field
        for a, e in zip(actual, expected, strict=True):
            _close(a, e, field)
    else:
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-12), field


def _check(params):
    sol = solve("backprop", params)
    expected = oracle(params)
    for field in FIELDS:
        if field in expected:
            _close(sol.answer[field], expected[field], field)
    return sol


def test_lecture_13_minibatch_with_weight_decay_is_exact():
    sol = _check({"batch": BATCH, "layers": LAYERS, "loss": "se", "weight_decay": 0.1, "learning_rate": 0.5})
    # Sample 0: output -1, loss 4; sample 1: output 0.25, loss 1/16; the mean is 65/32. Penalty 0.05 (3.75).
    assert sol.answer["loss_exact"] == "65/32" and sol.answer["penalty_exact"] == "3/16"
    assert sol.answer["output_gradient"] == [[-2.0], [0.25]]  # 2 (y - t) / B


def test_sum_reduction_is_B_times_the_mean():
    mean = solve("backprop", {"batch": BATCH, "layers": LAYERS, "loss": "se"}).answer
    total = solve("backprop", {"batch": BATCH, "layers": LAYERS, "loss": "se", "reduction": "sum"}).answer
    np.testing.assert_allclose(np.array(total["grad_W"][0]), 2 * np.array(mean["grad_W"][0]))
    assert total["loss"] == 2 * mean["loss"]


def test_single_sample_l1_and_weight_decay_match_torch():
    _check({"x": [1, 2], "target": [1], "layers": LAYERS, "loss": "mse", "weight_decay": 0.5, "l1": 0.1,
            "learning_rate": 0.1})


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_minibatches_match_torch_autograd(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    B, d, h = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    loss = data.draw(st.sampled_from(["se", "mse", "bce", "ce"]))
    out = 2 if loss == "ce" else data.draw(st.integers(1, 2))
    last = {"bce": "sigmoid", "ce": "softmax"}.get(loss, data.draw(st.sampled_from(["linear", "tanh"])))
    layers = [{"W": rng.normal(size=(h, d)).round(1).tolist(), "b": rng.normal(size=h).round(1).tolist(),
               "activation": data.draw(st.sampled_from(["relu", "sigmoid", "tanh", "linear"]))},
              {"W": rng.normal(size=(out, h)).round(1).tolist(), "activation": last}]
    batch = []
    for _ in range(B):
        t = np.eye(out)[rng.integers(out)] if loss == "ce" else rng.integers(0, 2, size=out) if loss == "bce" else \
            rng.normal(size=out).round(1)
        batch.append({"x": rng.normal(size=d).round(1).tolist(), "target": t.tolist()})
    params = {"batch": batch, "layers": layers, "loss": loss,
              "reduction": data.draw(st.sampled_from(["mean", "sum"])),
              "weight_decay": data.draw(st.sampled_from([0, 0.1])), "l1": data.draw(st.sampled_from([0, 0.05])),
              "learning_rate": 0.1}
    _check(params)


@pytest.mark.parametrize(("change", "field"), [
    ({"x": [1, 2]}, "x"),
    ({"batch": []}, "batch"),
    ({"batch": [{"x": [1, 2], "target": [1]}, {"x": [1], "target": [1]}]}, "batch[1].x"),
    ({"batch": [{"x": [1, 2], "target": [1, 2]}]}, "batch[0].target"),
    ({"batch": [{"x": [1, 2]}]}, "batch[0].target"),
    ({"batch": [{"x": [1, 2], "target": [1], "w": 1}]}, "batch[0].w"),
    ({"weight_decay": -1}, "weight_decay"),
    ({"l1": "a"}, "l1"),
    ({"reduction": "max"}, "reduction"),
])
def test_bad_parameters_name_the_field(change, field):
    with pytest.raises(ParamError) as err:
        solve("backprop", {"batch": BATCH, "layers": LAYERS, "loss": "se", **change})
    assert str(err.value).startswith(field) and "\n" not in str(err.value)


def test_lecture_13s_lambda_is_half_the_weight_decay():
    # Lecture 13: grad (R + lambda ||w||^2) = grad R + 2 lambda w; here penalty = weight_decay/2 sum W^2, so the
    # lecture's lambda = 0.05 is weight_decay = 0.1.
    plain = solve("backprop", {"x": [1, 2], "target": [1], "layers": LAYERS, "loss": "se"}).answer
    decayed = solve("backprop", {"x": [1, 2], "target": [1], "layers": LAYERS, "loss": "se",
                                 "weight_decay": 0.1}).answer
    W0 = np.array(LAYERS[0]["W"])
    np.testing.assert_allclose(np.array(decayed["grad_W"][0]), np.array(plain["grad_W"][0]) + 2 * 0.05 * W0)
    assert decayed["penalty"] == pytest.approx(0.05 * (W0**2).sum() + 0.05 * 1.25)
