"""The contract travels with the code: solvers/CATALOG.md (package data) against the registry, and
`nnexam kinds KIND` printing it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import solvers
from solvers import catalog
from solvers.core import exact_field

# What a kind does that its catalog row does not name (the catalog is the contract: name each gap here).
UNLISTED = {
    "rnn": {"cell0", "cells"},  # the LSTM's initial cell state and its cell states (rnn's docstring has them)
}


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def test_every_registered_kind_has_a_row_and_every_row_a_kind():
    rows = {r.kind for r in catalog.rows() if r.section in ("kinds", "new kinds")}
    registered = set(solvers.kinds())
    assert registered <= rows, f"registered kinds without a row in the catalog: {sorted(registered - rows)}"
    assert rows <= registered, f"catalog rows that name no registered kind: {sorted(rows - registered)}"


def test_extension_rows_extend_registered_kinds():
    for row in catalog.rows():
        if row.variant:
            assert row.kind in solvers.kinds(), row


@pytest.mark.parametrize("kind", solvers.kinds())
def test_the_row_names_every_param_and_answer_field(kind):
    base = catalog.rows_of(kind)  # its own row and the rows of its extensions (backprop's minibatch, ...)
    params_text = " ".join(r.params for r in base)
    for other in re.findall(r"as `(\w+)`|the simple-cell `(\w+)` params", params_text):  # "as `forward_pass`, ..."
        params_text += " " + " ".join(r.params for name in other if name for r in catalog.rows_of(name)
                                      if not r.variant)
    answer_text = " ".join(r.answer for r in base)
    info = solvers.kind_info(kind)
    example = next(iter(info.examples.values()))
    with pytest.raises(solvers.ParamError) as refused:
        solvers.solve(kind, {**example, "no_such_field": 1})
    accepted = str(refused.value).split("the fields here are: ")[1].split(", ")
    missing = set(accepted) - _words(params_text) - UNLISTED.get(kind, set())
    assert not missing, f"{kind} takes params the catalog does not name: {sorted(missing)}"
    fields = set()
    for params in info.examples.values():
        solution = solvers.solve(kind, params)
        fields |= set(solution.answer) - {exact_field(name) for name in solution.exact}
    missing = fields - _words(answer_text) - UNLISTED.get(kind, set())
    assert not missing, f"{kind} answers fields the catalog does not name: {sorted(missing)}"


def test_the_catalog_is_package_data():
    text = catalog.text()
    assert "## New kinds" in text and "| `lloyd` |" in text


def nnexam_kinds(*args):
    return subprocess.run([sys.executable, "-m", "nnexam.cli", "kinds", *args], capture_output=True, text=True,
                          timeout=300)


def test_nnexam_kinds_kind_prints_the_contract():
    out = nnexam_kinds("backprop")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("backprop: Backpropagation")
    assert "params: as forward_pass, with target and loss required" in out.stdout
    assert "answer (minibatch): as backprop, plus penalty" in out.stdout
    assert "notes:\n  - (minibatch) batch loss" in out.stdout
    pending = nnexam_kinds("pca")
    assert pending.returncode == 0 and "answer: mean, covariance" in pending.stdout
    listing = nnexam_kinds()
    assert listing.returncode == 0 and len(listing.stdout.splitlines()) == len(solvers.kinds())
    unknown = nnexam_kinds("nope")
    assert unknown.returncode == 2 and unknown.stderr.startswith("nnexam: error: unknown problem kind 'nope'")
