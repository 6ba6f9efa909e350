"""Homework 7 code questions: q1 KMeansNet, q2 the noisy Autoencoder (see `references/hw7.py`)."""

from __future__ import annotations

from assignments.code import points

from ..references import hw7 as ref
from ..sandbox import Limits
from .modules import module_question

POINTS = points("hw7")  # assignments/hw7/code.py allocates them
LIMITS = Limits(cpu_s=90, wall_s=120)
KM_RUNS = [{"kwargs": {}, "seed": 1}]
KM_TRAIN = {"steps": 6, "batch": 8, "lr": 4.5, "loss": "mse", "seed": 21}
AE_RUNS = [{"kwargs": {"enc_mode": 1}, "seed": 2}, {"kwargs": {"enc_mode": 0}, "seed": 3}]
AE_TRAIN = {"steps": 4, "batch": 8, "lr": 0.1, "loss": "mse", "seed": 31}
AE_OUTPUTS = [("embedding", 0, slice(0, 10), "the embedding z (columns 0-9, enc_mode=1)"),
              ("reconstruction", 0, slice(10, None), "the reconstruction error f - x (columns 10-793, enc_mode=1)"),
              ("generation", 1, slice(10, None), "the generated image minus x (enc_mode=0)")]


QUESTIONS = [
    module_question("q1", "k-means as a neural network", ref.KMeansNet, KM_RUNS, 784,
                    [("output", 0, None, "the reconstruction error x - x0")], KM_TRAIN, seed=71),
    module_question("q2", "A noisy autoencoder", ref.Autoencoder, AE_RUNS, 794, AE_OUTPUTS, AE_TRAIN, seed=72),
]
