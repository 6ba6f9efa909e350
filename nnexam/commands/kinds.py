"""`nnexam kinds [KIND]`: the registered problem kinds with a one-line summary; with KIND, that kind's contract
(params, answer fields and notes from solvers/CATALOG.md) and its examples."""

from __future__ import annotations

import json
import textwrap

import click

from solvers import catalog, kind_info, kinds

WIDTH = 100


@click.command("kinds")
@click.argument("kind", required=False)
@click.option("--examples", is_flag=True, help="Print each kind's example parameters as JSON.")
def command(kind: str | None, examples: bool) -> None:
    """List the problem kinds that `nnexam solve` knows; with KIND, print its params, answer fields and notes
    (the contract in solvers/CATALOG.md) and its examples.

    \b
    Examples:
      nnexam kinds
      nnexam kinds lloyd
    """
    if kind is not None:
        _describe(kind, examples)
        return
    for name in kinds():
        info = kind_info(name)
        click.echo(f"{name:22s} {info.summary}")
        if examples:
            for label, params in info.examples.items():
                click.echo(f"    {label}: {json.dumps(params)}")


def _describe(kind: str, examples: bool) -> None:
    rows = catalog.rows_of(kind)
    registered = kind in kinds()
    if not registered and not rows:
        kind_info(kind)  # raises the one-line error that lists the known kinds
    click.echo(f"{kind}: {kind_info(kind).summary}" if registered else
               f"{kind}: in the catalog, not registered in this installation")
    if not rows:
        click.echo("(no entry in solvers/CATALOG.md)")
    for row in rows:
        label = f" {row.variant}" if row.variant else ""
        _paragraph(f"params{label}: ", row.params)
        _paragraph(f"answer{label}: ", row.answer)
    notes = catalog.notes_of(kind)
    if notes:
        click.echo("notes:")
        for note in notes:
            _paragraph("  - ", note)
    if registered:
        click.echo("examples: " + ", ".join(kind_info(kind).examples))
        if examples:
            for label, params in kind_info(kind).examples.items():
                click.echo(f"    {label}: {json.dumps(params)}")


def _paragraph(head: str, body: str) -> None:
    click.echo(textwrap.fill(body.replace("`", ""), WIDTH, initial_indent=head,
                             subsequent_indent=" " * min(len(head), 8), break_on_hyphens=False))
