"""Properties of the hand arithmetic, checked on many generated numbers."""

from __future__ import annotations

import doctest
from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from handcalc import numbers as arithmetic
from handcalc.numbers import WORKING, Rounding, hand

numbers = st.decimals(
    min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False, places=6
)
rules = st.builds(
    Rounding,
    digits=st.integers(1, 8),
    mode=st.sampled_from(["decimals", "significant"]),
    rule=st.sampled_from(["half_up", "half_even"]),
)


def test_doctests() -> None:
    assert doctest.testmod(arithmetic).failed == 0


@given(numbers, rules)
def test_written_text_reads_back_as_the_rounded_number(x: Decimal, r: Rounding) -> None:
    rounded = r.rounder()(x)
    assert Decimal(r.text(x)) == rounded
    assert r.rounder()(rounded) == rounded
    if rounded:
        assert abs(rounded - x) <= r.unit(rounded) / 2


@given(st.lists(st.tuples(numbers, numbers), min_size=1, max_size=12), numbers, rules)
def test_per_value_dot_is_the_exact_sum_rounded_once(
    pairs: list[tuple[Decimal, Decimal]], bias: Decimal, r: Rounding
) -> None:
    ns = hand(r)
    a = ns.array([p for p, _ in pairs], (1, len(pairs)))
    b = ns.array([q for _, q in pairs], (1, len(pairs)))
    with ns.session():
        got = ns.write(ns.matmul_nt(a, b, ns.array([bias], (1,)))).data[0]
    with localcontext(WORKING):
        exact = sum((p * q for p, q in pairs), Decimal(0)) + bias
    assert got == r.rounder()(exact)


@given(st.lists(st.tuples(numbers, numbers), min_size=1, max_size=12), rules)
def test_per_operation_dot_rounds_every_product_and_partial_sum(
    pairs: list[tuple[Decimal, Decimal]], r: Rounding
) -> None:
    per_op = Rounding(digits=r.digits, mode=r.mode, rule=r.rule, per="operation")
    ns, rnd = hand(per_op), per_op.rounder()
    a = ns.array([p for p, _ in pairs], (1, len(pairs)))
    b = ns.array([q for _, q in pairs], (len(pairs), 1))
    with ns.session():
        got = ns.matmul_nt(a, ns.transpose(b)).data[0]
        acc = rnd(pairs[0][0] * pairs[0][1])
        for p, q in pairs[1:]:
            acc = rnd(acc + rnd(p * q))
    assert got == acc
