"""Monte Carlo dropout (notes section 12): T stochastic forward passes at test time, each with its
own dropout masks (given in network.dropout.mc_masks, or drawn from the seed), then the mean
prediction and the per-class variance

    mean = (1/T) Σ_k ŷ_k,    var = (1/T) Σ_k (ŷ_k − mean)²   (entry by entry),

by hand beside float64. The passes use the training convention of the config's scaling (notes: no
scaling; inverted: divided by p), as dropout stays on.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from handcalc.config import limits
from handcalc.config.problem import Block, Problem
from handcalc.errors import ConfigError
from handcalc.model.forward import forward
from handcalc.model.given import given
from handcalc.model.ids import Kind, StepId
from handcalc.model.plan import Iteration
from handcalc.model.runner import check_rule_ids, paired
from handcalc.model.steps import Compute, Phase, StepSpec, Values
from handcalc.numbers import Flat, NumberSystem
from handcalc.trace import Trace

MAX_PASSES = 200
DEFAULT_PASSES = 10  # when no masks are given


def steps(p: Problem, passes: int) -> list[StepSpec]:
    """The givens, each pass's masks and forward steps, then the mean and the variance."""
    worked, all_given = forward(p), given(p)
    masks = [s for s in all_given if s.kind == Kind.d]
    own = {s.id for s in [*worked, *masks]}  # what each pass has of its own
    shared = [s for s in all_given if s.id not in own and not s.ident.prev and s.kind != Kind.y]
    each = [
        step
        for k in range(1, passes + 1)
        for step in [*(_mask(p, s, k) for s in masks), *(_rename(s, own, k) for s in worked)]
    ]
    outputs = tuple(f"yhat_{k}" for k in range(1, passes + 1))
    return [*shared, *each, *_statistics(p, outputs)]


def _mask(p: Problem, spec: StepSpec, k: int) -> StepSpec:
    """Mask d^(i) of pass k."""
    given_masks = p.dropout.mc_masks if p.dropout else {}
    how = "given" if spec.id in given_masks else "drawn"
    return replace(
        spec,
        ident=replace(spec.ident, mc_pass=k),
        symbol=f"{spec.symbol} [pass {k}]",
        formula=f"{how} for pass {k}",
    )


def _rename(spec: StepSpec, own: set[str], k: int) -> StepSpec:
    """The step of pass k: its id and the ids it reads from the same pass get a suffix."""
    return replace(
        spec,
        ident=replace(spec.ident, mc_pass=k),
        symbol=f"{spec.symbol} [pass {k}]",
        inputs=tuple(f"{i}_{k}" if i in own else i for i in spec.inputs),
        compute=_reading(spec, own, k),
    )


def _reading(spec: StepSpec, own: set[str], k: int) -> Compute:
    compute = spec.compute
    assert compute is not None

    def run(ns: NumberSystem, v: Values) -> Flat:
        return compute(ns, {i: v[f"{i}_{k}" if i in own else i] for i in spec.inputs})

    return run


def _total(ns: NumberSystem, items: list[Flat]) -> Flat:
    total = items[0]
    for item in items[1:]:
        total = ns.add(total, item)
    return total


def _statistics(p: Problem, outputs: tuple[str, ...]) -> list[StepSpec]:
    """mean = (1/T) Σ_k ŷ_k and var = (1/T) Σ_k (ŷ_k − mean)², entry by entry."""
    count = Decimal(len(outputs))

    def mean(ns: NumberSystem, v: Values) -> Flat:
        return ns.div(_total(ns, [v[name] for name in outputs]), count)

    def variance(ns: NumberSystem, v: Values) -> Flat:
        squares = [ns.mul(e, e) for e in (ns.sub(v[name], v["mean"]) for name in outputs)]
        return ns.div(_total(ns, squares), count)

    return [
        _test_step(p, Kind.mean, "mean ŷ", "(1/T) Σ_k ŷ_k", outputs, mean),
        _test_step(p, Kind.var, "var ŷ", "(1/T) Σ_k (ŷ_k - mean)^2", (*outputs, "mean"), variance),
    ]


def _test_step(
    p: Problem, kind: Kind, symbol: str, formula: str, inputs: tuple[str, ...], compute: Compute
) -> StepSpec:
    return StepSpec(
        ident=StepId(kind=kind),
        phase=Phase.test,
        symbol=symbol,
        formula=formula,
        inputs=inputs,
        shape=(p.examples, p.widths[-1]),
        per_example=True,
        compute=compute,
    )


def _masks(p: Problem, passes: int) -> dict[str, Block]:
    """Each pass's masks: row k of the given ones (one example), or drawn from the seed."""
    d = p.dropout
    assert d is not None
    # given masks hold a row per pass; drawn ones cover every example
    rows = [(k - 1,) if d.mc_masks else tuple(range(p.examples)) for k in range(1, passes + 1)]
    return {
        f"d{i}_{k}": d.mask(
            i, rows[k - 1], p.widths[i], f"handcalc-mc-dropout-{p.init.seed}-{k}", d.mc_masks
        )
        for k in range(1, passes + 1)
        for i in range(p.layers)
        if d.keep_probability(i) is not None
    }


def _count(p: Problem, passes: int | None) -> int:
    """The number of passes: one per given mask, else --passes or 10; checked against both."""
    if p.dropout is None or all(k >= 1 for k in p.dropout.keep):
        raise ConfigError(
            f"{p.name}: network.dropout: no layer input is dropped (expected "
            "network.dropout.keep with a value below 1)"
        )
    given = {name: masks.shape[0] for name, masks in p.dropout.mc_masks.items()}
    if given and p.examples != 1:
        raise ConfigError(
            f"{p.name}: network.dropout.mc_masks: given masks need one example "
            f"(data.x has {p.examples}); leave them out to draw masks"
        )
    if passes is not None:
        _check_passes(given, passes)
        return passes
    return _given_passes(p.name, given)


def _check_passes(given: dict[str, int], passes: int) -> None:
    """An explicit --passes must be in range and agree with the masks given."""
    if not 2 <= passes <= MAX_PASSES:
        raise ConfigError(f"--passes: {passes} is out of range (2 to {MAX_PASSES})")
    for name, n in given.items():
        if n != passes:
            raise ConfigError(
                f"--passes: {passes}, but network.dropout.mc_masks.{name} gives {n} masks "
                "(one per pass; leave --passes out to run one pass per given mask)"
            )


def _given_passes(config: str, given: dict[str, int]) -> int:
    """One pass per given mask (the same number for every layer input), else the default."""
    if not given:
        return DEFAULT_PASSES
    (first, count), *rest = given.items()
    for name, n in rest:
        if n != count:
            raise ConfigError(
                f"{config}: network.dropout.mc_masks.{name}: gives {n} masks, but {first} "
                f"gives {count} (one per pass: as many for every layer input)"
            )
    if not 2 <= count <= MAX_PASSES:
        raise ConfigError(
            f"{config}: network.dropout.mc_masks.{first}: gives {count} "
            f"mask{'' if count == 1 else 's'} (2 to {MAX_PASSES}, one per pass)"
        )
    return count


def make(p: Problem, passes: int | None = None) -> Trace:
    """The T passes, their mean and variance, by hand and in float64; T is the number of given
    masks per layer input, else `passes` (10 when None)."""
    count = _count(p, passes)
    specs = steps(p, count)
    check_rule_ids(p, specs)
    limits.check_written(p, specs)  # before a mask of each pass is drawn
    it = Iteration(
        number=1,
        epoch=1,
        examples=tuple(range(1, p.examples + 1)),
        problem=p,
        specs=specs,
        masks=_masks(p, count),
    )
    return paired(p, [it])
