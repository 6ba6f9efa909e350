"""`nnexam mark`: constructed answer sets marked against each student's own variant. Every right answer is
computed here by an independent route (numpy Lloyd loops, the exact-rational competitive oracle, sympy for the
GAN), never copied from a key, and every expected score is summed here from the rubric's points."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import select
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from assignments import load
from nnexam import marking
from nnexam.comparison import Written, compare_unordered
from solvers import solve
from tests.oracles.competitive import competitive

STUDENTS = ("s1", "s2", "s3")
FIELDS = ("student_id", "question", "part", "path", "value")


def run(*args):
    return subprocess.run([sys.executable, "-m", "nnexam.cli", *args], capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def exams(tmp_path_factory):
    root = tmp_path_factory.mktemp("marking")
    roster = root / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"{s},Student {s}\n" for s in STUDENTS))
    out = run("generate", "mock-final", "--roster", str(roster), "--seed", "7", "--keys-only", "-o",
              str(root / "exams"))
    assert out.returncode == 0, out.stderr
    return root / "exams"


def params(exams, sid, qid, pid):
    key = json.loads((exams / sid / "key.json").read_text())
    q = next(q for q in key["questions"] if q["id"] == qid)
    return next(p for p in q["parts"] if p["id"] == pid)["params"]


def rubric_points(qid, pid):
    """{path pattern: points} from assignment.yaml (the rubric as written, not the key)."""
    spec = load("mock-final")
    part = next(p for q in spec.questions if q.id == qid for p in q.parts if p.id == pid)
    return {r["path"]: r["points"] for r in part.rubric}


# ------------------------------------------------------------------------------------ independent answers


def lloyd_iterations(points, centers):
    """Centres after each assignment step (the last one changing nothing), by a plain numpy loop."""
    x, c = np.asarray(points, float), np.asarray(centers, float)
    out, previous = [], None
    while True:
        a = ((x[:, None] - c[None]) ** 2).sum(-1).argmin(1)
        c = np.array([x[a == j].mean(0) for j in range(len(c))])
        out.append(c.tolist())
        if previous is not None and (a == previous).all():
            return out
        previous = a


def lloyd_exact(points, indices):
    """The same loop in exact fractions (for answers written as fractions)."""
    x = [[Fraction(str(v)) for v in p] for p in points]
    c = [x[i] for i in indices]
    out, previous = [], None
    while True:
        a = [min(range(len(c)), key=lambda j, p=p: sum((pi - ci) ** 2 for pi, ci in zip(p, c[j], strict=True)))
             for p in x]
        c = [[sum(p[d] for p, aj in zip(x, a, strict=True) if aj == j) / a.count(j) for d in range(len(x[0]))]
             for j in range(len(c))]
        out.append(c)
        if a == previous:
            return out
        previous = a


def gan_answers(density, support, generator="z"):
    """D* = p_data / (p_data + p_g) for the initial generator G (monotone, onto the support) and z ~ U(0, 1),
    p_g by change of variables (|d G^-1/dx|), and the optimal generator G = F^-1 with F the data's CDF, all by
    sympy."""
    x, z = sp.symbols("x z", real=True)
    p_data = sp.sympify(density, locals={"x": x})
    lo, hi = (sp.nsimplify(v) for v in support)
    third = sp.Rational(1, 3)
    inverses = [r for r in sp.solve(sp.Eq(sp.sympify(generator, locals={"z": z}), x), z)
                if abs(complex(r.subs(x, third)).imag) < 1e-12 and 0 <= complex(r.subs(x, third)).real <= 1]
    assert len(inverses) == 1, (generator, inverses)
    slope = sp.diff(inverses[0], x)
    p_g = slope if slope.subs(x, third) > 0 else -slope  # |d G^-1/dx|: G is monotone
    cdf = sp.integrate(p_data, (x, lo, x))
    at_half = [(r, complex(r.subs(z, sp.Rational(1, 2)))) for r in sp.solve(sp.Eq(cdf, z), x)]
    roots = [r for r, v in at_half if abs(v.imag) < 1e-12 and lo <= v.real <= hi]
    assert len(roots) == 1
    return f"1 - ({p_g})/({density} + {p_g})", str(roots[0])


def correct_rows(exams, sid, style="decimal", gan=True):
    rows = []
    lp = params(exams, sid, "q1", "a")
    if style == "fraction":
        its = [[[f"{v.numerator}/{v.denominator}" for v in c] for c in cs] for cs in
               lloyd_exact(lp["points"], lp["initial_indices"])]
        text = lambda v: "[" + ", ".join("[" + ", ".join(r) + "]" for r in v) + "]"  # noqa: E731
    else:
        its = lloyd_iterations(lp["points"], [lp["points"][i] for i in lp["initial_indices"]])
        text = lambda v: json.dumps([[float(f"{e:.3f}") for e in r] for r in v])  # noqa: E731
    rows += [(sid, "q1", "a", f"iterations[{k}].centers_after", text(c)) for k, c in enumerate(its)]
    rows.append((sid, "q1", "a", "final_centers", text(its[-1])))
    elsewhere = [[-5, 0], [5, 0]]  # either side of the vertical axis: the other fixed point
    rows += [(sid, "q1", "b", "initial_centers", json.dumps(elsewhere)),
             (sid, "q1", "b", "final_centers", json.dumps(lloyd_iterations(lp["points"], elsewhere)[-1]))]
    cp = params(exams, sid, "q2", "b")
    history = competitive(cp)["history"]
    rows += [(sid, "q2", "b", f"steps[{k}].weights", json.dumps(h["weights"])) for k, h in enumerate(history)]
    rows.append((sid, "q2", "b", "final_weights", json.dumps(history[-1]["weights"])))
    if gan:
        gp = params(exams, sid, "q5", "a")
        d_star, generator = gan_answers(gp["data_density"], gp["support"], gp["generator"])
        rows += [(sid, "q5", "a", "discriminator", d_star), (sid, "q5", "b", "generator", generator)]
    return rows


def write_answers(path, rows):
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        w.writerows(rows)
    return path


def automatic_points():
    return sum(sum(rubric_points(q, p).values()) for q, p in (("q1", "a"), ("q1", "b"), ("q2", "b"), ("q5", "a"),
                                                               ("q5", "b")))


def marks_of(out_dir):
    data = json.loads((out_dir / "marks.json").read_text())
    return {s["student_id"]: s for s in data["students"]}


# ------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("style", ["decimal", "fraction"])
def test_all_correct_answers_earn_every_automatic_point(exams, tmp_path, style):
    rows = [r for s in STUDENTS for r in correct_rows(exams, s, style)]
    out = run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"))
    assert out.returncode == 0, out.stderr
    assert "warning" not in out.stderr
    total = sum(p.points for q in load("mock-final").questions for p in q.parts)
    with (tmp_path / "m" / "grades.csv").open() as f:
        grades = list(csv.DictReader(f))
    assert [g["student_id"] for g in grades] == list(STUDENTS)
    for g in grades:
        assert float(g["score"]) == pytest.approx(automatic_points())
        assert float(g["max_score"]) == pytest.approx(total)
        assert float(g["q2"]) == pytest.approx(sum(rubric_points("q2", "b").values()))
    assert (tmp_path / "m" / "flags.csv").read_text().strip().count("\n") == 0


def test_coarse_decimals_are_wrong_by_the_written_digit_rule(exams, tmp_path):
    lp = params(exams, "s1", "q1", "a")
    final = lloyd_iterations(lp["points"], [lp["points"][i] for i in lp["initial_indices"]])[-1]
    truncated = [[math.trunc(v * 10) / 10 for v in c] for c in final]  # a digit dropped, not rounded
    coarse = json.dumps(truncated)
    fine = json.dumps([[float(f"{v:.1f}") for v in c] for c in final])  # rounded: within half a unit
    assert any(abs(t - v) > 0.05 for tc, c in zip(truncated, final, strict=True) for t, v in zip(tc, c, strict=True))
    rows = [("s1", "q1", "a", "final_centers", coarse), ("s2", "q1", "a", "final_centers", "oops")]
    run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"))
    assert marks_of(tmp_path / "m")["s1"]["score"] == 0
    rows[0] = ("s1", "q1", "a", "final_centers", fine)
    run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"))
    assert marks_of(tmp_path / "m")["s1"]["score"] == pytest.approx(rubric_points("q1", "a")["final_centers"])


def test_equivalent_expressions_earn_the_gan_points(exams, tmp_path):
    x, z = sp.symbols("x z")
    rows = []
    for sid in STUDENTS:
        gp = params(exams, sid, "q5", "a")
        d_star, generator = gan_answers(gp["data_density"], gp["support"], gp["generator"])
        rows += [(sid, "q5", "a", "discriminator", str(sp.expand(sp.sympify(d_star)))),
                 (sid, "q5", "b", "generator", str(sp.sympify(generator).rewrite(sp.Pow)))]
    rows.append(("s1", "q5", "a", "discriminator", "x/(1+x)"))  # a wrong D* replaces s1's right one
    run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"))
    marks = marks_of(tmp_path / "m")
    gan = rubric_points("q5", "a")["discriminator"] + rubric_points("q5", "b")["generator"]
    assert marks["s2"]["score"] == pytest.approx(gan) and marks["s3"]["score"] == pytest.approx(gan)
    assert marks["s1"]["score"] == pytest.approx(rubric_points("q5", "b")["generator"])


@pytest.mark.parametrize("follow", ["full", "half", "none"])
def test_a_slip_in_the_first_presentation_is_followed_through(exams, tmp_path, follow):
    cp = params(exams, "s1", "q2", "b")
    truth = competitive(cp)["history"]
    slipped = [[w + (1 if (i, j) == (0, 0) else 0) for j, w in enumerate(row)]
               for i, row in enumerate(truth[0]["weights"])]
    order = [cp["points"][h["point_index"]] for h in truth[1:]]
    rest = competitive({**cp, "initial_weights": slipped, "points": order, "epochs": 1})["history"]
    student = [slipped] + [h["weights"] for h in rest]
    assert student[-1] != truth[-1]["weights"]  # the slip carries through to the end
    rows = [("s1", "q2", "b", f"steps[{k}].weights", json.dumps(w)) for k, w in enumerate(student)]
    rows.append(("s1", "q2", "b", "final_weights", json.dumps(student[-1])))
    out = run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"),
              "--follow-through", follow)
    assert out.returncode == 0, out.stderr
    points = rubric_points("q2", "b")
    each = points["steps[*].weights"] / len(truth)
    share = {"full": 1, "half": 0.5, "none": 0}[follow]
    expected = sum(each if w == h["weights"] else (share * each if k else 0)
                   for k, (w, h) in enumerate(zip(student, truth, strict=True)))
    expected += points["final_weights"] * share
    assert marks_of(tmp_path / "m")["s1"]["score"] == pytest.approx(expected)
    feedback = (tmp_path / "m" / "feedback" / "s1.md").read_text()
    assert "follows from your own earlier value" in feedback if share else "follows" not in feedback


def test_lloyd_follow_through_runs_from_the_students_centres(exams, tmp_path):
    lp = params(exams, "s1", "q1", "a")
    truth = lloyd_iterations(lp["points"], [lp["points"][i] for i in lp["initial_indices"]])
    wrong = [[-5.0, 0.0], [5.0, 0.0]]  # as if the first step had split the points by the vertical axis
    theirs = [wrong] + lloyd_iterations(lp["points"], wrong)
    theirs = theirs[:len(truth)]
    assert not np.allclose(theirs[1], truth[1])
    final = lloyd_iterations(lp["points"], theirs[-1])[-1]
    rows = [("s1", "q1", "a", f"iterations[{k}].centers_after", json.dumps(c)) for k, c in enumerate(theirs)]
    rows.append(("s1", "q1", "a", "final_centers", json.dumps(final)))
    run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"))
    points = rubric_points("q1", "a")
    each = points["iterations[*].centers_after"] / len(truth)
    assert marks_of(tmp_path / "m")["s1"]["score"] == pytest.approx(each * (len(truth) - 1) + points["final_centers"])
    # zeros are degenerate: no follow-through from them
    rows = [("s1", "q1", "a", "iterations[0].centers_after", "[[0, 0], [0, 0]]"),
            ("s1", "q1", "a", "final_centers", json.dumps(lloyd_iterations(lp["points"], [[0, 0], [1e-9, 0]])[-1]))]
    run("mark", str(exams), str(write_answers(tmp_path / "b.csv", rows)), "-o", str(tmp_path / "m2"))
    assert marks_of(tmp_path / "m2")["s1"]["score"] == 0


def same_set(a, b):
    return sorted(map(tuple, np.round(a, 9).tolist())) == sorted(map(tuple, np.round(b, 9).tolist()))


def test_q1b_runs_lloyd_from_the_students_initialization(exams, tmp_path):
    lp = params(exams, "s1", "q1", "a")
    points = np.asarray(lp["points"])
    final_a = lloyd_iterations(lp["points"], points[lp["initial_indices"]])[-1]
    inits = {"s1": [[-5.0, 0.0], [5.0, 0.0]],  # either side of the vertical axis
             "s2": points[lp["initial_indices"]].tolist(),  # (a)'s own start
             "s3": [[-0.3, 7.0], [0.2, -7.0]]}  # a row each, but from far away
    rows, expected = [], {}
    rubric = rubric_points("q1", "b")
    for sid, init in inits.items():
        own = params(exams, sid, "q1", "a")
        final = lloyd_iterations(own["points"], init)[-1]
        start_a = np.asarray(own["points"])[own["initial_indices"]]
        other = not same_set(final, lloyd_iterations(own["points"], start_a)[-1])
        rows += [(sid, "q1", "b", "initial_centers", json.dumps(init)),
                 (sid, "q1", "b", "final_centers", json.dumps(final))]
        expected[sid] = sum(rubric.values()) if other else 0
    assert expected["s1"] and not expected["s2"]
    assert not same_set(lloyd_iterations(lp["points"], inits["s1"])[-1], final_a)
    marks = marks_of_rows(exams, tmp_path, rows)
    assert {sid: part(marks[sid], "q1", "b")["score"] for sid in inits} == pytest.approx(expected)
    # a wrong claim of where it stops keeps the initialization's points; an empty cell earns nothing
    wrong_final = ("s1", "q1", "b", "final_centers", json.dumps(final_a))
    empty = [("s2", "q1", "b", "initial_centers", "[[100, 100], [0, 0]]")]
    marks = marks_of_rows(exams, tmp_path, [rows[0], wrong_final] + empty)
    assert part(marks["s1"], "q1", "b")["score"] == pytest.approx(rubric["initial_centers"])
    assert part(marks["s2"], "q1", "b")["score"] == 0
    assert "empty cell" in " ".join(part(marks["s2"], "q1", "b")["feedback"])


def marks_of_rows(exams, tmp_path, rows):
    out = run("mark", str(exams), str(write_answers(tmp_path / "rows.csv", rows)), "-o", str(tmp_path / "rows"))
    assert out.returncode == 0, out.stderr
    return marks_of(tmp_path / "rows")


def part(student, qid, pid):
    return next(p for p in student["parts"] if (p["question"], p["part"]) == (qid, pid))


def test_an_answer_right_for_another_variant_is_wrong_and_flagged(exams, tmp_path):
    rows = [r for r in correct_rows(exams, "s1") if r[1] == "q5"]
    copied = [("s2",) + r[1:] for r in rows]  # s2 hands in s1's GAN answers
    s1, s2 = params(exams, "s1", "q5", "a"), params(exams, "s2", "q5", "a")
    assert gan_answers(s1["data_density"], [0, 1], s1["generator"]) != \
        gan_answers(s2["data_density"], [0, 1], s2["generator"])
    run("mark", str(exams), str(write_answers(tmp_path / "a.csv", copied)), "-o", str(tmp_path / "m"))
    assert marks_of(tmp_path / "m")["s2"]["score"] == 0
    with (tmp_path / "m" / "flags.csv").open() as f:
        flags = list(csv.DictReader(f))
    assert {(f["student_id"], f["question"], f["part"], f["matches_variant_of"]) for f in flags} == \
        {("s2", "q5", "a", "s1"), ("s2", "q5", "b", "s1")}


def test_garbage_rows_get_one_line_each_and_the_rest_is_marked(exams, tmp_path):
    good = [r for r in correct_rows(exams, "s3") if r[1] == "q5"]
    garbage = [("nobody", "q1", "a", "final_centers", "1"), ("s3", "q9", "a", "x", "1"),
               ("s3", "q1", "a", "no_such_field", "1"), ("s3", "q1", "a", "final_centers", ""),
               ("s3", "q1", "a", "iterations[0].centers_after", "[[1, 2]"),
               ("s3", "q1", "a", "final_centers", "__import__('os')"), ("s3", "q6", "a", "x", "1")]
    out = run("mark", str(exams), str(write_answers(tmp_path / "a.csv", good + garbage)), "-o", str(tmp_path / "m"))
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("nnexam: warning:")]
    assert len(lines) == len(garbage), out.stderr
    assert "Traceback" not in out.stderr
    for n in range(len(good) + 2, len(good) + 2 + len(garbage)):
        assert sum(f"line {n}:" in line for line in lines) == 1
    gan = rubric_points("q5", "a")["discriminator"] + rubric_points("q5", "b")["generator"]
    assert marks_of(tmp_path / "m")["s3"]["score"] == pytest.approx(gan)


def test_malformed_files_are_one_line_and_exit_2_with_nothing_written(exams, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,answer\ns1,3\n")
    out = run("mark", str(exams), str(bad), "-o", str(tmp_path / "m"))
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "student_id" in out.stderr
    assert not (tmp_path / "m").exists()
    out = run("mark", str(tmp_path), str(bad), "-o", str(tmp_path / "m"))
    assert out.returncode == 2 and "variants.json" in out.stderr and not (tmp_path / "m").exists()


def test_a_folder_of_yaml_answers_and_manual_scores(exams, tmp_path):
    folder = tmp_path / "answers"
    folder.mkdir()
    gp = params(exams, "s2", "q5", "a")
    d_star, _ = gan_answers(gp["data_density"], gp["support"], gp["generator"])
    (folder / "s2.yaml").write_text(f"- {{question: q5, part: a, path: discriminator, value: '{d_star}'}}\n")
    manual = tmp_path / "manual.csv"
    manual.write_text("student_id,question,part,score\ns2,q6,a,0.5\ns2,q1,a,3\ns2,q6,a,99\n")
    out = run("mark", str(exams), str(folder), "-o", str(tmp_path / "m"), "--manual", str(manual),
              "--format", "json")
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("nnexam: warning:") == 2  # an automatic part, and a score over the part's points
    s2 = {s["student_id"]: s for s in json.loads(out.stdout)["students"]}["s2"]
    assert s2["score"] == pytest.approx(rubric_points("q5", "a")["discriminator"] + 0.5)
    assert {"question", "part", "score", "max_score", "feedback"} <= set(s2["parts"][0])


def test_the_shipped_example_runs_as_the_readme_says(tmp_path):
    examples = Path(__file__).resolve().parent.parent / "assignments" / "mock_final" / "examples"
    out = run("generate", "mock-final", "--roster", str(examples / "roster.csv"), "--seed", "7", "--keys-only",
              "-o", str(tmp_path / "exams"))
    assert out.returncode == 0, out.stderr
    out = run("mark", str(tmp_path / "exams"), str(examples / "answers.csv"), "-o", str(tmp_path / "m"),
              "--manual", str(examples / "manual.csv"))
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("nnexam: warning:") == 1 and "final_centres" in out.stderr
    with (examples / "manual.csv").open() as f:
        manual = {}
        for row in csv.DictReader(f):
            manual[row["student_id"]] = manual.get(row["student_id"], 0) + float(row["score"])
    marks = marks_of(tmp_path / "m")
    for sid in ("u1001", "u1002"):  # every automatic answer right (decimals, fractions)
        assert marks[sid]["score"] == pytest.approx(automatic_points() + manual[sid])
    with (tmp_path / "m" / "flags.csv").open() as f:
        assert {r["student_id"] for r in csv.DictReader(f)} == {"u1004"}


def test_a_known_slip_is_named_in_the_feedback(exams, tmp_path):
    cp = params(exams, "s2", "q2", "b")
    truth = competitive(cp)["history"]
    standard = competitive({**cp, "rule": "standard"})["history"]  # eta (x - w), the output y left out
    assert standard[0]["weights"] != truth[0]["weights"]
    rows = [("s2", "q2", "b", "steps[0].weights", json.dumps(standard[0]["weights"]))]
    run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"))
    first = next(line for line in (tmp_path / "m" / "feedback" / "s2.md").read_text().splitlines()
                 if "steps[0].weights" in line)
    assert "wrong" in first and "standard rule" in first


def test_an_answer_given_twice_is_noted_and_the_later_row_counts(exams, tmp_path):
    gp = params(exams, "s3", "q5", "a")
    d_star, _ = gan_answers(gp["data_density"], gp["support"], gp["generator"])
    rows = [("s3", "q5", "a", "discriminator", "x"), ("s3", "q5", "a", "discriminator", d_star)]
    out = run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"))
    assert out.stderr.count("nnexam: warning:") == 1 and "line 3:" in out.stderr and "again" in out.stderr
    assert marks_of(tmp_path / "m")["s3"]["score"] == pytest.approx(rubric_points("q5", "a")["discriminator"])


def test_centres_are_a_set_so_their_order_is_free(exams, tmp_path):
    lp = params(exams, "s2", "q1", "a")
    its = lloyd_iterations(lp["points"], [lp["points"][i] for i in lp["initial_indices"]])
    assert its[-1][0] != its[-1][1]
    rows = [("s2", "q1", "a", f"iterations[{k}].centers_after", json.dumps(c[::-1])) for k, c in enumerate(its)]
    rows.append(("s2", "q1", "a", "final_centers", json.dumps(its[-1][::-1])))
    lp3 = params(exams, "s3", "q1", "a")
    final3 = lloyd_iterations(lp3["points"], [lp3["points"][i] for i in lp3["initial_indices"]])[-1]
    rows.append(("s3", "q1", "a", "final_centers", json.dumps([final3[0], final3[0]])))  # one centre twice
    run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"))
    marks = marks_of(tmp_path / "m")
    assert marks["s2"]["score"] == pytest.approx(sum(rubric_points("q1", "a").values()))
    assert marks["s3"]["score"] == 0


def test_compare_unordered_matches_each_entry_to_a_different_one():
    members = [Fraction(1, 3), Fraction(2, 3), 1]
    assert compare_unordered(["2/3", 1, Written(0.333, "0.333")], [float(m) for m in members]) == []
    assert compare_unordered(["2/3", "2/3", 1], [float(m) for m in members])  # one member twice, one missing
    assert compare_unordered([1, 2], [1, 2, 3])


# ------------------------------------------------------------------------------------ backprop follow-through

BACKPROP = {"x": [1.0, -1.0, 0.5], "target": [1.0], "loss": "se", "learning_rate": 0.1,
            "layers": [{"W": [[0.1, -0.2, 0.1], [0.05, 0.1, -0.1], [-0.1, 0.2, 0.2]], "b": [0.1, -0.1, 0.05],
                        "activation": "sigmoid", "slope": 5},
                       {"W": [[0.2, -0.1, 0.1]], "b": [0.05], "activation": "sigmoid", "slope": 5}]}
BACKPROP_RUBRIC = [{"path": "activations[0]", "points": 1.0}, {"path": "output", "points": 1.0},
                   {"path": "deltas[*]", "points": 2.0}, {"path": "grad_W[*]", "points": 2.0}]


def torch_backprop(params, hidden=None):
    """Forward and backward pass by torch autograd. With `hidden`, the hidden activations take that value
    (a straight-through substitute: the value is the student's, the gradient flows through sigma at the true
    pre-activation)."""
    torch = pytest.importorskip("torch")
    x = torch.tensor(params["x"], dtype=torch.float64)
    Ws = [torch.tensor(layer["W"], dtype=torch.float64, requires_grad=True) for layer in params["layers"]]
    bs = [torch.tensor(layer["b"], dtype=torch.float64, requires_grad=True) for layer in params["layers"]]
    v1 = Ws[0] @ x + bs[0]
    v1.retain_grad()
    a1 = torch.sigmoid(5 * v1)
    if hidden is not None:
        a1 = a1 + (torch.tensor(hidden, dtype=torch.float64) - a1).detach()
    v2 = Ws[1] @ a1 + bs[1]
    v2.retain_grad()
    f = torch.sigmoid(5 * v2)
    loss = ((f - torch.tensor(params["target"], dtype=torch.float64)) ** 2).sum()
    loss.backward()
    return {"activations[0]": a1.tolist(), "output": f.tolist(), "deltas[0]": v1.grad.tolist(),
            "deltas[1]": v2.grad.tolist(), "grad_W[0]": Ws[0].grad.tolist(), "grad_W[1]": Ws[1].grad.tolist()}


def backprop_exams(tmp_path):
    """A one-part exam (a backprop part with a step rubric) for one student, written as generate writes it."""
    answer = solve("backprop", BACKPROP).to_json()["answer"]
    key = {"assignment": "constructed", "seed": 0, "questions": [{"id": "q1", "points": 6, "parts": [
        {"id": "a", "points": 6, "kind": "backprop", "params": BACKPROP, "answer": answer,
         "rubric": BACKPROP_RUBRIC}]}]}
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "key.json").write_text(json.dumps(key))
    (tmp_path / "variants.json").write_text(json.dumps({"variants": [{"folder": "s1", "student": {"id": "s1"}}]}))
    return marking.load_exams(tmp_path)


@pytest.mark.parametrize("follow", ["full", "half", "none"])
def test_backprop_hidden_activations_decide_the_output_and_gradients(tmp_path, follow):
    true = torch_backprop(BACKPROP)
    slipped = [1 / (1 + math.exp(-v)) for v in  # sigma(v) with the slope 5 dropped, the step-1 slip
               (np.array(BACKPROP["layers"][0]["W"]) @ BACKPROP["x"] + BACKPROP["layers"][0]["b"])]
    theirs = torch_backprop(BACKPROP, hidden=slipped)
    assert not np.allclose(theirs["output"], true["output"]) and not np.allclose(theirs["grad_W[0]"], true["grad_W[0]"])
    exams = backprop_exams(tmp_path)
    given = {("q1", "a", path): marking.Answer(path, value, json.dumps(value)) for path, value in theirs.items()}
    marks, bad = marking.mark(exams, {"s1": given}, follow)
    assert bad == []
    share = {"full": 1, "half": 0.5, "none": 0}[follow]
    points = {r["path"]: r["points"] for r in BACKPROP_RUBRIC}
    assert marks[0].score == pytest.approx(share * (points["output"] + points["deltas[*]"] + points["grad_W[*]"]))
    assert marks[0].parts[0].items[0].slip == "leaving out the sigmoid's slope"
    # the true values from torch earn every point; the key's output with the slipped gradients earns no more
    given = {("q1", "a", path): marking.Answer(path, value, json.dumps(value)) for path, value in true.items()}
    assert marking.mark(exams, {"s1": given})[0][0].score == pytest.approx(sum(points.values()))


# ------------------------------------------------------------------------------------ item statistics


def constructed_class(n=30, seed=3):
    """n students, two automatic items (one with follow-through halves) and a part marked by hand."""
    rng = np.random.default_rng(seed)
    ability = rng.normal(size=n)
    marks = []
    for s in range(n):
        right = ability[s] + rng.normal(scale=0.7) > 0
        status = "right" if right else ("followed" if rng.random() < 0.3 else "wrong")
        first = marking.ItemMark("final_weights", 2.0, {"right": 2.0, "followed": 1.0, "wrong": 0.0}[status],
                                 status, None, "[[1, 2]]" if status == "wrong" and s % 3 else "[[1, 3]]",
                                 slip="the standard rule" if status == "wrong" and s % 3 else "")
        ok = ability[s] + rng.normal() > -0.5
        second = marking.ItemMark("discriminator", 1.0, 1.0 if ok else 0.0, "right" if ok else "missing")
        auto = marking.PartMark("q1", "a", first.score + second.score, 3.0, items=[first, second])
        hand = marking.PartMark("q2", "a", float(rng.integers(0, 5)) / 2, 2.0, manual=True)
        marks.append(marking.StudentMark(f"s{s}", [auto, hand]))
    return marks


def test_item_statistics_agree_with_a_direct_computation(tmp_path):
    from nnexam.itemstats import item_statistics, items_csv

    marks = constructed_class()
    rows = {(r["question"], r["path"]): r for r in csv.DictReader(io.StringIO(items_csv(item_statistics(marks))))}
    total = np.array([sum(p.score for p in m.parts) for m in marks])
    columns = {("q1", "final_weights"): ([m.parts[0].items[0].score for m in marks], 2.0),
               ("q1", "discriminator"): ([m.parts[0].items[1].score for m in marks], 1.0),
               ("q2", "(by hand)"): ([m.parts[1].score for m in marks], 2.0)}
    for key, (scores, top) in columns.items():
        s = np.array(scores)
        n = len(s)
        mean = s.sum() / n
        sd = math.sqrt(((s - mean) ** 2).sum() / n)
        x, y = s / top, total - s  # item-rest correlation, written out
        dx, dy = x - x.mean(), y - y.mean()
        r = (dx * dy).sum() / math.sqrt((dx ** 2).sum() * (dy ** 2).sum())
        row = rows[key]
        assert float(row["max_points"]) == top and int(row["n"]) == n
        assert float(row["mean"]) == pytest.approx(mean, abs=1e-4)
        assert float(row["sd"]) == pytest.approx(sd, abs=1e-4)
        assert float(row["difficulty"]) == pytest.approx(x.mean(), abs=1e-4)
        assert float(row["discrimination"]) == pytest.approx(r, abs=1e-4)
    wrong = [m.parts[0].items[0] for m in marks if m.parts[0].items[0].status == "wrong"]
    fw = rows[("q1", "final_weights")]
    by_text = {t: sum(i.given_text == t for i in wrong) for t in ("[[1, 2]]", "[[1, 3]]")}
    top_text = max(by_text, key=by_text.get)
    assert (fw["wrong_1"], int(fw["wrong_1_count"])) == (top_text, by_text[top_text])
    assert fw["wrong_1_slip"] == ("the standard rule" if top_text == "[[1, 2]]" else "")
    assert int(rows[("q1", "discriminator")]["missing"]) == sum(m.parts[0].items[1].status == "missing" for m in marks)


def test_each_kind_of_malformed_row_gets_one_line_naming_it(exams, tmp_path):
    rows = [("nobody", "q1", "a", "final_centers", "1"),  # no variant for the student
            ("", "q1", "a", "final_centers", "1"),  # no student id
            ("s1", "q9", "a", "x", "1"),  # unknown question
            ("s1", "q1", "z", "final_centers", "1"),  # unknown part
            ("s1", "q1", "a", "no_such_field", "1"),  # unknown path
            ("s1", "q1", "a", "iterations[x", "1"),  # a path that does not read
            ("s1", "q1", "a", "iterations[9].centers_after", "[[1, 2], [3, 4]]"),  # a position the key lacks
            ("s1", "q1", "a", "final_centers", ""),  # empty value
            ("s1", "q1", "a", "iterations[0].centers_after", "[[1, 2]"),  # unbalanced brackets
            ("s1", "q5", "a", "discriminator", "__import__('os')"),  # refused by the guarded parser
            ("s1", "q5", "b", "generator", "z +* 2"),  # not an expression
            ("s1", "q6", "a", "x", "1")]  # a part marked by hand
    expected = ["no exam for student 'nobody'", "no student_id", "no question 'q9'", "part 'z'",
                "grades no path 'no_such_field'", "cannot read the path", "grades no path 'iterations[9]",
                "unreadable value (empty)", "unbalanced brackets", "unreadable value", "unreadable value",
                "marked by hand"]
    path = write_answers(tmp_path / "a.csv", rows)
    with path.open("a") as f:
        f.write('s1,q1,a,final_centers,"[[1, 2], [3, 4]]",extra\n')  # one cell too many
    expected.append("6 cell(s), the header has 5")
    out = run("mark", str(exams), str(path), "-o", str(tmp_path / "m"), "--no-pdf")
    assert out.returncode == 0 and "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == len(expected) and all(line.startswith("nnexam: warning: a.csv line ") for line in lines)
    for n, fragment in enumerate(expected, start=2):
        line = next(line for line in lines if f"line {n}:" in line)
        assert fragment in line, (n, line)
    assert marks_of(tmp_path / "m")["s1"]["score"] == 0


def test_a_class_of_30_with_feedback_pdfs_statistics_and_clean_json(tmp_path):
    ids = [f"c{i:02d}" for i in range(30)]
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"{s},Student {s}\n" for s in ids))
    out = run("generate", "mock-final", "--roster", str(roster), "--seed", "11", "--keys-only", "-o",
              str(tmp_path / "exams"))
    assert out.returncode == 0, out.stderr
    exams = tmp_path / "exams"
    rows, expected = [], {}
    q1 = sum(rubric_points("q1", "a").values()) + sum(rubric_points("q1", "b").values())
    for n, sid in enumerate(ids):
        mine = correct_rows_q1(exams, sid)
        if n % 3 == 0:  # a third leave out (b)
            mine = [r for r in mine if r[2] != "b"]
        rows += mine
        expected[sid] = q1 - (sum(rubric_points("q1", "b").values()) if n % 3 == 0 else 0)
    out = run("mark", str(exams), str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"),
              "--format", "json")
    assert out.returncode == 0, out.stderr
    students = {s["student_id"]: s["score"] for s in json.loads(out.stdout)["students"]}  # stdout is JSON only
    assert students == pytest.approx(expected)
    assert sorted(p.stem for p in (tmp_path / "m" / "feedback").glob("*.pdf")) == ids
    assert all(p.read_bytes()[:5] == b"%PDF-" for p in (tmp_path / "m" / "feedback").glob("*.pdf"))
    assert (tmp_path / "m" / "report.pdf").read_bytes()[:5] == b"%PDF-"
    with (tmp_path / "m" / "items.csv").open() as f:
        items = {(r["question"], r["part"], r["path"]): r for r in csv.DictReader(f)}
    initial = items[("q1", "b", "initial_centers")]
    assert int(initial["n"]) == 30 and int(initial["missing"]) == 10
    assert float(initial["difficulty"]) == pytest.approx(20 / 30, abs=1e-4)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(tmp_path / "m" / "feedback" / "c00.pdf"), "-"],
                              capture_output=True, text=True).stdout
        assert "Feedback for c00" in text and "First value that departs" in text and "initial_centers" in text


def correct_rows_q1(exams, sid):
    """Q1 right by the numpy Lloyd loop: (a) from the given points, (b) from centres either side of the axis."""
    return [r for r in correct_rows(exams, sid, gan=False) if r[1] == "q1"]


def test_the_progress_bar_goes_to_a_terminal_stderr_and_never_into_the_json(exams, tmp_path):
    pty = pytest.importorskip("pty")
    rows = correct_rows(exams, "s1", gan=False)
    leader, follower = pty.openpty()
    try:
        out = subprocess.run([sys.executable, "-m", "nnexam.cli", "mark", str(exams),
                              str(write_answers(tmp_path / "a.csv", rows)), "-o", str(tmp_path / "m"), "-f", "json"],
                             stdout=subprocess.PIPE, stderr=follower, text=True, timeout=600)
        shown = b""
        while select.select([leader], [], [], 0.5)[0]:
            chunk = os.read(leader, 65536)
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        os.close(follower)
    assert out.returncode == 0
    assert {s["student_id"] for s in json.loads(out.stdout)["students"]} == set(STUDENTS)
    assert b"marking" in shown and b"marking" not in out.stdout.encode()


def test_malformed_entries_of_a_yaml_answers_folder_get_one_line_each(exams, tmp_path):
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "s1.yaml").write_text(
        "- {question: q1, part: a, path: final_centers}\n"  # no value
        "- {question: q1, part: a, value: 3}\n"  # no path
        "- {question: q1, part: a, path: final_centers, value: {a: 1}}\n"  # a mapping
        "- {question: q1, part: a, path: final_centers, value: [[true, 1], [1, 1]]}\n"  # true/false
        "- {question: q5, part: a, path: discriminator, value: 'x/(1 + x)'}\n")  # fine (and wrong)
    out = run("mark", str(exams), str(folder), "-o", str(tmp_path / "m"), "--no-pdf")
    assert out.returncode == 0 and "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert [line.split(":")[2].strip() for line in lines] == [f"s1.yaml answers[{i}]" for i in range(4)]
    assert "empty" in lines[0] and "field name" in lines[1] and "dict" in lines[2] and "bool" in lines[3]
    assert marks_of(tmp_path / "m")["s1"]["score"] == 0


@pytest.mark.parametrize("written", ["9^9^9^9", "(x + 1)^(10^9)", "2^(2^(2^(2^2)))"])
def test_an_answer_that_would_take_sympy_minutes_is_refused_at_once(written):
    """A power beyond 1000 (a tower of numbers, a huge exponent) is refused before anything evaluates it,
    instead of hanging the marking of the whole class; an honest exponent still reads."""
    from nnexam.comparison import ExpressionError, compare

    with pytest.raises(ExpressionError, match="exponent beyond"):
        compare(written, "2*x/(2*x + 1)", label="discriminator")
    assert compare("(2*x)^2/(4*x^2 + 2*x)", "2*x/(2*x + 1)", label="discriminator") == []
