"""YAML text -> a tree of nodes that remember where they were written (file:line or a CLI flag).

Scalars keep the text the teacher wrote, so `0.1` becomes Decimal("0.1"), never the float 0.1.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from handcalc.config.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES
from handcalc.errors import ConfigError

try:  # the C composer is ~10x faster on large parameter lists
    from yaml import CSafeLoader as _Loader

    _BYTE_POSITIONS = True  # libyaml places a reader error by bytes of UTF-8
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

    _BYTE_POSITIONS = False  # PyYAML's own reader, by characters

_SURROGATE = re.compile("[\ud800-\udfff]")
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


def read_file(path: Path, what: str = "a YAML config file") -> Node | None:
    """Read a config (or what else `what` names) from a file or a pipe; None for an empty
    document."""
    try:
        with path.open("rb") as f:
            _check_kind(path, os.fstat(f.fileno()).st_mode, what)
            return read_bytes(f.read(MAX_FILE_BYTES + 1), str(path), what)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (expected {what})") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory (expected {what})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror})") from None


def read_stream(stream: BinaryIO, name: str) -> Node | None:
    """Read a config from a stream such as standard input, at most MAX_FILE_BYTES of it."""
    return read_bytes(stream.read(MAX_FILE_BYTES + 1), name)


def _check_kind(path: Path, mode: int, what: str) -> None:
    """A file or a pipe is read; a directory or a device such as /dev/zero is not."""
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{path}: is a directory (expected {what})")
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise ConfigError(f"{path}: not a regular file (expected {what})")


def read_bytes(data: bytes, name: str, what: str = "a YAML config file") -> Node | None:
    """UTF-8 YAML of at most MAX_FILE_BYTES; None for an empty document."""
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{name}: larger than {MAX_FILE_BYTES:,} bytes (expected {what})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"{name}:{line}: not UTF-8 text (expected {what})") from None
    return read_text(text, name)


def read_text(text: str, name: str) -> Node | None:
    """Parse YAML text with a safe composer; None for an empty document."""
    lone = _SURROGATE.search(text)  # only text that never was UTF-8 (a JSON request) holds one
    if lone is not None:
        at = text.count("\n", 0, lone.start()) + 1
        raise ConfigError(f"{name}:{at}: YAML syntax: {_character(ord(lone.group()))}")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as e:
        raise ConfigError(f"{name}:{_line(text, e.position)}: YAML syntax: {_reader(e)}") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        what = e.problem or e.context or "invalid YAML"
        raise ConfigError(f"{name}{line}: YAML syntax: {_one_line(what)}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{name}: YAML syntax: {_one_line(str(e))}") from None
    if root is None:
        return None
    return _Converter(name).convert(root)


def _line(text: str, position: int) -> int:
    """The line of a reader error's position, in bytes or characters as the reader counts."""
    if _BYTE_POSITIONS:
        return text.encode("utf-8", "surrogatepass").count(b"\n", 0, position) + 1
    return text.count("\n", 0, position) + 1  # pragma: no cover


def _reader(e: yaml.reader.ReaderError) -> str:
    """A character YAML does not allow, named by its code point, never printed itself."""
    code = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "\0")
    return _character(code)


def _character(code: int) -> str:
    return f"the character U+{code:04X} is not allowed (text, tabs and line breaks only)"


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
        self.lines: dict[int, str] = {}  # FILE:LINE by line

    def convert(self, node: yaml.Node) -> Node:
        """The node's Node; refuses it where the running count passes MAX_VALUES."""
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
        if len(self.open) >= MAX_DEPTH:
            raise _too_deep(self._where(node))
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
        if self.count > MAX_VALUES:
            raise self._too_large(node)

    def _repeat(self, node: yaml.Node) -> None:
        """Count a converted tree once more, refusing at the value that passes MAX_VALUES."""
        size = self.done[id(node)][1] if id(node) in self.done else 1
        if self.count + size <= MAX_VALUES:
            self.count += size
            return
        self._count(node)
        for child in _children(node):
            self._repeat(child)

    def _too_large(self, node: yaml.Node) -> ConfigError:
        where = self._where(node)
        return ConfigError(f"{where}: document too large (more than {MAX_VALUES:,} values)")

    def _where(self, node: yaml.Node) -> str:
        line = node.start_mark.line
        where = self.lines.get(line)
        if where is None:  # one string per line: a list on one line shares it
            where = self.lines[line] = f"{self.name}:{line + 1}"
        return where

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


def _too_deep(where: str) -> ConfigError:
    return ConfigError(
        f"{where}: lists and mappings nested too deeply (at most {MAX_DEPTH} levels)"
    )


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


def from_data(value: Any, where: str, depth: int = 0) -> Node:
    """Python data (a config as a dict) as nodes, so it is checked like a file."""
    if isinstance(value, (Mapping, list, tuple)) and depth >= MAX_DEPTH:
        raise _too_deep(where)
    if isinstance(value, Mapping):
        return Node(
            value={str(k): from_data(v, where, depth + 1) for k, v in value.items()},
            kind="map",
            where=where,
        )
    if isinstance(value, (list, tuple)):
        return Node(value=[from_data(v, where, depth + 1) for v in value], kind="seq", where=where)
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
