import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from solvers.conv2d import LECTURE_5X5, LECTURE_RGB
from tests.oracles.torch_layers import conv1x1_backprop as backprop_oracle
from tests.oracles.torch_layers import conv2d as oracle


def test_lecture_5x5_filter_second_entry_is_6_not_4():
    # Lecture 12 (seed 002): a 5 x 5 input and the filter sharing the weights [1 -1 0 2] (the transcription
    # prints it as "1 1 / 0 2", but its first entry, -3, only works with -1). The lecture's second entry,
    # "2·1 + 0·(-1) + (-1)·0 + 2·2 = 4", is an arithmetic slip: that sum is 6.
    sol = solve("conv2d", LECTURE_5X5)
    assert sol.answer["output_shape"] == [4, 4]
    assert sol.answer["output"][0][:2] == [-3.0, 6.0]
    np.testing.assert_allclose(sol.answer["output"], oracle(LECTURE_5X5)["output"])
    table = sol.steps[-1].table
    assert table.rows[1][2] == "2·1 + 0·(-1) + (-1)·0 + 2·2" and table.rows[1][3] == 6


def test_lecture_rgb_first_entry():
    # Lecture 12's colour example: the first local field is 2 + 7 + 16 = 25 ("= whatever" in the notes).
    sol = solve("conv2d", LECTURE_RGB)
    assert sol.answer["output"][0][0] == 25.0
    np.testing.assert_allclose(sol.answer["output"], oracle(LECTURE_RGB)["output"])


def test_padding_is_shown_and_pooling_follows():
    params = {"input": [[1, 2], [3, 4]], "kernel": [[1, 1], [1, 1]], "padding": 1, "bias": -1,
              "pool": {"kind": "avg", "size": 2, "stride": 1}}
    sol = solve("conv2d", params)
    assert any("Pad" in s.title for s in sol.steps)
    expected = oracle(params)
    np.testing.assert_allclose(sol.answer["pooled"], expected["pooled"])
    assert sol.answer["pooled_shape"] == [2, 2]
    assert sol.answer["pooled_exact"][0][0] == "7/2"  # (0 + 2 + 3 + 9) / 4


def test_large_maps_are_summarised():
    x = np.arange(100).reshape(10, 10).tolist()
    sol = solve("conv2d", {"input": x, "kernel": [[1, 0], [0, -1]]})
    step = sol.steps[-1]
    assert len(step.table.rows) == 16 and "81" in step.text


@st.composite
def conv_problems(draw):
    c = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    kh, kw = draw(st.integers(1, h + 2 * ph)), draw(st.integers(1, w + 2 * pw))
    ints = st.integers(-4, 4)
    x = [[[draw(ints) for _ in range(w)] for _ in range(h)] for _ in range(c)]
    k = [[[draw(st.sampled_from([-1, 0, 0.5, 1, 2])) for _ in range(kw)] for _ in range(kh)] for _ in range(c)]
    params = {"input": x if c > 1 or draw(st.booleans()) else x[0], "kernel": k, "bias": draw(ints),
              "stride": [draw(st.integers(1, 3)), draw(st.integers(1, 3))], "padding": [ph, pw]}
    if c == 1 and not isinstance(params["input"][0][0], list):
        params["kernel"] = k[0]
    oh = (h + 2 * ph - kh) // params["stride"][0] + 1
    ow = (w + 2 * pw - kw) // params["stride"][1] + 1
    if draw(st.booleans()):
        size = [draw(st.integers(1, oh)), draw(st.integers(1, ow))]
        params["pool"] = {"kind": draw(st.sampled_from(["max", "avg"])), "size": size,
                          "stride": [draw(st.integers(1, 2)), draw(st.integers(1, 2))]}
    return params


@settings(max_examples=40, deadline=None)
@given(conv_problems())
def test_random_convolutions_match_torch(params):
    sol = solve("conv2d", params)
    expected = oracle(params)
    for field, value in expected.items():
        np.testing.assert_allclose(np.asarray(sol.answer[field], dtype=float), np.asarray(value, dtype=float),
                                   atol=1e-9, err_msg=field)


@pytest.mark.parametrize(("params", "field"), [
    ({"kernel": [[1]]}, "input"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1, 1, 1]]}, "kernel"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1]], "stride": 0}, "stride"),
    ({"input": [[1, 2], [3, 4]], "kernel": [[1]], "padding": -1}, "padding"),
    ({"input": [[[1, 2]], [[3, 4]]], "kernel": [[[1]]]}, "kernel"),
    ({"input": [[[1, 2]], [[3, 4]]], "kernel": [[1]]}, "kernel"),
    ({"input": [[1, 2], [3]], "kernel": [[1]]}, "input"),
    ({"input": [[1, "x"]], "kernel": [[1]]}, "input[0][1]"),
    ({"input": [[1, 2]], "kernel": [[1]], "pool": {"kind": "min", "size": 1}}, "pool.kind"),
    ({"input": [[1, 2]], "kernel": [[1]], "pool": {"kind": "max", "size": 2}}, "pool.size"),
    ({"input": [[1, 2]], "kernel": [[1]], "pool": {"kind": "max"}}, "pool.size"),
    ({"input": [[1, 2]], "kernel": [[1]], "dilation": 2}, "dilation"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("conv2d", params)
    assert str(err.value).startswith(field + ":")
    assert "\n" not in str(err.value)


# --- conv1x1_backprop ---------------------------------------------------------------------------------------


def test_mock_final_q3_equations():
    # Mock final Q3 (seed 002): f^c_ij = g(w_c x_ij + b_c). The key's equations are right except one slip:
    # its first line for dl/dw_1 ends in "sum_j dl/df^1_ij x_ij g'(w_1 x_ij + b_1)", which must be a sum over
    # both i and j (the next lines, for w_2 and b_c, do write sum_ij). The solver sums over every pixel.
    params = {"image": [[1, 2], [-1, 0]], "w": [1, -2], "b": [0, 1], "activation": "relu",
              "upstream": [[[1, 1], [1, 1]], [[1, 0], [0, 1]]]}
    sol = solve("conv1x1_backprop", params)
    expected = backprop_oracle(params)
    for field in ("grad_w", "grad_b", "grad_image"):
        np.testing.assert_allclose(sol.answer[field], expected[field], err_msg=field)
    # channel 1: pre-activations 1, 2, -1, 0 -> relu' = 1, 1, 0, 0 (0 at 0, as torch): dl/dw_1 = 1 + 2 = 3.
    assert sol.answer["grad_w"][0] == 3.0
    # with every pixel active, the second row of the image counts too (a sum over j alone would give 3):
    only_row_0 = solve("conv1x1_backprop", {**params, "image": [[1, 2], [3, 5]]})
    assert only_row_0.answer["grad_w"][0] == 11.0  # 1 + 2 + 3 + 5, not 1 + 2


@st.composite
def backprop_problems(draw):
    h, w, c = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    vals = st.sampled_from([-2, -1, -0.5, 0.5, 1, 1.5, 2, 3])
    return {"image": [[draw(vals) for _ in range(w)] for _ in range(h)],
            "w": [draw(vals) for _ in range(c)], "b": [draw(vals) for _ in range(c)],
            "activation": draw(st.sampled_from(["sigmoid", "tanh", "relu", "linear"])),
            "upstream": [[[draw(vals) for _ in range(w)] for _ in range(h)] for _ in range(c)]}


@settings(max_examples=40, deadline=None)
@given(backprop_problems())
def test_random_backprop_matches_torch_autograd(params):
    sol = solve("conv1x1_backprop", params)
    expected = backprop_oracle(params)
    for field, value in expected.items():
        np.testing.assert_allclose(sol.answer[field], value, atol=1e-9, err_msg=field)


def test_relu_at_zero_is_reported():
    sol = solve("conv1x1_backprop", {"image": [[0, 1]], "w": [1], "b": [0], "activation": "relu",
                                     "upstream": [[[1, 1]]]})
    assert sol.warnings and "0" in sol.warnings[0]
    np.testing.assert_allclose(sol.answer["grad_b"], [1.0])


@pytest.mark.parametrize(("params", "field"), [
    ({"image": [[1]], "w": [1], "b": [0, 1], "activation": "relu", "upstream": [[[1]]]}, "b"),
    ({"image": [[1]], "w": [1], "b": [0], "activation": "softplus", "upstream": [[[1]]]}, "activation"),
    ({"image": [[1]], "w": [1], "b": [0], "activation": "relu", "upstream": [[[1, 2]]]}, "upstream"),
    ({"image": [[1]], "w": [1], "b": [0], "activation": "relu", "upstream": [[1]]}, "upstream"),
    ({"image": [[1]], "w": [1], "b": [0], "activation": "relu"}, "upstream"),
    ({"image": [1], "w": [1], "b": [0], "activation": "relu", "upstream": [[[1]]]}, "image"),
])
def test_backprop_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("conv1x1_backprop", params)
    assert str(err.value).startswith(field)
