"""Student material: a starter notebook and `.py`, and Otter OK-format public checks in `tests/q1.py`, ...

Students self-check offline with `grader.check("q1")` in the notebook or `otter check hw5.py` (add
`-q q1` for one question); both run their own code against the public checks only.
"""

from __future__ import annotations

import pprint
import textwrap
from pathlib import Path

import nbformat

from assignments.code import StudentAssignment, code_assignments


def ok_test(name: str, cases: list[tuple[str, str]], points: float | None = None, hidden: bool = False) -> str:
    """An Otter OK-format test file: one doctest suite, one case per (code, expected output)."""
    doctests = []
    for code, expected in cases:
        lines = code.strip("\n").split("\n")
        prompt = "\n".join((">>> " if i == 0 or not line.startswith((" ", ")")) else "... ") + line
                           for i, line in enumerate(lines))
        doctests.append({"code": f"{prompt}\n{expected}", "hidden": hidden, "locked": False})
    test = {"name": name, "points": points, "suites": [{"cases": doctests, "scored": True, "setup": "",
                                                         "teardown": "", "type": "doctest"}]}
    return "OK_FORMAT = True\n\ntest = " + pprint.pformat(test, width=110, sort_dicts=False) + "\n"


def write_tests(assignment: StudentAssignment, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for q in assignment.questions:
        path = folder / f"{q.id}.py"
        # each case runs in a fresh copy of the student's globals: it imports what it uses itself
        path.write_text(ok_test(q.id, [(f"{assignment.imports}\n{code}", out) for code, out in q.checks]))
        paths.append(path)
    return paths


def starter_py(assignment: StudentAssignment) -> str:
    name = assignment.name
    head = (f'"""{assignment.title}.\n\nFill in every function or class below; keep the names and arguments.\n'
            f"Check your work offline (public checks only, not the graded ones):\n\n"
            f"    otter check {name}.py            # every question (needs the tests/ folder next to this file)\n"
            f"    otter check {name}.py -q q1      # one question\n\n"
            f"Submit this file (or the notebook) on Gradescope; it is graded in a sandbox against reference\n"
            f'implementations, with partial credit and feedback per check.\n"""\n\n{assignment.imports}\n')
    parts = [head]
    for q in assignment.questions:
        statement = textwrap.fill(q.statement, 110, initial_indent="# ", subsequent_indent="# ")
        parts.append(f"\n\n# {q.id}: {q.title}\n{statement}\n\n\n{q.starter}")
    return "".join(parts).rstrip("\n") + "\n"


def starter_notebook(assignment: StudentAssignment) -> nbformat.NotebookNode:
    nbv4 = nbformat.v4
    cells = [
        nbv4.new_code_cell("# Initialize Otter: grader.check(\"q1\") runs the public checks of q1\n"
                           "import otter\ngrader = otter.Notebook(tests_dir=\"tests\")"),
        nbv4.new_markdown_cell(f"# {assignment.title}\n\nFill in each question's code cell, then run the cell "
                               "below it to check it against the public checks (shapes and values the statement "
                               "gives; the graded checks are hidden). Submit this notebook, or a `.py` file "
                               "with the same functions, on Gradescope."),
        nbv4.new_code_cell(assignment.imports),
    ]
    for q in assignment.questions:
        cells += [nbv4.new_markdown_cell(f"## {q.id}: {q.title}\n\n{q.statement}"),
                  nbv4.new_code_cell(q.starter.rstrip("\n")),
                  nbv4.new_code_cell(f'grader.check("{q.id}")')]
    nb = nbv4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["otter"] = {"assignment_name": assignment.name}
    return nb


def write_student(name: str, folder: Path) -> dict[str, Path]:
    """Writes NAME.ipynb, NAME.py and tests/ into `folder`; returns their paths."""
    assignment = code_assignments()[name]
    folder.mkdir(parents=True, exist_ok=True)
    py, ipynb = folder / f"{name}.py", folder / f"{name}.ipynb"
    py.write_text(starter_py(assignment))
    nb = starter_notebook(assignment)
    nbformat.validate(nb)
    nbformat.write(nb, ipynb)
    tests = write_tests(assignment, folder / "tests")
    return {"py": py, "ipynb": ipynb, "tests": folder / "tests", **{p.stem: p for p in tests}}
