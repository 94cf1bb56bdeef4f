"""The output heads as a table: ŷ from the logits in one step and as worked steps, and the way
back from dL/dŷ to dL/dz^(L) when the loss does not fold the head's Jacobian into its gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from handcalc.model.functions import ONE, Fn, sigmoid
from handcalc.model.ids import Kind, StepId
from handcalc.model.steps import Compute, Phase, StepSpec, Values
from handcalc.numbers import Flat, NumberSystem, Shape

HeadName = Literal["identity", "sigmoid", "softmax"]


@dataclass(frozen=True, slots=True)
class Logits:
    """What a head reads: the logits' step id, the output layer L, N examples of d_L outputs;
    `scaled`: the logits over the temperature, z̃^(L) = z^(L) / T (section 7)."""

    source: str
    layer: int
    examples: int
    width: int
    scaled: bool = False

    @property
    def shape(self) -> Shape:
        return (self.examples, self.width)

    @property
    def z(self) -> str:
        """The logits as the head's steps name them: exp(z̃^(L)_j) under a temperature."""
        return f"{'z̃' if self.scaled else 'z'}^({self.layer})"

    def step(
        self,
        ident: StepId,
        phase: Phase,
        symbol: str,
        formula: str,
        inputs: tuple[str, ...],
        compute: Compute,
    ) -> StepSpec:
        """A per-example step of the logits' shape."""
        return StepSpec(
            ident=ident,
            phase=phase,
            symbol=symbol,
            formula=formula,
            inputs=inputs,
            shape=self.shape,
            per_example=True,
            compute=compute,
        )


Steps = Callable[[Logits], list[StepSpec]]


@dataclass(frozen=True, slots=True)
class Head:
    """A head: ŷ in one step (`value`, its `formula` with {z} for the logits), as the worked
    steps a student writes (`forward`; None: ŷ in one step), and dL/dz^(L) from dL/dŷ
    (`backward`)."""

    name: HeadName
    formula: str
    value: Fn
    probabilities: bool  # ŷ are probabilities (of the classes, or of each output)
    backward: Steps
    forward: Steps | None = None

    def steps(self, logits: Logits) -> list[StepSpec]:
        """The forward steps from the logits to ŷ, as a student writes them."""
        if self.forward is not None:
            return self.forward(logits)
        return _one_step(self.formula, self.value)(logits)


def _exp(ns: NumberSystem, z: Flat) -> Flat:
    return ns.exp(z)


def _sum(ns: NumberSystem, e: Flat) -> Flat:
    return ns.total(e, 1)


def _share(ns: NumberSystem, e: Flat, s: Flat) -> Flat:
    """Each exp(z_j) over the example's sum S."""
    return ns.div(e, ns.repeat_columns(s, e.shape[1]))


def softmax(ns: NumberSystem, z: Flat) -> Flat:
    """exp(z_j) / Σ_k exp(z_k) per example, in one step."""
    e = _exp(ns, z)
    return _share(ns, e, _sum(ns, e))


def _identity(ns: NumberSystem, z: Flat) -> Flat:
    return z


def _one_step(formula: str, value: Fn) -> Steps:
    """ŷ written at once from the logits."""

    def steps(logits: Logits) -> list[StepSpec]:
        zl, text = logits.source, formula.format(z=logits.z)

        def compute(ns: NumberSystem, v: Values) -> Flat:
            return value(ns, v[zl])

        return [logits.step(StepId(kind=Kind.yhat), Phase.forward, "ŷ", text, (zl,), compute)]

    return steps


def _softmax_steps(logits: Logits) -> list[StepSpec]:
    """exp(z_j), their sum S, then each share: the three numbers a student writes."""
    zl, z, fwd = logits.source, logits.z, Phase.forward
    total = StepSpec(
        ident=StepId(kind=Kind.sum_exp),
        phase=fwd,
        symbol="S",
        formula=f"Σ_j exp({z}_j)",
        inputs=("exp_z",),
        shape=(logits.examples,),
        per_example=True,
        compute=lambda ns, v: _sum(ns, v["exp_z"]),
    )
    return [
        logits.step(
            StepId(kind=Kind.exp_z),
            fwd,
            f"exp({z})",
            f"exp({z}_j)",
            (zl,),
            lambda ns, v: _exp(ns, v[zl]),
        ),
        total,
        logits.step(
            StepId(kind=Kind.yhat),
            fwd,
            "ŷ",
            f"exp({z}) / S",
            ("exp_z", "sum_exp"),
            lambda ns, v: _share(ns, v["exp_z"], v["sum_exp"]),
        ),
    ]


def _gradient(logits: Logits, formula: str, inputs: tuple[str, ...], compute: Compute) -> StepSpec:
    """dL/dz^(L) from dL/dŷ and what the head contributes."""
    ident = StepId(kind=Kind.dz, layer=logits.layer)
    return logits.step(ident, Phase.backward, f"dL/d{logits.z}", formula, inputs, compute)


def _identity_back(logits: Logits) -> list[StepSpec]:
    """dL/dz^(L) = dL/dŷ: the identity passes the gradient on."""
    return [_gradient(logits, "dL/dŷ", ("dyhat",), lambda ns, v: v["dyhat"])]


def _sigmoid_back(logits: Logits) -> list[StepSpec]:
    """diag(dŷ/dz) as the vector ŷ (1 - ŷ), then entry by entry times dL/dŷ."""
    z = logits.z
    derivative = logits.step(
        StepId(kind=Kind.dyhat_dz),
        Phase.backward,
        f"diag(dŷ/d{z})",
        "ŷ (1 - ŷ)",
        ("yhat",),
        lambda ns, v: ns.mul(v["yhat"], ns.sub(ONE, v["yhat"])),
    )
    gradient = _gradient(
        logits,
        f"diag(dŷ/d{z}) ⊙ dL/dŷ",
        ("dyhat_dz", "dyhat"),
        lambda ns, v: ns.mul(v["dyhat_dz"], v["dyhat"]),
    )
    return [derivative, gradient]


def _softmax_back(logits: Logits) -> list[StepSpec]:
    """The Jacobian diag(ŷ) - ŷ ŷ^T per example, then its transpose times dL/dŷ."""
    n, d, z = logits.examples, logits.width, logits.z
    jacobian = StepSpec(
        ident=StepId(kind=Kind.J_softmax),
        phase=Phase.backward,
        symbol=f"dŷ/d{z}",
        formula="diag(ŷ) - ŷ ŷ^T",
        inputs=("yhat",),
        shape=(n, d, d),
        per_example=True,
        compute=lambda ns, v: _softmax_jacobian(ns, v["yhat"], d),
    )
    gradient = _gradient(
        logits,
        f"(dŷ/d{z})^T dL/dŷ",
        ("J_softmax", "dyhat"),
        lambda ns, v: _jacobian_t_vec(ns, v["J_softmax"], v["dyhat"], d),
    )
    return [jacobian, gradient]


def _softmax_jacobian(ns: NumberSystem, yhat: Flat, d: int) -> Flat:
    """diag(p) - p p^T for each example."""
    blocks = []
    for p in ns.rows(yhat):
        col = ns.reshape(p, (d, 1))
        blocks.append(ns.sub(ns.diag(p), ns.matmul_nt(col, col)))
    return ns.stack(blocks)


def _jacobian_t_vec(ns: NumberSystem, jac: Flat, g: Flat, d: int) -> Flat:
    """J^T g for each example: entry i is Σ_j J_ji g_j."""
    rows = [
        ns.reshape(ns.matmul_nt(ns.reshape(gn, (1, d)), ns.transpose(jn)), (d,))
        for jn, gn in zip(ns.rows(jac), ns.rows(g), strict=True)
    ]
    return ns.stack(rows)


HEADS: dict[str, Head] = {
    head.name: head
    for head in (
        Head(
            name="identity",
            formula="{z}",
            value=_identity,
            probabilities=False,
            backward=_identity_back,
        ),
        Head(
            name="sigmoid",
            formula="1 / (1 + e^(-{z}))",
            value=sigmoid,
            probabilities=True,
            backward=_sigmoid_back,
        ),
        Head(
            name="softmax",
            formula="exp({z}_j) / Σ_k exp({z}_k)",
            value=softmax,
            probabilities=True,
            forward=_softmax_steps,
            backward=_softmax_back,
        ),
    )
}
