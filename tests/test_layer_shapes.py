import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from solvers.layer_shapes import HW7_DECODER, MNIST_CNN
from tests.oracles.torch_layers import layer_shapes as oracle


def test_hw7_decoder_really_ends_at_28x28():
    # Homework 7 Q2 (seed 002) claims the decoder's output is 28 x 28. It is: 720 -> 20 x 6 x 6, bicubic x2 ->
    # 12 x 12, ConvTranspose2d(4, stride 2, output_padding 1): (12 - 1)·2 + 4 + 1 = 27, then
    # ConvTranspose2d(4, stride 1, padding 1): (27 - 1) - 2 + 4 = 28.
    sol = solve("layer_shapes", HW7_DECODER)
    assert sol.answer["shapes"][-1] == [1, 28, 28]
    assert sol.answer["shapes"][10] == [20, 27, 27]
    expected = oracle(HW7_DECODER)
    assert sol.answer == expected
    assert sol.answer["total_parameters"] == 3960 + 720 + 259920 + 1440 + 6420 + 40 + 321


def test_mnist_encoder_ends_in_10_outputs():
    sol = solve("layer_shapes", MNIST_CNN)
    assert sol.answer["shapes"][-1] == [10]
    assert sol.answer == oracle(MNIST_CNN)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_stacks_match_torch(data):
    shape = [data.draw(st.integers(1, 3)), data.draw(st.integers(4, 10)), data.draw(st.integers(4, 10))]
    current = list(shape)
    layers = []
    for _ in range(data.draw(st.integers(1, 5))):
        spec = data.draw(_layer_for(current))
        layers.append(spec)
        current = solve("layer_shapes", {"input_shape": current, "layers": [spec]}).answer["shapes"][0]
        if len(current) != 3 or max(current[1:]) > 40:
            break
    if len(current) == 1:
        layers.append(data.draw(_layer_for(current)))
    params = {"input_shape": shape, "layers": layers}
    assert solve("layer_shapes", params).answer == oracle(params)


def _layer_for(shape):
    if len(shape) == 1:
        return st.builds(lambda n, bias: {"type": "linear", "in_features": shape[0], "out_features": n,
                                          "bias": bias}, st.integers(1, 6), st.booleans())
    c, h, w = shape
    conv = st.builds(lambda o, kh, kw, s, p, b: {"type": "conv2d", "in_channels": c, "out_channels": o,
                                                 "kernel_size": [kh, kw], "stride": s, "padding": p, "bias": b},
                     st.integers(1, 4), st.integers(1, min(h, 4)), st.integers(1, min(w, 4)), st.integers(1, 2),
                     st.integers(0, 1), st.booleans())
    convt = st.integers(1, 3).flatmap(lambda s: st.builds(
        lambda o, k, p, op: {"type": "conv_transpose2d", "in_channels": c, "out_channels": o, "kernel_size": k,
                             "stride": s, "padding": p, "output_padding": op},
        st.integers(1, 4), st.integers(2, 4), st.integers(0, 1), st.integers(0, s - 1)))
    pool = st.integers(1, min(h, w, 3)).flatmap(lambda k: st.builds(
        lambda kind, s, p: {"type": kind, "kernel_size": k, "stride": s, "padding": p},
        st.sampled_from(["maxpool2d", "avgpool2d"]), st.integers(1, 2), st.integers(0, k // 2)))
    up = st.builds(lambda f, m: {"type": "upsample", "scale_factor": f, "mode": m}, st.sampled_from([1, 2, 1.5]),
                   st.sampled_from(["nearest", "bilinear", "bicubic"]))
    norm = st.builds(lambda a: {"type": "batchnorm", "num_features": c, "affine": a}, st.booleans())
    simple = st.sampled_from([{"type": "relu"}, {"type": "sigmoid"}, {"type": "dropout", "p": 0.2},
                              {"type": "softmax", "dim": 1}, {"type": "flatten"},
                              {"type": "flatten", "start_dim": 2},
                              {"type": "unflatten", "dim": 1, "unflattened_size": [1, c]}])
    return st.one_of(conv, convt, pool, up, norm, simple)


@pytest.mark.parametrize(("params", "field"), [
    ({"layers": [{"type": "relu"}]}, "input_shape"),
    ({"input_shape": [3, 8, 8]}, "layers"),
    ({"input_shape": [3, 8, 8], "layers": [{"type": "conv3d"}]}, "layers[0].type"),
    ({"input_shape": [3, 8, 8], "layers": [{"type": "relu"}, {"type": "conv2d", "in_channels": 1,
                                                              "out_channels": 2, "kernel_size": 3}]},
     "layers[1].in_channels"),
    ({"input_shape": [1, 4, 4], "layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 2,
                                            "kernel_size": 5}]}, "layers[0].kernel_size"),
    ({"input_shape": [1, 4, 4], "layers": [{"type": "flatten"}, {"type": "linear", "in_features": 15,
                                                                 "out_features": 2}]}, "layers[1].in_features"),
    ({"input_shape": [10], "layers": [{"type": "conv2d", "in_channels": 1, "out_channels": 2,
                                       "kernel_size": 1}]}, "layers[0]"),
    ({"input_shape": [720], "layers": [{"type": "unflatten", "dim": 1, "unflattened_size": [20, 6, 5]}]},
     "layers[0].unflattened_size"),
    ({"input_shape": [2, 4, 4], "layers": [{"type": "batchnorm", "num_features": 3}]}, "layers[0].num_features"),
    ({"input_shape": [2, 4, 4], "layers": [{"type": "conv_transpose2d", "in_channels": 2, "out_channels": 1,
                                            "kernel_size": 3, "stride": 1, "output_padding": 1}]},
     "layers[0].output_padding"),
    ({"input_shape": [2, 4, 4], "layers": [{"type": "maxpool2d", "kernel_size": 2, "padding": 2}]},
     "layers[0].padding"),
    ({"input_shape": [2, 4, 4], "layers": [{"type": "upsample"}]}, "layers[0].scale_factor"),
    ({"input_shape": [2, 4, 4], "layers": [{"type": "flatten", "start_dim": 0}]}, "layers[0].start_dim"),
    ({"input_shape": [2, 4, 4], "layers": [{"type": "dropout", "p": 2}]}, "layers[0].p"),
    ({"input_shape": [2, 4, 4], "layers": [{"type": "relu", "inplace": True}]}, "layers[0].inplace"),
    ({"input_shape": [2, 4, 4], "layers": ["relu"]}, "layers[0]"),
])
def test_bad_layers_name_the_layer_index(params, field):
    with pytest.raises(ParamError) as err:
        solve("layer_shapes", params)
    assert str(err.value).startswith(field + ":")
    assert "\n" not in str(err.value)
