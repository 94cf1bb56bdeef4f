"""The local Jacobians of section 9, written out as steps beside the backward pass: dh/dz,
dz/dh, dz/db, and for one example the 3-tensor dz/dW with its contraction."""

from __future__ import annotations

from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.model.backward import direct_dh
from handcalc.model.forward import input_of
from handcalc.model.ids import Kind, StepId
from handcalc.model.steps import Compute, Phase, StepSpec, Values, sup
from handcalc.numbers import Flat, NumberSystem, Shape

JACOBIAN_LIMIT = 1_000  # entries of the 3-tensor dz/dW (d_l * d_l * d_(l-1)) shown at most


def with_jacobians(p: Problem, steps: list[StepSpec]) -> list[StepSpec]:
    """Each local Jacobian just before the step that uses it; the contraction after dL/dW."""
    out: list[StepSpec] = []
    for spec in steps:
        before, after = _around(p, spec.kind, spec.layer or 0)
        out += [*before, spec, *after]
    return out


def _around(p: Problem, kind: Kind, layer: int) -> tuple[list[StepSpec], list[StepSpec]]:
    """The Jacobians written before and after the step of this kind and layer."""
    if kind in (Kind.dh_W, Kind.dhd) or (kind == Kind.dh and direct_dh(p, layer)):
        return [_weights(p, layer + 1)], []
    if kind == Kind.dz and layer < p.layers:
        return [_activation(p, layer)], []
    if kind == Kind.db:
        return [_bias(p, layer)], []
    if kind == Kind.dW and _tensor_shown(p, layer):
        return [_tensor(p, layer)], [_contraction(p, layer)]
    return [], []


def _tensor_shown(p: Problem, layer: int) -> bool:
    """dz/dW is written for a single example, when it is small enough to write."""
    return p.examples == 1 and p.widths[layer] ** 2 * p.widths[layer - 1] <= JACOBIAN_LIMIT


def _jacobian(
    ident: StepId,
    symbol: str,
    formula: str,
    inputs: tuple[str, ...],
    shape: Shape,
    compute: Compute,
    per_example: bool = False,
) -> StepSpec:
    return StepSpec(
        ident=ident,
        phase=Phase.backward,
        symbol=symbol,
        formula=formula,
        inputs=inputs,
        shape=shape,
        per_example=per_example,
        compute=compute,
    )


def _activation(p: Problem, layer: int) -> StepSpec:
    """dh/dz = diag(σ'(z)) per example."""
    n, d, source = p.examples, p.widths[layer], f"dhdz{layer}"

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.stack([ns.diag(row) for row in ns.rows(v[source])])

    return _jacobian(
        StepId(kind=Kind.J_h, layer=layer),
        f"dh^({layer})/dz^({layer})",
        f"diag(σ'(z^({layer})))",
        (source,),
        (n, d, d),
        compute,
        per_example=True,
    )


def _weights(p: Problem, layer: int) -> StepSpec:
    """dz^(l)/dh^(l-1) = W^(l), or dz^(l)/dh̃^(l-1) under dropout."""
    w, h_sym = f"W{layer}", input_of(p, layer)[1]
    return _jacobian(
        StepId(kind=Kind.J_z_h, layer=layer),
        f"dz^({layer})/d{h_sym}",
        f"W^({layer})",
        (w,),
        (p.widths[layer], p.widths[layer - 1]),
        lambda ns, v: v[w],
    )


def _bias(p: Problem, layer: int) -> StepSpec:
    """dz/db = I."""
    d = p.widths[layer]

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.diag(ns.array([Decimal(1)] * d, (d,)))

    ident = StepId(kind=Kind.J_z_b, layer=layer)
    return _jacobian(ident, f"dz^({layer})/db^({layer})", "I", (), (d, d), compute)


def _tensor(p: Problem, layer: int) -> StepSpec:
    """dz/dW as its d_l slices dz_j/dW: row j of slice j holds the layer's input (h^(l-1))^T
    (h̃^(l-1) under dropout), the rest is 0."""
    d, k, (h, h_sym) = p.widths[layer], p.widths[layer - 1], input_of(p, layer)

    def compute(ns: NumberSystem, v: Values) -> Flat:
        row = ns.rows(v[h])[0]
        zeros = ns.array([Decimal(0)] * k, (k,))
        return ns.stack([ns.stack([row if m == j else zeros for m in range(d)]) for j in range(d)])

    return _jacobian(
        StepId(kind=Kind.J_z_W, layer=layer),
        f"dz^({layer})/dW^({layer})",
        f"(dz_j/dW)_m,k = δ_jm {h_sym}_k",
        (h,),
        (d, d, k),
        compute,
    )


def _contraction(p: Problem, layer: int) -> StepSpec:
    """Σ_j (dL/dz_j) dz_j/dW: the 3-tensor contracted with the upstream gradient."""
    d, k = p.widths[layer], p.widths[layer - 1]
    dz, tensor = f"dz{layer}", f"J_z{layer}_W{layer}"

    def compute(ns: NumberSystem, v: Values) -> Flat:
        slices = ns.reshape(v[tensor], (d, d * k))
        return ns.reshape(ns.matmul_nt(v[dz], ns.transpose(slices)), (d, k))

    return _jacobian(
        StepId(kind=Kind.dW_contracted, layer=layer),
        sup("dL/dW", layer),
        f"Σ_j (dL/dz^({layer}))_j dz_j/dW^({layer})",
        (dz, tensor),
        (d, k),
        compute,
    )
