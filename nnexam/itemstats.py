"""Item statistics of a marked class: per graded value (question, part, path; a part marked by hand is one
item), over the students whose variant has it:

- `mean`, `sd`: the points earned (sd with divisor n, the spread of this class, not an estimate);
- `difficulty` p = (1/n) sum_i s_i / m_i, the mean fraction of the points (1: everyone right);
- `discrimination` r: the item-rest correlation, Pearson's r between s_i / m_i and the rest of the exam
  T_i - s_i (the point-biserial correlation when an item scores 0 or full); empty when either is constant;
- the most common wrong values (grouped by their canonical key) with their counts and the known slip they match.

`marks/report.pdf` shows them with a score histogram and a difficulty-discrimination map (Typst).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from solvers.core import Figure
from templates.mathprint import fmt, typst_escape
from templates.render import render_document

from .comparison import read_expression
from .marking import StudentMark, canonical_key, read_value, written_decimals

BY_HAND = "(by hand)"
WRONG_SHOWN = 3  # wrong values listed per item


@dataclass
class ItemStats:
    question: str
    part: str
    path: str
    max_points: list[float]  # the distinct maxima (a `[*]` item's share can differ between variants)
    scores: list[float]
    fractions: list[float]
    rests: list[float]
    missing: int = 0
    wrong: list[tuple[str, int, str]] = field(default_factory=list)  # (value as written, count, slip)

    @property
    def n(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def sd(self) -> float:
        return float(np.std(self.scores))

    @property
    def difficulty(self) -> float:
        return float(np.mean(self.fractions))

    @property
    def discrimination(self) -> float | None:
        x, y = np.asarray(self.fractions), np.asarray(self.rests)
        if self.n < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
            return None
        return float(np.corrcoef(x, y)[0, 1])


def item_statistics(marks: list[StudentMark]) -> list[ItemStats]:
    """One ItemStats per graded value, in the order the exams first list them."""
    stats: dict[tuple[str, str, str], ItemStats] = {}
    wrong: dict[tuple[str, str, str], dict[Any, list]] = {}
    for m in marks:
        total = m.score
        for p in m.parts:
            entries = [(BY_HAND, p.score, p.max_score, None)] if p.manual or not p.items else \
                [(i.path, i.score, i.points, i) for i in p.items]
            for path, score, top, item in entries:
                key = (p.question, p.part, path)
                s = stats.setdefault(key, ItemStats(p.question, p.part, path, [], [], [], []))
                if top not in s.max_points:
                    s.max_points.append(top)
                s.scores.append(score)
                s.fractions.append(score / top if top else 0.0)
                s.rests.append(total - score)
                if item is None or item.status in ("right", "followed"):
                    continue
                if item.status == "missing":
                    s.missing += 1
                    continue
                group = _group(item.given, item.given_text)
                seen = wrong.setdefault(key, {}).setdefault(group, [item.given_text, 0, ""])
                seen[1] += 1
                seen[2] = seen[2] or item.slip
    for key, groups in wrong.items():
        ranked = sorted(groups.values(), key=lambda g: -g[1])
        stats[key].wrong = [(text, count, slip) for text, count, slip in ranked[:WRONG_SHOWN]]
    return list(stats.values())


def _group(value: Any, text: str) -> Any:
    key = canonical_key(value, written_decimals(value)) if value is not None else None
    return key if key is not None else " ".join(text.split())


ITEM_COLUMNS = ["question", "part", "path", "max_points", "n", "mean", "sd", "difficulty", "discrimination",
                "missing"] + [f"wrong_{k}{suffix}" for k in range(1, WRONG_SHOWN + 1)
                              for suffix in ("", "_count", "_slip")]


def items_csv(stats: list[ItemStats]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ITEM_COLUMNS)
    for s in stats:
        wrong = [cell for k in range(WRONG_SHOWN) for cell in (s.wrong[k] if k < len(s.wrong) else ("", "", ""))]
        r = s.discrimination
        writer.writerow([s.question, s.part, s.path, _points(s.max_points), s.n, _num(s.mean), _num(s.sd),
                         _num(s.difficulty), "" if r is None else _num(r), s.missing, *wrong])
    return out.getvalue()


def _points(values: list[float]) -> str:
    return f"{values[0]:g}" if len(values) == 1 else f"{min(values):.4g}-{max(values):.4g}"


def _num(x: float) -> str:
    return f"{round(x, 4):g}"


# --------------------------------------------------------------------------------------------- report.pdf


def report_pdf(marks: list[StudentMark], stats: list[ItemStats], output: Path, title: str = "") -> Path:
    """marks/report.pdf: the class summary, the two plots and the item table (Typst, figures as SVG)."""
    scores = [m.score for m in marks]
    top = max((m.max_score for m in marks), default=0.0)

    def context(target: str, sink) -> dict[str, Any]:
        labels = {id(s): f"{s.question}{s.part}:{_short(s.path)}" for s in stats}
        return {
            "title": title or "Item statistics",
            "n": len(marks), "max_score": _num(top),
            "mean": _num(float(np.mean(scores))) if scores else "", "sd": _num(float(np.std(scores))) if scores else "",
            "median": _num(float(np.median(scores))) if scores else "",
            "histogram": sink.add(Figure("score_histogram", {"scores": scores, "max_score": top})),
            "item_map": sink.add(Figure("item_map", {"items": [
                {"label": labels[id(s)], "difficulty": s.difficulty, "discrimination": s.discrimination}
                for s in stats]})),
            "items": [{"question": s.question, "part": s.part, "path": s.path, "max": _points(s.max_points),
                       "mean": _num(s.mean), "sd": _num(s.sd), "p": _num(s.difficulty),
                       "r": "" if s.discrimination is None else _num(s.discrimination),
                       "low": s.discrimination is not None and s.discrimination < 0.2,
                       "wrong": [{"value": typeset(text), "count": count, "slip": slip}
                                 for text, count, slip in s.wrong]} for s in stats],
        }

    return Path(render_document("marks_report", context, "pdf", output))


def _short(path: str) -> str:
    """`iterations[1].centers_after` -> `it1`: a label short enough for a plot."""
    if path == BY_HAND:
        return "hand"
    head = path.split(".")[0]
    name, _, index = head.partition("[")
    return name[:6] + index.rstrip("]")


def typeset(text: str) -> str:
    """A written value as Typst maths: numbers, lists and matrices as written, an expression through the
    guarded parser (`templates.mathprint.fmt`); text that cannot be read stays text."""
    try:
        value = read_value(text)
        return f"${fmt(_as_math(value))}$"
    except (ValueError, TypeError, ArithmeticError):
        return f"`{typst_escape(text)}`" if "`" not in text else typst_escape(text)


def _as_math(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_math(v) for v in value]
    if isinstance(value, str):
        return read_expression(value)
    if isinstance(value, float) and math.isfinite(value):
        return float(value)
    return value
