"""Gradescope results objects, and grading a folder of submissions with a pool, resuming where it stopped.

A batch always finishes and writes its CSV: a folder entry that is not a regular file is refused with one line
(never followed), a submission the sandbox could not run, or on which the grader itself failed, is recorded as
"not graded" (never a 0) and is graded again by the next run. Each results file is written whole (a temporary
file renamed into place) and signed with a key kept outside the output folder (`results_key`): on resume, a
results file that is unreadable, malformed, unsigned or signed with another key is not trusted and the
submission is graded again.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .engine import QuestionResult, grade_submission
from .sandbox import InfrastructureError, zygote_workers
from .submission import SUFFIXES, SubmissionError, entry_problem, read_bytes, read_submission

NOT_GRADED = "not graded: infrastructure error"
REFUSED = "refused"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


def gradescope(results: list[QuestionResult], visibility: str = "visible") -> dict:
    """{score, max_score, tests: [{name, score, max_score, output, visibility}]}, as Gradescope reads it."""
    return {
        "score": round(sum(q.score for q in results), 4),
        "max_score": round(sum(q.max_score for q in results), 4),
        "tests": [{"name": q.id, "score": q.score, "max_score": q.max_score, "output": q.output(),
                   "visibility": visibility} for q in results],
    }


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def results_key() -> bytes:
    """The grader's signing key: $NNEXAM_RESULTS_KEY (a file), else ~/.local/state/nnexam/results.key, made
    (mode 0600) on first use. It never lives in the output folder, so a forged results file cannot be signed."""
    path = Path(os.environ.get("NNEXAM_RESULTS_KEY") or Path.home() / ".local" / "state" / "nnexam" / "results.key")
    try:
        return read_bytes(path, 4096)
    except SubmissionError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return read_bytes(path, 4096)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def sign(record: dict, key: bytes) -> str:
    body = json.dumps({k: v for k, v in record.items() if k != "signature"}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def trusted(path: Path, key: bytes, digest: str, assignment: str) -> dict | None:
    """The results record at `path` if it is whole, ours (signature), for these bytes and this assignment."""
    try:
        record = json.loads(read_bytes(path, 16 << 20).decode("utf-8"))
    except (SubmissionError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("signature"), str):
        return None
    if not hmac.compare_digest(record["signature"], sign(record, key)):
        return None
    if record.get("sha256") != digest or record.get("assignment") != assignment or record.get("status") == NOT_GRADED:
        return None
    return record


def write_whole(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place (never half a file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def submissions_in(folder: Path) -> list[Path]:
    """Every entry of `folder` named like a submission (*.py, *.ipynb), files or not (others are refused)."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix in SUFFIXES and not p.name.startswith("."))


def results_name(path: Path) -> str:
    return f"{path.stem}.json" if path.suffix == ".py" else f"{path.name}.json"


def grade_folder(assignment: str, folder: Path, csv_path: Path, results_dir: Path | None = None, jobs: int = 2,
                 progress: Callable[[Path], None] | None = None) -> list[dict]:
    """Grade every submission in `folder`; one signed results JSON per submission; skip those already graded
    unchanged. Workers are forked from one zygote for the whole batch (see `sandbox.zygote_workers`)."""
    results_dir = results_dir or csv_path.parent / f"{csv_path.stem}-results"
    results_dir.mkdir(parents=True, exist_ok=True)
    files = submissions_in(folder)
    key = results_key()

    def one(path: Path) -> dict:
        stamp = {"submission": path.name, "assignment": assignment}
        problem = entry_problem(path)
        if problem:
            return {"status": REFUSED, "error": f"{path.name}: is {problem}, not a regular file; not graded",
                    "score": None, "max_score": None, "tests": []} | stamp
        try:
            submission = read_submission(path)
        except SubmissionError as exc:
            return {"status": REFUSED, "error": str(exc), "score": None, "max_score": None, "tests": []} | stamp
        target = results_dir / results_name(path)
        stamp["sha256"] = file_hash(submission.source + path.suffix.encode())
        old = trusted(target, key, stamp["sha256"], assignment)
        if old is not None:
            return old
        try:
            record = gradescope(grade_submission(assignment, submission)) | stamp
        except InfrastructureError as exc:
            record = {"status": NOT_GRADED, "error": str(exc), "score": None, "max_score": None, "tests": []} | stamp
        except Exception as exc:  # noqa: BLE001 - one submission never stops the batch
            record = {"status": NOT_GRADED, "error": f"{path.name}: the grader failed ({type(exc).__name__}: {exc})",
                      "score": None, "max_score": None, "tests": []} | stamp
        record["signature"] = sign(record, key)
        try:
            write_whole(target, json.dumps(record, indent=2))
        except OSError as exc:
            record = {"status": NOT_GRADED, "error": f"{path.name}: its results file {target} could not be "
                      f"written ({exc.strerror})", "score": None, "max_score": None, "tests": []} | stamp
        return record

    records = []
    with zygote_workers(), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for path, record in zip(files, pool.map(one, files), strict=True):
            records.append(record)
            if progress:
                progress(path)
    write_whole(csv_path, gradebook(records))
    return records


def gradebook(records: list[dict]) -> str:
    """The batch's CSV: submission, score, max_score, one column per question, status."""
    import io

    question_ids = next(([t["name"] for t in r["tests"]] for r in records if r.get("tests")), [])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["submission", "score", "max_score", *question_ids, "status"])
    for r in records:
        status = r.get("status")
        if status in (NOT_GRADED, REFUSED):
            writer.writerow([r["submission"], "", "", *("" for _ in question_ids), status])
        else:
            scores = {t["name"]: t["score"] for t in r["tests"]}
            writer.writerow([r["submission"], r["score"], r["max_score"], *(scores.get(q, "") for q in question_ids),
                             "graded"])
    return out.getvalue()
