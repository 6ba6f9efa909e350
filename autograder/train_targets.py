"""What `nnexam train TARGET` does: train a homework reference (`autograder.train`) and write what the homework
asks to report (curves, centres, the digit/cluster table, generated digits, the decision surface, summary.json).

    run("hw7-kmeans", Path("out/kmeans"), epochs=3, data="generated")   # -> {data, epochs, losses, files, ...}
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

TARGETS = ("hw5-mlp", "hw6-cnn", "hw7-kmeans", "hw7-autoencoder")
# epochs: the homework's count on MNIST, a quick one on generated digits; samples: generated images by default
EPOCHS = {"hw5-mlp": (100, 100), "hw6-cnn": (10, 3), "hw7-kmeans": (10, 10), "hw7-autoencoder": (10, 5)}
GENERATED_N = {"hw5-mlp": 1000, "hw6-cnn": 2000, "hw7-kmeans": 6000, "hw7-autoencoder": 1000}


def _write_table(path: Path, table: np.ndarray) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["digit", *(f"centre_{j}" for j in range(table.shape[1])), "total"])
        for i, row in enumerate(table):
            writer.writerow([i, *(int(v) for v in row), int(row.sum())])


def run(target: str, output: Path, epochs: int | None = None, n: int | None = None, seed: int = 0,
        init: str = "digits", data: str = "auto", mnist_root: str | None = None, reduction: str = "mean",
        reporter=None) -> dict:
    """Train `target`, write its files under `output`; returns {data, epochs, losses, files, summary, result}."""
    from templates.figures import training as F

    from . import train as T

    output.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    summary: list[str] = []
    if target == "hw5-mlp":
        epochs = epochs or EPOCHS[target][0]
        result = T.train_mlp(n or GENERATED_N[target], epochs, seed=seed, reporter=reporter)
        source = f"the friend's step network's data ({result['X'].shape[1]} points in [-1, 1]^2, seed {seed})"
        files.append(F.curves(output / "mse.png", {"MSE": result["losses"]}, "MSE",
                              "HW5 Q2 (d): MSE vs epoch (SGD, eta 0.01)"))
        files.append(F.boundary_scatter(output / "decision-boundary.png", result["X"], result["f"], result["Y"],
                                        "HW5 Q2 (e): (x1, x2, f(x1, x2)) of the trained network"))
        np.savez(output / "weights.npz", **{k: result[k] for k in "WbUc"})
        files.append(output / "weights.npz")
    else:
        split_test = None
        loaded = T.load_digits(data, n, seed, mnist_root, default_n=GENERATED_N[target])
        source = loaded.source
        mnist = source.startswith("MNIST")
        epochs = epochs or EPOCHS[target][0 if mnist else 1]
        if target == "hw7-kmeans":
            result = T.train_kmeans(loaded, epochs, init, reduction=reduction, seed=seed, reporter=reporter)
            table = result["table"]
            files.append(F.image_grid(output / "centres.png", result["centers"], 2, 5,
                                      [f"C{j}: {w}" for j, w in enumerate(result["winners"])],
                                      f"k-means centres after {epochs} epochs ({init} init)"))
            _write_table(output / "table.csv", table)
            files.append(output / "table.csv")
            files.append(F.table_heatmap(output / "table.png", table,
                                         f"digit i clustered in centre j ({int(table.sum())} images)"))
            files.append(F.curves(output / "loss.png", {"loss": result["losses"]}, f"loss ({reduction})",
                                  "HW7 Q1: k-means network loss"))
            np.save(output / "centres.npy", result["centers"])
            files.append(output / "centres.npy")
            diag = np.trace(table) / max(1, table.sum())
            summary.append(f"table: {int(table.sum())} images, {diag:.0%} on the diagonal (digit i in centre i)")
            summary.append(f"centres never the winner: {result['never_won']} of 10"
                           + (" (mode collapse)" if result["never_won"] else ""))
            if result["init_missing"]:
                summary.append(f"no image of digit(s) {result['init_missing']} to start from: uniform centres used")
            if result["diverged"]:
                summary.append(f"diverged in epoch {result['diverged']} (loss not finite): training stopped; "
                               "a centre that wins more than 2/9 of a batch gets alpha = 2 eta |V_i|/b > 2")
        elif target == "hw7-autoencoder":
            result = T.train_autoencoder(loaded, epochs, seed=seed, reporter=reporter)
            files.append(F.image_grid(output / "generated.png", result["generated"], 4, 5, None,
                                      f"20 digits generated with enc_mode=0 after {epochs} epochs"))
            np.save(output / "generated.npy", result["generated"])
            files.append(output / "generated.npy")
            files.append(F.curves(output / "loss.png", {"loss": result["losses"]}, "MSE (embedding + error)",
                                  "HW7 Q2: autoencoder loss"))
        else:
            if mnist:
                folder = T.find_mnist(mnist_root)
                split_test = T.load_mnist(folder, "test") if folder else None
            result = T.train_cnn(loaded, split_test, epochs, seed=seed, reporter=reporter)
            files.append(F.curves(output / "loss.png", {"train": result["losses"], "test": result["test_losses"]},
                                  "cross-entropy", "HW6: CNN loss"))
            files.append(F.curves(output / "accuracy.png",
                                  {"train": result["accuracy"], "test": result["test_accuracy"]},
                                  "accuracy", "HW6: CNN accuracy"))
            summary.append(f"test accuracy {result['test_accuracy'][-1]:.1%} on {result['test_size']} images")
    losses = [float(v) for v in result["losses"]]
    record = {"target": target, "data": source, "epochs": epochs, "seed": seed, "losses": losses}
    if target == "hw7-kmeans":
        record.update(init=init, reduction=reduction, table=result["table"].tolist(),
                      winners=result["winners"].tolist(), never_won=result["never_won"], diverged=result["diverged"])
    if target == "hw6-cnn":
        record.update({k: result[k] for k in ("accuracy", "test_losses", "test_accuracy")})
    (output / "summary.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    files.append(output / "summary.json")
    return {"data": source, "epochs": epochs, "losses": losses, "files": files, "summary": summary, "result": result}
