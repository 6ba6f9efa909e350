"""LaTeX fragments (what the statement templates and the worked solutions are rendered to for the "latex"
target) as HTML whose mathematics stays TeX between `\\(...\\)` and `\\[...\\]`, which the MathJax of Moodle
and Canvas typesets. Pandoc (the `pypandoc-binary` package bundles it) does the conversion, all fragments of an
export in one run.
"""

from __future__ import annotations

import re

import pypandoc

MARK = "NNEXAMFRAGMENTBREAK"
IMAGE = re.compile(r'<img src="([^"]+)"')
MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.S)
TEXT = re.compile(r"\\text\{((?:[^{}\\]|\\[_&%$#{}]|\\text(?:asciicircum|asciitilde|backslash)\{\})*)\}")
ESCAPE = re.compile(r"\\([_&%$#{}])|\\text(asciicircum|asciitilde|backslash)\{\}")
LITERAL = {"asciicircum": "^", "asciitilde": "~"}
ROMAN = re.compile(r"\\mathrm\{([^{}]*)\}")


def to_html(fragments: list[str]) -> list[str]:
    """Each LaTeX fragment as HTML (headings shifted down two levels, so that a solution's sections sit below
    the quiz's own); an image keeps the file name it was given in `\\includegraphics`."""
    if not fragments:
        return []
    source = f"\n\n{MARK}\n\n".join(f or " " for f in fragments)
    html = pypandoc.convert_text(source, "html", format="latex",
                                 extra_args=["--mathjax", "--wrap=none", "--shift-heading-level-by=2"])
    pieces = re.split(rf"\s*<p>{MARK}</p>\s*", html)
    if len(pieces) != len(fragments):
        raise RuntimeError(f"pandoc returned {len(pieces)} fragments for {len(fragments)}")
    return [MATH.sub(lambda m: mathjax_text(m.group(0)), p.strip()) for p in pieces]


def mathjax_text(tex: str) -> str:
    """TeX math with its `\\text{...}` made MathJax's: MathJax shows a text argument as it is (LaTeX's text
    escapes `\\_`, `\\textasciicircum{}` would show their backslashes), so the characters LaTeX escapes there
    become literal text or, where text cannot hold them, the same escape in math between two texts. The words
    of a `\\mathrm{final centers}` keep their space (`\\ `), which math mode would drop."""

    def text(m: re.Match) -> str:
        def escape(e: re.Match) -> str:
            if e.group(2) in LITERAL:
                return LITERAL[e.group(2)]
            symbol = "\\backslash " if e.group(2) else "\\" + e.group(1)
            return "}" + symbol + "\\text{"
        return ("\\text{" + ESCAPE.sub(escape, m.group(1)) + "}").replace("\\text{}", "")

    tex = ROMAN.sub(lambda m: "\\mathrm{" + re.sub(r"(?<!\\) ", r"\\ ", m.group(1)) + "}", tex)
    return TEXT.sub(text, tex)


def images(html: str) -> list[str]:
    """The file names the images of an HTML fragment refer to."""
    return IMAGE.findall(html)


def relink(html: str, prefix: str, names: dict[str, str]) -> str:
    """The fragment with each image `src` renamed through `names` and put under `prefix` (`@@PLUGINFILE@@/`)."""
    return IMAGE.sub(lambda m: f'<img src="{prefix}{names.get(m.group(1), m.group(1))}"', html)
