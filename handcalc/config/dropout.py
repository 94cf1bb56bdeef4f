"""The network.dropout section: keep probabilities per layer input, given masks, scaling."""

from __future__ import annotations

from decimal import Decimal

from handcalc.config.data import rows
from handcalc.config.fields import fail, number, read, section, vector
from handcalc.config.problem import Block, Dropout, Scaling
from handcalc.config.source import Node


def dropout(node: Node | None, widths: tuple[int, ...], n: int) -> Dropout | None:
    """The dropout record, or None when the section is absent or empty."""
    sec = section(node, "network.dropout")
    if not sec:
        return None
    keep = _keep(sec, node, len(widths) - 1)
    masks = _masks(sec.get("masks"), "masks", widths, n, "one per example")
    mc_masks = _masks(sec.get("mc_masks"), "mc_masks", widths, None, "one per pass")
    scaling: Scaling = read(sec, "network.dropout", "scaling")
    return Dropout(keep=keep, masks=masks, scaling=scaling, mc_masks=mc_masks)


def _keep(sec: dict[str, Node], node: Node | None, layers: int) -> tuple[Decimal, ...]:
    if "keep" not in sec:
        raise fail(
            node,
            "network.dropout.keep",
            "missing key",
            f"{layers} keep probabilities, one per layer input h^(0) ... h^({layers - 1})",
        )
    keep = tuple(vector(sec["keep"], "network.dropout.keep", layers))
    for i, p in enumerate(keep):
        if not 0 < p <= 1:
            raise fail(
                sec["keep"],
                f"network.dropout.keep[{i + 1}]",
                f"{p} is not in (0, 1]",
                "a keep probability above 0, at most 1",
            )
    return keep


def _masks(
    given: Node | None, key: str, widths: tuple[int, ...], n: int | None, each: str
) -> dict[str, Block]:
    """0/1 masks d0, d1, ... as lists of rows; n rows each when n is given."""
    if given is None or given.kind == "null":
        return {}
    if not given.is_map or not isinstance(given.value, dict):
        raise fail(
            given,
            f"network.dropout.{key}",
            "expected a mapping",
            f"d0: [...], d1: [...]: 0/1 lists, {each}",
        )
    layers = len(widths) - 1
    masks: dict[str, Block] = {}
    for name, child in given.value.items():
        path = f"network.dropout.{key}.{name}"
        if name not in {f"d{i}" for i in range(layers)}:
            raise fail(child, path, "unknown mask", f"one of d0 ... d{layers - 1}")
        masks[name] = _mask(child, path, widths[int(name[1:])], n, each)
    return masks


def _mask(child: Node, path: str, width: int, n: int | None, each: str) -> Block:
    found, _ = rows(child, path, width, "mask")
    if n is not None and len(found) != n:
        raise fail(child, path, f"has {len(found)} masks", f"{n}, {each}")
    bits = [number(v, path) for row in found for v in row]
    if any(b not in (0, 1) for b in bits):
        raise fail(child, path, "has an entry that is not 0 or 1", "0 (dropped) or 1")
    return Block(shape=(len(found), width), data=tuple(Decimal(int(b)) for b in bits))
