"""Row-major entries: every index of a shape, flat entries as nested lists, JSON a row a line."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from itertools import product, repeat
from typing import Any, TypeAlias, TypeVar

from handcalc.numbers import Shape

T = TypeVar("T")
# A step's entries in its shape: a bare scalar, or lists nested as deep as the shape.
Nested: TypeAlias = "T | list[Nested[T]]"
CONTAINERS = (dict, list)


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
