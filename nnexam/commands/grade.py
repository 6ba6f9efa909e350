"""`nnexam grade ASSIGNMENT SUBMISSION|DIR`: grade code submissions in the sandboxed runner."""

from __future__ import annotations

import json
from pathlib import Path

import click

from solvers.errors import NnexamError


@click.command("grade")
@click.argument("assignment")
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "-f", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True,
              help="json prints a Gradescope results object {score, max_score, tests}.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="For a folder: the grades CSV (one results JSON per submission goes next to it).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Submissions graded at the same time (each in its own sandboxed worker).")
@click.option("--name", default=None, help="The file name to use in feedback (default: SUBMISSION's own).")
def command(assignment: str, submission: Path, fmt: str, output: Path | None, jobs: int, name: str | None) -> None:
    """Grade SUBMISSION (a .py file or a .ipynb notebook) or every one in a folder against ASSIGNMENT (hw5, hw6,
    hw7).

    \b
    Examples:
      nnexam grade hw7 kmeans_and_autoencoder.py --format json
      nnexam grade hw5 my_hw5.ipynb
      nnexam grade hw5 submissions/ -o grades.csv          # resumes: unchanged files are not regraded
    """
    from autograder.engine import load_assignment
    from autograder.results import NOT_GRADED, REFUSED, grade_folder, gradescope, submissions_in

    load_assignment(assignment)
    if submission.is_dir() and not submission.is_symlink():
        if output is None:
            raise click.UsageError("grading a folder needs -o grades.csv")
        from rich.progress import Progress

        files = submissions_in(submission)
        with Progress(transient=True) as progress:
            task = progress.add_task(f"grading {assignment}", total=len(files))
            records = grade_folder(assignment, submission, output, jobs=jobs,
                                   progress=lambda _: progress.advance(task))
        failed = [r for r in records if r.get("status") == NOT_GRADED]
        refused = [r for r in records if r.get("status") == REFUSED]
        for record in refused:
            click.echo(f"nnexam: refused: {record['error']}", err=True)
        click.echo(f"graded {len(records) - len(failed) - len(refused)} submissions: {output}", err=True)
        if failed:
            raise NnexamError(f"{len(failed)} submission(s) not graded (infrastructure error, not the students'; "
                              f"run the command again to grade them): {failed[0]['error']}")
        return
    from autograder.engine import grade_submission
    from autograder.submission import read_submission

    result = gradescope(grade_submission(assignment, read_submission(submission, name)))
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
        return
    for test in result["tests"]:
        click.echo(f"{test['name']}: {test['score']:g}/{test['max_score']:g}\n{test['output']}\n")
    click.echo(f"total: {result['score']:g}/{result['max_score']:g}")
