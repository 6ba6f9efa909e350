"""What a reader checks on a PDF page, read with pypdf: the text, and the figures drawn (pdflatex embeds each
figure's PDF as a form XObject; Typst draws an SVG figure's paths into the page itself, so there a figure is a
numbered caption on a page that holds the figure's paths)."""

from __future__ import annotations

import re
from pathlib import Path

from pypdf import PdfReader


def pdf_text(pdf: Path) -> str:
    """The whole document's text on one line, spaces collapsed, the minus sign as '-'."""
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    return re.sub(r"\s+", " ", text.replace("\u2212", "-"))


def figure_count(pdf: Path) -> int:
    """Distinct image and form XObjects placed directly on the pages."""
    seen = set()
    for page in PdfReader(pdf).pages:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        for ref in (xobjects.get_object().values() if xobjects else ()):
            if ref.get_object().get("/Subtype") in ("/Form", "/Image"):
                seen.add(getattr(ref, "idnum", id(ref)))
    return len(seen)


PATH_OPS = re.compile(rb"(?<![A-Za-z])(?:m|l|c|re)\s")
CAPTION = re.compile(r"Figure\s(\d+):")
SHAPES = re.compile(r"<(?:line|polyline|polygon|rect|circle|path)\b")


def svg_shapes(svg: str) -> int:
    """The shapes of an SVG drawing: each becomes at least one path operator on the page that shows it."""
    return len(SHAPES.findall(svg))


def drawn_figures(pdf: Path, shapes: list[int]) -> tuple[int, list[str]]:
    """Numbered figure captions in the document and the pages where a caption stands without its drawing:
    `shapes[k - 1]` is the number of shapes of figure k's SVG, and its page must hold at least that many path
    operators (text pages hold tables' rules and radicals, but a missing figure leaves its page short)."""
    captions, missing = 0, []
    for number, page in enumerate(PdfReader(pdf).pages, 1):
        here = [int(k) for k in CAPTION.findall(page.extract_text())]
        if not here:
            continue
        captions += len(here)
        contents = page.get_contents()
        paths = len(PATH_OPS.findall(contents.get_data())) if contents is not None else 0
        needed = sum(shapes[k - 1] for k in here if k <= len(shapes))
        if paths < needed:
            missing.append(f"page {number}: figure(s) {here} need {needed} path operators, the page has {paths}")
    return captions, missing
