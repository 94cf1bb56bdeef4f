"""The step record: one written-down quantity of the cycle, its identity, phase and rule.

A step knows the ids it reads and a compute function of a number system and those inputs, so the
same step runs in the hand system and in float64 and can be recomputed from other inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from handcalc.model.ids import Kind, StepId
from handcalc.numbers import Flat, NumberSystem, Shape

Values = Mapping[str, Flat]
Compute = Callable[[NumberSystem, Values], Flat]


class Phase(StrEnum):
    """Where a step sits in the update cycle (and the test-time pass after it)."""

    given = "given"
    forward = "forward"
    loss = "loss"
    backward = "backward"
    update = "update"
    test = "test"


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One written-down quantity of the cycle; `compute` is None for given numbers."""

    ident: StepId
    phase: Phase
    symbol: str
    formula: str
    inputs: tuple[str, ...]
    shape: Shape
    per_example: bool
    compute: Compute | None = None
    # (symbol, per-example shape) of the input a breakdown's entry index points into, when
    # that is not the step's own value (a loss takes ln of entries of ŷ)
    operand: tuple[str, Shape] | None = None
    # what an affine step multiplies its weights by first: p^(l-1) at test time under the
    # notes' dropout scaling (p W^(l)); None for the weights as they are
    factor: Decimal | None = None
    # False: not written down (rounding.write), computed exactly and passed on unrounded
    written: bool = True
    id: str = field(init=False, repr=False, compare=False)  # the public id, str(ident)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", str(self.ident))

    @property
    def kind(self) -> Kind:
        return self.ident.kind

    @property
    def layer(self) -> int | None:
        return self.ident.layer


def sup(name: str, layer: int) -> str:
    """A symbol with its layer as the notes write it: sup('z', 2) -> 'z^(2)'."""
    return f"{name}^({layer})"
