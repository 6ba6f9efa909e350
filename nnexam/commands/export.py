"""`nnexam export ASSIGNMENT --to moodle|canvas --variants N --seed S -o FILE [--stack]`: question banks for
a learning-management system."""

from __future__ import annotations

from pathlib import Path

import click

from ..export import TARGETS, export


@click.command("export")
@click.argument("assignment", metavar="ASSIGNMENT")
@click.option("--to", "target", required=True, metavar="|".join(TARGETS),
              help="moodle: Moodle XML; canvas: a QTI 1.2 .zip for Canvas.")
@click.option("--variants", "-n", type=click.IntRange(1, 10_000), default=10, show_default=True,
              help="How many distinct variants each question's bank holds.")
@click.option("--seed", "-s", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Base seed; the variants are those `nnexam generate --variants N --seed S` writes.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write (.xml for Moodle, .zip for Canvas).")
@click.option("--stack", is_flag=True, help="Moodle: symbolic answers as STACK questions (Maxima, algebraic "
                                            "equivalence) instead of essays; the site needs the STACK plugin.")
def command(assignment: str, target: str, variants: int, seed: int, output: Path, stack: bool) -> None:
    """Export ASSIGNMENT's variants as question banks: one bank per question part (a Moodle question category,
    a Canvas question group that picks 1) holding one question per variant, named
    "ASSIGNMENT q1a seed SEED" so that `nnexam render ASSIGNMENT --seed SEED` re-renders it.

    \b
    Examples:
      nnexam export mock-final --to moodle --variants 30 --seed 7 -o mock-final.xml
      nnexam export mock-final --to moodle --variants 30 --seed 7 --stack -o mock-final-stack.xml
      nnexam export mock-final --to canvas --variants 30 --seed 7 -o mock-final-qti.zip
      nnexam export practice --to canvas --variants 30 --seed 1 -o practice-qti.zip

    A question whose sampler cannot draw N distinct variants is refused (the mock final's Q5 draws from six
    densities).
    """
    banks = export(assignment, target, variants, seed, output, stack)
    counts: dict[str, int] = {}
    for bank in banks:
        for entry in bank.entries:
            kind = "stack" if entry.kind == "symbolic" and stack else "essay" if entry.kind == "symbolic" else \
                entry.kind
            counts[kind] = counts.get(kind, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    click.echo(f"{assignment}: wrote {len(banks)} banks of up to {variants} variant(s) to {output} ({summary})")
