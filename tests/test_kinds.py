"""One suite over every registered problem kind (scikit-learn's check_estimator, for solvers):
each example solves, serializes to JSON, renders as text, Typst and LaTeX, compiles to a PDF whose
answer block holds every number of the answer as the printer writes it, and agrees with an independent
oracle."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from pypdf import PdfReader

import solvers
from solvers.core import exact_field
from templates.render import answer_lines, render_solution
from tests.oracles import ORACLES

CASES = [(kind, label) for kind in solvers.kinds() for label in solvers.kind_info(kind).examples]


def test_every_kind_has_an_example_and_an_oracle():
    for kind in solvers.kinds():
        assert solvers.kind_info(kind).examples, f"{kind} has no example"
        assert kind in ORACLES, f"{kind} has no oracle in tests/oracles"


@pytest.mark.parametrize(("kind", "label"), CASES)
def test_example_solves_serializes_and_matches_the_oracle(kind, label):
    params = solvers.kind_info(kind).examples[label]
    solution = solvers.solve(kind, params)
    data = json.loads(json.dumps(solution.to_json()))
    assert set(data) == {"kind", "params", "answer", "steps", "warnings"}
    assert data["kind"] == kind and data["steps"]
    expected = ORACLES[kind](params)
    for field, value in expected.items():
        actual = data["answer"][field]
        if isinstance(value, str):
            import sympy as sp

            assert sp.simplify(sp.sympify(actual) - sp.sympify(value)) == 0, field
        elif isinstance(value, bool):
            assert actual == value, field
        else:
            np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(value, dtype=float),
                                       rtol=1e-6, atol=1e-8, err_msg=f"{kind}.{field}")


@pytest.mark.parametrize(("kind", "label"), CASES)
def test_exact_values_are_data_for_the_documents(kind, label):
    """The documents print `Solution.exact`: every JSON copy `<field>_exact` and every expression string of the
    answer must come with its value as data there (the renderer parses no string back)."""
    import sympy as sp

    solution = solvers.solve(kind, solvers.kind_info(kind).examples[label])
    copies = {exact_field(name) for name in solution.exact}
    for field, value in solution.answer.items():
        if field.endswith("_exact"):
            assert field in copies, f"{kind}.{field}: its exact value is missing from Solution.exact"
        elif isinstance(value, str):
            assert isinstance(solution.exact.get(field), sp.Basic), f"{kind}.{field}: no expression in Solution.exact"
    for name, value in solution.exact.items():
        assert name in solution.answer, f"{kind}: Solution.exact names {name!r}, which the answer does not have"
        if exact_field(name) in solution.answer:
            assert solution.answer[exact_field(name)] == json.loads(json.dumps(_strings(value))), name


def _strings(value):
    return [_strings(v) for v in value] if isinstance(value, (list, tuple)) else (
        {k: _strings(v) for k, v in value.items()} if isinstance(value, dict) else str(value))


@pytest.mark.parametrize(("kind", "label"), CASES)
def test_example_renders_in_every_format(kind, label, tmp_path):
    solution = solvers.solve(kind, solvers.kind_info(kind).examples[label])
    assert solution.kind.replace("_", " ") in render_solution(solution, "text")
    tex = render_solution(solution, "tex", tmp_path / "s.tex").read_text()
    assert r"\begin{document}" in tex and r"\end{document}" in tex
    pdf = render_solution(solution, "pdf", tmp_path / "s.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages).replace("\u2212", "-")
    assert "Answer" in text
    answer_block = text.split("Answer")[-1]
    for number in answer_numbers(solution):
        assert number in answer_block, f"{kind}/{label}: {number} is not in the PDF's answer block"


def answer_numbers(solution) -> list[str]:
    """The digits of every number in the answer block as the printer writes it (the text target prints the
    same numbers as Typst: 4 significant digits, fractions, roots), signs and exponent zeros aside."""
    numbers = []
    for line in answer_lines(solution, "text"):
        for token in re.findall(r"\d+(?:\.\d+)?", line.split(" = ", 1)[1]):
            numbers.append(str(int(token)) if token.isdigit() else token)  # 1.67e-05 is set as 1.67 dot 10^(-5)
    return numbers
