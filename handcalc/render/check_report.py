"""A check report as terminal lines or JSON (no grading here)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.text import Text

from handcalc.grading.verdicts import Entry, Report, StepReport
from handcalc.model.steps import Phase
from handcalc.render.terminal import safe
from handcalc.text import clean, message

SCHEMA = "handcalc.check/1"
STYLE = {"correct": "green", "carried": "cyan", "wrong": "bold red"}


def _num(x: Decimal) -> str:
    return format(x.normalize(), "f") if x else "0"


def _entry_line(e: Entry) -> Text:
    where = f"{e.label}" + (f" (example {e.example})" if e.example else "")
    line = Text(f"    {where}: {format(e.value, 'f')}  ", style="")
    line.append(e.verdict, style=STYLE[e.verdict])
    line.append(f"  key {e.key}")
    if e.recomputed is not None:
        line.append(f", from your own inputs {e.recomputed}")
    if e.diagnosis:
        line.append(f"\n      likely slip: {e.diagnosis}", style="yellow")
    if e.hint:
        line.append(f"\n      {e.hint}", style="dim")
    if e.note:
        line.append(f"\n      note: {e.note}", style="dim")
    return line


def _step_line(s: StepReport, credit: Decimal) -> Text:
    counts = ", ".join(f"{s.count(v)} {v}" for v in ("correct", "carried", "wrong") if s.count(v))
    line = Text(f"{s.step.id:<10}", style="bold")
    symbol = s.step.spec.symbol + (" new" if s.step.spec.phase == Phase.update else "")
    line.append(f"{symbol:<14} {counts or 'nothing given'}")
    line.append(
        f"   {_num(s.earned(credit).quantize(Decimal('0.01')))}/{_num(s.points)} points",
        style="dim",
    )
    if s.transposed:
        line.append("   (written transposed)", style="yellow")
    return line


def lines(report: Report) -> list[Text]:
    p = report.trace.problem
    out = [Text(f"Check against: {clean(p.title or 'handcalc')}", style="bold")]
    out.append(Text(f"rounding  {p.rounding.describe()}", style="dim"))
    out.append(Text(""))
    for s in report.steps:
        out.append(_step_line(s, report.carried_credit))
        out += [_entry_line(e) for e in s.entries if e.verdict != "correct" or e.note]
    for problem in report.problems:  # messages about the student's file: shortened like errors
        out.append(Text(f"unreadable: {message(problem)}", style="bold red"))
    for note in report.notes:
        out.append(Text(f"note: {message(note)}", style="dim"))
    return safe([*out, Text(""), *_closing(report)])


def _closing(report: Report) -> list[Text]:
    """The first step that went wrong, and the score."""
    first = report.first_wrong
    earned, total = report.score
    totals = {v: sum(s.count(v) for s in report.steps) for v in ("correct", "carried", "wrong")}
    score = (
        f"score {_num(earned.quantize(Decimal('0.01')))} of {_num(total)} points; "
        + ", ".join(f"{n} {v}" for v, n in totals.items())
        + (
            f"; a carried entry earns {_num(report.carried_credit * 100)}% of its credit"
            if totals["carried"]
            else ""
        )
    )
    return [
        Text(
            f"first step that went wrong: {first.step.id} ({first.step.spec.symbol})"
            if first
            else "no step went wrong",
            style="bold",
        ),
        Text(score, style="bold"),
    ]


def to_dict(report: Report) -> dict[str, Any]:
    earned, total = report.score
    first = report.first_wrong
    return {
        "schema": SCHEMA,
        "score": {
            "earned": str(earned.quantize(Decimal("0.0001"))),
            "possible": str(total),
            "carried_credit": str(report.carried_credit),
        },
        "first_wrong": first.step.id if first else None,
        "steps": [_step_dict(s, report.carried_credit) for s in report.steps],
        "problems": report.problems,
        "notes": report.notes,
        "exit_code": report.exit_code,
    }


def _step_dict(s: StepReport, credit: Decimal) -> dict[str, Any]:
    return {
        "id": s.step.id,
        "symbol": s.step.spec.symbol,
        "points": str(s.points),
        "earned": str(s.earned(credit).quantize(Decimal("0.0001"))),
        **{v: s.count(v) for v in ("correct", "carried", "wrong")},
        "transposed": s.transposed,
        "entries": [_entry_dict(e) for e in s.entries],
    }


def _entry_dict(e: Entry) -> dict[str, Any]:
    return {
        "label": e.label,
        "example": e.example,
        "value": str(e.value),
        "key": e.key,
        "tolerance": str(e.tolerance),
        "verdict": e.verdict,
        "recomputed": e.recomputed,
        "diagnosis": e.diagnosis,
        "hint": e.hint,
        "note": e.note,
    }


def to_text(report: Report, width: int = 80) -> str:
    """The report as plain text (files and tests)."""
    console = Console(
        width=width, color_system=None, force_terminal=False, file=io.StringIO(), highlight=False
    )
    with console.capture() as capture:
        console.print(Text("\n").join(lines(report)), overflow="fold")
    return capture.get()
