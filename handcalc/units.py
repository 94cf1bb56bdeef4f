"""Deviations in units of the last digit kept when the hand value is written: the figure that
says whether rounding changed a written digit."""

from __future__ import annotations

import math
import operator
import sys
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from itertools import compress, repeat

from handcalc.rounding import Rounding


def units_of(
    rounding: Rounding, deviations: list[float], values: list[Decimal], floats: list[float]
) -> list[float]:
    """Each deviation in units of the last digit kept when its hand value is written."""
    if rounding.mode == "decimals":
        return decimal_units(rounding, deviations)
    if rounding.mode == "significant" and values:
        fast = _significant_units(rounding, deviations, values, floats)
        if fast is not None:
            return fast
    return _units_each(rounding, deviations, values, floats)


def decimal_units(rounding: Rounding, deviations: list[float]) -> list[float]:
    """units_of() in decimals mode, where every value has the same unit: no value is read."""
    scale = float(Decimal(1).scaleb(rounding.digits))
    out = list(map(operator.mul, deviations, repeat(scale)))
    return out if _all_finite(out) else list(map(_finite, out))


def _units_each(
    rounding: Rounding, deviations: list[float], values: list[Decimal], floats: list[float]
) -> list[float]:
    """units_of() entry by entry."""
    # the unit of a nonzero value depends only on its exponent: one float unit per exponent
    # (an exact value's unit is its own last digit)
    by_exponent: dict[int, float] = {}
    cached = rounding.mode != "exact"
    out = []
    for d, v, f in zip(deviations, values, floats, strict=True):
        u = by_exponent.get(v.adjusted()) if v and cached else None
        if u is None:
            unit = _unit(rounding, v, f)
            u = float(unit)
            if v and cached and u >= sys.float_info.min:
                by_exponent[v.adjusted()] = u
            out.append(_in_units(d, unit))
        else:
            x = d / u
            out.append(x if -_LARGEST <= x <= _LARGEST else _finite(x))
    return out


def _significant_units(
    rounding: Rounding, deviations: list[float], values: list[Decimal], floats: list[float]
) -> list[float] | None:
    """units_of() in significant mode, the same floats, without a Python step per entry: a
    nonzero value's unit is 10^(exponent - digits + 1), one float per exponent; a zero's is 1
    unless float64 is not 0. None: a unit below float64's normal range, which only the decimal
    path divides by exactly."""
    table = _Units(rounding.digits)
    units = list(map(table.__getitem__, map(Decimal.adjusted, values)))
    if table.tiny:
        return None
    out = list(map(operator.truediv, deviations, units))
    for i in compress(range(len(values)), map(Decimal.is_zero, values)):
        f = floats[i]
        tiny = f and math.isfinite(f)
        out[i] = _in_units(deviations[i], _unit(rounding, values[i], f)) if tiny else deviations[i]
    return out if _all_finite(out) else list(map(_finite, out))


class _Units(dict[int, float]):
    """The float unit of a value by its exponent, in significant mode; `tiny` once one lies
    below float64's normal range."""

    def __init__(self, digits: int) -> None:
        super().__init__()
        self.shift = digits - 1
        self.tiny = False

    def __missing__(self, exponent: int) -> float:
        unit = self[exponent] = float(Decimal(1).scaleb(exponent - self.shift))
        self.tiny = self.tiny or unit < sys.float_info.min
        return unit


def _unit(rounding: Rounding, value: Decimal, f: float) -> Decimal:
    """One unit of the last significant digit kept (of the float64 value when the hand one is 0)."""
    if value:
        return rounding.unit(value)
    return rounding.unit(Decimal(repr(f))) if f and math.isfinite(f) else Decimal(1)


_LARGEST = sys.float_info.max
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


def _all_finite(values: list[float]) -> bool:
    """Whether no value is infinite or nan: their sum is finite (a sum that overflows says no
    for finite values too, which only sends them the slower way)."""
    return math.isfinite(sum(values))


def _finite(x: float) -> float:
    """x, held to float64's range: a deviation of more units than a float holds is shown as
    the largest float, keeping the JSON trace valid."""
    if math.isnan(x):
        return 0.0
    return max(-sys.float_info.max, min(x, sys.float_info.max))
