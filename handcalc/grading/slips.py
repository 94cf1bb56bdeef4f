"""The usual slips, by step kind: what a step gives when the slip is made, as step code.

Each slip is computed from the student's own inputs, as the step itself is, so a slip is named even
when the inputs already carried an earlier error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.model import ids
from handcalc.model.functions import ACTIVATIONS, LOSSES
from handcalc.model.ids import Kind
from handcalc.model.steps import Compute, Phase, StepSpec, Values
from handcalc.numbers import Flat, NumberSystem

LN10 = Decimal(10).ln()
ZERO_BASED = "the label read 0-based (class c taken as c + 1)"
LEFT_OUT = "the batch 1/N left out"
HEAD_LEFT_OUT = "the head's derivative left out (dL/dz^(L) = dL/dŷ)"


@dataclass(frozen=True, slots=True)
class Slip:
    """A usual mistake: what the step gives when it is made, from the student's own inputs.

    `reads` names values the slip needs beyond the step's own inputs.
    """

    name: str
    compute: Compute
    reads: tuple[str, ...] = ()


def slips(p: Problem, spec: StepSpec) -> list[Slip]:
    """The slips worth trying on a step of problem `p` (none for most steps)."""
    if _is_output_gradient(spec):
        return _output_slips(p)
    if spec.phase is Phase.loss:
        return _reduction_slips(p) if spec.inputs == ("losses",) else _loss_slips(p, spec)
    builder = BY_KIND.get(spec.kind)
    return builder(p, spec, spec.layer or 0) if builder else []


def _is_output_gradient(spec: StepSpec) -> bool:
    """The gradient taken of the loss itself: read from ŷ and y."""
    return spec.phase is Phase.backward and _kinds(spec.inputs) == [Kind.yhat, Kind.y]


def _id(kind: Kind, layer: int) -> str:
    return str(ids.StepId(kind=kind, layer=layer))


def _kinds(step_ids: tuple[str, ...]) -> list[Kind | None]:
    parsed = [ids.parse(s) for s in step_ids]
    return [None if s is None else s.kind for s in parsed]


def _outer_slips(p: Problem, spec: StepSpec, layer: int) -> list[Slip]:
    dz, h = spec.inputs
    out = _batch_twice(p, lambda ns, v: ns.matmul_nt(ns.transpose(v[dz]), ns.transpose(v[h])))
    rows, cols = spec.shape
    if rows == cols:
        out.insert(
            0,
            Slip(
                name="the outer product transposed (h dz^T instead of dz h^T)",
                compute=lambda ns, v: ns.matmul_nt(ns.transpose(v[h]), ns.transpose(v[dz])),
            ),
        )
    return out


def _bias_slips(p: Problem, spec: StepSpec, layer: int) -> list[Slip]:
    return _batch_twice(p, lambda ns, v: ns.total(next(iter(v.values())), 0))


def _batch_twice(p: Problem, base: Compute) -> list[Slip]:
    if p.reduction != "mean" or p.examples < 2:
        return []
    n = Decimal(p.examples)
    return [Slip(name="the batch 1/N applied twice", compute=lambda ns, v: ns.div(base(ns, v), n))]


def _output_slips(p: Problem) -> list[Slip]:
    """The gradient of the loss itself: its sign, the batch's 1/N, the label's index."""
    loss, dl, n = LOSSES[p.loss], p.widths[-1], Decimal(p.examples)
    mean = p.reduction == "mean" and p.examples > 1

    def grad(ns: NumberSystem, v: Values, y: Flat | None = None) -> Flat:
        return loss.gradient(ns, v["yhat"], v["y"] if y is None else y, dl)

    def scaled(ns: NumberSystem, g: Flat) -> Flat:
        return ns.div(g, n) if mean else g

    out = [
        Slip(
            name="y - ŷ instead of ŷ - y (the sign flipped)",
            compute=lambda ns, v: ns.neg(scaled(ns, grad(ns, v))),
        )
    ]
    if mean:
        out += [
            Slip(name=LEFT_OUT, compute=grad),
            Slip(
                name="the batch 1/N applied twice",
                compute=lambda ns, v: ns.div(ns.div(grad(ns, v), n), n),
            ),
        ]
    shifted = _shifted_targets(p)
    if shifted is not None:
        out.append(Slip(name=ZERO_BASED, compute=lambda ns, v: scaled(ns, grad(ns, v, shifted))))
    return out


def _shifted_targets(p: Problem) -> Flat | None:
    """The one-hot targets a student gets by reading label c as index c, i.e. class c + 1."""
    dl = p.widths[-1]
    if p.labels is None or any(c >= dl for c in p.labels):
        return None
    data = [Decimal(1) if j == c else Decimal(0) for c in p.labels for j in range(dl)]
    return Flat(shape=(len(p.labels), dl), data=data)


def _derivative_slips(p: Problem, spec: StepSpec, layer: int) -> list[Slip]:
    return _at_h(p, layer, times=None)


def _dz_slips(p: Problem, spec: StepSpec, layer: int) -> list[Slip]:
    """dL/dz^(l): σ'(z^(l)) ⊙ dL/dh^(l) of a hidden layer, or the head's Jacobian times dL/dŷ."""
    if _kinds(spec.inputs) in ([Kind.dyhat_dz, Kind.dyhat], [Kind.J_softmax, Kind.dyhat]):
        return [Slip(name=HEAD_LEFT_OUT, compute=lambda ns, v: v["dyhat"])]
    if _kinds(spec.inputs) != [Kind.dhdz, Kind.dh]:
        return []
    return _hidden_dz_slips(p, spec, layer)


def _hidden_dz_slips(p: Problem, spec: StepSpec, layer: int) -> list[Slip]:
    """dL/dz^(l) = σ'(z^(l)) ⊙ dL/dh^(l) of a hidden layer."""
    dh = spec.inputs[1]
    left_out = Slip(
        name="the activation derivative left out (dL/dz = dL/dh)", compute=lambda ns, v: v[dh]
    )
    return [left_out, *_at_h(p, layer, times=dh)]


def _at_h(p: Problem, layer: int, times: str | None) -> list[Slip]:
    """σ' evaluated at h instead of z (then times `times`, when given).

    It differs only for the activations whose σ' reads h.
    """
    act, h = ACTIVATIONS[p.activations[layer - 1]], _id(Kind.h, layer)
    if act.reads != "h":
        return []
    name = "the derivative taken at h instead of z (σ'(h))"

    def at_h(ns: NumberSystem, v: Values) -> Flat:
        return act.derivative(ns, act.value(ns, v[h]))

    if times is None:
        return [Slip(name=name, compute=at_h)]
    return [Slip(name=name, compute=lambda ns, v: ns.mul(at_h(ns, v), v[times]), reads=(h,))]


def _dh_slips(p: Problem, spec: StepSpec, layer: int) -> list[Slip]:
    """dL/dh^(l) through W^(l+1): the updated W, or W not transposed (when it is square)."""
    if _kinds(spec.inputs) != [Kind.W, Kind.dz]:  # the skip path's sum, or back through a mask
        return []
    w, dz = spec.inputs
    updated = _id(Kind.W_next, layer + 1)
    out = [
        Slip(
            name="the already-updated W^(l+1) used for dL/dh^(l)",
            compute=lambda ns, v: ns.matmul_nt(v[dz], ns.transpose(v[updated])),
            reads=(updated,),
        )
    ]
    if p.widths[layer] == p.widths[layer + 1]:
        out.append(
            Slip(
                name="W used instead of W^T (dL/dh = W dL/dz)",
                compute=lambda ns, v: ns.matmul_nt(v[dz], v[w]),
            )
        )
    return out


def _update_slips(p: Problem, spec: StepSpec, layer: int) -> list[Slip]:
    """Plain gradient descent only (θ - η dL/dθ): other optimizers' updates read more."""
    theta, grad = spec.inputs
    if _kinds((grad,))[0] in (Kind.deltaW, Kind.deltab):  # θ + Δθ
        return [
            Slip(
                name="the change subtracted (W - ΔW)",
                compute=lambda ns, v: ns.sub(v[theta], v[grad]),
            )
        ]
    if p.optimizer.name != "sgd" or p.optimizer.weight_decay:
        return []
    rate = p.learning_rate
    return [
        Slip(
            name="the update's sign flipped (W + η g)",
            compute=lambda ns, v: ns.add(v[theta], ns.mul(rate, v[grad])),
        ),
        Slip(
            name="the learning rate left out (W - g)",
            compute=lambda ns, v: ns.sub(v[theta], v[grad]),
        ),
    ]


def _delta_slips(p: Problem, spec: StepSpec, layer: int) -> list[Slip]:
    """ΔW = -η times the direction: the sign lost, or η left out."""
    (direction,) = spec.inputs
    rate = p.learning_rate
    return [
        Slip(
            name="the sign of ΔW flipped (ΔW = +η g)",
            compute=lambda ns, v: ns.mul(rate, v[direction]),
        ),
        Slip(
            name="the learning rate left out (ΔW = -g)",
            compute=lambda ns, v: ns.neg(v[direction]),
        ),
    ]


def _reduction_slips(p: Problem) -> list[Slip]:
    """L from the per-example losses: the mean's 1/N left out, or taken where the sum is meant."""
    n = Decimal(p.examples)
    if p.examples < 2:
        return []
    if p.reduction == "mean":
        return [Slip(name=LEFT_OUT, compute=lambda ns, v: ns.total(v["losses"], 0))]
    return [
        Slip(
            name="the mean taken instead of the sum (1/N applied)",
            compute=lambda ns, v: ns.div(ns.total(v["losses"], 0), n),
        )
    ]


def _loss_slips(p: Problem, spec: StepSpec) -> list[Slip]:
    loss, dl = LOSSES[p.loss], p.widths[-1]

    def per_example(ns: NumberSystem, v: Values, y: Flat) -> Flat:
        per = loss.per_example(ns, v["yhat"], y, dl)
        return ns.reshape(per, ()) if spec.shape == () else per

    out = []
    if loss.name in ("cross_entropy", "binary_cross_entropy"):
        out.append(
            Slip(
                name="log10 instead of ln",
                compute=lambda ns, v: ns.div(per_example(ns, v, v["y"]), LN10),
            )
        )
    shifted = _shifted_targets(p) if "y" in spec.inputs else None
    if shifted is not None:
        out.append(Slip(name=ZERO_BASED, compute=lambda ns, v: per_example(ns, v, shifted)))
    return out


BY_KIND: dict[Kind, Callable[[Problem, StepSpec, int], list[Slip]]] = {
    Kind.dW: _outer_slips,
    Kind.db: _bias_slips,
    Kind.dhdz: _derivative_slips,
    Kind.dz: _dz_slips,
    Kind.dzT: _dz_slips,
    Kind.dh: _dh_slips,
    Kind.dh_W: _dh_slips,
    Kind.dhd: _dh_slips,
    Kind.W_next: _update_slips,
    Kind.b_next: _update_slips,
    Kind.deltaW: _delta_slips,
    Kind.deltab: _delta_slips,
}
