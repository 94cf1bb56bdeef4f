"""Bad input thrown at what a student types and at where `grade` writes, from seeded random draws
and from the cases those draws found: each ends in a number, an unreadable entry or one error line.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from handcalc.config import load as config
from handcalc.documents import exam
from handcalc.grading.answers import parse_number

Cli = Callable[..., tuple[int, str, str]]

# Pieces a student's entry is drawn from: signs, the papers' minus, exponents, fractions, commas,
# whitespace of several kinds, other scripts' digits, long digit runs and out-of-range sizes.
PIECES = [
    *("0", "1", "9", "12", "007", ".", "-", "+", "\u2212", "\u2013", "e", "E", "e-", "e+"),
    *("/", ",", "_", " ", "\t", "\n", "\u00a0", "\u2003", "\u200b", "\ufeff", "\u0663"),
    *("\uff11", "\u00b2", "\u00bd", "nan", "inf", "x", "1e400", "1e-400", "-0", "+0", "1/0"),
    *("9" * 50, "9" * 200, "\u0301", "Infinity", "0x10", "1_000", "e99999999999999999999"),
]
OUT_OF_RANGE = "out of range (0, or between 1e-100 and 1e100 in absolute value)"


def drawn(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))


def test_any_drawn_entry_is_a_number_in_range_or_a_value_error() -> None:
    rng = random.Random(20261129)
    read = 0
    for _ in range(20_000):
        text = drawn(rng)
        try:
            value, _ = parse_number(text)
        except ValueError as e:
            assert "\n" not in str(e)
            continue
        read += 1
        assert value.is_finite()
        assert value.is_zero() or Decimal("1e-100") <= abs(value) <= Decimal("1e100"), text
    assert 500 < read < 5_000  # the draws reach both outcomes, not only the refusal


@pytest.mark.parametrize(
    "text",
    [
        "1e9999999999999999999",  # past the largest exponent Decimal holds
        "-1e-40099999999999999999999999999999999999999999999999999",
        "0e99999999999999999999999999999999999999999999999999",
        "\u22125E+1000000000000000000000",
    ],
)
def test_an_exponent_past_decimals_reach_is_out_of_range(text: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_number(text)
    assert str(e.value) == OUT_OF_RANGE


def test_check_reports_a_huge_exponent_as_unreadable(
    tmp_path: Path, run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ann.yaml").write_text("z1: ['1e9999999999999999999', 1.11, 1.57]\n")
    code, out, err = run_cli("check", "ann.yaml")
    assert (code, err) == (2, "")
    assert f"ann.yaml:1: z1[1]: '1e9999999999999999999' is {OUT_OF_RANGE}" in " ".join(out.split())


@pytest.fixture
def graded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Cli) -> Iterator[None]:
    """An exam, a class's answers and their grades in grades/, in the current folder."""
    monkeypatch.chdir(tmp_path)
    exam.write(config.load(None), 2, Path("exam"), force=False)
    Path("answers").mkdir()
    Path("answers/ann.yaml").write_text("variant: 1\nz1: [0.55, 0.4, -0.99]\n")
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades")
    assert code == 0, err
    yield


def test_force_through_a_path_back_into_the_folder_replaces_it(graded: None, run_cli: Cli) -> None:
    """'grades/../grades' names the folder only while it is there: it is moved aside first."""
    Path("answers/ben.yaml").write_text("variant: 2\nz1: [1, 2, 3]\n")
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades/../grades", "--force")
    assert (code, err) == (0, "wrote 2 files to grades/../grades\n")
    assert sorted(p.name for p in Path().iterdir()) == ["answers", "exam", "grades"]
    rows = Path("grades/gradebook.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == [
        "answers/ann.yaml",
        "answers/ben.yaml",
    ]


def test_ctrl_c_between_moving_the_old_grades_aside_and_the_new_in_keeps_the_old(
    graded: None, run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old folder is moved aside, then the new one renamed in: a Ctrl-C between the two
    puts the old one back, where the next run would otherwise sweep it away as a leftover."""
    before = Path("grades/gradebook.csv").read_bytes()
    Path("answers/ben.yaml").write_text("variant: 2\nz1: [1, 2, 3]\n")
    calls, real = itertools.count(1), os.rename

    def rename(src: str | Path, dst: str | Path) -> None:
        if next(calls) == 3:  # full folder refused, old one moved aside, now the new one in
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    code, _, _ = run_cli("grade", "exam", "answers", "-o", "grades", "--force")
    assert code == 130
    assert Path("grades/gradebook.csv").read_bytes() == before
    assert sorted(p.name for p in Path().iterdir()) == ["answers", "exam", "grades"]


EXTREME = """\
title: "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \
\U0001f9ee\U0001f469\U0001f3fd\u200d\U0001f3eb e\u0301\u0301\u0301 {word}"
network: {{widths: [2, 2], head: softmax, loss: cross_entropy}}
data: {{x: ["1.23456789123456789", "-0.000000001"], y: ["0", "1"]}}
rounding: {{digits: {digits}, mode: {mode}, overrides: {{forward: exact, dW1: {{digits: 1}}}}}}
document:
  course: "\u0645\u0642\u0631\u0631 a\u202eb"
  instructions: "{word}"
"""


@pytest.mark.parametrize(("digits", "mode"), [(20, "decimals"), (1, "significant")])
def test_a_paper_of_extreme_numbers_and_texts_typesets(
    tmp_path: Path, run_cli: Cli, digits: int, mode: str
) -> None:
    """Exact values of dozens of digits beside 1-digit ones; a title in three scripts with
    emoji, stacked combining marks and a 300-character word."""
    path = tmp_path / "extreme.yaml"
    path.write_text(EXTREME.format(word="x" * 300, digits=digits, mode=mode))
    for key in ((), ("--key",)):
        out = tmp_path / f"paper{len(key)}.pdf"
        code, _, err = run_cli("worksheet", str(path), "-o", str(out), *key)
        assert code == 0, err
        assert out.read_bytes().startswith(b"%PDF")


TINY = """network: {widths: [1, 2], head: softmax, loss: cross_entropy}
data: {x: ["1"], y: ["0", "1"]}
parameters: {W1: [["-1000000"], ["0"]], b1: ["0", "0"]}
rounding: {digits: 2, mode: significant}
"""


@pytest.mark.parametrize("command", [["run"], ["worksheet", "--key", "-o", "{d}/key.pdf"]])
def test_a_value_past_what_can_be_written_stops_the_run(
    run_cli: Cli, tmp_path: Path, command: list[str]
) -> None:
    # exp(-1000000) to 2 significant digits would be written with 434,294 zeros: 105 MB of
    # terminal and 2.5 GB of typesetting, for a number no answer can be
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    args = [a.replace("{d}", str(tmp_path)) for a in command]
    code, out, err = run_cli(*args[:1], str(path), *args[1:])
    assert (code, out) == (2, "")
    assert err == (
        "error: step exp_z, entry exp(z^(1))_1: 3.300e-434295 cannot be written in the hand run: "
        "a written value is 0 or between 1e-999 and 1e999 in absolute value, its digits written "
        "out: smaller inputs, parameters or learning rate, or rounding.mode: decimals\n"
    )
    assert not (tmp_path / "key.pdf").exists()
    decimals = TINY.replace("significant", "decimals")  # to 2 places it is written 0.00
    path.write_text(decimals)
    assert run_cli("run", str(path))[0] == 0


def test_the_written_bound_lets_zeros_of_any_exponent_through() -> None:
    from handcalc.breakdown import Breakdown, _bounded

    fine = [Decimal("0E-2000"), Decimal("1e-999"), Decimal("-1e999"), Decimal("0.5")]
    assert _bounded(fine) == fine
    for far in ("1e-1000", "-9.9e999", "2e1000"):
        with pytest.raises(Breakdown) as e:
            _bounded([Decimal("0.5"), Decimal(far)])
        assert e.value.index == 1
