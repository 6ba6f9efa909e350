"""Homework 6 code question: q1 the CNN for 28x28 digits (see `references/hw6.py` for the architecture)."""

from __future__ import annotations

from ..references import hw6 as ref
from ..sandbox import Limits
from . import Question
from .modules import module_grade, module_plan

POINTS = {"q1": {"structure": 3, "output": 3, "gradients": 2, "training": 2}}
LIMITS = Limits(cpu_s=60, wall_s=90)
RUNS = [{"kwargs": {}, "seed": 1}]
TRAIN = {"steps": 6, "batch": 8, "lr": 0.05, "loss": "ce", "seed": 11}


def _plan():
    return module_plan("q1", "CNN", RUNS, 10, TRAIN, seed=61)


def _grade(view):
    yield from module_grade(view, ref.CNN, RUNS, [("output", 0, None, "the output (10 logits per image)")],
                            TRAIN, "q1")


QUESTIONS = [Question("q1", "A CNN for 28x28 digits", _plan, _grade)]
