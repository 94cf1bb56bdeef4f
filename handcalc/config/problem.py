"""The frozen records of a validated config: the Problem and its sections."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from handcalc.config.draw import Init
from handcalc.config.rules import Rules
from handcalc.model.functions import LossName
from handcalc.model.heads import HeadName
from handcalc.model.ids import StepId
from handcalc.model.optimizers import Optimizer
from handcalc.numbers import Shape
from handcalc.rounding import Rounding


@dataclass(frozen=True, slots=True)
class Document:
    """What printed documents and grading add to the run: texts, points per step, expansions."""

    course: str | None = None
    date: str | None = None
    instructions: str | None = None
    points: dict[str, Decimal] = field(default_factory=dict)
    expand: tuple[str, ...] = ()
    space: str = "small"  # working room under each answer box: none, small or large


@dataclass(frozen=True, slots=True)
class Exam:
    """How exam variants differ and the constraints each must meet (None: not required)."""

    input: bool = False
    label: bool = False
    max_tries: int = 2000
    relu_mixed: bool = False
    max_abs: Decimal | None = None
    min_abs_nonzero: Decimal | None = None
    no_ties: bool = False
    no_saturation: bool = False

    def required(self) -> dict[str, Any]:
        names = ("relu_mixed", "max_abs", "min_abs_nonzero", "no_ties", "no_saturation")
        return {n: getattr(self, n) for n in names if getattr(self, n) not in (None, False)}


Scaling = Literal["notes", "inverted"]  # the notes scale W by p at test time; inverted: h / p


@dataclass(frozen=True, slots=True)
class Dropout:
    """Keep probabilities per layer input, masks given explicitly, and the scaling convention."""

    keep: tuple[Decimal, ...]  # p^(0) ... p^(L-1)
    masks: dict[str, Block]  # d0, d1, ...: N x d_(l-1), 0 or 1
    scaling: Scaling = "notes"
    mc_masks: dict[str, Block] = field(default_factory=dict)  # d0, ...: passes x d_(l-1)

    def keep_probability(self, i: int) -> Decimal | None:
        """p^(i) where dropout acts on layer input h^(i) (kept with probability below 1)."""
        return self.keep[i] if self.keep[i] < 1 else None

    def divisor(self, i: int) -> Decimal | None:
        """What training divides the kept units of h^(i) by: p^(i) under inverted scaling."""
        return self.keep_probability(i) if self.scaling == "inverted" else None

    def test_factor(self, i: int) -> Decimal | None:
        """What the test-time pass multiplies W^(i+1) by: p^(i) under the notes' scaling."""
        return self.keep_probability(i) if self.scaling == "notes" else None

    def mask(
        self, i: int, rows: tuple[int, ...], width: int, seed: str, given: Mapping[str, Block]
    ) -> Block:
        """Mask d^(i) for `rows`: those rows of a given mask, or drawn anew from the seed, each
        entry 1 with probability p^(i)."""
        block = given.get(f"d{i}")
        if block is not None:
            data = tuple(v for r in rows for v in block.data[r * width : (r + 1) * width])
            return Block(shape=(len(rows), width), data=data)
        rng = random.Random(f"{seed}-{i}")
        count = len(rows) * width
        keep, one, zero = self.keep[i], Decimal(1), Decimal(0)
        drawn = tuple(one if rng.random() < keep else zero for _ in range(count))
        return Block(shape=(len(rows), width), data=drawn)


@dataclass(frozen=True, slots=True)
class Calibration:
    """The labelled set and schedule `handcalc calibrate` fits the temperature with."""

    x: Block
    y: Block
    labels: tuple[int, ...] | None
    temperature: Decimal
    learning_rate: Decimal
    steps: int


@dataclass(frozen=True, slots=True)
class Block:
    """Given numbers with their shape, row-major, already rounded by the class's rule."""

    shape: Shape
    data: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything one run needs, validated."""

    name: str
    title: str | None
    widths: tuple[int, ...]
    activations: tuple[str, ...]
    head: HeadName
    loss: LossName
    bias: bool
    x: Block  # N x d_0
    y: Block  # N x d_L
    labels: tuple[int, ...] | None
    batched: bool
    reduction: str
    parameters: dict[str, Block]
    given_parameters: tuple[str, ...]
    init: Init
    learning_rate: Decimal
    steps: int
    rounding: Rounding = field(default_factory=Rounding)
    rules: Rules = field(default_factory=Rules)  # which steps are written, rules of their own
    update_form: str = "direct"  # delta: Δθ = −η g as a step before θ + Δθ
    document: Document = field(default_factory=Document)
    exam: Exam = field(default_factory=Exam)
    optimizer: Optimizer = field(default_factory=Optimizer)
    batch_size: int | None = None  # None: the whole batch every iteration
    residual: tuple[int, ...] = ()  # layers with a skip connection (section 13)
    temperature: Decimal | None = None  # the head reads z^(L) / T (section 7)
    calibration: Calibration | None = None
    dropout: Dropout | None = None

    def rule(self, ident: StepId, phase: str) -> Rounding:
        """The rounding of one step: its own override, else the class's rule."""
        return self.rules.rule(ident, phase, self.rounding)

    def written(self, ident: StepId, phase: str) -> bool:
        """Whether a step is written down, or passed on exactly (rounding.write)."""
        return self.rules.written(ident, phase)

    @property
    def points(self) -> dict[str, Decimal]:
        return self.document.points

    @property
    def layers(self) -> int:
        return len(self.widths) - 1

    @property
    def examples(self) -> int:
        return self.x.shape[0]
