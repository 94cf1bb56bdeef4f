"""Naming the likely slip behind a wrong entry: a usual slip (made at the step itself or at a step
the student skipped on the way to it), another rounding rule or none, or a misplaced decimal point,
tried in that order.

A slip whose value is within the tolerance of the key explains nothing (any rounding gives that),
so it is never named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from handcalc.grading.mixed_rules import Rival
from handcalc.model.steps import StepSpec
from handcalc.trace import Step

MAX_SHIFT = 20  # places a misplaced decimal point is looked for, more than any rule keeps
Outcome = list[Decimal] | None  # a step's entries as recomputed, None where that broke


@dataclass(frozen=True, slots=True)
class Tried:
    """A usual slip's outcome at this step; `at` is the skipped step it was made at, if not here."""

    name: str
    at: StepSpec | None
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Work:
    """What grading one step knows beside the student's numbers."""

    step: Step
    tolerances: list[Decimal]  # what is accepted as the key, per entry
    noise: list[Decimal]  # one unit widened by the key's float64 deviation: rounding's reach
    own: Outcome  # the step from the student's own inputs, where that differs from the key
    slips: list[Tried]


@dataclass(frozen=True, slots=True)
class Found:
    """A diagnosis: the slip's name, the step it was made at, and what to compare with."""

    name: str
    at: StepSpec
    hint: str


def formula(spec: StepSpec) -> str:
    """The notes' formula of a step, as a hint beside a slip made at it."""
    return f"the notes' formula: {spec.symbol} = {spec.formula}"


def diagnose(work: Work, i: int, value: Decimal, rivals: list[Rival]) -> Found | None:
    """The likely slip behind entry i's wrong value, None when no known slip gives it.

    `rivals` are the other rounding rules, the one the student most likely used first: where
    that one gives the value, it explains it before any slip.
    """
    spec = work.step.spec
    first = _rule(work, i, value, rivals[:1])  # the rule the student used throughout, if any
    found = first or _slip(work, i, value) or _rule(work, i, value, rivals[1:])
    if found is not None:
        return found
    point = _misplaced_point(work, i, value)
    return None if point is None else Found(name=point, at=spec, hint=formula(spec))


def _rule(work: Work, i: int, value: Decimal, rivals: list[Rival]) -> Found | None:
    rule = next((r.named(work.step) for r in rivals if r.reproduces(work.step, i, value)), None)
    if rule is None:
        return None
    return Found(name=rule, at=work.step.spec, hint=f"the rule: {work.step.rounding.describe()}")


def _slip(work: Work, i: int, value: Decimal) -> Found | None:
    """The first slip that gives the value and changes the step by more than rounding does."""
    tol, noise, key = work.tolerances[i], work.noise[i], work.step.values[i]
    done_right = work.own[i] if work.own is not None else key
    for tried in work.slips:
        alt = None if tried.outcome is None else tried.outcome[i]
        if alt is None or abs(value - alt) > tol:
            continue
        if abs(alt - done_right) > noise and abs(alt - key) > tol:
            at = tried.at or work.step.spec
            return Found(name=tried.name, at=at, hint=formula(at))
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
