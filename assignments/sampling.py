"""Samplers: random, well-posed variants of a question.

A sampler draws the parameters of every part of one question from a `numpy.random.Generator`; its
constraints are named predicates over the drawn parameters and the solver's solutions of them
(`no_ties`, `converges_within_3_steps`, ...); a draw the solver itself refuses (a `ParamError`, e.g.
weights that diverge) fails the implicit constraint `solver_accepts`. `draw_question` redraws until
every constraint holds, for at most `MAX_ATTEMPTS` draws, then fails with an error that names the
constraints that kept failing. A draw is never kept when a constraint fails.

    @sampler("lloyd_two_pairs", constraints=[Constraint("no_ties", "...", lambda d, sols: ...)])
    def lloyd_two_pairs(rng):
        return {"a": {...params of part a...}, "b": {...}, "_context": {...values for the statement...}}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solvers.errors import NnexamError, ParamError

MAX_ATTEMPTS = 400
CONTEXT = "_context"


class SamplerError(NnexamError):
    """No draw of a sampler met its constraints within the allowed attempts."""


@dataclass(frozen=True)
class Constraint:
    """A named predicate `check(draw, solutions) -> bool` over a question's drawn part parameters
    (`draw[part_id]`) and their solutions (`solutions[part_id]`, a `solvers.Solution`)."""

    name: str
    description: str
    check: Callable[[dict[str, Any], dict[str, Any]], bool]

    def holds(self, draw: dict[str, Any], solutions: dict[str, Any]) -> bool:
        return bool(self.check(draw, solutions))


@dataclass
class Sampler:
    name: str
    draw: Callable[[np.random.Generator], dict[str, Any]]
    constraints: list[Constraint] = field(default_factory=list)
    description: str = ""

    def failures(self, draw: dict[str, Any], solutions: dict[str, Any]) -> list[str]:
        """Names of the constraints that `draw` (with its `solutions`) violates."""
        return [c.name for c in self.constraints if not c.holds(draw, solutions)]


def sampler(name: str, constraints: list[Constraint] | None = None):
    """Declare a sampler; the decorated function becomes a `Sampler` (its docstring is the description)."""

    def decorate(fn: Callable[[np.random.Generator], dict[str, Any]]) -> Sampler:
        return Sampler(name, fn, list(constraints or []), (fn.__doc__ or "").strip())

    return decorate


def samplers_of(module: Any) -> dict[str, Sampler]:
    """The samplers defined at the top level of a module, by name."""
    return {v.name: v for v in vars(module).values() if isinstance(v, Sampler)}


def draw_question(smp: Sampler, rng: np.random.Generator, solve_parts: Callable[[dict[str, Any]], dict[str, Any]],
                  max_attempts: int = MAX_ATTEMPTS, skip: int = 0) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Draw until every constraint of `smp` holds, passing over the first `skip` draws that hold them (a
    redrawn question: `skip` is its number of redraws). `solve_parts(draw) -> {part_id: Solution}`.
    Returns (draw, solutions, attempts used)."""
    failed: Counter[str] = Counter()
    for attempt in range(1, max_attempts * (skip + 1) + 1):
        draw = smp.draw(rng)
        try:
            solutions = solve_parts(draw)
        except ParamError as exc:  # the solver refuses the draw (e.g. the weights diverge): redraw
            failed[f"solver_accepts ({exc.field or 'params'})"] += 1
            continue
        bad = smp.failures(draw, solutions)
        if not bad and skip == 0:
            return draw, solutions, attempt
        if not bad:
            skip -= 1
        failed.update(bad)
    worst = ", ".join(f"{name} ({count}x)" for name, count in failed.most_common(3))
    raise SamplerError(f"sampler {smp.name!r}: no draw met its constraints in {attempt} attempts; "
                       f"failing most often: {worst}")


# Reusable predicates ---------------------------------------------------------------------------------


def no_warnings(part: str, *codes: str) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    """True when the solution of `part` has no warning with any of the warning `codes` (`SolverWarning.code`,
    e.g. `solvers.lloyd.EQUIDISTANT`; no warning at all when no code is given)."""

    def check(draw: dict[str, Any], solutions: dict[str, Any]) -> bool:
        warnings = solutions[part].warnings
        if not codes:
            return not warnings
        return not any(getattr(w, "code", None) in codes for w in warnings)

    return check


def no_relu_kink_1x1(part: str) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    """True when no pre-activation w_c x + b_c of the 1x1-convolution `part` is exactly 0 (ReLU has no
    derivative there)."""

    def check(draw: dict[str, Any], solutions: dict[str, Any]) -> bool:
        p = draw[part]
        x = np.asarray(p["image"], dtype=float)
        return all(np.all(w * x + b != 0) for w, b in zip(p["w"], p["b"], strict=True))

    return check


def is_nice(value: Any, denominators: tuple[int, ...] = (1, 2, 4, 5, 10)) -> bool:
    """True when every number in `value` (nested lists) is a multiple of 1/d for some d in `denominators`."""
    arr = np.asarray(value, dtype=float).ravel()
    return all(any(abs(v * d - round(v * d)) < 1e-9 for d in denominators) for v in arr)


def pick(rng: np.random.Generator, options: list[Any]) -> Any:
    """One of `options`, as a plain Python value."""
    value = options[int(rng.integers(len(options)))]
    return value.item() if hasattr(value, "item") else value
