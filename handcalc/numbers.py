"""Number systems: the hand rule (exact decimals, rounded as the class says) and float64.

A number system is a scalar field (how to convert, exp, ln, tanh and round one number) under one
array implementation (handcalc.arrays), so the cycle and even its summation order are written
once. The hand system of a large run in decimals mode computes on fixed-point arrays, which give
the same numbers (handcalc.fixed_system); the rule itself and the working context are in
`rounding`.
"""

from __future__ import annotations

from handcalc.arrays import (
    FLOAT64,
    Field,
    Flat,
    NumberSystem,
    Shape,
    _float32_field,
    hand_field,
)
from handcalc.breakdown import Breakdown
from handcalc.rounding import WORKING, Rounding

__all__ = [
    "FLOAT64",
    "WORKING",
    "Breakdown",
    "Field",
    "Flat",
    "NumberSystem",
    "Rounding",
    "Shape",
    "float32",
    "float64",
    "hand",
    "hand_field",
]

# Fixed point pays for numpy's import (~0.1 s) from about this many given numbers on; None:
# the hand run computes in Decimal alone (the tests compare the two ways)
FIXED_POINT_FROM: int | None = 20_000


def hand(rounding: Rounding, size: int = 0) -> NumberSystem:
    """Exact decimal arithmetic rounded by the class's rule, for a run of `size` given numbers."""
    if rounding.mode == "decimals" and FIXED_POINT_FROM is not None and size >= FIXED_POINT_FROM:
        from handcalc.fixed_system import FixedSystem  # numpy, imported only for large runs

        return FixedSystem(rounding)
    return NumberSystem(hand_field(rounding))


def float64(size: int = 0) -> NumberSystem:
    """Unrounded IEEE binary64 arithmetic: the shadow run (of `size` given numbers)."""
    if FIXED_POINT_FROM is not None and size >= FIXED_POINT_FROM:
        from handcalc.float_arrays import FloatArrays  # numpy, as the hand run of that size

        return FloatArrays()
    return NumberSystem(FLOAT64)


def float32() -> NumberSystem:
    """IEEE binary32 arithmetic (numpy float32): what PyTorch computes by default."""
    return NumberSystem(_float32_field())
