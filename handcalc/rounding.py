"""The class's rule for writing a number down, and the decimal context exact work is done in.

A rule has a number of digits, a mode (decimal places or significant digits), a tie rule and a
moment (each written value, or every elementary operation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    InvalidOperation,
    Overflow,
)
from functools import cache
from itertools import repeat
from typing import Literal, get_args

Mode = Literal["decimals", "significant"]  # digits after the point, or significant digits
Rule = Literal["half_up", "half_even"]  # ties away from zero, or to the even digit
Per = Literal["value", "operation"]  # round each written value, or every operation
MODES: tuple[Mode, ...] = get_args(Mode)
RULES: tuple[Rule, ...] = get_args(Rule)
PERS: tuple[Per, ...] = get_args(Per)
MAX_DIGITS = 20
_TIES: dict[Rule, str] = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}

# Exact sums and products of written numbers fit easily in 60 digits; exp, ln and tanh are
# correct to ~60 digits, so rounding them to at most MAX_DIGITS can only go wrong if the true value
# lies within 1e-40 of a tie, which a class never meets.
WORKING = Context(
    prec=60,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow, FloatOperation],
)


@dataclass(frozen=True, slots=True)
class Rounding:
    """The class's rule for writing a number down."""

    digits: int = 4
    mode: Mode = "decimals"
    rule: Rule = "half_up"
    per: Per = "value"

    def rounder(self) -> Callable[[Decimal], Decimal]:
        """The function that rounds one number by this rule (zero always written unsigned).

        >>> r = Rounding(digits=2, mode="decimals", rule="half_up").rounder()
        >>> r(Decimal("0.125")), r(Decimal("-0.125")), r(Decimal("0.0049"))
        (Decimal('0.13'), Decimal('-0.13'), Decimal('0.00'))
        >>> Rounding(digits=2, rule="half_even").rounder()(Decimal("0.125"))
        Decimal('0.12')
        >>> Rounding(digits=3, mode="significant").rounder()(Decimal("0.00012345"))
        Decimal('0.000123')
        """
        ctx, unit = _contexts(self)
        if self.mode == "significant":
            return ctx.plus  # a context of `digits` precision
        quantize = ctx.quantize

        def to_decimals(x: Decimal) -> Decimal:
            return quantize(x, unit)

        return to_decimals

    def round_all(self, values: Iterable[Decimal]) -> list[Decimal]:
        """rounder() over many numbers, without a Python call per number.

        A value that rounds to zero may keep a minus sign (-0.0000); it equals 0 in every
        computation, and text() writes it unsigned.
        """
        ctx, unit = _contexts(self)
        if self.mode == "significant":
            return list(map(ctx.plus, values))
        return list(map(ctx.quantize, values, repeat(unit)))

    def text(self, x: Decimal) -> str:
        """x as a student writes it: rounded, trailing zeros kept, never scientific notation.

        >>> Rounding(digits=4).text(Decimal("0.5"))
        '0.5000'
        >>> Rounding(digits=3, mode="significant").text(Decimal("1.2"))
        '1.20'
        """
        return _writers(self)[0](x)

    def texts(self, values: Iterable[Decimal]) -> list[str]:
        """text() over many numbers, the same strings, without a Python call per number in
        decimals mode.

        >>> Rounding(digits=2).texts([Decimal("0.125"), Decimal("-0.001"), Decimal(3)])
        ['0.13', '0.00', '3.00']
        >>> Rounding(digits=2, mode="significant").texts([Decimal("-0.0999"), Decimal(0)])
        ['-0.10', '0']
        """
        return _writers(self)[1](values)

    def unit(self, x: Decimal) -> Decimal:
        """One unit of the last digit kept when x is written (0 for zero in significant mode)."""
        if self.mode == "decimals":
            return Decimal(1).scaleb(-self.digits)
        if not x:
            return Decimal(0)
        return Decimal(1).scaleb(x.adjusted() - self.digits + 1)

    def describe(self) -> str:
        """The rule in words, as a worksheet states it."""
        places = "decimal places" if self.mode == "decimals" else "significant digits"
        ties = {"half_up": "ties away from zero", "half_even": "ties to the even digit"}[self.rule]
        when = {"value": "every written value", "operation": "every operation"}[self.per]
        return f"{self.digits} {places}, {ties}, rounding {when}"


@cache
def _contexts(rounding: Rounding) -> tuple[Context, Decimal]:
    """The context that rounds by the rule, and the unit decimals mode quantizes to."""
    prec = rounding.digits if rounding.mode == "significant" else WORKING.prec
    ctx = Context(
        prec=prec,
        rounding=_TIES[rounding.rule],
        Emax=WORKING.Emax,
        Emin=WORKING.Emin,
        traps=[InvalidOperation, Overflow, FloatOperation],
    )
    return ctx, Decimal(1).scaleb(-rounding.digits)


Text = Callable[[Decimal], str]
Texts = Callable[[Iterable[Decimal]], list[str]]


@cache
def _writers(rounding: Rounding) -> tuple[Text, Texts]:
    """text() for one number and for many, made once per rule."""
    if rounding.mode == "significant":
        one = _significant(rounding)
        return one, lambda values: list(map(one, values))
    ctx, unit = _contexts(rounding)
    quantize = ctx.quantize
    zero = format(Decimal(0).quantize(unit), "f")
    signed = "-" + zero  # a value that rounds to zero is written unsigned

    def text(x: Decimal) -> str:
        s = format(quantize(x, unit), "f")
        return zero if s == signed else s

    def texts(values: Iterable[Decimal]) -> list[str]:
        out = list(map(format, map(quantize, values, repeat(unit)), repeat("f")))
        return [zero if s == signed else s for s in out] if signed in out else out

    return text, texts


def _significant(rounding: Rounding) -> Text:
    """text() in significant mode: rounded to `digits` digits, then padded to show all of them."""
    plus = _contexts(rounding)[0].plus
    shift = rounding.digits - 1
    # a private copy: the padding's flags must not collect on the shared working context
    pad = WORKING.copy().quantize
    units: dict[int, Decimal] = {}

    def text(x: Decimal) -> str:
        q = plus(x)
        if not q:
            return "0"
        e = q.adjusted() - shift
        unit = units.get(e)
        if unit is None:
            unit = units[e] = Decimal(1).scaleb(e)
        return format(pad(q, unit), "f")

    return text
