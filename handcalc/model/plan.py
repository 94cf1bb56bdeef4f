"""The plan of a run: its iterations, each with its (mini-)batch of examples, its dropout masks
and its steps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from handcalc.config.problem import Block, Problem
from handcalc.model.cycle import build
from handcalc.model.steps import StepSpec


@dataclass(frozen=True, slots=True)
class Iteration:
    """One update cycle: which epoch, which examples (1-based), its mini-batch and its steps."""

    number: int
    epoch: int
    examples: tuple[int, ...]
    problem: Problem
    specs: list[StepSpec]
    masks: dict[str, Block] = field(default_factory=dict)  # dropout masks d0, d1, ...


def plan(p: Problem, jacobians: bool = False) -> list[Iteration]:
    """The iterations of a run: mini-batches of training.batch_size examples, walked in order
    (the last one of an epoch may be short), the whole batch each time by default."""
    size = p.batch_size or p.examples
    batches = math.ceil(p.examples / size)
    return [_iteration(p, k, batches, size, jacobians) for k in range(p.steps)]


def _iteration(p: Problem, k: int, batches: int, size: int, jacobians: bool) -> Iteration:
    """Iteration k + 1: batch b of its epoch."""
    epoch, b = divmod(k, batches)
    rows = tuple(range(b * size, min(p.examples, (b + 1) * size)))
    sub = p if len(rows) == p.examples else _mini_batch(p, rows)
    return Iteration(
        number=k + 1,
        epoch=epoch + 1,
        examples=tuple(r + 1 for r in rows),
        problem=sub,
        specs=build(sub, jacobians, k + 1),
        masks=masks(p, k + 1, rows),
    )


def masks(p: Problem, iteration: int, rows: tuple[int, ...]) -> dict[str, Block]:
    """The dropout masks of an iteration's examples: as given, or drawn anew each iteration."""
    d = p.dropout
    if d is None:
        return {}
    seed = f"handcalc-dropout-{p.init.seed}-{iteration}"
    return {
        f"d{i}": d.mask(i, rows, p.widths[i], seed, d.masks)
        for i in range(p.layers)
        if d.keep_probability(i) is not None
    }


def _mini_batch(p: Problem, rows: tuple[int, ...]) -> Problem:
    def pick(block: Block) -> Block:
        width = block.shape[1]
        data = tuple(v for r in rows for v in block.data[r * width : (r + 1) * width])
        return Block(shape=(len(rows), width), data=data)

    labels = None if p.labels is None else tuple(p.labels[r] for r in rows)
    return replace(p, x=pick(p.x), y=pick(p.y), labels=labels)
