"""The trace: every step's hand value beside its float64 value and the deviation; JSON out.

Renderers read only this; they never do arithmetic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import product
from typing import Any

from handcalc.config.load import normalized
from handcalc.config.problem import Problem
from handcalc.model.steps import StepSpec
from handcalc.numbers import Rounding, Shape
from handcalc.version import __version__

SCHEMA = "handcalc.trace/1"
FLAG_UNITS = 0.5  # a deviation beyond half a unit of the last kept digit changes a written digit


@cache
def _text(rounding: Rounding) -> Any:
    return rounding.text


@dataclass(frozen=True, slots=True)
class Step:
    """One written quantity: flat row-major entries in the reported shape."""

    spec: StepSpec
    shape: Shape
    example_axis: bool
    values: list[Decimal]  # the hand values, row-major
    floats: list[float]  # the float64 values
    deviations: list[float]  # hand - float64
    rounding: Rounding
    floats32: list[float] | None = None  # the float32 values, when asked for

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def value(self) -> Any:
        """The hand values as nested lists of Decimal in the step's shape (a scalar bare)."""
        return nest(self.values, self.shape)

    @property
    def float64(self) -> Any:
        """The float64 values, nested like `value`."""
        return nest(self.floats, self.shape)

    @property
    def deviation(self) -> Any:
        """hand - float64, nested like `value`."""
        return nest(self.deviations, self.shape)

    @property
    def float32(self) -> Any:
        """The float32 values, nested like `value` (None unless the run asked for them)."""
        return None if self.floats32 is None else nest(self.floats32, self.shape)

    def float32_deviations(self) -> list[float]:
        """float32 - float64 per entry (empty without a float32 run)."""
        return [a - b for a, b in zip(self.floats32 or [], self.floats, strict=False)]

    def text(self, i: int) -> str:
        """Entry i as the worksheet writes it."""
        out: str = _text(self.rounding)(self.values[i])
        return out

    def texts(self) -> list[str]:
        return [self.text(i) for i in range(len(self.values))]

    def labels(self) -> Iterator[tuple[int | None, str]]:
        """(example number or None, entry label with 1-based indices) for every entry."""
        inner = self.shape[1:] if self.example_axis else self.shape
        count = self.shape[0] if self.example_axis else 1
        for n in range(count):
            for index in _indices(inner):
                label = self.spec.symbol + ("_" + ",".join(map(str, index)) if index else "")
                yield (n + 1 if self.example_axis else None), label

    def units(self) -> list[float]:
        """Each deviation in units of the last digit kept when the hand value is written."""
        if self.rounding.mode == "decimals":
            scale = float(Decimal(1).scaleb(self.rounding.digits))
            return [d * scale for d in self.deviations]
        return [
            d / _unit(self.rounding, v, f)
            for d, v, f in zip(self.deviations, self.values, self.floats, strict=True)
        ]

    def tolerances(self) -> list[Decimal]:
        """What a grader accepts per entry: one unit of the last kept digit, widened by the
        entry's hand-versus-float64 deviation so that a student who kept more digits passes."""
        r = self.rounding
        return [
            r.unit(v if v else Decimal(repr(f))) + Decimal(repr(abs(d)))
            for v, f, d in zip(self.values, self.floats, self.deviations, strict=True)
        ]

    def flagged(self) -> list[bool]:
        """Entries whose deviation exceeds half a unit: rounding changed a written digit."""
        return [abs(u) > FLAG_UNITS for u in self.units()]

    def largest(self) -> tuple[int, float]:
        """The entry with the largest deviation in units, and that deviation."""
        units = self.units()
        i = max(range(len(units)), key=lambda k: abs(units[k]), default=0)
        return i, units[i] if units else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.spec.id,
            "phase": self.spec.phase,
            "symbol": self.spec.symbol,
            "formula": self.spec.formula,
            "inputs": list(self.spec.inputs),
            "shape": list(self.shape),
            "value": nest(self.texts(), self.shape),
            "float64": self.float64,
            "deviation": self.deviation,
            "deviation_units": nest(self.units(), self.shape),
            **(
                {}
                if self.floats32 is None
                else {
                    "float32": self.float32,
                    "float32_deviation": nest(self.float32_deviations(), self.shape),
                }
            ),
        }


def _indices(shape: Shape) -> list[tuple[int, ...]]:
    """Every 1-based index of a shape, row-major."""
    return [tuple(i + 1 for i in index) for index in product(*(range(s) for s in shape))]


def nest(flat: Sequence[Any], shape: Shape) -> Any:
    """Row-major flat entries as nested lists; a scalar stays bare."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


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

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        """Shown by rich (and in Jupyter with rich) as `handcalc run` shows it."""
        from rich.text import Text

        from handcalc.render.terminal import lines

        yield Text("\n").join(lines(self, options.max_width))

    def _repr_markdown_(self) -> str:
        """Shown in Jupyter as the Markdown tables."""
        from handcalc.render.markdown import render

        return render(self)

    def to_json(self) -> str:
        """The trace as JSON text, built one step at a time to keep memory flat."""
        head = {"schema": SCHEMA, "handcalc": __version__, "config": normalized(self.problem)}
        parts = [dumps(head)[:-2], ',\n  "iterations": [']
        for k, steps in enumerate(self.iterations):
            about = "".join(
                f"\n      {json.dumps(key)}: {dumps(value)},"
                for key, value in self._about(k).items()
            )
            parts.append(("," if k else "") + "\n    {" + about)
            parts.append('\n      "steps": [')
            parts += [
                ("," if i else "") + "\n        " + dumps(s.to_json(), " " * 8)
                for i, s in enumerate(steps)
            ]
            parts.append("\n      ]\n    }")
        parts.append("\n  ]\n}\n")
        return "".join(parts)


def dumps(value: Any, indent: str = "") -> str:
    """JSON with one key a line and each row of numbers on one line, for people and diffs."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + dumps(v, inner) for v in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _unit(rounding: Rounding, value: Decimal, f: float) -> float:
    """One unit of the last significant digit kept (of the float64 value when the hand one is 0)."""
    if value:
        return float(rounding.unit(value))
    return float(rounding.unit(Decimal(repr(f)))) if f else 1.0
