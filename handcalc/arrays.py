"""The number systems' fields and arrays: the hand rule (exact decimals, rounded as the class
says) and float64.

A number system is a scalar field (how to convert, exp, ln, tanh and round one number) under one
array implementation, so the cycle and even its summation order are written once. The hand field
rounds each elementary operation (`per: operation`) or computes exactly and rounds once when a value
is written down (`per: value`). float64 is Python's float: IEEE binary64, the type numpy.float64
subclasses, with no start-up cost. The rule itself and the working context are in `rounding`.
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, Overflow, localcontext
from functools import reduce
from itertools import repeat
from typing import TYPE_CHECKING, Any

from handcalc.breakdown import (
    ROUNDING_BROKE,
    TOO_LARGE,
    UNDERFLOW,
    Breakdown,
    float_failure,
    hand_failure,
    writer,
)
from handcalc.rounding import WORKING, Rounding

if TYPE_CHECKING:
    from handcalc.fixedpoint import Fixed

Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Field:
    """How one number system converts, rounds and evaluates the transcendental functions."""

    name: str
    convert: Callable[[Decimal], Any] | None  # None: the system computes in Decimal itself
    exp: Callable[[Any], Any]
    ln: Callable[[Any], Any]
    tanh: Callable[[Any], Any]
    sqrt: Callable[[Any], Any]
    write: Callable[[Iterable[Any]], list[Any]] | None  # rounding when values are written down
    op: Callable[[Any], Any] | None  # rounding after every elementary operation
    op_all: Callable[[Iterable[Any]], list[Any]] | None  # the same over many numbers
    text: Callable[[Any], str]
    session: Callable[[], contextlib.AbstractContextManager[object]]
    failure: Callable[[ArithmeticError], str]  # what an arithmetic error means, in words
    # numbers rounded by `op` add up exactly (decimal places: the sum of two numbers of d places
    # has d places), so a rounded dot product need round only its products
    exact_sums: bool = False


def _tanh(x: Decimal) -> Decimal:
    if abs(x) > 80:  # tanh is 1 to more than the working precision
        return Decimal(1).copy_sign(x)
    e = (2 * x).exp()
    return (e - 1) / (e + 1)


def hand_field(rounding: Rounding) -> Field:
    return Field(
        name="hand",
        convert=None,
        exp=Decimal.exp,
        ln=Decimal.ln,
        tanh=_tanh,
        sqrt=Decimal.sqrt,
        write=writer(rounding),
        op=rounding.rounder() if rounding.per == "operation" else None,
        op_all=rounding.round_all if rounding.per == "operation" else None,
        text=rounding.text,
        session=lambda: localcontext(WORKING),
        failure=lambda e: hand_failure(rounding, e),
        exact_sums=rounding.mode == "decimals",
    )


FLOAT64 = Field(
    name="float64",
    convert=float,
    exp=math.exp,
    ln=math.log,
    tanh=math.tanh,
    sqrt=math.sqrt,
    write=None,
    op=None,
    op_all=None,
    text=repr,
    session=contextlib.nullcontext,
    failure=lambda e: float_failure("float64", e),
)


def _float32_field() -> Field:
    """numpy float32 scalars: every operation rounds to single precision, as PyTorch's default."""
    import numpy as np  # imported only when a float32 column is asked for

    return Field(
        name="float32",
        convert=lambda d: np.float32(float(d)),  # through a double, as torch.tensor(x) does
        exp=np.exp,
        ln=np.log,
        tanh=np.tanh,
        sqrt=np.sqrt,
        write=None,
        op=None,
        op_all=None,
        text=lambda x: repr(float(x)),
        session=lambda: np.errstate(all="ignore"),  # overflow is caught by write()
        failure=lambda e: float_failure("float32", e),
    )


class Flat:
    """An array of either system: row-major scalars with a shape. Never mutated once built.

    A large run's array may hold its numbers packed instead, as fixed point (hand) or a numpy
    float64 array (float64); `data` then makes the Python numbers on first read and keeps them.
    """

    __slots__ = ("_data", "array", "fixed", "shape")

    def __init__(
        self,
        shape: Shape,
        data: list[Any] | None = None,
        fixed: Fixed | None = None,
        array: Any = None,
    ) -> None:
        assert data is not None or fixed is not None or array is not None
        self.shape = shape
        self._data = data
        self.fixed = fixed
        self.array = array

    @property
    def data(self) -> list[Any]:
        if self._data is None:
            self._data = self.array.tolist() if self.fixed is None else self.fixed.decimals()
        return self._data

    def held(self) -> list[Any] | None:
        """The Python numbers if they are made already (None while only packed)."""
        return self._data

    def part(self, start: int, stop: int) -> list[Any]:
        """data[start:stop]; from a float array without making the other numbers."""
        packed = self._data is None and self.fixed is None
        out: list[Any] = self.array[start:stop].tolist() if packed else self.data[start:stop]
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Flat) and (self.shape, self.data) == (other.shape, other.data)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and a list inside

    def __repr__(self) -> str:
        return f"Flat(shape={self.shape!r}, data={self.data!r})"


Operand = Flat | Decimal


class NumberSystem:
    """The array operations the cycle is written against, over one field."""

    def __init__(self, field: Field) -> None:
        self.field = field
        self.name = field.name
        self._op = field.op
        # what broke an impossible operation: the class's rounding, or float's range
        self._broke = ROUNDING_BROKE if field.write is not None else UNDERFLOW

    def session(self) -> contextlib.AbstractContextManager[object]:
        return self.field.session()

    def _convert(self, x: Decimal) -> Any:
        return x if self.field.convert is None else self.field.convert(x)

    def array(self, data: Sequence[Decimal], shape: Shape) -> Flat:
        assert len(data) == math.prod(shape), (len(data), shape)
        convert = self.field.convert
        return Flat(shape=shape, data=list(data) if convert is None else list(map(convert, data)))

    def floats(self, a: Flat) -> list[float]:
        return [float(x) for x in a.data]

    def write(self, a: Flat) -> Flat:
        """The value as written down: rounded by the rule (hand), checked finite (float64)."""
        if self.field.write is not None:
            return Flat(shape=a.shape, data=self.field.write(a.data))
        if not all(map(math.isfinite, a.data)):
            i = next(i for i, x in enumerate(a.data) if not math.isfinite(x))
            raise Breakdown(f"overflow beyond {self.name}'s range", i, TOO_LARGE)
        return a

    def failure(self, e: ArithmeticError) -> str:
        """An arithmetic error of this system in words, with what to change."""
        return f"{self.name} arithmetic failed: {self.field.failure(e)}"

    def _done(self, shape: Shape, data: list[Any]) -> Flat:
        op_all = self.field.op_all
        return Flat(shape=shape, data=data if op_all is None else op_all(data))

    def _const(self, x: Operand) -> Any:
        return self._convert(x) if isinstance(x, Decimal) else x

    def _zip(self, f: Callable[[Any, Any], Any], a: Operand, b: Operand) -> Flat:
        if isinstance(a, Decimal):
            assert isinstance(b, Flat)
            return self._done(b.shape, list(map(f, repeat(self._convert(a)), b.data)))
        if isinstance(b, Decimal):
            return self._done(a.shape, list(map(f, a.data, repeat(self._convert(b)))))
        assert a.shape == b.shape, (a.shape, b.shape)
        return self._done(a.shape, list(map(f, a.data, b.data)))

    def add(self, a: Operand, b: Operand) -> Flat:
        return self._zip(operator.add, a, b)

    def sub(self, a: Operand, b: Operand) -> Flat:
        return self._zip(operator.sub, a, b)

    def mul(self, a: Operand, b: Operand) -> Flat:
        return self._zip(operator.mul, a, b)

    def div(self, a: Operand, b: Operand) -> Flat:
        divisors = [b] if isinstance(b, Decimal) else b.data
        for i, y in enumerate(divisors):
            if not y:
                raise Breakdown(f"division by {self.field.text(y)}", i, self._broke)
        return self._zip(operator.truediv, a, b)

    def neg(self, a: Flat) -> Flat:
        return Flat(shape=a.shape, data=[-x if x else x for x in a.data])

    def exp(self, a: Flat) -> Flat:
        exp = self.field.exp
        try:
            return self._done(a.shape, list(map(exp, a.data)))
        except (OverflowError, Overflow):
            i, x = next((i, x) for i, x in enumerate(a.data) if _overflows(exp, x))
            raise Breakdown(f"exp of {x:.6g} overflows", i, TOO_LARGE) from None

    def ln(self, a: Flat) -> Flat:
        self._check_log(a.data)
        return self._done(a.shape, list(map(self.field.ln, a.data)))

    def _check_log(self, data: Sequence[Any]) -> None:
        for i, x in enumerate(data):
            if x <= 0:
                raise Breakdown(f"ln of {self.field.text(x)}", i, self._broke)

    def tanh(self, a: Flat) -> Flat:
        return self._done(a.shape, list(map(self.field.tanh, a.data)))

    def sqrt(self, a: Flat) -> Flat:
        for i, x in enumerate(a.data):
            if x < 0:
                raise Breakdown(f"square root of {self.field.text(x)}", i, self._broke)
        return self._done(a.shape, list(map(self.field.sqrt, a.data)))

    def xlogy(self, a: Flat, b: Flat) -> Flat:
        """a ln b entry by entry, 0 where a is 0 (whatever b is)."""
        self._check_log([y if x else 1 for x, y in zip(a.data, b.data, strict=True)])
        op = self._op or (lambda v: v)
        ln = self.field.ln
        return Flat(
            shape=a.shape,
            data=[op(x * op(ln(y))) if x else x for x, y in zip(a.data, b.data, strict=True)],
        )

    def where_positive(self, z: Flat, a: Operand, b: Operand) -> Flat:
        """a where z > 0, else b."""
        n = len(z.data)
        pick_a = [self._const(a)] * n if isinstance(a, Decimal) else a.data
        pick_b = [self._const(b)] * n if isinstance(b, Decimal) else b.data
        data = [x if s > 0 else y for s, x, y in zip(z.data, pick_a, pick_b, strict=True)]
        return Flat(shape=z.shape, data=data)

    def matmul_nt(self, a: Flat, b: Flat, bias: Flat | None = None) -> Flat:
        """a b^T (+ bias per column): each entry summed in index order, the bias added last."""
        (n, k), (m, k2) = a.shape, b.shape
        assert k == k2 and (bias is None or bias.shape == (m,)), (a.shape, b.shape)
        op = self._op
        if k == 1 and bias is None:  # an outer product: one product per entry
            out = [x * y for x in a.data for y in b.data]
            return self._done((n, m), out)
        arows = [a.data[i * k : (i + 1) * k] for i in range(n)]
        brows = [b.data[j * k : (j + 1) * k] for j in range(m)]
        extra = bias.data if bias is not None else None
        rounded_dot = self._rounded_dot()
        out = []
        for arow in arows:
            for j, brow in enumerate(brows):
                if op is None:
                    s = _plain_dot(arow, brow)
                    if extra is not None:
                        s += extra[j]
                else:
                    s = rounded_dot(arow, brow)
                    if extra is not None:
                        s = op(s + extra[j])
                out.append(s)
        return Flat(shape=(n, m), data=out)

    def _rounded_dot(self) -> Callable[[Sequence[Any], Sequence[Any]], Any]:
        """The dot product with every operation rounded, as this system computes it."""
        op, op_all = self._op, self.field.op_all
        if op is None or op_all is None:
            return _plain_dot
        if not self.field.exact_sums:
            return lambda arow, brow: _rounded_dot(op, arow, brow)

        def exact_sums(arow: Sequence[Any], brow: Sequence[Any]) -> Any:
            # the partial sums of rounded products need no rounding; the last rounding only
            # catches a sum beyond the working precision, as rounding each partial sum would
            return op(reduce(operator.add, op_all(map(operator.mul, arow, brow))))

        return exact_sums

    def total(self, a: Flat, axis: int) -> Flat:
        """Sum along `axis` (0 or the last) in index order."""
        if len(a.shape) == 1:
            return Flat(shape=(), data=[self._sum(a.data)])
        n, m = a.shape
        if axis == 0:
            return Flat(shape=(m,), data=[self._sum(a.data[j::m]) for j in range(m)])
        return Flat(shape=(n,), data=[self._sum(a.data[i * m : (i + 1) * m]) for i in range(n)])

    def _sum(self, items: Sequence[Any]) -> Any:
        acc = items[0]
        op = self._op
        for x in items[1:]:
            acc = acc + x if op is None else op(acc + x)
        return acc

    def transpose(self, a: Flat) -> Flat:
        n, m = a.shape
        return Flat(shape=(m, n), data=[a.data[i * m + j] for j in range(m) for i in range(n)])

    def reshape(self, a: Flat, shape: Shape) -> Flat:
        assert math.prod(shape) == len(a.data), (a.shape, shape)
        return Flat(shape=shape, data=a.data)

    def rows(self, a: Flat) -> list[Flat]:
        inner = a.shape[1:]
        k = math.prod(inner)
        return [Flat(shape=inner, data=a.data[i * k : (i + 1) * k]) for i in range(a.shape[0])]

    def stack(self, items: Sequence[Flat]) -> Flat:
        return Flat(
            shape=(len(items), *items[0].shape), data=[x for item in items for x in item.data]
        )

    def diag(self, v: Flat) -> Flat:
        (d,) = v.shape
        zero = self._convert(Decimal(0))
        return Flat(
            shape=(d, d), data=[v.data[i] if i == j else zero for i in range(d) for j in range(d)]
        )

    def fill(self, scalar: Flat, shape: Shape) -> Flat:
        """A one-number array repeated to `shape` (no arithmetic)."""
        return Flat(shape=shape, data=scalar.data * math.prod(shape))

    def repeat_columns(self, v: Flat, width: int) -> Flat:
        return Flat(shape=(v.shape[0], width), data=[x for x in v.data for _ in range(width)])


def _overflows(f: Callable[[Any], Any], x: Any) -> bool:
    try:
        f(x)
    except (OverflowError, Overflow):
        return True
    return False


def _plain_dot(arow: Sequence[Any], brow: Sequence[Any]) -> Any:
    """Σ a_t b_t strictly left to right (exact for decimals at the working precision).

    Not sum(): from Python 3.12 it compensates float sums, which would make the float64 column
    depend on the Python version.
    """
    return reduce(operator.add, map(operator.mul, arow, brow))


def _rounded_dot(op: Callable[[Any], Any], arow: Sequence[Any], brow: Sequence[Any]) -> Any:
    """((a1 b1 + a2 b2) + ...) with every product and every partial sum rounded."""
    acc = op(arow[0] * brow[0])
    for x, y in zip(arow[1:], brow[1:], strict=True):
        acc = op(acc + op(x * y))
    return acc
