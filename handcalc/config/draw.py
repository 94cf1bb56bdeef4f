"""Seeded parameter draws: W1, b1, ..., WL, bL, always drawn in that order from one generator.

Every parameter is drawn even when it is given explicitly or unused, so giving W1 (or turning biases
off) never changes the numbers drawn for the others. Draws use only `random.Random(seed).random()`,
the one output Python promises to keep the same across versions, so a seed means the same numbers
on every machine and every Python.
"""

from __future__ import annotations

import math
import random
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
from typing import Any

from handcalc.numbers import Shape

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
    rng = random.Random(init.seed)
    points = grid(init)
    out: dict[str, list[Decimal]] = {}
    for name in names(widths, bias=True):
        layer = int(name[1:])
        size = math.prod(shape(name, widths))
        fan_in, fan_out = widths[layer - 1], widths[layer]
        out[name] = _draw_many(rng, init, points, (fan_in, fan_out), name[0] == "b", size)
    return out


def _normal(rng: random.Random, std: float) -> float:
    """Box-Muller from two uniforms."""
    u1, u2 = rng.random(), rng.random()
    return std * math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def _draw_many(
    rng: random.Random,
    init: Init,
    points: Grid,
    fans: tuple[int, int],
    is_bias: bool,
    size: int,
) -> list[Decimal]:
    """`size` numbers of one parameter: the scheme chosen once, the same numbers as drawn one by
    one in index order."""
    if init.scheme == "grid":
        return [points.pick(rng.random()) for _ in range(size)]
    if init.scheme in ("xavier", "he") and is_bias:
        return [Decimal(0)] * size
    if init.scheme == "uniform":
        low = float(init.low)
        span = float(init.high) - low
        values = [low + span * rng.random() for _ in range(size)]
    elif init.scheme == "normal":
        std = float(init.std)
        values = [_normal(rng, std) for _ in range(size)]
    elif init.scheme == "xavier":
        bound = math.sqrt(6.0 / sum(fans))
        values = [bound * (2.0 * rng.random() - 1.0) for _ in range(size)]
    else:
        std = math.sqrt(2.0 / fans[0])
        values = [_normal(rng, std) for _ in range(size)]
    return list(map(Decimal, map(repr, values)))
