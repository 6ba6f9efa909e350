import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import solvers
from solvers import ParamError, solve
from tests.oracles.statistics import gmm_em as oracle

FIELDS = ("responsibilities", "weights", "means", "covariances", "log_likelihood")


@pytest.mark.parametrize("label", sorted(solvers.kind_info("gmm_em").examples))
def test_every_iteration_matches_scipy_em(label):
    params = solvers.kind_info("gmm_em").examples[label]
    sol = solve("gmm_em", params)
    for ours, theirs in zip(sol.answer["iterations"], oracle(params)["_iterations"], strict=True):
        for field in FIELDS:
            np.testing.assert_allclose(ours[field], theirs[field], rtol=1e-9, atol=1e-12, err_msg=field)
    lls = [it["log_likelihood"] for it in sol.answer["iterations"]] + [sol.answer["final_log_likelihood"]]
    assert all(b >= a - 1e-9 for a, b in zip(lls, lls[1:], strict=False))  # EM never decreases it


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 2), st.integers(0, 10**6))
def test_random_mixtures_match_scipy_em(d, seed):
    rng = np.random.default_rng(seed)
    points = np.vstack([rng.normal(0, 1, size=(4, d)), rng.normal(4, 1, size=(4, d))]).round(2)
    params = {"points": points.tolist(), "initial_means": points[[0, 5]].tolist(), "iterations": 3}
    try:
        sol = solve("gmm_em", params)
    except ParamError as err:
        assert str(err).startswith("iterations")
        return
    expected = oracle(params)
    for field in ("final_means", "final_covariances", "final_weights", "final_log_likelihood"):
        np.testing.assert_allclose(sol.answer[field], expected[field], rtol=1e-8, atol=1e-10, err_msg=field)


@pytest.mark.parametrize(("change", "field"), [
    ({"initial_covariances": [[[1, 0], [0, 0]], [[1, 0], [0, 1]]]}, "initial_covariances[0]"),
    ({"initial_covariances": [[[1, 2], [0, 1]], [[1, 0], [0, 1]]]}, "initial_covariances[0]"),
    ({"initial_covariances": [[[1, 0], [0, 1]], [[-1, 0], [0, 1]]]}, "initial_covariances[1]"),
    ({"initial_weights": [0.5, 0.6]}, "initial_weights"),
    ({"initial_weights": [1, 0]}, "initial_weights[1]"),
    ({"initial_means": [[0, 0, 0]]}, "initial_means"),
    ({"iterations": 0}, "iterations"),
])
def test_bad_parameters_name_the_field(change, field):
    base = {"points": [[0, 0], [1, 0], [0, 1], [4, 4]], "initial_means": [[0, 0], [4, 4]]}
    with pytest.raises(ParamError) as err:
        solve("gmm_em", {**base, **change})
    assert str(err.value).startswith(field) and "\n" not in str(err.value)


def test_a_component_collapsing_onto_one_point_is_refused_naming_it():
    with pytest.raises(ParamError) as err:
        solve("gmm_em", {"points": [[0], [10], [10.1]], "initial_means": [[0], [10]],
                         "initial_covariances": [[[0.01]], [[1]]], "iterations": 2})
    assert "component 0" in str(err.value)
