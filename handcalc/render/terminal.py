"""The trace as terminal tables, phase by phase, laid out to the console's width.

Tables are laid out here as styled lines rather than rich.Table objects: their columns are known,
and this keeps a run of the default config fast and its text identical at a given width.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.text import Text

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
from handcalc.text import clean, is_clean
from handcalc.trace import Trace

MARK = " !"
GAP = "  "
DEVIATION = "hand − float64"


@dataclass(frozen=True, slots=True)
class Fit:
    """How the tables of a run are laid out: the gap between columns, the columns left out."""

    gap: str = GAP
    drop: tuple[str, ...] = ()


# tried in order until every table fits the width: the float32 and tolerance columns can make
# a table wider than a terminal; closer columns first, then the deviation, which `units` repeats
FITS = (Fit(), Fit(gap=" "), Fit(gap=" ", drop=(DEVIATION,)))


def lines(
    trace: Trace, width: int, max_rows: int = DEFAULT_ROWS, tolerances: bool = False
) -> list[Text]:
    """Everything `handcalc run` prints, line by line."""
    p = trace.problem
    parts = [sections(trace, k + 1, max_rows, tolerances) for k in range(len(trace.iterations))]
    fit = _fit([t for part in parts for s in part for t in s.tables if isinstance(t, Table)], width)
    out = [Text(clean(p.title or "handcalc: one training step"), style="bold")]
    out += [Text(pad(label, 10) + text, style="dim") for label, text in summary_lines(trace)]
    out.append(
        Text(
            f"Deviations marked{MARK} are over half a unit of the last kept digit: "
            "rounding changed a written digit.",
            style="dim",
        )
    )
    if DEVIATION in fit.drop:
        out.append(
            Text(
                f"The column {DEVIATION} is left out to fit {width} columns: units gives the "
                "same deviation in units of the last kept digit.",
                style="dim",
            )
        )
    many = show_iterations(trace)
    for k, part in enumerate(parts):
        if many:
            out += [
                Text(""),
                Text(iteration_title(trace, k), style="bold reverse"),
            ]
        for section in part:
            out += [Text(""), Text(section.title.upper(), style="bold underline")]
            for t in section.tables:
                out.append(Text(""))
                out += _grid(t, width) if isinstance(t, Grid) else _table(t, fit)
    out.append(Text(""))
    out += [Text(line, style="bold") for line in closing_lines(trace)]
    return safe(out)


def safe(lines: list[Text]) -> list[Text]:
    """The lines with no unsafe character: a line that holds one is shown cleaned, in its style."""
    return [
        line if is_clean(line.plain) else Text(clean(line.plain, newlines=True), style=line.style)
        for line in lines
    ]


def screen_width(text: str) -> int:
    """The terminal columns `text` takes: a combining mark (the tilde of h̃, the hat of m̂) none,
    a wide East Asian character two. ASCII, most of a table, is counted at C speed.

    >>> [screen_width(text) for text in ("h̃^(1)_1", "m̂_W^(1)", "日本", "-0.1519")]
    [7, 7, 4, 7]
    """
    return len(text) if text.isascii() else cell_len(text)


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` terminal columns, on the left when `right`.

    >>> pad("h̃_1", 5) + "|", pad("z_1", 5) + "|", pad("日本", 6, right=True) + "|"
    ('h̃_1  |', 'z_1  |', '  日本|')
    """
    if text.isascii():
        return text.rjust(width) if right else text.ljust(width)
    spaces = " " * max(0, width - cell_len(text))
    return spaces + text if right else text + spaces


def _widest(texts: list[str]) -> int:
    """The screen width of the widest text: a column of ASCII, the usual case, at C speed."""
    if "".join(texts).isascii():
        return max(map(len, texts), default=0)
    return max(map(screen_width, texts), default=0)


def _fit(tables: list[Table], width: int) -> Fit:
    """The first layout in which every table fits the width (the last one if none does)."""
    for fit in FITS:
        if all(_width(t, fit) <= width for t in tables):
            return fit
    return FITS[-1]


def _title(heading: str, step_id: str) -> Text:
    text = Text(heading, style="bold cyan")
    text.append(f"   [{step_id}]", style="dim")
    return text


def _cells(t: Table, fit: Fit) -> tuple[tuple[str, ...], list[tuple[str, ...]], list[int]]:
    """The columns and rows shown (the units marked), and each column's width."""
    mark_at = t.columns.index("units")
    keep = [i for i, c in enumerate(t.columns) if c not in fit.drop]
    rows = [
        tuple(
            c + (MARK if marked else " " * screen_width(MARK)) if i == mark_at else c
            for i, c in enumerate(row)
            if i in keep
        )
        for row, marked in zip(t.rows, t.marked, strict=True)
    ]
    columns = tuple(t.columns[i] for i in keep)
    widths = [max(screen_width(c), _widest([r[i] for r in rows])) for i, c in enumerate(columns)]
    return columns, rows, widths


def _width(t: Table, fit: Fit) -> int:
    widths = _cells(t, fit)[2]
    return sum(widths) + screen_width(fit.gap) * (len(widths) - 1)


def _table(t: Table, fit: Fit) -> list[Text]:
    columns, rows, widths = _cells(t, fit)
    left = {i for i, c in enumerate(columns) if c == "entry"}

    def fmt(cells: tuple[str, ...]) -> str:
        return fit.gap.join(
            pad(c, w, right=i not in left)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [_title(t.heading, t.step_id), Text(fmt(columns), style="dim")]
    out.append(Text(fit.gap.join("─" * w for w in widths), style="dim"))
    out += [
        Text(fmt(row), style="yellow" if marked else "")
        for row, marked in zip(rows, t.marked, strict=True)
    ]
    if t.hidden:
        out.append(Text(t.hidden, style="dim italic"))
    return out


def _grid(g: Grid, width: int) -> list[Text]:
    cell = _widest([c for row in g.cells for c in row]) if any(g.cells) else 1
    label = _widest(g.row_labels)
    per_line = max(1, (width - label) // (cell + screen_width(GAP)))
    out = [_title(g.heading, g.step_id), Text(g.note, style="dim")]
    cols = len(g.col_labels)
    for start in range(0, cols, per_line):
        stop = min(cols, start + per_line)
        if cols > per_line:
            out.append(Text(f"columns {start + 1}-{stop} of {cols}", style="dim"))
        if len(g.cells) > 1 or cols > 1:
            head = " " * label + "".join(GAP + pad(c, cell, True) for c in g.col_labels[start:stop])
            out.append(Text(head, style="dim"))
        for name, row in zip(g.row_labels, g.cells, strict=True):
            # the line's style is the whole line's: built at once, never appended to
            cells = "".join(GAP + pad(c, cell, right=True) for c in row[start:stop])
            out.append(Text(pad(name, label, right=True) + cells, style="dim"))
    if g.hidden:
        out.append(Text(g.hidden, style="dim italic"))
    return out


def render(
    trace: Trace, console: Console, max_rows: int = DEFAULT_ROWS, tolerances: bool = False
) -> None:
    shown = _folded(lines(trace, console.width, max_rows, tolerances), console)
    if console.color_system is None:  # no style shows: the text goes out as it is
        console.print(_Plain(shown), crop=False)
        return
    # folded already: printing need not measure and divide every line again
    console.print(Text("\n").join(shown), overflow="ignore", crop=False)


class _Plain:
    """Lines laid out and folded, printed as plain text (a console without color)."""

    def __init__(self, lines: list[Text]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        yield Segment("\n".join(line.plain for line in self.lines) + "\n")


def _folded(lines: list[Text], console: Console) -> list[Text]:
    """The lines as rich folds them to the console's width (overflow="fold"), worked out only
    for the few that do not fit."""
    width = console.width
    out: list[Text] = []
    for line in lines:
        plain = line.plain
        if screen_width(plain) <= width and "\n" not in plain and "\t" not in plain:
            out.append(line)
        else:
            out += line.wrap(console, width, overflow="fold")
    return out


def to_text(
    trace: Trace, width: int = 80, max_rows: int = DEFAULT_ROWS, tolerances: bool = False
) -> str:
    """Plain text as a terminal of `width` columns shows it (files, samples and tests)."""
    console = Console(
        width=width,
        color_system=None,
        force_terminal=False,
        file=io.StringIO(),
        legacy_windows=False,
        highlight=False,
    )
    with console.capture() as capture:
        render(trace, console, max_rows, tolerances)
    return capture.get()
