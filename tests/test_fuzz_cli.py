"""Fuzzing the shell: `nnexam solve KIND --params <mutated JSON>` in a subprocess, a few cases per kind
(each costs a Python start). Exit status 0 or 2, never a traceback, one line on stderr when refused, and
on success one strict JSON object on stdout."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import pytest

import solvers
from tests.test_fuzz_mutations import describe, mutate

PER_KIND = 3


def nnexam(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("nnexam")
    command = [exe] if exe else [sys.executable, "-m", "nnexam.cli"]
    env = {k: v for k, v in os.environ.items() if k != "NNEXAM_DEBUG"}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([*command, *args], input=stdin, capture_output=True, text=True, env=env)


def check_run(result: subprocess.CompletedProcess, what: str) -> None:
    assert "Traceback" not in result.stderr, f"{what}: traceback\n{result.stderr[-2000:]}"
    assert result.returncode in (0, 2), f"{what}: exit status {result.returncode}: {result.stderr[-500:]}"
    if result.returncode == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, f"{what}: refusal is not one line: {result.stderr[-1000:]}"
        assert lines[0].startswith("nnexam: error: "), f"{what}: {lines[0]}"
    else:
        def no_constants(name: str):
            raise AssertionError(f"{what}: {name} in the JSON output")

        data = json.loads(result.stdout, parse_constant=no_constants)
        assert set(data) == {"kind", "params", "answer", "steps", "warnings"}, what


def cases() -> list[tuple[str, int]]:
    return [(kind, i) for kind in solvers.kinds() for i in range(PER_KIND)]


@pytest.mark.parametrize(("kind", "case"), cases())
def test_solve_with_mutated_params(kind, case):
    info = solvers.kind_info(kind)
    rng = random.Random(f"cli-{kind}-{case}")
    params = info.examples[rng.choice(sorted(info.examples))]
    params, description = mutate(params, rng)
    text = json.dumps(params, default=str)  # NaN and Infinity travel as the JSON extensions Python reads
    check_run(nnexam("solve", kind, "--params", text), f"{kind} ({description}): {describe(params)}")


@pytest.mark.parametrize("params", ["{", "[1, 2]", "null", '{"points": NaN}', "no-such-file.json", "{}" * 3])
def test_solve_with_unreadable_params(params):
    check_run(nnexam("solve", solvers.kinds()[0], "--params", params), params)


def test_unknown_kind_and_params_on_stdin():
    result = nnexam("solve", "no_such_kind", "--params", "{}")
    check_run(result, "unknown kind")
    assert result.returncode == 2
    kind = solvers.kinds()[0]
    example = next(iter(solvers.kind_info(kind).examples.values()))
    result = nnexam("solve", kind, "--params", "-", stdin=json.dumps({**example, "bogus": [float("nan")]}))
    check_run(result, "stdin with an unknown field")
    assert result.returncode == 2 and "bogus" in result.stderr
