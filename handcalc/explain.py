"""One entry worked out as on paper: the formula, the numbers substituted, every partial sum.

Sums (z, dL/dh, dL/dW, dL/db, S, dL/dz through the softmax Jacobian, the loss, dL/dT, the Monte
Carlo mean and variance, the test-time ŷ of a softmax) are expanded term by term, each product
and partial sum rounded under `per: operation` and exact under `per: value`, then the operation
that follows the sum (a division by N, a sign); other entries list the written numbers they are
computed from. The terms and partial sums are the number system's own: the partial sum of the
first k terms is its dot product (or total) of those k terms, the order the cycle sums in.
"""

from __future__ import annotations

import difflib
from decimal import Decimal

from handcalc.errors import ConfigError
from handcalc.explain_sums import SUMS, At, Sum, exact_text, flat, label, position
from handcalc.model import ids
from handcalc.model.ids import Kind
from handcalc.model.steps import Phase
from handcalc.numbers import NumberSystem, Rounding, hand
from handcalc.render.tables import fmt_deviation, fmt_float, fmt_units
from handcalc.rounding import EXACT
from handcalc.rowmajor import indices
from handcalc.trace import Step, Trace


def parse(trace: Trace, text: str) -> tuple[Step, int]:
    """'dW2[1,3]' -> the step and the flat index of its entry (1-based indices, as printed)."""
    entry = ids.parse_entry(text)
    if entry is None:
        raise ConfigError(
            f"--explain: {_quoted(text)} is not an entry (expected a step id and 1-based "
            f"indices of at most {ids.MAX_INDEX_DIGITS} digits, such as dW2[1,3] or z1[2])"
        )
    step_id, raw = entry
    step = _step(trace, step_id)
    _check_indices(text.strip(), step, raw)
    return step, indices(step.shape).index(raw)


def _quoted(text: str) -> str:
    """The text as a message quotes it: whole when short, else its start and its length."""
    return repr(text) if len(text) <= 60 else f"{text[:40]!r}... ({len(text):,} characters)"


def _step(trace: Trace, step_id: str) -> Step:
    steps = _by_id(trace)
    if step_id not in steps:
        close = difflib.get_close_matches(step_id, list(steps), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ConfigError(f"--explain: {step_id}: unknown step ({hint}the ids of the JSON trace)")
    return steps[step_id]


def _check_indices(text: str, step: Step, raw: tuple[int, ...]) -> None:
    shape = step.shape
    if len(raw) != len(shape):
        count = {1: "one index", 2: "two indices", 3: "three indices"}.get(len(shape), "indices")
        example = ",".join("1" for _ in shape)
        want = f"{count}, such as {step.id}[{example}]" if shape else "no index: the id alone"
        raise ConfigError(
            f"--explain: {text}: {step.id} has shape "
            f"{' x '.join(map(str, shape)) or 'scalar'} ({want})"
        )
    for k, (i, size) in enumerate(zip(raw, shape, strict=True)):
        if not 1 <= i <= size:
            raise ConfigError(
                f"--explain: {text}: index {k + 1} is {i}, out of range (1 to {size})"
            )


def parse_scalar(trace: Trace, text: str) -> tuple[Step, int]:
    """Also accept a bare id for a scalar such as the loss."""
    steps = _by_id(trace)
    name = text.strip()
    if name in steps and not steps[name].shape:
        return steps[name], 0
    return parse(trace, text)


def explain_all(trace: Trace, entries: list[str]) -> str:
    parsed = [parse_scalar(trace, e) for e in entries]  # every error before any output
    return "\n\n".join("\n".join(explain(trace, step, i)) for step, i in parsed) + "\n"


def explain(trace: Trace, step: Step, i: int) -> list[str]:
    lines = [f"{label(step, i)} = {step.spec.formula}   [{step.id}, {step.spec.phase}]"]
    total = worked(trace, step, i)
    if total is not None:
        lines += _sum_lines(_system(step), step.rounding, total, step.spec.written)
    else:
        lines += _reads(trace, step, i)
        if step.spec.kind in UPDATES:
            lines.append(_update_line(trace, step, i))
        if step.spec.kind in CHANGES:
            lines.append(_change_line(trace, step, i))
    lines.append(_written_line(step, i))
    lines.append(
        f"  float64  {fmt_float(step.floats[i], step)}   hand − float64 "
        f"{fmt_deviation(step.deviations[i])} ({fmt_units(step.units()[i])} units)"
    )
    return lines


def _by_id(trace: Trace) -> dict[str, Step]:
    return {s.id: s for s in trace.iterations[0]}


# ---------------------------------------------------------------- the sums


def worked(trace: Trace, step: Step, i: int) -> Sum | None:
    """What a summed entry adds up, read from the steps it is computed from; None if no sum."""
    build = SUMS.get(step.spec.kind)
    if build is None:
        return None
    steps = _by_id(trace)
    at = At(
        step=step,
        inputs=[steps[s] for s in step.spec.inputs],
        pos=position(step, i),
        problem=trace.info[0].problem,
        ns=_system(step),
    )
    return build(at)


def _system(step: Step) -> NumberSystem:
    """The system the step was computed in: its rule, or exact where it is not written."""
    return hand(step.rounding if step.spec.written else EXACT)


UPDATES = {Kind.W_next, Kind.b_next, Kind.T_next}
CHANGES = {Kind.deltaW, Kind.deltab}  # Δθ = −η times the direction


def _written_line(step: Step, i: int) -> str:
    """The entry as written by its rule, or passed on exactly where it is not written."""
    if not step.spec.written:
        return f"  passed   {exact_text(step.values[i], step.rounding)}   (not written down: exact)"
    return f"  written  {step.text(i)}   ({step.rounding.describe()})"


def _text(step: Step, k: int) -> str:
    """An input's entry as the student has it: written, or exact where it is not written."""
    return step.text(k) if step.spec.written else exact_text(step.values[k], step.rounding)


def _partial_sums(ns: NumberSystem, total: Sum) -> list[Decimal]:
    """The sum of the first k terms for every k (then with the bias), as the system sums."""
    with ns.session():
        out = [_sum_of(ns, total, k) for k in range(1, len(total.a) + 1)]
        if total.bias is not None:
            out.append(_sum_of(ns, total, len(total.a), total.bias[1]))
    return out


def _sum_of(ns: NumberSystem, total: Sum, k: int, bias: Decimal | None = None) -> Decimal:
    """The first k terms summed by the system's dot product (or total), then the bias added."""
    a = ns.array(total.a[:k], (1, k))
    if total.b is None:
        out: Decimal = ns.total(a, 1).data[0]
        return out
    b, extra = ns.array(total.b[:k], (1, k)), None if bias is None else ns.array([bias], (1,))
    dot: Decimal = ns.matmul_nt(a, b, extra).data[0]
    return dot


def finished(ns: NumberSystem, total: Sum) -> Decimal:
    """The value of a summed entry: the sum, then its last operation, as the system does it."""
    value = _partial_sums(ns, total)[-1]
    if total.finish is None:
        return value
    with ns.session():
        out: Decimal = total.finish.apply(ns, ns.array([value], ())).data[0]
    return out


def _products_of(ns: NumberSystem, total: Sum) -> list[Decimal]:
    """Each product a b as the system writes it (rounded under `per: operation`)."""
    assert total.b is not None
    with ns.session():
        n = len(total.a)
        out: list[Decimal] = ns.mul(ns.array(total.a, (n,)), ns.array(total.b, (n,))).data
    return out


def _sum_lines(ns: NumberSystem, r: Rounding, total: Sum, written: bool = True) -> list[str]:
    """A line per term with its partial sum, then the bias, the sum and what follows it
    (passed on exactly where the step is not written down)."""
    shown = _shown(ns, r, total)
    names = [f"term {k + 1}" for k in range(len(total.a))]
    if total.bias is not None:
        shown.append(f"{total.bias[0]} = {r.text(total.bias[1])}")
        names.append("bias")
    partials = _partial_sums(ns, total)
    lines = [
        f"  {name:<8} {text}   partial sum {exact_text(s, r)}"
        for name, text, s in zip(names, shown, partials, strict=True)
    ]
    rounded = r.per == "operation"
    if total.finish is None:
        how = "every product and partial sum rounded" if rounded else "the exact sum, rounded once"
        how = how if written else "the exact sum, passed on"
        return [*lines, f"  sum      {exact_text(partials[-1], r)} ({how})"]
    then = total.finish.text.format(s=exact_text(partials[-1], r).lstrip("≈"))
    how = "every operation rounded" if rounded else "exact, rounded once when written"
    how = how if written else "exact, passed on"
    return [
        *lines,
        f"  sum      {exact_text(partials[-1], r)}",
        f"  then     {then} {equals(exact_text(finished(ns, total), r))} ({how})",
    ]


def equals(text: str) -> str:
    """'= x', or '≈ x' for a number shown shortened."""
    return f"≈ {text[1:]}" if text.startswith("≈") else f"= {text}"


def _shown(ns: NumberSystem, r: Rounding, total: Sum) -> list[str]:
    """Each term with its numbers: 'label = a', or 'label = (a)(b) = a b'."""
    if total.b is None:
        return [
            f"{name} {equals(exact_text(a, r))}"
            for name, a in zip(total.labels, total.a, strict=True)
        ]
    products = _products_of(ns, total)
    return [
        f"{name} = ({exact_text(a, r)})({exact_text(b, r)}) {equals(exact_text(ab, r))}"
        for name, a, b, ab in zip(total.labels, total.a, total.b, products, strict=True)
    ]


# ---------------------------------------------------------------- other entries


def _reads(trace: Trace, step: Step, i: int) -> list[str]:
    """The written numbers an entry is computed from: the same entry of each input."""
    steps = _by_id(trace)
    pos = position(step, i)
    out = []
    for name in step.spec.inputs:
        source = steps[name]
        shape = source.spec.shape
        if shape == step.spec.shape:
            out.append(f"{label(source, flat(source, pos))} = {_text(source, flat(source, pos))}")
        elif step.spec.per_example and source.spec.per_example and shape == step.spec.shape[:1]:
            out.append(f"{label(source, pos[0])} = {_text(source, pos[0])}")
        elif len(source.values) <= 12:
            out.append(
                ", ".join(
                    f"{label(source, k)} = {_text(source, k)}" for k in range(len(source.values))
                )
            )
    if step.spec.phase is Phase.update and not _adds_change(steps, step):
        out.append(f"η = {trace.problem.learning_rate}")
    return [f"  with     {line}" for line in out]


def _adds_change(steps: dict[str, Step], step: Step) -> bool:
    """Whether an update adds a written change: W + ΔW (training.update_form: delta)."""
    return any(steps[name].spec.kind in CHANGES for name in step.spec.inputs)


def _change_line(trace: Trace, step: Step, i: int) -> str:
    """Δθ = −η g with the numbers, exact before it is written."""
    r, rate, source = step.rounding, trace.problem.learning_rate, step.spec.inputs[0]
    grad = _by_id(trace)[source]
    exact = -rate * grad.values[i]
    return f"  so       -{rate} × ({_text(grad, i)}) = {exact_text(exact, r)}"


def _update_line(trace: Trace, step: Step, i: int) -> str:
    """W - η g with the numbers: η g as the system writes it, then the exact difference."""
    steps, r, ns = _by_id(trace), step.rounding, hand(step.rounding)
    old, grad = steps[step.spec.inputs[0]].values[i], steps[step.spec.inputs[1]].values[i]
    if _adds_change(steps, step):
        theta, change = (steps[name] for name in step.spec.inputs)
        written = f"{_text(theta, i)} + ({_text(change, i)})"
        return f"  so       {written} = {exact_text(old + grad, r)}"
    rate = trace.problem.learning_rate
    with ns.session():
        scaled: Decimal = ns.mul(rate, ns.array([grad], ())).data[0]
        result = old - scaled
    return (
        f"  so       {r.text(old)} - {rate} × ({r.text(grad)}) = {r.text(old)} - "
        f"({exact_text(scaled, r)}) = {exact_text(result, r)}"
    )
