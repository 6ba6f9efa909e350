import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from solvers import ParamError, solve
from tests.oracles.optimization import minibatch_kmeans as oracle

HW7 = {"batch_size": 64, "num_clusters": 10, "dim": 784, "learning_rate": 4.5}


class KMeansNet(nn.Module):
    """Homework 7's network: scores x C^T - 1/2 ||C||^2, times 20, softmax, reconstruction, error."""

    def __init__(self, centers):
        super().__init__()
        self.centers = nn.Parameter(centers.clone())
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x0 = torch.flatten(x, 1)
        x = torch.matmul(x0, self.centers.t()) - 0.5 * torch.sum(self.centers**2, 1).flatten()
        x = self.softmax(20 * x)
        return torch.matmul(x, self.centers) - x0


def measured_alpha(b, k, D, eta, reduction):
    """One real SGD step on b points, b/k per cluster around k far-apart centres: alpha from C_new."""
    gen = torch.Generator().manual_seed(0)
    means = 20.0 * torch.eye(k, D, dtype=torch.float64)
    x = torch.cat([means[i] + 0.3 * torch.randn(b // k, D, generator=gen, dtype=torch.float64) for i in range(k)])
    c0 = means + 0.5 * torch.randn(k, D, generator=gen, dtype=torch.float64)
    model = KMeansNet(c0)
    torch_reduction = {"batch_mean": "sum", "mean": "mean", "sum": "sum"}[reduction]
    loss = nn.MSELoss(reduction=torch_reduction)(model(x), torch.zeros(b, D, dtype=torch.float64))
    if reduction == "batch_mean":
        loss = loss / b
    opt = torch.optim.SGD(model.parameters(), lr=eta)
    opt.zero_grad()
    loss.backward()
    opt.step()
    m = torch.stack([x[i * (b // k):(i + 1) * (b // k)].mean(0) for i in range(k)])
    alpha = (c0 - model.centers.detach()) / (c0 - m)  # C_new = (1 - alpha) C + alpha m, coordinate-wise
    return alpha.numpy()


@pytest.mark.parametrize("reduction", ["batch_mean", "mean", "sum"])
def test_alpha_matches_one_real_sgd_step(reduction):
    b, k, D, eta = 12, 3, 5, 0.05
    sol = solve("minibatch_kmeans", {"batch_size": b, "num_clusters": k, "dim": D, "learning_rate": eta,
                                     "reduction": reduction})
    np.testing.assert_allclose(measured_alpha(b, k, D, eta, reduction), sol.answer["alpha"], rtol=1e-9)


def test_homework7_claims():
    # HW7 (a): "the update looks like C <- (1 - eta/5) C + (eta/5) m" for b = 64, k = 10. That is the batch_mean
    # reduction (summed squared error averaged over the batch): alpha = 2 eta / k = eta/5.
    mean_of_batch = solve("minibatch_kmeans", {**HW7, "reduction": "batch_mean"})
    assert mean_of_batch.answer["alpha_exact"] == "9/10"
    # The code it asks for uses nn.MSELoss() with its default reduction 'mean', which also averages over the
    # D = 784 pixels: alpha = 2 eta / (k D) = eta/3920, not eta/5 (eta = 4.5 gives alpha = 0.00115).
    torch_default = solve("minibatch_kmeans", {**HW7, "reduction": "mean"})
    assert torch_default.answer["alpha_exact"] == str(sp.Rational(9, 2) / 3920)
    # "the balance is achieved around eta = 4.5": true under batch_mean (alpha* = 0.8986, eta* = 4.493);
    # under MSELoss's default the balancing rate is eta* = 3920 alpha* = 3522.
    assert mean_of_batch.answer["balance_alpha"] == pytest.approx(0.89855, abs=1e-5)
    assert mean_of_batch.answer["balance_learning_rate"] == pytest.approx(4.4928, abs=1e-4)
    assert torch_default.answer["balance_learning_rate"] == pytest.approx(3522.3, abs=0.1)


def test_balance_equates_squared_bias_and_variance():
    for b in (1, 8, 64, 60000):
        a = solve("minibatch_kmeans", {"batch_size": b, "num_clusters": 1, "learning_rate": 0.1,
                                       "reduction": "batch_mean"}).answer["balance_alpha"]
        assert 0 < a < 1
        assert ((1 - a) / a) ** 2 == pytest.approx((1 / b) * a**2 / (1 - (1 - a) ** 2), rel=1e-9)


def test_overshooting_learning_rate_is_reported():
    sol = solve("minibatch_kmeans", {**HW7, "learning_rate": 7, "reduction": "batch_mean"})
    assert any("overshoots" in w for w in sol.warnings)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 500), st.integers(1, 20), st.integers(1, 1000),
       st.sampled_from([0.001, 0.1, 1, 4.5]), st.sampled_from(["batch_mean", "mean", "sum"]))
def test_random_cases_match_the_oracle(b, k, D, eta, reduction):
    k = min(k, b)
    params = {"batch_size": b, "num_clusters": k, "dim": D, "learning_rate": eta, "reduction": reduction}
    sol = solve("minibatch_kmeans", params)
    expected = oracle(params)
    for field in ("alpha", "balance_alpha", "balance_learning_rate"):
        assert sol.answer[field] == pytest.approx(expected[field], rel=1e-9), field


@pytest.mark.parametrize(("params", "field"), [
    ({**HW7, "reduction": "mean", "dim": None}, "dim"),
    ({**HW7, "reduction": "mean", "dim": 0}, "dim"),
    ({**HW7, "reduction": "avg"}, "reduction"),
    ({**HW7, "reduction": "sum", "num_clusters": 65}, "num_clusters"),
    ({**HW7, "reduction": "sum", "batch_size": 2.5}, "batch_size"),
    ({**HW7, "reduction": "sum", "learning_rate": -1}, "learning_rate"),
    ({**HW7, "reduction": "sum", "lr": 1}, "lr"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("minibatch_kmeans", params)
    assert str(err.value).startswith(field) and "\n" not in str(err.value)
