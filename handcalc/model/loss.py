"""The loss (per example, then reduced over a batch) and its gradient in the logits dL/dz^(L):
fused with the head where the loss folds the head's Jacobian in, else through dL/dŷ and the head,
then through the temperature."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.model.forward import logits
from handcalc.model.functions import LOSSES
from handcalc.model.heads import HEADS
from handcalc.model.ids import Kind, StepId
from handcalc.model.steps import Compute, Phase, StepSpec, Values
from handcalc.numbers import Flat, NumberSystem


def loss(p: Problem) -> list[StepSpec]:
    """L of a single example, or L_n per example and then their mean or sum."""
    per_example = _per_example(p)
    if not p.batched:
        return [_loss(p, per_example)]
    return [_losses(p, per_example), _reduced(p)]


def _per_example(p: Problem) -> Compute:
    fn, dl = LOSSES[p.loss].per_example, p.widths[-1]
    return lambda ns, v: fn(ns, v["yhat"], v["y"], dl)


def _loss(p: Problem, per_example: Compute) -> StepSpec:
    return StepSpec(
        ident=StepId(kind=Kind.loss),
        phase=Phase.loss,
        symbol="L",
        formula=LOSSES[p.loss].formula,
        inputs=("yhat", "y"),
        shape=(),
        per_example=False,
        compute=lambda ns, v: ns.reshape(per_example(ns, v), ()),
        operand=("ŷ", (p.widths[-1],)),
    )


def _losses(p: Problem, per_example: Compute) -> StepSpec:
    return StepSpec(
        ident=StepId(kind=Kind.losses),
        phase=Phase.loss,
        symbol="L_n",
        formula=LOSSES[p.loss].formula,
        inputs=("yhat", "y"),
        shape=(p.examples,),
        per_example=True,
        compute=per_example,
        operand=("ŷ", (p.widths[-1],)),
    )


def _reduced(p: Problem) -> StepSpec:
    mean, n = p.reduction == "mean", Decimal(p.examples)

    def compute(ns: NumberSystem, v: Values) -> Flat:
        s = ns.total(v["losses"], 0)
        return ns.div(s, n) if mean else s

    return StepSpec(
        ident=StepId(kind=Kind.loss),
        phase=Phase.loss,
        symbol="L",
        formula="(1/N) Σ_n L_n" if mean else "Σ_n L_n",
        inputs=("losses",),
        shape=(),
        per_example=False,
        compute=compute,
    )


def output_gradient(p: Problem) -> list[StepSpec]:
    """dL/dz^(L): at once when the loss is fused with the head, else via dL/dŷ and the head."""
    first = _gradient_in_output(p)
    steps = [first] if first.kind == Kind.dz else [first, *HEADS[p.head].backward(logits(p))]
    return steps if p.temperature is None else _through_temperature(p, steps)


def _gradient_in_output(p: Problem) -> StepSpec:
    """The loss's gradient: in z^(L) itself when fused with the head, else in ŷ.

    With mean reduction over N > 1 examples, the per-example gradient carries 1/N.
    """
    loss_fn, dl, L = LOSSES[p.loss], p.widths[-1], p.layers
    n = Decimal(p.examples) if p.reduction == "mean" and p.examples > 1 else None

    def compute(ns: NumberSystem, v: Values) -> Flat:
        g = loss_fn.gradient(ns, v["yhat"], v["y"], dl)
        return g if n is None else ns.div(g, n)

    formula = loss_fn.gradient_formula
    fused = loss_fn.fused is not None
    return StepSpec(
        ident=StepId(kind=Kind.dz, layer=L) if fused else StepId(kind=Kind.dyhat),
        phase=Phase.backward,
        symbol=f"dL/dz^({L})" if fused else "dL/dŷ",
        formula=formula if n is None else f"({formula}) / N",
        inputs=("yhat", "y"),
        shape=(p.examples, dl),
        per_example=True,
        compute=compute,
    )


def _through_temperature(p: Problem, steps: list[StepSpec]) -> list[StepSpec]:
    """The head's gradient is taken in z^(L)/T; dL/dz^(L) divides it by T once more."""
    L, shape, last, scaled = p.layers, (p.examples, p.widths[-1]), steps[-1], logits(p).z
    in_scaled = replace(last, ident=StepId(kind=Kind.dzT), symbol=f"dL/d{scaled}")

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.div(v["dzT"], ns.fill(v["T"], shape))

    return [
        *steps[:-1],
        in_scaled,
        StepSpec(
            ident=StepId(kind=Kind.dz, layer=L),
            phase=Phase.backward,
            symbol=f"dL/dz^({L})",
            formula=f"dL/d{scaled} / T",
            inputs=("dzT", "T"),
            shape=shape,
            per_example=True,
            compute=compute,
        ),
    ]
