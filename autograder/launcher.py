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


PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


def die_with_parent(parent_pid=None):
    """SIGKILL this process when its parent ends (PR_SET_PDEATHSIG); if the parent is already gone, end now.

    Credential changes (setuid) clear the setting, so `enter` arms it again after dropping privileges.
    """
    LIBC.prctl(ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(9), ctypes.c_ulong(0), ctypes.c_ulong(0),
               ctypes.c_ulong(0))
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def mirror_exit(status):
    """End this process as the waited-for child ended: the same exit code, or the same signal."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        import signal

        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


def enter(config, status_fd, result_fd):
    """Sandbox the calling process and return in the process that must run the worker.

    New namespaces where possible (with a PID namespace this process forks the namespace's init, waits for it
    and mirrors its exit; the init returns from here), hidden paths, a private /proc, resource limits, the
    unprivileged uid/gid of this run, death with the parent (re-armed after setuid), the private folder as
    working directory. The report of what took effect goes to STATUS_FD, which is then closed.
    """
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
            mirror_exit(status)
        die_with_parent()  # the namespace's init: when it ends, the kernel ends every process inside
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
    die_with_parent()  # setuid cleared it
    LIBC.prctl(ctypes.c_int(PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
               ctypes.c_ulong(0))
    os.chdir(config["workdir"])
    os.write(status_fd, (json.dumps(report) + "\n").encode())
    os.close(status_fd)


def main():
    status_fd, result_fd = int(sys.argv[1]), int(sys.argv[2])
    config = json.loads(read_line(0))
    die_with_parent(config.get("parent"))
    enter(config, status_fd, result_fd)
    python = config["python"]
    os.execve(python, [python, "-I", "worker.py", str(result_fd)], config["env"])


if __name__ == "__main__":
    main()
