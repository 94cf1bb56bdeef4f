"""The default requirements of an exam variant, and how even its gradients are.

A config whose `exam.require` sets nothing gets these instead, so that no variant asks a student
for a matrix of zeros, a ReLU decided by the last digit, a softmax tie or a saturated unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.model.ids import Kind
from handcalc.rounding import Rounding
from handcalc.trace import Trace

GRADIENTS = (Kind.dW, Kind.db)
SATURATING = ("sigmoid", "tanh")


@dataclass(frozen=True, slots=True)
class Spread:
    """The parameter gradients of a variant at a glance: entries not zero, the largest |entry|."""

    nonzero: int
    largest: Decimal


def spread(t: Trace) -> Spread:
    values = [v for s in t.iterations[0] if s.spec.kind in GRADIENTS for v in s.values]
    return Spread(
        nonzero=sum(1 for v in values if v),
        largest=max((abs(v) for v in values), default=Decimal(0)),
    )


def defaults(t: Trace) -> list[str]:
    """The default requirements this trace breaks, by name."""
    checks = {
        "nonzero_gradients": _zero_gradient,
        "relu_margin": _relu_near_zero,
        "softmax_tie": _softmax_tie,
        "saturation": _saturated,
    }
    return [name for name, broken in checks.items() if broken(t)]


def _zero_gradient(t: Trace) -> bool:
    """Some dW or db matrix is zero in every entry."""
    return any(
        s.spec.kind in GRADIENTS and not any(s.values)
        for s in t.iterations[0]
        if s.spec.layer is not None
    )


def _relu_near_zero(t: Trace) -> bool:
    """A ReLU input within one unit of its last written digit of 0: a slip decides the branch.

    >>> from decimal import Decimal as D
    >>> from handcalc.rounding import Rounding
    >>> _near_zero(Rounding(), [D("0.0001"), D("0.5")]), _near_zero(Rounding(), [D("0.0002")])
    (True, False)
    """
    p = t.problem
    return any(
        _near_zero(p.rounding, t.step(f"z{layer}").values)
        for layer, act in enumerate(p.activations, start=1)
        if act in ("relu", "leaky_relu")
    )


def _near_zero(rounding: Rounding, values: list[Decimal]) -> bool:
    return any(abs(v) <= rounding.unit(v) for v in values)


def _softmax_tie(t: Trace) -> bool:
    """Two classes share an example's largest softmax probability."""
    p = t.problem
    if p.head != "softmax":
        return False
    yhat, d = t.step("yhat").values, p.widths[-1]
    rows = [yhat[i : i + d] for i in range(0, len(yhat), d)]  # a mini-batch's examples
    return any(row.count(max(row)) > 1 for row in rows)


def _saturated(t: Trace) -> bool:
    """A sigmoid output written as 0 or 1, or a tanh output as -1 or 1."""
    p = t.problem
    for layer, act in enumerate(p.activations, start=1):
        if act in SATURATING and any(
            abs(v) >= 1 or (act == "sigmoid" and v <= 0) for v in _activation(t, layer)
        ):
            return True
    return p.head == "sigmoid" and any(v <= 0 or v >= 1 for v in t.step("yhat").values)


def _activation(t: Trace, layer: int) -> list[Decimal]:
    """σ(z^(l)) itself: on a residual layer h^(l) adds the skip path to it."""
    name = "a" if layer in t.problem.residual else "h"
    return list(t.step(f"{name}{layer}").values)


def drawn(p: Problem) -> bool:
    """Whether variants of `p` differ at all: some parameter, the input, a label or a mask is
    drawn from the seed."""
    d = p.dropout
    masks = d is not None and any(
        d.keep_probability(i) is not None and f"d{i}" not in d.masks for i in range(p.layers)
    )
    every = set(p.given_parameters) >= set(p.parameters)
    return not every or p.exam.input or p.exam.label or masks
