import json
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from templates.figures import draw
from tests.oracles.optimization import gradient_descent as oracle

HW5 = {"objective": "13*w1^2 - 10*w1*w2 + 4*w1 + 2*w2^2 - 2*w2 + 1", "variables": ["w1", "w2"],
       "start": [0, 0], "learning_rate": 0.02, "iterations": 500}


def _figure(sol):
    return next(s.figure for s in sol.steps if s.figure is not None)


def test_homework5_q1_optimum_and_critical_rate():
    # HW5 Q1 key: grad = (26 w1 - 10 w2 + 4, -10 w1 + 4 w2 - 2) = 0 gives w* = (1, 3). Check it by sympy here.
    w1, w2 = sp.symbols("w1 w2")
    R = 13 * w1**2 - 10 * w1 * w2 + 4 * w1 + 2 * w2**2 - 2 * w2 + 1
    star = sp.solve([sp.diff(R, w1), sp.diff(R, w2)], [w1, w2])
    assert star == {w1: 1, w2: 3}
    sol = solve("gradient_descent", HW5)
    assert sol.answer["stationary_points_exact"] == [["1", "3"]]
    assert sol.answer["gradient"] == ["26*w1 - 10*w2 + 4", "-10*w1 + 4*w2 - 2"]
    # Hessian [[26, -10], [-10, 4]]: eigenvalues 15 -+ sqrt(221), critical rate 2/(15 + sqrt(221)) = 0.06697.
    assert sol.answer["hessian_eigenvalues_exact"] == ["15 - sqrt(221)", "sqrt(221) + 15"]
    assert sol.answer["critical_learning_rate"] == pytest.approx(2 / (15 + np.sqrt(221)))
    assert sol.answer["converges"] is True and len(sol.answer["iterates"]) == 501
    d = sol.answer["distance_to_optimum"]
    assert d[0] == pytest.approx(np.sqrt(10)) and d[-1] < d[0]
    fig = _figure(sol)
    labels = [s["label"] for s in fig.data["series"]]
    assert any("(given)" in label for label in labels) and len(labels) >= 3
    assert any(s["diverges"] for s in fig.data["series"])  # a rate above the critical one is drawn


@pytest.mark.parametrize(("eta", "converges"), [(0.02, True), (0.05, True), (0.1, False)])
def test_homework5_larger_eta_is_unstable(eta, converges):
    # The key's (c) says larger eta is unstable: indeed 0.1 > 2/lambda_max = 0.067 diverges, 0.05 does not.
    sol = solve("gradient_descent", {**HW5, "learning_rate": eta, "iterations": 40})
    assert sol.answer["converges"] is converges
    d = sol.answer["distance_to_optimum"]
    assert (d[-1] < d[0]) is converges
    assert any("does not converge" in w for w in sol.warnings) is (not converges)


def test_lecture8_quartic_exact_iterates():
    # Lecture 8: R = w^4, eta = 1/8, w(0) = 1. The notes write w(2) = 3/16: a slip, 1/2 - 4 (1/8)(1/8) = 7/16.
    sol = solve("gradient_descent", {"objective": "w^4", "variables": ["w"], "start": 1,
                                     "learning_rate": "1/8", "iterations": 3})
    assert sol.answer["iterates_exact"] == ["1", "1/2", "7/16", "3241/8192"]
    assert sol.answer["final"] == pytest.approx(3241 / 8192)
    assert "stationary_points" not in sol.answer  # not quadratic


def test_lecture8_quartic_eta_half_oscillates():
    sol = solve("gradient_descent", {"objective": "w^4", "variables": "w", "start": 1, "learning_rate": 0.5,
                                     "iterations": 4})
    assert sol.answer["iterates_exact"] == ["1", "-1", "1", "-1", "1"]


def test_one_variable_list_start_keeps_its_shape():
    # A one-element start gives one-element points, as every other dimension does; a bare number gives numbers.
    params = {"objective": "w^2 - 2*w", "variables": ["w"], "start": [2], "learning_rate": 0.08, "iterations": 2}
    sol = solve("gradient_descent", params)
    assert sol.answer["iterates"] == [[2.0], [1.84], [1.7056]]
    assert sol.answer["final"] == [1.7056] and sol.answer["iterates_exact"][1] == ["46/25"]
    assert sol.answer["stationary_points"] == [[1.0]] and sol.answer["stationary_points_exact"] == [["1"]]
    np.testing.assert_allclose(sol.answer["iterates"], oracle(params)["iterates"], rtol=1e-12)
    bare = solve("gradient_descent", {**params, "start": 2})
    assert bare.answer["iterates"] == [2.0, 1.84, 1.7056] and bare.answer["final"] == 1.7056


def test_divergence_is_reported_and_json_stays_valid():
    sol = solve("gradient_descent", {"objective": "w^4", "variables": ["w"], "start": 1, "learning_rate": 1,
                                     "iterations": 30})
    assert any("diverge" in w for w in sol.warnings)
    assert sol.answer["final"] is None and sol.answer["iterates"][-1] is None
    assert len(sol.answer["iterates"]) == 31
    text = json.dumps(sol.to_json(), allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text


def test_float_objective_coefficients_are_read_as_decimals():
    sol = solve("gradient_descent", {"objective": "0.5*w^2", "variables": ["w"], "start": 2,
                                     "learning_rate": 0.5, "iterations": 2})
    assert sol.answer["iterates_exact"] == ["2", "1", "1/2"]
    assert sol.answer["critical_learning_rate"] == 2


def test_figure_draws(tmp_path):
    for params in (HW5, {"objective": "exp(w) - 2*w", "variables": ["w"], "start": 0, "learning_rate": 0.3,
                         "iterations": 20}):
        path = draw(_figure(solve("gradient_descent", {**params, "iterations": 20})), tmp_path / "f.svg")
        assert path.stat().st_size > 1000


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(-3, 3), st.integers(1, 6), st.integers(-5, 5), st.integers(-5, 5),
       st.sampled_from([Fraction(1, 50), Fraction(1, 20), Fraction(1, 8), Fraction(3, 10)]),
       st.lists(st.integers(-3, 3), min_size=2, max_size=2), st.integers(0, 12))
def test_random_quadratics_match_torch_autograd(a, b, c, d, e, eta, start, iterations):
    params = {"objective": f"{a}*x^2 + {b}*x*y + {c}*y^2 + {d}*x + {e}*y", "variables": ["x", "y"],
              "start": start, "learning_rate": str(eta), "iterations": iterations}
    sol = solve("gradient_descent", params)
    expected = oracle(params)
    np.testing.assert_allclose(np.asarray(sol.answer["iterates"], dtype=float), expected["iterates"],
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sol.answer["hessian_eigenvalues"], expected["hessian_eigenvalues"], atol=1e-9)
    if 4 * a * c - b * b != 0:
        np.testing.assert_allclose(sol.answer["stationary_points"], expected["stationary_points"], atol=1e-9)
        np.testing.assert_allclose(sol.answer["distance_to_optimum"], expected["distance_to_optimum"],
                                   rtol=1e-9, atol=1e-9)
        assert sol.answer["converges"] == expected["converges"]


@pytest.mark.parametrize(("params", "field"), [
    ({**HW5, "iterations": 10**6}, "iterations"),
    ({**HW5, "iterations": -1}, "iterations"),
    ({**HW5, "objective": "13*w1^2 + z"}, "objective"),
    ({**HW5, "objective": "__import__('os')"}, "objective"),
    ({**HW5, "variables": ["w1", "w1"]}, "variables"),
    ({**HW5, "variables": ["w1", "exp"]}, "variables[1]"),
    ({**HW5, "start": [0]}, "start"),
    ({**HW5, "start": [0, "a"]}, "start[1]"),
    ({**HW5, "learning_rate": -0.1}, "learning_rate"),
    ({**HW5, "learning_rate": None}, "learning_rate"),
    ({**HW5, "eta": 0.1}, "eta"),
    ({**HW5, "compare_rates": 0.1}, "compare_rates"),
    ({**HW5, "compare_rates": [0.1, -0.2]}, "compare_rates[1]"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("gradient_descent", params)
    assert str(err.value).startswith(field) and "\n" not in str(err.value)


def test_exact_iterates_stay_exact_with_halves_in_the_gradient():
    """x_1/2 in the gradient once made Python floats (lambdify printed 1/2 as a float division), so the 'exact'
    iterates were floats turned back into long fractions; an independent Fraction loop must match exactly."""
    params = {"objective": "1.5*x_0**2 + 0.5*x_0*x_1 + 2.0*x_0 + 0.5*x_1**2 - 1.5*x_1 + 2.5",
              "variables": ["x_0", "x_1"], "start": [0, 2], "learning_rate": 0.3, "iterations": 4}
    w, eta = [Fraction(0), Fraction(2)], Fraction(3, 10)
    expected = [[str(v) for v in w]]
    for _ in range(4):
        g = [3 * w[0] + w[1] / 2 + 2, w[0] / 2 + w[1] - Fraction(3, 2)]
        w = [wi - eta * gi for wi, gi in zip(w, g, strict=True)]
        expected.append([str(v) for v in w])
    assert solve("gradient_descent", params).answer["iterates_exact"] == expected


def test_compare_rates_plot_the_asked_runs_and_the_divergent_one_is_cut():
    """HW5 Q1(b): 500 iterations for eta = 0.02, 0.05, 0.1; each curve against a direct loop on the
    gradient written by hand (26 w1 - 10 w2 + 4, -10 w1 + 4 w2 - 2), w* = (1, 3)."""
    sol = solve("gradient_descent", {**HW5, "compare_rates": [0.1, 0.02, 0.05]})
    fig = _figure(sol)
    assert [s["diverges"] for s in fig.data["series"]] == [False, False, True]
    assert "$eta = 0.02, 0.05, 0.1$" in fig.caption and "$eta = 0.1$ after iteration" in fig.caption
    for rate, series in zip([0.02, 0.05, 0.1], fig.data["series"], strict=True):
        w, ys = [0.0, 0.0], []
        for _ in range(501):
            ys.append(float(np.hypot(w[0] - 1, w[1] - 3)))
            if ys[-1] > 1e4 * ys[0] or len(ys) == 501:
                break
            g = (26 * w[0] - 10 * w[1] + 4, -10 * w[0] + 4 * w[1] - 2)
            w = [w[0] - rate * g[0], w[1] - rate * g[1]]
        np.testing.assert_allclose(series["y"], ys, rtol=1e-9)
    assert len(fig.data["series"][0]["y"]) == 501 and len(fig.data["series"][2]["y"]) < 30
    assert sol.params["compare_rates"] == [0.02, 0.05, 0.1]
