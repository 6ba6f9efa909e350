"""`nnexam train` on generated digit-like data only (tiny sizes), the data generator, and the MNIST file reader."""

import csv
import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

from autograder import train as T
from autograder.data import digits
from autograder.train_targets import run


def test_generated_digits_are_deterministic_and_keep_their_defaults():
    a, la = digits(20, seed=3)
    b, lb = digits(20, seed=3)
    assert a.shape == (20, 1, 28, 28) and np.array_equal(a, b) and np.array_equal(la, lb)
    assert a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    centred, lc = digits(20, seed=3, shift=0, ink=0.6)
    assert np.array_equal(lc, la) and not np.array_equal(centred, a)


def test_kmeans_with_the_digit_cheat(tmp_path):
    done = run("hw7-kmeans", tmp_path, epochs=3, n=300, data="generated")
    result = done["result"]
    assert done["data"].startswith("generated")
    for name in ("centres.png", "table.csv", "table.png", "loss.png", "centres.npy", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    table = result["table"]
    assert table.shape == (10, 10) and table.sum() == 300  # every training image counted once
    with (tmp_path / "table.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "digit" and len(rows) == 11
    assert sum(int(v) for row in rows[1:] for v in row[1:11]) == 300
    np.testing.assert_array_equal(np.array([[int(v) for v in row[1:11]] for row in rows[1:]]), table)
    assert done["losses"][-1] < done["losses"][0]  # the k-means loss falls
    # mostly diagonal: digit i mostly lands in centre i (chance would put 10% on the diagonal)
    assert np.trace(table) >= 0.6 * table.sum()
    assert sum(int(np.argmax(row) == i) for i, row in enumerate(table)) >= 7
    assert result["centers"].shape == (10, 784)
    # the winners are the nearest centres: argmax x C^T - ||C||^2 / 2 agrees with a direct distance computation
    images, _ = digits(300, 0, shift=0, ink=0.6)
    x = images.reshape(300, -1).astype(np.float64)
    dist = ((x[:, None, :] - result["centers"][None].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_array_equal(T.assign(result["centers"], images), dist.argmin(1))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["table"] == table.tolist() and summary["init"] == "digits"


def test_uniform_init_collapses_onto_few_centres(tmp_path):
    result = run("hw7-kmeans", tmp_path, epochs=2, n=200, data="generated", init="uniform")["result"]
    assert result["table"].sum() == 200
    assert result["never_won"] >= 5 and result["never_won"] == int(np.sum(result["table"].sum(0) == 0))


def test_batch_mean_reduction_with_eta_4_5_diverges_on_a_collapsed_cluster(tmp_path):
    # every image picks the same uniform centre, so alpha = 2 eta |V_i| / b = 9: the centre overshoots.
    # (torch's default MSELoss mean divides by 784 too, so the homework's code never sees this.)
    done = run("hw7-kmeans", tmp_path, epochs=3, n=128, data="generated", init="uniform", reduction="batch_mean")
    assert done["losses"][-1] > 10 * done["losses"][0]  # 202 -> 11717 with seed 0
    assert (tmp_path / "centres.png").exists() and done["result"]["table"].sum() == 128
    if done["result"]["diverged"] is not None:
        assert any("diverged" in line for line in done["summary"])


def test_autoencoder_generates_twenty_digits(tmp_path):
    done = run("hw7-autoencoder", tmp_path, epochs=1, n=64, data="generated")
    generated = done["result"]["generated"]
    assert generated.shape == (20, 28, 28)
    assert generated.min() >= 0 and generated.max() <= 1  # the decoder ends in a sigmoid
    assert np.array_equal(np.load(tmp_path / "generated.npy"), generated)
    assert (tmp_path / "generated.png").stat().st_size > 0 and (tmp_path / "loss.png").exists()
    assert len(done["losses"]) == 2 and all(np.isfinite(done["losses"]))


def test_cnn_curves(tmp_path):
    result = run("hw6-cnn", tmp_path, epochs=1, n=120, data="generated")["result"]
    assert len(result["losses"]) == len(result["test_accuracy"]) == 2
    assert result["train_size"] + result["test_size"] == 120
    assert all(0 <= a <= 1 for a in result["accuracy"] + result["test_accuracy"])
    assert (tmp_path / "loss.png").exists() and (tmp_path / "accuracy.png").exists()


def test_mlp_mse_falls_and_its_surface_is_drawn(tmp_path):
    done = run("hw5-mlp", tmp_path, epochs=8, n=200)
    assert len(done["losses"]) == 9 and done["losses"][-1] < done["losses"][0]
    assert done["result"]["f"].shape == (1, 200)
    assert (tmp_path / "mse.png").exists() and (tmp_path / "decision-boundary.png").exists()
    assert set(np.load(tmp_path / "weights.npz").files) == {"W", "b", "U", "c"}


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_mnist_files_are_read_when_present_and_never_required(tmp_path):
    # a fake MNIST laid out as torchvision stores it (generated pixels; no real MNIST in the tests)
    raw = tmp_path / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = digits(40, 1, shift=0)
    _write_idx(raw / "train-images-idx3-ubyte.gz", np.round(images[:, 0] * 255))
    _write_idx(raw / "train-labels-idx1-ubyte.gz", labels)
    loaded = T.load_digits("auto", None, mnist_root=tmp_path / "root")
    assert loaded.source.startswith("MNIST") and loaded.images.shape == (40, 1, 28, 28)
    np.testing.assert_allclose(loaded.images, np.round(images * 255) / 255, atol=1e-6)
    assert T.load_digits("generated", 10, mnist_root=tmp_path / "root").source.startswith("generated")
    assert T.load_digits("auto", 10, mnist_root=tmp_path / "nowhere").source.startswith("generated")
    with pytest.raises(T.TrainError, match="--data mnist"):
        T.load_digits("mnist", 10, mnist_root=tmp_path / "nowhere")


def nnexam(*args):
    return subprocess.run([sys.executable, "-m", "nnexam.cli", "train", *args], capture_output=True, text=True)


def test_cli_summary_and_user_mistakes(tmp_path):
    out = nnexam("hw7-kmeans", "--data", "generated", "--samples", "100", "--epochs", "1", "-o", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "generated seven-segment digits" in out.stdout and str(tmp_path) in out.stdout
    assert "table: 100 images" in out.stdout
    bad = nnexam("hw7-kmeans", "--data", "mnist", "--mnist-root", str(tmp_path / "none"), "-o", str(tmp_path))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "never downloads" in bad.stderr
