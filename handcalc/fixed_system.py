"""The hand system in decimals mode on fixed-point arrays (handcalc.fixedpoint).

Numbers written to d decimal places add and multiply exactly as integers scaled by 10^d, so the
cycle's sums, products, matrix products and roundings run as numpy int64 arithmetic. Every other
case runs exactly as the Decimal system does, through its own code: an operand that is not fixed,
a bound that says int64 could overflow, and the operations that are not exact on decimals (exp,
ln, tanh, sqrt, division: a few entries each). A small Decimal result becomes fixed again once
it is written down, rounded to d places. Both ways give the same numbers, so the same trace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import handcalc.fixedpoint as fp
from handcalc.arrays import Flat, NumberSystem, Operand, Shape, hand_field
from handcalc.fixedpoint import Fixed, OutOfRange
from handcalc.rounding import Rounding

Kernel = Callable[[Fixed, Fixed], Fixed]
# A written Decimal result (a softmax, a loss) becomes fixed point again up to this size; a
# larger one (recomputed from values given as Decimals, as grading does) would cost more to
# convert than fixed point saves on it
CONVERTED = 4096


class FixedSystem(NumberSystem):
    """Decimal arithmetic rounded to `digits` places, computed on fixed-point arrays."""

    def __init__(self, rounding: Rounding) -> None:
        assert rounding.mode == "decimals", rounding
        super().__init__(hand_field(rounding))
        self.rounding = rounding
        self._constants: dict[Decimal, Fixed | None] = {}

    def array(self, data: Sequence[Decimal], shape: Shape) -> Flat:
        given = super().array(data, shape)
        return Flat(given.shape, given.data, fp.from_decimals(given.data, self.rounding.digits))

    def floats(self, a: Flat) -> list[float]:
        exact = None if a.fixed is None else fp.floats(a.fixed)
        return super().floats(a) if exact is None else exact

    def write(self, a: Flat) -> Flat:
        if a.fixed is not None:
            return Flat(a.shape, fixed=self._rounded(a.fixed))
        out = super().write(a)
        if len(out.data) > CONVERTED:  # a student's own W, say: Decimal as it came
            return out
        return Flat(out.shape, out.data, fp.from_decimals(out.data, self.rounding.digits))

    def _rounded(self, f: Fixed) -> Fixed:
        return fp.rounded(f, self.rounding.digits, self.rounding.rule)

    def _finished(self, shape: Shape, f: Fixed) -> Flat:
        """An operation's result, rounded when every operation is."""
        per_operation = self.rounding.per == "operation"
        return Flat(shape, fixed=self._rounded(f) if per_operation else f)

    def _fixed(self, x: Operand) -> Fixed | None:
        if isinstance(x, Flat):
            return x.fixed
        if x not in self._constants:
            self._constants[x] = fp.constant(x)
        return self._constants[x]

    def _binary(self, kernel: Kernel, a: Operand, b: Operand) -> Flat | None:
        """kernel(a, b) on fixed arrays, or None where Decimal must do it."""
        x, y = self._fixed(a), self._fixed(b)
        if x is None or y is None:
            return None
        if isinstance(a, Flat) and isinstance(b, Flat):
            assert a.shape == b.shape, (a.shape, b.shape)
        shape = a.shape if isinstance(a, Flat) else _shape(b)
        try:
            return self._finished(shape, kernel(x, y))
        except OutOfRange:
            return None

    def add(self, a: Operand, b: Operand) -> Flat:
        return self._binary(fp.add, a, b) or super().add(a, b)

    def sub(self, a: Operand, b: Operand) -> Flat:
        return self._binary(_subtract, a, b) or super().sub(a, b)

    def mul(self, a: Operand, b: Operand) -> Flat:
        return self._binary(fp.mul, a, b) or super().mul(a, b)

    def neg(self, a: Flat) -> Flat:
        if a.fixed is None:
            return super().neg(a)
        return Flat(a.shape, fixed=fp.neg(a.fixed))

    def where_positive(self, z: Flat, a: Operand, b: Operand) -> Flat:
        x, y = self._fixed(a), self._fixed(b)
        if z.fixed is None or x is None or y is None:
            return super().where_positive(z, a, b)
        try:
            return Flat(z.shape, fixed=fp.where(z.fixed, x, y))
        except OutOfRange:
            return super().where_positive(z, a, b)

    def matmul_nt(self, a: Flat, b: Flat, bias: Flat | None = None) -> Flat:
        out = self._matmul(a, b, bias)
        return super().matmul_nt(a, b, bias) if out is None else out

    def _matmul(self, a: Flat, b: Flat, bias: Flat | None) -> Flat | None:
        """a b^T (+ bias) on fixed arrays, or None where Decimal must do it."""
        (n, k), (m, k2) = a.shape, b.shape
        assert k == k2 and (bias is None or bias.shape == (m,)), (a.shape, b.shape)
        extra = None if bias is None else bias.fixed
        if a.fixed is None or b.fixed is None or (bias is not None and extra is None):
            return None
        try:
            if k == 1 and bias is None:  # an outer product: one product per entry
                products = fp.mul(_as(a.fixed, (n, 1)), _as(b.fixed, (1, m)))
                return self._finished((n, m), _flattened(products))
            out = self._dot(a.fixed, b.fixed, (n, m, k))
            if extra is not None:
                out = _plus_bias(out, extra, n, m)
                out = self._rounded(out) if self.rounding.per == "operation" else out
        except OutOfRange:
            return None
        return Flat((n, m), fixed=out)

    def _dot(self, a: Fixed, b: Fixed, shape: tuple[int, int, int]) -> Fixed:
        if self.rounding.per == "value":
            return fp.matmul_nt(a, b, *shape)
        return fp.matmul_rounded(a, b, shape, self.rounding.digits, self.rounding.rule)

    def total(self, a: Flat, axis: int) -> Flat:
        f = a.fixed
        # rounding every partial sum is no rounding while the terms have at most d places
        if f is None or (self.rounding.per == "operation" and f.scale > self.rounding.digits):
            return super().total(a, axis)
        rows, columns = (1, a.shape[0]) if len(a.shape) == 1 else a.shape
        try:
            out = fp.total(f, rows, columns, 1 if len(a.shape) == 1 else axis)
        except OutOfRange:
            return super().total(a, axis)
        shape = () if len(a.shape) == 1 else (columns,) if axis == 0 else (rows,)
        return Flat(shape, fixed=out)

    def transpose(self, a: Flat) -> Flat:
        if a.fixed is None:
            return super().transpose(a)
        n, m = a.shape
        return Flat((m, n), fixed=fp.transpose(a.fixed, n, m))

    def reshape(self, a: Flat, shape: Shape) -> Flat:
        out = super().reshape(a, shape) if a.fixed is None else Flat(shape, fixed=a.fixed)
        return out


def _shape(x: Operand) -> Shape:
    assert isinstance(x, Flat)
    return x.shape


def _subtract(a: Fixed, b: Fixed) -> Fixed:
    return fp.add(a, b, sign=-1)


def _as(a: Fixed, shape: tuple[int, int]) -> Fixed:
    """The same counts viewed in another shape (for broadcasting); flattened again by the
    caller's reshape."""
    negzero = None if a.negzero is None else a.negzero.reshape(shape)
    return Fixed(ints=a.ints.reshape(shape), scale=a.scale, negzero=negzero)


def _plus_bias(out: Fixed, bias: Fixed, n: int, m: int) -> Fixed:
    """Each row of the n × m product plus the bias, exactly."""
    rows = _as(out, (n, m))
    total = fp.add(rows, _as(bias, (1, m)))
    return _flattened(total)


def _flattened(a: Fixed) -> Fixed:
    negzero: Any = None if a.negzero is None else a.negzero.reshape(-1)
    return Fixed(ints=a.ints.reshape(-1), scale=a.scale, negzero=negzero)
