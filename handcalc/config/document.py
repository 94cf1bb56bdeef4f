"""The document and exam sections: texts, points and expansions; how exam variants differ."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from decimal import Decimal

from handcalc.config.fields import (
    describe,
    fail,
    number,
    read,
    section,
    sequence,
    text,
)
from handcalc.config.problem import Document, Exam, Problem
from handcalc.config.rules_read import check_ids
from handcalc.config.source import Node
from handcalc.config.spec import PHASE_NAMES
from handcalc.errors import ConfigError

REQUIRE_KEYS = ("relu_mixed", "max_abs", "min_abs_nonzero", "no_ties", "no_saturation")


def document(sec: dict[str, Node]) -> Document:
    """Header texts, points per step or phase, and the entries worked out in answer keys."""
    course: str | None = read(sec, "document", "course")
    date: str | None = read(sec, "document", "date")
    instructions: str | None = read(sec, "document", "instructions")
    return Document(
        course=course,
        date=date,
        instructions=instructions,
        points=_points(sec.get("points")),
        expand=_expand(sec),
        space=read(sec, "document", "space"),
    )


def _points(node: Node | None) -> dict[str, Decimal]:
    if node is None or node.kind == "null":
        return {}
    if not node.is_map or not isinstance(node.value, dict):
        raise fail(
            node,
            "document.points",
            f"expected a mapping, got {describe(node)}",
            "step ids or phases to points, e.g. {dW1: 2, forward: 1}",
        )
    points: dict[str, Decimal] = {}
    for key, child in node.value.items():
        value = number(child, f"document.points.{key}")
        if value < 0:
            raise fail(child, f"document.points.{key}", f"{value} is negative", "0 or more")
        points[key] = value
    return points


def _expand(sec: dict[str, Node]) -> tuple[str, ...]:
    if "expand" not in sec:
        return ()
    items = sequence(sec["expand"], "document.expand", 'entries such as "dW2[1,3]"')
    return tuple(str(text(item, f"document.expand[{i + 1}]")) for i, item in enumerate(items))


def exam(sec: dict[str, Node]) -> Exam:
    """What each variant draws anew, the attempts allowed, and the constraints it must meet."""
    require = section(sec.get("require"), "exam.require")
    values = {k: read(require, "exam.require", k) for k in REQUIRE_KEYS}
    for k in ("max_abs", "min_abs_nonzero"):
        if values[k] is not None and values[k] < 0:
            raise fail(require[k], f"exam.require.{k}", f"{values[k]} is negative", "0 or more")
    return Exam(
        input=read(sec, "exam", "input"),
        label=read(sec, "exam", "label"),
        max_tries=read(sec, "exam", "max_tries"),
        **values,
    )


def check_step_keys(p: Problem, ids: Sequence[str]) -> None:
    """Point keys must name a step of the cycle or a phase; so must the ids of rounding.write
    and rounding.overrides."""
    check_ids(p.rules, ids)
    for key in p.points:
        if key not in ids and key not in PHASE_NAMES:
            close = difflib.get_close_matches(key, [*ids, *PHASE_NAMES], n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ConfigError(
                f"{p.name}: document.points.{key}: unknown step or phase "
                f"({hint}a step id such as dW1, or forward, loss, backward, update)"
            )
