"""The activation table against torch: values by torch's own functions, derivatives by autograd, the scalar and
the array forms agreeing, and rationals kept exact where the function allows."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from solvers import solve
from solvers.activations import ACTIVATIONS, choices

POINTS = [-30.0, -3.0, -1.0, -0.25, 0.0, 0.5, 1.0, 2.0, 30.0]
TORCH = {
    "sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh, "linear": lambda v: v,
    "gelu": lambda v: torch.nn.functional.gelu(v, approximate="none"), "sign": torch.sign,
    "step": lambda v: (v >= 0).to(v.dtype), "softmax": lambda v: torch.softmax(v, dim=-1),
}


def test_every_activation_has_a_torch_reference():
    assert set(ACTIVATIONS) == set(TORCH)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_values_and_derivatives_match_torch(name):
    act = ACTIVATIONS[name]
    v = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
    expected = TORCH[name](v)
    if not act.elementwise:
        np.testing.assert_allclose(act.value(POINTS), expected.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(act.array(np.array(POINTS)), expected.detach().numpy(), rtol=1e-12, atol=1e-15)
        assert act.derivative is None and act.array_derivative is None
        return
    if expected.requires_grad:
        expected.sum().backward()
        grad = v.grad.numpy()
    else:  # step: a comparison, no gradient flows (0 wherever it is defined)
        grad = np.zeros(len(POINTS))
    values = [act.value(x) for x in POINTS]
    np.testing.assert_allclose(np.array(values, dtype=float), expected.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(act.array(np.array(POINTS)), expected.detach().numpy(), rtol=1e-12, atol=1e-15)
    derivatives = [float(act.derivative(x, a)) for x, a in zip(POINTS, values, strict=True)]
    np.testing.assert_allclose(derivatives, grad, rtol=1e-9, atol=1e-12)
    arr = np.array(POINTS)
    np.testing.assert_allclose(act.array_derivative(arr, act.array(arr)), grad, rtol=1e-9, atol=1e-12)


def test_the_sigmoid_slope():
    slope = 5
    v = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
    expected = torch.sigmoid(slope * v)
    expected.sum().backward()
    act = ACTIVATIONS["sigmoid"]
    values = [act.value(x, slope) for x in POINTS]
    np.testing.assert_allclose(values, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose([act.derivative(x, a, slope) for x, a in zip(POINTS, values, strict=True)],
                               v.grad.numpy(), rtol=1e-9, atol=1e-15)


def test_piecewise_linear_ones_keep_fractions_exact():
    for name in ("relu", "linear", "step", "sign"):
        act = ACTIVATIONS[name]
        for x in (Fraction(-3, 7), Fraction(0), Fraction(5, 2)):
            assert isinstance(act.value(x), Fraction), name
            assert isinstance(act.derivative(x, act.value(x)), Fraction), name
    assert ACTIVATIONS["relu"].derivative(Fraction(0), Fraction(0)) == 0  # PyTorch's relu'(0)


def test_choices_refuse_a_name_outside_the_table():
    assert choices("relu", "tanh") == ("relu", "tanh")
    with pytest.raises(KeyError):
        choices("relu", "swish")


def test_a_strongly_negative_sigmoid_pre_activation_does_not_overflow():
    # conv1x1_backprop once computed 1/(1 + e^1000) and stopped with an OverflowError
    sol = solve("conv1x1_backprop", {"image": [[-1000]], "w": [1], "b": [0], "activation": "sigmoid",
                                     "upstream": [[[1]]]})
    assert sol.answer["grad_w"] == [0.0]
