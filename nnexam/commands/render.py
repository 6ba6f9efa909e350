"""`nnexam render ASSIGNMENT [-o DIR] [--seed S] [--format pdf|tex]`: one assignment's problem set,
solutions and answer key."""

from __future__ import annotations

from importlib import util
from pathlib import Path

import click

from .. import documents_cache


def _names() -> list[str]:
    """The assignments' CLI names, found without importing the `assignments` package (see its `names`)."""
    spec = util.find_spec("assignments")
    folders = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    return sorted(p.parent.name.replace("_", "-") for f in folders for p in f.glob("*/assignment.yaml"))


HELP = """Write problems.pdf (statements only), solutions.pdf (every step) and key.json for ASSIGNMENT.
A PDF rendering is kept in the cache (NNEXAM_CACHE=0 turns it off; see the README), so rendering the same
assignment again with unchanged code only copies the files.

\b
Assignments: """ + ", ".join(_names()) + """

\b
Examples:
  nnexam render mock-final                     # out/mock-final/{problems,solutions}.pdf, key.json
  nnexam render hw5 --seed 7 -o out/hw5-v7     # a randomized variant
  nnexam render mock-final --format tex        # LaTeX sources instead of PDFs
"""


@click.command("render", help=HELP)
@click.argument("assignment", metavar="ASSIGNMENT")
@click.option("--output", "-o", "outdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder [default: out/ASSIGNMENT].")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None,
              help="Render the variant with this seed instead of the original (the seed in a variant's key.json).")
@click.option("--format", "-f", "fmt", type=click.Choice(["pdf", "tex"]), default="pdf", show_default=True,
              help="pdf compiles with Typst; tex writes LaTeX sources (and the figures) instead.")
@click.option("--redraws", default="", metavar="Q=N,...",
              help="With --seed: draw question Q N times more, as `generate` did for a variant whose numbers repeated "
                   "an earlier one's (the redraws in its key.json), e.g. q1=2,q5=1.")
def command(assignment: str, outdir: Path | None, seed: int | None, fmt: str, redraws: str) -> None:
    counts = _redraws(redraws)
    if counts and seed is None:
        raise click.BadParameter("--redraws needs --seed (the original has no sampled draws)", param_hint="--redraws")
    label = "original" if seed is None else f"variant {seed}"
    request = {"assignment": assignment.replace("_", "-"), "seed": seed, "format": fmt, "redraws": counts}
    stored = documents_cache.load(request) if fmt == "pdf" else None
    if stored is not None:
        header, files = stored
        outdir = outdir if outdir is not None else Path("out") / header["name"]
        written = documents_cache.write_files(outdir, files)
        click.echo(f"{header['name']} ({label}): wrote " + ", ".join(str(p) for p in written))
        return

    from assignments import build, load, write

    spec = load(assignment)
    outdir = outdir if outdir is not None else Path("out") / spec.name
    variant = build(spec, seed, redraws=counts)
    written = write(variant, outdir, fmt)
    if fmt == "pdf" and all(p.parent == outdir for p in written):
        documents_cache.save(request, {"name": spec.name}, written)
    click.echo(f"{spec.name} ({label}): wrote " + ", ".join(str(p) for p in written))


def _redraws(text: str) -> dict[str, int]:
    """`q1=2,q5=1` as {"q1": 2, "q5": 1}."""
    counts = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        qid, sep, count = item.partition("=")
        if not sep or not qid.strip() or not count.strip().isdigit():
            raise click.BadParameter(f"{item!r}: expected QUESTION=COUNT, e.g. q1=2", param_hint="--redraws")
        counts[qid.strip()] = int(count)
    return counts
