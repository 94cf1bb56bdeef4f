"""Config nodes -> a frozen Problem: every check and its message lives here.

Messages read `WHERE: key.path: what is wrong (what is expected)`, WHERE being file:line or a flag.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from handcalc.config import draw as params
from handcalc.config.fields import (
    MAX_BATCH,
    MAX_PARAMETERS,
    PHASE_NAMES,
    choice,
    describe,
    fail,
    integer,
    matrix,
    number,
    plural,
    read,
    section,
    sequence,
    text,
    vector,
)
from handcalc.config.problem import Block, Calibration, Document, Dropout, Exam, Problem
from handcalc.config.source import Node, read_file, read_text, scalar
from handcalc.errors import ConfigError
from handcalc.model.functions import ACTIVATIONS, valid_pair
from handcalc.model.optimizers import Optimizer
from handcalc.numbers import Rounding

DEFAULT_NAME = "default"


# ---------------------------------------------------------------- the config


def load(path: Path | None, overrides: Mapping[str, tuple[str, str]] | None = None) -> Problem:
    """Read and validate a config file (the embedded default when path is None).

    `overrides` maps a key path such as "rounding.digits" to (text, flag): command-line values,
    checked like the file's own and reported under the flag's name.
    """
    if path is None:
        root = read_text(default_text(), DEFAULT_NAME)
        name = DEFAULT_NAME
    else:
        root = read_file(path)
        name = str(path)
    return load_node(root, name, overrides)


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
        top[head] = Node(inner, "map", child.where if child else flag)
    return Node(top, "map", root.where)


def build(root: Node, name: str) -> Problem:
    top = section(root, "")
    net = section(top.get("network"), "network")
    data = section(top.get("data"), "data")
    if "network" not in top:
        raise fail(root, "network", "missing key", "network: {widths: [...], ...}")
    if "data" not in top:
        raise fail(root, "data", "missing key", "data: {x: [...], y: [...]}")
    rounding = _rounding(section(top.get("rounding"), "rounding"))
    widths = _widths(net, top["network"])
    head, loss = _head_loss(net)
    activations = _activations(net, len(widths) - 2)
    bias: bool = read(net, "network", "bias")
    residual = _residual(net.get("residual"), widths)
    temperature: Decimal | None = read(net, "network", "temperature")
    x, batched = _inputs(data, top["data"], widths[0], rounding)
    y, labels = _targets(data, top["data"], x.shape[0], batched, widths[-1], head, loss, rounding)
    reduction: str = read(data, "data", "reduction")
    init = _init(section(top.get("init"), "init"))
    given = _given_parameters(top.get("parameters"), widths, bias)
    drawn = params.draw(widths, init)
    chosen = {**{k: v for k, v in drawn.items() if bias or k.startswith("W")}, **given}
    r = rounding.rounder()
    parameters = {
        k: Block(params.shape(k, widths), tuple(map(r, v)))
        for k, v in sorted(chosen.items(), key=lambda kv: params.order(kv[0]))
    }
    training = section(top.get("training"), "training")
    learning_rate: Decimal = read(training, "training", "learning_rate")
    steps: int = read(training, "training", "steps")
    optimizer = Optimizer(
        *(
            read(training, "training", k)
            for k in ("optimizer", "momentum", "beta1", "beta2", "epsilon", "weight_decay")
        )
    )
    batch_size: int | None = read(training, "training", "batch_size")
    title = text(top["title"], "title") if "title" in top else None
    document = _document(section(top.get("document"), "document"))
    exam = _exam(section(top.get("exam"), "exam"))
    calibration = _calibration(top.get("calibration"), widths, head, loss, rounding)
    dropout = _dropout(net.get("dropout"), widths, x.shape[0], residual)
    return Problem(
        name,
        title,
        widths,
        activations,
        head,
        loss,
        bias,
        x,
        y,
        labels,
        batched,
        reduction,
        parameters,
        tuple(k for k in parameters if k in given),
        init,
        learning_rate,
        steps,
        rounding,
        document,
        exam,
        optimizer,
        batch_size,
        residual,
        None if temperature is None else rounding.rounder()(temperature),
        calibration,
        dropout,
    )


def _rounding(sec: dict[str, Node]) -> Rounding:
    return Rounding(*(read(sec, "rounding", k) for k in ("digits", "mode", "rule", "per")))


def _widths(net: dict[str, Node], where: Node) -> tuple[int, ...]:
    if "widths" not in net:
        raise fail(
            where, "network.widths", "missing key", "a list such as [5, 3, 4, 3]: d_0 ... d_L"
        )
    node = net["widths"]
    items = sequence(node, "network.widths", "a list of layer widths d_0 ... d_L")
    if len(items) < 2:
        raise fail(node, "network.widths", f"has {len(items)} widths", "at least 2: d_0 and d_L")
    widths = tuple(
        integer(item, f"network.widths[{i + 1}]", 1, MAX_PARAMETERS) for i, item in enumerate(items)
    )
    count = sum(widths[i] * widths[i - 1] + widths[i] for i in range(1, len(widths)))
    if count > MAX_PARAMETERS:
        raise fail(
            node,
            "network.widths",
            f"{count:,} parameters is too many",
            f"at most {MAX_PARAMETERS:,}",
        )
    return widths


def _residual(node: Node | None, widths: tuple[int, ...]) -> tuple[int, ...]:
    if node is None or node.kind == "null":
        return ()
    hidden = len(widths) - 2
    items = sequence(node, "network.residual", "a list of hidden layer numbers")
    layers = []
    for i, item in enumerate(items):
        path = f"network.residual[{i + 1}]"
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
        layers.append(layer)
    return tuple(sorted(set(layers)))


def _head_loss(net: dict[str, Node]) -> tuple[str, str]:
    head: str = read(net, "network", "head")
    loss: str = read(net, "network", "loss")
    if not valid_pair(head, loss):
        node = net.get("loss") or net.get("head")
        raise fail(
            node,
            "network.loss",
            f"{loss} does not go with head {head}",
            "softmax + cross_entropy, sigmoid + binary_cross_entropy, "
            "or mse, sse, half_sse with any head",
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


def _rows(node: Node, path: str, width: int, what: str) -> tuple[list[list[Node]], bool]:
    """One example (a list of numbers) or a batch (a list of such lists); checks raggedness."""
    items = sequence(node, path, f"{what}: {width} numbers, or a list of such lists")
    if not items:
        raise fail(node, path, "is empty", f"{width} numbers, or a list of such lists")
    batched = items[0].is_seq
    rows = (
        [
            sequence(item, f"{path}[{i + 1}]", f"a list of {width} numbers")
            for i, item in enumerate(items)
        ]
        if batched
        else [items]
    )
    if len(rows) > MAX_BATCH:
        raise fail(node, path, f"{len(rows)} examples is too many", f"at most {MAX_BATCH}")
    for i, row in enumerate(rows):
        if len(row) != width:
            where = f"{path}[{i + 1}]" if batched else path
            raise fail(
                items[i] if batched else node,
                where,
                f"has {plural(len(row), 'number')}",
                f"{width}, one per {what} coordinate",
            )
    return rows, batched


def _inputs(
    data: dict[str, Node], where: Node, d0: int, rounding: Rounding, prefix: str = "data"
) -> tuple[Block, bool]:
    if "x" not in data:
        raise fail(
            where, f"{prefix}.x", "missing key", f"{d0} input numbers, or a list of such lists"
        )
    rows, batched = _rows(data["x"], f"{prefix}.x", d0, "input")
    r = rounding.rounder()
    values = [
        r(number(v, _entry(f"{prefix}.x", i, j, batched)))
        for i, row in enumerate(rows)
        for j, v in enumerate(row)
    ]
    return Block((len(rows), d0), tuple(values)), batched


def _entry(path: str, i: int, j: int, batched: bool) -> str:
    return f"{path}[{i + 1}][{j + 1}]" if batched else f"{path}[{j + 1}]"


def _targets(
    data: dict[str, Node],
    where: Node,
    n: int,
    batched: bool,
    dl: int,
    head: str,
    loss: str,
    rounding: Rounding,
    prefix: str = "data",
) -> tuple[Block, tuple[int, ...] | None]:
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
        return Block((n, dl), tuple(rounding.rounder()(v) for v in one_hot)), labels
    node = data["y"]
    rows, y_batched = _rows(node, f"{prefix}.y", dl, "target")
    if y_batched != batched or len(rows) != n:
        shape = f"{n} lists of {dl} numbers, as x is a batch" if batched else f"{dl} numbers"
        raise fail(node, f"{prefix}.y", "does not match the shape of x", shape)
    values = [
        [number(v, _entry(f"{prefix}.y", i, j, batched)) for j, v in enumerate(row)]
        for i, row in enumerate(rows)
    ]
    _check_targets(node, values, batched, loss, prefix)
    r = rounding.rounder()
    return Block((n, dl), tuple(r(v) for row in values for v in row)), None


def _labels(node: Node, n: int, batched: bool, dl: int, prefix: str = "data") -> tuple[int, ...]:
    if not batched:
        return (integer(node, f"{prefix}.label", 1, dl),)
    items = sequence(node, f"{prefix}.label", f"a list of {n} class numbers, one per example")
    if len(items) != n:
        raise fail(node, f"{prefix}.label", f"has {len(items)} labels", f"{n}, one per example")
    return tuple(integer(item, f"{prefix}.label[{i + 1}]", 1, dl) for i, item in enumerate(items))


def _check_targets(
    node: Node, rows: list[list[Decimal]], batched: bool, loss: str, prefix: str = "data"
) -> None:
    if loss not in ("cross_entropy", "binary_cross_entropy"):
        return
    for i, row in enumerate(rows):
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


def _init(sec: dict[str, Node]) -> params.Init:
    init = params.Init(
        *(read(sec, "init", k) for k in ("seed", "scheme", "low", "high", "step", "std"))
    )
    if init.low >= init.high:
        raise fail(
            sec.get("high") or sec.get("low"),
            "init.high",
            f"{init.high} is not above low {init.low}",
            "low < high",
        )
    if init.scheme == "grid" and not params.grid(init):
        raise fail(
            sec.get("step"),
            "init.step",
            f"no multiple of {init.step} lies in [{init.low}, {init.high}]",
            "a smaller step or a wider range",
        )
    return init


def _given_parameters(
    node: Node | None, widths: tuple[int, ...], bias: bool
) -> dict[str, list[Decimal]]:
    if node is None or node.kind == "null":
        return {}
    if not node.is_map or not isinstance(node.value, dict):
        raise fail(node, "parameters", f"expected a mapping, got {describe(node)}")
    known = params.names(widths, bias)
    out: dict[str, list[Decimal]] = {}
    for key, child in node.value.items():
        path = f"parameters.{key}"
        if key not in known:
            if not bias and key in params.names(widths, True):
                raise fail(child, path, "given, but network.bias is false", "no bias vectors")
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise fail(child, path, "unknown parameter", f"{hint}one of {', '.join(known)}")
        shape = params.shape(key, widths)
        out[key] = matrix(child, path, *shape) if len(shape) == 2 else vector(child, path, shape[0])
    return out


def _document(sec: dict[str, Node]) -> Document:
    texts = {k: read(sec, "document", k) for k in ("course", "date", "instructions")}
    points: dict[str, Decimal] = {}
    node = sec.get("points")
    if node is not None and node.kind != "null":
        if not node.is_map or not isinstance(node.value, dict):
            raise fail(
                node,
                "document.points",
                f"expected a mapping, got {describe(node)}",
                "step ids or phases to points, e.g. {dW1: 2, forward: 1}",
            )
        for key, child in node.value.items():
            value = number(child, f"document.points.{key}")
            if value < 0:
                raise fail(child, f"document.points.{key}", f"{value} is negative", "0 or more")
            points[key] = value
    expand: tuple[str, ...] = ()
    if "expand" in sec:
        items = sequence(sec["expand"], "document.expand", 'entries such as "dW2[1,3]"')
        expand = tuple(str(text(item, f"document.expand[{i + 1}]")) for i, item in enumerate(items))
    return Document(
        texts.get("course"), texts.get("date"), texts.get("instructions"), points, expand
    )


def _calibration(
    node: Node | None, widths: tuple[int, ...], head: str, loss: str, rounding: Rounding
) -> Calibration | None:
    sec = section(node, "calibration")
    if not sec:
        return None
    assert node is not None
    x, _ = _inputs(sec, node, widths[0], rounding, "calibration")
    y, labels = _targets(
        sec, node, x.shape[0], _is_batch(sec["x"]), widths[-1], head, loss, rounding, "calibration"
    )
    r = rounding.rounder()
    return Calibration(
        x,
        y,
        labels,
        r(read(sec, "calibration", "temperature")),
        read(sec, "calibration", "learning_rate"),
        read(sec, "calibration", "steps"),
    )


def _dropout(
    node: Node | None, widths: tuple[int, ...], n: int, residual: tuple[int, ...]
) -> Dropout | None:
    sec = section(node, "network.dropout")
    if not sec:
        return None
    layers = len(widths) - 1
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
    if residual and any(p < 1 for p in keep):
        raise fail(
            node,
            "network.dropout",
            "dropout and residual layers together",
            "not supported yet: one or the other",
        )
    masks = _masks(sec.get("masks"), "masks", widths, n, "one per example")
    mc_masks = _masks(sec.get("mc_masks"), "mc_masks", widths, None, "one per pass")
    return Dropout(keep, masks, read(sec, "network.dropout", "scaling"), mc_masks)


def _masks(
    given: Node | None, key: str, widths: tuple[int, ...], n: int | None, each: str
) -> dict[str, Block]:
    """0/1 masks d0, d1, ... as lists of rows; n rows each when n is given."""
    layers = len(widths) - 1
    masks: dict[str, Block] = {}
    if given is None or given.kind == "null":
        return masks
    if not given.is_map or not isinstance(given.value, dict):
        raise fail(
            given,
            f"network.dropout.{key}",
            "expected a mapping",
            f"d0: [...], d1: [...]: 0/1 lists, {each}",
        )
    for name, child in given.value.items():
        path = f"network.dropout.{key}.{name}"
        if name not in {f"d{i}" for i in range(layers)}:
            raise fail(child, path, "unknown mask", f"one of d0 ... d{layers - 1}")
        width = widths[int(name[1:])]
        rows, _ = _rows(child, path, width, "mask")
        if n is not None and len(rows) != n:
            raise fail(child, path, f"has {len(rows)} masks", f"{n}, {each}")
        bits = [number(v, path) for row in rows for v in row]
        if any(b not in (0, 1) for b in bits):
            raise fail(child, path, "has an entry that is not 0 or 1", "0 (dropped) or 1")
        masks[name] = Block((len(rows), width), tuple(Decimal(int(b)) for b in bits))
    return masks


def _is_batch(node: Node) -> bool:
    return bool(
        node.is_seq and isinstance(node.value, list) and node.value and node.value[0].is_seq
    )


def _exam(sec: dict[str, Node]) -> Exam:
    require = section(sec.get("require"), "exam.require")
    values = {
        k: read(require, "exam.require", k)
        for k in ("relu_mixed", "max_abs", "min_abs_nonzero", "no_ties", "no_saturation")
    }
    for k in ("max_abs", "min_abs_nonzero"):
        if values[k] is not None and values[k] < 0:
            raise fail(require[k], f"exam.require.{k}", f"{values[k]} is negative", "0 or more")
    return Exam(
        read(sec, "exam", "input"),
        read(sec, "exam", "label"),
        read(sec, "exam", "max_tries"),
        **values,
    )


def check_step_keys(p: Problem, ids: Sequence[str]) -> None:
    """Point keys must name a step of the cycle or a phase."""
    for key in p.points:
        if key not in ids and key not in PHASE_NAMES:
            close = difflib.get_close_matches(key, [*ids, *PHASE_NAMES], n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ConfigError(
                f"{p.name}: document.points.{key}: unknown step or phase "
                f"({hint}a step id such as dW1, or forward, loss, backward, update)"
            )


# ---------------------------------------------------------------- normalized form


def _dropout_data(d: Dropout) -> dict[str, Any]:
    def rows(m: Block) -> list[list[int]]:
        width = m.shape[1]
        return [[int(v) for v in m.data[i * width : (i + 1) * width]] for i in range(m.shape[0])]

    return {
        "keep": [str(k) for k in d.keep],
        "masks": {k: rows(m) for k, m in d.masks.items()},
        "mc_masks": {k: rows(m) for k, m in d.mc_masks.items()},
        "scaling": d.scaling,
    }


def normalized(p: Problem) -> dict[str, Any]:
    """The config with every key present, defaults filled in and the realized parameters."""
    t = p.rounding.text

    def rows(b: Block) -> Any:
        width = b.shape[-1]
        nested = [[t(v) for v in b.data[i : i + width]] for i in range(0, len(b.data), width)]
        return nested if len(b.shape) == 2 else nested[0]

    def example(b: Block) -> Any:
        r = rows(b)
        return r if p.batched else r[0]

    data: dict[str, Any] = {"x": example(p.x)}
    if p.labels is None:
        data["y"] = example(p.y)
    else:
        data["label"] = list(p.labels) if p.batched else p.labels[0]
    data["reduction"] = p.reduction
    calibration = None
    if p.calibration is not None:
        c = p.calibration
        calibration = {
            "x": rows(c.x),
            **({"y": rows(c.y)} if c.labels is None else {"label": list(c.labels)}),
            "temperature": t(c.temperature),
            "learning_rate": str(c.learning_rate),
            "steps": c.steps,
        }
    doc = p.document
    document: dict[str, Any] = {
        "course": doc.course,
        "date": doc.date,
        "instructions": doc.instructions,
        "points": {k: str(v) for k, v in doc.points.items()},
        "expand": list(doc.expand),
    }
    return {
        "title": p.title,
        "network": {
            "widths": list(p.widths),
            "activation": list(p.activations),
            "head": p.head,
            "loss": p.loss,
            "bias": p.bias,
            "residual": list(p.residual),
            "temperature": None if p.temperature is None else p.rounding.text(p.temperature),
            "dropout": None if p.dropout is None else _dropout_data(p.dropout),
        },
        "data": data,
        "parameters": {k: rows(v) for k, v in p.parameters.items()},
        "init": p.init.normalized(),
        "training": {
            "learning_rate": str(p.learning_rate),
            "steps": p.steps,
            "batch_size": p.batch_size,
            "optimizer": p.optimizer.name,
            **{
                k: str(getattr(p.optimizer, k))
                for k in ("momentum", "beta1", "beta2", "epsilon", "weight_decay")
            },
        },
        "rounding": {
            "digits": p.rounding.digits,
            "mode": p.rounding.mode,
            "rule": p.rounding.rule,
            "per": p.rounding.per,
        },
        "document": document,
        "calibration": calibration,
        "exam": {
            "input": p.exam.input,
            "label": p.exam.label,
            "max_tries": p.exam.max_tries,
            "require": {
                k: str(v) if isinstance(v, Decimal) else v for k, v in p.exam.required().items()
            },
        },
    }
