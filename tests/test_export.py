"""`nnexam export`: the Moodle XML and the Canvas QTI package, read back by readers written here from the
published formats (Moodle's XML import format and its cloze syntax; IMS QTI 1.2 with Canvas's question types),
not by the writer's code: no QTI reader from the ecosystem fits (qti-package-maker writes Canvas QTI 1.2 but
refuses to read it; qti2txt has no installable release). Every graded number is checked against the variant
re-solved with `solvers.solve` (and Lloyd's algorithm re-run in numpy), within the marking rule's tolerance; a
STACK answer is read back from Maxima with sympy and compared with the key's expression.
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from sympy.parsing.maxima import parse_maxima

import solvers
from assignments import build, load
from nnexam.cli import main
from nnexam.comparison import answer_tolerance
from nnexam.export import build_banks, canvas_zip, moodle_xml

VARIANTS = 3
SEED = 7
NAME = re.compile(r"^(?P<a>[a-z0-9-]+) (?P<q>q\d+)(?P<p>[a-z]) seed (?P<seed>\d+)"
                  r"(?: redraws (?P<rq>q\d+)=(?P<n>\d+))?$")
GAP = re.compile(r"\{(\d+):(NUMERICAL|NM|MULTICHOICE|MC):([^}]*)\}")  # Moodle's cloze syntax
MATH_COMMANDS = {  # TeX commands MathJax's base and ams packages define, of those our printers may write
    "Sigma", "alpha", "arg", "begin", "cdot", "delta", "det", "ell", "end", "eta", "exp", "frac", "hat", "in", "int",
    "left", "leftarrow", "limits", "log", "mathbb", "mathcal", "mathrm", "max", "operatorname", "partial", "pi",
    "right", "sigma", "sim", "sqrt", "subset", "sum", "text", "tilde", "times", "varphi", "lambda", "mu", "nabla",
    "beta", "gamma", "theta", "phi", "psi", "omega", "epsilon", "rho", "tau", "xi", "kappa", "zeta", "infty", "to",
    "le", "ge", "leq", "geq", "neq", "approx", "cdots", "ldots", "dots", "quad", "qquad", "top", "min", "tanh",
    "sin", "cos", "mathbf", "boldsymbol", "cases", "bmatrix", "pmatrix", "Delta", "odot", "otimes", "prod", "ln",
    "argmax", "mid", "lvert", "rvert", "lVert", "rVert", "emptyset", "forall", "exists", "setminus", "cup", "cap",
    "varepsilon", "mathit", "displaystyle", "tfrac", "dfrac", "Vert", "vert", "langle", "rangle", "prime", "circ",
    "bar", "vec", "dot", "ddot", "overline", "underline", "hline", "sign", "Pr", "lim", "sup", "inf", "Phi",
    "parallel", "lfloor", "rfloor", "mapsto", "texttt",
}


def run(args: list[str]) -> int:
    """`nnexam ARGS` in this process; its exit status."""
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The mock final's banks written both ways (the command itself runs in the tests further down)."""
    folder = tmp_path_factory.mktemp("export")
    banks = build_banks(load("mock-final"), VARIANTS, SEED)
    moodle, canvas = folder / "mock-final.xml", folder / "mock-final-qti.zip"
    moodle.write_bytes(moodle_xml(banks, stack=True))
    canvas.write_bytes(canvas_zip(banks, "Mock Final"))
    return moodle, canvas


# --------------------------------------------------------------------------------------------- the truth


def truth(name: str) -> tuple[str, dict, dict]:
    """The (kind, params, answer) of the part a question name points at, re-solved from the variant's params."""
    m = NAME.match(name)
    assert m, f"question name {name!r} does not carry its variant's seed"
    redraws = {m["rq"]: int(m["n"])} if m["rq"] else {}
    variant = build(load(m["a"]), int(m["seed"]), redraws=redraws)
    part = next(p for q in variant.questions if q.id == m["q"] for p in q.parts if p.id == m["p"])
    return part.spec.kind, part.params, solvers.solve(part.spec.kind, part.params).answer


def lloyd(points, initial_indices):
    """Lloyd's algorithm in numpy, for the centres after each iteration."""
    x = np.asarray(points, float)
    centres = x[list(initial_indices)]
    history, assignment = [], None
    while True:
        new = np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        if assignment is not None and (new == assignment).all():
            return history
        assignment = new
        centres = np.array([x[new == k].mean(0) for k in range(len(centres))])
        history.append(centres)


def expected_numbers(kind: str, params: dict, answer: dict) -> list[float]:
    """The graded numbers in the order the statement asks for them (a set of centres sorted)."""
    if kind == "lloyd":
        history = lloyd(params["points"], params["initial_indices"])
        assert np.allclose(sorted(history[-1].tolist()), sorted(answer["final_centers"]))  # numpy agrees
        rows = [sorted(it["centers_after"]) for it in answer["iterations"]] + [sorted(answer["final_centers"])]
        return [float(v) for c in rows for row in c for v in row]
    if kind == "competitive":
        rows = [s["weights"] for s in answer["steps"]] + [answer["final_weights"]]
        return [float(v) for w in rows for row in w for v in row]
    raise AssertionError(f"no expected numbers for {kind}")


def accepts(value: float, tolerance: float, truth_value: float) -> None:
    """The LMS's interval is the marking rule's: the key written to 4 significant digits lies inside, a value
    two half-units off lies outside."""
    text, tol = answer_tolerance(truth_value, 4)
    assert abs(value - truth_value) <= 1e-12 * max(1, abs(truth_value))
    assert tolerance == pytest.approx(tol, rel=1e-9)
    assert abs(float(text) - value) <= tolerance
    assert abs(truth_value + 2 * tol + 1e-6 - value) > tolerance


# --------------------------------------------------------------------------------------------- Moodle


REQUIRED = {  # Moodle XML format: the children each question type's importer reads
    "cloze": {"name", "questiontext", "generalfeedback"},
    "numerical": {"name", "questiontext", "generalfeedback", "defaultgrade", "answer"},
    "multichoice": {"name", "questiontext", "generalfeedback", "defaultgrade", "single", "answer"},
    "essay": {"name", "questiontext", "generalfeedback", "defaultgrade", "responseformat", "graderinfo"},
    "stack": {"name", "questiontext", "generalfeedback", "defaultgrade", "questionvariables", "input", "prt",
              "specificfeedback"},
}


def moodle_banks(path: Path) -> dict[str, list[ET.Element]]:
    root = ET.parse(path).getroot()
    assert root.tag == "quiz"
    banks: dict[str, list[ET.Element]] = {}
    current = None
    for q in root:
        assert q.tag == "question"
        if q.get("type") == "category":
            current = q.find("category/text").text
            assert current.startswith("$course$/nnexam/mock-final/")
            banks[current] = []
            continue
        assert current is not None, "a question before any category"
        assert q.get("type") in REQUIRED
        assert REQUIRED[q.get("type")] <= {c.tag for c in q}, q.find("name/text").text
        for field in q.iter():
            if field.get("format") == "html":
                assert field.find("text") is not None
                text = field.find("text").text or ""
                for ref in re.findall(r'src="@@PLUGINFILE@@/([^"]+)"', text):  # every image travels with its text
                    files = {f.get("name"): f for f in field.findall("file")}
                    assert ref in files and files[ref].get("encoding") == "base64"
                    assert base64.b64decode(files[ref].text).lstrip().startswith((b"<?xml", b"<svg"))
        banks[current].append(q)
    return banks


def test_moodle_has_one_category_per_part_with_distinct_variants(exports):
    banks = moodle_banks(exports[0])
    spec = load("mock-final")
    labels = [f"$course$/nnexam/mock-final/{q.id}{p.id}" for q in spec.questions for p in q.parts]
    assert list(banks) == labels
    for category, questions in banks.items():
        names = [q.find("name/text").text for q in questions]
        assert len(names) == VARIANTS and len(set(names)) == VARIANTS, category
        draws = set()
        for name in names:
            m = NAME.match(name)
            variant = build(spec, int(m["seed"]), redraws={m["rq"]: int(m["n"])} if m["rq"] else {})
            draws.add(json.dumps(next(q for q in variant.questions if q.id == m["q"]).draw(), sort_keys=True))
        assert len(draws) == VARIANTS, f"{category}: variants repeat"


def test_moodle_cloze_gaps_are_the_key_within_the_marking_tolerance(exports):
    banks = moodle_banks(exports[0])
    checked = 0
    for category in ("$course$/nnexam/mock-final/q1a", "$course$/nnexam/mock-final/q2b"):
        for q in banks[category]:
            assert q.get("type") == "cloze"
            gaps = GAP.findall(q.find("questiontext/text").text)
            kind, params, answer = truth(q.find("name/text").text)
            expected = expected_numbers(kind, params, answer)
            assert len(gaps) == len(expected)
            for (_, gap_type, body), value in zip(gaps, expected, strict=True):
                assert gap_type == "NUMERICAL"
                answer_text, _, tolerance = body.lstrip("=").partition(":")
                accepts(float(answer_text), float(tolerance), value)
                checked += 1
    assert checked > 0


def test_moodle_stack_answers_are_the_key_expressions(exports):
    banks = moodle_banks(exports[0])
    for category, field in (("$course$/nnexam/mock-final/q5a", "discriminator"),
                            ("$course$/nnexam/mock-final/q5b", "generator")):
        for q in banks[category]:
            assert q.get("type") == "stack"
            variables = dict(re.findall(r"(\w+)\s*:\s*([^;]+);", q.find("questionvariables/text").text))
            node = q.find("prt/node")
            assert node.find("answertest").text == "AlgEquiv"
            assert q.find("input/tans").text == node.find("tans").text == "ta1"
            assert "[[input:ans1]]" in q.find("questiontext/text").text
            _, _, answer = truth(q.find("name/text").text)
            key = sp.sympify(answer[field])
            exported = parse_maxima(variables["ta1"])
            assert sp.simplify(exported.subs({s: sp.Symbol(s.name) for s in exported.free_symbols}) - key) == 0


def test_moodle_essays_hold_the_model_answer_and_the_math_is_mathjax(exports):
    banks = moodle_banks(exports[0])
    essay = banks["$course$/nnexam/mock-final/q2a"][0]
    assert essay.get("type") == "essay"
    assert "Hebbian" in essay.find("graderinfo/text").text
    assert float(essay.find("defaultgrade").text) == 1
    q1b = banks["$course$/nnexam/mock-final/q1b"][0]  # any initialization that converges elsewhere is right:
    assert q1b.get("type") == "essay"  # no LMS can check that, so a person marks it
    feedback = banks["$course$/nnexam/mock-final/q1a"][0].find("generalfeedback/text").text
    assert "Worked solution" in feedback and "@@PLUGINFILE@@/" in feedback  # the Voronoi figure
    used, environments = set(), set()
    for questions in banks.values():
        for q in questions:
            for text in q.iter("text"):
                for inline, display in re.findall(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", text.text or "", re.S):
                    used |= set(re.findall(r"\\([A-Za-z]+)", inline + display))
                    environments |= set(re.findall(r"\\begin\{(\w+\*?)\}", inline + display))
                assert "$" not in re.sub(r"\$(course|IMS)", "", text.text or "")  # no TeX left outside MathJax
    assert used and used <= MATH_COMMANDS, sorted(used - MATH_COMMANDS)
    assert environments <= {"bmatrix", "pmatrix", "matrix", "cases", "array", "aligned"}, environments


@pytest.mark.parametrize("target", ["moodle", "canvas"])
def test_the_command_writes_the_file(tmp_path, capsys, target):
    out = tmp_path / f"plain.{'xml' if target == 'moodle' else 'zip'}"
    assert run(["export", "mock-final", "--to", target, "--variants", "1", "-o", str(out)]) == 0
    assert "wrote 14 banks" in capsys.readouterr().out
    if target == "moodle":  # without --stack an expression is an essay holding the key
        q5a = moodle_banks(out)["$course$/nnexam/mock-final/q5a"][0]
        assert q5a.get("type") == "essay" and "Key" in q5a.find("graderinfo/text").text
    else:
        assert len(canvas_sections(out)[0]) == 14


# --------------------------------------------------------------------------------------------- Canvas


QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"


def canvas_sections(path: Path) -> tuple[list[ET.Element], zipfile.ZipFile]:
    zf = zipfile.ZipFile(path)
    manifest = ET.fromstring(zf.read("imsmanifest.xml"))
    ns = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
    quiz = [r for r in manifest.iter(f"{ns}resource") if r.get("type") == "imsqti_xmlv1p2"]
    assert len(quiz) == 1
    for resource in manifest.iter(f"{ns}resource"):
        for f in resource.iter(f"{ns}file"):
            assert f.get("href") in zf.namelist()
    root = ET.fromstring(zf.read(quiz[0].find(f"{ns}file").get("href")))
    assessment = root.find(f"{QTI}assessment")
    return assessment.find(f"{QTI}section").findall(f"{QTI}section"), zf


def metadata(item: ET.Element) -> dict[str, str]:
    return {f.find(f"{QTI}fieldlabel").text: f.find(f"{QTI}fieldentry").text
            for f in item.iter(f"{QTI}qtimetadatafield")}


def test_canvas_has_one_pick_one_group_per_part(exports):
    sections, zf = canvas_sections(exports[1])
    spec = load("mock-final")
    assert [s.get("title") for s in sections] == [f"mock-final {q.id}{p.id}" for q in spec.questions for p in q.parts]
    points = {f"{q.id}{p.id}": p.points for q in spec.questions for p in q.parts}
    figures = 0
    for s in sections:
        assert s.find(f"{QTI}selection_ordering/{QTI}selection/{QTI}selection_number").text == "1"
        per_item = s.find(f"{QTI}selection_ordering/{QTI}selection/{QTI}selection_extension/{QTI}points_per_item")
        assert float(per_item.text) == points[s.get("title").split()[-1]]
        items = s.findall(f"{QTI}item")
        assert len({i.get("title") for i in items}) == VARIANTS
        for item in items:
            assert metadata(item)["question_type"] in {"numerical_question", "fill_in_multiple_blanks_question",
                                                       "multiple_choice_question", "essay_question"}
            for text in item.iter(f"{QTI}mattext"):
                for ref in re.findall(r'src="%24IMS-CC-FILEBASE%24/([^"]+)"', text.text or ""):
                    assert ref in zf.namelist()
                    figures += 1
    assert figures > 0  # the Voronoi cells and the densities of the worked solutions


def test_canvas_blanks_accept_the_key(exports):
    sections, _ = canvas_sections(exports[1])
    checked = 0
    for s in sections:
        if s.get("title").split()[-1] not in ("q1a", "q2b"):
            continue
        for item in s.findall(f"{QTI}item"):
            assert metadata(item)["question_type"] == "fill_in_multiple_blanks_question"
            expected = expected_numbers(*truth(item.get("title")))
            text = item.find(f"{QTI}presentation/{QTI}material/{QTI}mattext").text
            blanks = re.findall(r"\[(b\d+)\]", text)
            assert len(blanks) == len(expected)
            labels = {}
            for lid in item.iter(f"{QTI}response_lid"):
                labels[lid.get("ident")] = {r.get("ident"): r.find(f"{QTI}material/{QTI}mattext").text
                                            for r in lid.iter(f"{QTI}response_label")}
            scored = {(c.find(f"{QTI}conditionvar/{QTI}varequal").get("respident"),
                       c.find(f"{QTI}conditionvar/{QTI}varequal").text)
                      for c in item.iter(f"{QTI}respcondition") if c.find(f"{QTI}setvar") is not None
                      and c.find(f"{QTI}conditionvar/{QTI}varequal") is not None}
            for blank, value in zip(blanks, expected, strict=True):
                answers = labels[f"response_{blank}"]
                rounded = answer_tolerance(value, 4)[0]
                assert rounded in answers.values()  # the key as the statement asks for it is accepted
                for ident, written in answers.items():
                    assert (f"response_{blank}", ident) in scored
                    tol = answer_tolerance(value, 4)[1]
                    assert abs(float(written) - value) <= tol
                checked += 1
    assert checked > 0


def test_canvas_numerical_range_is_the_marking_tolerance():
    from nnexam.export.banks import Entry, Group, blank_for
    from nnexam.export.canvas import QTI as NAMESPACE
    from nnexam.export.canvas import qti_item

    blank = blank_for("alpha", 1 / 3, 1)
    entry = Entry(name="hw7 q1a seed 1", kind="numerical", points=2, blanks=[blank],
                  groups=[Group("alpha", [[0]])])
    xml = ET.tostring(qti_item(entry, "x"), encoding="unicode")
    wrapped = f'<questestinterop xmlns="{NAMESPACE}">{xml}</questestinterop>'
    item = ET.fromstring(wrapped).find(f"{QTI}item")
    assert metadata(item)["question_type"] == "numerical_question"
    low = float(next(item.iter(f"{QTI}vargte")).text)
    high = float(next(item.iter(f"{QTI}varlte")).text)
    tol = answer_tolerance(1 / 3, 4)[1]
    assert low == pytest.approx(1 / 3 - tol) and high == pytest.approx(1 / 3 + tol)
    assert low <= 0.3333 <= high and not low <= 0.3332 <= high


# --------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args, words", [
    (["export", "no-such-exam", "--to", "moodle"], "unknown assignment"),
    (["export", "mock-final", "--to", "blackboard"], "unknown target"),
    (["export", "mock-final", "--to", "canvas", "--stack"], "--stack is for Moodle"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, capsys, args, words):
    out = tmp_path / "out.xml"
    assert run([*args, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert list(tmp_path.iterdir()) == []


def test_more_variants_than_a_sampler_draws_is_refused():
    """Q5's sampler narrowed to two densities: three variants cannot be distinct, and the export says so."""
    import dataclasses

    from assignments.mock_final import samplers
    from nnexam.export import ExportError, build_banks

    spec = load("mock-final")

    def two_densities(rng):
        density = samplers.pick(rng, ["2*x", "3*x**2"])
        return {"a": {"data_density": density, "support": [0, 1], "generator": "z"},
                "b": {"data_density": density, "support": [0, 1], "noise": "uniform"}}

    spec = dataclasses.replace(spec, questions=[
        dataclasses.replace(q, sampler=dataclasses.replace(q.sampler, draw=two_densities)) if q.id == "q5" else q
        for q in spec.questions])
    with pytest.raises(ExportError, match="distinct variants"):
        build_banks(spec, 3, 0)


def test_nothing_exportable_is_refused():
    import dataclasses

    from nnexam.export import ExportError, build_banks

    spec = load("hw7")
    code_only = dataclasses.replace(spec, questions=[dataclasses.replace(q, parts=[
        dataclasses.replace(p, kind=None, params=None, answer=None, code=p.code or "hw7/q1") for p in q.parts])
        for q in spec.questions])
    with pytest.raises(ExportError, match="nothing to export"):
        build_banks(code_only, 1, 0)


@pytest.mark.parametrize("value", [1 / 3, -0.975, 2.5, 12.3456, 0.0123456, -7.0, 3.0])
def test_the_lms_interval_is_what_nnexam_mark_accepts(value):
    """A student who writes 4 significant digits: the LMS's interval and `nnexam mark`'s comparison agree."""
    from nnexam.comparison import Written, compare

    text, tol = answer_tolerance(value, 4)
    unit = 0.0 if "." not in text else 10.0 ** -len(text.partition(".")[2])
    for k in (-2, -1, 0, 1, 2):
        written = float(text) + k * unit if unit else float(text) + k
        shown = f"{written:#.4g}" if unit else str(int(written))
        in_interval = abs(written - value) <= tol
        marked = not compare(Written(float(shown), shown), value)
        assert in_interval == marked, (value, shown)


def test_text_inside_math_is_what_mathjax_shows():
    """MathJax shows a `\\text{}` argument as it is: LaTeX's text escapes must not reach it."""
    from nnexam.export.html import to_html

    latex = r"\[ S = \text{sum of ||C\_a(n) - x\_n||\textasciicircum{}2, 50\%} \]"
    (html,) = to_html([latex])
    math = re.search(r"\\\[(.*?)\\\]", html, re.S).group(1)
    for argument in re.findall(r"\\text\{([^{}]*)\}", math):
        assert "\\" not in argument, math
    shown = re.sub(r"\\text\{([^{}]*)\}", r"\1", math).replace(r"\_", "_").replace(r"\%", "%")
    assert "sum of ||C_a(n) - x_n||^2, 50%" in shown
    (roman,) = to_html([r"\( \mathrm{final centers} = 2 \)"])
    assert r"\mathrm{final\ centers}" in roman  # math mode would drop a plain space
