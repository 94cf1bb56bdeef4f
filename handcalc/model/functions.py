"""Activations and losses: each value beside its derivative, written against a number system.

Derivatives of sigmoid and tanh read the written h (h(1 - h), 1 - h^2), as a student computes them;
ReLU'(0) = 0 and leaky_relu'(0) = 0.01, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from handcalc.numbers import Flat, NumberSystem

if TYPE_CHECKING:
    from handcalc.model.heads import HeadName

ONE = Decimal(1)
ZERO = Decimal(0)
LEAK = Decimal("0.01")

Fn = Callable[[NumberSystem, Flat], Flat]
LossName = Literal["cross_entropy", "binary_cross_entropy", "mse", "sse", "half_sse"]
LossFn = Callable[[NumberSystem, Flat, Flat, int], Flat]


@dataclass(frozen=True, slots=True)
class Activation:
    """sigma and sigma'; `reads` says whether sigma' is computed from z or from the written h."""

    name: str
    formula: str
    derivative_formula: str
    reads: Literal["z", "h"]
    value: Fn
    derivative: Fn


def _ones(ns: NumberSystem, a: Flat) -> Flat:
    return ns.where_positive(a, ONE, ONE)


def sigmoid(ns: NumberSystem, z: Flat) -> Flat:
    return ns.div(ONE, ns.add(ONE, ns.exp(ns.neg(z))))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            name="relu",
            formula="max(0, z)",
            derivative_formula="1 if {z} > 0, else 0",
            reads="z",
            value=lambda ns, z: ns.where_positive(z, z, ZERO),
            derivative=lambda ns, z: ns.where_positive(z, ONE, ZERO),
        ),
        Activation(
            name="leaky_relu",
            formula="z if z > 0, else 0.01 z",
            derivative_formula="1 if {z} > 0, else 0.01",
            reads="z",
            value=lambda ns, z: ns.where_positive(z, z, ns.mul(LEAK, z)),
            derivative=lambda ns, z: ns.where_positive(z, ONE, LEAK),
        ),
        Activation(
            name="sigmoid",
            formula="1 / (1 + e^(-z))",
            derivative_formula="{h} (1 - {h})",
            reads="h",
            value=sigmoid,
            derivative=lambda ns, h: ns.mul(h, ns.sub(ONE, h)),
        ),
        Activation(
            name="tanh",
            formula="tanh(z)",
            derivative_formula="1 - ({h})^2",
            reads="h",
            value=lambda ns, z: ns.tanh(z),
            derivative=lambda ns, h: ns.sub(ONE, ns.mul(h, h)),
        ),
        Activation(
            name="identity",
            formula="z",
            derivative_formula="1",
            reads="z",
            value=lambda ns, z: z,
            derivative=_ones,
        ),
    )
}


Finish = Callable[[NumberSystem, Flat, int], Flat]


@dataclass(frozen=True, slots=True)
class Loss:
    """A per-example loss of (yhat, y) over the d_L outputs and its gradient in yhat.

    The loss of an example is `finish` applied to the sum over j of `term`; `term_formula` and
    `finish_formula` write them with {yhat}, {y} for the entries and {s} for the sum. `fused`
    names the head whose Jacobian folds into the gradient, which is then dL/dz^(L) itself.
    """

    name: LossName
    formula: str
    gradient_formula: str
    fused: HeadName | None
    term: LossFn
    term_formula: str
    finish: Finish
    finish_formula: str | None  # None: the loss is the sum itself
    gradient: LossFn

    def per_example(self, ns: NumberSystem, p: Flat, y: Flat, d: int) -> Flat:
        """The loss of each example: the terms summed over the outputs, then finished."""
        return self.finish(ns, ns.total(self.term(ns, p, y, d), 1), d)


def _square(ns: NumberSystem, p: Flat, y: Flat, d: int) -> Flat:
    e = ns.sub(p, y)
    return ns.mul(e, e)


def _log_likelihood(ns: NumberSystem, p: Flat, y: Flat, d: int) -> Flat:
    return ns.xlogy(y, p)


def _binary_log_likelihood(ns: NumberSystem, p: Flat, y: Flat, d: int) -> Flat:
    return ns.add(ns.xlogy(y, p), ns.xlogy(ns.sub(ONE, y), ns.sub(ONE, p)))


def _divided(by: Decimal | None) -> Finish:
    """The sum over d_L (by None) or by a fixed number."""
    return lambda ns, s, d: ns.div(s, Decimal(d) if by is None else by)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            name="cross_entropy",
            formula="-Σ_j y_j ln ŷ_j",
            gradient_formula="ŷ - y",
            fused="softmax",
            term=_log_likelihood,
            term_formula="{y} ln {yhat}",
            finish=lambda ns, s, d: ns.neg(s),
            finish_formula="-({s})",
            gradient=lambda ns, p, y, d: ns.sub(p, y),
        ),
        Loss(
            name="binary_cross_entropy",
            formula="-(1/d_L) Σ_j [y_j ln ŷ_j + (1 - y_j) ln(1 - ŷ_j)]",
            gradient_formula="(ŷ - y) / d_L",
            fused="sigmoid",
            term=_binary_log_likelihood,
            term_formula="{y} ln {yhat} + (1 - {y}) ln(1 - {yhat})",
            finish=lambda ns, s, d: ns.div(ns.neg(s), Decimal(d)),
            finish_formula="-({s}) / {d}",
            gradient=lambda ns, p, y, d: ns.div(ns.sub(p, y), Decimal(d)),
        ),
        Loss(
            name="mse",
            formula="(1/d_L) Σ_j (ŷ_j - y_j)^2",
            gradient_formula="2 (ŷ - y) / d_L",
            fused=None,
            term=_square,
            term_formula="({yhat} - {y})^2",
            finish=_divided(None),
            finish_formula="{s} / {d}",
            gradient=lambda ns, p, y, d: ns.div(ns.mul(Decimal(2), ns.sub(p, y)), Decimal(d)),
        ),
        Loss(
            name="sse",
            formula="Σ_j (ŷ_j - y_j)^2",
            gradient_formula="2 (ŷ - y)",
            fused=None,
            term=_square,
            term_formula="({yhat} - {y})^2",
            finish=lambda ns, s, d: s,
            finish_formula=None,
            gradient=lambda ns, p, y, d: ns.mul(Decimal(2), ns.sub(p, y)),
        ),
        Loss(
            name="half_sse",
            formula="(1/2) Σ_j (ŷ_j - y_j)^2",
            gradient_formula="ŷ - y",
            fused=None,
            term=_square,
            term_formula="({yhat} - {y})^2",
            finish=_divided(Decimal(2)),
            finish_formula="{s} / 2",
            gradient=lambda ns, p, y, d: ns.sub(p, y),
        ),
    )
}


def valid_pair(head: str, loss: str) -> bool:
    """Whether the head and loss make a pair the tool accepts."""
    fused = LOSSES[loss].fused
    return fused is None or fused == head
