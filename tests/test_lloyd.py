import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, kind_info, solve
from tests.oracles.clustering import lloyd as oracle


def test_mock_final_question_1():
    # Mock final Q1: start from the 2nd and 3rd points. The seed's key writes the updated centres as
    # "0.99 / 2" stacked over 1, i.e. (0.495, 1) and (-0.495, -1): the truth agrees, and Lloyd stops at
    # the second assignment step.
    params = kind_info("lloyd").examples["mock_final_q1"]
    sol = solve("lloyd", params)
    expected = oracle(params)
    np.testing.assert_allclose(sol.answer["final_centers"], expected["final_centers"])
    assert sol.answer["final_centers_exact"] == [["99/200", "1"], ["-99/200", "-1"]]
    assert sol.answer["num_iterations"] == 2 and sol.answer["converged"]
    assert sol.answer["final_assignments"] == [0, 0, 1, 1]


def test_tie_is_reported_and_broken_towards_lower_index():
    sol = solve("lloyd", {"points": [[0, 0], [1, 0], [2, 0]], "initial_centers": [[0, 0], [2, 0]]})
    assert any("equidistant" in w for w in sol.warnings)
    assert sol.answer["iterations"][0]["assignments"] == [0, 0, 1]


def test_empty_cluster_is_reported():
    sol = solve("lloyd", {"points": [[0, 0], [1, 0]], "initial_centers": [[0, 0], [50, 50], [0.5, 0]]})
    assert any("empty" in w for w in sol.warnings)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.integers(-9, 9), min_size=2, max_size=2), min_size=n, max_size=n),
    st.lists(st.integers(0, n - 1), min_size=1, max_size=min(n, 4), unique=True))))
def test_random_problems_match_a_direct_numpy_loop(case):
    points, indices = case
    params = {"points": points, "initial_indices": indices}
    sol = solve("lloyd", params)
    expected = oracle(params)
    np.testing.assert_allclose(sol.answer["final_energy"], expected["final_energy"], atol=1e-9)
    np.testing.assert_allclose(sol.answer["final_centers"], expected["final_centers"], atol=1e-9)
    assert sol.answer["num_iterations"] == expected["num_iterations"]


@pytest.mark.parametrize(("params", "field"), [
    ({"initial_indices": [0]}, "points"),
    ({"points": [[0, 0]], "initial_indices": [3]}, "initial_indices[0]"),
    ({"points": [[0, 0], [1]], "initial_indices": [0]}, "points"),
    ({"points": [[0, "a"]], "initial_indices": [0]}, "points[0][1]"),
    ({"points": [[0, float("nan")]], "initial_indices": [0]}, "points[0][1]"),
    ({"points": [[0, 0]], "initial_centers": [[0, 0, 0]]}, "initial_centers"),
    ({"points": [[0, 0]]}, "initial_centers"),
    ({"points": [[0, 0]], "initial_indices": [0], "max_iter": 3}, "max_iter"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("lloyd", params)
    assert str(err.value).startswith(field)
    assert "\n" not in str(err.value)
