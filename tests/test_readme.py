"""The README's `nnexam solve` examples work as written (run through bash, exactly as a user pastes them)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def solve_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        current = ""
        for line in block.splitlines():
            line = line.strip()
            current = f"{current} {line}".strip() if current else line
            if current.count("'") % 2 == 0:  # quotes balanced: the command is complete
                if current.startswith("nnexam solve") and "-o " not in current and "q1.json" not in current:
                    commands.append(current)
                current = ""
    return commands


def test_the_readme_has_solve_examples():
    assert len(solve_commands()) >= 15


@pytest.mark.parametrize("command", solve_commands())
def test_readme_solve_example_runs(command, tmp_path):
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, f"{command}\n{out.stderr}"
    assert "Answer" in out.stdout or out.stdout.lstrip().startswith("{")
