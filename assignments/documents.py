"""Documents of a variant: `problems` (statements only), `solutions` (statements, model answers and every
solver step, figures included) and `key.json` (the answers as the solvers give them).

    write(variant, Path("out/mock-final"), fmt="pdf")   # problems.pdf, solutions.pdf, key.json
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

from templates.mathprint import escape, prose
from templates.render import render_document, solution_context

from .core import Variant, code_spec
from .statements import compiled, model_answer, statements

DOCUMENTS = ("problems", "solutions")
CODE_WIDTH = 96  # characters per line of a starter-code block: fits the page at 8pt (Typst) and footnotesize (LaTeX)
GLUE = "\x00"  # stands for a space inside brackets while wrapping, so `(3, 1)` never splits


def wrap_code(code: str, width: int = CODE_WIDTH) -> str:
    """Lines longer than `width` wrapped at spaces outside brackets, continuing at the line's own indentation
    (only docstring prose is that long in the starters, so the code stays valid Python)."""
    out = []
    for line in code.rstrip("\n").split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = re.match(r"\s*", line).group(0)
        glued, depth = [], 0
        for ch in line.strip():
            depth += (ch in "([{") - (ch in ")]}")
            glued.append(GLUE if ch == " " and depth > 0 else ch)
        out += [w.replace(GLUE, " ") for w in textwrap.wrap("".join(glued), width, initial_indent=indent,
                                                             subsequent_indent=indent, break_long_words=False,
                                                             break_on_hyphens=False)]
    return "\n".join(out)


def raw_block(code: str, target: str) -> str:
    """A monospace block of Python: a fenced Typst raw block or a LaTeX verbatim environment."""
    if target == "typst":
        fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", code)), default=0) + 1)
        return f"{fence}python\n{code}\n{fence}"
    if target == "latex":
        return f"\\begin{{verbatim}}\n{code}\n\\end{{verbatim}}"
    return "\n".join("    " + line for line in code.split("\n"))


def submission(ref: str, target: str, first_part: str | None) -> dict[str, Any]:
    """What a part with a `code:` reference tells students: the file to submit, the autograder question, and
    (on the first part of a question that names this reference) the starter code with the imports it needs.
    Later parts naming the same reference point back to `first_part` instead of repeating the code."""
    assignment, question = code_spec(ref)
    code = "" if first_part else wrap_code(f"{assignment.imports}\n\n\n{question.starter}")
    return {"file": escape(f"{assignment.name}.py", target), "notebook": escape(f"{assignment.name}.ipynb", target),
            "question": escape(question.id, target), "see": escape(first_part or "", target),
            "code": raw_block(code, target) if code else ""}


def points_text(points: float) -> str:
    value = int(points) if float(points).is_integer() else points
    return f"{value} pt" if value == 1 else f"{value} pts"


def document_context(variant: Variant, target: str, sink, show_solutions: bool) -> dict[str, Any]:
    a = variant.assignment
    questions = []
    for q in variant.questions:
        context = q.template_context(variant.seed)
        texts = statements(a.folder, q.spec.template, context, ["intro", *[p.id for p in q.parts]], target)
        parts = []
        first_with: dict[str, str] = {}  # code reference -> the first part of this question that names it
        for p in q.parts:
            entry = {"label": escape(p.id, target), "points": points_text(p.spec.points),
                     "statement": texts[p.id], "answer": "", "code": "", "submit": None, "solution": None,
                     "illustration": p.spec.illustrates,
                     "worked_in": escape(p.spec.worked_in or "", target)}
            if p.spec.code:
                entry["submit"] = submission(p.spec.code, target, first_with.get(p.spec.code))
                # the autograder's interface is fixed: a drawn variant's numbers never reach its checks
                entry["submit"]["fixed"] = variant.seed is not None and q.spec.sampler is not None
                first_with.setdefault(p.spec.code, p.id)
            if show_solutions:
                entry["answer"] = model_answer(a.folder, p.spec.answer, context, target)
                entry["code"] = escape(p.spec.code or "", target)
                if p.solution is not None and not p.spec.worked_in:
                    entry["solution"] = solution_context(p.solution, target, sink)
            parts.append(entry)
        questions.append({"number": q.spec.number, "title": prose(q.spec.title, target),
                          "points": points_text(q.spec.points), "intro": texts["intro"], "parts": parts})
    student = ""
    if variant.student:
        student = escape(" ".join(v for v in (variant.student.get("name"), f"({variant.student['id']})") if v),
                         target)
    variant_line = "original" if variant.seed is None else f"variant {variant.seed}"
    title = a.title + (" — Solutions" if show_solutions else "")
    return {
        "title": escape(title, target), "subtitle": prose(a.subtitle, target),
        "instructions": compiled(a.folder, target, a.instructions).render().strip() if a.instructions else "",
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
        path = render_document("assignment",
                               lambda target, sink, show=show: document_context(variant, target, sink, show),
                               fmt, outdir / f"{doc}{suffix}")
        written.append(Path(path))
    return written
