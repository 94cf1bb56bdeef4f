"""Temperature calibration (notes section 7): fit T on a labelled set by gradient steps in T.

The network's parameters stay fixed; each iteration runs the forward pass with z̃ = z^(L) / T,
the loss, dL/dz̃, then dL/dT = -(1/T^2) Σ_n Σ_j (dL/dz̃)_nj z^(L)_nj and T ← T - η_T dL/dT, all
in the hand arithmetic beside float64.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from handcalc.config.problem import Problem
from handcalc.errors import ConfigError
from handcalc.model import cycle
from handcalc.model.cycle import Iteration, StepSpec
from handcalc.numbers import NumberSystem, float64, hand
from handcalc.trace import Trace, assemble

KEEP = ("given", "forward", "loss")


def _steps(p: Problem, rate: Decimal) -> list[StepSpec]:
    """The forward pass, the loss and dL/dz̃ of the cycle, then dL/dT and the step in T."""
    specs = cycle.build(p)
    head_gradient = next(s for s in specs if s.id == "dzT")
    kept = [s for s in specs if s.phase in KEEP and not s.id.endswith("_prev")]
    L = p.layers
    size = p.examples * p.widths[-1]

    def gradient(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        total = ns.total(ns.reshape(ns.mul(v["dzT"], v[f"z{L}"]), (size,)), 0)
        return ns.neg(ns.div(total, ns.mul(v["T"], v["T"])))

    return [
        *kept,
        *[s for s in specs if s.phase == "backward" and s.id in ("dyhat", "dyhat_dz", "J_softmax")],
        head_gradient,
        StepSpec(
            "dT",
            "backward",
            "dL/dT",
            f"-(1/T^2) Σ_n Σ_j (dL/dz̃^({L}))_nj z^({L})_nj",
            ("dzT", f"z{L}", "T"),
            (),
            False,
            gradient,
        ),
        StepSpec(
            "T_next",
            "update",
            "T",
            "T - η_T dL/dT",
            ("T", "dT"),
            (),
            False,
            lambda ns, v: ns.sub(v["T"], ns.mul(rate, v["dT"])),
        ),
    ]


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


def run(p: Problem, ns: NumberSystem, plan: list[Iteration]) -> list[dict[str, Any]]:
    values = cycle.given_values(p, ns)
    out = []
    for it in plan:
        values = dict(values)
        for spec in it.specs:
            if spec.compute is not None:
                values[spec.id] = cycle.recompute(spec, ns, values)
        out.append(values)
        values = {**values, "T": values["T_next"]}
    return out


def make(config: Problem) -> Trace:
    """Every calibration iteration, by hand and in float64."""
    p = problem(config)
    assert config.calibration is not None
    specs = _steps(p, config.calibration.learning_rate)
    examples = tuple(range(1, p.examples + 1))
    plan = [Iteration(k + 1, k + 1, examples, p, specs) for k in range(p.steps)]
    return assemble(p, plan, run(p, hand(p.rounding), plan), run(p, float64(), plan))
