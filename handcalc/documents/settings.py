"""Every setting a printed step reads besides the given numbers, as lines in the notes' notation.

A worksheet prints these so that it can be solved from the paper alone: the optimizer's constants,
dropout's keep probabilities and scaling rule, the temperature, the skip connections, the batch and
which iteration of a longer run the paper shows.
"""

from __future__ import annotations

from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.model.forward import logits
from handcalc.model.optimizers import Optimizer
from handcalc.trace import Trace


def number(value: Decimal) -> str:
    """A constant as the config gave it, without trailing zeros.

    >>> number(Decimal("0.900")), number(Decimal("1E-8")), number(Decimal("10"))
    ('0.9', '1e-8', '10')
    """
    if value != 0 and abs(value) < Decimal("0.0001"):
        return f"{value.normalize():e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{value.normalize():f}"


def hyperparameters(o: Optimizer, every: bool = False) -> dict[str, str]:
    """The optimizer's constants in the one wording of the terminal, papers and Moodle, by what
    they belong to: "momentum" (momentum and Nesterov), "adam", "weight decay" (when it acts,
    or with `every` whenever the update reads g).

    >>> hyperparameters(Optimizer(name="adam", weight_decay=Decimal("0.010")))
    {'adam': 'β1 = 0.9, β2 = 0.999, ε = 1e-8', 'weight decay': 'weight decay λ = 0.01'}
    >>> hyperparameters(Optimizer(name="nesterov"), every=True)
    {'momentum': 'μ = 0.9', 'weight decay': 'weight decay λ = 0'}
    """
    out = {}
    if o.name in ("momentum", "nesterov"):
        out["momentum"] = f"μ = {number(o.momentum)}"
    if o.name == "adam":
        out["adam"] = f"β1 = {number(o.beta1)}, β2 = {number(o.beta2)}, ε = {number(o.epsilon)}"
    if o.weight_decay or (every and o.name != "sgd"):
        out["weight decay"] = f"weight decay λ = {number(o.weight_decay)}"
    return out


def settings(trace: Trace) -> list[str]:
    """The lines under the learning rate: what the paper's steps read that is not a matrix."""
    p = trace.info[0].problem
    return [
        *_iteration(trace),
        *_batch(trace),
        *_optimizer(p),
        *_dropout(p),
        *_temperature(p),
        *_residual(p),
    ]


def _iteration(trace: Trace) -> list[str]:
    info = trace.info[0]
    total = len(trace.info)
    if total == 1:
        return []
    return [
        f"This paper shows iteration 1 of {total} (epoch {info.epoch}); the given optimizer state "
        "and parameters are those at its start."
    ]


def _batch(trace: Trace) -> list[str]:
    info, total = trace.info[0], trace.problem.examples
    if info.problem.examples == 1 and total == 1:
        return []
    used = ", ".join(map(str, info.examples))
    rows = ", ".join(str(n) for n in range(1, len(info.examples) + 1))
    how = "the mean" if info.problem.reduction == "mean" else "the sum"
    return [
        f"Batch: examples {used} of the {total} given, as rows n = {rows}; L is {how} of the "
        "per-example losses L_n."
    ]


def _optimizer(p: Problem) -> list[str]:
    o = p.optimizer
    words = hyperparameters(o, every=True)
    decay = f"; {words['weight decay']} (g = dL/dθ + λ θ)" if "weight decay" in words else ""
    if o.name == "sgd":
        return [f"Update: θ ← θ − η g{decay}."] if decay else []
    if o.name in ("momentum", "nesterov"):
        rule = "v = μ v_prev + g; θ ← θ − η v"
        if o.name == "nesterov":
            rule = "v = μ v_prev + g; n = g + μ v; θ ← θ − η n (Nesterov)"
        return [f"Update with momentum {words['momentum']}: {rule}{decay}."]
    return [
        f"Update with Adam, {words['adam']}: m = β1 m_prev + (1 − β1) g; "
        "s = β2 s_prev + (1 − β2) g²; m̂ = m / (1 − β1^t); ŝ = s / (1 − β2^t); "
        f"θ ← θ − η m̂ / (√ŝ + ε), t = 1{decay}."
    ]


def _dropout(p: Problem) -> list[str]:
    d = p.dropout
    if d is None:
        return []
    keep = ", ".join(f"p^({i}) = {number(k)}" for i, k in enumerate(d.keep))
    if d.scaling == "notes":
        rule = "training uses h̃ = d ⊙ h; the test-time pass uses p W in place of W"
    else:
        rule = "training uses h̃ = d ⊙ h / p (inverted); the test-time pass uses W as it is"
    return [f"Dropout keep probabilities {keep}; masks d are given (1 keep, 0 drop); {rule}."]


def _temperature(p: Problem) -> list[str]:
    if p.temperature is None:
        return []
    scaled = logits(p).z
    return [
        f"Temperature T = {number(p.temperature)}: the head reads {scaled} = z^({p.layers}) / T."
    ]


def _residual(p: Problem) -> list[str]:
    return [
        f"Layer {layer} is residual: h^({layer}) = σ(z^({layer})) + h^({layer - 1})."
        for layer in p.residual
    ]
