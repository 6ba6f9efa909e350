"""What a reader checks on a PDF page, read with pypdf: the text, the figures drawn (image or form XObjects
placed on the page: Typst and pdflatex both embed an SVG or PDF figure as a form), the text runs' boxes."""

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
