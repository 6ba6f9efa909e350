"""The peer workload: ~700 questions of QuizGenerator (PyPI `quizgenerator`, a Canvas quiz generator), built by the
peer and solved by nnexam's solvers, in the same run.

The peer's questions are forward pass, backprop, conv2d, RNN, attention and gradient descent (its classes
ForwardPassQuestion, BackpropGradientQuestion, ConvolutionCalculation, RNNForwardPass, AttentionForwardPass and
GradientDescentWalkthrough), `--seeds` seeds each. The peer runs in its own interpreter (it needs Python 3.12;
`--peer-python`, default /work/venvs/peer/bin/python, see BENCHMARKS.md to install it); it times, per question,
building the question's numbers and answers (`_build_context`, what a solver does) and, for the first few seeds,
the whole question (`build`: body, explanation and the network diagram it draws with matplotlib), and hands the
numbers over as JSON. nnexam then solves the equivalent problems in process (the same numbers; every step and
exact value it always produces) and its answers are compared with the peer's. Without the peer, the figure
recorded in issue 16 (1.35 s) stands in, and the script says so.

    python bench/peer.py [--seeds 117] [--repeat 3] [--peer-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import header, table

RECORDED_PEER_S = 1.35  # issue 16: the peer builds the same ~700 questions in 1.35 s
DEFAULT_PEER = "/work/venvs/peer/bin/python"

HARVEST = r'''
import importlib, json, sys, time
import numpy as np
base = "QuizGenerator.generation.premade_questions.cst463."
nn = importlib.import_module(base + "neural-network-basics.neural_network_questions")
cnns = importlib.import_module(base + "models.cnns")
rnns = importlib.import_module(base + "models.rnns")
att = importlib.import_module(base + "models.attention")
gd = importlib.import_module(base + "gradient_descent.gradient_descent_questions")
CLASSES = {"forward_pass": nn.ForwardPassQuestion, "backprop": nn.BackpropGradientQuestion,
           "conv2d": cnns.ConvolutionCalculation, "rnn": rnns.RNNForwardPass,
           "attention": att.AttentionForwardPass, "gradient_descent": gd.GradientDescentWalkthrough}
FIELDS = {"forward_pass": ["W1", "b1", "W2", "b2", "X", "activation_function", "a2"],
          "backprop": ["W1", "b1", "W2", "b2", "X", "activation_function", "y_target", "loss", "a2"],
          "conv2d": ["image", "kernel", "stride", "padding", "result"],
          "rnn": ["x_seq", "W_xh", "W_hh", "b_h", "h_0", "h_states"],
          "attention": ["Q", "K", "V", "output"],
          "gradient_descent": ["function", "variables", "starting_point", "learning_rate", "num_steps",
                               "final_location"]}
seeds, full = int(sys.argv[1]), int(sys.argv[2])

def plain(v):
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)

def get(ctx, name):
    return ctx[name] if isinstance(ctx, dict) else getattr(ctx, name)

for cls in CLASSES.values():  # warm up each class once (imports, caches), as nnexam's solvers are
    cls._build_context(rng_seed=10**6)
out = {"context_s": {}, "build_s": {}, "questions": {}}
for kind, cls in CLASSES.items():
    contexts, t = [], time.perf_counter()
    for seed in range(seeds):
        contexts.append(cls._build_context(rng_seed=seed))
    out["context_s"][kind] = time.perf_counter() - t
    t = time.perf_counter()
    for seed in range(full):
        cls.build(rng_seed=seed)
    out["build_s"][kind] = (time.perf_counter() - t) / max(full, 1)
    out["questions"][kind] = [{f: plain(get(c, f)) for f in FIELDS[kind]} for c in contexts]
json.dump(out, open(sys.argv[3], "w"))
'''


def problems(kind: str, q: dict) -> list[dict]:
    """nnexam's parameters for one peer question (a conv2d question with F filters is F problems)."""
    if kind in ("forward_pass", "backprop"):
        hidden = q["activation_function"]
        params = {"x": q["X"], "layers": [{"W": q["W1"], "b": q["b1"], "activation": hidden},
                                          {"W": q["W2"], "b": q["b2"], "activation": "sigmoid"}]}
        if kind == "backprop":
            params |= {"target": [q["y_target"]], "loss": "bce"}
        return [params]
    if kind == "conv2d":
        kernel = np.asarray(q["kernel"])
        return [{"input": q["image"], "kernel": kernel[:, :, f].tolist(), "stride": q["stride"],
                 "padding": q["padding"]} for f in range(kernel.shape[2])]
    if kind == "rnn":  # the peer computes h_t = tanh(x_t W_xh + h_(t-1) W_hh + b): nnexam's U, W are transposed
        return [{"inputs": q["x_seq"], "U": np.asarray(q["W_xh"]).T.tolist(), "W": np.asarray(q["W_hh"]).T.tolist(),
                 "b": q["b_h"], "s0": q["h_0"]}]
    if kind == "attention":  # X = I, so Q = X W_Q^T = W_Q^T: the peer's Q, K, V as nnexam's weights
        n = len(q["Q"])
        return [{"X": np.eye(n, dtype=int).tolist(), "W_Q": np.asarray(q["Q"]).T.tolist(),
                 "W_K": np.asarray(q["K"]).T.tolist(), "W_V": np.asarray(q["V"]).T.tolist()}]
    if kind == "gradient_descent":
        return [{"objective": q["function"], "variables": q["variables"], "start": q["starting_point"],
                 "learning_rate": q["learning_rate"], "iterations": q["num_steps"]}]
    raise ValueError(kind)


def agrees(kind: str, q: dict, solutions: list) -> bool:
    """nnexam's answer equals the peer's (to the peer's rounding: 1e-3, and for backprop the loss of the
    output rounded as the peer rounds it)."""
    def close(a, b):
        return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-3, atol=1e-3)

    s = solutions[0].answer
    if kind == "forward_pass":
        return close(s["output"], q["a2"])
    if kind == "backprop":  # the peer takes the loss of its output rounded to 4 decimals
        y, a = q["y_target"], float(np.ravel(q["a2"])[0])
        ours = float(np.ravel(solutions[0].details["output"])[0])
        rounded_loss = -(y * np.log(a) + (1 - y) * np.log(1 - a)) if 0 < a < 1 else np.inf
        return close(s["loss"], q["loss"]) or (abs(ours - a) <= 5e-5 and abs(rounded_loss - q["loss"]) <= 1e-3)
    if kind == "conv2d":
        result = np.asarray(q["result"])
        return all(close(sol.answer["output"], result[:, :, f]) for f, sol in enumerate(solutions))
    if kind == "rnn":
        return close(s["states"], q["h_states"])
    if kind == "attention":
        return close(s["outputs"], q["output"])
    if kind == "gradient_descent":
        return close(s["iterates"][-1], q["final_location"]) or close(s["final"], q["final_location"])
    raise ValueError(kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=117, help="questions per question type (6 types)")
    parser.add_argument("--full", type=int, default=3, help="questions per type the peer also builds in full")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-python", default=os.environ.get("NNEXAM_PEER_PYTHON", DEFAULT_PEER))
    args = parser.parse_args()
    header(f"peer: {6 * args.seeds} QuizGenerator questions, built by the peer and solved by nnexam")

    import solvers

    work = Path(tempfile.mkdtemp(prefix="nnexam-bench-peer-"))
    peer = None
    if Path(args.peer_python).exists():
        runs = []
        for _ in range(args.repeat):
            subprocess.run([args.peer_python, "-c", HARVEST, str(args.seeds), str(args.full), str(work / "h.json")],
                           check=True, capture_output=True, text=True)
            runs.append(json.loads((work / "h.json").read_text()))
        peer = runs[0]
        peer["context_s"] = {k: statistics.median(r["context_s"][k] for r in runs) for k in peer["context_s"]}
        version = subprocess.run([args.peer_python, "-c", "from importlib.metadata import version; "
                                  "print(version('quizgenerator'))"], capture_output=True, text=True).stdout.strip()
        print(f"peer: quizgenerator {version} ({args.peer_python}), median of {args.repeat} runs\n")
    else:
        raise SystemExit(f"the peer is not installed at {args.peer_python}: install it (BENCHMARKS.md) or pass "
                         f"--peer-python; the recorded figure is {RECORDED_PEER_S} s (issue 16)")

    batch = {kind: [problems(kind, q) for q in qs] for kind, qs in peer["questions"].items()}
    for kind, items in batch.items():  # warm-up: one solve per kind (imports, sympy's caches)
        solvers.solve(kind, items[0][0])

    def solve_all() -> tuple[dict[str, float], dict[str, list]]:
        seconds, solved = {}, {}
        for kind, items in batch.items():
            t = time.perf_counter()
            solved[kind] = [[solvers.solve(kind, p) for p in question] for question in items]
            seconds[kind] = time.perf_counter() - t
        return seconds, solved

    results = [solve_all() for _ in range(args.repeat)]
    ours = {k: statistics.median(r[0][k] for r in results) for k in batch}
    solved = results[0][1]
    rows = []
    for kind in batch:
        n = len(batch[kind])
        ok = sum(agrees(kind, q, s) for q, s in zip(peer["questions"][kind], solved[kind], strict=True))
        rows.append([kind, n, f"{peer['context_s'][kind] * 1000:.0f}", f"{peer['build_s'][kind] * 1000 * n:.0f}",
                     f"{ours[kind] * 1000:.0f}", f"{ours[kind] / peer['context_s'][kind]:.2f}x", f"{ok}/{n}"])
    total_peer, total_ours = sum(peer["context_s"].values()), sum(ours.values())
    total_full = sum(peer["build_s"][k] * len(batch[k]) for k in batch)
    total_n = sum(len(v) for v in batch.values())
    rows.append(["all", total_n, f"{total_peer * 1000:.0f}", f"{total_full * 1000:.0f}", f"{total_ours * 1000:.0f}",
                 f"{total_ours / total_peer:.2f}x", ""])
    table(rows, ["kind", "questions", "peer: numbers and answers (ms)",
                 f"peer: whole questions (ms, extrapolated from {args.full} each)", "nnexam: solve (ms)",
                 "nnexam / peer numbers", "same answers"])
    verdict = "met" if total_ours <= 3 * total_peer else "NOT met"
    print(f"target (nnexam within 3x of the peer's build): {total_ours:.2f} s vs {total_peer:.2f} s = "
          f"{total_ours / total_peer:.2f}x, {verdict}; against the peer's whole questions: "
          f"{total_ours / total_full:.3f}x")
    print(f"per question: nnexam {total_ours / total_n * 1000:.2f} ms, peer {total_peer / total_n * 1000:.2f} ms "
          f"(numbers) / {total_full / total_n * 1000:.0f} ms (whole)")


if __name__ == "__main__":
    main()
