"""Gradescope results objects, and grading a folder of submissions with a pool, resuming where it stopped."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .engine import QuestionResult, grade_submission
from .sandbox import InfrastructureError, zygote_workers

NOT_GRADED = "not graded: infrastructure error"


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
    """Grade every *.py in `folder`; one results JSON per submission; skip those already graded unchanged.

    Workers are forked from one zygote for the whole batch (see `sandbox.zygote_workers`). A submission the
    sandbox could not run is recorded with `status` NOT_GRADED (no score, never a 0) and is graded again by
    the next run.
    """
    results_dir = results_dir or csv_path.parent / f"{csv_path.stem}-results"
    results_dir.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in Path(folder).glob("*.py") if p.is_file())

    def one(path: Path) -> dict:
        target = results_dir / f"{path.stem}.json"
        digest = file_hash(path)
        if target.exists():
            try:
                old = json.loads(target.read_text())
                if (old.get("sha256") == digest and old.get("assignment") == assignment
                        and old.get("status") != NOT_GRADED):
                    return old
            except json.JSONDecodeError:
                pass
        stamp = {"submission": path.name, "sha256": digest, "assignment": assignment}
        try:
            record = gradescope(grade_submission(assignment, path)) | stamp
        except InfrastructureError as exc:
            record = {"status": NOT_GRADED, "error": str(exc), "score": None, "max_score": None, "tests": []} | stamp
        target.write_text(json.dumps(record, indent=2))
        return record

    records = []
    with zygote_workers(), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for path, record in zip(files, pool.map(one, files), strict=True):
            records.append(record)
            if progress:
                progress(path)
    with open(csv_path, "w", newline="") as fh:
        question_ids = next(([t["name"] for t in r["tests"]] for r in records if r["tests"]), [])
        writer = csv.writer(fh)
        writer.writerow(["submission", "score", "max_score", *question_ids, "status"])
        for r in records:
            if r.get("status") == NOT_GRADED:
                writer.writerow([r["submission"], "", "", *("" for _ in question_ids), NOT_GRADED])
            else:
                writer.writerow([r["submission"], r["score"], r["max_score"], *(t["score"] for t in r["tests"]),
                                 "graded"])
    return records
