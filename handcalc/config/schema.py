"""A JSON Schema of the config, generated from the validator's own table of keys (spec.SPEC)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from handcalc.config.limits import MAX_LAYERS, MAX_TEXT_CHARS
from handcalc.config.spec import PHASE_NAMES, RULE_KEYS, RULE_PHASES, SPEC, Key

ID = "https://handcalc.invalid/config.schema.json"
NUMBER: dict[str, Any] = {
    "anyOf": [
        {"type": "number"},
        {
            "type": "string",
            "pattern": r"^\s*[+-]?([0-9][0-9_]*(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$",
        },
    ]
}


# A whole number may be quoted, as the validator reads "3" like 3 (its range is checked there).
WHOLE_TEXT: dict[str, Any] = {"type": "string", "pattern": r"^\s*[+-]?[0-9][0-9_]*(\.0*)?\s*$"}


def _whole(low: int | None = None, high: int | None = None) -> dict[str, Any]:
    """A whole number, plain or quoted."""
    plain: dict[str, Any] = {"type": "integer"}
    if low is not None:
        plain["minimum"] = low
    if high is not None:
        plain["maximum"] = high
    return {"anyOf": [plain, WHOLE_TEXT]}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value


def _number(key: Key) -> dict[str, Any]:
    if key.low is None and key.high is None:
        return dict(NUMBER)
    plain: dict[str, Any] = {"type": "number"}
    if key.low is not None:
        plain["exclusiveMinimum" if key.above else "minimum"] = _plain(key.low)
    if key.high is not None:
        plain["exclusiveMaximum" if key.below else "maximum"] = _plain(key.high)
    return {"anyOf": [plain, NUMBER["anyOf"][1]]}


def _list(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def _fragment(path: str, key: Key) -> dict[str, Any]:
    """The schema of one key, by its kind (a fresh dict: the caller adds to it)."""
    if key.kind == "section":
        return section(path)
    return KINDS[key.kind](key)


def _integer(key: Key) -> dict[str, Any]:
    assert isinstance(key.low, int) and isinstance(key.high, int)
    return _whole(key.low, key.high)


def _choice(key: Key) -> dict[str, Any]:
    return {"enum": list(key.choices)}


def _activation(key: Key) -> dict[str, Any]:
    one = _choice(key)
    return {"anyOf": [one, _list(one)]}


def _examples(_: Key) -> dict[str, Any]:
    return {"anyOf": [_list(NUMBER, minItems=1), _list(_list(NUMBER, minItems=1), minItems=1)]}


def _labels(_: Key) -> dict[str, Any]:
    label = _whole(1)
    return {"anyOf": [label, _list(label, minItems=1)]}


def _parameters(_: Key) -> dict[str, Any]:
    block = {"anyOf": [_list(NUMBER), _list(_list(NUMBER))]}
    return {
        "type": ["object", "null"],
        "patternProperties": {"^[Wb][1-9][0-9]*$": block},
        "additionalProperties": False,
    }


def _points(_: Key) -> dict[str, Any]:
    return {
        "type": ["object", "null"],
        "additionalProperties": _number(Key(kind="number", doc="", low=0)),
        "propertyNames": {
            "anyOf": [{"enum": list(PHASE_NAMES)}, {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}]
        },
    }


def _masks(_: Key) -> dict[str, Any]:
    bit = {"anyOf": [{"enum": [0, 1]}, {"type": "string", "pattern": r"^\s*[01](\.0*)?\s*$"}]}
    return {
        "type": ["object", "null"],
        "patternProperties": {"^d[0-9]+$": {"anyOf": [_list(bit), _list(_list(bit))]}},
        "additionalProperties": False,
    }


def _write(_: Key) -> dict[str, Any]:
    per_layer = {
        "type": "object",
        "propertyNames": {"pattern": "^[0-9]+$"},
        "additionalProperties": {"type": "boolean"},
    }
    return {
        "type": ["object", "null"],
        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "additionalProperties": {"anyOf": [{"type": "boolean"}, per_layer]},
    }


def _overrides(_: Key) -> dict[str, Any]:
    keys = SPEC["rounding"]
    rule = {
        "type": "object",
        "properties": {k: _fragment(f"rounding.{k}", keys[k]) for k in RULE_KEYS},
        "additionalProperties": False,
    }
    return {
        "type": ["object", "null"],
        "propertyNames": {
            "anyOf": [{"enum": list(RULE_PHASES)}, {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}]
        },
        "additionalProperties": {"anyOf": [{"const": "exact"}, rule]},
    }


KINDS: dict[str, Callable[[Key], dict[str, Any]]] = {
    "text": lambda _: {"type": ["string", "null"], "maxLength": MAX_TEXT_CHARS},
    "bool": lambda _: {"type": "boolean"},
    "int": _integer,
    "number": _number,
    "choice": _choice,
    "widths": lambda key: _list(_integer(key), minItems=2, maxItems=MAX_LAYERS + 1),
    "activation": _activation,
    "examples": _examples,
    "targets": lambda key: {"anyOf": [NUMBER, *_examples(key)["anyOf"]]},
    "labels": _labels,
    "parameters": _parameters,
    "points": _points,
    "numbers": lambda _: {"type": ["array", "null"], "items": NUMBER},
    "masks": _masks,
    "layers": lambda _: {"type": ["array", "null"], "items": _whole(1)},
    "entries": lambda _: _list({"type": "string"}),
    "write": _write,
    "overrides": _overrides,
}


def section(path: str) -> dict[str, Any]:
    keys = SPEC[path]
    properties = {}
    for name, key in keys.items():
        child = _fragment(f"{path}.{name}" if path else name, key)
        if key.kind in ("int", "number", "choice", "bool"):  # null means the default
            child = {"anyOf": [child, {"type": "null"}]}
        child["description"] = key.doc
        if key.default is not None and key.kind not in ("section",):
            child["default"] = _plain(key.default)
        properties[name] = child
    out: dict[str, Any] = {
        "type": ["object", "null"] if path else "object",  # an empty section may be null
        "properties": properties,
        "additionalProperties": False,
    }
    required = [name for name, key in keys.items() if key.required]
    if required:
        out["required"] = required
    if path == "data":
        out["oneOf"] = [{"required": ["y"]}, {"required": ["label"]}]
    return out


def json_schema() -> dict[str, Any]:
    """The schema of a handcalc config file."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": ID,
        "title": "handcalc config",
        "description": "One training step of a small neural network, computed by hand rules.",
        **section(""),
    }
