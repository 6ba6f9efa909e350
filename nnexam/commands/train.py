"""`nnexam train hw7-kmeans|hw7-autoencoder|hw5-mlp|hw6-cnn`: train a reference, save its loss curve."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

TARGETS = ("hw5-mlp", "hw6-cnn", "hw7-kmeans", "hw7-autoencoder")


def _mnist(n: int):
    try:
        from torchvision import datasets  # optional: only used when MNIST is already on this machine
        data = datasets.MNIST(str(Path.home() / ".cache" / "mnist"), train=True, download=False)
    except Exception:  # noqa: BLE001 - no torchvision or no local data: fall back to generated digits
        return None
    images = data.data[:n].numpy().astype(np.float32)[:, None] / 255
    return images, data.targets[:n].numpy()


def train(target: str, epochs: int, n: int, seed: int) -> dict:
    """Train the reference for `target`; returns {data, losses, ...} (the k-means table for hw7-kmeans)."""
    import torch

    from autograder.data import digits
    from autograder.references import hw5, hw6, hw7

    torch.manual_seed(seed)
    if target == "hw5-mlp":
        X, Y = hw5.friend_data(n, seed)
        weights, losses = hw5.initial_weights(seed), []
        for _ in range(epochs):
            weights = hw5.sgd_epoch(X, Y, *weights, 0.05)
            losses.append(hw5.mse(X, Y, *weights))
        return {"data": "friend's network", "losses": losses}
    loaded = _mnist(n)
    images, labels = loaded if loaded else digits(n, seed)
    x, y = torch.as_tensor(images), torch.as_tensor(labels)
    model = {"hw6-cnn": hw6.CNN, "hw7-kmeans": hw7.KMeansNet, "hw7-autoencoder": hw7.Autoencoder}[target]()
    if target == "hw7-kmeans":
        with torch.no_grad():  # the homework's "cheat": centre i starts at an image of digit i
            for i in range(10):
                if (labels == i).any():
                    model.centers[i] = x[int(np.flatnonzero(labels == i)[0])].flatten()
    lr = {"hw6-cnn": 0.05, "hw7-kmeans": 4.5, "hw7-autoencoder": 0.1}[target]
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, n, 64):
            out = model(x[start:start + 64])
            if target == "hw6-cnn":
                loss = torch.nn.functional.cross_entropy(out, y[start:start + 64])
            else:
                loss = torch.nn.functional.mse_loss(out, torch.zeros_like(out))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(out)
        losses.append(total / n)
    result = {"data": "MNIST" if loaded else "generated digits", "losses": losses}
    if target == "hw7-kmeans":
        with torch.no_grad():
            cluster = (model(x) + model.flatten(x)).matmul(model.centers.t()).argmax(1).numpy()
        table = np.zeros((10, 10), dtype=int)
        np.add.at(table, (labels, cluster), 1)
        result["table"] = table.tolist()
    return result


@click.command("train")
@click.argument("target", type=click.Choice(TARGETS))
@click.option("--epochs", type=click.IntRange(1), default=10, show_default=True)
@click.option("--samples", "n", type=click.IntRange(10), default=2000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
              show_default=True, help="Folder for losses.json and loss.png.")
def command(target: str, epochs: int, n: int, seed: int, output: Path) -> None:
    """Train a homework reference on MNIST when available locally, else on generated digit-like data."""
    import matplotlib.pyplot as plt

    result = train(target, epochs, n, seed)
    output.mkdir(parents=True, exist_ok=True)
    (output / f"{target}.json").write_text(json.dumps(result, indent=2))
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(range(1, epochs + 1), result["losses"], marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(f"{target} on {result['data']}")
    fig.savefig(output / f"{target}-loss.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    click.echo(f"{target} on {result['data']}: loss {result['losses'][0]:.4g} -> {result['losses'][-1]:.4g}; "
               f"wrote {output}")
