"""The forward pass at test time with the updated parameters and no dropout (section 11): the
notes multiply the weights by p instead; the inverted convention needs no change."""

from __future__ import annotations

from handcalc.config.problem import Problem
from handcalc.model.functions import ACTIVATIONS
from handcalc.model.heads import HEADS
from handcalc.model.ids import Kind, StepId
from handcalc.model.steps import Phase, StepSpec, Values, sup
from handcalc.numbers import Flat, NumberSystem


def at_test_time(p: Problem) -> list[StepSpec]:
    """tz and th per layer with the updated parameters, then ŷ in one step."""
    out: list[StepSpec] = []
    for layer in range(1, p.layers + 1):
        out.append(_affine(p, layer))
        if layer < p.layers:
            out.append(_activation(p, layer))
    return [*out, _head(p)]


def _affine(p: Problem, layer: int) -> StepSpec:
    assert p.dropout is not None
    factor = p.dropout.test_factor(layer - 1)
    h_in = "h0" if layer == 1 else f"th{layer - 1}"
    w, b = f"W{layer}_next", f"b{layer}_next"

    def compute(ns: NumberSystem, v: Values) -> Flat:
        weights = v[w] if factor is None else ns.mul(factor, v[w])
        return ns.matmul_nt(v[h_in], weights, v[b] if p.bias else None)

    weight = f"W^({layer})" if factor is None else f"{factor} W^({layer})"
    h_sym = "x" if layer == 1 else f"h^({layer - 1})"
    return StepSpec(
        ident=StepId(kind=Kind.tz, layer=layer),
        phase=Phase.test,
        symbol=sup("z", layer),
        formula=f"{weight} {h_sym}" + (f" + b^({layer})" if p.bias else ""),
        inputs=(w, h_in, b) if p.bias else (w, h_in),
        shape=(p.examples, p.widths[layer]),
        per_example=True,
        compute=compute,
    )


def _activation(p: Problem, layer: int) -> StepSpec:
    act, z = ACTIVATIONS[p.activations[layer - 1]], f"tz{layer}"
    return StepSpec(
        ident=StepId(kind=Kind.th, layer=layer),
        phase=Phase.test,
        symbol=sup("h", layer),
        formula=f"{act.name}(z^({layer}))",
        inputs=(z,),
        shape=(p.examples, p.widths[layer]),
        per_example=True,
        compute=lambda ns, v: act.value(ns, v[z]),
    )


def _head(p: Problem) -> StepSpec:
    """ŷ in one step: the test pass needs no worked parts of the head."""
    L, head = p.layers, HEADS[p.head]
    return StepSpec(
        ident=StepId(kind=Kind.tyhat),
        phase=Phase.test,
        symbol="ŷ",
        formula=f"{p.head}(z^({L}))",
        inputs=(f"tz{L}",),
        shape=(p.examples, p.widths[-1]),
        per_example=True,
        compute=lambda ns, v: head.value(ns, v[f"tz{L}"]),
    )
