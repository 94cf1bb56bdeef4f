"""The float64 shadow of a large run on numpy float64 arrays, bit for bit the Python float run.

Elementwise +, -, × and / are the same IEEE operations in numpy as on Python floats; a sum taken
strictly left to right is the last entry of np.cumsum (a running sum: never np.sum or a matrix
product, which reorder it). exp, ln, tanh and sqrt stay math's, entry by entry, through the
Python float code (numpy's may differ in the last bit), as does every check that names an entry.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np

from handcalc.arrays import FLOAT64, Flat, NumberSystem, Operand, Shape

Floats = Any  # a numpy float64 array

# products held at once by a matrix product, beyond which it goes a row at a time
BLOCK = 1 << 22


class FloatArrays(NumberSystem):
    """Unrounded IEEE binary64 arithmetic on numpy arrays."""

    def __init__(self) -> None:
        super().__init__(FLOAT64)

    def session(self) -> Any:
        return np.errstate(all="ignore")  # inf and nan as Python floats give them; write() checks

    def write(self, a: Flat) -> Flat:
        x = _floats(a)
        if np.isfinite(x).all():
            return a
        return super().write(Flat(a.shape, x.tolist()))  # names the first entry past the range

    def _binary(self, a: Operand, b: Operand, op: Any) -> Flat:
        if isinstance(a, Flat) and isinstance(b, Flat):
            assert a.shape == b.shape, (a.shape, b.shape)
        shape = a.shape if isinstance(a, Flat) else _shape(b)
        return _packed(shape, op(_operand(a), _operand(b)))

    def add(self, a: Operand, b: Operand) -> Flat:
        return self._binary(a, b, np.add)

    def sub(self, a: Operand, b: Operand) -> Flat:
        return self._binary(a, b, np.subtract)

    def mul(self, a: Operand, b: Operand) -> Flat:
        return self._binary(a, b, np.multiply)

    def div(self, a: Operand, b: Operand) -> Flat:
        if not np.all(_operand(b) != 0):
            return super().div(a, b)  # names the entry divided by zero
        return self._binary(a, b, np.divide)

    def neg(self, a: Flat) -> Flat:
        x = _floats(a)
        return _packed(a.shape, np.where(x != 0, -x, x))  # a zero keeps its sign

    def where_positive(self, z: Flat, a: Operand, b: Operand) -> Flat:
        return _packed(z.shape, np.where(_floats(z) > 0, _operand(a), _operand(b)))

    def matmul_nt(self, a: Flat, b: Flat, bias: Flat | None = None) -> Flat:
        (n, k), (m, k2) = a.shape, b.shape
        assert k == k2 and (bias is None or bias.shape == (m,)), (a.shape, b.shape)
        x, y = _floats(a).reshape(n, k), _floats(b).reshape(m, k)
        if k == 1 and bias is None:  # an outer product: one product per entry
            return _packed((n, m), (x * y.T).reshape(-1))
        out = _dots(x, y)
        if bias is not None:
            out = out + _floats(bias)[None, :]
        return _packed((n, m), out.reshape(-1))

    def total(self, a: Flat, axis: int) -> Flat:
        x = _floats(a)
        if len(a.shape) == 1:
            return _packed((), _running(x.reshape(1, -1))[:1])
        n, m = a.shape
        rows = x.reshape(n, m)
        return _packed((m,) if axis == 0 else (n,), _running(rows.T if axis == 0 else rows))

    def transpose(self, a: Flat) -> Flat:
        n, m = a.shape
        return _packed((m, n), _floats(a).reshape(n, m).T.reshape(-1))

    def reshape(self, a: Flat, shape: Shape) -> Flat:
        assert math.prod(shape) == math.prod(a.shape), (a.shape, shape)
        return _packed(shape, _floats(a))


def _dots(x: Floats, y: Floats) -> Floats:
    """x y^T, each entry summed left to right from its first product."""
    (n, k), (m, _) = x.shape, y.shape
    if n > 1 and n * m * k > BLOCK:
        return np.concatenate([_dots(x[i : i + 1], y) for i in range(n)])
    products = x[:, None, :] * y[None, :, :]
    return _running(products.reshape(n * m, k)).reshape(n, m)


def _running(rows: Floats) -> Floats:
    """Each row summed strictly left to right: the last of its running sums."""
    if rows.shape[1] == 0:
        return np.zeros(rows.shape[0])
    return np.cumsum(rows, axis=1)[:, -1]


def _packed(shape: Shape, x: Floats) -> Flat:
    return Flat(shape, array=np.ascontiguousarray(x, dtype=np.float64))


def _floats(a: Flat) -> Floats:
    if a.array is None:  # kept: the same numbers, packed for the next operation on them
        a.array = np.array(a.data, dtype=np.float64)
    return a.array


def _operand(x: Operand) -> Floats:
    return float(x) if isinstance(x, Decimal) else _floats(x)


def _shape(x: Operand) -> Shape:
    assert isinstance(x, Flat)
    return x.shape
