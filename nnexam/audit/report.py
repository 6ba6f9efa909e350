"""The audit's result: one finding per wrong claim, in the key's order, and the report that holds them.

A finding's severity comes from the claim's role: `wrong_final` (a final answer), `wrong_method` (the method or
the statement itself), `slip` (an intermediate step). Its JSON is `{question, claim, claimed, correct, severity,
explanation, step, parts_at}`; the report's is `{key, claims_checked, findings[, skipped]}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from solvers.core import to_json

SEVERITIES = ("slip", "wrong_final", "wrong_method")


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
        return {"question": self.question, "claim": self.claim, "claimed": to_json(self.claimed),
                "correct": to_json(self.correct), "severity": self.severity,
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
