"""Assignments as data: every assignment loads, its original and its variants solve, the keys agree with a
fresh solve, the samplers' constraints hold, variants are deterministic, and the documents compile without
leaking answers into the problem set. Parts whose kind is not registered yet are skipped."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from pypdf import PdfReader

import solvers
from assignments import build, check_constraints, load, names, variant_seed, write
from assignments.core import MissingKindError, check_kinds
from assignments.sampling import Constraint, Sampler, SamplerError, draw_question

ASSIGNMENTS = ["mock-final", "hw5", "hw6", "hw7", "practice"]


def loadable(name):
    a = load(name)
    missing = sorted(set(a.kinds()) - set(solvers.kinds()))
    if missing:
        pytest.skip(f"{name} needs kinds not registered yet: {', '.join(missing)}")
    return a


def run(*args):
    return subprocess.run([sys.executable, "-m", "nnexam.cli", *args], capture_output=True, text=True, timeout=600)


def assert_same(actual, expected, where):
    """Compare JSON answers: numbers with a tolerance, everything else exactly."""
    if isinstance(expected, dict):
        assert set(actual) == set(expected), where
        for k in expected:
            assert_same(actual[k], expected[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) or isinstance(actual, float):
        assert np.isclose(float(actual), float(expected), rtol=1e-9, atol=1e-12), where
    else:
        assert actual == expected, where


def assert_key_matches_fresh_solve(key):
    for q in key["questions"]:
        for p in q["parts"]:
            if p["kind"] is None:
                continue
            fresh = solvers.solve(p["kind"], p["params"]).to_json()["answer"]
            assert_same(p["answer"], fresh, f"{key['assignment']}/{q['id']}({p['id']})")


def test_every_assignment_is_listed_and_loads():
    assert set(ASSIGNMENTS) <= set(names())
    for name in ASSIGNMENTS:
        a = load(name)
        assert a.questions and a.points > 0


def test_mock_final_holds_the_seven_questions_with_the_seed_points():
    a = load("mock-final")
    assert [q.points for q in a.questions] == [5] * 7
    assert [[p.points for p in q.parts] for q in a.questions] == [
        [3, 2], [1, 4], [2, 3], [2.5, 2.5], [2.5, 2.5], [1, 4], [2, 3]]
    written = {(q.number, p.id): p.answer for q in a.questions for p in q.parts}
    assert "Hebbian" in written[(2, "a")]
    assert {"lloyd", "competitive", "conv1x1_backprop", "elbo_gaussian", "gan_discriminator", "gan_generator",
            "rnn", "attention"} == set(a.kinds())


def test_practice_set_has_one_question_per_new_kind():
    a = load("practice")
    assert a.title == "Lectures 7-25 practice set" and len(a.questions) == 11
    params = {(q.id, p.id): p.params for q in a.questions for p in q.parts}
    assert {"conv2d_backprop", "perceptron", "transformer_block", "bptt", "optimizer_step", "batchnorm", "pca",
            "gmm_em", "backprop", "derived_distribution"} == set(a.kinds())
    assert params[("q1", "a")]["pool"]["kind"] == "max"
    assert {params[("q2", "a")].get("rule", "perceptron"), params[("q3", "a")]["rule"]} == {"perceptron", "delta"}
    assert {params[("q6", "a")]["optimizer"], params[("q6", "b")]["optimizer"]} == {"momentum", "adam"}
    assert params[("q10", "a")]["weight_decay"] > 0 and len(params[("q10", "a")]["batch"]) > 1
    assert len(params[("q11", "a")]["transform"]) == 2
    assert all(p.points > 0 for q in a.questions for p in q.parts)


def test_render_practice_writes_problems_and_solutions(tmp_path):
    out = run("render", "practice", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    problems = "".join(page.extract_text() for page in PdfReader(tmp_path / "problems.pdf").pages)
    solutions = "".join(page.extract_text() for page in PdfReader(tmp_path / "solutions.pdf").pages)
    assert problems.count("Question") == 11 and "Worked solution" not in problems
    assert "Worked solution" in solutions and "Question 11" in solutions


def test_unknown_assignment_is_one_line_exit_2():
    out = run("render", "no-such-exam")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "unknown assignment" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_missing_kind_is_a_clear_error(monkeypatch):
    a = load("mock-final")
    a.questions[0].parts[0].kind = "not_a_kind_yet"
    with pytest.raises(MissingKindError, match="question 1\\(a\\) needs the problem kind 'not_a_kind_yet'"):
        check_kinds(a)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_original_key_matches_a_fresh_solve(name):
    a = loadable(name)
    key = build(a).key()
    assert key["assignment"] == name and key["seed"] is None
    assert_key_matches_fresh_solve(json.loads(json.dumps(key)))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_variants_hold_their_constraints_and_agree_with_the_solvers(name):
    a = loadable(name)
    for i in range(8):
        variant = build(a, variant_seed(11, i))
        assert all(not bad for bad in check_constraints(variant).values()), check_constraints(variant)
        assert_key_matches_fresh_solve(json.loads(json.dumps(variant.key())))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_a_variant_is_a_pure_function_of_the_seed(name):
    a = loadable(name)
    one = json.dumps(build(a, 42).key(), sort_keys=True)
    assert one == json.dumps(build(load(name), 42).key(), sort_keys=True)
    assert one != json.dumps(build(a, 43).key(), sort_keys=True) or not any(q.sampler for q in a.questions)


def test_rejected_draws_are_redrawn_then_refused():
    calls = []

    def draw(rng):
        calls.append(1)
        return {"a": {"value": int(rng.integers(0, 10))}}

    even = Sampler("even", draw, [Constraint("even", "value is even", lambda d, s: d["a"]["value"] % 2 == 0)])
    d, _, attempts = draw_question(even, np.random.default_rng(0), lambda d: {})
    assert d["a"]["value"] % 2 == 0 and attempts == len(calls)
    never = Sampler("never", draw, [Constraint("impossible", "never holds", lambda d, s: False)])
    with pytest.raises(SamplerError, match="impossible"):
        draw_question(never, np.random.default_rng(0), lambda d: {}, max_attempts=5)


def test_constraints_detect_a_tie():
    """The original competitive-learning question has a winner tie and half-way roundings; the variant
    constraints must see them (they would reject this draw)."""
    q = load("mock-final").questions[1]
    original = {p.id: p.params for p in q.parts if p.kind}
    failures = q.sampler.failures(original, {"b": solvers.solve("competitive", original["b"])})
    assert "no_winner_ties" in failures and "no_half_way_rounding" in failures


def _pdf_text(path):
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def _distinctive_numbers(key):
    """Answer numbers worth looking for in the problem set: non-integers that no parameter contains."""
    params, answers = set(), set()

    def collect(value, into):
        if isinstance(value, dict):
            for v in value.values():
                collect(v, into)
        elif isinstance(value, list):
            for v in value:
                collect(v, into)
        elif isinstance(value, float) and not value.is_integer():
            into.add(f"{abs(value):.4g}")

    for q in key["questions"]:
        for p in q["parts"]:
            collect(p["params"], params)
            collect(p["answer"], answers)
    return {a for a in answers - params if len(a) >= 3}


def test_render_mock_final_writes_three_files_without_leaks(tmp_path):
    loadable("mock-final")
    out = run("render", "mock-final", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert str(tmp_path) in out.stdout
    key = json.loads((tmp_path / "key.json").read_text())
    assert set(key) == {"assignment", "seed", "questions"} and len(key["questions"]) == 7
    assert_key_matches_fresh_solve(key)
    problems = _pdf_text(tmp_path / "problems.pdf")
    solutions = _pdf_text(tmp_path / "solutions.pdf")
    assert "Question 7" in problems and "Name" in problems
    numbers = _distinctive_numbers(key)
    assert numbers, "the key should hold distinctive answer numbers"
    leaked = {n for n in numbers if re.search(rf"(?<![\d.]){re.escape(n)}(?!\d)", problems)}
    assert not leaked, f"answers leaked into problems.pdf: {sorted(leaked)}"
    assert "Hebbian" not in problems and "Hebbian" in solutions
    assert "0.495" in solutions and "Model answer" in solutions
    assert len(PdfReader(tmp_path / "solutions.pdf").pages) > len(PdfReader(tmp_path / "problems.pdf").pages) / 2


def test_render_tex_writes_latex_sources(tmp_path):
    loadable("mock-final")
    out = run("render", "mock-final", "--format", "tex", "--seed", "5", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    for doc in ("problems", "solutions"):
        tex = (tmp_path / f"{doc}.tex").read_text()
        assert r"\begin{document}" in tex and r"\end{document}" in tex and "Question 7" in tex
    assert json.loads((tmp_path / "key.json").read_text())["seed"] == 5


def test_render_variant_by_seed_reproduces_its_key(tmp_path):
    a = loadable("hw5")
    variant = build(a, variant_seed(3, 1))
    write(variant, tmp_path / "v", "pdf", ())
    key = json.loads((tmp_path / "v" / "key.json").read_text())
    assert key == json.loads(json.dumps(build(load("hw5"), key["seed"]).key()))


def _spec_names(ref):
    """The names students must define for an autograder question, read from its starter code (assignments/<hw>/code.py):
    top-level functions and classes, and the arguments of each (methods' too, self aside)."""
    from assignments.core import code_spec

    _, question = code_spec(ref)
    names = set()
    for node in ast.walk(ast.parse(question.starter)):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("__"):
            names.add(node.name)
        if isinstance(node, ast.FunctionDef):
            names |= {a.arg for a in node.args.args if a.arg != "self" and len(a.arg) > 2}
    return names


@pytest.mark.parametrize("name, expected", [
    ("hw5", {"gradient", "gradient_descent", "phi", "phi_prime", "forward", "backward", "sgd_epoch"}),
    ("hw6", {"CNN"}),
    ("hw7", {"KMeansNet", "Autoencoder", "enc_mode"}),
])
def test_problem_set_shows_the_code_to_submit_without_leaks(name, expected, tmp_path):
    """Each code part shows the file the autograder expects and the starter (signatures from the folder's code.py)."""
    a = loadable(name)
    variant = build(a)
    write(variant, tmp_path, "pdf", ("problems",))
    text = _pdf_text(tmp_path / "problems.pdf")
    refs = {p.code for q in a.questions for p in q.parts if p.code}
    assert refs, f"{name} should have code parts"
    wanted = set().union(*(_spec_names(r) for r in refs))
    assert expected <= wanted, f"code.py no longer asks {name} for {sorted(expected - wanted)}"
    missing = {n for n in wanted if not re.search(rf"\b{re.escape(n)}\b", text)}
    assert not missing, f"names the autograder calls are missing from {name}'s problems.pdf: {sorted(missing)}"
    assert text.count("Code to submit") >= len(refs) and f"{name}.py" in text and "NotImplementedError" in text
    numbers = _distinctive_numbers(variant.key())
    leaked = {n for n in numbers if re.search(rf"(?<![\d.]){re.escape(n)}(?!\d)", text)}
    assert not leaked, f"answers leaked into {name}'s problems.pdf: {sorted(leaked)}"


def test_code_blocks_come_from_the_specs_wrapped_to_the_page():
    from assignments.documents import CODE_WIDTH, submission
    from assignments.hw7.code import HW7_Q2

    block = submission("hw7/q2", "latex", None)
    assert block["file"] == "hw7.py" and block["code"].startswith("\\begin{verbatim}\nimport torch")
    lines = block["code"].split("\n")
    assert max(len(line) for line in lines) <= CODE_WIDTH < max(len(line) for line in HW7_Q2.split("\n"))
    body = "\n".join(lines[1:-1])
    ast.parse(body)  # still valid Python after wrapping
    assert " ".join(body.split()).endswith(" ".join(HW7_Q2.split()))  # the same words as code.py, only rewrapped
    assert "(B, 794)" in body  # shapes are never split across lines
    later = submission("hw7/q2", "typst", "b")
    assert later["code"] == "" and later["see"] == "b"


def test_a_code_reference_the_autograder_lacks_is_refused(tmp_path, monkeypatch):
    import assignments.core as core

    folder = tmp_path / "bad_hw"
    folder.mkdir()
    (folder / "q1.j2").write_text("<% block intro %>x<% endblock %>")
    (folder / "assignment.yaml").write_text(
        "questions:\n  - id: q1\n    parts:\n      - {id: a, points: 1, code: hw5/q9}\n")
    monkeypatch.setattr(core, "ROOT", tmp_path)
    with pytest.raises(core.AssignmentError, match=r"questions\[0\]\.parts\[0\]\.code: 'hw5/q9' is no autograder"):
        load("bad-hw")


def test_mock_final_has_no_code_block():
    variant = build(loadable("mock-final"))
    from assignments.documents import document_context
    from templates.render import FigureSink

    ctx = document_context(variant, "typst", FigureSink(None), False)
    assert not any(p["submit"] for q in ctx["questions"] for p in q["parts"])


def test_a_variant_says_the_autograder_keeps_the_original_interface():
    """The starter (and the autograder) use the original homework's R(w); a variant redraws R, so its block
    says the graded code is the one the docstrings state."""
    from assignments.documents import document_context
    from templates.render import FigureSink

    a = loadable("hw5")
    for seed, fixed in ((None, False), (7, True)):
        ctx = document_context(build(a, seed), "typst", FigureSink(None), False)
        first = ctx["questions"][0]["parts"][1]["submit"]
        assert first["file"] == "hw5.py" and first["fixed"] is fixed and "def gradient_descent" in first["code"]


def test_practice_constraints_refuse_ties_non_convergence_and_repeated_eigenvalues():
    from assignments.practice import samplers as practice

    def failures(smp, kind, params, parts=("a",)):
        draw = {pid: params for pid in parts}
        return smp.failures(draw, {pid: solvers.solve(kind, params) for pid in parts})

    tie = {"input": [[1, 1, 0], [0, 0, 0], [0, 0, 0]], "kernel": [[1]], "bias": [0.5], "activation": "relu",
           "pool": {"kind": "max", "size": 2, "stride": 1}, "upstream": [[[1, 1], [1, 1]]]}
    assert "no_max_pool_ties" in failures(practice.conv_max_pool, "conv2d_backprop", tie, ("a", "b"))
    xor = {"points": [[1, 1], [-1, -1], [1, -1], [-1, 1]], "labels": [1, 1, -1, -1], "initial_weights": [1, 0],
           "learning_rate": 1, "epochs": 5}
    assert "converges_within_epochs" in failures(practice.separable_perceptron, "perceptron", xor)
    square = {"X": [[1, 0], [-1, 0], [0, 1], [0, -1]], "whiten": True}
    assert "distinct_eigenvalues" in failures(practice.pca_whitening, "pca", square)
    far = {"points": [[-3], [-2], [-1], [4], [5]], "initial_means": [[-2], [4]], "initial_covariances": [[[1]], [[1]]],
           "initial_weights": [0.5, 0.5], "iterations": 1}
    assert "responsibilities_not_degenerate" in failures(practice.gmm_one_dimension, "gmm_em", far)


def test_hw5_q1_runs_the_asked_500_iterations_and_prints_its_solution_once():
    """The statement asks for eta = 0.02, 0.05, 0.1 and 500 iterations each; part (a)'s worked solution plots
    the three runs, parts (b) and (c) point to it instead of repeating it."""
    from assignments.documents import document_context
    from templates.render import FigureSink

    variant = build(load("hw5"), None)
    q1 = variant.questions[0]
    assert [p.params["iterations"] for p in q1.parts] == [500, 500, 500]
    assert q1.parts[0].params["compare_rates"] == [p.params["learning_rate"] for p in q1.parts]
    context = document_context(variant, "text", FigureSink(None), True)
    parts = context["questions"][0]["parts"]
    assert parts[0]["solution"] is not None
    assert [p["solution"] for p in parts[1:]] == [None, None] and [p["worked_in"] for p in parts[1:]] == ["a", "a"]
    drawn = build(load("hw5"), 3).questions[0]
    assert drawn.parts[0].params["compare_rates"] == [p.params["learning_rate"] for p in drawn.parts]


def test_worked_in_must_name_another_part_with_a_kind(tmp_path, monkeypatch):
    from assignments import core

    folder = tmp_path / "bad_worked"
    folder.mkdir()
    (folder / "q1.j2").write_text("<% block intro %><% endblock %>", encoding="utf-8")
    (folder / "assignment.yaml").write_text(
        "questions:\n  - id: q1\n    parts:\n      - {id: a, points: 1, answer: x}\n"
        "      - {id: b, points: 1, answer: y, worked_in: a}\n", encoding="utf-8")
    monkeypatch.setattr(core, "ROOT", tmp_path)
    with pytest.raises(core.AssignmentError, match=r"parts\[1\]\.worked_in: 'a' is no other part"):
        core.load("bad-worked")
