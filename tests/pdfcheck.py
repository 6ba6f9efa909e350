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
FIGURE_PATHS = 400  # path operators a drawn plot brings at least (axes, ticks, curves); a text page has < 200
CAPTION = re.compile(r"Figure\s(\d+):")


def drawn_figures(pdf: Path) -> tuple[int, list[str]]:
    """Numbered figure captions in the document and the pages where a caption stands without a drawing."""
    captions, missing = 0, []
    for number, page in enumerate(PdfReader(pdf).pages, 1):
        here = len(CAPTION.findall(page.extract_text()))
        if not here:
            continue
        captions += here
        contents = page.get_contents()
        paths = len(PATH_OPS.findall(contents.get_data())) if contents is not None else 0
        if paths < FIGURE_PATHS * here:
            missing.append(f"page {number}: {here} caption(s) but {paths} path operators")
    return captions, missing
