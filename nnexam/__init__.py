"""nnexam: problem sets, step-by-step solutions, key audits and a hardened autograder for NN courses."""

__version__ = "0.1.0"
