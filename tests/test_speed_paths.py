"""The fast paths give exactly what the plain ones give: the same strings, the same decimals
(down to the sign of a zero), the same JSON bytes."""

from __future__ import annotations

import random
from decimal import Decimal
from itertools import product

import pytest

from handcalc.arrays import _rounded_dot
from handcalc.config import load
from handcalc.model.runner import make_trace
from handcalc.numbers import Flat, Rounding, hand
from handcalc.rowmajor import dump_pieces, dumps, each_index, indices

RULES = [
    Rounding(digits=d, mode=m, rule=r, per="operation")
    for (m, d), r in product(
        [("decimals", 0), ("decimals", 2), ("decimals", 4), ("significant", 1), ("significant", 3)],
        ("half_up", "half_even"),
    )
]


def numbers(seed: int, count: int) -> list[Decimal]:
    """Decimals near ties, zeros of both signs, large and tiny numbers."""
    rng = random.Random(seed)
    picks = ["0", "-0", "0.125", "-0.125", "0.005", "-0.0049999", "9.995", "-99.5", "1e-9"]
    out = [Decimal(rng.choice(picks)) for _ in range(count // 2)]
    out += [Decimal(rng.randint(-(10**7), 10**7)).scaleb(-rng.randint(0, 9)) for _ in out]
    return out


@pytest.mark.parametrize("rounding", RULES, ids=str)
def test_texts_are_text_one_by_one(rounding: Rounding) -> None:
    values = numbers(1, 400)
    assert rounding.texts(values) == [rounding.text(v) for v in values]


def test_texts_write_zero_unsigned() -> None:
    r = Rounding(digits=2)
    assert r.texts([Decimal("-0.001"), Decimal("-0"), Decimal("-0.005")]) == [
        "0.00",
        "0.00",
        "-0.01",
    ]
    s = Rounding(digits=2, mode="significant")
    assert s.texts([Decimal("-0.0"), Decimal("0.0996"), Decimal("-1E+3")]) == ["0", "0.10", "-1000"]


@pytest.mark.parametrize("rounding", RULES, ids=str)
def test_rounded_dot_product_as_every_operation_rounded(rounding: Rounding) -> None:
    """In decimals mode only the products are rounded: the same number and the same zero."""
    ns = hand(rounding)
    op = rounding.rounder()
    for seed in range(30):
        rng = random.Random(seed)
        k = rng.randint(1, 12)
        a = [op(v) for v in numbers(seed, 2 * k)[:k]]
        b = [op(v) for v in numbers(seed + 100, 2 * k)[:k]]
        with ns.session():
            got = ns.matmul_nt(Flat((1, k), a), Flat((1, k), b)).data[0]
            want = _rounded_dot(op, a, b)
        assert str(got) == str(want), (a, b)


def test_json_in_pieces_is_the_json() -> None:
    p = load.load(None)
    trace = make_trace(p)
    step = trace.step("W1_next")
    assert "".join(step.json_pieces("  ")) == dumps(step.to_json(), "  ")
    whole = trace.to_dict()
    assert "".join(dump_pieces(whole)) == dumps(whole)
    assert trace.to_json() == "".join(trace.json_chunks())


def test_an_entry_label_alone_is_its_label_in_the_list() -> None:
    trace = make_trace(load.load(None))
    for step in trace.iterations[0]:
        listed = list(step.labels())
        assert [step.label(i) for i in range(len(listed))] == listed
    assert (
        list(each_index((2, 3)))
        == indices((2, 3))
        == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    )
