"""The steps a paper asks and the points each is worth: what a score is out of."""

from __future__ import annotations

from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.model.steps import Phase, StepSpec
from handcalc.trace import Step, Trace


def asked(trace: Trace) -> list[Step]:
    """The worksheet's steps: every written step of the first iteration, phase by phase (a step
    rounding.write leaves unwritten is not asked)."""
    steps = [s for s in trace.iterations[0] if s.spec.phase is not Phase.given and s.spec.written]
    order = list(Phase)
    return sorted(steps, key=lambda s: order.index(s.spec.phase))


def unwritten(trace: Trace) -> set[str]:
    """The steps the class passes on without writing them down: an answer to one is named as
    such, not as an unknown id."""
    return {s.id for s in trace.iterations[0] if not s.spec.written}


def points(p: Problem, spec: StepSpec) -> Decimal:
    """The step's points: `document.points` by step id, else by phase, else 1."""
    if spec.id in p.points:
        return p.points[spec.id]
    return p.points.get(spec.phase, Decimal(1))
