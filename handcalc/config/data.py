"""The data section (and the calibration set, written the same way): inputs, targets, labels."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handcalc.config.fields import fail, integer, number, plural, read, sequence
from handcalc.config.limits import MAX_BATCH
from handcalc.config.network import Network
from handcalc.config.problem import Block
from handcalc.config.source import Node
from handcalc.rounding import Rounding


@dataclass(frozen=True, slots=True)
class Examples:
    """The data section, checked: the Problem's fields of the same names."""

    x: Block  # N x d_0
    y: Block  # N x d_L
    labels: tuple[int, ...] | None
    batched: bool
    reduction: str


def examples(
    data: dict[str, Node], where: Node, net: Network, rounding: Rounding, targets_by: Rounding
) -> Examples:
    """Check x, then y or label against x's shape and the loss, then the reduction; x is read
    by `rounding`, y by `targets_by` (the same rule unless overridden)."""
    x, batched = inputs(data, where, net.widths[0], rounding)
    n, dl = x.shape[0], net.widths[-1]
    y, labels = targets(data, where, (n, dl), batched, net.loss, targets_by)
    reduction: str = read(data, "data", "reduction")
    return Examples(x=x, y=y, labels=labels, batched=batched, reduction=reduction)


def rows(node: Node, path: str, width: int, what: str) -> tuple[list[list[Node]], bool]:
    """One example (a list of numbers) or a batch (a list of such lists); checks raggedness."""
    items = sequence(node, path, f"{what}: {width} numbers, or a list of such lists")
    if not items:
        raise fail(node, path, "is empty", f"{width} numbers, or a list of such lists")
    batched = items[0].is_seq
    found = (
        [
            sequence(item, f"{path}[{i + 1}]", f"a list of {width} numbers")
            for i, item in enumerate(items)
        ]
        if batched
        else [items]
    )
    if len(found) > MAX_BATCH:
        raise fail(node, path, f"{len(found)} examples is too many", f"at most {MAX_BATCH}")
    for i, row in enumerate(found):
        if len(row) != width:
            where = f"{path}[{i + 1}]" if batched else path
            raise fail(
                items[i] if batched else node,
                where,
                f"has {plural(len(row), 'number')}",
                f"{width}, one per {what} coordinate",
            )
    return found, batched


def inputs(
    data: dict[str, Node], where: Node, d0: int, rounding: Rounding, prefix: str = "data"
) -> tuple[Block, bool]:
    """x as a block of N rows, and whether it was written as a batch."""
    if "x" not in data:
        raise fail(
            where, f"{prefix}.x", "missing key", f"{d0} input numbers, or a list of such lists"
        )
    found, batched = rows(data["x"], f"{prefix}.x", d0, "input")
    r = rounding.rounder()
    values = [
        r(number(v, _entry(f"{prefix}.x", i, j, batched)))
        for i, row in enumerate(found)
        for j, v in enumerate(row)
    ]
    return Block(shape=(len(found), d0), data=tuple(values)), batched


def _entry(path: str, i: int, j: int, batched: bool) -> str:
    return f"{path}[{i + 1}][{j + 1}]" if batched else f"{path}[{j + 1}]"


def targets(
    data: dict[str, Node],
    where: Node,
    shape: tuple[int, int],
    batched: bool,
    loss: str,
    rounding: Rounding,
    prefix: str = "data",
) -> tuple[Block, tuple[int, ...] | None]:
    """y (N x d_L) from y itself or from class labels (one-hot), and the labels if given."""
    n, dl = shape
    if ("y" in data) == ("label" in data):
        what = "both y and label given" if "y" in data else "missing key"
        raise fail(
            data.get("label") or where,
            f"{prefix}.y",
            what,
            f"either y: {dl} target numbers, or label: a class number 1..{dl}",
        )
    if "label" in data:
        labels = _labels(data["label"], n, batched, dl, prefix)
        one_hot = [Decimal(1) if j + 1 == c else Decimal(0) for c in labels for j in range(dl)]
        return Block(shape=(n, dl), data=tuple(map(rounding.rounder(), one_hot))), labels
    return _targets(data["y"], shape, batched, loss, rounding, prefix), None


def _targets(
    node: Node, shape: tuple[int, int], batched: bool, loss: str, rounding: Rounding, prefix: str
) -> Block:
    n, dl = shape
    if dl == 1:
        node = _one_output(node, batched)
    found, y_batched = rows(node, f"{prefix}.y", dl, "target")
    if y_batched != batched or len(found) != n:
        expected = f"{n} lists of {dl} numbers, as x is a batch" if batched else f"{dl} numbers"
        raise fail(node, f"{prefix}.y", "does not match the shape of x", expected)
    values = [
        [number(v, _entry(f"{prefix}.y", i, j, batched)) for j, v in enumerate(row)]
        for i, row in enumerate(found)
    ]
    _check_targets(node, values, batched, loss, prefix)
    r = rounding.rounder()
    return Block(shape=(n, dl), data=tuple(r(v) for row in values for v in row))


def _one_output(node: Node, batched: bool) -> Node:
    """Targets of a single output written bare: `y: 1`, or one number per example of a batch."""
    if not node.is_seq and not node.is_map and node.kind != "null":
        return Node(value=[node], kind="seq", where=node.where)
    items = node.value
    if batched and isinstance(items, list) and not any(i.is_seq or i.is_map for i in items):
        return Node(
            value=[Node(value=[i], kind="seq", where=i.where) for i in items],
            kind="seq",
            where=node.where,
        )
    return node


def _labels(node: Node, n: int, batched: bool, dl: int, prefix: str) -> tuple[int, ...]:
    if not batched:
        return (integer(node, f"{prefix}.label", 1, dl),)
    items = sequence(node, f"{prefix}.label", f"a list of {n} class numbers, one per example")
    if len(items) != n:
        raise fail(node, f"{prefix}.label", f"has {len(items)} labels", f"{n}, one per example")
    return tuple(integer(item, f"{prefix}.label[{i + 1}]", 1, dl) for i, item in enumerate(items))


def _check_targets(
    node: Node, values: list[list[Decimal]], batched: bool, loss: str, prefix: str
) -> None:
    if loss not in ("cross_entropy", "binary_cross_entropy"):
        return
    for i, row in enumerate(values):
        path = f"{prefix}.y[{i + 1}]" if batched else f"{prefix}.y"
        if any(not 0 <= v <= 1 for v in row):
            raise fail(node, path, "has a target outside [0, 1]", f"{loss} needs probabilities")
        if loss == "cross_entropy" and sum(row) != 1:
            raise fail(
                node,
                path,
                f"sums to {sum(row)}",
                "cross_entropy needs a one-hot or probability vector summing to 1",
            )


def is_batch(node: Node) -> bool:
    """Whether a list is written as a list of lists."""
    return bool(
        node.is_seq and isinstance(node.value, list) and node.value and node.value[0].is_seq
    )
