"""Assignments as data: loading `assignments/<folder>/assignment.yaml` and building a variant.

An assignment is a list of questions; a question has a statement template (`<id>.j2` in the folder, one
jinja2 block per part plus `intro`), points per part, and per part any of: a problem `kind` with
`params` (solved by `solvers`), a written model `answer` (a jinja2 string), a `code` reference to an
autograder question id. A question may name a `sampler` (in the folder's `samplers.py`) that draws
fresh parameters for its parts.

A variant is a pure function of (assignment, seed, redraws): `build(assignment, None)` is the assignment exactly
as written (the original exam); `build(assignment, seed)` draws every sampled question from
`numpy.random.default_rng([seed, question_number])`; `redraws={"q1": 2}` passes over question q1's first two
draws that meet its constraints. `distinct_batch` builds a batch of variants, redrawing a question whose numbers
an earlier variant of the batch already has.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import solvers
from solvers import cache as solver_cache
from solvers.core import Solution, to_json
from solvers.errors import NnexamError

from .sampling import CONTEXT, Sampler, SamplerError, draw_question, samplers_of
from .statements import model_answer

ROOT = Path(__file__).resolve().parent


class AssignmentError(NnexamError):
    """The assignment does not exist or its data is malformed."""


class MissingKindError(NnexamError):
    """An assignment needs a problem kind that is not registered (yet)."""


class CodeReferenceError(AssignmentError):
    """A part's `code:` reference names no student question of the autograder."""


def code_spec(ref: str, where: str = "") -> tuple[Any, Any]:
    """The (StudentAssignment, StudentQuestion) of a code reference `hw5/q1`: the one source of the names,
    signatures and shapes students must submit (the assignment folder's `code.py`)."""
    from .code import code_assignments

    ASSIGNMENTS = code_assignments()
    name, _, qid = ref.partition("/")
    assignment = ASSIGNMENTS.get(name)
    question = next((q for q in assignment.questions if q.id == qid), None) if assignment else None
    if question is None:
        known = ", ".join(f"{a.name}/{q.id}" for a in ASSIGNMENTS.values() for q in a.questions)
        raise CodeReferenceError(f"{where}code: {ref!r} is no autograder question; the questions are: {known}")
    return assignment, question


@dataclass
class PartSpec:
    id: str
    points: float
    kind: str | None = None
    params: dict[str, Any] | None = None
    answer: str | None = None
    code: str | None = None
    illustrates: bool = False
    worked_in: str | None = None  # the part of the same question whose worked solution covers this one
    rubric: list[dict[str, Any]] | None = None
    manual: bool = False


@dataclass
class QuestionSpec:
    id: str
    number: int
    title: str
    template: str
    parts: list[PartSpec]
    sampler: Sampler | None = None

    @property
    def points(self) -> float:
        return sum(p.points for p in self.parts)


@dataclass
class Assignment:
    name: str
    folder: Path
    title: str
    subtitle: str
    instructions: str
    name_line: bool
    questions: list[QuestionSpec]

    @property
    def points(self) -> float:
        return sum(q.points for q in self.questions)

    def kinds(self) -> list[str]:
        return sorted({p.kind for q in self.questions for p in q.parts if p.kind})


@dataclass
class Part:
    spec: PartSpec
    params: dict[str, Any] | None
    solution: Solution | None

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass
class Question:
    spec: QuestionSpec
    parts: list[Part]
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.id

    def draw(self) -> dict[str, Any]:
        return {p.id: p.params for p in self.parts if p.params is not None}

    def solutions(self) -> dict[str, Solution]:
        return {p.id: p.solution for p in self.parts if p.solution is not None}

    def template_context(self, seed: int | None) -> dict[str, Any]:
        """What the statement template and the model answers see (`assignments.statements`)."""
        return {"p": self.draw(), "ctx": self.context, "seed": seed,
                "ans": {pid: s.answer for pid, s in self.solutions().items()}}


@dataclass
class Variant:
    assignment: Assignment
    seed: int | None
    questions: list[Question]
    student: dict[str, str] | None = None
    redraws: dict[str, int] = field(default_factory=dict)

    def key(self) -> dict[str, Any]:
        """The answer key: `{"assignment", "seed", "questions": [{"id", "points", "parts": [...]}]}`; each
        part holds `kind`, `params` and the solver's JSON `answer` (null for written-only parts), plus its
        `id`, `points`, and the `model_answer` text or `code` reference where the part has one."""
        questions = []
        for q in self.questions:
            parts = []
            for p in q.parts:
                entry: dict[str, Any] = {"id": p.id, "points": p.spec.points, "kind": p.spec.kind,
                                         "params": to_json(p.params) if p.params is not None else None,
                                         "answer": to_json(p.solution.answer) if p.solution else None}
                if p.spec.answer:
                    entry["model_answer"] = model_answer(self.assignment.folder, p.spec.answer,
                                                         q.template_context(self.seed), "text")
                if p.spec.code:
                    entry["code"] = p.spec.code
                if p.spec.illustrates:
                    entry["illustration"] = True
                if p.spec.rubric:
                    entry["rubric"] = p.spec.rubric
                if p.spec.manual:
                    entry["manual"] = True
                parts.append(entry)
            questions.append({"id": q.id, "points": q.spec.points, "parts": parts})
        key: dict[str, Any] = {"assignment": self.assignment.name, "seed": self.seed, "questions": questions}
        if self.student:
            key["student"] = self.student
        if self.redraws:
            key["redraws"] = dict(self.redraws)
        return key


def names() -> list[str]:
    """The CLI names of the assignments (folder names with `_` written `-`)."""
    return sorted(p.parent.name.replace("_", "-") for p in ROOT.glob("*/assignment.yaml"))


def load(name: str) -> Assignment:
    """Load an assignment by CLI name (`mock-final`) or folder name (`mock_final`)."""
    folder_name = name.replace("-", "_")
    folder = ROOT / folder_name
    data_file = folder / "assignment.yaml"
    if not re.fullmatch(r"[a-z0-9_]+", folder_name) or not data_file.is_file():
        raise AssignmentError(f"unknown assignment {name!r}; the assignments are: {', '.join(names())}")
    data = yaml.safe_load(data_file.read_text(encoding="utf-8"))
    samplers: dict[str, Sampler] = {}
    if (folder / "samplers.py").is_file():
        samplers = samplers_of(importlib.import_module(f"assignments.{folder_name}.samplers"))
    where = f"{folder_name}/assignment.yaml"
    questions = []
    for number, q in enumerate(_list(data, "questions", where), start=1):
        qwhere = f"{where}: questions[{number - 1}]"
        qid = _field(q, "id", qwhere)
        parts = []
        for j, p in enumerate(_list(q, "parts", qwhere)):
            pwhere = f"{qwhere}.parts[{j}]"
            part = PartSpec(id=str(_field(p, "id", pwhere)), points=float(_field(p, "points", pwhere)),
                            kind=p.get("kind"), params=p.get("params"), answer=p.get("answer"), code=p.get("code"),
                            illustrates=bool(p.get("illustrates", False)),
                            worked_in=None if p.get("worked_in") is None else str(p["worked_in"]),
                            rubric=_rubric(p.get("rubric"), p, pwhere), manual=bool(p.get("manual", False)))
            if part.kind and part.params is None:
                raise AssignmentError(f"{pwhere}: a part with a kind needs params")
            if part.code:
                code_spec(str(part.code), f"{pwhere}.")
            if not (part.kind or part.answer or part.code):
                raise AssignmentError(f"{pwhere}: a part needs a kind, a model answer or a code reference")
            parts.append(part)
        ids = [p.id for p in parts]
        for j, part in enumerate(parts):
            if part.worked_in is not None and (part.worked_in not in ids or parts[ids.index(part.worked_in)].kind
                                               is None or part.worked_in == part.id):
                raise AssignmentError(f"{qwhere}.parts[{j}].worked_in: {part.worked_in!r} is no other part of "
                                      f"this question with a kind; its parts are: {', '.join(ids)}")
        smp = None
        if q.get("sampler"):
            if q["sampler"] not in samplers:
                raise AssignmentError(f"{qwhere}.sampler: no sampler {q['sampler']!r} in {folder_name}/samplers.py")
            smp = samplers[q["sampler"]]
        template = q.get("template", f"{qid}.j2")
        if not (folder / template).is_file():
            raise AssignmentError(f"{qwhere}.template: no file {folder_name}/{template}")
        questions.append(QuestionSpec(str(qid), number, q.get("title", ""), template, parts, smp))
    return Assignment(name=folder_name.replace("_", "-"), folder=folder, title=data.get("title", name),
                      subtitle=data.get("subtitle", ""), instructions=data.get("instructions", ""),
                      name_line=bool(data.get("name_line", True)), questions=questions)


def _rubric(raw: Any, part: dict, where: str) -> list[dict[str, Any]] | None:
    """A part's rubric: `[{path, points, unordered?, check?, than?}]` (paths into its answer, `[*]` for every
    position; `unordered` for a set written as a list; `check` names a value marked by what it leads to, e.g.
    `lloyd_converges_elsewhere` than part `than`) whose points add up to the part's."""
    if raw is None:
        return None
    if not part.get("kind") or not isinstance(raw, list) or not raw or not all(
            isinstance(r, dict) and {"path", "points"} <= set(r) <= {"path", "points", "unordered", "check", "than"}
            and isinstance(r["path"], str) and isinstance(r.get("unordered", False), bool)
            and all(isinstance(r.get(k, ""), str) for k in ("check", "than"))
            and isinstance(r["points"], (int, float)) and not isinstance(r["points"], bool) for r in raw):
        raise AssignmentError(f"{where}.rubric: expected a list of {{path, points}} (and unordered: true for a set) "
                              "on a part with a kind")
    total = sum(r["points"] for r in raw)
    if abs(total - float(part["points"])) > 1e-9:
        raise AssignmentError(f"{where}.rubric: its points add up to {total:g}, the part has {part['points']:g}")
    return [{"path": r["path"], "points": float(r["points"])} | ({"unordered": True} if r.get("unordered") else {})
            | {k: r[k] for k in ("check", "than") if r.get(k)} for r in raw]


def _list(data: Any, key: str, where: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list) or not value:
        raise AssignmentError(f"{where}: {key}: expected a non-empty list")
    return value


def _field(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise AssignmentError(f"{where}: missing field {key!r}")
    return data[key]


def check_kinds(assignment: Assignment) -> None:
    """Fail with one line naming the first problem kind the assignment needs that is not registered."""
    known = set(solvers.kinds())
    for q in assignment.questions:
        for p in q.parts:
            if p.kind and p.kind not in known:
                raise MissingKindError(
                    f"{assignment.name} question {q.number}({p.id}) needs the problem kind {p.kind!r}, which is "
                    f"not registered yet (nnexam kinds lists the registered ones)")


def variant_seed(base_seed: int, label: int | str) -> int:
    """The seed of one variant: variant number `label` (or a student's id) under `base_seed`, as a
    48-bit integer, so `nnexam render NAME --seed <it>` reproduces that variant alone."""
    digest = hashlib.sha256(f"{base_seed}:{label}".encode()).hexdigest()
    return int(digest[:12], 16)


def build(assignment: Assignment, seed: int | None = None, student: dict[str, str] | None = None,
          redraws: dict[str, int] | None = None, reuse: dict[str, Question] | None = None) -> Variant:
    """Solve every part of the assignment (seed None) or of its variant `seed`, each question `q` drawn
    `redraws[q]` times more than the first (see the module's docstring). `reuse` holds questions already
    built for the same seed and redraw counts (each question's draw depends only on those), taken as they are."""
    check_kinds(assignment)
    redraws = {qid: int(n) for qid, n in (redraws or {}).items() if n}
    unknown = sorted(set(redraws) - {q.id for q in assignment.questions if q.sampler is not None})
    if unknown:
        raise AssignmentError(f"{assignment.name}: redraws name no sampled question: {', '.join(unknown)}")
    questions = []
    for q in assignment.questions:
        if reuse and q.id in reuse:
            questions.append(reuse[q.id])
            continue
        fixed = {p.id: copy.deepcopy(p.params) for p in q.parts if p.kind}
        context: dict[str, Any] = {}
        if seed is not None and q.sampler is not None:
            rng = np.random.default_rng([int(seed), q.number])
            try:
                draw, solutions, _ = draw_question(q.sampler, rng, lambda d, q=q: _solve_parts(q, d, wrap=False),
                                                   skip=redraws.get(q.id, 0))
            except SamplerError as exc:
                raise SamplerError(f"{assignment.name} question {q.number}: {exc}") from exc
            context = dict(draw.get(CONTEXT, {}))
            params = {pid: draw.get(pid, fixed.get(pid)) for pid in fixed}
        else:
            params = fixed
            solutions = _solve_parts(q, params)
        parts = [Part(p, params.get(p.id), solutions.get(p.id)) for p in q.parts]
        questions.append(Question(q, parts, context))
    return Variant(assignment, seed, questions, student, redraws)


MAX_REDRAWS = 40


def distinct_batch(assignment: Assignment, jobs: list[tuple[int, dict[str, str] | None]],
                   max_redraws: int = MAX_REDRAWS, done: Callable[[], None] | None = None
                   ) -> tuple[list[Variant], dict[str, int]]:
    """The variants of `jobs` (seed, student), in order, each sampled question redrawn (up to `max_redraws`
    times) while its parameters equal those of an earlier variant of the batch. Returns the variants and, for
    each question whose sampler ran out of new numbers, how many distinct draws the batch has of it. `done` is
    called after each variant (a progress bar)."""
    seen: dict[str, set[str]] = {q.id: set() for q in assignment.questions if q.sampler is not None}
    exhausted: set[str] = set()
    variants = []
    for seed, student in jobs:
        redraws: dict[str, int] = {}
        variant = build(assignment, seed, student)
        while repeats := [q.id for q in variant.questions if q.id in seen and q.id not in exhausted
                          and _draw_json(q) in seen[q.id]]:
            for qid in repeats:
                redraws[qid] = redraws.get(qid, 0) + 1
                if redraws[qid] > max_redraws:
                    exhausted.add(qid)
                    del redraws[qid]
            # only the repeated questions are drawn again: the others' draws do not depend on the redraws
            variant = build(assignment, seed, student, redraws,
                            reuse={q.id: q for q in variant.questions if q.id not in repeats})
        for q in variant.questions:
            if q.id in seen:
                seen[q.id].add(_draw_json(q))
        variants.append(variant)
        if done is not None:
            done()
    return variants, {qid: len(seen[qid]) for qid in sorted(exhausted)}


def _draw_json(q: Question) -> str:
    return json.dumps(to_json(q.draw()), sort_keys=True)


def _solve_parts(q: QuestionSpec, draw: dict[str, Any], wrap: bool = True) -> dict[str, Solution]:
    """Solve every part of `q` with the drawn parameters. With `wrap`, a refused part becomes an
    AssignmentError naming the question; without, the ParamError reaches the sampler, which redraws."""
    out = {}
    for p in q.parts:
        if not p.kind:
            continue
        params = draw.get(p.id, p.params)
        try:
            out[p.id] = solve_cached(p.kind, json.dumps(to_json(params), sort_keys=True))
        except solvers.ParamError as exc:
            if not wrap:
                raise
            raise AssignmentError(f"question {q.number}({p.id}), kind {p.kind}: {exc}") from exc
    return out


@lru_cache(maxsize=2048)
def solve_cached(kind: str, params_json: str) -> Solution:
    """Solvers are pure, so equal parameters (a density drawn twice) are solved once per process, and a slow
    (symbolic) solve once per machine (`solvers.cache`)."""
    return solver_cache.solve_through(kind, params_json, lambda: solvers.solve(kind, json.loads(params_json)))


def check_constraints(variant: Variant) -> dict[str, list[str]]:
    """For each sampled question of a variant, the names of the constraints it violates (empty: all hold)."""
    out = {}
    for q in variant.questions:
        if q.spec.sampler is not None:
            out[q.id] = q.spec.sampler.failures(q.draw() | {CONTEXT: q.context}, q.solutions())
    return out
