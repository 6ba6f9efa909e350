"""Symbolic and numeric solvers, one registered kind per problem type (see CATALOG.md).

    from solvers import solve
    sol = solve("lloyd", {"points": [[0, 1], [1, 1]], "initial_indices": [0, 1]})
"""

import importlib
import pkgutil

from .core import Figure, Solution, Step, Sym, Table, to_json
from .errors import NnexamError, ParamError, UnknownKindError
from .registry import kind_info, kinds, register, solve

_INFRASTRUCTURE = {"core", "errors", "params", "registry", "numeric", "networks", "densities"}  # helpers, not kinds

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _INFRASTRUCTURE and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "Figure", "NnexamError", "ParamError", "Solution", "Step", "Sym", "Table", "UnknownKindError",
    "kind_info", "kinds", "register", "solve", "to_json",
]
