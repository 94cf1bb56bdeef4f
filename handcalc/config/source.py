"""YAML text -> a tree of nodes that remember where they were written (file:line or a CLI flag).

Scalars keep the text the teacher wrote, so `0.1` becomes Decimal("0.1"), never the float 0.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from handcalc.errors import ConfigError

try:  # the C composer is ~10x faster on large parameter lists
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

# An alias-heavy document can describe billions of values in a few lines; stop well before that.
MAX_NODES = 2_000_000
_TAGS = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
}


@dataclass(frozen=True, slots=True)
class Node:
    """A mapping, a sequence or a scalar (its text); `kind` is map, seq or a YAML type."""

    value: dict[str, Node] | list[Node] | str
    kind: str
    where: str

    @property
    def is_map(self) -> bool:
        return self.kind == "map"

    @property
    def is_seq(self) -> bool:
        return self.kind == "seq"


def read_file(path: Path) -> Node | None:
    """Read a config file; None for an empty document."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory (expected a YAML config file)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (expected a YAML config file)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text (expected a YAML config file)") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror})") from None
    return read_text(text, str(path))


def read_text(text: str, name: str) -> Node | None:
    """Parse YAML text with a safe composer; None for an empty document."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        what = e.problem or e.context or "invalid YAML"
        raise ConfigError(f"{name}{line}: YAML syntax: {what}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{name}: YAML syntax: {e}") from None
    if root is None:
        return None
    return _Converter(name).convert(root)


class _Converter:
    """YAML nodes -> Nodes, counting the values the document describes.

    An alias stands for its anchor's whole tree, so a few lines can describe billions of values.
    Each list and mapping is converted once and an alias shares its anchor's Node; the count still
    adds the size of every repeat, so a document is refused before anything is expanded.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.done: dict[int, tuple[Node, int]] = {}  # id of a list or mapping: its Node, values
        self.open: set[int] = set()  # lists and mappings being converted

    def convert(self, node: yaml.Node) -> Node:
        """The node's Node; refuses it where the running count passes MAX_NODES."""
        if isinstance(node, yaml.ScalarNode):
            self._count(node)
            quoted = bool(node.style)
            kind = "str" if quoted else _TAGS.get(node.tag, "str")
            return Node(value=str(node.value), kind=kind, where=self._where(node))
        done = self.done.get(id(node))
        if done is not None:
            self._repeat(node)
            return done[0]
        if id(node) in self.open:  # an alias inside its own anchor: an endless document
            raise self._too_large(node)
        start = self.count
        self.open.add(id(node))
        converted = self._container(node)
        self.open.discard(id(node))
        self.done[id(node)] = (converted, self.count - start)
        return converted

    def _container(self, node: yaml.Node) -> Node:
        self._count(node)
        where = self._where(node)
        if isinstance(node, yaml.MappingNode):
            return Node(value=self._mapping(node), kind="map", where=where)
        return Node(value=[self.convert(item) for item in node.value], kind="seq", where=where)

    def _count(self, node: yaml.Node) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise self._too_large(node)

    def _repeat(self, node: yaml.Node) -> None:
        """Count a converted tree once more, refusing at the value that passes MAX_NODES."""
        size = self.done[id(node)][1] if id(node) in self.done else 1
        if self.count + size <= MAX_NODES:
            self.count += size
            return
        self._count(node)
        for child in _children(node):
            self._repeat(child)

    def _too_large(self, node: yaml.Node) -> ConfigError:
        where = self._where(node)
        return ConfigError(f"{where}: document too large (more than {MAX_NODES:,} values)")

    def _where(self, node: yaml.Node) -> str:
        return f"{self.name}:{node.start_mark.line + 1}"

    def _mapping(self, node: yaml.MappingNode) -> dict[str, Node]:
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key_where = self._where(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(f"{key_where}: a key must be a plain name")
            key = str(key_node.value)
            if key == "<<":
                raise ConfigError(f"{key_where}: YAML merge keys (<<) are not supported")
            if key in out:
                raise ConfigError(f"{key_where}: {key}: given twice (each key once)")
            out[key] = self.convert(value_node)
        return out


def _children(node: yaml.Node) -> list[yaml.Node]:
    """The nodes counted under a YAML node: a list's items, a mapping's values."""
    if isinstance(node, yaml.MappingNode):
        return [value for _, value in node.value]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def plain_text(value: Any) -> str:
    """A Python scalar as the text a teacher would write (floats by their shortest repr)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def from_data(value: Any, where: str) -> Node:
    """Python data (a config as a dict) as nodes, so it is checked like a file."""
    if isinstance(value, Mapping):
        return Node(
            value={str(k): from_data(v, where) for k, v in value.items()}, kind="map", where=where
        )
    if isinstance(value, (list, tuple)):
        return Node(value=[from_data(v, where) for v in value], kind="seq", where=where)
    if value is None:
        return Node(value="null", kind="null", where=where)
    if isinstance(value, bool):
        return Node(value=plain_text(value), kind="bool", where=where)
    if isinstance(value, (int, float, Decimal)):
        return Node(
            value=plain_text(value), kind="int" if isinstance(value, int) else "float", where=where
        )
    return Node(value=str(value), kind="str", where=where)


def scalar(text: str, kind: str, where: str) -> Node:
    """A node for a value given outside the file (a command-line option)."""
    return Node(value=text, kind=kind, where=where)
