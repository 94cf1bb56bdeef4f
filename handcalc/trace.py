"""The trace: every step's hand value beside its float64 value and the deviation; JSON out.

Renderers read only this; they never do arithmetic.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from functools import cache
from typing import Any

from handcalc.config.load import normalized
from handcalc.config.problem import Problem
from handcalc.model.steps import StepSpec
from handcalc.numbers import Rounding, Shape
from handcalc.rowmajor import Nested, dumps, indices, nest
from handcalc.version import __version__

SCHEMA = "handcalc.trace/1"
FLAG_UNITS = 0.5  # a deviation beyond half a unit of the last kept digit changes a written digit


@cache
def _text(rounding: Rounding) -> Callable[[Decimal], str]:
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
        return _text(self.rounding)(self.values[i])

    def texts(self) -> list[str]:
        return [self.text(i) for i in range(len(self.values))]

    def labels(self) -> Iterator[tuple[int | None, str]]:
        """(example number or None, entry label with 1-based indices) for every entry."""
        inner = self.shape[1:] if self.example_axis else self.shape
        count = self.shape[0] if self.example_axis else 1
        for n in range(count):
            for index in indices(inner):
                label = self.spec.symbol + ("_" + ",".join(map(str, index)) if index else "")
                yield (n + 1 if self.example_axis else None), label

    def units(self) -> list[float]:
        """Each deviation in units of the last digit kept when the hand value is written."""
        if self.rounding.mode == "decimals":
            scale = float(Decimal(1).scaleb(self.rounding.digits))
            return [_finite(d * scale) for d in self.deviations]
        return [
            _in_units(d, _unit(self.rounding, v, f))
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
            **({} if self.spec.written else {"written": False}),
            **(
                {}
                if self.floats32 is None
                else {
                    "float32": self.float32,
                    "float32_deviation": nest(self.float32_deviations(), self.shape),
                }
            ),
        }


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


def _unit(rounding: Rounding, value: Decimal, f: float) -> Decimal:
    """One unit of the last significant digit kept (of the float64 value when the hand one is 0)."""
    if value:
        return rounding.unit(value)
    return rounding.unit(Decimal(repr(f))) if f and math.isfinite(f) else Decimal(1)


# A unit may lie far below float64's range (1e-400) and a deviation far above it in units.
_UNITS = Context(prec=17, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


def _in_units(d: float, unit: Decimal) -> float:
    """d / unit; in decimals where the unit lies below float64's range (1e-400, say).

    >>> _in_units(-2.5e-5, Decimal("1e-5")), _in_units(3e-300, Decimal("1e-400"))
    (-2.5, 3e+100)
    >>> _in_units(1e-10, Decimal("1e-999999"))  # more units than a float holds
    1.7976931348623157e+308
    >>> _in_units(4e-320, Decimal("2e-320"))
    2.0
    """
    u = float(unit)
    if u >= sys.float_info.min:
        return _finite(d / u)
    if not d or not math.isfinite(d):
        return _finite(d)
    return _finite(float(_UNITS.divide(Decimal(repr(d)), unit)))


def _finite(x: float) -> float:
    """x, held to float64's range: a deviation of more units than a float holds is shown as
    the largest float, keeping the JSON trace valid."""
    if math.isnan(x):
        return 0.0
    return max(-sys.float_info.max, min(x, sys.float_info.max))
