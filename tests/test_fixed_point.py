"""The hand run on fixed-point arrays gives the very trace the Decimal arithmetic gives: the same
Decimals (exponent and sign of zero included), floats and deviations, for every config, on
generated networks, and where int64 could overflow and Decimal takes over."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CONFIGS, problem
from handcalc import fixedpoint as fp
from handcalc import float_arrays, numbers
from handcalc.config import load as config
from handcalc.config.problem import Problem
from handcalc.errors import ComputationError
from handcalc.fixed_system import FixedSystem
from handcalc.float_arrays import FloatArrays
from handcalc.model import calibration, mc_dropout
from handcalc.model.runner import make_trace
from handcalc.numbers import FLOAT64, Flat, NumberSystem, Rounding, float64, hand
from handcalc.trace import Trace


def signature(trace: Trace) -> list[tuple[str, list[str], list[str], list[str]]]:
    """Every step's values as Decimal writes them (str keeps the exponent and a -0), and its
    floats and deviations as repr writes them (-0.0 too)."""
    return [
        (s.id, list(map(str, s.values)), list(map(repr, s.floats)), list(map(repr, s.deviations)))
        for steps in trace.iterations
        for s in steps
    ]


def both_ways(monkeypatch: pytest.MonkeyPatch, make: Any, p: Problem) -> None:
    """make(p) on fixed-point arrays and in Decimal alone: the same trace, the same JSON."""
    monkeypatch.setattr(numbers, "FIXED_POINT_FROM", 0)
    fixed = make(p)
    monkeypatch.setattr(numbers, "FIXED_POINT_FROM", None)
    exact = make(p)
    assert signature(fixed) == signature(exact)
    assert fixed.to_json() == exact.to_json()


def each_way(path: Path) -> list[tuple[str, Problem]]:
    """The config as it is, and per operation and half-even where it says otherwise."""
    p = config.load(path)
    turned = {"value": "operation", "operation": "value"}[p.rounding.per]
    other = {"rounding.per": (turned, "test"), "rounding.rule": ("half_even", "test")}
    return [("as given", p), ("turned", config.load(path, other))]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_config_gives_the_decimal_trace(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for _, p in each_way(path):
        both_ways(monkeypatch, make_trace, p)
        if p.dropout is not None:
            both_ways(monkeypatch, mc_dropout.make, p)
        if p.temperature is not None:
            both_ways(monkeypatch, calibration.make, p)


small = st.decimals(min_value=-3, max_value=3, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def networks(draw: st.DrawFn) -> dict[str, Any]:
    """A small network with data of few decimals, some exact zeros among them (they make -0)."""
    widths = [*draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)), draw(st.integers(2, 3))]
    examples = draw(st.integers(1, 3))
    entry = st.one_of(st.just(Decimal(0)), small)
    rows = [[float(draw(entry)) for _ in range(widths[0])] for _ in range(examples)]
    return {
        "network": {
            "widths": widths,
            "activation": draw(st.sampled_from(["relu", "leaky_relu", "tanh", "identity"])),
            "loss": draw(st.sampled_from(["cross_entropy", "half_sse", "mse"])),
            "head": "softmax",
        },
        "data": {"x": rows, "label": [1] * examples},
        "init": {"seed": draw(st.integers(0, 50)), "scheme": "uniform", "low": -1, "high": 1},
        "training": {"learning_rate": draw(st.sampled_from([0.1, 0.5, 1]))},
        "rounding": {
            "digits": draw(st.integers(1, 6)),
            "rule": draw(st.sampled_from(["half_up", "half_even"])),
            "per": draw(st.sampled_from(["value", "operation"])),
        },
    }


@settings(max_examples=60, deadline=None)
@given(networks())
def test_generated_networks_give_the_decimal_trace(data: dict[str, Any]) -> None:
    if data["network"]["loss"] != "cross_entropy":
        data["network"]["head"] = "identity"
    p = problem(data)
    saved = numbers.FIXED_POINT_FROM
    try:
        numbers.FIXED_POINT_FROM = 0
        fixed = outcome(p)
        numbers.FIXED_POINT_FROM = None
        exact = outcome(p)
    finally:
        numbers.FIXED_POINT_FROM = saved
    assert fixed == exact


def outcome(p: Problem) -> Any:
    """The trace's signature, or the message of the breakdown that stopped it (at 1 decimal
    place a softmax entry can round to 0, whose ln breaks both paths alike)."""
    try:
        return signature(make_trace(p))
    except ComputationError as e:
        return str(e)


def test_huge_given_weights_fall_back_to_decimal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Weights of 10^9 to 6 places are counts of 10^15: their products pass int64, so Decimal
    computes them, and the trace is the same."""
    refused: list[int] = []
    check = fp.check

    def counted(bound: int) -> None:
        try:
            check(bound)
        except fp.OutOfRange:
            refused.append(bound)
            raise

    monkeypatch.setattr(fp, "check", counted)
    p = problem(
        {
            "network": {"widths": [2, 2, 2], "activation": "relu", "loss": "half_sse"},
            "data": {"x": [1.5, -2.25], "y": [0, 1]},
            "parameters": {"W1": [[1e9, -1e9], [2e9, 0.5]], "W2": [[1, 1], [1e9, -1]]},
            "rounding": {"digits": 6},
        }
    )
    both_ways(monkeypatch, make_trace, p)
    assert refused


def test_small_runs_stay_in_decimal_and_large_ones_use_fixed_point() -> None:
    """numpy's import costs more than fixed point saves on a small network."""
    assert not isinstance(hand(Rounding()), FixedSystem)
    assert not isinstance(hand(Rounding(mode="significant"), size=10**6), FixedSystem)
    assert isinstance(hand(Rounding(), size=10**6), FixedSystem)
    assert isinstance(float64(10**6), FloatArrays) and not isinstance(float64(), FloatArrays)
    code = (
        "import sys; from handcalc.config import load; from handcalc.model.runner import "
        "make_trace; make_trace(load.load(None)); print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"  # the default run does not import numpy at all


def counts(f: fp.Fixed) -> list[str]:
    return list(map(str, fp.decimals(f)))


def test_rounding_ties_and_signed_zero() -> None:
    x = fp.Fixed(ints=np.array([125, -125, 135, -4, 4, 0, 5]), scale=3)
    assert counts(fp.rounded(x, 2, "half_up")) == [
        "0.13", "-0.13", "0.14", "-0.00", "0.00", "0.00", "0.01",
    ]  # fmt: skip
    assert counts(fp.rounded(x, 2, "half_even")) == [
        "0.12", "-0.12", "0.14", "-0.00", "0.00", "0.00", "0.00",
    ]  # fmt: skip
    assert counts(fp.rounded(x, 4, "half_up")) == [
        "0.1250", "-0.1250", "0.1350", "-0.0040", "0.0040", "0.0000", "0.0050",
    ]  # fmt: skip


def test_signed_zeros_follow_decimal() -> None:
    zero, minus_three = fp.constant(Decimal(0)), fp.constant(Decimal(-3))
    assert zero is not None and minus_three is not None
    product = fp.mul(zero, minus_three)
    assert counts(product) == ["-0"]
    assert counts(fp.add(product, product)) == ["-0"]
    assert counts(fp.add(product, zero)) == ["0"]
    assert counts(fp.add(product, zero, sign=-1)) == ["-0"]
    assert counts(fp.add(zero, product, sign=-1)) == ["0"]
    assert fp.floats(product) == [-0.0] and repr(fp.floats(product)) == "[-0.0]"


def test_given_numbers_keep_their_decimals() -> None:
    ns = hand(Rounding(digits=2), size=10**9)
    assert isinstance(ns, FixedSystem)
    given = [Decimal("0.5"), Decimal("-0.00"), Decimal("1.25")]
    a = ns.array(given, (3,))
    assert a.fixed is not None and a.fixed.ints.tolist() == [50, 0, 125]
    assert a.data is not given and list(map(str, a.data)) == ["0.5", "-0.00", "1.25"]
    finer = ns.array([Decimal("0.125")], (1,))
    assert finer.fixed is None  # more places than the rule's: Decimal computes with it
    written = ns.write(ns.mul(a, Decimal("0.1")))
    assert list(map(str, written.data)) == ["0.05", "-0.00", "0.13"]
    assert Flat((3,), list(written.data)) == written


def test_floats_are_the_correctly_rounded_doubles() -> None:
    values = [Decimal("0.1"), Decimal("-2.7"), Decimal("123456.7891"), Decimal("1E-4")]
    f = fp.from_decimals(values, 4)
    assert f is not None
    assert fp.floats(f) == [0.1, -2.7, 123456.7891, 0.0001]
    big = fp.from_decimals([Decimal(2**53)], 0)
    assert big is not None and fp.floats(big) is None  # beyond 2^53 the quotient is not exact


floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_float_arrays_sum_left_to_right_as_python_floats(data: st.DataObject) -> None:
    """Long sums of a numpy float64 array are Python's left-to-right sums bit for bit (a
    pairwise or reordered sum differs in the last bits)."""
    n, m, k = (
        data.draw(st.integers(1, 3)),
        data.draw(st.integers(1, 3)),
        data.draw(st.integers(50, 99)),
    )

    def entries(count: int) -> list[float]:
        return data.draw(st.lists(floats, min_size=count, max_size=count))

    a, b, bias = entries(n * k), entries(m * k), entries(m)

    def both(f: Any) -> list[list[str]]:
        return [list(map(repr, f(ns).data)) for ns in (NumberSystem(FLOAT64), FloatArrays())]

    python, arrays = both(
        lambda ns: ns.matmul_nt(Flat((n, k), a), Flat((m, k), b), Flat((m,), bias))
    )
    assert python == arrays
    for axis in (0, 1):
        python, arrays = both(lambda ns, axis=axis: ns.total(Flat((m, k), b), axis))
        assert python == arrays


def test_matrix_products_a_row_at_a_time_give_the_same_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large batch's matrix products go a row at a time (BLOCK): the same numbers."""
    monkeypatch.setattr(fp, "BLOCK", 1)
    monkeypatch.setattr(float_arrays, "BLOCK", 1)
    path = next(p for p in CONFIGS if p.stem == "batch")
    for _, p in each_way(path):
        assert p.examples > 1
        both_ways(monkeypatch, make_trace, p)


def test_written_decimals_become_fixed_point_only_when_few() -> None:
    """A softmax's few written values go on as fixed point; a large array given as Decimals
    (a student's own W, in grading) stays Decimal: converting it would cost what it saves."""
    ns = hand(Rounding(digits=2), size=10**9)
    few = ns.write(Flat((3,), [Decimal("0.125"), Decimal("-0.004"), Decimal(7)]))
    assert few.fixed is not None and few.fixed.ints.tolist() == [13, 0, 700]
    assert list(map(str, few.data)) == ["0.13", "-0.00", "7.00"]
    many = ns.write(Flat((5000,), [Decimal("0.125")] * 5000))
    assert many.fixed is None and str(many.data[0]) == "0.13"
