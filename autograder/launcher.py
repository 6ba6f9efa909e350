"""Starts the worker inside its sandbox. Run by `sandbox.py` as `python -I -S launcher.py STATUS_FD RESULT_FD`.

Reads one JSON line of configuration from stdin (the token line behind it is left for the worker), then applies
every protection the system allows and records which took effect:

- its run's cgroup (memory over all its processes, a process count), joined before anything else;
- new mount, network, PID and IPC namespaces (as root; otherwise inside a new user namespace when the kernel
  lets unprivileged users have one);
- in a mount namespace: tmpfs over every hidden path (the project, home folders, /tmp, every top-level folder
  that is not the system's), with only the Python installation and the run's folder bound back; then the
  grader's own packages inside the Python installation masked (nnexam installed from a wheel lives in the same
  site-packages as numpy); a private /proc, a private size-limited /dev/shm, and a size-limited tmpfs as the
  worker's scratch folder;
- resource limits, an unprivileged uid/gid of the run's own, no new privileges, death with the parent.

It writes the report, one JSON line, on STATUS_FD and execs the worker. Standard library only.
"""

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = (0x00020000, 0x08000000, 0x10000000,
                                                                        0x20000000, 0x40000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
NAMESPACES = ((CLONE_NEWNS, "mount"), (CLONE_NEWNET, "network"), (CLONE_NEWPID, "pid"), (CLONE_NEWIPC, "ipc"))
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


def mask_paths(paths):
    """Make each path unreadable in this mount namespace: an empty mode-000 tmpfs over a folder, /dev/null over
    a file. Used for the grader's own packages inside a kept folder (site-packages)."""
    done = []
    for path in paths:
        if os.path.islink(path) or not os.path.exists(path):
            continue
        if os.path.isdir(path):
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=000,size=4k")
        else:
            mount("/dev/null", path, None, MS_BIND)
        done.append(path)
    return done


def private_mounts(config, report, uid):
    """In the mount namespace: /proc of the PID namespace, a private /dev/shm and the scratch tmpfs."""
    if "pid" in report["namespaces"]:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    limits = config["limits"]
    owner = f",uid={uid},gid={uid}" if uid is not None else ""
    if os.path.isdir("/dev/shm"):
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"mode=1777,size={limits['shm_mb']}m")
        report["shm"] = f"private, {limits['shm_mb']} MiB"
    mount("tmpfs", config["workdir"], "tmpfs", MS_NOSUID | MS_NODEV,
          f"mode=700,size={limits['disk_mb']}m{owner}")
    report["scratch"] = f"tmpfs, {limits['disk_mb']} MiB"


def write_id_map(kind, inside, outside):
    if kind == "gid":
        with open("/proc/self/setgroups", "w") as fh:
            fh.write("deny")
    with open(f"/proc/self/{kind}_map", "w") as fh:
        fh.write(f"{inside} {outside} 1")


def user_namespace(report):
    """Not root: a new user namespace (own uid mapped to itself) with mount, network, PID and IPC namespaces
    inside, where the kernel allows unprivileged user namespaces; else only what needs none (nothing)."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC
    if not unshare(flags):
        return
    try:
        write_id_map("uid", uid, uid)
        write_id_map("gid", gid, gid)
    except OSError as exc:
        report["userns_error"] = str(exc)
    report["namespaces"] += ["user", "mount", "network", "pid", "ipc"]


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


def join_cgroup(config, report):
    """Move this process (and so every process it starts) into the run's cgroup, prepared by the grader."""
    joined = []
    for procs in config.get("cgroup_procs") or []:
        try:
            with open(procs, "w") as fh:
                fh.write(str(os.getpid()))
            joined.append(procs)
        except OSError as exc:
            report.setdefault("cgroup_error", str(exc))
    if joined:
        report["cgroup"] = joined


def enter(config, status_fd, result_fd):
    """Sandbox the calling process and return in the process that must run the worker.

    The run's cgroup first; then new namespaces where possible (with a PID namespace this process forks the
    namespace's init, waits for it and mirrors its exit; the init returns from here), hidden and masked paths,
    private /proc, /dev/shm and scratch folder, resource limits, the unprivileged uid/gid of this run, death
    with the parent (re-armed after setuid), the scratch folder as working directory. The report of what took
    effect goes to STATUS_FD, which is then closed.
    """
    report = {"namespaces": [], "hidden": [], "masked": [], "user": None, "limits": config["limits"]}
    is_root = os.geteuid() == 0
    uid = config.get("uid") if is_root else None
    join_cgroup(config, report)
    if is_root:
        for flag, name in NAMESPACES:
            if unshare(flag):
                report["namespaces"].append(name)
    else:
        user_namespace(report)
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
            report["masked"] = mask_paths(config.get("mask", []))
            private_mounts(config, report, uid)
        except OSError as exc:
            report["mount_error"] = str(exc)
    limits = config["limits"]
    for name, value in (("RLIMIT_CPU", limits["cpu_s"]), ("RLIMIT_AS", limits["memory_mb"] << 20),
                        ("RLIMIT_FSIZE", limits["file_mb"] << 20), ("RLIMIT_NOFILE", 64),
                        ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", limits["nproc"])):
        resource.setrlimit(getattr(resource, name), (value, value))
    os.umask(0o077)
    if uid is not None:
        os.setgroups([])
        os.setgid(config["gid"])
        os.setuid(uid)
        report["user"] = uid
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
    os.execve(python, [python, "-I", config["worker"], str(result_fd), config["infolder"]], config["env"])


if __name__ == "__main__":
    main()
