import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.optimization import linear_regression as oracle


def test_strang_line_fit():
    # Strang, Introduction to Linear Algebra 4.3: fit C + D t to b = 6, 0, 0 at t = 0, 1, 2: C = 5, D = -3, E = 6.
    sol = solve("linear_regression", {"X": [[1, 0], [1, 1], [1, 2]], "Y": [[6], [0], [0]]})
    assert sol.answer["W_exact"] == [["5", "-3"]] and sol.answer["risk_exact"] == "6"
    assert sol.answer["normal_equations"]["XtX"] == [[3, 3], [3, 5]]
    assert not sol.warnings


def test_orientation_matches_the_lecture_formula():
    # The lecture keeps samples as columns: W = Y' X'^T (X' X'^T)^-1 with X' = X^T, Y' = Y^T.
    X = np.array([[1.0, 2, 0], [0, 1, 1], [2, 0, 1], [1, 1, 1], [3, 1, 0]])
    Y = np.array([[1.0, 0], [2, 1], [0, 1], [1, 1], [2, 2]])
    sol = solve("linear_regression", {"X": X.tolist(), "Y": Y.tolist()})
    Xc, Yc = X.T, Y.T
    W = Yc @ Xc.T @ np.linalg.inv(Xc @ Xc.T)
    np.testing.assert_allclose(sol.answer["W"], W, atol=1e-12)
    np.testing.assert_allclose(sol.answer["risk"], ((Y - X @ W.T) ** 2).sum())


def test_singular_gives_the_minimum_norm_solution_with_a_warning():
    params = {"X": [[1, 2], [2, 4], [3, 6]], "Y": [1, 2, 2]}
    sol = solve("linear_regression", params)
    assert any("singular" in w for w in sol.warnings)
    np.testing.assert_allclose(sol.answer["W"], oracle(params)["W"])
    np.testing.assert_allclose(sol.answer["risk"], oracle(params)["risk"])


def test_large_input_uses_floats():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(300, 3)), rng.normal(size=(300, 2))
    sol = solve("linear_regression", {"X": X.tolist(), "Y": Y.tolist()})
    assert "W_exact" not in sol.answer
    np.testing.assert_allclose(sol.answer["W"], oracle({"X": X, "Y": Y})["W"], atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.integers(-4, 4), min_size=2, max_size=2), min_size=n, max_size=n),
    st.lists(st.lists(st.integers(-4, 4), min_size=2, max_size=2), min_size=n, max_size=n))))
def test_random_problems_match_lstsq(case):
    X, Y = case
    params = {"X": X, "Y": Y}
    sol = solve("linear_regression", params)
    expected = oracle(params)
    np.testing.assert_allclose(sol.answer["W"], expected["W"], atol=1e-9)
    np.testing.assert_allclose(sol.answer["risk"], expected["risk"], atol=1e-9)


@pytest.mark.parametrize(("params", "field"), [
    ({"X": [[1, 2]]}, "Y"),
    ({"X": [[1, 2], [3, 4]], "Y": [[1], [2], [3]]}, "Y"),
    ({"X": [[1, "a"]], "Y": [1]}, "X[0][1]"),
    ({"X": [[1, 2], [3]], "Y": [1, 2]}, "X"),
    ({"X": [[1]], "Y": [1], "bias": True}, "bias"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("linear_regression", params)
    assert str(err.value).startswith(field) and "\n" not in str(err.value)
