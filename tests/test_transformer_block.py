import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.torch_training import transformer_block as oracle

BASE = {"X": [[1, 0], [0, 1], [1, 1]],
        "heads": [{"W_Q": [[1, 0], [0, 1]], "W_K": [[1, 0], [0, 1]], "W_V": [[1, 0], [0, 1]]}],
        "W_O": [[1, 0], [0, 1]], "ffn": {"W1": [[1, -1], [0.5, 1], [-1, 0]], "W2": [[1, 0, -1], [0, 1, 1]]}}


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_blocks_match_torch_functional(data):
    n, d, H = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4)), data.draw(st.integers(1, 3))
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    dk, dv, dff = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 5))

    def mat(*shape):
        return rng.normal(size=shape).round(2).tolist()

    params = {"X": mat(n, d), "heads": [{"W_Q": mat(dk, d), "W_K": mat(dk, d), "W_V": mat(dv, d)} for _ in range(H)],
              "W_O": mat(d, H * dv), "mask": data.draw(st.sampled_from(["none", "causal"])),
              "norm": data.draw(st.sampled_from(["post", "pre"])),
              "ln_1": {"gamma": mat(d), "beta": mat(d)}, "ln_2": {"eps": 0.01},
              "ffn": {"W1": mat(dff, d), "b1": mat(dff), "W2": mat(d, dff), "b2": mat(d),
                      "activation": data.draw(st.sampled_from(["relu", "gelu", "tanh", "sigmoid", "linear"]))}}
    if data.draw(st.booleans()):
        params["scale"] = 0.5
    sol = solve("transformer_block", params)
    expected = oracle(params)
    for field, value in expected.items():
        if not field.startswith("_"):
            np.testing.assert_allclose(sol.answer[field], value, rtol=1e-8, atol=1e-10, err_msg=field)
    for ours, theirs in zip(sol.answer["heads"], expected["_weights"], strict=True):
        np.testing.assert_allclose(ours["weights"], theirs, rtol=1e-9, atol=1e-12)


def test_causal_mask_zeroes_the_future_and_keeps_scores_unmasked():
    sol = solve("transformer_block", {**BASE, "mask": "causal"})
    w = np.array(sol.answer["heads"][0]["weights"])
    assert np.all(np.triu(w, 1) == 0) and np.allclose(w.sum(axis=1), 1)
    assert sol.answer["heads"][0]["scores"][0][2] != 0  # scores stay unmasked, as in `attention`
    assert sol.answer["heads"][0]["weights"][0] == [1.0, 0.0, 0.0]


def test_post_norm_output_has_zero_mean_unit_variance_per_token():
    answer = solve("transformer_block", BASE).answer
    out, before = np.array(answer["output"]), np.array(answer["residual_2"])
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    v = before.var(axis=1)
    np.testing.assert_allclose(out.var(axis=1), v / (v + 1e-5), rtol=1e-9)  # eps inside the square root


@pytest.mark.parametrize(("change", "field"), [
    ({"W_O": [[1, 0, 0], [0, 1, 0]]}, "W_O"),
    ({"heads": []}, "heads"),
    ({"heads": [{"W_Q": [[1, 0]], "W_K": [[1, 0], [0, 1]], "W_V": [[1, 0]]}]}, "heads[0].W_K"),
    ({"mask": "future"}, "mask"),
    ({"norm": "sandwich"}, "norm"),
    ({"ffn": {"W1": [[1, 0]], "W2": [[1, 0]]}}, "ffn.W2"),
    ({"ffn": {"W1": [[1, 0]], "W2": [[1], [0]], "activation": "softmax"}}, "ffn.activation"),
    ({"ln_1": {"gamma": [1]}}, "ln_1.gamma"),
    ({"X": [[1, 1], [1, 1], [1, 1]], "heads": [{"W_Q": [[0, 0]], "W_K": [[0, 0]], "W_V": [[0, 0]]}],
      "W_O": [[0], [0]], "ln_1": {"eps": 0}}, "ln_1.eps"),
])
def test_bad_parameters_name_the_field(change, field):
    with pytest.raises(ParamError) as err:
        solve("transformer_block", {**BASE, **change})
    assert str(err.value).startswith(field) and "\n" not in str(err.value)


def test_layer_norm_is_per_token_with_the_centred_variance():
    # Lecture 25's transcription writes the variance as (1/T) sum (S_i + X_i)^2, without subtracting the mean,
    # and beta inside the fraction; the truth (torch's layer_norm): var = mean((z - mu)^2) over the token's
    # features, then gamma (z - mu) / sqrt(var + eps) + beta.
    sol = solve("transformer_block", {**BASE, "ln_1": {"gamma": [2, 1], "beta": [0.5, -1]}})
    z = np.array(sol.answer["residual_1"])
    mu, var = z.mean(axis=1, keepdims=True), z.var(axis=1, keepdims=True)
    truth = np.array([2, 1]) * (z - mu) / np.sqrt(var + 1e-5) + np.array([0.5, -1])
    np.testing.assert_allclose(sol.answer["norm_1"], truth, rtol=1e-12)
    slip = np.array([2, 1]) * (z - mu + np.array([0.5, -1])) / np.sqrt((z**2).mean(axis=1, keepdims=True) + 1e-5)
    assert not np.allclose(sol.answer["norm_1"], slip)
