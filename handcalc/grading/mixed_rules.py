"""The rounding rules a class may mix up with its own, each with the key it would have given.

A student who used another rule (or did not round at all) writes that rule's key; the rival that
reproduces the most of their entries exactly is the one they used. Ties go to the simplest
explanation: not rounding at all, then (where some quantities have a rule of their own) the
class's rule used for them too, then one choice of the rule changed, then two, then three. A
changed choice changes each quantity's own rule the same way, and is named from that rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.errors import HandcalcError
from handcalc.model.runner import make_trace
from handcalc.numbers import Rounding
from handcalc.rounding import MAX_DIGITS
from handcalc.trace import Step

PLACES = {"decimals": "decimal places", "significant": "significant digits"}
PER = {"value": "written value", "operation": "operation"}
NOT_ROUNDED = "intermediates not rounded: the value is the unrounded float64 one"
CLASS_RULE = "the class's rule ({}) used where this quantity has its own"
ALL_WRITTEN = "intermediates rounded that the class passes on exactly (rounding.write)"


def other_rules(r: Rounding) -> list[tuple[Rounding, str]]:
    """Each rule one or more choices away from `r`, simplest first, and how to say it was used.

    >>> [name for _, name in other_rules(Rounding(digits=4))][:5]  # doctest: +NORMALIZE_WHITESPACE
    ['rounded half_even instead of half_up',
     'rounded every operation instead of every written value',
     '4 significant digits instead of 4 decimal places',
     '3 decimal places instead of 4',
     '5 decimal places instead of 4']
    >>> len(other_rules(Rounding(digits=4)))
    9
    """
    changes = [_by_rule(r), _by_per(r), _by_mode(r)]
    out = [changes[0], changes[1], changes[2], *_by_digits(r)]
    for size in (2, 3):
        for combo in itertools.combinations(changes, size):
            rounding = r
            for changed, _ in combo:
                rounding = _apply(rounding, r, changed)
            out.append((rounding, ", and ".join(name for _, name in combo)))
    return out


def _apply(rounding: Rounding, base: Rounding, changed: Rounding) -> Rounding:
    """`rounding` with the one choice in which `changed` differs from `base`."""
    if changed.rule != base.rule:
        return replace(rounding, rule=changed.rule)
    if changed.per != base.per:
        return replace(rounding, per=changed.per)
    return replace(rounding, mode=changed.mode)


def _by_rule(r: Rounding) -> tuple[Rounding, str]:
    other = replace(r, rule="half_even" if r.rule == "half_up" else "half_up")
    return other, f"rounded {other.rule} instead of {r.rule}"


def _by_per(r: Rounding) -> tuple[Rounding, str]:
    other = replace(r, per="operation" if r.per == "value" else "value")
    return other, f"rounded every {PER[other.per]} instead of every {PER[r.per]}"


def _by_mode(r: Rounding) -> tuple[Rounding, str]:
    other = replace(r, mode="significant" if r.mode == "decimals" else "decimals")
    return other, f"{r.digits} {PLACES[other.mode]} instead of {r.digits} {PLACES[r.mode]}"


def _by_digits(r: Rounding) -> list[tuple[Rounding, str]]:
    return [
        (replace(r, digits=d), f"{d} {PLACES[r.mode]} instead of {r.digits}")
        for d in (r.digits - 1, r.digits + 1)
        if 1 <= d <= MAX_DIGITS
    ]


def carried(base: Rounding, changed: Rounding, own: Rounding) -> Rounding:
    """A quantity's own rule `own` changed as `changed` changes the class's `base` (an exact
    quantity stays exact).

    >>> carried(Rounding(digits=4), Rounding(digits=5), Rounding(digits=2, mode="significant"))
    Rounding(digits=3, mode='significant', rule='half_up', per='value')
    """
    if own.mode == "exact":
        return own
    out = own
    if changed.rule != base.rule:
        out = _by_rule(out)[0]
    if changed.per != base.per:
        out = _by_per(out)[0]
    if changed.mode != base.mode:
        out = _by_mode(out)[0]
    digits = own.digits + changed.digits - base.digits
    return replace(out, digits=min(max(digits, 1), MAX_DIGITS))


def change_name(r: Rounding, other: Rounding) -> str:
    """How `other` differs from `r`, in the words of other_rules.

    >>> change_name(Rounding(digits=3), Rounding(digits=3, rule="half_even"))
    'rounded half_even instead of half_up'
    """
    parts = []
    if other.rule != r.rule:
        parts.append(_by_rule(r)[1])
    if other.per != r.per:
        parts.append(_by_per(r)[1])
    if other.mode != r.mode:
        parts.append(_by_mode(r)[1])
    if other.digits != r.digits:
        parts.append(f"{other.digits} {PLACES[other.mode]} instead of {r.digits}")
    return ", and ".join(parts)


@dataclass(frozen=True, slots=True)
class Rival:
    """Another way to write the numbers: its name, and each step's entries as it writes them.

    `values` is None for not rounding at all, whose entries are the float64 ones.
    """

    name: str
    values: dict[str, list[Decimal]] | None
    base: Rounding | None = None  # the class's rule, where this rival changes it ...
    rule: Rounding | None = None  # ... to this one

    def named(self, step: Step) -> str:
        """The rival's name at a step: from the step's own rule where it has one."""
        if self.base is None or self.rule is None or step.rounding == self.base:
            return self.name
        own = step.rounding
        return change_name(own, carried(self.base, self.rule, own)) or self.name

    def reproduces(self, step: Step, i: int, value: Decimal) -> bool:
        """Whether this way gives the student's `value` for entry i, digit for digit."""
        if self.values is None:  # float64, written by the rule (or to the digits written)
            exact = Decimal(repr(step.floats[i]))
            if longer(step.rounding, value):
                return abs(value - exact) <= Decimal(1).scaleb(int(value.as_tuple().exponent)) / 2
            return value == step.rounding.rounder()(exact)
        return step.id in self.values and self.values[step.id][i] == value


def longer(r: Rounding, value: Decimal) -> bool:
    """Whether the value is written with more digits than the rule keeps.

    >>> r = Rounding(digits=4)
    >>> longer(r, Decimal("0.12345")), longer(r, Decimal("0.1234")), longer(r, Decimal("0.5"))
    (True, False, False)
    >>> longer(Rounding(digits=3, mode="significant"), Decimal("0.0012345"))
    True
    """
    written = value.as_tuple()
    if r.mode == "exact":
        return False
    if r.mode == "decimals":
        return int(written.exponent) < -r.digits
    return len(written.digits) > r.digits


@dataclass(frozen=True, slots=True)
class MixedRules:
    """The rivals of a problem's rule, each computed when first asked for (shared by students)."""

    problem: Problem
    _rivals: list[Rival] = field(default_factory=list)

    def rivals(self) -> list[Rival]:
        """Not rounding at all, then every other rule, simplest first."""
        if not self._rivals:
            p, base = self.problem, self.problem.rounding
            self._rivals.append(Rival(name=NOT_ROUNDED, values=None))
            self._rivals.extend(self._own_rules())
            for rounding, name in other_rules(base):
                values = self._values(_changed(p, rounding))
                if values is not None:
                    rival = Rival(name=name, values=values, base=base, rule=rounding)
                    self._rivals.append(rival)
        return self._rivals

    def _own_rules(self) -> list[Rival]:
        """The class's rule used for the quantities with their own, and every quantity written."""
        p, out = self.problem, []
        plain = {
            CLASS_RULE.format(p.rounding.describe()): replace(p.rules, overrides={}),
            ALL_WRITTEN: replace(p.rules, write={}),
        }
        for name, rules in plain.items():
            values = self._values(replace(p, rules=rules)) if rules != p.rules else None
            if values is not None:
                out.append(Rival(name=name, values=values))
        return out

    def _values(self, p: Problem) -> dict[str, list[Decimal]] | None:
        try:
            trace = make_trace(replace(p, steps=1))
        except HandcalcError:  # the rule breaks the run: no student used it
            return None
        return {s.id: s.values for s in trace.iterations[0]}

    def best(self, entries: Iterable[tuple[Step, int, Decimal]]) -> list[tuple[Rival, int]]:
        """Each rival with the number of the student's entries it reproduces, best first."""
        listed = list(entries)
        counts = [
            (rival, sum(rival.reproduces(step, i, v) for step, i, v in listed))
            for rival in self.rivals()
        ]
        order = {id(r): k for k, r in enumerate(self.rivals())}
        return sorted(counts, key=lambda rc: (-rc[1], order[id(rc[0])]))


def _changed(p: Problem, rounding: Rounding) -> Problem:
    """The problem under another class rule, each quantity's own rule changed alike."""
    own = {k: carried(p.rounding, rounding, r) for k, r in p.rules.overrides.items()}
    return replace(p, rounding=rounding, rules=replace(p.rules, overrides=own))
