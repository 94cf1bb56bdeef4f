"""The update cycle of the notes (section 3.1) as an ordered list of steps, and its runner.

Every step is data: an id, a phase, its symbol and formula in the notes' notation, the ids it reads
and a compute function of a number system and those inputs. The same list runs in the hand system
and in float64, and any single step can be recomputed from other inputs (answer checking).
Per-example quantities carry a leading example axis (N x d) inside the run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from typing import Any

from handcalc.config.problem import Block, Problem
from handcalc.errors import ComputationError
from handcalc.model import optimizers as optim
from handcalc.model.functions import ACTIVATIONS, LOSSES, ONE
from handcalc.model.ids import parse
from handcalc.numbers import Breakdown, NumberSystem, Shape

Compute = Callable[[NumberSystem, Mapping[str, Any]], Any]
PHASES = ("given", "forward", "loss", "backward", "update", "test")


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One written-down quantity of the cycle; `compute` is None for given numbers."""

    id: str
    phase: str
    symbol: str
    formula: str
    inputs: tuple[str, ...]
    shape: Shape
    per_example: bool
    compute: Compute | None = None
    # (symbol, per-example shape) of the input a breakdown's entry index points into, when
    # that is not the step's own value (a loss takes ln of entries of ŷ)
    operand: tuple[str, Shape] | None = None


def dropped(p: Problem, i: int) -> Decimal | None:
    """The keep probability of layer input h^(i) when dropout acts on it, else None."""
    if p.dropout is None or p.dropout.keep[i] >= 1:
        return None
    return p.dropout.keep[i]


def direct_dh(p: Problem, layer: int) -> bool:
    """Whether dL/dh^(l) is (W^(l+1))^T dL/dz^(l+1) itself (no skip path, no dropout mask)."""
    return layer + 1 not in p.residual and dropped(p, layer) is None


def sup(name: str, layer: int) -> str:
    return f"{name}^({layer})"


JACOBIAN_LIMIT = 1_000  # entries of the 3-tensor dz/dW (d_l * d_l * d_(l-1)) shown at most


def build(p: Problem, jacobians: bool = False, t: int = 1) -> list[StepSpec]:
    """The steps of iteration t, in the order a student writes them.

    With `jacobians`, the local Jacobians of section 9 are written out as steps too.
    """
    backward = _backward(p)
    if jacobians:
        backward = _with_jacobians(p, backward)
    test = _test_pass(p) if p.dropout is not None else []
    return [*_given(p), *_forward(p), *_head(p), *_loss(p), *backward, *_update(p, t), *test]


def _given(p: Problem) -> list[StepSpec]:
    out = [
        StepSpec(k, "given", sup(k[0], int(k[1:])), "given", (), b.shape, False)
        for k, b in p.parameters.items()
    ]
    x_formula = "x"
    y_formula = "one-hot of the label c" if p.labels is not None else "target"
    n, d0, dl = p.examples, p.widths[0], p.widths[-1]
    out.append(StepSpec("h0", "given", "h^(0)", x_formula, (), (n, d0), True))
    out.append(StepSpec("y", "given", "y", y_formula, (), (n, dl), True))
    if p.temperature is not None:
        out.append(StepSpec("T", "given", "T", "the temperature", (), (), False))
    for i in range(p.layers):
        keep = dropped(p, i)
        if keep is not None:
            how = "given" if p.dropout and f"d{i}" in p.dropout.masks else f"drawn, keep p = {keep}"
            out.append(
                StepSpec(
                    f"d{i}",
                    "given",
                    sup("d", i),
                    f"the dropout mask ({how})",
                    (),
                    (n, p.widths[i]),
                    True,
                )
            )
    shapes = {k: b.shape for k, b in p.parameters.items()}
    for sid, shape in optim.initial_state(p.optimizer, shapes).items():
        name = sid[1:].removesuffix("_prev")
        symbol = f"{sid[0]}_{name[0]}^({name[1:]})_prev"
        out.append(
            StepSpec(
                sid, "given", symbol, "the optimizer's state (0 at the start)", (), shape, False
            )
        )
    return out


def _forward(p: Problem) -> list[StepSpec]:
    out: list[StepSpec] = []
    for layer in range(1, p.layers + 1):
        if dropped(p, layer - 1) is not None:
            out.append(_masked(p, layer - 1))
        out.append(_affine(p, layer))
        if layer < p.layers:
            out += _activation(p, layer)
    return out


def _test_pass(p: Problem) -> list[StepSpec]:
    """The forward pass at test time with the updated parameters and no dropout: the notes
    multiply the weights by p instead; the inverted convention needs no change."""
    assert p.dropout is not None
    n, L = p.examples, p.layers
    out: list[StepSpec] = []
    for layer in range(1, L + 1):
        keep = dropped(p, layer - 1)
        scale = keep if keep is not None and p.dropout.scaling == "notes" else None
        h_in = "h0" if layer == 1 else f"th{layer - 1}"
        w, b = f"W{layer}_next", f"b{layer}_next"

        def affine(
            ns: NumberSystem,
            v: Mapping[str, Any],
            h_in: str = h_in,
            w: str = w,
            b: str = b,
            scale: Decimal | None = scale,
        ) -> Any:
            weights = v[w] if scale is None else ns.mul(scale, v[w])
            return ns.matmul_nt(v[h_in], weights, v[b] if p.bias else None)

        weight = f"{scale} W^({layer})" if scale is not None else f"W^({layer})"
        h_sym = "x" if layer == 1 else f"h^({layer - 1})"
        formula = f"{weight} {h_sym}" + (f" + b^({layer})" if p.bias else "")
        inputs = (w, h_in, b) if p.bias else (w, h_in)
        out.append(
            StepSpec(
                f"tz{layer}",
                "test",
                sup("z", layer),
                formula,
                inputs,
                (n, p.widths[layer]),
                True,
                affine,
            )
        )
        if layer < L:
            act = ACTIVATIONS[p.activations[layer - 1]]
            out.append(
                StepSpec(
                    f"th{layer}",
                    "test",
                    sup("h", layer),
                    f"{act.name}(z^({layer}))",
                    (f"tz{layer}",),
                    (n, p.widths[layer]),
                    True,
                    partial(_apply, act.value, f"tz{layer}"),
                )
            )
    out.append(
        StepSpec(
            "tyhat",
            "test",
            "ŷ",
            f"{p.head}(z^({L}))",
            (f"tz{L}",),
            (n, p.widths[-1]),
            True,
            lambda ns, v: head_value(ns, p, v[f"tz{L}"]),
        )
    )
    return out


def _apply(
    fn: Callable[[NumberSystem, Any], Any], source: str, ns: NumberSystem, v: Mapping[str, Any]
) -> Any:
    return fn(ns, v[source])


def head_value(ns: NumberSystem, p: Problem, z: Any) -> Any:
    """The head in one step (softmax: e^z / Σ e^z), for passes that need no worked parts."""
    if p.head == "identity":
        return z
    if p.head == "sigmoid":
        return ACTIVATIONS["sigmoid"].value(ns, z)
    e = ns.exp(z)
    return ns.div(e, ns.repeat_columns(ns.total(e, 1), p.widths[-1]))


def _masked(p: Problem, i: int) -> StepSpec:
    """h̃ = h ⊙ d (section 11); the inverted convention also divides by p while training."""
    keep = dropped(p, i)
    assert keep is not None and p.dropout is not None
    inverted = p.dropout.scaling == "inverted"

    def compute(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        masked = ns.mul(v[f"h{i}"], v[f"d{i}"])
        return ns.div(masked, keep) if inverted else masked

    formula = f"h^({i}) ⊙ d^({i})" + (f" / {keep}" if inverted else "")
    return StepSpec(
        f"hd{i}",
        "forward",
        sup("h̃", i),
        formula,
        (f"h{i}", f"d{i}"),
        (p.examples, p.widths[i]),
        True,
        compute,
    )


def input_of(p: Problem, layer: int) -> tuple[str, str]:
    """The id and symbol layer `layer` reads: h^(l-1), or its masked h̃^(l-1) under dropout."""
    i = layer - 1
    return (f"hd{i}", f"h̃^({i})") if dropped(p, i) is not None else (f"h{i}", f"h^({i})")


def _affine(p: Problem, layer: int) -> StepSpec:
    (h_in, h_sym), w, b = input_of(p, layer), f"W{layer}", f"b{layer}"
    formula = f"W^({layer}) {h_sym}" + (f" + b^({layer})" if p.bias else "")

    def compute(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.matmul_nt(v[h_in], v[w], v[b] if p.bias else None)

    inputs = (w, h_in, b) if p.bias else (w, h_in)
    shape = (p.examples, p.widths[layer])
    return StepSpec(f"z{layer}", "forward", sup("z", layer), formula, inputs, shape, True, compute)


def _activation(p: Problem, layer: int) -> list[StepSpec]:
    """h = σ(z); on a residual layer a = σ(z) first, then h = a + h^(l-1) (section 13)."""
    act, z = ACTIVATIONS[p.activations[layer - 1]], f"z{layer}"
    shape = (p.examples, p.widths[layer])

    def compute(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return act.value(ns, v[z])

    formula = f"{act.name}(z^({layer}))"
    if layer not in p.residual:
        return [
            StepSpec(f"h{layer}", "forward", sup("h", layer), formula, (z,), shape, True, compute)
        ]
    a, skip = f"a{layer}", f"h{layer - 1}"
    return [
        StepSpec(a, "forward", sup("a", layer), formula, (z,), shape, True, compute),
        StepSpec(
            f"h{layer}",
            "forward",
            sup("h", layer),
            f"a^({layer}) + h^({layer - 1})",
            (a, skip),
            shape,
            True,
            lambda ns, v: ns.add(v[a], v[skip]),
        ),
    ]


def _head(p: Problem) -> list[StepSpec]:
    n, L, dl = p.examples, p.layers, p.widths[-1]
    scaled = [] if p.temperature is None else [_scaled_logits(p)]
    zl = f"z{L}" if p.temperature is None else "zT"
    return scaled + _head_of(p, zl, n, L, dl)


def _scaled_logits(p: Problem) -> StepSpec:
    """Temperature scaling (section 7): the head reads z^(L) / T."""
    n, L, dl = p.examples, p.layers, p.widths[-1]

    def compute(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.div(v[f"z{L}"], ns.fill(v["T"], (n, dl)))

    return StepSpec(
        "zT", "forward", f"z̃^({L})", f"z^({L}) / T", (f"z{L}", "T"), (n, dl), True, compute
    )


def _head_of(p: Problem, zl: str, n: int, L: int, dl: int) -> list[StepSpec]:
    if p.head == "identity":
        return [
            StepSpec("yhat", "forward", "ŷ", f"z^({L})", (zl,), (n, dl), True, lambda ns, v: v[zl])
        ]
    if p.head == "sigmoid":
        sig = ACTIVATIONS["sigmoid"].value
        return [
            StepSpec(
                "yhat",
                "forward",
                "ŷ",
                f"1 / (1 + e^(-z^({L})))",
                (zl,),
                (n, dl),
                True,
                lambda ns, v: sig(ns, v[zl]),
            )
        ]
    return [
        StepSpec(
            "exp_z",
            "forward",
            f"exp(z^({L}))",
            f"exp(z^({L})_j)",
            (zl,),
            (n, dl),
            True,
            lambda ns, v: ns.exp(v[zl]),
        ),
        StepSpec(
            "sum_exp",
            "forward",
            "S",
            f"Σ_j exp(z^({L})_j)",
            ("exp_z",),
            (n,),
            True,
            lambda ns, v: ns.total(v["exp_z"], 1),
        ),
        StepSpec(
            "yhat",
            "forward",
            "ŷ",
            f"exp(z^({L})) / S",
            ("exp_z", "sum_exp"),
            (n, dl),
            True,
            lambda ns, v: ns.div(v["exp_z"], ns.repeat_columns(v["sum_exp"], dl)),
        ),
    ]


def _loss(p: Problem) -> list[StepSpec]:
    loss, n, dl = LOSSES[p.loss], p.examples, p.widths[-1]

    def per_example(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return loss.per_example(ns, v["yhat"], v["y"], dl)

    if not p.batched:
        return [
            StepSpec(
                "loss",
                "loss",
                "L",
                loss.formula,
                ("yhat", "y"),
                (),
                False,
                lambda ns, v: ns.reshape(per_example(ns, v), ()),
                operand=("ŷ", (dl,)),
            )
        ]

    def reduce(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        s = ns.total(v["losses"], 0)
        return ns.div(s, Decimal(n)) if p.reduction == "mean" else s

    formula = "(1/N) Σ_n L_n" if p.reduction == "mean" else "Σ_n L_n"
    return [
        StepSpec(
            "losses",
            "loss",
            "L_n",
            loss.formula,
            ("yhat", "y"),
            (n,),
            True,
            per_example,
            operand=("ŷ", (dl,)),
        ),
        StepSpec("loss", "loss", "L", formula, ("losses",), (), False, reduce),
    ]


def _batch_mean(p: Problem) -> tuple[str, Callable[[NumberSystem, Any], Any]]:
    """With mean reduction over N > 1 examples, the per-example gradient carries 1/N."""
    if p.reduction == "mean" and p.examples > 1:
        n = Decimal(p.examples)
        return " / N", lambda ns, g: ns.div(g, n)
    return "", lambda ns, g: g


def _output_gradient(p: Problem) -> list[StepSpec]:
    loss, n, L, dl = LOSSES[p.loss], p.examples, p.layers, p.widths[-1]
    suffix, scale = _batch_mean(p)
    dz, symbol, shape = f"dz{L}", f"dL/dz^({L})", (n, dl)

    def gradient(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return scale(ns, loss.gradient(ns, v["yhat"], v["y"], dl))

    grad_formula = f"({loss.gradient_formula}){suffix}" if suffix else loss.gradient_formula
    if loss.fused is not None:
        return [
            StepSpec(dz, "backward", symbol, grad_formula, ("yhat", "y"), shape, True, gradient)
        ]
    out = [
        StepSpec("dyhat", "backward", "dL/dŷ", grad_formula, ("yhat", "y"), shape, True, gradient)
    ]
    if p.head == "identity":
        out.append(
            StepSpec(
                dz, "backward", symbol, "dL/dŷ", ("dyhat",), shape, True, lambda ns, v: v["dyhat"]
            )
        )
    elif p.head == "sigmoid":
        out += [
            StepSpec(
                "dyhat_dz",
                "backward",
                f"diag(dŷ/dz^({L}))",
                "ŷ (1 - ŷ)",
                ("yhat",),
                shape,
                True,
                lambda ns, v: ns.mul(v["yhat"], ns.sub(ONE, v["yhat"])),
            ),
            StepSpec(
                dz,
                "backward",
                symbol,
                f"diag(dŷ/dz^({L})) ⊙ dL/dŷ",
                ("dyhat_dz", "dyhat"),
                shape,
                True,
                lambda ns, v: ns.mul(v["dyhat_dz"], v["dyhat"]),
            ),
        ]
    else:
        out += [
            StepSpec(
                "J_softmax",
                "backward",
                f"dŷ/dz^({L})",
                "diag(ŷ) - ŷ ŷ^T",
                ("yhat",),
                (n, dl, dl),
                True,
                lambda ns, v: _softmax_jacobian(ns, v["yhat"], dl),
            ),
            StepSpec(
                dz,
                "backward",
                symbol,
                f"(dŷ/dz^({L}))^T dL/dŷ",
                ("J_softmax", "dyhat"),
                shape,
                True,
                lambda ns, v: _jacobian_t_vec(ns, v["J_softmax"], v["dyhat"], dl),
            ),
        ]
    return out


def _through_temperature(p: Problem, steps: list[StepSpec]) -> list[StepSpec]:
    """The head's gradient is taken in z^(L)/T; dL/dz^(L) divides it by T once more."""
    L, shape = p.layers, (p.examples, p.widths[-1])
    head = replace(steps[-1], id="dzT", symbol=f"dL/dz̃^({L})")

    def compute(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.div(v["dzT"], ns.fill(v["T"], shape))

    return [
        *steps[:-1],
        head,
        StepSpec(
            f"dz{L}",
            "backward",
            f"dL/dz^({L})",
            f"dL/dz̃^({L}) / T",
            ("dzT", "T"),
            shape,
            True,
            compute,
        ),
    ]


def _softmax_jacobian(ns: NumberSystem, yhat: Any, d: int) -> Any:
    """diag(p) - p p^T for each example."""
    blocks = []
    for p in ns.rows(yhat):
        col = ns.reshape(p, (d, 1))
        blocks.append(ns.sub(ns.diag(p), ns.matmul_nt(col, col)))
    return ns.stack(blocks)


def _jacobian_t_vec(ns: NumberSystem, jac: Any, g: Any, d: int) -> Any:
    """J^T g for each example: entry i is Σ_j J_ji g_j."""
    rows = [
        ns.reshape(ns.matmul_nt(ns.reshape(gn, (1, d)), ns.transpose(jn)), (d,))
        for jn, gn in zip(ns.rows(jac), ns.rows(g), strict=True)
    ]
    return ns.stack(rows)


def _backward(p: Problem) -> list[StepSpec]:
    out = _output_gradient(p)
    if p.temperature is not None:
        out = _through_temperature(p, out)
    for layer in range(p.layers, 0, -1):
        if layer < p.layers:
            out += _hidden_gradient(p, layer)
        out += _parameter_gradients(p, layer)
    return out


def _parameter_gradients(p: Problem, layer: int) -> list[StepSpec]:
    """dL/db = dL/dz and dL/dW = dL/dz (h^(l-1))^T, summed over the examples of a batch."""
    dz, (h_in, h_sym) = f"dz{layer}", input_of(p, layer)
    summed = "Σ_n " if p.examples > 1 else ""

    def bias(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.total(v[dz], 0)

    def weights(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.matmul_nt(ns.transpose(v[dz]), ns.transpose(v[h_in]))

    out = []
    if p.bias:
        out.append(
            StepSpec(
                f"db{layer}",
                "backward",
                sup("dL/db", layer),
                f"{summed}dL/dz^({layer})",
                (dz,),
                (p.widths[layer],),
                False,
                bias,
            )
        )
    out.append(
        StepSpec(
            f"dW{layer}",
            "backward",
            sup("dL/dW", layer),
            f"{summed}dL/dz^({layer}) ({h_sym})^T",
            (dz, h_in),
            (p.widths[layer], p.widths[layer - 1]),
            False,
            weights,
        )
    )
    return out


def _hidden_gradient(p: Problem, layer: int) -> list[StepSpec]:
    n, d = p.examples, p.widths[layer]
    act = ACTIVATIONS[p.activations[layer - 1]]
    w_next, dz_next = f"W{layer + 1}", f"dz{layer + 1}"
    # σ' read from the written σ(z): h, or a on a residual layer (where h = a + h^(l-1))
    written = "a" if layer in p.residual else "h"
    reads = f"{written}{layer}" if act.reads == "h" else f"z{layer}"
    deriv = act.derivative_formula.format(z=f"z^({layer})", h=f"{written}^({layer})")
    through_w = f"(W^({layer + 1}))^T dL/dz^({layer + 1})"

    def main(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.matmul_nt(v[dz_next], ns.transpose(v[w_next]))

    def via_w(step_id: str, symbol: str) -> StepSpec:
        """The gradient that reaches h^(l) through W^(l+1)."""
        return StepSpec(
            step_id, "backward", symbol, through_w, (w_next, dz_next), (n, d), True, main
        )

    keep = dropped(p, layer)
    if keep is not None:  # back through diag(d): first the gradient in h̃, then the mask
        assert p.dropout is not None
        inverted = p.dropout.scaling == "inverted"

        def through_mask(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
            masked = ns.mul(v[f"d{layer}"], v[f"dhd{layer}"])
            return ns.div(masked, keep) if inverted else masked

        gradient = [
            via_w(f"dhd{layer}", sup("dL/dh̃", layer)),
            StepSpec(
                f"dh{layer}",
                "backward",
                sup("dL/dh", layer),
                f"diag(d^({layer})) dL/dh̃^({layer})" + (f" / {keep}" if inverted else ""),
                (f"d{layer}", f"dhd{layer}"),
                (n, d),
                True,
                through_mask,
            ),
        ]
    elif layer + 1 in p.residual:  # the skip path adds dL/dh^(l+1) as its own term
        upstream = f"dh{layer + 1}"
        gradient = [
            via_w(f"dh{layer}_W", through_w),
            StepSpec(
                f"dh{layer}",
                "backward",
                sup("dL/dh", layer),
                f"{through_w} + dL/dh^({layer + 1})",
                (f"dh{layer}_W", upstream),
                (n, d),
                True,
                lambda ns, v: ns.add(v[f"dh{layer}_W"], v[upstream]),
            ),
        ]
    else:
        gradient = [via_w(f"dh{layer}", sup("dL/dh", layer))]
    return [
        *gradient,
        StepSpec(
            f"dhdz{layer}",
            "backward",
            f"σ'(z^({layer}))",
            deriv,
            (reads,),
            (n, d),
            True,
            lambda ns, v: act.derivative(ns, v[reads]),
        ),
        StepSpec(
            f"dz{layer}",
            "backward",
            sup("dL/dz", layer),
            f"σ'(z^({layer})) ⊙ dL/dh^({layer})",
            (f"dhdz{layer}", f"dh{layer}"),
            (n, d),
            True,
            lambda ns, v: ns.mul(v[f"dhdz{layer}"], v[f"dh{layer}"]),
        ),
    ]


def _with_jacobians(p: Problem, steps: list[StepSpec]) -> list[StepSpec]:
    """Each local Jacobian just before the step that uses it; the contraction after dL/dW."""
    out: list[StepSpec] = []
    for spec in steps:
        step = parse(spec.id)
        assert step is not None, spec.id
        kind, layer = step.kind, step.layer or 0
        if kind in ("dh_W", "dhd") or (kind == "dh" and direct_dh(p, layer)):
            out.append(_jacobian_weights(p, layer))
        elif kind == "dz" and layer < p.layers:
            out.append(_jacobian_activation(p, layer))
        elif kind == "db":
            out.append(_jacobian_bias(p, layer))
        elif (
            kind == "dW"
            and p.examples == 1
            and p.widths[layer] ** 2 * p.widths[layer - 1] <= JACOBIAN_LIMIT
        ):
            out += [_jacobian_tensor(p, layer), spec, _contraction(p, layer)]
            continue
        out.append(spec)
    return out


def _jacobian_activation(p: Problem, layer: int) -> StepSpec:
    n, d, source = p.examples, p.widths[layer], f"dhdz{layer}"

    def compute(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.stack([ns.diag(row) for row in ns.rows(v[source])])

    return StepSpec(
        f"J_h{layer}",
        "backward",
        f"dh^({layer})/dz^({layer})",
        f"diag(σ'(z^({layer})))",
        (source,),
        (n, d, d),
        True,
        compute,
    )


def _jacobian_weights(p: Problem, layer: int) -> StepSpec:
    w = f"W{layer + 1}"
    return StepSpec(
        f"J_z{layer + 1}_h{layer}",
        "backward",
        f"dz^({layer + 1})/dh^({layer})",
        f"W^({layer + 1})",
        (w,),
        (p.widths[layer + 1], p.widths[layer]),
        False,
        lambda ns, v: v[w],
    )


def _jacobian_bias(p: Problem, layer: int) -> StepSpec:
    d = p.widths[layer]

    def compute(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.diag(ns.array([Decimal(1)] * d, (d,)))

    return StepSpec(
        f"J_z{layer}_b{layer}",
        "backward",
        f"dz^({layer})/db^({layer})",
        "I",
        (),
        (d, d),
        False,
        compute,
    )


def _jacobian_tensor(p: Problem, layer: int) -> StepSpec:
    """dz/dW as its d_l slices dz_j/dW: row j of slice j holds (h^(l-1))^T, the rest is 0."""
    d, k, h = p.widths[layer], p.widths[layer - 1], f"h{layer - 1}"

    def compute(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        row = ns.rows(v[h])[0]
        zeros = ns.array([Decimal(0)] * k, (k,))
        return ns.stack([ns.stack([row if m == j else zeros for m in range(d)]) for j in range(d)])

    return StepSpec(
        f"J_z{layer}_W{layer}",
        "backward",
        f"dz^({layer})/dW^({layer})",
        f"(dz_j/dW)_m,k = δ_jm h^({layer - 1})_k",
        (h,),
        (d, d, k),
        False,
        compute,
    )


def _contraction(p: Problem, layer: int) -> StepSpec:
    """Σ_j (dL/dz_j) dz_j/dW: the 3-tensor contracted with the upstream gradient."""
    d, k = p.widths[layer], p.widths[layer - 1]
    dz, tensor = f"dz{layer}", f"J_z{layer}_W{layer}"

    def compute(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        slices = ns.reshape(v[tensor], (d, d * k))
        return ns.reshape(ns.matmul_nt(v[dz], ns.transpose(slices)), (d, k))

    return StepSpec(
        f"dW{layer}_contracted",
        "backward",
        sup("dL/dW", layer),
        f"Σ_j (dL/dz^({layer}))_j dz_j/dW^({layer})",
        (dz, tensor),
        (d, k),
        False,
        compute,
    )


def _update(p: Problem, t: int) -> list[StepSpec]:
    return [
        StepSpec(u.id, "update", u.symbol, u.formula, u.inputs, block.shape, False, u.compute)
        for name, block in p.parameters.items()
        for u in optim.updates(p.optimizer, name, p.learning_rate, t)
    ]


# ---------------------------------------------------------------- running


def given_values(p: Problem, ns: NumberSystem) -> dict[str, Any]:
    """The given numbers of the first iteration in a number system (optimizer state zero)."""
    values = {k: ns.array(b.data, b.shape) for k, b in p.parameters.items()}
    values["h0"] = ns.array(p.x.data, p.x.shape)
    values["y"] = ns.array(p.y.data, p.y.shape)
    if p.temperature is not None:
        values["T"] = ns.array([p.temperature], ())
    shapes = {k: b.shape for k, b in p.parameters.items()}
    for sid, shape in optim.initial_state(p.optimizer, shapes).items():
        values[sid] = ns.array([Decimal(0)] * math.prod(shape), shape)
    return values


def recompute(spec: StepSpec, ns: NumberSystem, inputs: Mapping[str, Any]) -> Any:
    """One step from the given input values, written down by the system's rule."""
    assert spec.compute is not None, spec.id
    try:
        with ns.session():
            return ns.write(spec.compute(ns, inputs))
    except Breakdown as e:
        raise ComputationError(_breakdown_message(spec, e, ns.name)) from None
    except (FloatingPointError, ArithmeticError) as e:
        raise ComputationError(
            f"step {spec.id} ({spec.symbol}): {ns.name} arithmetic failed ({e}); "
            "the numbers are too large for this network (smaller parameters or inputs)"
        ) from None


def _breakdown_message(spec: StepSpec, e: Breakdown, system: str) -> str:
    own = spec.shape[1:] if spec.per_example else spec.shape
    symbol, inner = spec.operand or (spec.symbol, own)
    size = math.prod(inner)
    example, flat = divmod(e.index, size)
    where = ""
    if inner:
        idx = [flat // inner[1] + 1, flat % inner[1] + 1] if len(inner) == 2 else [flat + 1]
        where = f", entry {symbol}_{','.join(map(str, idx))}"
    if spec.per_example and spec.shape[0] > 1:
        where += f" of example {example + 1}"
    return (
        f"step {spec.id}{where}: {e.what} in the {system} run: rounding broke the computation "
        "(more digits: --digits, or rounding.mode: significant)"
    )


@dataclass(frozen=True, slots=True)
class Iteration:
    """One update cycle: which epoch, which examples (1-based), its mini-batch and its steps."""

    number: int
    epoch: int
    examples: tuple[int, ...]
    problem: Problem
    specs: list[StepSpec]
    masks: dict[str, Block] = field(default_factory=dict)  # dropout masks d0, d1, ...


def plan(p: Problem, jacobians: bool = False) -> list[Iteration]:
    """The iterations of a run: mini-batches of training.batch_size examples, walked in order
    (the last one of an epoch may be short), the whole batch each time by default."""
    size = p.batch_size or p.examples
    batches = math.ceil(p.examples / size)
    out = []
    for k in range(p.steps):
        epoch, b = divmod(k, batches)
        rows = tuple(range(b * size, min(p.examples, (b + 1) * size)))
        sub = p if len(rows) == p.examples else _mini_batch(p, rows)
        out.append(
            Iteration(
                k + 1,
                epoch + 1,
                tuple(r + 1 for r in rows),
                sub,
                build(sub, jacobians, k + 1),
                masks(p, k + 1, rows),
            )
        )
    return out


def masks(p: Problem, iteration: int, rows: tuple[int, ...]) -> dict[str, Block]:
    """The dropout masks of an iteration's examples: as given, or drawn (1 with probability p)
    from the seed, anew each iteration."""
    out: dict[str, Block] = {}
    for i in range(p.layers):
        keep = dropped(p, i)
        if keep is None or p.dropout is None:
            continue
        width = p.widths[i]
        given = p.dropout.masks.get(f"d{i}")
        if given is not None:
            data = tuple(v for r in rows for v in given.data[r * width : (r + 1) * width])
        else:
            rng = random.Random(f"handcalc-dropout-{p.init.seed}-{iteration}-{i}")
            data = tuple(Decimal(int(rng.random() < keep)) for _ in range(len(rows) * width))
        out[f"d{i}"] = Block((len(rows), width), data)
    return out


def _mini_batch(p: Problem, rows: tuple[int, ...]) -> Problem:
    def pick(block: Block) -> Block:
        width = block.shape[1]
        data = tuple(v for r in rows for v in block.data[r * width : (r + 1) * width])
        return Block((len(rows), width), data)

    labels = None if p.labels is None else tuple(p.labels[r] for r in rows)
    return replace(p, x=pick(p.x), y=pick(p.y), labels=labels)


def run(p: Problem, ns: NumberSystem, iterations: list[Iteration]) -> list[dict[str, Any]]:
    """Every iteration's values by step id; each starts from the last one's updates and state."""
    state = given_values(p, ns)
    out: list[dict[str, Any]] = []
    for it in iterations:
        values = {
            **state,
            "h0": ns.array(it.problem.x.data, it.problem.x.shape),
            "y": ns.array(it.problem.y.data, it.problem.y.shape),
            **{k: ns.array(m.data, m.shape) for k, m in it.masks.items()},
        }
        for spec in it.specs:
            if spec.compute is not None:
                values[spec.id] = recompute(spec, ns, values)
        out.append(values)
        state = {
            **state,
            **{k: values[f"{k}_next"] for k in p.parameters},
            **{sid: values[sid.removesuffix("_prev")] for sid in state if sid.endswith("_prev")},
        }
    return out
