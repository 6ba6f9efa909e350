"""`nnexam generate ASSIGNMENT --variants N --seed S [--roster students.csv] -o DIR`: randomized variants,
each with its problem set, solutions and answer key; one per student with a roster."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assignments import build, distinct_batch, load, variant_seed, write
from assignments.roster import folder_name, read_roster


@click.command("generate")
@click.argument("assignment", metavar="ASSIGNMENT")
@click.option("--variants", "-n", type=click.IntRange(1, 100_000), default=1, show_default=True,
              help="How many variants (ignored with --roster: one per student).")
@click.option("--seed", "-s", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Base seed; same seed, same variants.")
@click.option("--roster", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="CSV with a header row and an id column (and optionally name): one variant per student, "
                   "derived from the base seed and the student's id.")
@click.option("--output", "-o", "outdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder [default: out/ASSIGNMENT-variants].")
@click.option("--format", "-f", "fmt", type=click.Choice(["pdf", "tex"]), default="pdf", show_default=True,
              help="pdf compiles with Typst; tex writes LaTeX sources instead.")
@click.option("--keys-only", is_flag=True, help="Write only each variant's key.json (fast; no documents).")
@click.option("--no-solutions", is_flag=True, help="Write problems and keys but not the solutions documents.")
@click.option("--jobs", "-j", "workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes that write the variants' documents (the variants are drawn first, in order, "
                   "so the output does not depend on it).")
def command(assignment: str, variants: int, seed: int, roster: Path | None, outdir: Path | None, fmt: str,
            keys_only: bool, no_solutions: bool, workers: int) -> None:
    """Write randomized variants of ASSIGNMENT, each in its own folder with problems, solutions and key.json,
    plus variants.json (which seed made which variant). A question whose numbers an earlier variant of the batch
    already has is redrawn while its sampler has new ones (one line on stderr names a sampler that runs out); the
    redraws are recorded, and `nnexam render ASSIGNMENT --seed <its seed> [--redraws q1=2]` reproduces a variant.

    \b
    Examples:
      nnexam generate hw5 --variants 30 --seed 2024 -o out/hw5
      nnexam generate mock-final --roster students.csv --seed 7 -o out/final
      nnexam generate mock-final --variants 100 --keys-only -o out/keys
      nnexam generate mock-final --variants 40 -j 2 -o out/final   # two processes write the PDFs
    """
    spec = load(assignment)
    outdir = outdir if outdir is not None else Path("out") / f"{spec.name}-variants"
    if roster is not None:
        jobs = [(folder_name(s["id"]), variant_seed(seed, f"student:{s['id']}"), s) for s in read_roster(roster)]
    else:
        width = max(3, len(str(variants)))
        jobs = [(f"variant-{i:0{width}d}", variant_seed(seed, i), None) for i in range(1, variants + 1)]
    documents = () if keys_only else ("problems",) if no_solutions else ("problems", "solutions")
    outdir.mkdir(parents=True, exist_ok=True)
    manifest = []
    console = Console(stderr=True)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        solving = progress.add_task(f"{spec.name} keys", total=len(jobs))
        if roster is not None:  # a student's variant depends on the seed and their id alone: adding a student
            # to the roster changes no one else's, so a roster batch is never redrawn for distinctness
            built, exhausted = [], {}
            for _, vseed, student in jobs:
                built.append(build(spec, vseed, student))
                progress.advance(solving)
        else:
            built, exhausted = distinct_batch(spec, [(vseed, student) for _, vseed, student in jobs],
                                              done=lambda: progress.advance(solving))
        task = progress.add_task(f"{spec.name} variants", total=len(jobs))
        for _ in written(built, [outdir / folder for folder, _, _ in jobs], fmt, documents, workers):
            progress.advance(task)
        for (folder, vseed, student), variant in zip(jobs, built, strict=True):
            entry: dict = {"folder": folder, "seed": vseed}
            if student:
                entry["student"] = student
            if variant.redraws:
                entry["redraws"] = variant.redraws
            manifest.append(entry)
    (outdir / "variants.json").write_text(json.dumps(
        {"assignment": spec.name, "base_seed": seed, "variants": manifest}, indent=2) + "\n", encoding="utf-8")
    if exhausted:
        click.echo(f"{spec.name}: the samplers allow fewer distinct draws than {len(jobs)} variants, so some "
                   "variants share numbers: " + ", ".join(f"{qid} ({n} distinct)" for qid, n in exhausted.items()),
                   err=True)
    click.echo(f"{spec.name}: wrote {len(jobs)} variant(s) to {outdir}/ (index: {outdir / 'variants.json'})")


_BATCH: tuple = ()  # what forked workers write: set before the pool forks, so no variant is pickled


def written(variants: list, folders: list[Path], fmt: str, documents: tuple[str, ...], workers: int):
    """Write each variant into its folder, yielding once per variant written; with `workers` > 1, in that many
    forked processes (where fork exists), which inherit the drawn variants instead of receiving pickles."""
    global _BATCH
    if workers <= 1 or len(variants) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for variant, folder in zip(variants, folders, strict=True):
            write(variant, folder, fmt, documents)
            yield folder
        return
    _BATCH = (variants, folders, fmt, documents)
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(variants))) as pool:
            yield from pool.imap_unordered(_write_one, range(len(variants)))
    finally:
        _BATCH = ()


def _write_one(index: int) -> Path:
    variants, folders, fmt, documents = _BATCH
    write(variants[index], folders[index], fmt, documents)
    return folders[index]
