"""A tiny SVG canvas: lines, polylines, rectangles, circles, polygons, text, arrows and brackets, written
directly as SVG text (no plotting library).

Coordinates are SVG user units (y grows downwards). Text is set in Libertinus Serif, the font Typst embeds
when it renders an SVG; math in labels is Unicode (η, α) with `_x`, `_{xy}`, `^x`, `^{xy}` for sub- and
superscripts, set as shifted `<tspan>`s. `text_width` is the width estimate every layout here uses
(0.6 em per character, sub- and superscripts at their smaller size), which is wider than Libertinus' glyphs,
so text placed by it fits.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

FONT = "Libertinus Serif"
EM = 0.6  # estimated advance of one character, in em
SMALL = 0.7  # size of a sub- or superscript relative to its text


def _script(label: str, i: int) -> tuple[str, int] | None:
    """The script that starts at label[i] (just after `_` or `^`) and the index after it: `{...}`, a
    parenthesised group `(...)`, or a run of at most 3 letters and digits (`x_1`, `lambda_max`, `x^2`); None
    where none starts (`batch_mean` keeps its underscore)."""
    if i >= len(label):
        return None
    if label[i] == "{":
        end = label.find("}", i + 1)
        return (label[i + 1:end], end + 1) if end > 0 else None
    if label[i] == "(":
        depth = 0
        for j in range(i, len(label)):
            depth += {"(": 1, ")": -1}.get(label[j], 0)
            if depth == 0:
                return label[i:j + 1], j + 1
        return None
    j = i
    while j < len(label) and (label[j].isalnum() or label[j] in "*'−-" and j == i):
        j += 1
    if j == i or j - i > 3 or (j < len(label) and label[j].isalnum()):
        return None
    return label[i:j], j


def runs(label: str) -> list[tuple[str, str]]:
    """Split `label` into (text, "" | "sub" | "sup") runs: `a_1`, `a_{12}`, `x^2`, `x^{-1}`, `w^(t)`."""
    out: list[tuple[str, str]] = []
    i, plain = 0, ""
    while i < len(label):
        ch = label[i]
        script = _script(label, i + 1) if ch in "_^" else None
        if script is None:
            plain += ch
            i += 1
            continue
        if plain:
            out.append((plain, ""))
            plain = ""
        out.append((script[0], "sub" if ch == "_" else "sup"))
        i = script[1]
    if plain:
        out.append((plain, ""))
    return out


GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
         "lambda": "λ", "mu": "μ", "sigma": "σ", "phi": "φ", "Sigma": "Σ"}


def label(text: str) -> str:
    """A label handed over by a solver, as plain Unicode: through `templates.mathprint.prose` (the `$...$`
    notation's text printer) where it exists, else with the `$` dropped, Greek words as letters and `||`
    as a norm."""
    from templates import mathprint

    prose = getattr(mathprint, "prose", None)
    if prose is not None:
        return prose(text, "text")
    text = text.replace("\\$", "\0").replace("$", "").replace("\0", "$")
    text = re.sub(r"(?<![A-Za-z])(" + "|".join(GREEK) + r")(?![A-Za-z])", lambda m: GREEK[m.group(1)], text)
    return text.replace("||", "‖").replace(" - ", " − ")


def text_width(label: str, size: float) -> float:
    """Estimated width of `label` set at `size` (0.6 em per character, scripts at 70 %)."""
    return sum(EM * size * (SMALL if kind else 1.0) * len(t) for t, kind in runs(label))


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if math.isfinite(v) else "0"


def _attrs(**attrs) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        parts.append(f"{name}={quoteattr(_num(value) if isinstance(value, float) else str(value))}")
    return " ".join(parts)


class Canvas:
    """An SVG picture of `width` x `height` user units, white background; elements are kept in drawing order.

    `cls` on any element becomes its `class` attribute (tests find markers, legends, boundaries by it)."""

    def __init__(self, width: float, height: float):
        self.width = float(width)
        self.height = float(height)
        self.items: list[str] = []

    def _add(self, tag: str, cls: str | None = None, **attrs) -> None:
        self.items.append(f"<{tag} {_attrs(class_=cls, **attrs)}/>")

    @staticmethod
    def _stroke(stroke: str, width: float, dash: str | None) -> dict:
        return {"stroke": stroke, "stroke_width": float(width), "stroke_dasharray": dash}

    def line(self, x1, y1, x2, y2, stroke="#000", width=1.0, dash=None, cls=None) -> None:
        self._add("line", cls, x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2),
                  **self._stroke(stroke, width, dash), stroke_linecap="round" if dash is None else None)

    def polyline(self, points, stroke="#000", width=1.0, dash=None, cls=None) -> None:
        pts = " ".join(f"{_num(float(x))},{_num(float(y))}" for x, y in points)
        self._add("polyline", cls, points=pts, fill="none", **self._stroke(stroke, width, dash),
                  stroke_linejoin="round")

    def rect(self, x, y, w, h, fill="none", stroke="#000", width=1.0, dash=None, rx=None, cls=None) -> None:
        self._add("rect", cls, x=float(x), y=float(y), width=float(w), height=float(h), rx=rx, fill=fill,
                  **self._stroke(stroke, width, dash))

    def circle(self, cx, cy, r, fill="#000", stroke="none", width=1.0, cls=None) -> None:
        self._add("circle", cls, cx=float(cx), cy=float(cy), r=float(r), fill=fill,
                  **self._stroke(stroke, width, None))

    def polygon(self, points, fill="#000", stroke="none", width=1.0, cls=None) -> None:
        pts = " ".join(f"{_num(float(x))},{_num(float(y))}" for x, y in points)
        self._add("polygon", cls, points=pts, fill=fill, **self._stroke(stroke, width, None),
                  stroke_linejoin="round")

    def path(self, d: str, fill="none", stroke="#000", width=1.0, dash=None, cls=None) -> None:
        self._add("path", cls, d=d, fill=fill, **self._stroke(stroke, width, dash))

    def text(self, x, y, label: str, size=11.0, anchor="start", fill="#000", weight=None, cls=None) -> None:
        """`label` with its baseline at y; `anchor` start, middle or end; `_x` / `^x` scripts as tspans."""
        body, shift = [], 0.0
        for part, kind in runs(label):
            target = {"sub": 0.3, "sup": -0.4}.get(kind, 0.0) * size
            dy = target - shift
            shift = target
            attrs = _attrs(dy=float(dy) if dy else None, font_size=float(size * SMALL) if kind else None)
            body.append(f"<tspan {attrs}>{escape(part)}</tspan>" if attrs else escape(part))
        attrs = _attrs(class_=cls, x=float(x), y=float(y), font_size=float(size), text_anchor=anchor, fill=fill,
                       font_weight=weight)
        self.items.append(f"<text {attrs}>" + "".join(body) + "</text>")

    def arrow(self, x1, y1, x2, y2, stroke="#000", width=1.2, head=7.0, dash=None, cls=None) -> None:
        """A line from (x1, y1) to (x2, y2) with a filled head at the end."""
        length = math.hypot(x2 - x1, y2 - y1)
        if length < 1e-9:
            return
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        bx, by = x2 - head * ux, y2 - head * uy
        self.line(x1, y1, bx, by, stroke, width, dash, cls)
        half = head * 0.45
        self.polygon([(x2, y2), (bx - half * uy, by + half * ux), (bx + half * uy, by - half * ux)], fill=stroke,
                     cls=cls)

    def bracket(self, x1, y1, x2, y2, depth=6.0, stroke="#000", width=1.0, cls=None) -> None:
        """A square bracket from (x1, y1) to (x2, y2) whose ends turn `depth` to the left of the direction."""
        length = math.hypot(x2 - x1, y2 - y1)
        if length < 1e-9:
            return
        nx, ny = (y2 - y1) / length * depth, -(x2 - x1) / length * depth
        self.polyline([(x1 + nx, y1 + ny), (x1, y1), (x2, y2), (x2 + nx, y2 + ny)], stroke, width, cls=cls)

    def to_svg(self) -> str:
        w, h = _num(self.width), _num(self.height)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
                f'font-family="{FONT}">\n<rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/>\n'
                + "\n".join(self.items) + "\n</svg>\n")

    def save(self, path: Path) -> Path:
        """Write the SVG to `path` through a temporary file in the same folder (never half-written)."""
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".svg")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.to_svg())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def wrap(label: str, size: float, width: float) -> list[str]:
    """`label` broken at spaces into lines whose estimated width fits `width` (a long word keeps its line)."""
    lines: list[str] = []
    for word in label.split():
        if lines and text_width(lines[-1] + " " + word, size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]
