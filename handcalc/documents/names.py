"""How a paper names a step beyond its symbol: "(updated)" on a value that replaces an old one;
in the key's rounding chart, where no section heading says which pass a row belongs to, also
"(test)" on the test-time pass, whose z^(1), h^(1) would read as the training pass's."""

from __future__ import annotations

from handcalc.model.ids import Kind
from handcalc.model.steps import Phase, StepSpec

# The update-phase quantities that replace an old value: the new parameters and the optimizer's
# running averages. The weight changes ΔW, Δb and the optimizer's g, m̂, ŝ, u are worked out on
# the way there, not updated.
UPDATED = frozenset({Kind.W_next, Kind.b_next, Kind.T_next, Kind.v, Kind.n, Kind.m, Kind.s})


def is_updated(spec: StepSpec) -> bool:
    """Whether a step is an updated value, which a paper marks "(updated)"."""
    return spec.phase == Phase.update and spec.kind in UPDATED


def named(spec: StepSpec) -> str:
    """A step's name over its answer box: 'W^(1) (updated)', 'dL/dW^(1)'."""
    return spec.symbol + (" (updated)" if is_updated(spec) else "")


def charted(spec: StepSpec) -> str:
    """A step's name in the rounding chart: 'h^(1) (test)' for the test-time pass."""
    return named(spec) + (" (test)" if spec.phase == Phase.test else "")
