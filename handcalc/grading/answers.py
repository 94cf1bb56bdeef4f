"""A student's answers file -> numbers per step, with every unreadable entry reported at its place.

A number is what a student writes on paper, typed in ASCII: an optional sign (a minus sign as the
papers print it, U+2212, reads as '-'), the digits 0 to 9 with at most one decimal point and an
optional exponent ("0.1234", "-.5", "+3", "1.2e-3"), a fraction of whole numbers ("1/3",
"-2 / 7"), or a decimal comma ("0,25", accepted with a note).
Anything else is unreadable: digits of other scripts, separators such as "1_000" or "1 000",
"nan", "inf", "0x10".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path

from handcalc.config.limits import (
    ANSWER_LARGEST,
    ANSWER_SMALLEST,
    MAX_ANSWER_CHARS,
    number_range,
    within,
)
from handcalc.config.source import Node, read_file
from handcalc.errors import HandcalcError
from handcalc.numbers import WORKING, Shape

# ASCII digits only: Python's Decimal() and \d also take other scripts' digits, "1_000", "nan".
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FRACTION = re.compile(r"([+-]?[0-9]+) */ *([0-9]+)")
_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+")
_AROUND = " \t\r\n"  # what a typed or quoted entry may have around the number


@dataclass(frozen=True, slots=True)
class Given:
    """One step's answer: flat entries in the step's shape, None where left blank."""

    step_id: str
    shape: Shape
    values: list[Decimal | None]
    where: str
    transposed: bool = False  # written in the transposed shape (a matrix)
    unreadable: frozenset[int] = frozenset()  # entries written, but not as a number

    @property
    def answered(self) -> bool:
        """Whether any entry has a number (a step left all ~ is not answered)."""
        return any(v is not None for v in self.values)


@dataclass(frozen=True, slots=True)
class Answers:
    """What an answers file gives, by step id, and what could not be read or needed reading."""

    given: dict[str, Given] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)  # steps written in a shape of no use
    unknown: set[str] = field(default_factory=set)  # ids that name no step


class AnswersError(HandcalcError):
    """An answers file that is not there to read: nothing to grade."""


VARIANT = "variant"  # the one top-level key of an answers file that is not a step id


def parse_number(text: str) -> tuple[Decimal, str | None]:
    """A number as a student writes it, and a note when it needed reading (a decimal comma).

    >>> parse_number("-.5"), parse_number("1/4"), parse_number("0,25")
    ((Decimal('-0.5'), None), (Decimal('0.25'), None), (Decimal('0.25'), 'decimal comma'))
    >>> parse_number("1e400")
    Traceback (most recent call last):
    ValueError: out of range (0, or between 1e-100 and 1e100 in absolute value)
    """
    if len(text.strip()) > MAX_ANSWER_CHARS:
        raise ValueError(f"too long (at most {MAX_ANSWER_CHARS} characters)")
    value, note = _spelled(_ascii_minus(text.strip(_AROUND)))
    if not within(value, ANSWER_LARGEST, ANSWER_SMALLEST):
        raise _out_of_range()
    return value, note


def _out_of_range() -> ValueError:
    return ValueError(f"out of range ({number_range(ANSWER_LARGEST, ANSWER_SMALLEST)})")


def _spelled(text: str) -> tuple[Decimal, str | None]:
    """The number a text spells: a decimal, a fraction, or a decimal with a comma."""
    if _DECIMAL.fullmatch(text):
        try:
            return Decimal(text), None
        except InvalidOperation:  # an exponent past what Decimal holds: 1e9999999999999999999
            raise _out_of_range() from None
    if _COMMA.fullmatch(text):
        return Decimal(text.replace(",", ".")), "decimal comma"
    fraction = _FRACTION.fullmatch(text)
    if fraction is None:
        raise ValueError(f"not a number{_hint(text)}")
    if int(fraction.group(2)) == 0:
        raise ValueError("a fraction over zero")
    with localcontext(WORKING):
        return Decimal(fraction.group(1)) / Decimal(fraction.group(2)), None


def _ascii_minus(text: str) -> str:
    """The minus sign as the papers print it (U+2212, in front or in an exponent: −0.5,
    2.2e−16), copied from a key or the given matrices, read as '-'."""
    return text.replace("\u2212", "-")


def _hint(text: str) -> str:
    """What makes a text that looks like a number unreadable, where that is not plain."""
    if any(c.isdigit() and not c.isascii() for c in text):
        return " (write the digits 0 to 9)"
    if "\u2013" in text:  # an en dash typed for a minus sign
        return " (type the minus sign as -)"
    if any(c.isdigit() for c in text) and any(c in "_ " for c in text):
        return " (no spaces or _ inside a number)"
    return ""


def read(path: Path, shapes: dict[str, Shape], unwritten: Collection[str] = ()) -> Answers:
    """Read an answers file against the steps a student can answer (id -> shape); `unwritten`
    are the steps the class passes on without writing them down, named as such if answered.

    A file that is not there raises AnswersError; what cannot be read in it is reported.
    """
    loaded = load(path)
    if isinstance(loaded, Answers):
        return loaded
    return from_node(path, loaded, shapes, unwritten)


def load(path: Path) -> Node | Answers | None:
    """The file's YAML tree; Answers holding the reason when it is no YAML to read."""
    if not path.exists():
        raise AnswersError(f"{path}: no such file (expected the student's answers file)")
    try:
        return read_file(path, "a YAML answers file")
    except HandcalcError as e:
        return Answers(problems=[str(e)])


def from_node(
    path: Path, root: Node | None, shapes: dict[str, Shape], unwritten: Collection[str] = ()
) -> Answers:
    """The answers of a file's YAML tree."""
    entries = _entries(path, root)
    if isinstance(entries, str):
        return Answers(problems=[entries])
    out = Answers()
    for step_id, node in entries.items():
        if step_id == VARIANT:
            continue
        if step_id not in shapes:
            out.problems.append(_unknown(step_id, node, shapes, unwritten))
            out.unknown.add(step_id)
            continue
        given = _read_step(step_id, node, shapes[step_id], out)
        if given is None:
            out.rejected.add(step_id)
        else:
            out.given[step_id] = given
    return out


def variant_of(entries: Mapping[str, Node]) -> str | None:
    """The text of the file's `variant:` key (None without one)."""
    node = entries.get(VARIANT)
    return None if node is None or not isinstance(node.value, str) else node.value.strip()


def _entries(path: Path, root: Node | None) -> dict[str, Node] | str:
    """The file's mapping of step ids to answers, or what is wrong with the file."""
    if root is None or (root.is_map and not root.value):
        return f"{path}: no answers in the file (expected step ids such as z1: [...])"
    if not root.is_map or not isinstance(root.value, dict):
        return f"{root.where}: expected a mapping of step ids to values"
    return root.value


def _unknown(step_id: str, node: Node, shapes: dict[str, Shape], unwritten: Collection[str]) -> str:
    if step_id in unwritten:
        return f"{node.where}: {step_id}: not asked: the class passes it on without writing it down"
    close = difflib.get_close_matches(step_id, list(shapes), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"{node.where}: {step_id}: unknown step id ({hint}see --template)"


def _read_step(step_id: str, node: Node, shape: Shape, out: Answers) -> Given | None:
    got = _shape_of(node)
    transposed = len(shape) == 2 and got == (shape[1], shape[0]) and shape[0] != shape[1]
    if got != shape and not transposed and not (shape == () and got == (1,)):
        want = " x ".join(map(str, shape)) or "one number"
        have = " x ".join(map(str, got)) if got is not None else "a ragged list"
        out.problems.append(
            f"{node.where}: {step_id}: shape {have or 'one number'}, expected {want}"
        )
        return None
    leaves = _leaves(node, step_id)
    values = [_read_leaf(path, leaf, out) for path, leaf in leaves]
    unreadable = [
        v is None and leaf.kind != "null" for v, (_, leaf) in zip(values, leaves, strict=True)
    ]
    if transposed:
        rows, cols = shape[1], shape[0]
        order = [i * cols + j for j in range(cols) for i in range(rows)]
        values, unreadable = [values[k] for k in order], [unreadable[k] for k in order]
    return Given(
        step_id=step_id,
        shape=shape,
        values=values,
        where=node.where,
        transposed=transposed,
        unreadable=frozenset(i for i, bad in enumerate(unreadable) if bad),
    )


def _read_leaf(path: str, leaf: Node, out: Answers) -> Decimal | None:
    """One entry's number; None when left blank or unreadable (reported in `out`)."""
    if leaf.kind == "null":
        return None
    if not isinstance(leaf.value, str):
        out.problems.append(f"{leaf.where}: {path}: a mapping is not a number")
        return None
    try:
        value, note = parse_number(leaf.value)
    except ValueError as e:
        shown = repr(leaf.value) if len(leaf.value) <= MAX_ANSWER_CHARS else "the entry"
        out.problems.append(f"{leaf.where}: {path}: {shown} is {e}")
        return None
    if note:
        out.notes.append(f"{leaf.where}: {path}: read {leaf.value!r} as {value} ({note})")
    return value


def _shape_of(node: Node) -> Shape | None:
    if not node.is_seq or not isinstance(node.value, list):
        return ()
    inner = {_shape_of(item) for item in node.value}
    if len(inner) > 1 or None in inner:
        return None
    rest = inner.pop() if inner else ()
    assert rest is not None
    return (len(node.value), *rest)


def _leaves(node: Node, path: str) -> list[tuple[str, Node]]:
    if node.is_seq and isinstance(node.value, list):
        out = []
        for i, item in enumerate(node.value):
            out += _leaves(item, f"{path}[{i + 1}]")
        return out
    return [(path, node)]
