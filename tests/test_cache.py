"""The disk caches of solutions (`solvers.cache`) and of rendered documents (`nnexam.documents_cache`): a cached
solution equals and prints as a fresh one, a stored rendering is copied back byte for byte without importing
sympy, a corrupt or untrusted entry is never read, `NNEXAM_CACHE=0` turns them off; and rendering never
imports torch, otter or the autograder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import solvers
from nnexam import documents_cache
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
    assert oct((folder / "solutions").stat().st_mode & 0o777) == "0o700"
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
    entry = folder / "solutions" / cache.key(KIND, params)
    data = entry.read_bytes()
    assert cache.load(KIND, params) is not None
    for broken in (data[: len(data) // 2], data[:-1] + bytes([data[-1] ^ 1]), b"garbage", b""):
        entry.write_bytes(broken)
        assert _solve(params, calls).to_json() == good.to_json()
        assert cache.load(KIND, params).to_json() == good.to_json()  # rewritten whole
    assert len(calls) == 5


def test_a_folder_others_can_write_is_never_read(folder, monkeypatch):
    monkeypatch.setattr(cache, "MIN_SOLVE_SECONDS", 0.0)
    params, calls = _params(), []
    _solve(params, calls)
    os.chmod(folder / "solutions", 0o777)
    try:
        _solve(params, calls)
        assert len(calls) == 2
    finally:
        os.chmod(folder / "solutions", 0o700)
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


RENDER = (
    "import sys\n"
    "from nnexam.cli import main\n"
    "try:\n"
    "    main(['render', 'mock-final', '-o', sys.argv[1]])\n"
    "except SystemExit as exc:\n"
    "    assert not exc.code, exc.code\n"
    "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'otter', 'autograder')))\n"
    "print('sympy' in sys.modules)\n"
)


def _render(out: Path, cache_dir: Path, **env) -> bool:
    """Render mock-final into `out` in a new process; returns whether it imported sympy."""
    environ = dict(os.environ, PYTHONPATH=str(ROOT), NNEXAM_CACHE_DIR=str(cache_dir), **env)
    done = subprocess.run([sys.executable, "-c", RENDER, str(out)], capture_output=True, text=True, cwd=ROOT,
                          env=environ, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "mock-final (original): wrote" in done.stdout
    *_, heavy, sympy = done.stdout.strip().splitlines()
    assert heavy == "[]", f"rendering imported {heavy}"  # never torch, otter or the autograder
    return sympy == "True"


def test_a_rendering_is_stored_and_copied_back_byte_for_byte(tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    assert _render(tmp_path / "first", cache_dir)
    names = sorted(p.name for p in (tmp_path / "first").iterdir())
    assert names == ["key.json", "problems.pdf", "solutions.pdf"]
    assert not _render(tmp_path / "second", cache_dir)  # a hit: no solving, no sympy
    for name in names:
        assert (tmp_path / "second" / name).read_bytes() == (tmp_path / "first" / name).read_bytes(), name
    assert not list((tmp_path / "second").glob(".*"))  # no temporary file left behind
    (entry,) = (cache_dir / "documents").iterdir()
    entry.write_bytes(entry.read_bytes()[:-100])  # truncated: ignored, rendered again, rewritten
    assert _render(tmp_path / "third", cache_dir)
    assert not _render(tmp_path / "fourth", cache_dir)
    assert (tmp_path / "fourth" / "solutions.pdf").read_bytes() == (tmp_path / "third" / "solutions.pdf").read_bytes()
    request = {"assignment": "mock-final", "seed": None, "format": "pdf", "redraws": {}}
    monkeypatch.setenv("NNEXAM_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("NNEXAM_CACHE", raising=False)
    assert documents_cache.load(request) is not None
    monkeypatch.setenv("NNEXAM_CACHE", "0")
    assert documents_cache.load(request) is None  # off: nothing is read


class _NoFigures:
    def add(self, figure):
        return None


@pytest.mark.parametrize("kind", ["gan_generator", "gan_discriminator", "derived_distribution", "lloyd",
                                  "attention", "gradient_descent"])
def test_a_cached_solution_prints_exactly_as_a_fresh_one(kind, folder, monkeypatch):
    """sympy's own pickling re-evaluates expressions ((x_1 + x_2)/2 came back as x_1/2 + x_2/2): every
    example, read back from the cache, must give the same Typst as the fresh solution."""
    from solvers.registry import kind_info
    from templates.render import solution_context

    monkeypatch.setattr(cache, "MIN_SOLVE_SECONDS", 0.0)
    for name, example in kind_info(kind).examples.items():
        params = json.dumps(example, sort_keys=True)
        fresh = solvers.solve(kind, json.loads(params))
        cache.save(kind, params, fresh)
        stored = cache.load(kind, params)
        assert stored is not None, name
        assert solution_context(stored, "typst", _NoFigures()) == solution_context(fresh, "typst", _NoFigures()), name


def test_an_entry_that_is_a_symlink_or_writable_by_others_is_not_read(tmp_path, monkeypatch):
    """Only entries this user wrote are trusted: a symlink in place of an entry (to a file someone else
    controls) and an entry others may write are ignored, read through descriptors checked after opening."""
    from solvers import store

    monkeypatch.setenv("NNEXAM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NNEXAM_CACHE", raising=False)
    store.write("probe", "good", b"payload")
    assert store.read("probe", "good") == b"payload"
    folder = tmp_path / "cache" / "probe"
    planted = tmp_path / "planted"
    planted.write_bytes((folder / "good").read_bytes())
    (folder / "link").symlink_to(planted)
    assert store.read("probe", "link") is None
    (folder / "good").chmod(0o666)
    assert store.read("probe", "good") is None


def test_compiled_templates_are_kept_and_read_back_as_the_same_code(folder):
    """jinja2's compiled code is kept in the private store ("templates"): a new environment reads it back
    instead of compiling, renders exactly what a fresh compile renders, and a setting that changes the
    generated code (here the delimiters), a different source or a corrupt entry never reuses an entry."""
    import jinja2

    from templates.render import environment

    source = "<% for v in values %><< v | math >>, <% endfor %>{{ literal }} <# note #>done"
    first = environment("typst").from_string(source).render(values=[1, 2.5, "x"])
    entries = sorted((folder / "templates").iterdir())
    assert len(entries) == 1 and oct((folder / "templates").stat().st_mode & 0o777) == "0o700"
    calls = []
    real = jinja2.Environment.compile

    def counting(self, *args, **kwargs):
        calls.append(args[0] if args else kwargs.get("source"))
        return real(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jinja2.Environment, "compile", counting)
        again = environment("typst").from_string(source).render(values=[1, 2.5, "x"])
    assert again == first and calls == []  # read back: jinja2's compiler was not called
    # the independent route: jinja2 itself, no cache
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NNEXAM_CACHE", "0")
        assert environment("typst").from_string(source).render(values=[1, 2.5, "x"]) == first
    # another setting that changes the generated code: another entry
    environment("typst", keep_trailing_newline=False).from_string(source).render(values=[])
    assert len(list((folder / "templates").iterdir())) == 2
    # a corrupt entry is ignored and the template compiled again
    entries[0].write_bytes(entries[0].read_bytes()[:-5] + b"xxxxx")
    assert environment("typst").from_string(source).render(values=[1, 2.5, "x"]) == first
