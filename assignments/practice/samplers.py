"""Samplers of the lectures 7-25 practice set: each draws a question of the original's shape with small numbers
and names the constraints that keep it workable by hand (see `assignments.sampling`)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from assignments.sampling import CONTEXT, Constraint, is_nice, no_warnings, pick, sampler
from solvers.backprop import RELU_AT_ZERO as BACKPROP_RELU_AT_ZERO
from solvers.conv2d_backprop import MAX_POOL_TIE
from solvers.conv2d_backprop import RELU_AT_ZERO as CONV_RELU_AT_ZERO
from solvers.pca import REPEATED_EIGENVALUE
from solvers.perceptron import NOT_CONVERGED, OUTPUT_AT_ZERO


def _same_params(*parts: str):
    """Every listed part is drawn with the same parameters (the parts ask different things of one problem)."""
    return lambda d, s: all(d[p] == d[parts[0]] for p in parts)


def _nonzero(value) -> bool:
    return bool(np.any(np.abs(np.asarray(value, dtype=float)) > 1e-12))


# Q1: convolution, ReLU and max pooling ---------------------------------------------------------------------


@sampler("conv_max_pool", constraints=[
    Constraint("no_max_pool_ties", "every pooling window has a single maximum", no_warnings("a", MAX_POOL_TIE)),
    Constraint("no_relu_kink", "no pre-activation is exactly 0", no_warnings("a", CONV_RELU_AT_ZERO)),
    Constraint("kernel_gradient_nonzero", "the kernel receives some gradient",
               lambda d, s: _nonzero(s["a"].answer["grad_kernel"])),
    Constraint("same_problem", "(a) and (b) are one problem", _same_params("a", "b")),
])
def conv_max_pool(rng):
    """A 4x4 integer image, a 2x2 integer kernel, bias +-1/2, ReLU, 2x2 max pooling with stride 1 (overlapping
    windows), integer upstream gradients."""
    image = rng.integers(-2, 3, size=(4, 4)).tolist()
    kernel = [[pick(rng, [-1, 1, 2]), pick(rng, [-1, 0, 1])], [pick(rng, [-1, 0, 1]), pick(rng, [-1, 1, 2])]]
    upstream = [[[pick(rng, [-2, -1, 1, 2]) for _ in range(2)] for _ in range(2)]]
    params = {"input": image, "kernel": kernel, "bias": [pick(rng, [0.5, -0.5])], "activation": "relu",
              "pool": {"kind": "max", "size": 2, "stride": 1}, "upstream": upstream}
    return {"a": params, "b": params}


# Q2: the perceptron ------------------------------------------------------------------------------------------


@sampler("separable_perceptron", constraints=[
    Constraint("converges_within_epochs", "the perceptron makes an error-free epoch within the stated epochs",
               lambda d, s: s["a"].answer["converged"] and no_warnings("a", NOT_CONVERGED)(d, s)),
    Constraint("no_output_at_zero", "no presentation has w.x + b = 0", no_warnings("a", OUTPUT_AT_ZERO)),
    Constraint("learns_something", "at least two epochs run (the initial weights make an error)",
               lambda d, s: s["a"].answer["epochs_run"] >= 2),
    Constraint("distinct_points", "the four points are distinct",
               lambda d, s: len({tuple(x) for x in d["a"]["points"]}) == 4),
])
def separable_perceptron(rng):
    """Four integer points in [-3, 3]^2, two per class, small integer initial weights, eta = 1, five epochs."""
    points = rng.integers(-3, 4, size=(4, 2)).tolist()
    labels = [int(v) for v in rng.permutation([1, 1, -1, -1])]
    weights = [pick(rng, [-1, 0, 1]), pick(rng, [-1, 0, 1])]
    return {"a": {"points": points, "labels": labels, "initial_weights": weights, "learning_rate": 1, "epochs": 5}}


# Q3: the delta rule --------------------------------------------------------------------------------------------


def _lms_stable(d, s):
    """eta (1 + |x|^2) < 2 for every input (x with the bias's constant 1): each step shrinks its own error."""
    p = d["a"]
    return all(p["learning_rate"] * (1 + sum(v * v for v in x)) < 2 for x in p["points"])


@sampler("lms_line", constraints=[
    Constraint("stable_rate", "each single step shrinks its own error (eta (1 + |x|^2) < 2)", _lms_stable),
    Constraint("error_decreases", "the second epoch's squared error is below the first's",
               lambda d, s: s["a"].answer["errors_per_epoch"][-1] < s["a"].answer["errors_per_epoch"][0]),
    Constraint("half_integer_targets", "targets are multiples of 1/2", lambda d, s: is_nice(d["a"]["labels"], (2,))),
])
def lms_line(rng):
    """Lecture 8's line fit: inputs (1, x) for three distinct x in {0, 1, 2}, half-integer targets, eta = 1/4 or
    1/8, two epochs, from zero weights."""
    xs = sorted(int(v) for v in rng.choice([-1, 0, 1, 2], size=3, replace=False))
    labels = [float(v) / 2 for v in rng.integers(-2, 7, size=3)]
    return {"a": {"points": [[1, x] for x in xs], "labels": labels, "initial_weights": [0, 0],
                  "learning_rate": pick(rng, [0.25, 0.125]), "epochs": 2, "rule": "delta"}}


# Q4: a transformer block -----------------------------------------------------------------------------------------


def _rows_vary(field: str):
    """Every token's row of `field` has two different features (layer norm of a constant row is degenerate)."""
    return lambda d, s: all(abs(row[0] - row[1]) > 0.1 for row in s["a"].answer[field])


@sampler("small_transformer", constraints=[
    Constraint("layer_norm_not_degenerate_1", "each first residual row has distinct features",
               _rows_vary("residual_1")),
    Constraint("layer_norm_not_degenerate_2", "each second residual row has distinct features",
               _rows_vary("residual_2")),
    Constraint("attention_not_uniform", "the last token does not attend uniformly",
               lambda d, s: np.ptp(s["a"].answer["heads"][0]["weights"][-1]) > 0.05),
    Constraint("ffn_active", "some hidden unit of the feed-forward network is active",
               lambda d, s: _nonzero(s["a"].answer["ffn_hidden"])),
    Constraint("same_problem", "(a) and (b) are one problem", _same_params("a", "b")),
])
def small_transformer(rng):
    """Three tokens in R^2 with entries in {-1, 0, 1, 2}, one head with integer 2x2 projections, W_O = I, a causal
    mask, a ReLU feed-forward network with integer 2x2 weights."""
    def mat():
        return rng.integers(-1, 2, size=(2, 2)).tolist()

    X = rng.integers(-1, 3, size=(3, 2)).tolist()
    params = {"X": X, "heads": [{"W_Q": mat(), "W_K": mat(), "W_V": mat()}], "W_O": [[1, 0], [0, 1]],
              "mask": "causal", "ffn": {"W1": mat(), "W2": mat()}}
    return {"a": params, "b": params}


# Q5: backpropagation through time -----------------------------------------------------------------------------


@sampler("many_to_one_rnn", constraints=[
    Constraint("state_carries_memory", "the recurrent matrix is nonzero", lambda d, s: _nonzero(d["a"]["W"])),
    Constraint("loss_positive", "the output misses its target", lambda d, s: s["a"].answer["loss"] > 1e-3),
    Constraint("gradient_reaches_first_step", "the first step's delta is nonzero",
               lambda d, s: np.abs(s["a"].answer["deltas"][0]).max() > 1e-3),
])
def many_to_one_rnn(rng):
    """Three scalar inputs, two tanh units, a target at the last step only, squared error."""
    inputs = [[pick(rng, [-2, -1, 1, 2])] for _ in range(3)]
    U = [[pick(rng, [-1, -0.5, 0.5, 1])] for _ in range(2)]
    W = [[pick(rng, [-0.5, 0, 0.5]) for _ in range(2)] for _ in range(2)]
    b = [pick(rng, [0, 0.1, -0.1]) for _ in range(2)]
    V = [[pick(rng, [-1, 1]), pick(rng, [-1, 1])]]
    return {"a": {"inputs": inputs, "U": U, "W": W, "b": b, "V": V,
                  "targets": [None, None, [pick(rng, [-1, 0, 1])]], "loss": "se"}}


# Q6: momentum and Adam --------------------------------------------------------------------------------------------


def _value(objective: str, point) -> float:
    w1, w2 = sp.symbols("w1 w2")
    return float(sp.sympify(objective).subs({w1: point[0], w2: point[1]}))


@sampler("quadratic_optimizers", constraints=[
    Constraint("anisotropic", "the two curvatures differ (momentum and Adam behave differently)",
               lambda d, s: len(set(d[CONTEXT]["curvatures"])) == 2),
    Constraint("start_off_axes", "both coordinates of the start are nonzero", lambda d, s: all(d["a"]["params"])),
    Constraint("momentum_descends", "momentum lowers the objective",
               lambda d, s: _value(d["a"]["objective"], s["a"].answer["final"]) < _value(d["a"]["objective"],
                                                                                          d["a"]["params"])),
    Constraint("same_start", "(a) and (b) start from the same point on the same objective",
               lambda d, s: d["a"]["params"] == d["b"]["params"] and d["a"]["objective"] == d["b"]["objective"]),
])
def quadratic_optimizers(rng):
    """f = a w1^2 + c w2^2 with a, c in {1, 2, 3}, an integer start, two steps each of momentum and of Adam."""
    a, c = pick(rng, [1, 2, 3]), pick(rng, [1, 2, 3])
    objective = f"{a}*w1**2 + {c}*w2**2"
    start = [pick(rng, [-2, -1, 1, 2]), pick(rng, [-2, -1, 1, 2])]
    common = {"params": start, "objective": objective, "variables": ["w1", "w2"], "steps": 2}
    return {"a": {**common, "optimizer": "momentum", "lr": pick(rng, [0.1, 0.05]), "momentum": pick(rng, [0.5, 0.9])},
            "b": {**common, "optimizer": "adam", "lr": pick(rng, [0.1, 0.5])}, CONTEXT: {"curvatures": [a, c]}}


# Q7: batch normalization -----------------------------------------------------------------------------------------


@sampler("batch_of_four", constraints=[
    Constraint("features_vary", "each feature's batch variance is at least 1",
               lambda d, s: min(s["a"].answer["variance"]) >= 1),
    Constraint("upstream_nonzero", "the upstream gradient is not all zero", lambda d, s: _nonzero(d["b"]["upstream"])),
    Constraint("same_batch", "(a) and (b) normalize the same batch",
               lambda d, s: {k: v for k, v in d["b"].items() if k != "upstream"} == d["a"]),
])
def batch_of_four(rng):
    """Four samples with two integer features in [0, 7], gamma in {1/2, 1, 2}, integer beta, upstream in {-1, 0, 1}."""
    X = rng.integers(0, 8, size=(4, 2)).tolist()
    gamma = [pick(rng, [0.5, 1, 2]) for _ in range(2)]
    beta = [pick(rng, [-1, 0, 1]) for _ in range(2)]
    upstream = rng.integers(-1, 2, size=(4, 2)).tolist()
    return {"a": {"X": X, "gamma": gamma, "beta": beta},
            "b": {"X": X, "gamma": gamma, "beta": beta, "upstream": upstream}}


# Q8: PCA and whitening ----------------------------------------------------------------------------------------------


def _eigenvalues(s) -> list[float]:
    return s["a"].answer["eigenvalues"]


@sampler("pca_whitening", constraints=[
    Constraint("distinct_eigenvalues", "the covariance's eigenvalues differ by at least 10%",
               lambda d, s: no_warnings("a", REPEATED_EIGENVALUE)(d, s)
               and _eigenvalues(s)[0] - _eigenvalues(s)[1] >= 0.1 * _eigenvalues(s)[0]),
    Constraint("well_conditioned_covariance", "the covariance's condition number is at most 20",
               lambda d, s: _eigenvalues(s)[1] > 0 and _eigenvalues(s)[0] / _eigenvalues(s)[1] <= 20),
    Constraint("correlated", "the features are correlated (the axes are not the principal directions)",
               lambda d, s: abs(s["a"].answer["covariance"][0][1]) > 1e-9),
])
def pca_whitening(rng):
    """Four integer points in [0, 5]^2 (a mean in quarters), whitened."""
    return {"a": {"X": rng.integers(0, 6, size=(4, 2)).tolist(), "whiten": True}}


# Q9: EM for a Gaussian mixture ----------------------------------------------------------------------------------


def _responsibilities(s) -> np.ndarray:
    return np.asarray(s["a"].answer["iterations"][0]["responsibilities"], dtype=float)


@sampler("gmm_one_dimension", constraints=[
    Constraint("responsibilities_not_degenerate", "each component takes between one and four points' worth, and "
               "some point is shared (responsibility between 0.05 and 0.95)",
               lambda d, s: bool(np.all((_responsibilities(s).sum(axis=0) > 1) & (_responsibilities(s).sum(axis=0) < 4))
                                 and np.any((_responsibilities(s) > 0.05) & (_responsibilities(s) < 0.95)))),
    Constraint("well_conditioned_covariances", "both variances after the M-step are at least 1/4",
               lambda d, s: min(c[0][0] for c in s["a"].answer["final_covariances"]) >= 0.25),
    Constraint("distinct_points", "the five points are distinct",
               lambda d, s: len({x[0] for x in d["a"]["points"]}) == 5),
])
def gmm_one_dimension(rng):
    """Five distinct integer points in [-3, 5], two components with distinct integer means, variances 1 or 2,
    equal weights, one iteration."""
    points = sorted(int(v) for v in rng.choice(np.arange(-3, 6), size=5, replace=False))
    means = sorted(int(v) for v in rng.choice(np.arange(-2, 5), size=2, replace=False))
    return {"a": {"points": [[x] for x in points], "initial_means": [[m] for m in means],
                  "initial_covariances": [[[pick(rng, [1, 2])]], [[pick(rng, [1, 2])]]],
                  "initial_weights": [0.5, 0.5], "iterations": 1}}


# Q10: a minibatch step with weight decay ------------------------------------------------------------------------


@sampler("minibatch_weight_decay", constraints=[
    Constraint("no_relu_kink", "no hidden pre-activation is exactly 0", no_warnings("a", BACKPROP_RELU_AT_ZERO)),
    Constraint("every_hidden_unit_learns", "each hidden unit is active for some sample",
               lambda d, s: bool(np.all(np.abs([sample[0] for sample in s["a"].answer["deltas"]]).max(axis=0) > 0))),
    Constraint("loss_positive", "the batch loss is positive", lambda d, s: s["a"].answer["loss"] > 1e-9),
])
def minibatch_weight_decay(rng):
    """Two samples with integer inputs in [-2, 2]^2 and integer targets, a 2-2-1 ReLU network with weights in
    halves, zero biases, L2 weight decay 1/10 or 1/2, mean reduction, one gradient step."""
    batch = [{"x": rng.integers(-2, 3, size=2).tolist(), "target": [pick(rng, [-1, 0, 1, 2])]} for _ in range(2)]
    W1 = [[pick(rng, [-1, -0.5, 0.5, 1]) for _ in range(2)] for _ in range(2)]
    W2 = [[pick(rng, [-1, -0.5, 0.5, 1]) for _ in range(2)]]
    return {"a": {"batch": batch, "layers": [{"W": W1, "b": [0, 0], "activation": "relu"},
                                             {"W": W2, "b": [0], "activation": "linear"}],
                  "loss": "se", "reduction": "mean", "weight_decay": pick(rng, [0.1, 0.5]),
                  "learning_rate": pick(rng, [0.5, 0.25])}}


# Q11: change of variables in two dimensions ----------------------------------------------------------------------


def _linear_map(d) -> sp.Matrix:
    z1, z2 = sp.symbols("z1 z2")
    rows = [sp.sympify(t) for t in d["a"]["transform"]]
    return sp.Matrix([[sp.diff(r, z) for z in (z1, z2)] for r in rows])


@sampler("linear_map_of_uniforms", constraints=[
    Constraint("invertible", "the linear map has a nonzero determinant", lambda d, s: _linear_map(d).det() != 0),
    Constraint("jacobian_is_inverse_determinant", "det dz/dx = 1 / det df/dz",
               lambda d, s: sp.simplify(sp.sympify(s["a"].answer["jacobian_determinant"])
                                        - 1 / _linear_map(d).det()) == 0),
])
def linear_map_of_uniforms(rng):
    """Z uniform on the unit square (or with density 4 z1 z2 there), X = A Z with integer A, entries in [-2, 2]."""
    A = rng.integers(-2, 3, size=(2, 2)).tolist()
    transform = [f"{A[i][0]}*z1 + {A[i][1]}*z2" for i in range(2)]
    return {"a": {"z_density": pick(rng, ["1", "4*z1*z2"]), "z_support": [[0, 1], [0, 1]], "transform": transform}}
