"""The network section: widths, activations, head and loss, bias, residual layers, temperature."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handcalc.config.fields import choice, fail, integer, read, sequence
from handcalc.config.limits import MAX_LAYERS, MAX_PARAMETERS
from handcalc.config.source import Node
from handcalc.model.functions import ACTIVATIONS, LOSSES, LossName, valid_pair
from handcalc.model.heads import HeadName
from handcalc.rounding import Rounding


@dataclass(frozen=True, slots=True)
class Network:
    """The network section, checked: the Problem's fields of the same names."""

    widths: tuple[int, ...]
    activations: tuple[str, ...]
    head: HeadName
    loss: LossName
    bias: bool
    residual: tuple[int, ...]
    temperature: Decimal | None


def network(net: dict[str, Node], where: Node, rounding: Rounding) -> Network:
    """Check the network section's keys in the order the section lists them."""
    widths = _widths(net, where)
    head, loss = _head_loss(net, widths[-1])
    activations = _activations(net, len(widths) - 2)
    bias: bool = read(net, "network", "bias")
    residual = _residual(net.get("residual"), widths)
    temperature: Decimal | None = read(net, "network", "temperature")
    return Network(
        widths=widths,
        activations=activations,
        head=head,
        loss=loss,
        bias=bias,
        residual=residual,
        temperature=None if temperature is None else rounding.rounder()(temperature),
    )


def _widths(net: dict[str, Node], where: Node) -> tuple[int, ...]:
    if "widths" not in net:
        raise fail(
            where, "network.widths", "missing key", "a list such as [5, 3, 4, 3]: d_0 ... d_L"
        )
    node = net["widths"]
    items = sequence(node, "network.widths", "a list of layer widths d_0 ... d_L")
    if not 2 <= len(items) <= MAX_LAYERS + 1:
        raise fail(
            node,
            "network.widths",
            f"has {len(items):,} widths",
            f"2 to {MAX_LAYERS + 1}: d_0 and d_L, at most {MAX_LAYERS} layers",
        )
    widths = tuple(
        integer(item, f"network.widths[{i + 1}]", 1, MAX_PARAMETERS) for i, item in enumerate(items)
    )
    _check_size(node, widths)
    return widths


def _check_size(node: Node, widths: tuple[int, ...]) -> None:
    count = sum(widths[i] * widths[i - 1] + widths[i] for i in range(1, len(widths)))
    if count > MAX_PARAMETERS:
        raise fail(
            node,
            "network.widths",
            f"{count:,} parameters is too many",
            f"at most {MAX_PARAMETERS:,}",
        )


def _residual(node: Node | None, widths: tuple[int, ...]) -> tuple[int, ...]:
    if node is None or node.kind == "null":
        return ()
    items = sequence(node, "network.residual", "a list of hidden layer numbers")
    layers = [
        _residual_layer(item, f"network.residual[{i + 1}]", widths) for i, item in enumerate(items)
    ]
    return tuple(sorted(set(layers)))


def _residual_layer(item: Node, path: str, widths: tuple[int, ...]) -> int:
    hidden = len(widths) - 2
    layer = integer(item, path, 1, max(hidden, 1)) if hidden else None
    if layer is None:
        raise fail(item, path, "the network has no hidden layer", "no residual layers")
    if widths[layer] != widths[layer - 1]:
        raise fail(
            item,
            path,
            f"layer {layer} maps d_{layer - 1} = {widths[layer - 1]} to "
            f"d_{layer} = {widths[layer]}",
            "equal widths, so that h^(l) = σ(z^(l)) + h^(l-1) adds up",
        )
    return layer


def _head_loss(net: dict[str, Node], outputs: int) -> tuple[HeadName, LossName]:
    """The head as given, else the loss's own (softmax for cross_entropy, sigmoid for
    binary_cross_entropy, identity for the others); softmax needs two outputs or more."""
    given: HeadName | None = read(net, "network", "head")
    loss: LossName = read(net, "network", "loss")
    head: HeadName = given or LOSSES[loss].fused or "identity"
    if not valid_pair(head, loss):
        raise fail(
            net.get("loss") or net.get("head"),
            "network.loss",
            f"{loss} does not go with head {head}",
            "softmax + cross_entropy, sigmoid + binary_cross_entropy, "
            "or mse, sse, half_sse with any head",
        )
    if head == "softmax" and outputs == 1:
        raise fail(
            net.get("head") or net.get("loss") or net.get("widths"),
            "network.head",
            "softmax over a single output is always 1",
            "for one output: binary_cross_entropy, or a loss with head identity or sigmoid",
        )
    return head, loss


def _activations(net: dict[str, Node], hidden: int) -> tuple[str, ...]:
    node = net.get("activation")
    if node is None:
        return ("relu",) * hidden
    names = tuple(ACTIVATIONS)
    if not node.is_seq:
        return (choice(node, "network.activation", names),) * hidden
    items = sequence(node, "network.activation", "a name or a list of names")
    if len(items) != hidden:
        raise fail(
            node, "network.activation", f"has {len(items)} names", f"one per hidden layer: {hidden}"
        )
    return tuple(
        choice(item, f"network.activation[{i + 1}]", names) for i, item in enumerate(items)
    )
