"""`nnexam generate`: many variants whose keys agree with the solvers and whose sampler constraints hold,
deterministic from the seed; a roster gives one variant per student; PDFs for a few."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache

import pytest

import solvers
from assignments import build, check_constraints, load
from tests.test_assignments import assert_same


def run(*args):
    return subprocess.run([sys.executable, "-m", "nnexam.cli", *args], capture_output=True, text=True, timeout=1200)


def needs(name):
    missing = sorted(set(load(name).kinds()) - set(solvers.kinds()))
    if missing:
        pytest.skip(f"{name} needs kinds not registered yet: {', '.join(missing)}")


@lru_cache(maxsize=4096)
def fresh(kind, params_json):
    return json.dumps(solvers.solve(kind, json.loads(params_json)).to_json()["answer"])


def test_hundred_variants_agree_with_the_solvers_and_hold_their_constraints(tmp_path):
    needs("mock-final")
    out = run("generate", "mock-final", "--variants", "100", "--seed", "2024", "--keys-only", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    index = json.loads((tmp_path / "variants.json").read_text())
    assert len(index["variants"]) == 100 and len({v["seed"] for v in index["variants"]}) == 100
    spec = load("mock-final")
    keys = set()
    for entry in index["variants"]:
        key = json.loads((tmp_path / entry["folder"] / "key.json").read_text())
        assert key["seed"] == entry["seed"] and not (tmp_path / entry["folder"] / "problems.pdf").exists()
        for q in key["questions"]:
            for p in q["parts"]:
                if p["kind"]:
                    expected = json.loads(fresh(p["kind"], json.dumps(p["params"], sort_keys=True)))
                    assert_same(p["answer"], expected, f"{entry['folder']}/{q['id']}({p['id']})")
        failures = check_constraints(build(spec, key["seed"]))
        assert not any(failures.values()), (entry["folder"], failures)
        keys.add(json.dumps(key["questions"], sort_keys=True))
    assert len(keys) > 90, "variants should differ"


def test_same_seed_same_variants(tmp_path):
    needs("hw5")
    for d in ("one", "two"):
        assert run("generate", "hw5", "-n", "3", "--seed", "9", "--keys-only", "-o", str(tmp_path / d)).returncode == 0
    for v in ("variant-001", "variant-002", "variant-003"):
        assert (tmp_path / "one" / v / "key.json").read_bytes() == (tmp_path / "two" / v / "key.json").read_bytes()


def test_roster_gives_one_deterministic_variant_per_student(tmp_path):
    needs("hw6")
    roster = tmp_path / "students.csv"
    roster.write_text("id,name\nA123,Ada Lovelace\nB456,Alan Turing\n")
    assert run("generate", "hw6", "--roster", str(roster), "--seed", "1", "--keys-only", "-o",
               str(tmp_path / "r1")).returncode == 0
    roster2 = tmp_path / "reordered.csv"
    roster2.write_text("student_id,name\nB456,Alan Turing\n")
    assert run("generate", "hw6", "--roster", str(roster2), "--seed", "1", "--keys-only", "-o",
               str(tmp_path / "r2")).returncode == 0
    key = json.loads((tmp_path / "r1" / "B456" / "key.json").read_text())
    assert key["student"] == {"id": "B456", "name": "Alan Turing"}
    assert key == json.loads((tmp_path / "r2" / "B456" / "key.json").read_text())
    assert key != json.loads((tmp_path / "r1" / "A123" / "key.json").read_text())


def test_bad_roster_is_one_line_exit_2(tmp_path):
    roster = tmp_path / "bad.csv"
    roster.write_text("name\nAda\n")
    out = run("generate", "hw6", "--roster", str(roster), "-o", str(tmp_path / "o"))
    assert out.returncode == 2 and "no id column" in out.stderr and "Traceback" not in out.stderr


def test_generate_pdfs_and_tex_for_a_few_variants(tmp_path):
    needs("mock-final")
    assert run("generate", "mock-final", "-n", "2", "--seed", "3", "-o", str(tmp_path / "pdf")).returncode == 0
    for v in ("variant-001", "variant-002"):
        for doc in ("problems.pdf", "solutions.pdf", "key.json"):
            assert (tmp_path / "pdf" / v / doc).stat().st_size > 0
    out = run("generate", "hw5", "-n", "1", "--format", "tex", "-o", str(tmp_path / "tex"))
    assert out.returncode == 0, out.stderr
    solutions = (tmp_path / "tex" / "variant-001" / "solutions.tex").read_text()
    assert r"\begin{document}" in solutions
    problems = (tmp_path / "tex" / "variant-001" / "problems.tex").read_text()
    for tex in (problems, solutions):  # the code to submit, as verbatim starter code from assignments/<hw>/code.py
        assert "Code to submit" in tex and r"\texttt{hw5.py}" in tex and r"\begin{verbatim}" in tex
        assert "def gradient_descent(eta, iterations):" in tex and "def sgd_epoch(X, Y, W, b, U, c, eta):" in tex


def test_practice_variants_agree_with_the_solvers_and_hold_every_named_constraint(tmp_path):
    out = run("generate", "practice", "--variants", "10", "--seed", "15", "--keys-only", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    index = json.loads((tmp_path / "variants.json").read_text())
    spec = load("practice")
    assert all(q.sampler is not None and q.sampler.constraints for q in spec.questions)
    for entry in index["variants"]:
        key = json.loads((tmp_path / entry["folder"] / "key.json").read_text())
        for q in key["questions"]:
            for p in q["parts"]:
                expected = json.loads(fresh(p["kind"], json.dumps(p["params"], sort_keys=True)))
                assert_same(p["answer"], expected, f"{entry['folder']}/{q['id']}({p['id']})")
        variant = build(spec, key["seed"])
        assert json.dumps(variant.key()["questions"], sort_keys=True) == json.dumps(key["questions"], sort_keys=True)
        failures = check_constraints(variant)
        assert set(failures) == {q.id for q in spec.questions} and not any(failures.values()), failures


def test_a_batch_redraws_repeated_numbers(tmp_path):
    out = run("generate", "mock-final", "--variants", "20", "--seed", "0", "--keys-only", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "fewer distinct draws" not in out.stderr  # every sampler of the mock final has 20 distinct draws
    index = json.loads((tmp_path / "variants.json").read_text())
    keys = [json.loads((tmp_path / e["folder"] / "key.json").read_text()) for e in index["variants"]]
    for qid in ("q1", "q2", "q3", "q4", "q5", "q6", "q7"):
        draws = [json.dumps([p["params"] for p in q["parts"] if p["kind"]], sort_keys=True)
                 for key in keys for q in key["questions"] if q["id"] == qid]
        assert len(set(draws)) == 20, qid
    redrawn = [(e, k) for e, k in zip(index["variants"], keys, strict=True) if k.get("redraws")]
    assert redrawn, "seed 0 repeats some numbers within 20 variants; the batch must redraw them"
    spec = load("mock-final")
    for entry, key in redrawn:
        assert entry["redraws"] == key["redraws"]
        assert build(spec, key["seed"], redraws=key["redraws"]).key() == key
    entry, key = redrawn[0]
    flag = ",".join(f"{q}={n}" for q, n in key["redraws"].items())
    again = run("render", "mock-final", "--seed", str(key["seed"]), "--redraws", flag, "-o", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "again" / "key.json").read_text())["questions"] == key["questions"]


def test_a_sampler_with_too_few_draws_is_reported_not_looped_on():
    """Q5's sampler narrowed to two densities and the identity generator: a batch of 4 redraws Q5 until it gives
    up, and reports the 2 distinct draws it has (the other questions stay distinct)."""
    import dataclasses

    from assignments.core import distinct_batch
    from assignments.mock_final import samplers

    spec = load("mock-final")
    q5 = next(q for q in spec.questions if q.id == "q5")

    def two_densities(rng):
        density = samplers.pick(rng, ["2*x", "3*x**2"])
        return {"a": {"data_density": density, "support": [0, 1], "generator": "z"},
                "b": {"data_density": density, "support": [0, 1], "noise": "uniform"}}

    narrow = dataclasses.replace(q5, sampler=dataclasses.replace(q5.sampler, draw=two_densities))
    spec = dataclasses.replace(spec, questions=[narrow if q is q5 else q for q in spec.questions])
    variants, small = distinct_batch(spec, [(seed, None) for seed in range(4)])
    assert small == {"q5": 2}
    draws = {json.dumps(solvers.core.to_json(q.draw()), sort_keys=True)
             for v in variants for q in v.questions if q.id == "q5"}
    assert len(draws) == 2
    # a batch draws again only the questions that repeat and keeps the others: each variant is what a fresh
    # build of its seed and redraw counts gives
    for v in variants:
        assert build(spec, v.seed, redraws=v.redraws).key() == v.key()


@pytest.mark.parametrize("flag", ["q1", "q1=x", "q99=1"])
def test_bad_redraws_are_one_line_exit_2(flag, tmp_path):
    out = run("render", "mock-final", "--seed", "3", "--redraws", flag, "-o", str(tmp_path))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not (tmp_path / "key.json").exists()


def test_worker_processes_write_the_same_variants(tmp_path):
    """`-j 2` only spreads the writing over processes: the variants (drawn first, in order) are the same files."""
    for jobs in ("1", "2"):
        out = run("generate", "hw5", "-n", "3", "--seed", "4", "--no-solutions", "--format", "tex", "-j", jobs,
                  "-o", str(tmp_path / jobs))
        assert out.returncode == 0, out.stderr
    files = sorted(p.relative_to(tmp_path / "1") for p in (tmp_path / "1").rglob("*") if p.is_file())
    assert len(files) >= 7
    assert files == sorted(p.relative_to(tmp_path / "2") for p in (tmp_path / "2").rglob("*") if p.is_file())
    for name in files:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
