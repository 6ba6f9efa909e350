"""Writing the marks: `grades.csv` (one row per student, a column per question), the JSON report,
`feedback/<student_id>.md` and `flags.csv` (answers right for another student's variant)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

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


def flags_csv(flags: list[dict[str, str]]) -> str:
    out = io.StringIO()
    fields = ["student_id", "question", "part", "path", "value", "matches_variant_of"]
    writer = csv.DictWriter(out, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flags)
    return out.getvalue()


def write_marks(outdir: Path, marks: list[StudentMark], flags: list[dict[str, str]]) -> None:
    """Everything is rendered first, then written (a failure leaves no half-written gradebook)."""
    files = {outdir / "grades.csv": grades_csv(marks), outdir / "flags.csv": flags_csv(flags),
             outdir / "marks.json": json.dumps(report(marks), indent=2) + "\n"}
    files |= {outdir / "feedback" / f"{m.student_id}.md": feedback_md(m) for m in marks}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _num(x: float) -> str:
    return f"{round(x, 6):g}"
