"""A document as Typst source; every piece of text goes in as a string literal, never as markup."""

from __future__ import annotations

import json
import math

from handcalc.documents.paper import (
    SHOWN,
    Box,
    Document,
    Layer,
    Matrix,
    edges,
    neuron_positions,
    slices,
)
from handcalc.documents.worked import Worked
from handcalc.notation import Matrix as Brackets
from handcalc.notation import Num, Transpose, minus, to_typst
from handcalc.render.typst_text import (
    LONG,
    breakable,
    formula,
    lit,
    minuses,
    rich,
    string,
    symbol,
    wrapping,
)
from handcalc.text import clean

COLUMNS = 8  # matrix columns per row of boxes on an A4 page
CELL, LINE = 2.1, 16.8  # cm: an answer cell (up to 11 characters at 10pt); the columns' room
RED, GREY = 'rgb("#c0392b")', 'rgb("#969696")'  # one shape of source for either bar
HEAD = "12.58pt"  # the height of the row of column numbers
ROW = {False: "16.58pt", True: "24pt"}  # a row of numbers; of empty cells to write in
ROOM = {"none": "", "small": "2.2cm", "large": "5cm"}  # working area under a worksheet box
CHART_ROWS = 40  # bars of the rounding chart that fit on a page under its heading


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
    #{footer} #h(1fr) #stamp.get() #h(1fr) page #counter(page).display()
  ])
#set text(size: 10pt, lang: "en")
#set par(justify: false)
#show heading: set block(above: 1.1em, below: 0.6em)
#let inline(body) = {{ show math.frac: it => $#it.num \\/ #it.denom$; body }}
#let answers(columns, rows, ..cells) = grid(columns: columns, rows: rows, align: right + horizon,
  inset: if rows.last() == auto {{ (x: 3pt, y: 5pt) }} else {{ (x: 3pt) }},
  stroke: 0.5pt + luma(120), ..cells)
"""


def preamble(title: str) -> str:
    return PREAMBLE.format(title=string(clean(title)), footer=string(breakable(clean(title))))


def body(doc: Document, alone: bool = False) -> str:
    """One worksheet or key, starting on a fresh page with its own stamp in the footer (page 1
    without saying so when `alone` in its file). The page head and the stamp are states: before
    Typst knows the page numbers, its first layout pass reads them empty, which costs less than
    writing them in place."""
    h = doc.header
    out = [
        f"#stamp.update({json.dumps(h.stamp, ensure_ascii=False)})",
        f"#head.update([{_page_head(doc)}])",
        *([] if alone else ["#counter(page).update(1)"]),
    ]
    out += _header(doc)
    out += ["== Given", *_given(doc)]
    out += ["== The network", _diagram(doc.network), "", rich(doc.network_text), ""]
    for section in doc.sections:
        out.append(f"== {lit(section.title)}")
        out += [_box(b, doc.space) for b in section.boxes]
    if doc.expansions:
        out.append("== Worked entries")
        out += [_worked(w) for w in doc.worked]
    if doc.chart:
        out += _chart(doc.chart)
    return "\n".join(out) + "\n"


def document(doc: Document) -> str:
    return preamble(doc.header.title) + body(doc, alone=True)


def combined(docs: list[Document], title: str) -> str:
    """Several documents for printing in one go, each starting on a new page."""
    return preamble(title) + "#pagebreak()\n".join(body(d) for d in docs)


def _page_head(doc: Document, first: bool = False) -> str:
    """What heads every page: Name and ID lines on a worksheet, the variant, the total; on a
    key's first page its line under the title takes the place of the words 'Answer key'."""
    h = doc.header
    variant = f"variant {h.variant} · " if h.variant is not None else ""
    right = f"{lit(variant + 'total ' + doc.total + ' points')}"
    if h.key:
        return f"{lit(' · '.join(h.about) if first else 'Answer key')} #h(1fr) {right}"
    line = "box(width: 1fr, line(length: 100%, stroke: 0.5pt))"
    return (
        f"#grid(columns: (1.3fr, 1fr, auto), gutter: 1.2em, [Name: #{line}], "
        f"[ID: #{line}], [{right}])"
    )


def _header(doc: Document) -> list[str]:
    h = doc.header
    lines = [f'#text(size: 16pt, weight: "bold")[{lit(breakable(h.title))}]', ""]
    if h.key:  # one line: 'Answer key · course · date', then the total at its right
        lines += [f"#text(size: 11pt)[{_page_head(doc, first=True)}]", ""]
    else:
        lines += [f"#text(size: 11pt)[{lit(' · '.join(h.about))}]", "", _page_head(doc), ""]
    if h.instructions:
        lines += [lit(h.instructions), ""]
    lines += [
        f"Rounding: {lit(doc.rule)}. For example, {lit(minuses(doc.rule_example))}. \\",
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
    width: str = f"{CELL:g}cm",
) -> str:
    """Columns start..stop of a step's numbers as a grid of boxed cells, numbers at the right,
    columns (and rows, when labelled) numbered. Rows of a set height are laid out without being
    measured first, which halves the cost of the grids, the most part of a paper's typesetting;
    a number that wraps makes every row as tall as it needs."""
    lead = ['""'] if labels else []
    # one number (or one per example) needs no column index above it
    headless = stop == 1 and start == 0 and all(len(r) == 1 for r in rows)
    cells = [] if headless else [*lead, *(string(str(j + 1)) for j in range(start, stop))]
    for i, row in enumerate(rows):
        cells += [string(labels[i])] if labels else []
        cells += ['""' if empty else wrapping(minus(v)) for v in row[start:stop]]
    # rows of set heights, or all as tall as they need when a long number wraps: the same
    # shape of source either way (see notation.to_typst)
    wraps = any(len(v) > LONG for r in rows for v in r[start:stop])
    height, top = ("auto", "auto") if wraps else (ROW[empty], HEAD)
    heights = f"({height},)" if headless else f"({top}, {height})"
    columns = ", ".join(["auto"] * len(lead) + [width] * (stop - start))
    return f"#answers(({columns},), {heights}, {', '.join(cells)})"


def _grid(
    rows: list[list[str]], labels: list[str], empty: bool = False, chars: int = 0
) -> list[str]:
    parts = slices(rows, labels)
    if parts:  # a 3-tensor: one small matrix per slice, under its name, side by side
        boxes = (
            f"#box(inset: (right: 1.4em, bottom: 0.8em))[{lit(name)} \\ "
            f"{' '.join(_grid(part, inner, empty, chars))}]"
            for name, part, inner in parts
        )
        return [" ".join(boxes)]
    count = len(rows[0]) if rows else 1
    width = _width(chars)
    per_row = min(COLUMNS, int(LINE // width))
    return [
        _numbers(rows, labels, start, min(count, start + per_row), empty, f"{width:g}cm")
        for start in range(0, count, per_row)
    ]


def _width(chars: int) -> float:
    """An answer cell as wide as the longest number of its step (0.18cm a character at 10pt
    and the padding), at least CELL; a number of more than LONG characters wraps instead."""
    return CELL if chars > LONG else max(CELL, round(0.18 * chars + 0.3, 1))


def _given(doc: Document) -> list[str]:
    """The given numbers side by side, each in brackets under its name, a box that keeps
    together; the key names its step id, small, for graders."""
    out = []
    for m in doc.given:
        key = f" #h(0.4em) {_margin(m.name)}" if doc.header.key else ""
        out.append(
            # room under the name keeps its subscripts (v_W,prev) clear of the bracket below
            f"#box(inset: (right: 1.6em, bottom: 1.3em))[#box(inset: (bottom: 0.3em))"
            f"[{symbol(m.symbol)}{key}] \\ "
            f"{' '.join(_bracketed(m))}]"
        )
    return [" ".join(out), ""]


def _margin(step_id: str) -> str:
    return f"#text(fill: luma(120), size: 7pt)[{lit(step_id)}]"


def _bracketed(m: Matrix) -> list[str]:
    """The numbers as a matrix in brackets, COLUMNS columns at a time; a vector as a row,
    transposed; rows of examples labelled n = 1..N."""
    count = len(m.rows[0]) if m.rows else 1
    column = len(m.rows) == 1 and not m.row_labels
    labels = [r for r in m.row_labels if r.startswith("n=")]
    out = []
    for start in range(0, count, COLUMNS):
        cells = tuple(tuple(Num(v) for v in r[start : start + COLUMNS]) for r in m.rows)
        math = to_typst(Transpose(Brackets(cells)) if column else Brackets(cells))
        if labels:
            names = "; ".join(string(label.replace("=", " = ")) for label in labels)
            math = f"mat(delim: #none, {names}) {math}"
        stop = min(count, start + COLUMNS)
        part = "" if count <= COLUMNS else f"{lit(f'columns {start + 1}–{stop}')} "
        out.append(f"#box[{part}${math}$]")
    return out


def _box(b: Box, space: str) -> str:
    """A step's answer box: its name, shape and points (the key: its id small, for graders)."""
    key = f" #h(0.6em) {_margin(b.step_id)}" if b.values is not None else ""
    head = f"*{symbol(b.symbol)}* #h(0.5em) #text(fill: luma(100), size: 8pt)[{lit(b.shape)}]{key}"
    if b.points:
        head += f" #h(1fr) {lit(b.points + ' pt')}"
    parts = [head]
    if b.formula:
        parts.append(f"\n#block(above: 0.8em, below: 0.8em)[{rich(b.formula, display=True)}]")
    rows = b.values if b.values is not None else [[""] * b.cols for _ in range(b.rows)]
    parts += ["\n" + g for g in _grid(rows, b.row_labels, b.values is None, b.chars)]
    if b.values is None and ROOM[space]:
        parts.append(
            f"\n#block(width: 100%, height: {ROOM[space]}, inset: 3pt, "
            'stroke: (paint: luma(150), thickness: 0.5pt, dash: "dotted"))'
            f"[#text(size: 7pt, fill: luma(140))[{lit('working')}]]"
        )
    return f"#block(breakable: false, above: 0.9em)[{''.join(parts)}]"


def _worked(w: Worked) -> str:
    """An entry worked as equations, one row per term with its partial sum; its id small at the
    right for graders. Fractions are set full size, as in the steps' formulas."""
    cells = []
    for name, work, note in w.rows:
        cells += [
            f"text(size: 8pt, fill: luma(90))[{lit(name)}]",
            f"[{formula(work)}]",
            f"text(size: 8pt, fill: luma(90))[{rich(note)}]",
        ]
    return (
        f"#block(breakable: false, above: 1em)[{formula(w.equation)} #h(1fr) "
        f"#text(size: 7pt, fill: luma(120))[{lit(w.step_id)}] \\\n"
        f"#grid(columns: (auto, auto, 1fr), column-gutter: 1em, row-gutter: 0.9em, "
        f"align: (left, left, left), {', '.join(cells)})]"
    )


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
    # room under the neurons for the labels: the d line, then the label at about 22 characters
    # a line of a 3cm box at 8pt ('sigmoid output, half the sum of squared errors loss': 3)
    lines = 1 + max(math.ceil(len(layer.label) / 22) for layer in layers)
    return (
        f"#align(center, box(width: {width:.2f}cm, "
        f"height: {height + 1.0 + 0.35 * max(0, lines - 3):.2f}cm, "
        f"{{ {'; '.join(items)} }}))"
    )


def _chart(bars: list[tuple[str, str, float]]) -> list[str]:
    """Each step's largest deviation as a bar, red where rounding changed a written digit; on
    one page with its heading when it fits one (CHART_ROWS), so no bar is left alone."""
    top = max((u for _, _, u in bars), default=0.0) or 1.0
    rows = []
    for _step_id, name, units in bars:
        length = 7.0 * units / top
        fill = RED if units > 0.5 else GREY
        rows.append(
            f"[{symbol(name)}], [#box(width: {length:.3f}cm, height: 0.3cm, "
            f"fill: {fill})], [{lit(f'{units:.2f}')}]"
        )
    return [
        f"#block(breakable: {str(len(bars) > CHART_ROWS).lower()}, above: 1.1em)[",
        "== Rounding against float64",
        "Largest |hand − float64| per step, in units of the last kept digit (red: over half a "
        "unit, so rounding changed a written digit).",
        # rows as tall as the bars with their padding, laid out without being measured first
        "#grid(columns: (auto, 7.2cm, auto), rows: 15.5pt, inset: (x: 2pt), align: horizon, "
        f"{', '.join(rows)})]",
    ]
