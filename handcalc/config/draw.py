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
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
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


def grid(init: Init) -> list[Decimal]:
    """The multiples of `step` in [low, high]."""
    first = int((init.low / init.step).to_integral_value(ROUND_CEILING))
    last = int((init.high / init.step).to_integral_value(ROUND_FLOOR))
    return [k * init.step for k in range(first, last + 1)]


def draw(widths: tuple[int, ...], init: Init) -> dict[str, list[Decimal]]:
    """Every W and b of the network, unrounded, reproducible from the seed."""
    rng = random.Random(init.seed)
    values = grid(init) if init.scheme == "grid" else []
    out: dict[str, list[Decimal]] = {}
    for name in names(widths, bias=True):
        layer = int(name[1:])
        size = math.prod(shape(name, widths))
        fan_in, fan_out = widths[layer - 1], widths[layer]
        out[name] = [
            _draw_one(rng, init, values, fan_in, fan_out, name[0] == "b") for _ in range(size)
        ]
    return out


def _normal(rng: random.Random, std: float) -> float:
    """Box-Muller from two uniforms."""
    u1, u2 = rng.random(), rng.random()
    return std * math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def _draw_one(
    rng: random.Random, init: Init, values: list[Decimal], fan_in: int, fan_out: int, is_bias: bool
) -> Decimal:
    if init.scheme == "grid":
        return values[int(rng.random() * len(values))]
    if init.scheme in ("xavier", "he") and is_bias:
        return Decimal(0)
    if init.scheme == "uniform":
        low, high = float(init.low), float(init.high)
        value = low + (high - low) * rng.random()
    elif init.scheme == "normal":
        value = _normal(rng, float(init.std))
    elif init.scheme == "xavier":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        value = bound * (2.0 * rng.random() - 1.0)
    else:
        value = _normal(rng, math.sqrt(2.0 / fan_in))
    return Decimal(repr(value))
