"""A page's entries graded by the check engine, and the answer as the page shows it.

The page sends every entry the student has typed (text, as typed); each is read as `handcalc check`
reads an answers file, and the whole set is graded, so that a step is judged from the student's
own earlier values. What goes back holds verdicts, the step's line, what was carried and the slip
named; the key (and what the step gives from the student's inputs, which may equal it) only as
`reveal` allows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from handcalc.grading.answers import Answers, Given, parse_number
from handcalc.grading.check import Options, grade
from handcalc.grading.verdicts import VERDICTS, Entry, Report, Slip, StepReport
from handcalc.render.check_report import number, points
from handcalc.render.html import esc
from handcalc.serve.mathml import to_mathml
from handcalc.serve.sheet import Sheet
from handcalc.text import clean

Reveal = Literal["never", "wrong", "always"]
REVEALS: tuple[Reveal, ...] = ("never", "wrong", "always")
BLANK = ("", "~")
SHOWN_LABELS = 4


def read(sheet: Sheet, typed: dict[str, list[str]]) -> Answers:
    """The typed entries as an answers file of the same text would be read."""
    out = Answers()
    for step_id, texts in typed.items():
        step = sheet.steps[step_id]
        values: list[Decimal | None] = []
        bad: set[int] = set()
        for i, text in enumerate(texts):
            values.append(_number(text, f"{step.id}[{i + 1}]", out))
            if values[-1] is None and text.strip() not in BLANK:
                bad.add(i)
        out.given[step_id] = Given(
            step_id=step_id,
            shape=step.shape,
            values=values,
            where="page",
            unreadable=frozenset(bad),
        )
    return out


def _number(text: str, where: str, out: Answers) -> Decimal | None:
    if text.strip() in BLANK:
        return None
    try:
        value, note = parse_number(text)
    except ValueError as e:
        out.problems.append(clean(f"{where}: {text.strip()!r} is {e}"))
        return None
    if note:
        out.notes.append(clean(f"{where}: read {text.strip()!r} as {value} ({note})"))
    return value


def respond(sheet: Sheet, typed: dict[str, list[str]], reveal: Reveal) -> dict[str, Any]:
    """Grade the typed entries; verdicts and diagnoses per step written, and the score."""
    answers = read(sheet, typed)
    report = grade(sheet.trace, answers, Options(only_answered=True), sheet.shared)
    steps = {s.step.id: _step(s, report, reveal) for s in report.steps}
    return {
        "steps": steps,
        "score": _score(report),
        "first_wrong": report.first_wrong.step.id if report.first_wrong else None,
        "problems": report.problems,
        "notes": report.notes,
    }


def _step(s: StepReport, report: Report, reveal: Reveal) -> dict[str, Any]:
    counts = ", ".join(f"{s.count(v)} {v}" for v in VERDICTS if s.count(v))
    earned = s.earned(report.carried_credit, only_answered=False)
    return {
        "verdicts": [e.verdict for e in s.entries],
        "keys": [_key(e, reveal) for e in s.entries],
        "line": f"{counts} · {points(earned)}/{number(s.points)} points",
        "carried": _carried(s),
        "slips": [_slip(slip, s, report) for slip in s.slips()],
    }


def _key(e: Entry, reveal: Reveal) -> str | None:
    """The key of an entry as far as `reveal` lets it reach the page."""
    if reveal == "always" or (reveal == "wrong" and e.verdict == "wrong"):
        return e.key
    return None


def _labels(labels: tuple[str, ...]) -> str:
    """Entry labels as math, the first few and how many more."""
    shown = ", ".join(to_mathml(label) for label in labels[:SHOWN_LABELS])
    more = len(labels) - SHOWN_LABELS
    return shown + (f" and {more} more" if more > 0 else "")


def _carried(s: StepReport) -> str | None:
    """HTML: the earlier entries the step's carried entries carry, said once."""
    sources = tuple(dict.fromkeys(label for e in s.entries for label in e.carried_from))
    return f"carried from your {_labels(sources)}" if sources else None


def _slip(slip: Slip, s: StepReport, report: Report) -> dict[str, str | None]:
    """HTML: the slip named once for the entries it explains, with the notes' formula."""
    which = "" if len(slip.labels) == s.count("wrong") else f" ({_labels(slip.labels)})"
    where = ""
    if slip.slip_at is not None:
        symbol = report.trace.step(slip.slip_at).spec.symbol
        where = f" in {to_mathml(symbol)}, which you did not write"
    hint = slip.hint
    if hint is not None:
        prefix, _, formula = hint.partition(": ")
        hint = f"{esc(prefix)}: {to_mathml(formula)}" if formula else esc(hint)
    return {"slip": f"likely slip{where}{which}: {esc(slip.diagnosis)}", "formula": hint}


def _score(report: Report) -> str:
    earned, possible = report.score
    totals = report.totals()
    return (
        f"{points(earned)} of {number(possible)} points on the steps written; "
        f"{totals['correct']} correct, {totals['carried']} carried, {totals['wrong']} wrong"
    )
