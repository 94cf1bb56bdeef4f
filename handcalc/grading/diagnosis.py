"""Naming the likely slip behind a wrong entry: a usual slip, another rounding rule, no rounding at
all, or a misplaced decimal point, tried in that order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from handcalc.grading.mixed_rules import MixedRules
from handcalc.trace import Step

MAX_SHIFT = 20  # places a misplaced decimal point is looked for, more than any rule keeps
Outcome = list[Decimal] | None  # a step's entries as recomputed, None where that broke


@dataclass(frozen=True, slots=True)
class Work:
    """What grading one step knows beside the student's numbers."""

    step: Step
    tolerances: list[Decimal]
    own: Outcome  # the step from the student's own inputs, where that differs from the key
    slips: list[tuple[str, Outcome]]  # each usual slip's outcome, by the slip's name


def diagnose(work: Work, i: int, value: Decimal, rules: MixedRules) -> str | None:
    """The likely slip behind entry i's wrong value, None when no known slip gives it."""
    return (
        _slip(work, i, value)
        or _rule(work, i, value, rules)
        or _unrounded(work.step, i, value)
        or _misplaced_point(work, i, value)
    )


def _slip(work: Work, i: int, value: Decimal) -> str | None:
    tol = work.tolerances[i]
    return next(
        (n for n, alt in work.slips if alt is not None and abs(value - alt[i]) <= tol), None
    )


def _half_unit(step: Step, i: int, value: Decimal) -> Decimal:
    """Half a unit of the last digit kept of the key (of the value where the key is 0)."""
    return step.rounding.unit(step.values[i] or value) / 2


def _rule(work: Work, i: int, value: Decimal, rules: MixedRules) -> str | None:
    key, half = work.step.values[i], _half_unit(work.step, i, value)
    for trace, name in rules.traces():
        other = trace.step(work.step.id).values[i]
        if other != key and abs(value - other) <= half:
            return name
    return None


def _unrounded(step: Step, i: int, value: Decimal) -> str | None:
    if abs(value - Decimal(repr(step.floats[i]))) <= _half_unit(step, i, value):
        return "intermediates not rounded: the value is the unrounded float64 one"
    return None


def _misplaced_point(work: Work, i: int, value: Decimal) -> str | None:
    """The value off from the key (or the student's own recomputation) by a power of ten."""
    tol = work.tolerances[i]
    for reference in [work.step.values[i], *([work.own[i]] if work.own is not None else [])]:
        # a point misplaced moves a few places; 1 for 1e-465 is no such slip, and its ratio
        # would pass float64's range
        if reference and value and abs(value.adjusted() - reference.adjusted()) <= MAX_SHIFT:
            shift = math.log10(abs(value / reference))
            k = round(shift)
            if k and abs(shift - k) < 0.01 and abs(value - reference.scaleb(k)) <= tol.scaleb(k):
                return f"a misplaced decimal point (off by a factor of 10^{k})"
    return None
