"""The audit report as a document: text for a terminal, Typst (PDF) or LaTeX, from templates/*/audit.*.j2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from solvers.core import to_json
from templates.mathprint import escape
from templates.render import render_document

from ..comparison import Written
from .report import Report

SEVERITY_TEXT = {"slip": "slip in a step", "wrong_final": "wrong final answer",
                 "wrong_method": "wrong method"}


def _value(v: Any) -> str:
    """A claimed or correct value as the key would write it (decimals keep their written digits)."""
    if isinstance(v, Written):
        return v.text
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return f"{v:.10g}"
    return json.dumps(to_json(v))


def report_context(report: Report, target: str) -> dict[str, Any]:
    def esc(s: str) -> str:
        return escape(str(s), target)

    return {
        "title": esc(f"Audit of {report.key}"),
        "key": esc(report.key),
        "source": esc(report.source),
        "claims_checked": report.claims_checked,
        "clean": report.clean,
        "skipped": [esc(s) for s in report.skipped],
        "findings": [{
            "question": esc(f.question), "claim": esc(f.claim), "step": esc(f.step),
            "claimed": esc(_value(f.claimed)), "correct": esc(_value(f.correct)),
            "severity": esc(f.severity), "severity_text": esc(SEVERITY_TEXT[f.severity]),
            "parts_at": esc(f.parts_at), "explanation": esc(f.explanation),
        } for f in report.findings],
    }


def render_report(report: Report, fmt: str, output: Path | None = None) -> str | Path:
    """Render `report` as text, typst, tex or pdf."""
    return render_document("audit", lambda target, sink: report_context(report, target), fmt, output)
