"""Grading integrity where the grader is deployed: one test (or a few) per class of attack or accident.

Submissions are written here as small patches on the reference implementations (`patched`), or as a few lines
of hostile code. Limits are tight so that hostile tests cost little on a shared machine.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import autograder.references
from autograder import frames, isolation
from autograder.engine import grade_submission
from autograder.results import NOT_GRADED, REFUSED, grade_folder, sign
from autograder.sandbox import Limits, run_plan, zygote_workers
from autograder.submission import Submission, notebook_submission, read_submission
from tests.patches import source

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = Path(autograder.references.__file__).parent
HW5 = Path(__file__).parent / "submissions" / "hw5"
TIGHT = Limits(cpu_s=6, wall_s=30, memory_mb=3072, file_mb=4, nproc=24, total_memory_mb=1024)
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (uid switch, namespaces or their absence)")


def patched(assignment: str, *edits: tuple[str, str]) -> str:
    """The reference of `assignment` with each (old, new) replaced once: a student's version of it."""
    source = (REFERENCES / f"{assignment}.py").read_text()
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new, 1)
    return source


def graded(assignment: str, source: str, name: str = "student.py", limits: Limits | None = None):
    results = grade_submission(assignment, Submission(name, source.encode()), limits=limits)
    checks = {c.name: c for q in results for c in q.checks}
    return sum(q.score for q in results), checks, "\n".join(q.output() for q in results)


# ---- 1. nothing to import or read, under every install ----------------------------------------------------------

CHEAT_IMPORT = "from autograder.references.hw6 import CNN\n"
CHEAT_READ = """
import glob, sys
for path in glob.glob(sys.prefix + '/lib/python3*/site-packages/autograder/references/hw6.py') + [{checkout!r}]:
    try:
        exec(open(path).read().replace('from __future__ import annotations', ''))
        break
    except OSError:
        pass
"""


@pytest.fixture(scope="module")
def wheel_venv():
    """nnexam installed from its wheel into a fresh venv that reuses this environment's dependencies (a .pth
    file naming this environment's site-packages), as the Gradescope image installs it. In a folder every
    user may read, so that the not-root test can use it too."""
    import sysconfig
    import tempfile

    from autograder.otter.package import build_wheel

    base = Path(tempfile.mkdtemp(prefix="nnexam-wheel-test-"))
    base.chmod(0o755)
    wheel = build_wheel(base / "dist")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*")) / "site-packages"
    (site / "_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)  # a wheel is a zip laid out for site-packages: installing it without pip
    yield venv / "bin" / "python"
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_wheel_install_hides_the_package_from_submissions(wheel_venv, tmp_path):
    installed = subprocess.run([str(wheel_venv), "-c", "import autograder; print(autograder.__file__)"],
                               capture_output=True, text=True, cwd=tmp_path, check=True).stdout.strip()
    assert installed.startswith(str(wheel_venv.parents[1])), installed  # the wheel's copy, not the checkout
    for name, text in (("import.py", CHEAT_IMPORT),
                       ("read.py", CHEAT_READ.format(checkout=str(ROOT / "autograder/references/hw6.py")))):
        (tmp_path / name).write_text(text)
        done = subprocess.run([str(wheel_venv), "-m", "nnexam.cli", "grade", "hw6", name, "--format", "json"],
                              capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["score"] == 0, result
        feedback = result["tests"][0]["output"]
        assert "No module named 'autograder.references'" in feedback or "no attribute 'CNN'" in feedback, feedback
    honest = subprocess.run([str(wheel_venv), "-m", "nnexam.cli", "grade", "hw6", str(REFERENCES / "hw6.py"),
                             "--format", "json"], capture_output=True, text=True, cwd=tmp_path)
    assert json.loads(honest.stdout)["score"] == 10, honest.stdout + honest.stderr


def test_editable_install_hides_the_checkout():
    score, _, feedback = graded("hw6", CHEAT_IMPORT + CHEAT_READ.format(checkout=str(REFERENCES / "hw6.py")))
    assert score == 0 and "could not be imported" in feedback, feedback


# ---- 2. degrade, never fail everyone: no CAP_SYS_ADMIN, for real ---------------------------------------------------

NO_ADMIN_SCRIPT = r"""
import json, sys
from pathlib import Path
import autograder.references as refs
from autograder.engine import grade_submission
from autograder.sandbox import Limits, run_plan
from autograder.submission import Submission
out = {}
def run(name, source, limits=None):
    report = {}
    results = grade_submission("hw5", Submission(name, source), limits=limits, report=report)
    out[name] = {"score": sum(q.score for q in results), "feedback": "\n".join(q.output() for q in results),
                 "protections": report}
run("reference", (Path(refs.__file__).parent / "hw5.py").read_bytes())
run("cheat", sys.argv[1].encode())
run("bomb", sys.argv[2].encode(), Limits(cpu_s=10, wall_s=30, total_memory_mb=400, nproc=24))
run_plan(sys.argv[3].encode(), {"probes": []}, {})
probe = {"id": "g", "kind": "call", "func": "gradient", "args": [{"value": 0}]}
out["found"] = run_plan(sys.argv[4].encode(), {"probes": [probe]}, {}).frames["g"][1]["r0.out0"].tolist()
print(json.dumps(out))
"""
MEMORY_BOMB = """
import os, time
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        block = bytearray(150 << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(60)
        os._exit(0)
    children.append(pid)
time.sleep(60)
"""
LEAVER = """
import ctypes, os
libc = ctypes.CDLL(None)
libc.shmget(0x5eed, 4096, 0o1666)
for folder in ('/tmp', '/dev/shm', '/var/tmp'):
    try:
        with open(folder + '/nnexam-leftover-secret', 'w') as fh:
            fh.write('secret')
        os.chmod(folder + '/nnexam-leftover-secret', 0o666)
    except OSError:
        pass
""" + source("hw5/reference_copy.py")
FINDER = """
import ctypes, os, numpy as np
FOUND = [int(ctypes.CDLL(None).shmget(0x5eed, 0, 0) != -1)]
FOUND += [int(os.path.exists(f + '/nnexam-leftover-secret')) for f in ('/tmp', '/dev/shm', '/var/tmp')]
def gradient(w):
    return np.array(FOUND, dtype=float)
"""


@ROOT_ONLY
@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("setpriv") or not shutil.which("unshare"), reason="needs util-linux")
def test_grading_without_cap_sys_admin(tmp_path):
    """Docker's default capabilities, for real: CAP_SYS_ADMIN dropped from the bounding set (so no namespace can
    be made) and the cgroup hierarchy out of reach (as in a container); honest work still earns full marks,
    the references stay unreadable, memory over all processes is bounded by polling, leftovers are removed."""
    cheat = CHEAT_IMPORT.replace("hw6 import CNN", "hw5 import *") + CHEAT_READ.format(
        checkout=str(REFERENCES / "hw5.py")).replace("hw6.py", "hw5.py")
    script = ("mount -t tmpfs none /sys/fs/cgroup && exec setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "
              "-- \"$@\"")
    env = dict(os.environ, PYTHONPATH=str(ROOT), NNEXAM_ZYGOTE="0")
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                           sys.executable, "-c", NO_ADMIN_SCRIPT, cheat, MEMORY_BOMB, LEAVER, FINDER],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    protections = out["reference"]["protections"]
    assert protections["namespaces"] == [] and protections["host"]["mode"] == "no namespaces, root", protections
    assert protections["memory"] == "polled by the grader"
    assert 61000 <= protections["user"] < 62000
    assert out["reference"]["score"] == 20, out["reference"]["feedback"]
    assert out["cheat"]["score"] == 0, out["cheat"]["feedback"]
    assert out["bomb"]["score"] == 0 and "400 MiB of memory over all its processes" in out["bomb"]["feedback"]
    assert out["found"] == [0, 0, 0, 0]  # the leaver's SysV segment and its files in /tmp, /dev/shm, /var/tmp
    private = set(protections["host"]["private"])
    assert any(str(ROOT) == p or str(ROOT).startswith(p + "/") for p in private), private


def _readable_by_others(path: Path) -> bool:
    path = path.resolve()
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in (path.parent, *path.parents)) and \
        bool(os.stat(path).st_mode & stat.S_IROTH)


@ROOT_ONLY
@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs util-linux")
def test_grading_as_a_user_who_is_not_root(wheel_venv):
    """An instructor grading under their own account: a user namespace hides the package where the kernel
    allows one; either way honest work earns full marks and the cheats nothing."""
    import sysconfig

    if not all(_readable_by_others(Path(p)) for p in (sys.executable, sysconfig.get_paths()["purelib"])):
        pytest.skip("this Python installation cannot be read by other users")
    home = wheel_venv.parents[2] / "home"  # beside the venv, in a folder every user may enter
    home.mkdir()
    os.chown(home, 1000, 1000)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home)}
    done = subprocess.run(["setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups", str(wheel_venv),
                           "-m", "nnexam.cli", "selftest", "hw5"], capture_output=True, text=True, cwd=home, env=env,
                          timeout=600)
    assert done.returncode == 0 and "self-test passed" in done.stdout, done.stdout + done.stderr[-2000:]
    assert "not root" in done.stdout


# ---- 3. the grader chooses the weights ------------------------------------------------------------------------------

ZERO_INIT = ("        )\n\n    def forward", "        )\n        for p in self.parameters():\n"
             "            nn.init.zeros_(p)\n\n    def forward")


@pytest.mark.slow
def test_wrong_cnn_with_zero_weights_earns_what_it_computes():
    for edit in (("nn.ReLU(),\n            nn.Conv2d", "nn.Tanh(),\n            nn.Conv2d"),
                 ("nn.MaxPool2d(2)", "nn.AvgPool2d(2)")):
        score, checks, feedback = graded("hw6", patched("hw6", edit, ZERO_INIT))
        assert checks["output"].score == 0 and checks["gradients"].score == 0, feedback
        assert score <= 4, feedback  # the structure (3) and perhaps half the training


@pytest.mark.slow
def test_wrong_kmeans_and_autoencoder_at_zero_do_not_pass():
    source = patched("hw7", ("self.softmax(20 * x)", "self.softmax(2 * x)"),
                     ("nn.MaxPool2d(2)", "nn.AvgPool2d(2)"))
    source += ("\n_init = Autoencoder.__init__\n\ndef _zero(self):\n    _init(self)\n    for p in self.parameters():\n"
               "        nn.init.zeros_(p)\n\nAutoencoder.__init__ = _zero\n")
    score, checks, feedback = graded("hw7", source)
    assert checks["embedding"].score == 0 and checks["output"].score == 0, feedback
    assert score <= 8, feedback


def test_nan_weights_that_are_no_cnn_earn_nothing():
    source = ("import torch\nfrom torch import nn\n\nclass CNN(nn.Module):\n    def __init__(self):\n"
              "        super().__init__()\n        self.w = nn.Parameter(torch.full((269930,), float('nan')))\n"
              "    def forward(self, x):\n        return torch.full((x.shape[0], 10), float('nan')) + 0 * self.w[0]\n")
    score, _, feedback = graded("hw6", source)
    assert score == 0, feedback


# ---- 4. worker messages are untrusted data -------------------------------------------------------------------------

# what a hostile submission does to reach the worker: its frame (with the token, `send` and the probes) is below
# the import of the submission on the stack, whether the worker was spawned or forked from the zygote
FIND_WORKER = """frame = sys._getframe()  # the worker's own frame is below the import of the submission
while not isinstance(frame.f_globals.get('PROBES'), dict):
    frame = frame.f_back
worker = type('Worker', (), {})()
worker.__dict__.update(frame.f_globals)
W = frame.f_globals
"""

LIAR = """
import sys, numpy as np
""" + FIND_WORKER + """
W['PROBES']['module'] = lambda probe: ({'leaves': 'nope', 'order': [10**9], 'runs': [{'calls': [-1]}],
                                         'n_params': 'x', 'free': [1]}, {'w0.r0.out': np.zeros(3)})
W['PROBES']['names'] = lambda probe: ({'CNN': {'kind': ['class'], 'params': 7}}, {'x.bad': np.zeros(1)})
worker.send('q1.model', {'ok': True, 'leaves': [{'type': 1}]}, {})
"""


@pytest.mark.parametrize("zygote", ["0", "1"])
def test_malformed_worker_messages_cost_the_checks_not_the_batch(tmp_path, zygote, monkeypatch):
    monkeypatch.setenv("NNEXAM_ZYGOTE", zygote)
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "liar.py").write_text(LIAR)
    (folder / "honest.py").write_text((REFERENCES / "hw6.py").read_text())
    records = grade_folder("hw6", folder, tmp_path / "g.csv", jobs=2)
    by_name = {r["submission"]: r for r in records}
    assert by_name["honest.py"]["score"] == 10
    assert by_name["liar.py"]["score"] == 0
    assert "cannot use" in by_name["liar.py"]["tests"][0]["output"]
    assert (tmp_path / "g.csv").read_text().count("\n") == 3


@pytest.mark.slow
def test_autoencoder_with_a_flat_output_is_graded_not_crashed():
    source = patched("hw7", ("return torch.cat((z, torch.flatten(f, 1) - torch.flatten(x, 1)), 1)",
                             "return torch.cat((z, torch.flatten(f, 1) - torch.flatten(x, 1)), 1)[0]"))
    score, checks, feedback = graded("hw7", source)
    assert checks["embedding"].score == 0 and "shape (794,)" in checks["embedding"].message, feedback
    assert checks["output"].score == checks["output"].points  # KMeansNet is right


def test_a_grader_failure_is_not_graded_and_names_the_file(tmp_path, monkeypatch):
    import autograder.assignments.hw5 as hw5

    def broken(view):
        yield "signatures", 1.0, "fine"
        raise ZeroDivisionError("the grader's own bug")

    monkeypatch.setattr(hw5.QUESTIONS[0], "grade", broken)
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "alice.py").write_text(source("hw5/reference_copy.py"))
    records = grade_folder("hw5", folder, tmp_path / "g.csv", jobs=1)
    assert records[0]["status"] == NOT_GRADED and "alice.py" in records[0]["error"], records[0]
    assert "ZeroDivisionError" in records[0]["error"]
    assert NOT_GRADED in (tmp_path / "g.csv").read_text()


def test_frame_schemas_refuse_malformed_metadata():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                          lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                        max_size=4), max_leaves=12)
    keys = st.sampled_from(["ok", "n_out", "leaves", "order", "runs", "n_params", "free", "load_error", "error",
                            "line", "type", "params", "buffers", "calls", "CNN", "kind"])

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(sorted(frames.SCHEMAS)), st.dictionaries(keys, values, max_size=8))
    def check(kind, meta):
        try:
            out = frames.validate(kind, meta, {})
        except frames.MalformedResult:
            return
        assert isinstance(out, dict) and isinstance(out["ok"], bool)

    check()


# ---- 5. bounded decoding ---------------------------------------------------------------------------------------

def _frame(token: bytes, members: dict[str, bytes], compress=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    payload = buffer.getvalue()
    return token + struct.pack(">Q", len(payload)) + payload


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def test_frames_never_inflate_or_trust_declared_sizes():
    token = b"t" * 32
    meta = _npy(np.frombuffer(json.dumps({"id": "p", "ok": True}).encode(), np.uint8))
    compressed = _frame(token, {"__meta__.npy": meta, "a.npy": _npy(np.zeros(1000))}, zipfile.ZIP_DEFLATED)
    lying = bytearray(_npy(np.zeros(4)))
    lying[lying.index(b"(4,)"):lying.index(b"(4,)") + 4] = b"(9,)"
    objects = _npy(np.array([{"a": 1}], dtype=object))
    for data, words in ((compressed, "compressed"), (_frame(token, {"__meta__.npy": meta, "a.npy": bytes(lying)}),
                                                      "declares 9 values"),
                        (_frame(token, {"__meta__.npy": meta, "a.npy": objects}), "numbers only"),
                        (_frame(token, {"a.npy": _npy(np.zeros(1))}), "__meta__")):
        got, problems = frames.decode_frames(data, token, deadline=float("inf"))
        assert not got and words in problems[0], problems
    good, problems = frames.decode_frames(_frame(token, {"__meta__.npy": meta, "a.npy": _npy(np.ones(3))}), token,
                                          float("inf"))
    assert not problems and good["p"][1]["a"].tolist() == [1.0, 1.0, 1.0]


ZIP_BOMB = """
import io, os, struct, sys, zipfile, zlib
""" + FIND_WORKER + """
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
    with zf.open('q1.g0.npy', 'w', force_zip64=True) as member:
        chunk = bytes(8 << 20)
        for _ in range(128):
            member.write(chunk)
payload = buffer.getvalue()
os.write(worker._fd, worker.TOKEN + struct.pack('>Q', len(payload)) + payload)
"""


def test_a_zip_bomb_frame_is_refused_without_inflating():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    score, _, feedback = graded("hw5", ZIP_BOMB, limits=Limits(cpu_s=20, wall_s=40, file_mb=4, nproc=24))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert score == 0
    assert grown_mb < 300, f"the grader grew by {grown_mb:.0f} MB reading a 1 GiB compressed member"


# ---- 6. limits per submission, not per process ------------------------------------------------------------------

def test_memory_is_bounded_over_all_processes():
    score, _, feedback = graded("hw5", MEMORY_BOMB, limits=Limits(cpu_s=10, wall_s=30, total_memory_mb=400,
                                                                    nproc=24))
    assert score == 0
    assert "memory" in feedback, feedback


def test_the_scratch_folder_is_size_limited():
    probe = ("import os, numpy as np\nwritten = 0\nfor i in range(100):\n    try:\n"
             "        with open(f'f{i}', 'wb') as fh:\n            fh.write(bytes(3 << 20))\n        written += 3\n"
             "    except OSError:\n        break\ndef gradient(w):\n    return np.array([written, 0.0])\n")
    limits = Limits(cpu_s=10, wall_s=30, file_mb=4, disk_mb=32)
    run = run_plan(probe.encode(), {"probes": [{"id": "g", "kind": "call", "func": "gradient",
                                                 "args": [{"value": 0}]}]}, {}, limits)
    meta, arrays = run.frames.get("g", ({}, {}))
    written = arrays["r0.out0"][0] if meta.get("ok") else 0
    assert meta.get("ok") or "stopped" in run.why_stopped(), run.why_stopped()
    assert written <= 36, written


def test_ipc_and_shared_memory_do_not_outlive_a_run():
    first = run_plan(LEAVER.encode(), {"probes": []}, {}, TIGHT)
    assert first.frames["__import__"][0]["ok"], first.frames
    second = run_plan(FINDER.encode(), {"probes": [{"id": "g", "kind": "call", "func": "gradient",
                                                    "args": [{"value": 0}]}]}, {}, TIGHT)
    meta, arrays = second.frames["g"]
    assert arrays["r0.out0"].tolist() == [0, 0, 0, 0], arrays


def test_folders_of_a_killed_grader_are_swept(tmp_path):
    stale, live = tmp_path / "nnexam-grader-stale", tmp_path / "nnexam-grader-live"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "in").mkdir()
    (stale / ".in-use").touch()
    holder = isolation.hold(live)
    try:
        removed = isolation.sweep(tmp_path)
    finally:
        os.close(holder)
    assert removed == [str(stale)] and live.exists() and not stale.exists()


# ---- 7. files -----------------------------------------------------------------------------------------------------

def test_links_fifos_and_folders_among_submissions_are_refused(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "honest.py").write_text(source("hw5/reference_copy.py"))
    (folder / "ref.py").symlink_to(REFERENCES / "hw5.py")
    (folder / "zero.py").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.py")
    (folder / "dir.py").mkdir()
    records = {r["submission"]: r for r in grade_folder("hw5", folder, tmp_path / "g.csv", jobs=2)}
    assert records["honest.py"]["score"] == 20
    for name, kind in (("ref.py", "symbolic link"), ("zero.py", "symbolic link"), ("pipe.py", "FIFO"),
                       ("dir.py", "folder")):
        assert records[name]["status"] == REFUSED and kind in records[name]["error"], records[name]
    rows = (tmp_path / "g.csv").read_text().splitlines()
    assert len(rows) == 6 and sum(REFUSED in row for row in rows) == 4


def test_a_linked_submission_on_the_command_line_gets_one_line(tmp_path):
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    done = subprocess.run([sys.executable, "-m", "nnexam.cli", "grade", "hw5", "zero.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "symbolic link" in done.stderr


def test_corrupt_and_forged_results_files_are_regraded(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in ("a", "b", "c", "d"):
        (folder / f"{name}.py").write_text(source("hw5/sign_error.py"))
    results = tmp_path / "g-results"
    records = grade_folder("hw5", folder, tmp_path / "g.csv", jobs=2)
    assert {r["score"] for r in records} == {12}
    forged = json.loads((results / "d.json").read_text()) | {"score": 20}
    forged["signature"] = sign(forged, b"not the grader's key")
    (results / "a.json").write_text("[]")
    (results / "b.json").write_bytes(b"\xff\xfe not json")
    (results / "c.json").unlink()
    (results / "c.json").mkdir()
    (results / "d.json").write_text(json.dumps(forged))
    again = {r["submission"]: r for r in grade_folder("hw5", folder, tmp_path / "g.csv", jobs=2)}
    assert again["a.py"]["score"] == again["b.py"]["score"] == again["d.py"]["score"] == 12
    assert again["c.py"]["status"] == NOT_GRADED and "could not be written" in again["c.py"]["error"]
    assert (tmp_path / "g.csv").read_text().count("\n") == 5


# ---- 8. notebooks are read as IPython reads them -----------------------------------------------------------------

def test_an_honest_notebook_with_magics_earns_full_marks(tmp_path):
    marker = tmp_path / "SHELL_RAN"
    reference = source("hw5/reference_copy.py")
    cells = [f"%%bash\ntouch {marker}\n", f"!touch {marker}\n%matplotlib inline", "%%time\n" + reference,
             "display(gradient(np.zeros(2)))\ngradient?", "files = !ls\n%time _ = gradient(np.zeros(2))",
             "import otter\ngrader = otter.Notebook()\ngrader.check('q1')"]
    notebook = {"cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": []} for c in cells]
                + [{"cell_type": "markdown", "source": "text", "metadata": {}}], "nbformat": 4, "nbformat_minor": 5,
                "metadata": {}}
    path = tmp_path / "hw5.ipynb"
    path.write_text(json.dumps(notebook))
    results = grade_submission("hw5", read_submission(path))
    assert sum(q.score for q in results) == 20, "\n".join(q.output() for q in results)
    assert not marker.exists(), "a shell escape of the notebook ran"


def test_a_notebook_error_names_the_cell_and_the_file():
    notebook = {"cells": [{"cell_type": "code", "source": "import numpy as np"},
                          {"cell_type": "code", "source": "x = 1\ny = undefined_name"}]}
    submission = notebook_submission(json.dumps(notebook).encode(), "my_hw5.ipynb")
    results = grade_submission("hw5", submission)
    text = "\n".join(q.output() for q in results)
    assert "NameError" in text and "cell 2, line 2 of my_hw5.ipynb" in text, text


# ---- 10. feedback blames the right layer ------------------------------------------------------------------------

@pytest.mark.slow
def test_feedback_blames_the_layer_after_the_pooling_even_with_inplace_relu():
    source = patched("hw6", ("nn.Conv2d(20, 20, 4, stride=2), nn.ReLU(),", "nn.Conv2d(20, 20, 4, stride=2), "
                             "nn.ReLU(inplace=True),"), ("nn.MaxPool2d(2)", "nn.AvgPool2d(2)"))
    _, checks, feedback = graded("hw6", source)
    assert "the input of the 1st Linear (layer call 3) differs" in checks["output"].message, feedback


# ---- 11. Gradescope details -------------------------------------------------------------------------------------

def test_messages_name_the_students_own_file():
    _, _, feedback = graded("hw5", "def gradient(w):\n    return w +\n", "alice_hw5.py")
    assert "SyntaxError" in feedback and "line 2 of alice_hw5.py" in feedback, feedback
    assert "submission.py" not in feedback


# ---- 12. the command line -----------------------------------------------------------------------------------------

def test_bad_files_and_options_get_one_line(tmp_path):
    (tmp_path / "latin1.json").write_bytes(b'{"points": "\xe9"}')
    os.mkfifo(tmp_path / "pipe.json")
    os.mkfifo(tmp_path / "pipe.py")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for args in (["solve", "lloyd", "--params", "latin1.json"], ["solve", "lloyd", "--params", "pipe.json"],
                 ["grade", "hw5", "pipe.py"], ["render", "mock-final", "--seed", "-5"],
                 ["generate", "mock-final", "--seed", "-5", "--keys-only"], ["grade", "hw5", "x.py", "-j", "0"],
                 ["audit", "latin1.json"], ["audit", "pipe.json"]):
        done = subprocess.run([sys.executable, "-m", "nnexam.cli", *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "internal error" not in done.stderr, (args, done.stderr)


def test_submission_reading_refuses_what_is_not_a_file(tmp_path):
    from autograder.submission import SubmissionError

    os.mkfifo(tmp_path / "p.py")
    (tmp_path / "big.py").write_bytes(b"#" * (5 << 20))
    (tmp_path / "nb.ipynb").write_bytes(b"\xff not json")
    for name, words in (("p.py", "FIFO"), ("big.py", "MiB"), ("nb.ipynb", "not a Jupyter notebook")):
        with pytest.raises(SubmissionError, match=words):
            read_submission(tmp_path / name)
    assert stat.S_ISFIFO(os.lstat(tmp_path / "p.py").st_mode)


def test_the_zygote_grades_like_a_spawned_worker():
    with zygote_workers() as zygote:
        assert zygote is not None
        score, _, feedback = graded("hw5", source("hw5/reference_copy.py"))
    assert score == 20, feedback
