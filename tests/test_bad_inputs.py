"""Bad input of every kind: one line `error: ...` and exit code 2, or a correct run; never a
traceback, a hang or gigabytes.

Hand-worked refusals with their exact messages come first; then every config in configs/ and an
answers file of each are mutated (hypothesis, a fixed budget) and run through the real command
line; the worst inputs run in processes of their own, whose peak memory is measured.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CONFIGS, ROOT
from handcalc.config import draw, limits
from handcalc.config.schema import json_schema
from handcalc.errors import ConfigError

Cli = Callable[..., tuple[int, str, str]]
DEFAULT = ROOT / "configs" / "default.yaml"
TINY = "network: {widths: [2, 2], head: identity, loss: mse}\ndata: {x: [1, 1], y: [0, 1]}\n"
LONG = "9" * 5000


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test in a folder of its own, so that messages name files as bad.yaml."""
    monkeypatch.chdir(tmp_path)


def error_of(run_cli: Cli, tmp_path: Path, text: str, *args: str) -> str:
    """The one error line of `handcalc run bad.yaml` (the file holding `text`)."""
    (tmp_path / "bad.yaml").write_text(text)
    code, out, err = run_cli("run", "bad.yaml", *args)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, err)
    return err.rstrip("\n")


RANGE = "(0, or between 1e-15 and 1e15 in absolute value)"
NUMBERS = [
    (
        TINY.replace("x: [1, 1]", "x: [1e56, 1]"),
        f"bad.yaml:2: data.x[1]: 1e56 is out of range {RANGE}",
    ),
    (
        TINY.replace("y: [0, 1]", "y: [1e56, 1]"),
        f"bad.yaml:2: data.y[1]: 1e56 is out of range {RANGE}",
    ),
    (
        TINY + "parameters: {b1: [0, -1e60]}\n",
        f"bad.yaml:3: parameters.b1[2]: -1e60 is out of range {RANGE}",
    ),
    (
        "network: {widths: [2, 2], temperature: 1e56}\ndata: {x: [1, 1], label: 1}\n",
        f"bad.yaml:1: network.temperature: 1e56 is out of range {RANGE}",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 1], label: 1}\n"
        "calibration: {x: [[1, 1e56]], label: [1]}\n",
        f"bad.yaml:3: calibration.x[1][2]: 1e56 is out of range {RANGE}",
    ),
    (
        TINY + "init: {scheme: normal, std: 1e400}\n",
        f"bad.yaml:3: init.std: 1e400 is out of range {RANGE}",
    ),
    (
        TINY + "init: {scheme: normal, std: 1e15}\n",
        "bad.yaml:3: init.std: 1e15 is too large (a number above 0, at most 1e14)",
    ),
    (
        TINY + "init: {scheme: uniform, low: -1e300, high: 1e300}\n",
        f"bad.yaml:3: init.low: -1e300 is out of range {RANGE}",
    ),
    (
        TINY + "training: {optimizer: adam, beta1: 1e999999999}\n",
        f"bad.yaml:3: training.beta1: 1e999999999 is out of range {RANGE}",
    ),
    (
        TINY + "training: {optimizer: adam, beta2: 1}\n",
        "bad.yaml:3: training.beta2: 1 is too large (0 or more, below 1)",
    ),
    (
        TINY + "training: {learning_rate: 1e-400}\nrounding: {mode: significant}\n",
        f"bad.yaml:3: training.learning_rate: 1e-400 is out of range {RANGE}",
    ),
    (
        TINY + f"training: {{learning_rate: {LONG}}}\n",
        "bad.yaml:3: training.learning_rate: a number of 5,000 characters is too long (at most 40)",
    ),
    (
        TINY + f"init: {{seed: {LONG}}}\n",
        "bad.yaml:3: init.seed: a number of 5,000 characters is too long (at most 40)",
    ),
    (
        TINY + "training: {steps: 1e999999999}\n",
        "bad.yaml:3: training.steps: 1e999999999 is out of range (a whole number from 1 to 100)",
    ),
]


@pytest.mark.parametrize(("text", "message"), NUMBERS, ids=[m[10:40] for _, m in NUMBERS])
def test_numbers_out_of_range_are_refused_where_read(
    run_cli: Cli, tmp_path: Path, text: str, message: str
) -> None:
    assert error_of(run_cli, tmp_path, text) == "error: " + message


TOO_LARGE = "smaller inputs, parameters or learning rate"
OVERFLOWS = [
    (  # z^(2) = 4e45 has 66 digits at 20 decimal places
        "network: {widths: [2, 2, 2], head: identity, loss: mse}\ndata: {x: [1e15, 1e15], "
        "y: [0, 1]}\nparameters: {W1: [[1e15, 1e15], [1e15, 1e15]], b1: [0, 0], "
        "W2: [[1e15, 1e15], [1e15, 1e15]], b2: [0, 0]}\nrounding: {digits: 20}\n",
        "step z2, entry z^(2)_1: 4.000e+45 cannot be written in the hand run: to 20 decimal "
        f"places the hand run holds values below 10^40 (60 digits in all): {TOO_LARGE}, fewer "
        "digits, or rounding.mode: significant",
    ),
    (  # exp(2e30) passes the largest exact decimal, 10^999999
        "network: {widths: [2, 2]}\ndata: {x: [1e15, 1e15], label: 1}\n"
        "parameters: {W1: [[1e15, 1e15], [1e15, 1e15]], b1: [0, 0]}\n"
        "rounding: {mode: significant}\n",
        "step exp_z, entry exp(z^(1))_1: exp of 2.000e+30 overflows in the hand run: the "
        f"numbers grew too large ({TOO_LARGE})",
    ),
    (  # the hand run holds exp(2000); float64 does not
        "network: {widths: [2, 2]}\ndata: {x: [1000, 1000], label: 1}\n"
        "parameters: {W1: [[1, 1], [1, 1]], b1: [0, 0]}\nrounding: {mode: significant}\n",
        "step exp_z, entry exp(z^(1))_1: exp of 2000 overflows in the float64 run: the numbers "
        f"grew too large ({TOO_LARGE})",
    ),
    (  # softmax of (700, -700, 0): exp(-1400) underflows to 0 in float64; the hand run holds it
        "network: {widths: [2, 3]}\ndata: {x: [700, 0], label: 2}\nparameters: {W1: [[1, 0], "
        "[-1, 0], [0, 0]], b1: [0, 0, 0]}\nrounding: {mode: significant, digits: 20}\n",
        "step loss, entry ŷ_2: ln of 0.0 in the float64 run: a value passed the float range on "
        f"the way ({TOO_LARGE})",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), OVERFLOWS, ids=["decimals", "exp hand", "exp float", "underflow"]
)
def test_numbers_that_outgrow_the_run_name_the_step_and_ask_for_smaller_ones(
    run_cli: Cli, tmp_path: Path, text: str, message: str
) -> None:
    assert error_of(run_cli, tmp_path, text) == "error: " + message


def test_units_below_float64_range(run_cli: Cli, tmp_path: Path) -> None:
    """Thirty layers of 1e-15 make z^(30) = 1e-465: its unit is 0 as a float64."""
    path = config_path("tiny.yaml", tmp_path)
    code, out, err = run_cli("run", str(path), "--format", "json")
    assert code == 0 and err == ""
    steps = {s["id"]: s for s in json.loads(out)["iterations"][0]["steps"]}
    assert steps["z30"]["value"] == ["0." + "0" * 464 + "1000"]
    assert steps["z30"]["float64"] == [0.0] and steps["z30"]["deviation_units"] == [0.0]


ANSWER_RANGE = "(0, or between 1e-100 and 1e100 in absolute value)"


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("1e400", f"'1e400' is out of range {ANSWER_RANGE}"),
        ("1e999999999", f"'1e999999999' is out of range {ANSWER_RANGE}"),
        ("-1e-400", f"'-1e-400' is out of range {ANSWER_RANGE}"),
        (LONG, "the entry is too long (at most 100 characters)"),
        ("{a: 1}", "a mapping is not a number"),
        ("1/0", "'1/0' is a fraction over zero"),
    ],
)
def test_answer_numbers_out_of_range_are_unreadable(
    run_cli: Cli, tmp_path: Path, written: str, problem: str
) -> None:
    (tmp_path / "answers.yaml").write_text(f"z1: [{written}, 1.57, 1.42]\nloss: {written}\n")
    code, out, err = run_cli("check", "answers.yaml", "--format", "json")
    report = json.loads(out)
    assert code == 2 and err == ""
    assert report["problems"] == [
        f"answers.yaml:1: z1[1]: {problem}",
        f"answers.yaml:2: loss: {problem}",
    ]
    verdicts = [e["verdict"] for e in report["steps"][0]["entries"]]
    assert verdicts == ["unreadable", "correct", "correct"]


@pytest.mark.parametrize("written", ["1e-50", "1e50", "-0.199", "-19.9", "1e-100", "-1e100"])
def test_answer_numbers_far_from_the_key_are_graded(
    run_cli: Cli, tmp_path: Path, written: str
) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(f"z1: [{written}, 1.57, 1.42]\nloss: {written}\n")
    code, out, err = run_cli("check", str(path))
    assert code == 1 and err == "" and "unreadable" not in out
    assert "z1        z^(1)          2 correct, 1 wrong   0.67/1 points" in out


def test_an_index_of_thousands_of_digits(run_cli: Cli, tmp_path: Path) -> None:
    code, out, err = run_cli("run", "--explain", f"z1[{LONG}]")
    assert (code, out) == (2, "")
    assert err == (
        "error: --explain: 'z1[9999999999999999999999999999999999999'... (5,004 characters) is not "
        "an entry (expected a step id and 1-based indices of at most 9 digits, such as dW2[1,3] "
        "or z1[2])\n"
    )
    config = DEFAULT.read_text().replace("expand: []", f'expand: ["dW2[1,{LONG}]"]')
    (tmp_path / "quiz.yaml").write_text(config)
    code, _, err = run_cli("worksheet", str(tmp_path / "quiz.yaml"), "--key", "-o", "key.md")
    assert code == 2 and err.startswith("error: document.expand: 'dW2[1,9999") and "9 digits" in err


def test_devices_pipes_large_files_and_control_bytes(run_cli: Cli, tmp_path: Path) -> None:
    for device in ("/dev/zero", "/dev/urandom"):
        if Path(device).exists():
            assert run_cli("run", device) == (
                2,
                "",
                f"error: {device}: not a regular file (expected a YAML config file)\n",
            )
            code, out, _ = run_cli("check", device)
            assert (
                code == 2 and f"unreadable: {device}: not a regular file (expected a YAML " in out
            )
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: [" + b"0, " * (limits.MAX_FILE_BYTES // 3) + b"0]\n")
    assert run_cli("run", str(big))[2] == (
        f"error: {big}: larger than 300,000 bytes (expected a YAML config file)\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b'title: ok\nnetwork: {widths: [2, 2]}\n\ntitle2: "a\x1b[2Jb"\n')
    assert run_cli("run", str(bad))[2] == (
        f"error: {bad}:4: YAML syntax: the character U+001B is not allowed (text, tabs and line "
        "breaks only)\n"
    )
    bad.write_text("title: " + "é" * 100 + "\nnetwork: {widths: [2, 2]}\x01\n" + "a: 1\n" * 50)
    assert run_cli("run", str(bad))[2] == (
        f"error: {bad}:2: YAML syntax: the character U+0001 is not allowed (text, tabs and line "
        "breaks only)\n"
    )
    bad.write_bytes(b"title: ok\n\xff\n")
    assert (
        run_cli("run", str(bad))[2]
        == f"error: {bad}:2: not UTF-8 text (expected a YAML config file)\n"
    )
    bad.write_text("a: " + "[" * 30 + "]" * 30)
    assert run_cli("run", str(bad))[2] == (
        f"error: {bad}:1: lists and mappings nested too deeply (at most 20 levels)\n"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_a_config_from_a_pipe(run_cli: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"cat {DEFAULT} > {fifo}"])
    code, out, _ = run_cli("run", str(fifo))
    writer.wait()
    assert code == 0 and out.startswith("One training step of a 5-3-4-3 network\n")


@given(
    low=st.integers(-50, 50),
    span=st.integers(0, 60),
    step=st.sampled_from(["0.1", "0.25", "0.3", "1", "0.07"]),
    u=st.floats(0, 1, exclude_max=True),
)
def test_a_grid_point_is_the_one_the_listed_grid_gives(
    low: int, span: int, step: str, u: float
) -> None:
    """The grid as it was listed before: every multiple of step in [low, high]."""
    init = draw.Init(low=Decimal(low) / 10, high=Decimal(low + span) / 10, step=Decimal(step))
    first = int((init.low / init.step).to_integral_value(ROUND_CEILING))
    last = int((init.high / init.step).to_integral_value(ROUND_FLOOR))
    listed = [k * init.step for k in range(first, last + 1)]
    grid = draw.grid(init)
    assert grid.count == len(listed)
    assert grid.pick(u) == (listed[int(u * len(listed))] if listed else 0)


def test_a_grid_of_billions_of_points_is_never_listed(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(TINY + "init: {low: -1e15, high: 1e15, step: 1e-15}\n")
    code, out, _ = run_cli("run", str(path), "--format", "json")
    assert code == 0
    assert json.loads(out)["iterations"][0]["steps"][0]["value"] == [
        ["688843703050096.1880", "515908805880605.1052"],
        ["-158856838338310.0434", "-482166499414073.3000"],
    ]
    assert draw.grid(draw.Init(low=Decimal(-1), high=Decimal(1), step=Decimal("1e-9"))).count == (
        2_000_000_001
    )


def config_text(widths: list[int], n: int = 1, extra: str = "") -> str:
    x = "[" + ", ".join(["0.5"] * widths[0]) + "]"
    y = "[" + ", ".join(["0"] * widths[-1]) + "]"
    if n > 1:
        x, y = "[" + ", ".join([x] * n) + "]", "[" + ", ".join([y] * n) + "]"
    return (
        f"network: {{widths: {widths}, head: identity, loss: mse}}\n"
        f"data: {{x: {x}, y: {y}}}\n{extra}"
    )


SIZES = [
    (
        config_text([1] * 10_001),
        [],
        "error: bad.yaml:1: network.widths: has 10,001 widths (2 to 101: d_0 and d_L, at most "
        "100 layers)",
    ),
    (
        config_text([500, 470, 20], extra="training: {steps: 100}\n"),
        [],
        "error: bad.yaml:3: training.steps: 100 steps write 73,762,100 entries, too many (at most "
        "1,000,000 in a run: fewer steps, a smaller network or a smaller batch)",
    ),
    (
        config_text([5, 3, 4, 3], n=1000, extra="training: {steps: 100}\n"),
        [],
        "error: bad.yaml:3: training.steps: 100 steps write 5,614,800 entries, too many (at most "
        "1,000,000 in a run: fewer steps, a smaller network or a smaller batch)",
    ),
    (
        config_text([784, 128, 10]),
        ["--steps", "4"],
        "error: --steps: training.steps: 4 steps write 1,227,140 entries, too many (at most "
        "1,000,000 in a run: fewer steps, a smaller network or a smaller batch)",
    ),
    (
        config_text([5, 3, 4, 3], extra="exam: {max_tries: 1000000}\n"),
        [],
        "error: bad.yaml:3: exam.max_tries: 1000000 is out of range (a whole number from 1 to "
        "10000)",
    ),
]


@pytest.mark.parametrize(
    ("text", "args", "message"), SIZES, ids=["layers", "params", "batch", "784", "tries"]
)
def test_size_limits(
    run_cli: Cli, tmp_path: Path, text: str, args: list[str], message: str
) -> None:
    assert error_of(run_cli, tmp_path, text, *args) == message


def test_paper_and_exam_limits(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "wide.yaml"
    path.write_text(config_text([784, 128, 10]))
    code, _, err = run_cli("worksheet", str(path), "-o", str(tmp_path / "w.pdf"))
    assert code == 2 and err == (
        f"error: {path}: 306,785 written entries are too many for a PDF (at most 5,000: write "
        ".typ, .tex, .md or .html instead, or a smaller network)\n"
    )
    assert not (tmp_path / "w.pdf").exists()
    path.write_text(config_text([30, 30, 10], extra="exam: {max_tries: 10000}\n"))
    code, _, err = run_cli("exam", str(path), "-o", str(tmp_path / "exam"))
    assert code == 2 and err == (
        f"error: {path}: exam.max_tries: 10,000 tries of 3,951 entries each are too many (at "
        "most 10,000,000 entries in all: exam.max_tries 2,531 or fewer)\n"
    )
    assert not (tmp_path / "exam").exists()


def test_calibrate_and_mc_dropout_limits(run_cli: Cli, tmp_path: Path) -> None:
    rows = "[" + ", ".join(["[" + ", ".join(["0.5"] * 100) + "]"] * 100) + "]"
    (tmp_path / "mc.yaml").write_text(
        f"network: {{widths: [100, 50, 10], dropout: {{keep: [1, 0.5]}}}}\n"
        f"data: {{x: {rows}, label: [{', '.join(['1'] * 100)}]}}\n"
        f"calibration: {{x: {rows}, label: [{', '.join(['2'] * 100)}], steps: 100}}\n"
    )
    code, out, err = run_cli("mc-dropout", "mc.yaml", "--passes", "200")
    assert (code, out) == (2, "") and err == (
        "error: mc.yaml: 4,637,560 entries to write, too many (at most 1,000,000 in a run: fewer "
        "steps, passes or examples, or a smaller network)\n"
    )
    code, out, err = run_cli("calibrate", "mc.yaml")
    assert (
        (code, out) == (2, "") and err.startswith("error: mc.yaml: ") and "at most 1,000,0" in err
    )


def test_schema_takes_quoted_whole_numbers_as_the_cli_does(run_cli: Cli, tmp_path: Path) -> None:
    quoted = {
        "network": {"widths": ["3", "2", "2"], "residual": None},
        "data": {"x": [1, 2, 3], "label": "1"},
        "rounding": {"digits": "3"},
        "training": {"steps": " 2 "},
    }
    validator = jsonschema.Draft202012Validator(json_schema())
    assert list(validator.iter_errors(quoted)) == []
    (tmp_path / "q.yaml").write_text(yaml.safe_dump(quoted))
    assert run_cli("run", str(tmp_path / "q.yaml"))[0] == 0
    for bad in ({"rounding": {"digits": "3.5"}}, {"training": {"beta1": 1}}):
        assert not validator.is_valid({**quoted, **bad})


@pytest.mark.parametrize(
    ("network", "data", "head"),
    [
        ("{widths: [2, 2], loss: mse}", "{x: [1, 1], y: [0, 1]}", "identity"),
        ("{widths: [2, 2], loss: half_sse}", "{x: [1, 1], y: [0, 1]}", "identity"),
        ("{widths: [2, 1], loss: sse}", "{x: [1, 1], y: 1}", "identity"),
        (
            "{widths: [2, 1], loss: binary_cross_entropy}",
            "{x: [[1, 1], [0, 1]], y: [1, 0]}",
            "sigmoid",
        ),
        ("{widths: [2, 2], loss: cross_entropy}", "{x: [1, 1], label: 2}", "softmax"),
        ("{widths: [2, 2]}", "{x: [1, 1], label: 2}", "softmax"),
    ],
)
def test_the_head_left_out_is_the_losss(
    run_cli: Cli, tmp_path: Path, network: str, data: str, head: str
) -> None:
    (tmp_path / "c.yaml").write_text(f"network: {network}\ndata: {data}\n")
    code, out, err = run_cli("run", str(tmp_path / "c.yaml"))
    assert (code, err) == (0, "")
    assert f"; head {head}; " in out.splitlines()[1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "network: {widths: [2, 1]}\ndata: {x: [1, 1], y: [1]}\n",
            "bad.yaml:1: network.head: softmax over a single output is always 1 (for one output: "
            "binary_cross_entropy, or a loss with head identity or sigmoid)",
        ),
        (
            "network: {widths: [2, 1], head: softmax, loss: mse}\ndata: {x: [1, 1], y: 1}\n",
            "bad.yaml:1: network.head: softmax over a single output is always 1 (for one output: "
            "binary_cross_entropy, or a loss with head identity or sigmoid)",
        ),
        (
            "network: {widths: [2, 2], loss: MSE}\ndata: {x: [1, 1], y: [0, 1]}\n",
            "bad.yaml:1: network.loss: unknown value 'MSE' (did you mean mse? one of "
            "cross_entropy, binary_cross_entropy, mse, sse, half_sse)",
        ),
        (
            "network: {widths: [2, 2], Loss: mse}\ndata: {x: [1, 1], y: [0, 1]}\n",
            "bad.yaml:1: network.Loss: unknown key (did you mean loss? known: widths, activation, "
            "head, loss, bias, residual, temperature, dropout)",
        ),
        (
            "network: {widths: [2, 2]}\ndata: {x: [1, 1], label: 1}\nLearning_Rate: 0.3\n",
            "bad.yaml:3: Learning_Rate: unknown key (did you mean training.learning_rate? known: "
            "title, network, data, parameters, init, training, rounding, document, exam, "
            "calibration)",
        ),
        (
            "network: {widths: [2, 2], x: [1, 1]}\ndata: {label: 1}\n",
            "bad.yaml:1: network.x: unknown key (did you mean data.x? known: widths, activation, "
            "head, loss, bias, residual, temperature, dropout)",
        ),
        (
            "network: {widths: [2, 2], loss: mse}\ndata: {x: [1, 1], y: 1}\n",
            "bad.yaml:2: data.y: expected target: 2 numbers, or a list of such lists, got '1'",
        ),
    ],
)
def test_heads_targets_and_names(run_cli: Cli, tmp_path: Path, text: str, message: str) -> None:
    assert error_of(run_cli, tmp_path, text) == "error: " + message


# ---- generated bad input ------------------------------------------------------------------------

EXTREME = [
    "1e56",
    "-1e56",
    "1e400",
    "-1e300",
    "1e999999999",
    "1e-400",
    "-1e-999999999",
    LONG,
    "0",
    "-0.0",
    "1e15",
    "-1e-15",
    "1e16",
    "2e-16",
    ".nan",
    "-.inf",
    "1_000",
    "0x1F",
    "1/3",
    "'3'",
    '"2"',
    "1e-9",
    "100001",
    "1000000",
    "-1",
    "2.5",
    "4300",
    "0.0001",
]
WRONG = [
    "abc",
    "[]",
    "{}",
    "~",
    "true",
    "[[1]]",
    "[1, [2]]",
    '"\\e]52;c;aGk=\\a"',
    "'MSE'",
    "Softmax",
    '"dW2[1,' + "1" * 5000 + ']"',
    "[" + ", ".join(["1"] * 20_000) + "]",
    "[" + ", ".join(["[1, 2]"] * 2_000) + "]",
    "{a: {b: {c: {d: 1}}}}",
]
CONTROL = [chr(c) for c in (0, 1, 7, 8, 0x1B, 0x7F, 0x85, 0x9B)]
BOMB = "\n".join(
    ['bomb0: &b0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    + [f"bomb{k}: &b{k} [" + ", ".join([f"*b{k - 1}"] * 9) + "]" for k in range(1, 9)]
)


def node_paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in nested dicts and lists, by its keys and indices."""
    inner = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    out = []
    for key, value in inner:
        out.append((*prefix, key))
        out += node_paths(value, (*prefix, key))
    return out


def set_at(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def delete_at(data: Any, path: tuple[Any, ...]) -> None:
    for key in path[:-1]:
        data = data[key]
    del data[path[-1]]


def dumped(data: Any, raw: dict[str, str]) -> str:
    """YAML of data, each placeholder string replaced by its raw YAML text."""
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=10**9)
    for token, value in raw.items():
        text = text.replace(token, value)
    return text


def get_at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def flow(value: Any) -> str:
    """A value as one line of flow YAML."""
    return yaml.safe_dump([value], default_flow_style=True, width=10**9).strip()[1:-1]


KINDS = ["number", "number", "scaled", "wrong", "wrong", "delete", "rename", "alias", "bomb"]
SCALES = ["* 10", "/ 10", "* -1", "+ 0.0001", "* 1e90", "/ 1e90"]


def scaled(value: Any, how: str) -> str:
    """A number of the data moved as a slip would move it: a point misplaced, a sign flipped."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "0"
    factor = Decimal(how[2:])
    number = Decimal(repr(value))
    return str({"*": number * factor, "/": number / factor, "+": number + factor}[how[0]])


@st.composite
def mutants(draw_from: st.DrawFn, data: Any) -> str:
    """The YAML of `data` with one to three mutations, and perhaps raw damage to its text."""
    data = json.loads(json.dumps(data))
    raw: dict[str, str] = {}
    for k in range(draw_from(st.integers(1, 3))):
        places = node_paths(data)
        if not places:
            break
        kind = draw_from(st.sampled_from(KINDS))
        leaves = [p for p in places if not isinstance(get_at(data, p), (dict, list))]
        place = draw_from(
            st.sampled_from(leaves if kind in ("number", "scaled") and leaves else places)
        )
        token = f"RAW{k}TOKEN"
        if kind == "scaled":
            raw[token] = scaled(get_at(data, place), draw_from(st.sampled_from(SCALES)))
            set_at(data, place, token)
        elif kind in ("number", "wrong", "bomb"):
            choices = {"number": EXTREME, "wrong": WRONG, "bomb": ["*b8", "*b4"]}[kind]
            raw[token] = draw_from(st.sampled_from(choices))
            set_at(data, place, token)
        elif kind == "delete":
            delete_at(data, place)
        elif kind == "rename" and isinstance(place[-1], str):
            parent = get_at(data, place[:-1])
            new = draw_from(st.sampled_from([place[-1].upper(), place[-1] + "s", "learning_rate"]))
            parent[new] = parent.pop(place[-1])
        elif kind == "alias":  # an earlier value anchored, a later one its alias
            later = draw_from(st.sampled_from(places))
            first, second = sorted([place, later], key=places.index)
            raw[token], raw[f"ALIAS{k}TOKEN"] = f"&A{k} {flow(get_at(data, first))}", f"*A{k}"
            set_at(data, first, token)
            if second[: len(first)] != first:  # not inside the anchored value
                set_at(data, second, f"ALIAS{k}TOKEN")
    text = dumped(data, raw)
    if "*b" in text:  # a billion laughs, its anchors as keys of their own
        text = BOMB + "\n" + text
    damage = draw_from(st.sampled_from(["none"] * 6 + ["control", "duplicate"]))
    lines = text.splitlines(keepends=True) or [""]
    i = draw_from(st.integers(0, len(lines) - 1))
    if damage == "control":
        lines[i] = lines[i][:-1] + draw_from(st.sampled_from(CONTROL)) + lines[i][-1:]
    elif damage == "duplicate":
        lines.insert(i, lines[i])
    return "".join(lines)


def assert_one_line_or_output(code: int, out: str, err: str, ok: set[int]) -> None:
    """Exit 2 with one line `error: ...` and nothing else, or a run that printed its output."""
    assert "Traceback" not in out + err
    if err:
        assert code == 2 and out == "" and err.startswith("error: ") and err.count("\n") == 1, err
    else:
        assert code in ok and out, (code, out[:300])


SUITE = settings(
    max_examples=int(os.environ.get("HANDCALC_MUTANTS", "300")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CONFIG_DATA = {p.name: yaml.safe_load(p.read_text()) for p in CONFIGS}


COMMANDS = [[], ["--format", "json"], ["--explain", "z1[1]"], ["--float32"], ["worksheet"]]


@SUITE
@given(
    st.sampled_from(sorted(CONFIG_DATA)).flatmap(lambda n: mutants(CONFIG_DATA[n])),
    st.sampled_from(COMMANDS),
)
def test_mutated_configs(run_cli: Cli, tmp_path: Path, text: str, command: list[str]) -> None:
    path = tmp_path / "mutant.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    if command == ["worksheet"]:
        key = tmp_path / "key.md"
        key.unlink(missing_ok=True)
        code, out, err = run_cli("worksheet", str(path), "--key", "-o", str(key))
        if key.exists():  # the one line saying so is the output
            assert (code, out, err) == (0, "", f"wrote {key}\n"), err
            out, err = "written", ""
    else:
        code, out, err = run_cli("run", str(path), *command)
    assert_one_line_or_output(code, out, err, {0})


def chain(layers: int, x: str, init: str, extra: str) -> str:
    """A chain of width-1 identity layers whose one grid point is every weight."""
    widths = ", ".join(["1"] * (layers + 1))
    return (
        f"network: {{widths: [{widths}], bias: false, activation: identity, head: identity, "
        f"loss: sse}}\ndata: {{x: [{x}], y: [0]}}\ninit: {init}\n"
        f"rounding: {{mode: significant}}\n{extra}"
    )


# keys of 1e-465 and of 1e290, beside the configs' own
EXTREME_KEYS = {
    "tiny.yaml": chain(30, "1e-15", "{low: 1e-15, high: 1.5e-15, step: 1e-15}", ""),
    "huge.yaml": chain(
        9, "1e10", "{low: 9e14, high: 1e15, step: 1e15}", "training: {learning_rate: 1e-15}\n"
    ),
}


def config_path(name: str, folder: Path) -> Path:
    if name not in EXTREME_KEYS:
        return ROOT / "configs" / name
    (folder / name).write_text(EXTREME_KEYS[name])
    return folder / name


@functools.cache
def answers_of(name: str) -> dict[str, Any]:
    """The key of a config's first iteration as an answers file's data: what a perfect student
    writes."""
    from handcalc.config import load
    from handcalc.config.source import read_text
    from handcalc.grading.asked import asked
    from handcalc.model.runner import make_trace
    from handcalc.rowmajor import nest

    text = EXTREME_KEYS.get(name) or (ROOT / "configs" / name).read_text()
    steps = asked(make_trace(load.load_node(read_text(text, name), name)))
    return {s.id: nest([float(t) for t in s.texts()], s.shape) for s in steps}


@SUITE
@given(
    st.sampled_from(sorted([*CONFIG_DATA, *EXTREME_KEYS])).flatmap(
        lambda n: st.tuples(st.just(n), mutants(answers_of(n)))
    )
)
def test_mutated_answers(run_cli: Cli, tmp_path: Path, named: tuple[str, str]) -> None:
    name, text = named
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    code, out, err = run_cli("check", str(config_path(name, tmp_path)), str(path))
    assert_one_line_or_output(code, out, err, {0, 1, 2})


def test_an_answer_far_from_a_tiny_key_is_wrong(run_cli: Cli, tmp_path: Path) -> None:
    """z^(30) = 1e-465 by hand: 1 is no misplaced decimal point, and no float overflows."""
    (tmp_path / "answers.yaml").write_text("z30: [1]\nz29: [1e-100]\n")
    code, out, err = run_cli("check", str(config_path("tiny.yaml", tmp_path)), "answers.yaml")
    assert code == 1 and err == ""
    assert "0 correct, 0 carried, 2 wrong" in out


# ---- the worst inputs, each in a process of its own -------------------------------------------

MEASURE = """
import json, resource, subprocess, sys
peaks = []
for args in json.loads(sys.argv[1]):
    run = subprocess.run([sys.executable, '-m', 'handcalc', *args], capture_output=True, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peaks.append([run.returncode, peak // (1024 if sys.platform == 'darwin' else 1), run.stderr])
print(json.dumps(peaks))
"""


def test_the_worst_inputs_are_refused_within_500_mb(tmp_path: Path) -> None:
    files = {
        "layers.yaml": config_text([1] * 100_001),
        "params.yaml": config_text([500, 490, 10], extra="training: {steps: 100}\n"),
        "batch.yaml": config_text([5, 3, 4, 3], n=1000, extra="training: {steps: 100}\n"),
        "grid.yaml": TINY + "init: {step: 1e-15, low: -1e15, high: 1e400}\n",
        "bomb.yaml": BOMB + "\n",
        "zeros.yaml": "x: [" + "0," * (limits.MAX_FILE_BYTES // 2 - 10) + "0]\n",  # just fits
        "wide.yaml": config_text([784, 128, 10]),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    runs = [["run", str(tmp_path / name)] for name in files if name != "wide.yaml"]
    runs += [["run", "/dev/zero"], ["check", "/dev/urandom"]]
    runs += [["worksheet", str(tmp_path / "wide.yaml"), "-o", str(tmp_path / "wide.pdf")]]
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(runs)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for args, (code, peak_kb, err) in zip(runs, json.loads(out), strict=True):
        assert code == 2 and "Traceback" not in err, (args, err)
        assert err == "" if args[0] == "check" else err.startswith("error: "), (args, err)
        assert err.count("\n") <= 1, (args, err)
        assert peak_kb < 500 * 1024, (args, peak_kb)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_entries_are_counted_as_the_plan_writes_them(path: Path) -> None:
    from handcalc.config import load
    from handcalc.model.plan import plan

    p = load.load(path, {"training.steps": ("7", "--steps")})
    for jacobians in (False, True):
        planned = sum(math.prod(s.shape) for it in plan(p, jacobians) for s in it.specs)
        assert limits.written(p, jacobians) == planned


def test_a_stream_is_read_up_to_the_cap() -> None:
    from handcalc.config.source import read_stream

    node = read_stream(io.BytesIO(DEFAULT.read_bytes()), "-")
    assert node is not None and node.is_map and "network" in node.value
    with pytest.raises(ConfigError, match=r"^-: larger than 300,000 bytes \(expected a YAML"):
        read_stream(io.BytesIO(b"#" * (limits.MAX_FILE_BYTES + 1)), "-")
