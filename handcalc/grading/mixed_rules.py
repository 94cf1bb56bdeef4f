"""The rounding rules a class may mix up with its own, each with the key it would have given."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from handcalc.config.problem import Problem
from handcalc.errors import HandcalcError
from handcalc.model.runner import make_trace
from handcalc.numbers import Rounding
from handcalc.trace import Trace

PLACES = {"decimals": "decimal places", "significant": "significant digits"}
PER = {"value": "written value", "operation": "operation"}


def other_rules(r: Rounding) -> list[tuple[Rounding, str]]:
    """Each rule one choice away from `r`, and how to say the student used it.

    >>> [name for _, name in other_rules(Rounding(digits=4))]  # doctest: +NORMALIZE_WHITESPACE
    ['rounded half_even instead of half_up',
     '4 significant digits instead of 4 decimal places',
     'rounded every operation instead of every written value']
    """
    by_rule = replace(r, rule="half_even" if r.rule == "half_up" else "half_up")
    by_mode = replace(r, mode="significant" if r.mode == "decimals" else "decimals")
    by_per = replace(r, per="operation" if r.per == "value" else "value")
    return [
        (by_rule, f"rounded {by_rule.rule} instead of {r.rule}"),
        (by_mode, f"{r.digits} {PLACES[by_mode.mode]} instead of {r.digits} {PLACES[r.mode]}"),
        (by_per, f"rounded every {PER[by_per.per]} instead of every {PER[r.per]}"),
    ]


@dataclass(frozen=True, slots=True)
class MixedRules:
    """The keys under the other rules, each computed when first asked for."""

    problem: Problem
    trace: Trace
    _traces: dict[Rounding, Trace] = field(default_factory=dict)

    def traces(self) -> Iterator[tuple[Trace, str]]:
        """Each other rule's key (the problem's own trace where the rule breaks the run)."""
        for rounding, name in other_rules(self.problem.rounding):
            yield self._trace(rounding), name

    def _trace(self, rounding: Rounding) -> Trace:
        if rounding not in self._traces:
            try:
                self._traces[rounding] = make_trace(replace(self.problem, rounding=rounding))
            except HandcalcError:
                self._traces[rounding] = self.trace
        return self._traces[rounding]
