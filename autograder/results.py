"""Gradescope results objects, and grading a folder of submissions with a pool, resuming where it stopped."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .engine import QuestionResult, grade_submission


def gradescope(results: list[QuestionResult], visibility: str = "visible") -> dict:
    """{score, max_score, tests: [{name, score, max_score, output, visibility}]}, as Gradescope reads it."""
    return {
        "score": round(sum(q.score for q in results), 4),
        "max_score": round(sum(q.max_score for q in results), 4),
        "tests": [{"name": q.id, "score": q.score, "max_score": q.max_score, "output": q.output(),
                   "visibility": visibility} for q in results],
    }


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def grade_folder(assignment: str, folder: Path, csv_path: Path, results_dir: Path | None = None, jobs: int = 2,
                 progress: Callable[[Path], None] | None = None) -> list[dict]:
    """Grade every *.py in `folder`; one results JSON per submission; skip those already graded unchanged."""
    results_dir = results_dir or csv_path.parent / f"{csv_path.stem}-results"
    results_dir.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in Path(folder).glob("*.py") if p.is_file())

    def one(path: Path) -> dict:
        target = results_dir / f"{path.stem}.json"
        digest = file_hash(path)
        if target.exists():
            try:
                old = json.loads(target.read_text())
                if old.get("sha256") == digest and old.get("assignment") == assignment:
                    return old
            except json.JSONDecodeError:
                pass
        record = gradescope(grade_submission(assignment, path)) | {"submission": path.name, "sha256": digest,
                                                                   "assignment": assignment}
        target.write_text(json.dumps(record, indent=2))
        return record

    records = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for path, record in zip(files, pool.map(one, files), strict=True):
            records.append(record)
            if progress:
                progress(path)
    with open(csv_path, "w", newline="") as fh:
        question_ids = [t["name"] for t in records[0]["tests"]] if records else []
        writer = csv.writer(fh)
        writer.writerow(["submission", "score", "max_score", *question_ids])
        for r in records:
            writer.writerow([r["submission"], r["score"], r["max_score"], *(t["score"] for t in r["tests"])])
    return records
