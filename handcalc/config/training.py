"""The training section (rate, steps, optimizer, mini-batches) and the calibration schedule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handcalc.config.data import inputs, is_batch, targets
from handcalc.config.fields import read, section
from handcalc.config.network import Network
from handcalc.config.problem import Calibration
from handcalc.config.source import Node
from handcalc.model.optimizers import Optimizer
from handcalc.rounding import Rounding


@dataclass(frozen=True, slots=True)
class Training:
    """The training section, checked: the Problem's fields of the same names."""

    learning_rate: Decimal
    steps: int
    optimizer: Optimizer
    batch_size: int | None  # None: the whole batch every iteration
    update_form: str = "direct"  # delta: the change Δθ written as its own step


def training(sec: dict[str, Node]) -> Training:
    """Rate and steps, the optimizer and its constants, the mini-batch size, in that order."""
    learning_rate: Decimal = read(sec, "training", "learning_rate")
    steps: int = read(sec, "training", "steps")
    optimizer = Optimizer(
        name=read(sec, "training", "optimizer"),
        momentum=read(sec, "training", "momentum"),
        beta1=read(sec, "training", "beta1"),
        beta2=read(sec, "training", "beta2"),
        epsilon=read(sec, "training", "epsilon"),
        weight_decay=read(sec, "training", "weight_decay"),
    )
    batch_size: int | None = read(sec, "training", "batch_size")
    return Training(
        learning_rate=learning_rate,
        steps=steps,
        optimizer=optimizer,
        batch_size=batch_size,
        update_form=read(sec, "training", "update_form"),
    )


def calibration(node: Node | None, net: Network, rounding: Rounding) -> Calibration | None:
    """The labelled set and schedule for `handcalc calibrate`; None when the section is absent."""
    sec = section(node, "calibration")
    if not sec:
        return None
    assert node is not None
    x, _ = inputs(sec, node, net.widths[0], rounding, "calibration")
    shape = (x.shape[0], net.widths[-1])
    y, labels = targets(sec, node, shape, is_batch(sec["x"]), net.loss, rounding, "calibration")
    temperature: Decimal = read(sec, "calibration", "temperature")
    learning_rate: Decimal = read(sec, "calibration", "learning_rate")
    steps: int = read(sec, "calibration", "steps")
    return Calibration(
        x=x,
        y=y,
        labels=labels,
        temperature=rounding.rounder()(temperature),
        learning_rate=learning_rate,
        steps=steps,
    )
