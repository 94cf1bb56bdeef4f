"""The readers of rounding.write and rounding.overrides (see `rules` for what they mean)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handcalc.config.fields import boolean, choice, describe, fail, integer, suggest
from handcalc.config.rules import Rules
from handcalc.config.source import Node
from handcalc.config.spec import RULE_KEYS, RULE_PHASES, SPEC
from handcalc.errors import ConfigError
from handcalc.model.ids import UNLAYERED, Kind, parse
from handcalc.rounding import EXACT, Rounding

# kinds that are only ever given: always written, as the config gives them
GIVEN_KINDS = frozenset({Kind.W, Kind.b, Kind.y, Kind.T, Kind.d})
MAX_LAYER = 10_000  # above any network's depth, and small enough for any id


def rules(sec: dict[str, Node], base: Rounding) -> Rules:
    """rounding.write and rounding.overrides, checked; the overrides inherit from `base`."""
    places: dict[str, str] = {}
    write = _write(sec.get("write"), places)
    overrides = _overrides(sec.get("overrides"), base, places)
    at = sec["write"].where if "write" in sec else ""
    return Rules(write=write, overrides=overrides, places=places, write_at=at)


def _mapping(node: Node | None, path: str, example: str) -> dict[str, Node]:
    if node is None or node.kind == "null":
        return {}
    if not node.is_map or not isinstance(node.value, dict):
        raise fail(node, path, f"expected a mapping, got {describe(node)}", example)
    return node.value


WRITE_EXAMPLE = "step kinds or ids to true or false, e.g. {exp_z: false, dhdz: {2: false}}"


def _write(node: Node | None, places: dict[str, str]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for key, child in _mapping(node, "rounding.write", WRITE_EXAMPLE).items():
        path = f"rounding.write.{key}"
        kind = _kind(key)
        if kind is None:
            _single(child, key, path, places, "write")
            out[key] = boolean(child, path)
        elif child.is_map:
            out.update(_per_layer(child, path, kind, places))
        else:
            out[key] = boolean(child, path)
    return out


def _per_layer(node: Node, path: str, kind: Kind, places: dict[str, str]) -> dict[str, bool]:
    """{LAYER: bool} under a layered kind: dhdz: {2: false}."""
    if kind in UNLAYERED:
        raise fail(node, path, f"{kind} has no layers", "true or false")
    assert isinstance(node.value, dict)
    out = {}
    for key, child in node.value.items():
        layer = integer(
            Node(value=key, kind="str", where=child.where), f"{path}.{key}", 0, MAX_LAYER
        )
        out[f"{kind}@{layer}"] = boolean(child, f"{path}.{key}")
        places[f"{path}.{key}"] = child.where  # checked once the steps are known
    return out


def _kind(key: str) -> Kind | None:
    """The step kind a key names (a kind of computed steps), or None."""
    if key not in Kind.__members__:
        return None
    return Kind(key) if Kind(key) not in GIVEN_KINDS else None


def _single(node: Node, key: str, path: str, places: dict[str, str], what: str) -> None:
    """A key that is not a kind must read as a step id (whether the run has it is checked
    once the steps are known)."""
    step = parse(key)
    if step is None or (what == "write" and step.kind in GIVEN_KINDS):
        known = [k for k in Kind.__members__ if Kind(k) not in GIVEN_KINDS or what != "write"]
        names = [*known, *(RULE_PHASES if what == "overrides" else ())]
        close = suggest(key, names)
        hint = f"did you mean {close}? " if close else ""
        given = " (given numbers are always written)" if step is not None else ""
        raise fail(node, path, f"unknown step kind or id{given}", f"{hint}{_EXPECTED[what]}")
    places[path] = node.where


_EXPECTED = {
    "write": "a step kind such as exp_z, or a step id such as dhdz2",
    "overrides": "a step kind such as loss, a step id such as dW2, or a phase: "
    + ", ".join(RULE_PHASES),
}
OVERRIDE_EXAMPLE = (
    "step kinds or phases to exact or a rule, e.g. {loss: {digits: 3}, W_next: exact}"
)


def _overrides(node: Node | None, base: Rounding, places: dict[str, str]) -> dict[str, Rounding]:
    out: dict[str, Rounding] = {}
    for key, child in _mapping(node, "rounding.overrides", OVERRIDE_EXAMPLE).items():
        path = f"rounding.overrides.{key}"
        if key not in Kind.__members__ and key not in RULE_PHASES:
            _single(child, key, path, places, "overrides")
        out[key] = _rule(child, path, base)
    return out


def _rule(node: Node, path: str, base: Rounding) -> Rounding:
    """`exact`, or a mapping of digits, mode, rule and per, each missing one the class's."""
    if node.kind == "str" and node.value == "exact":
        return EXACT
    if not node.is_map or not isinstance(node.value, dict):
        raise fail(
            node,
            path,
            f"expected exact or a mapping, got {describe(node)}",
            "exact, or a rule such as {digits: 3, mode: significant}",
        )
    sec = node.value
    for key, child in sec.items():
        if key not in RULE_KEYS:
            close = suggest(key, RULE_KEYS)
            hint = f"did you mean {close}? " if close else ""
            raise fail(
                child, f"{path}.{key}", "unknown key", f"{hint}known: {', '.join(RULE_KEYS)}"
            )
    return Rounding(
        digits=_own(sec, "digits", path, base.digits),
        mode=_own(sec, "mode", path, base.mode),
        rule=_own(sec, "rule", path, base.rule),
        per=_own(sec, "per", path, base.per),
    )


def _own(sec: dict[str, Node], name: str, path: str, inherited: Any) -> Any:
    """One key of an override's rule, checked as rounding's own key; the class's if absent."""
    node, key = sec.get(name), SPEC["rounding"][name]
    if node is None or node.kind == "null":
        return inherited
    if key.kind == "int":
        assert isinstance(key.low, int) and isinstance(key.high, int)
        return integer(node, f"{path}.{name}", key.low, key.high)
    return choice(node, f"{path}.{name}", key.choices)


def check_ids(r: Rules, ids: Sequence[str]) -> None:
    """Every id key of write and overrides names a step of the run, and every layer key of
    write (dW: {2: false}) a layer that has a step of its kind."""
    layers: dict[str, list[int]] = {}
    for step in filter(None, map(parse, ids)):
        if step.layer is not None:
            layers.setdefault(str(step.kind), []).append(step.layer)
    for path, where in r.places.items():
        parts = path.split(".")
        if len(parts) == 4:  # rounding.write.KIND.LAYER
            _check_layer(path, where, sorted(set(layers.get(parts[2], []))), int(parts[3]))
        elif parts[2] not in ids:
            close = suggest(parts[2], list(ids))
            hint = f"did you mean {close}? " if close else ""
            raise ConfigError(
                f"{where}: {path}: no step of this network has that id "
                f"({hint}a step id of the run, or a step kind)"
            )


def _check_layer(path: str, where: str, known: list[int], layer: int) -> None:
    if layer not in known:
        kind = path.split(".")[2]
        has = f"{kind} is on layers {', '.join(map(str, known))}" if known else f"no {kind} step"
        raise ConfigError(f"{where}: {path}: no step of this network has that layer ({has})")
