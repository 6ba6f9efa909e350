"""Glitches a reader of the solution PDFs noticed (issue 14), each checked where it shows: in the Typst or LaTeX
source the printers write, or in the compiled PDF's words and their positions."""

from __future__ import annotations

import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

from assignments.core import build, load
from assignments.documents import document_context
from assignments.markup import helpers
from solvers import solve
from solvers.core import Sym
from solvers.registry import kind_info
from templates.mathprint import equation, fmt, fmt_inline, name_text
from templates.render import FigureSink, answer_lines, render_solution, render_template


def _mock_final_source(target: str, solutions: bool) -> str:
    variant = build(load("mock_final"))
    return render_template("assignment", document_context(variant, target, FigureSink(None), solutions), target)


def test_no_asymmetric_spacing_around_equals_in_statements():
    """`mx("G(z) = ")` followed by `ex("z")` is one maths, not "G(z) =z" (nor `$$`, display maths to TeX)."""
    for target in ("typst", "latex"):
        source = _mock_final_source(target, False)
        assert not re.search(r"(?<!\\)\$\$", source), target
    typst = _mock_final_source("typst", False)
    assert re.search(r"\$G\(z\) = +z\$", typst) and re.search(r"\$f_X \(x\) = +2 - 2 x\$", typst)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_points_and_statement_are_apart_on_a_justified_line(tmp_path):
    """The words' boxes in the PDF: "(2.5 pts)" and the statement's first word are at least a fixed gap apart,
    however much justification squeezes the line ("(2.5 pts)In your homework" before)."""
    variant = build(load("mock_final"))
    from assignments.documents import write

    pdf = write(variant, tmp_path, "pdf", ("problems",))[1]
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words = [(float(m[0]), float(m[1]), float(m[2]), m[3])
             for m in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
                                 html)]
    gaps = [words[i + 1][0] - w[2] for i, w in enumerate(words[:-1])
            if w[3] == "pts)" and abs(words[i + 1][1] - w[1]) < 3]
    assert len(gaps) >= 10
    assert min(gaps) >= 4.5, gaps  # 0.6em of 10.5pt text, not a squeezed space


def test_notes_said_in_a_step_are_not_listed_again():
    sol = solve("competitive", kind_info("competitive").examples["mock_final_q2"])
    source = render_solution(sol, "typst")
    assert sol.warnings
    for warning in sol.warnings:
        said = re.sub(r"\$[^$]*\$", "", str(warning)).split(":")[0]  # e.g. "epoch 2, point 3"
        assert source.lower().count(said.lower()) >= 1
    assert "#warn[" not in source  # each one is in its epoch's text already


def test_an_equation_chain_does_not_repeat_a_term():
    assert equation([Sym("alpha"), Fraction(9, 10), 0.9], "typst") == "alpha = 0.9"
    assert equation([Sym("x"), sp.Rational(1, 3), 1 / 3], "typst") == "x = 1/3 = 0.3333"


def test_answer_boxes_count_clusters_from_one_like_the_prose():
    sol = solve("lloyd", kind_info("lloyd").examples["mock_final_q1"])
    shown = "(" + ", ".join(str(a + 1) for a in sol.answer["final_assignments"]) + ")"
    assert any(line.endswith(f"= {shown}") for line in answer_lines(sol, "typst"))
    comp = solve("competitive", kind_info("competitive").examples["mock_final_q2"])
    shown = "(" + ", ".join(str(a + 1) for a in comp.answer["clusters"]) + ")"
    assert any(line.endswith(f"= {shown}") for line in answer_lines(comp, "typst"))
    assert solve("lloyd", kind_info("lloyd").examples["mock_final_q1"]).to_json()["answer"]["final_assignments"] \
        == sol.answer["final_assignments"]  # JSON stays 0-based


def test_expression_strings_are_typeset_not_printed_raw():
    m = helpers("typst")["m"]
    assert m("26*w1 - 10*w2 + 4") == "$26 w_(1) - 10 w_(2) + 4$"
    assert helpers("latex")["m"]("26*w1 - 10*w2 + 4") == "$26 w_{1} - 10 w_{2} + 4$"
    assert m("final centres") == '$"final centres"$'


def test_signed_terms_keep_their_written_order_and_sign():
    U = sp.UnevaluatedExpr
    lead_negative = sp.Add(U(sp.Float(-0.08)), -U(sp.Float(0.02)) * U(sp.Float(1.52)), evaluate=False)
    lead_positive = sp.Add(U(sp.Float(0.5)), -U(sp.Float(0.02)) * U(sp.Float(1.52)), evaluate=False)
    assert fmt(lead_negative, "typst") == "-0.08 - 0.02 dot 1.52"
    assert fmt(lead_positive, "typst") == "0.5 - 0.02 dot 1.52"
    assert fmt(lead_positive, "latex") == r"0.5 - 0.02 \cdot 1.52"
    assert fmt(lead_negative, "text") == "-0.08 - 0.02*1.52"


def test_tall_column_vectors_are_not_set_inline():
    assert fmt_inline([1, 1, 2, 2], "typst") == "(1, 1, 2, 2)^T"
    assert fmt_inline(sp.Matrix([1, 2, 3]), "latex") == "(1, 2, 3)^{T}"
    assert fmt_inline([0, 1], "typst") == fmt([0, 1], "typst")  # two entries stay a column, as exams write them
    source = _mock_final_source("typst", True)
    assert not re.search(r"\$vec\([^$]*,[^$]*,[^$]*\)\$", source)  # no 3+ entry column inline in the prose


def test_log_det_is_a_word_not_a_log_to_the_base_det():
    assert name_text("log_det", "typst") == '"log-det"'
    assert name_text("log_det", "latex") == r"\text{log-det}"


def test_the_generator_check_says_what_it_checks():
    sol = solve("gan_generator", kind_info("gan_generator").examples["mock_final_q5b"])
    titles = [s.title for s in sol.steps]
    assert "Check: $F(G(z)) = z$" in titles
    assert not any("undoes the inverse" in s.text for s in sol.steps)


def test_mock_final_solutions_have_no_ascii_maths(tmp_path):
    """The issue's own measure (/work/shared/hooks/typeset_signal.py's pattern) on the mock final's worked
    solutions: no line of ASCII mathematics in the text of the steps, for every mock-final kind."""
    pattern = re.compile(r"<=|>=|<-|->|sqrt\(|\^|[A-Za-z0-9)]_[A-Za-z0-9{(]|\b(eta|alpha|delta|sigma|phi|lambda|mu|"
                         r"Sigma|theta|epsilon)\b|\bsum_|\bd[a-zA-Z]+/d[a-zA-Z]|\bexp\(|[0-9a-z)]\*[0-9a-z(]")
    from pypdf import PdfReader

    for kind in ("lloyd", "competitive", "conv1x1_backprop", "elbo_gaussian", "gan_discriminator", "gan_generator",
                 "rnn", "attention"):
        name, params = next(iter(kind_info(kind).examples.items()))
        out = Path(render_solution(solve(kind, params), "pdf", tmp_path / f"{kind}.pdf"))
        text = "".join(page.extract_text() for page in PdfReader(str(out)).pages)
        bad = [line for line in text.splitlines() if pattern.search(line)]
        assert not bad, (kind, name, bad[:3])


def test_answer_names_keep_their_spaces_in_latex():
    """`\\mathrm{final weights}` reads "finalweights" (maths mode drops spaces)."""
    assert name_text("final weights", "latex") == r"\text{final weights}"


def test_answer_strings_are_parsed_without_evaluating_python(tmp_path):
    """An answer box typesets an expression string through the guarded parser: a string that is Python code
    stays text and runs nothing (a key or answer file is data)."""
    from templates.mathprint import expression_value

    marker = tmp_path / "ran"
    for payload in (f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')",
                    "exec('1')", "().__class__"):
        assert expression_value(payload) == payload
    assert not marker.exists()
    assert str(expression_value("26*w1 - 10*w2 + 4")) == "26*w1 - 10*w2 + 4"
