"""Independent oracles, one per problem kind: `ORACLES[kind](params) -> dict of answer fields`.

An oracle recomputes the answer by another route (direct numpy loops, torch autograd, sympy, Monte Carlo)
and never copies numbers from a key. Each module here defines `ORACLES = {kind: function}`; they are
merged automatically. `compare(kind, answer, expected)` checks the fields the oracle returns.
"""

from __future__ import annotations

import importlib
import pkgutil

ORACLES = {}

for _module in pkgutil.iter_modules(__path__):
    _mod = importlib.import_module(f"{__name__}.{_module.name}")
    ORACLES.update(getattr(_mod, "ORACLES", {}))
