"""What the server holds per paper: the key's trace, what grading shares, the page written once.

A config gives one sheet; an exam folder one per variant, all made when the server starts so that a
broken variant stops it with the usual one-line error rather than failing a student later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handcalc.config import load as cfg
from handcalc.documents import paper
from handcalc.grading import exam_folder
from handcalc.grading.asked import asked
from handcalc.grading.check import Shared
from handcalc.model.runner import make_trace
from handcalc.serve import page
from handcalc.trace import Step, Trace


@dataclass(frozen=True, slots=True)
class Sheet:
    """One paper: its asked steps in the paper's order, and its page."""

    trace: Trace
    shared: Shared
    steps: dict[str, Step]
    variant: str | None
    html: str

    @staticmethod
    def of(trace: Trace, variant: str | None = None) -> Sheet:
        number = int(variant) if variant is not None and variant.isdigit() else None
        doc = paper.build(trace, key=False, hints=True, variant=number)
        steps = {s.id: s for s in asked(trace)}
        return Sheet(
            trace=trace,
            shared=Shared.of(trace),
            steps=steps,
            variant=variant,
            html=page.worksheet(doc, trace, variant),
        )


@dataclass(frozen=True, slots=True)
class Sheets:
    """The sheets the server grades against: one, or one per variant of an exam."""

    single: Sheet | None
    variants: dict[str, Sheet]
    title: str

    @property
    def exam(self) -> bool:
        return self.single is None

    def get(self, variant: str | None) -> Sheet | None:
        """The sheet a request names: the one sheet, or the variant (3, 03 or variant-03)."""
        if self.single is not None:
            return self.single if variant is None else None
        if variant is None:
            return None
        text = variant.strip().removeprefix("variant-").lstrip("0") or "0"
        return self.variants.get(text)


def load(path: Path | None) -> Sheets:
    """The embedded default, a config file, or every variant of an exam folder."""
    if path is not None and path.is_dir():
        exam = exam_folder.read(path)
        variants = {
            _number(v.number): Sheet.of(v.trace(), v.number)  # an edited config is refused
            for v in exam.variants
        }
        first = next(iter(variants.values()))
        return Sheets(single=None, variants=variants, title=_title(first.trace))
    sheet = Sheet.of(make_trace(cfg.load(path)))
    return Sheets(single=sheet, variants={}, title=_title(sheet.trace))


def _number(text: str) -> str:
    """A variant number without leading zeros, as requests are matched."""
    return text.lstrip("0") or "0"


def _title(trace: Trace) -> str:
    return trace.problem.title or "One training step"
