"""The worksheet as a web page: the paper's document model with an input per entry.

Every piece of text passes `esc` (HTML) or `to_mathml` (an XML serializer); the page holds no
inline script or style, so the Content-Security-Policy can forbid both.
"""

from __future__ import annotations

from handcalc.documents.paper import Box, Document, Matrix
from handcalc.render.html import _diagram, esc, lines, rich
from handcalc.serve.mathml import to_mathml
from handcalc.trace import Trace

HEAD = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title}</title>"
    '<link rel="stylesheet" href="/static/page.css">'
    '<script src="/static/page.js" defer></script></head>\n'
)
TOOLS = (
    '<div class="tools"><button type="button" id="download">Download answers</button>'
    '<label class="upload">Continue from an answers file <input type="file" id="upload" '
    'accept=".yaml,.yml,text/yaml"></label>'
    '<button type="button" id="clear">Clear all entries</button>'
    '<p id="status" role="status" aria-live="polite"></p>'
    '<p id="score" aria-live="polite"></p></div>'
)


def worksheet(doc: Document, trace: Trace, variant: str | None) -> str:
    """The whole page of one paper."""
    sheet = esc(doc.header.config_hash + (f"-v{variant}" if variant is not None else ""))
    data = f' data-sheet="{sheet}"' + (f' data-variant="{esc(variant)}"' if variant else "")
    parts = [
        HEAD.format(title=esc(doc.header.title)),
        f"<body{data}><main>",
        *_top(doc),
        TOOLS,
        "<h2>Given</h2>",
        '<div class="givens">' + "".join(_given(m) for m in doc.given) + "</div>",
        "<h2>The network</h2>",
        f'<div class="network">{_diagram(doc.network)}</div><p>{rich(doc.network_text)}</p>',
    ]
    for section in doc.sections:
        parts.append(f"<h2>{esc(section.title)}</h2>")
        parts += [_box(b, trace) for b in section.boxes]
    parts.append(f"<footer>{esc(doc.header.title)} · {esc(doc.header.stamp)}</footer>")
    return "\n".join([*parts, "</main></body></html>\n"])


def _top(doc: Document) -> list[str]:
    """Title, what the paper is, instructions, the rounding rule and every constant."""
    h = doc.header
    out = [f"<h1>{esc(h.title)}</h1>", f'<p class="about">{esc(" · ".join(h.about))}</p>']
    if h.instructions:
        out.append(f"<p>{lines(h.instructions)}</p>")
    settings = "".join(f"<br>{rich(s)}" for s in doc.settings)
    out.append(
        f'<p class="rules">Rounding: {esc(doc.rule)}. For example, {esc(doc.rule_example)}.'
        f"<br>Learning rate: η = {esc(doc.learning_rate)}.{settings}"
        f"<br><b>Total: {esc(doc.total)} points.</b></p>"
    )
    return out


def _given(m: Matrix) -> str:
    rows, labels = _columns(m.rows, m.row_labels)
    body = "".join(
        "<tr>"
        + (f"<th>{esc(labels[r])}</th>" if labels else "")
        + "".join(f"<td>{esc(v)}</td>" for v in row)
        + "</tr>"
        for r, row in enumerate(rows)
    )
    return (
        f'<div class="given"><div class="sym">{to_mathml(m.symbol)} '
        f'<span class="id">{esc(m.name)}</span></div>'
        f'<table class="matrix">{_header(rows, labels)}{body}</table></div>'
    )


def _columns(rows: list[list[str]], labels: list[str]) -> tuple[list[list[str]], list[str]]:
    """A vector (one unlabelled row) stood up as the column it is in the notes."""
    if len(rows) == 1 and not labels and len(rows[0]) > 1:
        return [[v] for v in rows[0]], [str(i + 1) for i in range(len(rows[0]))]
    return rows, labels


def _header(rows: list[list[str]], labels: list[str]) -> str:
    """Column numbers over a matrix of more than one column."""
    cols = len(rows[0]) if rows else 0
    if cols <= 1:
        return ""
    corner = "<th></th>" if labels else ""
    return "<tr>" + corner + "".join(f"<th>{j + 1}</th>" for j in range(cols)) + "</tr>"


def _box(b: Box, trace: Trace) -> str:
    """One step: its symbol and the notes' formula as math, an input per entry, its verdict."""
    step = trace.step(b.step_id)
    labels = [label for _, label in step.labels()]
    examples = [n for n, _ in step.labels()]
    grid = [[str(r * b.cols + c) for c in range(b.cols)] for r in range(b.rows)]
    rows, row_labels = _columns(grid, b.row_labels)
    cells = []
    for r, row in enumerate(rows):
        th = f"<th>{esc(row_labels[r])}</th>" if row_labels else ""
        tds = "".join(_input(b.step_id, int(i), labels[int(i)], examples[int(i)]) for i in row)
        cells.append(f"<tr>{th}{tds}</tr>")
    updated = " (updated)" if b.symbol.endswith(" (updated)") else ""
    # the formula as the paper prints it with hints (the notes' formula of the step)
    formula = f'<div class="formula">{to_mathml(b.formula)}</div>' if b.formula else ""
    return (
        f'<section class="step" id="step-{esc(b.step_id)}" data-step="{esc(b.step_id)}">'
        f'<div class="head"><span class="sym">{to_mathml(step.spec.symbol)}{esc(updated)}</span>'
        f'<span class="id">{esc(b.shape)} · {esc(b.step_id)}</span>'
        f'<span class="pts">{esc(b.points)} pt</span></div>'
        f"{formula}"
        f'<table class="matrix entries">{_header(rows, row_labels)}{"".join(cells)}</table>'
        '<div class="feedback" aria-live="polite"></div></section>'
    )


def _input(step_id: str, i: int, label: str, example: int | None) -> str:
    name = label + (f" (example {example})" if example else "")
    return (
        f'<td><input type="text" inputmode="decimal" autocomplete="off" spellcheck="false" '
        f'data-step="{esc(step_id)}" data-i="{i}" aria-label="{esc(name)}" title="{esc(name)}">'
        '<span class="key"></span></td>'
    )


def variant_form(title: str, message: str | None = None) -> str:
    """An exam's first page: the student types the variant printed on their paper."""
    said = f'<p class="error" role="alert">{esc(message)}</p>' if message else ""
    return (
        HEAD.format(title=esc(title))
        + f"<body><main><h1>{esc(title)}</h1>{said}"
        + '<form method="get" action="/" class="variant"><label>The variant printed on your '
        'paper: <input name="variant" inputmode="numeric" autocomplete="off" required '
        'maxlength="16"></label> <button type="submit">Open my worksheet</button></form>'
        + "</main></body></html>\n"
    )
