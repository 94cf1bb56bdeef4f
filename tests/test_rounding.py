"""The rounding rule on single numbers: ties, modes and the written form."""

import doctest
from decimal import Decimal

import pytest

from handcalc import rounding
from handcalc.rounding import WORKING, Mode, Rounding, Rule

D = Decimal


@pytest.mark.parametrize(
    ("digits", "mode", "rule", "value", "written"),
    [
        (2, "decimals", "half_up", "0.125", "0.13"),
        (2, "decimals", "half_even", "0.125", "0.12"),
        (2, "decimals", "half_even", "0.135", "0.14"),
        (2, "decimals", "half_up", "-0.125", "-0.13"),  # ties away from zero, also below zero
        (2, "decimals", "half_even", "-0.125", "-0.12"),
        (2, "decimals", "half_up", "0.1249999", "0.12"),
        (4, "decimals", "half_up", "0.5", "0.5000"),  # trailing zeros kept
        (4, "decimals", "half_up", "-0.00004", "0.0000"),  # never a signed zero
        (4, "decimals", "half_up", "-0.00005", "-0.0001"),
        (0 + 1, "decimals", "half_up", "12.25", "12.3"),
        (3, "significant", "half_up", "0.00012345", "0.000123"),
        (3, "significant", "half_up", "1.2", "1.20"),  # padded to 3 significant digits
        (3, "significant", "half_up", "12345", "12300"),  # never scientific notation
        (2, "significant", "half_up", "0.125", "0.13"),
        (2, "significant", "half_even", "0.125", "0.12"),
        (2, "significant", "half_even", "0.195", "0.20"),
        (2, "significant", "half_up", "-0.0", "0"),
        (15, "significant", "half_up", "0.1234567890123456789", "0.123456789012346"),
    ],
)
def test_written_form(digits: int, mode: Mode, rule: Rule, value: str, written: str) -> None:
    assert Rounding(digits=digits, mode=mode, rule=rule).text(D(value)) == written


def test_rounder_is_idempotent() -> None:
    r = Rounding(digits=3, mode="significant", rule="half_even").rounder()
    for v in ["0.0004445", "123.45", "-9.995", "1e-9"]:
        once = r(D(v))
        assert r(once) == once


def test_unit_of_last_kept_digit() -> None:
    assert Rounding(digits=4).unit(D("12.3456")) == D("0.0001")
    assert Rounding(digits=3, mode="significant").unit(D("0.0123")) == D("0.0001")
    assert Rounding(digits=3, mode="significant").unit(D("123")) == D("1")


def test_describe_in_words() -> None:
    r = Rounding(digits=3, mode="significant", rule="half_even", per="operation")
    assert r.describe() == "3 significant digits, ties to the even digit, rounding every operation"


def test_writing_leaves_the_working_context_flags_alone() -> None:
    before = dict(WORKING.flags)
    tiny = D("1.785E-1000006")  # below the working context's normal range: a Subnormal signal
    written = Rounding(digits=11, mode="significant").text(tiny)
    assert written.startswith("0.000") and written.endswith("17850000000")
    assert dict(WORKING.flags) == before


def test_doctests() -> None:
    assert doctest.testmod(rounding).failed == 0
