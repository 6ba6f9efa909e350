"""`nnexam kinds`: the registered problem kinds with a one-line summary and their example names."""

from __future__ import annotations

import json

import click

from solvers import kind_info, kinds


@click.command("kinds")
@click.option("--examples", is_flag=True, help="Print each kind's example parameters as JSON.")
def command(examples: bool) -> None:
    """List the problem kinds that `nnexam solve` knows."""
    for name in kinds():
        info = kind_info(name)
        click.echo(f"{name:22s} {info.summary}")
        if examples:
            for label, params in info.examples.items():
                click.echo(f"    {label}: {json.dumps(params)}")
