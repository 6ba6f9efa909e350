"""Independent oracles, one per problem kind: `ORACLES[kind](params) -> dict of answer fields`.

An oracle recomputes the answer by another route (direct numpy loops, torch autograd, sympy, Monte Carlo)
and never copies numbers from a key. Each module here defines `ORACLES = {kind: function}`; they are
merged automatically. tests/test_kinds.py compares, for every registered example, each field an oracle
returns with the solver's JSON answer: expressions by sympy (the difference simplifies to 0), booleans
exactly, numbers with numpy's assert_allclose (rtol 1e-6, atol 1e-8).
"""

from __future__ import annotations

import importlib
import pkgutil

ORACLES = {}

for _module in pkgutil.iter_modules(__path__):
    _mod = importlib.import_module(f"{__name__}.{_module.name}")
    ORACLES.update(getattr(_mod, "ORACLES", {}))
