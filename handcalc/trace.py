"""The trace: every step's hand value beside its float64 value and the deviation; JSON out.

Renderers read only this; they never do arithmetic.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from handcalc.config.load import normalized
from handcalc.config.problem import Problem
from handcalc.model.steps import StepSpec
from handcalc.numbers import Flat, Rounding, Shape
from handcalc.rowmajor import (
    FloatRows,
    FloatTexts,
    Nested,
    dump_flat,
    dump_nested,
    dump_pieces,
    dumps,
    each_index,
    nest,
    text_row,
)
from handcalc.units import decimal_units, units_of
from handcalc.version import __version__
from handcalc.written import texts_of

SCHEMA = "handcalc.trace/1"
# the fields of a step's record that hold its entries, nested in its shape
ENTRIES = {"value", "float64", "deviation", "deviation_units", "float32", "float32_deviation"}
# a parameter's rule, its numbers and their texts, as the config's echo wrote them
Echoed = dict[str, tuple[Rounding, Sequence[Decimal], list[str]]]
FLAG_UNITS = 0.5  # a deviation beyond half a unit of the last kept digit changes a written digit


@dataclass(frozen=True, slots=True)
class Step:
    """One written quantity: flat row-major entries in the reported shape."""

    spec: StepSpec
    shape: Shape
    example_axis: bool
    hand: Flat  # the hand values, row-major (a large run's as fixed point until read)
    shadow: Flat  # the float64 values (a large run's as a numpy array until read)
    rounding: Rounding
    given: bool = False  # both runs hold the same given numbers: every deviation is 0
    floats32: list[float] | None = None  # the float32 values, when asked for
    # what is computed once and read by several renderers: the units, the flags, the largest
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def values(self) -> list[Decimal]:
        """The hand values, row-major."""
        out: list[Decimal] = self.hand.data
        return out

    @property
    def floats(self) -> list[float]:
        """The float64 values, row-major."""
        out: list[float] = self.shadow.data
        return out

    @property
    def deviations(self) -> list[float]:
        """hand - float64 per entry (one list, kept: do not change it)."""
        if "deviations" not in self._memo:
            self._memo["deviations"] = self._deviations()
        out: list[float] = self._memo["deviations"]
        return out

    def _deviations(self) -> list[float]:
        size = math.prod(self.shape)
        if self.given:
            return [0.0] * size
        return list(map(operator.sub, hand_floats(self.hand), self.shadow.part(0, size)))

    @property
    def value(self) -> Nested[Decimal]:
        """The hand values as nested lists of Decimal in the step's shape (a scalar bare)."""
        return nest(self.values, self.shape)

    @property
    def float64(self) -> Nested[float]:
        """The float64 values, nested like `value`."""
        return nest(self.floats, self.shape)

    @property
    def deviation(self) -> Nested[float]:
        """hand - float64, nested like `value`."""
        return nest(self.deviations, self.shape)

    @property
    def float32(self) -> Nested[float] | None:
        """The float32 values, nested like `value` (None unless the run asked for them)."""
        return None if self.floats32 is None else nest(self.floats32, self.shape)

    def float32_deviations(self) -> list[float]:
        """float32 - float64 per entry (empty without a float32 run)."""
        return [a - b for a, b in zip(self.floats32 or [], self.floats, strict=False)]

    def text(self, i: int) -> str:
        """Entry i as the worksheet writes it."""
        return self.rounding.text(self.values[i])

    def texts(self, stop: int | None = None) -> list[str]:
        """Every entry as the worksheet writes it (the first `stop` only, if given)."""
        return texts_of(self.rounding, self.values if stop is None else self.values[:stop])

    def labels(self) -> Iterator[tuple[int | None, str]]:
        """(example number or None, entry label with 1-based indices) for every entry."""
        inner = self.shape[1:] if self.example_axis else self.shape
        count = self.shape[0] if self.example_axis else 1
        for n in range(count):
            for index in each_index(inner):
                label = self.spec.symbol + ("_" + ",".join(map(str, index)) if index else "")
                yield (n + 1 if self.example_axis else None), label

    def label(self, i: int) -> tuple[int | None, str]:
        """labels() of entry i alone, without listing the others."""
        inner = self.shape[1:] if self.example_axis else self.shape
        n, flat = divmod(i, math.prod(inner))
        index: list[int] = []
        for size in reversed(inner):
            flat, k = divmod(flat, size)
            index.insert(0, k + 1)
        label = self.spec.symbol + ("_" + ",".join(map(str, index)) if index else "")
        return (n + 1 if self.example_axis else None), label

    def units(self) -> list[float]:
        """Each deviation in units of the last digit kept when the hand value is written (one
        list, kept: do not change it)."""
        if "units" not in self._memo:
            self._memo["units"] = self._units()
        out: list[float] = self._memo["units"]
        return out

    def _units(self, deviations: list[float] | None = None) -> list[float]:
        deviations = self.deviations if deviations is None else deviations
        if self.rounding.mode == "decimals":  # one unit for all: no value need be read
            return decimal_units(self.rounding, deviations)
        return units_of(self.rounding, deviations, self.values, self.floats)

    def tolerances(self) -> list[Decimal]:
        """What a grader accepts per entry: one unit of the last kept digit, widened by the
        entry's hand-versus-float64 deviation so that a student who kept more digits passes."""
        r = self.rounding
        return [
            r.unit(v if v else Decimal(repr(f))) + Decimal(repr(abs(d)))
            for v, f, d in zip(self.values, self.floats, self.deviations, strict=True)
        ]

    def flagged(self, stop: int | None = None) -> list[bool]:
        """Entries whose deviation exceeds half a unit: rounding changed a written digit (the
        first `stop` only, if given)."""
        if stop is not None:
            return list(map(FLAG_UNITS.__lt__, map(abs, self.units()[:stop])))
        if "flagged" not in self._memo:
            self._memo["flagged"] = list(map(FLAG_UNITS.__lt__, self._sizes()))
        out: list[bool] = self._memo["flagged"]
        return out

    def flag_count(self) -> int:
        """How many entries flagged() marks."""
        if "flag_count" not in self._memo:
            self._memo["flag_count"] = len([*filter(FLAG_UNITS.__lt__, self._sizes())])
        out: int = self._memo["flag_count"]
        return out

    def largest(self) -> tuple[int, float]:
        """The entry with the largest deviation in units (the first of equals), and that
        deviation."""
        if "largest" not in self._memo:
            units, sizes = self.units(), self._sizes()
            i = sizes.index(max(sizes)) if sizes else 0
            self._memo["largest"] = (i, units[i] if units else 0.0)
        out: tuple[int, float] = self._memo["largest"]
        return out

    def _sizes(self) -> list[float]:
        """The deviations in units without their signs, for flagged() and largest() alike."""
        if "sizes" not in self._memo:
            self._memo["sizes"] = list(map(abs, self.units()))
        out: list[float] = self._memo["sizes"]
        return out

    def to_json(self) -> dict[str, Any]:
        return {key: make() for key, make in self._json_fields()}

    def json_pieces(
        self, indent: str = "", known: FloatTexts | None = None, echoed: Echoed | None = None
    ) -> Iterator[str]:
        """dumps(self.to_json(), indent) in pieces: each field's entries are written a row at a
        time from the flat lists, so a large step never stands whole in memory. `known` holds
        the texts of floats written before (shared by the steps of a trace), `echoed` those of
        the parameters the config echoes."""
        inner = indent + "  "
        # kept if a renderer made them, else made for this record alone (memory stays flat)
        deviations = self._memo.get("deviations") or self._deviations()
        yield "{\n"
        for n, (key, make) in enumerate(self._json_fields()):
            yield (",\n" if n else "") + f"{inner}{json.dumps(key)}: "
            if key in ENTRIES and self.shape:
                rows = self._rows(key, deviations, known, echoed or {})
                yield from dump_flat(self.shape, rows, inner)
            elif key in ENTRIES:
                yield from dump_nested(make(), 0, inner)
            else:
                yield from dump_pieces(make(), inner)
        yield f"\n{indent}}}"

    def _rows(
        self, key: str, deviations: list[float], known: FloatTexts | None, echoed: Echoed
    ) -> Callable[[int, int], str]:
        """How the JSON field `key` writes the entries start to stop, as one row."""
        if key == "value":
            return self._value_rows(self._echoed(echoed.pop(self.id, None)))
        rows = FloatRows(FloatTexts() if known is None else known)
        if key == "float64":
            part = self.shadow.part
            # where the deviations are 0, float64 holds the hand values: a few, repeated
            return lambda a, b: rows(part(a, b), repeats=not any(deviations[a:b]))
        entries = {
            "deviation": lambda: deviations,
            "deviation_units": lambda: self._memo.get("units") or self._units(deviations),
            "float32": lambda: self.floats32 or [],
            "float32_deviation": self.float32_deviations,
        }[key]()
        return lambda a, b: rows(entries[a:b])

    def _value_rows(self, echoed: list[str]) -> Callable[[int, int], str]:
        """How the JSON field "value" writes the entries start to stop: the texts the config's
        echo wrote, or straight from fixed point while its Decimals are not made, or texts()."""
        fixed, r = self.hand.fixed, self.rounding
        plain = r.mode == "decimals" and fixed is not None and fixed.scale == r.digits <= 6
        if not echoed and fixed is not None and plain and self.hand.held() is None:
            return lambda a, b: text_row(fixed.texts(a, b))
        texts = echoed or self.texts()
        return lambda a, b: text_row(texts[a:b])

    def _echoed(self, echo: tuple[Rounding, Sequence[Decimal], list[str]] | None) -> list[str]:
        """The texts the config's echo wrote, where this step holds the very numbers echoed
        (the given parameters of the first iteration) by the same rule; else none."""
        values = self.hand.held()
        if echo is None or values is None or echo[0] != self.rounding:
            return []
        same = len(echo[1]) == len(values) and all(map(operator.is_, values, echo[1]))
        return echo[2] if same else []

    def _json_fields(self) -> list[tuple[str, Callable[[], Any]]]:
        """The record's fields in order, each as how to make its value."""
        spec = self.spec
        fields: list[tuple[str, Callable[[], Any]]] = [
            ("id", lambda: spec.id),
            ("phase", lambda: spec.phase),
            ("symbol", lambda: spec.symbol),
            ("formula", lambda: spec.formula),
            ("inputs", lambda: list(spec.inputs)),
            ("shape", lambda: list(self.shape)),
            ("value", lambda: nest(self.texts(), self.shape)),
            ("float64", lambda: self.float64),
            ("deviation", lambda: self.deviation),
            # kept if a renderer made them, else made for this record alone (memory stays flat)
            ("deviation_units", lambda: nest(self._memo.get("units") or self._units(), self.shape)),
        ]
        if not spec.written:  # rounding.write: computed exactly and passed on
            fields.append(("written", lambda: False))
        if self.floats32 is not None:
            fields += [
                ("float32", lambda: self.float32),
                ("float32_deviation", lambda: nest(self.float32_deviations(), self.shape)),
            ]
        return fields


@dataclass(frozen=True, slots=True)
class IterationInfo:
    """Which epoch an iteration belongs to and which examples (1-based) it used."""

    number: int
    epoch: int
    examples: tuple[int, ...]
    problem: Problem  # the config with this iteration's (mini-)batch as its data


@dataclass(frozen=True, slots=True)
class Trace:
    """Both runs of every iteration, step by step."""

    problem: Problem
    iterations: list[list[Step]]
    info: list[IterationInfo]

    def step(self, step_id: str, iteration: int = 1) -> Step:
        for s in self.iterations[iteration - 1]:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "handcalc": __version__,
            "config": normalized(self.problem),
            "iterations": [
                {**self._about(k), "steps": [s.to_json() for s in steps]}
                for k, steps in enumerate(self.iterations)
            ],
        }

    def _about(self, k: int) -> dict[str, Any]:
        info = self.info[k]
        return {"iteration": info.number, "epoch": info.epoch, "examples": list(info.examples)}

    def to_json(self) -> str:
        """The trace as JSON text."""
        return "".join(self.json_chunks())

    def _head(self, echoed: Echoed) -> str:
        """The opening of the JSON text: the schema, the version and the config echoed (its
        parameters written here, as the steps' values are, rather than by normalized(); their
        texts kept in `echoed`)."""
        p = self.problem
        config = normalized(replace(p, parameters={}))
        config["parameters"] = {}
        for k, b in p.parameters.items():
            rule = p.rules.given_rule(k, p.rounding)
            echoed[k] = (rule, b.data, texts_of(rule, list(b.data)))
            config["parameters"][k] = _nested(echoed[k][2], b.shape)
        return dumps({"schema": SCHEMA, "handcalc": __version__, "config": config})[:-2]

    def json_chunks(self) -> Iterator[str]:
        """The trace as JSON text in pieces of at most one step, to be written as they come
        (the whole text is never held at once)."""
        echoed: Echoed = {}
        yield self._head(echoed) + ',\n  "iterations": ['
        for k, steps in enumerate(self.iterations):
            about = "".join(
                f"\n      {json.dumps(key)}: {dumps(value)},"
                for key, value in self._about(k).items()
            )
            yield ("," if k else "") + "\n    {" + about + '\n      "steps": ['
            known = FloatTexts()
            for i, s in enumerate(steps):
                yield ("," if i else "") + "\n        "
                yield from s.json_pieces(" " * 8, known, echoed)
            yield "\n      ]\n    }"
        yield "\n  ]\n}\n"


def _nested(texts: list[str], shape: Shape) -> Any:
    """A matrix's texts as a list of rows; a vector's as one list."""
    width = shape[-1]
    nested = [texts[i : i + width] for i in range(0, len(texts), width)]
    return nested if len(shape) == 2 else nested[0]


def hand_floats(a: Flat) -> list[float]:
    """float() of each hand value, from fixed point where the array holds it (the same
    correctly rounded doubles, without a string per number)."""
    exact = None if a.fixed is None else a.fixed.floats()
    return list(map(float, a.data)) if exact is None else exact
