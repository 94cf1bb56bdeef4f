"""A step holds the runs' arrays and makes its Decimals, floats and deviations only when read: the
JSON written from fixed point without a Decimal is the JSON of the Decimal run, byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import CONFIGS
from handcalc import fixedpoint as fp
from handcalc import numbers
from handcalc.config import load as config
from handcalc.model.runner import make_trace
from handcalc.rounding import Rounding
from handcalc.written import texts_of


def test_fixed_texts_by_hand() -> None:
    f = fp.fixed(np.array([12345, -5, 0, 0, -120000, 7]), 4, np.array([0, 0, 1, 0, 0, 0], bool))
    assert f.texts(0, 6) == ["1.2345", "-0.0005", "0.0000", "0.0000", "-12.0000", "0.0007"]
    assert f.texts(1, 3) == ["-0.0005", "0.0000"]
    assert fp.fixed(np.array([-3, 40]), 0).texts(0, 2) == ["-3", "40"]


@pytest.mark.parametrize("scale", range(7))
def test_fixed_texts_are_the_rule_s_texts(scale: int) -> None:
    rng = np.random.default_rng(scale)
    some = [rng.integers(-(10**12), 10**12, 500), rng.integers(-30, 30, 100), [0, 0]]
    counts = np.concatenate(some)
    f = fp.fixed(counts, scale, np.arange(counts.size) == counts.size - 1)  # the last zero -0
    decimals = f.decimals()
    assert any(d.is_zero() and d.is_signed() for d in decimals) or scale == 0
    assert f.texts(0, counts.size) == texts_of(Rounding(digits=scale), decimals)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_json_from_fixed_point_is_the_decimal_json(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = config.load(path)
    monkeypatch.setattr(numbers, "FIXED_POINT_FROM", None)
    exact = make_trace(p).to_json()
    monkeypatch.setattr(numbers, "FIXED_POINT_FROM", 0)
    trace = make_trace(p)
    assert trace.to_json() == exact
    computed = [s for s in trace.iterations[-1] if s.spec.compute is not None]
    packed = [s for s in computed if s.hand.fixed is not None and s.hand.held() is None]
    # fixed point applies: values written from its counts, no Decimal made for them
    assert bool(packed) == (p.rounding.mode == "decimals" and p.rounding.digits <= 6)
    assert trace.to_json() == exact  # and again, with whatever the first writing kept


def test_deviations_are_made_once_and_kept() -> None:
    steps = make_trace(config.load(CONFIGS[0])).iterations[0]
    given, computed = steps[0], steps[-1]
    assert given.spec.compute is None and given.given
    assert given.deviations == [0.0] * len(given.values)
    assert computed.spec.compute is not None and not computed.given
    assert computed.deviations is computed.deviations
    hand = [float(v) for v in computed.values]
    assert computed.deviations == [h - f for h, f in zip(hand, computed.floats, strict=True)]
