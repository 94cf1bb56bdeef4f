"""The trace as Markdown: the same tables as the terminal, as pipe tables."""

from __future__ import annotations

from handcalc.render.tables import (
    DEFAULT_ROWS,
    Grid,
    Table,
    closing_lines,
    iteration_title,
    sections,
    show_iterations,
    summary_lines,
)
from handcalc.text import clean
from handcalc.trace import Trace

# Every character that can start inline markup (emphasis, code, links and images, raw HTML and
# entities, math, strikethrough, a table cell, a closing heading mark) is written as text.
INLINE = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        "*": "\\*",
        "_": "\\_",
        "`": "\\`",
        "[": "\\[",
        "]": "\\]",
        "$": "\\$",
        "#": "\\#",
        "~": "\\~",
    }
)


def _escape(text: str) -> str:
    """User text printed literally on one line: no markup, no table breaks, no raw HTML.

    >>> print(_escape("![x](http://a) `b` $c$ #1 <i>"))
    !\\[x\\](http://a) \\`b\\` \\$c\\$ \\#1 &lt;i&gt;
    """
    return clean(text).translate(INLINE)


def _table(t: Table) -> list[str]:
    out = [f"**`{t.step_id}`**: `{t.heading}`", ""]
    out.append("| " + " | ".join(t.columns) + " |")
    out.append("|" + "|".join(":--" if c == "entry" else "--:" for c in t.columns) + "|")
    for row, marked in zip(t.rows, t.marked, strict=True):
        cells = [f"`{c}`" if t.columns[i] == "entry" else c for i, c in enumerate(row)]
        if marked:
            at = t.columns.index("units")
            cells[at] = f"**{cells[at]} !**"
        out.append("| " + " | ".join(cells) + " |")
    if t.hidden:
        out += ["", f"_{_escape(t.hidden)}_"]
    return [*out, ""]


def _grid(g: Grid) -> list[str]:
    out = [f"**`{g.step_id}`**: `{g.heading}` ({_escape(g.note)})", ""]
    out.append("|   | " + " | ".join(g.col_labels) + " |")
    out.append("|--:|" + "--:|" * len(g.col_labels))
    out += [
        f"| {name} | " + " | ".join(row) + " |"
        for name, row in zip(g.row_labels, g.cells, strict=True)
    ]
    if g.hidden:
        out += ["", f"_{_escape(g.hidden)}_"]
    return [*out, ""]


def render(trace: Trace, max_rows: int = DEFAULT_ROWS, tolerances: bool = False) -> str:
    p = trace.problem
    out = [f"# {_escape(p.title or 'handcalc: one training step')}", ""]
    out += [f"- **{label}**: {_escape(text)}" for label, text in summary_lines(trace)]
    out += ["", "Deviations marked **!** are over half a unit of the last kept digit.", ""]
    many = show_iterations(trace)
    for k in range(len(trace.iterations)):
        if many:
            out += [f"## {_escape(iteration_title(trace, k))}", ""]
        for section in sections(trace, k + 1, max_rows, tolerances):
            out += [f"{'###' if many else '##'} {section.title}", ""]
            for t in section.tables:
                out += _grid(t) if isinstance(t, Grid) else _table(t)
    out += ["## Result", ""] + [f"- {_escape(line)}" for line in closing_lines(trace)]
    return "\n".join(out) + "\n"
