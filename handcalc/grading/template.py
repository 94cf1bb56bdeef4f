"""A blank answers file: the steps the paper asks, in its order, each with formula and shape."""

from __future__ import annotations

from handcalc.grading.asked import asked
from handcalc.numbers import Shape
from handcalc.trace import Trace


def template(trace: Trace, variant: str | None = None) -> str:
    """Every step the paper asks with `~` for each entry; filled in place, it is an answers file.

    `variant` names the exam variant the paper is, so that `handcalc grade` finds its key.
    """
    p = trace.problem
    out = [
        f"# Answers for: {p.title or 'handcalc'} (check with: handcalc check CONFIG THIS_FILE)",
        "# Write each value as you worked it out, in the quantity's shape; leave ~ where you have",
        '# no answer. Numbers may be written 0.1234, -.5, 1.2e-3, 1/3 or, quoted, "0,25".',
    ]
    if variant is not None:
        out += ["", "# the exam variant of your paper: leave it as it is", f"variant: {variant}"]
    phase = None
    for step in asked(trace):
        if step.spec.phase != phase:
            phase = step.spec.phase
            out += ["", f"# {phase}"]
        size = " x ".join(map(str, step.shape)) or "one number"
        own = "" if step.rounding == p.rounding else f"; {step.rounding.brief()}"
        out.append(f"# {step.spec.symbol} = {step.spec.formula}   ({size}{own})")
        out.append(f"{step.id}:{_blank(step.shape)}")
    return "\n".join(out) + "\n"


def _blank(shape: Shape) -> str:
    """`~` in the shape: a list on the key's line, a matrix as one row per line."""
    if not shape:
        return " ~"
    if len(shape) == 1:
        return " " + _flow(shape)
    return "".join(f"\n  - {_flow(shape[1:])}" for _ in range(shape[0]))


def _flow(shape: Shape) -> str:
    """`~` nested in brackets: [~, ~] or [[~, ~], [~, ~]].

    >>> _flow((2,)), _flow((2, 1))
    ('[~, ~]', '[[~], [~]]')
    """
    if not shape:
        return "~"
    return "[" + ", ".join([_flow(shape[1:])] * shape[0]) + "]"
