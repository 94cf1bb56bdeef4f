"""A document as Typst source; every piece of text goes in as a string literal, never as markup."""

from __future__ import annotations

import json

from handcalc.documents.paper import (
    SHOWN,
    Box,
    Document,
    Layer,
    Segments,
    edges,
    neuron_positions,
    segments,
)
from handcalc.text import clean

COLUMNS = 8  # matrix columns per row of boxes on an A4 page
RED = 'rgb("#c0392b")'
SCRIPT = {"sup": "super", "sub": "sub"}
ROOM = {"none": "", "small": "2.2cm", "large": "5cm"}  # working area under a worksheet box


def string(text: str) -> str:
    r"""Text as a Typst string: after `clean`, the only escapes JSON writes are the quote, the
    backslash and the newline, which Typst reads the same way.

    >>> print(string('#read("/etc/passwd")\x1b'))
    "#read(\"/etc/passwd\")\\x1b"
    """
    return json.dumps(clean(text, newlines=True), ensure_ascii=False)


def lit(text: str) -> str:
    """Text as a Typst string literal in markup: printed as is, never read as code."""
    return "#" + string(text)


def rich(notation: str) -> str:
    return _segments(segments(notation))


def _segments(parts: Segments) -> str:
    out = []
    for kind, text in parts:
        out.append(lit(text) if kind == "text" else f"#{SCRIPT[kind]}[{lit(text)}]")
    return "".join(out)


PREAMBLE = """#set document(title: {title}, date: none)
#let stamp = state("stamp", "")
#let head = state("head", "")
#set page(paper: "a4", margin: (x: 1.6cm, top: 2.2cm, bottom: 2cm),
  header: context [
    #set text(size: 9pt, fill: luma(60))
    #if counter(page).get().first() > 1 {{ head.get() }}
  ],
  footer: context [
    #set text(size: 8pt, fill: luma(90))
    #{title} #h(1fr) #stamp.get() #h(1fr) page #counter(page).display()
  ])
#set text(size: 10pt, lang: "en")
#set par(justify: false)
#show heading: set block(above: 1.1em, below: 0.6em)
#let cell(body) = box(width: 100%, inset: (y: 2pt), align(right, body))
"""


def preamble(title: str) -> str:
    return PREAMBLE.format(title=string(clean(title)))


def body(doc: Document) -> str:
    """One worksheet or key, starting on a fresh page with its own stamp in the footer."""
    h = doc.header
    out = [
        f"#stamp.update({json.dumps(h.stamp, ensure_ascii=False)})",
        f"#head.update([{_page_head(doc)}])",
        "#counter(page).update(1)",
    ]
    out += _header(doc)
    out += ["== Given", *_given(doc)]
    out += ["== The network", _diagram(doc.network), "", rich(doc.network_text), ""]
    for section in doc.sections:
        out.append(f"== {lit(section.title)}")
        out += [_box(b, doc.space) for b in section.boxes]
    if doc.expansions:
        out.append("== Worked entries")
        out += [
            f"#raw(block: true, {json.dumps(chr(10).join(e), ensure_ascii=False)})"
            for e in doc.expansions
        ]
    if doc.chart:
        out += ["== Rounding against float64", *_chart(doc.chart)]
    return "\n".join(out) + "\n"


def document(doc: Document) -> str:
    return preamble(doc.header.title) + body(doc)


def combined(docs: list[Document], title: str) -> str:
    """Several documents for printing in one go, each starting on a new page."""
    return preamble(title) + "#pagebreak()\n".join(body(d) for d in docs)


def _page_head(doc: Document) -> str:
    """What heads every page: Name and ID lines on a worksheet, the variant, the total."""
    h = doc.header
    variant = f"variant {h.variant} · " if h.variant is not None else ""
    right = f"{lit(variant + 'total ' + doc.total + ' points')}"
    if h.key:
        return f"{lit('Answer key')} #h(1fr) {right}"
    line = "box(width: 1fr, line(length: 100%, stroke: 0.5pt))"
    return (
        f"#grid(columns: (1.3fr, 1fr, auto), gutter: 1.2em, [Name: #{line}], "
        f"[ID: #{line}], [{right}])"
    )


def _header(doc: Document) -> list[str]:
    h = doc.header
    lines = [f'#text(size: 16pt, weight: "bold")[{lit(h.title)}]', ""]
    lines += [f"#text(size: 11pt)[{lit(' · '.join(h.about))}]", "", _page_head(doc), ""]
    if h.instructions:
        lines += [lit(h.instructions), ""]
    lines += [
        f"Rounding: {lit(doc.rule)}. For example, {lit(doc.rule_example)}. \\",
        f"Learning rate: #sym.eta = {lit(doc.learning_rate)}. \\",
        *(f"{rich(s)} \\" for s in doc.settings),
        f"*{lit(f'Total: {doc.total} points')}* (points per step at its right).",
        "",
    ]
    return lines


def _numbers(
    rows: list[list[str]],
    labels: list[str],
    start: int,
    stop: int,
    empty: bool = False,
    width: str = "2.1cm",
) -> str:
    cols = stop - start
    lead = ["[]"] if labels else []
    header = ", ".join([*lead, *(f"[{lit(str(j + 1))}]" for j in range(start, stop))])
    cells = []
    for i, row in enumerate(rows):
        if labels and i and labels[i].endswith(", 1"):
            cells.append("table.hline(stroke: 1.2pt)")  # a new slice of a 3-tensor
        if labels:
            cells.append(f"[{lit(labels[i])}]")
        cells += ["[#v(1.8em)]" if empty else f"cell[{lit(v)}]" for v in row[start:stop]]
    columns = ", ".join(["auto"] * len(lead) + [width] * cols)
    return (
        f"#table(columns: ({columns}), align: right, stroke: 0.5pt + luma(120), inset: 3pt, "
        f"table.header({header}), {', '.join(cells)})"
    )


def _grid(
    rows: list[list[str]], labels: list[str], empty: bool = False, width: str = "2.1cm"
) -> list[str]:
    count = len(rows[0]) if rows else 1
    return [
        _numbers(rows, labels, start, min(count, start + COLUMNS), empty, width)
        for start in range(0, count, COLUMNS)
    ]


def _given(doc: Document) -> list[str]:
    """The given numbers side by side, each matrix a box that keeps together."""
    out = []
    for m in doc.given:
        tables = " ".join(_grid(m.rows, m.row_labels, width="1.45cm"))
        out.append(
            f"#box(inset: (right: 1.2em, bottom: 0.8em))[{rich(m.symbol)} #h(0.4em) "
            f"#text(fill: luma(100), size: 8pt)[{lit('[' + m.name + ']')}] \\ {tables}]"
        )
    return [" ".join(out), ""]


def _box(b: Box, space: str) -> str:
    head = (
        f"*{rich(b.symbol)}* #h(0.5em) #text(fill: luma(100), size: 8pt)[{lit(b.shape)}"
        f"{lit(' · ' + b.step_id)}]"
    )
    if b.points:
        head += f" #h(1fr) {lit(b.points + ' pt')}"
    parts = [head]
    if b.formula:
        parts.append(f" \\\n#text(size: 9pt)[{rich(b.formula)}]")
    rows = b.values if b.values is not None else [[""] * b.cols for _ in range(b.rows)]
    parts += ["\n" + g for g in _grid(rows, b.row_labels, empty=b.values is None)]
    if b.values is None and ROOM[space]:
        parts.append(
            f"\n#block(width: 100%, height: {ROOM[space]}, inset: 3pt, "
            'stroke: (paint: luma(150), thickness: 0.5pt, dash: "dotted"))'
            f"[#text(size: 7pt, fill: luma(140))[{lit('working')}]]"
        )
    return f"#block(breakable: false, above: 0.9em)[{''.join(parts)}]"


def _diagram(layers: list[Layer]) -> str:
    """Layers as columns of neurons (at most 8 drawn per layer), joined by their weights."""
    gap, radius, height = 3.2, 0.22, 4.2
    positions = neuron_positions(layers, gap, 0.5, x0=1.2, y0=height / 2)
    items = [
        f"place(line(start: ({x1:.2f}cm, {y1:.2f}cm), end: ({x2:.2f}cm, {y2:.2f}cm), "
        "stroke: 0.3pt + luma(160)))"
        for (x1, y1), (x2, y2) in edges(positions)
    ]
    for i, (layer, column) in enumerate(zip(layers, positions, strict=True)):
        items += [
            f"place(dx: {x - radius:.2f}cm, dy: {y - radius:.2f}cm, circle(radius: "
            f"{radius}cm, fill: white, stroke: 0.6pt))"
            for x, y in column
        ]
        more = f" ({SHOWN} drawn)" if layer.width > SHOWN else ""
        label = rich(f"d_{i} = {layer.width}{more}")
        items.append(
            f"place(dx: {column[0][0] - 1.5:.2f}cm, dy: {height + 0.1:.2f}cm, "
            f"box(width: 3cm, align(center, text(size: 8pt)[{label} \\ "
            f"{lit(layer.label)}])))"
        )
    width = gap * (len(layers) - 1) + 2.4
    return (
        f"#align(center, box(width: {width:.2f}cm, height: {height + 1.0:.2f}cm, "
        f"{{ {'; '.join(items)} }}))"
    )


def _chart(bars: list[tuple[str, str, float]]) -> list[str]:
    top = max((u for _, _, u in bars), default=0.0) or 1.0
    rows = []
    for _step_id, symbol, units in bars:
        length = 7.0 * units / top
        fill = RED if units > 0.5 else "luma(150)"
        rows.append(
            f"[{rich(symbol)}], [#box(width: {length:.3f}cm, height: 0.3cm, "
            f"fill: {fill})], [{lit(f'{units:.2f}')}]"
        )
    return [
        "Largest |hand − float64| per step, in units of the last kept digit (red: over half a "
        "unit, so rounding changed a written digit).",
        f"#table(columns: (auto, 7.2cm, auto), stroke: none, inset: 2pt, {', '.join(rows)})",
    ]
