"""The limits a config and an answers file are held to, each checked before anything is computed.

Every limit keeps one command within seconds and a few hundred megabytes, far above what a class
works by hand; docs/errors.md states them. A refusal names the limit and what to change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from handcalc.config.problem import Block, Problem
from handcalc.errors import ConfigError
from handcalc.model.cycle import build
from handcalc.model.steps import StepSpec

# A config or an answers file. PyYAML composes about 150,000 values a second, and a file this
# size holds at most 150,000 of them, so even a refusal after reading it all takes under 2 s.
MAX_FILE_BYTES = 300_000
MAX_DEPTH = 20  # lists and mappings inside each other
MAX_VALUES = 2_000_000  # values a document describes, each repeat of an anchor counted

# Numbers in a config: short enough to be exact in the hand run's 60 digits, and small enough that
# a few layers of products stay within what 20 decimal places can write.
MAX_NUMBER_CHARS = 40
LARGEST = Decimal("1e15")
SMALLEST = Decimal("1e-15")  # the smallest magnitude of a number that is not 0
# Numbers in an answers file: anything a float64 grader compares without overflow.
MAX_ANSWER_CHARS = 100
ANSWER_LARGEST = Decimal("1e100")
ANSWER_SMALLEST = Decimal("1e-100")

# A title, course, date or instructions: a paragraph at most. Typst takes seconds per hundred
# thousand characters of one word, so a file-sized title would hold `worksheet` for a minute.
MAX_TEXT_CHARS = 2_000

MAX_PARAMETERS = 250_000
MAX_LAYERS = 100
MAX_BATCH = 1_000
MAX_STEPS = 100
MAX_ENTRIES = 1_000_000  # written entries in one run, every iteration's together
MAX_PDF_ENTRIES = 5_000  # written entries on one worksheet or key typeset as a PDF
MAX_TRIES = 10_000  # exam.max_tries
MAX_EXAM_ENTRIES = 10_000_000  # exam.max_tries x the entries of one candidate


def within(value: Decimal, largest: Decimal, smallest: Decimal) -> bool:
    """Whether a number is 0 or between smallest and largest in absolute value.

    >>> [within(Decimal(x), LARGEST, SMALLEST) for x in ("1e16", "-2e-16", "0", "-1e15")]
    [False, False, True, True]
    """
    return value.is_zero() or smallest <= value.copy_abs() <= largest


def number_range(largest: Decimal, smallest: Decimal) -> str:
    """The allowed sizes in words, as a message's expectation."""
    return f"0, or between {smallest:e} and {largest:e} in absolute value".replace("e+", "e")


def written(p: Problem, jacobians: bool = False) -> int:
    """How many entries a run of the problem writes down, every iteration's together: the
    plan's steps, counted without drawing its dropout masks."""
    size = p.batch_size or p.examples
    batches = math.ceil(p.examples / size)
    rows = [min(p.examples, (k % batches + 1) * size) - k % batches * size for k in range(p.steps)]
    subs = {n: _first(p, n) for n in set(rows)}
    return sum(entries(build(subs[n], jacobians, k + 1)) for k, n in enumerate(rows))


def _first(p: Problem, n: int) -> Problem:
    """The problem with its first n examples: a mini-batch of n, in shape."""
    if n == p.examples:
        return p

    def first(block: Block) -> Block:
        return Block(shape=(n, block.shape[1]), data=block.data[: n * block.shape[1]])

    labels = None if p.labels is None else p.labels[:n]
    return replace(p, x=first(p.x), y=first(p.y), labels=labels)


def entries(specs: Iterable[StepSpec]) -> int:
    """The entries these steps write."""
    return sum(math.prod(s.shape) for s in specs)


def check_run(p: Problem, where: str) -> None:
    """At most MAX_ENTRIES written entries in one run (steps x entries per iteration)."""
    count = written(p)
    if count > MAX_ENTRIES:
        steps = f"{p.steps} steps write" if p.steps > 1 else "one step writes"
        raise ConfigError(
            f"{where}: {steps} {count:,} entries, too many (at most {MAX_ENTRIES:,} in a run: "
            "fewer steps, a smaller network or a smaller batch)"
        )


def check_written(p: Problem, specs: Iterable[StepSpec]) -> None:
    """Any run (calibrate's, mc-dropout's) writes at most MAX_ENTRIES entries in all."""
    count = entries(specs)
    if count > MAX_ENTRIES:
        raise ConfigError(
            f"{p.name}: {count:,} entries to write, too many (at most {MAX_ENTRIES:,} in a run: "
            "fewer steps, passes or examples, or a smaller network)"
        )


def check_pdf(p: Problem, jacobians: bool = False) -> None:
    """At most MAX_PDF_ENTRIES written entries on a worksheet or key typeset as a PDF."""
    count = written(p, jacobians)
    if count > MAX_PDF_ENTRIES:
        raise ConfigError(
            f"{p.name}: {count:,} written entries are too many for a PDF (at most "
            f"{MAX_PDF_ENTRIES:,}: write .typ, .tex, .md or .html instead, or a smaller network)"
        )


def check_exam(p: Problem) -> None:
    """Each variant fits a PDF, and drawing them computes at most MAX_EXAM_ENTRIES entries."""
    check_pdf(p)
    count = written(p)
    if p.exam.max_tries * count > MAX_EXAM_ENTRIES:
        raise ConfigError(
            f"{p.name}: exam.max_tries: {p.exam.max_tries:,} tries of {count:,} entries each "
            f"are too many (at most {MAX_EXAM_ENTRIES:,} entries in all: exam.max_tries "
            f"{MAX_EXAM_ENTRIES // count:,} or fewer)"
        )
