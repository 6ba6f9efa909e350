"""Fuzzing every registered problem kind (new kinds are picked up automatically).

Each case starts from one of the kind's examples and mutates it (tests/test_fuzz_mutations.py). The contract:
`solvers.solve` either returns a Solution whose JSON is strict JSON with a finite answer, or raises
`solvers.ParamError` with one line that names a parameter. Any other exception is a bug in the solver.
Inputs stay small, so each example is quick; there is no time limit (hypothesis `deadline=None`).
"""

from __future__ import annotations

import copy
import json
import random

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import solvers
from tests.test_fuzz_mutations import check_param_error, describe, mutate, nonfinite

KINDS = solvers.kinds()
EXAMPLES = [(kind, label) for kind in KINDS for label in solvers.kind_info(kind).examples]


def check_contract(kind: str, params) -> None:
    """Solve `params`; a Solution must serialize to strict JSON with no NaN or infinity in its answer."""
    try:
        solution = solvers.solve(kind, params)
    except solvers.ParamError as exc:
        check_param_error(kind, exc, params)
        return
    except Exception as exc:  # the finding: anything but a ParamError escaped the solver
        pytest.fail(f"{kind}: {type(exc).__name__}: {exc} -- params {describe(params)}")
    data = solution.to_json()
    json.dumps(data, allow_nan=False)
    bad = nonfinite(solution.answer)
    assert not bad, f"{kind}: non-finite answer {bad[:3]} -- params {describe(params)}"


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_mutated_examples_solve_or_are_refused_with_a_field(kind, data):
    info = solvers.kind_info(kind)
    label = data.draw(st.sampled_from(sorted(info.examples)), label="example")
    params = info.examples[label]
    rounds = data.draw(st.integers(1, 3), label="mutations")
    rng = data.draw(st.randoms(use_true_random=False), label="rng")
    for _ in range(rounds):
        if not isinstance(params, dict):
            break
        params, description = mutate(params, rng)
        note(description)
    note(f"kind={kind} params={describe(params)}")
    check_contract(kind, params)


@pytest.mark.parametrize(("kind", "label"), EXAMPLES)
def test_each_field_dropped_or_an_unknown_field_added(kind, label):
    example = solvers.kind_info(kind).examples[label]
    for field in example:
        check_contract(kind, {k: v for k, v in example.items() if k != field})
    with pytest.raises(solvers.ParamError) as info:
        solvers.solve(kind, {**example, "no_such_field": 1})
    assert "no_such_field" in str(info.value)


@pytest.mark.parametrize(("kind", "label"), EXAMPLES)
def test_solving_leaves_the_params_unchanged(kind, label):
    example = copy.deepcopy(solvers.kind_info(kind).examples[label])
    before = copy.deepcopy(example)
    solvers.solve(kind, example)
    assert example == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("garbage", [None, [], "lloyd", 3, [{}]])
def test_params_that_are_not_an_object_are_refused(kind, garbage):
    with pytest.raises(solvers.ParamError):
        solvers.solve(kind, garbage)


@pytest.mark.parametrize("kind", KINDS)
def test_seeded_mutation_sweep(kind):
    """A fixed sweep over many single mutations (cheap, and reproducible by seed)."""
    info = solvers.kind_info(kind)
    for seed in range(20):
        rng = random.Random(f"{kind}-{seed}")
        example = info.examples[rng.choice(sorted(info.examples))]
        params, _ = mutate(example, rng)
        check_contract(kind, params)
