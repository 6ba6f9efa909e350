"""One transformer block (lecture 25): multi-head self-attention with W_O, add & layer norm, the feed-forward
network, add & layer norm again.

Tokens are the rows of X (n x d). Head h has W_Q, W_K (d_k x d) and W_V (d_v x d), as `attention`: with Z the
block's attention input (X for post-norm, norm_1 for pre-norm), Q = Z W_Q^T, K = Z W_K^T, V = Z W_V^T,
    scores = scale Q K^T (scale [1/sqrt(d_k)]), weights = softmax of each row over the allowed tokens
    (causal: token i attends to j <= i), outputs = weights V;
    concat = [outputs_1, ..., outputs_H] (n x sum d_v), attention_output = concat W_O^T (W_O: d x sum d_v).
LN(z) = gamma (z - mean) / sqrt(var + eps) + beta per token over its d features (biased variance, torch's
layer_norm); FFN(Z) = act(Z W1^T + b1) W2^T + b2 (gelu in its erf form).
    post: residual_1 = X + attention_output, norm_1 = LN_1(residual_1), residual_2 = norm_1 + FFN(norm_1),
          output = norm_2 = LN_2(residual_2)   (lecture 25's S' = LN(S + X), X'' = LN(S' + X'));
    pre:  norm_1 = LN_1(X), residual_1 = X + attention_output, norm_2 = LN_2(residual_1),
          output = residual_2 = residual_1 + FFN(norm_2).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import params as P
from .core import Figure, Solution, Step, Sym, Table
from .errors import ParamError
from .registry import register

FFN_ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid", "linear")
MAX_HEADS = 16

# Lecture 25's block (post-norm: S' = LayerNorm(S + X), X' = W2 ReLU(W1 S' + b1) + b2, X'' = LayerNorm(S' + X')),
# 3 tokens of dimension 2, one head.
LECTURE_25 = {"X": [[1, 0], [0, 1], [1, 1]],
              "heads": [{"W_Q": [[1, 0], [0, 1]], "W_K": [[1, 0], [0, 1]], "W_V": [[1, 0], [0, 1]]}],
              "W_O": [[1, 0], [0, 1]],
              "ffn": {"W1": [[1, -1], [0.5, 1], [-1, 0]], "b1": [0, 0.5, 0], "W2": [[1, 0, -1], [0, 1, 1]]}}
TWO_HEADS_CAUSAL = {"X": [[1, 0, 1, 0], [0, 2, 0, 1], [1, 1, 0, 0]],
                    "heads": [{"W_Q": [[1, 0, 0, 0], [0, 1, 0, 0]], "W_K": [[0, 1, 0, 0], [1, 0, 0, 0]],
                               "W_V": [[1, 0, 1, 0], [0, 0, 0, 1]]},
                              {"W_Q": [[0, 0, 1, 0], [0, 0, 0, 1]], "W_K": [[1, 1, 0, 0], [0, 0, 1, 1]],
                               "W_V": [[0, 1, 0, 0], [1, 0, 0, -1]]}],
                    "W_O": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], "mask": "causal",
                    "ffn": {"W1": [[1, 0, 0, -1], [0, 1, -1, 0]], "W2": [[1, 0], [0, 1], [1, 1], [-1, 0]],
                            "activation": "gelu"}}


def _read(params: dict[str, Any]) -> dict[str, Any]:
    P.no_unknown(params, ["X", "heads", "W_O", "scale", "mask", "norm", "ln_1", "ln_2", "ffn"])
    X = P.matrix(P.get(params, "X"), "X")
    n, d = X.shape
    raw_heads = P.get(params, "heads")
    if not isinstance(raw_heads, list) or not raw_heads:
        raise ParamError("heads", "expected a non-empty list of heads {W_Q, W_K, W_V}")
    if len(raw_heads) > MAX_HEADS:
        raise ParamError("heads", f"at most {MAX_HEADS} heads, got {len(raw_heads)}")
    heads = []
    for h, raw in enumerate(raw_heads):
        field = f"heads[{h}]"
        raw = P.mapping(raw, field)
        P.no_unknown(raw, ["W_Q", "W_K", "W_V"], field)
        WQ = P.matrix(P.get(raw, "W_Q", field=f"{field}.W_Q"), f"{field}.W_Q", None, d)
        WK = P.matrix(P.get(raw, "W_K", field=f"{field}.W_K"), f"{field}.W_K", WQ.shape[0], d)
        WV = P.matrix(P.get(raw, "W_V", field=f"{field}.W_V"), f"{field}.W_V", None, d)
        heads.append({"W_Q": WQ, "W_K": WK, "W_V": WV})
    width = sum(h["W_V"].shape[0] for h in heads)
    WO = P.matrix(P.get(params, "W_O"), "W_O", d, width)
    scale = None if params.get("scale") is None else P.number(params["scale"], "scale")
    mask = P.choice(P.get(params, "mask", "none"), "mask", ["none", "causal"])
    norm = P.choice(P.get(params, "norm", "post"), "norm", ["post", "pre"])
    lns = [_layer_norm_params(params.get(name), name, d) for name in ("ln_1", "ln_2")]
    raw_ffn = P.mapping(P.get(params, "ffn"), "ffn")
    P.no_unknown(raw_ffn, ["W1", "b1", "W2", "b2", "activation"], "ffn")
    W1 = P.matrix(P.get(raw_ffn, "W1", field="ffn.W1"), "ffn.W1", None, d)
    hidden = W1.shape[0]
    ffn = {"W1": W1, "b1": P.vector(P.get(raw_ffn, "b1", [0] * hidden), "ffn.b1", hidden),
           "W2": P.matrix(P.get(raw_ffn, "W2", field="ffn.W2"), "ffn.W2", d, hidden),
           "b2": P.vector(P.get(raw_ffn, "b2", [0] * d), "ffn.b2", d),
           "activation": P.choice(P.get(raw_ffn, "activation", "relu"), "ffn.activation", FFN_ACTIVATIONS)}
    return {"X": X, "heads": heads, "W_O": WO, "scale": scale, "mask": mask, "norm": norm, "lns": lns, "ffn": ffn}


def _layer_norm_params(raw: Any, name: str, d: int) -> dict[str, Any]:
    raw = {} if raw is None else P.mapping(raw, name)
    P.no_unknown(raw, ["gamma", "beta", "eps"], name)
    return {"gamma": P.vector(P.get(raw, "gamma", [1] * d), f"{name}.gamma", d),
            "beta": P.vector(P.get(raw, "beta", [0] * d), f"{name}.beta", d),
            "eps": P.number(P.get(raw, "eps", 1e-5), f"{name}.eps", nonnegative=True)}


def _layer_norm(Z: np.ndarray, ln: dict[str, Any], name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = Z.mean(axis=1)
    var = ((Z - mean[:, None]) ** 2).mean(axis=1)
    if (var + ln["eps"] <= 0).any():
        i = int(np.argmax(var + ln["eps"] <= 0))
        raise ParamError(f"{name}.eps", f"token {i} has all features equal (variance 0) and eps = 0: layer norm "
                                        "would divide by 0; use eps > 0")
    out = ln["gamma"] * (Z - mean[:, None]) / np.sqrt(var + ln["eps"])[:, None] + ln["beta"]
    return out, mean, var


def _ffn_act(name: str, v: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(v, 0)
    if name == "gelu":
        return 0.5 * v * (1 + np.vectorize(math.erf)(v / math.sqrt(2))) if v.size else v
    if name == "tanh":
        return np.tanh(v)
    if name == "sigmoid":
        return 0.5 * (1 + np.tanh(v / 2))
    return v


@register("transformer_block", "A transformer block: multi-head attention with W_O and an optional causal mask, "
          "add & layer norm, the feed-forward net (post- or pre-norm)",
          examples={"lecture_25_post_norm": LECTURE_25, "two_heads_causal_gelu": TWO_HEADS_CAUSAL,
                    "pre_norm": {**LECTURE_25, "norm": "pre", "ln_1": {"gamma": [1, 2], "beta": [0, 1]}}})
def solve(params: dict[str, Any]) -> Solution:
    r = _read(params)
    with np.errstate(all="ignore"):  # an overflow is refused below, without numpy's warnings
        return _solve(r)


def _solve(r: dict[str, Any]) -> Solution:
    X, post = r["X"], r["norm"] == "post"
    n, d = X.shape
    steps = [Step("The block", text=(
        "Post-norm (lecture 25): $residual_1 = X + attention(X)$, $norm_1 = LN_1(residual_1)$, "
        "$residual_2 = norm_1 + FFN(norm_1)$, $output = LN_2(residual_2)$." if post else
        "Pre-norm: $norm_1 = LN_1(X)$, $residual_1 = X + attention(norm_1)$, $norm_2 = LN_2(residual_1)$, "
        "$output = residual_2 = residual_1 + FFN(norm_2)$.") + " Tokens are the rows, counted from 0; layer norm "
        "works per token over its features (biased variance, $epsilon$ inside the square root).", inputs={"X": X})]
    answer: dict[str, Any] = {}
    if post:
        Z = X
    else:
        norm_1, mean, var = _layer_norm(X, r["lns"][0], "ln_1")
        steps.append(_ln_step("$LN_1$ of $X$ (pre-norm)", mean, var, r["lns"][0], "norm_1", norm_1))
        Z = norm_1
    allowed = np.tril(np.ones((n, n), dtype=bool)) if r["mask"] == "causal" else np.ones((n, n), dtype=bool)
    head_answers, outputs = [], []
    for h, head in enumerate(r["heads"]):
        Q, K, V = Z @ head["W_Q"].T, Z @ head["W_K"].T, Z @ head["W_V"].T
        scale = 1 / math.sqrt(Q.shape[1]) if r["scale"] is None else r["scale"]
        scores = scale * Q @ K.T
        masked = np.where(allowed, scores, -np.inf)
        e = np.exp(masked - masked.max(axis=1, keepdims=True))
        weights = e / e.sum(axis=1, keepdims=True)
        out = weights @ V
        outputs.append(out)
        head_answers.append({"scores": scores.tolist(), "weights": weights.tolist(), "outputs": out.tolist()})
        rows = [[i, ", ".join(f"{w:.4g}" for w in weights[i]), ", ".join(f"{o:.4g}" for o in out[i])] for i in range(n)]
        steps.append(Step(f"Head {h}: attention", text=(
            f"$Q = Z W_Q^T$, $K = Z W_K^T$, $V = Z W_V^T$ with $Z = {'X' if post else 'norm_1'}$; the scores are "
            f"$s Q K^T$ with the scale "
            f"{'$s = 1/sqrt(' + str(Q.shape[1]) + ')$' if r['scale'] is None else '$s$ as given'}; each row's softmax "
            + ("over the tokens $j <= i$ (causal mask: the other weights are 0)" if r["mask"] == "causal" else
               "over every token") + "; the outputs are the weights times $V$."),
            values={"Q": Q, "K": K, "V": V, "scale": scale}, result={"scores": scores},
            table=Table(["token $i$", "weights over $j$", "output"], rows)))
    concat = np.hstack(outputs)
    attention = concat @ r["W_O"].T
    steps.append(Step("Concatenate the heads and apply $W_O$",
                      text="The concatenation holds, per token, head 0's outputs, then head 1's, and so on; the "
                           "attention output is $concat W_O^T$.",
                      inputs={"W_O": r["W_O"]}, result={"concat": concat, "attention_output": attention}))
    residual_1 = X + attention
    ffn = r["ffn"]
    if post:
        norm_1, mean, var = _layer_norm(residual_1, r["lns"][0], "ln_1")
        steps.append(Step("Add", result={"residual_1": residual_1}, text="$residual_1 = X + attention(X)$."))
        steps.append(_ln_step("$LN_1$ (add & norm)", mean, var, r["lns"][0], "norm_1", norm_1))
        ffn_in = norm_1
    else:
        steps.append(Step("Add", result={"residual_1": residual_1}, text="$residual_1 = X + attention(norm_1)$."))
        norm_2, mean, var = _layer_norm(residual_1, r["lns"][1], "ln_2")
        steps.append(_ln_step("$LN_2$ of $residual_1$ (pre-norm)", mean, var, r["lns"][1], "norm_2", norm_2))
        ffn_in = norm_2
    hidden = _ffn_act(ffn["activation"], ffn_in @ ffn["W1"].T + ffn["b1"])
    ffn_out = hidden @ ffn["W2"].T + ffn["b2"]
    steps.append(Step("Feed-forward network", text=(
        f"$FFN(Z) = {ffn['activation']}(Z W1^T + b1) W2^T + b2$, applied to every token"
        + (" ($gelu(v) = v Phi(v) = v (1 + erf(v / sqrt(2))) / 2$)" if ffn["activation"] == "gelu" else "") + "."),
        inputs={"W1": ffn["W1"], "b1": ffn["b1"], "W2": ffn["W2"], "b2": ffn["b2"]},
        result={"ffn_hidden": hidden, "ffn_output": ffn_out}))
    if post:
        residual_2 = norm_1 + ffn_out
        norm_2, mean, var = _layer_norm(residual_2, r["lns"][1], "ln_2")
        steps.append(Step("Add", result={"residual_2": residual_2}, text="$residual_2 = norm_1 + FFN(norm_1)$."))
        steps.append(_ln_step("$LN_2$ (add & norm): the block's output", mean, var, r["lns"][1], "norm_2", norm_2))
        output = norm_2
    else:
        residual_2 = residual_1 + ffn_out
        steps.append(Step("Add: the block's output", result={"residual_2": residual_2},
                          text="$residual_2 = residual_1 + FFN(norm_2)$ (pre-norm blocks leave the output "
                               "unnormalized)."))
        output = residual_2
    steps.append(Step("Picture: the attention weights", figure=Figure(
        "attention_heads", {"weights": [h["weights"] for h in head_answers], "causal": r["mask"] == "causal"},
        "Each head's attention weights: row $i$ is token $i$'s distribution over the tokens $j$.")))
    answer = {"heads": head_answers, "concat": concat.tolist(), "attention_output": attention.tolist(),
              "residual_1": residual_1.tolist(), "norm_1": norm_1.tolist(), "ffn_hidden": hidden.tolist(),
              "ffn_output": ffn_out.tolist(), "residual_2": residual_2.tolist(), "norm_2": norm_2.tolist(),
              "output": output.tolist()}
    if not np.all(np.isfinite(np.hstack([residual_2, norm_2, concat]))):
        raise ParamError("X", "the values overflow (beyond 1e308): use smaller numbers")
    normalized = {"X": X.tolist(), "heads": [{k: v.tolist() for k, v in h.items()} for h in r["heads"]],
                  "W_O": r["W_O"].tolist(), "scale": r["scale"], "mask": r["mask"], "norm": r["norm"],
                  "ln_1": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r["lns"][0].items()},
                  "ln_2": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in r["lns"][1].items()},
                  "ffn": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in ffn.items()}}
    return Solution("transformer_block", normalized, steps, answer, [])


def _ln_step(title: str, mean: np.ndarray, var: np.ndarray, ln: dict[str, Any], name: str,
             value: np.ndarray) -> Step:
    return Step(title, text="Per token: mean and biased variance over its features, then "
                            "$gamma (z - mean) / sqrt(var + epsilon) + beta$.",
                values={"mean": mean, "var": var, "gamma": ln["gamma"], "beta": ln["beta"]},
                math=[[Sym("epsilon"), ln["eps"]]], result={name: value})
