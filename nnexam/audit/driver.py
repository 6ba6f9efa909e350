"""Checking a key: solve each question (or run its statement check), then judge its claims in order.

The claims of a question form a chain: each finding names the step where the key first parts from the truth,
and a slip's explanation says whether the final answers survive it. Values are judged by `nnexam.comparison`;
what a claim may address beyond the catalog's answer fields comes from the solver (`Solution.details`), and the
terms a derivation must keep from the kind's registration (`Kind.required_terms`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from solvers import kind_info, solve
from solvers import kinds as registered_kinds
from solvers.core import exact_field, to_json
from solvers.errors import ParamError

from ..comparison import ExpressionError, Options, compare, number_or_infinity
from .checks import CHECKS
from .keys import Claim, Key, KeyFormatError, Question, parse_path, path_text, resolve
from .report import Finding, Report

DENSITY_FIELDS = {"density", "generator_density", "data_density"}


@dataclass
class Verdict:
    ok: bool
    correct: Any
    explanation: str


@dataclass
class Truth:
    """What the claims of one question address: the answer as JSON data (the solver's details merged in), each
    field's sampling error (statement checks sample), the answer fields that are JSON copies of exact values,
    the exact values as data, and the kind's required terms."""

    answer: dict[str, Any]
    sampling_errors: dict[str, float]
    hidden: set[str]
    exact: dict[str, Any]
    required_terms: dict[str, tuple[str, ...]]


def audit(key: Key) -> Report:
    """Check every claim of `key`; findings come in the key's order."""
    report = Report(key.name, source=key.source)
    available = set(registered_kinds())
    for question in key.questions:
        if question.kind is not None and question.kind not in available:
            report.skipped.append(f"{question.id}: kind {question.kind!r} not available (not registered yet); "
                                  f"{len(question.claims)} claims not checked")
            continue
        truth = _truth(question)
        verdicts = []
        for claim in question.claims:
            value = resolve(truth.answer, claim.tokens, f"{claim.where}.path", _what(question), truth.hidden)
            verdicts.append(check_claim(claim, value, truth, question))
            report.claims_checked += 1
        report.findings.extend(_findings(question, verdicts))
    return report


def _what(question: Question) -> str:
    return f"{question.kind} answer" if question.kind else f"{question.check} check"


def _params(question: Question) -> dict[str, Any]:
    """The question's parameters as JSON data (decimals as floats)."""
    try:
        return to_json(question.params)
    except TypeError as exc:
        raise KeyFormatError(f"{question.where}.params", "expected numbers, strings, lists and mappings") from exc


def _truth(question: Question) -> Truth:
    """Solve the question (or run its check); refused params name their YAML path."""
    try:
        if question.check is not None:
            answer, sampling_errors = CHECKS[question.check](dict(question.params))
            return Truth(answer, sampling_errors, set(), {}, {})
        solution = solve(question.kind, _params(question))
    except ParamError as exc:
        raise KeyFormatError(f"{question.where}.params.{exc.field}" if exc.field else f"{question.where}.params",
                             str(exc).split(": ", 1)[-1]) from exc
    answer = to_json(solution.answer)
    _merge(answer, to_json(solution.details))
    return Truth(answer, {}, {exact_field(name) for name in solution.exact}, solution.exact,
                 kind_info(question.kind).required_terms)


def _merge(answer: dict[str, Any], details: dict[str, Any]) -> None:
    """Add the solver's details to its answer: the fields it lacks, and inside its records (and lists of
    records, entry by entry) the entries they lack."""
    for key, value in details.items():
        if key not in answer:
            answer[key] = value
        elif isinstance(answer[key], dict) and isinstance(value, dict):
            _merge(answer[key], value)
        elif isinstance(answer[key], list) and isinstance(value, list):
            for record, extra in zip(answer[key], value, strict=False):
                if isinstance(record, dict) and isinstance(extra, dict):
                    _merge(record, extra)


def check_claim(claim: Claim, value: Any, truth: Truth, question: Question) -> Verdict:
    """Judge one claim against `value`, the truth found at its path."""
    if claim.terms is not None:
        return _check_terms(claim, value, truth.required_terms)
    options = Options(tolerance=claim.tolerance, sampling_error=truth.sampling_errors.get(claim.tokens[0]),
                      names=_bound(claim, truth, question), functions=claim.functions,
                      support=_support(claim, truth, question), density=claim.tokens[-1] in DENSITY_FIELDS)
    try:
        problems = compare(claim.value, value, options, claim.path)
    except ExpressionError as exc:
        raise KeyFormatError(f"{claim.where}.{exc.field}" if exc.field else claim.where, str(exc)) from exc
    if problems:
        return Verdict(False, value, "; ".join(problems[:4]) + ("; ..." if len(problems) > 4 else "") + ".")
    return Verdict(True, value, "")


def _bound(claim: Claim, truth: Truth, question: Question) -> dict[str, Any]:
    """The values a claim's `bind` names: paths into the answer, or `params.<path>` into the question."""
    values = {}
    for name, target in claim.bind.items():
        where = f"{claim.where}.bind.{name}"
        if target.startswith("params."):
            values[name] = resolve(_params(question), parse_path(target[len("params."):], where), where,
                                   "question's params")
        else:
            values[name] = resolve(truth.answer, parse_path(target, where), where, _what(question), truth.hidden)
    return values


def _support(claim: Claim, truth: Truth, question: Question) -> tuple[sp.Expr, sp.Expr]:
    """Where the claim's variable lives: the claim's `domain`, else the problem's support (the noise's for a
    generator), else [0, 1]."""
    if claim.domain:
        return sp.Float(claim.domain[0]), sp.Float(claim.domain[1])
    candidates = []
    if claim.tokens[-1] == "generator":
        candidates.append(question.params.get("noise_support") or [0, 1])
    candidates += [truth.exact.get("support"), truth.answer.get("support"), question.params.get("support"),
                   question.params.get("z_support")]
    for support in candidates:
        try:
            lo, hi = (number_or_infinity(v) for v in support)
            if lo.is_comparable and hi.is_comparable and bool(lo < hi):
                return lo, hi
        except (TypeError, ValueError):
            continue
    return sp.Integer(0), sp.Integer(1)


def _check_terms(claim: Claim, truth: Any, required_terms: dict[str, tuple[str, ...]]) -> Verdict:
    if not isinstance(truth, dict):
        raise KeyFormatError(f"{claim.where}.terms", f"{claim.path} in the answer is not a record of terms")
    for name in claim.terms or []:
        if name not in truth:
            raise KeyFormatError(f"{claim.where}.terms", f"no term {name!r} in {claim.path}; the terms are: "
                                                         f"{', '.join(truth)}")
    required = required_terms.get(path_text(claim.tokens), tuple(truth))
    missing = [t for t in required if t not in claim.terms]
    if not missing:
        return Verdict(True, list(required), "")
    values = ", ".join(f"{t} = {truth[t]}" for t in missing)
    return Verdict(False, list(required),
                   f"the derivation drops {', '.join(missing)} ({values}); it depends on what is optimized, so it "
                   "cannot be dropped as a constant.")


def _findings(question: Question, verdicts: list[Verdict]) -> list[Finding]:
    wrong_finals = [c.path for c, v in zip(question.claims, verdicts, strict=False) if c.role == "final" and not v.ok]
    out = []
    first_wrong = ""
    for claim, verdict in zip(question.claims, verdicts, strict=False):
        if verdict.ok:
            continue
        first_wrong = first_wrong or claim.path
        severity = {"final": "wrong_final", "method": "wrong_method", "step": "slip"}[claim.role]
        explanation = verdict.explanation
        if claim.role == "step":
            explanation += (" The final answer survives this slip." if not wrong_finals else
                            f" The final answer does not survive: {', '.join(wrong_finals)} is wrong too.")
        if first_wrong != claim.path:
            explanation += f" The key first parts from the truth at {first_wrong}."
        if claim.note:
            explanation += f" Hand check: {claim.note}"
        claimed = claim.terms if claim.terms is not None else claim.value
        out.append(Finding(question.id, claim.path, claimed, verdict.correct, severity, explanation.strip(),
                           claim.step, first_wrong))
    return out
