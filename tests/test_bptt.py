import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.torch_training import bptt as oracle


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_sequences_match_torch_autograd(data):
    T, d, n = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    loss = data.draw(st.sampled_from(["se", "mse", "ce"]))
    m = data.draw(st.integers(2, 3)) if loss == "ce" else data.draw(st.integers(1, 3))
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    out_act = "softmax" if loss == "ce" else data.draw(st.sampled_from(["linear", "sigmoid", "tanh"]))
    targets = []
    for _ in range(T):
        if data.draw(st.booleans()):
            targets.append(None)
        elif loss == "ce":
            targets.append(np.eye(m)[rng.integers(m)].tolist())
        else:
            targets.append(rng.normal(size=m).round(1).tolist())
    if all(t is None for t in targets):
        targets[-1] = [1.0] + [0.0] * (m - 1)
    params = {"inputs": rng.normal(size=(T, d)).round(1).tolist(), "U": rng.normal(size=(n, d)).round(1).tolist(),
              "W": rng.normal(size=(n, n)).round(1).tolist(), "b": rng.normal(size=n).round(1).tolist(),
              "V": rng.normal(size=(m, n)).round(1).tolist(), "c": rng.normal(size=m).round(1).tolist(),
              "s0": rng.normal(size=n).round(1).tolist(),
              "activation": data.draw(st.sampled_from(["tanh", "sigmoid", "relu", "linear"])),
              "output_activation": out_act, "targets": targets, "loss": loss}
    sol = solve("bptt", params)
    for field, value in oracle(params).items():
        np.testing.assert_allclose(sol.answer[field], value, rtol=1e-9, atol=1e-10, err_msg=field)


def test_many_to_one_gradient_reaches_the_first_step_through_w():
    sol = solve("bptt", {"inputs": [[1], [-1], [2]], "U": [[1], [0.5]], "W": [[0.5, 0], [0.5, -0.5]],
                         "b": [0, 0.1], "V": [[1, -1]], "targets": [None, None, [1]]})
    assert np.abs(sol.answer["deltas"][0]).sum() > 0  # no target there, yet a gradient through time


@pytest.mark.parametrize(("change", "field"), [
    ({"targets": [[1]]}, "targets"),
    ({"targets": [None, None]}, "targets"),
    ({"targets": [[1, 2, 3], None]}, "targets[0]"),
    ({"loss": "ce"}, "loss"),
    ({"cell": "lstm"}, "cell"),
    ({"W": [[1]]}, "W"),
    ({"activation": "softmax"}, "activation"),
])
def test_bad_parameters_name_the_field(change, field):
    base = {"inputs": [[1, 0], [0, 1]], "U": [[1, -1], [0.5, 1]], "W": [[0.5, 0], [0, 0.5]],
            "targets": [[1, 0], [0, 1]]}
    with pytest.raises(ParamError) as err:
        solve("bptt", {**base, **change})
    assert str(err.value).startswith(field) and "\n" not in str(err.value)
