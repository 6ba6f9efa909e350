import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.learning_rules import perceptron as oracle

AND = {"points": [[1, 1], [1, -1], [-1, 1], [-1, -1]], "labels": [1, -1, -1, -1], "initial_weights": [0, 0],
       "learning_rate": 0.5, "epochs": 10}


def test_and_gate_converges_exactly():
    sol = solve("perceptron", AND)
    a = sol.answer
    assert a["converged"] and a["epochs_run"] == 3 and a["errors_per_epoch"] == [3, 1, 0]
    w, b = np.array(a["final_weights"]), a["final_bias"]
    X = np.array(AND["points"], dtype=float)
    assert list(np.sign(X @ w + b)) == AND["labels"]  # the final line separates AND
    assert a["final_weights_exact"] == ["3/2", "3/2"] and a["final_bias_exact"] == "-1/2"
    assert any("sign(0) = 0" in w for w in sol.warnings)  # the first point meets v = 0


def test_delta_rule_step_is_a_gradient_step_of_half_the_squared_error():
    params = {"points": [[1, 2]], "labels": [0.7], "initial_weights": [0.1, -0.3], "bias": 0.2,
              "learning_rate": 0.5, "epochs": 1, "rule": "delta", "activation": "sigmoid", "slope": 3}
    sol = solve("perceptron", params)
    w = torch.tensor([0.1, -0.3], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    loss = 0.5 * (0.7 - torch.sigmoid(3 * (w @ torch.tensor([1.0, 2.0], dtype=torch.float64) + b))) ** 2
    loss.backward()
    np.testing.assert_allclose(sol.answer["final_weights"], (w - 0.5 * w.grad).detach().numpy(), rtol=1e-12)
    assert sol.answer["final_bias"] == pytest.approx((b - 0.5 * b.grad).item(), rel=1e-12)


def test_stop_when_no_errors_can_be_switched_off():
    sol = solve("perceptron", {**AND, "stop_when_no_errors": False, "epochs": 5})
    assert sol.answer["epochs_run"] == 5 and sol.answer["errors_per_epoch"][2:] == [0, 0, 0]
    assert len(sol.answer["steps"]) == 20


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.data())
def test_random_problems_match_plain_loops(n, d, data):
    small = st.integers(-3, 3)
    rule = data.draw(st.sampled_from(["perceptron", "delta"]))
    params = {"points": [[data.draw(small) for _ in range(d)] for _ in range(n)],
              "labels": [data.draw(st.sampled_from([1, -1])) for _ in range(n)],
              "initial_weights": [data.draw(small) for _ in range(d)], "bias": data.draw(small),
              "learning_rate": data.draw(st.sampled_from([0.1, 0.5, 1, "1/4"])), "epochs": data.draw(st.integers(1, 6)),
              "rule": rule}
    if rule == "delta":
        params["activation"] = data.draw(st.sampled_from(["linear", "sigmoid", "tanh"]))
        params["learning_rate"] = 0.05
    sol = solve("perceptron", params)
    expected = oracle(params)
    np.testing.assert_allclose([s["weights"] for s in sol.answer["steps"]], expected["_weights"], rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(sol.answer["errors_per_epoch"], expected["errors_per_epoch"], rtol=1e-9, atol=1e-9)
    assert sol.answer["converged"] == expected["converged"]


def test_separable_data_converge_within_the_bound():
    # Novikoff: at most (R / margin)^2 mistakes; these points have margin 1 for w = (1, 0), b = 0 and R <= 3.
    rng = np.random.default_rng(3)
    x1 = rng.choice([-3, -2, -1, 1, 2, 3], size=12)
    points = np.stack([x1, rng.integers(-2, 3, size=12)], axis=1)
    params = {"points": points.tolist(), "labels": np.sign(x1).astype(int).tolist(), "initial_weights": [0, 0],
              "learning_rate": 1, "epochs": 50}
    sol = solve("perceptron", params)
    assert sol.answer["converged"] and sum(sol.answer["errors_per_epoch"]) <= 13


@pytest.mark.parametrize(("change", "field"), [
    ({"labels": [1, 0, -1, -1]}, "labels[1]"),
    ({"labels": [1, -1]}, "labels"),
    ({"activation": "sigmoid"}, "activation"),
    ({"rule": "delta", "slope": 2}, "slope"),
    ({"initial_weights": [0]}, "initial_weights"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"epochs": 10**6}, "epochs"),
    ({"rule": "hebb"}, "rule"),
    ({"stop_when_no_errors": "yes"}, "stop_when_no_errors"),
])
def test_bad_parameters_name_the_field(change, field):
    with pytest.raises(ParamError) as err:
        solve("perceptron", {**AND, **change})
    assert str(err.value).startswith(field) and "\n" not in str(err.value)
