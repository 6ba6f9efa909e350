"""The text an assignment's templates make: a question's statement blocks and a part's written model answer.

Both are jinja2 in the assignment's folder (see `assignments.markup`), rendered with a question's template
context: `p` (each part's parameters), `ctx` (what the sampler adds for the statement), `seed`, and `ans`
(each part's solver answer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from .markup import environment

ADJACENT_MATH = re.compile(r"(?<!\\)\$\$")


def join_math(text: str, target: str) -> str:
    """Two inline maths written side by side (`mx("G(z) = ", ...)` then `ex(...)`) as one, so that the spaces
    around `=` are the maths' own: "G(z) = z", not "G(z) =z" (and no `$$` for LaTeX to read as display maths)."""
    return ADJACENT_MATH.sub(" ", text) if target != "text" else text


def statements(folder: Path, template: str, context: dict[str, Any], blocks: Iterable[str],
               target: str) -> dict[str, str]:
    """The named blocks (`intro` and one per part id) of the statement template `template`, rendered."""
    env = environment(folder, target)
    compiled = env.get_template(template)
    bound = compiled.new_context(context)
    out = {}
    for name in blocks:
        block = compiled.blocks.get(name)
        out[name] = join_math("".join(block(bound)).strip(), target) if block else ""
    return out


def model_answer(folder: Path, text: str | None, context: dict[str, Any], target: str) -> str:
    """A part's written model answer (a jinja2 string of the assignment's data), rendered; "" without one."""
    if not text:
        return ""
    return join_math(compiled(folder, target, text).render(**context).strip(), target)


@lru_cache(maxsize=512)
def compiled(folder: Path, target: str, text: str) -> jinja2.Template:
    """The jinja2 template of the string `text`, compiled once per process (variants render it many times)."""
    return environment(folder, target).from_string(text)
