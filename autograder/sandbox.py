"""Run a submission's probes in a separate, limited process and collect the plain arrays it returns.

`run_plan` writes the submission, `worker.py`, `plan.json` and `inputs.npz` into a private folder, starts
`launcher.py` (which sandboxes itself, see there, then execs the worker), and reads the result frames from a
pipe until the worker ends or the wall-clock limit passes, when the whole process group is killed. Frames
must start with this run's random token; each is an npz loaded with allow_pickle=False and only numeric
arrays are accepted. What the submission prints goes to a file of which only a short tail is kept, as text.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NOBODY = 65534
MAX_RESULT_BYTES = 64 << 20


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker: CPU seconds, wall seconds, address space, file size, processes."""

    cpu_s: int = 60
    wall_s: float = 90.0
    memory_mb: int = 4096
    file_mb: int = 16
    nproc: int = 64


@dataclass
class RunResult:
    frames: dict[str, tuple[dict, dict[str, np.ndarray]]] = field(default_factory=dict)
    protections: dict = field(default_factory=dict)
    timed_out: bool = False
    exit_code: int | None = None
    output_tail: str = ""
    problems: list[str] = field(default_factory=list)

    def why_stopped(self) -> str:
        """One line on how the worker ended, for feedback when results are missing."""
        if self.timed_out:
            return "your code was stopped: it ran past the time limit"
        code = self.exit_code
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hint = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (likely the memory limit)"}.get(name, "")
            return f"your code was killed by {name}{hint}"
        if code not in (0, None):
            return f"the worker ended with exit status {code} (your code exited, crashed or ran out of memory)"
        return "the worker ended before finishing (your code exited early)"


def _keep_paths() -> list[str]:
    paths = {sys.base_prefix, sys.prefix, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
             str(Path(sys.executable).resolve().parent)}
    for module in ("numpy", "torch"):
        spec = __import__("importlib.util").util.find_spec(module)
        if spec and spec.origin:
            paths.add(str(Path(spec.origin).resolve().parent.parent))
    return sorted(paths)


def _hidden_paths(extra: list[str]) -> list[str]:
    project = HERE.parent
    return [str(p) for p in (project, HERE, Path.home(), Path("/root"), Path("/home"),
                             Path(tempfile.gettempdir()), Path.cwd(), *map(Path, extra))]


def run_plan(submission: Path, plan: dict, inputs: dict[str, np.ndarray], limits: Limits = Limits(),
             hide: list[str] | None = None) -> RunResult:
    """Run the worker on `submission` with `plan`; returns the frames it sent, keyed by probe id."""
    private = Path(tempfile.mkdtemp(prefix="nnexam-grader-"))
    os.chmod(private, 0o700)
    work = private / "work"
    work.mkdir()
    shutil.copyfile(submission, work / "submission.py")
    shutil.copyfile(HERE / "worker.py", work / "worker.py")
    (work / "plan.json").write_text(json.dumps(plan))
    np.savez(work / "inputs.npz", **inputs)
    as_root = os.geteuid() == 0
    if as_root:
        for path in (work, *work.iterdir()):
            os.chown(path, NOBODY, NOBODY)
        os.chmod(private, 0o711)
    token = secrets.token_hex(16).encode()
    config = {"workdir": str(work), "python": sys.executable, "limits": limits.__dict__ | {},
              "uid": NOBODY if as_root else None, "gid": NOBODY if as_root else None,
              "hide": _hidden_paths(hide or []), "keep": _keep_paths() + [str(work)],
              "env": {"PATH": "/usr/bin:/bin", "HOME": str(work), "OMP_NUM_THREADS": "1",
                      "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
                      "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}}
    result_r, result_w = os.pipe()
    status_r, status_w = os.pipe()
    log_path = private / "output.log"
    result = RunResult()
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(HERE / "launcher.py"), str(status_w), str(result_w)],
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, pass_fds=(status_w, result_w),
                start_new_session=True, env={"PATH": "/usr/bin:/bin"}, cwd="/")
        os.close(result_w)
        os.close(status_w)
        proc.stdin.write(json.dumps(config).encode() + b"\n" + token + b"\n")
        proc.stdin.close()
        data = _read_until(result_r, time.monotonic() + limits.wall_s, result)
        if result.timed_out:
            _kill(proc)
        try:
            proc.wait(timeout=max(1.0, limits.wall_s / 10))
        except subprocess.TimeoutExpired:
            result.timed_out = True
            _kill(proc)
            proc.wait()
        result.exit_code = proc.returncode
        status = _read_all(status_r)
        result.protections = json.loads(status.splitlines()[0]) if status.strip() else {}
        _parse_frames(data, token, result)
        result.output_tail = log_path.read_bytes()[-2000:].decode("utf-8", "replace")
    finally:
        for fd in (result_r, status_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(private, ignore_errors=True)
    return result


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def _read_until(fd: int, deadline: float, result: RunResult) -> bytes:
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            result.timed_out = True
            break
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_RESULT_BYTES:
            result.problems.append("the results were larger than allowed and were cut")
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_frames(data: bytes, token: bytes, result: RunResult) -> None:
    """Frames are token + 8-byte length + npz; anything else ends the parse and is reported."""
    pos, head = 0, len(token) + 8
    while pos < len(data):
        if data[pos:pos + len(token)] != token or len(data) - pos < head:
            result.problems.append("the result stream was corrupted; later results were ignored")
            return
        (length,) = struct.unpack(">Q", data[pos + len(token):pos + head])
        payload = data[pos + head:pos + head + length]
        pos += head + length
        if len(payload) != length:
            result.problems.append("the last result was cut short")
            return
        try:
            with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
            meta = json.loads(arrays.pop("__meta__").tobytes().decode())
        except Exception:  # noqa: BLE001 - any malformed frame is refused the same way
            result.problems.append("a result frame was not a valid npz of numbers; ignored")
            continue
        if not isinstance(meta, dict) or not isinstance(meta.get("id"), str):
            continue
        if any(a.dtype.kind not in "biuf" for a in arrays.values()):
            result.problems.append("a result held non-numeric arrays; ignored")
            continue
        if meta["id"] not in result.frames:  # the first frame for an id wins
            result.frames[meta["id"]] = (meta, arrays)
