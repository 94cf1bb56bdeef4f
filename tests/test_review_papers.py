"""A long number in a paper's table wraps inside its cell: an exact value may have many digits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

Cli = Callable[..., tuple[int, str, str]]

# z^(1) = W^(1) x + b^(1) = 0.1234567891234 * 1 + 0, kept exact: 15 characters, more than a
# 2.1cm cell holds on one line
CONFIG = {
    "network": {"widths": [1, 1, 2]},
    "data": {"x": [1], "y": [1, 0]},
    "parameters": {"W1": [["0.12345678912345678"]], "b1": [0], "W2": [[0], [0]], "b2": [0, 0]},
    "rounding": {"overrides": {"W": "exact", "b": "exact", "z": "exact"}},
}


def test_an_exact_value_wraps_in_its_cell(run_cli: Cli, tmp_path: Path) -> None:
    config, key = tmp_path / "c.yaml", tmp_path / "key.typ"
    config.write_text(yaml.safe_dump(CONFIG))
    code, _, err = run_cli("worksheet", str(config), "--key", "-o", str(key))
    assert (code, err) == (0, f"wrote {key}\n")
    source = key.read_text()
    # z1: a zero-width space every 9 characters, inside one string
    assert ', "0.1234567\\u{200b}891234567\\u{200b}8"' in source
    assert ', "0.1235"' in source  # h1 by the class rule: short, one piece


def test_a_long_word_in_the_title_wraps_at_the_page_edge(run_cli: Cli, tmp_path: Path) -> None:
    config, sheet = tmp_path / "c.yaml", tmp_path / "sheet.typ"
    word = "Backpropagationbyhand" * 5  # 105 characters without a space
    config.write_text(yaml.safe_dump({**CONFIG, "title": f"Week 3 {word}"}))
    code, _, err = run_cli("worksheet", str(config), "-o", str(sheet))
    assert (code, err) == (0, f"wrote {sheet}\n")
    source = sheet.read_text()
    pieces = "\u200b".join(word[i : i + 20] for i in range(0, len(word), 20))
    assert f'[#"Week 3 {pieces}"]' in source  # the heading: a break opportunity every 20
    assert f'title: "Week 3 {word}"' in source  # the PDF's title as written


def test_the_rounding_chart_names_updated_and_test_time_rows() -> None:
    from handcalc.config.load import load
    from handcalc.documents import paper
    from handcalc.model.runner import make_trace

    root = Path(__file__).resolve().parent.parent
    doc = paper.build(make_trace(load(root / "configs" / "dropout-residual.yaml")), key=True)
    names = {step_id: name for step_id, name, _ in doc.chart}
    assert (names["z1"], names["tz1"]) == ("z^(1)", "z^(1) (test)")  # two passes, told apart
    assert (names["W1_next"], names["dW1"]) == ("W^(1) (updated)", "dL/dW^(1)")
    assert (names["tyhat"], names["yhat"]) == ("ŷ (test)", "ŷ")
