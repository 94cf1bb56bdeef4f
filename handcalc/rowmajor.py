"""Row-major entries: every index of a shape, flat entries as nested lists, JSON a row a line."""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Iterator, Sequence
from itertools import product, repeat
from typing import Any, TypeAlias, TypeVar

from handcalc.numbers import Shape

T = TypeVar("T")
# A step's entries in its shape: a bare scalar, or lists nested as deep as the shape.
Nested: TypeAlias = "T | list[Nested[T]]"
CONTAINERS = (dict, list)
KNOWN_FLOATS = 50_000  # the texts of floats kept for rows that repeat them, at most
_ZEROS: dict[int, str] = {}  # rows of +0.0 as JSON text, by length


def indices(shape: Shape) -> list[tuple[int, ...]]:
    """Every 1-based index of a shape, row-major.

    >>> indices((2, 2))
    [(1, 1), (1, 2), (2, 1), (2, 2)]
    """
    return list(each_index(shape))


def each_index(shape: Shape) -> Iterator[tuple[int, ...]]:
    """indices() one at a time, so that showing the first few never lists them all."""
    return product(*(range(1, s + 1) for s in shape))


def nest(flat: Sequence[T], shape: Shape) -> Nested[T]:
    """Row-major flat entries as nested lists; a scalar stays bare.

    >>> nest([1, 2, 3, 4, 5, 6], (2, 3)), nest([7], ())
    ([[1, 2, 3], [4, 5, 6]], 7)
    """
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def dumps(value: Any, indent: str = "") -> str:
    """JSON with one key a line and each row of numbers on one line, for people and diffs."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    # isinstance mapped in C: no Python step per number of a long row
    if isinstance(value, list) and any(map(isinstance, value, repeat(CONTAINERS))):
        return "[\n" + ",\n".join(inner + dumps(v, inner) for v in value) + f"\n{indent}]"
    return _leaf(value)


def _leaf(value: Any) -> str:
    """A number, a text or a row of them, on one line."""
    if isinstance(value, list) and value and {*map(type, value)} == {str}:
        return text_row(value)  # the config's written numbers, joined as they are
    return _encoded(value)


def _encoded(value: Any) -> str:
    """_leaf() by JSON's encoder."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def dump_pieces(value: Any, indent: str = "") -> Iterator[str]:
    """dumps() in pieces of at most one row, for text written as it is made."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        yield "{\n"
        for n, (k, v) in enumerate(value.items()):
            yield (",\n" if n else "") + f"{inner}{json.dumps(k)}: "
            yield from dump_pieces(v, inner)
        yield f"\n{indent}}}"
    elif isinstance(value, list) and any(map(isinstance, value, repeat(CONTAINERS))):
        yield "[\n"
        for n, v in enumerate(value):
            yield (",\n" if n else "") + inner
            yield from dump_pieces(v, inner)
        yield f"\n{indent}]"
    else:
        yield _leaf(value)


def dump_nested(value: Any, depth: int, indent: str = "") -> Iterator[str]:
    """dump_pieces() of entries nested `depth` deep by nest(), rows of numbers or texts: the
    shape tells where the rows are, so no row is searched for lists."""
    if depth <= 1:
        yield _leaf(value)
        return
    inner = indent + "  "
    yield "[\n"
    for n, v in enumerate(value):
        yield (",\n" if n else "") + inner
        yield from dump_nested(v, depth - 1, inner)
    yield f"\n{indent}]"


def dump_flat(
    shape: Shape, row: Callable[[int, int], str], indent: str = "", start: int = 0
) -> Iterator[str]:
    """dump_nested(nest(flat, shape), len(shape), indent) for a shape of at least one axis,
    each row written by `row(start, stop)` from the flat entries, never nested first."""
    if len(shape) == 1:
        yield row(start, start + shape[0])
        return
    inner, size = indent + "  ", _size(shape[1:])
    yield "[\n"
    for n in range(shape[0]):
        yield (",\n" if n else "") + inner
        yield from dump_flat(shape[1:], row, inner, start + n * size)
    yield f"\n{indent}]"


def _size(shape: Shape) -> int:
    out = 1
    for s in shape:
        out *= s
    return out


class FloatTexts(dict[float, str]):
    """The JSON text of each float met before, so that rows repeating a few values (the
    parameters, a gradient that is a product of few distinct numbers) format each value once.
    A zero is never kept: -0.0 equals 0.0 as a key but is written "-0.0"."""

    def __init__(self) -> None:
        super().__init__()
        self.misses = 0

    def __missing__(self, x: float) -> str:
        self.misses += 1
        text = float.__repr__(x)
        if x and len(self) < KNOWN_FLOATS:
            self[x] = text
        return text


class FloatRows:
    """float_row() of the rows of one field: the texts of floats met before are reused while
    the rows repeat them; after a row of mostly new values the field's other rows are formatted
    directly (but for rows said to repeat), where a lookup would only add to the cost."""

    def __init__(self, known: FloatTexts) -> None:
        self.known = known
        self.direct = False

    def __call__(self, row: Sequence[float], repeats: bool = False) -> str:
        if self.direct and not repeats:
            return float_row(row)
        before = self.known.misses
        text = float_row(row, self.known)
        self.direct = self.direct or (self.known.misses - before) * 2 > len(row)
        return text


def float_row(row: Sequence[float], known: FloatTexts | None = None) -> str:
    """_leaf(row) for a row of floats, the same text: JSON writes a finite float as its repr.

    A row of zeros is written at once, and `known` supplies the texts of floats met before.

    >>> float_row([0.1, -2.5e-07, 3.0]), float_row([0.0, 0.0]), float_row([0.0, -0.0])
    ('[0.1, -2.5e-07, 3.0]', '[0.0, 0.0]', '[0.0, -0.0]')
    >>> known = FloatTexts()
    >>> float_row([1.5, 0.0, 1.5], known), float_row([-0.0, 1.5], known), known
    ('[1.5, 0.0, 1.5]', '[-0.0, 1.5]', {1.5: '1.5'})
    >>> float_row([1.5, float("nan"), float("-inf")], known), float_row([1, 2.0, True])
    ('[1.5, NaN, -Infinity]', '[1, 2.0, true]')
    """
    zeros = not any(row)
    if zeros and {*map(type, row)} == {float} and not array("d", row).tobytes().strip(b"\0"):
        return _zeros(len(row))  # +0.0 only: -0.0 has its sign bit set
    try:
        if known is None or zeros:
            text = ", ".join(map(float.__repr__, row))
        elif {*map(type, row)} == {float}:  # an int would be found as the float it equals
            text = ", ".join(map(known.__getitem__, row))
        else:
            return _encoded(row)
    except TypeError:  # an int or a bool has its own JSON text
        return _encoded(row)
    # "nan" and "inf" are no JSON: their spellings are the encoder's (NaN, Infinity)
    return _encoded(row) if "n" in text else f"[{text}]"


def _zeros(count: int) -> str:
    if count not in _ZEROS:
        _ZEROS[count] = "[" + ", ".join(["0.0"] * count) + "]"
    return _ZEROS[count]


def text_row(row: Sequence[str]) -> str:
    """_leaf(row) for a row of texts, the same text: numbers written as text (digits, signs and
    points) need no escape, so they are joined as they are.

    >>> text_row(["0.5000", "-1.25"]), text_row([]), text_row(['a"b'])
    ('["0.5000", "-1.25"]', '[]', '["a\\\\"b"]')
    """
    whole = "".join(row)
    if '"' in whole or "\\" in whole or not whole.isprintable():
        return _encoded(row)
    return '["' + '", "'.join(row) + '"]' if row else "[]"
