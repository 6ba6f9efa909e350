"""A disk cache of solutions, so that a symbolic solve (sympy integration: gan, derived_distribution, elbo,
gradient_descent's symbolic route) is paid once per machine, not once per run.

Solvers are pure functions of their parameters, so a solution is stored under the SHA-256 of the kind, the
canonical JSON of its parameters and a fingerprint of the code that computed it (every source file of the
`solvers` package and the versions of Python, sympy and numpy): editing a solver, or upgrading sympy,
changes every key, and stale entries are simply never read again.

Entries are pickles in the `solutions` folder of `solvers.store` (private to this user, checksummed,
written atomically; `NNEXAM_CACHE=0` turns it off): a pickle is only ever read from a folder nobody else
can write, after its checksum matches. Only solutions that took at least `MIN_SOLVE_SECONDS` are stored
(reading a cheap numeric kind back costs as much as solving it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
import platform
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from . import store
from .core import Solution

FOLDER = "solutions"
MIN_SOLVE_SECONDS = 0.02


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """A hash of the code a solution depends on: the solvers package's sources and the library versions."""
    digest = hashlib.sha256()
    store.digest_tree(digest, Path(__file__).resolve().parent, (".py",))
    for dist in ("sympy", "numpy"):
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{dist}={version}\0".encode())
    digest.update(f"python={platform.python_version()} {sys.implementation.name}".encode())
    return digest.hexdigest()


def key(kind: str, params_json: str) -> str:
    return hashlib.sha256(f"{fingerprint()}\0{kind}\0{params_json}".encode()).hexdigest()


def load(kind: str, params_json: str) -> Solution | None:
    """The stored solution, or None when there is none or it cannot be trusted (never raises)."""
    payload = store.read(FOLDER, key(kind, params_json))
    if payload is None:
        return None
    try:
        solution = pickle.loads(payload)
    except Exception:  # an entry written by an incompatible version: solve again and overwrite it
        return None
    return solution if isinstance(solution, Solution) else None


def save(kind: str, params_json: str, solution: Solution) -> None:
    """Store `solution` if it reads back identical: same types, same values, and every sympy expression with
    the same tree (args in the same order, unevaluated ones still unevaluated), so a cached solution prints
    exactly as a fresh one."""
    if not store.enabled():
        return
    try:
        buffer = io.BytesIO()
        pickler = _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dump(solution)
        payload = buffer.getvalue()
        # the pickler has pictured every node of `solution` already; the copy read back gets its own memo
        # (sympy shares subtrees, so without one a shared node is pictured once per occurrence)
        if structure(pickle.loads(payload), {}) != structure(solution, pickler.pictures):
            return
    except Exception:  # a value that does not pickle or read back: keep it in process only
        return
    store.write(FOLDER, key(kind, params_json), payload)


class _Pickler(pickle.Pickler):
    """Pickles a compound sympy expression as its class and args, rebuilt the way that gives the same tree back:
    sympy's own pickling rebuilds `cls(*args)` evaluated, which turns a step's unevaluated `(x_1 + x_2)/2`
    into `x_1/2 + x_2/2`; rebuilding without evaluation keeps it (but would turn an Integral's integrand
    `2 - 2t` into `1*(2 - 2t)`), so each node is rebuilt unevaluated where that is faithful, else evaluated."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the structure of every sympy node seen, by identity (each node is held, so no id is reused): each
        # node's check then costs its own arity, not its whole subtree again (quadratic in the depth)
        self.pictures: dict[int, tuple[Any, Any]] = {}  # not `memo`: that is the pickle memo

    def reducer_override(self, obj):
        if not isinstance(obj, sp.Basic) or obj.is_Atom or not obj.args:
            return NotImplemented
        if _faithful(lambda: type(obj)(*obj.args), obj, self.pictures):
            return NotImplemented  # sympy's own pickling, which rebuilds it evaluated
        if _faithful(lambda: rebuild_unevaluated(type(obj), obj.args), obj, self.pictures):
            return rebuild_unevaluated, (type(obj), obj.args)
        return NotImplemented  # `save` then finds the solution does not read back identical


def _faithful(rebuilt: Callable[[], Any], original: Any, memo: dict[int, tuple[Any, Any]] | None = None) -> bool:
    try:
        return structure(rebuilt(), memo) == structure(original, memo)
    except Exception:
        return False


def rebuild_unevaluated(cls: type, args: tuple) -> Any:
    try:
        return cls(*args, evaluate=False)  # no global switch: setting sympy's `evaluate` clears its cache
    except TypeError:
        with sp.evaluate(False):
            return cls(*args)


_PLAIN = (float, int, bool, type(None))


def structure(value: Any, memo: dict[int, tuple[Any, Any]] | None = None) -> Any:
    """A comparable picture of a solution value: sympy trees arg by arg, arrays with dtype and shape, dataclass
    fields, containers item by item, everything else by type and repr. `memo` (id -> (node, picture)) keeps
    the pictures of sympy nodes across calls."""
    if isinstance(value, sp.Basic):
        if memo is not None and id(value) in memo:
            return memo[id(value)][1]
        if value.is_Atom or not value.args:
            picture = ("atom", sp.srepr(value))
        else:
            picture = (type(value).__name__, tuple(structure(a, memo) for a in value.args))
        if memo is not None:
            memo[id(value)] = (value, picture)
        return picture
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.shape, repr(value.tolist()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple((f.name, structure(getattr(value, f.name), memo))
                                           for f in dataclasses.fields(value)))
    if isinstance(value, dict):
        return ("dict", tuple((structure(k, memo), structure(v, memo)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        if all(type(v) in _PLAIN for v in value):  # a figure's curve: hundreds of floats, one repr
            return (type(value).__name__, "plain", repr(value))
        return (type(value).__name__, tuple(structure(v, memo) for v in value))
    if isinstance(value, str):
        return (type(value).__name__, getattr(value, "code", None), str(value))
    return (type(value).__name__, repr(value))


def solve_through(kind: str, params_json: str, solve: Callable[[], Solution]) -> Solution:
    """`solve()`, or the stored solution of the same kind, parameters and code."""
    solution = load(kind, params_json)
    if solution is not None:
        return solution
    start = time.perf_counter()
    solution = solve()
    if time.perf_counter() - start >= MIN_SOLVE_SECONDS:
        save(kind, params_json, solution)
    return solution
