"""The disk cache of solutions (`solvers.cache`) and what rendering imports: a cached solution equals a fresh
one, a corrupt or untrusted entry is never read, `NNEXAM_CACHE=0` turns it off, and rendering never imports
torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import solvers
from solvers import cache

ROOT = Path(__file__).resolve().parent.parent
KIND = "gan_generator"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("NNEXAM_CACHE_DIR", str(path))
    monkeypatch.delenv("NNEXAM_CACHE", raising=False)
    return path


def _params() -> str:
    from solvers.registry import kind_info

    return json.dumps(kind_info(KIND).examples["mock_final_q5b"], sort_keys=True)


def _solve(params: str, calls: list[int]):
    def solve():
        calls.append(1)
        return solvers.solve(KIND, json.loads(params))

    return cache.solve_through(KIND, params, solve)


def test_a_stored_solution_is_read_back_instead_of_solving_again(folder, monkeypatch):
    monkeypatch.setattr(cache, "MIN_SOLVE_SECONDS", 0.0)
    params, calls = _params(), []
    first = _solve(params, calls)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    second = _solve(params, calls)
    assert calls == [1]
    assert second is not first
    assert second.to_json() == first.to_json()
    assert second.exact == first.exact and second.details == first.details
    # an independent route: the stored solution equals a solve with the cache off
    monkeypatch.setenv("NNEXAM_CACHE", "0")
    assert solvers.solve(KIND, json.loads(params)).to_json() == second.to_json()


def test_a_corrupt_entry_is_ignored_and_rewritten(folder, monkeypatch):
    monkeypatch.setattr(cache, "MIN_SOLVE_SECONDS", 0.0)
    params, calls = _params(), []
    good = _solve(params, calls)
    entry = folder / cache.key(KIND, params)
    data = entry.read_bytes()
    for broken in (data[: len(data) // 2], data[:-1] + bytes([data[-1] ^ 1]), b"garbage", b""):
        entry.write_bytes(broken)
        assert _solve(params, calls).to_json() == good.to_json()
        assert entry.read_bytes() == data  # rewritten whole
    assert len(calls) == 5


def test_a_folder_others_can_write_is_never_read(folder, monkeypatch):
    monkeypatch.setattr(cache, "MIN_SOLVE_SECONDS", 0.0)
    params, calls = _params(), []
    _solve(params, calls)
    os.chmod(folder, 0o777)
    try:
        _solve(params, calls)
        assert len(calls) == 2
    finally:
        os.chmod(folder, 0o700)
    _solve(params, calls)
    assert len(calls) == 2


def test_cache_off_writes_nothing(folder, monkeypatch):
    monkeypatch.setattr(cache, "MIN_SOLVE_SECONDS", 0.0)
    monkeypatch.setenv("NNEXAM_CACHE", "0")
    calls: list[int] = []
    _solve(_params(), calls)
    _solve(_params(), calls)
    assert len(calls) == 2 and not folder.exists()


def test_the_key_depends_on_kind_params_and_code(monkeypatch):
    params = _params()
    assert cache.key(KIND, params) != cache.key("gan_discriminator", params)
    assert cache.key(KIND, params) != cache.key(KIND, params.replace("uniform", "normal"))
    before = cache.key(KIND, params)
    cache.fingerprint.cache_clear()
    monkeypatch.setattr(cache.metadata, "version", lambda dist: "0.0-other")
    try:
        assert cache.key(KIND, params) != before
    finally:
        monkeypatch.undo()
        cache.fingerprint.cache_clear()


def test_rendering_imports_neither_torch_nor_the_autograder(tmp_path):
    script = (
        "import sys\n"
        "from nnexam.cli import main\n"
        "try:\n"
        f"    main(['render', 'mock-final', '-o', {str(tmp_path / 'out')!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'otter', 'autograder')))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), NNEXAM_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "solutions.pdf").stat().st_size > 0
