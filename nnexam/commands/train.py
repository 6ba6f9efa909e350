"""`nnexam train hw7-kmeans|hw7-autoencoder|hw5-mlp|hw6-cnn`: train a homework reference, write what the
homework asks to report (curves, centres, the digit/cluster table, generated digits, the decision surface)."""

from __future__ import annotations

from pathlib import Path

import click

from autograder.train_targets import TARGETS, run


class _RichReporter:
    """Drives a rich progress bar: one task over epochs, one over the batches of the current epoch."""

    def __init__(self, progress, name: str):
        self.progress, self.name = progress, name

    def start(self, epochs: int, batches: int) -> None:
        self.epochs = self.progress.add_task(f"{self.name} epochs", total=epochs)
        self.batches = self.progress.add_task("batches", total=batches, visible=batches > 1)

    def batch(self) -> None:
        self.progress.advance(self.batches)

    def epoch(self, epoch: int, loss: float) -> None:
        self.progress.update(self.epochs, advance=1, description=f"{self.name} epochs (loss {loss:.4g})")
        self.progress.reset(self.batches)


@click.command("train")
@click.argument("target", type=click.Choice(TARGETS))
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the figures, tables and summary.json  [default: out/TARGET]")
@click.option("--epochs", type=click.IntRange(1), default=None,
              help="Epochs  [default: the homework's on MNIST (100 for hw5-mlp, 10 otherwise); quicker on "
                   "generated digits: hw6-cnn 3, hw7-autoencoder 5]")
@click.option("--samples", "n", type=click.IntRange(1), default=None,
              help="Training images (points for hw5-mlp)  [default: all of MNIST; generated: hw7-kmeans 6000, "
                   "hw6-cnn 2000, hw7-autoencoder 1000, hw5-mlp 1000]")
@click.option("--data", type=click.Choice(["auto", "mnist", "generated"]), default="auto", show_default=True,
              help="auto: MNIST when its files are already on disk, else generated seven-segment digits. "
                   "Nothing is ever downloaded.")
@click.option("--mnist-root", type=click.Path(path_type=str), default=None,
              help="Folder holding MNIST (torchvision's root, with MNIST/raw/*-idx*-ubyte[.gz])  [default: "
                   "$NNEXAM_MNIST, ~/.cache/mnist, ~/.cache/torchvision, ./data, ~/data]")
@click.option("--init", type=click.Choice(["digits", "uniform"]), default="digits", show_default=True,
              help="hw7-kmeans: digits = the homework's cheat (C_i = an image of digit i); uniform = each "
                   "coordinate uniform in [0, 1] (the mode-collapse experiment).")
@click.option("--reduction", type=click.Choice(["mean", "batch_mean"]), default="mean", show_default=True,
              help="hw7-kmeans loss: mean = nn.MSELoss() as the homework codes it (alpha = eta/3920); "
                   "batch_mean = summed over pixels, averaged over the batch (the homework's eta/5 derivation).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
def command(target: str, output: Path | None, epochs: int | None, n: int | None, data: str, mnist_root: str | None,
            init: str, reduction: str, seed: int) -> None:
    """Train a homework reference and write what the homework reports.

    \b
    hw7-kmeans       centres.png (2x5), table.csv / table.png (digit i vs centre j), loss.png
    hw7-autoencoder  generated.png (20 digits with enc_mode=0), loss.png
    hw5-mlp          mse.png (MSE vs epoch), decision-boundary.png (3-D scatter of x1, x2, f)
    hw6-cnn          loss.png, accuracy.png (train and held-out test)

    \b
    Examples:
      nnexam train hw7-kmeans -o out/kmeans
      nnexam train hw7-kmeans --init uniform -o out/collapse
      nnexam train hw7-autoencoder --data generated --epochs 3
    """
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    output = output or Path("out") / target
    console = Console(stderr=True)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        done = run(target, output, epochs, n, seed, init, data, mnist_root, reduction, _RichReporter(progress, target))
    losses = done["losses"]
    click.echo(f"{target}: trained {done['epochs']} epoch(s) on {done['data']}")
    click.echo(f"loss {losses[0]:.4g} before training -> {losses[-1]:.4g} after")
    for line in done["summary"]:
        click.echo(line)
    click.echo(f"wrote {len(done['files'])} file(s) to {output}/: " + ", ".join(p.name for p in done["files"]))
