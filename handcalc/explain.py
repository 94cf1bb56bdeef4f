"""One entry worked out as on paper: the formula, the numbers substituted, every partial sum.

Sums (z, dL/dh, dL/dW, dL/db, S) are expanded term by term, each product and partial sum rounded
under `per: operation` and exact under `per: value`; other entries list the written numbers they
are computed from.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal, localcontext

from handcalc.errors import ConfigError
from handcalc.model import ids
from handcalc.model.cycle import direct_dh, input_of
from handcalc.numbers import WORKING, Rounding
from handcalc.render.tables import fmt_deviation, fmt_float, fmt_units
from handcalc.trace import Step, Trace, _indices

Term = tuple[str, Decimal, Decimal | None]  # label, a, b (a product when b is given)


def parse(trace: Trace, text: str) -> tuple[Step, int]:
    """'dW2[1,3]' -> the step and the flat index of its entry (1-based indices, as printed)."""
    entry = ids.parse_entry(text)
    if entry is None:
        raise ConfigError(
            f"--explain: {text!r} is not an entry (expected a step id and 1-based "
            "indices, such as dW2[1,3] or z1[2])"
        )
    step_id, raw = entry
    steps = {s.id: s for s in trace.iterations[0]}
    if step_id not in steps:
        close = difflib.get_close_matches(step_id, list(steps), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise ConfigError(f"--explain: {step_id}: unknown step ({hint}the ids of the JSON trace)")
    step = steps[step_id]
    shape = step.shape
    if len(raw) != len(shape):
        count = {1: "one index", 2: "two indices", 3: "three indices"}.get(len(shape), "indices")
        example = ",".join("1" for _ in shape)
        want = f"{count}, such as {step_id}[{example}]" if shape else "no index: the id alone"
        raise ConfigError(
            f"--explain: {text.strip()}: {step_id} has shape "
            f"{' x '.join(map(str, shape)) or 'scalar'} ({want})"
        )
    for k, (i, size) in enumerate(zip(raw, shape, strict=True)):
        if not 1 <= i <= size:
            raise ConfigError(
                f"--explain: {text.strip()}: index {k + 1} is {i}, out of range (1 to {size})"
            )
    return step, _indices(shape).index(tuple(raw))


def parse_scalar(trace: Trace, text: str) -> tuple[Step, int]:
    """Also accept a bare id for a scalar such as the loss."""
    steps = {s.id: s for s in trace.iterations[0]}
    name = text.strip()
    if name in steps and not steps[name].shape:
        return steps[name], 0
    return parse(trace, text)


def explain_all(trace: Trace, entries: list[str]) -> str:
    parsed = [parse_scalar(trace, e) for e in entries]  # every error before any output
    return "\n\n".join("\n".join(explain(trace, step, i)) for step, i in parsed) + "\n"


def explain(trace: Trace, step: Step, i: int) -> list[str]:
    label = _label(step, i)
    lines = [f"{label} = {step.spec.formula}   [{step.id}, {step.spec.phase}]"]
    terms = _terms(trace, step, i)
    if terms is not None:
        lines += _sum_lines(step.rounding, terms)
    else:
        lines += _reads(trace, step, i)
        if step.id.endswith("_next"):
            lines.append(_update_line(trace, step, i))
    lines.append(f"  written  {step.text(i)}   ({step.rounding.describe()})")
    lines.append(
        f"  float64  {fmt_float(step.floats[i], step)}   hand − float64 "
        f"{fmt_deviation(step.deviations[i])} ({fmt_units(step.units()[i])} units)"
    )
    return lines


def _label(step: Step, i: int) -> str:
    example, label = list(step.labels())[i]
    return label + (f" of example {example}" if example else "")


def _by_id(trace: Trace) -> dict[str, Step]:
    return {s.id: s for s in trace.iterations[0]}


def _entry(step: Step, *index: int) -> tuple[str, Decimal]:
    """A step's entry by 0-based index in its full (internal) shape: its label and value."""
    flat = _flat(step, index)
    return _label(step, flat), step.values[flat]


def _position(step: Step, i: int) -> tuple[int, ...]:
    """The 0-based index of flat entry i in the step's internal shape (example axis first)."""
    out = []
    for size in reversed(step.spec.shape):
        i, r = divmod(i, size)
        out.append(r)
    return tuple(reversed(out))


def _terms(trace: Trace, step: Step, i: int) -> tuple[list[Term], Term | None] | None:
    """The products (or numbers) a summed entry adds up, in index order, and its bias."""
    steps, sid, p = _by_id(trace), step.id, trace.info[0].problem
    pos = _position(step, i)
    if re.fullmatch(r"z\d+", sid):
        layer = int(sid[1:])
        n, j = pos
        w, h = steps[f"W{layer}"], steps[input_of(p, layer)[0]]
        terms = [_product(_entry(w, j, k), _entry(h, n, k)) for k in range(p.widths[layer - 1])]
        bias = _entry(steps[f"b{layer}"], j) if p.bias else None
        return terms, (bias[0], bias[1], None) if bias else None
    step_id = ids.parse(sid)
    assert step_id is not None, sid
    kind, layer = step_id.kind, step_id.layer or 0
    if kind in ("dh_W", "dhd") or (kind == "dh" and direct_dh(p, layer)):
        n, k = pos
        w, dz = steps[f"W{layer + 1}"], steps[f"dz{layer + 1}"]
        return [
            _product(_entry(w, j, k), _entry(dz, n, j)) for j in range(p.widths[layer + 1])
        ], None
    if re.fullmatch(r"dW\d+", sid):
        layer = int(sid[2:])
        m, k = pos
        dz, h = steps[f"dz{layer}"], steps[input_of(p, layer)[0]]
        examples = dz.spec.shape[0]  # this iteration's (mini-)batch
        return [_product(_entry(dz, n, m), _entry(h, n, k)) for n in range(examples)], None
    if re.fullmatch(r"db\d+", sid):
        dz = steps[f"dz{sid[2:]}"]
        return [(*_entry(dz, n, pos[0]), None) for n in range(dz.spec.shape[0])], None
    if sid == "sum_exp":
        e = steps["exp_z"]
        return [(*_entry(e, pos[0], j), None) for j in range(p.widths[-1])], None
    return None


def _product(a: tuple[str, Decimal], b: tuple[str, Decimal]) -> Term:
    return f"{a[0]} {b[0]}", a[1], b[1]


def exact_text(x: Decimal, r: Rounding) -> str:
    """An exact intermediate: as written when it has no more digits than the rule keeps."""
    if r.rounder()(x) == x:
        return r.text(x)
    return format(abs(x) if x.is_zero() else x.normalize(), "f")


def _sum_lines(r: Rounding, terms_bias: tuple[list[Term], Term | None]) -> list[str]:
    terms, bias = terms_bias
    rounded = r.per == "operation"
    rnd = r.rounder()
    text = r.text
    lines = []
    with localcontext(WORKING):
        acc: Decimal | None = None
        for k, (label, a, b) in enumerate([*terms, *([bias] if bias else [])]):
            is_bias = bias is not None and k == len(terms)
            value = a if b is None else a * b
            shown = f"{label} = {text(a)}" if b is None else f"{label} = ({text(a)})({text(b)})"
            if b is not None:
                exact = exact_text(value, r)
                value = rnd(value) if rounded else value
                shown += f" = {text(value) if rounded else exact}"
            acc = value if acc is None else acc + value
            if rounded:
                acc = rnd(acc)
            name = "bias" if is_bias else f"term {k + 1}"
            partial = text(acc) if rounded else exact_text(acc, r)
            lines.append(f"  {name:<8} {shown}   partial sum {partial}")
    assert acc is not None
    how = "every product and partial sum rounded" if rounded else "the exact sum, rounded once"
    lines.append(f"  sum      {exact_text(acc, r)} ({how})")
    return lines


def _reads(trace: Trace, step: Step, i: int) -> list[str]:
    """The written numbers an entry is computed from: the same entry of each input."""
    steps = _by_id(trace)
    pos = _position(step, i)
    out = []
    for name in step.spec.inputs:
        source = steps[name]
        shape = source.spec.shape
        if shape == step.spec.shape:
            out.append(f"{_label(source, _flat(source, pos))} = {source.text(_flat(source, pos))}")
        elif step.spec.per_example and source.spec.per_example and shape == step.spec.shape[:1]:
            out.append(f"{_label(source, pos[0])} = {source.text(pos[0])}")
        elif len(source.values) <= 12:
            out.append(
                ", ".join(
                    f"{_label(source, k)} = {source.text(k)}" for k in range(len(source.values))
                )
            )
    if step.spec.phase == "update":
        out.append(f"η = {trace.problem.learning_rate}")
    return [f"  with     {line}" for line in out]


def _update_line(trace: Trace, step: Step, i: int) -> str:
    """W - η g with the numbers: η g, then the difference (each rounded under per operation)."""
    steps, r = _by_id(trace), step.rounding
    old, grad = steps[step.spec.inputs[0]].values[i], steps[step.spec.inputs[1]].values[i]
    rate = trace.problem.learning_rate
    with localcontext(WORKING):
        scaled = rate * grad
        if r.per == "operation":
            scaled = r.rounder()(scaled)
        result = old - scaled
    return (
        f"  so       {r.text(old)} - {rate} × ({r.text(grad)}) = {r.text(old)} - "
        f"({exact_text(scaled, r)}) = {exact_text(result, r)}"
    )


def _flat(step: Step, pos: tuple[int, ...]) -> int:
    flat = 0
    for i, size in zip(pos, step.spec.shape, strict=True):
        flat = flat * size + i
    return flat
