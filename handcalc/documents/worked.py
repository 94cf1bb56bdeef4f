"""A worked entry of the key as equations: the lines `explain` writes, read back into rows."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handcalc.model import ids
from handcalc.model.ids import Kind

# the steps that write a new value of a quantity under its own name: W^(l) ← W^(l) − η g
ASSIGNED = frozenset({Kind.W_next, Kind.b_next, Kind.T_next})


@dataclass(frozen=True, slots=True)
class Worked:
    """One worked entry laid out as equations: the entry's formula, then rows of (what the row
    is, the numbers worked, a note), such as ('term 2', 'W^(1)_1,2 h^(0)_2 = (0.7)(-1) = -0.7',
    'partial sum -0.5')."""

    equation: str
    step_id: str
    rows: list[tuple[str, str, str]]


_TITLE = re.compile(r"(?P<eq>.*?) {3}\[(?P<id>[^,\]]+), (?P<phase>[a-z]+)\]")
_SAID = re.compile(r"(.*?) (\([a-z][a-z ,]*\))")
_LINE = re.compile(r" {2}(?P<name>term \d+|\S+) +(?P<work>.*?)(?: {3}(?P<note>.*))?")


def worked(lines: list[str]) -> Worked:
    """The lines of `explain` as a worked entry (an update's formula with ←)."""
    title = _TITLE.fullmatch(lines[0])
    assert title is not None, lines[0]
    equation = title.group("eq")
    if ids.known(title.group("id")).kind in ASSIGNED:
        equation = equation.replace(" = ", " ← ", 1)
    rows = []
    for line in lines[1:]:
        m = _LINE.fullmatch(line)
        assert m is not None, line
        work, note = m.group("work"), m.group("note") or ""
        said = _SAID.fullmatch(work)
        if said and not note:  # 'sum -1.99 (the exact sum, rounded once)': the words as a note
            work, note = said.group(1), said.group(2)
        rows.append((m.group("name"), work, note))
    return Worked(equation=equation, step_id=title.group("id"), rows=rows)
