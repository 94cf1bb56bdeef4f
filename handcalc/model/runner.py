"""The one runner: a plan of iterations over a number system, each iteration starting from the
last one's updates, and the runs of the hand system and float64 paired into a trace."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from handcalc.config import limits
from handcalc.config.load import check_step_keys
from handcalc.config.problem import Problem
from handcalc.config.rules_read import check_ids
from handcalc.errors import ComputationError
from handcalc.model.given import given_values
from handcalc.model.ids import STATES, Kind, StepId
from handcalc.model.plan import Iteration, plan
from handcalc.model.steps import StepSpec, Values
from handcalc.numbers import Breakdown, Flat, NumberSystem, Rounding, float64, hand
from handcalc.numbers import float32 as float32_system
from handcalc.rounding import EXACT
from handcalc.trace import IterationInfo, Step, Trace, hand_floats

Run = list[dict[str, Flat]]  # every iteration's values by step id
# one number system for every step, or the system of each step (the hand run's rules per step)
Systems = NumberSystem | Callable[[StepSpec], NumberSystem]


def make_trace(p: Problem, float32: bool = False, jacobians: bool = False) -> Trace:
    """Run the cycle by hand and in float64 (and float32), paired step by step."""
    iterations = plan(p, jacobians)
    check_step_keys(p, [s.id for s in iterations[0].specs])
    return paired(p, iterations, float32)


def check_rule_ids(p: Problem, own: Iterable[StepSpec] = ()) -> None:
    """The id keys of rounding.write and rounding.overrides name a step of the training cycle or
    of the command's `own` steps (a pass of mc-dropout, dT of calibrate): one config serves every
    command, so an id no step has is a typo whichever command reads it."""
    if p.rules.places:  # no id keys: nothing to check, and no cycle to build for it
        ids = [s.id for s in plan(p)[0].specs]
        check_ids(p.rules, [*ids, *(s.id for s in own)])


def paired(p: Problem, iterations: list[Iteration], float32: bool = False) -> Trace:
    """The iterations run by hand, in float64 and optionally float32, as one trace."""
    limits.check_written(p, (s for it in iterations for s in it.specs))
    hand_runs, float_runs = _both_runs(p, iterations)
    singles: list[Values | None] = [None] * len(iterations)
    if float32:
        singles = list(run(p, float32_system(), iterations))
    steps = [
        [_pair(it.problem, spec, k == 0, hv, fv, sv) for spec in it.specs]
        for k, (it, hv, fv, sv) in enumerate(
            zip(iterations, hand_runs, float_runs, singles, strict=True)
        )
    ]
    info = [
        IterationInfo(number=it.number, epoch=it.epoch, examples=it.examples, problem=it.problem)
        for it in iterations
    ]
    return Trace(problem=p, iterations=steps, info=info)


def _both_runs(p: Problem, iterations: list[Iteration]) -> tuple[Run, Run]:
    """The hand run and the float64 run, which starts from float() of the same given numbers
    (made from the hand run's fixed point where it has it, without a string per number)."""
    systems = hand_systems(p)
    given = given_values(p, system_of(systems, iterations[0].specs[0]))
    floats = {k: Flat(v.shape, hand_floats(v)) for k, v in given.items()}
    # numpy float64 arrays where the hand run imports numpy for its fixed point anyway
    shadow = float64(size(p) if p.rounding.mode == "decimals" else 0)
    return run(p, systems, iterations, given), run(p, shadow, iterations, floats)


def hand_systems(p: Problem) -> Systems:
    """The hand system of each step: by its own rule, or exact where it is not written."""
    if not p.rules.write and not p.rules.overrides:
        return hand(p.rounding, size(p))  # one rule for every step
    systems: dict[Rounding, NumberSystem] = {}

    def of(spec: StepSpec) -> NumberSystem:
        written = spec.written and p.written(spec.ident, spec.phase)
        rule = p.rule(spec.ident, spec.phase) if written else EXACT
        if rule not in systems:
            systems[rule] = hand(rule, size(p))
        return systems[rule]

    return of


def size(p: Problem) -> int:
    """How many given numbers a run holds: what decides whether packed arrays pay."""
    return len(p.x.data) + sum(math.prod(b.shape) for b in p.parameters.values())


def system_of(systems: Systems, spec: StepSpec) -> NumberSystem:
    """The number system a step is computed in."""
    return systems if isinstance(systems, NumberSystem) else systems(spec)


def run(
    p: Problem, systems: Systems, iterations: list[Iteration], given: Values | None = None
) -> Run:
    """Every iteration's values; each is given the last one's updates and optimizer state.

    `given`: the given values already made in the first step's system (given_values).
    """
    ns = system_of(systems, iterations[0].specs[0])  # givens and data need no rounding
    state = dict(given_values(p, ns) if given is None else given)
    out: Run = []
    for it in iterations:
        values = {**state, **_data(ns, it)}
        for spec in it.specs:
            if spec.compute is not None:
                values[spec.id] = recompute(spec, system_of(systems, spec), values)
        out.append(values)
        state = {**state, **_carried(it.specs, values)}
    return out


def _data(ns: NumberSystem, it: Iteration) -> dict[str, Flat]:
    """The iteration's own given numbers: its examples and its dropout masks."""
    return {
        "h0": ns.array(it.problem.x.data, it.problem.x.shape),
        "y": ns.array(it.problem.y.data, it.problem.y.shape),
        **{k: ns.array(m.data, m.shape) for k, m in it.masks.items()},
    }


def _carried(specs: list[StepSpec], values: Values) -> dict[str, Flat]:
    """The givens the next iteration takes from this one: W <- W_next, vW1_prev <- vW1, ..."""
    sources = {spec.id: str(_source(spec.ident)) for spec in specs if spec.compute is None}
    return {
        given: values[source]
        for given, source in sources.items()
        if source != given and source in values
    }


def _source(ident: StepId) -> StepId:
    """The step whose value a given takes in the next iteration (itself if it stays)."""
    updated = {Kind.W: Kind.W_next, Kind.b: Kind.b_next, Kind.T: Kind.T_next}
    if ident.kind in updated:
        return StepId(kind=updated[ident.kind], layer=ident.layer)
    if ident.kind in STATES and ident.prev:
        return StepId(kind=ident.kind, layer=ident.layer, param=ident.param)
    return ident


def recompute(spec: StepSpec, ns: NumberSystem, inputs: Values) -> Flat:
    """One step from the given input values, written down by the system's rule."""
    assert spec.compute is not None, spec.id
    try:
        with ns.session():
            return ns.write(spec.compute(ns, inputs))
    except Breakdown as e:
        raise ComputationError(_breakdown_message(spec, e, ns.name)) from None
    except ArithmeticError as e:
        raise ComputationError(f"step {spec.id} ({spec.symbol}): {ns.failure(e)}") from None


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
    return f"step {spec.id}{where}: {e.what} in the {system} run: {e.advice}"


def _pair(
    p: Problem, spec: StepSpec, first: bool, by_hand: Values, f64: Values, f32: Values | None
) -> Step:
    """A step's hand, float64 (and float32) values as a trace record (its deviations made when
    read, its Decimals and floats too where the runs hold them packed)."""
    example_axis = spec.per_example and p.batched
    shape = spec.shape if example_axis or not spec.per_example else spec.shape[1:]
    singles = None if f32 is None else [float(x) for x in f32[spec.id].data]
    return Step(
        spec=spec,
        shape=shape,
        example_axis=example_axis,
        hand=by_hand[spec.id],
        shadow=f64[spec.id],
        rounding=p.rule(spec.ident, spec.phase),
        given=first and spec.compute is None,  # both runs start from the same given numbers
        floats32=singles,
    )
