"""A standalone PyTorch script that runs the same cycle, in the style of the notes' code.

The script holds the exact given numbers, keeps every z and h (retain_grad), computes the same loss
and reduction, calls loss.backward(), takes the gradient step and prints everything; run with
--dtype float64 it reproduces handcalc's float64 column, with --dtype float32 its float32 column.
"""

from __future__ import annotations

from decimal import Decimal

from handcalc.config.problem import Block, Problem
from handcalc.config.rules_read import check_ids
from handcalc.model.plan import plan
from handcalc.rounding import exact_text
from handcalc.text import clean
from handcalc.version import __version__

ACTIVATION = {
    "relu": "torch.relu({})",
    "leaky_relu": "F.leaky_relu({}, 0.01)",
    "sigmoid": "torch.sigmoid({})",
    "tanh": "torch.tanh({})",
    "identity": "{}",
}
HEAD = {"softmax": "torch.softmax(z, dim=1)", "sigmoid": "torch.sigmoid(z)", "identity": "z"}
LOSS = {
    "cross_entropy": "F.cross_entropy(z, y, reduction='none')  # softmax + cross-entropy",
    "binary_cross_entropy": "F.binary_cross_entropy(yhat, y, reduction='none').mean(dim=1)",
    "mse": "F.mse_loss(yhat, y, reduction='none').mean(dim=1)",
    "sse": "F.mse_loss(yhat, y, reduction='none').sum(dim=1)",
    "half_sse": "0.5 * F.mse_loss(yhat, y, reduction='none').sum(dim=1)",
}


def _matrix(p: Problem, b: Block) -> str:
    rounded = p.rounding.rounder()

    def text(v: Decimal) -> str:  # a number kept by a rule of its own is written in full
        return p.rounding.text(v) if rounded(v) == v else exact_text(v)

    width = b.shape[-1]
    rows = [", ".join(text(v) for v in b.data[i : i + width]) for i in range(0, len(b.data), width)]
    if len(b.shape) == 1:
        return f"[{rows[0]}]"
    return "[\n        [" + "],\n        [".join(rows) + "],\n    ]"


def _optimizer(p: Problem) -> str:
    """The torch.optim object that takes the same gradient step."""
    o = p.optimizer
    common = f"model.parameters(), lr={p.learning_rate}, weight_decay={o.weight_decay}"
    if o.name == "adam":
        return f"torch.optim.Adam({common}, betas=({o.beta1}, {o.beta2}), eps={o.epsilon:g})"
    if o.name in ("momentum", "nesterov"):
        nesterov = o.name == "nesterov"
        return f"torch.optim.SGD({common}, momentum={o.momentum}, nesterov={nesterov})"
    return f"torch.optim.SGD({common})"


def _attr(name: str) -> str:
    """W3 -> model.lin3.weight, b3 -> model.lin3.bias."""
    return f"model.lin{name[1:]}.{'weight' if name[0] == 'W' else 'bias'}"


def script(p: Problem, source: str) -> str:
    """The script's text for the first iteration of problem p (read from `source`)."""
    first = plan(p)[0]
    check_ids(p.rules, [s.id for s in first.specs])  # refused here as by every command
    p = first.problem  # its first mini-batch
    forward_out, backward_out = _recorded(p)
    return TEMPLATE.format(
        version=__version__,
        title=_docstring(p.title or "one training step"),
        source=_docstring(source),
        widths="-".join(map(str, p.widths)),
        layers=_layers(p),
        forward="\n".join(_forward(p, first.masks)),
        last=p.layers,
        setters="\n".join(
            f"    {_attr(n)}.copy_(torch.tensor({_matrix(p, b)}, dtype=dtype))"
            for n, b in p.parameters.items()
        ),
        x=_matrix(p, p.x),
        y=_matrix(p, p.y),
        head=HEAD[p.head],
        loss=LOSS[p.loss],
        reduce="per_example.mean()" if p.reduction == "mean" else "per_example.sum()",
        optimizer=_optimizer(p),
        scale="" if p.temperature is None else f" / {p.temperature}  # temperature scaling",
        forward_out=", ".join(forward_out),
        backward_out=", ".join(backward_out),
        squeeze=not p.batched,
        rounding=p.rounding.describe(),
    )


def _docstring(text: str) -> str:
    r"""Text inside the script's docstring: one line, its quotes and backslashes escaped, so it
    can never end the docstring and become code.

    >>> print(_docstring('a "quote" and a \\ backslash'))
    a \"quote\" and a \\ backslash
    """
    return clean(text).replace("\\", "\\\\").replace('"', '\\"')


def _layers(p: Problem) -> str:
    """The model's nn.Linear layers."""
    return "\n".join(
        f"        self.lin{i} = nn.Linear({p.widths[i - 1]}, {p.widths[i]}, bias={p.bias})"
        for i in range(1, p.layers + 1)
    )


def _forward(p: Problem, masks: dict[str, Block]) -> list[str]:
    """The forward pass, keeping every z and h."""
    out = []
    for i in range(1, p.layers + 1):
        feed = "x" if i == 1 else f"self.h{i - 1}"
        mask = masks.get(f"d{i - 1}")
        if mask is not None and p.dropout is not None:  # the same dropout mask as the trace
            inverted = p.dropout.scaling == "inverted"
            out.append(f"        mask = torch.tensor({_matrix(p, mask)}, dtype=x.dtype)")
            feed = f"{feed} * mask" + (f" / {p.dropout.keep[i - 1]}" if inverted else "")
        out += [f"        self.z{i} = self.lin{i}({feed})", f"        self.z{i}.retain_grad()"]
        if i < p.layers:
            act = ACTIVATION[p.activations[i - 1]].format(f"self.z{i}")
            if i in p.residual:  # the skip connection of section 13
                act += " + " + ("x" if i == 1 else f"self.h{i - 1}")
            out += [f"        self.h{i} = {act}", f"        self.h{i}.retain_grad()"]
    return out


def _recorded(p: Problem) -> tuple[list[str], list[str]]:
    """The forward and the backward values the script prints, as dict entries."""
    L = p.layers
    forward = [f'"z{i}": model.z{i}' for i in range(1, L + 1)]
    forward += [f'"h{i}": model.h{i}' for i in range(1, L)]
    backward = [f'"dz{i}": model.z{i}.grad' for i in range(L, 0, -1)]
    backward += [f'"dh{i}": model.h{i}.grad' for i in range(L - 1, 0, -1)]
    backward += [f'"d{n}": {_attr(n)}.grad' for n in p.parameters]
    return forward, backward


TEMPLATE = '''"""PyTorch twin of a handcalc run: {title}.

Generated by handcalc {version} from {source}: a {widths} network with the exact given numbers.
handcalc's answer key rounds by the class's rule ({rounding}); this script
does not round, so with --dtype float64 it prints handcalc's float64 column and with
--dtype float32 (PyTorch's default) its float32 column, up to the order of floating-point sums.

    python this_script.py [--dtype float64|float32] [--json]
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
parser.add_argument("--json", action="store_true", help="print every value as one JSON object")
args = parser.parse_args()
dtype = {{"float64": torch.float64, "float32": torch.float32}}[args.dtype]


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
{layers}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
{forward}
        return self.z{last}  # the logits


model = MLP().to(dtype)
with torch.no_grad():
{setters}

x = torch.tensor({x}, dtype=dtype)  # one row per example
y = torch.tensor({y}, dtype=dtype)
if x.dim() == 1:
    x, y = x.unsqueeze(0), y.unsqueeze(0)

z = model(x){scale}
yhat = {head}
per_example = {loss}
loss = {reduce}

model.zero_grad()  # so that no earlier gradients accumulate
loss.backward()

values = {{{forward_out}, "yhat": yhat, "loss": loss, {backward_out}}}
optimizer = {optimizer}
optimizer.step()  # the gradient step of the first iteration
for i in range(1, {last} + 1):
    lin = getattr(model, f"lin{{i}}")
    values[f"W{{i}}_next"] = lin.weight.detach().clone()
    if lin.bias is not None:
        values[f"b{{i}}_next"] = lin.bias.detach().clone()


SINGLE_EXAMPLE = {squeeze}


def plain(name: str, t: torch.Tensor) -> object:
    """A value as nested lists, one example's quantities without the batch axis."""
    t = t.detach()
    if SINGLE_EXAMPLE and name.startswith(("z", "h", "dz", "dh", "yhat")):
        t = t[0]
    return t.tolist()


if args.json:
    print(json.dumps({{name: plain(name, tensor) for name, tensor in values.items()}}))
else:
    torch.set_printoptions(precision=10)
    for name, tensor in values.items():
        print(f"{{name}} =", tensor.detach())
'''
