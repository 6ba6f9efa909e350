"""Audit a hand-written solution key against the solvers, claim by claim.

A key is a YAML file::

    key: mock-final                    # a name for the report (default: the file's stem)
    questions:
      - id: Q1a                        # how findings name the question
        kind: lloyd                    # a registered problem kind (`nnexam kinds`) ...
        # check: kmeans_network_step   # ... or a check of a homework statement (nnexam/audit_checks.py)
        params: {points: [[-0.01, 1], [1, 1], [0.01, -1], [-1, -1]], initial_indices: [1, 2]}
        claims:
          - path: iterations[0].centers_after[0]     # where the claimed value lives in the solver's answer
            value: ["0.99/2", 1]                     # what the key says
            step: "Step 1, updated c1"               # optional: how the key labels this step
          - path: final_centers
            value: [[0.495, 1], [-0.495, -1]]
            final: true                              # a final answer (default: an intermediate step)

A claim's `path` addresses the answer of the solver (CATALOG.md lists every kind's fields): field names
joined by dots, list positions in brackets, counting from 0 (`iterations[0].centers_after[0]`,
`steps[2].weights[1]`, `deltas[0]`, `output[0][1]`, `iterates[2]`, `terms.latent`). The audit adds a few
fields that keys name but answers do not hold: for `competitive`, each `steps[i]` also has `point` (the data
point presented) and `unrounded` (the winner's weights after the update, before rounding).

What a claim can say (exactly one of `value` or `terms`):

- `value`: a number, a list, a bool, or a string that sympy parses.
  * A decimal (`0.645`, `1.67e-5`) is a rounded claim: it holds when the truth is within half a unit of its
    last written digit (0.6457 is not 0.645; 0.65 would be right to 2 decimals). Trailing zeros count
    (`0.50` claims two decimals). Integers and fractions (`3`, `"1/2"`, `"0.99/2"`) are exact claims.
    `tolerance: 0.01` overrides both.
  * A string is an expression. If the truth is an expression (a density, a generator, a gradient), the
    two are compared by symbolic equivalence: sympy simplifies the difference, and where that is slow or
    undecided the two are compared at sampled points (the variable's support when the problem has one).
    For densities the report also says where a wrong claim is negative or how much it integrates to.
  * `bind: {name: path}` names quantities for an expression: a path into the answer, or `params.<path>`
    into the question's parameters. Lists become indexable (`x[i, j]`), so an equation such as
    `Sum(u[0, i, j]*x[i, j]*dg(w[0]*x[i, j] + b[0]), (i, 0, 1), (j, 0, 1))` is evaluated on the
    question's numbers and compared with the solver. An index left free is reported as such.
  * `functions: {"phi(v)": "1/(1+exp(-5*v))", "dphi(v)": "5*phi(v)*(1-phi(v))"}` defines functions for
    the expression (in order, so later ones may use earlier ones).
- `terms: [latent, reconstruction, constant]`: the terms a derivation keeps. The terms that depend on what is
  optimized must all be there (for `elbo_gaussian`: latent, reconstruction and log_det; the constant may go).

A claim's role sets the severity of a finding: `final: true` (a final answer: `wrong_final`), `method: true`
(the method or the statement itself: `wrong_method`), otherwise an intermediate step (`slip`). The claims of
a question form a chain in the order written; each finding names the step where the key parts from the
truth: the first wrong claim of the chain up to it. A slip's explanation says whether the final answers
survive it. Optional `note` on a claim is carried into the report (keys keep their hand checks there).

A question whose kind is not registered is skipped with a message. A malformed key is refused with one line
naming the YAML path (`questions[2].claims[0].path: no field 'iterats' in the lloyd answer; fields: ...`).
"""

from __future__ import annotations

import re
import signal
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
import yaml

from solvers import kinds as registered_kinds
from solvers import solve
from solvers.core import to_json
from solvers.errors import NnexamError

SEVERITIES = ("slip", "wrong_final", "wrong_method")
EXACT_RTOL = 1e-9
SIMPLIFY_SECONDS = 5
REQUIRED_TERMS = {"elbo_gaussian": {"terms": ("latent", "reconstruction", "log_det")}}
DENSITY_FIELDS = {"density", "generator_density", "data_density"}


class KeyFormatError(NnexamError):
    """The key file is malformed; the message names the YAML path."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")


# ---------------------------------------------------------------------------------------------- reading


class Written(float):
    """A decimal number as the key wrote it; `text` keeps the digits (and so the rounding) of the claim."""

    text: str

    def __new__(cls, value: float, text: str):
        obj = super().__new__(cls, value)
        obj.text = text
        return obj


class _KeyLoader(yaml.SafeLoader):
    pass


def _written_float(loader: yaml.SafeLoader, node: yaml.Node) -> Written:
    return Written(loader.construct_yaml_float(node), str(node.value))


_KeyLoader.add_constructor("tag:yaml.org,2002:float", _written_float)


@dataclass
class Claim:
    where: str
    path: str
    tokens: list[str | int]
    value: Any = None
    terms: list[str] | None = None
    role: str = "step"
    step: str = ""
    note: str = ""
    bind: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    tolerance: float | None = None
    domain: list[float] | None = None


@dataclass
class Question:
    where: str
    id: str
    kind: str | None
    check: str | None
    params: dict[str, Any]
    claims: list[Claim]
    title: str = ""


@dataclass
class Key:
    name: str
    questions: list[Question]
    source: str = ""


CLAIM_FIELDS = ("path", "value", "terms", "final", "method", "step", "note", "bind", "functions", "tolerance",
                "domain")
QUESTION_FIELDS = ("id", "title", "kind", "check", "params", "claims")


def _refuse_unknown(data: dict, allowed: tuple[str, ...], where: str) -> None:
    for name in data:
        if name not in allowed:
            raise KeyFormatError(f"{where}.{name}" if where else str(name),
                                 f"unknown field; the fields here are: {', '.join(allowed)}")


def load_key(path: str | Path) -> Key:
    """Read and check the structure of a key file (claim paths are checked against the answers later)."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_KeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise KeyFormatError(str(path), f"not valid YAML ({' '.join(str(exc).split())[:160]})") from exc
    return parse_key(data, path.stem)


def parse_key(data: Any, default_name: str = "key") -> Key:
    if not isinstance(data, dict):
        raise KeyFormatError("(top level)", "expected a mapping with a 'questions' list")
    _refuse_unknown(data, ("key", "source", "questions"), "")
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise KeyFormatError("questions", "expected a non-empty list of questions")
    parsed = [_parse_question(q, f"questions[{i}]") for i, q in enumerate(questions)]
    ids = [q.id for q in parsed]
    for i, qid in enumerate(ids):
        if ids.index(qid) != i:
            raise KeyFormatError(f"questions[{i}].id", f"duplicate question id {qid!r}")
    return Key(str(data.get("key") or default_name), parsed, str(data.get("source") or ""))


def _parse_question(raw: Any, where: str) -> Question:
    if not isinstance(raw, dict):
        raise KeyFormatError(where, "expected a mapping with id, kind (or check), params and claims")
    _refuse_unknown(raw, QUESTION_FIELDS, where)
    if "id" not in raw:
        raise KeyFormatError(f"{where}.id", "missing required field")
    kind, check = raw.get("kind"), raw.get("check")
    if (kind is None) == (check is None):
        raise KeyFormatError(f"{where}.kind", "give exactly one of kind (a problem kind) or check (a statement check)")
    if check is not None:
        from .audit_checks import CHECKS

        if check not in CHECKS:
            raise KeyFormatError(f"{where}.check", f"unknown check {check!r}; the checks are: {', '.join(CHECKS)}")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise KeyFormatError(f"{where}.params", "expected a mapping of parameters")
    claims = raw.get("claims")
    if not isinstance(claims, list) or not claims:
        raise KeyFormatError(f"{where}.claims", "expected a non-empty list of claims")
    return Question(where, str(raw["id"]), kind, check, params,
                    [_parse_claim(c, f"{where}.claims[{i}]") for i, c in enumerate(claims)],
                    str(raw.get("title") or ""))


def _parse_claim(raw: Any, where: str) -> Claim:
    if not isinstance(raw, dict):
        raise KeyFormatError(where, "expected a mapping with path and value (or terms)")
    _refuse_unknown(raw, CLAIM_FIELDS, where)
    if not isinstance(raw.get("path"), str) or not raw["path"].strip():
        raise KeyFormatError(f"{where}.path", "expected a path into the answer, e.g. iterations[0].centers_after")
    tokens = parse_path(raw["path"], f"{where}.path")
    if ("value" in raw) == ("terms" in raw):
        raise KeyFormatError(f"{where}.value", "give exactly one of value or terms")
    if raw.get("final") and raw.get("method"):
        raise KeyFormatError(f"{where}.method", "a claim is either final or method, not both")
    claim = Claim(where, raw["path"].strip(), tokens, role="final" if raw.get("final") else
                  "method" if raw.get("method") else "step",
                  step=str(raw.get("step") or ""), note=str(raw.get("note") or ""))
    if "terms" in raw:
        if not isinstance(raw["terms"], list) or not all(isinstance(t, str) for t in raw["terms"]):
            raise KeyFormatError(f"{where}.terms", "expected a list of term names")
        claim.terms = list(raw["terms"])
    else:
        claim.value = raw["value"]
        _check_value(claim.value, f"{where}.value")
    for name in ("bind", "functions"):
        mapping = raw.get(name, {})
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise KeyFormatError(f"{where}.{name}", "expected a mapping of names to strings")
        setattr(claim, name, {str(k): v for k, v in mapping.items()})
    for name in claim.bind:
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise KeyFormatError(f"{where}.bind.{name}", "expected a plain name")
    for name, target in claim.bind.items():
        parse_path(target[len("params."):] if target.startswith("params.") else target, f"{where}.bind.{name}")
    for sig in claim.functions:
        if not re.fullmatch(r"[A-Za-z_]\w*\(\s*[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s*\)", sig):
            raise KeyFormatError(f"{where}.functions", f"expected a signature such as 'phi(v)', got {sig!r}")
    if "tolerance" in raw:
        tol = raw["tolerance"]
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
            raise KeyFormatError(f"{where}.tolerance", f"expected a non-negative number, got {tol!r}")
        claim.tolerance = float(tol)
    if "domain" in raw:
        dom = raw["domain"]
        if (not isinstance(dom, list) or len(dom) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in dom)):
            raise KeyFormatError(f"{where}.domain", f"expected [low, high], got {dom!r}")
        claim.domain = [float(dom[0]), float(dom[1])]
    return claim


def _check_value(value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_value(v, f"{where}[{i}]")
        return
    raise KeyFormatError(where, f"expected a number, a list, a bool or an expression string, got {value!r}")


_TOKEN = re.compile(r"\s*(?:\.?\s*([A-Za-z_]\w*)|\[\s*(-?\d+)\s*\])")


def parse_path(text: str, where: str) -> list[str | int]:
    """`iterations[0].centers_after[1]` -> ["iterations", 0, "centers_after", 1]."""
    tokens: list[str | int] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or (m.group(1) and tokens and not text[pos:m.end()].lstrip().startswith(".")):
            raise KeyFormatError(where, f"cannot read the path {text!r} at {text[pos:]!r}; "
                                        "expected names joined by dots and [index] positions")
        tokens.append(m.group(1) if m.group(1) else int(m.group(2)))
        pos = m.end()
    if not tokens or not isinstance(tokens[0], str):
        raise KeyFormatError(where, f"a path starts with a field name, got {text!r}")
    return tokens


def resolve(data: Any, tokens: list[str | int], where: str, what: str) -> Any:
    """Follow a parsed path into nested answer data; a wrong step is a KeyFormatError naming the fields."""
    current = data
    for depth, token in enumerate(tokens):
        shown = path_text(tokens[:depth]) or "the answer"
        if isinstance(token, str):
            if not isinstance(current, dict):
                raise KeyFormatError(where, f"{shown} in the {what} is not a record, so it has no field {token!r}")
            if token not in current:
                fields = ", ".join(k for k in current if not k.endswith("_exact"))
                prefix = f"no field {token!r} in the {what}" if depth == 0 else \
                    f"no field {token!r} in {shown} of the {what}"
                raise KeyFormatError(where, f"{prefix}; fields: {fields}")
            current = current[token]
        else:
            if not isinstance(current, list):
                raise KeyFormatError(where, f"{shown} in the {what} is not a list, so it has no position [{token}]")
            if not -len(current) <= token < len(current):
                raise KeyFormatError(where, f"position [{token}] is out of range: {shown} in the {what} has "
                                            f"{len(current)} entries")
            current = current[token]
    return current


def path_text(tokens: list[str | int]) -> str:
    out = ""
    for t in tokens:
        out += f"[{t}]" if isinstance(t, int) else (f".{t}" if out else t)
    return out


# ---------------------------------------------------------------------------------------------- results


@dataclass
class Finding:
    question: str
    claim: str
    claimed: Any
    correct: Any
    severity: str
    explanation: str
    step: str = ""
    parts_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "claim": self.claim, "claimed": _json_value(self.claimed),
                "correct": _json_value(self.correct), "severity": self.severity,
                "explanation": self.explanation, "step": self.step, "parts_at": self.parts_at}


@dataclass
class Report:
    key: str
    claims_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        out = {"key": self.key, "claims_checked": self.claims_checked,
               "findings": [f.to_json() for f in self.findings]}
        if self.skipped:
            out["skipped"] = list(self.skipped)
        return out


def _json_value(value: Any) -> Any:
    if isinstance(value, Written):
        return float(value)
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, sp.Basic):
        if value.is_number and not value.free_symbols:
            try:
                return float(value)
            except TypeError:
                return str(value)
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return to_json(value)


# ---------------------------------------------------------------------------------------------- auditing


@dataclass
class Verdict:
    ok: bool
    correct: Any
    explanation: str


def audit(key: Key) -> Report:
    """Check every claim of `key`; findings come in the key's order."""
    report = Report(key.name, source=key.source)
    available = set(registered_kinds())
    for question in key.questions:
        if question.kind is not None and question.kind not in available:
            report.skipped.append(f"{question.id}: kind {question.kind!r} not available (not registered yet); "
                                  f"{len(question.claims)} claims not checked")
            continue
        answer, tolerances = _answer(question)
        verdicts = []
        for claim in question.claims:
            truth = resolve(answer, claim.tokens, f"{claim.where}.path", _what(question))
            verdicts.append(check_claim(claim, truth, answer, question, tolerances.get(claim.tokens[0])))
            report.claims_checked += 1
        report.findings.extend(_findings(question, verdicts))
    return report


def _what(question: Question) -> str:
    return f"{question.kind} answer" if question.kind else f"{question.check} check"


def _answer(question: Question) -> tuple[dict[str, Any], dict[str, float]]:
    """The answer the claims address, and each field's sampling tolerance; refused params name their YAML path."""
    from solvers.errors import ParamError

    try:
        if question.check is not None:
            from .audit_checks import CHECKS

            return CHECKS[question.check](dict(question.params))
        solution = solve(question.kind, _plain(question.params))
    except ParamError as exc:
        raise KeyFormatError(f"{question.where}.params.{exc.field}" if exc.field else f"{question.where}.params",
                             str(exc).split(": ", 1)[-1]) from exc
    answer = to_json(solution.answer)
    _augment(question.kind, to_json(solution.params), answer)
    return answer, {}


def _plain(value: Any) -> Any:
    if isinstance(value, Written):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _augment(kind: str, params: dict[str, Any], answer: dict[str, Any]) -> None:
    """Add the audit-only fields the module docstring lists."""
    if kind == "backprop":
        forward = {k: v for k, v in params.items() if k not in ("learning_rate",)}
        try:
            extra = to_json(solve("forward_pass", forward).answer)
        except Exception:  # noqa: BLE001 (forward_pass not available: the key cannot name these fields)
            extra = {}
        for name in ("pre_activations", "activations", "output"):
            if name in extra:
                answer.setdefault(name, extra[name])
    if kind == "competitive" and isinstance(answer.get("steps"), list):
        points = params.get("points") or []
        previous = params.get("initial_weights")
        eta = float(Fraction(str(params.get("learning_rate", 0)))) if params.get("learning_rate") is not None else 0
        rule = params.get("rule", "standard")
        for record in answer["steps"]:
            if not isinstance(record, dict):
                continue
            i = record.get("point_index")
            x = points[i] if isinstance(i, int) and 0 <= i < len(points) else None
            record.setdefault("point", x)
            winner = record.get("winner")
            if x is not None and previous is not None and isinstance(winner, int):
                w = np.asarray(previous[winner], dtype=float)
                factor = eta * float(np.dot(w, x)) if rule == "output_weighted" else eta
                record.setdefault("unrounded", (w + factor * (np.asarray(x, dtype=float) - w)).tolist())
            previous = record.get("weights", previous)


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
        out.append(Finding(question.id, claim.path, _shown_claim(claim), verdict.correct, severity,
                           explanation.strip(), claim.step, first_wrong))
    return out


def _shown_claim(claim: Claim) -> Any:
    return claim.terms if claim.terms is not None else claim.value


def check_claim(claim: Claim, truth: Any, answer: dict[str, Any], question: Question,
                answer_tolerance: float | None = None) -> Verdict:
    """Compare one claim with the truth found at its path."""
    if claim.terms is not None:
        return _check_terms(claim, truth, question)
    context = _Context(claim, answer, question, answer_tolerance)
    problems: list[str] = []
    _compare(claim.value, truth, context, [], problems)
    if problems:
        return Verdict(False, truth, "; ".join(problems[:4]) + ("; ..." if len(problems) > 4 else "") + ".")
    return Verdict(True, truth, "")


@dataclass
class _Context:
    claim: Claim
    answer: dict[str, Any]
    question: Question
    answer_tolerance: float | None


def _compare(claimed: Any, truth: Any, ctx: _Context, at: list[int], problems: list[str]) -> None:
    where = ctx.claim.path + "".join(f"[{i}]" for i in at)
    if isinstance(claimed, list):
        if not isinstance(truth, list) or len(truth) != len(claimed):
            size = f"{len(truth)} entries" if isinstance(truth, list) else "a single value"
            problems.append(f"{where}: the key gives {len(claimed)} entries, the answer has {size}")
            return
        for i, (c, t) in enumerate(zip(claimed, truth, strict=False)):
            _compare(c, t, ctx, [*at, i], problems)
        return
    if isinstance(claimed, bool) or claimed is None or isinstance(truth, bool) or truth is None:
        if claimed != truth:
            problems.append(f"{where}: the key says {claimed}, the answer is {truth}")
        return
    if isinstance(claimed, str):
        message = _compare_expression(claimed, truth, ctx)
        if message:
            problems.append(f"{where}: {message}")
        return
    if isinstance(truth, str):
        message = _compare_expression(str(claimed), truth, ctx)
        if message:
            problems.append(f"{where}: {message}")
        return
    tol, how = _tolerance(claimed, ctx.claim.tolerance)
    if ctx.answer_tolerance is not None and ctx.answer_tolerance > tol:
        tol, how = ctx.answer_tolerance, f"within the reference's sampling error {ctx.answer_tolerance:g}"
    if not _close(float(claimed), float(truth), tol):
        problems.append(f"{where}: the key says {_show(claimed)}, the answer is {_show_truth(truth)} "
                        f"(checked {how})")


def _show(v: Any) -> str:
    return v.text if isinstance(v, Written) else str(v)


def _show_truth(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol + EXACT_RTOL * max(1.0, abs(b))


def _tolerance(claimed: Any, override: float | None) -> tuple[float, str]:
    """Half a unit in the last written digit of a decimal claim; exact for integers and fractions."""
    if override is not None:
        return override, f"to the key's tolerance {override:g}"
    if isinstance(claimed, Written):
        text = claimed.text.strip().lower().lstrip("+-")
        mantissa, _, exponent = text.partition("e")
        decimals = len(mantissa.partition(".")[2]) - (int(exponent) if exponent else 0)
        if "." not in mantissa and not exponent:
            return 0.0, "exactly"
        tol = 0.5 * 10.0 ** (-decimals)
        return tol, f"to half a unit in its last digit, ±{tol:g}"
    return 0.0, "exactly"


# --------------------------------------------------------------------------------------------- expressions


def _compare_expression(claimed: str, truth: Any, ctx: _Context) -> str:
    """'' when the claim agrees with the truth, else a sentence saying how they differ."""
    try:
        value = _evaluate(claimed, ctx)
    except (sp.SympifyError, SyntaxError, TypeError, ValueError, AttributeError) as exc:
        raise KeyFormatError(f"{ctx.claim.where}.value", f"cannot read the expression {claimed!r} "
                                                         f"({type(exc).__name__})") from exc
    if isinstance(truth, str):
        try:
            correct = _sympify_value(truth) if truth.strip().lower().lstrip("+-") in ("inf", "infinity") else \
                sp.sympify(truth, locals=_plain_symbols(truth))
        except (sp.SympifyError, SyntaxError, TypeError) as exc:
            raise KeyFormatError(ctx.claim.where, f"the answer {truth!r} is not an expression") from exc
        if value == correct or (not (value.has(sp.oo, -sp.oo) or correct.has(sp.oo, -sp.oo))
                                and _equivalent(value, correct, ctx)):
            return ""
        message = f"the key's {claimed} is not equivalent to {truth}"
        notes = _density_notes(value, ctx) if ctx.claim.tokens[-1] in DENSITY_FIELDS else ""
        return message + notes
    if not isinstance(truth, (int, float)):
        return f"the key gives an expression, the answer is {truth!r}"
    free = sorted({s.name for s in value.free_symbols if isinstance(s, sp.Symbol)} - set(ctx.claim.bind))
    if value.free_symbols:
        free = free or sorted(str(s) for s in value.free_symbols)
        return (f"the key's {claimed} leaves {', '.join(free)} free, so it is not a number; "
                f"the answer is {_show_truth(truth)}")
    number = complex(sp.N(value, 30))
    if abs(number.imag) > 1e-12:
        return f"the key's {claimed} is not a real number; the answer is {_show_truth(truth)}"
    tol = ctx.claim.tolerance or 0.0
    if ctx.answer_tolerance is not None:
        tol = max(tol, ctx.answer_tolerance)
    if _close(number.real, float(truth), tol):
        return ""
    return f"the key's {claimed} = {number.real:.6g}, the answer is {_show_truth(truth)}"


def _plain_symbols(text: str) -> dict[str, Any]:
    names = set(re.findall(r"[A-Za-z_]\w*", text))
    return {n: sp.Symbol(n, real=True) for n in names if n not in _SYMPY_NAMES}


_SYMPY_NAMES = {"exp", "log", "sqrt", "sin", "cos", "tanh", "pi", "E", "Sum", "Abs", "Max", "Min", "Piecewise",
                "Heaviside", "oo", "Rational", "Integral", "det", "Matrix"}


def _evaluate(text: str, ctx: _Context) -> sp.Expr:
    """Parse a claimed expression with its bound names and functions; sums are carried out, bound
    lists looked up, and scalars substituted."""
    local: dict[str, Any] = _plain_symbols(text)
    values: dict[str, Any] = {}
    for name, target in ctx.claim.bind.items():
        if target.startswith("params."):
            data = _plain(ctx.question.params)
            tokens = parse_path(target[len("params."):], f"{ctx.claim.where}.bind.{name}")
            value = resolve(data, tokens, f"{ctx.claim.where}.bind.{name}", "question's params")
        else:
            tokens = parse_path(target, f"{ctx.claim.where}.bind.{name}")
            value = resolve(ctx.answer, tokens, f"{ctx.claim.where}.bind.{name}", _what(ctx.question))
        values[name] = value
        local[name] = sp.IndexedBase(name) if isinstance(value, list) else sp.Symbol(name, real=True)
    for sig, body in ctx.claim.functions.items():
        fname, args = sig.split("(", 1)
        arg_symbols = [sp.Symbol(a.strip(), real=True) for a in args.rstrip(")").split(",")]
        inner = dict(local)
        inner.update({str(s): s for s in arg_symbols})
        try:
            local[fname.strip()] = sp.Lambda(tuple(arg_symbols), sp.sympify(body, locals=inner))
        except (sp.SympifyError, SyntaxError, TypeError) as exc:
            raise KeyFormatError(f"{ctx.claim.where}.functions.{sig}", f"cannot read {body!r}") from exc
    expr = sp.sympify(text, locals=local)
    if not isinstance(expr, sp.Basic):
        expr = sp.sympify(expr)
    expr = expr.doit()

    def lookup(indexed: sp.Indexed) -> Any:
        data = values[str(indexed.base)]
        for idx in indexed.indices:
            if not idx.is_Integer:
                return indexed
            data = data[int(idx)]
        return sp.nsimplify(data) if isinstance(data, (int, float)) else indexed

    expr = expr.replace(lambda e: isinstance(e, sp.Indexed), lookup)
    scalars = {local[n]: sp.nsimplify(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
               for n, v in values.items() if not isinstance(v, list)}
    return expr.subs(scalars) if scalars else expr


def _equivalent(a: sp.Expr, b: sp.Expr, ctx: _Context) -> bool:
    """Symbolic equivalence: simplify the difference (with a time budget), then sampled numeric checks."""
    a, b = _unify_symbols(a, b)
    diff = a - b
    try:
        if sp.expand(diff) == 0:
            return True
    except Exception:  # noqa: BLE001 (expand may give up on odd expressions; sampling decides then)
        pass
    simplified = _simplify_with_budget(diff)
    if simplified is not None:
        if simplified == 0:
            return True
        if simplified.is_number and simplified.free_symbols == set():
            try:
                return abs(complex(simplified)) < 1e-12
            except TypeError:
                pass
    return _numerically_equal(a, b, _domain(ctx))


def _unify_symbols(a: sp.Expr, b: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Symbols with the same name but different assumptions become one."""
    names = {s.name: sp.Symbol(s.name, real=True) for s in a.free_symbols | b.free_symbols}
    return (a.subs({s: names[s.name] for s in a.free_symbols}),
            b.subs({s: names[s.name] for s in b.free_symbols}))


def _simplify_with_budget(expr: sp.Expr) -> sp.Expr | None:
    """sympy.simplify, given up after SIMPLIFY_SECONDS where a timer is available (main thread, POSIX)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        return None

    class _Late(Exception):
        pass

    def late(signum, frame):
        raise _Late

    old = signal.signal(signal.SIGALRM, late)
    signal.alarm(SIMPLIFY_SECONDS)
    try:
        return sp.simplify(expr)
    except _Late:
        return None
    except Exception:  # noqa: BLE001 (simplify can fail on odd input; sampling decides then)
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _support(ctx: _Context) -> tuple[sp.Expr, sp.Expr]:
    """The variable's support (bounds may be infinite): the claim's `domain`, else the problem's support."""
    if ctx.claim.domain:
        return sp.Float(ctx.claim.domain[0]), sp.Float(ctx.claim.domain[1])
    last = ctx.claim.tokens[-1]
    candidates = []
    if last == "generator":
        candidates.append(ctx.question.params.get("noise_support") or [0, 1])
    candidates += [ctx.answer.get("support_exact"), ctx.answer.get("support"), ctx.question.params.get("support"),
                   ctx.question.params.get("z_support")]
    for support in candidates:
        try:
            lo, hi = (_sympify_value(v) for v in support)
            if lo.is_comparable and hi.is_comparable and bool(lo < hi):
                return lo, hi
        except (TypeError, ValueError, sp.SympifyError):
            continue
    return sp.Integer(0), sp.Integer(1)


def _sympify_value(v: Any) -> sp.Expr:
    text = str(v).strip().lower()
    if text in ("inf", "+inf", "infinity", "oo"):
        return sp.oo
    if text in ("-inf", "-infinity", "-oo"):
        return -sp.oo
    return sp.sympify(v)


def _domain(ctx: _Context) -> tuple[float, float]:
    """A finite window of the support to sample in."""
    lo, hi = _support(ctx)
    if lo.is_finite and hi.is_finite:
        return float(lo), float(hi)
    if lo.is_finite:
        return float(lo), float(lo) + 10.0
    if hi.is_finite:
        return float(hi) - 10.0, float(hi)
    return -5.0, 5.0


def _numerically_equal(a: sp.Expr, b: sp.Expr, domain: tuple[float, float], samples: int = 24) -> bool:
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = np.random.default_rng(0)
    lo, hi = domain
    width = hi - lo
    compared = 0
    fa, fb = sp.lambdify(symbols, a, "mpmath"), sp.lambdify(symbols, b, "mpmath")
    for _ in range(samples):
        point = [lo + width * (0.02 + 0.96 * rng.random()) for _ in symbols]
        try:
            va, vb = complex(fa(*point)), complex(fb(*point))
        except (ZeroDivisionError, ValueError, TypeError, OverflowError):
            continue
        if not (np.isfinite(va) and np.isfinite(vb)):
            continue
        compared += 1
        if abs(va - vb) > 1e-9 * max(1.0, abs(vb)):
            return False
    return compared > 0


def _density_notes(expr: sp.Expr, ctx: _Context) -> str:
    """Where a claimed density is negative on the support, and what it integrates to."""
    symbols = sorted(expr.free_symbols, key=str)
    if len(symbols) != 1:
        return ""
    lo, hi = _domain(ctx)
    f = sp.lambdify(symbols, expr, "mpmath")
    notes = []
    grid = [lo + (hi - lo) * (k + 0.5) / 200 for k in range(200)]
    try:
        negative = [t for t in grid if complex(f(t)).real < 0]
    except (ZeroDivisionError, ValueError, TypeError):
        negative = []
    if negative:
        notes.append(f"it is negative on part of the support (e.g. at {symbols[0]} = {negative[0]:.3g})")
    try:
        a, b = _support(ctx)
        total = round(float(sp.Integral(expr, (symbols[0], a, b)).evalf(15)), 12) + 0.0
        if abs(total - 1) > 1e-9:
            notes.append(f"it integrates to {total:.6g} over [{a}, {b}], not 1")
    except (TypeError, ValueError):
        pass
    return (": " + " and ".join(notes)) if notes else ""


def _check_terms(claim: Claim, truth: Any, question: Question) -> Verdict:
    if not isinstance(truth, dict):
        raise KeyFormatError(f"{claim.where}.terms", f"{claim.path} in the answer is not a record of terms")
    for name in claim.terms or []:
        if name not in truth:
            raise KeyFormatError(f"{claim.where}.terms", f"no term {name!r} in {claim.path}; the terms are: "
                                                         f"{', '.join(truth)}")
    required = REQUIRED_TERMS.get(question.kind or "", {}).get(path_text(claim.tokens), tuple(truth))
    missing = [t for t in required if t not in claim.terms]
    if not missing:
        return Verdict(True, list(required), "")
    values = ", ".join(f"{t} = {truth[t]}" for t in missing)
    return Verdict(False, list(required),
                   f"the derivation drops {', '.join(missing)} ({values}); it depends on what is optimized, so it "
                   "cannot be dropped as a constant.")


__all__ = ["Claim", "Finding", "Key", "KeyFormatError", "Question", "Report", "audit", "check_claim", "load_key",
           "parse_key", "parse_path", "resolve"]
