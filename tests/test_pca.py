import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.statistics import pca as oracle


def test_lecture_13_whitened_data_have_identity_covariance():
    sol = solve("pca", {"X": [[2, 0], [0, 1], [4, 5], [2, 2]], "whiten": True})
    white = np.array(sol.answer["whitened"])
    np.testing.assert_allclose(white.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(white.T @ white / 4, np.eye(2), atol=1e-12)
    # C = [[2, 2], [2, 7/2]]: lambda = 11/4 +- sqrt(73)/4, exactly.
    assert sol.answer["covariance_exact"] == [["2", "2"], ["2", "7/2"]]
    assert sol.answer["eigenvalues_exact"] == ["sqrt(73)/4 + 11/4", "11/4 - sqrt(73)/4"]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.integers(1, 4), st.integers(0, 1), st.booleans(), st.data())
def test_random_data_match_the_svd_of_the_centred_data(n, d, ddof, whiten, data):
    X = [[data.draw(st.integers(-4, 4)) for _ in range(d)] for _ in range(n)]
    k = data.draw(st.integers(1, d))
    params = {"X": X, "ddof": ddof, "components": k, "whiten": whiten}
    try:
        sol = solve("pca", params)
    except ParamError as err:  # constant data, or whitening a zero eigenvalue
        assert str(err).startswith(("X", "whiten", "ddof"))
        return
    for field, value in oracle(params).items():
        np.testing.assert_allclose(sol.answer[field], value, rtol=1e-7, atol=1e-9, err_msg=field)


def test_repeated_eigenvalue_is_a_warning():
    sol = solve("pca", {"X": [[1, 0], [-1, 0], [0, 1], [0, -1]]})
    assert sol.answer["eigenvalues"] == pytest.approx([0.5, 0.5])
    assert any("equal" in w for w in sol.warnings)


@pytest.mark.parametrize(("params", "field"), [
    ({"X": [[1, 2], [2, 4], [3, 6]], "whiten": True}, "whiten"),
    ({"X": [[1, 1], [1, 1]]}, "X"),
    ({"X": [[1, 2]], "ddof": 1}, "ddof"),
    ({"X": [[1, 2], [3, 4]], "components": 3}, "components"),
    ({"X": [[1, 2], [3]]}, "X"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("pca", params)
    assert str(err.value).startswith(field) and "\n" not in str(err.value)
