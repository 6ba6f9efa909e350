"""Symbolic and numeric solvers, one registered kind per problem type (see `solvers/CATALOG.md`).

    from solvers import solve
    sol = solve("lloyd", {"points": [[0, 1], [1, 1]], "initial_indices": [0, 1]})

Importing the package is cheap: `solvers.errors` (the base error of every floor) loads nothing else, and the
names below load their modules (numpy, sympy) on first use. The kinds are found on the registry's first use.
"""

import importlib

from .errors import NnexamError, ParamError, UnknownKindError

_LAZY = {"Figure": "core", "Solution": "core", "Step": "core", "Sym": "core", "Table": "core", "to_json": "core",
         "kind_info": "registry", "kinds": "registry", "register": "registry", "solve": "registry"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["NnexamError", "ParamError", "UnknownKindError", *_LAZY]
