"""Starts the worker inside its sandbox. Run by `sandbox.py` as `python -I -S launcher.py STATUS_FD RESULT_FD`.

Reads one JSON line of configuration from stdin (the token line behind it is left for the worker), then, as
far as the system allows: new mount, network and PID namespaces; tmpfs over every hidden path (the project,
home folders, /tmp, the submissions and results folders), with only the Python installation and the private
folder bound back; a private /proc; resource limits; an unprivileged uid/gid; then it execs the worker.
It writes which protections took effect, as one JSON line, on STATUS_FD. Standard library only.
"""

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
LIBC = ctypes.CDLL(None, use_errno=True)


def read_line(fd):
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return data


def unshare(flags):
    return LIBC.unshare(ctypes.c_int(flags)) == 0


def mount(source, target, fstype, flags, data=None):
    enc = [None if s is None else s.encode() for s in (source, target, fstype, data)]
    if LIBC.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) != 0:
        raise OSError(ctypes.get_errno(), f"mount {target}: {os.strerror(ctypes.get_errno())}")


def under(path, parent):
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def hide_paths(hidden, keep):
    """tmpfs over each hidden path; every kept path beneath one is bound back at the same place."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    hidden = sorted({os.path.realpath(h) for h in hidden if os.path.isdir(h)}, key=len)
    tops = [h for i, h in enumerate(hidden) if h != "/" and not any(under(h, o) for o in hidden[:i])]
    keep = [os.path.realpath(k) for k in keep if os.path.exists(k)]
    done = []
    for top in tops:
        inside = [k for k in keep if under(k, top) and not any(under(k, o) and o != k for o in keep)]
        fds = [(k, os.open(k, os.O_PATH)) for k in inside]
        mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
        for path, fd in fds:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            os.close(fd)
        done.append(top)
    return done


def main():
    status_fd, result_fd = int(sys.argv[1]), int(sys.argv[2])
    config = json.loads(read_line(0))
    report = {"namespaces": [], "hidden": [], "user": None, "limits": config["limits"]}
    is_root = os.geteuid() == 0
    if is_root:
        for flag, name in ((CLONE_NEWNS, "mount"), (CLONE_NEWNET, "network"), (CLONE_NEWPID, "pid")):
            if unshare(flag):
                report["namespaces"].append(name)
    elif unshare(CLONE_NEWUSER | CLONE_NEWNET):
        report["namespaces"] += ["user", "network"]
    if "pid" in report["namespaces"]:
        child = os.fork()
        if child:
            os.close(status_fd)
            os.close(result_fd)
            _, status = os.waitpid(child, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    if "mount" in report["namespaces"]:
        try:
            report["hidden"] = hide_paths(config["hide"], config["keep"])
            if "pid" in report["namespaces"]:
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError as exc:
            report["mount_error"] = str(exc)
    limits = config["limits"]
    for name, value in (("RLIMIT_CPU", limits["cpu_s"]), ("RLIMIT_AS", limits["memory_mb"] << 20),
                        ("RLIMIT_FSIZE", limits["file_mb"] << 20), ("RLIMIT_NOFILE", 64),
                        ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", limits["nproc"])):
        resource.setrlimit(getattr(resource, name), (value, value))
    if is_root and config.get("uid") is not None:
        os.setgroups([])
        os.setgid(config["gid"])
        os.setuid(config["uid"])
        report["user"] = config["uid"]
    os.chdir(config["workdir"])
    os.write(status_fd, (json.dumps(report) + "\n").encode())
    os.close(status_fd)
    python = config["python"]
    os.execve(python, [python, "-I", "worker.py", str(result_fd)], config["env"])


main()
