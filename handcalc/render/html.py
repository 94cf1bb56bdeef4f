"""A document as one standalone HTML page (inline CSS and SVG), printable from a browser."""

from __future__ import annotations

from html import escape

from handcalc.documents.paper import Box, Document, Layer, Matrix, edges, neuron_positions, segments
from handcalc.text import clean

STYLE = """body{font-family:Georgia,serif;font-size:11pt;max-width:19cm;margin:1.5cm auto}
table{border-collapse:collapse;margin:2px 0 10px}td,th{border:1px solid #888;padding:3px 6px;
min-width:2cm;text-align:right}th{font-weight:normal;color:#555}td.blank{height:1.4em}
.id{color:#777;font-size:8pt}.given{display:inline-block;margin:0 1.2em .6em 0;vertical-align:top}
.box{break-inside:avoid;margin-top:.8em}.bar{display:inline-block;height:.7em;background:#999}
.bar.over{background:#c0392b}pre{font-size:9pt}
footer{margin-top:1.5em;border-top:1px solid #ccc;text-align:center;font-size:8pt;color:#555}
tr.slice th,tr.slice td{border-top:2px solid #333}pre{white-space:pre-wrap}
@media print{body{margin:0}section{break-after:page}}"""
COLUMNS = 8  # matrix columns per table, so that a wide matrix never runs off the page


def esc(text: str) -> str:
    r"""Text as HTML text or attribute value: every tag, entity and quote written as text.

    >>> esc('<img src=x onerror="a()">\x1b')
    '&lt;img src=x onerror=&quot;a()&quot;&gt;\\x1b'
    """
    return escape(clean(text), quote=True)


def lines(text: str) -> str:
    """Text of several lines, each escaped, with its line breaks kept."""
    return "<br>".join(esc(line) for line in clean(text, newlines=True).split("\n"))


def rich(notation: str) -> str:
    return "".join(esc(t) if k == "text" else f"<{k}>{esc(t)}</{k}>" for k, t in segments(notation))


def _table(rows: list[list[str]], labels: list[str], empty: bool) -> str:
    """The matrix as tables of at most COLUMNS columns each, one under another."""
    cols = len(rows[0]) if rows else 1
    return "".join(
        _block(rows, labels, empty, start, min(cols, start + COLUMNS))
        for start in range(0, cols, COLUMNS)
    )


def _block(rows: list[list[str]], labels: list[str], empty: bool, start: int, stop: int) -> str:
    head = "".join(["<th></th>"] * bool(labels) + [f"<th>{j + 1}</th>" for j in range(start, stop)])
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            '<td class="blank"></td>' if empty else f"<td>{esc(v)}</td>" for v in row[start:stop]
        )
        label = f"<th>{esc(labels[i])}</th>" if labels else ""
        new_slice = ' class="slice"' if labels and i and labels[i].endswith(", 1") else ""
        body.append(f"<tr{new_slice}>{label}{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _given(m: Matrix, key: bool) -> str:
    """A given matrix; the key names its step id for graders, a worksheet only its symbol."""
    name = f' <span class="id">[{esc(m.name)}]</span>' if key else ""
    return f'<div class="given">{rich(m.symbol)}{name}{_table(m.rows, m.row_labels, False)}</div>'


def _box(b: Box) -> str:
    points = f' <span style="float:right">{esc(b.points)} pt</span>' if b.points else ""
    formula = f"<br><small>{rich(b.formula)}</small>" if b.formula else ""
    rows = b.values if b.values is not None else [[""] * b.cols for _ in range(b.rows)]
    return (
        f'<div class="box"><b>{rich(b.symbol)}</b> <span class="id">{esc(b.shape)}'
        f"{'' if b.values is None else ' · ' + esc(b.step_id)}</span>{points}{formula}"
        f"{_table(rows, b.row_labels, b.values is None)}</div>"
    )


def _diagram(layers: list[Layer]) -> str:
    gap, height = 120, 170
    positions = neuron_positions(layers, gap, 18, x0=40, y0=height / 2)
    parts = [
        f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="#ccc"/>'
        for (x1, y1), (x2, y2) in edges(positions)
    ]
    for i, (layer, column) in enumerate(zip(layers, positions, strict=True)):
        parts += [
            f'<circle cx="{x:.0f}" cy="{y:.0f}" r="7" fill="white" stroke="black"/>'
            for x, y in column
        ]
        for dy, text in ((10, f"d_{i} = {layer.width}"), (24, layer.label)):
            parts.append(
                f'<text x="{column[0][0]:.0f}" y="{height + dy}" font-size="10" '
                f'text-anchor="middle">{esc(text)}</text>'
            )
    width = 80 + gap * (len(layers) - 1)
    return f'<svg width="{width}" height="{height + 30}">{"".join(parts)}</svg>'


def body(doc: Document) -> str:
    out = _top(doc)
    out += [_given(m, doc.header.key) for m in doc.given]
    out += ["<h2>The network</h2>", _diagram(doc.network), f"<p>{rich(doc.network_text)}</p>"]
    for section in doc.sections:
        out.append(f"<h2>{esc(section.title)}</h2>")
        out += [_box(b) for b in section.boxes]
    if doc.expansions:
        out.append("<h2>Worked entries</h2>")
        out += [f"<pre>{esc(chr(10).join(e))}</pre>" for e in doc.expansions]
    out += _chart(doc)
    out.append(f"<footer>{esc(doc.header.title)} · {esc(doc.header.stamp)}</footer></section>")
    return "\n".join(out)


def _top(doc: Document) -> list[str]:
    """Title, name line, instructions, the rounding rule, the learning rate."""
    h = doc.header
    out = [f"<section><h1>{esc(h.title)}</h1><p>{esc(' · '.join(h.about))}</p>"]
    if not h.key:
        out.append("<p>Name: ______________________________ &nbsp; ID: ______________</p>")
    if h.instructions:
        out.append(f"<p>{lines(h.instructions)}</p>")
    out.append(
        f"<p>Rounding: {esc(doc.rule)}. For example, {esc(doc.rule_example)}.<br>"
        f"Learning rate: η = {esc(doc.learning_rate)}.<br>"
        + "".join(f"{rich(s)}<br>" for s in doc.settings)
        + f"<b>Total: {esc(doc.total)} points.</b></p><h2>Given</h2>"
    )
    return out


def _chart(doc: Document) -> list[str]:
    """The key's bars: each step's largest deviation in units."""
    if not doc.chart:
        return []
    top = max(u for _, _, u in doc.chart) or 1.0
    return [
        "<h2>Rounding against float64</h2><table>",
        *(
            f'<tr><th>{rich(s)}</th><td style="text-align:left;min-width:8cm"><span class="bar'
            f'{" over" if u > 0.5 else ""}" style="width:{7 * u / top:.2f}cm"></span></td>'
            f"<td>{u:.2f}</td></tr>"
            for _, s, u in doc.chart
        ),
        "</table>",
    ]


def document(doc: Document) -> str:
    return combined([doc], doc.header.title)


def combined(docs: list[Document], title: str) -> str:
    pages = '\n<div style="break-before:page"></div>\n'.join(body(d) for d in docs)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}'
        f"</title><style>{STYLE}</style></head><body>\n{pages}\n</body></html>\n"
    )
