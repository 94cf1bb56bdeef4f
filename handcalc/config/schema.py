"""A JSON Schema of the config, generated from the validator's own table of keys (spec.SPEC)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from handcalc.config.spec import PHASE_NAMES, SPEC, Key

ID = "https://handcalc.invalid/config.schema.json"
NUMBER: dict[str, Any] = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": r"^\s*[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"},
    ]
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value


def _number(key: Key) -> dict[str, Any]:
    if key.low is None:
        return dict(NUMBER)
    bound = "exclusiveMinimum" if key.above else "minimum"
    return {"anyOf": [{"type": "number", bound: _plain(key.low)}, NUMBER["anyOf"][1]]}


def _list(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def _fragment(path: str, key: Key) -> dict[str, Any]:
    kind = key.kind
    if kind == "section":
        return section(path)
    if kind == "text":
        return {"type": ["string", "null"]}
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "int":
        return {"type": "integer", "minimum": key.low, "maximum": key.high}
    if kind == "number":
        return _number(key)
    if kind == "choice":
        return {"enum": list(key.choices)}
    if kind == "widths":
        return _list({"type": "integer", "minimum": key.low, "maximum": key.high}, minItems=2)
    if kind == "activation":
        one: dict[str, Any] = {"enum": list(key.choices)}
        return {"anyOf": [one, _list(one)]}
    if kind == "examples":
        return {"anyOf": [_list(NUMBER, minItems=1), _list(_list(NUMBER, minItems=1), minItems=1)]}
    if kind == "labels":
        label: dict[str, Any] = {"type": "integer", "minimum": 1}
        return {"anyOf": [label, _list(label, minItems=1)]}
    if kind == "parameters":
        block = {"anyOf": [_list(NUMBER), _list(_list(NUMBER))]}
        return {
            "type": ["object", "null"],
            "patternProperties": {"^[Wb][1-9][0-9]*$": block},
            "additionalProperties": False,
        }
    if kind == "points":
        return {
            "type": ["object", "null"],
            "additionalProperties": _number(Key(kind="number", doc="", low=0)),
            "propertyNames": {
                "anyOf": [{"enum": list(PHASE_NAMES)}, {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}]
            },
        }
    if kind == "numbers":
        return {"type": ["array", "null"], "items": NUMBER}
    if kind == "masks":
        bit = {"enum": [0, 1]}
        return {
            "type": ["object", "null"],
            "patternProperties": {"^d[0-9]+$": {"anyOf": [_list(bit), _list(_list(bit))]}},
            "additionalProperties": False,
        }
    if kind == "layers":
        return {"type": ["array", "null"], "items": {"type": "integer", "minimum": 1}}
    if kind == "entries":
        return _list({"type": "string"})
    raise AssertionError(kind)


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
