"""The update cycle of the notes (section 3.1) as an ordered list of steps.

Every step is data: an identity, a phase, its symbol and formula in the notes' notation, the ids
it reads and a compute function of a number system and those inputs. The same list runs in the
hand system and in float64, and any single step can be recomputed from other inputs (answer
checking). Per-example quantities carry a leading example axis (N x d) inside the run.
"""

from __future__ import annotations

from dataclasses import replace

from handcalc.config.problem import Problem
from handcalc.model.backward import backward
from handcalc.model.evaluation import at_test_time
from handcalc.model.forward import forward
from handcalc.model.given import given
from handcalc.model.ids import known
from handcalc.model.jacobians import with_jacobians
from handcalc.model.loss import loss
from handcalc.model.optimizers import Parameter, updates
from handcalc.model.steps import StepSpec


def build(p: Problem, jacobians: bool = False, t: int = 1) -> list[StepSpec]:
    """The steps of iteration t, in the order a student writes them.

    With `jacobians`, the local Jacobians of section 9 are written out as steps too.
    """
    back = with_jacobians(p, backward(p)) if jacobians else backward(p)
    test = at_test_time(p) if p.dropout is not None else []
    specs = [*given(p), *forward(p), *loss(p), *back, *update(p, t), *test]
    return _as_written(p, specs) if p.rules.write else specs


def update(p: Problem, t: int) -> list[StepSpec]:
    """Each parameter's update by the configured optimizer, W^(1) first."""
    delta = p.update_form == "delta"
    return [
        step
        for name, block in p.parameters.items()
        for step in updates(
            p.optimizer, Parameter(name=known(name), shape=block.shape), p.learning_rate, t, delta
        )
    ]


def _as_written(p: Problem, specs: list[StepSpec]) -> list[StepSpec]:
    """The steps marked by rounding.write: those not written are passed on exactly."""
    return [
        spec if p.written(spec.ident, spec.phase) else replace(spec, written=False)
        for spec in specs
    ]
