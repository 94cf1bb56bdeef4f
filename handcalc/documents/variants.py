"""Exam variants drawn from one config, each reproducible from its seed.

Candidates are drawn with seeds init.seed + 1, + 2, ... and kept when they meet the config's
`exam.require` constraints, or the default requirements of `fairness` when it sets none.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from handcalc.config import draw as params
from handcalc.config.problem import Block, Problem
from handcalc.documents import fairness
from handcalc.errors import ComputationError, ConfigError
from handcalc.model.heads import HEADS
from handcalc.model.runner import make_trace
from handcalc.model.steps import Phase
from handcalc.trace import Trace


@dataclass(frozen=True, slots=True)
class Variant:
    number: int
    seed: int
    trace: Trace
    draws: int = 1  # candidates drawn for this variant, itself included

    @property
    def stem(self) -> str:
        return f"variant-{self.number:02d}"


def candidate(base: Problem, seed: int) -> Problem:
    """The base problem with every drawn number drawn again from `seed`."""
    drawn = params.draw(base.widths, replace(base.init, seed=seed))
    r = base.rounding.rounder()
    parameters = {
        k: base.parameters[k]
        if k in base.given_parameters
        else Block(shape=b.shape, data=tuple(map(r, drawn[k])))
        for k, b in base.parameters.items()
    }
    p = replace(base, parameters=parameters, init=replace(base.init, seed=seed))
    rng = random.Random(f"handcalc-exam-{seed}")
    if base.exam.input:
        points = params.grid(base.init)
        data = tuple(r(points.pick(rng.random())) for _ in base.x.data)
        p = replace(p, x=Block(shape=base.x.shape, data=data))
    if base.exam.label:
        p = _with_labels(p, rng)
    return p


def _with_labels(p: Problem, rng: random.Random) -> Problem:
    dl = p.widths[-1]
    labels = tuple(int(rng.random() * dl) + 1 for _ in range(p.examples))
    y = tuple(p.rounding.rounder()(Decimal(int(j + 1 == c))) for c in labels for j in range(dl))
    return replace(p, labels=labels, y=Block(shape=p.y.shape, data=y))


def violations(t: Trace) -> list[str]:
    """The exam.require constraints this trace breaks; the default ones when it sets none."""
    p, steps = t.problem, t.iterations[0]
    need = p.exam
    if not need.required():
        return fairness.defaults(t)
    out = []
    if need.relu_mixed and not _relu_mixed(t):
        out.append("relu_mixed")
    if need.max_abs is not None and any(abs(v) > need.max_abs for s in steps for v in s.values):
        out.append("max_abs")
    if need.min_abs_nonzero is not None and any(
        abs(f) > 1e-12 and abs(v) < need.min_abs_nonzero
        for s in steps
        if s.spec.phase != Phase.given
        for v, f in zip(s.values, s.floats, strict=True)
    ):
        out.append("min_abs_nonzero")
    if need.no_saturation and _saturated(t):
        out.append("no_saturation")
    if need.no_ties and _has_ties(t):
        out.append("no_ties")
    return out


def _relu_mixed(t: Trace) -> bool:
    p = t.problem
    for layer, act in enumerate(p.activations, start=1):
        if act not in ("relu", "leaky_relu"):
            continue
        z = t.step(f"z{layer}").values
        d = p.widths[layer]
        for i in range(0, len(z), d):  # a mini-batch's examples, not the whole set
            row = z[i : i + d]
            if all(v > 0 for v in row) or all(v <= 0 for v in row):
                return False
    return True


def _saturated(t: Trace) -> bool:
    p = t.problem
    outputs = [t.step("yhat").values] if HEADS[p.head].probabilities else []
    outputs += [
        t.step(f"h{layer}").values
        for layer, act in enumerate(p.activations, start=1)
        if act == "sigmoid"
    ]
    return any(v <= 0 or v >= 1 for values in outputs for v in values)


def _has_ties(t: Trace) -> bool:
    """A tie at the rounding digit somewhere: the other tie rule writes another key."""
    r = t.problem.rounding
    other = replace(r, rule="half_even" if r.rule == "half_up" else "half_up")
    try:
        twin = make_trace(replace(t.problem, rounding=other))
    except ComputationError:
        return True
    return any(
        a.values != b.values for a, b in zip(t.iterations[0], twin.iterations[0], strict=True)
    )


def draw(base: Problem, count: int) -> list[Variant]:
    """`count` variants meeting the constraints, or a clear error naming the one most failed."""
    return list(drawn(base, count))


def drawn(base: Problem, count: int) -> Iterator[Variant]:
    """The variants of `draw`, each as soon as it is found."""
    if not fairness.drawn(base):
        if count > 1:
            raise ConfigError(
                f"{base.name}: exam: {count} variants would be identical: nothing is drawn "
                "(every parameter "
                "is given and neither the input nor the label varies; leave a parameter out of "
                "parameters, or set exam.input or exam.label)"
            )
        yield _only(base)
        return
    found = 0
    failed: Counter[str] = Counter()
    tries = since = 0
    seed = base.init.seed
    while found < count:
        if tries >= base.exam.max_tries:
            raise _too_few(base.name, found, count, tries, failed)
        tries += 1
        since += 1
        seed += 1
        try:
            t = make_trace(candidate(base, seed))
        except ComputationError:
            failed["computable"] += 1
            continue
        broken = violations(t)
        failed.update(broken)
        if not broken:
            found += 1
            yield Variant(number=found, seed=seed, trace=t, draws=since)
            since = 0


def _only(base: Problem) -> Variant:
    """The one variant of a config that draws nothing; the defaults do not apply, since no
    other candidate could be tried."""
    seed = base.init.seed + 1
    t = make_trace(candidate(base, seed))
    broken = violations(t) if base.exam.required() else []
    if broken:
        raise ConfigError(
            f"exam: the variant breaks exam.require: {', '.join(broken)} (nothing is drawn, so "
            "no other variant can be tried; relax it, or leave a parameter out of parameters)"
        )
    return Variant(number=1, seed=seed, trace=t)


def _too_few(config: str, found: int, count: int, tries: int, failed: Counter[str]) -> ConfigError:
    worst = ", ".join(f"{name} ({n} times)" for name, n in failed.most_common(2))
    return ConfigError(
        f"{config}: exam.require: only {found} of {count} variants met it in "
        f"{tries} tries; failed most often: {worst} (relax it, or raise exam.max_tries)"
    )
