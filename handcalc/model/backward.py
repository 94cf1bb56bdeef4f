"""The backward pass (notes section 3.1): from dL/dz^(L) down the layers, the gradient in each
hidden h (through W^(l+1), the dropout mask and the skip path), in z, and in W and b."""

from __future__ import annotations

from handcalc.config.problem import Problem
from handcalc.model.forward import input_of, keep_probability
from handcalc.model.functions import ACTIVATIONS
from handcalc.model.ids import Kind, StepId
from handcalc.model.loss import output_gradient
from handcalc.model.steps import Compute, Phase, StepSpec, Values, sup
from handcalc.numbers import Flat, NumberSystem


def backward(p: Problem) -> list[StepSpec]:
    """The backward steps in the order a student writes them, output layer first."""
    out = output_gradient(p)
    for layer in range(p.layers, 0, -1):
        if layer < p.layers:
            out += [*_gradient_in_h(p, layer), _derivative(p, layer), _gradient_in_z(p, layer)]
        out += _parameter_gradients(p, layer)
    return out


def direct_dh(p: Problem, layer: int) -> bool:
    """Whether dL/dh^(l) is (W^(l+1))^T dL/dz^(l+1) itself (no skip path, no dropout mask)."""
    return layer + 1 not in p.residual and keep_probability(p, layer) is None


def _hidden(
    p: Problem, ident: StepId, symbol: str, formula: str, inputs: tuple[str, ...], compute: Compute
) -> StepSpec:
    """A per-example backward step of hidden layer `ident.layer`'s width."""
    assert ident.layer is not None
    return StepSpec(
        ident=ident,
        phase=Phase.backward,
        symbol=symbol,
        formula=formula,
        inputs=inputs,
        shape=(p.examples, p.widths[ident.layer]),
        per_example=True,
        compute=compute,
    )


def _gradient_in_h(p: Problem, layer: int) -> list[StepSpec]:
    """dL/dh^(l): through W^(l+1), then back through the mask or joined by the skip path."""
    if keep_probability(p, layer) is not None:  # first the gradient in h̃, then the mask
        return [_through_weights(p, layer, Kind.dhd, sup("dL/dh̃", layer)), _through_mask(p, layer)]
    if layer + 1 in p.residual:  # the skip path adds dL/dh^(l+1) as its own term
        return [_through_weights(p, layer, Kind.dh_W, _weights_formula(layer)), _skip(p, layer)]
    return [_through_weights(p, layer, Kind.dh, sup("dL/dh", layer))]


def _weights_formula(layer: int) -> str:
    return f"(W^({layer + 1}))^T dL/dz^({layer + 1})"


def _through_weights(p: Problem, layer: int, kind: Kind, symbol: str) -> StepSpec:
    """The gradient that reaches h^(l) through W^(l+1)."""
    w_next, dz_next = f"W{layer + 1}", f"dz{layer + 1}"

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.matmul_nt(v[dz_next], ns.transpose(v[w_next]))

    ident = StepId(kind=kind, layer=layer)
    return _hidden(p, ident, symbol, _weights_formula(layer), (w_next, dz_next), compute)


def _through_mask(p: Problem, layer: int) -> StepSpec:
    """dL/dh = diag(d) dL/dh̃, divided by p under the inverted convention; on the input of a
    residual layer the skip path's dL/dh^(l+1) is added (h^(l) reaches h^(l+1) unmasked)."""
    assert p.dropout is not None
    divisor = p.dropout.divisor(layer)
    mask, upstream = f"d{layer}", f"dhd{layer}"
    skip = f"dh{layer + 1}" if layer + 1 in p.residual else None

    def compute(ns: NumberSystem, v: Values) -> Flat:
        masked = ns.mul(v[mask], v[upstream])
        masked = masked if divisor is None else ns.div(masked, divisor)
        return masked if skip is None else ns.add(masked, v[skip])

    formula = f"diag(d^({layer})) dL/dh̃^({layer})" + ("" if divisor is None else f" / {divisor}")
    formula += "" if skip is None else f" + dL/dh^({layer + 1})"
    inputs = (mask, upstream) if skip is None else (mask, upstream, skip)
    ident = StepId(kind=Kind.dh, layer=layer)
    return _hidden(p, ident, sup("dL/dh", layer), formula, inputs, compute)


def _skip(p: Problem, layer: int) -> StepSpec:
    """dL/dh^(l) = (W^(l+1))^T dL/dz^(l+1) + dL/dh^(l+1) on the input of a residual layer."""
    via_w, upstream = f"dh{layer}_W", f"dh{layer + 1}"
    formula = f"{_weights_formula(layer)} + dL/dh^({layer + 1})"
    ident = StepId(kind=Kind.dh, layer=layer)
    return _hidden(
        p,
        ident,
        sup("dL/dh", layer),
        formula,
        (via_w, upstream),
        lambda ns, v: ns.add(v[via_w], v[upstream]),
    )


def _derivative(p: Problem, layer: int) -> StepSpec:
    """σ'(z), read from the written σ(z): h, or a on a residual layer (where h = a + h^(l-1))."""
    act = ACTIVATIONS[p.activations[layer - 1]]
    written = "a" if layer in p.residual else "h"
    reads = f"{written}{layer}" if act.reads == "h" else f"z{layer}"
    formula = act.derivative_formula.format(z=f"z^({layer})", h=f"{written}^({layer})")
    ident = StepId(kind=Kind.dhdz, layer=layer)
    return _hidden(
        p, ident, f"σ'(z^({layer}))", formula, (reads,), lambda ns, v: act.derivative(ns, v[reads])
    )


def _gradient_in_z(p: Problem, layer: int) -> StepSpec:
    derivative, dh = f"dhdz{layer}", f"dh{layer}"
    return _hidden(
        p,
        StepId(kind=Kind.dz, layer=layer),
        sup("dL/dz", layer),
        f"σ'(z^({layer})) ⊙ dL/dh^({layer})",
        (derivative, dh),
        lambda ns, v: ns.mul(v[derivative], v[dh]),
    )


def _parameter_gradients(p: Problem, layer: int) -> list[StepSpec]:
    """dL/db = dL/dz and dL/dW = dL/dz (h^(l-1))^T, summed over the examples of a batch."""
    bias = [_bias_gradient(p, layer)] if p.bias else []
    return [*bias, _weight_gradient(p, layer)]


def _summed(p: Problem) -> str:
    return "Σ_n " if p.examples > 1 else ""


def _bias_gradient(p: Problem, layer: int) -> StepSpec:
    dz = f"dz{layer}"
    return StepSpec(
        ident=StepId(kind=Kind.db, layer=layer),
        phase=Phase.backward,
        symbol=sup("dL/db", layer),
        formula=f"{_summed(p)}dL/dz^({layer})",
        inputs=(dz,),
        shape=(p.widths[layer],),
        per_example=False,
        compute=lambda ns, v: ns.total(v[dz], 0),
    )


def _weight_gradient(p: Problem, layer: int) -> StepSpec:
    dz, (h_in, h_sym) = f"dz{layer}", input_of(p, layer)

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.matmul_nt(ns.transpose(v[dz]), ns.transpose(v[h_in]))

    return StepSpec(
        ident=StepId(kind=Kind.dW, layer=layer),
        phase=Phase.backward,
        symbol=sup("dL/dW", layer),
        formula=f"{_summed(p)}dL/dz^({layer}) ({h_sym})^T",
        inputs=(dz, h_in),
        shape=(p.widths[layer], p.widths[layer - 1]),
        per_example=False,
        compute=compute,
    )
