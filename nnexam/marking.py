"""Marking students' answers against the key of their own variant, with follow-through credit.

    exams = load_exams(Path("exams"))                   # what `nnexam generate ... --roster` wrote
    answers, bad = read_answers(Path("answers.csv"), exams)
    result = mark(exams, answers, follow_through="full")

A part is marked on its rubric (`key.json`: `rubric`, a list of `{path, points}`, optionally `unordered: true`
for a set written as a list; a `[*]` in a path stands for every position the key has, the points shared equally
among them); without one, the part's points go to its
final answer fields (`FINAL_FIELDS`). Parts without a kind, worked illustrations and parts marked `manual` are
marked by a person (`merge_manual`).

Each graded value is compared with the truth by `nnexam.comparison.compare` (the audit's engine). Follow-through:
where a value is one state of a computation that can be resumed (`RESUMABLE`: Lloyd's centres after an
iteration, competitive learning's weights after a presentation, backpropagation's hidden activations), the
solver is re-run from the student's own value, and later values that match that re-run earn `full`, `half` or
`none` of their points. A degenerate state (all zeros, or the state before it copied unchanged while the truth
moved) earns no follow-through. A wrong value that a known slip gives (`SLIPS`: the computation re-solved with
one parameter changed) is named in the feedback. A rubric entry with a `check` (`CHECKS`) is marked by what the
student's value leads to, not by equality: Q1b's initial centres earn their points when Lloyd's algorithm, run
from them, stops elsewhere than Q1a; the values after it are checked against that run.

Every mark is kept as data (`ItemMark`), which the item statistics (`nnexam.itemstats`) and the feedback
documents (`nnexam.gradebook`) read. `copy_flags` finds answers right for another student's variant through an
index of the right values by canonical key, not by comparing all pairs.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

import solvers
from solvers import lloyd
from solvers.core import to_json
from solvers.errors import NnexamError
from solvers.networks import derivative, read_network
from solvers.networks import forward as forward_values

from .audit.keys import KeyFormatError, KeyLoader, parse_path, path_text, resolve
from .comparison import ExpressionError, Written, compare, compare_unordered, read_expression

ANSWER_FIELDS = ("student_id", "question", "part", "path", "value")
MANUAL_FIELDS = ("student_id", "question", "part", "score")
FOLLOW_THROUGH = {"full": 1.0, "half": 0.5, "none": 0.0}
FINAL_FIELDS = {"lloyd": ["final_centers"], "competitive": ["final_weights"],
                "gan_discriminator": ["discriminator"], "gan_generator": ["generator"]}


class MarkingError(NnexamError):
    """An exams folder, answers file or manual-scores file that cannot be used at all."""


# --------------------------------------------------------------------------------------------- exams


@dataclass
class Item:
    """One graded value of a part: its path (tokens), points, and whether it is a set (order free)."""

    path: str
    tokens: list[str | int]
    points: float
    unordered: bool = False
    check: str | None = None  # a value marked by what it leads to (`CHECKS`), not by equality with the key
    than: str | None = None  # the part whose answer the check compares with

    def compare(self, claimed: Any, truth: Any) -> list[str]:
        """The comparison engine's problems (memoized: in a class, many answers meet the same truth)."""
        memo = (self.path, self.unordered, _fingerprint(claimed), _fingerprint(truth))
        if memo not in COMPARED:
            if len(COMPARED) > COMPARED_LIMIT:
                COMPARED.clear()
            COMPARED[memo] = (compare_unordered if self.unordered else compare)(claimed, truth, label=self.path)
        return COMPARED[memo]


COMPARED: dict[tuple, list[str]] = {}
COMPARED_LIMIT = 200_000


def _fingerprint(value: Any) -> Any:
    """A hashable stand-in for a value that keeps what the comparison reads (a decimal's written digits)."""
    if isinstance(value, list):
        return tuple(_fingerprint(v) for v in value)
    if isinstance(value, Written):
        return ("written", value.text)
    return (type(value).__name__, value if isinstance(value, (str, int, float, bool)) or value is None
            else repr(value))


@dataclass
class PartKey:
    question: str
    part: str
    points: float
    kind: str | None
    params: Any
    answer: Any
    items: list[Item]

    @property
    def manual(self) -> bool:
        return not self.items


@dataclass
class Exam:
    """One student's variant: their key, part by part."""

    student_id: str
    folder: str
    parts: dict[tuple[str, str], PartKey]


def load_exams(folder: Path) -> dict[str, Exam]:
    """The students of an exams folder (its variants.json names each student's variant folder)."""
    index = folder / "variants.json"
    if not index.is_file():
        raise MarkingError(f"{folder}: no variants.json; expected a folder written by "
                           "`nnexam generate ASSIGNMENT --roster ROSTER -o FOLDER`")
    try:
        manifest = json.loads(index.read_text(encoding="utf-8"))
        entries = manifest["variants"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MarkingError(f"{index}: not a variants index ({type(exc).__name__})") from exc
    exams = {}
    for entry in entries:
        student = entry.get("student") if isinstance(entry, dict) else None
        if not student:
            raise MarkingError(f"{index}: variant {entry.get('folder') if isinstance(entry, dict) else entry!r} has "
                               "no student; generate the exams with --roster")
        key_file = folder / entry["folder"] / "key.json"
        try:
            key = json.loads(key_file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise MarkingError(f"{key_file}: missing (generate writes one per student)") from exc
        except ValueError as exc:
            raise MarkingError(f"{key_file}: not valid JSON") from exc
        exams[str(student["id"])] = _exam(str(student["id"]), entry["folder"], key, key_file)
    return exams


def _exam(student_id: str, folder: str, key: dict, where: Path) -> Exam:
    parts = {}
    for q in key["questions"]:
        for p in q["parts"]:
            if p.get("kind") == "backprop" and isinstance(p.get("answer"), dict) and p.get("rubric") and \
                    not (p.get("params") or {}).get("batch"):
                p = {**p, "answer": {**_forward_details(json.dumps(p["params"], sort_keys=True)), **p["answer"]}}
            items = graded_items(p, f"{where}: {q['id']}")
            parts[(q["id"], p["id"])] = PartKey(q["id"], p["id"], float(p["points"]), p.get("kind"),
                                                p.get("params"), p.get("answer"), items)
    return Exam(student_id, folder, parts)


@lru_cache(maxsize=1024)
def _forward_details(params_json: str) -> dict[str, Any]:
    """backprop's forward values (pre_activations, activations, output), which its key leaves in `details`, so
    that a rubric can grade the hidden activations."""
    return {f: to_json(v) for f, v in solvers.solve("backprop", json.loads(params_json)).details.items()}


def graded_items(part: dict, where: str) -> list[Item]:
    """The graded values of a part: its rubric with `[*]` expanded over the key, or its final fields."""
    answer = part.get("answer")
    if part.get("manual") or answer is None or (part.get("illustration") and not part.get("rubric")):
        return []
    rubric = part.get("rubric") or [{"path": f, "points": None} for f in _final_fields(part["kind"], answer)]
    if all(r["points"] is None for r in rubric):
        rubric = [{"path": r["path"], "points": part["points"] / len(rubric)} for r in rubric]
    items = []
    for entry in rubric:
        paths = _expand(entry["path"], answer, f"{where}{part['id']}.rubric")
        if entry.get("check") and entry["check"] not in CHECKS:
            raise MarkingError(f"{where}{part['id']}.rubric: unknown check {entry['check']!r}; "
                               f"one of {', '.join(CHECKS)}")
        items += [Item(p, parse_path(p, where), float(entry["points"]) / len(paths), bool(entry.get("unordered")),
                       entry.get("check"), entry.get("than")) for p in paths]
    return items


def _final_fields(kind: str, answer: dict) -> list[str]:
    if kind in FINAL_FIELDS:
        return FINAL_FIELDS[kind]
    finals = [k for k in answer if k.startswith("final") and not k.endswith("_exact")]
    return finals or [k for k in answer if not k.endswith("_exact")]


def _expand(path: str, answer: Any, where: str) -> list[str]:
    """`steps[*].weights` -> `steps[0].weights`, `steps[1].weights`, ... as many as the key has."""
    head, star, tail = path.partition("[*]")
    if not star:
        return [path]
    items = resolve(answer, parse_path(head, where), where, "key")
    return [p for i in range(len(items)) for p in _expand(f"{head}[{i}]{tail}", answer, where)]


# --------------------------------------------------------------------------------------------- answers


@dataclass
class Answer:
    where: str  # "answers.csv line 4", for the one-line notes
    value: Any
    text: str = ""  # as written


def read_answers(source: Path, exams: dict[str, Exam]
                 ) -> tuple[dict[str, dict[tuple[str, str, str], Answer]], list[str]]:
    """Answers per student, keyed by (question, part, path), and one line per bad row (skipped)."""
    rows, bad = _table(source, ANSWER_FIELDS) if source.is_file() else (_folder_rows(source), [])
    answers: dict[str, dict[tuple[str, str, str], Answer]] = {}
    for where, row in rows:
        sid, qid, pid, path = (str(row.get(f) if row.get(f) is not None else "").strip() for f in ANSWER_FIELDS[:4])
        exam = exams.get(sid)
        if exam is None:
            bad.append(f"{where}: no student_id" if not sid else
                       f"{where}: no exam for student {sid!r} in the exams folder")
            continue
        part = exam.parts.get((qid, pid))
        if part is None:
            bad.append(f"{where}: student {sid} has no question {qid!r} part {pid!r}")
            continue
        if part.manual:
            bad.append(f"{where}: {qid}({pid}) is marked by hand (give its score with --manual)")
            continue
        try:
            canonical = path_text(parse_path(path, where))
        except KeyFormatError as exc:
            bad.append(str(exc))
            continue
        if canonical not in {i.path for i in part.items}:
            graded = ", ".join(i.path for i in part.items)
            bad.append(f"{where}: {qid}({pid}) grades no path {path!r}; it grades: {graded}")
            continue
        try:
            if row.get("value") is None:
                raise ValueError("empty")
            value = read_value(row.get("value"))
            _plain(value)  # a number, an expression or a list of them (not a mapping, not true/false)
        except (ValueError, TypeError) as exc:
            bad.append(f"{where}: unreadable value ({exc})")
            continue
        raw = row.get("value")
        earlier = answers.get(sid, {}).get((qid, pid, canonical))
        if earlier is not None:
            bad.append(f"{where}: {sid} answers {qid}({pid}) {canonical} again ({earlier.where}); this row counts")
        answers.setdefault(sid, {})[(qid, pid, canonical)] = Answer(where, value, raw if isinstance(raw, str) else
                                                                    json.dumps(_plain(value)))
    return answers, bad


def read_value(raw: Any) -> Any:
    """A written answer: JSON (decimals keep their digits as `Written`), else the text as an expression."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if not text:
        raise ValueError("empty")
    try:
        return json.loads(text, parse_float=lambda s: Written(float(s), s))
    except ValueError:
        return _bracketed(text) if text.startswith("[") else text


def _bracketed(text: str) -> Any:
    """`[[-99/200, 2], [1/2, x]]`: a list whose entries are numbers or expressions."""
    text = text.strip()
    if not text.startswith("["):
        return read_value(text)
    if not text.endswith("]"):
        raise ValueError(f"unbalanced brackets in {text!r}")
    entries, depth, start, inner = [], 0, 0, text[1:-1]
    for i, ch in enumerate(inner):
        depth += (ch in "([") - (ch in ")]")
        if depth < 0:
            raise ValueError(f"unbalanced brackets in {text!r}")
        if ch == "," and depth == 0:
            entries.append(inner[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"unbalanced brackets in {text!r}")
    entries.append(inner[start:])
    if entries == [""]:
        return []
    return [_bracketed(e) for e in entries]


def _folder_rows(folder: Path) -> list[tuple[str, dict]]:
    """Per-student YAML/JSON files: a list of rows (student_id defaults to the file's name)."""
    if not folder.is_dir():
        raise MarkingError(f"{folder}: no such answers file or folder")
    rows = []
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    if not files:
        raise MarkingError(f"{folder}: no .yaml, .yml or .json answer files")
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            data = json.loads(text, parse_float=lambda s: Written(float(s), s)) if file.suffix == ".json" else \
                yaml.load(text, Loader=KeyLoader)  # noqa: S506 (a SafeLoader that refuses aliases)
        except (ValueError, yaml.YAMLError) as exc:
            raise MarkingError(f"{file}: not valid {file.suffix[1:].upper()}") from exc
        if isinstance(data, dict):
            data = data.get("answers")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise MarkingError(f"{file}: expected a list of answers with fields {', '.join(ANSWER_FIELDS[1:])}")
        for i, row in enumerate(data):
            rows.append((f"{file.name} answers[{i}]", {"student_id": file.stem, **row}))
    return rows


# --------------------------------------------------------------------------------------------- marking


@dataclass
class ItemMark:
    """How one graded value was marked: `status` is right, followed (wrong, but what the student's own earlier
    value leads to), wrong, missing or unreadable; `given` the student's value, `truth` the right one (for a
    value after a check: what the student's own start leads to), `slip` the known slip that gives `given`."""

    path: str
    points: float
    score: float
    status: str
    given: Any = None
    given_text: str = ""
    truth: Any = None
    slip: str = ""
    explanation: str = ""  # for a value marked by a check: what it led to, in place of a right value


@dataclass
class PartMark:
    question: str
    part: str
    score: float
    max_score: float
    feedback: list[str] = field(default_factory=list)
    manual: bool = False
    items: list[ItemMark] = field(default_factory=list)

    def note(self, item: Item, score: float, status: str, line: str, answer: Answer | None = None,
             truth: Any = None, slip: str = "", explanation: str = "") -> None:
        self.score += score
        self.feedback.append(line)
        self.items.append(ItemMark(item.path, item.points, score, status, None if answer is None else answer.value,
                                   "" if answer is None else answer.text, truth, slip, explanation))


@dataclass
class StudentMark:
    student_id: str
    parts: list[PartMark]

    @property
    def score(self) -> float:
        return sum(p.score for p in self.parts)

    @property
    def max_score(self) -> float:
        return sum(p.max_score for p in self.parts)


def mark(exams: dict[str, Exam], answers: dict[str, dict[tuple[str, str, str], Answer]],
         follow_through: str = "full", progress: Callable[[], None] | None = None
         ) -> tuple[list[StudentMark], list[str]]:
    """Every student of `exams` marked (no answers: zero), and one line per answer that could not be read;
    `progress()` is called after each student."""
    if follow_through not in FOLLOW_THROUGH:
        raise MarkingError(f"unknown follow-through {follow_through!r}; one of {', '.join(FOLLOW_THROUGH)}")
    bad: list[str] = []
    marks = []
    for sid, exam in exams.items():
        given = answers.get(sid, {})
        parts = [PartMark(p.question, p.part, 0.0, p.points, ["marked by hand"], True) if p.manual
                 else _mark_part(p, given, FOLLOW_THROUGH[follow_through], bad, exam) for p in exam.parts.values()]
        marks.append(StudentMark(sid, parts))
        if progress is not None:
            progress()
    return marks, bad


def _mark_part(part: PartKey, given: dict[tuple[str, str, str], Answer], share: float, bad: list[str],
               exam: Exam | None = None) -> PartMark:
    result = PartMark(part.question, part.part, 0.0, part.points)
    reference = part.answer  # the truth, or the solver re-run from the student's own last state
    resumed = False
    own_run: Any = None  # after a check item: the solver run from the student's own value (its truth)
    checked = passed = False
    for item in part.items:
        answer = given.get((part.question, part.part, item.path))
        pts = _pts(item.points)
        if item.check:
            earned, line, own_run = CHECKS[item.check](part, item, answer, exam)
            checked, passed = True, earned > 0
            status = "right" if passed else "missing" if answer is None else "wrong"
            explanation = re.sub(r"^right: ", "", line.removeprefix(f"{item.path}: ").rsplit(" (", 1)[0])
            result.note(item, earned, status, line, answer, explanation=explanation)
            continue
        if checked:
            _mark_own_run(result, item, answer, own_run, passed)
            continue
        truth = resolve(part.answer, item.tokens, item.path, "key")
        if answer is None:
            result.note(item, 0.0, "missing", f"{item.path}: no answer (0/{pts}); the answer is {_show(truth)}",
                        None, truth)
            continue
        try:
            problems = item.compare(answer.value, truth)
            ok_then = resumed and reference is not None and \
                not item.compare(answer.value, resolve(reference, item.tokens, item.path, "re-run"))
        except (ExpressionError, ValueError, TypeError) as exc:
            bad.append(f"{answer.where}: unreadable value ({exc})")
            problems, ok_then = [f"{item.path}: unreadable"], False
        except KeyFormatError:
            ok_then = False
        if not problems:
            result.note(item, item.points, "right", f"{item.path}: right ({pts}/{pts})", answer, truth)
        elif ok_then and share:
            result.note(item, share * item.points, "followed",
                        f"{item.path}: wrong ({_show(truth)} is right), but it follows from your own earlier value "
                        f"({_pts(share * item.points)}/{pts})", answer, truth)
        elif problems == [f"{item.path}: unreadable"]:
            result.note(item, 0.0, "unreadable", f"{item.path}: unreadable, the answer is {_show(truth)} (0/{pts})",
                        answer, truth)
        else:
            slip = known_slip(part, item, answer.value)
            result.note(item, 0.0, "wrong", f"{item.path}: wrong, the answer is {_show(truth)} (0/{pts})"
                        + (f"; your value is what {slip} gives" if slip else ""), answer, truth, slip)
        if part.kind in RESUMABLE and share:
            step = RESUMABLE[part.kind](part.params, part.answer, item.tokens, answer.value, bool(problems))
            if step is not None:
                reference, resumed = step
    result.score = round(result.score, 9)
    return result


def _mark_own_run(result: PartMark, item: Item, answer: Answer | None, own_run: Any, passed: bool) -> None:
    """A value after a check item: right when the solver, run from the student's own value, gives it."""
    pts = _pts(item.points)
    if answer is None:
        result.note(item, 0.0, "missing", f"{item.path}: no answer (0/{pts})")
        return
    if own_run is None:
        result.note(item, 0.0, "wrong", f"{item.path}: nothing to check it against without a usable starting "
                                        f"value (0/{pts})", answer)
        return
    truth = resolve(own_run, item.tokens, item.path, "re-run")
    try:
        problems = item.compare(answer.value, truth)
    except (ExpressionError, ValueError, TypeError):
        problems = ["unreadable"]
    if problems:
        result.note(item, 0.0, "wrong", f"{item.path}: wrong; from your starting value it is {_show(truth)} "
                                        f"(0/{pts})", answer, truth)
    elif not passed:
        result.note(item, 0.0, "wrong", f"{item.path}: right for your starting value, but that is the answer the "
                                        f"question asks you to avoid (0/{pts})", answer, truth)
    else:
        result.note(item, item.points, "right", f"{item.path}: right for your starting value ({pts}/{pts})",
                    answer, truth)


def _pts(points: float) -> str:
    return f"{points:g}"


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


# --------------------------------------------------------------------------------------------- known slips

def _slope_left_out(params: dict) -> dict | None:
    """backprop with every sigmoid's slope a dropped (sigma(v) for sigma(a v), and sigma' without the a)."""
    layers = params.get("layers") or []
    if not any(layer.get("activation") == "sigmoid" and layer.get("slope", 1) != 1 for layer in layers):
        return None
    return {**params, "layers": [{**layer, "slope": 1} if layer.get("activation") == "sigmoid" else layer
                                 for layer in layers]}


SLIPS = {"competitive": [("rounding halves away from zero", {"rounding": "half_away"}),
                         ("breaking a tie towards the highest index", {"tie_break": "highest"}),
                         ("breaking a tie towards the lowest index", {"tie_break": "lowest"}),
                         ("the standard rule w += eta (x - w) (without the output y)", {"rule": "standard"})],
         "backprop": [("leaving out the sigmoid's slope", _slope_left_out)]}


def known_slip(part: PartKey, item: Item, value: Any) -> str:
    """The known slip (the computation re-solved with a parameter changed, e.g. rounding away from zero: a
    dict of new values, or a function of the params giving the changed ones, None where it cannot apply)
    whose value at this path equals the student's, or ""."""
    if not isinstance(part.params, dict):
        return ""
    for name, change in SLIPS.get(part.kind or "", []):
        changed = change(part.params) if callable(change) else \
            None if all(part.params.get(k) == v for k, v in change.items()) else {**part.params, **change}
        if changed is None:
            continue
        try:
            text = json.dumps(changed, sort_keys=True)
            other = _solve_json(part.kind, text)
            if part.kind == "backprop":
                other = {**_forward_details(text), **other}
            if not item.compare(value, resolve(other, item.tokens, item.path, "slip")):
                return name
        except (NnexamError, ValueError, TypeError, KeyFormatError):
            continue
    return ""


@lru_cache(maxsize=1024)
def _solve_json(kind: str, params_json: str) -> Any:
    return solvers.solve(kind, json.loads(params_json)).to_json()["answer"]


# --------------------------------------------------------------------------------------------- follow-through


def _plain(value: Any) -> Any:
    """A student's value as solver parameters: numbers as floats, expressions as their text."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"expected a number, an expression or a list, got {type(value).__name__}")
    return value if isinstance(value, str) else float(value)


def _degenerate(state: Any, before: Any, truth: Any) -> bool:
    """All zeros, or the state before copied unchanged while the truth moved."""
    flat = json.dumps(_plain(state))
    zeros = all(float(x) == 0 for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", flat))
    return zeros or (not compare(state, before) and bool(compare(before, truth)))


def _resume_lloyd(params: dict, answer: dict, tokens: list, value: Any, wrong: bool) -> tuple[Any, bool] | None:
    """After `iterations[k].centers_after`: iterations k+1... and the final values re-run from the student's
    centres (the reference is the key again when the student's centres are right)."""
    if len(tokens) != 3 or tokens[0] != "iterations" or tokens[2] != "centers_after":
        return None
    if not wrong:
        return answer, False
    k = tokens[1]
    try:
        if _degenerate(value, answer["iterations"][k]["centers_before"], answer["iterations"][k]["centers_after"]):
            return None, True
        rerun = solvers.solve("lloyd", {"points": params["points"], "initial_centers": _plain(value)}).to_json()
    except (NnexamError, ValueError, TypeError):
        return None, True
    reference = copy.deepcopy(answer)
    reference["iterations"] = answer["iterations"][:k + 1] + rerun["answer"]["iterations"][1:]
    for name in ("final_centers", "final_assignments", "final_energy"):
        reference[name] = rerun["answer"][name]
    return reference, True


def _resume_competitive(params: dict, answer: dict, tokens: list, value: Any, wrong: bool
                        ) -> tuple[Any, bool] | None:
    """After `steps[k].weights`: the later presentations (same points, same order) from the student's weights."""
    if len(tokens) != 3 or tokens[0] != "steps" or tokens[2] != "weights":
        return None
    if not wrong:
        return answer, False
    k = tokens[1]
    steps = answer["steps"]
    before = steps[k - 1]["weights"] if k else params["initial_weights"]
    try:
        if _degenerate(value, before, steps[k]["weights"]):
            return None, True
        reference = copy.deepcopy(answer)
        reference["steps"][k]["weights"] = _plain(value)
        rest = steps[k + 1:]
        reference["final_weights"] = _plain(value)
        if rest:
            rerun = solvers.solve("competitive", {**params, "initial_weights": _plain(value), "epochs": 1,
                                                  "points": [params["points"][s["point_index"]] for s in rest]})
            later = rerun.to_json()["answer"]
            for j, step in enumerate(later["steps"]):
                reference["steps"][k + 1 + j] = {**step, "epoch": rest[j]["epoch"],
                                                 "point_index": rest[j]["point_index"]}
            reference["final_weights"] = later["final_weights"]
    except (NnexamError, ValueError, TypeError):
        return None, True
    return reference, True


FORWARD_FIELDS = ("pre_activations", "activations", "output")  # backprop's forward values (its `details`)


def _resume_backprop(params: dict, answer: dict, tokens: list, value: Any, wrong: bool) -> tuple[Any, bool] | None:
    """After `activations[k]` (a hidden layer): the layers above run forward from the student's a^(k) (their
    pre-activations, activations, output, loss), and the backward pass follows: deltas and gradients of the
    layers above from that run, grad_W^(k+1) = delta^(k+1) (a^(k))^T with the student's a^(k), and the layers
    at and below k through delta^(j) = ((W^(j+1))^T delta^(j+1)) * g'(v^(j)) at the key's pre-activations.
    A single sample (no batch) and elementwise hidden activations only."""
    layers = params.get("layers") or []
    if len(tokens) != 2 or tokens[0] != "activations" or not isinstance(tokens[1], int) \
            or not 0 <= tokens[1] < len(layers) - 1 or params.get("batch") is not None:
        return None
    if not wrong:
        return answer, False
    k = tokens[1]
    try:
        if _degenerate(value, params["x"] if k == 0 else answer["activations"][k - 1], answer["activations"][k]):
            return None, True
        net = read_network({f: params[f] for f in ("x", "layers", "target", "loss")}, need_loss=True)
        if any(layer.activation == "softmax" for layer in net.layers[:k + 1]):
            return None
        above = {f: params[f] for f in ("target", "loss", "learning_rate", "weight_decay", "l1") if f in params}
        rerun = json.dumps({**above, "x": _plain(value), "layers": layers[k + 1:]}, sort_keys=True)
        later, forward = _solve_json("backprop", rerun), _forward_details(rerun)
    except (NnexamError, ValueError, TypeError):
        return None, True
    reference = copy.deepcopy(answer)
    reference["activations"][k] = _plain(value)
    for f in ("pre_activations", "activations"):
        reference[f][k + 1:] = forward[f]
    reference["output"] = forward["output"]
    for f in ("loss", "output_gradient"):
        reference[f] = later[f]
    for f in ("deltas", "grad_W", "grad_b", "updated_W", "updated_b"):
        if f in reference:
            reference[f][k + 1:] = later[f]
    vs, acts = forward_values(net)
    delta = later["deltas"][0]
    for j in range(k, -1, -1):
        W_above = [[float(w) for w in row] for row in net.layers[j + 1].W]
        g = [sum(W_above[i][c] * delta[i] for i in range(len(delta))) for c in range(len(W_above[0]))]
        d = [float(e) for e in derivative(net.layers[j], vs[j], acts[j])]
        delta = [gc * dc for gc, dc in zip(g, d, strict=True)]
        below = [float(e) for e in (net.x if j == 0 else acts[j - 1])]
        reference["deltas"][j] = delta
        reference["grad_b"][j] = delta
        reference["grad_W"][j] = [[dj * ai + _penalty(params, w) for ai, w in zip(below, row, strict=True)]
                                  for dj, row in zip(delta, net.layers[j].W, strict=True)]
        if "updated_W" in reference:
            eta = float(params["learning_rate"])
            reference["updated_W"][j] = [[float(w) - eta * gw for w, gw in zip(row, grow, strict=True)]
                                         for row, grow in zip(net.layers[j].W, reference["grad_W"][j], strict=True)]
            reference["updated_b"][j] = [float(b) - eta * gb for b, gb in zip(net.layers[j].b, delta, strict=True)]
    return reference, True


def _penalty(params: dict, w: Any) -> float:
    """The regularization's part of a weight's gradient: weight_decay w + l1 sign(w)."""
    w = float(w)
    return float(params.get("weight_decay", 0)) * w + float(params.get("l1", 0)) * ((w > 0) - (w < 0))


RESUMABLE = {"lloyd": _resume_lloyd, "competitive": _resume_competitive, "backprop": _resume_backprop}



# --------------------------------------------------------------------------------------------- checks

LLOYD_AMBIGUOUS = {lloyd.EMPTY_CELL: "a centre of yours ends with an empty cell (an initialization that makes the "
                                 "question trivial)",
                   lloyd.EQUIDISTANT: "a point is equidistant from two of your centres (the outcome hangs on the "
                                  "tie rule)"}


def _lloyd_converges_elsewhere(part: PartKey, item: Item, answer: Answer | None, exam: Exam | None
                               ) -> tuple[float, str, Any]:
    """Initial centres earn the item's points when Lloyd's algorithm (the solver), run from them on the part's
    points, stops at final centres that differ, as a set, from the final centres of part `than`: whatever the
    numbers. Returns (points, feedback line, the run's answer or None)."""
    pts = _pts(item.points)
    other = exam.parts.get((part.question, item.than)) if exam is not None and item.than else None
    if other is None or not isinstance(other.answer, dict):
        raise MarkingError(f"{part.question}({part.part}).rubric: the check {item.check} needs `than`, a part "
                           "of the same question with final centres")
    avoid = other.answer["final_centers"]
    if answer is None:
        return 0.0, f"{item.path}: no answer (0/{pts})", None
    value = answer.value
    if not isinstance(value, list) or len(value) != len(avoid):
        return 0.0, f"{item.path}: expected {len(avoid)} centres (0/{pts})", None
    try:
        run = solvers.solve("lloyd", {"points": part.params["points"], "initial_centers": _plain(value)})
    except (NnexamError, ValueError, TypeError) as exc:
        return 0.0, f"{item.path}: Lloyd's algorithm cannot start from these centres ({exc}) (0/{pts})", None
    own = run.to_json()["answer"]
    for warning in run.warnings:
        code = getattr(warning, "code", "")
        if code in LLOYD_AMBIGUOUS:
            return 0.0, f"{item.path}: {LLOYD_AMBIGUOUS[code]} (0/{pts})", None
    final = own["final_centers"]
    if not compare_unordered(final, avoid):
        return 0.0, (f"{item.path}: from these centres Lloyd's algorithm converges to {_show(final)}, the same "
                     f"final centres as ({item.than}) (0/{pts})"), own
    return item.points, (f"{item.path}: right: from these centres Lloyd's algorithm converges to {_show(final)}, "
                         f"not to ({item.than})'s {_show(avoid)} ({pts}/{pts})"), own


CHECKS = {"lloyd_converges_elsewhere": _lloyd_converges_elsewhere}


# --------------------------------------------------------------------------------------------- manual, copying


def merge_manual(source: Path, marks: list[StudentMark]) -> list[str]:
    """Scores of the parts marked by hand from a CSV `student_id,question,part,score`; one line per bad row."""
    by_student = {m.student_id: {(p.question, p.part): p for p in m.parts} for m in marks}
    rows, bad = _table(source, MANUAL_FIELDS)
    for where, row in rows:
        sid, qid, pid = (str(row.get(f) or "").strip() for f in MANUAL_FIELDS[:3])
        part = by_student.get(sid, {}).get((qid, pid))
        if sid not in by_student:
            bad.append(f"{where}: no exam for student {sid!r} in the exams folder")
        elif part is None:
            bad.append(f"{where}: student {sid} has no question {qid!r} part {pid!r}")
        elif not part.manual:
            bad.append(f"{where}: {qid}({pid}) is marked automatically, not by hand")
        else:
            try:
                score = float(str(row.get("score")).strip())
            except ValueError:
                bad.append(f"{where}: the score {row.get('score')!r} is not a number")
                continue
            if not 0 <= score <= part.max_score:
                bad.append(f"{where}: the score {score:g} is outside 0..{part.max_score:g}")
                continue
            part.score = score
            part.feedback = [f"marked by hand: {score:g}/{part.max_score:g}"]
    return bad


def _table(path: Path, fields: tuple[str, ...]) -> tuple[list[tuple[str, dict]], list[str]]:
    """The rows of a CSV file with `fields` in its header, and one line per row of the wrong length."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [h for h in fields if h not in header]
            if missing:
                raise MarkingError(f"{path}: the header needs the columns {','.join(fields)}; "
                                   f"missing {', '.join(missing)}")
            rows, bad = [], []
            for row in reader:
                where = f"{path.name} line {reader.line_num}"
                if None in row or None in row.values():  # more cells than the header has, or fewer
                    cells = len(header) + len(row.get(None) or []) - sum(v is None for v in row.values())
                    bad.append(f"{where}: {cells} cell(s), the header has {len(header)} (a value with a comma "
                               "needs quotes)")
                    continue
                rows.append((where, {k.strip(): v for k, v in row.items()}))
            return rows, bad
    except (UnicodeDecodeError, csv.Error) as exc:
        raise MarkingError(f"{path}: not a readable CSV file ({exc})") from exc


PRECISIONS = range(7)  # decimals at which right values are indexed for the copy check
SAMPLE_POINTS = (0.13, 0.37, 0.71)  # where an expression is evaluated for its key


def copy_flags(exams: dict[str, Exam], answers: dict[str, dict[tuple[str, str, str], Answer]]
               ) -> list[dict[str, str]]:
    """Answers wrong for the student's own variant but right for another student's variant.

    Not all pairs: the right value of every variant is indexed per (question, part, path) under a canonical key
    (its numbers rounded to 0..6 decimals, an expression by its values at SAMPLE_POINTS, a set sorted), a wrong
    answer is looked up under its own key (at the decimals it was written with), and only the candidates found
    are confirmed by the comparison engine."""
    index: dict[tuple[str, str, str], dict[Any, dict[str, None]]] = {}  # key -> the students (in order)
    for sid, exam in exams.items():
        for part in exam.parts.values():
            for item in _keyed_items(part):
                truth = resolve(part.answer, item.tokens, item.path, "key")
                bucket = index.setdefault((part.question, part.part, item.path), {})
                for p in PRECISIONS:
                    key = canonical_key(truth, p, item.unordered)
                    if key is not None:
                        bucket.setdefault(key, {})[sid] = None
    flags = []
    for sid, given in answers.items():
        own = exams[sid]
        for (qid, pid, path), answer in given.items():
            part = own.parts[(qid, pid)]
            item = next((i for i in _keyed_items(part) if i.path == path), None)
            if item is None:
                continue
            try:
                if not item.compare(answer.value, resolve(part.answer, item.tokens, path, "key")):
                    continue
                key = canonical_key(answer.value, written_decimals(answer.value), item.unordered)
                matches = [other for other in index.get((qid, pid, path), {}).get(key, {}) if other != sid and
                           not item.compare(answer.value, resolve(exams[other].parts[(qid, pid)].answer,
                                                                  item.tokens, path, "key"))]
            except (ExpressionError, ValueError, TypeError, KeyFormatError):
                continue
            if matches:
                flags.append({"student_id": sid, "question": qid, "part": pid, "path": path,
                              "value": answer.text, "matches_variant_of": " ".join(matches)})
    return flags


def _keyed_items(part: PartKey) -> list[Item]:
    """The items whose truth is in the key (not those marked by a check, or by the run a check starts)."""
    checked = next((n for n, i in enumerate(part.items) if i.check), len(part.items))
    return part.items[:checked]


def written_decimals(value: Any) -> int:
    """The fewest decimals written among a value's numbers (6 when all are exact)."""
    if isinstance(value, list):
        return min((written_decimals(v) for v in value), default=max(PRECISIONS))
    if isinstance(value, Written) and "e" not in value.text.lower():
        return len(value.text.partition(".")[2])
    return max(PRECISIONS)


def canonical_key(value: Any, decimals: int, unordered: bool = False) -> Any:
    """A hashable key under which equal values (to `decimals` decimals) meet; None when there is none."""
    if isinstance(value, list):
        keys = [canonical_key(v, decimals) for v in value]
        if any(k is None for k in keys):
            return None
        return tuple(sorted(keys, key=repr)) if unordered else tuple(keys)
    if isinstance(value, str):
        return _expression_key(value, decimals)
    if isinstance(value, bool) or value is None:
        return value
    try:
        return round(float(value), decimals) + 0.0
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=4096)
def _expression_key(text: str, decimals: int) -> Any:
    try:
        expr = read_expression(text)
        symbols = sorted(expr.free_symbols, key=str)
        values = [complex(expr.subs({s: t for s in symbols}).evalf()) for t in SAMPLE_POINTS] if symbols else \
            [complex(expr.evalf())]
    except (ValueError, TypeError, NnexamError, ZeroDivisionError):
        return None
    if any(abs(v.imag) > 1e-9 for v in values):
        return None
    if not symbols:
        return round(values[0].real, decimals) + 0.0
    return ("expr", *(float(f"{v.real:.6g}") for v in values))
