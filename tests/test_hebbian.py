import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, kind_info, solve
from tests.oracles.optimization import hebbian as oracle

LECTURE = kind_info("hebbian").examples["lecture_two_classes"]


def test_lecture_two_class_example():
    # Lecture notes, "2 Hebbian Learning": w(2..7) = (1.1, 1.1), (2, 2.1), (3, 3.2), (2, 4.2), (0.9, 5.2), (-0.1, 6.3).
    # (The notes write sgn(x5^T w(4)) and sgn(x6^T w(4)) where w(5) and w(6) are meant; the outputs are -1 either way.)
    sol = solve("hebbian", LECTURE)
    weights = [s["weights"] for s in sol.answer["steps"]]
    np.testing.assert_allclose(weights, [[1.1, 1.1], [2, 2.1], [3, 3.2], [2, 4.2], [0.9, 5.2], [-0.1, 6.3]])
    np.testing.assert_allclose(weights, oracle(LECTURE)["_weights"])
    assert [s["output"] for s in sol.answer["steps"]] == [1, 1, 1, -1, -1, -1]
    assert sol.answer["final_weights_exact"] == ["-1/10", "63/10"]
    w = np.array(sol.answer["final_weights"])
    assert (np.sign(np.array(LECTURE["points"]) @ w) == [1, 1, 1, -1, -1, -1]).all()


def test_saturation_example_from_the_notes():
    # The notes: with y = sgn(x^T w), w(1) = 1 and x = 1 fixed, "we obtain 1, 2, 4, 8". That doubling is the
    # LINEAR output (w + w x x = 2w); with the sign output each step adds x: 1, 2, 3, 4 (unbounded, but linearly).
    base = {"points": [[1]], "initial_weights": [1], "learning_rate": 1, "epochs": 3, "rule": "hebb"}
    linear = solve("hebbian", {**base, "output": "linear"})
    sign = solve("hebbian", {**base, "output": "sign"})
    assert [s["weights"] for s in linear.answer["steps"]] == [[2], [4], [8]]
    assert [s["weights"] for s in sign.answer["steps"]] == [[2], [3], [4]]
    assert any("without bound" in w for w in linear.warnings)


def test_damped_rule_tends_to_one_over_one_minus_alpha():
    # The notes: w <- alpha w + x (sign output, x = 1) gives 1, 1 + alpha, 1 + alpha (1 + alpha), ... -> 1/(1 - alpha).
    sol = solve("hebbian", {"points": [[1]], "initial_weights": [1], "learning_rate": 1, "epochs": 40,
                            "output": "sign", "rule": "damped", "alpha": 0.5})
    assert sol.answer["steps"][1]["weights"] == [1.75]
    assert sol.answer["final_weights"][0] == pytest.approx(2.0, abs=1e-9)
    assert not any("without bound" in w for w in sol.warnings)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_oja_converges_to_the_principal_eigenvector(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(3, 3))
    x = rng.normal(size=(40, 3)) @ np.diag([3.0, 1.0, 0.5]) @ np.linalg.qr(A)[0]
    sol = solve("hebbian", {"points": x.tolist(), "initial_weights": rng.normal(size=3).tolist(),
                            "learning_rate": 0.005, "epochs": 150, "output": "linear", "rule": "oja"})
    w = np.array(sol.answer["final_weights"])
    top = np.linalg.eigh(x.T @ x)[1][:, -1]
    assert np.linalg.norm(w) == pytest.approx(1.0, abs=0.05)
    assert abs(w @ top) / np.linalg.norm(w) > 0.99


def test_sign_of_zero_is_reported():
    sol = solve("hebbian", {"points": [[1, -1]], "initial_weights": [1, 1], "learning_rate": 1, "output": "sign",
                            "rule": "hebb"})
    assert any("sign(0) = 0" in w for w in sol.warnings)
    assert sol.answer["final_weights"] == [1, 1]


def test_overflow_stops_with_a_warning():
    sol = solve("hebbian", {"points": [[3, 4]], "initial_weights": [1, 1], "learning_rate": 1, "epochs": 400,
                            "output": "linear", "rule": "hebb"})
    assert any("overflow" in w for w in sol.warnings)
    assert sol.answer["final_weights"] is None and sol.answer["steps"][-1]["weights"] is None


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 2).flatmap(lambda d: st.tuples(
    st.lists(st.lists(st.integers(-3, 3), min_size=d, max_size=d), min_size=1, max_size=5),
    st.lists(st.integers(-2, 2), min_size=d, max_size=d))),
    st.sampled_from([0.5, 0.25, 0.1]), st.integers(1, 3), st.sampled_from(["sign", "linear"]),
    st.sampled_from(["hebb", "oja", "damped"]))
def test_random_runs_match_a_numpy_loop(case, eta, epochs, output, rule):
    points, w0 = case
    params = {"points": points, "initial_weights": w0, "learning_rate": eta, "epochs": epochs, "output": output,
              "rule": rule}
    if rule == "damped":
        params["alpha"] = 0.5
    sol = solve("hebbian", params)
    expected = oracle(params)["_weights"]
    got = [s["weights"] for s in sol.answer["steps"]]
    if any(g is None for g in got):  # stopped at an overflow: compare what was computed
        got = [g for g in got if g is not None]
        expected = expected[:len(got)]
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("params", "field"), [
    ({**LECTURE, "rule": "damped"}, "alpha"),
    ({**LECTURE, "alpha": 0.5}, "alpha"),
    ({**LECTURE, "initial_weights": [1, 2, 3]}, "initial_weights"),
    ({**LECTURE, "output": "tanh"}, "output"),
    ({**LECTURE, "rule": None}, "rule"),
    ({**LECTURE, "epochs": 0}, "epochs"),
    ({**LECTURE, "learning_rate": 0}, "learning_rate"),
    ({**LECTURE, "epochs": 10**5}, "epochs"),
    ({**LECTURE, "eta": 1}, "eta"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("hebbian", params)
    assert str(err.value).startswith(field) and "\n" not in str(err.value)
