"""A student's feedback as Markdown: the score, each slip with the notes' formula, what carried."""

from __future__ import annotations

import re

from handcalc.grading.gradebook import Graded
from handcalc.grading.verdicts import VERDICTS, Report, StepReport
from handcalc.render.check_report import number, percent, points

_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def text(s: str) -> str:
    """Text from a file printed literally: Markdown punctuation escaped, no raw HTML.

    >>> text("<b>a_b</b> [x](y)")
    '&lt;b&gt;a\\\\_b&lt;/b&gt; \\\\[x\\\\](y)'
    """
    s = _CONTROL.sub(" ", s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PUNCTUATION.sub(r"\\\1", s)


def code(s: str) -> str:
    """Notation in a code span, shown as written (σ', ⊙, ^ and _ need no escaping there)."""
    return "`" + _CONTROL.sub(" ", s).replace("`", "'") + "`"


def feedback(g: Graded) -> str:
    """The feedback file of one answers file."""
    out = [f"# Feedback: {text(g.path.name)}", ""]
    if g.report is None:
        out += [f"This file could not be graded: {text(g.reason or '')}", ""]
        return "\n".join(out)
    r = g.report
    earned, possible = r.score
    variant = f"Variant {text(g.variant.number)}. " if g.variant else ""
    title = r.trace.problem.title or "One training step"
    out += [
        f"{variant}{text(title)}.",
        "",
        f"Score: {points(earned)} of {number(possible)} points ({number(percent(r))}%).",
        "",
    ]
    first = r.first_wrong
    if first is not None:
        out += [f"The first step that went wrong: {code(first.step.spec.symbol)}.", ""]
    return "\n".join([*out, *_slips(r), *_carried(r), *_unread(r), *_steps(r)])


def _slips(r: Report) -> list[str]:
    out: list[str] = []
    for s in r.steps:
        if not s.count("wrong"):
            continue
        out += [f"### {code(s.step.spec.symbol)} ({code(s.step.id)})", ""]
        out += [
            f"- {code(e.label)}: you wrote {code(format(e.value, 'f'))}, the key is {code(e.key)}"
            for e in s.entries
            if e.verdict == "wrong" and e.value is not None
        ]
        out.append("")
        for slip in s.slips():
            where = ""
            if slip.slip_at is not None:
                where = f" in {code(r.trace.step(slip.slip_at).spec.symbol)}, not written"
            out.append(f"Likely slip{where}: {text(slip.diagnosis)}.")
            if slip.hint:
                label, _, said = slip.hint.partition(": ")
                out.append(f"{text(label.capitalize())}: {code(said)}")
            out.append("")
    return ["## Your slips", "", *out] if out else []


def _carried(r: Report) -> list[str]:
    out = []
    credit = number(r.carried_credit * 100)
    for s in r.steps:
        carried = [e for e in s.entries if e.verdict == "carried"]
        if carried:
            source = carried[0].carried_from
            came = f", carrying {', '.join(map(code, source))}" if source else ""
            out.append(
                f"- {code(s.step.spec.symbol)}: {len(carried)} of {len(s.entries)} entries follow "
                f"from your own earlier values{came}; they earn {credit}% of their credit."
            )
    return ["## Carried forward", "", *out, ""] if out else []


def _unread(r: Report) -> list[str]:
    if not r.problems:
        return []
    return ["## Could not be read", "", *(f"- {text(p)}" for p in r.problems), ""]


def _steps(r: Report) -> list[str]:
    out = ["## Every step", "", "| step | | entries | points |", "|---|---|---|---|"]
    out += [_step_row(s, r) for s in r.steps]
    return [*out, ""]


def _step_row(s: StepReport, r: Report) -> str:
    counts = ", ".join(f"{s.count(v)} {v}" for v in VERDICTS if s.count(v))
    earned = s.earned(r.carried_credit, r.only_answered)
    symbol = code(s.step.spec.symbol)
    return f"| {code(s.step.id)} | {symbol} | {counts} | {points(earned)}/{number(s.points)} |"
