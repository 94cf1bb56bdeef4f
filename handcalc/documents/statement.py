"""The network of a problem in words, as a question that must stand on its own states it."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from handcalc.config.problem import Problem
from handcalc.documents.settings import hyperparameters, number
from handcalc.errors import ConfigError
from handcalc.model import ids
from handcalc.model.forward import logits
from handcalc.model.functions import ACTIVATIONS, LOSSES
from handcalc.model.heads import HEADS
from handcalc.model.steps import Phase
from handcalc.trace import Trace

ACTIVATION_NAMES = {
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "identity": "identity",
}
OPTIMIZER_NAMES = {
    "sgd": "gradient descent, θ ← θ − η dL/dθ",
    "momentum": "gradient descent with momentum",
    "nesterov": "gradient descent with Nesterov momentum",
    "adam": "Adam",
}
SCALING_NAMES = {
    "notes": "kept units are not rescaled in training; W is multiplied by p at test time",
    "inverted": "kept units are divided by p in training (inverted dropout)",
}
LOSS_NAMES = {
    "cross_entropy": "cross-entropy",
    "binary_cross_entropy": "binary cross-entropy",
    "mse": "mean squared error",
    "sse": "sum of squared errors",
    "half_sse": "half the sum of squared errors",
}


def lines(p: Problem) -> list[str]:
    """The network, the rule and every hyperparameter, one fact a line, in the notes' notation."""
    widths = ", ".join(f"d_{layer} = {w}" for layer, w in enumerate(p.widths))
    out = [f"Layer widths: {widths}" + ("" if p.bias else " (no biases)")]
    for layer, act in enumerate(p.activations, start=1):
        f = ACTIVATIONS[act].formula
        skip = " plus the skip path h^(" + str(layer - 1) + ")" if layer in p.residual else ""
        out.append(f"Layer {layer}: {ACTIVATION_NAMES.get(act, act)}, σ(z) = {f}{skip}")
    z = logits(p).z  # z̃^(L) under a temperature, as the head's steps name it
    head = HEADS[p.head].formula.replace("{z}", z)
    # T is a given constant: written as the settings write it (T = 2), not as a rounded value
    scaled = (
        ""
        if p.temperature is None
        else f", {z} = z^({p.layers}) / T with T = {number(p.temperature)}"
    )
    out.append(f"Output layer {p.layers}: {p.head} head, ŷ = {head}{scaled}")
    loss = LOSSES[p.loss]
    out.append(f"Loss: {LOSS_NAMES.get(p.loss, p.loss)}, L = {loss.formula}")
    if p.examples > 1:
        out.append(f"Batch of {p.examples} examples: the loss is the {p.reduction} over them")
    out += _training(p)
    out.append(f"Rounding: {rule_line(p)}")
    return out


def asking(trace: Trace) -> Problem:
    """The problem of the first iteration, which a paper shows; refused when rounding.write (the
    one setting that leaves steps out of a paper) leaves every step of it unwritten."""
    p = trace.info[0].problem
    if any(s.spec.written and s.spec.phase is not Phase.given for s in trace.iterations[0]):
        return p
    raise ConfigError(
        f"{p.rules.write_at or p.name}: rounding.write: nothing is written, so the paper would "
        "ask nothing (set at least one step kind or id to true)"
    )


# how a paper names the quantities and phases a rule of their own may be given for
QUANTITY_NAMES = {
    "z": "z",
    "h": "h",
    "yhat": "ŷ",
    "zT": "z̃",
    "exp_z": "exp(z)",
    "sum_exp": "S",
    "losses": "the losses L_n",
    "loss": "the loss L",
    "dyhat": "dL/dŷ",
    "dyhat_dz": "dŷ/dz",
    "dzT": "dL/dz̃",
    "dz": "dL/dz",
    "dh": "dL/dh",
    "dhdz": "σ'(z)",
    "dW": "dL/dW",
    "db": "dL/db",
    "mhat": "m̂",
    "shat": "ŝ",
    "deltaW": "ΔW",
    "deltab": "Δb",
    "W_next": "the updated W",
    "b_next": "the updated b",
    "given": "the given numbers",
    "forward": "the forward pass",
    "backward": "the backward pass",
    "update": "the update",
    "optimizer": "the optimizer's quantities",
    "test": "the test-time pass",
}
# under a temperature the head reads z̃ = z^(L) / T, and its steps say so
SCALED_NAMES = {"exp_z": "exp(z̃)", "dyhat_dz": "dŷ/dz̃"}


def rule_line(p: Problem) -> str:
    """The class's rule, then each quantity's own: '...; the loss L to 3 decimals; ΔW to 3
    significant digits'; then the quantities not written down."""
    parts = [p.rounding.describe()]
    names = QUANTITY_NAMES if p.temperature is None else QUANTITY_NAMES | SCALED_NAMES
    for key, rule in p.rules.overrides.items():
        name = names.get(key, key)
        parts.append(f"{name} {'exact' if rule.mode == 'exact' else 'to ' + rule.brief()}")
    skipped = [_unwritten(key, names) for key, written in p.rules.write.items() if not written]
    if skipped:
        parts.append("not written down (kept exact): " + ", ".join(skipped))
    return "; ".join(parts)


def _unwritten(key: str, names: dict[str, str]) -> str:
    """'exp_z' -> 'exp(z)', 'dhdz@2' or the id 'dhdz2' -> "σ'(z) of layer 2": never a raw id."""
    kind, _, layer = key.partition("@")
    ident = None if kind in names else ids.parse(kind)
    if ident is not None and ident.layer is not None:
        kind, layer = str(ident.kind), str(ident.layer)
    name = names.get(kind, kind)
    return f"{name} of layer {layer}" if layer else name


def _training(p: Problem) -> list[str]:
    o = p.optimizer
    out = [f"Learning rate η = {p.learning_rate}; update: {OPTIMIZER_NAMES.get(o.name, o.name)}"]
    if p.update_form == "delta":
        out.append("The change Δθ = −η (the update's direction) is written first, then θ + Δθ")
    words = hyperparameters(o)
    if "momentum" in words:
        out.append(f"Momentum {words['momentum']}")
    if "adam" in words:
        out.append(f"Adam: {words['adam']}")
    if "weight decay" in words:
        decay = words["weight decay"]
        out.append(decay[:1].upper() + decay[1:])
    if p.batch_size is not None:
        out.append(
            f"Mini-batches of {p.batch_size}: the first one (examples 1 to "
            f"{min(p.batch_size, p.examples)}) is asked"
        )
    d = p.dropout
    if d is not None:
        keep = ", ".join(f"p^({i}) = {k}" for i, k in enumerate(d.keep))
        out.append(f"Dropout keep probabilities: {keep}; {SCALING_NAMES.get(d.scaling, d.scaling)}")
    if p.steps > 1:
        out.append(f"Answer for iteration 1 (of {p.steps})")
    return out


def marks(total: Decimal, factor: int) -> str:
    """How the question is marked."""
    weights = "" if factor == 1 else f"; a field's weight is its share times {factor}"
    return (
        f"{total.normalize():f} points: each step's points are shared equally by its "
        f"entries{weights}."
    )


def share(points: Decimal, entries: int) -> str:
    """What one entry of a step counts: '1/15 point each'."""
    each = Fraction(points) / entries
    word = "point" if each <= 1 else "points"
    return f"{each} {word} each" if entries > 1 else f"{points.normalize():f} {word}"
