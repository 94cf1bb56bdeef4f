"""What a summed entry adds up, term by term, read from the written steps it is computed from.

A sum is its terms in the order the cycle adds them (numbers, or products a b), then a bias, then
what is done with the sum last (a division by N, a sign). Terms that are computed before they are
summed, such as (ŷ_j - y_j)^2, are computed here by the same number system as the cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from handcalc.config.problem import Problem
from handcalc.model.functions import LOSSES
from handcalc.model.ids import Kind
from handcalc.numbers import Flat, NumberSystem, Rounding
from handcalc.trace import Step

Labelled = tuple[str, Decimal]  # an entry's label and value


@dataclass(frozen=True, slots=True)
class Finish:
    """The operation after the sum: its text with {s} for the sum, and the system's operation."""

    text: str
    apply: Callable[[NumberSystem, Flat], Flat]


@dataclass(frozen=True, slots=True)
class Sum:
    """What a summed entry adds up in order: numbers `a`, or products a b; then a bias; then
    `finish`. Each label may hold the term's formula with its numbers put in."""

    labels: list[str]
    a: list[Decimal]
    b: list[Decimal] | None  # the second factors, when the terms are products
    bias: Labelled | None = None
    finish: Finish | None = None


@dataclass(frozen=True, slots=True)
class At:
    """Where a sum is read: the step, the steps it reads, its entry's position (0-based, in the
    step's internal shape), the run's problem and the hand system."""

    step: Step
    inputs: list[Step]
    pos: tuple[int, ...]
    problem: Problem
    ns: NumberSystem

    def kinds(self) -> list[Kind]:
        return [s.spec.kind for s in self.inputs]

    def computed(self, compute: Callable[[NumberSystem], Flat]) -> list[Decimal]:
        """Numbers the hand system computes (rounded per operation under `per: operation`)."""
        with self.ns.session():
            out: list[Decimal] = compute(self.ns).data
        return out

    def text(self, x: Decimal) -> str:
        """A written number as the class writes it."""
        return self.step.rounding.text(x)

    def number(self, x: Decimal) -> str:
        """A computed number: as written, or exact (rounded only when written down)."""
        return exact_text(x, self.step.rounding)


LONG = 40  # significant digits past which an exact intermediate (ln, a division) is shortened


def exact_text(x: Decimal, r: Rounding) -> str:
    """An exact intermediate: as written when it has no more digits than the rule keeps, in
    full when short, else to the rule's digits and 8 more, marked ≈.

    >>> r = Rounding(digits=2)
    >>> exact_text(Decimal("0.5"), r), exact_text(Decimal("0.0625"), r)
    ('0.50', '0.0625')
    >>> exact_text(Decimal("0." + "6" * 60), r)  # 2/3 in the 60-digit working context
    '≈0.6666666667'
    """
    if r.rounder()(x) == x:
        return r.text(x)
    if len(x.as_tuple().digits) <= LONG:
        return format(abs(x) if x.is_zero() else x.normalize(), "f")
    shown = r.digits + 8
    return "≈" + format(x.quantize(Decimal(1).scaleb(x.adjusted() - shown + 1)), "f")


# ---------------------------------------------------------------- entries


def label(step: Step, i: int) -> str:
    """Flat entry i's label, with its example when the step has several."""
    example, name = list(step.labels())[i]
    return name + (f" of example {example}" if example else "")


def position(step: Step, i: int) -> tuple[int, ...]:
    """The 0-based index of flat entry i in the step's internal shape (example axis first)."""
    out = []
    for size in reversed(step.spec.shape):
        i, r = divmod(i, size)
        out.append(r)
    return tuple(reversed(out))


def flat(step: Step, pos: tuple[int, ...]) -> int:
    out = 0
    for i, size in zip(pos, step.spec.shape, strict=True):
        out = out * size + i
    return out


def entry(step: Step, *index: int) -> Labelled:
    """A step's entry by 0-based index in its full (internal) shape: its label and value."""
    i = flat(step, index)
    return label(step, i), step.values[i]


def _row(step: Step, n: int) -> list[Labelled]:
    """The entries of example n of a per-example step of one output axis, by their names
    within the example."""
    names = [name for _, name in step.labels()]
    width = step.spec.shape[-1]
    return [(names[flat(step, (n, j))], step.values[flat(step, (n, j))]) for j in range(width)]


# ---------------------------------------------------------------- the sums


def _products(
    pairs: list[tuple[Labelled, Labelled]],
    bias: Labelled | None = None,
    finish: Finish | None = None,
) -> Sum:
    return Sum(
        labels=[f"{x[0]} {y[0]}" for x, y in pairs],
        a=[x[1] for x, _ in pairs],
        b=[y[1] for _, y in pairs],
        bias=bias,
        finish=finish,
    )


def _numbers(entries: list[Labelled], finish: Finish | None = None) -> Sum:
    return Sum(labels=[e[0] for e in entries], a=[e[1] for e in entries], b=None, finish=finish)


def _affine(at: At) -> Sum:
    """z_nj = Σ_k W_jk h_nk (+ b_j); at test time under the notes' scaling, (p W_jk) h_nk."""
    w, h, *bias = at.inputs
    (n, j), factor = at.pos, at.step.spec.factor
    weights = [entry(w, j, k) for k in range(w.spec.shape[1])]
    if factor is not None:
        values = [x for _, x in weights]
        scaled = at.computed(lambda ns: ns.mul(factor, ns.array(values, (len(values),))))
        weights = [(f"{factor} {name}", x) for (name, _), x in zip(weights, scaled, strict=True)]
    pairs = [(wk, entry(h, n, k)) for k, wk in enumerate(weights)]
    return _products(pairs, entry(bias[0], j) if bias else None)


def _through_w(at: At) -> Sum | None:
    """dL/dh_nk = Σ_j W_jk dL/dz_nj, when the step is that product (not a skip sum or a mask)."""
    if at.kinds() != [Kind.W, Kind.dz]:
        return None
    w, dz = at.inputs
    n, k = at.pos
    return _products([(entry(w, j, k), entry(dz, n, j)) for j in range(w.spec.shape[0])])


def _outer(at: At) -> Sum:
    """dL/dW_mk = Σ_n dL/dz_nm h_nk over this iteration's (mini-)batch."""
    dz, h = at.inputs
    m, k = at.pos
    return _products([(entry(dz, n, m), entry(h, n, k)) for n in range(dz.spec.shape[0])])


def _over_examples(at: At) -> Sum:
    """dL/db_m = Σ_n dL/dz_nm."""
    (dz,) = at.inputs
    return _numbers([entry(dz, n, at.pos[0]) for n in range(dz.spec.shape[0])])


def _over_classes(at: At) -> Sum:
    """S_n = Σ_j exp(z_nj)."""
    (e,) = at.inputs
    return _numbers([entry(e, at.pos[0], j) for j in range(e.spec.shape[-1])])


def _through_softmax(at: At) -> Sum | None:
    """dL/dz_ni = Σ_j (dŷ/dz)_ji dL/dŷ_j: the Jacobian's column i times dL/dŷ."""
    if at.kinds() != [Kind.J_softmax, Kind.dyhat]:
        return None
    jacobian, gradient = at.inputs
    n, i = at.pos
    d = gradient.spec.shape[-1]
    return _products([(entry(jacobian, n, j, i), entry(gradient, n, j)) for j in range(d)])


def _contracted(at: At) -> Sum:
    """(dL/dW)_mk = Σ_j (dL/dz)_j (dz_j/dW)_mk."""
    dz, tensor = at.inputs
    m, k = at.pos
    d = dz.spec.shape[-1]
    return _products([(entry(dz, 0, j), entry(tensor, j, m, k)) for j in range(d)])


def _divided(count: int) -> Finish:
    """The sum divided by a count: N examples, T passes."""
    return Finish(text=f"{{s}} / {count}", apply=lambda ns, s: ns.div(s, Decimal(count)))


def _loss(at: At) -> Sum:
    """L = finish(Σ_j term_j) of one example, or (1/N) Σ_n L_n over a batch."""
    if at.kinds() == [Kind.losses]:
        (losses,) = at.inputs
        n = losses.spec.shape[0]
        mean = at.problem.reduction == "mean"
        terms = [entry(losses, k) for k in range(n)]
        return _numbers(terms, _divided(n) if mean else None)
    yhat, y = at.inputs
    loss, n, d = LOSSES[at.problem.loss], (at.pos or (0,))[0], yhat.spec.shape[-1]
    row = at.computed(lambda ns: loss.term(ns, ns.rows(_block(yhat))[n], ns.rows(_block(y))[n], d))
    labels = [
        f"{loss.term_formula.format(yhat=p[0], y=t[0])} = "
        f"{loss.term_formula.format(yhat=at.text(p[1]), y=at.text(t[1]))}"
        for p, t in zip(_row(yhat, n), _row(y, n), strict=True)
    ]
    finish = None
    if loss.finish_formula is not None:
        text = loss.finish_formula.replace("{d}", str(d))
        finish = Finish(text=text, apply=lambda ns, s: loss.finish(ns, s, d))
    return Sum(labels=labels, a=row, b=None, finish=finish)


def _block(step: Step) -> Flat:
    """A step's written values as the hand system's array, in its internal shape."""
    return Flat(shape=step.spec.shape, data=list(step.values))


def _temperature_gradient(at: At) -> Sum:
    """dL/dT = -(1/T^2) Σ_n Σ_j (dL/dz̃)_nj z_nj."""
    dz, z, t = at.inputs
    rows, d = dz.spec.shape
    pairs = [(entry(dz, n, j), entry(z, n, j)) for n in range(rows) for j in range(d)]
    temperature = t.values[0]
    text = f"-({{s}}) / ({at.text(temperature)} × {at.text(temperature)})"

    def apply(ns: NumberSystem, s: Flat) -> Flat:
        scalar = ns.array([temperature], ())
        return ns.neg(ns.div(s, ns.mul(scalar, scalar)))

    return _products(pairs, finish=Finish(text=text, apply=apply))


def _mean(at: At) -> Sum:
    """(1/T) Σ_k ŷ_k over the T passes."""
    count = len(at.inputs)
    return _numbers([entry(s, *at.pos) for s in at.inputs], _divided(count))


def _variance(at: At) -> Sum:
    """(1/T) Σ_k (ŷ_k - mean)^2 over the T passes."""
    *outputs, mean = at.inputs
    m = entry(mean, *at.pos)
    pairs = [entry(s, *at.pos) for s in outputs]
    squares = at.computed(lambda ns: _squares(ns, [x for _, x in pairs], m[1]))
    labels = [f"({name} - mean)^2 = ({at.text(x)} - {at.text(m[1])})^2" for name, x in pairs]
    count = len(outputs)
    return Sum(labels=labels, a=squares, b=None, finish=_divided(count))


def _squares(ns: NumberSystem, values: list[Decimal], mean: Decimal) -> Flat:
    e = ns.sub(ns.array(values, (len(values),)), mean)
    return ns.mul(e, e)


def _test_softmax(at: At) -> Sum | None:
    """ŷ_i = exp(z_i) / Σ_k exp(z_k) of the test pass, with z / T under a temperature."""
    if at.problem.head != "softmax":
        return None
    z, *temperature = at.inputs
    n, i = at.pos
    row = _row(z, n)
    t = temperature[0].values[0] if temperature else None
    logits = [x for _, x in row]

    def exps(ns: NumberSystem) -> Flat:
        v = ns.array(logits, (len(logits),))
        return ns.exp(v if t is None else ns.div(v, ns.fill(ns.array([t], ()), v.shape)))

    values = at.computed(exps)
    scaled = "" if t is None else f" / {at.text(t)}"
    labels = [
        f"exp({name}{'' if t is None else ' / T'}) = exp({at.text(x)}{scaled})" for name, x in row
    ]
    share = values[i]
    finish = Finish(
        text=f"{at.number(share).lstrip('≈')} / {{s}}",
        apply=lambda ns, s: ns.div(ns.array([share], ()), s),
    )
    return Sum(labels=labels, a=values, b=None, finish=finish)


Builder = Callable[[At], Sum | None]
SUMS: dict[Kind, Builder] = {
    Kind.z: _affine,
    Kind.tz: _affine,
    Kind.dh: _through_w,
    Kind.dh_W: _through_w,
    Kind.dhd: _through_w,
    Kind.dW: _outer,
    Kind.db: _over_examples,
    Kind.sum_exp: _over_classes,
    Kind.dz: _through_softmax,
    Kind.dzT: _through_softmax,
    Kind.dW_contracted: _contracted,
    Kind.loss: _loss,
    Kind.losses: _loss,
    Kind.dT: _temperature_gradient,
    Kind.mean: _mean,
    Kind.var: _variance,
    Kind.tyhat: _test_softmax,
}
