"""Homework 6 code question: q1 the CNN for 28x28 digits (see `references/hw6.py` for the architecture)."""

from __future__ import annotations

from assignments.code import points

from ..references import hw6 as ref
from ..sandbox import Limits
from .modules import module_question

POINTS = points("hw6")  # assignments/hw6/code.py allocates them
LIMITS = Limits(cpu_s=60, wall_s=90)
RUNS = [{"kwargs": {}, "seed": 1}]
TRAIN = {"steps": 6, "batch": 8, "lr": 0.05, "loss": "ce", "seed": 11}


QUESTIONS = [module_question("q1", "A CNN for 28x28 digits", ref.CNN, RUNS, 10,
                             [("output", 0, None, "the output (10 logits per image)")], TRAIN, seed=61)]
