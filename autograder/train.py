"""Training the homework references: what `nnexam train` runs, as plain functions returning numpy data.

Every trainer returns a dict with `losses` (index 0: before training; index e: after epoch e, evaluated on the
training set) plus what its homework asks to report: the k-means centres and the 10x10 digit/cluster table
(HW7 Q1 (b)-(c)), 20 generated digits (HW7 Q2 (b)), the MSE curve and the trained network's outputs on the data
(HW5 Q2 (d)-(e)), loss and accuracy curves (HW6). Progress goes to an optional `Reporter`; nothing is printed.

Data: MNIST when its files are already on this machine (the raw IDX files that torchvision downloads, under
`<root>/MNIST/raw/`), never downloaded; otherwise the generated seven-segment digits of `autograder.data`.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solvers.errors import NnexamError

MNIST_ROOTS = ("~/.cache/mnist", "~/.cache/torchvision", "./data", "~/data")
MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


class TrainError(NnexamError):
    """A training request that cannot be honoured (MNIST asked for but absent, bad sizes)."""


@dataclass
class Digits:
    """Images (n, 1, 28, 28) float32 in [0, 1], labels (n,) int64, and where they came from (one line)."""

    images: np.ndarray
    labels: np.ndarray
    source: str


class Reporter:
    """Progress hooks; the default does nothing. `nnexam train` passes one that drives a rich progress bar."""

    def start(self, epochs: int, batches: int) -> None:
        """Called once: the number of epochs and of batches (or data points) per epoch."""

    def batch(self) -> None:
        """Called after each batch."""

    def epoch(self, epoch: int, loss: float) -> None:
        """Called after each epoch with the training-set loss."""


# ---------------------------------------------------------------------------------------------------- data


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format, optionally gzipped) as a uint8 array of its stated shape."""
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise TrainError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise TrainError(f"{path}: expected {int(np.prod(shape))} bytes of data for shape {shape}, found {data.size}")
    return data.reshape(shape)


def _idx_path(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def find_mnist(root: str | Path | None = None) -> Path | None:
    """The folder holding MNIST's training IDX files under `root` (or the usual places), or None."""
    roots = [root] if root is not None else [os.environ.get("NNEXAM_MNIST"), *MNIST_ROOTS]
    for r in roots:
        if not r:
            continue
        base = Path(r).expanduser()
        for folder in (base / "MNIST" / "raw", base / "raw", base):
            if all(_idx_path(folder, name) for name in MNIST_FILES["train"]):
                return folder
    return None


def load_mnist(folder: Path, split: str = "train") -> Digits | None:
    """MNIST's `split` from `folder` as Digits, or None when that split's files are not there."""
    paths = [_idx_path(folder, name) for name in MNIST_FILES[split]]
    if not all(paths):
        return None
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise TrainError(f"{paths[0]}: expected (n, 28, 28) images matching {len(labels)} labels, got {images.shape}")
    return Digits(images[:, None].astype(np.float32) / 255, labels.astype(np.int64),
                  f"MNIST {split} set ({len(labels)} images from {folder})")


def load_digits(data: str = "auto", n: int | None = None, seed: int = 0, mnist_root: str | Path | None = None,
                default_n: int = 2000, split: str = "train") -> Digits:
    """Training digits: `data` is auto (MNIST if on disk, else generated), mnist or generated.

    `n` caps the number of images (None: all of MNIST, or `default_n` generated ones). MNIST is never downloaded.
    """
    if data not in ("auto", "mnist", "generated"):
        raise TrainError(f"--data: expected auto, mnist or generated, got {data!r}")
    if n is not None and n < 1:
        raise TrainError(f"--samples: expected a positive number of images, got {n}")
    if data != "generated":
        folder = find_mnist(mnist_root)
        loaded = load_mnist(folder, split) if folder else None
        if loaded is not None:
            if n is not None and n < len(loaded.labels):
                loaded = Digits(loaded.images[:n], loaded.labels[:n],
                                loaded.source.replace(f"({len(loaded.labels)} images", f"(first {n} images"))
            return loaded
        if data == "mnist":
            where = mnist_root or ", ".join(MNIST_ROOTS)
            raise TrainError(f"--data mnist: no MNIST files (train-images-idx3-ubyte[.gz] ...) under {where}; "
                             "download them yourself (nnexam never downloads) or use --data generated")
    from autograder.data import digits

    count = default_n if n is None else n
    images, labels = digits(count, seed, shift=0, ink=0.6)  # centred like MNIST; ink and noise vary
    return Digits(images, labels.astype(np.int64), f"generated seven-segment digits ({count} images, seed {seed})")


def _batches(n: int, size: int):
    return [(start, min(start + size, n)) for start in range(0, n, size)]


# ---------------------------------------------------------------------------------------------------- HW7 Q1


def kmeans_loss(model, x, reduction: str = "batch_mean") -> float:
    """The training loss on all of x: squared reconstruction error, summed over pixels, averaged over images
    (batch_mean) or over images and pixels (mean, torch's MSELoss default)."""
    import torch

    with torch.no_grad():
        total = sum(float(model(x[a:b]).pow(2).sum()) for a, b in _batches(len(x), 1000))
    return total / (len(x) * (784 if reduction == "mean" else 1))


def assign(centers: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Index of the winning centre per image: argmax_i x C_i^T - 1/2 ||C_i||^2 (the nearest centre)."""
    x0 = images.reshape(len(images), -1).astype(np.float64)
    c = centers.astype(np.float64)
    return np.argmax(x0 @ c.T - 0.5 * np.sum(c**2, 1), axis=1)


def train_kmeans(data: Digits, epochs: int = 10, init: str = "digits", lr: float = 4.5, batch_size: int = 64,
                 reduction: str = "mean", seed: int = 0, reporter: Reporter | None = None) -> dict:
    """HW7 Q1: the KMeansNet reference trained by SGD on the reconstruction error against a zero tensor.

    init: digits (the homework's cheat: C_i = the first training image of digit i; a digit absent from the data
    keeps its uniform centre) or uniform (each coordinate uniform in [0, 1], the mode-collapse experiment).
    reduction: batch_mean (squared error summed over pixels, averaged over the batch: the homework's derivation,
    C_i <- (1 - eta/5) C_i + (eta/5) m_i for b = 64) or mean (torch's MSELoss default, which also divides by 784,
    so eta = 4.5 moves the centres 784 times less).
    Returns losses, centers (10, 784), table (10x10: row digit i, column centre j, counts), winners (images per
    centre), never_won (centres that win no image), init_missing (digits with no image to start from), diverged
    (the epoch after which the loss stopped being finite, training then stops; None when it stayed finite).
    """
    import torch

    from autograder.references.hw7 import KMeansNet

    if init not in ("digits", "uniform"):
        raise TrainError(f"--init: expected digits or uniform, got {init!r}")
    if reduction not in ("batch_mean", "mean"):
        raise TrainError(f"--reduction: expected batch_mean or mean, got {reduction!r}")
    reporter = reporter or Reporter()
    torch.manual_seed(seed)
    model = KMeansNet()  # centres uniform in [0, 1] (torch.rand)
    x = torch.as_tensor(data.images)
    missing = []
    if init == "digits":
        with torch.no_grad():
            for i in range(10):
                found = np.flatnonzero(data.labels == i)
                if len(found):
                    model.centers[i] = x[int(found[0])].flatten()
                else:
                    missing.append(i)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    batches = _batches(len(x), batch_size)
    generator = torch.Generator().manual_seed(seed)
    losses = [kmeans_loss(model, x, reduction)]
    reporter.start(epochs, len(batches))
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(x), generator=generator)  # the tutorial's shuffled training loader
        for a, b in batches:
            out = model(x[order[a:b]])
            loss = torch.nn.functional.mse_loss(out, torch.zeros_like(out), reduction="sum") / len(out)
            if reduction == "mean":
                loss = loss / out.shape[1]
            opt.zero_grad()
            loss.backward()
            opt.step()
            reporter.batch()
        losses.append(kmeans_loss(model, x, reduction))
        reporter.epoch(epoch, losses[-1])
        if not np.isfinite(losses[-1]) or not torch.isfinite(model.centers).all():
            diverged = epoch  # a centre holding more than 2/9 of a batch gets alpha = 2 eta |V_i| / b > 2
            break
    else:
        diverged = None
    centers = np.nan_to_num(model.centers.detach().numpy().copy(), nan=0.0, posinf=0.0, neginf=0.0)
    cluster = assign(centers, data.images)
    table = np.zeros((10, 10), dtype=np.int64)
    np.add.at(table, (data.labels, cluster), 1)
    winners = table.sum(0)
    return {"losses": losses, "centers": centers, "table": table, "winners": winners,
            "never_won": int(np.sum(winners == 0)), "init_missing": missing, "diverged": diverged}


# ---------------------------------------------------------------------------------------------------- HW7 Q2


def train_autoencoder(data: Digits, epochs: int = 10, lr: float = 0.1, batch_size: int = 64, generate: int = 20,
                      seed: int = 0, reporter: Reporter | None = None) -> dict:
    """HW7 Q2 (b): the Autoencoder reference trained with MSELoss against zeros (embedding and reconstruction
    error together, the simulated ELBO), SGD at lr 0.1, batch 64; then `generate` digits with enc_mode=0.

    Generation: the homework slices off the 10 embedding entries of model(x, enc_mode=0)[:, 10:], which is f - x;
    we call it on all-zero images so the slice is the decoded image f itself (z is then 2 * N(0, 1) noise, as
    the homework's z2 = enc_mode*z + (2-enc_mode)*randn gives). Returns losses, generated (generate, 28, 28).
    """
    import torch

    from autograder.references.hw7 import Autoencoder

    reporter = reporter or Reporter()
    torch.manual_seed(seed)
    model = Autoencoder()
    x = torch.as_tensor(data.images)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    batches = [(a, b) for a, b in _batches(len(x), batch_size) if b - a > 1]  # batch norm needs 2+ images
    if not batches:
        raise TrainError("--samples: the autoencoder's batch norm needs at least 2 images")
    generator = torch.Generator().manual_seed(seed)

    def evaluate() -> float:
        model.eval()
        with torch.no_grad():
            total = sum(float(torch.nn.functional.mse_loss(model(x[a:b]), torch.zeros(b - a, 794), reduction="sum"))
                        for a, b in _batches(len(x), 500))
        model.train()
        return total / (len(x) * 794)

    losses = [evaluate()]
    reporter.start(epochs, len(batches))
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(x), generator=generator)
        for a, b in batches:
            out = model(x[order[a:b]])
            loss = torch.nn.functional.mse_loss(out, torch.zeros_like(out))
            opt.zero_grad()
            loss.backward()
            opt.step()
            reporter.batch()
        losses.append(evaluate())
        reporter.epoch(epoch, losses[-1])
    model.eval()
    with torch.no_grad():
        blank = torch.zeros(generate, 1, 28, 28)
        generated = (model(blank, enc_mode=0)[:, 10:] + blank.flatten(1)).reshape(generate, 28, 28).numpy()
    return {"losses": losses, "generated": generated}


# ---------------------------------------------------------------------------------------------------- HW6


def train_cnn(data: Digits, test: Digits | None = None, epochs: int = 3, lr: float = 0.05, batch_size: int = 64,
              seed: int = 0, reporter: Reporter | None = None) -> dict:
    """HW6: the CNN reference trained with cross-entropy by SGD. Without a `test` set, the last sixth of `data`
    is held out. Returns losses / test_losses / accuracy / test_accuracy per epoch (index 0: untrained)."""
    import torch

    from autograder.references.hw6 import CNN

    reporter = reporter or Reporter()
    torch.manual_seed(seed)
    x, y = torch.as_tensor(data.images), torch.as_tensor(data.labels)
    if test is None:
        cut = len(x) - max(1, len(x) // 6)
        if cut < 1:
            raise TrainError("--samples: the CNN needs at least 2 images (one to train on, one to test)")
        x, y, tx, ty = x[:cut], y[:cut], x[cut:], y[cut:]
    else:
        tx, ty = torch.as_tensor(test.images), torch.as_tensor(test.labels)
    model = CNN()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    batches = _batches(len(x), batch_size)
    generator = torch.Generator().manual_seed(seed)

    def evaluate(images, labels) -> tuple[float, float]:
        loss, right = 0.0, 0
        with torch.no_grad():
            for a, b in _batches(len(images), 1000):
                logits = model(images[a:b])
                loss += float(torch.nn.functional.cross_entropy(logits, labels[a:b], reduction="sum"))
                right += int((logits.argmax(1) == labels[a:b]).sum())
        return loss / len(images), right / len(images)

    history = {"losses": [], "accuracy": [], "test_losses": [], "test_accuracy": []}

    def record():
        for prefix, (images, labels) in (("", (x, y)), ("test_", (tx, ty))):
            loss, acc = evaluate(images, labels)
            history[f"{prefix}losses"].append(loss)
            history[f"{prefix}accuracy"].append(acc)

    record()
    reporter.start(epochs, len(batches))
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(x), generator=generator)
        for a, b in batches:
            loss = torch.nn.functional.cross_entropy(model(x[order[a:b]]), y[order[a:b]])
            opt.zero_grad()
            loss.backward()
            opt.step()
            reporter.batch()
        record()
        reporter.epoch(epoch, history["losses"][-1])
    history["train_size"], history["test_size"] = len(x), len(tx)
    return history


# ---------------------------------------------------------------------------------------------------- HW5 Q2


def train_mlp(n: int = 1000, epochs: int = 100, lr: float = 0.01, seed: int = 0,
              reporter: Reporter | None = None) -> dict:
    """HW5 Q2 (d)-(e): the 2-3-1 sigmoid (a = 5) network trained point by point (SGD, eta 0.01, 100 epochs) on
    the friend's step-network data; returns losses (MSE per epoch), X (2, n), Y (1, n), f (1, n) = the trained
    network's outputs on X, and the trained weights W, b, U, c."""
    from autograder.references import hw5

    if n < 1:
        raise TrainError(f"--samples: expected a positive number of points, got {n}")
    reporter = reporter or Reporter()
    X, Y = hw5.friend_data(n, seed)
    weights = hw5.initial_weights(seed)
    losses = [hw5.mse(X, Y, *weights)]
    reporter.start(epochs, 1)
    for epoch in range(1, epochs + 1):
        weights = hw5.sgd_epoch(X, Y, *weights, lr)
        losses.append(hw5.mse(X, Y, *weights))
        reporter.batch()
        reporter.epoch(epoch, losses[-1])
    f = hw5.forward(X, *weights)[3]
    return {"losses": losses, "X": X, "Y": Y, "f": f, **dict(zip("WbUc", weights, strict=True))}
