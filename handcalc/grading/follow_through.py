"""Follow-through: each step recomputed from the student's own values with the cycle's step code.

The student's value of a step is what they wrote; where they wrote nothing (or left an entry
blank), it is recomputed from their own values of what the step reads, and so on back to the last
step they answered or a given number: never taken from the key. An entry that differs from the key
but equals this recomputation carries an earlier error forward (it is not a new one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from handcalc.errors import HandcalcError
from handcalc.grading.answers import Given
from handcalc.model.runner import Systems, recompute, system_of
from handcalc.model.steps import Compute, StepSpec
from handcalc.numbers import Flat
from handcalc.trace import Step


@dataclass(frozen=True, slots=True)
class Override:
    """A slip made at a step the student did not write: its compute and what else it reads."""

    step_id: str
    compute: Compute
    reads: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OwnValues:
    """The student's values of every step: written, or recomputed from their own earlier ones."""

    key: Mapping[str, Step]  # the first iteration's steps, given numbers included
    given: Mapping[str, Given]  # the steps answered (with at least one number)
    ns: Systems  # the hand system, or each step's own (its rule, exact where not written)
    override: Override | None = None
    _memo: dict[str, Flat | None] = field(default_factory=dict)

    def value(self, step_id: str) -> Flat | None:
        """A step's value as the student has it; None where recomputing it broke."""
        if step_id not in self._memo:
            self._memo[step_id] = self._value(step_id)
        return self._memo[step_id]

    def _value(self, step_id: str) -> Flat | None:
        spec = self.key[step_id].spec
        given = self.given.get(step_id)
        if spec.compute is None:
            return Flat(shape=spec.shape, data=list(self.key[step_id].values))
        if given is not None and None not in given.values:
            return Flat(shape=spec.shape, data=list(given.values))
        own = self._computed(spec)
        if given is None or own is None:
            return None if own is None else Flat(shape=spec.shape, data=own)
        data = [o if g is None else g for g, o in zip(given.values, own, strict=True)]
        return Flat(shape=spec.shape, data=data)

    def _computed(self, spec: StepSpec) -> list[Decimal] | None:
        if self.override is not None and self.override.step_id == spec.id:
            return self.recompute(spec, self.override.compute, self.override.reads)
        return self.recompute(spec)

    def recompute(
        self, spec: StepSpec, compute: Compute | None = None, reads: tuple[str, ...] = ()
    ) -> list[Decimal] | None:
        """The step (or `compute` in its place) from the student's own inputs; None if that breaks.

        `reads` names values `compute` needs beyond the step's own inputs.
        """
        target = spec if compute is None else replace(spec, compute=compute)
        inputs = {i: self.value(i) for i in spec.inputs + reads}
        known = {i: v for i, v in inputs.items() if v is not None}
        if len(known) < len(inputs):
            return None
        try:
            out: list[Decimal] = recompute(target, system_of(self.ns, spec), known).data
        except (HandcalcError, AssertionError, ArithmeticError, KeyError):
            return None
        return out

    def upstream(self, spec: StepSpec) -> list[StepSpec]:
        """The steps the student skipped that this one reads, nearest first, through to the last
        answered step or given number on each path."""
        out: dict[str, StepSpec] = {}
        frontier = list(spec.inputs)
        while frontier:
            step_id = frontier.pop(0)
            inner = self.key[step_id].spec
            if inner.compute is None or step_id in self.given or step_id in out:
                continue
            out[step_id] = inner
            frontier += inner.inputs
        return list(out.values())

    def with_slip(self, override: Override) -> OwnValues:
        """The student's values had they made a slip at a step they did not write."""
        return OwnValues(key=self.key, given=self.given, ns=self.ns, override=override)
