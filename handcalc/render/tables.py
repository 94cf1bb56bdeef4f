"""The trace as tables of text, shared by the terminal and Markdown renderers (no arithmetic)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from handcalc.config.problem import Problem
from handcalc.documents.settings import hyperparameters
from handcalc.documents.statement import rule_line
from handcalc.model.functions import ACTIVATIONS
from handcalc.model.steps import Phase
from handcalc.trace import Step, Trace

PHASE_TITLES: dict[Phase, str] = {
    Phase.given: "Given numbers",
    Phase.forward: "Forward pass",
    Phase.loss: "Loss",
    Phase.backward: "Backward pass",
    Phase.update: "Gradient step",
    Phase.test: "Test-time forward pass (no dropout)",
}
DEFAULT_ROWS = 24
FLOAT32_DIGITS = 8  # a float32 keeps 24 bits, about 7 to 8 significant digits


@dataclass(frozen=True, slots=True)
class Table:
    """One step: a heading, columns, rows of text and which rows are marked."""

    step_id: str
    heading: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    marked: list[bool]
    hidden: str | None


@dataclass(frozen=True, slots=True)
class Grid:
    """A step whose float64 values equal the hand values: its entries laid out as a matrix."""

    step_id: str
    heading: str
    note: str
    row_labels: list[str]
    col_labels: list[str]
    cells: list[list[str]]
    hidden: str | None


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    tables: list[Table | Grid]


def fmt_float(value: float, step: Step) -> str:
    """float64 with four more digits than the hand rule keeps."""
    r = step.rounding
    value += 0.0  # -0.0 shows as 0
    if r.mode == "decimals":
        return f"{value:.{r.digits + 4}f}"
    return f"{value:.{r.digits + 4}g}"


def fmt_float32(value: float, step: Step) -> str:
    """float32 as fmt_float writes float64, but never past the ~8 digits a float32 holds."""
    r = step.rounding
    value += 0.0
    if r.mode == "decimals":
        return f"{value:.{min(r.digits + 4, FLOAT32_DIGITS)}f}"
    return f"{value:.{min(r.digits + 4, FLOAT32_DIGITS)}g}"


def fmt_tolerance(value: Decimal) -> str:
    return f"{float(value):.2e}"


def fmt_deviation(value: float) -> str:
    return "0" if value == 0 else f"{value:+.2e}"


def fmt_units(value: float) -> str:
    if value == 0:
        return "0"
    return "0.00" if abs(value) < 0.005 else f"{value:+.2f}"


def heading(step: Step) -> str:
    s = step.spec
    if s.phase == Phase.given:
        return f"{s.symbol}" if s.formula == "given" else f"{s.symbol} = {s.formula}"
    arrow = "←" if s.phase == Phase.update else "="
    kept = "" if s.written else "   (not written down: kept exact)"
    return f"{s.symbol} {arrow} {s.formula}{kept}"


def table(step: Step, max_rows: int, tolerances: bool = False) -> Table:
    """A step's entries a row each: hand, float64, the deviation and its units (and more)."""
    total = len(step.values)
    shown = min(max_rows, total) if max_rows else total
    return Table(
        step_id=step.id,
        heading=heading(step),
        columns=_columns(step, tolerances),
        rows=list(islice(_rows(step, tolerances), shown)),
        marked=step.flagged(shown),
        hidden=_hidden(step, shown),
    )


def _columns(step: Step, tolerances: bool) -> tuple[str, ...]:
    return (
        *(("n",) if step.example_axis else ()),
        "entry",
        "hand",
        "float64",
        "hand − float64",
        "units",
        *(("float32",) if step.floats32 is not None else ()),
        *(("± accept",) if tolerances else ()),
    )


def _rows(step: Step, tolerances: bool) -> Iterator[tuple[str, ...]]:
    accept = [fmt_tolerance(t) for t in step.tolerances()] if tolerances else []
    units = step.units()
    for i, (n, label) in enumerate(step.labels()):
        yield (
            *((str(n),) if step.example_axis else ()),
            label,
            step.text(i),
            fmt_float(step.floats[i], step),
            fmt_deviation(step.deviations[i]),
            fmt_units(units[i]),
            *((fmt_float32(step.floats32[i], step),) if step.floats32 is not None else ()),
            *((accept[i],) if tolerances else ()),
        )


def _hidden(step: Step, shown: int) -> str | None:
    """The note under a cut table: how many rows are left out, and where the worst one is."""
    total = len(step.values)
    if shown >= total:
        return None
    k, worst = step.largest()
    label = step.label(k)[1]
    return (
        f"… {total - shown:,} more rows hidden (largest deviation "
        f"{fmt_units(worst)} units at {label}; --rows 0 shows all)"
    )


def grid(step: Step, max_rows: int) -> Grid:
    shape = step.shape
    rows, cols = (shape[0], shape[1]) if len(shape) == 2 else (1, shape[0] if shape else 1)
    shown = min(rows, max_rows) if max_rows else rows
    texts = step.texts(shown * cols)  # only the rows shown
    cells = [texts[i * cols : (i + 1) * cols] for i in range(shown)]
    if step.example_axis:
        row_labels = [f"n={i + 1}" for i in range(shown)]
    else:
        row_labels = [str(i + 1) for i in range(shown)] if len(shape) == 2 else [""]
    size = " x ".join(map(str, shape)) or "scalar"
    hidden = f"… {rows - shown:,} more rows hidden (--rows 0 shows all)" if shown < rows else None
    return Grid(
        step_id=step.id,
        heading=heading(step),
        note=f"{size}; float64 holds the same numbers",
        row_labels=row_labels,
        col_labels=[str(j + 1) for j in range(cols)],
        cells=cells,
        hidden=hidden,
    )


def exact(step: Step) -> bool:
    """True when float64 holds exactly the hand values (given numbers, untouched entries)."""
    return len(step.shape) <= 2 and not any(step.deviations)


def sections(
    trace: Trace, iteration: int, max_rows: int = DEFAULT_ROWS, tolerances: bool = False
) -> list[Section]:
    steps = trace.iterations[iteration - 1]
    out = []
    for phase, title in PHASE_TITLES.items():
        tables = [_shown(s, max_rows, tolerances) for s in steps if s.spec.phase == phase]
        if tables:
            out.append(Section(title=title, tables=tables))
    return out


def _shown(step: Step, max_rows: int, tolerances: bool) -> Table | Grid:
    """A given step float64 holds exactly is a grid of numbers; any other step a table."""
    if step.spec.phase == Phase.given and exact(step):
        return grid(step, max_rows)
    return table(step, max_rows, tolerances)


def _ranges(numbers: tuple[int, ...]) -> str:
    """(1, 2, 3, 5) -> '1-3, 5'."""
    out: list[str] = []
    for n in numbers:
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def show_iterations(trace: Trace) -> bool:
    """Headings per iteration when there are several, or when one mini-batch is not all data."""
    return len(trace.iterations) > 1 or trace.info[0].examples != tuple(
        range(1, trace.problem.examples + 1)
    )


def iteration_title(trace: Trace, k: int) -> str:
    """'Iteration 2 of 6 · epoch 1 · examples 3-4'."""
    info = trace.info[k]
    plural = "s" if len(info.examples) > 1 else ""
    return (
        f"Iteration {info.number} of {len(trace.iterations)} · epoch {info.epoch} · "
        f"example{plural} {_ranges(info.examples)}"
    )


def summary_lines(trace: Trace) -> list[tuple[str, str]]:
    """The facts above the tables, as (label, text): network, data, rule, learning rate."""
    p = trace.problem
    kinds = sorted(set(p.activations))
    hidden = ", ".join(p.activations) if len(kinds) > 1 else (kinds[0] if kinds else "none")
    out = [
        (
            "network",
            f"{'-'.join(map(str, p.widths))}; hidden activation {hidden}; "
            f"head {p.head}; loss {p.loss}" + ("" if p.bias else "; no biases"),
        ),
        (
            "data",
            f"{p.examples} example{'s' if p.examples > 1 else ''}"
            + (f", {p.reduction} reduction" if p.batched else ""),
        ),
        ("rounding", rule_line(p)),
        ("learning", _learning(p)),
        ("params", _params_line(trace)),
    ]
    if kinds:
        out.append(("σ(z)", "; ".join(f"{k}: {ACTIVATIONS[k].formula}" for k in kinds)))
    return out


def _learning(p: Problem) -> str:
    o = p.optimizer
    parts = [f"η = {p.learning_rate}", o.name, *hyperparameters(o).values()]
    parts.append(f"{p.steps} step{'s' if p.steps > 1 else ''}")
    if p.batch_size:
        parts.append(f"mini-batches of {p.batch_size}")
    return "; ".join(parts)


def _params_line(trace: Trace) -> str:
    p = trace.problem
    given = ", ".join(p.given_parameters)
    drawn = f"drawn by init {p.init.scheme}, seed {p.init.seed}"
    if not given:
        return drawn
    if len(given.split(", ")) == len(p.parameters):
        return "all given"
    return f"{given} given; the rest {drawn}"


def closing_lines(trace: Trace) -> list[str]:
    """Loss and the largest deviations, after the tables."""
    out = []
    for k, steps in enumerate(trace.iterations):
        loss = next((s for s in steps if s.id == "loss"), None)
        flagged = sum(s.flag_count() for s in steps)
        largest = {s.id: s.largest() for s in steps}
        worst = max(steps, key=lambda s: abs(largest[s.id][1]))
        i, units = largest[worst.id]
        label = worst.label(i)[1]
        prefix = f"iteration {k + 1}: " if len(trace.iterations) > 1 else ""
        head = (
            ""
            if loss is None
            else (f"loss {loss.text(0)} by hand, {fmt_float(loss.floats[0], loss)} in float64; ")
        )
        out.append(
            f"{prefix}{head}{flagged} entr{'y' if flagged == 1 else 'ies'} off by more than half a "
            f"unit (largest: {label} in {worst.id}, {fmt_units(units)} units)"
        )
    fitted = next((s for s in trace.iterations[-1] if s.id == "T_next"), None)
    if fitted is not None:  # calibrate: what the run is for comes last
        out.append(
            f"fitted temperature: T = {fitted.text(0)} by hand, "
            f"{fmt_float(fitted.floats[0], fitted)} in float64"
        )
    return out
