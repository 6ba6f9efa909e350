"""`nnexam train` on generated digit-like data only (tiny), and the data generator's determinism."""

import numpy as np
import pytest

from autograder.data import digits
from nnexam.commands.train import train


def test_generated_digits_are_deterministic():
    a, la = digits(20, seed=3)
    b, lb = digits(20, seed=3)
    assert a.shape == (20, 1, 28, 28) and np.array_equal(a, b) and np.array_equal(la, lb)


@pytest.mark.parametrize("target", ["hw5-mlp", "hw7-kmeans"])
def test_training_lowers_the_loss(target):
    result = train(target, epochs=3, n=200, seed=0)
    assert result["losses"][-1] < result["losses"][0]
    if target == "hw7-kmeans":
        assert np.sum(result["table"]) == 200
