"""An assignment's variants as question banks for a learning-management system: one bank per question part,
one entry per variant, each with its statement and worked solution as HTML (MathJax TeX), its figures, its
points and what is graded.

A part is graded the way `nnexam mark` grades it (`nnexam.marking.graded_items`: its rubric, or its final
fields): every number of those values becomes a blank whose correct interval is `comparison.answer_tolerance`
of the key's value (written to DIGITS significant digits, half a unit in the last digit; integers exact),
a boolean a choice, an expression a symbolic answer. A part without graded values (a written answer, a worked
illustration, a part a person marks) is an essay whose grader information holds the model answer.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from assignments import Assignment, Variant, distinct_batch, variant_seed
from assignments.statements import model_answer, statements
from solvers.errors import NnexamError
from templates.mathprint import escape
from templates.render import FigureSink, answer_lines, render_template, solution_context

from ..audit.keys import resolve
from ..comparison import answer_tolerance, read_expression
from ..marking import graded_items
from .html import images, to_html

DIGITS = 4  # significant digits a student writes a number that is not an integer to


class ExportError(NnexamError):
    """The assignment cannot be exported as asked (nothing to export, too few distinct variants)."""


@dataclass
class Blank:
    """One graded value: where it is in the answer (`label`), the key's value, how it is written, the
    half-width of the interval that is accepted around it, and its share of the part's points."""

    label: str
    value: float | bool | str
    text: str
    tolerance: float
    weight: Fraction

    @property
    def is_number(self) -> bool:
        return not isinstance(self.value, (bool, str))


@dataclass
class Group:
    """The blanks of one graded path, in the shape of its value (a scalar, a vector or a matrix)."""

    label: str
    rows: list[list[int]]  # indices into Entry.blanks
    note: str = ""


@dataclass
class Entry:
    """One variant of one part."""

    name: str  # "mock-final q1a seed 237085666031134" (and " redraws q1=1"): what `nnexam render` needs
    kind: str  # "numerical", "cloze", "multichoice", "symbolic" or "essay"
    points: float
    statement: str = ""  # HTML
    feedback: str = ""  # HTML: the model answer and the worked solution
    grader: str = ""  # HTML: the key, the model answer and the worked solution
    blanks: list[Blank] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Bank:
    assignment: str
    question: str
    part: str
    title: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.question}{self.part}"


def build_banks(assignment: Assignment, variants: int, seed: int) -> list[Bank]:
    """The banks of `variants` distinct variants of `assignment` under `seed` (the seeds `nnexam generate`
    gives them); a question without a sampler is the same in every variant and enters its banks once."""
    exportable = [(q, p) for q in assignment.questions for p in q.parts if p.kind or p.answer]
    if not exportable:
        raise ExportError(f"{assignment.name}: nothing to export (every part is code for the autograder)")
    jobs = [(variant_seed(seed, i), None) for i in range(1, variants + 1)]
    built, exhausted = distinct_batch(assignment, jobs)
    if exhausted:
        qid, count = min(exhausted.items(), key=lambda kv: kv[1])
        raise ExportError(f"{assignment.name}: the sampler of question {qid} draws only {count} distinct variants, "
                          f"fewer than the {variants} asked for; use --variants {count} or fewer")
    banks = {(q.id, p.id): Bank(assignment.name, q.id, p.id, q.title) for q, p in exportable}
    pending: list[tuple[Entry, dict[str, str]]] = []
    for number, variant in enumerate(built):
        key = {(q["id"], p["id"]): p for q in variant.key()["questions"] for p in q["parts"]}
        for q in variant.questions:
            if q.spec.sampler is None and number > 0:
                continue
            for part in q.parts:
                if (q.id, part.id) in banks:
                    entry, latex = _entry(variant, q, part, key[(q.id, part.id)])
                    banks[(q.id, part.id)].entries.append(entry)
                    pending.append((entry, latex))
    fields = ("statement", "feedback", "grader")
    html = iter(to_html([latex[f] for _, latex in pending for f in fields]))
    for entry, _ in pending:
        for f in fields:
            setattr(entry, f, next(html))
        used = {name for f in fields for name in images(getattr(entry, f))}
        entry.files = {name: data for name, data in entry.files.items() if name in used}
    return list(banks.values())


def _entry(variant: Variant, q, part, key_part: dict[str, Any]) -> tuple[Entry, dict[str, str]]:
    a = variant.assignment
    redraws = variant.redraws.get(q.id)
    name = f"{a.name} {q.id}{part.id} seed {variant.seed}" + (f" redraws {q.id}={redraws}" if redraws else "")
    context = q.template_context(variant.seed)
    texts = statements(a.folder, q.spec.template, context, ["intro", part.id], "latex")
    entry = Entry(name=name, kind="essay", points=float(part.spec.points))
    _grade(entry, key_part)
    statement = "\n\n".join(t for t in (texts["intro"], texts[part.id]) if t)
    if entry.kind in ("numerical", "cloze"):
        statement += (f"\n\nGive each number that is not an integer to {DIGITS} significant digits "
                      f"(e.g. 0.3333, 12.35).")
    answer = model_answer(a.folder, part.spec.answer, context, "latex")
    solution = ""
    key_lines = ""
    if part.solution is not None:
        with tempfile.TemporaryDirectory(prefix="nnexam-export-") as tmp:
            sink = FigureSink(Path(tmp))
            body = render_template("solution", solution_context(part.solution, "latex", sink), "latex")
            for path in sorted(Path(tmp).glob("*.svg")):
                unique = f"{a.name}-{q.id}{part.id}-{variant.seed}-{path.name}"
                entry.files[unique] = path.read_bytes()
                body = body.replace("{" + path.name + "}", "{" + unique + "}")
        solution = r"\subsection*{Worked solution}" + "\n\n" + _document_body(body)
        key_lines = r"\subsection*{Key}" + "\n\n" + "\n".join(
            rf"\[ {line} \]" for line in answer_lines(part.solution, "latex"))
    model = (r"\subsection*{Model answer}" + "\n\n" + answer) if answer else ""
    latex = {"statement": statement,
             "feedback": "\n\n".join(t for t in (model, solution) if t),
             "grader": "\n\n".join(t for t in (key_lines, model, solution) if t)
             or escape("No model answer: mark by the rubric of the course.", "latex")}
    return entry, latex


def _document_body(tex: str) -> str:
    """What lies between \\begin{document} and \\end{document}, without the title."""
    body = tex.split(r"\begin{document}", 1)[-1].split(r"\end{document}", 1)[0]
    return body.replace(r"\maketitle", "")


def _grade(entry: Entry, key_part: dict[str, Any]) -> None:
    """Fill in what is graded: blanks from the part's graded items, and the entry's kind."""
    items = graded_items(key_part, f"{entry.name}: ")
    if not items or any(item.check for item in items):
        return  # nothing graded, or a value marked by what it leads to (Q1b's initialization): an essay
    blanks: list[Blank] = []
    groups: list[Group] = []
    for item in items:
        value = resolve(key_part["answer"], item.tokens, entry.name, "key")
        value, note = _ordered(value) if item.unordered else (value, "")
        found = _rows(value)
        if found is None:
            return  # a record or a missing value: marked by a person
        leaves = [leaf for row in found for leaf in row]
        share = Fraction(item.points).limit_denominator(10**6) / len(leaves)
        rows = []
        for row in found:
            rows.append(list(range(len(blanks), len(blanks) + len(row))))
            try:
                blanks += [blank_for(f"{item.path}{suffix}", leaf, share) for suffix, leaf in row]
            except ValueError:
                return  # a text that is no expression: marked by a person
        groups.append(Group(_humane(item.path), rows, note))
    entry.blanks, entry.groups = blanks, groups
    if any(isinstance(b.value, str) for b in blanks):
        entry.kind = "symbolic" if not any(isinstance(b.value, bool) for b in blanks) else "essay"
    elif len(blanks) == 1:
        entry.kind = "multichoice" if isinstance(blanks[0].value, bool) else "numerical"
    else:
        entry.kind = "cloze"


def blank_for(label: str, value: Any, weight: Fraction) -> Blank:
    if isinstance(value, bool):
        return Blank(label, value, "true" if value else "false", 0.0, weight)
    if isinstance(value, str):
        read_expression(value)  # the key's expression must be readable (ValueError otherwise)
        return Blank(label, value, value, 0.0, weight)
    text, tol = answer_tolerance(float(value), DIGITS)
    return Blank(label, float(value), text, tol, weight)


def _ordered(value: Any) -> tuple[Any, str]:
    """A set written as a list, in one order a student can be asked for (increasing, coordinate by coordinate)."""
    if not isinstance(value, list):
        return value, ""
    ordered = sorted(value, key=lambda v: [float(x) for x in v] if isinstance(v, list) else [float(v)])
    what = "by their first coordinate, then their second" if value and isinstance(value[0], list) else ""
    return ordered, f"in increasing order {what}".strip()


SCALAR = (bool, int, float, str)


def _rows(value: Any, suffix: str = "") -> list[list[tuple[str, Any]]] | None:
    """The scalars of a nested list as rows (each innermost list one row, in index order), each scalar with its
    index suffix (`[1][0]`); None where a record or a missing value is inside."""
    if isinstance(value, SCALAR):
        return [[(suffix, value)]]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, SCALAR) for v in value):
        return [[(f"{suffix}[{i}]", v) for i, v in enumerate(value)]]
    rows = []
    for i, v in enumerate(value):
        inner = _rows(v, f"{suffix}[{i}]")
        if inner is None:
            return None
        rows += inner
    return rows


def _humane(path: str) -> str:
    """`iterations[0].centers_after` -> "centers after, iteration 1" (positions counted from 1)."""
    tokens = re.findall(r"([A-Za-z_]\w*)((?:\[\d+\])*)", path)
    words = []
    for name, indices in tokens:
        numbers = [str(int(i) + 1) for i in re.findall(r"\d+", indices)]
        word = name.replace("_", " ")
        if numbers:
            word = (word[:-1] if word.endswith("s") else word) + " " + ", ".join(numbers)
        words.append(word)
    return ", ".join([words[-1], *reversed(words[:-1])])


def answer_layout(entry: Entry, gap) -> str:
    """The HTML that asks for the entry's blanks, one line per graded path (a matrix as a table), with
    `gap(index, blank)` giving the HTML of each answer box."""
    out = []
    for group in entry.groups:
        if len(group.rows) == 1:
            note = f" ({group.note})" if group.note else ""
            cells = ", ".join(gap(i, entry.blanks[i]) for i in group.rows[0])
            out.append(f"<p>{group.label}{note}: {cells}</p>")
        else:
            rows = "".join("<tr>" + "".join(f"<td>{gap(i, entry.blanks[i])}</td>" for i in row) + "</tr>"
                           for row in group.rows)
            note = "; ".join(filter(None, ["one row per line", group.note]))
            out.append(f"<p>{group.label} ({note}):</p><table>{rows}</table>")
    return "\n".join(out)


def number_text(value: float) -> str:
    """A float with all its digits and no exponent (the LMS number parsers want plain decimals)."""
    return np.format_float_positional(float(value), trim="-")
