import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers
from solvers import ParamError, solve
from tests.oracles.torch_training import optimizer_step as oracle


def _compare(params):
    sol = solve("optimizer_step", params)
    expected = oracle(params)
    np.testing.assert_allclose(sol.answer["iterates"], expected["iterates"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sol.answer["gradients"], expected["gradients"], rtol=1e-9, atol=1e-12)
    for ours, torchs in zip(sol.answer["state"], expected["_state"], strict=True):
        assert set(ours) == set(torchs)
        for name in ours:
            np.testing.assert_allclose(ours[name], torchs[name], rtol=1e-9, atol=1e-12, err_msg=name)
    return sol


@pytest.mark.parametrize("label", sorted(solvers.kind_info("optimizer_step").examples))
def test_examples_match_torch_optim_with_their_buffers(label):
    _compare(solvers.kind_info("optimizer_step").examples[label])


def test_sgd_family_is_exact():
    sol = solve("optimizer_step", {"params": [1, -2], "gradients": [[2, -4], [1, -1], [0.5, 0]],
                                   "optimizer": "nesterov", "lr": 0.1, "momentum": 0.5})
    # b1 = g1 = (2, -4); p1 = p0 - 0.1 (g1 + 0.5 b1) = (1, -2) - 0.1 (3, -6) = (0.7, -1.4).
    assert sol.answer["iterates_exact"][1] == ["7/10", "-7/5"]
    assert sol.answer["state"][0] == {"momentum_buffer": [2.0, -4.0]}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]), st.data())
def test_random_problems_match_torch_optim(optimizer, data):
    d = data.draw(st.integers(1, 3))
    value = st.sampled_from([-2, -1, -0.5, 0, 0.25, 1, 3])
    params = {"params": [data.draw(value) for _ in range(d)], "optimizer": optimizer,
              "lr": data.draw(st.sampled_from([0.01, 0.1, 0.5]))}
    if data.draw(st.booleans()):
        params["gradients"] = [[data.draw(value) for _ in range(d)] for _ in range(data.draw(st.integers(1, 5)))]
    else:
        names = ["a", "b", "c"][:d]
        params.update(objective=" + ".join(f"{k + 1}*{n}^2 - {n}" for k, n in enumerate(names)), variables=names,
                      steps=data.draw(st.integers(1, 6)))
    if data.draw(st.booleans()):
        params["weight_decay"] = data.draw(st.sampled_from([0.01, 0.5]))
    if optimizer in ("momentum", "nesterov"):
        params["momentum"] = data.draw(st.sampled_from([0.5, 0.9]))
        if optimizer == "momentum":
            params["dampening"] = data.draw(st.sampled_from([0, 0.1]))
    if optimizer == "rmsprop":
        params.update(alpha=data.draw(st.sampled_from([0.9, 0.99])), centered=data.draw(st.booleans()),
                      momentum=data.draw(st.sampled_from([0, 0.5])))
    if optimizer == "adam":
        params["betas"] = data.draw(st.sampled_from([[0.9, 0.999], [0.5, 0.9]]))
    if optimizer == "adagrad":
        params["initial_accumulator_value"] = data.draw(st.sampled_from([0, 0.1]))
    if optimizer in ("adagrad", "rmsprop", "adam"):
        params["eps"] = data.draw(st.sampled_from([1e-8, 0.1]))
    _compare(params)


def test_zero_gradient_with_zero_eps_is_refused_not_nan():
    with pytest.raises(ParamError) as err:
        solve("optimizer_step", {"params": [1], "gradients": [[0]], "optimizer": "adam", "lr": 0.1, "eps": 0})
    assert str(err.value).startswith("eps")


@pytest.mark.parametrize(("params", "field"), [
    ({"optimizer": "adam", "momentum": 0.9}, "momentum"),
    ({"optimizer": "sgd", "momentum": 0.9}, "momentum"),
    ({"optimizer": "momentum"}, "momentum"),
    ({"optimizer": "nesterov", "momentum": 0.9, "dampening": 0.1}, "dampening"),
    ({"optimizer": "sgd", "betas": [0.9, 0.99]}, "betas"),
    ({"optimizer": "adam", "betas": [0.9, 1]}, "betas[1]"),
    ({"optimizer": "rmsprop", "alpha": 1.5}, "alpha"),
    ({"optimizer": "adagrad", "alpha": 0.9}, "alpha"),
    ({"optimizer": "adam", "lr": None}, "lr"),
    ({"optimizer": "adam", "lr": -1}, "lr"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"optimizer": "sgd", "gradients": [[1]]}, "gradients"),
    ({"optimizer": "sgd", "steps": 3}, "steps"),
    ({"optimizer": "sgd", "gradients": None, "objective": "a^2", "variables": ["a"]}, "variables"),
])
def test_bad_parameters_name_the_field(params, field):
    base = {"params": [1, 2], "gradients": [[1, 1]], "lr": 0.1}
    with pytest.raises(ParamError) as err:
        solve("optimizer_step", {**base, **params})
    assert str(err.value).startswith(field) and "\n" not in str(err.value)


def test_divergence_is_refused_with_the_learning_rate():
    with pytest.raises(ParamError) as err:
        solve("optimizer_step", {"params": [1], "objective": "w^4", "variables": ["w"], "steps": 50,
                                 "optimizer": "sgd", "lr": 1})
    assert str(err.value).startswith("lr")


def test_cheat_sheets_momentum_form_gives_torchs_iterates():
    # Cheat sheet: v <- alpha v - eps g, theta <- theta + v (v from 0). torch: b <- mu b + g, p <- p - lr b. With a
    # constant rate v = -lr b, so both forms give the same iterates.
    params = {"params": [0, 0], "objective": "13*w1^2 - 10*w1*w2 + 4*w1 + 2*w2^2 - 2*w2 + 1",
              "variables": ["w1", "w2"], "steps": 8, "optimizer": "momentum", "lr": 0.02, "momentum": 0.9}
    theta, v = np.zeros(2), np.zeros(2)
    path = [theta.copy()]
    for _ in range(8):
        g = np.array([26 * theta[0] - 10 * theta[1] + 4, -10 * theta[0] + 4 * theta[1] - 2])
        v = 0.9 * v - 0.02 * g
        theta = theta + v
        path.append(theta.copy())
    np.testing.assert_allclose(solve("optimizer_step", params).answer["iterates"], path, rtol=1e-12, atol=1e-15)


def test_eps_goes_outside_the_square_root_not_inside_as_the_cheat_sheet_writes():
    # Cheat sheet (Adagrad): theta <- theta - eps / sqrt(a + small) g. torch: lr g / (sqrt(sum) + eps).
    sol = solve("optimizer_step", {"params": [1], "gradients": [[0.5]], "optimizer": "adagrad", "lr": 1, "eps": 0.25})
    assert sol.answer["final"][0] == pytest.approx(1 - 0.5 / (0.5 + 0.25))
    assert sol.answer["final"][0] != pytest.approx(1 - 0.5 / np.sqrt(0.25 + 0.25))
