import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


def assert_close(actual, expected, tol=1e-9, field=""):
    """Compare nested numbers (lists, arrays) with an absolute-and-relative tolerance."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{field}: shape {a.shape} != {e.shape}"
    assert np.allclose(a, e, atol=tol, rtol=tol), f"{field}: {a} != {e}"


@pytest.fixture
def close():
    return assert_close
