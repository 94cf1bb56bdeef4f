"""The forward pass (notes section 3.1): per layer the dropout mask, z = W h + b and h = σ(z)
(plus h^(l-1) on a residual layer); then the head, on z^(L) / T under temperature scaling
(section 7)."""

from __future__ import annotations

from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.model.functions import ACTIVATIONS
from handcalc.model.heads import HEADS, Logits
from handcalc.model.ids import Kind, StepId
from handcalc.model.steps import Phase, StepSpec, Values, sup
from handcalc.numbers import Flat, NumberSystem


def forward(p: Problem, test: bool = False) -> list[StepSpec]:
    """The forward steps, from the first layer's input to ŷ.

    At test time (`test`) no input is dropped and, under the notes' scaling, the weights are
    multiplied by the keep probability instead (section 11).
    """
    out: list[StepSpec] = []
    for layer in range(1, p.layers + 1):
        if not test and keep_probability(p, layer - 1) is not None:
            out.append(_masked(p, layer - 1))
        out.append(_affine(p, layer, test))
        if layer < p.layers:
            out += _activation(p, layer)
    return out + _head(p)


def keep_probability(p: Problem, i: int) -> Decimal | None:
    """p^(i) where dropout acts on layer input h^(i), else None."""
    return None if p.dropout is None else p.dropout.keep_probability(i)


def input_of(p: Problem, layer: int) -> tuple[str, str]:
    """The id and symbol layer `layer` reads: h^(l-1), or its masked h̃^(l-1) under dropout."""
    i = layer - 1
    masked = keep_probability(p, i) is not None
    return (f"hd{i}", f"h̃^({i})") if masked else (f"h{i}", f"h^({i})")


def _masked(p: Problem, i: int) -> StepSpec:
    """h̃ = h ⊙ d (section 11); the inverted convention also divides by p while training."""
    assert p.dropout is not None
    divisor = p.dropout.divisor(i)

    def compute(ns: NumberSystem, v: Values) -> Flat:
        masked = ns.mul(v[f"h{i}"], v[f"d{i}"])
        return masked if divisor is None else ns.div(masked, divisor)

    return StepSpec(
        ident=StepId(kind=Kind.hd, layer=i),
        phase=Phase.forward,
        symbol=sup("h̃", i),
        formula=f"h^({i}) ⊙ d^({i})" + ("" if divisor is None else f" / {divisor}"),
        inputs=(f"h{i}", f"d{i}"),
        shape=(p.examples, p.widths[i]),
        per_example=True,
        compute=compute,
    )


def test_factor(p: Problem, layer: int) -> Decimal | None:
    """What W^(l) is multiplied by at test time: p^(l-1) under the notes' scaling, else None."""
    return None if p.dropout is None else p.dropout.test_factor(layer - 1)


def _affine(p: Problem, layer: int, test: bool) -> StepSpec:
    """z^(l) = W^(l) h^(l-1) + b^(l), row by row over the examples."""
    h_in, h_sym = (f"h{layer - 1}", sup("h", layer - 1)) if test else input_of(p, layer)
    return affine(
        p,
        StepId(kind=Kind.z, layer=layer),
        Phase.forward,
        (f"W{layer}", h_in, f"b{layer}"),
        h_sym,
        test_factor(p, layer) if test else None,
    )


def affine(
    p: Problem,
    ident: StepId,
    phase: Phase,
    names: tuple[str, str, str],
    h_sym: str,
    factor: Decimal | None,
) -> StepSpec:
    """z = W h + b from the ids of W, h and b, with the weights times `factor` first if given."""
    (w, h_in, b), layer = names, ident.layer
    assert layer is not None

    def compute(ns: NumberSystem, v: Values) -> Flat:
        weights = v[w] if factor is None else ns.mul(factor, v[w])
        return ns.matmul_nt(v[h_in], weights, v[b] if p.bias else None)

    weight = f"W^({layer})" if factor is None else f"{factor} W^({layer})"
    return StepSpec(
        ident=ident,
        phase=phase,
        symbol=sup("z", layer),
        formula=f"{weight} {h_sym}" + (f" + b^({layer})" if p.bias else ""),
        inputs=(w, h_in, b) if p.bias else (w, h_in),
        shape=(p.examples, p.widths[layer]),
        per_example=True,
        compute=compute,
        factor=factor,
    )


def _activation(p: Problem, layer: int) -> list[StepSpec]:
    """h = σ(z); on a residual layer a = σ(z) first, then h = a + h^(l-1) (section 13)."""
    act, z = ACTIVATIONS[p.activations[layer - 1]], f"z{layer}"
    kind = Kind.a if layer in p.residual else Kind.h
    value = StepSpec(
        ident=StepId(kind=kind, layer=layer),
        phase=Phase.forward,
        symbol=sup(kind, layer),
        formula=f"{act.name}(z^({layer}))",
        inputs=(z,),
        shape=(p.examples, p.widths[layer]),
        per_example=True,
        compute=lambda ns, v: act.value(ns, v[z]),
    )
    return [value, _skip(p, layer)] if layer in p.residual else [value]


def _skip(p: Problem, layer: int) -> StepSpec:
    """h^(l) = a^(l) + h^(l-1): the skip path adds the layer's input."""
    a, skip = f"a{layer}", f"h{layer - 1}"
    return StepSpec(
        ident=StepId(kind=Kind.h, layer=layer),
        phase=Phase.forward,
        symbol=sup("h", layer),
        formula=f"a^({layer}) + h^({layer - 1})",
        inputs=(a, skip),
        shape=(p.examples, p.widths[layer]),
        per_example=True,
        compute=lambda ns, v: ns.add(v[a], v[skip]),
    )


def logits(p: Problem) -> Logits:
    """What the head reads: z^(L), or z^(L) / T under temperature scaling."""
    scaled = p.temperature is not None
    return Logits(
        source="zT" if scaled else f"z{p.layers}",
        layer=p.layers,
        examples=p.examples,
        width=p.widths[-1],
        scaled=scaled,
    )


def _head(p: Problem) -> list[StepSpec]:
    scaled = [] if p.temperature is None else [_scaled_logits(p)]
    return scaled + HEADS[p.head].steps(logits(p))


def _scaled_logits(p: Problem) -> StepSpec:
    """Temperature scaling (section 7): the head reads z^(L) / T."""
    L, shape = p.layers, (p.examples, p.widths[-1])

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.div(v[f"z{L}"], ns.fill(v["T"], shape))

    return StepSpec(
        ident=StepId(kind=Kind.zT),
        phase=Phase.forward,
        symbol=logits(p).z,
        formula=f"z^({L}) / T",
        inputs=(f"z{L}", "T"),
        shape=shape,
        per_example=True,
        compute=compute,
    )
