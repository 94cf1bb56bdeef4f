"""The class's own rules per quantity, read: which steps are written (rounding.write) and the
rounding of a step kind, a step or a phase that differs from the class's rule
(rounding.overrides).

A key names a step id (dW2), a step kind (dW; with `write`, also per layer: {dW: {2: false}},
kept as "dW@2") or, for overrides, a phase. The most particular key wins: id, kind and layer,
kind, the optimizer's quantities ("optimizer"), phase.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handcalc.model.ids import STATES, StepId, parse
from handcalc.rounding import Rounding


@dataclass(frozen=True, slots=True)
class Rules:
    """rounding.write and rounding.overrides, read; empty: every step written by the class rule.

    `places` remembers where each id key (and layer key of write) was written, to report an id
    or a layer no step has.
    """

    write: dict[str, bool] = field(default_factory=dict)  # "dW", "dW@2" or an id -> written
    overrides: dict[str, Rounding] = field(default_factory=dict)  # kind, id or phase -> rule
    places: dict[str, str] = field(default_factory=dict)  # "rounding.write.dW2" -> file:line
    write_at: str = ""  # file:line of rounding.write, to name it when it leaves nothing written

    def written(self, ident: StepId, phase: str) -> bool:
        """Whether the step is written down (rounded and carried); given numbers always are."""
        if phase == "given":
            return True
        return next((self.write[k] for k in _keys(ident) if k in self.write), True)

    def rule(self, ident: StepId, phase: str, base: Rounding) -> Rounding:
        """The rounding of a step: its own, its kind's, its phase's, or the class's `base`."""
        keys = [*_keys(ident)]
        if ident.kind in STATES:
            keys.append("optimizer")
        keys.append(phase)
        return next((self.overrides[k] for k in keys if k in self.overrides), base)

    def given_rule(self, name: str, base: Rounding) -> Rounding:
        """The rule a given number is read by: W1, b2, h0 (the input x), y or T."""
        step = parse(name)
        assert step is not None, name
        return self.rule(step, "given", base)


def _keys(ident: StepId) -> tuple[str, ...]:
    """The keys that may name a step, most particular first: id, kind@layer, kind."""
    kind = ident.kind.value
    layered = () if ident.layer is None else (f"{kind}@{ident.layer}",)
    return (str(ident), *layered, kind)
