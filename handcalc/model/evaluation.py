"""The forward pass at test time with the updated parameters and no dropout (section 11): the
notes multiply the weights by p instead; the inverted convention needs no change. A residual
layer keeps its skip path, and the head reads z^(L) / T under temperature scaling (section 7)."""

from __future__ import annotations

from handcalc.config.problem import Problem
from handcalc.model.forward import affine, test_factor
from handcalc.model.functions import ACTIVATIONS
from handcalc.model.heads import HEADS
from handcalc.model.ids import Kind, StepId
from handcalc.model.steps import Compute, Phase, StepSpec, Values, sup
from handcalc.numbers import Flat, NumberSystem


def at_test_time(p: Problem) -> list[StepSpec]:
    """tz and th per layer with the updated parameters, then ŷ in one step."""
    out: list[StepSpec] = []
    for layer in range(1, p.layers + 1):
        out.append(_affine(p, layer))
        if layer < p.layers:
            out.append(_activation(p, layer))
    return [*out, _head(p)]


def _input(layer: int) -> str:
    """What layer `layer` reads at test time: x, or the test-time h of the layer before."""
    return "h0" if layer == 1 else f"th{layer - 1}"


def _symbol(layer: int) -> str:
    return "x" if layer == 1 else sup("h", layer - 1)


def _affine(p: Problem, layer: int) -> StepSpec:
    names = (f"W{layer}_next", _input(layer), f"b{layer}_next")
    ident = StepId(kind=Kind.tz, layer=layer)
    return affine(p, ident, Phase.test, names, _symbol(layer), test_factor(p, layer))


def _activation(p: Problem, layer: int) -> StepSpec:
    """h = σ(z), plus the layer's input on a residual layer (section 13)."""
    act, z = ACTIVATIONS[p.activations[layer - 1]], f"tz{layer}"
    skip = _input(layer) if layer in p.residual else None

    def compute(ns: NumberSystem, v: Values) -> Flat:
        value = act.value(ns, v[z])
        return value if skip is None else ns.add(value, v[skip])

    formula = f"{act.name}(z^({layer}))" + ("" if skip is None else f" + {_symbol(layer)}")
    return StepSpec(
        ident=StepId(kind=Kind.th, layer=layer),
        phase=Phase.test,
        symbol=sup("h", layer),
        formula=formula,
        inputs=(z,) if skip is None else (z, skip),
        shape=(p.examples, p.widths[layer]),
        per_example=True,
        compute=compute,
    )


def _head(p: Problem) -> StepSpec:
    """ŷ in one step, of z^(L) / T under temperature scaling: the test pass needs no worked
    parts of the head."""
    L, head, shape = p.layers, HEADS[p.head], (p.examples, p.widths[-1])
    z = f"tz{L}"
    if p.temperature is None:
        return _output(p, f"{p.head}(z^({L}))", (z,), lambda ns, v: head.value(ns, v[z]))

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return head.value(ns, ns.div(v[z], ns.fill(v["T"], shape)))

    return _output(p, f"{p.head}(z^({L}) / T)", (z, "T"), compute)


def _output(p: Problem, formula: str, inputs: tuple[str, ...], compute: Compute) -> StepSpec:
    return StepSpec(
        ident=StepId(kind=Kind.tyhat),
        phase=Phase.test,
        symbol="ŷ",
        formula=formula,
        inputs=inputs,
        shape=(p.examples, p.widths[-1]),
        per_example=True,
        compute=compute,
    )
