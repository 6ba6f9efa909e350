"""The grader's zygote: imports numpy and torch once, then forks one sandboxed worker per submission.

Started by `sandbox.Zygote` as `python -I zygote.py SOCKET_FD GRADER_PID` with the workers' clean environment
(one OpenMP thread), cwd `/`. It never runs student code and never sees a reference, a plan or an input: it
only imports numpy, torch, `launcher.py` and `worker.py` (as plain modules, from this folder) and then serves
the grader over a SOCK_SEQPACKET socket:

    grader -> zygote  {"op": "run", "id": N, "config": {...}, "token": "..."} with fds [result_w, status_w, log]
                      {"op": "kill", "id": N}
    zygote -> grader  {"ready": true, "threads": 1} once, then {"id": N, "pid": P} and {"id": N, "exit": CODE}

For a run it forks a child that starts a new session, dies with the zygote (PR_SET_PDEATHSIG), keeps only its
result pipe, status pipe and log (every other descriptor closed, the socket included), and then sandboxes
itself with the launcher's `enter` exactly as a spawned launcher does (namespaces, hidden paths, limits,
setgroups/setgid/setuid to the run's uid, pdeathsig re-armed, private cwd) BEFORE the worker imports the
submission; the environment is replaced by the run's. The zygote must stay single-threaded (fork and
unshare are then safe): it reports its thread count and the grader refuses it unless it is 1. The zygote
dies with the grader (PR_SET_PDEATHSIG), and each worker with the zygote.
"""

import importlib.util
import json
import os
import select
import signal
import socket
import sys
import tempfile
from pathlib import Path

import numpy  # noqa: F401 - imported once here so that every forked worker has it
import torch

torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent


def warm_up():
    """Run the homework's kinds of layer forward and backward once, so that what torch prepares lazily on first
    use (kernels, autograd's engine) is ready before the forks instead of in every worker."""
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.BatchNorm2d(2),
                                torch.nn.Dropout(0.1), torch.nn.MaxPool2d(2), torch.nn.Upsample(scale_factor=2,
                                mode="bicubic"), torch.nn.ConvTranspose2d(2, 1, 3), torch.nn.Flatten(),
                                torch.nn.Linear(64, 3), torch.nn.BatchNorm1d(3), torch.nn.Softmax(dim=1))
    for mode in (model.train, model.eval):
        mode()
        loss = torch.nn.functional.mse_loss(model(torch.rand(2, 1, 8, 8)), torch.zeros(2, 3))
        loss = loss + torch.nn.functional.cross_entropy(model(torch.rand(2, 1, 8, 8)), torch.tensor([0, 1]))
        loss.backward()


warm_up()


def load(name):
    spec = importlib.util.spec_from_file_location(f"_nnexam_sandbox_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LAUNCHER, WORKER = load("launcher"), load("worker")


def child(sock, config, token, fds, zygote_pid):
    """In the forked child: never returns."""
    try:
        result_fd, status_fd, log_fd = fds
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        LAUNCHER.die_with_parent(zygote_pid)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        keep = {0, 1, 2, result_fd, status_fd}
        sock.detach()
        for name in os.listdir("/proc/self/fd"):
            if int(name) not in keep:
                try:
                    os.close(int(name))
                except OSError:
                    pass
        LAUNCHER.enter(config, status_fd, result_fd)
        os.environ.clear()
        os.environ.update(config["env"])
        tempfile.tempdir = None  # computed again from the run's TMPDIR (its private folder), not the zygote's
        sys.argv = ["worker.py"]
        WORKER.main(result_fd, token, config["infolder"])
    except BaseException:  # noqa: B036 - nothing may return into the zygote's loop
        import traceback

        traceback.print_exc()
        os._exit(1)
    os._exit(1)


def main():
    sock = socket.socket(fileno=int(sys.argv[1]))
    grader_pid = int(sys.argv[2])
    LAUNCHER.die_with_parent(grader_pid)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    running = {}  # pid -> run id
    threads = len(os.listdir("/proc/self/task"))
    sock.send(json.dumps({"ready": threads == 1, "threads": threads}).encode())
    while True:
        try:
            ready, _, _ = select.select([sock, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in ready:
            os.read(wake_r, 4096)
        if sock in ready:
            try:
                data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
            except OSError:
                data, fds = b"", []
            if not data:
                for pid in running:
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                os._exit(0)
            message = json.loads(data)
            if message["op"] == "kill":
                for pid, run_id in running.items():
                    if run_id == message["id"]:
                        try:
                            os.killpg(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                continue
            pid = os.fork()
            if pid == 0:
                child(sock, message["config"], message["token"].encode(), fds, os.getppid())
            for fd in fds:
                os.close(fd)
            running[pid] = message["id"]
            del message  # the zygote keeps nothing of a run but its id
            sock.send(json.dumps({"id": running[pid], "pid": pid}).encode())
        reap(sock, running)


def reap(sock, running):
    """Report every ended run (after each wake-up, so that a child that ended early is not missed)."""
    while running:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        run_id = running.pop(pid, None)
        if run_id is not None:
            sock.send(json.dumps({"id": run_id, "exit": os.waitstatus_to_exitcode(status)}).encode())


if __name__ == "__main__":
    main()
