"""`--format tex` compiles with a real TeX: every assignment's problems and solutions, and a few kinds'
solutions (figures included, converted to PDF for `\\includegraphics`), each compiled once by pdflatex. The
PDFs' text holds the answers the key gives. Skipped, with the reason, where no pdflatex is on PATH (`.ci/run`
installs Debian's texlive packages when it can)."""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pypdf import PdfReader

import solvers
from assignments import build, load, write
from templates.mathprint import fmt
from templates.render import render_solution
from tests.pdfcheck import figure_count, pdf_text

PDFLATEX = shutil.which("pdflatex")
pytestmark = pytest.mark.skipif(PDFLATEX is None, reason="no pdflatex on PATH (Debian: apt-get install "
                                "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended)")

ASSIGNMENTS = ["mock-final", "hw5", "hw6", "hw7", "practice"]
KINDS = ["gradient_descent", "lloyd", "conv2d", "backprop", "gmm_em", "bptt", "batchnorm"]


def compile_tex(tex: Path) -> tuple[Path, str]:
    """pdflatex once, in the source's folder; the PDF and the log's error lines (empty when it compiled)."""
    done = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", tex.name],
                          cwd=tex.parent, capture_output=True, text=True, timeout=600)
    log = tex.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    errors = "\n".join(line for line in log.splitlines() if line.startswith("!"))
    if done.returncode != 0 and not errors:
        errors = done.stdout[-2000:]
    return tex.with_suffix(".pdf"), errors


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """{(name, document): (pdf, errors)} for every assignment's problems and solutions and each kind in KINDS."""
    sources = {}
    for name in ASSIGNMENTS:
        folder = tmp_path_factory.mktemp(name)
        write(build(load(name), None), folder, fmt="tex")
        sources[(name, "problems")] = folder / "problems.tex"
        sources[(name, "solutions")] = folder / "solutions.tex"
    for kind in KINDS:
        folder = tmp_path_factory.mktemp(kind)
        label, params = next(iter(solvers.kind_info(kind).examples.items()))
        sources[(kind, label)] = render_solution(solvers.solve(kind, params), "tex", folder / f"{kind}.tex")
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(sources, pool.map(compile_tex, sources.values()), strict=True))


def distinctive_numbers(answer: dict) -> list[str]:
    """Non-integer numbers of an answer as the printers show them (4 significant digits), from the fields
    printed as decimals (a field with an `_exact` twin is printed as an exact fraction instead); integers of
    two digits or more where the answer has no such number."""
    out, integers = [], []

    def walk(v):
        if isinstance(v, bool) or v is None:
            return
        if isinstance(v, float) and not v.is_integer():
            out.append(fmt(v, "text"))
        elif isinstance(v, (int, float)) and abs(v) >= 10:
            integers.append(str(int(v)))
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for key, value in answer.items():
        if key.endswith("_exact") or f"{key}_exact" in answer:
            continue
        walk(value)
    return [s for s in dict.fromkeys(out) if len(s.lstrip("-")) >= 3] or list(dict.fromkeys(integers))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_assignment_tex_compiles_and_the_solutions_hold_the_key(name, compiled):
    for doc in ("problems", "solutions"):
        pdf, errors = compiled[(name, doc)]
        assert not errors, f"{name} {doc}.tex does not compile:\n{errors}"
        assert pdf.exists() and len(PdfReader(pdf).pages) >= 1
    problems = pdf_text(compiled[(name, "problems")][0])
    solutions = pdf_text(compiled[(name, "solutions")][0])
    assert "Model answer" not in problems and "Worked solution" not in problems
    key = json.loads((compiled[(name, "solutions")][0].parent / "key.json").read_text(encoding="utf-8"))
    elsewhere = {(q.id, p.id) for q in load(name).questions for p in q.parts if p.worked_in}  # not printed
    checked = 0
    for q in key["questions"]:
        for p in q["parts"]:
            if p["kind"] is None or (q["id"], p["id"]) in elsewhere:
                continue
            for number in distinctive_numbers(p["answer"])[:3]:
                assert number in solutions, f"{name} {q['id']}({p['id']}): {number} missing from the LaTeX PDF"
                checked += 1
    assert checked >= 3


@pytest.mark.parametrize("kind", KINDS)
def test_kind_tex_compiles_with_its_figures_and_answer(kind, compiled):
    (pdf, errors), = [v for (k, _), v in compiled.items() if k == kind]
    assert not errors, f"{kind}.tex does not compile:\n{errors}"
    label, params = next(iter(solvers.kind_info(kind).examples.items()))
    solution = solvers.solve(kind, params)
    figures = sum(1 for s in _all_steps(solution.steps) if s.figure is not None)
    assert len(list(pdf.parent.glob("figure-*.pdf"))) == figures
    assert figure_count(pdf) == figures
    text = pdf_text(pdf)
    for number in distinctive_numbers(solution.to_json()["answer"])[:5]:
        assert number in text, f"{kind} ({label}): {number} missing from the LaTeX PDF"


def _all_steps(steps):
    for s in steps:
        yield s
        yield from _all_steps(s.children)
