import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers import ParamError, solve
from solvers.attention import PATH_GRAPH
from tests.oracles.torch_layers import attention as oracle
from tests.oracles.torch_layers import attention_sdpa
from tests.oracles.torch_layers import rnn as rnn_oracle

SMALL = st.sampled_from([-2, -1, -0.5, 0, 0.5, 1, 2])


def _check(answer, expected, tol=1e-9):
    for field, value in expected.items():
        np.testing.assert_allclose(np.asarray(answer[field], dtype=float), np.asarray(value, dtype=float),
                                   atol=tol, err_msg=field)


def test_mock_final_q7_softmax_is_over_neighbours_only():
    # Mock final Q7 (seed 002): alpha(v, v') = softmax over v' with (v, v') in E, 0 off the graph. The key
    # writes the argument as (1/sqrt(k)) Q_v^T K_v' but then drops the 1/sqrt(k) in the explicit fraction
    # e^(Q_v^T K_v') / sum e^(...); the solver keeps the scale (default 1/sqrt(key dim)).
    sol = solve("attention", PATH_GRAPH)
    _check(sol.answer, oracle(PATH_GRAPH))
    _check(sol.answer, attention_sdpa(PATH_GRAPH))
    w = np.asarray(sol.answer["weights"])
    assert w[0, 2] == 0 and w[0, 3] == 0 and w[3, 0] == 0
    np.testing.assert_allclose(w.sum(1), 1)
    unscaled = solve("attention", {**PATH_GRAPH, "scale": 1})
    assert not np.allclose(unscaled.answer["weights"], w)


def test_no_edges_means_all_pairs_with_self_loops():
    params = {"X": [[1, 0], [0, 1]], "W_Q": [[1, 1]], "W_K": [[1, -1]], "W_V": [[2, 1]]}
    sol = solve("attention", params)
    assert all(v > 0 for row in sol.answer["weights"] for v in row)
    _check(sol.answer, oracle(params))


def test_isolated_node_gets_zero_output_and_a_warning():
    params = {"X": [[1, 0], [0, 1], [1, 1]], "W_Q": [[1, 0]], "W_K": [[0, 1]], "W_V": [[1, 1]],
              "edges": [[0, 1], [1, 0]]}
    sol = solve("attention", params)
    assert sol.answer["outputs"][2] == [0.0]
    assert any("node 2 has no neighbours" in w for w in sol.warnings)
    _check(sol.answer, oracle(params))


def test_two_node_adjacency_reading_is_announced():
    params = {"X": [[1, 0], [0, 1]], "W_Q": [[1, 0]], "W_K": [[0, 1]], "W_V": [[1, 1]], "edges": [[0, 1], [1, 1]]}
    sol = solve("attention", params)
    assert sol.warnings and "adjacency" in sol.warnings[0]
    assert sol.params["edges"] == [[0, 1], [1, 0], [1, 1]]


@st.composite
def attention_problems(draw):
    n, d, k, m = (draw(st.integers(1, 4)) for _ in range(4))
    mat = lambda r, c: [[draw(SMALL) for _ in range(c)] for _ in range(r)]  # noqa: E731
    params = {"X": mat(n, d), "W_Q": mat(k, d), "W_K": mat(k, d), "W_V": mat(m, d)}
    form = draw(st.sampled_from(["none", "pairs", "adjacency"]))
    if form == "pairs":
        params["edges"] = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).map(list),
                                        min_size=1, max_size=n * n))
        if n == 2:
            params["edges"].append([0, 0])  # three pairs: never mistaken for a 2 x 2 adjacency matrix
    elif form == "adjacency":
        params["edges"] = [[draw(st.integers(0, 1)) for _ in range(n)] for _ in range(n)]
    if draw(st.booleans()):
        params["scale"] = draw(st.sampled_from([0.5, 1, 2]))
    return params


@settings(max_examples=40, deadline=None)
@given(attention_problems())
def test_random_attention_matches_torch(params):
    sol = solve("attention", params)
    _check(sol.answer, oracle(params))
    _check(sol.answer, attention_sdpa(params), tol=1e-7)


@pytest.mark.parametrize(("params", "field"), [
    ({"W_Q": [[1]], "W_K": [[1]], "W_V": [[1]]}, "X"),
    ({"X": [[1, 2]], "W_Q": [[1]], "W_K": [[1]], "W_V": [[1]]}, "W_Q"),
    ({"X": [[1, 2]], "W_Q": [[1, 0]], "W_K": [[1, 0], [0, 1]], "W_V": [[1, 1]]}, "W_K"),
    ({"X": [[1, 2]], "W_Q": [[1, 0]], "W_K": [[1, 0]], "W_V": [[1]]}, "W_V"),
    ({"X": [[1], [2]], "W_Q": [[1]], "W_K": [[1]], "W_V": [[1]], "edges": [[0, 2]]}, "edges[0][1]"),
    ({"X": [[1], [2]], "W_Q": [[1]], "W_K": [[1]], "W_V": [[1]], "edges": [[0, 1, 1]]}, "edges[0]"),
    ({"X": [[1], [2], [3]], "W_Q": [[1]], "W_K": [[1]], "W_V": [[1]], "edges": [[0, 1, 2]] * 3}, "edges"),
    ({"X": [[1]], "W_Q": [[1]], "W_K": [[1]], "W_V": [[1]], "edges": 3}, "edges"),
    ({"X": [[1]], "W_Q": [[1]], "W_K": [[1]], "W_V": [[1]], "scale": "big"}, "scale"),
    ({"X": [[1]], "W_Q": [[1]], "W_K": [[1]], "W_V": [[1]], "mask": [[1]]}, "mask"),
])
def test_attention_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("attention", params)
    assert str(err.value).startswith(field + ":")
    assert "\n" not in str(err.value)


# --- rnn ------------------------------------------------------------------------------------------------------


def test_seq2seq_example_outputs_are_distributions():
    from solvers.rnn import SEQ2SEQ

    sol = solve("rnn", SEQ2SEQ)
    _check(sol.answer, rnn_oracle(SEQ2SEQ))
    np.testing.assert_allclose(np.sum(sol.answer["outputs"], axis=1), 1)


def test_defaults_identity_output_and_zero_state():
    params = {"inputs": [[1], [2]], "U": [[1]], "W": [[0.5]]}
    sol = solve("rnn", params)
    np.testing.assert_allclose(sol.answer["states"], [[np.tanh(1)], [np.tanh(2 + 0.5 * np.tanh(1))]])
    assert sol.answer["outputs"] == sol.answer["states"]


def test_lstm_gates_reproduce_the_cells():
    from solvers.rnn import LSTM_EXAMPLE

    sol = solve("rnn", LSTM_EXAMPLE)
    _check(sol.answer, rnn_oracle(LSTM_EXAMPLE))
    cell = np.zeros(1)
    for gates, expected in zip(sol.answer["gates"], sol.answer["cells"], strict=True):
        cell = np.asarray(gates["f"]) * cell + np.asarray(gates["i"]) * np.asarray(gates["g"])
        np.testing.assert_allclose(cell, expected)


@st.composite
def rnn_problems(draw):
    T, d, n, m = (draw(st.integers(1, 3)) for _ in range(4))
    lstm = draw(st.booleans())
    rows = 4 * n if lstm else n
    mat = lambda r, c: [[draw(SMALL) for _ in range(c)] for _ in range(r)]  # noqa: E731
    params = {"inputs": mat(T, d), "U": mat(rows, d), "W": mat(rows, n)}
    if lstm:
        params["cell"] = "lstm"
        if draw(st.booleans()):
            params["cell0"] = [draw(SMALL) for _ in range(n)]
    else:
        params["activation"] = draw(st.sampled_from(["tanh", "relu", "sigmoid", "linear"]))
    if draw(st.booleans()):
        params["b"] = [draw(SMALL) for _ in range(rows)]
    if draw(st.booleans()):
        params["V"] = mat(m, n)
        params["c"] = [draw(SMALL) for _ in range(m)]
    if draw(st.booleans()):
        params["s0"] = [draw(SMALL) for _ in range(n)]
    params["output_activation"] = draw(st.sampled_from(["linear", "sigmoid", "tanh", "relu", "softmax"]))
    return params


@settings(max_examples=40, deadline=None)
@given(rnn_problems())
def test_random_rnns_match_torch_cells(params):
    sol = solve("rnn", params)
    _check(sol.answer, rnn_oracle(params))


@pytest.mark.parametrize(("params", "field"), [
    ({"U": [[1]], "W": [[1]]}, "inputs"),
    ({"inputs": [[1, 2]], "U": [[1]], "W": [[1]]}, "U"),
    ({"inputs": [[1]], "U": [[1], [2]], "W": [[1]]}, "W"),
    ({"inputs": [[1]], "U": [[1]], "W": [[1]], "b": [1, 2]}, "b"),
    ({"inputs": [[1]], "U": [[1]], "W": [[1]], "V": [[1, 2]]}, "V"),
    ({"inputs": [[1]], "U": [[1]], "W": [[1]], "V": [[1], [2]], "c": [0]}, "c"),
    ({"inputs": [[1]], "U": [[1]], "W": [[1]], "s0": [0, 0]}, "s0"),
    ({"inputs": [[1]], "U": [[1]], "W": [[1]], "activation": "gelu"}, "activation"),
    ({"inputs": [[1]], "U": [[1]], "W": [[1]], "output_activation": "argmax"}, "output_activation"),
    ({"inputs": [[1]], "U": [[1]], "W": [[1]], "cell": "gru"}, "cell"),
    ({"inputs": [[1]], "U": [[1], [1], [1]], "W": [[1]] * 3, "cell": "lstm"}, "U"),
    ({"inputs": [[1]], "U": [[1]] * 4, "W": [[1]] * 4, "cell": "lstm", "activation": "relu"}, "activation"),
    ({"inputs": [[1]], "U": [[1]], "W": [[1]], "cell0": [0]}, "cell0"),
])
def test_rnn_bad_parameters_name_the_field(params, field):
    with pytest.raises(ParamError) as err:
        solve("rnn", params)
    assert str(err.value).startswith(field + ":")
    assert "\n" not in str(err.value)
