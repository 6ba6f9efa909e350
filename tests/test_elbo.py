import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.probability import elbo_gaussian as oracle

Q4 = {"x": [1, 2], "encoder_mean": [0.5], "decoder": {"A": [[1], [2]], "c": [0, 1]},
      "decoder_covariance": [[2, 1], [1, 2]]}


def log_normal(v, mean, cov):
    """log N(v; mean, cov) for rows of v, straight from the formula."""
    diff = v - mean
    sol = np.linalg.solve(cov, diff.T).T
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (np.sum(diff * sol, axis=1) + logdet + len(mean) * np.log(2 * np.pi))


def test_terms_sum_to_the_monte_carlo_negative_elbo():
    # The mock final's key (Q4) drops the 1/sqrt(det Sigma) normalizer of the decoder (it matters: Sigma is
    # learned, and without it Sigma could grow to shrink the reconstruction term) and writes f(g(z; W)) where
    # the decoder's mean is f(z). The solver keeps log det Sigma; here the four terms must add up to a direct
    # Monte Carlo estimate of -E[log p_prior(z) p_dec(x|z) / p_enc(z|x)], z ~ N(g, I).
    sol = solve("elbo_gaussian", Q4)
    terms = sol.answer["terms"]
    assert set(terms) == {"latent", "reconstruction", "log_det", "constant"}
    assert sum(terms.values()) == pytest.approx(sol.answer["negative_elbo"], rel=1e-12)
    x, g = np.array(Q4["x"], float), np.array(Q4["encoder_mean"], float)
    A, c = np.array(Q4["decoder"]["A"], float), np.array(Q4["decoder"]["c"], float)
    S = np.array(Q4["decoder_covariance"], float)
    n = 200_000
    zs = g + np.random.default_rng(0).standard_normal((n, len(g)))
    samples = (-log_normal(zs, np.zeros(len(g)), np.eye(len(g)))
               - log_normal(np.broadcast_to(x, (n, len(x))) - zs @ A.T - c, np.zeros(len(x)), S)
               + log_normal(zs, g, np.eye(len(g))))
    assert abs(samples.mean() - sol.answer["negative_elbo"]) < 4 * samples.std() / np.sqrt(n)
    assert terms["log_det"] == pytest.approx(0.5 * np.log(3))
    assert sol.answer["terms_exact"]["latent"] == "1/8"


def test_prior_and_encoder_constants_cancel():
    sol = solve("elbo_gaussian", {"x": [0, 0], "encoder_mean": [1, 2, 2],
                                  "decoder": {"A": [[0, 0, 0], [0, 0, 0]], "c": [0, 0]},
                                  "decoder_covariance": [[1, 0], [0, 1]]})
    assert sol.answer["terms"]["latent"] == pytest.approx(4.5)  # |g|^2 / 2 and no d-dependent constant
    assert sol.answer["terms"]["constant"] == pytest.approx(np.log(2 * np.pi))  # D/2 log 2 pi with D = 2


@st.composite
def problems(draw):
    big_d, d = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ints = st.integers(-3, 3)
    B = np.array(draw(st.lists(st.lists(ints, min_size=big_d, max_size=big_d), min_size=big_d, max_size=big_d)))
    S = (B @ B.T + np.eye(big_d)).tolist()  # symmetric positive definite
    return {"x": draw(st.lists(ints, min_size=big_d, max_size=big_d)),
            "encoder_mean": draw(st.lists(ints, min_size=d, max_size=d)),
            "decoder": {"A": draw(st.lists(st.lists(ints, min_size=d, max_size=d), min_size=big_d, max_size=big_d)),
                        "c": draw(st.lists(ints, min_size=big_d, max_size=big_d))},
            "decoder_covariance": S}


@settings(max_examples=25, deadline=None)
@given(problems())
def test_random_problems_against_gauss_hermite_quadrature(params):
    sol = solve("elbo_gaussian", params)
    expected = oracle(params)
    assert sol.answer["negative_elbo"] == pytest.approx(expected["negative_elbo"], rel=1e-9, abs=1e-9)
    for name, value in expected["terms"].items():
        assert sol.answer["terms"][name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"decoder_covariance": [[1, 2], [2, 1]]}, "decoder_covariance", "positive definite"),
    ({"decoder_covariance": [[2, 1], [0, 2]]}, "decoder_covariance", "not symmetric"),
    ({"decoder_covariance": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, "decoder_covariance", "shape"),
    ({"decoder": {"A": [[1, 0], [2, 0]], "c": [0, 1]}}, "decoder.A", "shape"),
    ({"decoder": {"A": [[1], [2]], "b": [0, 1]}}, "decoder.b", "unknown field"),
    ({"encoder_mean": "a"}, "encoder_mean", "expected"),
])
def test_bad_parameters_name_the_field(change, field, words):
    with pytest.raises(ParamError) as err:
        solve("elbo_gaussian", {**Q4, **change})
    message = str(err.value)
    assert message.startswith(field) and words in message and "\n" not in message
