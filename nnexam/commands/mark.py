"""`nnexam mark EXAMS_DIR ANSWERS -o MARKS_DIR [--manual manual.csv] [--follow-through full|half|none]
[--format csv|json]`: students' answers marked against their own variant's key."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..gradebook import report, write_marks
from ..marking import FOLLOW_THROUGH, copy_flags, load_exams, mark, merge_manual, read_answers


@click.command("mark")
@click.argument("exams", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("answers", type=click.Path(exists=True, path_type=Path))
@click.option("--output", "-o", "outdir", type=click.Path(file_okay=False, path_type=Path), default=Path("marks"),
              show_default=True, help="Folder for grades.csv, marks.json, flags.csv and feedback/.")
@click.option("--manual", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV student_id,question,part,score: the scores of the parts marked by hand.")
@click.option("--follow-through", type=click.Choice(list(FOLLOW_THROUGH)), default="full", show_default=True,
              help="Credit for a value that is wrong but follows from the student's own earlier value.")
@click.option("--pdf/--no-pdf", default=True, show_default=True,
              help="Write report.pdf and feedback/<id>.pdf (Typst) next to the CSV and Markdown files.")
@click.option("--format", "-f", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="json also prints the marks as JSON on stdout.")
def command(exams: Path, answers: Path, outdir: Path, manual: Path | None, follow_through: str, pdf: bool,
            fmt: str) -> None:
    """Mark ANSWERS (a CSV student_id,question,part,path,value, or a folder of per-student YAML/JSON files
    with those fields) against the key of each student's variant in EXAMS (written by
    `nnexam generate ASSIGNMENT --roster ROSTER`). Bad rows get one line on stderr; the rest is marked.

    \b
    Examples:
      nnexam mark exams/ answers.csv -o marks/
      nnexam mark exams/ answers.csv -o marks/ --manual manual.csv --format json
    """
    students = load_exams(exams)
    given, bad = read_answers(answers, students)
    console = Console(stderr=True)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("marking", total=len(students))
        marks, unreadable = mark(students, given, follow_through, lambda: progress.advance(task))
        bad += unreadable
        if manual is not None:
            bad += merge_manual(manual, marks)
        flags = copy_flags(students, given)
        task = progress.add_task("feedback PDFs", total=len(marks) if pdf else 0)
        write_marks(outdir, marks, flags, pdf=pdf, progress=lambda: progress.advance(task))
    for line in bad:
        click.echo(f"nnexam: warning: {line}", err=True)
    if fmt == "json":
        click.echo(json.dumps(report(marks), indent=2))
    else:
        click.echo(f"marked {len(marks)} student(s) into {outdir}/ (grades.csv, items.csv, feedback/, flags.csv"
                   f"{', report.pdf' if pdf else ''}); {len(bad)} row(s) skipped, {len(flags)} copying flag(s)")
