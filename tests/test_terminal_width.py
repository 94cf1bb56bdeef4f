"""Terminal tables laid out by screen width: an entry such as h̃^(1)_1 or m̂_W^(1)_1,1 holds a
combining mark that takes no column, and every column still lines up with its header.

Screen columns are counted here from the Unicode data directly (a combining mark joins the
character before it, a wide East Asian character takes two), not by the renderer's own measure.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
import yaml

from conftest import ROOT, problem
from handcalc.config.load import load
from handcalc.documents import moodle, statement
from handcalc.documents.settings import settings
from handcalc.model.runner import make_trace
from handcalc.render import terminal

RULE = "─"


def screen(line: str) -> list[str]:
    """The line as a terminal shows it: one string per screen column ('' right of a wide one)."""
    cells: list[str] = []
    for ch in line:
        if cells and unicodedata.combining(ch):
            cells[-1] += ch
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            cells += [ch, ""]
        else:
            cells.append(ch)
    return cells


def spans(rule: list[str]) -> list[tuple[int, int]]:
    """The screen columns [start, end) of each run of rule characters under a header."""
    out: list[tuple[int, int]] = []
    for i, cell in enumerate(rule):
        if cell == RULE and (i == 0 or rule[i - 1] != RULE):
            out.append((i, i))
        if cell == RULE:
            out[-1] = (out[-1][0], i + 1)
    return out


def misplaced(header: str, rows: list[str], rule_line: str) -> list[str]:
    """Each line, header included, with a column whose text leaves its place under the rule:
    the entry column starts where its rule starts, every other column ends where its rule ends
    (a number of the units column two columns before, room for the mark ' !'), and the gaps
    between the rules are blank. One message per column out of place, by line and column."""
    rule = screen(rule_line)
    columns = spans(rule)
    wrong = []
    for line in [header, *rows]:
        cells = screen(line) + [" "] * len(rule)
        for k, (start, end) in enumerate(columns):
            name = "".join(screen(header)[start:end]).strip()
            inked = [i for i in range(start, end) if cells[i] not in (" ", "!")]
            right = end - 2 if name == "units" and line != header else end
            placed = inked and (inked[0] == start if name == "entry" else inked[-1] == right - 1)
            stop = columns[k + 1][0] if k + 1 < len(columns) else end
            if not placed or any(c != " " for c in cells[end:stop]):
                wrong.append(f"{line!r}: column {k + 1} {name}")
    return wrong


def table(text: str, title: str) -> list[str]:
    """The lines of the table under `title`, up to the blank line after it."""
    lines = text.splitlines()
    start = lines.index(title)
    end = lines.index("", start)
    return lines[start:end]


def run(name: str) -> str:
    return terminal.to_text(make_trace(load(ROOT / "configs" / f"{name}.yaml")), width=80)


def test_the_dropout_mask_table_lines_up() -> None:
    # entry: 'h̃^(1)_1' is 7 columns (the tilde takes none), wider than 'entry'; hand: '0.0000',
    # 6 columns; the rule under each column is as wide as the column
    assert table(run("dropout"), "h̃^(1) = h^(1) ⊙ d^(1)   [hd1]") == [
        "h̃^(1) = h^(1) ⊙ d^(1)   [hd1]",
        "entry      hand     float64  hand − float64   units",
        "───────  ──────  ──────────  ──────────────  ──────",
        "h̃^(1)_1  0.0000  0.00000000               0     0",
        "h̃^(1)_2  0.0000  0.00000000               0     0",
        "h̃^(1)_3  0.5500  0.55000000       +1.11e-16  0.00",
        "h̃^(1)_4  0.0000  0.00000000               0     0",
    ]


def test_the_bias_corrected_moment_table_lines_up() -> None:
    assert table(run("adam-minibatches"), "m̂_b^(1) ← m_b^(1) / (1 - β1^1)   [mhatb1]") == [
        "m̂_b^(1) ← m_b^(1) / (1 - β1^1)   [mhatb1]",
        "entry         hand      float64  hand − float64    units",
        "─────────  ───────  ───────────  ──────────────  ───────",
        "m̂_b^(1)_1  -0.1519  -0.15187458       -2.54e-05  -0.25",
        "m̂_b^(1)_2  -0.3731  -0.37307231       -2.77e-05  -0.28",
        "m̂_b^(1)_3  -0.4019  -0.40185415       -4.58e-05  -0.46",
    ]


def test_the_scaled_logits_table_lines_up() -> None:
    assert table(run("calibration"), "z̃^(1) = z^(1) / T   [zT]") == [
        "z̃^(1) = z^(1) / T   [zT]",
        "entry      hand     float64  hand − float64  units",
        "───────  ──────  ──────────  ──────────────  ─────",
        "z̃^(1)_1  2.5000  2.50000000               0    0",
        "z̃^(1)_2  0.5000  0.50000000               0    0",
        "z̃^(1)_3  0.0000  0.00000000               0    0",
    ]


def test_the_check_finds_a_column_off_by_one() -> None:
    """The check itself fails on the old layout, which padded by character count: the tilde
    took a column, so every column right of the entry sat one column left of its rule (and the
    first digit of hand in the entry's gap)."""
    header = "entry       hand     float64  hand − float64   units"
    rule = "────────  ──────  ──────────  ──────────────  ──────"
    row = "h̃^(1)_1  0.0000  0.00000000               0     0"
    names = ["entry", "hand", "float64", "hand − float64", "units"]
    assert misplaced(header, [row], rule) == [
        f"{row!r}: column {k} {names[k - 1]}" for k in (1, 2, 3, 4, 5)
    ]
    assert misplaced(header, [], rule) == []


@pytest.mark.parametrize("name", ["dropout", "adam-minibatches", "calibration", "mc-dropout"])
def test_every_column_of_every_table_lines_up(name: str) -> None:
    lines = run(name).splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith(RULE)]
    assert rules, f"{name}: no table"
    for i in rules:
        end = lines.index("", i)
        rows = [r for r in lines[i + 1 : end] if not r.startswith("…")]
        assert misplaced(lines[i - 1], rows, lines[i]) == [], f"{name}: {lines[i - 2]}"


def test_a_wide_title_folds_at_the_screen_width() -> None:
    data: dict[str, Any] = yaml.safe_load((ROOT / "configs" / "calibration.yaml").read_text())
    data["title"] = "温度" * 25 + " calibration"  # 100 columns of wide characters, then words
    lines = terminal.to_text(make_trace(problem(data)), width=80).splitlines()
    assert lines[:3] == ["温度" * 20, "温度" * 5 + " calibration", lines[2]]
    assert lines[2].startswith("network   3-3;")


def test_check_lines_up_its_step_lines(run_cli: Any, tmp_path: Any) -> None:
    config = ROOT / "configs" / "dropout.yaml"
    blank = tmp_path / "answers.yaml"
    blank.write_text(run_cli("check", str(config), "--template")[1])
    out = run_cli("check", str(config), str(blank))[1].splitlines()
    assert out[3:6] == [
        "z1        z^(1)          nothing given   0/1 points",
        "h1        h^(1)          nothing given   0/1 points",
        "hd1       h̃^(1)          nothing given   0/1 points",
    ]
    steps = [line for line in out if "nothing given" in line]
    assert {len(screen(line[: line.index("nothing given")])) for line in steps} == {25}


# --- the temperature, a given constant, is written the same way everywhere ----------------


def with_temperature(value: float) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "configs" / "batch.yaml").read_text())
    data["network"]["temperature"] = value
    return data


@pytest.mark.parametrize(("given", "shown"), [(2.0, "2"), (0.25, "0.25"), (1.23456, "1.2346")])
def test_the_statement_writes_the_temperature_as_the_settings_do(given: float, shown: str) -> None:
    """As given, without trailing zeros; a temperature with more digits than the rule keeps is
    rounded once, when the config is read, and then written alike by both."""
    t = make_trace(problem(with_temperature(given)))
    scaled = f"z̃^(2) = z^(2) / T with T = {shown}"
    output = [line for line in statement.lines(t.problem) if line.startswith("Output layer")]
    assert output == [
        "Output layer 2: softmax head, ŷ = exp(z̃^(2)_j) / Σ_k exp(z̃^(2)_k), " + scaled
    ]
    assert f"Temperature T = {shown}: the head reads z̃^(2) = z^(2) / T." in settings(t)


def test_the_moodle_question_writes_the_temperature_as_given() -> None:
    text = moodle.question(make_trace(problem(with_temperature(2.0))), 1, 0)
    assert "z<sup>(2)</sup> / T with T = 2</li>" in text
    assert "T = 2.0000" not in text
