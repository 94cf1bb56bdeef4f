"""Exact fixed-point arrays: numpy int64 counts of 10^-scale, which a hand `Flat` may hold in
place of its Decimal entries (made from them only when they are read).

Sums and products of numbers with few decimals are exact integer arithmetic; each operation checks
first that no count can pass LIMIT, and raises OutOfRange where one could, so that the caller
computes in Decimal instead. Decimal keeps a sign on zero (0 × -1 is -0, and -0.00004 rounds to
-0.0000); a fixed array keeps that sign beside its counts (`negzero`), so that the Decimals it
gives are the very ones Decimal arithmetic gives, exponent and sign of zero included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow
from itertools import repeat
from typing import Any

import numpy as np

from handcalc.rounding import WORKING, Rule

Shape = tuple[int, ...]
Ints = Any  # a numpy int64 array
Mask = Any  # a numpy bool array

# Every count, and every bound checked before an operation, stays below 2^62: rounding adds at
# most half a unit, which leaves int64 room.
LIMIT = 2**62
# floats are exact quotients of counts below 2^53 by powers of ten up to 10^22
FLOAT_EXACT = 2**53
MAX_SCALE = 22

# scaleb and to_integral_exact in the working precision; Inexact: the value has more decimals
_EXACT = Context(
    prec=WORKING.prec, Emax=WORKING.Emax, Emin=WORKING.Emin, traps=[Inexact, InvalidOperation]
)


class OutOfRange(Exception):
    """A fixed-point operation int64 could not hold exactly: compute it in Decimal."""


@dataclass(frozen=True, slots=True)
class Fixed:
    """Row-major counts of 10^-scale; `negzero` marks the zeros Decimal writes as -0."""

    ints: Ints
    scale: int
    negzero: Mask | None = None  # None: no entry is -0

    def largest(self) -> int:
        """The largest count in absolute value (0 when empty)."""
        return max(int(self.ints.max(initial=0)), -int(self.ints.min(initial=0)))

    def negative(self) -> Mask:
        """Where the entry has a minus sign, -0 included (as Decimal.is_signed says)."""
        below = self.ints < 0
        return below if self.negzero is None else below | self.negzero

    def decimals(self) -> list[Decimal]:
        return decimals(self)

    def floats(self) -> list[float] | None:
        return floats(self)

    def texts(self, start: int, stop: int) -> list[str]:
        return texts(self, start, stop)

    def zeros_signed(self) -> Mask | bool:
        """Where the entry is -0."""
        return False if self.negzero is None else self.negzero


def fixed(ints: Ints, scale: int, negzero: Mask | None = None) -> Fixed:
    """A fixed array, with `negzero` dropped when it marks nothing."""
    if negzero is not None and not np.any(negzero):
        negzero = None
    return Fixed(ints=ints, scale=scale, negzero=negzero)


def from_decimals(values: Sequence[Decimal], scale: int) -> Fixed | None:
    """The values as counts of 10^-scale, or None where one has more decimals or is too large."""
    try:
        exact = map(_EXACT.scaleb, values, repeat(Decimal(scale)))
        counts = list(map(int, map(_EXACT.to_integral_exact, exact)))
        ints = np.array(counts, dtype=np.int64)
    except (Inexact, InvalidOperation, OverflowError, Overflow):
        return None
    if int(np.abs(ints).max(initial=0)) >= LIMIT:
        return None
    zeros = np.flatnonzero(ints == 0)
    signed = [i for i in zeros.tolist() if values[i].is_signed()]
    if not signed:
        return Fixed(ints=ints, scale=scale)
    negzero = np.zeros(len(ints), dtype=bool)
    negzero[signed] = True
    return Fixed(ints=ints, scale=scale, negzero=negzero)


def constant(x: Decimal) -> Fixed | None:
    """One Decimal as a fixed array of one entry (broadcast against any shape)."""
    exponent = x.as_tuple().exponent
    assert isinstance(exponent, int)  # the working context traps NaN and infinities
    scale = max(0, -exponent)
    return None if scale > MAX_SCALE else from_decimals([x], scale)


def decimals(f: Fixed) -> list[Decimal]:
    """The entries as Decimal arithmetic gives them: count × 10^-scale, exponent -scale."""
    exponent = Decimal(-f.scale)
    out = list(map(_EXACT.scaleb, map(Decimal, f.ints.tolist()), repeat(exponent)))
    if f.negzero is not None:
        for i in np.flatnonzero(f.negzero).tolist():
            out[i] = out[i].copy_negate()
    return out


def texts(f: Fixed, start: int, stop: int) -> list[str]:
    """str() of decimals(f)[start:stop], a zero written unsigned, without making the Decimals:
    while the scale is at most 6, str writes count × 10^-scale with no exponent."""
    assert 0 <= f.scale <= 6, f.scale
    counts = f.ints[start:stop].tolist()
    if not f.scale:
        return list(map(str, counts))
    unit = 10**f.scale
    return [f"{'-' if n < 0 else ''}{abs(n) // unit}.{abs(n) % unit:0{f.scale}d}" for n in counts]


def floats(f: Fixed) -> list[float] | None:
    """float() of every entry (the correctly rounded double), or None where a count is too
    large for the quotient to be exact."""
    if f.scale > MAX_SCALE or f.largest() >= FLOAT_EXACT:
        return None
    out = f.ints / 10.0**f.scale
    if f.negzero is not None:
        out[f.negzero] = -0.0
    values: list[float] = out.tolist()
    return values


def rounded(f: Fixed, digits: int, rule: Rule) -> Fixed:
    """Decimal's quantize to `digits` places: ties away from zero (half_up) or to even."""
    if f.scale <= digits:
        return aligned(f, digits)
    a = f.ints
    if f.scale - digits > 18:  # a unit of more than 10^18 counts: every entry rounds to 0
        return fixed(np.zeros_like(a), digits, f.negative())
    q = 10 ** (f.scale - digits)  # an even number of counts per unit kept
    shifted = a + q // 2
    if rule == "half_up":  # a tie goes up from a positive count, down from a negative one
        out = (shifted - (a < 0)) // q
    else:  # a tie is a multiple of q once shifted, floored up: back to the even neighbour
        out = shifted // q
        out -= (shifted - out * q == 0) & (out & 1 == 1)
    return fixed(out, digits, (out == 0) & f.negative())


def aligned(f: Fixed, scale: int) -> Fixed:
    """The same numbers as counts of the finer unit 10^-scale."""
    if scale == f.scale:
        return f
    factor = 10 ** (scale - f.scale)
    assert factor > 1, (f.scale, scale)
    check(f.largest() * factor)
    return Fixed(ints=f.ints * factor, scale=scale, negzero=f.negzero)


def check(bound: int) -> None:
    """Refuse an operation whose counts could reach LIMIT."""
    if bound >= LIMIT:
        raise OutOfRange(bound)


def add(a: Fixed, b: Fixed, sign: int = 1) -> Fixed:
    """a + b (sign 1) or a - b (sign -1), exactly; a zero sum is -0 only from -0 + -0 (and
    -0 - 0), as in Decimal."""
    scale = max(a.scale, b.scale)
    x, y = aligned(a, scale), aligned(b, scale)
    check(x.largest() + y.largest())
    out = x.ints + y.ints if sign > 0 else x.ints - y.ints
    if a.negzero is None:  # -0 needs a -0 first operand
        return Fixed(ints=out, scale=scale)
    b_negzero = b.zeros_signed() if sign > 0 else (b.ints == 0) & ~np.asarray(b.zeros_signed())
    return fixed(out, scale, (out == 0) & a.negzero & b_negzero)


def mul(a: Fixed, b: Fixed) -> Fixed:
    """a × b entry by entry (either may be one number), exactly; a zero product carries the
    sign of the operands' signs, as in Decimal."""
    check(a.largest() * b.largest())
    out = a.ints * b.ints
    return fixed(out, a.scale + b.scale, (out == 0) & (a.negative() ^ b.negative()))


def neg(a: Fixed) -> Fixed:
    """-a, zeros left as they are (the systems never negate a zero)."""
    return Fixed(ints=-a.ints, scale=a.scale, negzero=a.negzero)


def where(z: Fixed, a: Fixed, b: Fixed) -> Fixed:
    """a where z > 0, else b (each of a and b may be one number)."""
    scale = max(a.scale, b.scale)
    x, y = aligned(a, scale), aligned(b, scale)
    positive = z.ints > 0
    # arithmetic, not np.where: several times faster; |x - y| < 2 LIMIT stays in int64
    ints = y.ints + positive * (x.ints - y.ints)
    if x.negzero is None and y.negzero is None:
        return Fixed(ints=ints, scale=scale)
    return fixed(ints, scale, (positive & x.zeros_signed()) | (~positive & y.zeros_signed()))


def transpose(a: Fixed, rows: int, columns: int) -> Fixed:
    """The rows × columns matrix a transposed, row-major again."""
    ints = a.ints.reshape(rows, columns).T.reshape(-1)
    negzero = None if a.negzero is None else a.negzero.reshape(rows, columns).T.reshape(-1)
    return Fixed(ints=ints, scale=a.scale, negzero=negzero)


def total(a: Fixed, rows: int, columns: int, axis: int) -> Fixed:
    """The sum of each column (axis 0) or row (axis 1), exact in any order; it is -0 only where
    every term is -0."""
    check(a.largest() * (rows if axis == 0 else columns))
    out = a.ints.reshape(rows, columns).sum(axis=axis)
    if a.negzero is None:
        return Fixed(ints=out, scale=a.scale)
    return fixed(out, a.scale, a.negzero.reshape(rows, columns).all(axis=axis))


def matmul_nt(a: Fixed, b: Fixed, n: int, m: int, k: int) -> Fixed:
    """a (n × k) times b (m × k) transposed, each entry summed exactly; an entry is -0 only
    where all its k products are -0."""
    check(a.largest() * b.largest() * k)
    x, y = a.ints.reshape(n, k), b.ints.reshape(m, k)
    out = (x @ y.T).reshape(-1)
    zeros = np.flatnonzero(out == 0)
    scale = a.scale + b.scale
    if not zeros.size:
        return Fixed(ints=out, scale=scale)
    i, j = np.divmod(zeros, m)
    product_zero = (x[i] == 0) | (y[j] == 0)
    signs = a.negative().reshape(n, k)[i] ^ b.negative().reshape(m, k)[j]
    negzero = np.zeros(n * m, dtype=bool)
    negzero[zeros] = (product_zero & signs).all(axis=1)
    return fixed(out, scale, negzero)


# products held at once by a per-operation matrix product, beyond which it goes a row at a time
BLOCK = 1 << 22


def matmul_rounded(
    a: Fixed, b: Fixed, shape: tuple[int, int, int], digits: int, rule: Rule
) -> Fixed:
    """a (n × k) times b (m × k) transposed with every product rounded to `digits` places, then
    summed (exactly: numbers of `digits` places add up without rounding)."""
    n, m, k = shape
    if n > 1 and n * m * k > BLOCK:
        rows = [matmul_rounded(row, b, (1, m, k), digits, rule) for row in split(a, n)]
        return joined(rows)
    x = Fixed(a.ints.reshape(n, 1, k), a.scale, _shaped(a.negzero, (n, 1, k)))
    y = Fixed(b.ints.reshape(1, m, k), b.scale, _shaped(b.negzero, (1, m, k)))
    return total(rounded(mul(x, y), digits, rule), n * m, k, axis=1)


def _shaped(mask: Mask | None, shape: Shape) -> Mask | None:
    return None if mask is None else mask.reshape(shape)


def split(a: Fixed, n: int) -> list[Fixed]:
    """The n rows of a as arrays of their own."""
    size = len(a.ints) // n
    parts = [slice(i * size, (i + 1) * size) for i in range(n)]
    if a.negzero is None:
        return [Fixed(ints=a.ints[p], scale=a.scale) for p in parts]
    return [fixed(a.ints[p], a.scale, a.negzero[p]) for p in parts]


def joined(parts: Sequence[Fixed]) -> Fixed:
    """Arrays of one scale end to end."""
    ints = np.concatenate([p.ints for p in parts])
    if all(p.negzero is None for p in parts):
        return Fixed(ints=ints, scale=parts[0].scale)
    masks = [np.broadcast_to(p.zeros_signed(), p.ints.shape) for p in parts]
    return fixed(ints, parts[0].scale, np.concatenate(masks))
