"""Run a submission's probes in a separate, limited process and collect the plain arrays it returns.

`run_plan` writes the worker, the submission, `plan.json` and `inputs.npz` into a run folder readable by the
run's uid only, prepares the run's cgroup (or its fallback), starts `launcher.py` (which sandboxes itself, see
there, then execs the worker) or asks the zygote to fork one, and reads the result frames from a pipe until the
worker ends or the wall-clock limit passes, when every process of the run is killed. Frames must start with
this run's random token and are decoded as hostile data (`frames.py`). What the submission prints goes to a file
of which only a short tail is kept, as text. After the run, whatever its uid left behind is removed; folders and
cgroups left by a grader that was killed are removed by the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from solvers.errors import NnexamError

from . import isolation
from .frames import decode_frames

HERE = Path(__file__).resolve().parent
MAX_RESULT_BYTES = 64 << 20
WATCH_S = 0.25  # how often the fallback limits (no cgroup) are checked


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run: CPU seconds and address space per process, wall seconds, memory over all of
    the run's processes, file size, processes, the scratch folder and /dev/shm (MiB)."""

    cpu_s: int = 60
    wall_s: float = 90.0
    memory_mb: int = 4096
    file_mb: int = 16
    nproc: int = 64
    total_memory_mb: int = 3072
    disk_mb: int = 64
    shm_mb: int = 16


@dataclass
class RunResult:
    frames: dict[str, tuple[dict, dict[str, np.ndarray]]] = field(default_factory=dict)
    protections: dict = field(default_factory=dict)
    timed_out: bool = False
    exit_code: int | None = None
    output_tail: str = ""
    problems: list[str] = field(default_factory=list)
    stopped_for: str = ""  # a limit over all of the run's processes that the grader enforced

    def why_stopped(self) -> str:
        """One line on how the worker ended, for feedback when results are missing."""
        if self.timed_out:
            return "your code was stopped: it ran past the time limit"
        if self.stopped_for:
            return f"your code was stopped: {self.stopped_for}"
        code = self.exit_code
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hint = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (likely the memory limit)",
                    "SIGXFSZ": " (file size limit)"}.get(name, "")
            return f"your code was killed by {name}{hint}"
        if code not in (0, None):
            return f"the worker ended with exit status {code} (your code exited, crashed or ran out of memory)"
        return "the worker ended before finishing (your code exited early)"


class InfrastructureError(NnexamError):
    """The sandbox could not run the worker (not the submission's doing): the submission is not graded."""


UID_BASE, UID_SLOTS = 61000, 1000  # one uid per concurrent sandbox; no passwd entry needed
_BASE_LOCK = threading.Lock()
_BASE: Path | None = None


def _traversable(path: Path) -> bool:
    """Every folder from / down to `path` can be entered by any user (o+x)."""
    for folder in (path, *path.parents):
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
    return True


def sandbox_base() -> Path:
    """A folder of ours, mode 0711, that the sandbox uids can traverse: private folders are made inside it.

    Tried in order: $NNEXAM_SANDBOX_DIR, TMPDIR/nnexam-sandbox, /tmp/nnexam-sandbox, /var/tmp/nnexam-sandbox
    (TMPDIR may be a 0700 folder, such as pytest's). Raises InfrastructureError when none will do.
    """
    global _BASE
    with _BASE_LOCK:
        if _BASE is not None and _BASE.is_dir():
            return _BASE
        candidates = [os.environ.get("NNEXAM_SANDBOX_DIR"), str(Path(tempfile.gettempdir()) / "nnexam-sandbox"),
                      "/tmp/nnexam-sandbox", "/var/tmp/nnexam-sandbox"]
        tried = []
        for candidate in filter(None, candidates):
            path = Path(candidate)
            try:
                path.mkdir(mode=0o711, exist_ok=True)
                info = os.lstat(path)
                if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
                    tried.append(f"{path} (not a folder of ours)")
                    continue
                os.chmod(path, 0o711)
                if os.geteuid() == 0 and not _traversable(path.resolve()):
                    tried.append(f"{path} (a parent folder cannot be entered by other users)")
                    continue
            except OSError as exc:
                tried.append(f"{path} ({exc.strerror})")
                continue
            _BASE = path.resolve()
            return _BASE
        raise InfrastructureError("no folder for the sandbox that its unprivileged user can enter: "
                                  + "; ".join(tried))


@contextlib.contextmanager
def sandbox_uid(clean: bool = True):
    """A uid no other sandbox uses while this one runs (a flock per uid, shared by every grader process on
    the machine), so that RLIMIT_NPROC, which counts processes per uid, is this sandbox's alone; what it left in
    shared temporary folders and SysV IPC is removed before and after (`clean`, needed without namespaces).
    None when not root (no uid switch)."""
    if os.geteuid() != 0:
        yield None
        return
    folder = Path("/run/lock" if os.path.isdir("/run/lock") else sandbox_base()) / "nnexam-sandbox-uids"
    folder.mkdir(mode=0o700, exist_ok=True)
    start = secrets.randbelow(UID_SLOTS)
    for i in range(UID_SLOTS):
        uid = UID_BASE + (start + i) % UID_SLOTS
        fd = os.open(folder / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            isolation.kill_uid(uid)  # a killed grader's run may have left one
            if clean:
                isolation.remove_leftovers(uid)
            yield uid
        finally:
            isolation.kill_uid(uid)
            if clean:
                isolation.remove_leftovers(uid)
            os.close(fd)
        return
    raise InfrastructureError(f"all {UID_SLOTS} sandbox uids are in use")


class Zygote:
    """A long-lived `zygote.py` that has imported numpy and torch and forks one sandboxed worker per run."""

    def __init__(self, env: dict[str, str], start_timeout: float = 180.0):
        self.lock, self.cond = threading.Lock(), threading.Condition()
        self.messages: dict[int, dict] = {}
        self.alive, self.next_id = False, 0
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        self.proc = subprocess.Popen([sys.executable, "-I", str(HERE / "zygote.py"), str(theirs.fileno()),
                                      str(os.getpid())], pass_fds=(theirs.fileno(),), env=env, cwd="/",
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        theirs.close()
        ready, _, _ = select.select([ours], [], [], start_timeout)
        hello = json.loads(ours.recv(65536) or b"{}") if ready else {}
        if not hello.get("ready"):
            self.close()
            raise OSError(f"the zygote did not start: {hello or 'no answer'}")
        self.alive = True
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.alive = False
                    self.cond.notify_all()
                    return
                message = json.loads(data)
                self.messages.setdefault(message["id"], {}).update(message)
                self.cond.notify_all()

    def start(self, config: dict, token: bytes, fds: list[int]) -> int:
        with self.lock:
            self.next_id += 1
            run_id = self.next_id
            socket.send_fds(self.sock, [json.dumps({"op": "run", "id": run_id, "config": config,
                                                    "token": token.decode()}).encode()], fds)
        return run_id

    def kill(self, run_id: int) -> None:
        with self.lock:
            try:
                self.sock.send(json.dumps({"op": "kill", "id": run_id}).encode())
            except OSError:
                pass

    def wait(self, run_id: int, timeout: float) -> tuple[bool, int | None]:
        """(ended, exit code); exit code None when the zygote itself died."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while "exit" not in self.messages.get(run_id, {}) and self.alive:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False, None
                self.cond.wait(left)
            message = self.messages.pop(run_id, {})
        return True, message.get("exit")

    def close(self) -> None:
        self.alive = False
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_ZYGOTE: Zygote | None = None
_ZYGOTE_LOCK = threading.Lock()


@contextlib.contextmanager
def zygote_workers():
    """Within this block, workers are forked from one zygote (numpy and torch imported once) instead of
    each starting Python and importing torch. Falls back to spawning silently when the zygote cannot start
    (or when NNEXAM_ZYGOTE=0). Enter it from the thread that lives as long as the batch (the zygote dies with
    the thread that started it)."""
    global _ZYGOTE
    zygote = None
    isolation.prepare_host()  # before the zygote imports anything as root: its forks drop to other uids
    if os.environ.get("NNEXAM_ZYGOTE", "1") != "0":
        try:
            zygote = Zygote(_worker_env("/"))
        except OSError:
            zygote = None
    with _ZYGOTE_LOCK:
        previous, _ZYGOTE = _ZYGOTE, zygote or _ZYGOTE
    try:
        yield zygote
    finally:
        with _ZYGOTE_LOCK:
            _ZYGOTE = previous
        if zygote is not None:
            zygote.close()


def _worker_env(home: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}


def _keep_paths() -> list[str]:
    return isolation.python_paths()


# Top-level folders a worker may see (the system); every other one is hidden behind an empty tmpfs, with the
# Python install bound back. An allow-list: a checkout elsewhere (/work, /srv, /opt, a mounted share) holding
# the references or the hidden checks stays out of reach even when nobody thought to name it.
SYSTEM_DIRS = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "sys"}


def _top_level_dirs() -> list[Path]:
    try:
        entries = list(os.scandir("/"))
    except OSError:
        return []
    return [Path(e.path) for e in entries if e.name not in SYSTEM_DIRS and e.is_dir(follow_symlinks=False)]


def _hidden_paths(extra: list[str]) -> list[str]:
    project = HERE.parent
    return [str(p) for p in (project, HERE, Path.home(), Path("/root"), Path("/home"), Path("/run"),
                             Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp"), sandbox_base(),
                             Path.cwd(), *_top_level_dirs(), *map(Path, extra))]


class _Spawned:
    """A worker started as `python launcher.py` (the fallback when no zygote runs)."""

    def __init__(self, config: dict, token: bytes, status_w: int, result_w: int, log):
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(HERE / "launcher.py"), str(status_w), str(result_w)],
            stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, pass_fds=(status_w, result_w),
            start_new_session=True, env={"PATH": "/usr/bin:/bin"}, cwd="/")
        self.pid = self.proc.pid
        self.proc.stdin.write(json.dumps(config).encode() + b"\n" + token + b"\n")
        self.proc.stdin.close()

    def kill(self) -> None:
        _kill(self.proc)

    def wait(self, timeout: float) -> tuple[bool, int | None]:
        try:
            return True, self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, None


class _Forked:
    """A worker forked by the zygote."""

    def __init__(self, zygote: Zygote, config: dict, token: bytes, status_w: int, result_w: int, log):
        self.zygote = zygote
        self.id = zygote.start(config, token, [result_w, status_w, log.fileno()])
        self.pid = None  # the zygote reports it (its own session)

    @property
    def session(self) -> int | None:
        return self.zygote.messages.get(self.id, {}).get("pid")

    def kill(self) -> None:
        self.zygote.kill(self.id)

    def wait(self, timeout: float) -> tuple[bool, int | None]:
        ended, code = self.zygote.wait(self.id, timeout)
        if ended and code is None:
            raise InfrastructureError("the grader's zygote ended during the run")
        return ended, code


def run_plan(submission: bytes | Path, plan: dict, inputs: dict[str, np.ndarray], limits: Limits = Limits(),
             hide: list[str] | None = None) -> RunResult:
    """Run the worker on `submission` (its Python source, or a file read safely) with `plan`; returns the
    frames it sent, keyed by probe id.

    Raises InfrastructureError when the worker could not start (before the submission was imported).
    """
    if not isinstance(submission, bytes):
        from .submission import read_bytes

        submission = read_bytes(Path(submission))
    base = sandbox_base()
    host = isolation.prepare_host()
    with _SWEPT_LOCK:
        if base not in _SWEPT:
            _SWEPT.add(base)
            isolation.sweep(base)
            isolation.sweep_cgroups()
    with sandbox_uid(clean=not isolation.namespaces_available()) as uid:
        return _run(submission, plan, inputs, limits, hide, base, uid, host)


_SWEPT: set[Path] = set()
_SWEPT_LOCK = threading.Lock()


def _prepare_folder(private: Path, source: bytes, plan: dict, inputs: dict, uid: int | None) -> tuple[Path, Path]:
    """private/in (worker, submission, plan, inputs: readable by the run's uid only, written by nobody else)
    and private/work (the run's scratch folder, its own)."""
    infolder, work = private / "in", private / "work"
    infolder.mkdir(mode=0o700)
    work.mkdir(mode=0o700)
    shutil.copyfile(HERE / "worker.py", infolder / "worker.py")
    (infolder / "submission.py").write_bytes(source)
    (infolder / "plan.json").write_text(json.dumps(plan))
    np.savez(infolder / "inputs.npz", **inputs)
    if uid is not None:
        for path in infolder.iterdir():
            os.chown(path, 0, uid)
            os.chmod(path, 0o640)
        os.chown(infolder, 0, uid)
        os.chmod(infolder, 0o750)
        os.chown(work, uid, uid)
        os.chmod(private, 0o711)
    return infolder, work


def _run(source: bytes, plan, inputs, limits: Limits, hide, base: Path, uid: int | None, host: dict) -> RunResult:
    private = Path(tempfile.mkdtemp(prefix="nnexam-grader-", dir=base))
    os.chmod(private, 0o700)
    in_use = isolation.hold(private)
    cgroup = None
    try:
        infolder, work = _prepare_folder(private, source, plan, inputs, uid)
        cgroup = isolation.RunCgroup.create(isolation.cgroup_name(private.name), limits.total_memory_mb,
                                            limits.nproc)
        token = secrets.token_hex(16).encode()
        config = {"workdir": str(work), "worker": str(infolder / "worker.py"), "infolder": str(infolder),
                  "python": sys.executable, "limits": limits.__dict__ | {}, "uid": uid, "gid": uid,
                  "parent": os.getpid(), "hide": _hidden_paths(hide or []), "keep": _keep_paths() + [str(private)],
                  "mask": isolation.secret_paths(), "cgroup_procs": cgroup.procs if cgroup else [],
                  "env": _worker_env(str(work))}
        return _execute(config, token, limits, private, work, uid, cgroup, host)
    finally:
        if cgroup is not None:
            cgroup.close()
        os.close(in_use)
        shutil.rmtree(private, ignore_errors=True)


def _execute(config, token, limits: Limits, private: Path, work: Path, uid, cgroup, host) -> RunResult:
    result_r, result_w = os.pipe()
    status_r, status_w = os.pipe()
    log_path = private / "output.log"
    result = RunResult()
    zygote = _ZYGOTE if _ZYGOTE is not None and _ZYGOTE.alive else None
    started = time.monotonic()
    try:
        with open(log_path, "wb") as log:
            try:
                proc = (_Forked(zygote, config, token, status_w, result_w, log) if zygote
                        else _Spawned(config, token, status_w, result_w, log))
            finally:
                os.close(result_w)
                os.close(status_w)
        watch = _cgroup_watch(limits, cgroup) if cgroup else _fallback_watch(limits, uid, proc, work)
        data = _read_until(result_r, started + limits.wall_s, result, watch)
        if result.timed_out or result.stopped_for:
            proc.kill()
        ended, code = proc.wait(max(1.0, limits.wall_s / 10))
        if not ended:
            result.timed_out = True
            proc.kill()
            ended, code = proc.wait(30.0)
        result.exit_code = code
        if cgroup is not None and not result.stopped_for:
            result.stopped_for = watch()
        status = _read_all(status_r)
        try:
            report = json.loads(status.splitlines()[0]) if status.strip() else {}
        except ValueError:
            report = {}
        result.protections = report | {"host": host, "memory": "cgroup" if cgroup else "polled by the grader",
                                       "cgroup": bool(cgroup)}
        frames, problems = decode_frames(data, token, started + limits.wall_s + 10)
        result.frames, result.problems = frames, result.problems + problems
        result.output_tail = log_path.read_bytes()[-2000:].decode("utf-8", "replace")
    finally:
        for fd in (result_r, status_r):
            try:
                os.close(fd)
            except OSError:
                pass
    if "__ready__" not in result.frames:
        last = next((ln for ln in reversed(result.output_tail.splitlines()) if ln.strip()), "no output")
        how = "ran past the time limit" if result.timed_out else f"exit status {result.exit_code}"
        raise InfrastructureError(f"the sandbox could not start the worker ({how}; "
                                  f"{'no' if not result.protections.get('limits') else 'a'} sandbox report): "
                                  f"{last[:300]}")
    return result


def _memory_passed(limits: Limits) -> str:
    return f"it used more than {limits.total_memory_mb} MiB of memory over all its processes"


def _cgroup_watch(limits: Limits, cgroup):
    """With a cgroup: a check, called every WATCH_S, that stops the run once the kernel has killed one of its
    processes for the cgroup's memory limit (the others would otherwise run on)."""
    return lambda: _memory_passed(limits) if cgroup.oom_killed() else ""


def _fallback_watch(limits: Limits, uid: int | None, proc, work: Path):
    """Without a cgroup: a check, called every WATCH_S, of the memory over all the run's processes and of its
    scratch folder on disk; it names the limit passed, or returns ''."""

    def check() -> str:
        pids = isolation.processes_of(uid, proc.pid or getattr(proc, "session", None))
        if isolation.private_memory_mb(pids) > limits.total_memory_mb:
            return _memory_passed(limits)
        if isolation.folder_mb(str(work)) > limits.disk_mb:
            return f"it wrote more than {limits.disk_mb} MiB into its folder"
        return ""

    return check


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


def _read_until(fd: int, deadline: float, result: RunResult, watch=None) -> bytes:
    chunks, size = [], 0
    next_watch = time.monotonic()
    while True:
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            result.timed_out = True
            break
        if watch is not None and now >= next_watch:
            next_watch = now + WATCH_S
            reason = watch()
            if reason:
                result.stopped_for = reason
                break
        ready, _, _ = select.select([fd], [], [], min(left, WATCH_S if watch else 1.0))
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
