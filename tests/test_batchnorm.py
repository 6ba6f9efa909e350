import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.torch_training import batchnorm as oracle


def test_cheat_sheet_batch_by_hand():
    # Feature 1: 1, 3, 5, 7 -> mean 4, biased variance (9 + 1 + 1 + 9)/4 = 5; x_hat of 1 is -3/sqrt(5 + 1e-5).
    sol = solve("batchnorm", {"X": [[1, 2], [3, 6], [5, 4], [7, 0]]})
    assert sol.answer["mean"] == [4.0, 3.0] and sol.answer["variance"] == [5.0, 5.0]
    assert sol.answer["x_hat"][0][0] == pytest.approx(-3 / np.sqrt(5 + 1e-5))
    # running_var: 0.9 * 1 + 0.1 * (4/3) 5, the unbiased variance.
    assert sol.answer["running_var_after"][0] == pytest.approx(0.9 + 0.1 * 20 / 3)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([2, 4]), st.sampled_from(["train", "eval"]), st.data())
def test_random_batches_match_torch_batch_norm(rank, mode, data):
    shape = (data.draw(st.integers(2, 4)), data.draw(st.integers(1, 3))) + ((2, 2) if rank == 4 else ())
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    C = shape[1]
    params = {"X": rng.normal(size=shape).round(2).tolist(), "gamma": rng.normal(size=C).round(2).tolist(),
              "beta": rng.normal(size=C).round(2).tolist(), "mode": mode, "momentum": 0.3,
              "running_mean": rng.normal(size=C).round(2).tolist(),
              "running_var": rng.uniform(0.5, 2, size=C).round(2).tolist(),
              "upstream": rng.normal(size=shape).round(2).tolist()}
    sol = solve("batchnorm", params)
    for field, value in oracle(params).items():
        np.testing.assert_allclose(sol.answer[field], value, rtol=1e-9, atol=1e-10, err_msg=field)


@pytest.mark.parametrize(("params", "field"), [
    ({"X": [[1, 2]]}, "X"),
    ({"X": [1, 2, 3]}, "X"),
    ({"X": [[1, 2], [3, 4]], "gamma": [1]}, "gamma"),
    ({"X": [[1, 2], [1, 4]], "eps": 0}, "eps"),
    ({"X": [[1, 2], [3, 4]], "mode": "test"}, "mode"),
    ({"X": [[1, 2], [3, 4]], "running_var": [1, -1]}, "running_var[1]"),
    ({"X": [[1, 2], [3, 4]], "momentum": 2}, "momentum"),
    ({"X": [[1, 2], [3, 4]], "upstream": [[1, 2]]}, "upstream"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("batchnorm", params)
    assert str(err.value).startswith(field) and "\n" not in str(err.value)


def test_eval_mode_with_one_sample_is_fine():
    sol = solve("batchnorm", {"X": [[1, 2]], "mode": "eval", "upstream": [[1, 1]]})
    np.testing.assert_allclose(sol.answer["grad_X"], [[1 / np.sqrt(1 + 1e-5)] * 2])
