"""The audit: rounding-aware numbers, symbolic equivalence, bound equations, required terms, malformed keys,
and the exact findings of the seeds' keys (a false alarm or a missed slip fails)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnexam.audit import KeyFormatError, audit, load_key, parse_key

KEYS = Path(__file__).resolve().parent.parent / "assignments" / "keys"

EXPECTED = {
    "mock_final.yaml": {
        ("Q2b", "steps[3].point", "slip"),        # x4 copied as (-1, 1); the statement says (-1, -1)
        ("Q2b", "steps[5].unrounded", "slip"),    # (1/2, 1/2) for (1/2, 1)
        ("Q2b", "steps[6].unrounded", "slip"),    # (1/2, -1/2) for (1/2, -1)
        ("Q2b", "steps[7].point", "slip"),        # x4 again
        ("Q2b", "steps[7].unrounded", "slip"),    # (1/2, -1/2) for (-1/2, -1)
        ("Q3b", "grad_w[0]", "wrong_final"),      # sum over j only
        ("Q4a", "terms", "wrong_method"),         # 1/2 log det Sigma dropped
    },
    "notes.yaml": {
        ("study-321", "activations[0][0]", "slip"),       # 0.645 for 0.6457
        ("study-321", "pre_activations[1][0]", "slip"),   # 0.0225 for 0.0229
        ("lecture-relu", "pre_activations[1][0]", "slip"),  # -1 for -11
        ("lecture-relu", "output[0]", "slip"),            # 1/(1+e^-1) written for sigma(-1)
        ("lecture-relu", "output[0]", "wrong_final"),     # 0.000051 for sigma(-11) = 1.67e-5
        ("lecture-8-quartic", "iterates[2]", "wrong_final"),   # w(2) = 3/16 for 7/16
        ("lecture-12-convolution", "output[0][1]", "slip"),    # 4 for 2 + 0 + 0 + 4 = 6
        ("lecture-19-minus-log", "support", "wrong_final"),    # x < 0 for [0, oo)
    },
    "hw5.yaml": {
        ("Q2a", "derivative", "wrong_final"),     # 3 phi (1 - phi) for slope 5
        ("Q2c", "deltas[0]", "slip"),             # delta_z = grad_f l * phi'(v_z)
    },
    "hw7.yaml": {
        ("Q1a-torch", "alpha", "wrong_method"),   # eta/5 is eta/3920 under MSELoss's 'mean'
        ("Q1a-torch-balance", "alpha", "wrong_method"),
        ("Q1a-torch-balance", "balance_learning_rate", "wrong_final"),
        ("Q2-generation", "noise_variance", "wrong_method"),  # 2*randn is N(0, 4I)
    },
    "clean.yaml": set(),
}


def findings_of(report):
    return {(f.question, f.claim, f.severity) for f in report.findings}


@pytest.fixture(scope="module")
def reports():
    return {name: audit(load_key(KEYS / name)) for name in EXPECTED}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_keys_give_exactly_their_real_mistakes(reports, name):
    report = reports[name]
    assert not report.skipped, report.skipped
    assert findings_of(report) == EXPECTED[name]
    assert len(report.findings) == len(EXPECTED[name])


def test_correct_values_and_where_the_key_parts(reports):
    by = {(f.question, f.claim, f.severity): f for f in reports["notes.yaml"].findings}
    final = by[("lecture-relu", "output[0]", "wrong_final")]
    assert final.correct == pytest.approx(1 / (1 + 2.718281828459045 ** 11))
    assert final.parts_at == "pre_activations[1][0]"
    assert by[("study-321", "activations[0][0]", "slip")].correct == pytest.approx(0.6456563, abs=1e-7)
    # lecture 8: w(2) = 1/2 - (1/8) 4 (1/2)^3 by hand; lecture 12: the sum of products written out;
    # lecture 19: z = e^-x lies in (0, 1] exactly for x >= 0
    assert by[("lecture-8-quartic", "iterates[2]", "wrong_final")].correct == pytest.approx(0.5 - 0.125 * 4 * 0.5 ** 3)
    assert by[("lecture-12-convolution", "output[0][1]", "slip")].correct == 2 * 1 + 0 * (-1) + (-1) * 0 + 2 * 2
    support = by[("lecture-19-minus-log", "support", "wrong_final")].correct
    assert float(support[0]) == 0 and float(support[1]) == float("inf")
    hw7 = {(f.question, f.claim): f for f in reports["hw7.yaml"].findings}
    assert hw7[("Q1a-torch", "alpha")].correct == pytest.approx(4.5 / (5 * 784), rel=1e-6)
    assert hw7[("Q2-generation", "noise_variance")].correct == pytest.approx(4.0, abs=0.08)
    assert hw7[("Q1a-torch-balance", "balance_learning_rate")].parts_at == "alpha"
    mock = {(f.question, f.claim): f for f in reports["mock_final.yaml"].findings}
    assert mock[("Q2b", "steps[7].unrounded")].correct == [-0.5, -1.0]
    assert "log_det" in mock[("Q4a", "terms")].correct


def _one(value, truth_kind="lloyd", path="iterations[0].energy", **extra):
    claim = {"path": path, "value": value, **extra}
    data = {"questions": [{"id": "q", "kind": truth_kind,
                           "params": {"points": [[0, 0], [1, 1]], "initial_centers": [[0, 0], [1, 2]]},
                           "claims": [claim]}]}
    return audit(parse_key(data))


def test_rounding_follows_the_written_digits():
    import yaml

    from nnexam.audit import KeyLoader
    from nnexam.comparison import written_tolerance

    def tol(text):
        return written_tolerance(yaml.load(f"v: {text}", Loader=KeyLoader)["v"], None)[0]

    assert tol("0.645") == pytest.approx(0.0005)
    assert tol("0.50") == pytest.approx(0.005)
    assert tol("1.67e-5") == pytest.approx(5e-8)
    assert tol("3") == 0.0
    # the first energy here is 1 (the point (1, 1) is at distance 1 from the centre (1, 2)).
    assert _one(yaml.load("v: 1.0", Loader=KeyLoader)["v"]).clean
    assert not _one(yaml.load("v: 1.01", Loader=KeyLoader)["v"]).clean
    assert _one(yaml.load("v: 1.01", Loader=KeyLoader)["v"], tolerance=0.05).clean
    assert _one("2/2").clean and not _one("3/2").clean


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=-100, max_value=100, allow_nan=False), st.integers(min_value=1, max_value=6))
def test_a_correctly_rounded_claim_holds_and_one_unit_off_does_not(x, decimals):
    from nnexam.comparison import Written, close, written_tolerance

    text = f"{x:.{decimals}f}"  # a decimal claim (integers are exact claims)
    tol = written_tolerance(Written(float(text), text), None)[0]
    assert close(float(text), x, tol)
    off = f"{float(text) + 10.0 ** -decimals * 1.6:.{decimals}f}"
    assert not close(float(off), x, written_tolerance(Written(float(off), off), None)[0])


def test_expressions_by_symbolic_equivalence_and_density_notes():
    q = {"id": "d", "kind": "gan_discriminator",
         "params": {"data_density": "2 - 2*x", "support": [0, 1], "generator": "z"}}
    ok = audit(parse_key({"questions": [{**q, "claims": [
        {"path": "discriminator", "value": "(1 - x)/(3/2 - x)"}, {"path": "generator_density", "value": "1"}]}]}))
    assert ok.clean and ok.claims_checked == 2
    bad = audit(parse_key({"questions": [{**q, "claims": [
        {"path": "discriminator", "value": "(2 - 2*x)/(3 + 2*x)", "final": True},
        {"path": "generator_density", "value": "2*x - 1"}]}]}))
    assert [f.severity for f in bad.findings] == ["wrong_final", "slip"]
    assert "negative on part of the support" in bad.findings[1].explanation
    assert "integrates to 0" in bad.findings[1].explanation


def test_malformed_keys_name_the_yaml_path():
    base = {"id": "q", "kind": "lloyd", "params": {"points": [[0, 0], [1, 1]], "initial_indices": [0, 1]}}
    cases = {
        "questions[0].claims[0].path: no field 'iterats' in the lloyd answer; fields: iterations":
            [{"path": "iterats[0]", "value": 1}],
        "questions[0].claims[0].path: position [5] is out of range":
            [{"path": "iterations[5]", "value": 1}],
        "questions[0].claims[0].value: give exactly one of value or terms": [{"path": "final_energy"}],
        "questions[0].claims[0].colour: unknown field": [{"path": "final_energy", "value": 0, "colour": 1}],
    }
    for message, claims in cases.items():
        with pytest.raises(KeyFormatError) as err:
            audit(parse_key({"questions": [{**base, "claims": claims}]}))
        assert str(err.value).startswith(message), str(err.value)
    with pytest.raises(KeyFormatError, match=r"questions\[0\].params.initial_indices"):
        audit(parse_key({"questions": [{**base, "params": {"points": [[0, 0]], "initial_indices": [3]},
                                        "claims": [{"path": "final_energy", "value": 0}]}]}))
    with pytest.raises(KeyFormatError, match=r"^questions: expected a non-empty list"):
        parse_key({"questions": []})


def test_an_unregistered_kind_is_skipped_with_a_message():
    report = audit(parse_key({"questions": [{"id": "x", "kind": "no_such_kind", "params": {},
                                             "claims": [{"path": "a", "value": 1}]}]}))
    assert report.clean and report.claims_checked == 0
    assert "kind 'no_such_kind' not available" in report.skipped[0]


def run(*args):
    return subprocess.run([sys.executable, "-m", "nnexam.cli", "audit", *args], capture_output=True, text=True,
                          timeout=600)


def test_cli_json_exit_status_and_pdf(tmp_path):
    out = run(str(KEYS / "notes.yaml"), "--format", "json")
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"key", "claims_checked", "findings"}
    assert data["claims_checked"] == 19
    first = data["findings"][0]
    assert set(first) >= {"question", "claim", "claimed", "correct", "severity", "explanation"}
    assert first["claimed"] == 0.645 and isinstance(first["correct"], float)
    clean = run(str(KEYS / "clean.yaml"), "--format", "pdf", "-o", str(tmp_path / "clean.pdf"))
    assert clean.returncode == 0, clean.stderr
    assert (tmp_path / "clean.pdf").read_bytes().startswith(b"%PDF")
    bad = tmp_path / "bad.yaml"
    bad.write_text("questions:\n  - {id: q, kind: lloyd, params: {points: [[0, 0]], initial_indices: [0]},\n"
                   "     claims: [{path: iterats, value: 1}]}\n")
    out = run(str(bad))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "nnexam: error: questions[0].claims[0].path: no field 'iterats' in the lloyd answer; fields: iterations, "
        "final_centers, final_assignments, final_energy, num_iterations, converged"]


def test_supports_and_signs_of_densities():
    q = {"id": "d", "kind": "derived_distribution",
         "params": {"z_density": "1", "z_support": [0, 1], "transform": "-log(z)"}}
    report = audit(parse_key({"questions": [{**q, "claims": [
        {"path": "support", "value": [0, "oo"]}, {"path": "density", "value": "exp(-x)"},
        {"path": "support", "value": [0, 1], "final": True}, {"path": "density", "value": "-exp(-x)"}]}]}))
    assert [(f.claim, f.severity) for f in report.findings] == [("support", "wrong_final"), ("density", "slip")]
    assert "negative on part of the support" in report.findings[1].explanation
    assert "integrates to -1 over [0, oo]" in report.findings[1].explanation


def _hostile_key(tmp_path, claim: str, params: str = "{points: [[0, 0], [1, 1]], initial_indices: [0, 1]}",
                 kind: str = "lloyd"):
    key = tmp_path / "hostile.yaml"
    key.write_text(f"questions:\n  - id: q\n    kind: {kind}\n    params: {params}\n    claims:\n      - {claim}\n")
    return run(str(key))


def test_a_hostile_key_runs_nothing(tmp_path):
    marker = tmp_path / "marker"
    touch = f"__import__('os').system('touch {marker}')"
    # sympify evaluated this chain (and so ran `touch`) when the audit parsed keys with it
    chain = ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]"
             f".__init__.__globals__['system']('touch {marker}')")
    cases = {
        f'{{path: final_energy, value: "{chain}"}}': "questions[0].claims[0].value: not an expression we can read",
        f'{{path: final_energy, value: "{touch}"}}': "questions[0].claims[0].value: not an expression we can read",
        '{path: final_energy, value: "().__class__.__base__.__subclasses__()"}':
            "questions[0].claims[0].value: not an expression we can read",
        '{path: final_centers, value: [1, "exp(1).func(2)"]}':
            "questions[0].claims[0].value[1]: not an expression we can read",
        f'{{path: final_energy, value: "f(1)", functions: {{"f(v)": "{touch}"}}}}':
            "questions[0].claims[0].functions.f(v): not an expression we can read",
    }
    for claim, message in cases.items():
        out = _hostile_key(tmp_path, claim)
        assert out.returncode == 2, (claim, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"nnexam: error: {message}"), (claim, out.stderr)
    density = _hostile_key(tmp_path, "{path: generator_density, value: '1'}", kind="gan_discriminator",
                           params=f'{{data_density: "{touch}", support: [0, 1], generator: z}}')
    assert density.returncode == 2 and "questions[0].params.data_density" in density.stderr, density.stderr
    assert not marker.exists()


def test_a_yaml_alias_bomb_is_one_line(tmp_path):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):  # 9^9 strings if the aliases were expanded
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]")
    lines.append("questions:\n  - {id: q, kind: lloyd, params: {points: *i, initial_indices: [0, 1]},\n"
                 "     claims: [{path: final_energy, value: 0}]}")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    assert len(bomb.read_bytes()) < 1200
    out = run(str(bomb))
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        f"nnexam: error: {bomb}: line 2: YAML aliases (*a) are not allowed in a key; write the value out"]


def test_the_guarded_parser_refuses_what_is_not_arithmetic():
    from nnexam.comparison import read_expression, unreadable

    for text in ("__import__('os')", "x.evalf()", "lambda: 0", "a; b", "f'{x}'", "x if y else z", "[x for x in y]"):
        assert unreadable(text), text
    for text in ("Sum(u[0, i, j]*x[i, j], (i, 0, 1), (j, 0, 1))", "1.5e-3*x^2", "Piecewise((1, x > 0), (0, True))"):
        assert not unreadable(text), text
    with pytest.raises(ValueError):  # an unknown name is a real symbol: calling it fails, it is never the builtin
        read_expression("open(1, 2)")
    assert read_expression("open") == read_expression("open")  # a plain symbol
