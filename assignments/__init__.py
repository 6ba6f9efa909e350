"""Assignments as data: exams and homework whose questions are statement templates plus solver parts.

    from assignments import load, build, write
    variant = build(load("mock-final"), seed=None)        # the original; an int seed draws a variant
    write(variant, Path("out/mock-final"))                # problems.pdf, solutions.pdf, key.json
"""

from .core import (
    Assignment,
    AssignmentError,
    MissingKindError,
    Variant,
    build,
    check_constraints,
    check_kinds,
    distinct_batch,
    load,
    names,
    variant_seed,
)
from .documents import write
from .sampling import Constraint, Sampler, SamplerError, sampler

__all__ = [
    "Assignment", "AssignmentError", "Constraint", "MissingKindError", "Sampler", "SamplerError", "Variant",
    "build", "check_constraints", "check_kinds", "distinct_batch", "load", "names", "sampler", "variant_seed", "write",
]
