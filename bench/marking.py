"""`nnexam mark` on generated classes: students marked per second for 100 and 1,000 students x the mock final,
without and with the PDFs (feedback per student and report.pdf), each beside a baseline measured in the same
run: the old all-pairs copy check against the indexed one, typst.compile per feedback document against one
shared typst.Compiler, and marking without follow-through.

    python bench/marking.py [--sizes 100 1000] [--seed 7]

The answers are built from each student's key (a benchmark, not a test): every graded value right, except that
about a quarter of the students slip on one value of Q1a and Q2b (so follow-through re-runs the solvers) and
a tenth hand in another student's GAN answers (so the copy check finds some).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typst
from _common import ROOT, header, table

from nnexam import marking
from nnexam.audit.keys import resolve
from nnexam.gradebook import feedback_context, write_marks
from templates.render import compile_typst_sources, render_template


def generate(count: int, out: Path, seed: int) -> float:
    roster = out.parent / f"roster-{count}.csv"
    roster.write_text("id,name\n" + "".join(f"u{i:05d},Student {i}\n" for i in range(count)), encoding="utf-8")
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nnexam.cli", "generate", "mock-final", "--roster", str(roster),
                           "--seed", str(seed), "--keys-only", "-o", str(out)], capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"nnexam generate failed: {done.stderr.strip()[-400:]}")
    return time.perf_counter() - t


def answers_csv(exams: dict[str, marking.Exam], path: Path, seed: int) -> int:
    rng = random.Random(seed)
    ids = list(exams)
    rows = []
    for sid, exam in exams.items():
        slip = rng.random() < 0.25
        copier = rng.choice(ids) if rng.random() < 0.1 else None
        for part in exam.parts.values():
            if part.manual:
                continue
            for n, item in enumerate(part.items):
                if item.check:
                    rows.append((sid, part.question, part.part, item.path, json.dumps(part.params["initial_centers"])))
                    continue
                source = exams[copier].parts[(part.question, part.part)] if copier and part.question == "q5" else part
                value = resolve(source.answer, item.tokens, item.path, "key")
                if part.question == "q1" and part.part == "b":
                    value = resolve(part.answer, item.tokens, item.path, "key")
                if slip and n == 0 and isinstance(value, list):
                    value = json.loads(json.dumps(value))
                    first = value[0] if isinstance(value[0], list) else value
                    first[0] += 1
                rows.append((sid, part.question, part.part, item.path,
                             value if isinstance(value, str) else json.dumps(value)))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(marking.ANSWER_FIELDS)
        writer.writerows(rows)
    return len(rows)


def all_pairs_copy_flags(exams, answers):
    """The first version's copy check (the baseline): every wrong answer compared with every other variant."""
    flags = []
    agrees = {}
    for sid, given in answers.items():
        own = exams[sid]
        for (qid, pid, path), answer in given.items():
            item = next((i for i in own.parts[(qid, pid)].items if i.path == path and not i.check), None)
            if item is None or own.parts[(qid, pid)].items[0].check:
                continue
            try:
                if not item.compare(answer.value, resolve(own.parts[(qid, pid)].answer, item.tokens, path, "key")):
                    continue
                for other_id, other in exams.items():
                    part = other.parts.get((qid, pid))
                    if other_id == sid or part is None or part.answer is None:
                        continue
                    try:
                        truth = resolve(part.answer, item.tokens, path, "key")
                    except Exception:  # noqa: BLE001 (a path the other variant lacks)
                        continue
                    memo = (answer.text, json.dumps(truth))
                    if memo not in agrees:
                        agrees[memo] = not item.compare(answer.value, truth)
                    if agrees[memo]:
                        flags.append((sid, qid, pid, path, other_id))
            except (ValueError, TypeError):
                continue
    return flags


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:8.1f} students/s ({seconds:6.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-limit", type=int, default=1000,
                        help="largest class on which the all-pairs baseline runs")
    args = parser.parse_args()
    header("marking: students marked per second, mock final (nnexam mark)")
    work = Path(tempfile.mkdtemp(prefix="nnexam-bench-marking-"))
    try:
        for n in args.sizes:
            measure(n, work, args.seed, n <= args.baseline_limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(n: int, work: Path, seed: int, baseline: bool) -> None:
    generated = generate(n, work / f"exams-{n}", seed)
    exams = marking.load_exams(work / f"exams-{n}")
    count = answers_csv(exams, work / f"answers-{n}.csv", seed)
    t_read, (given, _) = timed(lambda: marking.read_answers(work / f"answers-{n}.csv", exams))
    t_mark, (marks, _) = timed(lambda: marking.mark(exams, given, "full"))
    t_none, _ = timed(lambda: marking.mark(exams, given, "none"))
    t_index, flags = timed(lambda: marking.copy_flags(exams, given))
    indexed = {(f["student_id"], f["question"], f["part"], f["path"], other)
               for f in flags for other in f["matches_variant_of"].split()}
    pairs_text = "skipped"
    if baseline:
        t_pairs, pairs = timed(lambda: all_pairs_copy_flags(exams, given))
        pairs_text = f"{rate(n, t_pairs)}, {len(pairs)} pair(s), {'the same' if set(pairs) == indexed else 'DIFFERENT'}"
    t_files, _ = timed(lambda: write_marks(work / f"marks-{n}", marks, flags, pdf=False))
    t_pdf, _ = timed(lambda: write_marks(work / f"marks-pdf-{n}", marks, flags, pdf=True))
    sources = [render_template("feedback", feedback_context(m), "typst") for m in marks]
    t_shared, _ = timed(lambda: compile_typst_sources(sources))
    t_each, _ = timed(lambda: each_compiled(sources))
    core = t_read + t_mark + t_index
    print(f"## {n} students ({count} answer rows; generate --keys-only took {generated:.1f} s)")
    table([
        ["read + mark (follow-through full) + copy check (indexed)", rate(n, core), ""],
        ["  the same, writing grades/items/feedback .md (no PDFs)", rate(n, core + t_files), ""],
        ["  the same, with report.pdf and feedback PDFs", rate(n, core + t_pdf), ""],
        ["marking, follow-through full", rate(n, t_mark), f"none: {rate(n, t_none)}"],
        ["copy check, indexed by canonical key", f"{rate(n, t_index)}, {len(indexed)} pair(s) in {len(flags)} flag(s)",
         f"all pairs: {pairs_text}"],
        ["feedback PDFs, one shared typst.Compiler", rate(n, t_shared), f"typst.compile each: {rate(n, t_each)}"],
    ], ["stage", "students/s", "baseline (same run)"])
    shutil.rmtree(work / f"marks-pdf-{n}", ignore_errors=True)


def each_compiled(sources: list[str]) -> None:
    for source in sources:
        typst.compile(source.encode("utf-8"))


if __name__ == "__main__":
    main()
