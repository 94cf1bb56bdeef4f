"""Temperature calibration (notes section 7): fit T on a labelled set by gradient steps in T.

The network's parameters stay fixed; each iteration runs the forward pass with z̃ = z^(L) / T,
the loss, dL/dz̃, then dL/dT = -(1/T^2) Σ_n Σ_j (dL/dz̃)_nj z^(L)_nj and T ← T - η_T dL/dT, all
in the hand arithmetic beside float64. The network runs as at test time: no dropout masks, and
under the notes' scaling the weights times the keep probability (section 11).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.errors import ConfigError
from handcalc.model.forward import forward
from handcalc.model.given import given
from handcalc.model.ids import Kind, StepId
from handcalc.model.loss import loss, output_gradient
from handcalc.model.plan import Iteration
from handcalc.model.runner import check_rule_ids, paired
from handcalc.model.steps import Phase, StepSpec, Values
from handcalc.numbers import Flat, NumberSystem
from handcalc.trace import Trace


def _steps(p: Problem, rate: Decimal) -> list[StepSpec]:
    """The forward pass, the loss and dL/dz̃ of the cycle, then dL/dT and the step in T."""
    givens = [s for s in given(p) if not s.ident.prev and s.kind != Kind.d]
    in_scaled = output_gradient(p)[:-1]  # up to dL/dz̃; the step to dL/dz^(L) is not needed
    return [*givens, *forward(p, test=True), *loss(p), *in_scaled, _gradient(p), _step(rate)]


def _gradient(p: Problem) -> StepSpec:
    """dL/dT = -(1/T^2) Σ_n Σ_j (dL/dz̃)_nj z^(L)_nj."""
    L, size = p.layers, p.examples * p.widths[-1]

    def compute(ns: NumberSystem, v: Values) -> Flat:
        total = ns.total(ns.reshape(ns.mul(v["dzT"], v[f"z{L}"]), (size,)), 0)
        return ns.neg(ns.div(total, ns.mul(v["T"], v["T"])))

    return StepSpec(
        ident=StepId(kind=Kind.dT),
        phase=Phase.backward,
        symbol="dL/dT",
        formula=f"-(1/T^2) Σ_n Σ_j (dL/dz̃^({L}))_nj z^({L})_nj",
        inputs=("dzT", f"z{L}", "T"),
        shape=(),
        per_example=False,
        compute=compute,
    )


def _step(rate: Decimal) -> StepSpec:
    """T ← T - η_T dL/dT."""
    return StepSpec(
        ident=StepId(kind=Kind.T_next),
        phase=Phase.update,
        symbol="T",
        formula="T - η_T dL/dT",
        inputs=("T", "dT"),
        shape=(),
        per_example=False,
        compute=lambda ns, v: ns.sub(v["T"], ns.mul(rate, v["dT"])),
    )


def problem(p: Problem) -> Problem:
    """The config with the calibration set as its data and the starting temperature."""
    c = p.calibration
    if c is None:
        raise ConfigError(
            f"{p.name}: calibration: missing section (calibration: {{x: [...], "
            "label: [...]}}: a labelled set to fit the temperature on)"
        )
    return replace(
        p,
        x=c.x,
        y=c.y,
        labels=c.labels,
        batched=True,
        temperature=c.temperature,
        steps=c.steps,
        batch_size=None,
    )


def make(config: Problem) -> Trace:
    """Every calibration iteration, by hand and in float64."""
    p = problem(config)
    assert config.calibration is not None
    specs = _steps(p, config.calibration.learning_rate)
    check_rule_ids(config, specs)
    examples = tuple(range(1, p.examples + 1))
    iterations = [
        Iteration(number=k + 1, epoch=k + 1, examples=examples, problem=p, specs=specs)
        for k in range(p.steps)
    ]
    return paired(p, iterations)
