"""The init and parameters sections: how W and b are drawn, which are given, their values."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from decimal import Decimal

from handcalc.config import draw
from handcalc.config.fields import describe, fail, matrix, read, vector
from handcalc.config.problem import Block
from handcalc.config.source import Node
from handcalc.errors import ConfigError
from handcalc.rounding import Rounding

INIT_KEYS = ("seed", "scheme", "low", "high", "step", "std")


def init(sec: dict[str, Node]) -> draw.Init:
    """The init section, with a range that is not empty (and holds a grid point for grid)."""
    found = draw.Init(**{k: read(sec, "init", k) for k in INIT_KEYS})
    if found.low >= found.high:
        raise fail(
            sec.get("high") or sec.get("low"),
            "init.high",
            f"{found.high} is not above low {found.low}",
            "low < high",
        )
    if found.scheme == "grid" and not draw.grid(found).count:
        raise fail(
            sec.get("step"),
            "init.step",
            f"no multiple of {found.step} lies in [{found.low}, {found.high}]",
            "a smaller step or a wider range",
        )
    return found


def given(node: Node | None, widths: tuple[int, ...], bias: bool) -> dict[str, list[Decimal]]:
    """The parameters written in the config, each checked against its name and shape."""
    if node is None or node.kind == "null":
        return {}
    if not node.is_map or not isinstance(node.value, dict):
        raise fail(node, "parameters", f"expected a mapping, got {describe(node)}")
    known = draw.names(widths, bias)
    out: dict[str, list[Decimal]] = {}
    for key, child in node.value.items():
        path = f"parameters.{key}"
        if key not in known:
            bias_off = not bias and key in draw.names(widths, True)
            raise _unknown(child, path, key, known, bias_off)
        shape = draw.shape(key, widths)
        out[key] = matrix(child, path, *shape) if len(shape) == 2 else vector(child, path, shape[0])
    return out


def _unknown(child: Node, path: str, key: str, known: list[str], bias_off: bool) -> ConfigError:
    if bias_off:
        return fail(child, path, "given, but network.bias is false", "no bias vectors")
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return fail(child, path, "unknown parameter", f"{hint}one of {', '.join(known)}")


def blocks(
    given: dict[str, list[Decimal]],
    init: draw.Init,
    widths: tuple[int, ...],
    bias: bool,
    rounding: Callable[[str], Rounding],
) -> dict[str, Block]:
    """Every parameter the network uses, given or drawn, rounded by its own rule (`rounding`
    of its name), in the order W1, b1, W2, ..."""
    # every parameter is drawn (the draws stay the same whatever is given), but only those
    # used are made decimals
    drawn = draw.draw_rounded(
        widths, init, rounding, lambda k: k not in given and (bias or k.startswith("W"))
    )
    chosen = {**drawn, **{k: rounding(k).round_all(v) for k, v in given.items()}}
    return {
        k: Block(shape=draw.shape(k, widths), data=tuple(v))
        for k, v in sorted(chosen.items(), key=lambda kv: draw.order(kv[0]))
    }
