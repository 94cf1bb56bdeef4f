"""One entry worked out as on paper: the formula, the numbers substituted, every partial sum.

Sums (z, dL/dh, dL/dW, dL/db, S) are expanded term by term, each product and partial sum rounded
under `per: operation` and exact under `per: value`; other entries list the written numbers they
are computed from. The products and partial sums are the number system's own: the partial sum of
the first k terms is its dot product (or total) of those k terms, the order the cycle sums in.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from handcalc.errors import ConfigError
from handcalc.model import ids
from handcalc.model.ids import Kind
from handcalc.model.steps import Phase
from handcalc.numbers import NumberSystem, Rounding, hand
from handcalc.render.tables import fmt_deviation, fmt_float, fmt_units
from handcalc.rowmajor import indices
from handcalc.trace import Step, Trace

Labelled = tuple[str, Decimal]  # an entry's label and value


@dataclass(frozen=True, slots=True)
class Sum:
    """What a summed entry adds up in index order: numbers `a`, or products a b; then a bias."""

    labels: list[str]
    a: list[Decimal]
    b: list[Decimal] | None  # the second factors, when the terms are products
    bias: Labelled | None = None


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
    lines = [f"{_label(step, i)} = {step.spec.formula}   [{step.id}, {step.spec.phase}]"]
    total = _sum(trace, step, i)
    if total is not None:
        lines += _sum_lines(hand(step.rounding), step.rounding, total)
    else:
        lines += _reads(trace, step, i)
        if step.spec.kind in UPDATES:
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


def _entry(step: Step, *index: int) -> Labelled:
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


def _flat(step: Step, pos: tuple[int, ...]) -> int:
    flat = 0
    for i, size in zip(pos, step.spec.shape, strict=True):
        flat = flat * size + i
    return flat


# ---------------------------------------------------------------- the sums


def _sum(trace: Trace, step: Step, i: int) -> Sum | None:
    """What a summed entry adds up, read from the steps it is computed from; None if no sum."""
    build = SUMS.get(step.spec.kind)
    if build is None:
        return None
    steps = _by_id(trace)
    return build([steps[s] for s in step.spec.inputs], _position(step, i))


def _products(pairs: list[tuple[Labelled, Labelled]], bias: Labelled | None = None) -> Sum:
    labels = [f"{x[0]} {y[0]}" for x, y in pairs]
    return Sum(labels=labels, a=[x[1] for x, _ in pairs], b=[y[1] for _, y in pairs], bias=bias)


def _numbers(entries: list[Labelled]) -> Sum:
    return Sum(labels=[e[0] for e in entries], a=[e[1] for e in entries], b=None)


def _affine(inputs: list[Step], pos: tuple[int, ...]) -> Sum:
    """z_nj = Σ_k W_jk h_nk (+ b_j)."""
    w, h, *bias = inputs
    n, j = pos
    pairs = [(_entry(w, j, k), _entry(h, n, k)) for k in range(w.spec.shape[1])]
    return _products(pairs, _entry(bias[0], j) if bias else None)


def _through_w(inputs: list[Step], pos: tuple[int, ...]) -> Sum | None:
    """dL/dh_nk = Σ_j W_jk dL/dz_nj, when the step is that product (not a skip sum or a mask)."""
    if [s.spec.kind for s in inputs] != [Kind.W, Kind.dz]:
        return None
    w, dz = inputs
    n, k = pos
    return _products([(_entry(w, j, k), _entry(dz, n, j)) for j in range(w.spec.shape[0])])


def _outer(inputs: list[Step], pos: tuple[int, ...]) -> Sum:
    """dL/dW_mk = Σ_n dL/dz_nm h_nk over this iteration's (mini-)batch."""
    dz, h = inputs
    m, k = pos
    return _products([(_entry(dz, n, m), _entry(h, n, k)) for n in range(dz.spec.shape[0])])


def _over_examples(inputs: list[Step], pos: tuple[int, ...]) -> Sum:
    """dL/db_m = Σ_n dL/dz_nm."""
    (dz,) = inputs
    return _numbers([_entry(dz, n, pos[0]) for n in range(dz.spec.shape[0])])


def _over_classes(inputs: list[Step], pos: tuple[int, ...]) -> Sum:
    """S_n = Σ_j exp(z_nj)."""
    (e,) = inputs
    return _numbers([_entry(e, pos[0], j) for j in range(e.spec.shape[-1])])


SUMS: dict[Kind, Callable[[list[Step], tuple[int, ...]], Sum | None]] = {
    Kind.z: _affine,
    Kind.dh: _through_w,
    Kind.dh_W: _through_w,
    Kind.dhd: _through_w,
    Kind.dW: _outer,
    Kind.db: _over_examples,
    Kind.sum_exp: _over_classes,
}
UPDATES = {Kind.W_next, Kind.b_next, Kind.T_next}


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


def _products_of(ns: NumberSystem, total: Sum) -> list[Decimal]:
    """Each product a b as the system writes it (rounded under `per: operation`)."""
    assert total.b is not None
    with ns.session():
        n = len(total.a)
        out: list[Decimal] = ns.mul(ns.array(total.a, (n,)), ns.array(total.b, (n,))).data
    return out


def _sum_lines(ns: NumberSystem, r: Rounding, total: Sum) -> list[str]:
    """A line per term with its partial sum, then the bias, then the sum."""
    rounded = r.per == "operation"
    shown = _shown(ns, r, total)
    names = [f"term {k + 1}" for k in range(len(total.a))]
    if total.bias is not None:
        shown.append(f"{total.bias[0]} = {r.text(total.bias[1])}")
        names.append("bias")
    partials = _partial_sums(ns, total)
    lines = [
        f"  {name:<8} {text}   partial sum {r.text(s) if rounded else exact_text(s, r)}"
        for name, text, s in zip(names, shown, partials, strict=True)
    ]
    how = "every product and partial sum rounded" if rounded else "the exact sum, rounded once"
    return [*lines, f"  sum      {exact_text(partials[-1], r)} ({how})"]


def _shown(ns: NumberSystem, r: Rounding, total: Sum) -> list[str]:
    """Each term with its numbers: 'label = a', or 'label = (a)(b) = a b'."""
    if total.b is None:
        return [f"{label} = {r.text(a)}" for label, a in zip(total.labels, total.a, strict=True)]
    products = _products_of(ns, total)
    write = r.text if r.per == "operation" else (lambda x: exact_text(x, r))
    return [
        f"{label} = ({r.text(a)})({r.text(b)}) = {write(ab)}"
        for label, a, b, ab in zip(total.labels, total.a, total.b, products, strict=True)
    ]


def exact_text(x: Decimal, r: Rounding) -> str:
    """An exact intermediate: as written when it has no more digits than the rule keeps."""
    if r.rounder()(x) == x:
        return r.text(x)
    return format(abs(x) if x.is_zero() else x.normalize(), "f")


# ---------------------------------------------------------------- other entries


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
    if step.spec.phase is Phase.update:
        out.append(f"η = {trace.problem.learning_rate}")
    return [f"  with     {line}" for line in out]


def _update_line(trace: Trace, step: Step, i: int) -> str:
    """W - η g with the numbers: η g as the system writes it, then the exact difference."""
    steps, r, ns = _by_id(trace), step.rounding, hand(step.rounding)
    old, grad = steps[step.spec.inputs[0]].values[i], steps[step.spec.inputs[1]].values[i]
    rate = trace.problem.learning_rate
    with ns.session():
        scaled: Decimal = ns.mul(rate, ns.array([grad], ())).data[0]
        result = old - scaled
    return (
        f"  so       {r.text(old)} - {rate} × ({r.text(grad)}) = {r.text(old)} - "
        f"({exact_text(scaled, r)}) = {exact_text(result, r)}"
    )
