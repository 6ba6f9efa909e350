"""Grading an nn.Module question: match the student's layers to the reference's, copy the weights, compare.

Layers are matched in the order the forward pass calls them (leaf modules holding parameters or buffers),
so attribute names and registration order don't matter; parameters outside such layers (KMeansNet's
`centers`) are matched by shape. The reference, carrying the student's own weights, is run on the same
input with the same seeds; its outputs, each layer's input and output, and the gradients of a random
projection of the output are compared with the student's.
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import RunView, compare, ordinal


def leaves(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if m is not model
            and not list(m.children()) and (list(m.parameters(recurse=False)) or list(m.buffers(recurse=False)))]


def describe(kind: str, shapes: list[tuple]) -> str:
    return f"{kind}({', '.join('x'.join(map(str, s)) for s in shapes)})"


class ModuleComparison:
    """The reference model loaded with the student's weights, ready to be run like the student's was."""

    def __init__(self, ref_cls, view: RunView, probe_id: str):
        self.view = view
        self.meta, self.arrays, self.problem = view.get(probe_id)
        self.ref = ref_cls()
        self.ref_leaves = leaves(self.ref)
        self.mapping: dict[int, int] = {}  # reference leaf -> student leaf
        self.structure_ok, self.structure_message = (False, self.problem) if self.meta is None else self._match()

    def _student_shapes(self, i: int) -> tuple[str, list[tuple]]:
        info = self.meta["leaves"][i]
        return info["type"], [tuple(self.arrays[f"l{i}.p.{n}"].shape) for n in info["params"]]

    def _ref_calls(self, x, kwargs, seed) -> tuple[torch.Tensor, list]:
        index = {id(m): i for i, m in enumerate(self.ref_leaves)}
        calls = []
        handles = [m.register_forward_hook(lambda mod, inp, out: calls.append(
            (index[id(mod)], next((a for a in inp if isinstance(a, torch.Tensor)), None), out)))
            for m in self.ref_leaves]
        try:
            torch.manual_seed(seed)
            out = self.ref(x, **kwargs)
        finally:
            for h in handles:
                h.remove()
        return out, calls

    def _match(self) -> tuple[bool, str]:
        self.ref.eval()
        x = torch.as_tensor(self.view.input("x"))
        with torch.no_grad():
            _, ref_calls = self._ref_calls(x, {}, 0)
        ref_order = [c[0] for c in ref_calls]
        student_order = self.meta["runs"][0]["calls"]
        for k in range(max(len(ref_order), len(student_order))):
            if k >= len(student_order):
                r = self.ref_leaves[ref_order[k]]
                want = describe(type(r).__name__, [tuple(p.shape) for p in r.parameters(recurse=False)])
                return False, f"your forward pass calls {len(student_order)} layers with parameters; the " \
                              f"statement's calls {len(ref_order)} (the {ordinal(k + 1)} should be {want})"
            if k >= len(ref_order):
                kind, shapes = self._student_shapes(student_order[k])
                return False, f"your forward pass calls an extra layer: {describe(kind, shapes)}"
            r = self.ref_leaves[ref_order[k]]
            rkind, rshapes = type(r).__name__, [tuple(p.shape) for p in r.parameters(recurse=False)]
            skind, sshapes = self._student_shapes(student_order[k])
            if sorted(rshapes) != sorted(sshapes) or (rkind != skind and rshapes == [] and sshapes == []):
                return False, (f"the {ordinal(k + 1)} layer your forward pass calls is {describe(skind, sshapes)};"
                               f" the statement's is {describe(rkind, rshapes)}")
            if self.mapping.get(ref_order[k], student_order[k]) != student_order[k]:
                return False, f"the {ordinal(k + 1)} layer call reuses a layer the statement does not reuse"
            self.mapping[ref_order[k]] = student_order[k]
        ref_free = [(n, p) for n, p in self.ref.named_parameters()
                    if not any(p is q for m in self.ref_leaves for q in m.parameters(recurse=False))]
        student_free = {n: self.arrays[f"free.{n}"] for n in self.meta["free"]}
        self.free_mapping = {}
        for name, p in ref_free:
            match = next((n for n, a in student_free.items() if a.shape == tuple(p.shape)
                          and n not in self.free_mapping.values()), None)
            if match is None:
                return False, f"no parameter of shape {'x'.join(map(str, p.shape))} (the statement's {name})"
            self.free_mapping[name] = match
        ref_count = sum(p.numel() for p in self.ref.parameters())
        if self.meta["n_params"] != ref_count:
            return False, f"your model has {self.meta['n_params']} parameters; the statement's has {ref_count}"
        self._copy_weights()
        return True, f"{len(ref_order)} layers with parameters, called in the statement's order; " \
                     f"{ref_count} parameters"

    def _copy_weights(self) -> None:
        with torch.no_grad():
            for r, s in self.mapping.items():
                module, info = self.ref_leaves[r], self.meta["leaves"][s]
                own = [(n, self.arrays[f"l{s}.p.{n}"]) for n in info["params"]]
                for name, p in module.named_parameters(recurse=False):
                    source = dict(own).get(name)
                    if source is None or source.shape != tuple(p.shape):
                        source = next(a for _, a in own if a.shape == tuple(p.shape))
                    p.copy_(torch.as_tensor(source))
                for name, b in module.named_buffers(recurse=False):
                    key = f"l{s}.b.{name}"
                    if key in self.arrays and self.arrays[key].shape == tuple(b.shape):
                        b.copy_(torch.as_tensor(self.arrays[key]))
            for name, student_name in self.free_mapping.items():
                dict(self.ref.named_parameters())[name].copy_(torch.as_tensor(self.arrays[f"free.{student_name}"]))

    def layer_name(self, k: int, order: list[int]) -> str:
        module = self.ref_leaves[order[k]]
        kind = type(module).__name__
        nth = sum(1 for j in order[:k + 1] if type(self.ref_leaves[j]).__name__ == kind)
        return f"the {ordinal(nth)} {kind} (layer call {k + 1})"

    def run(self, r: int, kwargs: dict, seed: int, projection: np.ndarray | None = None,
            select: slice | None = None, label: str = "the output") -> tuple[bool, str, torch.Tensor | None]:
        """Compare run r of the student's probe with the reference on the same input and seed."""
        if not self.structure_ok:
            return False, "not compared: " + self.structure_message, None
        x = torch.as_tensor(self.view.input("x"))
        self.ref.eval()
        self.ref.zero_grad()
        out, calls = self._ref_calls(x, kwargs, seed)
        got = self.arrays.get(f"r{r}.out")
        part = (lambda a: a[:, select]) if select is not None else (lambda a: a)
        ok, message = compare(label, None if got is None else part(got), part(out.detach().numpy()))
        if not ok:
            order = [c[0] for c in calls]
            for k, (_, first, output) in enumerate(calls):
                for what, ref_value in (("input", first), ("output", output)):
                    student = self.arrays.get(f"r{r}.c{k}.{'in' if what == 'input' else 'out'}")
                    if student is None or not isinstance(ref_value, torch.Tensor):
                        continue
                    same, detail = compare(f"the {what} of {self.layer_name(k, order)}", student,
                                           ref_value.detach().numpy())
                    if not same:
                        return False, detail + f"; so {message}", out
            return False, message + " (every layer with parameters agrees: look at the steps between them)", out
        return True, message, out

    def gradients(self, out: torch.Tensor, r: int, projection: np.ndarray) -> tuple[bool, str]:
        (out * torch.as_tensor(projection)).sum().backward()
        order = list(self.mapping)
        for k, ref_index in enumerate(order):
            s = self.mapping[ref_index]
            info = self.meta["leaves"][s]
            for name, p in self.ref_leaves[ref_index].named_parameters(recurse=False):
                student_name = name if name in info["params"] else next(
                    n for n in info["params"] if self.arrays[f"l{s}.p.{n}"].shape == tuple(p.shape))
                ok, message = compare(f"the gradient of {name} of {self.layer_name(k, order)}",
                                      self.arrays.get(f"r{r}.g{s}.{student_name}"), p.grad.numpy())
                if not ok:
                    return False, message
        for name, student_name in getattr(self, "free_mapping", {}).items():
            p = dict(self.ref.named_parameters())[name]
            ok, message = compare(f"the gradient of {name}", self.arrays.get(f"r{r}.gfree.{student_name}"),
                                  p.grad.numpy())
            if not ok:
                return False, message
        return True, "the gradients of every parameter match"

    def training(self, train: dict) -> tuple[float, str]:
        """Train the reference (student's initial weights) like the worker trained the student's model."""
        if self.meta is None:
            return 0.0, self.problem
        losses = self.arrays.get("train.losses")
        if losses is None or losses.ndim != 1 or len(losses) != train["steps"] or not np.all(np.isfinite(losses)):
            return 0.0, "training did not produce a finite loss at every step"
        falls = losses[-3:].mean() < losses[:3].mean()
        if not self.structure_ok:
            return (0.5 if falls else 0.0), f"the loss {'falls' if falls else 'does not fall'} " \
                                            f"({losses[0]:.4g} -> {losses[-1]:.4g}); not compared with the " \
                                            "reference because the structure differs"
        self._copy_weights()
        self.ref.train()
        opt = torch.optim.SGD(self.ref.parameters(), lr=train["lr"])
        data = torch.as_tensor(self.view.inputs[train["data"]])
        labels = torch.as_tensor(self.view.inputs[train["labels"]]) if train.get("labels") else None
        ref_losses = []
        for step in range(train["steps"]):
            start = (step * train["batch"]) % len(data)
            xb = data[start:start + train["batch"]]
            torch.manual_seed(train["seed"] + step)
            out = self.ref(xb)
            if train["loss"] == "ce":
                loss = torch.nn.functional.cross_entropy(out, labels[start:start + train["batch"]])
            else:
                loss = torch.nn.functional.mse_loss(out, torch.zeros_like(out))
            opt.zero_grad()
            loss.backward()
            opt.step()
            ref_losses.append(float(loss.detach()))
        ref_losses = np.array(ref_losses)
        close = np.allclose(losses, ref_losses, rtol=0.05, atol=0.02 * abs(ref_losses[0]) + 1e-6)
        curve = f"{losses[0]:.4g} -> {losses[-1]:.4g} (reference {ref_losses[0]:.4g} -> {ref_losses[-1]:.4g})"
        if falls and close:
            return 1.0, f"the loss falls as the reference's does: {curve}"
        if falls:
            return 0.5, f"the loss falls but not as the reference's does: {curve}"
        return 0.0, f"the loss does not fall: {curve}"
