"""Grade a student's answers: correct, carried (error carried forward) or wrong, slips named.

An entry is correct when it equals the key within its tolerance; carried when it differs from the
key but equals what the step gives from the student's own values of the steps it reads; wrong
otherwise. A wrong entry is tried against the usual slips, each recomputed from the student's own
inputs with the very step code of the cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from handcalc.config.problem import Problem
from handcalc.errors import HandcalcError
from handcalc.grading.answers import Answers, Given
from handcalc.model import ids
from handcalc.model.backward import direct_dh
from handcalc.model.functions import ACTIVATIONS, LOSSES
from handcalc.model.runner import make_trace, recompute
from handcalc.model.steps import StepSpec
from handcalc.numbers import Flat, NumberSystem, Rounding, hand
from handcalc.rounding import Mode, Per, Rule
from handcalc.trace import Step, Trace

LN10 = Decimal(10).ln()
TRANSPOSED = "the matrix written transposed (h dz^T instead of dz h^T)"
VERDICTS = ("correct", "carried", "wrong")


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    label: str
    example: int | None
    value: Decimal
    key: str
    tolerance: Decimal
    verdict: str
    recomputed: str | None = None
    diagnosis: str | None = None
    hint: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StepReport:
    step: Step
    points: Decimal
    entries: list[Entry]
    transposed: bool

    def count(self, verdict: str) -> int:
        return sum(e.verdict == verdict for e in self.entries)

    def earned(self, carried_credit: Decimal) -> Decimal:
        if not self.entries:
            return Decimal(0)
        credit = self.count("correct") + carried_credit * self.count("carried")
        return self.points * credit / len(self.entries)


@dataclass(slots=True)
class Report:
    trace: Trace
    steps: list[StepReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    carried_credit: Decimal = Decimal(1)

    @property
    def first_wrong(self) -> StepReport | None:
        return next((s for s in self.steps if s.count("wrong")), None)

    @property
    def score(self) -> tuple[Decimal, Decimal]:
        earned = sum((s.earned(self.carried_credit) for s in self.steps), Decimal(0))
        return earned, sum((s.points for s in self.steps), Decimal(0))

    @property
    def exit_code(self) -> int:
        if self.problems:
            return 2
        return 1 if self.first_wrong else 0


def answerable(trace: Trace) -> dict[str, Step]:
    """The steps a student writes (everything but the given numbers), by id."""
    return {s.id: s for s in trace.iterations[0] if s.spec.phase != "given"}


def grade(
    trace: Trace,
    answers: Answers,
    tolerance: Decimal | None = None,
    carried_credit: Decimal = Decimal(1),
) -> Report:
    report = Report(
        trace,
        problems=list(answers.problems),
        notes=list(answers.notes),
        carried_credit=carried_credit,
    )
    grader = _Grader(trace, answers, tolerance)
    for step in trace.iterations[0]:
        given = answers.given.get(step.id)
        if given is not None:
            report.steps.append(grader.step(step, given))
    return report


# ---------------------------------------------------------------- the grader


@dataclass(frozen=True, slots=True)
class Slip:
    """A usual mistake: what the step gives when it is made, from the student's own inputs.

    `reads` names values the slip needs beyond the step's own inputs.
    """

    name: str
    compute: Callable[[NumberSystem, Mapping[str, Any]], Any]
    reads: tuple[str, ...] = ()


class _Grader:
    def __init__(self, trace: Trace, answers: Answers, tolerance: Decimal | None) -> None:
        self.trace = trace
        self.problem = trace.info[0].problem  # answers are for the first iteration
        self.rounding = trace.problem.rounding
        self.ns = hand(self.rounding)
        self.answers = answers
        self.tolerance = tolerance
        self.key = {s.id: s for s in trace.iterations[0]}
        self.others = _other_rules(self.problem)
        self._other_traces: dict[Rounding, Trace] = {}

    def value(self, step_id: str, own: bool) -> Flat:
        """A step's value: the student's own where given (blanks filled from the key)."""
        key = self.key[step_id]
        data = list(key.values)
        given = self.answers.given.get(step_id)
        if own and given is not None:
            data = [k if g is None else g for g, k in zip(given.values, data, strict=True)]
        return Flat(key.spec.shape, data)

    def recompute(self, spec: StepSpec, slip: Slip | None = None) -> list[Decimal] | None:
        """The step (or a slip of it) from the student's own inputs; None if that breaks."""
        reads = spec.inputs + (slip.reads if slip else ())
        target = spec if slip is None else replace(spec, compute=slip.compute)
        try:
            inputs = {i: self.value(i, own=True) for i in reads}
            out: list[Decimal] = recompute(target, self.ns, inputs).data
        except (HandcalcError, AssertionError, ArithmeticError, KeyError):
            return None
        return out

    def other_trace(self, rounding: Rounding) -> Trace:
        """The same problem under another rounding rule (computed once per rule)."""
        if rounding not in self._other_traces:
            try:
                self._other_traces[rounding] = make_trace(replace(self.problem, rounding=rounding))
            except HandcalcError:
                self._other_traces[rounding] = self.trace
        return self._other_traces[rounding]

    def step(self, step: Step, given: Given) -> StepReport:
        spec = step.spec
        tols = (
            [self.tolerance] * len(step.values) if self.tolerance is not None else step.tolerances()
        )
        own = self.recompute(spec)
        carried = own is not None and any(
            abs(o - k) > t for o, k, t in zip(own, step.values, tols, strict=True)
        )
        slips = [(s.name, self.recompute(spec, s)) for s in _slips(self.problem, spec)]
        entries = []
        labels = list(step.labels())
        for i, value in enumerate(given.values):
            if value is None:
                continue
            example, label = labels[i]
            entries.append(
                self.entry(
                    step,
                    i,
                    value,
                    tols[i],
                    own if carried else None,
                    slips,
                    example,
                    label,
                    given.transposed,
                )
            )
        return StepReport(step, _points(self.problem, spec), entries, given.transposed)

    def entry(
        self,
        step: Step,
        i: int,
        value: Decimal,
        tol: Decimal,
        own: list[Decimal] | None,
        slips: list[tuple[str, list[Decimal] | None]],
        example: int | None,
        label: str,
        transposed: bool,
    ) -> Entry:
        key = step.values[i]
        verdict, recomputed, name, note = "wrong", None, None, None
        if transposed:  # the numbers may be right, but W^(l) is d_l x d_(l-1)
            right = abs(value - key) <= tol or (own is not None and abs(value - own[i]) <= tol)
            name = TRANSPOSED if right else self.diagnose(step, i, value, tol, slips, own)
        elif abs(value - key) <= tol:
            verdict = "correct"
            if value != key and abs(value - Decimal(repr(step.floats[i]))) < abs(value - key):
                note = "closer to the unrounded float64 value: more digits kept than the rule"
        elif own is not None and abs(value - own[i]) <= tol:
            verdict, recomputed = "carried", self.rounding.text(own[i])
        else:
            recomputed = self.rounding.text(own[i]) if own is not None else None
            name = self.diagnose(step, i, value, tol, slips, own)
        hint = f"the notes' formula: {step.spec.symbol} = {step.spec.formula}" if name else None
        return Entry(
            i, label, example, value, step.text(i), tol, verdict, recomputed, name, hint, note
        )

    def diagnose(
        self,
        step: Step,
        i: int,
        value: Decimal,
        tol: Decimal,
        slips: list[tuple[str, list[Decimal] | None]],
        own: list[Decimal] | None,
    ) -> str | None:
        for name, alt in slips:
            if alt is not None and abs(value - alt[i]) <= tol:
                return name
        unit = self.rounding.unit(step.values[i] or value)
        for rounding, name in self.others:
            other = self.other_trace(rounding).step(step.id)
            if other.values[i] != step.values[i] and abs(value - other.values[i]) <= unit / 2:
                return name
        if abs(value - Decimal(repr(step.floats[i]))) <= unit / 2:
            return "intermediates not rounded: the value is the unrounded float64 one"
        for reference in [step.values[i], *([own[i]] if own is not None else [])]:
            if reference and value:
                shift = math.log10(abs(value / reference))
                k = round(shift)
                if k and abs(shift - k) < 0.01 and abs(value - reference.scaleb(k)) <= tol * 10**k:
                    return f"a misplaced decimal point (off by a factor of 10^{k})"
        return None


def _points(p: Problem, spec: StepSpec) -> Decimal:
    points = p.points
    if spec.id in points:
        return points[spec.id]
    return points.get(spec.phase, Decimal(1))


PLACES = {"decimals": "decimal places", "significant": "significant digits"}
PER = {"value": "written value", "operation": "operation"}


def _other_rules(p: Problem) -> list[tuple[Rounding, str]]:
    """The rules a class may mix up with its own, and how to say so."""
    r = p.rounding
    rule: Rule = "half_even" if r.rule == "half_up" else "half_up"
    mode: Mode = "significant" if r.mode == "decimals" else "decimals"
    per: Per = "operation" if r.per == "value" else "value"
    return [
        (replace(r, rule=rule), f"rounded {rule} instead of {r.rule}"),
        (
            replace(r, mode=mode),
            f"{r.digits} {PLACES[mode]} instead of {r.digits} {PLACES[r.mode]}",
        ),
        (replace(r, per=per), f"rounded every {PER[per]} instead of every {PER[r.per]}"),
    ]


# ---------------------------------------------------------------- the usual slips


def _slips(p: Problem, spec: StepSpec) -> list[Slip]:
    sid = spec.id
    step_id = ids.parse(sid)
    assert step_id is not None, sid
    kind, layer = step_id.kind, step_id.layer or 0
    if kind == "dW":
        return _outer_slips(p, spec)
    if kind == "db":
        return _batch_twice(p)
    output = "dzT" if p.temperature is not None else f"dz{p.layers}"
    if (sid == output and LOSSES[p.loss].fused) or sid == "dyhat":
        return _output_slips(p, spec)
    if kind == "dhdz":
        return _at_h(p, layer, derivative_only=True)
    if kind == "dz" and layer < p.layers:
        return [
            Slip(
                "the activation derivative left out (dL/dz = dL/dh)", lambda ns, v: v[f"dh{layer}"]
            ),
            *_at_h(p, layer, derivative_only=False),
        ]
    if kind in ("dh_W", "dhd") or (kind == "dh" and direct_dh(p, layer)):
        return _dh_slips(p, layer)
    if kind in ("W_next", "b_next") and p.optimizer.name == "sgd" and not p.optimizer.weight_decay:
        return _update_slips(p, sid[: -len("_next")])
    if sid in ("loss", "losses"):
        return _loss_slips(p, spec)
    return []


def _outer_slips(p: Problem, spec: StepSpec) -> list[Slip]:
    dz, h = spec.inputs
    out = _batch_twice(p, lambda ns, v: ns.matmul_nt(ns.transpose(v[dz]), ns.transpose(v[h])))
    rows, cols = spec.shape
    if rows == cols:
        out.insert(
            0,
            Slip(
                "the outer product transposed (h dz^T instead of dz h^T)",
                lambda ns, v: ns.matmul_nt(ns.transpose(v[h]), ns.transpose(v[dz])),
            ),
        )
    return out


def _batch_twice(p: Problem, base: Callable[..., Any] | None = None) -> list[Slip]:
    if p.reduction != "mean" or p.examples < 2:
        return []
    n = Decimal(p.examples)

    def twice(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        inner = base(ns, v) if base else ns.total(next(iter(v.values())), 0)
        return ns.div(inner, n)

    return [Slip("the batch 1/N applied twice", twice)]


def _output_slips(p: Problem, spec: StepSpec) -> list[Slip]:
    loss, dl = LOSSES[p.loss], p.widths[-1]
    n = Decimal(p.examples)
    mean = p.reduction == "mean" and p.examples > 1

    def grad(ns: NumberSystem, v: Mapping[str, Any], y: Any = None) -> Any:
        return loss.gradient(ns, v["yhat"], v["y"] if y is None else y, dl)

    out = [
        Slip(
            "y - ŷ instead of ŷ - y (the sign flipped)",
            lambda ns, v: ns.neg(ns.div(grad(ns, v), n) if mean else grad(ns, v)),
        )
    ]
    if mean:
        out += [
            Slip("the batch 1/N left out", lambda ns, v: grad(ns, v)),
            Slip("the batch 1/N applied twice", lambda ns, v: ns.div(ns.div(grad(ns, v), n), n)),
        ]
    if p.labels is not None:
        shifted = _shifted_targets(p)
        if shifted is not None:
            out.append(
                Slip(
                    "the label read 0-based (class c taken as c + 1)",
                    lambda ns, v: ns.div(grad(ns, v, shifted), n) if mean else grad(ns, v, shifted),
                )
            )
    return out


def _shifted_targets(p: Problem) -> Flat | None:
    """The one-hot targets a student gets by reading label c as index c, i.e. class c + 1."""
    dl = p.widths[-1]
    assert p.labels is not None
    if any(c >= dl for c in p.labels):
        return None
    data = [Decimal(1) if j == c else Decimal(0) for c in p.labels for j in range(dl)]
    return Flat((len(p.labels), dl), data)


def _at_h(p: Problem, layer: int, derivative_only: bool) -> list[Slip]:
    """σ' evaluated at h instead of z: differs only for the activations whose σ' reads h."""
    act, h = ACTIVATIONS[p.activations[layer - 1]], f"h{layer}"
    if act.reads != "h":
        return []
    name = "the derivative taken at h instead of z (σ'(h))"

    def at_h(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return act.derivative(ns, act.value(ns, v[h]))

    if derivative_only:
        return [Slip(name, at_h)]
    return [Slip(name, lambda ns, v: ns.mul(at_h(ns, v), v[f"dh{layer}"]), reads=(h,))]


def _dh_slips(p: Problem, layer: int) -> list[Slip]:
    w, dz = f"W{layer + 1}", f"dz{layer + 1}"
    out = [
        Slip(
            "the already-updated W^(l+1) used for dL/dh^(l)",
            lambda ns, v: ns.matmul_nt(v[dz], ns.transpose(v[f"{w}_next"])),
            reads=(f"{w}_next",),
        )
    ]
    if p.widths[layer] == p.widths[layer + 1]:
        out.append(
            Slip("W used instead of W^T (dL/dh = W dL/dz)", lambda ns, v: ns.matmul_nt(v[dz], v[w]))
        )
    return out


def _update_slips(p: Problem, name: str) -> list[Slip]:
    rate, grad = p.learning_rate, f"d{name}"
    return [
        Slip(
            "the update's sign flipped (W + η g)",
            lambda ns, v: ns.add(v[name], ns.mul(rate, v[grad])),
        ),
        Slip("the learning rate left out (W - g)", lambda ns, v: ns.sub(v[name], v[grad])),
    ]


def _loss_slips(p: Problem, spec: StepSpec) -> list[Slip]:
    loss, dl = LOSSES[p.loss], p.widths[-1]
    out = []
    if loss.name in ("cross_entropy", "binary_cross_entropy"):

        def log10(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
            per = loss.per_example(ns, v["yhat"], v["y"], dl)
            per = ns.div(per, LN10)
            return ns.reshape(per, ()) if spec.shape == () else per

        out.append(Slip("log10 instead of ln", log10))
    if p.labels is not None and "y" in spec.inputs:
        shifted = _shifted_targets(p)
        if shifted is not None:

            def zero_based(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
                per = loss.per_example(ns, v["yhat"], shifted, dl)
                return ns.reshape(per, ()) if spec.shape == () else per

            out.append(Slip("the label read 0-based (class c taken as c + 1)", zero_based))
    return out
