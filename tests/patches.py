"""The tests' correct and wrong submissions that are near-copies of a reference, as patches on it.

`submission("hw5/sign_error.py")` is the reference `autograder/references/hw5.py` with the slip applied,
written once per process into a temporary folder (a name with no patch is read from `tests/submissions/`, where
the submissions in other styles and the hostile ones live as whole files). `source(name)` is its text.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import autograder.references

REFERENCES = Path(autograder.references.__file__).parent
SUBMISSIONS = Path(__file__).parent / "submissions"
PATCHES: dict[str, list[tuple[str, str]]] = {
    "hw5/reference_copy.py": [],
    "hw5/sign_error.py": [("4 * w[1] - 2])", "4 * w[1] + 2])")],
    "hw5/wrong_phi_prime.py": [("return SLOPE * p * (1 - p)", "return 3 * p * (1 - p)  # the seed's slip: slope 3")],
    "hw6/reference_copy.py": [],
    "hw7/reference_copy.py": [],
    "hw7/wrong_temperature_and_layer.py": [
        ("self.softmax(20 * x)", "self.softmax(10 * x)"),
        ("*_block(nn.Linear(720, 360), nn.BatchNorm1d, 360),", "nn.Linear(720, 360), nn.ReLU(),")],
}
_FOLDER = Path(tempfile.mkdtemp(prefix="nnexam-test-submissions-"))
_FOLDER.chmod(0o755)


def source(name: str) -> str:
    if name not in PATCHES:
        return (SUBMISSIONS / name).read_text()
    assignment = name.split("/")[0]
    # a student's copy: without the __future__ import, which must come first (notebooks and the tests that prefix
    # code put it elsewhere)
    text = (REFERENCES / f"{assignment}.py").read_text().replace("from __future__ import annotations\n", "")
    for old, new in PATCHES[name]:
        assert old in text, f"{name}: the reference no longer holds {old!r}"
        text = text.replace(old, new, 1)
    return text


def submission(name: str) -> Path:
    if name not in PATCHES:
        return SUBMISSIONS / name
    path = _FOLDER / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source(name))
    return path
