"""The verdict records of a check: one per entry, one per step, one for the whole answers file."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from handcalc.trace import Step, Trace

# correct: equal to the key within the tolerance; carried: equal to what the step gives from the
# student's own inputs (an error carried forward); wrong: neither.
Verdict = Literal["correct", "carried", "wrong"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One graded entry: the student's number, the key's, the verdict and what explains it."""

    index: int
    label: str
    example: int | None
    value: Decimal
    key: str
    tolerance: Decimal
    verdict: Verdict
    recomputed: str | None = None
    diagnosis: str | None = None
    hint: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StepReport:
    """The graded entries of one step and the points it is worth."""

    step: Step
    points: Decimal
    entries: list[Entry]
    transposed: bool

    def count(self, verdict: Verdict) -> int:
        return sum(e.verdict == verdict for e in self.entries)

    def earned(self, carried_credit: Decimal) -> Decimal:
        if not self.entries:
            return Decimal(0)
        credit = self.count("correct") + carried_credit * self.count("carried")
        return self.points * credit / len(self.entries)


@dataclass(frozen=True, slots=True)
class Report:
    """A graded answers file: the steps given, what could not be read, and the score."""

    trace: Trace
    steps: list[StepReport]
    problems: list[str]
    notes: list[str]
    carried_credit: Decimal = Decimal(1)

    @property
    def first_wrong(self) -> StepReport | None:
        return next((s for s in self.steps if s.count("wrong")), None)

    @property
    def score(self) -> tuple[Decimal, Decimal]:
        earned = sum((s.earned(self.carried_credit) for s in self.steps), Decimal(0))
        return earned, sum((s.points for s in self.steps), Decimal(0))

    @property
    def exit_code(self) -> int:
        if self.problems:
            return 2
        return 1 if self.first_wrong else 0
