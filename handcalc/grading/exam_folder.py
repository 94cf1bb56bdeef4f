"""An exam folder as `handcalc exam` writes it: the manifest, each variant's config, and which
variant an answers file is for."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from handcalc.config import load as cfg
from handcalc.config.limits import MAX_FILE_BYTES
from handcalc.documents.paper import config_hash
from handcalc.errors import ConfigError
from handcalc.model.runner import make_trace
from handcalc.text import is_clean
from handcalc.trace import Trace

MANIFEST = "manifest.csv"
# A variant number as the manifest and an answers file write it: ASCII digits, short enough
# for int() (Python refuses to convert thousands of digits, and str.isdigit takes any script's).
_NUMBER = re.compile(r"0*[1-9][0-9]{0,8}")
COLUMNS = ("variant", "seed", "config_hash", "config", "worksheet", "key")


class ConfigChanged(ConfigError):
    """A variant's config edited after the exam was written."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One row of the manifest: the variant's number and the files written for it."""

    number: str
    config: Path
    names: tuple[str, ...]  # the file names the manifest gives it (config, worksheet, key)
    config_hash: str = ""  # the hash of the config the paper was printed from

    @property
    def stem(self) -> str:
        """The config's name without .yaml: variant-03."""
        return self.config.stem

    def named_by(self, text: str) -> bool:
        """Whether a `variant:` value names this variant: 3, 03, variant-03 or a file name.

        >>> v = Variant(number="3", config=Path("variant-03.yaml"), names=("variant-03.yaml",))
        >>> [v.named_by(t) for t in ("3", "03", "variant-03", "variant-03.yaml", "13")]
        [True, True, True, True, False]
        """
        if _NUMBER.fullmatch(text):
            return int(text) == int(self.number)
        return text in (self.stem, *self.names, *(Path(n).stem for n in self.names))

    def trace(self) -> Trace:
        """The variant's cycle as its config file gives it, refused (ConfigChanged) when that
        file no longer gives the hash the manifest lists: edited after the exam was written,
        its key is no longer the key of the paper the students had."""
        trace = make_trace(cfg.load(self.config))
        got = config_hash(trace)
        if got != self.config_hash:
            raise ConfigChanged(
                f"{self.config}: config changed since the exam was written "
                f"(manifest says {self.config_hash or 'none'}, file gives {got})"
            )
        return trace

    def in_name(self, name: str) -> bool:
        """Whether a file name holds this variant's stem as a word: alice-variant-03.yaml."""
        return (
            re.search(rf"(?<![A-Za-z0-9]){re.escape(self.stem)}(?![A-Za-z0-9])", name) is not None
        )


@dataclass(frozen=True, slots=True)
class ExamFolder:
    folder: Path
    variants: list[Variant]

    def find(self, named: str | None, file_name: str) -> Variant | str:
        """The variant an answers file names (its `variant:` key, else its file name), or why
        none."""
        if named is not None:
            found = [v for v in self.variants if v.named_by(named)]
            if found:
                return found[0]
            return f"variant: {named!r} is not a variant of the exam ({self._range()})"
        by_name = [v for v in self.variants if v.in_name(file_name)]
        if len(by_name) == 1:
            return by_name[0]
        return (
            "names no variant of the exam (a `variant:` key, or the variant in the file name, "
            f"as in {self.variants[0].stem}-NAME.yaml)"
        )

    def _range(self) -> str:
        numbers = [v.number for v in self.variants]
        return numbers[0] if len(numbers) == 1 else f"{numbers[0]} to {numbers[-1]}"


def read(folder: Path) -> ExamFolder:
    """The exam's manifest: every variant and its config file."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder (expected the folder handcalc exam wrote)")
    try:
        rows = list(csv.reader(_manifest_text(path).splitlines()))
    except csv.Error as e:
        raise ConfigError(f"{path}: cannot be read as CSV ({e})") from None
    if not rows or tuple(rows[0][: len(COLUMNS)]) != COLUMNS or len(rows) < 2:
        raise ConfigError(f"{path}:1: expected the columns {', '.join(COLUMNS)} and a row each")
    variants: dict[int, Variant] = {}
    for line, row in _rows(rows):
        v = _variant(folder, path, line, row)
        if int(v.number) in variants:
            raise ConfigError(f"{path}:{line}: variant {v.number} is listed twice")
        variants[int(v.number)] = v
    return ExamFolder(folder=folder, variants=list(variants.values()))


def _manifest_text(path: Path) -> str:
    """The manifest's text: a regular file of at most MAX_FILE_BYTES, never a pipe or a device
    that would keep the reader waiting or reading."""
    expected = "expected the manifest handcalc exam writes"
    try:
        if not path.is_file():
            raise OSError
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes ({expected})")
        return data.decode("utf-8-sig")  # a spreadsheet saving CSV as UTF-8 adds a BOM
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"{path}: cannot be read ({expected})") from None


def _rows(rows: list[list[str]]) -> list[tuple[int, list[str]]]:
    return [(k, r) for k, r in enumerate(rows[1:], start=2) if any(r)]


def _variant(folder: Path, path: Path, line: int, row: list[str]) -> Variant:
    if (
        len(row) < len(COLUMNS)
        or not row[3].endswith((".yaml", ".yml"))
        or "/" in row[3]
        or not all(is_clean(name) for name in row[3:6])
    ):
        raise ConfigError(f"{path}:{line}: expected a variant's row ({', '.join(COLUMNS)})")
    if not _NUMBER.fullmatch(row[0]):
        raise ConfigError(
            f"{path}:{line}: variant: {row[0]!r} is not a variant number (a whole number from 1)"
        )
    config = folder / row[3]
    if config.exists() and not config.is_file():  # a pipe or a device would never be read
        raise ConfigError(f"{config}: not a regular file (expected the variant's config)")
    return Variant(number=row[0], config=config, names=(row[3], row[4], row[5]), config_hash=row[2])


def variant_of(config: Path) -> str | None:
    """The variant a config file is, when an exam manifest beside it lists it."""
    if not (config.parent / MANIFEST).is_file():
        return None
    try:
        exam = read(config.parent)
    except ConfigError:
        return None
    return next((v.number for v in exam.variants if v.config.name == config.name), None)
