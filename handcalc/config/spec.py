"""The config's keys as data: kind, default, choices, range and meaning of each.

The validator reads every plain key through `fields.read`, and `handcalc schema` turns the same
table into a JSON Schema, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handcalc.config.draw import SCHEMES
from handcalc.config.limits import MAX_BATCH, MAX_PARAMETERS, MAX_STEPS, MAX_TRIES
from handcalc.model.functions import ACTIVATIONS, LOSSES
from handcalc.model.heads import HEADS
from handcalc.model.optimizers import OPTIMIZERS
from handcalc.rounding import MAX_DIGITS, MODES, PERS, RULES

REDUCTIONS = ("mean", "sum")
PHASE_NAMES = ("forward", "loss", "backward", "update", "test")
# the phases rounding.overrides may name ("optimizer": the optimizer's quantities), and the keys
# of a rule of its own
RULE_PHASES = ("given", "forward", "loss", "backward", "update", "optimizer", "test")
RULE_KEYS = ("digits", "mode", "rule", "per")


@dataclass(frozen=True, slots=True)
class Key:
    """One config key: its kind, default, allowed values and meaning.

    Kinds: section, text, bool, int, number, choice, and the shape-dependent ones that the
    validator reads itself (widths, activation, examples, targets, labels, parameters, points,
    entries).
    """

    kind: str
    doc: str
    default: Any = None
    choices: tuple[str, ...] = ()
    low: int | Decimal | None = None
    high: int | Decimal | None = None
    above: bool = False  # low itself is not allowed
    below: bool = False  # high itself is not allowed
    required: bool = False


D = Decimal
SPEC: dict[str, dict[str, Key]] = {
    "": {
        "title": Key(kind="text", doc="Printed above the tables and on documents."),
        "network": Key(
            kind="section", doc="The network: widths, activations, head, loss.", required=True
        ),
        "data": Key(
            kind="section", doc="One example or a batch, with targets or labels.", required=True
        ),
        "parameters": Key(kind="parameters", doc="Any of W1, b1, ..., WL, bL, given explicitly."),
        "init": Key(kind="section", doc="How parameters that are not given are drawn."),
        "training": Key(kind="section", doc="Learning rate and number of update cycles."),
        "rounding": Key(kind="section", doc="The class's rule for writing numbers down."),
        "document": Key(
            kind="section", doc="Texts, points and worked entries for documents and grading."
        ),
        "exam": Key(kind="section", doc="How exam variants differ and what each must satisfy."),
        "calibration": Key(
            kind="section", doc="A labelled set for `handcalc calibrate` (section 7)."
        ),
    },
    "network": {
        "widths": Key(
            kind="widths",
            doc="d_0 (input), hidden widths, d_L (output).",
            required=True,
            low=1,
            high=MAX_PARAMETERS,
        ),
        "activation": Key(
            kind="activation",
            doc="Hidden-layer activation: one name, or one per layer.",
            default="relu",
            choices=tuple(ACTIVATIONS),
        ),
        "head": Key(
            kind="choice",
            doc="Applied to the logits z^(L); by default the loss's own: softmax for "
            "cross_entropy, sigmoid for binary_cross_entropy, identity for the others.",
            choices=tuple(HEADS),
        ),
        "loss": Key(
            kind="choice", doc="The loss of (ŷ, y).", default="cross_entropy", choices=tuple(LOSSES)
        ),
        "bias": Key(kind="bool", doc="false: no bias vectors at all.", default=True),
        "residual": Key(kind="layers", doc="Hidden layers l with h^(l) = σ(z^(l)) + h^(l-1)."),
        "temperature": Key(
            kind="number", doc="T: the head is applied to z^(L) / T (section 7).", low=0, above=True
        ),
        "dropout": Key(
            kind="section", doc="Dropout on the layer inputs h^(0) ... h^(L-1) (section 11)."
        ),
    },
    "data": {
        "x": Key(
            kind="examples",
            doc="One example (d_0 numbers) or a batch (a list of such lists).",
            required=True,
        ),
        "y": Key(
            kind="targets",
            doc="Targets in the batch shape of x (or give label instead); "
            "a bare number for a single output.",
        ),
        "label": Key(
            kind="labels", doc="Class number 1..d_L (a list for a batch), taken as one-hot."
        ),
        "reduction": Key(
            kind="choice",
            doc="How per-example losses combine over a batch.",
            default="mean",
            choices=REDUCTIONS,
        ),
    },
    "init": {
        "seed": Key(
            kind="int",
            doc="The same seed gives the same numbers.",
            default=0,
            low=0,
            high=2**32 - 1,
        ),
        "scheme": Key(
            kind="choice",
            doc="grid: multiples of step in [low, high]; uniform; normal (mean 0, "
            "deviation std); xavier; he.",
            default="grid",
            choices=SCHEMES,
        ),
        "low": Key(kind="number", doc="Lower end for grid and uniform.", default=D("-1.0")),
        "high": Key(kind="number", doc="Upper end for grid and uniform.", default=D("1.0")),
        "step": Key(kind="number", doc="Grid spacing.", default=D("0.1"), low=0, above=True),
        "std": Key(
            kind="number",
            doc="Standard deviation for normal.",
            default=D("1.0"),
            low=0,
            above=True,
            high=D("1e14"),  # a draw is within 9 deviations, so within the 1e15 of any number
        ),
    },
    "training": {
        "learning_rate": Key(
            kind="number", doc="η, used exactly as written.", default=D("0.1"), low=0, above=True
        ),
        "steps": Key(
            kind="int",
            doc="Update cycles (iterations), each on one mini-batch.",
            default=1,
            low=1,
            high=MAX_STEPS,
        ),
        "batch_size": Key(
            kind="int",
            doc="Examples per iteration, walked in order (default: all).",
            low=1,
            high=MAX_BATCH,
        ),
        "optimizer": Key(
            kind="choice",
            doc="sgd | momentum | nesterov | adam, as torch.optim.",
            default="sgd",
            choices=OPTIMIZERS,
        ),
        "momentum": Key(kind="number", doc="μ for momentum and nesterov.", default=D("0.9"), low=0),
        "beta1": Key(kind="number", doc="Adam's β1.", default=D("0.9"), low=0, high=1, below=True),
        "beta2": Key(
            kind="number", doc="Adam's β2.", default=D("0.999"), low=0, high=1, below=True
        ),
        "epsilon": Key(kind="number", doc="Adam's ε.", default=D("1e-8"), low=0, above=True),
        "weight_decay": Key(
            kind="number", doc="λ: the gradient becomes dL/dθ + λ θ.", default=D(0), low=0
        ),
        "update_form": Key(
            kind="choice",
            doc="direct: θ ← θ − η g in one step; delta: the change Δθ = −η g written first, "
            "then θ + Δθ.",
            default="direct",
            choices=("direct", "delta"),
        ),
    },
    "rounding": {
        "digits": Key(kind="int", doc="Digits kept.", default=4, low=1, high=MAX_DIGITS),
        "mode": Key(
            kind="choice",
            doc="decimals: after the point; significant: significant digits.",
            default="decimals",
            choices=MODES,
        ),
        "rule": Key(
            kind="choice",
            doc="half_up: ties away from zero; half_even: ties to even.",
            default="half_up",
            choices=RULES,
        ),
        "per": Key(
            kind="choice",
            doc="value: round each written value; operation: every operation.",
            default="value",
            choices=PERS,
        ),
        "write": Key(
            kind="write",
            doc="Per step kind (or {layer: ...}, or step id): false computes it exactly and "
            "passes it on unrounded, e.g. {exp_z: false, sum_exp: false}. Default: all written.",
        ),
        "overrides": Key(
            kind="overrides",
            doc="Per step kind, step id or phase (given, forward, loss, backward, update, "
            "optimizer, test): exact, or a rule of its own (digits, mode, rule, per; the rest "
            "the class's), e.g. {loss: {digits: 3}, W_next: exact}.",
        ),
    },
    "document": {
        "course": Key(kind="text", doc="Course name for document headers."),
        "date": Key(kind="text", doc="Date for document headers."),
        "instructions": Key(kind="text", doc="Instructions printed on worksheets."),
        "points": Key(
            kind="points",
            doc="Points per step id or per phase (forward, loss, backward, "
            "update); 1 per step otherwise.",
        ),
        "expand": Key(kind="entries", doc='Entries worked out in answer keys, such as "dW2[1,3]".'),
        "space": Key(
            kind="choice",
            doc="Working room under each answer box on worksheets.",
            default="small",
            choices=("none", "small", "large"),
        ),
    },
    "network.dropout": {
        "keep": Key(
            kind="numbers", doc="Keep probability p^(l-1) per layer input, L numbers (1: none)."
        ),
        "masks": Key(
            kind="masks", doc="Masks d0, d1, ... given as 0/1 lists (one per example); else drawn."
        ),
        "mc_masks": Key(
            kind="masks",
            doc="Masks for handcalc mc-dropout: per layer input, one 0/1 list "
            "per pass (one example); else drawn.",
        ),
        "scaling": Key(
            kind="choice",
            doc="notes: weights times p at test time; "
            "inverted: divide by p while training (PyTorch).",
            default="notes",
            choices=("notes", "inverted"),
        ),
    },
    "calibration": {
        "x": Key(
            kind="examples", doc="The labelled set T is fitted on: inputs, a list of examples."
        ),
        "y": Key(kind="targets", doc="Its targets (or give label instead)."),
        "label": Key(kind="labels", doc="Its class numbers 1..d_L."),
        "temperature": Key(kind="number", doc="T to start from.", default=D(1), low=0, above=True),
        "learning_rate": Key(
            kind="number", doc="η_T, the step size in T.", default=D("0.1"), low=0, above=True
        ),
        "steps": Key(kind="int", doc="Gradient steps in T.", default=5, low=1, high=MAX_STEPS),
    },
    "exam": {
        "input": Key(
            kind="bool", doc="Each variant draws its own input x (on the init grid).", default=False
        ),
        "label": Key(
            kind="bool", doc="Each variant draws its own label (or one-hot target).", default=False
        ),
        "require": Key(kind="section", doc="Constraints every variant must meet."),
        "max_tries": Key(
            kind="int",
            doc="Candidates drawn at most, in all.",
            default=2000,
            low=1,
            high=MAX_TRIES,
        ),
    },
    "exam.require": {
        "relu_mixed": Key(
            kind="bool", doc="Every ReLU layer has active and inactive units.", default=False
        ),
        "max_abs": Key(kind="number", doc="No written value above this in absolute value."),
        "min_abs_nonzero": Key(
            kind="number", doc="Nothing nonzero rounds below this in absolute value."
        ),
        "no_ties": Key(
            kind="bool",
            doc="No tie at the rounding digit: half_up and half_even agree.",
            default=False,
        ),
        "no_saturation": Key(
            kind="bool", doc="No sigmoid or softmax output rounds to 0 or 1.", default=False
        ),
    },
}
