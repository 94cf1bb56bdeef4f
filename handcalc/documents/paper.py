"""Worksheets and answer keys as one document model, text only (numbers already written by the
rule); Typst, LaTeX, HTML and Markdown lay it out."""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal

from handcalc.config.load import normalized
from handcalc.documents import statement
from handcalc.documents.names import charted, named
from handcalc.documents.settings import settings
from handcalc.documents.statement import ACTIVATION_NAMES, LOSS_NAMES
from handcalc.documents.worked import ASSIGNED, Worked, worked
from handcalc.errors import HandcalcError
from handcalc.explain import explain, parse_scalar
from handcalc.model.ids import Kind
from handcalc.model.steps import Phase, StepSpec
from handcalc.render.tables import PHASE_TITLES
from handcalc.rowmajor import dumps
from handcalc.text import clean
from handcalc.trace import Step, Trace

# A rich text is a list of (kind, text) segments, kind in text, sup, sub, so that every format can
# write the notes' superscripts and subscripts without a math parser.
Segments = list[tuple[str, str]]
_SCRIPT = re.compile(
    r"\^\(([^()]*)\)|\^([T2])(?![A-Za-z0-9])|_([0-9]+(?:,[0-9]+)*|[a-zA-Z](?![a-zA-Z]))"
)


def segments(notation: str) -> Segments:
    """'dL/dW^(2)_1,3' -> text 'dL/dW', sup '(2)', sub '1,3'.

    >>> segments("z^(1)_2 = W^(1)")
    [('text', 'z'), ('sup', '(1)'), ('sub', '2'), ('text', ' = W'), ('sup', '(1)')]
    """
    out: Segments = []
    last = 0
    for m in _SCRIPT.finditer(notation):
        if m.start() > last:
            out.append(("text", notation[last : m.start()]))
        if m.group(1) is not None:
            out.append(("sup", f"({m.group(1)})"))
        else:
            out.append(("sup", m.group(2)) if m.group(2) else ("sub", m.group(3)))
        last = m.end()
    if last < len(notation):
        out.append(("text", notation[last:]))
    return out


@dataclass(frozen=True, slots=True)
class Header:
    title: str
    course: str | None
    date: str | None
    instructions: str | None
    key: bool
    variant: int | None
    seed: int
    config_hash: str

    @property
    def about(self) -> list[str]:
        """The line under the title: worksheet or key, course, date, variant."""
        return [
            "Answer key" if self.key else "Worksheet",
            *(m for m in (self.course, self.date) if m),
            *([f"variant {self.variant}"] if self.variant is not None else []),
        ]

    @property
    def stamp(self) -> str:
        """What every page carries, so any paper can be regenerated."""
        variant = f"variant {self.variant} · " if self.variant is not None else ""
        return f"{variant}seed {self.seed} · config {self.config_hash}"


@dataclass(frozen=True, slots=True)
class Matrix:
    """Numbers laid out as rows; `symbol` in the notes' notation."""

    name: str
    symbol: str
    rows: list[list[str]]
    row_labels: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Box:
    """An answer box for one written quantity; `values` is None on a worksheet."""

    step_id: str
    symbol: str
    formula: str | None
    shape: str
    rows: int
    cols: int
    values: list[list[str]] | None
    points: str
    row_labels: list[str] = field(default_factory=list)
    chars: int = 0  # the longest answer's length: a worksheet's cells as wide as the key's


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    boxes: list[Box]


@dataclass(frozen=True, slots=True)
class Layer:
    width: int
    label: str


Point = tuple[float, float]
SHOWN = 8  # neurons drawn per layer at most


def neuron_positions(
    layers: list[Layer], gap: float, spacing: float, x0: float = 0.0, y0: float = 0.0
) -> list[list[Point]]:
    """The centre of every drawn neuron: layer i at x0 + i gap, its neurons centred on y0."""
    return [
        [(x0 + i * gap, y0 + (k - (count - 1) / 2) * spacing) for k in range(count)]
        for i, count in enumerate(min(layer.width, SHOWN) for layer in layers)
    ]


def edges(positions: list[list[Point]]) -> list[tuple[Point, Point]]:
    """Every weight: each neuron joined to each neuron of the next layer."""
    return [(a, b) for left, right in itertools.pairwise(positions) for a in left for b in right]


@dataclass(frozen=True, slots=True)
class Document:
    header: Header
    given: list[Matrix]
    rule: str
    rule_example: str
    learning_rate: str
    network: list[Layer]
    network_text: str
    sections: list[Section]
    expansions: list[list[str]]  # key only
    chart: list[tuple[str, str, float]]  # key only: step id, symbol, largest |units|
    settings: list[str] = field(default_factory=list)  # every constant the steps read
    space: str = "small"  # working room under each answer box: none, small or large

    @property
    def worked(self) -> list[Worked]:
        return [worked(lines) for lines in self.expansions]

    @property
    def total(self) -> str:
        """The points of the whole paper."""
        total = sum((Decimal(b.points) for s in self.sections for b in s.boxes), Decimal(0))
        return f"{total.normalize():f}"


def config_hash(trace: Trace) -> str:
    """A short hash of the normalized config: the same config, the same hash."""
    text = dumps(normalized(trace.problem))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def build(trace: Trace, key: bool, hints: bool = False, variant: int | None = None) -> Document:
    """The worksheet (or with `key`, the answer key) of the trace's first iteration."""
    p = statement.asking(trace)  # documents show the first iteration, if it asks anything
    return Document(
        header=_header(trace, key, variant),
        given=_given(trace),
        rule=statement.rule_line(p),
        rule_example=_rule_example(trace),
        learning_rate=str(p.learning_rate),
        network=_layers(trace),
        network_text=_network_text(trace),
        sections=_sections(trace, key, hints),
        expansions=_expansions(trace) if key else [],
        chart=_chart(trace) if key else [],
        settings=settings(trace),
        space=p.document.space,
    )


def _header(trace: Trace, key: bool, variant: int | None) -> Header:
    p = trace.info[0].problem
    d = p.document
    return Header(
        title=clean(p.title or "One training step"),
        course=clean(d.course) if d.course else None,
        date=clean(d.date) if d.date else None,
        instructions=clean(d.instructions, newlines=True) if d.instructions else None,
        key=key,
        variant=variant,
        seed=p.init.seed,
        config_hash=config_hash(trace),
    )


def _given(trace: Trace) -> list[Matrix]:
    """The given numbers; the one-hot targets say which class too."""
    p = trace.info[0].problem
    given = [_matrix(s) for s in trace.iterations[0] if s.spec.phase == Phase.given]
    if p.labels is not None:
        at = next(i for i, m in enumerate(given) if m.name == "y")
        y = given[at]
        labels = ", ".join(map(str, p.labels))
        symbol = f"{y.symbol} ({'labels' if p.batched else 'c'} = {labels})"
        given[at] = Matrix(name=y.name, symbol=symbol, rows=y.rows, row_labels=y.row_labels)
    return given


def _sections(trace: Trace, key: bool, hints: bool) -> list[Section]:
    steps = [s for s in trace.iterations[0] if s.spec.written]  # rounding.write: not asked
    return [
        Section(
            title=title,
            boxes=[_box(trace, s, key, hints) for s in steps if s.spec.phase == phase],
        )
        for phase, title in PHASE_TITLES.items()
        if phase != Phase.given and any(s.spec.phase == phase for s in steps)
    ]


def _rows(step: Step, texts: list[str]) -> tuple[list[list[str]], list[str]]:
    """Rows and their labels: n = 1..N for examples, "j=1, 2" for row 2 of a 3-tensor's slice j.

    A per-example number is one row per example; a 3-tensor is its slices one after another.
    """
    shape = step.shape
    if not shape:
        return [texts], []
    if step.example_axis and len(shape) == 1:
        return [[t] for t in texts], [f"n={i + 1}" for i in range(len(texts))]
    cols = shape[-1]
    rows = [texts[i : i + cols] for i in range(0, len(texts), cols)]
    if len(shape) == 3:
        outer = "n" if step.example_axis else "j"
        return rows, [f"{outer}={i // shape[1] + 1}, {i % shape[1] + 1}" for i in range(len(rows))]
    if step.example_axis:
        return rows, [f"n={i + 1}" for i in range(len(rows))]
    return rows, [str(i + 1) for i in range(len(rows))] if len(shape) == 2 else []


def slices(
    rows: list[list[str]], labels: list[str]
) -> list[tuple[str, list[list[str]], list[str]]]:
    """A 3-tensor's rows, labelled 'j=1, 2' (slice j = 1, its row 2), grouped by slice:
    [('j = 1', rows, ['1', '2', ...]), ...]; none for any other table."""
    out: list[tuple[str, list[list[str]], list[str]]] = []
    for row, label in zip(rows, labels, strict=False):
        outer, comma, inner = label.partition(", ")
        if not comma:
            return []
        name = outer.replace("=", " = ")
        if not out or out[-1][0] != name:
            out.append((name, [], []))
        out[-1][1].append(row)
        out[-1][2].append(inner)
    return out


def _texts(step: Step) -> list[str]:
    """The written entries; masks and one-hot targets as 0 and 1, and under significant digits
    a zero written in the form of its neighbours (0.000 beside 1.000, never a bare 0)."""
    if step.spec.kind in (Kind.d, Kind.y) and all(v in (0, 1) for v in step.values):
        return [str(int(v)) for v in step.values]
    r = step.rounding
    if r.mode != "significant" or r.digits < 2:
        return step.texts()
    zero = "0." + "0" * (r.digits - 1)
    return [zero if t == "0" else t for t in step.texts()]


def _matrix(step: Step) -> Matrix:
    rows, labels = _rows(step, _texts(step))
    return Matrix(
        name=step.id,
        symbol=step.spec.symbol
        + ("" if step.spec.formula == "given" else f" = {step.spec.formula}"),
        rows=rows,
        row_labels=labels,
    )


def equation(spec: StepSpec) -> str | None:
    """The step's formula as the notes write it: W^(l) ← W^(l) − η dL/dW^(l) for an update;
    None when the formula only repeats the symbol."""
    if spec.formula == spec.symbol:
        return None
    return f"{spec.symbol} {'←' if spec.kind in ASSIGNED else '='} {spec.formula}"


def _box(trace: Trace, step: Step, key: bool, hints: bool) -> Box:
    rows, labels = _rows(step, _texts(step))
    shape = " x ".join(map(str, step.shape)) or "one number"
    symbol = named(step.spec)
    formula = equation(step.spec) if key or hints else None
    points = trace.problem.points.get(step.id, trace.problem.points.get(step.spec.phase, 1))
    return Box(
        step_id=step.id,
        symbol=symbol,
        formula=formula,
        shape=shape,
        rows=len(rows),
        cols=len(rows[0]) if rows else 1,
        values=rows if key else None,
        points=f"{Decimal(points).normalize():f}",
        row_labels=labels,
        chars=max(map(len, itertools.chain(*rows)), default=0),
    )


def _rule_example(trace: Trace) -> str:
    """One example of the rule, on a tie where the rule matters."""
    r = trace.problem.rounding
    if r.mode == "decimals":
        tie = Decimal(1).scaleb(-r.digits) * Decimal("12.5")  # e.g. 0.00125 for 4 places
        return (
            f"{tie.normalize():f} is written {r.text(tie)}; {(-tie).normalize():f} is written "
            f"{r.text(-tie)}"
        )
    tie = Decimal("1.25").scaleb(-(r.digits - 2)) if r.digits >= 2 else Decimal("2.5")
    return (
        f"{tie.normalize():f} is written {r.text(tie)}; 0.0001234567 is written "
        f"{r.text(Decimal('0.0001234567'))}"
    )


def _activation(trace: Trace, layer: int) -> str:
    """The activation of a hidden layer by its name in the notes."""
    name = trace.problem.activations[layer - 1]
    return ACTIVATION_NAMES.get(name, name)


def _output(trace: Trace) -> str:
    p = trace.problem
    return f"{p.head} output, {LOSS_NAMES.get(p.loss, p.loss)} loss"


def _layers(trace: Trace) -> list[Layer]:
    p = trace.problem
    out = [Layer(width=p.widths[0], label="input x")]
    for layer in range(1, p.layers):
        out.append(Layer(width=p.widths[layer], label=_activation(trace, layer)))
    out.append(Layer(width=p.widths[-1], label=_output(trace)))
    return out


def _network_text(trace: Trace) -> str:
    p = trace.problem
    parts = [f"d_0 = {p.widths[0]}"]
    for layer in range(1, p.layers):
        parts.append(f"d_{layer} = {p.widths[layer]} ({_activation(trace, layer)})")
    parts.append(f"d_{p.layers} = {p.widths[-1]} ({_output(trace)})")
    return " → ".join(parts)


def default_expand(trace: Trace) -> list[str]:
    """One entry of z^(1) and one of dL/dW^(2) (or of the last layer's dL/dW)."""
    p = trace.problem
    z1 = "z1[1,1]" if p.batched else "z1[1]"
    layer = 2 if p.layers >= 2 else 1
    return [z1, f"dW{layer}[1,1]"]


def _expansions(trace: Trace) -> list[list[str]]:
    wanted = list(trace.problem.document.expand) or default_expand(trace)
    out = []
    for entry in wanted:
        try:
            step, i = parse_scalar(trace, entry)
        except HandcalcError as e:
            raise HandcalcError(str(e).replace("--explain", "document.expand")) from None
        out.append(explain(trace, step, i))
    return out


def _chart(trace: Trace) -> list[tuple[str, str, float]]:
    return [
        (s.id, charted(s.spec), abs(s.largest()[1]))
        for s in trace.iterations[0]
        if s.spec.phase != Phase.given
    ]
