"""Reading a key: the YAML file, its questions and claims, and the paths that address an answer.

Nothing in a key runs: YAML aliases are refused (an alias bomb is one line, not a huge report), a claim's
expression strings and function definitions are checked for plain arithmetic before anything is solved
(`nnexam.comparison.unreadable`), and every mistake is a `KeyFormatError` naming its YAML path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from solvers.errors import NnexamError

from ..comparison import Written, unreadable
from ..inputs import read_text
from .checks import CHECKS

CLAIM_FIELDS = ("path", "value", "terms", "final", "method", "step", "note", "bind", "functions", "tolerance",
                "domain")
QUESTION_FIELDS = ("id", "title", "kind", "check", "params", "claims")


class KeyFormatError(NnexamError):
    """The key file is malformed; the message names the YAML path."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")


class AliasRefused(yaml.YAMLError):
    """A key may not use YAML aliases (`*name`, `<<: *name`)."""


class KeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader for keys: decimals become `Written` (they keep their digits), aliases are refused."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise AliasRefused(f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not allowed "
                               "in a key; write the value out")
        return super().compose_node(parent, index)


def _written_float(loader: yaml.SafeLoader, node: yaml.Node) -> Written:
    return Written(loader.construct_yaml_float(node), str(node.value))


KeyLoader.add_constructor("tag:yaml.org,2002:float", _written_float)


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


def _refuse_unknown(data: dict, allowed: tuple[str, ...], where: str) -> None:
    for name in data:
        if name not in allowed:
            raise KeyFormatError(f"{where}.{name}" if where else str(name),
                                 f"unknown field; the fields here are: {', '.join(allowed)}")


def load_key(path: str | Path) -> Key:
    """Read and check the structure of a key file (claim paths are checked against the answers later)."""
    path = Path(path)
    try:
        data = yaml.load(read_text(path, "key"), Loader=KeyLoader)  # noqa: S506 (a SafeLoader)
    except AliasRefused as exc:
        raise KeyFormatError(str(path), str(exc)) from exc
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
    if check is not None and check not in CHECKS:
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
    for sig, body in claim.functions.items():
        if not re.fullmatch(r"[A-Za-z_]\w*\(\s*[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s*\)", sig):
            raise KeyFormatError(f"{where}.functions", f"expected a signature such as 'phi(v)', got {sig!r}")
        _check_expression(body, f"{where}.functions.{sig}")
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
    if value is None or isinstance(value, (bool, int, float)):
        return
    if isinstance(value, str):
        _check_expression(value, where)
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_value(v, f"{where}[{i}]")
        return
    raise KeyFormatError(where, f"expected a number, a list, a bool or an expression string, got {value!r}")


def _check_expression(text: str, where: str) -> None:
    """Refuse, before anything runs, a string that is not plain arithmetic (it would never be evaluated)."""
    why = unreadable(text)
    if why:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise KeyFormatError(where, f"not an expression we can read: {shown!r} ({why})")


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


def resolve(data: Any, tokens: list[str | int], where: str, what: str, hidden: set[str] | frozenset = frozenset()
            ) -> Any:
    """Follow a parsed path into nested answer data; a wrong step is a KeyFormatError naming the fields (those
    in `hidden`, the JSON copies of exact values, left out of the list)."""
    current = data
    for depth, token in enumerate(tokens):
        shown = path_text(tokens[:depth]) or "the answer"
        if isinstance(token, str):
            if not isinstance(current, dict):
                raise KeyFormatError(where, f"{shown} in the {what} is not a record, so it has no field {token!r}")
            if token not in current:
                fields = ", ".join(k for k in current if k not in hidden)
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
