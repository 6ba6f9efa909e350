"""Samplers of the mock final: each draws a question of the same shape and difficulty as the original and
states its constraints as named predicates (see `assignments.sampling`)."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp

from assignments.sampling import Constraint, is_nice, no_relu_kink_1x1, no_warnings, pick, sampler
from solvers.competitive import HALF_WAY_ROUNDING
from solvers.lloyd import EMPTY_CELL, EQUIDISTANT

# Q1: Lloyd's algorithm ---------------------------------------------------------------------------------


def _lloyd_converges(part: str, steps: int):
    return lambda d, s: s[part].answer["converged"] and s[part].answer["num_iterations"] <= steps


@sampler("lloyd_two_pairs", constraints=[
    Constraint("no_ties_a", "no point is equidistant from two centres in (a)", no_warnings("a", EQUIDISTANT)),
    Constraint("no_ties_b", "no point is equidistant from two centres in (b)", no_warnings("b", EQUIDISTANT)),
    Constraint("no_empty_cell", "no cell is ever empty",
               lambda d, s: no_warnings("a", EMPTY_CELL)(d, s) and no_warnings("b", EMPTY_CELL)(d, s)),
    Constraint("converges_within_3_steps_a", "(a) converges in at most 3 assignment steps", _lloyd_converges("a", 3)),
    Constraint("converges_within_3_steps_b", "(b) converges in at most 3 assignment steps", _lloyd_converges("b", 3)),
    Constraint("b_converges_elsewhere", "the suggested initialization of (b) ends at other centres than (a)",
               lambda d, s: not np.allclose(sorted(s["a"].answer["final_centers"]),
                                            sorted(s["b"].answer["final_centers"]))),
    Constraint("nice_numbers", "coordinates are multiples of 0.01", lambda d, s: is_nice(d["a"]["points"], (100,))),
])
def lloyd_two_pairs(rng):
    """Two rows of two points, (-e, h), (a, h), (e, -h), (-a, -h), with a small offset e that decides which
    local minimum Lloyd's algorithm finds; (a) starts from one point of each row, (b) from centres on either
    side of the vertical axis (the other local minimum)."""
    a = pick(rng, [1, 2])
    h = pick(rng, [1, 2])
    e = pick(rng, [0.01, 0.02, 0.05, 0.1])
    s = pick(rng, [1, -1])
    points = [[-s * e, h], [s * a, h], [s * e, -h], [-s * a, -h]]
    points = [[float(Fraction(str(v))) for v in p] for p in points]
    top, bottom = pick(rng, [0, 1]), pick(rng, [2, 3])
    return {"a": {"points": points, "initial_indices": [top, bottom]},
            "b": {"points": points, "initial_centers": [[-a, 0], [a, 0]]}}


# Q2: competitive learning with rounding -----------------------------------------------------------------


def _steps(s):
    return s["b"].answer["steps"]


@sampler("competitive_rounded", constraints=[
    Constraint("no_winner_ties", "no presentation has two neurons with the same largest output",
               lambda d, s: not any(st["tie"] for st in _steps(s))),
    Constraint("no_half_way_rounding", "no update lands half-way between two integers",
               no_warnings("b", HALF_WAY_ROUNDING)),
    Constraint("both_neurons_win", "each neuron wins at least once",
               lambda d, s: len({st["winner"] for st in _steps(s)}) == 2),
    Constraint("two_clusters", "the final weights split the points into two clusters",
               lambda d, s: len(set(s["b"].answer["clusters"])) == 2),
    Constraint("weights_move", "the final weights differ from the initial ones",
               lambda d, s: s["b"].answer["final_weights"] != d["b"]["initial_weights"]),
    Constraint("integer_data", "points and initial weights are small integers",
               lambda d, s: is_nice(d["b"]["points"], (1,)) and is_nice(d["b"]["initial_weights"], (1,))),
])
def competitive_rounded(rng):
    """Four distinct points with coordinates in {-1, 0, 1} (two above and two below the horizontal axis, as
    in the original), two neurons with integer weights in [-2, 2], two epochs, rounding after each update.
    eta is 1/2 as in the original, or 1/3 or 2/3: with eta = 1/2 nearly every draw lands an update half-way
    between two integers (the original does, four times), which the constraint refuses."""
    grid = [[x, y] for x in (-1, 0, 1) for y in (-1, 1)]
    order = rng.permutation(len(grid))
    top = [grid[i] for i in order if grid[i][1] > 0][:2]
    bottom = [grid[i] for i in order if grid[i][1] < 0][:2]
    points = [*top, *bottom]
    weights = [[int(v) for v in rng.integers(-2, 3, size=2)] for _ in range(2)]
    rate = pick(rng, ["1/2", "1/3", "2/3"])
    return {"b": {"points": points, "initial_weights": weights, "learning_rate": rate, "epochs": 2,
                  "rule": "output_weighted", "rounding": "half_even", "tie_break": "lowest"}}


# Q3: 1x1 convolution backpropagation ---------------------------------------------------------------------


@sampler("conv1x1_example", constraints=[
    Constraint("no_relu_kink", "no pre-activation is exactly 0 (ReLU has no derivative there)",
               no_relu_kink_1x1("b")),
    Constraint("nonzero_weights", "both kernels are nonzero", lambda d, s: all(w != 0 for w in d["b"]["w"])),
    Constraint("some_gradient", "the weight gradient is not all zero",
               lambda d, s: any(abs(v) > 0 for v in np.ravel(s["b"].answer["grad_w"]))),
])
def conv1x1_example(rng):
    """A 2x2 integer image, two 1x1 kernels with bias, ReLU, integer upstream gradients."""
    image = rng.integers(-3, 4, size=(2, 2)).tolist()
    w = [pick(rng, [-2, -1, 1, 2]) for _ in range(2)]
    b = rng.integers(-2, 3, size=2).tolist()
    upstream = rng.integers(-2, 3, size=(2, 2, 2)).tolist()
    return {"b": {"image": image, "w": w, "b": b, "activation": "relu", "upstream": upstream}}


# Q4: ELBO with a learnable covariance --------------------------------------------------------------------


@sampler("elbo_example", constraints=[
    Constraint("sigma_positive_definite", "the decoder covariance is symmetric positive definite",
               lambda d, s: bool(np.all(np.linalg.eigvalsh(np.asarray(d["a"]["decoder_covariance"], float)) > 0))),
    Constraint("finite_terms", "every ELBO term is finite",
               lambda d, s: np.isfinite(float(s["a"].answer["negative_elbo"]))),
])
def elbo_example(rng):
    """Two-dimensional data and embedding, a linear decoder with small integer entries, a diagonal
    covariance with entries in {1, 2, 4}."""
    x = rng.integers(-2, 3, size=2).tolist()
    g = rng.integers(-1, 2, size=2).tolist()
    A = [[pick(rng, [1, 2]), 0], [0, pick(rng, [1, 2])]]
    c = rng.integers(-1, 2, size=2).tolist()
    sigma = [[pick(rng, [1, 2, 4]), 0], [0, pick(rng, [1, 2, 4])]]
    return {"a": {"x": x, "encoder_mean": g, "decoder": {"A": A, "c": c}, "decoder_covariance": sigma}}


# Q5: GAN discriminator and inverse-CDF generator ---------------------------------------------------------

# 3*(1 - x)**2 is left out: its inverse CDF comes back in a complex-root form, unfit for a key.
DENSITIES = ["2 - 2*x", "2*x", "3*x**2", "1/2 + x", "3/2 - x", "4*x**3"]
# Initial generators for (a): monotone maps of [0, 1] onto itself (no piecewise D*: a STACK answer stays one
# expression); G = z^2 has a density with 1/sqrt(x), so its loss value is numeric only (a warning says so).
GENERATORS = ["z", "sqrt(z)", "1 - z", "1 - sqrt(z)", "z**(1/3)", "z**2"]
X, Z = sp.symbols("x z")


def _integrates_to_one(d, s):
    return _integral(d["b"]["data_density"], *d["b"]["support"]) == 1


@lru_cache(maxsize=64)
def _integral(density, lo, hi):
    return sp.simplify(sp.integrate(sp.sympify(density), (X, lo, hi)))


def _positive_inside(d, s):
    return _positive_between(d["b"]["data_density"], *d["b"]["support"])


@lru_cache(maxsize=64)
def _positive_between(density, lo, hi):
    f = sp.lambdify(X, sp.sympify(density), "math")  # plain floats: no numpy printer to set up
    return all(f(lo + (hi - lo) * float(t)) > 0 for t in np.linspace(0.01, 0.99, 25))


def _generator_inverts_cdf(d, s):
    return _inverts(s["b"].answer["generator"], s["b"].answer["cdf"])


@lru_cache(maxsize=64)
def _inverts(generator, cdf):
    """F(G(z)) = z at a few z, for the strings of G and F (pure, so checked once per pair per process)."""
    g = sp.sympify(generator)
    cdf = sp.sympify(cdf)
    for t in (0.1, 0.37, 0.5, 0.83):
        value = complex(cdf.subs(X, g.subs(Z, t)).evalf())
        if abs(value.imag) > 1e-9 or abs(value.real - t) > 1e-9:
            return False
    return True


@sampler("gan_density", constraints=[
    Constraint("integrates_to_one", "the data density integrates to 1 on its support", _integrates_to_one),
    Constraint("positive_inside_support", "the density is positive inside the support, so the CDF is invertible",
               _positive_inside),
    Constraint("generator_inverts_cdf", "F(G(z)) = z: G(Z) has the data distribution", _generator_inverts_cdf),
])
def gan_density(rng):
    """A polynomial density on [0, 1] with a closed-form inverse CDF, and an initial generator for (a)."""
    density = pick(rng, DENSITIES)
    generator = pick(rng, GENERATORS)
    return {"a": {"data_density": density, "support": [0, 1], "generator": generator},
            "b": {"data_density": density, "support": [0, 1], "noise": "uniform"}}


# Q6: RNN worked example ----------------------------------------------------------------------------------


def _rnn_no_kink(d, s):
    p = d["b"]
    U, W = np.asarray(p["U"], float), np.asarray(p["W"], float)
    state = np.zeros(W.shape[0])
    for x, nxt in zip(p["inputs"], s["b"].answer["states"], strict=True):
        if np.any(U @ np.asarray(x, float) + W @ state == 0):
            return False
        state = np.asarray(nxt, float)
    return True


@sampler("rnn_example", constraints=[
    Constraint("no_relu_kink", "no pre-activation is exactly 0", _rnn_no_kink),
    Constraint("state_carries_memory", "the recurrent matrix is nonzero", lambda d, s: np.any(np.asarray(d["b"]["W"]))),
])
def rnn_example(rng):
    """Three one-hot-like inputs in R^2, integer U, a diagonal recurrent matrix with entries 1/2 or -1/2."""
    inputs = [pick(rng, [[1, 0], [0, 1], [1, 1], [1, -1]]) for _ in range(3)]
    U = rng.integers(-1, 2, size=(2, 2)).tolist()
    W = [[pick(rng, [0.5, -0.5]), 0], [0, pick(rng, [0.5, -0.5])]]
    V = [[pick(rng, [1, -1]), pick(rng, [1, -1])]]
    return {"b": {"inputs": inputs, "U": U, "W": W, "V": V, "activation": "relu"}}


# Q7: graph attention -------------------------------------------------------------------------------------


def _connected(edges, n):
    seen, todo = {0}, [0]
    while todo:
        v = todo.pop()
        for a, b in edges:
            if a == v and b not in seen:
                seen.add(b)
                todo.append(b)
    return len(seen) == n


@sampler("graph_attention", constraints=[
    Constraint("self_loops", "every node attends to itself", lambda d, s: all(
        [v, v] in d["a"]["edges"] for v in range(len(d["a"]["X"])))),
    Constraint("symmetric_connected", "the graph is undirected and connected", lambda d, s: _connected(
        d["a"]["edges"], len(d["a"]["X"])) and all([b, a] in d["a"]["edges"] for a, b in d["a"]["edges"])),
    Constraint("not_complete", "some pair is not connected, so the graph restricts the attention",
               lambda d, s: len(d["a"]["edges"]) < len(d["a"]["X"]) ** 2),
])
def graph_attention(rng):
    """Three nodes with 0/1 features, a path graph with self-loops in random order, small integer weights."""
    X = [pick(rng, [[1, 0], [0, 1], [1, 1]]) for _ in range(3)]
    order = [int(v) for v in rng.permutation(3)]
    edges = [[v, v] for v in range(3)]
    for a, b in zip(order, order[1:], strict=False):
        edges += [[a, b], [b, a]]
    edges.sort()
    mats = [rng.integers(-1, 2, size=(2, 2)).tolist() for _ in range(3)]
    return {"a": {"X": X, "W_Q": mats[0], "W_K": mats[1], "W_V": mats[2], "edges": edges}}
