"""Monte Carlo dropout (notes section 12): T stochastic forward passes at test time, each with its
own dropout masks (given in network.dropout.mc_masks, or drawn from the seed), then the mean
prediction and the per-class variance

    mean = (1/T) Σ_k ŷ_k,    var = (1/T) Σ_k (ŷ_k − mean)²   (entry by entry),

by hand beside float64. The passes use the training convention of the config's scaling (notes: no
scaling; inverted: divided by p), as dropout stays on.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from handcalc.config.problem import Block, Problem
from handcalc.errors import ConfigError
from handcalc.model import cycle
from handcalc.model.cycle import Iteration, StepSpec, dropped
from handcalc.numbers import NumberSystem, float64, hand
from handcalc.trace import Trace, assemble

MAX_PASSES = 200


def _rename(spec: StepSpec, own: set[str], k: int) -> StepSpec:
    """The step of pass k: its id and the ids it reads from the same pass get a suffix."""
    return replace(
        spec,
        id=f"{spec.id}_{k}",
        symbol=f"{spec.symbol} [pass {k}]",
        inputs=tuple(f"{i}_{k}" if i in own else i for i in spec.inputs),
        compute=_reading(spec, own, k),
    )


def _reading(spec: StepSpec, own: set[str], k: int) -> Any:
    compute = spec.compute
    assert compute is not None

    def run(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return compute(ns, {i: v[f"{i}_{k}" if i in own else i] for i in spec.inputs})

    return run


def _masks(p: Problem, passes: int) -> dict[str, Block]:
    out: dict[str, Block] = {}
    for k in range(1, passes + 1):
        for i in range(p.layers):
            keep = dropped(p, i)
            if keep is None:
                continue
            assert p.dropout is not None
            given = p.dropout.mc_masks.get(f"d{i}")
            if given is not None:  # pass k's row, for the one example
                width = p.widths[i]
                out[f"d{i}_{k}"] = Block((1, width), given.data[(k - 1) * width : k * width])
                continue
            rng = random.Random(f"handcalc-mc-dropout-{p.init.seed}-{k}-{i}")
            size = p.examples * p.widths[i]
            data = tuple(Decimal(int(rng.random() < keep)) for _ in range(size))
            out[f"d{i}_{k}"] = Block((p.examples, p.widths[i]), data)
    return out


def steps(p: Problem, passes: int) -> list[StepSpec]:
    forward = [s for s in cycle.build(p) if s.phase == "forward"]
    own = {s.id for s in forward} | {f"d{i}" for i in range(p.layers) if dropped(p, i) is not None}
    given = [
        s
        for s in cycle.build(p)
        if s.phase == "given" and s.id not in own and not s.id.endswith("_prev") and s.id != "y"
    ]
    out = list(given)
    for k in range(1, passes + 1):
        out += [
            replace(
                s,
                id=f"d{s.id[1:]}_{k}",
                symbol=f"{s.symbol} [pass {k}]",
                formula=("given" if p.dropout and s.id in p.dropout.mc_masks else "drawn")
                + f" for pass {k}",
            )
            for s in cycle.build(p)
            if s.id in own and s.phase == "given"
        ]
        out += [_rename(s, own, k) for s in forward]
    shape = (p.examples, p.widths[-1])
    outputs = tuple(f"yhat_{k}" for k in range(1, passes + 1))
    count = Decimal(passes)

    def mean(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        total = v[outputs[0]]
        for name in outputs[1:]:
            total = ns.add(total, v[name])
        return ns.div(total, count)

    def variance(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        squares = [ns.mul(e, e) for e in (ns.sub(v[name], v["mean"]) for name in outputs)]
        total = squares[0]
        for square in squares[1:]:
            total = ns.add(total, square)
        return ns.div(total, count)

    return [
        *out,
        StepSpec("mean", "test", "mean ŷ", "(1/T) Σ_k ŷ_k", outputs, shape, True, mean),
        StepSpec(
            "var",
            "test",
            "var ŷ",
            "(1/T) Σ_k (ŷ_k - mean)^2",
            (*outputs, "mean"),
            shape,
            True,
            variance,
        ),
    ]


def _run(p: Problem, ns: NumberSystem, it: Iteration) -> list[dict[str, Any]]:
    values = {
        **cycle.given_values(p, ns),
        **{k: ns.array(m.data, m.shape) for k, m in it.masks.items()},
    }
    for spec in it.specs:
        if spec.compute is not None:
            values[spec.id] = cycle.recompute(spec, ns, values)
    return [values]


def make(p: Problem, passes: int) -> Trace:
    """The T passes, their mean and variance, by hand and in float64."""
    if p.dropout is None or all(k >= 1 for k in p.dropout.keep):
        raise ConfigError(
            f"{p.name}: network.dropout: no layer input is dropped (expected "
            "network.dropout.keep with a value below 1)"
        )
    if not 2 <= passes <= MAX_PASSES:
        raise ConfigError(f"--passes: {passes} is out of range (2 to {MAX_PASSES})")
    for name, masks in p.dropout.mc_masks.items():
        if p.examples != 1:
            raise ConfigError(
                f"{p.name}: network.dropout.mc_masks: given masks need one example "
                f"(data.x has {p.examples}); leave them out to draw masks"
            )
        if masks.shape[0] != passes:
            raise ConfigError(
                f"--passes: {passes}, but network.dropout.mc_masks.{name} gives "
                f"{masks.shape[0]} masks (one per pass)"
            )
    it = Iteration(1, 1, tuple(range(1, p.examples + 1)), p, steps(p, passes), _masks(p, passes))
    return assemble(p, [it], _run(p, hand(p.rounding), it), _run(p, float64(), it))
