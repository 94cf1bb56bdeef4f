"""The given numbers of the cycle: parameters, the data, the temperature, the dropout masks and
the optimizer's state, as steps and as the values a run starts from."""

from __future__ import annotations

import math
from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.model.ids import Kind, StepId, known
from handcalc.model.optimizers import initial_state, state_symbol
from handcalc.model.steps import Phase, StepSpec, sup
from handcalc.numbers import Flat, NumberSystem, Shape


def given(p: Problem) -> list[StepSpec]:
    """The given steps, in the order the trace lists them."""
    return [*_parameters(p), *_data(p), *_masks(p), *_optimizer_state(p)]


def _given(ident: StepId, symbol: str, formula: str, shape: Shape, per_example: bool) -> StepSpec:
    return StepSpec(
        ident=ident,
        phase=Phase.given,
        symbol=symbol,
        formula=formula,
        inputs=(),
        shape=shape,
        per_example=per_example,
    )


def _parameters(p: Problem) -> list[StepSpec]:
    out = []
    for name, block in p.parameters.items():
        ident = known(name)
        assert ident.layer is not None
        out.append(_given(ident, sup(ident.kind, ident.layer), "given", block.shape, False))
    return out


def _data(p: Problem) -> list[StepSpec]:
    """x as h^(0), the target y and the temperature T."""
    n, d0, dl = p.examples, p.widths[0], p.widths[-1]
    y_formula = "one-hot of the label c" if p.labels is not None else "target"
    out = [
        _given(StepId(kind=Kind.h, layer=0), "h^(0)", "x", (n, d0), True),
        _given(StepId(kind=Kind.y), "y", y_formula, (n, dl), True),
    ]
    if p.temperature is not None:
        out.append(_given(StepId(kind=Kind.T), "T", "the temperature", (), False))
    return out


def _masks(p: Problem) -> list[StepSpec]:
    """The dropout masks d^(i) of the layer inputs dropout acts on."""
    if p.dropout is None:
        return []
    out = []
    for i in range(p.layers):
        keep = p.dropout.keep_probability(i)
        if keep is None:
            continue
        how = "given" if f"d{i}" in p.dropout.masks else f"drawn, keep p = {keep}"
        ident, shape = StepId(kind=Kind.d, layer=i), (p.examples, p.widths[i])
        out.append(_given(ident, sup("d", i), f"the dropout mask ({how})", shape, True))
    return out


def _optimizer_state(p: Problem) -> list[StepSpec]:
    shapes = {k: b.shape for k, b in p.parameters.items()}
    formula = "the optimizer's state (0 at the start)"
    return [
        _given(ident, state_symbol(ident), formula, shape, False)
        for ident, shape in initial_state(p.optimizer, shapes).items()
    ]


def given_values(p: Problem, ns: NumberSystem) -> dict[str, Flat]:
    """The given numbers of the first iteration in a number system (optimizer state zero)."""
    values = {k: ns.array(b.data, b.shape) for k, b in p.parameters.items()}
    values["h0"] = ns.array(p.x.data, p.x.shape)
    values["y"] = ns.array(p.y.data, p.y.shape)
    if p.temperature is not None:
        values["T"] = ns.array([p.temperature], ())
    shapes = {k: b.shape for k, b in p.parameters.items()}
    for ident, shape in initial_state(p.optimizer, shapes).items():
        values[str(ident)] = ns.array([Decimal(0)] * math.prod(shape), shape)
    return values
