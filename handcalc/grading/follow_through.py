"""Follow-through: each step recomputed from the student's own values with the cycle's step code.

An entry that differs from the key but equals this recomputation carries an earlier error forward
(it is not a new one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from handcalc.errors import HandcalcError
from handcalc.grading.answers import Given
from handcalc.model.runner import recompute
from handcalc.model.steps import Compute, StepSpec
from handcalc.numbers import Flat, NumberSystem
from handcalc.trace import Step


@dataclass(frozen=True, slots=True)
class OwnValues:
    """The student's values of every step, the key's where the student left a blank."""

    key: Mapping[str, Step]
    given: Mapping[str, Given]
    ns: NumberSystem

    def value(self, step_id: str) -> Flat:
        """A step's value: the student's own where given (blanks filled from the key)."""
        key = self.key[step_id]
        given = self.given.get(step_id)
        if given is None:
            return Flat(shape=key.spec.shape, data=list(key.values))
        data = [k if g is None else g for g, k in zip(given.values, key.values, strict=True)]
        return Flat(shape=key.spec.shape, data=data)

    def recompute(
        self, spec: StepSpec, compute: Compute | None = None, reads: tuple[str, ...] = ()
    ) -> list[Decimal] | None:
        """The step (or `compute` in its place) from the student's own inputs; None if that breaks.

        `reads` names values `compute` needs beyond the step's own inputs.
        """
        target = spec if compute is None else replace(spec, compute=compute)
        try:
            inputs = {i: self.value(i) for i in spec.inputs + reads}
            out: list[Decimal] = recompute(target, self.ns, inputs).data
        except (HandcalcError, AssertionError, ArithmeticError, KeyError):
            return None
        return out
