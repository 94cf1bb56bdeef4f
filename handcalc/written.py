"""Many values as the worksheet writes them at once: Rounding.texts, the same strings, without
a rounding per value where the hand run wrote them down already."""

from __future__ import annotations

import operator
from decimal import Decimal
from itertools import compress, count, repeat

from handcalc.rounding import Rounding


def texts_of(rounding: Rounding, values: list[Decimal]) -> list[str]:
    """rounding.texts(values), the same strings: in decimals mode a rounded value has `digits`
    places, which str writes as format(..., "f") does while they are at most six."""
    if rounding.mode == "significant":
        return _significant_texts(rounding, values)
    if rounding.mode != "decimals" or rounding.digits > 6:
        return rounding.texts(values)
    unit = rounding.unit(Decimal(1))
    # values the hand run wrote down have that many places already: no rounding to do
    written = all(map(Decimal.same_quantum, values, repeat(unit)))
    out = list(map(str, values if written else rounding.round_all(values)))
    zero = rounding.text(Decimal(0))
    signed, at = "-" + zero, 0  # a value that rounds to zero is written unsigned
    for _ in range(out.count(signed)):
        at = out.index(signed, at)
        out[at] = zero
    return out


def _significant_texts(rounding: Rounding, values: list[Decimal]) -> list[str]:
    """rounding.texts(values) in significant mode, the same strings: a value the hand run wrote
    down with all `digits` digits, its last one in the place its exponent puts it, is written
    by str as it stands (while str writes no exponent); the others one by one."""
    units = _Places(rounding.digits - 1)
    exponents = map(Decimal.adjusted, values)
    as_is = map(Decimal.same_quantum, values, map(units.__getitem__, exponents))
    zeros = list(map(Decimal.is_zero, values))
    out = list(map(str, values))
    for i in compress(count(), map(operator.not_, map(operator.or_, as_is, zeros))):
        out[i] = rounding.text(values[i])
    for i in compress(count(), zeros):
        out[i] = "0"  # a zero is written bare, whatever its exponent and sign
    return out


class _Places(dict[int, Decimal]):
    """The unit of the last of `shift` + 1 significant digits by a value's exponent; NaN (the
    quantum of no number) where str would write an exponent."""

    def __init__(self, shift: int) -> None:
        super().__init__()
        self.shift = shift

    def __missing__(self, exponent: int) -> Decimal:
        plain = -6 <= exponent <= self.shift
        unit = self[exponent] = Decimal(1).scaleb(exponent - self.shift) if plain else _NAN
        return unit


_NAN = Decimal("NaN")
