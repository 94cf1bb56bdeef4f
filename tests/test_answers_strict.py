"""A student's number is read strictly: what is written on paper and typed in ASCII, nothing else.

Python's Decimal() would read "1_000" as 1000, "١٢" and "１２" as 12 and "nan" as a value; each of
these is an unreadable entry, the same in `check`, `grade` and `serve`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from handcalc.config import load as config
from handcalc.grading import answers
from handcalc.serve import grading as page
from handcalc.serve import sheet
from test_check import DEFAULT, grade, student

Cli = Callable[..., tuple[int, str, str]]

ACCEPTED = [
    ("0.1234", "0.1234", None),
    ("-.5", "-0.5", None),
    ("+3", "3", None),
    ("5.", "5", None),
    ("1.2e-3", "0.0012", None),
    ("-2E2", "-2E+2", None),
    (" 0.5\t", "0.5", None),  # around the number, as a quoted YAML entry or a typed one keeps it
    ("1/4", "0.25", None),
    ("-3 / 4", "-0.75", None),
    ("0,25", "0.25", "decimal comma"),
    ("-,5", "-0.5", "decimal comma"),
    ("\u22120.5", "-0.5", None),  # the minus sign of the papers, copied from a key
    ("\u22123/4", "-0.75", None),
    ("2.5e\u22123", "0.0025", None),  # in an exponent, as a key's float64 notes print it
]

NOT_A_NUMBER = "not a number"
DIGITS = "not a number (write the digits 0 to 9)"
INSIDE = "not a number (no spaces or _ inside a number)"
REFUSED = [
    ("1_000", INSIDE),
    ("1 000", INSIDE),
    ("0. 5", INSIDE),
    ("١٢", DIGITS),  # Arabic-Indic
    ("１２", DIGITS),  # full-width
    ("۱/۲", DIGITS),  # Persian digits in a fraction
    ("1\u00b2", DIGITS),  # a superscript two
    ("nan", NOT_A_NUMBER),
    ("NaN", NOT_A_NUMBER),
    ("-sNaN", NOT_A_NUMBER),
    ("inf", NOT_A_NUMBER),
    ("-Infinity", NOT_A_NUMBER),
    (".inf", NOT_A_NUMBER),
    ("0x10", NOT_A_NUMBER),
    ("0b1", NOT_A_NUMBER),
    ("1.2.3", NOT_A_NUMBER),
    ("--1", NOT_A_NUMBER),
    ("+-1", NOT_A_NUMBER),
    ("e5", NOT_A_NUMBER),
    ("1e", NOT_A_NUMBER),
    ("1,5e3", NOT_A_NUMBER),
    ("1,000.5", NOT_A_NUMBER),
    ("1/2/3", NOT_A_NUMBER),
    ("0.5/2", NOT_A_NUMBER),
    ("1/-2", NOT_A_NUMBER),
    ("12\u00a0", NOT_A_NUMBER),  # a no-break space is not space around the number
    ("", NOT_A_NUMBER),
    ("\u2013" + "0.5", "not a number (type the minus sign as -)"),  # an en dash
    ("1\u22123", "not a number"),  # a minus sign between digits is no number
    ("1/0", "a fraction over zero"),
    ("1e400", "out of range (0, or between 1e-100 and 1e100 in absolute value)"),
    ("1" * 101, "too long (at most 100 characters)"),
]


@pytest.mark.parametrize(("text", "value", "note"), ACCEPTED)
def test_numbers_read(text: str, value: str, note: str | None) -> None:
    got, got_note = answers.parse_number(text)
    assert (str(got), got_note) == (value, note)


def test_a_fraction_keeps_the_working_precision() -> None:
    value, _ = answers.parse_number("1/3")
    assert value == Decimal("0." + "3" * 60)


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_texts_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        answers.parse_number(text)
    assert str(refused.value) == message


def test_an_answers_file_reports_each_entry_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text('z1: [1_000, ١٢, .nan]\nh1: ["1e-1", +2, " 3 "]\nz2: [0x10, nan, 1/4]\n')
    read = answers.read(path, {"z1": (3,), "h1": (3,), "z2": (3,)})
    assert read.problems == [
        f"{path}:1: z1[1]: '1_000' is {INSIDE}",
        f"{path}:1: z1[2]: '١٢' is {DIGITS}",
        f"{path}:1: z1[3]: '.nan' is not a number",
        f"{path}:3: z2[1]: '0x10' is not a number",
        f"{path}:3: z2[2]: 'nan' is not a number",
    ]
    assert read.given["z1"].values == [None, None, None]
    assert read.given["z1"].unreadable == {0, 1, 2}
    assert read.given["h1"].values == [Decimal("0.1"), Decimal(2), Decimal(3)]
    assert read.given["z2"].values == [None, None, Decimal("0.25")]


def test_check_marks_them_unreadable(run_cli: Cli, tmp_path: Path) -> None:
    written = student(config.load(DEFAULT))
    key = Decimal(written["z1"][1])
    written["z1"][0] = "nan"
    written["z1"][1] = f"{key}".replace("0", "０")  # the key, in full-width digits
    code, report = grade(run_cli, tmp_path, written)
    assert code == 2
    z1 = next(s for s in report["steps"] if s["id"] == "z1")
    assert [e["verdict"] for e in z1["entries"]] == ["unreadable", "unreadable", "correct"]
    assert report["problems"][0].endswith("z1[1]: 'nan' is not a number")


def test_the_page_reads_typed_entries_alike() -> None:
    single = sheet.load(None).single
    assert single is not None
    read = page.read(single, {"z1": ["1_000", "inf", "1,5"]})
    assert read.problems == [f"z1[1]: '1_000' is {INSIDE}", "z1[2]: 'inf' is not a number"]
    assert read.given["z1"].values == [None, None, Decimal("1.5")]
    assert read.notes == ["z1[3]: read '1,5' as 1.5 (decimal comma)"]
