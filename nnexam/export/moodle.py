"""Question banks as Moodle XML (Question bank > Import > Moodle XML format).

One `<question type="category">` per bank (`$course$/nnexam/<assignment>/<part>`), then one question per
variant: `numerical` (one number, with its `<tolerance>`), `cloze` (several: a `{w:NUMERICAL:=value:tol}` gap
per number, `{w:MULTICHOICE:=true~false}` per boolean), `multichoice` (one boolean), `stack` (expressions, with
`--stack`: Maxima answers and a potential-response tree with an AlgEquiv test per input) or `essay` (grader
information holding the model answer and the worked solution). Figures travel inside the file, base64, as
`<file>` children of the text that shows them (`@@PLUGINFILE@@/name`).
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from fractions import Fraction
from math import gcd, lcm

from ..comparison import read_expression
from .banks import Bank, Entry, answer_layout, number_text
from .html import relink
from .maxima import maxima

PLUGINFILE = "@@PLUGINFILE@@/"
STACK_VERSION = "2023121100"
MAX_WEIGHT = 100


def moodle_xml(banks: list[Bank], stack: bool) -> bytes:
    quiz = ET.Element("quiz")
    for bank in banks:
        category = ET.SubElement(quiz, "question", type="category")
        _text(ET.SubElement(category, "category"), f"$course$/nnexam/{bank.assignment}/{bank.label}")
        _text(ET.SubElement(category, "info", format="html"),
              f"{bank.assignment} question {bank.question}({bank.part}): {bank.title}; one question per variant")
        for entry in bank.entries:
            quiz.append(_question(entry, stack))
    ET.indent(quiz)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="utf-8") + b"\n"


def _question(entry: Entry, stack: bool) -> ET.Element:
    kind = entry.kind
    if kind == "symbolic":
        kind = "stack" if stack else "essay"
    q = ET.Element("question", type=kind)
    _text(ET.SubElement(q, "name"), entry.name)
    text = entry.statement
    if kind == "cloze":
        weights = _weights(entry)
        text += "\n" + answer_layout(entry, lambda i, b: _gap(b, weights[i]))
    elif kind == "stack":
        names = sorted({str(v) for b in entry.blanks if not b.is_number for v in read_expression(b.value).free_symbols})
        what = f"in {', '.join(names)} " if names else ""
        text += (f"\n<p>Enter each answer as an expression {what}(for instance (1 + x)/(2 + x), sqrt(x), x^2, "
                 "exp(-x)).</p>\n")
        text += answer_layout(entry, lambda i, b: f"[[input:ans{i + 1}]] [[validation:ans{i + 1}]]")
    elif kind == "numerical":
        text += "\n" + f"<p>{entry.groups[0].label}:</p>"
    _html(q, "questiontext", text, entry)
    _html(q, "generalfeedback", entry.feedback, entry)
    grade = sum(_weights(entry).values()) if kind == "cloze" else entry.points
    ET.SubElement(q, "defaultgrade").text = number_text(grade)
    ET.SubElement(q, "penalty").text = "0"
    ET.SubElement(q, "hidden").text = "0"
    ET.SubElement(q, "idnumber").text = ""
    {"numerical": _numerical, "multichoice": _multichoice, "essay": _essay, "stack": _stack,
     "cloze": lambda q, e: None}[kind](q, entry)
    return q


def _numerical(q: ET.Element, entry: Entry) -> None:
    blank = entry.blanks[0]
    answer = ET.SubElement(q, "answer", fraction="100", format="moodle_auto_format")
    _text(answer, number_text(blank.value))
    ET.SubElement(answer, "tolerance").text = number_text(blank.tolerance)
    _html(answer, "feedback", "", entry)
    ET.SubElement(q, "unitgradingtype").text = "0"
    ET.SubElement(q, "unitpenalty").text = "0"
    ET.SubElement(q, "showunits").text = "3"  # no units
    ET.SubElement(q, "unitsleft").text = "0"


def _multichoice(q: ET.Element, entry: Entry) -> None:
    ET.SubElement(q, "single").text = "true"
    ET.SubElement(q, "shuffleanswers").text = "false"
    ET.SubElement(q, "answernumbering").text = "abc"
    for choice in (True, False):
        answer = ET.SubElement(q, "answer", fraction="100" if entry.blanks[0].value is choice else "0",
                               format="html")
        _text(answer, "true" if choice else "false")
        _html(answer, "feedback", "", entry)


def _essay(q: ET.Element, entry: Entry) -> None:
    ET.SubElement(q, "responseformat").text = "editor"
    ET.SubElement(q, "responserequired").text = "1"
    ET.SubElement(q, "responsefieldlines").text = "15"
    ET.SubElement(q, "attachments").text = "1"
    ET.SubElement(q, "attachmentsrequired").text = "0"
    _html(q, "graderinfo", entry.grader, entry)
    _html(q, "responsetemplate", "", entry)


def _stack(q: ET.Element, entry: Entry) -> None:
    """Inputs ans1.. with teacher's answers ta1.. (question variables); one potential-response tree per input:
    AlgEquiv for an expression, NumAbsolute with the blank's tolerance for a number."""
    variables = []
    for i, b in enumerate(entry.blanks, start=1):
        value = maxima(read_expression(b.value)) if isinstance(b.value, str) else number_text(b.value)
        variables.append(f"ta{i}: {value};")
    _text(ET.SubElement(q, "stackversion"), STACK_VERSION)
    _text(ET.SubElement(q, "questionvariables"), "\n".join(variables))
    _html(q, "specificfeedback", "".join(f"<p>[[feedback:prt{i}]]</p>" for i in range(1, len(entry.blanks) + 1)),
          entry)
    _text(ET.SubElement(q, "questionnote"), entry.name)
    for tag, value in (("questionsimplify", "1"), ("assumepositive", "0"), ("assumereal", "1"),
                       ("multiplicationsign", "dot"), ("sqrtsign", "1"), ("complexno", "i"),
                       ("inversetrig", "cos-1"), ("logicsymbol", "lang"), ("matrixparens", "["),
                       ("variantsselectionseed", "")):
        ET.SubElement(q, tag).text = value
    for tag, words in (("prtcorrect", "Correct answer, well done."),
                       ("prtpartiallycorrect", "Your answer is partially correct."),
                       ("prtincorrect", "Incorrect answer.")):
        _html(q, tag, f"<p>{words}</p>", entry)
    total = sum(b.weight for b in entry.blanks) or Fraction(1)
    for i, b in enumerate(entry.blanks, start=1):
        node_input = ET.SubElement(q, "input")
        for tag, value in (("name", f"ans{i}"), ("type", "algebraic"), ("tans", f"ta{i}"), ("boxsize", "25"),
                           ("strictsyntax", "1"), ("insertstars", "0"), ("syntaxhint", ""),
                           ("syntaxattribute", "0"), ("forbidwords", ""), ("allowwords", ""),
                           ("forbidfloat", "0" if b.is_number else "1"), ("requirelowestterms", "0"),
                           ("checkanswertype", "0"), ("mustverify", "1"), ("showvalidation", "1"), ("options", "")):
            ET.SubElement(node_input, tag).text = value
        prt = ET.SubElement(q, "prt")
        ET.SubElement(prt, "name").text = f"prt{i}"
        ET.SubElement(prt, "value").text = number_text(float(b.weight / total) * entry.points)
        ET.SubElement(prt, "autosimplify").text = "1"
        ET.SubElement(prt, "feedbackstyle").text = "1"
        _text(ET.SubElement(prt, "feedbackvariables"), "")
        node = ET.SubElement(prt, "node")
        test = "NumAbsolute" if b.is_number else "AlgEquiv"
        for tag, value in (("name", "0"), ("description", ""), ("answertest", test), ("sans", f"ans{i}"),
                           ("tans", f"ta{i}"), ("testoptions", number_text(b.tolerance) if b.is_number else ""),
                           ("quiet", "0")):
            ET.SubElement(node, tag).text = value
        for side, score in (("true", "1"), ("false", "0")):
            ET.SubElement(node, f"{side}scoremode").text = "="
            ET.SubElement(node, f"{side}score").text = score
            ET.SubElement(node, f"{side}penalty").text = ""
            ET.SubElement(node, f"{side}nextnode").text = "-1"
            ET.SubElement(node, f"{side}answernote").text = f"prt{i}-1-{side[0].upper()}"
            _html(node, f"{side}feedback", "", entry)


def _weights(entry: Entry) -> dict[int, int]:
    """Integer gap weights (a cloze gap's weight is a whole number; the question's mark is their sum) in the
    proportions of the blanks' shares of the points: exactly where that takes at most MAX_WEIGHT in all, else
    rounded to parts of MAX_WEIGHT (at least 1 each)."""
    scale = lcm(*(b.weight.denominator for b in entry.blanks))
    raw = [int(b.weight * scale) for b in entry.blanks]
    common = gcd(*raw) or 1
    exact = [w // common for w in raw]
    if sum(exact) <= MAX_WEIGHT:
        return dict(enumerate(exact))
    total = sum(raw)
    return {i: max(1, round(MAX_WEIGHT * w / total)) for i, w in enumerate(raw)}


def _gap(blank, weight: int) -> str:
    if isinstance(blank.value, bool):
        return f"{{{weight}:MULTICHOICE:{'=true~false' if blank.value else 'true~=false'}}}"
    return f"{{{weight}:NUMERICAL:={number_text(blank.value)}:{number_text(blank.tolerance)}}}"


def _text(parent: ET.Element, value: str) -> ET.Element:
    ET.SubElement(parent, "text").text = value
    return parent


def _html(parent: ET.Element, tag: str, html: str, entry: Entry) -> ET.Element:
    """A `format="html"` text field, with the files its images use."""
    field = ET.SubElement(parent, tag, format="html")
    _text(field, relink(html, PLUGINFILE, {}))
    for name, data in entry.files.items():
        if f'src="{name}"' in html:
            ET.SubElement(field, "file", name=name, path="/", encoding="base64").text = \
                base64.b64encode(data).decode("ascii")
    return field
