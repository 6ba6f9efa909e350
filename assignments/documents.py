"""Documents of a variant: `problems` (statements only), `solutions` (statements, model answers and every
solver step, figures included) and `key.json` (the answers as the solvers give them).

    write(variant, Path("out/mock-final"), fmt="pdf")   # problems.pdf, solutions.pdf, key.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nnexam.mathprint import escape
from nnexam.render import render_document, solution_context

from .core import Part, Question, Variant
from .markup import environment

DOCUMENTS = ("problems", "solutions")


def points_text(points: float) -> str:
    value = int(points) if float(points).is_integer() else points
    return f"{value} pt" if value == 1 else f"{value} pts"


def _template_context(variant: Variant, q: Question) -> dict[str, Any]:
    return {"p": q.draw(), "ctx": q.context, "seed": variant.seed,
            "ans": {pid: s.answer for pid, s in q.solutions().items()}}


def statements(variant: Variant, q: Question, target: str) -> dict[str, str]:
    """The rendered statement blocks of a question: `intro` and one per part id."""
    env = environment(variant.assignment.folder, target)
    template = env.get_template(q.spec.template)
    context = template.new_context(_template_context(variant, q))
    out = {}
    for name in ["intro", *[p.id for p in q.parts]]:
        block = template.blocks.get(name)
        out[name] = "".join(block(context)).strip() if block else ""
    return out


def model_answer(variant: Variant, q: Question, part: Part, target: str) -> str:
    if not part.spec.answer:
        return ""
    env = environment(variant.assignment.folder, target)
    return env.from_string(part.spec.answer).render(**_template_context(variant, q)).strip()


def model_answer_text(variant: Variant, q: Question, part: Part) -> str:
    return model_answer(variant, q, part, "text")


class _SafeSink:
    """A figure sink that leaves out a figure nobody can draw yet instead of failing the document."""

    def __init__(self, sink):
        self.sink = sink

    def add(self, figure):
        try:
            return self.sink.add(figure)
        except KeyError:
            return None


def document_context(variant: Variant, target: str, sink, show_solutions: bool) -> dict[str, Any]:
    a = variant.assignment
    env = environment(a.folder, target)
    questions = []
    for q in variant.questions:
        texts = statements(variant, q, target)
        parts = []
        for p in q.parts:
            entry = {"label": escape(p.id, target), "points": points_text(p.spec.points),
                     "statement": texts[p.id], "answer": "", "code": "", "solution": None,
                     "illustration": p.spec.illustrates}
            if show_solutions:
                entry["answer"] = model_answer(variant, q, p, target)
                entry["code"] = escape(p.spec.code or "", target)
                if p.solution is not None:
                    entry["solution"] = solution_context(p.solution, target, _SafeSink(sink))
            parts.append(entry)
        questions.append({"number": q.spec.number, "title": escape(q.spec.title, target),
                          "points": points_text(q.spec.points), "intro": texts["intro"], "parts": parts})
    student = ""
    if variant.student:
        student = escape(" ".join(v for v in (variant.student.get("name"), f"({variant.student['id']})") if v),
                         target)
    variant_line = "original" if variant.seed is None else f"variant {variant.seed}"
    title = a.title + (" — Solutions" if show_solutions else "")
    return {
        "title": escape(title, target), "subtitle": escape(a.subtitle, target),
        "instructions": env.from_string(a.instructions).render().strip() if a.instructions else "",
        "name_line": a.name_line, "total": points_text(a.points), "count": len(variant.questions),
        "variant": escape(variant_line, target), "student": student, "show_solutions": show_solutions,
        "questions": questions,
    }


def write(variant: Variant, outdir: Path, fmt: str = "pdf", documents: tuple[str, ...] = DOCUMENTS) -> list[Path]:
    """Write key.json and the chosen documents (`problems`, `solutions`) as pdf or tex into `outdir`."""
    if fmt not in ("pdf", "tex"):
        raise ValueError(f"unknown document format {fmt!r}")
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    key = outdir / "key.json"
    key.write_text(json.dumps(variant.key(), indent=2) + "\n", encoding="utf-8")
    written.append(key)
    suffix = ".pdf" if fmt == "pdf" else ".tex"
    for doc in documents:
        show = doc == "solutions"
        path = render_document(f"assignment_{doc}",
                               lambda target, sink, show=show: document_context(variant, target, sink, show),
                               fmt, outdir / f"{doc}{suffix}")
        written.append(Path(path))
    return written
