"""The trace as Markdown: the same tables as the terminal, as pipe tables."""

from __future__ import annotations

from handcalc.render.view import DEFAULT_ROWS, Table, closing_lines, sections, summary_lines
from handcalc.trace import Trace


def _escape(text: str) -> str:
    """User text printed literally: no table breaks, no raw HTML."""
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
            .replace(">", "&gt;").replace("*", "\\*").replace("_", "\\_"))


def _table(t: Table) -> list[str]:
    out = [f"**`{t.step_id}`**: `{t.heading}`", ""]
    out.append("| " + " | ".join(t.columns) + " |")
    out.append("|" + "|".join(":--" if c == "entry" else "--:" for c in t.columns) + "|")
    for row, marked in zip(t.rows, t.marked, strict=True):
        cells = [f"`{c}`" if t.columns[i] == "entry" else c for i, c in enumerate(row)]
        if marked:
            cells[-1] = f"**{cells[-1]} !**"
        out.append("| " + " | ".join(cells) + " |")
    if t.hidden:
        out += ["", f"_{_escape(t.hidden)}_"]
    return [*out, ""]


def render(trace: Trace, max_rows: int = DEFAULT_ROWS) -> str:
    p = trace.problem
    out = [f"# {_escape(p.title or 'handcalc: one training step')}", ""]
    out += [f"- {_escape(line)}" for line in summary_lines(trace)]
    out += ["", "Deviations marked **!** are over half a unit of the last kept digit.", ""]
    many = len(trace.iterations) > 1
    for k in range(len(trace.iterations)):
        if many:
            out += [f"## Iteration {k + 1} of {len(trace.iterations)}", ""]
        for section in sections(trace, k + 1, max_rows):
            out += [f"{'###' if many else '##'} {section.title}", ""]
            for t in section.tables:
                out += _table(t)
    out += ["## Result", ""] + [f"- {_escape(line)}" for line in closing_lines(trace)]
    return "\n".join(out) + "\n"
