"""The registry of problem kinds: one solver function per kind, found by name.

A kind is any module of the `solvers` package that calls `@register`; on the registry's first use every module
of the package is imported once (helpers register nothing), so a new kind needs no list to be added to.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .core import Solution
from .errors import UnknownKindError
from .params import mapping


@dataclass
class Kind:
    """A registered kind. `required_terms`: for an answer field that is a record of the terms of a derivation,
    the terms a derivation must keep because they depend on what is optimized (the audit checks a key's
    `terms:` claim against them; without an entry, every term is required)."""

    name: str
    solver: Callable[[dict[str, Any]], Solution]
    summary: str
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)


_KINDS: dict[str, Kind] = {}
_discovered = False


def _discover() -> None:
    """Import every module of the package once, so that each kind's `@register` has run."""
    global _discovered
    if _discovered:
        return
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__package__}.{module.name}")
    _discovered = True


def register(name: str, summary: str, examples: dict[str, dict[str, Any]] | None = None,
             required_terms: dict[str, tuple[str, ...]] | None = None):
    """Register `solver(params) -> Solution` under `name`. `examples` are named parameter sets (the seeds'
    worked examples first) that the shared test suite, the benchmarks and `nnexam kinds` use;
    `required_terms` is described at `Kind`."""

    def decorate(solver: Callable[[dict[str, Any]], Solution]):
        if name in _KINDS:
            raise RuntimeError(f"problem kind {name!r} registered twice")
        _KINDS[name] = Kind(name, solver, summary, dict(examples or {}), dict(required_terms or {}))
        return solver

    return decorate


def kinds() -> list[str]:
    _discover()
    return sorted(_KINDS)


def kind_info(name: str) -> Kind:
    _discover()
    if name not in _KINDS:
        raise UnknownKindError(f"unknown problem kind {name!r}; the known kinds are: {', '.join(kinds())}")
    return _KINDS[name]


def solve(kind: str, params: Any) -> Solution:
    """Solve one problem: validate `params` for `kind`, return the steps and the answer."""
    info = kind_info(kind)
    solution = info.solver(dict(mapping(params)))
    solution.kind = kind
    return solution
