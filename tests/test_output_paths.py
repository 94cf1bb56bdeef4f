"""The output's fast paths write exactly what JSON's encoder and the rounding rule write: rows of
floats and of texts, the nesting by shape, the value texts, whole traces."""

from __future__ import annotations

import json
import math
import random
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import CONFIGS
from handcalc.config import load
from handcalc.config.draw import Init, draw, draw_rounded, round_floats
from handcalc.model.runner import make_trace
from handcalc.rounding import Rounding
from handcalc.rowmajor import (
    FloatRows,
    FloatTexts,
    _leaf,
    dump_flat,
    dump_nested,
    dumps,
    float_row,
    nest,
    text_row,
)
from handcalc.units import _significant_units, _units_each, units_of
from handcalc.written import texts_of

# zeros of both signs, the smallest subnormal, floats whose repr is long, short or in exponent form
POOL = [0.0, -0.0, 5e-324, -1e-300, 0.1, -0.0123, 1 / 3, 2.5e-07, 1e16, -123456.789, 3.0]
SPECIAL = [math.nan, math.inf, -math.inf]


def encoded(value: object) -> str:
    """What JSON's encoder writes, as the trace's rows are spaced."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def rows(seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    out = []
    for _ in range(40):
        pool = POOL + SPECIAL if rng.random() < 0.2 else POOL
        picks = rng.sample(pool, rng.randint(1, 4))
        out.append([rng.choice(picks) for _ in range(rng.randint(0, 30))])
    out += [[0.0] * 7, [-0.0] * 3, [0.0, -0.0], [rng.uniform(-1, 1) for _ in range(50)]]
    return out


@pytest.mark.parametrize("seed", range(5))
def test_a_row_of_floats_is_what_json_writes(seed: int) -> None:
    known = FloatTexts()
    direct = FloatRows(FloatTexts())
    for row in rows(seed):
        assert float_row(row) == encoded(row)
        assert float_row(row, known) == encoded(row)
        assert direct(row) == direct(row, repeats=True) == encoded(row)
    assert 0.0 not in known  # -0.0 would be found as 0.0


def test_a_row_holding_ints_or_bools_is_what_json_writes() -> None:
    known = FloatTexts()
    assert float_row([1.0, 2.0], known) == "[1.0, 2.0]"
    assert float_row([1, 2.0, True, 0], known) == "[1, 2.0, true, 0]"
    assert float_row([0, 0.0, False]) == "[0, 0.0, false]"


def test_known_floats_are_kept_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("handcalc.rowmajor.KNOWN_FLOATS", 3)
    known = FloatTexts()
    row = [0.5, 0.25, 0.125, 0.0625, 0.5]
    assert float_row(row, known) == "[0.5, 0.25, 0.125, 0.0625, 0.5]"
    assert known == {0.5: "0.5", 0.25: "0.25", 0.125: "0.125"} and known.misses == 4


def test_a_row_of_texts_is_what_json_writes() -> None:
    unusual = [["é", "\x7f", "\u202e"], ["\ud800", "\t"], ['a"b', "c\\d"], ["x\x1by"]]
    for row in (["0.5000", "-1.25", "0"], [], ["1E+3", "NaN"], *unusual):
        assert text_row(row) == _leaf(row) == encoded(row)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 0), (2, 2, 3), (1, 1, 1)])
def test_rows_by_shape_are_the_nested_json(shape: tuple[int, ...]) -> None:
    flat = [float(k) / 8 for k in range(math.prod(shape))]
    want = "".join(dump_nested(nest(flat, shape), len(shape), "    "))
    got = "".join(dump_flat(shape, lambda a, b: float_row(flat[a:b]), "    "))
    assert got == want


@pytest.mark.parametrize("digits", range(9))
@pytest.mark.parametrize("rule", ["half_up", "half_even"])
def test_value_texts_are_the_rule_s_texts(digits: int, rule: str) -> None:
    r = Rounding(digits=digits, rule=rule)  # type: ignore[arg-type]
    picks = ["0", "-0", "-0.00001", "0.125", "-0.005", "9.995", "-99.5", "1e-9", "1E+5", "-7"]
    rng = random.Random(digits)
    values = [Decimal(p) for p in picks]
    values += [Decimal(rng.randint(-(10**9), 10**9)).scaleb(-rng.randint(0, 12)) for _ in picks]
    written = r.round_all(values)  # already rounded, as the hand run writes them
    assert texts_of(r, values + written) == r.texts(values + written)
    assert texts_of(r, written) == r.texts(written)
    assert texts_of(r, [Decimal(-1).scaleb(-digits - 2)]) == [r.text(Decimal(0))]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.name)
def test_the_trace_json_is_its_dict_dumped(path: Path) -> None:
    trace = make_trace(load.load(path), float32=True)
    assert trace.to_json() == dumps(trace.to_dict()) + "\n"


def floats(seed: int) -> list[float]:
    """Draws as the schemes make them, ties and short decimals, zeros, huge and tiny numbers."""
    rng = random.Random(seed)
    ties = [0.00125, -0.00125, 0.12345, 2.5, -0.5, 0.05, 1e-05, 99999.5, 0.0001, 1234.5678]
    out = [-0.05 + 0.1 * rng.random() for _ in range(300)]
    out += [rng.gauss(0, 1) * 10 ** rng.randint(-12, 12) for _ in range(300)]
    out += [rng.choice(ties) * 10 ** rng.randint(-3, 3) for _ in range(200)]
    out += [round(rng.uniform(-1, 1), rng.randint(0, 6)) for _ in range(200)]
    return [*out, 0.0, -0.0, 5e-324, -1e40, 2.0**30, 0.9999999999, -9.99995, 0.099995]


RULE_CASES = [
    Rounding(digits=d, mode=m, rule=r)  # type: ignore[arg-type]
    for m, ds in (("decimals", (0, 1, 2, 4, 6, 9, 12)), ("significant", (1, 2, 3, 4, 9, 12)))
    for d in ds
    for r in ("half_up", "half_even")
] + [Rounding(mode="exact")]


@pytest.mark.parametrize("rounding", RULE_CASES, ids=str)
def test_floats_rounded_are_their_texts_rounded(rounding: Rounding) -> None:
    for seed in range(3):
        values = floats(seed)
        want = rounding.round_all([Decimal(repr(f)) for f in values])
        got = round_floats(values, rounding)
        assert [v.as_tuple() for v in got] == [v.as_tuple() for v in want]


@pytest.mark.parametrize("scheme", ["uniform", "normal", "xavier", "he", "grid"])
def test_drawn_and_rounded_is_drawn_then_rounded(scheme: str) -> None:
    init = Init(seed=7, scheme=scheme, low=Decimal("-0.5"), high=Decimal("0.5"))
    widths = (5, 4, 3)
    rule = {"W1": Rounding(digits=3), "b1": Rounding(digits=2, mode="significant")}
    drawn = draw(widths, init)
    got = draw_rounded(widths, init, lambda k: rule.get(k, Rounding()), lambda k: k != "W2")
    assert list(got) == ["W1", "b1", "b2"]
    for k, values in got.items():
        want = rule.get(k, Rounding()).round_all(drawn[k])
        assert [v.as_tuple() for v in values] == [v.as_tuple() for v in want]


@pytest.mark.parametrize("digits", [1, 3, 6])
def test_units_in_significant_mode_are_the_units_entry_by_entry(digits: int) -> None:
    r = Rounding(digits=digits, mode="significant")
    rng = random.Random(digits)
    values = [Decimal(rng.randint(-999, 999)).scaleb(rng.randint(-30, 5)) for _ in range(300)]
    values += [Decimal(0), Decimal("-0"), Decimal(0), Decimal(0), Decimal("1E-400")]
    floats = [float(v) * (1 + rng.uniform(-1e-3, 1e-3)) for v in values[:-5]]
    floats += [0.0, -0.0, 3e-7, math.inf, 0.0]
    deviations = [float(v) - f for v, f in zip(values, floats, strict=True)]
    deviations[-4:] = [1e308, -0.0, -3e-7, math.nan]
    each = _units_each(r, deviations, values, floats)
    assert units_of(r, deviations, values, floats) == each
    fast = _significant_units(r, deviations[:-1], values[:-1], floats[:-1])
    assert fast is not None and fast == each[:-1]
    assert [math.copysign(1, x) for x in fast] == [math.copysign(1, x) for x in each[:-1]]
    assert _significant_units(r, deviations, values, floats) is None  # a unit of 1e-400


@pytest.mark.parametrize(
    ("scheme", "first", "last"),
    [  # as drawn one number at a time, in index order
        ("uniform", ["-0.06203537290810862", "0.24422922529595187"], "-0.12239020152097885"),
        ("xavier", ["-0.1815434317028406", "0.030642906156799692"], "0"),
        ("normal", ["-0.7089558856646401", "-0.7634866232195221"], "-0.0639962863823883"),
    ],
)
def test_draws_are_the_numbers_drawn_one_by_one(scheme: str, first: list[str], last: str) -> None:
    init = Init(seed=3, scheme=scheme, low=Decimal("-0.3"), high=Decimal("0.7"))
    drawn = [str(v) for values in draw((30, 20, 5), init).values() for v in values]
    assert drawn[:2] == first and drawn[-1] == last and len(drawn) == 30 * 20 + 20 + 20 * 5 + 5


@pytest.mark.parametrize("digits", [1, 2, 3, 4, 7])
def test_value_texts_in_significant_mode_are_the_rule_s_texts(digits: int) -> None:
    r = Rounding(digits=digits, mode="significant")
    rng = random.Random(digits)
    picks = ["0", "-0", "0E-9", "0.5", "-0.125", "9.995", "-99.5", "1e-9", "1E+5", "-7E-7"]
    values = [Decimal(p) for p in picks]
    values += [
        Decimal(rng.randint(-(10**9), 10**9)).scaleb(-rng.randint(-3, 14)) for _ in range(400)
    ]
    written = r.round_all(values)  # as the hand run writes them: at most `digits` digits
    assert texts_of(r, values) == r.texts(values)
    assert texts_of(r, written) == r.texts(written)


def test_flags_counted_and_cut_are_the_flags() -> None:
    trace = make_trace(load.load(CONFIGS[0]))
    for step in trace.iterations[0]:
        flags = step.flagged()
        assert step.flag_count() == flags.count(True)
        assert step.flagged(3) == flags[:3]


def test_units_in_decimals_mode_hold_no_infinity() -> None:
    r = Rounding(digits=4)
    deviations = [1e305, 1e305, -2.5e-5, math.inf, math.nan, -0.0]
    values = [Decimal(0)] * len(deviations)
    units = units_of(r, deviations, values, [0.0] * len(deviations))
    big = sys.float_info.max
    assert units == [big, big, -0.25, big, 0.0, -0.0]
    assert math.copysign(1, units[-1]) == -1
    near = [1.7e304, 1.7e304]  # finite in units, though their sum is not
    assert units_of(r, near, values[:2], [0.0, 0.0]) == [d * 10000.0 for d in near]
