"""The grader's side of isolation: what the machine offers, the host protections that need no namespace, the
run's cgroup or its fallback, and cleaning up after a run (or after a grader that was killed).

Three environments (README, "How a grade is computed"):

- root with namespaces: everything that is not the system is hidden behind tmpfs in the worker's mount
  namespace and the grader's own packages are masked there (`launcher.py`); nothing here needs to change files.
- root without CAP_SYS_ADMIN (Docker's defaults): no namespace can be made, but a uid can still be switched. The
  grader's packages, the project checkout, the folders being graded and any `NNEXAM_SANDBOX_PROTECT` path are
  made private to their owner (other users lose every permission: `chmod o-rwx`), and the folders on the way to
  the Python installation are made passable by other users (`o+x` only, never read), so that the worker's uid
  can run Python but read nothing of the grader's. After each run, what its uid left in the shared temporary
  folders and in SysV IPC is removed.
- not root: a user namespace, when the kernel allows one, gives the same hiding as the first; otherwise the
  worker runs as the grader's own user, with resource limits and its own process group only.

Memory over all of a run's processes is bounded by a cgroup (v2, or v1's memory and pids controllers) where the
grader may create one; otherwise the grader polls the memory of the run's processes and kills them all past
the limit.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import site
import stat
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

PACKAGES = ("nnexam", "solvers", "assignments", "autograder", "templates")
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue")
CGROUP_ROOT = Path("/sys/fs/cgroup")
_LOCK = threading.Lock()
_STATE: dict = {}


def _site_dirs() -> set[str]:
    dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:
        pass
    return {os.path.realpath(d) for d in dirs}


def secret_paths() -> list[str]:
    """Every place that holds the grader's code, references or checks: each package folder of nnexam (and its
    dist-info) where it is installed into site-packages, or the whole checkout for an editable install, plus
    the paths in NNEXAM_SANDBOX_PROTECT (separated by os.pathsep)."""
    sites = _site_dirs()
    found = set()
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            folder = os.path.realpath(location)
            parent = os.path.dirname(folder)
            if parent in sites:
                found.add(folder)
                found.update(str(p) for p in Path(parent).glob("nnexam-*.dist-info"))
            else:
                found.add(parent)  # a checkout: the tests, submissions and keys live beside the packages
    for extra in os.environ.get("NNEXAM_SANDBOX_PROTECT", "").split(os.pathsep):
        if extra and os.path.exists(extra):
            found.add(os.path.realpath(extra))
    return sorted(found)


def python_paths() -> list[str]:
    """What the worker needs to run Python: the interpreter and the installation it imports from."""
    paths = {sys.base_prefix, sys.prefix, *(_site_dirs()), os.path.realpath(sys.executable),
             os.path.dirname(os.path.realpath(sys.executable)), sysconfig.get_paths()["stdlib"]}
    for module in ("numpy", "torch"):
        spec = importlib.util.find_spec(module)
        if spec and spec.origin:
            paths.add(str(Path(spec.origin).resolve().parent.parent))
    return sorted(p for p in paths if os.path.exists(p))


def namespaces_available() -> bool:
    """Whether a new mount namespace can be made here (tried once, in a throwaway process)."""
    with _LOCK:
        if "namespaces" not in _STATE:
            flags = "0x00020000" if os.geteuid() == 0 else "0x10000000 | 0x00020000"
            code = f"import ctypes, sys; sys.exit(ctypes.CDLL(None).unshare({flags}) != 0)"
            try:
                done = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, timeout=30)
                _STATE["namespaces"] = done.returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                _STATE["namespaces"] = False
        return _STATE["namespaces"]


def prepare_host(extra: list[str] | tuple[str, ...] = ()) -> dict:
    """Once per grader process (and again for new `extra` paths): the protections that need no namespace, as a
    report {"mode", "private": [...], "traversable": [...]}. Root without namespaces changes file modes; in the
    other environments nothing on disk changes."""
    with _LOCK:
        report = _STATE.setdefault("host", {"private": [], "traversable": []})
    root, spaces = os.geteuid() == 0, namespaces_available()
    report["mode"] = ("namespaces" if spaces else "no namespaces") + (", root" if root else ", not root")
    if not root or spaces:
        return report
    with _LOCK:
        for path in [*secret_paths(), *(os.path.realpath(p) for p in extra if os.path.exists(p))]:
            if path not in report["private"] and _make_private(path):
                report["private"].append(path)
        for path in python_paths():
            for folder in [Path(path), *Path(path).parents]:
                if folder.is_dir() and _make_passable(folder) and str(folder) not in report["traversable"]:
                    report["traversable"].append(str(folder))
    return report


def _make_private(path: str) -> bool:
    """Other users lose every permission on `path` (its owner and group keep theirs)."""
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            return False
        if mode & 0o007:
            os.chmod(path, stat.S_IMODE(mode) & ~0o007)
        return True
    except OSError:
        return False


def _make_passable(folder: Path) -> bool:
    """Other users may pass through `folder` (x, never r): True when its mode had to change."""
    try:
        mode = os.stat(folder).st_mode
        if mode & stat.S_IXOTH:
            return False
        os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
        return True
    except OSError:
        return False


# ---- after a run ------------------------------------------------------------------------------------------------

def kill_uid(uid: int) -> None:
    """End whatever still runs as `uid` (a process that left the sandbox's process group and namespace)."""
    for _ in range(3):
        found = False
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.stat(f"/proc/{entry}").st_uid == uid:
                        os.kill(int(entry), 9)
                        found = True
                except (OSError, ValueError):
                    pass
        if not found:
            return
        time.sleep(0.05)


def remove_leftovers(uid: int) -> list[str]:
    """Delete what `uid` left in the shared temporary folders and its SysV IPC objects; what was removed."""
    removed = []
    for top in SHARED_TMP:
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                _remove(entry.path, info)
                removed.append(entry.path)
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH:
                for inner in _scandir(entry.path):
                    try:
                        if inner.stat(follow_symlinks=False).st_uid == uid:
                            _remove(inner.path, inner.stat(follow_symlinks=False))
                            removed.append(inner.path)
                    except OSError:
                        pass
    removed += _remove_ipc(uid)
    return removed


def _scandir(path: str) -> list:
    try:
        return list(os.scandir(path))
    except OSError:
        return []


def _remove(path: str, info: os.stat_result) -> None:
    try:
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


IPC_KINDS = (("shm", 7), ("sem", 4), ("msg", 7))  # /proc/sysvipc/<kind>: the column of the owner's uid
REMOVE_IPC = """
import ctypes, sys
libc = ctypes.CDLL(None)
for kind, ident in zip(sys.argv[1::2], sys.argv[2::2]):
    ident = int(ident)
    {"shm": lambda: libc.shmctl(ident, 0, None), "sem": lambda: libc.semctl(ident, 0, 0),
     "msg": lambda: libc.msgctl(ident, 0, None)}[kind]()
"""


def _remove_ipc(uid: int) -> list[str]:
    """SysV shared memory, semaphores and message queues owned by `uid` (outside an IPC namespace they outlive
    the process that made them). Removed by a process running as `uid`: without CAP_SYS_ADMIN, only an owner
    may remove them."""
    found = []
    for kind, column in IPC_KINDS:
        try:
            rows = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        found += [(kind, row.split()[1]) for row in rows if len(row.split()) > column
                  and row.split()[column] == str(uid)]
    if found:
        args = [value for pair in found for value in pair]
        try:
            subprocess.run([sys.executable, "-I", "-S", "-c", REMOVE_IPC, *args], user=uid, group=uid,
                           extra_groups=[], capture_output=True, timeout=30, cwd="/")
        except (OSError, subprocess.SubprocessError):
            pass
    return [f"sysv {kind} {ident}" for kind, ident in found]


# ---- stale folders of a killed grader -----------------------------------------------------------------------------

def hold(folder: Path):
    """A lock that marks `folder` as in use by this grader; the open descriptor, to close when done."""
    fd = os.open(folder / ".in-use", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def sweep(base: Path, prefix: str = "nnexam-grader-") -> list[str]:
    """Remove the run folders under `base` that no live grader holds (left by a grader that was killed)."""
    removed = []
    for entry in _scandir(str(base)):
        if not entry.name.startswith(prefix) or not entry.is_dir(follow_symlinks=False):
            continue
        marker = Path(entry.path) / ".in-use"
        try:
            fd = os.open(marker, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            if time.time() - entry.stat(follow_symlinks=False).st_mtime < 60:
                continue  # being set up right now
            fd = None
        except OSError:
            continue
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            os.close(fd)
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


# ---- cgroups ------------------------------------------------------------------------------------------------------

class RunCgroup:
    """One run's cgroup: memory over all its processes (no swap) and a process count. `procs` are the files the
    launcher writes its pid into; `close()` kills what is left and removes the groups."""

    def __init__(self, folders: list[Path]):
        self.folders = folders
        self.procs = [str(f / "cgroup.procs") for f in folders]

    @classmethod
    def create(cls, name: str, memory_mb: int, nproc: int) -> RunCgroup | None:
        """A cgroup where the grader may make one (root, a writable cgroup v2 or v1 hierarchy), else None."""
        if os.geteuid() != 0:
            return None
        for make in (_cgroup_v2, _cgroup_v1):
            try:
                folders = make(name, memory_mb << 20, nproc)
            except OSError:
                continue
            if folders:
                return cls(folders)
        return None

    def oom_killed(self) -> bool:
        for folder in self.folders:
            for name in ("memory.events", "memory.oom_control"):
                try:
                    for line in (folder / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and int(value) > 0:
                            return True
                except (OSError, ValueError):
                    pass
        return False

    def close(self) -> None:
        for folder in self.folders:
            kill = folder / "cgroup.kill"
            if kill.exists():
                try:
                    kill.write_text("1")
                except OSError:
                    pass
        for _ in range(100):
            alive = False
            for procs in self.procs:
                try:
                    pids = Path(procs).read_text().split()
                except OSError:
                    continue
                for pid in pids:
                    alive = True
                    try:
                        os.kill(int(pid), 9)
                    except (OSError, ValueError):
                        pass
            if not alive:
                break
            time.sleep(0.02)
        for folder in self.folders:
            try:
                folder.rmdir()
            except OSError:
                pass


def _own_cgroup(controller: str) -> str:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return "/"


def _cgroup_v2(name: str, memory: int, nproc: int) -> list[Path] | None:
    root = CGROUP_ROOT
    if not (root / "cgroup.controllers").exists():
        return None
    if not {"memory", "pids"} <= set((root / "cgroup.controllers").read_text().split()):
        return None
    parent = root / "nnexam"
    if not parent.exists():
        (root / "cgroup.subtree_control").write_text("+memory +pids")
        parent.mkdir(exist_ok=True)
    if not {"memory", "pids"} <= set((parent / "cgroup.subtree_control").read_text().split()):
        (parent / "cgroup.subtree_control").write_text("+memory +pids")
    group = parent / name
    group.mkdir()
    try:
        (group / "memory.max").write_text(str(memory))
        if (group / "memory.swap.max").exists():
            (group / "memory.swap.max").write_text("0")
        (group / "pids.max").write_text(str(nproc))
    except OSError:
        group.rmdir()
        raise
    return [group]


def _cgroup_v1(name: str, memory: int, nproc: int) -> list[Path] | None:
    mem_root, pids_root = CGROUP_ROOT / "memory", CGROUP_ROOT / "pids"
    if not (mem_root / "cgroup.procs").exists() or not (pids_root / "cgroup.procs").exists():
        return None
    made = []
    try:
        for root, controller in ((mem_root, "memory"), (pids_root, "pids")):
            parent = root / _own_cgroup(controller).lstrip("/") / "nnexam"
            parent.mkdir(exist_ok=True)
            group = parent / name
            group.mkdir()
            made.append(group)
        mem, pids = made
        (mem / "memory.limit_in_bytes").write_text(str(memory))
        if (mem / "memory.memsw.limit_in_bytes").exists():
            (mem / "memory.memsw.limit_in_bytes").write_text(str(memory))
        (pids / "pids.max").write_text(str(nproc))
    except OSError:
        for group in made:
            try:
                group.rmdir()
            except OSError:
                pass
        raise
    return made


def cgroup_name(run: str) -> str:
    """A run's cgroup name, carrying the grader's pid: `run-<pid>-<run>`."""
    return f"run-{os.getpid()}-{run}"


def sweep_cgroups() -> None:
    """Remove the run cgroups of graders that are no longer alive (killed; their workers died with them).
    Another live grader's groups are left alone."""
    parents = [CGROUP_ROOT / "nnexam"]
    for controller in ("memory", "pids"):
        try:
            parents.append(CGROUP_ROOT / controller / _own_cgroup(controller).lstrip("/") / "nnexam")
        except OSError:
            pass
    for parent in parents:
        for entry in _scandir(str(parent)):
            owner = entry.name.split("-")[1] if entry.name.startswith("run-") else ""
            if owner.isdigit() and not Path(f"/proc/{owner}").exists() and entry.is_dir():
                RunCgroup([Path(entry.path)]).close()


# ---- the fallback: polling a run's processes -------------------------------------------------------------------------

def processes_of(uid: int | None, session: int | None) -> list[int]:
    """The pids of a run: every process of its uid (root grader), else of its session (a fallback a process
    can leave with setsid; the PID namespace, where there is one, is what really holds them)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if uid is not None:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
            elif session is not None:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) == session:
                    pids.append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return pids


def private_memory_mb(pids: list[int]) -> float:
    """Memory the processes hold for themselves (private pages and swap, from smaps_rollup), summed: pages
    shared with the zygote they were forked from are not theirs."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("Private_Clean", "Private_Dirty", "Swap"):
                    total += int(value.split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1024


def folder_mb(folder: str, limit_entries: int = 20000) -> float:
    """The size of the files under `folder` (inf when it holds more than `limit_entries` entries)."""
    total, count = 0, 0
    stack = [folder]
    while stack:
        for entry in _scandir(stack.pop()):
            count += 1
            if count > limit_entries:
                return float("inf")
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                stack.append(entry.path)
            else:
                total += info.st_blocks * 512
    return total / (1 << 20)
