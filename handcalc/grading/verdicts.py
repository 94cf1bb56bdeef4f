"""The verdict records of a check: one per entry, one per step, one for the whole answers file."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from handcalc.trace import Step, Trace

# correct: equal to the key within the tolerance; carried: equal to what the step gives from the
# student's own inputs (an error carried forward); wrong: neither; blank: left out or ~;
# unreadable: written, but not as a number (or the step in a shape of no use).
Verdict = Literal["correct", "carried", "wrong", "blank", "unreadable"]
VERDICTS: tuple[Verdict, ...] = ("correct", "carried", "wrong", "blank", "unreadable")
ANSWERED: tuple[Verdict, ...] = ("correct", "carried", "wrong")


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a step: the student's number (None if not given), the key's, the verdict.

    `carried_from` names the earlier wrong entries a carried entry carries; `slip_at` is the id of
    the step where the diagnosed slip happened, when that is a step the student did not write.
    """

    index: int
    label: str
    example: int | None
    value: Decimal | None
    key: str
    tolerance: Decimal
    verdict: Verdict
    recomputed: str | None = None
    carried_from: tuple[str, ...] = ()
    diagnosis: str | None = None
    slip_at: str | None = None
    hint: str | None = None
    more_digits: bool = False


@dataclass(frozen=True, slots=True)
class Slip:
    """One diagnosis shared by entries of a step: said once for all of them."""

    diagnosis: str
    hint: str | None
    slip_at: str | None
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StepReport:
    """Every entry of one step and the points it is worth."""

    step: Step
    points: Decimal
    entries: list[Entry]
    transposed: bool = False

    def count(self, verdict: Verdict) -> int:
        return sum(e.verdict == verdict for e in self.entries)

    @property
    def answered(self) -> int:
        """Entries with a number written (correct, carried or wrong)."""
        return sum(e.verdict in ANSWERED for e in self.entries)

    def earned(self, carried_credit: Decimal, only_answered: bool = False) -> Decimal:
        """The step's points times the share of its entries earned.

        Blank and unreadable entries earn nothing; with `only_answered` they are left out of the
        share instead, as a student checking part of the work wants it.
        """
        size = self.answered if only_answered else len(self.entries)
        if not size:
            return Decimal(0)
        credit = self.count("correct") + carried_credit * self.count("carried")
        return self.points * credit / size

    def slips(self) -> list[Slip]:
        """The diagnoses of the step's wrong entries, each once, most shared first."""
        groups: dict[tuple[str, str | None, str | None], list[str]] = {}
        for e in self.entries:
            if e.verdict == "wrong" and e.diagnosis:
                groups.setdefault((e.diagnosis, e.hint, e.slip_at), []).append(e.label)
        ranked = sorted(groups.items(), key=lambda item: -len(item[1]))
        return [
            Slip(diagnosis=d, hint=h, slip_at=at, labels=tuple(labels))
            for (d, h, at), labels in ranked
        ]


@dataclass(frozen=True, slots=True)
class Report:
    """A graded answers file: every step asked (or only those answered), and the score."""

    trace: Trace
    steps: list[StepReport]
    problems: list[str]
    notes: list[str]
    carried_credit: Decimal = Decimal(1)
    only_answered: bool = False

    @property
    def first_wrong(self) -> StepReport | None:
        return next((s for s in self.steps if s.count("wrong")), None)

    @property
    def score(self) -> tuple[Decimal, Decimal]:
        """Points earned and points possible."""
        counted = [s for s in self.steps if s.answered or not self.only_answered]
        earned = sum(
            (s.earned(self.carried_credit, self.only_answered) for s in counted), Decimal(0)
        )
        return earned, sum((s.points for s in counted), Decimal(0))

    def totals(self) -> dict[Verdict, int]:
        """How many entries got each verdict."""
        return {v: sum(s.count(v) for s in self.steps) for v in VERDICTS}

    def more_digits(self) -> list[Entry]:
        """Entries closer to float64 than the key, written with more digits than the rule."""
        return [e for s in self.steps for e in s.entries if e.more_digits]

    def main_slip(self) -> str | None:
        """The slip behind the first wrong step, else the one most entries share."""
        first = self.first_wrong
        if first is not None and first.slips():
            return first.slips()[0].diagnosis
        counts = Counter(e.diagnosis for s in self.steps for e in s.entries if e.verdict == "wrong")
        counts.pop(None, None)
        return counts.most_common(1)[0][0] if counts else None

    @property
    def exit_code(self) -> int:
        if self.problems:
            return 2
        return 1 if self.first_wrong else 0
