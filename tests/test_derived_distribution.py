import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.probability import derived_distribution as oracle

x = sp.Symbol("x")


def same(a, b):
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def test_lecture_19_minus_log_of_a_uniform():
    # Lecture 19 ("derived distributions"): Z uniform on [0, 1], x = -log z, f^-1(x) = e^-x. The seed writes
    # p_X = 1 * (-e^-x) "= e^-x for x < 0": it keeps the signed Jacobian (a negative density) and puts the
    # support on the wrong side (e^-x in (0, 1) means x > 0). The truth: p_X(x) = e^-x on [0, oo).
    sol = solve("derived_distribution", {"z_density": "1", "z_support": [0, 1], "transform": "-log(z)"})
    assert same(sol.answer["density"], "exp(-x)")
    assert sol.answer["support"] == [0.0, float("inf")]
    assert sol.answer["support_exact"] == ["0", "oo"]
    assert "|dz/dx|" in sol.steps[1].text


def test_decreasing_affine_transform_by_monte_carlo_histogram():
    # Z with density 2z on [0, 1] (Z = sqrt(U)), x = 3 - 2z: density (3 - x)/2 on [1, 3]
    sol = solve("derived_distribution", {"z_density": "2*z", "z_support": [0, 1], "transform": "3 - 2*z"})
    assert sol.answer["support"] == [1.0, 3.0]
    density = sp.lambdify(x, sp.sympify(sol.answer["density"]))
    samples = 3 - 2 * np.sqrt(np.random.default_rng(0).random(200_000))
    counts, edges = np.histogram(samples, bins=20, range=(1, 3))
    mids = (edges[:-1] + edges[1:]) / 2
    np.testing.assert_allclose(counts / len(samples) / (edges[1] - edges[0]), density(mids), atol=0.02)


def test_lognormal():
    sol = solve("derived_distribution", {"z_density": "exp(-z^2/2)/sqrt(2*pi)", "z_support": ["-oo", "oo"],
                                         "transform": "exp(z)"})
    assert same(sol.answer["density"], "exp(-log(x)**2/2)/(x*sqrt(2*pi))")
    assert sol.answer["support"] == [0.0, float("inf")]


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 3), st.integers(-3, 3).filter(lambda a: a != 0), st.integers(-3, 3))
def test_affine_transforms_of_power_densities(k, a, b):
    params = {"z_density": f"{k + 1}*z^{k}", "z_support": [0, 1], "transform": f"{a}*z + {b}"}
    sol = solve("derived_distribution", params)
    expected = oracle(params)
    assert same(sol.answer["density"], expected["density"])
    assert sol.answer["support"] == expected["support"] == sorted([b, a + b])
    d = sp.sympify(sol.answer["density"])
    assert sp.integrate(d, (x, *map(sp.Rational, sol.answer["support_exact"]))) == 1
    lo, hi = sol.answer["support"]
    for t in np.linspace(lo, hi, 7)[1:-1]:
        assert float(d.subs(x, t)) >= 0


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"z_density": "1/2", "z_support": [-1, 1], "transform": "z^2"}, "transform", "not monotone"),
    ({"z_density": "1", "z_support": [0, 1], "transform": "sin(6*z)"}, "transform", "not monotone"),
    ({"z_density": "1", "z_support": [0, 1], "transform": "1/(z - 1/3)"}, "transform", "not continuous"),
    ({"z_density": "1", "z_support": [0, 1], "transform": "4"}, "transform", "constant"),
    ({"z_density": "z", "z_support": [0, 1], "transform": "z"}, "z_density", "integrates to 1/2"),
    ({"z_density": "1", "z_support": [0, 1]}, "transform", "missing"),
    ({"z_density": "1", "z_support": [0], "transform": "z"}, "z_support", "interval"),
])
def test_bad_parameters_name_the_field(params, field, words):
    with pytest.raises(ParamError) as err:
        solve("derived_distribution", params)
    message = str(err.value)
    assert message.startswith(field) and words in message and "\n" not in message


# --- d variables: p_X(x) = p_Z(f^-1(x)) |det dz/dx| ------------------------------------------------------------

SUM_AND_SHARE = {"z_density": "exp(-z1 - z2)", "z_support": [[0, "oo"], [0, "oo"]],
                 "transform": ["z1 + z2", "z1/(z1 + z2)"]}


def test_sum_and_share_of_exponentials_by_monte_carlo():
    # X1 = Z1 + Z2 ~ Gamma(2), X2 = Z1 / (Z1 + Z2) ~ U(0, 1), independent: p_X = x1 e^(-x1) on (0, oo) x (0, 1).
    from scipy import integrate

    sol = solve("derived_distribution", SUM_AND_SHARE)
    x1, x2 = sp.symbols("x1 x2", real=True)
    density = sp.sympify(sol.answer["density"], locals={"x1": x1, "x2": x2})
    assert sp.simplify(density - x1 * sp.exp(-x1)) == 0
    assert sp.integrate(density, (x1, 0, sp.oo), (x2, 0, 1)) == 1
    rng = np.random.default_rng(0)
    z = rng.exponential(size=(400_000, 2))
    x = np.stack([z.sum(1), z[:, 0] / z.sum(1)], axis=1)
    box = (0.5, 2.0, 0.2, 0.7)
    inside = ((x[:, 0] > box[0]) & (x[:, 0] < box[1]) & (x[:, 1] > box[2]) & (x[:, 1] < box[3])).mean()
    f = sp.lambdify((x1, x2), density)
    exact, _ = integrate.dblquad(lambda b, a: f(a, b), box[0], box[1], box[2], box[3])
    assert inside == pytest.approx(exact, abs=4e-3)


def test_shear_of_normals_integrates_to_one_and_keeps_the_signed_determinant():
    sol = solve("derived_distribution", {"z_density": "exp(-(z1^2 + z2^2)/2)/(2*pi)", "z_support": ["R", "R"],
                                         "transform": ["z1", "z1 + 2*z2"]})
    x1, x2 = sp.symbols("x1 x2", real=True)
    density = sp.sympify(sol.answer["density"], locals={"x1": x1, "x2": x2})
    assert sp.simplify(sp.integrate(density, (x1, -sp.oo, sp.oo), (x2, -sp.oo, sp.oo))) == 1
    assert sol.answer["jacobian_determinant"] == "1/2"
    swapped = solve("derived_distribution", {**SUM_AND_SHARE, "transform": ["z1/(z1 + z2)", "z1 + z2"]})
    assert sp.sympify(swapped.answer["jacobian_determinant"]) == sp.Symbol("x2")  # the sign follows the order


@pytest.mark.parametrize(("params", "field"), [
    ({"z_density": "1/4", "z_support": ["R"], "transform": ["z1^2"]}, "z_density"),
    ({"z_density": "exp(-z1^2/2)/sqrt(2*pi)", "z_support": ["R"], "transform": ["z1^2"]}, "transform"),
    ({"z_density": "1", "z_support": [[0, 1], [0, 1]], "transform": ["z1 + z2", "2*z1 + 2*z2"]}, "transform"),
    ({"z_density": "2", "z_support": [[0, 1], [0, 1]], "transform": ["z1", "z2"]}, "z_density"),
    ({"z_density": "1", "z_support": [[0, 1]], "transform": ["z1", "z2"]}, "z_support"),
    ({"z_density": "1", "z_support": [[0, 1], [1, 0]], "transform": ["z1", "z2"]}, "z_support[1]"),
    ({"z_density": "1", "z_support": [[0, 1], [0, 1]], "transform": ["z1", "x1"]}, "transform[1]"),
])
def test_joint_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("derived_distribution", params)
    assert str(err.value).startswith(field) and "\n" not in str(err.value)
