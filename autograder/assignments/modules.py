"""Shared plan and grading steps of the nn.Module questions (hw6, hw7)."""

from __future__ import annotations

import numpy as np

from ..modulecheck import ModuleComparison, Reference, reference
from . import Question


def module_question(qid: str, title: str, ref_cls, runs: list[dict], out_width: int,
                    outputs: list[tuple[str, int, slice | None, str]], train: dict, seed: int) -> Question:
    """A question on the nn.Module named like `ref_cls`: probed on 4 random 28x28 images with a random output
    projection for the gradients and a few SGD steps on 16 more, with weights the grader draws."""

    def data() -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {f"{qid}.x": rng.uniform(0, 1, (4, 1, 28, 28)).astype(np.float32),
                f"{qid}.proj": rng.normal(0, 1, (4, out_width)).astype(np.float32),
                f"{qid}.data": rng.uniform(0, 1, (16, 1, 28, 28)).astype(np.float32),
                f"{qid}.labels": rng.integers(0, 10, 16).astype(np.int64)}

    def ref() -> Reference:
        def build() -> Reference:
            values = data()
            return Reference(ref_cls, qid, values[f"{qid}.x"], runs, values[f"{qid}.proj"], train,
                             {"data": values[f"{qid}.data"], "labels": values[f"{qid}.labels"]}, seed)
        return reference((ref_cls, qid, seed), build)

    def plan():
        model = ref()
        spec = dict(train, data=f"{qid}.data", labels=f"{qid}.labels" if train["loss"] == "ce" else None)
        probe_runs = [dict(r, projection=f"{qid}.proj") if i == 0 else r for i, r in enumerate(runs)]
        probes = [{"id": "names", "kind": "names", "names": [ref_cls.__name__]},
                  {"id": "model", "kind": "module", "cls": ref_cls.__name__, "seed": seed, "input": f"{qid}.x",
                   "runs": probe_runs, "train": spec, "reference": model.descriptor, "weights": model.prefixes()}]
        return probes, data() | model.inputs()

    def grade(view):
        """Checks: structure, each (check name, run, columns, label) output, gradients, training."""
        comparison = ModuleComparison(ref(), view, "model")
        yield "structure", float(comparison.structure_ok), comparison.structure_message
        for name, r, columns, label in outputs:
            yield (name, *map_ok(comparison.output(r, columns, label)))
        yield ("gradients", *map_ok(comparison.gradients()))
        yield ("training", *comparison.training(train["steps"]))

    return Question(qid, title, plan, grade)


def map_ok(result: tuple[bool, str]) -> tuple[float, str]:
    ok, message = result
    return float(ok), message
