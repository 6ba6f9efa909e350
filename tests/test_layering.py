"""The house's floors: each package imports only from its own floor or below, and no module takes another's
private names. Read from the source (every import statement, also those inside functions), nothing imported.

    solvers (mathematics) < templates (documents) < assignments (course content) < autograder (grading)
    < nnexam (CLI, audit, marking, export);   tests/ and bench/ may import any floor.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"solvers": 0, "templates": 1, "assignments": 2, "autograder": 3, "nnexam": 4}
# Imports that still run up a floor, each with why and until when (the test fails when one disappears, so
# that this list stays exact).
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import in the file; relative imports resolved against the file's package."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            out.append((base, [alias.name for alias in node.names]))
    return out


def sources(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py")) if "submissions" not in p.parts]


def test_every_import_runs_down_the_floors():
    upward = set()
    for path in sources(*FLOORS):
        module = module_name(path)
        floor = FLOORS[module.split(".")[0]]
        for target, _ in imported_modules(path):
            top = target.split(".")[0]
            if top in FLOORS and FLOORS[top] > floor:
                upward.add((module, target))
    unexpected = sorted(upward - set(KNOWN_UPWARD))
    assert not unexpected, "imports from a higher floor: " + ", ".join(f"{a} -> {b}" for a, b in unexpected)
    gone = sorted(set(KNOWN_UPWARD) - upward)
    assert not gone, f"no longer imported, remove from KNOWN_UPWARD: {gone}"


def test_the_floors_are_the_packages():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - {"tests"} == set(FLOORS)


def test_no_module_imports_another_modules_private_names():
    private = []
    for path in sources(*FLOORS, "tests", "bench"):
        for target, names in imported_modules(path):
            private += [f"{module_name(path)}: from {target} import {n}" for n in names
                        if n.startswith("_") and not n.startswith("__")]
    assert not private, private
