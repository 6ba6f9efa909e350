"""Graph self-attention (mock final Q7): each node attends only to its neighbours.

X holds the node features as rows (x_v is row v). As in the mock final, Q_v = W_Q x_v with x_v a column,
so W_Q is (key dim k) x (feature dim d) and the matrices of all nodes are Q = X W_Q^T, K = X W_K^T,
V = X W_V^T (one row per node). Then

    score(v, v') = scale Q_v . K_v'            (scale [1/sqrt(k)]),
    alpha(v, v') = exp(score(v, v')) / sum_{u: (v, u) in E} exp(score(v, u))  if (v, v') in E, else 0,
    S_v = sum_{v'} alpha(v, v') V_v'.

`edges` is a list of pairs [v, v'] ("v attends to v'", counted from 0; list both directions for an
undirected graph) or an n x n adjacency matrix of 0/1 (row v, column v'). Without `edges` every node
attends to every node, itself included (ordinary self-attention); with `edges`, a node attends to itself
only if (v, v) is listed. A 2 x 2 list of 0/1 with two nodes is read as an adjacency matrix (a warning
says so when reading it as pairs would differ). A node without neighbours gets all-zero weights and a zero
output, with a warning (PyTorch's masked softmax would give NaN there). `scores` holds every pair's scaled
score; the mask acts only in `weights`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy as sp

from . import params as P
from .core import Figure, Solution, SolverWarning, Step, Sym, Table
from .errors import ParamError
from .registry import register

# warning codes (SolverWarning.code)
EDGES_AS_ADJACENCY = "edges_read_as_adjacency"
ISOLATED_NODE = "isolated_node"

# A path graph 0 - 1 - 2 - 3 with self-loops, 2-d features, key dimension 2 (in the spirit of mock final Q7).
PATH_GRAPH = {
    "X": [[1, 0], [0, 1], [1, 1], [-1, 0]],
    "W_Q": [[1, 0], [0, 1]], "W_K": [[1, 1], [0, 1]], "W_V": [[1, 0], [1, -1]],
    "edges": [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2], [2, 1], [2, 2], [2, 3], [3, 2], [3, 3]],
}


def _edges(raw: Any, n: int, warnings: list[str]) -> np.ndarray:
    if raw is None:
        return np.ones((n, n), dtype=bool)
    if not isinstance(raw, (list, tuple)):
        raise ParamError("edges", "expected a list of pairs [v, v'] or an n x n adjacency matrix")
    square = len(raw) == n and all(isinstance(r, (list, tuple)) and len(r) == n for r in raw)
    binary = square and all(not isinstance(v, bool) and v in (0, 1) for r in raw for v in r)
    if square and n != 2 and not binary:
        raise ParamError("edges", "an adjacency matrix must hold only 0 and 1")
    if binary:
        mask = np.asarray(raw, dtype=float) != 0
        if n == 2:
            as_pairs = np.zeros((2, 2), dtype=bool)
            for v, u in raw:
                as_pairs[v, u] = True
            if (as_pairs != mask).any():
                warnings.append(SolverWarning(EDGES_AS_ADJACENCY, "edges: a 2 x 2 list of 0/1 is read as an "
                                                                    "adjacency matrix, not as pairs"))
        return mask
    mask = np.zeros((n, n), dtype=bool)
    for e, pair in enumerate(raw):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ParamError(f"edges[{e}]", f"expected a pair [v, v'] of node indices, got {pair!r}")
        v = P.index(pair[0], f"edges[{e}][0]", n, "node")
        u = P.index(pair[1], f"edges[{e}][1]", n, "node")
        mask[v, u] = True
    return mask


@register("attention", "Graph self-attention: scores, masked softmax weights and outputs (mock final Q7)",
          examples={"path_graph": PATH_GRAPH,
                    "all_pairs": {"X": [[1, 2], [0, 1], [2, 0]], "W_Q": [[1, 0], [0, 1]],
                                  "W_K": [[0, 1], [1, 0]], "W_V": [[1, 1]], "scale": 0.5},
                    "adjacency_star": {"X": [[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]],
                                       "W_Q": [[1, 0, 0], [0, 1, 1]], "W_K": [[1, 0, 1], [0, 1, 0]],
                                       "W_V": [[1, 0, 0], [0, 0, 1]],
                                       "edges": [[1, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]}})
def solve(params: dict[str, Any]) -> Solution:
    P.no_unknown(params, ["X", "W_Q", "W_K", "W_V", "edges", "scale"])
    X = P.matrix(P.get(params, "X"), "X")
    n, d = X.shape
    WQ = P.matrix(P.get(params, "W_Q"), "W_Q", None, d)
    k = WQ.shape[0]
    WK = P.matrix(P.get(params, "W_K"), "W_K", k, d)
    WV = P.matrix(P.get(params, "W_V"), "W_V", None, d)
    default_scale = params.get("scale") is None
    scale = 1 / math.sqrt(k) if default_scale else P.number(params["scale"], "scale")
    warnings: list[str] = []
    mask = _edges(params.get("edges"), n, warnings)

    Q, K, V = X @ WQ.T, X @ WK.T, X @ WV.T
    scores = scale * (Q @ K.T)
    weights = np.zeros((n, n))
    outputs = np.zeros((n, V.shape[1]))
    steps = [Step("Queries, keys and values",
                  text=("$Q_v = W_Q x_v$, $K_v = W_K x_v$ and $V_v = W_V x_v$ for every node $v$ (nodes numbered "
                        "from 0, as in the edges); stacked as rows: $Q = X W_Q^T$, $K = X W_K^T$, $V = X W_V^T$."),
                  inputs={"X": X}, result={"Q": Q, "K": K, "V": V}),
             Step("Scaled scores of every pair",
                  text=("$score(v, v') = scale * Q_v . K_v'$ (row $v$, column $v'$), with "
                        + (f"$scale = 1/sqrt({k})$" if default_scale else "the scale as given") + "."),
                  values={"scale": scale}, result={"scores": scores})]
    neighbours_text = ("Every node attends to every node, itself included (no edges given)."
                       if params.get("edges") is None else
                       "Node $v$ attends only to the $v'$ with $(v, v') in E$ (itself only if $(v, v)$ is an edge); "
                       "the other weights are 0.")
    rows = []
    children = []
    for v in range(n):
        nb = [u for u in range(n) if mask[v, u]]
        if not nb:
            warnings.append(SolverWarning(ISOLATED_NODE, f"node {v} has no neighbours: its weights and output are "
                                                         "set to 0"))
            rows.append([v, "none", "-", "-"])
            children.append(Step(f"Node {v}: no neighbours", text="All weights are 0 and the output is 0."))
            continue
        s = scores[v, nb]
        e = np.exp(s - s.max())
        alpha = e / e.sum()
        weights[v, nb] = alpha
        outputs[v] = alpha @ V[nb]
        rows.append([v, ", ".join(str(u) for u in nb), ", ".join(f"{a:.4g}" for a in alpha),
                     ", ".join(f"{o:.4g}" for o in outputs[v])])
        den = sp.Add(*[sp.exp(sp.Float(scores[v, u]), evaluate=False) for u in nb], evaluate=False)
        combo = sp.Add(*[sp.Mul(sp.Float(weights[v, u]), sp.Symbol(f"V_{u}", commutative=False), evaluate=False)
                         for u in nb], evaluate=False)
        children.append(Step(
            f"Node {v}: softmax over its neighbours " + ", ".join(str(u) for u in nb),
            math=[[Sym(f"alpha_{v},{u}"), sp.Mul(sp.exp(sp.UnevaluatedExpr(sp.Float(scores[v, u])), evaluate=False),
                                                  sp.Pow(den, -1, evaluate=False), evaluate=False), weights[v, u]]
                  for u in nb] + [[Sym(f"S_{v}"), combo, outputs[v]]],
        ))
    steps.append(Step("Softmax over each node's neighbours and the weighted sum of values",
                      text=neighbours_text + " The output is $S_v = sum_v' alpha(v, v') V_v'$, the sum over the "
                                             "neighbours $v'$ of $v$.",
                      table=Table(["node $v$", "neighbours $v'$", "weights $alpha(v, v')$", "output $S_v$"], rows),
                      children=children))
    graph = Figure("attention_graph", {"weights": weights.tolist(),
                                        "edges": [[v, u] for v in range(n) for u in range(n) if mask[v, u]]},
                   "The graph: an arrow from $v'$ into $v$ for each edge $(v, v')$, labelled with node $v$'s weight "
                   "$alpha(v, v')$ on the value of $v'$; a loop for a self-edge.")
    steps.append(Step("Attention weights and outputs", result={"alpha": weights, "S": outputs}, figure=graph))
    answer = {"scores": scores.tolist(), "weights": weights.tolist(), "outputs": outputs.tolist()}
    normalized = {"X": X.tolist(), "W_Q": WQ.tolist(), "W_K": WK.tolist(), "W_V": WV.tolist(),
                  "edges": [[v, u] for v in range(n) for u in range(n) if mask[v, u]], "scale": scale}
    return Solution("attention", normalized, steps, answer, warnings)

