"""The sandboxed worker: imports ONE submission and runs the grader's probes on it.

Copied alone into a private folder and started as `python -I worker.py FD` by `sandbox.py`, in a separate
process with resource limits, as an unprivileged user when possible. It imports nothing from nnexam or the
autograder, never sees a reference or an expected output, and returns plain numeric arrays only: each probe's
result is one frame `token (32 bytes) + length (8 bytes) + npz (no pickles)` on the pipe FD, which was opened
by the grader and whose token arrived on stdin before the submission was imported. The grader does every
comparison; a worker that lies about its results only reports what a correct submission would compute.
"""

import importlib.util
import inspect
import io
import json
import os
import struct
import sys
import traceback

import numpy as np

TOKEN, _fd, PLAN, INPUTS, SUBMISSION = b"", -1, None, None, None


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


def short_error(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    where = next((f"line {f.lineno}" for f in reversed(frames) if f.filename.endswith("submission.py")), "")
    text = f"{type(exc).__name__}: {exc}".strip()
    return (text[:300] + (f" ({where} of your file)" if where else "")).replace("\n", " ")


def as_array(value):
    torch = sys.modules.get("torch")  # only a submission that uses torch can return a tensor
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=np.float64)
    return array


def argument(spec, outputs=None):
    if "array" in spec:
        return INPUTS[spec["array"]].copy()
    if "previous" in spec:
        return outputs[spec["previous"]]
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


def probe_module(probe):
    import torch

    cls = getattr(SUBMISSION, probe["cls"])
    torch.manual_seed(probe["seed"])
    model = cls()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{probe['cls']}() is not a torch.nn.Module")
    leaves = [m for m in model.modules() if m is not model
              and not list(m.children()) and (list(m.parameters(recurse=False)) or list(m.buffers(recurse=False)))]
    index = {id(m): i for i, m in enumerate(leaves)}
    in_leaves = {id(p) for m in leaves for p in m.parameters(recurse=False)}
    free = [(n, p) for n, p in model.named_parameters() if id(p) not in in_leaves]
    calls = []

    def hook(module, inputs, output):
        first = next((a for a in inputs if isinstance(a, torch.Tensor)), None)
        calls.append((index[id(module)], first, output))

    for m in leaves:
        m.register_forward_hook(hook)
    arrays = {}
    meta = {"leaves": [], "free": [n for n, _ in free], "runs": [],
            "n_params": int(sum(p.numel() for p in model.parameters()))}
    for i, m in enumerate(leaves):
        names = [n for n, _ in m.named_parameters(recurse=False)]
        buffers = [n for n, b in m.named_buffers(recurse=False) if b.is_floating_point()]
        meta["leaves"].append({"type": type(m).__name__, "params": names, "buffers": buffers})
        for n, p in m.named_parameters(recurse=False):
            arrays[f"l{i}.p.{n}"] = p.detach().numpy().copy()
        for n in buffers:
            arrays[f"l{i}.b.{n}"] = getattr(m, n).detach().numpy().copy()
    for n, p in free:
        arrays[f"free.{n}"] = p.detach().numpy().copy()
    model.eval()
    x = torch.as_tensor(INPUTS[probe["input"]])
    for r, run in enumerate(probe["runs"]):
        calls.clear()
        model.zero_grad()
        torch.manual_seed(run["seed"])
        out = model(x, **run.get("kwargs", {}))
        arrays[f"r{r}.out"] = out.detach().numpy().copy()
        meta["runs"].append({"calls": [c[0] for c in calls]})
        for k, (_, first, output) in enumerate(calls):
            if isinstance(first, torch.Tensor):
                arrays[f"r{r}.c{k}.in"] = first.detach().numpy().copy()
            if isinstance(output, torch.Tensor):
                arrays[f"r{r}.c{k}.out"] = output.detach().numpy().copy()
        if run.get("projection"):
            (out * torch.as_tensor(INPUTS[run["projection"]])).sum().backward()
            for i, m in enumerate(leaves):
                for n, p in m.named_parameters(recurse=False):
                    if p.grad is not None:
                        arrays[f"r{r}.g{i}.{n}"] = p.grad.numpy().copy()
            for n, p in free:
                if p.grad is not None:
                    arrays[f"r{r}.gfree.{n}"] = p.grad.numpy().copy()
    train = probe.get("train")
    if train:
        losses = []
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=train["lr"])
        data = torch.as_tensor(INPUTS[train["data"]])
        labels = torch.as_tensor(INPUTS[train["labels"]]) if train.get("labels") else None
        batch = train["batch"]
        for step in range(train["steps"]):
            start = (step * batch) % len(data)
            xb = data[start:start + batch]
            torch.manual_seed(train["seed"] + step)
            out = model(xb)
            if train["loss"] == "ce":
                loss = torch.nn.functional.cross_entropy(out, labels[start:start + batch])
            else:
                loss = torch.nn.functional.mse_loss(out, torch.zeros_like(out))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
        arrays["train.losses"] = np.array(losses)
    return meta, arrays


PROBES = {"names": probe_names, "call": probe_call, "module": probe_module}


def main(result_fd, token):
    """Load the plan and inputs, report ready, import the submission, run the probes, end the process.

    torch is imported (before the submission, one thread) only when the plan has nn.Module probes; a worker
    forked from the grader's zygote has it imported already.
    """
    global TOKEN, _fd, PLAN, INPUTS, SUBMISSION
    TOKEN = token
    _fd = os.dup(result_fd)
    os.close(result_fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    with open("plan.json") as fh:
        PLAN = json.load(fh)
    with np.load("inputs.npz", allow_pickle=False) as data:
        INPUTS = {key: data[key] for key in data.files}
    if "torch" in sys.modules or any(item["kind"] == "module" for item in PLAN["probes"]):
        import torch

        torch.set_num_threads(1)
    send("__ready__", {"ok": True}, {})  # the sandbox works; from here on, what happens is the submission's
    try:
        spec = importlib.util.spec_from_file_location("submission", "submission.py")
        SUBMISSION = importlib.util.module_from_spec(spec)
        sys.modules["submission"] = SUBMISSION
        spec.loader.exec_module(SUBMISSION)
    except BaseException as exc:  # noqa: B036 - a submission may raise anything, SystemExit included
        send("__import__", {"ok": False, "error": short_error(exc)}, {})
        _flush_and_exit()
    send("__import__", {"ok": True}, {})
    for item in PLAN["probes"]:
        try:
            meta, arrays = PROBES[item["kind"]](item)
            meta.setdefault("ok", True)
        except BaseException as exc:  # noqa: B036
            meta, arrays = {"ok": False, "error": short_error(exc)}, {}
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
    main(int(sys.argv[1]), sys.stdin.buffer.readline().strip())
