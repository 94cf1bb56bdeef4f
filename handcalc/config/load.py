"""Config files, command-line overrides and the embedded default -> a frozen Problem.

Messages read `WHERE: key.path: what is wrong (what is expected)`, WHERE being file:line or a flag.
The sections are checked in reading order, so the first problem a reader meets is the one reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from importlib import resources
from pathlib import Path

from handcalc.config import limits, parameters
from handcalc.config.data import examples
from handcalc.config.document import check_step_keys, document, exam
from handcalc.config.dropout import dropout
from handcalc.config.fields import fail, paragraph, read, section
from handcalc.config.network import network
from handcalc.config.normalize import normalized
from handcalc.config.problem import Problem
from handcalc.config.rules import Rules
from handcalc.config.rules_read import rules
from handcalc.config.source import Node, read_file, read_text, scalar
from handcalc.config.training import calibration, training
from handcalc.errors import ConfigError
from handcalc.rounding import Rounding

__all__ = [
    "DEFAULT_NAME",
    "build",
    "check_step_keys",
    "default_text",
    "load",
    "load_node",
    "normalized",
]

DEFAULT_NAME = "default"


def load(path: Path | None, overrides: Mapping[str, tuple[str, str]] | None = None) -> Problem:
    """Read and validate a config file (the embedded default when path is None).

    `overrides` maps a key path such as "rounding.digits" to (text, flag): command-line values,
    checked like the file's own and reported under the flag's name.
    """
    if path is None:
        return load_node(read_text(default_text(), DEFAULT_NAME), DEFAULT_NAME, overrides)
    return load_node(read_file(path), str(path), overrides)


def load_node(
    root: Node | None, name: str, overrides: Mapping[str, tuple[str, str]] | None = None
) -> Problem:
    """Validate a parsed config (from a file or from Python data)."""
    if root is None:
        raise ConfigError(f"{name}: the config is empty (expected keys network, data, ...)")
    return build(_override(root, overrides or {}), name)


def default_text() -> str:
    """The embedded default config, which is also the starter file `handcalc init` writes."""
    return resources.files("handcalc.config").joinpath("default.yaml").read_text(encoding="utf-8")


def _override(root: Node, overrides: Mapping[str, tuple[str, str]]) -> Node:
    if not overrides:
        return root
    top = dict(section(root, ""))
    for dotted, (value, flag) in overrides.items():
        head, key = dotted.split(".")
        child = top.get(head)
        inner = dict(section(child, head))
        inner[key] = scalar(value, "str", flag)
        top[head] = Node(value=inner, kind="map", where=child.where if child else flag)
    return Node(value=top, kind="map", where=root.where)


def build(root: Node, name: str) -> Problem:
    """Check every section, in reading order, into the Problem; then the size of its run."""
    p = _sections(root, name)
    limits.check_run(p, _size_place(root))
    return p


def _size_place(root: Node) -> str:
    """Where a run's size is set: training.steps when given, else network.widths."""
    top = section(root, "")
    steps = section(top.get("training"), "training").get("steps")
    if steps is not None:
        return f"{steps.where}: training.steps"
    widths = section(top["network"], "network")["widths"]
    return f"{widths.where}: network.widths"


def _sections(root: Node, name: str) -> Problem:
    """Every section, checked in reading order, into the Problem."""
    top = _top(root)
    rounding, own = _rounding(section(top.get("rounding"), "rounding"))
    given_rule = partial(own.given_rule, base=rounding)  # the rule a given number is read by
    net_section = section(top["network"], "network")
    net = network(net_section, top["network"], given_rule("T"))
    data = section(top["data"], "data")
    ex = examples(data, top["data"], net, given_rule("h0"), given_rule("y"))
    init = parameters.init(section(top.get("init"), "init"))
    given = parameters.given(top.get("parameters"), net.widths, net.bias)
    learn = training(section(top.get("training"), "training"))
    title = paragraph(top["title"], "title") if "title" in top else None
    doc = document(section(top.get("document"), "document"))
    variants = exam(section(top.get("exam"), "exam"))
    cal = calibration(top.get("calibration"), net, rounding)
    drop = dropout(net_section.get("dropout"), net.widths, ex.x.shape[0])
    blocks = parameters.blocks(given, init, net.widths, net.bias, given_rule)
    return Problem(
        name=name,
        title=title,
        widths=net.widths,
        activations=net.activations,
        head=net.head,
        loss=net.loss,
        bias=net.bias,
        x=ex.x,
        y=ex.y,
        labels=ex.labels,
        batched=ex.batched,
        reduction=ex.reduction,
        parameters=blocks,
        given_parameters=tuple(k for k in blocks if k in given),
        init=init,
        learning_rate=learn.learning_rate,
        steps=learn.steps,
        rounding=rounding,
        rules=own,
        update_form=learn.update_form,
        document=doc,
        exam=variants,
        optimizer=learn.optimizer,
        batch_size=learn.batch_size,
        residual=net.residual,
        temperature=net.temperature,
        calibration=cal,
        dropout=drop,
    )


def _top(root: Node) -> dict[str, Node]:
    """The top-level mapping, with network and data mappings present."""
    top = section(root, "")
    section(top.get("network"), "network")
    section(top.get("data"), "data")
    if "network" not in top:
        raise fail(root, "network", "missing key", "network: {widths: [...], ...}")
    if "data" not in top:
        raise fail(root, "data", "missing key", "data: {x: [...], y: [...]}")
    return top


def _rounding(sec: dict[str, Node]) -> tuple[Rounding, Rules]:
    """The class's rule, and the rules of its own quantities (which inherit from it)."""
    rounding = Rounding(
        digits=read(sec, "rounding", "digits"),
        mode=read(sec, "rounding", "mode"),
        rule=read(sec, "rounding", "rule"),
        per=read(sec, "rounding", "per"),
    )
    return rounding, rules(sec, rounding)
