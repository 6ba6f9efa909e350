import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from tests.oracles.torch_training import conv2d_backprop as oracle

LECTURE_12 = {"input": [[1, 2, 0, 3, 1], [-1, -1, 2, 0, 1], [1, -1, -1, 0, 1], [3, 1, 2, -1, 1], [1, 4, 0, 1, 2]],
              "kernel": [[1, -1], [0, 2]], "activation": "relu", "pool": {"kind": "max", "size": 2},
              "upstream": [[1, 1], [1, 1]]}


def test_lecture_12_weight_sharing_adds_the_routed_positions():
    sol = solve("conv2d_backprop", LECTURE_12)
    a = sol.answer
    assert a["output"][0][0][0] == -3  # the lecture's first entry
    assert a["pooled"] == [[[6, 4], [10, 5]]]
    assert a["pool_routing"] == [[[[0, 1], [0, 3]], [[3, 0], [3, 2]]]]
    # dL/dk[m, n] = sum of the input under the kernel at the four routed positions (0,1), (0,3), (3,0), (3,2).
    x = np.array(LECTURE_12["input"])
    expected = sum(x[i:i + 2, j:j + 2] for i, j in [(0, 1), (0, 3), (3, 0), (3, 2)])
    assert a["grad_kernel"] == [[expected.tolist()]] and a["grad_bias"] == [4]
    assert a["grad_kernel_exact"] == [[[["10", "1"], ["0", "8"]]]]


def test_ties_route_to_the_first_maximum_and_are_reported():
    params = {"input": [[1, 1], [0, 1]], "kernel": [[1]], "pool": {"kind": "max", "size": 2}, "upstream": [[5]]}
    sol = solve("conv2d_backprop", params)
    assert sol.answer["pool_routing"] == [[[[0, 0]]]] and sol.answer["grad_input"] == [[[5, 0], [0, 0]]]
    assert any("tie" in w for w in sol.warnings)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_layers_match_torch_autograd(data):
    C, out = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    H, W = data.draw(st.integers(3, 5)), data.draw(st.integers(3, 5))
    h, w = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    params = {"input": rng.normal(size=(C, H, W)).round(1).tolist(),
              "kernel": rng.normal(size=(out, C, h, w)).round(1).tolist(),
              "bias": rng.normal(size=out).round(1).tolist(), "stride": data.draw(st.integers(1, 2)),
              "padding": data.draw(st.integers(0, 1)),
              "activation": data.draw(st.sampled_from(["linear", "relu", "sigmoid", "tanh"]))}
    ho = (H + 2 * params["padding"] - h) // params["stride"] + 1
    wo = (W + 2 * params["padding"] - w) // params["stride"] + 1
    final = (ho, wo)
    if ho >= 2 and wo >= 2 and data.draw(st.booleans()):
        size, stride = 2, data.draw(st.integers(1, 2))
        params["pool"] = {"kind": data.draw(st.sampled_from(["max", "avg"])), "size": size, "stride": stride}
        final = ((ho - size) // stride + 1, (wo - size) // stride + 1)
    params["upstream"] = rng.normal(size=(out, *final)).round(1).tolist()
    sol = solve("conv2d_backprop", params)
    # v exactly 0 (exact rationals) can be 1e-17 in torch's floats, where relu' is 1: relu'(0) is checked above
    assume(not any(getattr(w, "code", "") == "relu_at_zero" for w in sol.warnings))
    for field, value in oracle(params).items():
        if field == "pool_routing" and sol.warnings:
            continue  # rounded inputs can tie; ties are checked above
        np.testing.assert_allclose(np.asarray(sol.answer[field], dtype=float), np.asarray(value, dtype=float),
                                   rtol=1e-9, atol=1e-10, err_msg=field)


@pytest.mark.parametrize(("change", "field"), [
    ({"kernel": [[[1, -1], [0, 2]], [[1, 0], [0, 1]]]}, "kernel"),
    ({"kernel": [[1] * 6] * 6}, "kernel"),
    ({"upstream": [[1, 1, 1], [1, 1, 1]]}, "upstream"),
    ({"activation": "softmax"}, "activation"),
    ({"pool": {"kind": "max", "size": 5}}, "pool.size"),
    ({"pool": {"kind": "min", "size": 2}}, "pool.kind"),
    ({"bias": [1, 2]}, "bias"),
    ({"stride": 0}, "stride"),
])
def test_bad_parameters_name_the_field(change, field):
    with pytest.raises(ParamError) as err:
        solve("conv2d_backprop", {**LECTURE_12, **change})
    assert str(err.value).startswith(field) and "\n" not in str(err.value)
