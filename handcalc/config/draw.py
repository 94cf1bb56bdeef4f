"""Seeded parameter draws: W1, b1, ..., WL, bL, always drawn in that order from one generator.

Every parameter is drawn even when it is given explicitly or unused, so giving W1 (or turning biases
off) never changes the numbers drawn for the others. Draws use only `random.Random(seed).random()`,
the one output Python promises to keep the same across versions, so a seed means the same numbers
on every machine and every Python.
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from itertools import chain, compress, count, islice, repeat
from typing import Any

from handcalc.numbers import Shape
from handcalc.rounding import Rounding

SCHEMES = ("grid", "uniform", "normal", "xavier", "he")


@dataclass(frozen=True, slots=True)
class Init:
    """How parameters that are not given are drawn."""

    seed: int = 0
    scheme: str = "grid"
    low: Decimal = Decimal("-1.0")
    high: Decimal = Decimal("1.0")
    step: Decimal = Decimal("0.1")
    std: Decimal = Decimal("1.0")

    def normalized(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "scheme": self.scheme,
            "low": str(self.low),
            "high": str(self.high),
            "step": str(self.step),
            "std": str(self.std),
        }


def names(widths: tuple[int, ...], bias: bool) -> list[str]:
    """Parameter names in order: W1, b1, W2, b2, ..."""
    out: list[str] = []
    for layer in range(1, len(widths)):
        out.append(f"W{layer}")
        if bias:
            out.append(f"b{layer}")
    return out


def shape(name: str, widths: tuple[int, ...]) -> Shape:
    """W^(l) is d_l x d_(l-1); b^(l) has d_l entries."""
    layer = int(name[1:])
    return (widths[layer], widths[layer - 1]) if name[0] == "W" else (widths[layer],)


def order(name: str) -> tuple[int, int]:
    return int(name[1:]), 0 if name[0] == "W" else 1


@dataclass(frozen=True, slots=True)
class Grid:
    """The multiples of `step` in [low, high], first * step onwards, never listed one by one."""

    first: int
    count: int
    step: Decimal

    def pick(self, u: float) -> Decimal:
        """The point a uniform u in [0, 1) falls on (0 for an empty grid).

        >>> g = grid(Init(low=Decimal("-0.25"), high=Decimal("0.3"), step=Decimal("0.1")))
        >>> g.count, g.pick(0.0), g.pick(0.99)
        (6, Decimal('-0.2'), Decimal('0.3'))
        """
        if not self.count:
            return Decimal(0)
        return _EXACT.multiply(self.first + int(u * self.count), self.step)


# Exact products for any grid a config allows (indices of up to 31 digits, a step of at most 40
# characters), and quotients precise enough to place low and high between two grid points.
_EXACT = Context(prec=100, traps=[InvalidOperation, DivisionByZero, Overflow])


def grid(init: Init) -> Grid:
    """The grid of init's range; its count may be in the billions, as nothing is listed."""
    first = int(_EXACT.divide(init.low, init.step).to_integral_value(ROUND_CEILING))
    last = int(_EXACT.divide(init.high, init.step).to_integral_value(ROUND_FLOOR))
    return Grid(first=first, count=max(last - first + 1, 0), step=init.step)


def draw(widths: tuple[int, ...], init: Init) -> dict[str, list[Decimal]]:
    """Every W and b of the network, unrounded, reproducible from the seed."""
    return {name: exact or _decimals(floats) for name, exact, floats in _draws(widths, init)}


def draw_rounded(
    widths: tuple[int, ...],
    init: Init,
    rule: Callable[[str], Rounding],
    keep: Callable[[str], bool],
) -> dict[str, list[Decimal]]:
    """rule(name).round_all(draw(widths, init)[name]) for each name kept, the same decimals:
    every parameter is still drawn, in order, but only those kept are made decimals."""
    return {
        name: rule(name).round_all(exact) if exact else round_floats(floats, rule(name))
        for name, exact, floats in _draws(widths, init)
        if keep(name)
    }


def _draws(widths: tuple[int, ...], init: Init) -> Iterator[tuple[str, list[Decimal], list[float]]]:
    """Each parameter's name and draws: decimals (grid points, zero biases) or floats."""
    rng = random.Random(init.seed)
    points = grid(init)
    for name in names(widths, bias=True):
        layer = int(name[1:])
        size = math.prod(shape(name, widths))
        fans, is_bias = (widths[layer - 1], widths[layer]), name[0] == "b"
        if init.scheme == "grid":
            yield name, [points.pick(rng.random()) for _ in range(size)], []
        elif init.scheme in ("xavier", "he") and is_bias:
            yield name, [Decimal(0)] * size, []
        else:
            yield name, [], _floats(rng, init, fans, size)


def _decimals(floats: list[float]) -> list[Decimal]:
    """Each float as the decimal its shortest text spells."""
    return list(map(Decimal, map(repr, floats)))


def _normal(rng: random.Random, std: float) -> float:
    """Box-Muller from two uniforms."""
    u1, u2 = rng.random(), rng.random()
    return std * math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def _floats(rng: random.Random, init: Init, fans: tuple[int, int], size: int) -> list[float]:
    """`size` numbers of one weight (or bias) by a scheme that draws floats: the scheme chosen
    once, the same numbers as drawn one by one in index order."""
    # the uniforms drawn by C-level iteration, each number worked as low + span * u would be
    uniforms = islice(iter(rng.random, None), size)
    if init.scheme == "uniform":
        low = float(init.low)
        span = float(init.high) - low
        return list(map(operator.add, repeat(low), map(operator.mul, repeat(span), uniforms)))
    if init.scheme == "normal":
        std = float(init.std)
        return [_normal(rng, std) for _ in range(size)]
    if init.scheme == "xavier":  # bound * (2u - 1)
        bound = math.sqrt(6.0 / sum(fans))
        twice = map(operator.sub, map(operator.mul, repeat(2.0), uniforms), repeat(1.0))
        return list(map(operator.mul, repeat(bound), twice))
    std = math.sqrt(2.0 / fans[0])
    return [_normal(rng, std) for _ in range(size)]


# Where f * 10^digits lies this far from a tie, the float's error cannot move the decimal its
# shortest text spells across it: below 2^30 that error stays under 2^30 * 2^-51 < 5e-7.
NEAR_TIE = 0.5 - 1e-6
SCALED = 2.0**30
POWERS = [float(10**n) for n in range(23)]  # exact as floats
_BUILD = Context(prec=40)


def round_floats(floats: list[float], rounding: Rounding) -> list[Decimal]:
    """rounding.round_all(Decimal(repr(f)) for f in floats), the same decimals down to the sign
    of zero, without writing each float out in decimals mode: where y = f * 10^digits lies clear
    of a tie, the decimal rounds to the integer nearest y, k, written k * 10^-digits. Ties,
    zeros and numbers out of range go through repr.

    >>> [str(d) for d in round_floats([0.123456, -0.00001, 0.00125, 2.0], Rounding(digits=4))]
    ['0.1235', '-0.0000', '0.0013', '2.0000']
    """
    digits = rounding.digits
    finite = all(map(math.isfinite, floats))
    if rounding.mode != "decimals" or digits >= len(POWERS) or not finite:
        return rounding.round_all(_decimals(floats))
    scaled = list(map(operator.mul, floats, repeat(POWERS[digits])))
    if not scaled or max(scaled) >= SCALED or min(scaled) <= -SCALED:
        return rounding.round_all(_decimals(floats))
    nearest = list(map(round, scaled))
    out = list(map(_Built(-digits).__getitem__, nearest))
    off = list(map(abs, map(operator.sub, scaled, nearest)))
    ties = compress(count(), map(NEAR_TIE.__lt__, off)) if max(off) > NEAR_TIE else ()
    zeros = compress(count(), map(operator.not_, nearest)) if 0 in nearest else ()
    for i in chain(ties, zeros):  # written out: a tie, or a zero that keeps its sign
        out[i] = rounding.round_all([Decimal(repr(floats[i]))])[0]
    return out


class _Built(dict[int, Decimal]):
    """k * 10^exponent by k, each made once."""

    def __init__(self, exponent: int) -> None:
        super().__init__()
        self.exponent = exponent

    def __missing__(self, k: int) -> Decimal:
        value = self[k] = Decimal(k).scaleb(self.exponent, _BUILD)
        return value
