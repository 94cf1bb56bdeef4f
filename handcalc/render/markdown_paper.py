"""A document as Markdown: headings, tables and code blocks."""

from __future__ import annotations

import re

from handcalc.documents.paper import Box, Document, Matrix, segments
from handcalc.render.markdown import _escape as esc
from handcalc.text import clean

# What opens a block at the start of a line once the inline escapes are done: a list item, a
# setext underline, an ordered list's number.
BLOCK_START = re.compile(r"^([-+=])|^(\d{1,9})([.)])")


def paragraph(text: str) -> str:
    """User text as lines of a paragraph, each printed literally.

    >>> paragraph("1. first\\n- second\\n    code").split("  \\n")
    ['1\\\\. first', '\\\\- second', 'code']
    """
    lines = (esc(line.strip()) for line in clean(text, newlines=True).split("\n"))
    return "  \n".join(BLOCK_START.sub(_literal, line) for line in lines)


def _literal(m: re.Match[str]) -> str:
    """A backslash before the character that would open the block."""
    return "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3)


def rich(notation: str) -> str:
    return "".join(esc(t) if k == "text" else f"<{k}>{esc(t)}</{k}>" for k, t in segments(notation))


def _table(rows: list[list[str]], labels: list[str], empty: bool) -> list[str]:
    cols = len(rows[0]) if rows else 1
    lead = ["  "] if labels else []
    out = [
        "| " + " | ".join([*lead, *(str(j + 1) for j in range(cols))]) + " |",
        "|" + "--:|" * (cols + len(lead)),
    ]
    for i, row in enumerate(rows):
        cells = ["   " if empty else v for v in row]
        out.append("| " + " | ".join(([esc(labels[i])] if labels else []) + cells) + " |")
    return [*out, ""]


def _given(m: Matrix, key: bool) -> list[str]:
    """A given matrix; the key names its step id for graders, a worksheet only its symbol."""
    name = f" `[{m.name}]`" if key else ""
    return [f"{rich(m.symbol)}{name}", "", *_table(m.rows, m.row_labels, False)]


def _box(b: Box) -> list[str]:
    points = f" ({esc(b.points)} pt)" if b.points else ""
    step = "" if b.values is None else f" · {b.step_id}"
    out = [f"**{rich(b.symbol)}** `{b.shape}{step}`{points}", ""]
    if b.formula:
        out += [rich(b.formula), ""]
    rows = b.values if b.values is not None else [[""] * b.cols for _ in range(b.rows)]
    return out + _table(rows, b.row_labels, b.values is None)


def document(doc: Document) -> str:
    out = _top(doc)
    for m in doc.given:
        out += _given(m, doc.header.key)
    out += ["## The network", "", rich(doc.network_text), ""]
    for section in doc.sections:
        out += [f"## {esc(section.title)}", ""]
        for b in section.boxes:
            out += _box(b)
    if doc.expansions:
        out += ["## Worked entries", ""]
        for e in doc.expansions:
            out += ["```text", *e, "```", ""]
    return "\n".join(out + _chart(doc))


def _top(doc: Document) -> list[str]:
    """Title, name line, instructions, the rounding rule, the learning rate."""
    h = doc.header
    out = [f"# {esc(h.title)}", "", paragraph(" · ".join([*h.about, h.stamp])), ""]
    if not h.key:
        out += ["Name: ______________________  ID: ____________", ""]
    if h.instructions:
        out += [paragraph(h.instructions), ""]
    return [
        *out,
        f"Rounding: {esc(doc.rule)}. For example, {esc(doc.rule_example)}.  ",
        f"Learning rate: η = {esc(doc.learning_rate)}.  ",
        *(f"{rich(s)}  " for s in doc.settings),
        f"**Total: {esc(doc.total)} points.**",
        "",
        "## Given",
        "",
    ]


def _chart(doc: Document) -> list[str]:
    """The key's table: each step's largest deviation in units."""
    if not doc.chart:
        return []
    return [
        "## Rounding against float64",
        "",
        "| step | largest deviation (units) |",
        "|:--|--:|",
        *(f"| {rich(s)} | {u:.2f} |" for _, s, u in doc.chart),
        "",
    ]
