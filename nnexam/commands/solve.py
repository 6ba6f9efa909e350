"""`nnexam solve KIND --params JSON_OR_FILE --format json|text|typst|tex|pdf [-o FILE]`."""

from __future__ import annotations

from pathlib import Path

import click

from solvers import solve as run_solver
from templates.render import FORMATS, need_output, render_solution

from ..inputs import load_params


@click.command("solve")
@click.argument("kind")
@click.option("--params", "-p", "params", required=True, metavar="JSON_OR_FILE",
              help="The problem's parameters: a JSON object, a .json/.yaml file, or - for stdin.")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="json", show_default=True,
              help="json prints {kind, params, answer, steps, warnings}; text for a terminal; pdf needs -o.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output (required for pdf).")
def command(kind: str, params: str, fmt: str, output: Path | None) -> None:
    """Solve one problem of KIND step by step (`nnexam kinds` lists the kinds, `nnexam kinds KIND` its params).

    \b
    Example:
      nnexam solve competitive --format text --params '{"points": [[0,1],[1,1]],
        "initial_weights": [[-1,2],[2,-1]], "learning_rate": 0.5, "epochs": 2}'
    """
    need_output(fmt, output)
    solution = run_solver(kind, load_params(params))
    result = render_solution(solution, fmt, output)
    if isinstance(result, Path):
        click.echo(f"wrote {result}", err=True)
    else:
        click.echo(result)
