"""A check report as terminal lines or JSON (no grading here)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.text import Text

from handcalc.grading.verdicts import ANSWERED, VERDICTS, Entry, Report, Slip, StepReport
from handcalc.model.steps import Phase
from handcalc.render.terminal import pad, safe
from handcalc.text import clean, message

SCHEMA = "handcalc.check/2"
STYLE = {"correct": "green", "carried": "cyan", "wrong": "bold red"}
CLOSER_TO_FLOAT = (
    "closer to the unrounded float64 value than the key: more digits kept than the rule"
)
SHOWN_LABELS = 4  # entries named in a line that lists some


def number(x: Decimal) -> str:
    """A score as printed: no trailing zeros, no exponent."""
    return format(x.normalize(), "f") if x else "0"


def points(x: Decimal) -> str:
    return number(x.quantize(Decimal("0.01")))


def percent(report: Report) -> Decimal:
    earned, possible = report.score
    return (earned * 100 / possible).quantize(Decimal("0.1")) if possible else Decimal(0)


def _entry_line(e: Entry) -> Text:
    where = f"{e.label}" + (f" (example {e.example})" if e.example else "")
    line = Text(f"    {where}: {format(e.value, 'f')}  ")
    line.append(e.verdict, style=STYLE[e.verdict])
    line.append(f"  key {e.key}")
    if e.recomputed is not None:
        line.append(f", from your own inputs {e.recomputed}")
    return line


def _carried_line(s: StepReport) -> list[Text]:
    """The earlier entries the step's carried entries carry, once for the step."""
    sources = dict.fromkeys(label for e in s.entries for label in e.carried_from)
    if not sources:
        return []
    return [Text(f"    carried from your {_labels(tuple(sources))}", style="cyan")]


def _labels(labels: tuple[str, ...]) -> str:
    shown = ", ".join(labels[:SHOWN_LABELS])
    more = len(labels) - SHOWN_LABELS
    return shown + (f" and {more} more" if more > 0 else "")


def _slip_lines(s: StepReport, slip: Slip, report: Report) -> list[Text]:
    """One diagnosis, said once for the entries that share it."""
    wrong = s.count("wrong")
    which = "" if len(slip.labels) == wrong else f" ({_labels(slip.labels)})"
    where = ""
    if slip.slip_at is not None:
        where = f" in {report.trace.step(slip.slip_at).spec.symbol}, which you did not write"
    line = Text(f"    likely slip{where}{which}: {slip.diagnosis}", style="yellow")
    return [line, *([Text(f"      {slip.hint}", style="dim")] if slip.hint else [])]


def _step_line(s: StepReport, report: Report) -> Text:
    counts = ", ".join(f"{s.count(v)} {v}" for v in VERDICTS if s.count(v))
    if not s.answered and not s.count("unreadable"):
        counts = "nothing given"
    line = Text(pad(s.step.id, 10), style="bold")
    symbol = s.step.spec.symbol + (" new" if s.step.spec.phase == Phase.update else "")
    line.append(f"{pad(symbol, 14)} {counts}")  # by screen width: h̃ and m̂ take one column
    earned = s.earned(report.carried_credit, report.only_answered)
    line.append(f"   {points(earned)}/{number(s.points)} points", style="dim")
    if s.transposed:
        line.append("   (written transposed)", style="yellow")
    return line


def lines(report: Report) -> list[Text]:
    p = report.trace.problem
    out = [Text(f"Check against: {clean(p.title or 'handcalc')}", style="bold")]
    out.append(Text(f"rounding  {p.rounding.describe()}", style="dim"))
    out.append(Text(""))
    for s in report.steps:
        out.append(_step_line(s, report))
        out += [_entry_line(e) for e in s.entries if e.verdict in ("carried", "wrong")]
        out += _carried_line(s)
        for slip in s.slips():
            out += _slip_lines(s, slip, report)
    for problem in report.problems:  # messages about the student's file: shortened like errors
        out.append(Text(f"unreadable: {message(problem)}", style="bold red"))
    for note in notes(report):
        out.append(Text(f"note: {message(note)}", style="dim"))
    return safe([*out, Text(""), *_closing(report)])


def notes(report: Report) -> list[str]:
    """The answers file's notes, and the one about digits kept, said once."""
    kept = report.more_digits()
    if not kept:
        return list(report.notes)
    count = f"{len(kept)} {'entry' if len(kept) == 1 else 'entries'}"
    labels = _labels(tuple(e.label for e in kept))
    return [*report.notes, f"{count} {CLOSER_TO_FLOAT} ({labels})"]


def _closing(report: Report) -> list[Text]:
    """The first step that went wrong, and the score."""
    first = report.first_wrong
    earned, total = report.score
    totals = report.totals()
    score = (
        f"score {points(earned)} of {number(total)} points"
        + (" (the steps answered)" if report.only_answered else "")
        + "; "
        + ", ".join(f"{totals[v]} {v}" for v in ANSWERED)
        + (
            f"; a carried entry earns {number(report.carried_credit * 100)}% of its credit"
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
    """The report for programs: schema handcalc.check/2 (docs/checking.md)."""
    earned, total = report.score
    first = report.first_wrong
    return {
        "schema": SCHEMA,
        "score": {
            "earned": str(earned.quantize(Decimal("0.0001"))),
            "possible": number(total),
            "percent": str(percent(report)),
            "carried_credit": str(report.carried_credit),
            "only_answered": report.only_answered,
        },
        "first_wrong": first.step.id if first else None,
        "main_slip": report.main_slip(),
        "totals": report.totals(),
        "steps": [_step_dict(s, report) for s in report.steps],
        "problems": report.problems,
        "notes": notes(report),
        "exit_code": report.exit_code,
    }


def _step_dict(s: StepReport, report: Report) -> dict[str, Any]:
    earned = s.earned(report.carried_credit, report.only_answered)
    return {
        "id": s.step.id,
        "symbol": s.step.spec.symbol,
        "phase": str(s.step.spec.phase),
        "points": number(s.points),
        "earned": str(earned.quantize(Decimal("0.0001"))),
        **{v: s.count(v) for v in VERDICTS},
        "transposed": s.transposed,
        "slips": [_slip_dict(s, x) for x in s.slips()],
        "entries": [_entry_dict(e) for e in s.entries],
    }


def _slip_dict(s: StepReport, slip: Slip) -> dict[str, Any]:
    return {
        "diagnosis": slip.diagnosis,
        "at": slip.slip_at or s.step.id,
        "hint": slip.hint,
        "entries": list(slip.labels),
    }


def _entry_dict(e: Entry) -> dict[str, Any]:
    return {
        "label": e.label,
        "example": e.example,
        "value": None if e.value is None else str(e.value),
        "key": e.key,
        "tolerance": str(e.tolerance),
        "verdict": e.verdict,
        "recomputed": e.recomputed,
        "carried_from": list(e.carried_from),
        "diagnosis": e.diagnosis,
        "slip_at": e.slip_at,
        "hint": e.hint,
        "more_digits": e.more_digits,
    }


def to_text(report: Report, width: int = 80) -> str:
    """The report as plain text (files and tests)."""
    console = Console(
        width=width, color_system=None, force_terminal=False, file=io.StringIO(), highlight=False
    )
    with console.capture() as capture:
        console.print(Text("\n").join(lines(report)), overflow="fold")
    return capture.get()
