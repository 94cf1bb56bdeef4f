"""Exam variants as a Moodle XML quiz: one cloze question per variant, one numerical field per
written entry, each with the tolerance `handcalc check` would accept.

Each question states the whole network and every given number, so it can be solved on its own.
The question text is HTML in a CDATA section, escaped once: `&`, `<` and `>` as entities, and a
`{` only where Moodle would read the start of a field. Moodle weighs a field by a whole number,
so each entry of a step weighs the step's points over its entry count, times the smallest
factor that makes every weight whole.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from html import escape
from xml.sax.saxutils import escape as xml_escape

from handcalc.documents import statement
from handcalc.documents.names import is_updated
from handcalc.documents.paper import config_hash, segments
from handcalc.documents.variants import Variant
from handcalc.model.steps import Phase
from handcalc.text import clean
from handcalc.trace import Step, Trace

FIELD_START = re.compile(r"\{(?=[0-9]*:)")
PENALTY = "0.3333333"
TEST_PASS = " (test-time pass: updated parameters, no masks)"
MAX_MARK = 99999  # Moodle stores a question's mark as NUMBER(12,7)


def html(notation: str) -> str:
    """Notation as HTML with sub- and superscripts, escaped once.

    >>> html("σ'(z^(2)) & {1:NM:=1}")
    "σ'(z<sup>(2)</sup>) &amp; &#123;1:NM:=1}"
    """
    out = "".join(
        _escaped(t) if k == "text" else f"<{k}>{_escaped(t)}</{k}>"
        for k, t in segments(clean(notation))
    )
    return FIELD_START.sub("&#123;", out)


def _escaped(text: str) -> str:
    return escape(text, quote=False)


def tolerance(t: Decimal) -> str:
    """A tolerance as a clean decimal: rounded up to two significant digits, so never narrower
    than what `handcalc check` accepts (one unit plus the float64 deviation).

    >>> tolerance(Decimal("0.0001000000000000555111512312578")), tolerance(Decimal("0.0015"))
    ('0.00011', '0.0015')
    """
    if not t:
        return "0"
    two = t.quantize(Decimal(1).scaleb(t.adjusted() - 1), rounding=ROUND_CEILING)
    return f"{two.normalize():f}"


def feedback(text: str) -> str:
    """HTML for after the `#` of a field: Moodle decodes entities and `\\}`, `\\#` there, and a
    `~` or `}` would end the field.

    >>> feedback("W^(1) [1,2]: {~#}")
    'W<sup>(1)</sup> [1,2]: {&#126;\\\\#\\\\}'
    """
    # a "#" after "&" is html's own entity for a "{", never the end of the answer
    return re.sub("(?<!&)#", r"\\#", html(text).replace("}", "\\}")).replace("~", "&#126;")


def points(t: Trace, step: Step) -> Decimal:
    """A step's points: document.points by its id, else by its phase, else 1."""
    p = t.problem
    return p.points.get(step.id, p.points.get(step.spec.phase, Decimal(1)))


def asked(t: Trace) -> list[Step]:
    """The steps a student answers: every written step of the first iteration."""
    return [s for s in t.iterations[0] if s.spec.phase != Phase.given]


def scale(t: Trace) -> int:
    """The smallest factor that makes every entry's weight (points / entries) whole; when the
    question's mark would then pass what Moodle stores, a factor that keeps it below that (the
    weights are then rounded, at least 1)."""
    steps = [s for s in asked(t) if s.values]
    shares = [Fraction(points(t, s)) / len(s.values) for s in steps]
    exact = math.lcm(1, *(f.denominator for f in shares))
    total = sum(points(t, s) for s in steps)
    if exact * total <= MAX_MARK:
        return exact
    return max(1, int(MAX_MARK // (total + len([v for s in steps for v in s.values]))))


def weight(t: Trace, step: Step, factor: int) -> int:
    """The whole-number weight of each entry of `step`."""
    share = Fraction(points(t, step)) / len(step.values) * factor
    return share.numerator if share.denominator == 1 else max(1, round(share))


def _position(shape: tuple[int, ...], i: int) -> str:
    """The 1-based index of entry i of a block of `shape`: ' [2,3]' for row 2, column 3."""
    if not shape:
        return ""
    index = []
    for size in reversed(shape or (1,)):
        index.append(i % size + 1)
        i //= size
    return " [" + ",".join(map(str, reversed(index))) + "]"


def _table(step: Step, cells: list[str]) -> str:
    cols = step.shape[-1] if step.shape else 1
    rows = [cells[i : i + cols] for i in range(0, len(cells), cols)]
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table border="1" cellpadding="4">{body}</table>'


def _shape(step: Step) -> str:
    return " × ".join(map(str, step.shape)) if step.shape else "scalar"


def _fields(t: Trace, step: Step, factor: int) -> list[str]:
    each = weight(t, step, factor)
    tolerances = step.tolerances()
    return [
        f"{{{each}:NUMERICAL:={step.text(i)}:{tolerance(tolerances[i])}"
        f"#{feedback(f'{step.spec.symbol}{_position(step.shape, i)}: {step.text(i)}')}}}"
        for i in range(len(step.values))
    ]


def question(t: Trace, number: int, seed: int) -> str:
    """The question text of one variant: the network, the given numbers, one field per entry."""
    p = t.problem
    factor = scale(t)
    total = sum((points(t, s) for s in asked(t)), Decimal(0))
    parts = [
        f"<p>{html(p.title or 'One training step')}: variant {number} (seed {seed}, "
        f"config {config_hash(t)}).</p>",
        "<ul>" + "".join(f"<li>{html(line)}</li>" for line in statement.lines(p)) + "</ul>",
        f"<p>{html(statement.marks(total, factor))}</p>",
    ]
    for step in t.iterations[0]:
        if step.spec.phase == Phase.given:
            parts.append(
                f"<p>{html(step.spec.symbol)} ({_shape(step)}, given) =</p>"
                f"{_table(step, step.texts())}"
            )
    for step in asked(t):
        share = statement.share(points(t, step), len(step.values))
        parts.append(
            f"<p><b>{html(step.spec.symbol)}</b>"
            f"{_suffix(step)} ({_shape(step)}; "
            f"{html(share)})</p>{_table(step, _fields(t, step, factor))}"
        )
    return "\n".join(parts)


def _suffix(step: Step) -> str:
    """What a question adds after a quantity's name: that it is updated, or of the test pass."""
    if is_updated(step.spec):
        return " (updated)"
    return TEST_PASS if step.spec.phase == Phase.test else ""


def quiz(variants: list[Variant], title: str) -> str:
    """The quiz as Moodle XML: a category, then a cloze question per variant."""
    name = clean(title)
    # Moodle reads "/" as the step into a subcategory and "//" as a slash in a name.
    category = "$course$/" + name.replace("/", "//")
    items = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<quiz>",
        '  <question type="category">',
        f"    <category><text>{xml_escape(category)}</text></category>",
        "  </question>",
    ]
    for v in variants:
        items += [
            '  <question type="cloze">',
            f"    <name><text>{xml_escape(f'{name}: variant {v.number} (seed {v.seed})')}"
            "</text></name>",
            f'    <questiontext format="html"><text>{_cdata(question(v.trace, v.number, v.seed))}'
            "</text></questiontext>",
            '    <generalfeedback format="html"><text></text></generalfeedback>',
            f"    <penalty>{PENALTY}</penalty>",
            "    <hidden>0</hidden>",
            "  </question>",
        ]
    return "\n".join([*items, "</quiz>", ""])


def _cdata(text: str) -> str:
    """Text in CDATA sections; a `]]>` inside is split across two of them."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
