"""The readers of config values: each checks one node and says what was expected if it is wrong.

Plain keys are read through `read`, against their entry in the key table (spec.SPEC).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from handcalc.config.source import Node
from handcalc.config.spec import SPEC
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
        value = number(node, path)
        if key.low is not None and (value <= key.low if key.above else value < key.low):
            raise fail(
                node,
                path,
                f"{node.value} is not {'positive' if key.low == 0 else 'allowed'}",
                f"a number above {key.low}" if key.above else f"{key.low} or more",
            )
        return value
    if key.kind == "choice":
        return choice(node, path, key.choices)
    if key.kind == "bool":
        return boolean(node, path)
    if key.kind == "text":
        return text(node, path)
    raise AssertionError(f"{path} is read by the validator itself")


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


_NUMBER = re.compile(r"[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def number(node: Node, path: str) -> Decimal:
    """A finite number from the text as written (plain or quoted), never through a float."""
    text = node.value if isinstance(node.value, str) else ""
    lowered = text.strip().lower().lstrip("+-")
    if lowered in {".nan", "nan", ".inf", "inf", "infinity"}:
        raise fail(node, path, f"{text} is not a finite number", "NaN and infinity are not allowed")
    if node.is_map or node.is_seq or not _NUMBER.fullmatch(text.strip()):
        raise fail(node, path, f"expected a number, got {describe(node)}")
    try:
        return Decimal(text.strip().replace("_", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
        raise fail(node, path, f"expected a number, got {text!r}") from None


def integer(node: Node, path: str, low: int, high: int) -> int:
    value = number(node, path)
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
        close = difflib.get_close_matches(node.value, options, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise fail(
            node, path, f"unknown value {node.value!r}", f"{hint}one of {', '.join(options)}"
        )
    return node.value


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
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise fail(child, _join(path, key), "unknown key", f"{hint}known: {', '.join(known)}")
    return node.value


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
