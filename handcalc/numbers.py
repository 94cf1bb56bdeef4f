"""Number systems: the hand rule (exact decimals, rounded as the class says) and float64.

A number system is a scalar field (how to convert, exp, ln, tanh and round one number) under one
array implementation (handcalc.arrays), so the cycle and even its summation order are written
once. The hand system in decimals mode computes on fixed-point arrays where they give the same
numbers (handcalc.fixed_system); the rule itself and the working context are in `rounding`.
"""

from __future__ import annotations

from handcalc.arrays import (
    FLOAT64,
    Field,
    NumberSystem,
    Shape,
    _float32_field,
    _plain_dot,
    _rounded_dot,
    hand_field,
)
from handcalc.breakdown import Breakdown
from handcalc.fixed_system import FixedSystem
from handcalc.fixedpoint import Flat
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
    "_plain_dot",
    "_rounded_dot",
    "float32",
    "float64",
    "hand",
    "hand_field",
]

# False: the hand run computes in Decimal alone, as the tests do to compare the two ways
FIXED_POINT = True


def hand(rounding: Rounding) -> NumberSystem:
    """Exact decimal arithmetic rounded by the class's rule."""
    if FIXED_POINT and rounding.mode == "decimals":
        return FixedSystem(rounding)
    return NumberSystem(hand_field(rounding))


def float64() -> NumberSystem:
    """Unrounded IEEE binary64 arithmetic: the shadow run."""
    return NumberSystem(FLOAT64)


def float32() -> NumberSystem:
    """IEEE binary32 arithmetic (numpy float32): what PyTorch computes by default."""
    return NumberSystem(_float32_field())
