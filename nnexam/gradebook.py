"""Writing the marks: `grades.csv` (one row per student, a column per question), the JSON report,
`feedback/<student_id>.md` and `.pdf`, `flags.csv` (answers right for another student's variant), and the item
statistics `items.csv` and `report.pdf` (`nnexam.itemstats`)."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from templates.render import compile_typst_sources, render_template

from .itemstats import item_statistics, items_csv, report_pdf, typeset
from .marking import StudentMark


def question_ids(marks: list[StudentMark]) -> list[str]:
    seen: list[str] = []
    for m in marks:
        for p in m.parts:
            if p.question not in seen:
                seen.append(p.question)
    return seen


def grades_csv(marks: list[StudentMark]) -> str:
    """`student_id,score,max_score` and a column per question (its score)."""
    questions = question_ids(marks)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student_id", "score", "max_score", *questions])
    for m in marks:
        per = {q: sum(p.score for p in m.parts if p.question == q) for q in questions}
        writer.writerow([m.student_id, _num(m.score), _num(m.max_score), *(_num(per[q]) for q in questions)])
    return out.getvalue()


def report(marks: list[StudentMark]) -> dict[str, Any]:
    return {"students": [{"student_id": m.student_id, "score": m.score, "max_score": m.max_score,
                          "parts": [{"question": p.question, "part": p.part, "score": p.score,
                                     "max_score": p.max_score, "feedback": p.feedback} for p in m.parts]}
                         for m in marks]}


def feedback_md(mark: StudentMark) -> str:
    lines = [f"# Feedback for {mark.student_id}", "", f"Score: {_num(mark.score)} / {_num(mark.max_score)}", ""]
    for p in mark.parts:
        lines += [f"## {p.question}({p.part}): {_num(p.score)} / {_num(p.max_score)}", ""]
        lines += [f"- {line}" for line in p.feedback] + [""]
    return "\n".join(lines)


def feedback_context(mark: StudentMark) -> dict[str, Any]:
    """The feedback document of one student: per part what was right, the first value that departs from the
    truth (with the right value), what was credited as following from the student's own value, the slips."""
    parts = []
    for p in mark.parts:
        entry: dict[str, Any] = {"question": p.question, "part": p.part, "score": _num(p.score),
                                 "max_score": _num(p.max_score), "manual": "; ".join(p.feedback) if p.manual else "",
                                 "right": [i.path for i in p.items if i.status == "right"],
                                 "followed": [i.path for i in p.items if i.status == "followed"],
                                 "slips": [{"path": i.path, "slip": i.slip} for i in p.items if i.slip],
                                 "departs": None, "rows": []}
        first = next((i for i in p.items if i.status != "right"), None)
        if first is not None:
            entry["departs"] = {"path": first.path, "truth": _math(first.truth), "explanation": first.explanation,
                                "given": typeset(first.given_text) if first.given_text else "nothing"}
        for i in p.items:
            entry["rows"].append({"path": i.path, "given": typeset(i.given_text) if i.given_text else "-",
                                  "truth": _math(i.truth), "explanation": i.explanation,
                                  "points": f"{_num(i.score)}/{_num(i.points)}", "status": STATUS_TEXT[i.status]})
        parts.append(entry)
    return {"title": f"Feedback for {mark.student_id}", "student": mark.student_id, "score": _num(mark.score),
            "max_score": _num(mark.max_score), "parts": parts}


STATUS_TEXT = {"right": "", "followed": "follows from your value", "wrong": "wrong", "missing": "no answer",
               "unreadable": "unreadable"}


def _math(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value)
    return typeset(text)


def feedback_pdfs(marks: list[StudentMark], progress: Callable[[], None] | None = None) -> list[bytes]:
    """One PDF per student (Typst sources compiled by one shared compiler); `progress()` after each."""
    return compile_typst_sources([render_template("feedback", feedback_context(m), "typst") for m in marks],
                                 progress)


def flags_csv(flags: list[dict[str, str]]) -> str:
    out = io.StringIO()
    fields = ["student_id", "question", "part", "path", "value", "matches_variant_of"]
    writer = csv.DictWriter(out, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flags)
    return out.getvalue()


def write_marks(outdir: Path, marks: list[StudentMark], flags: list[dict[str, str]], *, pdf: bool = True,
                title: str = "", progress: Callable[[], None] | None = None) -> None:
    """Everything is rendered first, then written, each file through a temporary file and a rename (a failure
    leaves no half-written gradebook): grades.csv, marks.json, flags.csv, items.csv, report.pdf (with `pdf`),
    feedback/<id>.md and feedback/<id>.pdf (with `pdf`)."""
    stats = item_statistics(marks)
    files: dict[Path, str | bytes] = {
        outdir / "grades.csv": grades_csv(marks), outdir / "flags.csv": flags_csv(flags),
        outdir / "marks.json": json.dumps(report(marks), indent=2) + "\n", outdir / "items.csv": items_csv(stats)}
    files |= {outdir / "feedback" / f"{m.student_id}.md": feedback_md(m) for m in marks}
    if pdf:
        with tempfile.TemporaryDirectory(prefix="nnexam-report-") as tmp:
            files[outdir / "report.pdf"] = report_pdf(marks, stats, Path(tmp) / "report.pdf", title).read_bytes()
        files |= {outdir / "feedback" / f"{m.student_id}.pdf": data
                  for m, data in zip(marks, feedback_pdfs(marks, progress), strict=True)}
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        if isinstance(content, bytes):
            partial.write_bytes(content)
        else:
            partial.write_text(content, encoding="utf-8")
        os.replace(partial, path)


def _num(x: float) -> str:
    return f"{round(x, 6):g}"
