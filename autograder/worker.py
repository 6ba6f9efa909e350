"""The sandboxed worker: imports ONE submission and runs the grader's probes on it.

Copied, with the submission, the plan and the inputs, into a run's private folder and started as
`python -I worker.py FD FOLDER` by `sandbox.py` (or called by the zygote), in a separate process with resource
limits, as an unprivileged user when possible. It imports nothing from nnexam or the autograder, never sees a
reference or an expected output, and returns plain numeric arrays only: each probe's result is one frame
`token (32 bytes) + length (8 bytes) + npz (uncompressed, no pickles)` on the pipe FD, which was opened by the
grader and whose token arrived on stdin before the submission was imported. The grader validates every frame
and does every comparison; a worker that lies about its results only reports what a correct submission would
compute.

nn.Module probes run with weights the grader drew (in `inputs`), never with the student's own initial weights:
the student's layers are matched to the reference's in the order the forward pass first calls them, each
parameter by name, else by shape. Each layer's output is copied when it is produced, so an in-place operation
later in the forward pass cannot change what the feedback sees.
"""

import builtins
import inspect
import io
import json
import os
import struct
import sys
import traceback

import numpy as np

TOKEN, _fd, PLAN, INPUTS, SUBMISSION = b"", -1, None, None, None
SUBMISSION_FILE = "submission.py"


def send(probe_id, meta, arrays):
    buffer = io.BytesIO()
    meta = dict(meta, id=probe_id)
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(buffer, __meta__=blob, **arrays)
    payload = buffer.getvalue()
    os.write(_fd, TOKEN + struct.pack(">Q", len(payload)))
    view = memoryview(payload)
    while view:
        view = view[os.write(_fd, view):]


def error_meta(exc):
    """{"ok": False, "error": one line, "line": the line of the submission where it happened (or None)}."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename == SUBMISSION_FILE:
        line, text = exc.lineno, f"SyntaxError: {exc.msg}"
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        line = next((f.lineno for f in reversed(frames) if f.filename == SUBMISSION_FILE), None)
        text = f"{type(exc).__name__}: {exc}".strip()
    return {"ok": False, "error": " ".join(text.split())[:300], "line": line}


def as_array(value):
    torch = sys.modules.get("torch")  # only a submission that uses torch can return a tensor
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def argument(spec):
    if "array" in spec:
        return INPUTS[spec["array"]].copy()
    return spec["value"]


def probe_names(probe):
    meta = {}
    for name in probe["names"]:
        obj = getattr(SUBMISSION, name, None)
        if obj is None:
            meta[name] = {"kind": "missing"}
            continue
        kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "other"
        try:
            target = obj.forward if kind == "class" and hasattr(obj, "forward") else obj
            params = [p for p in inspect.signature(target).parameters if p != "self"]
        except (TypeError, ValueError):
            params = None
        meta[name] = {"kind": kind, "params": params}
    return meta, {}


def probe_call(probe):
    func = getattr(SUBMISSION, probe["func"])
    args = [argument(spec) for spec in probe["args"]]
    arrays, shapes = {}, []
    for repeat in range(probe.get("repeat", 1)):
        result = func(*args)
        parts = list(result) if isinstance(result, (tuple, list)) and probe.get("tuple") else [result]
        for j, part in enumerate(parts):
            arrays[f"r{repeat}.out{j}"] = as_array(part)
        shapes.append(len(parts))
        for position, j in (probe.get("feed") or {}).items():
            args[int(position)] = as_array(parts[j]) if j < len(parts) else None
    return {"ok": True, "n_out": shapes}, arrays


def match_params(own, reference):
    """{own parameter name: reference parameter name}: the same name with the same shape, else the first
    unused reference parameter of that shape. `own` and `reference` map names to shapes. None if any is
    left unmatched (the grader reports the structure)."""
    mapping, used = {}, set()
    for name, shape in own.items():
        if reference.get(name) == shape and name not in used:
            mapping[name] = name
            used.add(name)
    for name, shape in own.items():
        if name in mapping:
            continue
        other = next((r for r, s in reference.items() if s == shape and r not in used), None)
        if other is None:
            return None
        mapping[name] = other
        used.add(other)
    return mapping


def sgd_step(torch, params, lr):
    """p <- p - lr grad, as torch.optim.SGD computes it without momentum (its import costs seconds)."""
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.add_(p.grad, alpha=-lr)


class Model:
    """The student's module with hooks that copy each layer call's input and output as it happens."""

    def __init__(self, torch, cls, seed):
        self.torch = torch
        torch.manual_seed(seed)
        self.model = cls()
        if not isinstance(self.model, torch.nn.Module):
            raise TypeError(f"{cls.__name__}() is not a torch.nn.Module")
        self.leaves = [m for m in self.model.modules() if m is not self.model and not list(m.children())
                       and (list(m.parameters(recurse=False)) or list(m.buffers(recurse=False)))]
        index = {id(m): i for i, m in enumerate(self.leaves)}
        in_leaves = {id(p) for m in self.leaves for p in m.parameters(recurse=False)}
        self.free = [(n, p) for n, p in self.model.named_parameters() if id(p) not in in_leaves]
        self.calls, self.copies = [], False

        def hook(module, inputs, output):
            if not self.copies:
                self.calls.append((index[id(module)], None, None))
                return
            first = next((a for a in inputs if isinstance(a, torch.Tensor)), None)
            self.calls.append((index[id(module)], copied(first), copied(output)))

        def copied(value):
            return value.detach().clone() if isinstance(value, torch.Tensor) else None

        for m in self.leaves:
            m.register_forward_hook(hook)

    def structure(self):
        return {"leaves": [{"type": type(m).__name__,
                            "params": {n: list(p.shape) for n, p in m.named_parameters(recurse=False)},
                            "buffers": {n: list(b.shape) for n, b in m.named_buffers(recurse=False)
                                        if b.is_floating_point()}} for m in self.leaves],
                "free": {n: list(p.shape) for n, p in self.free},
                "n_params": int(sum(p.numel() for p in self.model.parameters()))}

    def call_order(self, x):
        """The leaves in the order the forward pass first calls them (eval mode, no gradients)."""
        self.calls.clear()
        self.model.eval()
        with self.torch.no_grad():
            self.model(x)
        order = []
        for i, _, _ in self.calls:
            if i not in order:
                order.append(i)
        self.calls.clear()
        return order

    def load(self, order, reference, prefix):
        """Load the grader's weight set `prefix` into the student's leaves matched in call order; returns None,
        or why the weights could not be loaded."""
        torch = self.torch
        if len(order) != len(reference["leaves"]):
            return f"the forward pass calls {len(order)} layers with parameters, the reference " \
                   f"{len(reference['leaves'])}"
        with torch.no_grad():
            for k, (i, ref) in enumerate(zip(order, reference["leaves"], strict=True)):
                leaf = self.leaves[i]
                own = {n: list(p.shape) for n, p in leaf.named_parameters(recurse=False)}
                mapping = match_params(own, {n: list(s) for n, s in ref["params"].items()})
                if mapping is None or len(own) != len(ref["params"]):
                    return f"layer call {k + 1} has parameters {own}, the reference's {ref['params']}"
                for name, p in leaf.named_parameters(recurse=False):
                    p.copy_(torch.as_tensor(INPUTS[f"{prefix}.l{k}.p.{mapping[name]}"]))
                for name, b in leaf.named_buffers(recurse=False):
                    key = f"{prefix}.l{k}.b.{name}"
                    if b.is_floating_point() and key in INPUTS and tuple(INPUTS[key].shape) == tuple(b.shape):
                        b.copy_(torch.as_tensor(INPUTS[key]))
            own = {n: list(p.shape) for n, p in self.free}
            mapping = match_params(own, {n: list(s) for n, s in reference["free"].items()})
            if mapping is None or len(own) != len(reference["free"]):
                return f"parameters outside layers {own}, the reference's {reference['free']}"
            for name, p in self.free:
                p.copy_(torch.as_tensor(INPUTS[f"{prefix}.free.{mapping[name]}"]))
        return None

    def run(self, x, run, key, arrays, record_calls):
        torch = self.torch
        self.calls.clear()
        self.model.eval()
        self.model.zero_grad()
        torch.manual_seed(run["seed"])
        self.copies = record_calls
        out = self.model(x, **run.get("kwargs", {}))
        self.copies = False
        arrays[f"{key}.out"] = out.detach().numpy().copy()
        calls = [c[0] for c in self.calls]
        if record_calls:
            for k, (_, first, output) in enumerate(self.calls):
                if first is not None:
                    arrays[f"{key}.c{k}.in"] = first.numpy()
                if output is not None:
                    arrays[f"{key}.c{k}.out"] = output.numpy()
        self.calls.clear()
        if run.get("projection"):
            (out * torch.as_tensor(INPUTS[run["projection"]])).sum().backward()
            for i, m in enumerate(self.leaves):
                for n, p in m.named_parameters(recurse=False):
                    if p.grad is not None:
                        arrays[f"{key}.g{i}.{n}"] = p.grad.numpy().copy()
            for n, p in self.free:
                if p.grad is not None:
                    arrays[f"{key}.gfree.{n}"] = p.grad.numpy().copy()
        return calls

    def train(self, train):
        torch = self.torch
        losses = []
        self.model.train()
        params = list(self.model.parameters())
        data = torch.as_tensor(INPUTS[train["data"]])
        labels = torch.as_tensor(INPUTS[train["labels"]]) if train.get("labels") else None
        batch = train["batch"]
        for step in range(train["steps"]):
            start = (step * batch) % len(data)
            torch.manual_seed(train["seed"] + step)
            out = self.model(data[start:start + batch])
            self.calls.clear()
            if train["loss"] == "ce":
                loss = torch.nn.functional.cross_entropy(out, labels[start:start + batch])
            else:
                loss = torch.nn.functional.mse_loss(out, torch.zeros_like(out))
            for p in params:
                p.grad = None
            loss.backward()
            sgd_step(torch, params, train["lr"])
            losses.append(float(loss.detach()))
        return np.array(losses)


def probe_module(probe):
    import torch

    model = Model(torch, getattr(SUBMISSION, probe["cls"]), probe["seed"])
    meta = model.structure()
    meta["runs"], arrays = [], {}
    x = torch.as_tensor(INPUTS[probe["input"]])
    order = model.call_order(x)
    meta["order"] = order
    for w, prefix in enumerate(probe["weights"]):
        problem = model.load(order, probe["reference"], prefix)
        if problem:
            meta["load_error"] = problem
            break
        for r, run in enumerate(probe["runs"]):
            calls = model.run(x, run, f"w{w}.r{r}", arrays, record_calls=w == 0)
            if w == 0:
                meta["runs"].append({"calls": calls})
    train = probe.get("train")
    if train:  # from the grader's first weight set; from the module's own when they do not fit
        if "load_error" not in meta:
            model.load(order, probe["reference"], probe["weights"][0])
        arrays["train.losses"] = model.train(train)
    return meta, arrays


PROBES = {"names": probe_names, "call": probe_call, "module": probe_module}


class NoShell:
    """`get_ipython()` for a notebook converted by IPython's input transformer: shell escapes and other magics
    do nothing; `%time`/`%timeit`/`%%time`/`%%capture`-style magics run the code they wrap."""

    RUN_BODY = {"time", "timeit", "capture", "prun", "debug"}

    def _run(self, name, code):
        if name in self.RUN_BODY and code.strip():
            exec(compile(code, SUBMISSION_FILE, "exec"), vars(SUBMISSION))

    def run_line_magic(self, name, line, *_, **__):
        self._run(name, line)

    def run_cell_magic(self, name, line, cell, *_, **__):
        self._run(name, cell)

    def system(self, *_, **__):
        return None

    def getoutput(self, *_, **__):
        return []

    def __getattr__(self, name):
        return lambda *_, **__: None


def import_submission(folder):
    """Execute the submission as the module `submission`, its code named SUBMISSION_FILE for line numbers."""
    global SUBMISSION
    import types

    SUBMISSION = types.ModuleType("submission")
    SUBMISSION.__file__ = SUBMISSION_FILE
    sys.modules["submission"] = SUBMISSION
    if PLAN.get("notebook"):
        shell = NoShell()
        builtins.get_ipython = lambda: shell
        if not hasattr(builtins, "display"):
            builtins.display = lambda *_, **__: None
    with open(os.path.join(folder, "submission.py"), "rb") as fh:
        source = fh.read()
    exec(compile(source, SUBMISSION_FILE, "exec"), vars(SUBMISSION))


def main(result_fd, token, folder):
    """Load the plan and inputs from `folder`, report ready, import the submission, run the probes, end.

    torch is imported (before the submission, one thread) only when the plan has nn.Module probes; a worker
    forked from the grader's zygote has it imported already.
    """
    global TOKEN, _fd, PLAN, INPUTS
    TOKEN = token
    _fd = os.dup(result_fd)
    os.close(result_fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    with open(os.path.join(folder, "plan.json")) as fh:
        PLAN = json.load(fh)
    with np.load(os.path.join(folder, "inputs.npz"), allow_pickle=False) as data:
        INPUTS = {key: data[key] for key in data.files}
    if "torch" in sys.modules or any(item["kind"] == "module" for item in PLAN["probes"]):
        import torch

        torch.set_num_threads(1)
    send("__ready__", {"ok": True}, {})  # the sandbox works; from here on, what happens is the submission's
    try:
        import_submission(folder)
    except BaseException as exc:  # noqa: B036 - a submission may raise anything, SystemExit included
        send("__import__", error_meta(exc), {})
        _flush_and_exit()
    send("__import__", {"ok": True}, {})
    for item in PLAN["probes"]:
        try:
            meta, arrays = PROBES[item["kind"]](item)
            meta.setdefault("ok", True)
        except BaseException as exc:  # noqa: B036
            meta, arrays = error_meta(exc), {}
        send(item["id"], meta, arrays)
    send("__end__", {"ok": True}, {})
    _flush_and_exit()


def _flush_and_exit():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: B036 - a submission may have replaced or closed them
            pass
    os._exit(0)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.stdin.buffer.readline().strip(), sys.argv[2])
