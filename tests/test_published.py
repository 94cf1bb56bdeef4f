"""Published worked examples, reproduced digit for digit under each author's own rounding rule.

Each source is a config in configs/ (published-*.yaml, its comment names the source) and the
numbers its author printed, as printed. A number that is right arithmetic under the author's rule
must be what handcalc writes, every printed digit. A number that is not is kept beside handcalc's
value with one line on why: an arithmetic slip, a slip carried forward from one, or a quantity
the author writes by a rule handcalc has no key for. Grading the author's page with
`handcalc check --tolerance 0` then has to find exactly these: the slips wrong, what follows from
them carried, everything else correct. docs/published-examples.md lists the sources.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pytest

from conftest import ROOT
from handcalc.config import load as config
from handcalc.model.ids import parse_entry
from handcalc.model.runner import make_trace
from handcalc.trace import Step, Trace

Cli = Callable[..., tuple[int, str, str]]
# ok: right under the author's rule; slip: the author's arithmetic is wrong; carried: right
# arithmetic from an earlier slip; rule: written by a rule handcalc cannot express
Kind = Literal["ok", "slip", "carried", "rule"]
VERDICT = {"ok": "correct", "slip": "wrong", "carried": "carried", "rule": "wrong"}


@dataclass(frozen=True)
class Printed:
    """One number as its author printed it, and the handcalc entry it is."""

    entry: str  # such as dW2[1,2]; loss has no index
    text: str  # as printed: 0.7 for 0.700 is the same digits
    kind: Kind = "ok"
    key: str = ""  # handcalc's value, where the author's differs
    why: str = ""
    sign: int = 1  # the author's quantity is sign × handcalc's (δ = -dL/dz)


def ok(entry: str, text: str, sign: int = 1) -> Printed:
    return Printed(entry, text, sign=sign)


def off(kind: Kind, entry: str, text: str, key: str, why: str, sign: int = 1) -> Printed:
    return Printed(entry, text, kind, key, why, sign)


# A course's lecture notes (configs/published-sigmoid-mse-notes.yaml): 2-2-1 sigmoid, (y - ŷ)^2,
# 4 decimal places. One slip, σ'(z^(2)), and seven numbers that carry it.
NOTES_SLIP = "carries the slip in σ'(z^(2)): 0.2395 for 0.2394"
NOTES = (
    ok("z1[1]", "0.6"),
    ok("z1[2]", "-0.3"),
    ok("h1[1]", "0.6457"),
    ok("h1[2]", "0.4256"),
    ok("z2[1]", "0.4172"),
    ok("yhat[1]", "0.6028"),
    ok("loss", "0.1578"),
    ok("dyhat[1]", "-0.7944"),
    off("slip", "dyhat_dz[1]", "0.2395", "0.2394", "0.6028 × 0.3972 = 0.23943216"),
    off("carried", "dz2[1]", "-0.1903", "-0.1902", NOTES_SLIP),
    off("carried", "dW2[1,1]", "-0.1229", "-0.1228", NOTES_SLIP),
    off("carried", "dW2[1,2]", "-0.0810", "-0.0809", NOTES_SLIP),
    off("carried", "db2[1]", "-0.1903", "-0.1902", NOTES_SLIP),
    off("carried", "dh1[1]", "-0.1142", "-0.1141", NOTES_SLIP),
    ok("dh1[2]", "0.0761"),
    ok("dhdz1[1]", "0.2288"),
    ok("dhdz1[2]", "0.2445"),
    ok("dz1[1]", "-0.0261"),
    ok("dz1[2]", "0.0186"),
    ok("dW1[1,1]", "-0.0261"),
    ok("dW1[1,2]", "0"),
    ok("dW1[2,1]", "0.0186"),
    ok("dW1[2,2]", "0"),
    ok("db1[1]", "-0.0261"),
    ok("db1[2]", "0.0186"),
    off("carried", "W2_next[1,1]", "0.7229", "0.7228", NOTES_SLIP),
    off("carried", "W2_next[1,2]", "-0.3190", "-0.3191", NOTES_SLIP),
)

# A tutorial notebook (configs/published-sigmoid-neuron-notebook.yaml): one sigmoid neuron,
# 0.5 (y - ŷ)^2, 4 decimal places. One slip in dL/dz, carried into the gradients; the new weights
# come out the same either way.
NEURON_SLIP = "carries the slip in dL/dz^(1): -0.1360 for -0.1361"
NEURON = (
    ok("z1[1]", "-0.2"),
    ok("yhat[1]", "0.4502"),
    ok("loss", "0.1511"),
    ok("dyhat[1]", "-0.5498"),
    ok("dyhat_dz[1]", "0.2475"),
    off("slip", "dz1[1]", "-0.1360", "-0.1361", "-0.5498 × 0.2475 = -0.13607550"),
    off("carried", "dW1[1,1]", "-0.1360", "-0.1361", NEURON_SLIP),
    off("carried", "dW1[1,2]", "-0.2720", "-0.2722", NEURON_SLIP),
    off("carried", "db1[1]", "-0.1360", "-0.1361", NEURON_SLIP),
    ok("W1_next[1,1]", "0.5136"),
    ok("W1_next[1,2]", "-0.3728"),
    ok("b1_next[1]", "0.1136"),
)

# A course's lesson (configs/published-sigmoid-delta-lesson.yaml): 2-1-1 sigmoid, 3 decimal
# places, the weight changes to 3 significant digits; its error terms δ are -dL/dz.
LESSON = (
    ok("z1[1]", "-0.02"),
    ok("h1[1]", "0.495"),
    ok("yhat[1]", "0.512"),
    ok("dz2[1]", "0.122", sign=-1),
    ok("dz1[1]", "0.003", sign=-1),
    ok("deltaW2[1,1]", "0.0302"),
    ok("deltaW1[1,1]", "0.00015"),
    ok("deltaW1[1,2]", "0.00045"),
)

# A lab's worked solution (configs/published-softmax-lab.yaml): a 2-3 softmax layer, 3 decimal
# places, ΔW exact. Its W is the transpose of W^(1): its entry (i, j) is handcalc's [j, i].
LAB_RULE = (
    "the lab divides exponentials of the logits less their maximum, each to 3 decimals: "
    "0.149 / 1.517 = 0.0982; the softmax rounded once is 0.0985"
)
LAB_CARRIED = "carries ŷ_1 = 0.098 from the lab's shifted exponentials"
LAB = (
    ok("z1[1]", "-0.8"),
    ok("z1[2]", "1.1"),
    ok("z1[3]", "0.1"),
    off("rule", "yhat[1]", "0.098", "0.099", LAB_RULE),
    ok("yhat[2]", "0.659"),
    # by the lab's own exponentials 0.368 / 1.517 = 0.2426 would give 0.243: the lab's 0.242 is
    # the softmax rounded once, the rule the config keeps
    ok("yhat[3]", "0.242"),
    ok("loss", "0.417"),
    off("carried", "dz1[1]", "0.098", "0.099", LAB_CARRIED),
    ok("dz1[2]", "-0.341"),
    ok("dz1[3]", "0.242"),
    off("carried", "dW1[1,1]", "0.098", "0.099", LAB_CARRIED),
    off("carried", "dW1[1,2]", "0.196", "0.198", LAB_CARRIED),
    ok("dW1[2,1]", "-0.341"),
    ok("dW1[2,2]", "-0.682"),
    ok("dW1[3,1]", "0.242"),
    ok("dW1[3,2]", "0.484"),
    off("carried", "deltaW1[1,1]", "-0.0098", "-0.0099", LAB_CARRIED),
    off("carried", "deltaW1[1,2]", "-0.0196", "-0.0198", LAB_CARRIED),
    ok("deltaW1[2,1]", "0.0341"),
    ok("deltaW1[2,2]", "0.0682"),
    ok("deltaW1[3,1]", "-0.0242"),
    ok("deltaW1[3,2]", "-0.0484"),
)

# A course's notebook (configs/published-sigmoid-course-notebook.yaml): 1-1-1 sigmoid,
# 0.5 (y - ŷ)^2, 3 decimal places, dL/dz not written. Seven slips; ŷ, dL/dŷ and the hidden layer's
# gradients come out right all the same.
COURSE = (
    ok("z1[1]", "0.7"),
    ok("h1[1]", "0.668"),
    off("slip", "z2[1]", "0.333", "0.334", "0.8 × 0.668 - 0.2 = 0.3344"),
    ok("yhat[1]", "0.583"),
    off("slip", "loss", "0.083", "0.087", "0.5 × (1 - 0.583)^2 = 0.0869445"),
    ok("dyhat[1]", "-0.417"),
    off("slip", "dyhat_dz[1]", "0.244", "0.243", "0.583 × (1 - 0.583) = 0.243111"),
    off(
        "slip", "dW2[1,1]", "-0.067", "-0.068", "(-0.417)(0.244)(0.668) = -0.06797, from its own σ'"
    ),
    off("carried", "db2[1]", "-0.102", "-0.101", "(-0.417)(0.244) = -0.101748: the slip in σ'"),
    off("slip", "dh1[1]", "-0.080", "-0.081", "(-0.417)(0.244)(0.8) = -0.08140, from its own σ'"),
    off("slip", "dhdz1[1]", "0.221", "0.222", "0.668 × (1 - 0.668) = 0.221776"),
    ok("dW1[1,1]", "-0.009"),
    ok("db1[1]", "-0.018"),
    ok("W1_next[1,1]", "0.401"),
    ok("b1_next[1]", "0.502"),
    ok("W2_next[1,1]", "0.807"),
    off("slip", "b2_next[1]", "-0.189", "-0.190", "-0.2 - 0.1 × (-0.102) = -0.1898"),
)

SOURCES = {
    "published-sigmoid-mse-notes": NOTES,
    "published-sigmoid-neuron-notebook": NEURON,
    "published-sigmoid-delta-lesson": LESSON,
    "published-softmax-lab": LAB,
    "published-sigmoid-course-notebook": COURSE,
}


def trace_of(name: str) -> Trace:
    return make_trace(config.load(ROOT / "configs" / f"{name}.yaml"))


def located(t: Trace, entry: str) -> tuple[Step, int]:
    """The step of an entry such as dW2[1,2] and the entry's row-major index in it."""
    parsed = parse_entry(entry)
    step_id, index = parsed if parsed else (entry, ())
    step = t.step(step_id)
    flat = 0
    for size, i in zip(step.shape, index, strict=True):
        flat = flat * size + i - 1
    return step, flat


def same_digits(printed: str, written: str) -> bool:
    """Every digit printed is the digit written; only zeros the author left off may follow.

    >>> same_digits("0.7", "0.700"), same_digits("0.7", "0.701"), same_digits("0.70", "0.7")
    (True, False, False)
    """
    places = max(0, -Decimal(printed).as_tuple().exponent)  # type: ignore[operator]
    written_places = max(0, -Decimal(written).as_tuple().exponent)  # type: ignore[operator]
    return Decimal(printed) == Decimal(written) and places <= written_places


def as_author(text: str, sign: int) -> str:
    """A value as written in handcalc's convention, turned into the author's (or back)."""
    if sign == 1 or Decimal(text) == 0:
        return text
    return text[1:] if text.startswith("-") else "-" + text


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_printed_digit(name: str) -> None:
    t = trace_of(name)
    for p in SOURCES[name]:
        step, i = located(t, p.entry)
        written = as_author(step.texts()[i], p.sign)
        if p.kind == "ok":
            assert same_digits(p.text, written), (p.entry, p.text, written)
        else:
            assert Decimal(written) == Decimal(p.key), (p.entry, p.key, written, p.why)
            assert not same_digits(p.text, written), (p.entry, "is right after all", p.why)


def answers_file(t: Trace, printed: tuple[Printed, ...]) -> str:
    """The author's page as an answers file: each printed number at its entry, `~` elsewhere."""
    values: dict[str, list[str]] = {}
    for p in printed:
        step, i = located(t, p.entry)
        row = values.setdefault(step.id, ["~"] * len(step.texts()))
        row[i] = as_author(p.text, p.sign)
    return "".join(f"{sid}: {nested(row, t.step(sid).shape)}\n" for sid, row in values.items())


def nested(flat: list[str], shape: tuple[int, ...]) -> str:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return "[" + ", ".join(flat) + "]"
    width = len(flat) // shape[0]
    rows = [nested(flat[r * width : (r + 1) * width], shape[1:]) for r in range(shape[0])]
    return "[" + ", ".join(rows) + "]"


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_authors_page_graded(name: str, run_cli: Cli, tmp_path: Path) -> None:
    t = trace_of(name)
    page = tmp_path / "page.yaml"
    page.write_text(answers_file(t, SOURCES[name]))
    config_path = str(ROOT / "configs" / f"{name}.yaml")
    args = ("check", config_path, str(page), "--only-answered", "--tolerance", "0")
    code, out, err = run_cli(*args, "--format", "json")
    assert err == ""
    verdicts = {
        (s["id"], i): e["verdict"]
        for s in json.loads(out)["steps"]
        for i, e in enumerate(s["entries"])
        if e["verdict"] != "blank"
    }
    expected = {}
    for p in SOURCES[name]:
        step, i = located(t, p.entry)
        expected[(step.id, i)] = VERDICT[p.kind]
    assert verdicts == expected
    assert code == (0 if all(p.kind in ("ok", "carried") for p in SOURCES[name]) else 1)


def test_every_published_config_has_its_numbers() -> None:
    from test_published_doubles import NAME as DOUBLES

    configs = {p.stem for p in (ROOT / "configs").glob("published-*.yaml")}
    assert configs == {*SOURCES, DOUBLES}
    listed = (ROOT / "docs" / "published-examples.md").read_text()
    for name in configs:
        assert f"configs/{name}.yaml" in listed
        assert (ROOT / "configs" / f"{name}.yaml").read_text().startswith("# ")
