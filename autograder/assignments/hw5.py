"""Homework 5 code questions: q1 gradient descent on R(w); q2 a 2-3-1 network trained by hand in numpy."""

from __future__ import annotations

import numpy as np

from assignments.code import points

from ..engine import compare
from ..references import hw5 as ref
from ..sandbox import Limits
from . import Question, signature_check

POINTS = points("hw5")  # assignments/hw5/code.py allocates them
LIMITS = Limits(cpu_s=30, wall_s=45)
ETAS = ((0.02, 40), (0.05, 40), (0.1, 10))
EPOCHS, ETA = 5, 0.05


def _q1_plan():
    rng = np.random.default_rng(5)
    inputs = {f"q1.w{i}": rng.normal(0, 2, 2) for i in range(3)}
    probes = [{"id": "names", "kind": "names", "names": ["gradient", "gradient_descent"]}]
    probes += [{"id": f"g{i}", "kind": "call", "func": "gradient", "args": [{"array": f"q1.w{i}"}]} for i in range(3)]
    probes += [{"id": f"gd{i}", "kind": "call", "func": "gradient_descent", "args": [{"value": e}, {"value": n}]}
               for i, (e, n) in enumerate(ETAS)]
    return probes, inputs


def _q1_grade(view):
    yield ("signatures", *signature_check(view, "names", {"gradient": 1, "gradient_descent": 2}))
    yield ("gradient", *_share(view, [(f"g{i}", "r0.out0", f"gradient(w) at w = {view.input(f'w{i}').round(3)}",
                                       ref.gradient(view.input(f"w{i}"))) for i in range(3)]))
    yield ("gradient_descent", *_share(view, [(f"gd{i}", "r0.out0", f"gradient_descent({e}, {n})",
                                               ref.gradient_descent(e, n)) for i, (e, n) in enumerate(ETAS)]))


def _share(view, cases) -> tuple[float, str]:
    """The fraction of cases (probe id, array key, label, expected) that match, naming the first that fails."""
    passed, first = 0, ""
    for probe_id, key, label, expected in cases:
        meta, arrays, problem = view.get(probe_id)
        ok, message = (False, f"{label}: {problem}") if meta is None else compare(label, arrays.get(key), expected)
        passed += ok
        first = first or ("" if ok else message)
    return passed / len(cases), first or f"all {len(cases)} cases match"


def _q2_inputs():
    rng = np.random.default_rng(7)
    W, b, U, c = ref.initial_weights(seed=3, sigma=0.5)
    X, Y = ref.friend_data(200, seed=1)
    return {"q2.v": rng.normal(0, 1, 7), "q2.x": rng.uniform(-1, 1, (2, 1)), "q2.y": np.array([[1.0]]),
            "q2.W": W, "q2.b": b, "q2.U": U, "q2.c": c, "q2.X": X[:, :40], "q2.Y": Y[:, :40],
            "q2.Xt": X, "q2.Yt": Y}


def _q2_plan():
    inputs = _q2_inputs()
    weights = [{"array": f"q2.{k}"} for k in "WbUc"]
    x, y = {"array": "q2.x"}, {"array": "q2.y"}
    probes = [
        {"id": "names", "kind": "names", "names": ["phi", "phi_prime", "forward", "backward", "sgd_epoch"]},
        {"id": "phi", "kind": "call", "func": "phi", "args": [{"array": "q2.v"}]},
        {"id": "phi_prime", "kind": "call", "func": "phi_prime", "args": [{"array": "q2.v"}]},
        {"id": "forward", "kind": "call", "func": "forward", "args": [x, *weights], "tuple": True},
        {"id": "backward", "kind": "call", "func": "backward", "args": [x, y, *weights], "tuple": True},
        {"id": "sgd", "kind": "call", "func": "sgd_epoch", "tuple": True,
         "args": [{"array": "q2.X"}, {"array": "q2.Y"}, *weights, {"value": 0.1}]},
        {"id": "train", "kind": "call", "func": "sgd_epoch", "tuple": True, "repeat": EPOCHS,
         "feed": {"2": 0, "3": 1, "4": 2, "5": 3},
         "args": [{"array": "q2.Xt"}, {"array": "q2.Yt"}, *weights, {"value": ETA}]},
    ]
    return probes, inputs


def _tuple_check(view, probe_id, names, expected, label) -> tuple[float, str]:
    meta, arrays, problem = view.get(probe_id)
    if meta is None:
        return 0.0, f"{label}: {problem}"
    results = [compare(f"{label}: {n}", arrays.get(f"r0.out{j}"), e)
               for j, (n, e) in enumerate(zip(names, expected, strict=True))]
    passed = sum(ok for ok, _ in results)
    first = next((m for ok, m in results if not ok), f"{label}: all of {', '.join(names)} match")
    return passed / len(names), first


def _q2_grade(view):
    i = {k: view.input(k) for k in ("v", "x", "y", "W", "b", "U", "c", "X", "Y", "Xt", "Yt")}
    weights = (i["W"], i["b"], i["U"], i["c"])
    yield ("signatures", *signature_check(view, "names", {"phi": 1, "phi_prime": 1, "forward": 5, "backward": 6,
                                                           "sgd_epoch": 7}))
    yield ("phi", *_share(view, [("phi", "r0.out0", "phi(v)", ref.phi(i["v"]))]))
    yield ("phi_prime", *_share(view, [("phi_prime", "r0.out0", "phi_prime(v)", ref.phi_prime(i["v"]))]))
    yield ("forward", *_tuple_check(view, "forward", ["v_z", "z", "v_f", "f"], ref.forward(i["x"], *weights),
                                    "forward(x, W, b, U, c)"))
    yield ("backward", *_tuple_check(view, "backward", ["grad_W", "grad_b", "grad_U", "grad_c"],
                                     ref.backward(i["x"], i["y"], *weights), "backward(x, y, W, b, U, c)"))
    yield ("sgd_epoch", *_tuple_check(view, "sgd", ["W", "b", "U", "c"], ref.sgd_epoch(i["X"], i["Y"], *weights, 0.1),
                                      "sgd_epoch(X, Y, W, b, U, c, 0.1) on 40 points"))
    yield ("training", *_training(view, i, weights))


def _training(view, i, weights) -> tuple[float, str]:
    meta, arrays, problem = view.get("train")
    if meta is None:
        return 0.0, f"training with sgd_epoch: {problem}"
    expected, current, got = [], weights, []
    for epoch in range(EPOCHS):
        current = ref.sgd_epoch(i["Xt"], i["Yt"], *current, ETA)
        expected.append(ref.mse(i["Xt"], i["Yt"], *current))
        try:
            student = [np.asarray(arrays[f"r{epoch}.out{j}"]).reshape(w.shape) for j, w in enumerate(weights)]
            got.append(ref.mse(i["Xt"], i["Yt"], *student))
        except (KeyError, ValueError):
            return 0.0, f"sgd_epoch did not return four arrays shaped like W, b, U, c at epoch {epoch + 1}"
    start = ref.mse(i["Xt"], i["Yt"], *weights)
    curve = f"MSE {start:.4f} -> {got[-1]:.4f} over {EPOCHS} epochs (reference -> {expected[-1]:.4f})"
    if not np.all(np.isfinite(got)) or got[-1] >= start:
        return 0.0, f"the MSE does not fall: {curve}"
    if np.allclose(got, expected, rtol=0.05, atol=1e-3):
        return 1.0, f"the MSE falls as the reference's does: {curve}"
    return 0.5, f"the MSE falls, but not as the reference's does: {curve}"


QUESTIONS = [
    Question("q1", "Gradient descent on R(w)", _q1_plan, _q1_grade),
    Question("q2", "Backpropagation by hand", _q2_plan, _q2_grade),
]
