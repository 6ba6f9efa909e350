"""The comparison engine on example submissions: references and other styles earn full marks, each mistake
loses the points of the checks it breaks, with feedback naming it."""


import pytest

from autograder.engine import grade_submission
from autograder.results import gradescope
from tests.patches import submission


def scores(assignment, name):
    results = grade_submission(assignment, submission(f"{assignment}/{name}"))
    return {q.id: q for q in results}


@pytest.mark.parametrize("name", ["reference_copy.py", "other_style.py"])
def test_hw5_correct_styles_earn_full_marks(name):
    results = scores("hw5", name)
    for q in results.values():
        assert q.score == q.max_score, q.output()


def test_hw5_seed_slope_slip_loses_phi_prime_and_backward():
    q2 = scores("hw5", "wrong_phi_prime.py")["q2"]
    checks = {c.name: c for c in q2.checks}
    assert checks["phi"].score == checks["phi"].points
    assert checks["phi_prime"].score == 0 and "phi_prime(v) differs" in checks["phi_prime"].message
    assert checks["backward"].score < checks["backward"].points
    assert checks["forward"].score == checks["forward"].points


def test_hw5_sign_error_names_the_component():
    results = scores("hw5", "sign_error.py")
    gradient = next(c for c in results["q1"].checks if c.name == "gradient")
    assert gradient.score == 0 and "index (1,)" in gradient.message
    assert results["q2"].score == results["q2"].max_score


def test_gradescope_object_shape():
    obj = gradescope(grade_submission("hw5", submission("hw5/reference_copy.py")))
    assert obj["score"] == obj["max_score"] == 20
    assert [t["name"] for t in obj["tests"]] == ["q1", "q2"]
    assert all({"score", "max_score", "output", "visibility"} <= set(t) for t in obj["tests"])


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["hw6", "hw7"])
def test_module_references_earn_full_marks(assignment):
    for q in scores(assignment, "reference_copy.py").values():
        assert q.score == q.max_score, q.output()


@pytest.mark.slow
def test_hw7_restyled_and_wrong_submissions():
    restyled = scores("hw7", "restyled.py")
    for q in restyled.values():
        assert q.score == q.max_score, q.output()
    wrong = scores("hw7", "wrong_temperature_and_layer.py")
    q1 = {c.name: c for c in wrong["q1"].checks}
    assert q1["structure"].score == q1["structure"].points
    assert q1["output"].score == 0 and "differs" in q1["output"].message
    q2 = {c.name: c for c in wrong["q2"].checks}
    assert q2["structure"].score == 0 and "layer your forward pass calls" in q2["structure"].message
