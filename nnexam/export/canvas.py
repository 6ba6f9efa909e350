"""Question banks as a Canvas QTI 1.2 package (Settings > Import course content > QTI .zip file).

One assessment with one `section` per bank ("pick 1": `selection_number` 1, `points_per_item` the part's
points) holding the variants as items. Canvas grades a number with a tolerance only in a `numerical_question`
(exact answer and margin: `varequal` or `vargte`/`varlte`); its `fill_in_multiple_blanks_question` compares each
blank's text with the accepted answers. So a part with one number is a numerical question with the marking
rule's interval, a vector or matrix a fill-in-multiple-blanks question whose blanks accept the key written to
DIGITS significant digits (the statement asks for that writing), a boolean a multiple-choice question, and the
rest (expressions, written answers) essays whose general feedback holds the model answer and the worked
solution. Figures are files of the package, under `images/`, shown through `%24IMS-CC-FILEBASE%24/` (the package root).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

from .banks import Bank, Blank, Entry, answer_layout, number_text
from .html import relink

QTI = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
MANIFEST = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CANVAS = "http://canvas.instructure.com/xsd/cccv1p0"
FILES = "images"
FILEBASE = "%24IMS-CC-FILEBASE%24/"  # as text2qti writes it, which Canvas imports


def canvas_zip(banks: list[Bank], title: str) -> bytes:
    ident = "nnexam_" + "".join(c if c.isalnum() else "_" for c in title)
    files: dict[str, bytes] = {}
    root = ET.Element("questestinterop", xmlns=QTI)
    assessment = ET.SubElement(root, "assessment", ident=ident, title=title)
    _metadata(assessment, {"cc_maxattempts": "1"})
    top = ET.SubElement(assessment, "section", ident="root_section")
    for number, bank in enumerate(banks, start=1):
        section = ET.SubElement(top, "section", ident=f"{ident}_group_{number}",
                                title=f"{bank.assignment} {bank.label}")
        selection = ET.SubElement(ET.SubElement(section, "selection_ordering"), "selection")
        ET.SubElement(selection, "selection_number").text = "1"
        points = bank.entries[0].points if bank.entries else 0
        ET.SubElement(ET.SubElement(selection, "selection_extension"), "points_per_item").text = number_text(points)
        for k, entry in enumerate(bank.entries, start=1):
            section.append(qti_item(entry, f"{ident}_{number}_{k}"))
            files.update(entry.files)
    ET.indent(root)
    quiz = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("imsmanifest.xml", _manifest(ident, sorted(files)))
        zf.writestr(f"{ident}/{ident}.xml", quiz)
        zf.writestr(f"{ident}/assessment_meta.xml", _meta(ident, title, sum(
            b.entries[0].points for b in banks if b.entries)))
        for name, data in sorted(files.items()):
            zf.writestr(f"{FILES}/{name}", data)
    return stream.getvalue()


def qti_item(entry: Entry, ident: str) -> ET.Element:
    kind = {"numerical": "numerical_question", "cloze": "fill_in_multiple_blanks_question",
            "multichoice": "multiple_choice_question"}.get(entry.kind, "essay_question")
    if kind == "fill_in_multiple_blanks_question" and any(isinstance(b.value, str) for b in entry.blanks):
        kind = "essay_question"
    item = ET.Element("item", ident=ident, title=entry.name)
    _metadata(ET.SubElement(item, "itemmetadata"), {
        "question_type": kind, "points_possible": number_text(entry.points), "original_answer_ids": "",
        "assessment_question_identifierref": f"{ident}_ref"})
    text = entry.statement
    if kind == "fill_in_multiple_blanks_question":
        text += "\n" + answer_layout(entry, lambda i, b: f"[b{i + 1}]")
    elif kind == "numerical_question":
        text += "\n" + f"<p>{entry.groups[0].label}:</p>"
    presentation = ET.SubElement(item, "presentation")
    _mattext(presentation, text)
    resprocessing = ET.Element("resprocessing")
    ET.SubElement(ET.SubElement(resprocessing, "outcomes"), "decvar", maxvalue="100", minvalue="0",
                  varname="SCORE", vartype="Decimal")
    general = ET.SubElement(resprocessing, "respcondition", attrib={"continue": "Yes"})
    ET.SubElement(ET.SubElement(general, "conditionvar"), "other")
    ET.SubElement(general, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    if kind == "numerical_question":
        response = ET.SubElement(presentation, "response_str", ident="response1", rcardinality="Single")
        ET.SubElement(ET.SubElement(response, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
        _numeric_condition(resprocessing, entry.blanks[0])
    elif kind == "multiple_choice_question":
        response = ET.SubElement(presentation, "response_lid", ident="response1", rcardinality="Single")
        choices = ET.SubElement(response, "render_choice")
        for label in ("true", "false"):
            _mattext(ET.SubElement(choices, "response_label", ident=label), label)
        correct = ET.SubElement(resprocessing, "respcondition", attrib={"continue": "No"})
        ET.SubElement(ET.SubElement(correct, "conditionvar"), "varequal", respident="response1").text = \
            entry.blanks[0].text
        ET.SubElement(correct, "setvar", action="Set", varname="SCORE").text = "100"
    elif kind == "fill_in_multiple_blanks_question":
        share = 100 / len(entry.blanks)
        for i, blank in enumerate(entry.blanks, start=1):
            response = ET.SubElement(presentation, "response_lid", ident=f"response_b{i}")
            _material(response, f"b{i}")
            choices = ET.SubElement(response, "render_choice")
            for j, text in enumerate(accepted(blank), start=1):
                _material(ET.SubElement(choices, "response_label", ident=f"b{i}_{j}"), text)
            for j, _ in enumerate(accepted(blank), start=1):
                condition = ET.SubElement(resprocessing, "respcondition")
                ET.SubElement(ET.SubElement(condition, "conditionvar"), "varequal",
                              respident=f"response_b{i}").text = f"b{i}_{j}"
                ET.SubElement(condition, "setvar", varname="SCORE", action="Add").text = f"{share:.4f}"
    else:
        response = ET.SubElement(presentation, "response_str", ident="response1", rcardinality="Single")
        ET.SubElement(ET.SubElement(response, "render_fib"), "response_label", ident="answer1", rshuffle="No")
        other = ET.SubElement(resprocessing, "respcondition", attrib={"continue": "No"})
        ET.SubElement(ET.SubElement(other, "conditionvar"), "other")
    item.append(resprocessing)
    feedback = ET.SubElement(item, "itemfeedback", ident="general_fb")
    _mattext(ET.SubElement(feedback, "flow_mat"), entry.grader if kind == "essay_question" else entry.feedback)
    return item


def _numeric_condition(resprocessing: ET.Element, blank: Blank) -> None:
    """Full score for an answer within the blank's tolerance: Canvas reads it as an exact answer with a margin."""
    correct = ET.SubElement(resprocessing, "respcondition", attrib={"continue": "No"})
    either = ET.SubElement(ET.SubElement(correct, "conditionvar"), "or")
    ET.SubElement(either, "varequal", respident="response1").text = number_text(blank.value)
    within = ET.SubElement(either, "and")
    ET.SubElement(within, "vargte", respident="response1").text = number_text(blank.value - blank.tolerance)
    ET.SubElement(within, "varlte", respident="response1").text = number_text(blank.value + blank.tolerance)
    ET.SubElement(correct, "setvar", action="Set", varname="SCORE").text = "100"


def accepted(blank: Blank) -> list[str]:
    """The writings of a blank's value that Canvas accepts (it compares text): the key to DIGITS significant
    digits, also without trailing zeros and without a leading 0; an integer also with a decimal point."""
    text = blank.text
    out = [text]
    if "." in text and "e" not in text:
        out.append(text.rstrip("0").rstrip("."))
    if isinstance(blank.value, float) and blank.value.is_integer() and "." not in text:
        out.append(f"{text}.0")
    for t in list(out):
        for short in (t.replace("0.", ".", 1) if t.startswith("0.") else None,
                      "-" + t[2:] if t.startswith("-0.") else None):
            if short:
                out.append(short)
    return list(dict.fromkeys(out))


def _metadata(parent: ET.Element, fields: dict[str, str]) -> None:
    meta = ET.SubElement(parent, "qtimetadata")
    for label, entry in fields.items():
        field = ET.SubElement(meta, "qtimetadatafield")
        ET.SubElement(field, "fieldlabel").text = label
        ET.SubElement(field, "fieldentry").text = entry


def _material(parent: ET.Element, text: str, html: bool = False) -> ET.Element:
    material = ET.SubElement(parent, "material")
    attrib = {"texttype": "text/html"} if html else {}
    ET.SubElement(material, "mattext", attrib).text = text
    return material


def _mattext(parent: ET.Element, html: str) -> ET.Element:
    return _material(parent, relink(html, f"{FILEBASE}{FILES}/", {}), html=True)


def _manifest(ident: str, files: list[str]) -> bytes:
    manifest = ET.Element("manifest", identifier=f"{ident}_manifest", xmlns=MANIFEST)
    metadata = ET.SubElement(manifest, "metadata")
    ET.SubElement(metadata, "schema").text = "IMS Content"
    ET.SubElement(metadata, "schemaversion").text = "1.1.3"
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    quiz = ET.SubElement(resources, "resource", identifier=ident, type="imsqti_xmlv1p2")
    ET.SubElement(quiz, "file", href=f"{ident}/{ident}.xml")
    ET.SubElement(quiz, "dependency", identifierref=f"{ident}_meta")
    meta = ET.SubElement(resources, "resource", identifier=f"{ident}_meta",
                         type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
                         href=f"{ident}/assessment_meta.xml")
    ET.SubElement(meta, "file", href=f"{ident}/assessment_meta.xml")
    for k, name in enumerate(files, start=1):
        resource = ET.SubElement(resources, "resource", identifier=f"{ident}_file_{k}", type="webcontent",
                                 href=f"{FILES}/{name}")
        ET.SubElement(resource, "file", href=f"{FILES}/{name}")
    ET.indent(manifest)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(manifest, encoding="utf-8") + b"\n"


def _meta(ident: str, title: str, points: float) -> bytes:
    quiz = ET.Element("quiz", identifier=ident, xmlns=CANVAS)
    for tag, value in (("title", title), ("description", ""), ("shuffle_answers", "false"),
                       ("scoring_policy", "keep_highest"), ("quiz_type", "assignment"),
                       ("points_possible", number_text(points)), ("allowed_attempts", "1"),
                       ("one_question_at_a_time", "false"), ("show_correct_answers", "false")):
        ET.SubElement(quiz, tag).text = value
    ET.indent(quiz)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="utf-8") + b"\n"
