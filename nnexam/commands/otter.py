"""`nnexam otter ASSIGNMENT -o DIR`: student material with Otter public checks, and a Gradescope autograder zip
whose scores come from the sandboxed runner (see `autograder.otter` for how and why)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("otter")
@click.argument("assignment")
@click.option("--output", "-o", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for student/ (notebook, .py, public tests) and ASSIGNMENT-autograder.zip.")
@click.option("--visibility", type=click.Choice(["visible", "after_due_date", "after_published", "hidden"]),
              default="visible", show_default=True,
              help="When students see each question's checks on Gradescope (the feedback names the expected "
                   "values of the graded checks).")
def command(assignment: str, out: Path, visibility: str) -> None:
    """Build ASSIGNMENT's (hw5, hw6, hw7) Otter material and Gradescope autograder zip, offline.

    \b
    Examples:
      nnexam otter hw5 -o otter-hw5/     # then upload otter-hw5/hw5-autograder.zip to Gradescope
      nnexam otter hw7 -o otter-hw7/ --visibility after_due_date
      otter check otter-hw5/student/hw5.py -t otter-hw5/student/tests    # a student's self-check
    """
    from autograder.engine import load_assignment
    from autograder.otter import build

    load_assignment(assignment)
    result = build(assignment, out, visibility)
    total = sum(result.points.values())
    click.echo(f"student material: {result.student} ({result.notebook.name}, {result.script.name}, tests/)")
    click.echo(f"Gradescope autograder: {result.autograder_zip} ({len(result.points)} questions, {total:g} points)")
