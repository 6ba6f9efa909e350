"""Documents from solutions: jinja2 templates (templates/) turn steps into Typst, LaTeX or text;
the `typst` package compiles Typst to PDF (no TeX install needed).

    render_solution(solution, "pdf", Path("q1.pdf"))

The same machinery renders whole assignments: `render_document(template, context, target, out)`.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
import tempfile
import types
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from solvers import store
from solvers.core import Solution, Step, exact_field

from . import figures
from .mathprint import GREEK, equation, expression_value, fmt, name_text, named, plain, prose, text_literal

FORMATS = ("json", "text", "typst", "tex", "pdf")
TARGET_OF = {"typst": "typst", "pdf": "typst", "tex": "latex", "text": "text"}
SUFFIX = {"typst": ".typ", "latex": ".tex", "text": ".txt"}
TEMPLATES = Path(__file__).resolve().parent  # the jinja2 templates are package data next to this module


class RenderError(Exception):
    """A document could not be produced (e.g. the Typst compiler refused the source)."""


def need_output(fmt_name: str, output: Path | None) -> None:
    """A PDF is only ever a file: refuse `pdf` without an output path, before any work is done."""
    if fmt_name == "pdf" and output is None:
        raise RenderError("--format pdf needs an output file: add -o FILE.pdf")


class CachedEnvironment(jinja2.Environment):
    """A jinja2 environment that keeps the Python code it compiles a template to in the private cache
    (`solvers.store`, subfolder "templates"), for templates loaded from files and from strings alike: jinja2
    compiles the 33 templates of a mock-final rendering in about 0.1 s, a new process reads them back in a few
    milliseconds. The key is the source, its name and file name, every environment setting that changes the
    generated code, and the Python and jinja2 versions (marshal's format is Python's own), so an entry is
    only ever the code this environment would have compiled; the store's trust rules (a folder and entries
    only this user can write) are what make loading it as code safe."""

    _CODEGEN_SETTINGS = ("block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
                         "comment_start_string", "comment_end_string", "line_statement_prefix",
                         "line_comment_prefix", "trim_blocks", "lstrip_blocks", "newline_sequence",
                         "keep_trailing_newline", "optimized", "autoescape", "finalize", "is_async")

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):  # noqa: A003 (jinja2's name)
        if raw or not isinstance(source, str) or not store.enabled() or self.extensions:
            return super().compile(source, name, filename, raw, defer_init)
        settings = tuple(repr(getattr(self, setting, None)) for setting in self._CODEGEN_SETTINGS)
        key = hashlib.sha256(repr(("nnexam-jinja2-code-1", sys.version, jinja2.__version__, settings, name,
                                   filename, defer_init, source)).encode()).hexdigest()
        data = store.read("templates", key)
        if data is not None:
            try:
                code = marshal.loads(data)
            except (EOFError, ValueError, TypeError):
                code = None
            if isinstance(code, types.CodeType):
                return code
        code = super().compile(source, name, filename, raw, defer_init)
        store.write("templates", key, marshal.dumps(code))
        return code


def environment(target: str, folder: Path = TEMPLATES, keep_trailing_newline: bool = True) -> jinja2.Environment:
    """A jinja2 environment whose delimiters (`<< >>`, `<% %>`, `<# #>`) do not clash with Typst or LaTeX
    braces, loading templates from `folder` (the shared templates/ by default; an assignment's own folder)."""
    env = CachedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)),
        block_start_string="<%", block_end_string="%>",
        variable_start_string="<<", variable_end_string=">>",
        comment_start_string="<#", comment_end_string="#>",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=keep_trailing_newline,
        undefined=jinja2.StrictUndefined, autoescape=False,
    )
    env.filters["esc"] = lambda s: prose(str(s), target)
    env.filters["math"] = lambda v: fmt(v, target)
    env.filters["name"] = lambda s: name_text(str(s), target)
    env.globals["target"] = target
    return env


class FigureSink:
    """Collects the figures of a document: draws each into `folder` and hands back its file name. For LaTeX,
    which cannot include SVG without Inkscape, the SVG is also converted to a PDF of the image's own size
    (a one-image Typst document) and the PDF's name is handed back."""

    def __init__(self, folder: Path | None, target: str = "typst"):
        self.folder = folder
        self.target = target
        self.count = 0
        self.widths: dict[str, float] = {}  # file name -> fraction of the text width to set it at

    def add(self, figure) -> str | None:
        if self.folder is None:
            return None
        self.count += 1
        name = f"figure-{self.count}.svg"
        figures.draw(figure, self.folder / name)
        width = figures.display_width(self.folder / name)
        if self.target == "latex":
            name = svg_to_pdf(self.folder / name).name
        self.widths[name] = width
        return name


def svg_to_pdf(svg: Path) -> Path:
    """`figure-1.svg` -> `figure-1.pdf` next to it, the page as large as the image, compiled by Typst."""
    import typst

    pdf = svg.with_suffix(".pdf")
    source = f'#set page(width: auto, height: auto, margin: 0pt)\n#image("{svg.name}")\n'
    with tempfile.TemporaryDirectory(prefix="nnexam-fig-", dir=svg.parent) as tmp:
        main = Path(tmp) / "figure.typ"
        main.write_text(source.replace(svg.name, f"../{svg.name}"), encoding="utf-8")
        try:
            data = typst.compile(str(main), root=str(svg.parent))
        except Exception as exc:  # typst raises its own error type with the compiler's message
            raise RenderError(f"the figure {svg.name} could not be converted to PDF for LaTeX: {exc}") from exc
    tmp_pdf = pdf.with_suffix(".pdf.part")
    tmp_pdf.write_bytes(data)
    tmp_pdf.replace(pdf)
    return pdf


def _cell(value: Any, target: str) -> str:
    if isinstance(value, str):
        return prose(value, target)
    m = fmt(value, target)
    if target == "text":
        return m
    return f"${m}$"


def step_context(step: Step, target: str, sink: FigureSink) -> dict[str, Any]:
    """A step with every value already printed for `target`."""

    def lines(values: dict[str, Any], inline: bool = False) -> list[str]:
        return [named(k, v, target, inline) for k, v in values.items()]

    table = None
    if step.table is not None:
        table = {
            "columns": [prose(c, target) for c in step.table.columns],
            "rows": [[_cell(v, target) for v in row] for row in step.table.rows],
        }
    fig = None
    if step.figure is not None:
        path = sink.add(step.figure)
        if path:
            fig = {"path": path, "caption": prose(step.figure.caption, target), "width": sink.widths[path]}
    return {
        "title": prose(step.title, target),
        "text": prose(step.text, target),
        "inputs": lines(step.inputs, inline=True),
        "quantities": lines(step.values),
        "math": [equation(chain, target) for chain in step.math],
        "result": lines(step.result),
        "table": table,
        "figure": fig,
        "children": [step_context(c, target, sink) for c in step.children],
    }


def answer_lines(solution: Solution, target: str) -> list[str]:
    """The answer fields worth printing as math, exact values as the solver keeps them (`Solution.exact`);
    records, and the JSON copies of exact values, are left to the steps."""
    copies = {exact_field(name) for name in solution.exact}
    out = []
    for key, value in solution.answer.items():
        if key in copies or isinstance(value, dict):
            continue
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], dict):
            continue
        value = solution.exact.get(key, value)
        if key in solution.one_based:
            value = _plus_one(value)
        if isinstance(value, (list, tuple)) and value and all(type(v) is int for v in value):
            shown = "(" + ", ".join(str(v) for v in value) + ")"  # indices and shapes read as tuples
        else:
            shown = fmt(_elide(expression_value(value)), target)
        out.append(f"{_field_label(key, target)} = {shown}")
    return out


def _plus_one(value: Any) -> Any:
    """0-based indices (JSON) counted from 1, as the prose counts points, neurons and clusters."""
    if isinstance(value, (list, tuple)):
        return [_plus_one(v) for v in value]
    return value + 1 if isinstance(value, int) and not isinstance(value, bool) else value


ANSWER_ITEMS = 8


def _elide(value: Any) -> Any:
    """A long list (e.g. 501 iterates) keeps its first and last items around a "..." entry in the answer
    block; the steps' tables hold the rest."""
    import sympy as sp

    if not isinstance(value, (list, tuple)) or len(value) <= ANSWER_ITEMS:
        return value
    first = value[0]
    dots = sp.Symbol("...")
    filler = [dots] * len(first) if isinstance(first, (list, tuple)) else dots
    return [*value[:ANSWER_ITEMS - 3], filler, *value[-2:]]


def _symbol_name(field: str) -> str:
    """Answer field names are words ("final_centers"); keep them readable as a single word."""
    return field.replace("_", " ") if "_" in field else field


def _field_label(field: str, target: str) -> str:
    """An answer field's label: its words, a Greek word as its letter ("balance_alpha": balance α)."""
    words = field.split("_")
    if "_" not in field or not any(w in GREEK for w in words):
        return name_text(_symbol_name(field), target)
    join = {"typst": " ", "latex": r"\ ", "text": " "}[target]
    return join.join(name_text(w, target) if w in GREEK or len(w) == 1 else text_literal(w, target)
                     for w in words)


def solution_context(solution: Solution, target: str, sink: FigureSink, title: str | None = None) -> dict:
    return {
        "title": prose(title or f"Solution: {solution.kind.replace('_', ' ')}", target),
        "kind": solution.kind,
        "steps": [step_context(s, target, sink) for s in solution.steps],
        "answer": answer_lines(solution, target),
        "warnings": [prose(w, target) for w in _unsaid(solution)],
    }


def _unsaid(solution: Solution) -> list[str]:
    """The warnings that no step's text already says (competitive's ties and half-way roundings are told in
    the step where they happen; the documents do not repeat them in a list of notes)."""
    said: list[str] = []

    def walk(step: Step) -> None:
        said.append(step.text.lower())
        for child in step.children:
            walk(child)

    for step in solution.steps:
        walk(step)
    text = " ".join(said)
    return [w for w in solution.warnings if str(w).lower() not in text]


def render_template(template: str, context: dict[str, Any], target: str) -> str:
    return _template(template, target).render(**context)


@lru_cache(maxsize=64)
def _template(template: str, target: str) -> jinja2.Template:
    """A shared template's compiled form, kept: a gradebook renders the same one for every student."""
    return environment(target).get_template(f"{target}/{template}{SUFFIX[target]}.j2")


def compile_typst(source: str, folder: Path, output: Path) -> Path:
    """Compile Typst `source` (its figures already in `folder`) to the PDF `output`."""
    main = folder / "main.typ"
    main.write_text(source, encoding="utf-8")
    try:
        pdf = typst_compiler(os.getpid()).compile(str(main), root=str(folder))
    except Exception as exc:  # typst raises its own error type with the compiler's message
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RenderError(f"the Typst compiler refused the document: {first}") from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(pdf)
    return output


@lru_cache(maxsize=1)
def typst_compiler(pid: int):
    """One Typst compiler per process (`pid`: a forked worker makes its own), reused for every document: it
    keeps the fonts it found and its caches, so a document's second compile costs half the first. Each
    document compiles in its own new folder (`root`), so nothing stale is ever read back."""
    import typst

    return typst.Compiler()


def compile_typst_sources(sources: list[str], progress=None) -> list[bytes]:
    """Compile many small Typst documents (self-contained: no figures, no imports) to PDF bytes with one
    `typst.Compiler`, which loads the fonts once (bench/marking.py compares it with `typst.compile` per
    document: for the two-page feedback documents the layout dominates and they take about as long).
    `progress()` is called after each."""
    import typst

    compiler = typst.Compiler()
    pdfs = []
    for source in sources:
        try:
            pdfs.append(compiler.compile(input=source.encode("utf-8")))
            if progress is not None:
                progress()
        except Exception as exc:  # typst raises its own error type with the compiler's message
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RenderError(f"the Typst compiler refused the document: {first}") from exc
    return pdfs


def render_document(template: str, context_for, fmt_name: str, output: Path | None) -> str | Path:
    """Render a document. `context_for(target, sink)` builds the template context; `fmt_name` is one of
    text, typst, tex, pdf. Returns the text, or the written path for pdf (and for typst/tex with a
    figure folder next to `output`)."""
    target = TARGET_OF[fmt_name]
    need_output(fmt_name, output)
    if fmt_name == "pdf":
        with tempfile.TemporaryDirectory(prefix="nnexam-") as tmp:
            sink = FigureSink(Path(tmp))
            source = render_template(template, context_for(target, sink), target)
            return compile_typst(source, Path(tmp), output)
    if output is None:
        return render_template(template, context_for(target, FigureSink(None)), target)
    output.parent.mkdir(parents=True, exist_ok=True)
    sink = FigureSink(output.parent if target != "text" else None, target)
    output.write_text(render_template(template, context_for(target, sink), target), encoding="utf-8")
    return output


def render_solution(solution: Solution, fmt_name: str, output: Path | None = None,
                    title: str | None = None) -> str | Path:
    """Render one solution as json, text, typst, tex or pdf."""
    if fmt_name not in FORMATS:
        raise RenderError(f"unknown format {fmt_name!r}; the formats are: {', '.join(FORMATS)}")
    if fmt_name == "json":
        text = json.dumps(solution.to_json(prose=plain), indent=2)
        if output is not None:
            output.write_text(text + "\n", encoding="utf-8")
            return output
        return text
    return render_document(
        "solution", lambda target, sink: solution_context(solution, target, sink, title), fmt_name, output
    )


__all__ = ["FORMATS", "RenderError", "compile_typst", "need_output", "render_document", "render_solution",
           "render_template", "solution_context", "step_context"]
