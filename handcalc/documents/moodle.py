"""Exam variants as a Moodle XML quiz: one cloze question per variant, one numerical field per
written entry, each with the tolerance `handcalc check` would accept."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import escape

from handcalc.documents.paper import config_hash, segments
from handcalc.documents.variants import Variant
from handcalc.model.steps import Phase
from handcalc.text import clean
from handcalc.trace import Step, Trace


def _text(notation: str) -> str:
    """Notation as HTML; braces and the cloze markers are written as entities."""
    html = "".join(
        escape(clean(t)) if k == "text" else f"<{k}>{escape(clean(t))}</{k}>"
        for k, t in segments(notation)
    )
    return (
        html.replace("{", "&#123;")
        .replace("}", "&#125;")
        .replace("~", "&#126;")
        .replace("#", "&#35;")
    )


def _table(step: Step, cells: list[str]) -> str:
    shape = step.shape
    cols = shape[-1] if shape else 1
    rows = [cells[i : i + cols] for i in range(0, len(cells), cols)]
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table border="1" cellpadding="4">{body}</table>'


def _field(value: str, tolerance: str) -> str:
    return f"{{1:NUMERICAL:={value}:{tolerance}}}"


def question(t: Trace, number: int, seed: int) -> str:
    steps = t.iterations[0]
    p = t.problem
    parts = [
        f"<p>{_text(p.title or 'One training step')}: variant {number} (seed {seed}, "
        f"config {config_hash(t)}).</p>",
        f"<p>Rounding: {_text(p.rounding.describe())}. Learning rate η = "
        f"{_text(str(p.learning_rate))}.</p>",
    ]
    for step in steps:
        if step.spec.phase == Phase.given:
            parts.append(f"<p>{_text(step.spec.symbol)} =</p>{_table(step, step.texts())}")
    for step in steps:
        if step.spec.phase == Phase.given:
            continue
        tolerances = step.tolerances()
        fields = [
            _field(step.text(i), f"{tolerances[i].normalize():f}") for i in range(len(step.values))
        ]
        parts.append(
            f"<p><b>{_text(step.spec.symbol)}</b> "
            f"{_text('(updated)' if step.spec.phase == Phase.update else '')}</p>"
            f"{_table(step, fields)}"
        )
    return "\n".join(parts)


def quiz(variants: list[Variant], title: str) -> str:
    """The quiz as XML, built as a tree: every text is escaped by the writer, and `clean` has
    taken out each character XML 1.0 forbids."""
    name = clean(title)
    root = ET.Element("quiz")
    category = ET.SubElement(ET.SubElement(root, "question", type="category"), "category")
    # Moodle reads "/" as the step into a subcategory and "//" as a slash in a name.
    ET.SubElement(category, "text").text = "$course$/" + name.replace("/", "//")
    for v in variants:
        item = ET.SubElement(root, "question", type="cloze")
        _child(item, "name", f"{name}: variant {v.number} (seed {v.seed})")
        _child(item, "questiontext", question(v.trace, v.number, v.seed), format="html")
        _child(item, "generalfeedback", "", format="html")
        ET.SubElement(item, "penalty").text = "0.3333333"
        ET.SubElement(item, "hidden").text = "0"
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _child(parent: ET.Element, tag: str, text: str, **attributes: str) -> None:
    """A child element that holds its text in a <text> element, as Moodle's format has it."""
    ET.SubElement(ET.SubElement(parent, tag, attributes), "text").text = text
