"""Which entries of a step's inputs each of its entries is computed from.

Found once per problem by nudging one input entry at a time in float64 and seeing which entries
of the step move; a grader then names the earlier entries a carried entry carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from handcalc.errors import HandcalcError
from handcalc.model.runner import recompute
from handcalc.numbers import Flat, float64
from handcalc.trace import Step

Reads = list[frozenset[int]]  # per entry of the step, the entries of one input it reads
# entries of a step times entries of an input beyond which nudging each costs too much: the
# sources of a carried entry go unnamed there (a layer of hundreds of units, not a class's)
LARGEST = 100_000


@dataclass(frozen=True, slots=True)
class Dependence:
    """The entry-by-entry reading of every step, found when first asked for (shared)."""

    key: Mapping[str, Step]
    _found: dict[tuple[str, str], Reads] = field(default_factory=dict)

    def reads(self, step_id: str, input_id: str) -> Reads:
        """For each entry of the step, the entries of `input_id` that change it."""
        if (step_id, input_id) not in self._found:
            self._found[step_id, input_id] = self._find(step_id, input_id)
        return self._found[step_id, input_id]

    def _find(self, step_id: str, input_id: str) -> Reads:
        spec = self.key[step_id].spec
        values = {i: _floats(self.key[i]) for i in spec.inputs}
        size = len(self.key[step_id].values)
        if size * len(values[input_id].data) > LARGEST:
            return [frozenset()] * size
        base = _run(step_id, self.key, values)
        if base is None:
            return [frozenset()] * size
        found: list[set[int]] = [set() for _ in range(size)]
        original = values[input_id]
        for j, x in enumerate(original.data):
            # far both ways, so that a ReLU or a comparison the key sits on one side of moves too
            for nudge in (2 * abs(x) + 1, -2 * abs(x) - 1):
                nudged = list(original.data)
                nudged[j] = x + nudge
                moved = _run(step_id, self.key, {**values, input_id: Flat(original.shape, nudged)})
                for i in range(size):
                    if moved is None or abs(moved[i] - base[i]) > 1e-12 * max(1.0, abs(base[i])):
                        found[i].add(j)
        return [frozenset(f) for f in found]


def _floats(step: Step) -> Flat:
    return Flat(shape=step.spec.shape, data=list(step.floats))


def _run(step_id: str, key: Mapping[str, Step], values: Mapping[str, Flat]) -> list[float] | None:
    try:
        out: list[float] = recompute(key[step_id].spec, float64(), values).data
    except (HandcalcError, ArithmeticError):
        return None
    return out
