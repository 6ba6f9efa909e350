"""Grading an nn.Module question with weights the grader draws, never the student's own.

The reference model is run once per question on several weight sets that the grader draws (its own
initialisation under fixed seeds, with constant parameters and batch-norm statistics randomised so that no layer
is an identity); these weight sets travel to the worker as inputs and are loaded into the student's module,
its layers matched to the reference's in the order the forward pass first calls them (so attribute names and
registration order don't matter; parameters outside layers, such as KMeansNet's `centers`, are matched by
shape). The student's outputs, each layer call's input and output (copied when produced), the gradients of a
random projection of the output, and the loss curve of a few SGD steps are compared with the reference's on
the same weights, input and seeds. A wrong architecture earns only what it really computes, and a value that
is not finite is never within tolerance.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from .engine import GraderFault, RunView, compare, ordinal

WEIGHT_SETS = 2
_CACHE: dict[tuple, Reference] = {}
_CACHE_LOCK = threading.Lock()


def leaves(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if m is not model
            and not list(m.children()) and (list(m.parameters(recurse=False)) or list(m.buffers(recurse=False)))]


def close(name: str, got, expected) -> tuple[bool, str]:
    """`compare` with a float32 tolerance that scales with the values: sums over hundreds of products are
    reordered by another style of code or another thread count, so errors of 1e-5 of the largest value are
    rounding, not a mistake."""
    scale = float(np.max(np.abs(expected))) if np.size(expected) else 0.0
    return compare(name, got, expected, atol=1e-6 + 2e-5 * scale, rtol=1e-4)


def describe(kind: str, shapes: list[tuple]) -> str:
    return f"{kind}({', '.join('x'.join(map(str, s)) for s in shapes)})"


def match_params(own: dict[str, list[int]], reference: dict[str, list[int]]) -> dict[str, str] | None:
    """{own name: reference name}: the same name and shape, else the first unused reference parameter of that
    shape; None if one is left unmatched. The worker loads weights by the same rule (worker.match_params)."""
    mapping, used = {}, set()
    for name, shape in own.items():
        if reference.get(name) == shape:
            mapping[name] = name
            used.add(name)
    for name, shape in own.items():
        if name not in mapping:
            other = next((r for r, s in reference.items() if s == shape and r not in used), None)
            if other is None:
                return None
            mapping[name] = other
            used.add(other)
    return mapping


class Reference:
    """The reference module's behaviour on the grader's weight sets, computed once per question.

    `descriptor` and `inputs()` are what the worker needs to load the same weights; `outputs[w][r]`,
    `calls[w][r]` (leaf index, input, output per layer call), `grads[w]` and `losses` are the expected values.
    """

    def __init__(self, ref_cls, qid: str, x: np.ndarray, runs: list[dict], projection: np.ndarray,
                 train: dict | None, data: dict[str, np.ndarray], seed: int):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in the worker: the same order of every sum
        try:
            self._build(ref_cls, qid, x, runs, projection, train, data, seed)
        finally:
            torch.set_num_threads(threads)

    def _build(self, ref_cls, qid, x, runs, projection, train, data, seed) -> None:
        self.ref_cls, self.qid = ref_cls, qid
        self.model = ref_cls()
        self.leaves = leaves(self.model)
        self.model.eval()
        self.order = self._first_calls(torch.as_tensor(x))
        in_leaves = {id(p) for m in self.leaves for p in m.parameters(recurse=False)}
        self.free = [(n, p) for n, p in self.model.named_parameters() if id(p) not in in_leaves]
        self.descriptor = {
            "leaves": [{"type": type(self.leaves[i]).__name__,
                        "params": {n: list(p.shape) for n, p in self.leaves[i].named_parameters(recurse=False)}}
                       for i in self.order],
            "free": {n: list(p.shape) for n, p in self.free}}
        self.weight_sets = [self._draw(seed * 1000 + w) for w in range(WEIGHT_SETS)]
        self.outputs, self.calls, self.grads = [], [], []
        for weights in self.weight_sets:
            self._load(weights)
            outs, calls, grads = [], [], {}
            for r, run in enumerate(runs):
                out, made = self._forward(torch.as_tensor(x), run)
                if r == 0:
                    self.model.zero_grad()
                    (out * torch.as_tensor(projection)).sum().backward()
                    grads = {(k, n): p.grad.numpy().copy() for k, i in enumerate(self.order)
                             for n, p in self.leaves[i].named_parameters(recurse=False)}
                    grads |= {("free", n): p.grad.numpy().copy() for n, p in self.free}
                outs.append(out.detach().numpy().copy())
                calls.append(made)
            self.outputs.append(outs)
            self.calls.append(calls)
            self.grads.append(grads)
        self.losses = self._train(train, data) if train else None
        for values in (*self.outputs, *self.grads, [self.losses] if train else []):
            for value in (values.values() if isinstance(values, dict) else values):
                if not np.all(np.isfinite(value)):
                    raise GraderFault(f"the reference {ref_cls.__name__} computed non-finite values")

    def _first_calls(self, x) -> list[int]:
        order, index = [], {id(m): i for i, m in enumerate(self.leaves)}
        handles = [m.register_forward_hook(lambda mod, inp, out: order.append(index[id(mod)])) for m in self.leaves]
        try:
            with torch.no_grad():
                self.model(x)
        finally:
            for h in handles:
                h.remove()
        return list(dict.fromkeys(order))

    def _draw(self, seed: int) -> dict[str, np.ndarray]:
        """A weight set: a fresh reference initialised under `seed`, constant parameters (batch-norm scale and
        shift, zero biases) and float buffers (running statistics) replaced by random values."""
        torch.manual_seed(seed)
        fresh = self.ref_cls()
        rng = np.random.default_rng(seed)
        mods = leaves(fresh)
        weights = {}
        for k, i in enumerate(self.order):
            for n, p in mods[i].named_parameters(recurse=False):
                value = p.detach().numpy().copy()
                if value.size > 1 and np.ptp(value) == 0:
                    value = value + rng.normal(0, 0.3, value.shape).astype(value.dtype)
                weights[f"l{k}.p.{n}"] = value
            for n, b in mods[i].named_buffers(recurse=False):
                if b.is_floating_point():
                    low, high = (0.5, 1.5) if "var" in n else (-0.5, 0.5)
                    weights[f"l{k}.b.{n}"] = rng.uniform(low, high, tuple(b.shape)).astype(np.float32)
        in_leaves = {id(p) for m in mods for p in m.parameters(recurse=False)}
        for n, p in fresh.named_parameters():
            if id(p) not in in_leaves:
                weights[f"free.{n}"] = p.detach().numpy().copy()
        return weights

    def _load(self, weights: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for k, i in enumerate(self.order):
                for n, p in self.leaves[i].named_parameters(recurse=False):
                    p.copy_(torch.as_tensor(weights[f"l{k}.p.{n}"]))
                for n, b in self.leaves[i].named_buffers(recurse=False):
                    if f"l{k}.b.{n}" in weights:
                        b.copy_(torch.as_tensor(weights[f"l{k}.b.{n}"]))
            for n, p in self.free:
                p.copy_(torch.as_tensor(weights[f"free.{n}"]))

    def _forward(self, x, run: dict):
        index = {id(m): i for i, m in enumerate(self.leaves)}
        made = []

        def hook(mod, inp, out):
            first = next((a for a in inp if isinstance(a, torch.Tensor)), None)
            made.append((index[id(mod)], None if first is None else first.detach().clone().numpy(),
                         out.detach().clone().numpy() if isinstance(out, torch.Tensor) else None))

        handles = [m.register_forward_hook(hook) for m in self.leaves]
        try:
            self.model.eval()
            torch.manual_seed(run["seed"])
            out = self.model(x, **run.get("kwargs", {}))
        finally:
            for h in handles:
                h.remove()
        return out, made

    def _train(self, train: dict, data: dict[str, np.ndarray]) -> np.ndarray:
        self._load(self.weight_sets[0])
        self.model.train()
        params = list(self.model.parameters())
        images = torch.as_tensor(data["data"])
        labels = torch.as_tensor(data["labels"])
        losses = []
        for step in range(train["steps"]):
            start = (step * train["batch"]) % len(images)
            torch.manual_seed(train["seed"] + step)
            out = self.model(images[start:start + train["batch"]])
            if train["loss"] == "ce":
                loss = torch.nn.functional.cross_entropy(out, labels[start:start + train["batch"]])
            else:
                loss = torch.nn.functional.mse_loss(out, torch.zeros_like(out))
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-train["lr"])  # torch.optim.SGD's step, without its import
            losses.append(float(loss.detach()))
        self.model.eval()
        return np.array(losses)

    def inputs(self) -> dict[str, np.ndarray]:
        """The weight sets as worker inputs: `<qid>.w<set>.l<k>.p.<name>` for the k-th layer first called."""
        return {f"{self.qid}.w{w}.{key}": value for w, weights in enumerate(self.weight_sets)
                for key, value in weights.items()}

    def prefixes(self) -> list[str]:
        return [f"{self.qid}.w{w}" for w in range(WEIGHT_SETS)]

    def layer_name(self, k: int, calls: list) -> str:
        """The k-th layer call, named like `the 2nd Linear (layer call 6)`."""
        kind = type(self.leaves[calls[k][0]]).__name__
        nth = sum(1 for c in calls[:k + 1] if type(self.leaves[c[0]]).__name__ == kind)
        return f"the {ordinal(nth)} {kind} (layer call {k + 1})"


def reference(key: tuple, build) -> Reference:
    """The cached Reference for `key`, built once (`build()`) and shared by every submission of a batch."""
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = build()
        return _CACHE[key]


class ModuleComparison:
    """One submission's module probe against the Reference: structure, outputs, gradients, training."""

    def __init__(self, ref: Reference, view: RunView, probe_id: str):
        self.ref, self.view = ref, view
        self.meta, self.arrays, self.problem = view.get(probe_id)
        self.structure_ok, self.structure_message = (False, self.problem) if self.meta is None else self._match()

    def _match(self) -> tuple[bool, str]:
        ref = self.ref
        runs = self.meta["runs"]
        student_order = runs[0]["calls"] if runs else self.meta["order"]
        ref_order = [c[0] for c in ref.calls[0][0]]
        leaves = self.meta["leaves"]
        mapping, back = {}, {}
        for k in range(max(len(ref_order), len(student_order))):
            if k >= len(student_order):
                r = ref.leaves[ref_order[k]]
                want = describe(type(r).__name__, [tuple(p.shape) for p in r.parameters(recurse=False)])
                return False, f"your forward pass calls {len(student_order)} layers with parameters; the " \
                              f"statement's calls {len(ref_order)} (the {ordinal(k + 1)} should be {want})"
            info = leaves[student_order[k]]
            sshapes = [tuple(s) for s in info["params"].values()]
            if k >= len(ref_order):
                return False, f"your forward pass calls an extra layer: {describe(info['type'], sshapes)}"
            r = ref.leaves[ref_order[k]]
            rkind, rshapes = type(r).__name__, [tuple(p.shape) for p in r.parameters(recurse=False)]
            if sorted(rshapes) != sorted(sshapes) or (rkind != info["type"] and rshapes == [] and sshapes == []):
                return False, (f"the {ordinal(k + 1)} layer your forward pass calls is "
                               f"{describe(info['type'], sshapes)}; the statement's is {describe(rkind, rshapes)}")
            s = student_order[k]
            if mapping.setdefault(ref_order[k], s) != s or back.setdefault(s, ref_order[k]) != ref_order[k]:
                return False, f"the {ordinal(k + 1)} layer call reuses a layer differently from the statement"
        for name, shape in ref.descriptor["free"].items():
            if shape not in self.meta["free"].values():
                return False, f"no parameter of shape {'x'.join(map(str, shape))} (the statement's {name})"
        ref_count = sum(p.numel() for p in ref.model.parameters())
        if self.meta["n_params"] != ref_count:
            return False, f"your model has {self.meta['n_params']} parameters; the statement's has {ref_count}"
        if "load_error" in self.meta:
            return False, f"the grader's weights could not be loaded into your layers: {self.meta['load_error']}"
        return True, f"{len(ref_order)} layers with parameters, called in the statement's order; " \
                     f"{ref_count} parameters"

    def output(self, r: int, select: slice | None, label: str) -> tuple[bool, str]:
        """Run r's output on every weight set; on the first, a mismatch is traced to the first layer call whose
        input or output differs."""
        if not self.structure_ok:
            return False, "not compared: " + self.structure_message
        part = (lambda a: a[:, select] if a.ndim == 2 else a) if select is not None else (lambda a: a)
        for w in range(WEIGHT_SETS):
            got = self.arrays.get(f"w{w}.r{r}.out")
            expected = self.ref.outputs[w][r]
            ok, message = close(label, None if got is None else part(got), part(expected))
            if ok:
                continue
            if w > 0:
                return False, f"{message} (with the grader's {ordinal(w + 1)} set of weights)"
            cause = self._first_divergence(r)
            return False, cause + message if cause else \
                message + " (every layer with parameters agrees: look at the steps between them)"
        return True, f"{label} matches on {WEIGHT_SETS} sets of weights drawn by the grader"

    def _first_divergence(self, r: int) -> str:
        calls = self.ref.calls[0][r]
        for k, (_, first, output) in enumerate(calls):
            for what, ref_value in (("input", first), ("output", output)):
                student = self.arrays.get(f"w0.r{r}.c{k}.{'in' if what == 'input' else 'out'}")
                if student is None or ref_value is None:
                    continue
                same, detail = close(f"the {what} of {self.ref.layer_name(k, calls)}", student, ref_value)
                if not same:
                    return detail + "; so "
        return ""

    def gradients(self) -> tuple[bool, str]:
        if not self.structure_ok:
            return False, "not compared: " + self.structure_message
        order = self.meta["order"]
        calls = self.ref.calls[0][0]
        for w in range(WEIGHT_SETS):
            for k, i in enumerate(order):
                own = self.meta["leaves"][i]["params"]
                mapping = match_params(own, self.ref.descriptor["leaves"][k]["params"]) or {}
                for student_name, ref_name in mapping.items():
                    first_call = next(j for j, c in enumerate(calls) if c[0] == self.ref.order[k])
                    ok, message = close(f"the gradient of {ref_name} of {self.ref.layer_name(first_call, calls)}",
                                          self.arrays.get(f"w{w}.r0.g{i}.{student_name}"),
                                          self.ref.grads[w][(k, ref_name)])
                    if not ok:
                        return False, message
            mapping = match_params(self.meta["free"], self.ref.descriptor["free"]) or {}
            for student_name, ref_name in mapping.items():
                ok, message = close(f"the gradient of {ref_name}", self.arrays.get(f"w{w}.r0.gfree.{student_name}"),
                                      self.ref.grads[w][("free", ref_name)])
                if not ok:
                    return False, message
        return True, f"the gradients of every parameter match on {WEIGHT_SETS} sets of weights"

    def training(self, steps: int) -> tuple[float, str]:
        """The student's module trained from the grader's first weight set, like the reference was."""
        if self.meta is None:
            return 0.0, self.problem
        losses = self.arrays.get("train.losses")
        if losses is None or losses.ndim != 1 or len(losses) != steps or not np.all(np.isfinite(losses)):
            return 0.0, "training did not produce a finite loss at every step"
        falls = losses[-3:].mean() < losses[:3].mean()
        if not self.structure_ok:
            return (0.5 if falls else 0.0), f"the loss {'falls' if falls else 'does not fall'} " \
                                            f"({losses[0]:.4g} -> {losses[-1]:.4g}); not compared with the " \
                                            "reference because the structure differs"
        ref_losses = self.ref.losses
        # same weights, data and seeds: an equivalent module follows the reference's curve up to float32 rounding
        close = np.allclose(losses, ref_losses, rtol=1e-3, atol=1e-4 * abs(ref_losses[0]) + 1e-6)
        curve = f"{losses[0]:.4g} -> {losses[-1]:.4g} (reference {ref_losses[0]:.4g} -> {ref_losses[-1]:.4g})"
        if falls and close:
            return 1.0, f"the loss falls as the reference's does: {curve}"
        if falls:
            return 0.5, f"the loss falls but not as the reference's does: {curve}"
        return 0.0, f"the loss does not fall: {curve}"
