"""Generated submission folders for the grading benchmarks: correct, wrong, broken and hostile files made
from the example submissions in tests/submissions, each with its own header so that every file differs."""

from __future__ import annotations

from pathlib import Path

from _common import ROOT

from tests.patches import source

SUBMISSIONS = ROOT / "tests" / "submissions"


def _hw7_variants() -> dict[str, list[tuple[str, str]]]:
    ref = source("hw7/reference_copy.py")
    return {
        "correct": [("reference_copy", ref), ("restyled", (SUBMISSIONS / "hw7" / "restyled.py").read_text())],
        "wrong": [
            ("wrong_temperature_and_layer", source("hw7/wrong_temperature_and_layer.py")),
            ("wrong_temperature", ref.replace("self.softmax(20 * x)", "self.softmax(5 * x)")),
            ("wrong_half", ref.replace("- 0.5 * torch.sum", "- 1.0 * torch.sum")),
            ("wrong_dropout", ref.replace("nn.Dropout(0.1)", "nn.Dropout(0.5)")),
        ],
        "broken": [
            ("syntax_error", ref.replace("def forward(self, x):", "def forward(self, x)", 1)),
            ("raises_on_import", "raise RuntimeError('not finished')\n" + ref),
            ("no_autoencoder", ref.split("def _block")[0]),
            ("forward_returns_none", ref.replace("return x - x0", "return None")),
        ],
    }


def _hw5_hostile() -> list[tuple[str, str]]:
    return [(p.stem, p.read_text()) for p in sorted((SUBMISSIONS / "hw5").glob("hostile_*.py"))]


def _hw5_plain() -> dict[str, list[tuple[str, str]]]:
    read = lambda name: source(f"hw5/{name}.py")  # noqa: E731
    return {
        "correct": [("reference_copy", read("reference_copy")), ("other_style", read("other_style"))],
        "wrong": [("sign_error", read("sign_error")), ("wrong_phi_prime", read("wrong_phi_prime"))],
        "broken": [("syntax_error", "def gradient(w)\n    return w\n"),
                   ("raises_on_import", "raise RuntimeError('not finished')\n"),
                   ("nothing_defined", "x = 1\n")],
    }


def make_batch(folder: Path, count: int, assignment: str = "hw7", hostile_share: float = 0.0) -> dict[str, str]:
    """Write `count` submissions into `folder`, cycling correct, wrong and broken (in proportions 4:3:3) and,
    with `hostile_share`, that share of hostile ones (hw5's). Returns file stem -> category."""
    folder.mkdir(parents=True, exist_ok=True)
    variants = _hw7_variants() if assignment == "hw7" else _hw5_plain()
    cycle = ["correct"] * 4 + ["wrong"] * 3 + ["broken"] * 3
    hostile = _hw5_hostile()
    every = round(1 / hostile_share) if hostile_share else 0
    categories = {}
    for i in range(count):
        if every and i % every == every - 1:
            category, (name, text) = "hostile", hostile[(i // every) % len(hostile)]
        else:
            category = cycle[i % len(cycle)]
            options = variants[category]
            name, text = options[(i // len(cycle)) % len(options)]
        stem = f"s{i:04d}_{category}_{name}"
        (folder / f"{stem}.py").write_text(f"# generated submission {i} ({category})\n{text}")
        categories[stem] = category
    return categories
