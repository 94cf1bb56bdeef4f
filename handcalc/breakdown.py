"""When a number system cannot go on: the Breakdown that names the entry, and the words for an
arithmetic error, with what to change.

Rounding can make a step impossible (a logarithm of 0): more digits help. A value can outgrow the
system (float64's range, or what the hand run's working precision writes to `digits` decimal
places): then smaller numbers help, never more digits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from handcalc.rounding import WORKING, Rounding

ROUNDING_BROKE = (
    "rounding broke the computation (more digits: --digits, or rounding.mode: significant)"
)
SMALLER = "smaller inputs, parameters or learning rate"
TOO_LARGE = f"the numbers grew too large ({SMALLER})"
UNDERFLOW = f"a value passed the float range on the way ({SMALLER})"
# What a value written to significant digits (or exact) may be, besides 0: its digits written
# out, a thousand characters at most. Beyond, its text runs to a digit per power of ten
# (exp(-1000000) in 434,295 characters, which no terminal or page holds).
WRITTEN_LARGEST, WRITTEN_SMALLEST = Decimal("1e999"), Decimal("1e-999")


class Breakdown(Exception):
    """An operation impossible at flat entry `index` (the runner names the step): `what` went
    wrong, and `advice` says why and what to change."""

    def __init__(self, what: str, index: int, advice: str = ROUNDING_BROKE) -> None:
        super().__init__(what)
        self.what = what
        self.index = index
        self.advice = advice


def writer(rounding: Rounding) -> Callable[[Iterable[Decimal]], list[Decimal]]:
    """rounding.round_all, naming the first value too large to be written by the rule."""

    def write(values: Iterable[Decimal]) -> list[Decimal]:
        given = list(values)
        try:
            out = rounding.round_all(given)
        except InvalidOperation:
            pass
        else:
            return out if rounding.mode == "decimals" else _bounded(out)
        r = rounding.rounder()
        for i, x in enumerate(given):
            try:
                r(x)
            except InvalidOperation:
                raise Breakdown(f"{x:.3e} cannot be written", i, _unwritable(rounding)) from None
        raise AssertionError("round_all failed where every value rounds")  # pragma: no cover

    return write


def _bounded(values: list[Decimal]) -> list[Decimal]:
    """Values written by significant digits, refused where their text would run to thousands of
    digits; to decimal places a tiny value is 0, and a large one fails the working precision.
    The exponents are looked over first, in C: a step's values pass there but in a run gone
    astray (or a zero of a tiny exponent, which the look one by one lets through)."""
    if (
        not values
        or -999 <= min(map(Decimal.adjusted, values)) <= max(map(Decimal.adjusted, values)) < 999
    ):
        return values
    for i, x in enumerate(values):
        if x and not WRITTEN_SMALLEST <= abs(x) <= WRITTEN_LARGEST:
            raise Breakdown(
                f"{x:.3e} cannot be written",
                i,
                "a written value is 0 or between 1e-999 and 1e999 in absolute value, its digits "
                f"written out: {SMALLER}, or rounding.mode: decimals",
            )
    return values


def _unwritable(rounding: Rounding) -> str:
    """Why a value cannot be written to `digits` decimal places: the working precision."""
    return (
        f"to {rounding.digits} decimal places the hand run holds values below "
        f"10^{WORKING.prec - rounding.digits} ({WORKING.prec} digits in all): {SMALLER}, "
        "fewer digits, or rounding.mode: significant"
    )


def hand_failure(rounding: Rounding, e: ArithmeticError) -> str:
    """An exact decimal operation that failed: a value past what the working context holds."""
    if isinstance(e, InvalidOperation) and rounding.mode == "decimals":
        return f"a value is too large to write; {_unwritable(rounding)}"
    return f"a value passed 10^{WORKING.Emax}, the largest exact decimal here: {SMALLER}"


def float_failure(name: str, e: ArithmeticError) -> str:
    """A float operation that failed: math.exp past the range, say."""
    if isinstance(e, OverflowError):
        return f"a value passed {name}'s range: {SMALLER}"
    return f"{e}: {SMALLER}"
