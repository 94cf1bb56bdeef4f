"""The config's keys as data (kind, default, choices, range, meaning) and the readers of values.

The validator reads every plain key through `read`, and `handcalc schema` turns the same table into
a JSON Schema, so the two cannot drift apart.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from handcalc.config.draw import SCHEMES
from handcalc.config.source import Node
from handcalc.errors import ConfigError
from handcalc.model.functions import ACTIVATIONS, LOSSES
from handcalc.model.heads import HEADS
from handcalc.model.optimizers import OPTIMIZERS
from handcalc.numbers import MAX_DIGITS, MODES, PERS, RULES

MAX_PARAMETERS = 250_000
MAX_STEPS = 100
MAX_BATCH = 1_000
REDUCTIONS = ("mean", "sum")
PHASE_NAMES = ("forward", "loss", "backward", "update", "test")


@dataclass(frozen=True, slots=True)
class Key:
    """One config key: its kind, default, allowed values and meaning.

    Kinds: section, text, bool, int, number, choice, and the shape-dependent ones that the
    validator reads itself (widths, activation, examples, labels, parameters, points, entries).
    """

    kind: str
    doc: str
    default: Any = None
    choices: tuple[str, ...] = ()
    low: int | Decimal | None = None
    high: int | Decimal | None = None
    above: bool = False  # low itself is not allowed
    required: bool = False


D = Decimal
SPEC: dict[str, dict[str, Key]] = {
    "": {
        "title": Key("text", "Printed above the tables and on documents."),
        "network": Key("section", "The network: widths, activations, head, loss.", required=True),
        "data": Key("section", "One example or a batch, with targets or labels.", required=True),
        "parameters": Key("parameters", "Any of W1, b1, ..., WL, bL, given explicitly."),
        "init": Key("section", "How parameters that are not given are drawn."),
        "training": Key("section", "Learning rate and number of update cycles."),
        "rounding": Key("section", "The class's rule for writing numbers down."),
        "document": Key("section", "Texts, points and worked entries for documents and grading."),
        "exam": Key("section", "How exam variants differ and what each must satisfy."),
        "calibration": Key("section", "A labelled set for `handcalc calibrate` (section 7)."),
    },
    "network": {
        "widths": Key(
            "widths",
            "d_0 (input), hidden widths, d_L (output).",
            required=True,
            low=1,
            high=MAX_PARAMETERS,
        ),
        "activation": Key(
            "activation",
            "Hidden-layer activation: one name, or one per layer.",
            "relu",
            tuple(ACTIVATIONS),
        ),
        "head": Key("choice", "Applied to the logits z^(L).", "softmax", tuple(HEADS)),
        "loss": Key("choice", "The loss of (ŷ, y).", "cross_entropy", tuple(LOSSES)),
        "bias": Key("bool", "false: no bias vectors at all.", True),
        "residual": Key("layers", "Hidden layers l with h^(l) = σ(z^(l)) + h^(l-1)."),
        "temperature": Key(
            "number", "T: the head is applied to z^(L) / T (section 7).", low=0, above=True
        ),
        "dropout": Key("section", "Dropout on the layer inputs h^(0) ... h^(L-1) (section 11)."),
    },
    "data": {
        "x": Key(
            "examples",
            "One example (d_0 numbers) or a batch (a list of such lists).",
            required=True,
        ),
        "y": Key("examples", "Targets in the batch shape of x (or give label instead)."),
        "label": Key("labels", "Class number 1..d_L (a list for a batch), taken as one-hot."),
        "reduction": Key(
            "choice", "How per-example losses combine over a batch.", "mean", REDUCTIONS
        ),
    },
    "init": {
        "seed": Key("int", "The same seed gives the same numbers.", 0, low=0, high=2**32 - 1),
        "scheme": Key(
            "choice",
            "grid: multiples of step in [low, high]; uniform; normal (mean 0, "
            "deviation std); xavier; he.",
            "grid",
            SCHEMES,
        ),
        "low": Key("number", "Lower end for grid and uniform.", D("-1.0")),
        "high": Key("number", "Upper end for grid and uniform.", D("1.0")),
        "step": Key("number", "Grid spacing.", D("0.1"), low=0, above=True),
        "std": Key("number", "Standard deviation for normal.", D("1.0"), low=0, above=True),
    },
    "training": {
        "learning_rate": Key("number", "η, used exactly as written.", D("0.1"), low=0, above=True),
        "steps": Key(
            "int", "Update cycles (iterations), each on one mini-batch.", 1, low=1, high=MAX_STEPS
        ),
        "batch_size": Key(
            "int", "Examples per iteration, walked in order (default: all).", low=1, high=MAX_BATCH
        ),
        "optimizer": Key(
            "choice", "sgd | momentum | nesterov | adam, as torch.optim.", "sgd", OPTIMIZERS
        ),
        "momentum": Key("number", "μ for momentum and nesterov.", D("0.9"), low=0),
        "beta1": Key("number", "Adam's β1.", D("0.9"), low=0),
        "beta2": Key("number", "Adam's β2.", D("0.999"), low=0),
        "epsilon": Key("number", "Adam's ε.", D("1e-8"), low=0, above=True),
        "weight_decay": Key("number", "λ: the gradient becomes dL/dθ + λ θ.", D(0), low=0),
    },
    "rounding": {
        "digits": Key("int", "Digits kept.", 4, low=1, high=MAX_DIGITS),
        "mode": Key(
            "choice",
            "decimals: after the point; significant: significant digits.",
            "decimals",
            MODES,
        ),
        "rule": Key(
            "choice",
            "half_up: ties away from zero; half_even: ties to even.",
            "half_up",
            tuple(RULES),
        ),
        "per": Key(
            "choice", "value: round each written value; operation: every operation.", "value", PERS
        ),
    },
    "document": {
        "course": Key("text", "Course name for document headers."),
        "date": Key("text", "Date for document headers."),
        "instructions": Key("text", "Instructions printed on worksheets."),
        "points": Key(
            "points",
            "Points per step id or per phase (forward, loss, backward, "
            "update); 1 per step otherwise.",
        ),
        "expand": Key("entries", 'Entries worked out in answer keys, such as "dW2[1,3]".'),
    },
    "network.dropout": {
        "keep": Key("numbers", "Keep probability p^(l-1) per layer input, L numbers (1: none)."),
        "masks": Key(
            "masks", "Masks d0, d1, ... given as 0/1 lists (one per example); else drawn."
        ),
        "mc_masks": Key(
            "masks",
            "Masks for handcalc mc-dropout: per layer input, one 0/1 list "
            "per pass (one example); else drawn.",
        ),
        "scaling": Key(
            "choice",
            "notes: weights times p at test time; inverted: divide by p while training (PyTorch).",
            "notes",
            ("notes", "inverted"),
        ),
    },
    "calibration": {
        "x": Key("examples", "The labelled set T is fitted on: inputs, a list of examples."),
        "y": Key("examples", "Its targets (or give label instead)."),
        "label": Key("labels", "Its class numbers 1..d_L."),
        "temperature": Key("number", "T to start from.", D(1), low=0, above=True),
        "learning_rate": Key("number", "η_T, the step size in T.", D("0.1"), low=0, above=True),
        "steps": Key("int", "Gradient steps in T.", 5, low=1, high=MAX_STEPS),
    },
    "exam": {
        "input": Key("bool", "Each variant draws its own input x (on the init grid).", False),
        "label": Key("bool", "Each variant draws its own label (or one-hot target).", False),
        "require": Key("section", "Constraints every variant must meet."),
        "max_tries": Key("int", "Candidates drawn at most, in all.", 2000, low=1, high=1_000_000),
    },
    "exam.require": {
        "relu_mixed": Key("bool", "Every ReLU layer has active and inactive units.", False),
        "max_abs": Key("number", "No written value above this in absolute value."),
        "min_abs_nonzero": Key("number", "Nothing nonzero rounds below this in absolute value."),
        "no_ties": Key("bool", "No tie at the rounding digit: half_up and half_even agree.", False),
        "no_saturation": Key("bool", "No sigmoid or softmax output rounds to 0 or 1.", False),
    },
}


def read(sec: dict[str, Node], section: str, name: str) -> Any:
    """A plain key's value, checked against its entry in SPEC; its default when absent."""
    key, node, path = SPEC[section][name], sec.get(name), f"{section}.{name}"
    if node is None or node.kind == "null":
        return key.default
    if key.kind == "int":
        assert isinstance(key.low, int) and isinstance(key.high, int)
        return integer(node, path, key.low, key.high)
    if key.kind == "number":
        value = number(node, path)
        if key.low is not None and (value <= key.low if key.above else value < key.low):
            raise fail(
                node,
                path,
                f"{node.value} is not {'positive' if key.low == 0 else 'allowed'}",
                f"a number above {key.low}" if key.above else f"{key.low} or more",
            )
        return value
    if key.kind == "choice":
        return choice(node, path, key.choices)
    if key.kind == "bool":
        return boolean(node, path)
    if key.kind == "text":
        return text(node, path)
    raise AssertionError(f"{path} is read by the validator itself")


def fail(node: Node | None, path: str, what: str, expected: str = "") -> ConfigError:
    where = f"{node.where}: " if node is not None else ""
    tail = f" ({expected})" if expected else ""
    return ConfigError(f"{where}{path}: {what}{tail}")


def describe(node: Node) -> str:
    if node.is_map:
        return "a mapping"
    if node.is_seq:
        return "a list"
    if node.kind == "null":
        return "nothing"
    return repr(node.value) if isinstance(node.value, str) else node.kind


_NUMBER = re.compile(r"[+-]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def number(node: Node, path: str) -> Decimal:
    """A finite number from the text as written (plain or quoted), never through a float."""
    text = node.value if isinstance(node.value, str) else ""
    lowered = text.strip().lower().lstrip("+-")
    if lowered in {".nan", "nan", ".inf", "inf", "infinity"}:
        raise fail(node, path, f"{text} is not a finite number", "NaN and infinity are not allowed")
    if node.is_map or node.is_seq or not _NUMBER.fullmatch(text.strip()):
        raise fail(node, path, f"expected a number, got {describe(node)}")
    try:
        return Decimal(text.strip().replace("_", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
        raise fail(node, path, f"expected a number, got {text!r}") from None


def integer(node: Node, path: str, low: int, high: int) -> int:
    value = number(node, path)
    if value != value.to_integral_value():
        raise fail(node, path, f"{node.value} is not a whole number", f"{low} to {high}")
    if not low <= value <= high:
        raise fail(
            node, path, f"{node.value} is out of range", f"a whole number from {low} to {high}"
        )
    return int(value)


def choice(node: Node, path: str, options: Sequence[str]) -> str:
    if node.kind != "str" or not isinstance(node.value, str):
        raise fail(node, path, f"expected one of {', '.join(options)}, got {describe(node)}")
    if node.value not in options:
        close = difflib.get_close_matches(node.value, options, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise fail(
            node, path, f"unknown value {node.value!r}", f"{hint}one of {', '.join(options)}"
        )
    return node.value


def boolean(node: Node, path: str) -> bool:
    if node.kind != "bool":
        raise fail(node, path, f"expected true or false, got {describe(node)}")
    return str(node.value).lower() in {"true", "yes", "on", "y"}


def text(node: Node, path: str) -> str | None:
    if node.kind == "null":
        return None
    if node.is_map or node.is_seq:
        raise fail(node, path, f"expected text, got {describe(node)}")
    return str(node.value)


def sequence(node: Node, path: str, what: str) -> list[Node]:
    if not node.is_seq or not isinstance(node.value, list):
        raise fail(node, path, f"expected {what}, got {describe(node)}")
    return node.value


def section(node: Node | None, path: str) -> dict[str, Node]:
    """A mapping whose keys are all known; an absent section is empty."""
    if node is None or node.kind == "null":
        return {}
    if not node.is_map or not isinstance(node.value, dict):
        raise fail(node, path or "config", f"expected a mapping, got {describe(node)}")
    known = tuple(SPEC[path])
    for key, child in node.value.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise fail(child, _join(path, key), "unknown key", f"{hint}known: {', '.join(known)}")
    return node.value


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def vector(node: Node, path: str, length: int) -> list[Decimal]:
    items = sequence(node, path, f"a list of {length} numbers")
    if len(items) != length:
        raise fail(node, path, f"has {plural(len(items), 'number')}", f"expected {length}")
    return [number(item, f"{path}[{i + 1}]") for i, item in enumerate(items)]


def matrix(node: Node, path: str, rows: int, cols: int) -> list[Decimal]:
    items = sequence(node, path, f"{rows} rows of {cols} numbers")
    if len(items) != rows:
        raise fail(node, path, f"has {len(items)} rows", f"expected {rows} rows of {cols} numbers")
    out: list[Decimal] = []
    for i, row in enumerate(items):
        out.extend(vector(row, f"{path}[{i + 1}]", cols))
    return out
