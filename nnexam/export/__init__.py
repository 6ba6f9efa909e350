"""`nnexam export`: an assignment's variants as question banks for Moodle (XML) and Canvas (QTI 1.2 zip).

    export("mock-final", "moodle", variants=6, seed=7, output=Path("mock-final.xml"))

`banks` builds the banks (one per question part, one entry per variant), `moodle` and `canvas` write them. The
file appears only once complete (written next to `output`, then renamed).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from assignments import load

from .banks import Bank, ExportError, build_banks
from .canvas import canvas_zip
from .moodle import moodle_xml

TARGETS = ("moodle", "canvas")


def export(assignment: str, target: str, variants: int, seed: int, output: Path, stack: bool = False) -> list[Bank]:
    """Write the banks of `variants` variants of `assignment` for `target` to `output`; returns the banks."""
    if target not in TARGETS:
        raise ExportError(f"unknown target {target!r}; the targets are: {', '.join(TARGETS)}")
    if stack and target != "moodle":
        raise ExportError("--stack is for Moodle (STACK is a Moodle question type)")
    spec = load(assignment)
    banks = build_banks(spec, variants, seed)
    data = moodle_xml(banks, stack) if target == "moodle" else canvas_zip(banks, spec.title)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file (mkstemp's are private)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return banks


__all__ = ["Bank", "ExportError", "TARGETS", "build_banks", "canvas_zip", "export", "moodle_xml"]
