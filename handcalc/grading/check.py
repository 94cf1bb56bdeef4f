"""Grade a student's answers: correct, carried (error carried forward) or wrong, slips named.

An entry is correct when it equals the key within its tolerance; carried when it differs from the
key but equals what the step gives from the student's own values of the steps it reads (those they
skipped recomputed from their own earlier values); wrong otherwise. A wrong entry is tried against
the usual slips, each recomputed from the student's own inputs with the very step code of the
cycle, at the step and at the steps they skipped on the way to it. Every step the paper asks is
reported; blank and unreadable entries earn nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from handcalc.config.problem import Problem
from handcalc.grading.answers import Answers, Given
from handcalc.grading.asked import asked, points
from handcalc.grading.dependence import Dependence
from handcalc.grading.diagnosis import Found, Tried, Work, diagnose, formula
from handcalc.grading.follow_through import Override, OwnValues
from handcalc.grading.mixed_rules import MixedRules, Rival, longer
from handcalc.grading.slips import slips
from handcalc.grading.verdicts import Entry, Report, StepReport, Verdict
from handcalc.numbers import hand
from handcalc.trace import Step, Trace

T = TypeVar("T")
TRANSPOSED = "the matrix written transposed (h dz^T instead of dz h^T)"


@dataclass(frozen=True, slots=True)
class Options:
    """How to grade: one tolerance for every entry (None: per entry), the credit of a carried
    entry, and whether only the steps answered count (a student's self-check)."""

    tolerance: Decimal | None = None
    carried_credit: Decimal = Decimal(1)
    only_answered: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """An entry's verdict, what the step gives from the student's own inputs, the slip."""

    verdict: Verdict
    recomputed: str | None = None
    found: Found | None = None


@dataclass(frozen=True, slots=True)
class Shared:
    """What grading many students against one key shares, each part made when first needed:
    the other rounding rules' keys, and which entries each entry is computed from."""

    rules: MixedRules
    dependence: Dependence

    @staticmethod
    def of(trace: Trace) -> Shared:
        return Shared(
            rules=MixedRules(problem=trace.info[0].problem),
            dependence=Dependence(key={s.id: s for s in trace.iterations[0]}),
        )


def grade(
    trace: Trace, answers: Answers, options: Options = Options(), shared: Shared | None = None
) -> Report:
    """Every step the paper asks, graded against the first iteration's key."""
    grader = _Grader.of(trace, answers, options, shared or Shared.of(trace))
    # a step with no number written is left out of a self-check: not graded at all
    wanted = [s for s in asked(trace) if not options.only_answered or s.id in grader.own.given]
    steps = [grader.step(step) for step in wanted]
    return Report(
        trace=trace,
        steps=steps,
        problems=list(answers.problems),
        notes=list(answers.notes),
        carried_credit=options.carried_credit,
        only_answered=options.only_answered,
    )


@dataclass(frozen=True, slots=True)
class _Grader:
    problem: Problem  # of the first iteration, which the answers are for
    answers: Answers
    own: OwnValues
    shared: Shared
    options: Options
    _facts: dict[str, _Facts] = field(default_factory=dict)
    _rivals: list[list[Rival]] = field(default_factory=list)

    @staticmethod
    def of(trace: Trace, answers: Answers, options: Options, shared: Shared) -> _Grader:
        problem = trace.info[0].problem
        answered = {k: g for k, g in answers.given.items() if g.answered}
        own = OwnValues(
            key={s.id: s for s in trace.iterations[0]}, given=answered, ns=hand(problem.rounding)
        )
        return _Grader(
            problem=problem,
            answers=answers,
            own=own,
            shared=shared,
            options=options,
        )

    def step(self, step: Step) -> StepReport:
        """The step's entries, each with its verdict; its points."""
        given = self.own.given.get(step.id)
        if given is None:
            entries = self._unanswered(step)
        else:
            work = _LazyWork(grader=self, step=step)
            entries = [self._entry(work, i, value, given) for i, value in enumerate(given.values)]
        return StepReport(
            step=step,
            points=points(self.problem, step.spec),
            entries=entries,
            transposed=given is not None and given.transposed,
        )

    def _unanswered(self, step: Step) -> list[Entry]:
        rejected = step.id in self.answers.rejected
        raw = self.answers.given.get(step.id)
        bad = raw.unreadable if raw is not None else frozenset()
        return [
            _entry(
                step, self.facts(step), i, None, "unreadable" if rejected or i in bad else "blank"
            )
            for i in range(len(step.values))
        ]

    def _entry(self, work: _LazyWork, i: int, value: Decimal | None, given: Given) -> Entry:
        step = work.step
        if value is None:
            verdict: Verdict = "unreadable" if i in given.unreadable else "blank"
            return _entry(step, self.facts(step), i, None, verdict)
        judge = self.transposed if given.transposed else self.judge
        found = judge(work, i, value)
        base = _entry(step, self.facts(step), i, value, found.verdict)
        carried_from = self.carried_from(step.id, i) if found.verdict == "carried" else ()
        return _with_finding(base, found, carried_from, step)

    def _tolerance(self, step: Step, i: int) -> Decimal:
        return self.facts(step).tolerances[i]

    def facts(self, step: Step) -> _Facts:
        """The step's labels and tolerances, worked out once."""
        if step.id not in self._facts:
            noise = step.tolerances()
            tol = self.options.tolerance
            self._facts[step.id] = _Facts(
                labels=list(step.labels()),
                noise=noise,
                tolerances=noise if tol is None else [tol] * len(noise),
            )
        return self._facts[step.id]

    def judge(self, work: _LazyWork, i: int, value: Decimal) -> Finding:
        """Correct within the tolerance, else carried from the student's inputs, else wrong."""
        step, tol = work.step, self._tolerance(work.step, i)
        if abs(value - step.values[i]) <= tol:
            return Finding(verdict="correct")
        own = work.own()
        recomputed = step.rounding.text(own[i]) if own is not None else None
        if own is not None and abs(value - own[i]) <= tol:
            return Finding(verdict="carried", recomputed=recomputed)
        found = diagnose(work.get(), i, value, self.rivals())
        return Finding(verdict="wrong", recomputed=recomputed, found=found)

    def transposed(self, work: _LazyWork, i: int, value: Decimal) -> Finding:
        """A matrix written transposed is wrong, right numbers or not: W^(l) is d_l x d_(l-1)."""
        tol, own = self._tolerance(work.step, i), work.own()
        right = abs(value - work.step.values[i]) <= tol or (
            own is not None and abs(value - own[i]) <= tol
        )
        found = (
            Found(name=TRANSPOSED, at=work.step.spec, hint=formula(work.step.spec))
            if right
            else diagnose(work.get(), i, value, self.rivals())
        )
        return Finding(verdict="wrong", found=found)

    def rivals(self) -> list[Rival]:
        """The other rounding rules, the one that reproduces most of the student's entries first."""
        if not self._rivals:
            ranked = self.shared.rules.best(self._written())
            self._rivals.append([rival for rival, _ in ranked])
        return self._rivals[0]

    def _written(self) -> list[tuple[Step, int, Decimal]]:
        key = self.own.key
        return [
            (key[g.step_id], i, v)
            for g in self.own.given.values()
            for i, v in enumerate(g.values)
            if v is not None and not g.transposed
        ]

    def carried_from(self, step_id: str, i: int) -> tuple[str, ...]:
        """The entries the student wrote that entry i is computed from and that differ from the
        key, followed back through the steps they skipped."""
        key, reads = self.own.key, self.shared.dependence.reads
        out: list[str] = []
        seen: set[tuple[str, int]] = set()
        stack = [(step_id, i)]
        while stack:
            at, k = stack.pop()
            for source in key[at].spec.inputs:
                if key[source].spec.compute is None:
                    continue
                for j in sorted(reads(at, source)[k] - {j for s, j in seen if s == source}):
                    seen.add((source, j))
                    given = self.own.given.get(source)
                    value = None if given is None else given.values[j]
                    if value is None:
                        stack.append((source, j))
                    elif abs(value - key[source].values[j]) > self._tolerance(key[source], j):
                        out.append(self.label(key[source], j))
        return tuple(out)

    def label(self, step: Step, i: int) -> str:
        """Entry i as the report names it: dL/dz^(2)_3, with its example in a batch."""
        n, label = self.facts(step).labels[i]
        return label + (f" (example {n})" if n else "")

    def work(self, step: Step, slips: bool = True) -> Work:
        """The step's tolerances, its recomputation from the student's inputs, and its slips."""
        own = self.own.recompute(step.spec)
        facts = self.facts(step)
        tols = facts.tolerances
        differs = own is not None and any(
            abs(o - k) > t for o, k, t in zip(own, step.values, tols, strict=True)
        )
        return Work(
            step=step,
            tolerances=tols,
            noise=facts.noise,
            own=own if differs else None,
            slips=self._slips(step) if slips else [],
        )

    def _slips(self, step: Step) -> list[Tried]:
        """Each usual slip at the step, then at each step skipped on the way to it."""
        spec = step.spec
        here = [
            Tried(name=s.name, at=None, outcome=self.own.recompute(spec, s.compute, s.reads))
            for s in slips(self.problem, spec)
        ]
        before = [
            Tried(
                name=s.name,
                at=skipped,
                outcome=self.own.with_slip(
                    Override(step_id=skipped.id, compute=s.compute, reads=s.reads)
                ).recompute(spec),
            )
            for skipped in self.own.upstream(spec)
            for s in slips(self.problem, skipped)
        ]
        return here + before


@dataclass(slots=True)
class _LazyWork:
    """A step's recomputations, made only when an entry needs them."""

    grader: _Grader
    step: Step
    _own: list[list[Decimal] | None] = field(default_factory=list)
    _work: list[Work] = field(default_factory=list)

    def own(self) -> list[Decimal] | None:
        """The step from the student's own inputs, where that is not the key."""
        return _once(self._own, lambda: self.grader.work(self.step, slips=False).own)

    def get(self) -> Work:
        return _once(self._work, lambda: self.grader.work(self.step))


def _once(cache: list[T], make: Callable[[], T]) -> T:
    if not cache:
        cache.append(make())
    return cache[0]


@dataclass(frozen=True, slots=True)
class _Facts:
    """A step's entry labels, rounding's reach per entry, and the tolerance per entry."""

    labels: list[tuple[int | None, str]]
    noise: list[Decimal]
    tolerances: list[Decimal]


def _entry(step: Step, facts: _Facts, i: int, value: Decimal | None, verdict: Verdict) -> Entry:
    example, label = facts.labels[i]
    return Entry(
        index=i,
        label=label,
        example=example,
        value=value,
        key=step.text(i),
        tolerance=facts.tolerances[i],
        verdict=verdict,
        more_digits=value is not None and verdict == "correct" and more_digits(step, i, value),
    )


def _with_finding(base: Entry, found: Finding, carried_from: tuple[str, ...], step: Step) -> Entry:
    slip = found.found
    return Entry(
        index=base.index,
        label=base.label,
        example=base.example,
        value=base.value,
        key=base.key,
        tolerance=base.tolerance,
        verdict=base.verdict,
        recomputed=found.recomputed,
        carried_from=carried_from if found.verdict == "carried" else (),
        diagnosis=None if slip is None else slip.name,
        slip_at=None if slip is None or slip.at.id == step.id else slip.at.id,
        hint=None if slip is None else slip.hint,
        more_digits=base.more_digits,
    )


def more_digits(step: Step, i: int, value: Decimal) -> bool:
    """Closer to float64 than the key is, and written with more digits than the rule keeps.

    An answer one unit off the key on the far side of float64 keeps no more than the rule.
    """
    key, exact = step.values[i], Decimal(repr(step.floats[i]))
    if value == key or abs(value - exact) >= abs(key - exact):
        return False
    return longer(step.rounding, value)
