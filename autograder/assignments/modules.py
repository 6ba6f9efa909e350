"""Shared plan and grading steps of the nn.Module questions (hw6, hw7)."""

from __future__ import annotations

import numpy as np

from ..modulecheck import ModuleComparison
from . import Question


def module_question(qid: str, title: str, ref_cls, runs: list[dict], out_width: int,
                    outputs: list[tuple[str, int, slice | None, str]], train: dict, seed: int) -> Question:
    """A question on the nn.Module named like `ref_cls`: `module_plan` to probe it, `module_grade` to grade it."""
    return Question(qid, title, lambda: module_plan(qid, ref_cls.__name__, runs, out_width, train, seed),
                    lambda view: module_grade(view, ref_cls, runs, outputs, train, qid))


def _train_spec(qid: str, train: dict) -> dict:
    """The training settings with the names of the question's training inputs (labels for a 'ce' loss only)."""
    return dict(train, data=f"{qid}.data", labels=f"{qid}.labels" if train["loss"] == "ce" else None)


def module_plan(qid: str, cls: str, runs: list[dict], out_width: int, train: dict, seed: int):
    """One 'module' probe on 4 random 28x28 images, with a random output projection for the gradients."""
    rng = np.random.default_rng(seed)
    inputs = {f"{qid}.x": rng.uniform(0, 1, (4, 1, 28, 28)).astype(np.float32),
              f"{qid}.proj": rng.normal(0, 1, (4, out_width)).astype(np.float32),
              f"{qid}.data": rng.uniform(0, 1, (16, 1, 28, 28)).astype(np.float32),
              f"{qid}.labels": rng.integers(0, 10, 16).astype(np.int64)}
    runs = [dict(r, projection=f"{qid}.proj") if i == 0 else r for i, r in enumerate(runs)]
    return [{"id": "names", "kind": "names", "names": [cls]},
            {"id": "model", "kind": "module", "cls": cls, "seed": seed, "input": f"{qid}.x", "runs": runs,
             "train": _train_spec(qid, train)}], inputs


def module_grade(view, ref_cls, runs: list[dict], outputs: list[tuple[str, int, slice | None, str]], train: dict,
                 qid: str):
    """Checks: structure, each (check name, run, columns, label) output, gradients, training."""
    comparison = ModuleComparison(ref_cls, view, "model")
    yield "structure", float(comparison.structure_ok), comparison.structure_message
    last = None
    for name, r, columns, label in outputs:
        ok, message, out = comparison.run(r, runs[r].get("kwargs", {}), runs[r]["seed"], select=columns, label=label)
        if r == 0:
            last = out
        yield name, float(ok), message
    if last is None or not comparison.structure_ok:
        yield "gradients", 0.0, "not compared: " + (comparison.structure_message or "no output")
    else:
        ok, message = comparison.gradients(last, 0, view.input("proj"))
        yield "gradients", float(ok), message
    yield ("training", *comparison.training(_train_spec(qid, train)))
