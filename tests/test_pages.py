"""The assignments' PDFs checked as a reader would look at them, automatically: each assignment's problems and
solutions rendered once, then on every page no text outside the page margins, no two words whose boxes overlap
(an inline column vector colliding with the next line), every figure of the data drawn, and no ASCII maths
("w <- w + eta y", "x_1", "dl/dw") in the text outside code blocks. Word boxes come from poppler's
`pdftotext -bbox`; the page checks skip where it is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from html import unescape
from pathlib import Path

import pytest
from pypdf import PdfReader

import solvers
from assignments import build, load, write
from templates.figures import draw
from templates.render import render_solution
from tests.pdfcheck import drawn_figures, svg_shapes

ASSIGNMENTS = ["mock-final", "hw5", "hw6", "hw7", "practice"]
MARGIN = 72 / 2.54 * 2  # templates/typst/base.typ.j2: margin 2cm on every side, in points
SLACK = 3.0  # points: a justified line's last glyph may overhang the text block a little
PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")

# The regex of the ASCII-maths signal (/work/shared/hooks/typeset_signal.py): ASCII operators, scripts, Greek
# names, sums, derivatives, starred products.
ASCII_MATH = re.compile(r"<=|>=|<-|->|sqrt\(|\^|[A-Za-z0-9)]_[A-Za-z0-9{(]|\b(eta|alpha|delta|sigma|phi|lambda|mu|"
                        r"Sigma|theta|epsilon)\b|\bsum_|\bd[a-zA-Z]+/d[a-zA-Z]|\bexp\(|[0-9a-z)]\*[0-9a-z(]")
DOCUMENTS = [(name, doc) for name in ASSIGNMENTS for doc in ("problems", "solutions")]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[Path, object]]:
    """Each assignment (the original) rendered once: {name: (folder with problems.pdf and solutions.pdf, variant)}."""
    out = {}
    for name in ASSIGNMENTS:
        folder = tmp_path_factory.mktemp(name)
        variant = build(load(name), None)
        write(variant, folder, fmt="pdf")
        out[name] = (folder, variant)
    return out


def pdf_of(rendered, name: str, doc: str) -> Path:
    return rendered[name][0] / f"{doc}.pdf"


def words(pdf: Path) -> list[tuple[int, float, float, list[tuple[float, float, float, float, str]]]]:
    """Per page: (number, width, height, words as (x0, y0, x1, y1, text)), y growing downwards."""
    html = subprocess.run([PDFTOTEXT, "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=300).stdout
    pages = []
    for number, (w, h, body) in enumerate(re.findall(
            r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S), 1):
        boxes = [(*map(float, m.groups()[:4]), unescape(m.group(5))) for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', body)]
        pages.append((number, float(w), float(h), boxes))
    return pages


def overlaps(boxes) -> list[str]:
    """Pairs of words whose boxes overlap by more than a hairline (a script touching its base, an italic
    overhang, an accent over its letter, and the radical sign, whose box poppler takes from the font, do not
    count)."""
    found = []
    ordered = sorted(boxes, key=lambda b: b[1])
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b[1] >= a[3]:
                break
            dx = min(a[2], b[2]) - max(a[0], b[0])
            dy = min(a[3], b[3]) - max(a[1], b[1])
            if dx > 1.5 and dy > 2 and "√" not in a[4] + b[4] and not (_accent(a[4]) or _accent(b[4])):
                found.append(f"{a[4]!r} and {b[4]!r} overlap by {dx:.1f} x {dy:.1f} pt")
    return found


def _accent(text: str) -> bool:
    return all(unicodedata.combining(c) or c in "ˆ˜¯^~´`¨˙→" for c in text)


def prose_lines(pdf: Path) -> list[str]:
    """The text outside code blocks (the monospace font), page by page, line by line."""
    out = []
    for number, page in enumerate(PdfReader(pdf).pages, 1):
        runs: list[str] = []

        def keep(text, cm, tm, font, size, runs=runs):
            if "Mono" not in str((font or {}).get("/BaseFont", "")):
                runs.append(text)

        page.extract_text(visitor_text=keep)
        out += [f"p{number}: {line.strip()[:100]}" for line in "".join(runs).splitlines()]
    return out


@needs_pdftotext
@pytest.mark.parametrize(("name", "doc"), DOCUMENTS)
def test_no_text_outside_the_margins(rendered, name, doc):
    outside = []
    for number, w, h, boxes in words(pdf_of(rendered, name, doc)):
        for x0, y0, x1, y1, text in boxes:
            if x0 < MARGIN - SLACK or x1 > w - MARGIN + SLACK or y0 < 0 or y1 > h:
                outside.append(f"page {number}: {text!r} at x {x0:.0f}..{x1:.0f}, y {y0:.0f}..{y1:.0f}")
    assert not outside, f"{name} {doc}: text outside the margins:\n" + "\n".join(outside[:10])


@needs_pdftotext
@pytest.mark.parametrize(("name", "doc"), DOCUMENTS)
def test_no_overlapping_text(rendered, name, doc):
    found = [f"page {number}: {o}" for number, _w, _h, boxes in words(pdf_of(rendered, name, doc))
             for o in overlaps(boxes)]
    assert not found, f"{name} {doc}: overlapping text:\n" + "\n".join(found[:10])


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_figure_is_drawn(rendered, name, tmp_path):
    """The solutions hold one drawn, captioned figure per figure of the printed solutions' steps."""
    _folder, variant = rendered[name]

    def found(steps):
        return [f for s in steps for f in ([s.figure] if s.figure is not None else []) + found(s.children)]

    figures = [f for q in variant.questions for p in q.parts if p.solution is not None and not p.spec.worked_in
               for f in found(p.solution.steps)]
    shapes = []
    for k, figure in enumerate(figures, 1):
        path = draw(figure, tmp_path / f"figure-{k}.svg")
        shapes.append(svg_shapes(path.read_text()))
    captions, missing = drawn_figures(pdf_of(rendered, name, "solutions"), shapes)
    assert captions == len(figures) and not missing, f"{name}: {captions} figures for {len(figures)}; {missing}"


@pytest.mark.parametrize(("name", "doc"), DOCUMENTS)
def test_no_ascii_maths_outside_code(rendered, name, doc):
    found = [line for line in prose_lines(pdf_of(rendered, name, doc)) if ASCII_MATH.search(line)]
    assert not found, f"{name} {doc}: {len(found)} lines of ASCII maths:\n" + "\n".join(found[:8])


def test_the_checks_see_a_collision_and_ascii_maths(tmp_path):
    """The checks themselves: two words drawn on top of each other are found, a script next to its base is not;
    the ASCII-maths regex finds 'w <- w + eta' and not typeset Unicode."""
    assert overlaps([(10, 10, 40, 20, "abc"), (20, 14, 50, 24, "def")])
    assert not overlaps([(10, 10, 20, 20, "R"), (20.5, 8, 24, 15, "2"), (10, 21, 40, 31, "next")])
    assert not overlaps([(10, 10, 20, 20, "m"), (11, 6, 19, 16, "\u0302")])  # m with a hat
    sol = solvers.solve("lloyd", solvers.kind_info("lloyd").examples["mock_final_q1"])
    pdf = render_solution(sol, "pdf", tmp_path / "lloyd.pdf")
    figure = next(s.figure for s in sol.steps if s.figure is not None)
    shapes = svg_shapes(draw(figure, tmp_path / "figure-1.svg").read_text())
    assert shapes > 20 and drawn_figures(pdf, [shapes]) == (1, [])
    assert drawn_figures(pdf, [100 * shapes])[1]  # a page short of its figure's shapes is reported
    assert ASCII_MATH.search("w <- w + eta y (x - w)") and not ASCII_MATH.search("w ← w + η y (x − w)")
