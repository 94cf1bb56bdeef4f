"""The readers of config values: each checks one node and says what was expected if it is wrong.

Plain keys are read through `read`, against their entry in the key table (spec.SPEC).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from handcalc.config.limits import (
    LARGEST,
    MAX_NUMBER_CHARS,
    MAX_TEXT_CHARS,
    SMALLEST,
    number_range,
    within,
)
from handcalc.config.source import Node
from handcalc.config.spec import SPEC, Key
from handcalc.errors import ConfigError


def read(sec: dict[str, Node], section: str, name: str) -> Any:
    """A plain key's value, checked against its entry in SPEC; its default when absent."""
    key, node, path = SPEC[section][name], sec.get(name), f"{section}.{name}"
    if node is None or node.kind == "null":
        return key.default
    if key.kind == "int":
        assert isinstance(key.low, int) and isinstance(key.high, int)
        return integer(node, path, key.low, key.high)
    if key.kind == "number":
        return _bounded(node, path, key)
    if key.kind == "choice":
        return choice(node, path, key.choices)
    if key.kind == "bool":
        return boolean(node, path)
    if key.kind == "text":
        return paragraph(node, path)
    raise AssertionError(f"{path} is read by the validator itself")


def _bounded(node: Node, path: str, key: Key) -> Decimal:
    """A number within the key's own range, where it has one."""
    value = number(node, path)
    low, high = key.low, key.high
    if low is not None and (value <= low if key.above else value < low):
        raise fail(
            node,
            path,
            f"{node.value} is not {'positive' if low == 0 else 'allowed'}",
            _range(key) if high is not None else _low(key),
        )
    if high is not None and (value >= high if key.below else value > high):
        raise fail(node, path, f"{node.value} is too large", _range(key))
    return value


def _low(key: Key) -> str:
    return f"a number above {_shown(key.low)}" if key.above else f"{_shown(key.low)} or more"


def _range(key: Key) -> str:
    high = f"below {_shown(key.high)}" if key.below else f"at most {_shown(key.high)}"
    return f"{_low(key)}, {high}" if key.low is not None else f"a number {high}"


def _shown(bound: int | Decimal | None) -> str:
    """A bound as a message writes it: 1, 0.5 or 1e14."""
    text = str(bound)
    return f"{bound:e}".replace("e+", "e") if "E" in text else text


def fail(node: Node | None, path: str, what: str, expected: str = "") -> ConfigError:
    where = f"{node.where}: " if node is not None else ""
    tail = f" ({expected})" if expected else ""
    return ConfigError(f"{where}{path}: {what}{tail}")


def describe(node: Node) -> str:
    if node.is_map:
        return "a mapping"
    if node.is_seq:
        return "a list"
    if node.kind == "null":
        return "nothing"
    return repr(node.value) if isinstance(node.value, str) else node.kind


# ASCII digits only: Python's \d and Decimal also read Arabic-Indic and other digits, which
# neither the JSON Schema (an editor's \d) nor a reader of the config would take for numbers.
_NUMBER = re.compile(r"[+-]?([0-9][0-9_]*(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def number(node: Node, path: str) -> Decimal:
    """A finite number from the text as written (plain or quoted), never through a float; 0 or
    between SMALLEST and LARGEST in absolute value.

    >>> from handcalc.config.source import scalar
    >>> number(scalar("1_000.50", "float", "f:1"), "x")
    Decimal('1000.50')
    >>> number(scalar("1e16", "float", "f:1"), "x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    handcalc.errors.ConfigError: f:1: x: 1e16 is out of range (0, or between 1e-15 and 1e15 ...)
    """
    value = _parse(node, path)
    if not within(value, LARGEST, SMALLEST):
        expected = number_range(LARGEST, SMALLEST)
        raise fail(node, path, f"{str(node.value).strip()} is out of range", expected)
    return value


def _parse(node: Node, path: str) -> Decimal:
    """The number a node's text spells, at most MAX_NUMBER_CHARS long."""
    text = node.value.strip() if isinstance(node.value, str) else ""
    lowered = text.lower().lstrip("+-")
    if lowered in {".nan", "nan", ".inf", "inf", "infinity"}:
        raise fail(node, path, f"{text} is not a finite number", "NaN and infinity are not allowed")
    if node.is_map or node.is_seq or not _NUMBER.fullmatch(text):
        raise fail(node, path, f"expected a number, got {describe(node)}")
    if len(text) > MAX_NUMBER_CHARS:
        raise fail(
            node,
            path,
            f"a number of {len(text):,} characters is too long",
            f"at most {MAX_NUMBER_CHARS}",
        )
    return Decimal(text.replace("_", ""))


def integer(node: Node, path: str, low: int, high: int) -> int:
    value = _parse(node, path)
    if value != value.to_integral_value():
        raise fail(node, path, f"{node.value} is not a whole number", f"{low} to {high}")
    if not low <= value <= high:
        raise fail(
            node, path, f"{node.value} is out of range", f"a whole number from {low} to {high}"
        )
    return int(value)


def choice(node: Node, path: str, options: Sequence[str]) -> str:
    if node.kind != "str" or not isinstance(node.value, str):
        raise fail(node, path, f"expected one of {', '.join(options)}, got {describe(node)}")
    if node.value not in options:
        close = suggest(node.value, options)
        hint = f"did you mean {close}? " if close else ""
        raise fail(
            node, path, f"unknown value {node.value!r}", f"{hint}one of {', '.join(options)}"
        )
    return node.value


def suggest(name: str, known: Sequence[str]) -> str | None:
    """The known name closest to `name`, case aside; None when none is close.

    >>> suggest("MSE", ["mse", "sse"]), suggest("Learnin_rate", ["learning_rate"])
    ('mse', 'learning_rate')
    >>> suggest("q", ["mse"]) is None
    True
    """
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1)
    return lowered[close[0]] if close else None


def boolean(node: Node, path: str) -> bool:
    if node.kind != "bool":
        raise fail(node, path, f"expected true or false, got {describe(node)}")
    return str(node.value).lower() in {"true", "yes", "on", "y"}


def text(node: Node, path: str) -> str | None:
    if node.kind == "null":
        return None
    if node.is_map or node.is_seq:
        raise fail(node, path, f"expected text, got {describe(node)}")
    return str(node.value)


def paragraph(node: Node, path: str) -> str | None:
    """Text printed as it is written (a title, the instructions): a paragraph at most."""
    found = text(node, path)
    if found is not None and len(found) > MAX_TEXT_CHARS:
        raise fail(
            node,
            path,
            f"a text of {len(found):,} characters is too long",
            f"at most {MAX_TEXT_CHARS:,}",
        )
    return found


def sequence(node: Node, path: str, what: str) -> list[Node]:
    if not node.is_seq or not isinstance(node.value, list):
        raise fail(node, path, f"expected {what}, got {describe(node)}")
    return node.value


def section(node: Node | None, path: str) -> dict[str, Node]:
    """A mapping whose keys are all known; an absent section is empty."""
    if node is None or node.kind == "null":
        return {}
    if not node.is_map or not isinstance(node.value, dict):
        raise fail(node, path or "config", f"expected a mapping, got {describe(node)}")
    known = tuple(SPEC[path])
    for key, child in node.value.items():
        if key not in known:
            hint = _elsewhere(key, path) or suggest(key, known)
            tail = f"did you mean {hint}? " if hint else ""
            raise fail(child, _join(path, key), "unknown key", f"{tail}known: {', '.join(known)}")
    return node.value


def _elsewhere(key: str, path: str) -> str | None:
    """The key, case aside, in another section: a top-level learning_rate is training's."""
    if key.lower() in (k.lower() for k in SPEC[path]):
        return None
    return next(
        (_join(s, k) for s, keys in SPEC.items() if s != path for k in keys if k == key.lower()),
        None,
    )


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def vector(node: Node, path: str, length: int) -> list[Decimal]:
    items = sequence(node, path, f"a list of {length} numbers")
    if len(items) != length:
        raise fail(node, path, f"has {plural(len(items), 'number')}", f"expected {length}")
    return [number(item, f"{path}[{i + 1}]") for i, item in enumerate(items)]


def matrix(node: Node, path: str, rows: int, cols: int) -> list[Decimal]:
    items = sequence(node, path, f"{rows} rows of {cols} numbers")
    if len(items) != rows:
        raise fail(node, path, f"has {len(items)} rows", f"expected {rows} rows of {cols} numbers")
    out: list[Decimal] = []
    for i, row in enumerate(items):
        out.extend(vector(row, f"{path}[{i + 1}]", cols))
    return out
