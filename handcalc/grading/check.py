"""Grade a student's answers: correct, carried (error carried forward) or wrong, slips named.

An entry is correct when it equals the key within its tolerance; carried when it differs from the
key but equals what the step gives from the student's own values of the steps it reads; wrong
otherwise. A wrong entry is tried against the usual slips, each recomputed from the student's own
inputs with the very step code of the cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.grading.answers import Answers, Given
from handcalc.grading.diagnosis import Work, diagnose
from handcalc.grading.follow_through import OwnValues
from handcalc.grading.mixed_rules import MixedRules
from handcalc.grading.slips import slips
from handcalc.grading.verdicts import Entry, Report, StepReport, Verdict
from handcalc.model.steps import Phase, StepSpec
from handcalc.numbers import hand
from handcalc.trace import Step, Trace

TRANSPOSED = "the matrix written transposed (h dz^T instead of dz h^T)"
CLOSER_TO_FLOAT = "closer to the unrounded float64 value: more digits kept than the rule"


@dataclass(frozen=True, slots=True)
class Finding:
    """An entry's verdict, what the step gives from the student's own inputs, the slip, a note."""

    verdict: Verdict
    recomputed: str | None = None
    diagnosis: str | None = None
    note: str | None = None


def answerable(trace: Trace) -> dict[str, Step]:
    """The steps a student writes (everything but the given numbers), by id."""
    return {s.id: s for s in trace.iterations[0] if s.spec.phase is not Phase.given}


def grade(
    trace: Trace,
    answers: Answers,
    tolerance: Decimal | None = None,
    carried_credit: Decimal = Decimal(1),
) -> Report:
    """Every step the answers give, graded against the first iteration's key."""
    grader = _Grader.of(trace, answers, tolerance)
    steps = [
        grader.step(step, answers.given[step.id])
        for step in trace.iterations[0]
        if step.id in answers.given
    ]
    return Report(
        trace=trace,
        steps=steps,
        problems=list(answers.problems),
        notes=list(answers.notes),
        carried_credit=carried_credit,
    )


@dataclass(frozen=True, slots=True)
class _Grader:
    problem: Problem  # of the first iteration, which the answers are for
    own: OwnValues
    rules: MixedRules
    tolerance: Decimal | None

    @staticmethod
    def of(trace: Trace, answers: Answers, tolerance: Decimal | None) -> _Grader:
        problem = trace.info[0].problem
        own = OwnValues(
            key={s.id: s for s in trace.iterations[0]},
            given=answers.given,
            ns=hand(trace.problem.rounding),
        )
        rules = MixedRules(problem=problem, trace=trace)
        return _Grader(problem=problem, own=own, rules=rules, tolerance=tolerance)

    def step(self, step: Step, given: Given) -> StepReport:
        work = self.work(step)
        labels = list(step.labels())
        entries = [
            self.entry(work, i, value, given.transposed, labels[i])
            for i, value in enumerate(given.values)
            if value is not None
        ]
        points = _points(self.problem, step.spec)
        return StepReport(step=step, points=points, entries=entries, transposed=given.transposed)

    def work(self, step: Step) -> Work:
        """The step's tolerances, its recomputation from the student's inputs, and its slips."""
        spec = step.spec
        tols = step.tolerances() if self.tolerance is None else [self.tolerance] * len(step.values)
        own = self.own.recompute(spec)
        carried = own is not None and any(
            abs(o - k) > t for o, k, t in zip(own, step.values, tols, strict=True)
        )
        outcomes = [
            (s.name, self.own.recompute(spec, s.compute, s.reads))
            for s in slips(self.problem, spec)
        ]
        return Work(step=step, tolerances=tols, own=own if carried else None, slips=outcomes)

    def entry(
        self, work: Work, i: int, value: Decimal, transposed: bool, label: tuple[int | None, str]
    ) -> Entry:
        judge = self.transposed if transposed else self.judge
        found = judge(work, i, value)
        formula = f"{work.step.spec.symbol} = {work.step.spec.formula}"
        return Entry(
            index=i,
            label=label[1],
            example=label[0],
            value=value,
            key=work.step.text(i),
            tolerance=work.tolerances[i],
            verdict=found.verdict,
            recomputed=found.recomputed,
            diagnosis=found.diagnosis,
            hint=f"the notes' formula: {formula}" if found.diagnosis else None,
            note=found.note,
        )

    def judge(self, work: Work, i: int, value: Decimal) -> Finding:
        """Correct within the tolerance, else carried from the student's inputs, else wrong."""
        step, tol, own = work.step, work.tolerances[i], work.own
        key = step.values[i]
        if abs(value - key) <= tol:
            return Finding(verdict="correct", note=_closer_to_float(step, i, value))
        recomputed = step.rounding.text(own[i]) if own is not None else None
        if own is not None and abs(value - own[i]) <= tol:
            return Finding(verdict="carried", recomputed=recomputed)
        diagnosis = diagnose(work, i, value, self.rules)
        return Finding(verdict="wrong", recomputed=recomputed, diagnosis=diagnosis)

    def transposed(self, work: Work, i: int, value: Decimal) -> Finding:
        """A matrix written transposed is wrong, right numbers or not: W^(l) is d_l x d_(l-1)."""
        tol, own = work.tolerances[i], work.own
        right = abs(value - work.step.values[i]) <= tol or (
            own is not None and abs(value - own[i]) <= tol
        )
        diagnosis = TRANSPOSED if right else diagnose(work, i, value, self.rules)
        return Finding(verdict="wrong", diagnosis=diagnosis)


def _closer_to_float(step: Step, i: int, value: Decimal) -> str | None:
    key = step.values[i]
    if value != key and abs(value - Decimal(repr(step.floats[i]))) < abs(value - key):
        return CLOSER_TO_FLOAT
    return None


def _points(p: Problem, spec: StepSpec) -> Decimal:
    points = p.points
    if spec.id in points:
        return points[spec.id]
    return points.get(spec.phase, Decimal(1))
