"""Warnings carry stable codes: samplers match on the code, never on the wording, and the JSON output still
prints each warning as its text."""

import copy
import json
import pickle

import pytest

import solvers
from assignments.sampling import no_warnings
from solvers import solve
from solvers.competitive import HALF_WAY_ROUNDING, MOCK_FINAL_Q2, WINNER_TIE
from solvers.core import Solution, SolverWarning
from solvers.lloyd import EMPTY_CELL, EQUIDISTANT

# parameters that make each kind warn (from the kinds' own tests)
WARNING_CASES = [
    ("lloyd", {"points": [[0, 0], [2, 0], [1, 0]], "initial_centers": [[0, 0], [2, 0]]}, EQUIDISTANT),
    ("lloyd", {"points": [[0, 0], [1, 0]], "initial_centers": [[0, 0], [9, 9]]}, EMPTY_CELL),
    ("competitive", MOCK_FINAL_Q2, HALF_WAY_ROUNDING),
    ("competitive", MOCK_FINAL_Q2, WINNER_TIE),
    ("minibatch_kmeans", {"batch_size": 64, "num_clusters": 10, "dim": 784, "learning_rate": 7,
                          "reduction": "batch_mean"}, "alpha_overshoots"),
    ("attention", {"X": [[1, 0], [0, 1], [1, 1]], "W_Q": [[1, 0]], "W_K": [[1, 0]], "W_V": [[1, 0]],
                   "edges": [[0, 1], [1, 0]]}, "isolated_node"),
    ("backprop", {"x": [1], "layers": [{"W": [[1]], "activation": "step"}], "target": [1], "loss": "se"},
     "no_gradient_flow"),
    ("conv2d_backprop", {"input": [[1, 1], [0, 0]], "kernel": [[1]], "pool": {"kind": "max", "size": 2},
                         "upstream": [[[1]]]}, "max_pool_tie"),
    ("conv2d_backprop", {"input": [[0, 1]], "kernel": [[1]], "activation": "relu", "upstream": [[[1, 1]]]},
     "relu_at_zero"),
    ("perceptron", {"points": [[1, 1], [1, -1], [-1, 1], [-1, -1]], "labels": [1, -1, -1, -1],
                    "initial_weights": [0, 0], "learning_rate": 0.5, "epochs": 1}, "not_converged"),
    ("perceptron", {"points": [[1, 1], [1, -1], [-1, 1], [-1, -1]], "labels": [1, -1, -1, -1],
                    "initial_weights": [0, 0], "learning_rate": 0.5, "epochs": 1}, "output_at_zero"),
    ("pca", {"X": [[1, 0], [-1, 0], [0, 1], [0, -1]]}, "repeated_eigenvalue"),
]


@pytest.mark.parametrize(("kind", "params", "code"), WARNING_CASES)
def test_a_warning_has_its_code(kind, params, code):
    codes = [w.code for w in solve(kind, params).warnings]
    assert code in codes, codes


def test_every_warning_of_every_example_has_a_code():
    for kind in solvers.kinds():
        for label, params in solvers.kind_info(kind).examples.items():
            for warning in solve(kind, params).warnings:
                assert isinstance(warning, SolverWarning) and warning.code, (
                    f"{kind}/{label}: the warning {warning!r} has no code (use SolverWarning(CODE, text))")


def test_json_prints_the_text_and_the_code_survives_copies():
    warning = SolverWarning(EQUIDISTANT, "iteration 1: point 3 is equidistant")
    assert json.dumps([warning]) == json.dumps(["iteration 1: point 3 is equidistant"])
    for clone in (copy.deepcopy(warning), pickle.loads(pickle.dumps(warning))):
        assert clone == warning and clone.code == EQUIDISTANT


def test_samplers_match_the_code_not_the_wording():
    reworded = Solution("lloyd", {}, [], {}, [SolverWarning(EQUIDISTANT, "a tie (reworded)")])
    other = Solution("lloyd", {}, [], {}, [SolverWarning(EMPTY_CELL, "the word equidistant, but another code")])
    assert not no_warnings("a", EQUIDISTANT)({}, {"a": reworded})
    assert no_warnings("a", EQUIDISTANT)({}, {"a": other})
    assert not no_warnings("a")({}, {"a": other})
