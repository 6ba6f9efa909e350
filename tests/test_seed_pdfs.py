"""The seeds' worked examples render to PDF (Typst), and the PDF text holds the computed answers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pypdf import PdfReader

import solvers
from templates.render import render_solution


def pdf_text(path):
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    return text.replace("\u2212", "-")  # Typst sets minus signs as U+2212


def cli_pdf(kind, params, path):
    out = subprocess.run([sys.executable, "-m", "nnexam.cli", "solve", kind, "--params", json.dumps(params),
                          "--format", "pdf", "-o", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return pdf_text(path)


def example(kind, label):
    return solvers.kind_info(kind).examples[label]


def test_study_notes_321_network_through_the_cli(tmp_path):
    text = cli_pdf("forward_pass", example("forward_pass", "study_notes_321_sigmoid"), tmp_path / "f.pdf")
    for number in ("0.6", "1.8", "0.6457", "0.8581", "0.02288", "0.5057"):
        assert number in text, number


def test_mock_final_q2_competitive_through_the_cli(tmp_path):
    text = cli_pdf("competitive", example("competitive", "mock_final_q2"), tmp_path / "c.pdf")
    assert "tie between neurons 1 and 2: broken towards the lower index" in " ".join(text.split())
    assert "half-" in text and "Epoch 2" in text and "Clusters" in text


@pytest.mark.parametrize(("kind", "label", "numbers"), [
    ("forward_pass", "lecture_relu_sigmoid", ["-11", "1.67", "-4"]),
    ("lloyd", "mock_final_q1", ["0.495"]),
    ("competitive", "lecture_standard_rule", ["0.9625", "-0.925", "1.7775", "0.12125", "-0.06875"]),
    ("backprop", "hw5_q2_sigmoid_slope_5", ["0.0552", "-0.4699", "-0.4223", "0.8987", "-0.382"]),
])
def test_seed_example_pdf_holds_the_answer(kind, label, numbers, tmp_path):
    solution = solvers.solve(kind, example(kind, label))
    text = pdf_text(render_solution(solution, "pdf", tmp_path / "s.pdf"))
    assert "Answer" in text
    for number in numbers:
        assert number in text, number
