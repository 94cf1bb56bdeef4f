"""A class graded at once: each answers file against the exam variant it names, and a summary of
every step across the class. A file that cannot be graded stays in the gradebook with the reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from handcalc.errors import ConfigError, HandcalcError
from handcalc.grading import answers as ans
from handcalc.grading import exam_folder
from handcalc.grading.asked import asked, unwritten
from handcalc.grading.check import Options, Shared, grade
from handcalc.grading.exam_folder import ConfigChanged, ExamFolder, Variant
from handcalc.grading.verdicts import Report, StepReport
from handcalc.numbers import Shape
from handcalc.text import is_clean
from handcalc.trace import Trace

SUFFIXES = (".yaml", ".yml")
STANDINGS = ("correct", "carried", "wrong", "partial", "blank")


@dataclass(frozen=True, slots=True)
class Graded:
    """One answers file: its variant and report, or why it could not be graded."""

    path: Path
    variant: Variant | None = None
    report: Report | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StepSummary:
    """One step across the class: how many students stand where, and the slip most made."""

    step_id: str
    symbol: str
    points: str
    counts: dict[str, int]
    slip: tuple[str, int] | None


@dataclass(frozen=True, slots=True)
class Gradebook:
    exam: ExamFolder
    rows: list[Graded]

    def summary(self) -> list[StepSummary]:
        """Every step the paper asks, in its order, over the students graded (each step over
        those whose variant asks it)."""
        by_id: dict[str, list[StepReport]] = {}
        for g in self.rows:  # by id: a variant's config edited by hand may ask other steps
            for step in g.report.steps if g.report is not None else []:
                by_id.setdefault(step.step.id, []).append(step)
        return [_summarize(steps) for steps in by_id.values()]


def standing(s: StepReport) -> str:
    """Where a student stands on a step: wrong, blank, partial, carried or correct."""
    if s.count("wrong"):
        return "wrong"
    if not s.answered:
        return "blank"
    if s.answered < len(s.entries):
        return "partial"
    return "carried" if s.count("carried") else "correct"


def _summarize(steps: list[StepReport]) -> StepSummary:
    first = steps[0]
    counts = Counter(standing(s) for s in steps)
    slips = Counter(slip.diagnosis for s in steps for slip in s.slips()[:1])
    return StepSummary(
        step_id=first.step.id,
        symbol=first.step.spec.symbol,
        points=f"{first.points.normalize():f}",
        counts={k: counts.get(k, 0) for k in STANDINGS},
        slip=slips.most_common(1)[0] if slips else None,
    )


def answer_files(items: list[Path]) -> list[Path]:
    """The files named, a folder standing for its .yaml and .yml files (sorted by name)."""
    out: list[Path] = []
    for item in items:
        if item.is_dir():
            out += sorted(p for p in item.iterdir() if p.suffix in SUFFIXES and p.is_file())
        else:
            out.append(item)
    for path in out:  # its name goes into the gradebook and names its feedback file
        if not is_clean(str(path)):
            raise ConfigError(
                f"{path}: a file name with a control character or bytes that are not UTF-8 "
                "(rename the file)"
            )
    return out


def grade_all(folder: Path, items: list[Path], options: Options) -> Gradebook:
    """Every answers file graded against its variant's key."""
    exam = exam_folder.read(folder)
    keys = _Keys()
    for variant in exam.variants:  # an edited variant stops grading before any student
        try:
            keys.get(variant)
        except ConfigChanged:
            raise
        except HandcalcError:
            pass  # named as the reason of each of its answers files
    return Gradebook(exam=exam, rows=[_one(p, exam, keys, options) for p in answer_files(items)])


def _one(path: Path, exam: ExamFolder, keys: _Keys, options: Options) -> Graded:
    try:
        loaded = ans.load(path)
    except HandcalcError as e:
        return Graded(path=path, reason=str(e))
    if isinstance(loaded, ans.Answers):
        return Graded(path=path, reason=loaded.problems[0])
    entries = loaded.value if loaded is not None and isinstance(loaded.value, dict) else {}
    variant = exam.find(ans.variant_of(entries), path.name)
    if isinstance(variant, str):
        return Graded(path=path, reason=variant)
    try:
        key = keys.get(variant)
    except HandcalcError as e:
        return Graded(path=path, variant=variant, reason=f"the variant's config: {e}")
    answers = ans.from_node(path, loaded, key.shapes, unwritten(key.trace))
    report = grade(key.trace, answers, options, key.shared)
    return Graded(path=path, variant=variant, report=report)


@dataclass(frozen=True, slots=True)
class _Key:
    trace: Trace
    shapes: dict[str, Shape]
    shared: Shared


@dataclass(frozen=True, slots=True)
class _Keys:
    """Each variant's key, made when its first student is graded, shared by the rest."""

    _made: dict[Path, _Key] = field(default_factory=dict)

    def get(self, variant: Variant) -> _Key:
        if variant.config not in self._made:
            trace = variant.trace()  # an edited config stops grading (ConfigChanged)
            self._made[variant.config] = _Key(
                trace=trace,
                shapes={s.id: s.shape for s in asked(trace)},
                shared=Shared.of(trace),
            )
        return self._made[variant.config]
