"""The command line as a user meets it: outputs, files, errors, samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import CONFIGS, ROOT
from goldens import sample_paths
from handcalc.config import load as config
from handcalc.config import source
from handcalc.errors import ConfigError
from handcalc.version import __version__

Cli = Callable[..., tuple[int, str, str]]


def test_run_without_config_prints_the_default(run_cli: Cli) -> None:
    code, out, err = run_cli("run")
    assert code == 0, err
    assert "5-3-4-3" in out and "FORWARD PASS" in out and "BACKWARD PASS" in out
    assert "loss 1.5376 by hand" in out


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["terminal", "json", "markdown"])
def test_samples_are_current(run_cli: Cli, tmp_path: Path, path: Path, fmt: str) -> None:
    """Each configs/ file runs through the real CLI and reproduces its committed sample."""
    out_file = tmp_path / "out"
    code, _, err = run_cli("run", str(path), "--format", fmt, "--output", str(out_file))
    assert code == 0, err
    expected = sample_paths(path)[fmt]
    assert out_file.read_bytes() == expected.read_bytes(), f"run scripts/samples.py ({expected})"


def test_embedded_default_is_the_configs_default() -> None:
    assert (ROOT / "configs" / "default.yaml").read_text() == config.default_text()


def test_same_config_same_bytes(run_cli: Cli) -> None:
    first = run_cli("run", "--format", "json")[1]
    assert first == run_cli("run", "--format", "json")[1]


def test_json_trace_schema(run_cli: Cli) -> None:
    code, out, _ = run_cli("run", str(ROOT / "configs" / "batch.yaml"), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "handcalc.trace/1" and doc["handcalc"] == __version__
    cfg = doc["config"]
    assert set(cfg) == {
        "title",
        "network",
        "data",
        "parameters",
        "init",
        "training",
        "rounding",
        "document",
        "exam",
        "calibration",
    }
    assert set(cfg["parameters"]) == {"W1", "b1", "W2", "b2"}
    steps = {s["id"]: s for s in doc["iterations"][0]["steps"]}
    fixed = [
        "W1",
        "b1",
        "W2",
        "b2",
        "h0",
        "z1",
        "h1",
        "z2",
        "yhat",
        "loss",
        "dz2",
        "dz1",
        "dh1",
        "dW1",
        "dW2",
        "db1",
        "db2",
        "W1_next",
        "W2_next",
        "b1_next",
        "b2_next",
    ]
    assert all(k in steps for k in fixed)
    for s in steps.values():
        assert set(s) == {
            "id",
            "phase",
            "symbol",
            "formula",
            "inputs",
            "shape",
            "value",
            "float64",
            "deviation",
            "deviation_units",
        }
        assert s["phase"] in {"given", "forward", "loss", "backward", "update"}
        assert all(i in steps for i in s["inputs"])
    assert steps["z1"]["shape"] == [3, 3]  # batch quantities are N x d
    assert steps["W1"]["shape"] == [3, 4]  # d_1 rows x d_0 columns
    assert isinstance(steps["loss"]["value"], str)  # a scalar is a bare value
    assert steps["z1"]["value"][0][0].count(".") == 1 and len(steps["z1"]["value"][0][0]) >= 6
    assert steps["dz2"]["formula"] == "(ŷ - y) / N"


def test_markdown_has_the_tables(run_cli: Cli) -> None:
    code, out, _ = run_cli("run", "--format", "markdown")
    assert code == 0
    assert out.startswith("# One training step")
    assert "| entry | hand | float64 | hand − float64 | units |" in out


def test_output_refuses_to_overwrite(run_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "key.json"
    target.write_text("keep me")
    code, _, err = run_cli("run", "--format", "json", "--output", str(target))
    assert code == 2
    assert err == f"error: {target}: already exists (use --force to overwrite)\n"
    assert target.read_text() == "keep me"
    assert run_cli("run", "--format", "json", "--output", str(target), "--force")[0] == 0
    assert json.loads(target.read_text())["schema"] == "handcalc.trace/1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.json"]  # no temporary left


def test_output_into_missing_folder(run_cli: Cli, tmp_path: Path) -> None:
    code, _, err = run_cli("run", "--output", str(tmp_path / "no" / "x.txt"))
    assert code == 2 and "does not exist" in err


def test_init_writes_a_starter_that_runs(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "quiz.yaml"
    assert run_cli("init", str(path))[0] == 0
    text = path.read_text()
    for key in [
        "widths",
        "activation",
        "head",
        "loss",
        "bias",
        "x:",
        "label",
        "reduction",
        "parameters",
        "seed",
        "scheme",
        "low",
        "high",
        "step",
        "std",
        "learning_rate",
        "steps",
        "digits",
        "mode",
        "rule",
        "per",
    ]:
        assert key in text
    assert run_cli("run", str(path))[0] == 0
    code, _, err = run_cli("init", str(path))
    assert code == 2 and "already exists" in err
    assert run_cli("init", "-")[1] == text


def test_version_and_help(run_cli: Cli) -> None:
    assert run_cli("--version")[1] == f"handcalc {__version__}\n"
    code, out, _ = run_cli("run", "--help")
    assert code == 0 and "Examples" in out and "--learning-rate" in out


def test_overrides(run_cli: Cli) -> None:
    code, out, _ = run_cli(
        "run",
        "--format",
        "json",
        "--digits",
        "2",
        "--rule",
        "half_even",
        "--per",
        "operation",
        "--mode",
        "significant",
        "--seed",
        "3",
        "--steps",
        "2",
        "--learning-rate",
        "0.05",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["config"]["rounding"] == {
        "digits": 2,
        "mode": "significant",
        "rule": "half_even",
        "per": "operation",
    }
    assert doc["config"]["init"]["seed"] == 3
    assert doc["config"]["training"]["learning_rate"] == "0.05"
    assert doc["config"]["training"]["steps"] == 2
    assert len(doc["iterations"]) == 2


def test_large_steps_are_summarised(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "wide.yaml"
    path.write_text(
        "network: {widths: [40, 30, 3]}\ndata: {x: [" + ", ".join(["0.1"] * 40) + "], label: 2}\n"
    )
    code, out, _ = run_cli("run", str(path))
    assert code == 0
    assert "… 1,176 more rows hidden" in out  # dW1 has 30 x 40 entries, 24 shown
    assert all(len(line) <= 80 for line in out.splitlines()[10:])
    code, out, _ = run_cli("run", str(path), "--rows", "0")
    assert "more rows hidden" not in out


def test_piped_output_is_plain(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-m", "handcalc", "run"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "\x1b[" not in done.stdout
    forced = subprocess.run(
        [sys.executable, "-m", "handcalc", "run"],
        capture_output=True,
        text=True,
        env={**env, "FORCE_COLOR": "1"},
        check=True,
    )
    assert "\x1b[1m" in forced.stdout  # bold stays: NO_COLOR removes colour, not emphasis
    assert "\x1b[33m" not in forced.stdout and "\x1b[36m" not in forced.stdout
    coloured = subprocess.run(
        [sys.executable, "-m", "handcalc", "run"],
        capture_output=True,
        text=True,
        env={**os.environ, "FORCE_COLOR": "1"},
        check=True,
    )
    assert "\x1b[33m" in coloured.stdout  # a marked deviation, in yellow


BAD = [
    ("network: {widths: [1, 2", "bad.yaml:2: YAML syntax:"),
    ("data: {x: [1], y: [1]}", "bad.yaml:1: network: missing key"),
    ("network: {widths: [2, 2]}\ndata: {label: 1}", "bad.yaml:2: data.x: missing key"),
    ("network: {widths: [2, 2]}\ndata: {x: [1, 2]}", "bad.yaml:2: data.y: missing key"),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\nrounding: {digit: 3}",
        "bad.yaml:3: rounding.digit: unknown key (did you mean digits?",
    ),
    ("network: {widths: 3}\ndata: {x: [1], y: [1]}", "network.widths: expected a list"),
    (
        "network: {widths: [2, 0]}\ndata: {x: [1, 2], y: [1]}",
        "network.widths[2]: 0 is out of range",
    ),
    ("network: {widths: [2, 1.5]}\ndata: {x: [1, 2], y: [1]}", "1.5 is not a whole number"),
    ("network: {widths: [1000, 1000, 10]}\ndata: {x: [1], y: [1]}", "parameters is too many"),
    (
        "network: {widths: [1, 2, 2], activation: rellu}\ndata: {x: [1], label: 1}",
        "network.activation: unknown value 'rellu' (did you mean relu?",
    ),
    ("network: {widths: [1, 2], head: softmx}\ndata: {x: [1], label: 1}", "network.head: unknown"),
    ("network: {widths: [1, 2], loss: mae}\ndata: {x: [1], label: 1}", "network.loss: unknown"),
    (
        "network: {widths: [1, 2], head: identity, loss: cross_entropy}\ndata: {x: [1], label: 1}",
        "network.loss: cross_entropy does not go with head identity",
    ),
    (
        "network: {widths: [1, 2], head: softmax, loss: binary_cross_entropy}\n"
        "data: {x: [1], label: 1}",
        "does not go with head softmax",
    ),
    ("network: {widths: [2, 2]}\ndata: {x: [1], label: 1}", "data.x: has 1 number (2, one per"),
    ("network: {widths: [2, 2]}\ndata: {x: [[1, 2], [1]], label: [1, 2]}", "data.x[2]: has 1 n"),
    ("network: {widths: [2, 2]}\ndata: {x: [[1, 2]], y: [1, 0]}", "data.y: does not match"),
    ("network: {widths: [2, 2]}\ndata: {x: [1, 2], y: [1, 0, 0]}", "data.y: has 3 numbers"),
    ("network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 3}", "data.label: 3 is out of range"),
    ("network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 0}", "data.label: 0 is out of range"),
    ("network: {widths: [2, 2]}\ndata: {x: [1, 2], y: [1, 0], label: 1}", "both y and label"),
    ("network: {widths: [2, 2]}\ndata: {x: [.nan, 2], label: 1}", "data.x[1]: .nan is not a fin"),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\ntraining: {learning_rate: .inf}",
        "training.learning_rate: .inf is not a finite number",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\ntraining: {learning_rate: -1}",
        "training.learning_rate: -1 is not positive",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\nrounding: {digits: 0}",
        "rounding.digits: 0 is out of range (a whole number from 1 to 20)",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\nrounding: {mode: significant, "
        "digits: 21}",
        "rounding.digits: 21 is out of range",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\nrounding: {mode: sig}",
        "rounding.mode: unknown value 'sig'",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\nrounding: {rule: up}",
        "rounding.rule: unknown value 'up'",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\nrounding: {per: step}",
        "rounding.per: unknown value 'step'",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\ntraining: {steps: 0}",
        "training.steps: 0 is out of range",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\nparameters: {W1: [[1, 2, 3], "
        "[1, 2, 3]]}",
        "parameters.W1[1]: has 3 numbers (expected 2)",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\nparameters: {W1: [[1, 2]]}",
        "parameters.W1: has 1 rows (expected 2 rows of 2 numbers)",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\nparameters: {W3: [[1]]}",
        "parameters.W3: unknown parameter",
    ),
    (
        "network: {widths: [2, 2], bias: false}\ndata: {x: [1, 2], label: 1}\n"
        "parameters: {b1: [1, 1]}",
        "parameters.b1: given, but network.bias is false",
    ),
    (
        "network: {widths: [2, 2], bias: maybe}\ndata: {x: [1, 2], label: 1}",
        "network.bias: expected true or false",
    ),
    ("network: {widths: [2, 2]}\ndata: {x: [1, 2], y: [0.5, 0.6]}", "data.y: sums to 1.1"),
    (
        "network: {widths: [2, 1], head: sigmoid, loss: binary_cross_entropy}\n"
        "data: {x: [1, 2], y: [2]}",
        "data.y: has a target outside [0, 1]",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\ninit: {low: 1, high: -1}",
        "init.high: -1 is not above low 1",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\ninit: {scheme: grid, low: 0.01, "
        "high: 0.02, step: 0.5}",
        "init.step: no multiple of 0.5",
    ),
    (
        "network: {widths: [2, 2]}\ndata: {x: [1, 2], label: 1}\ninit: {scheme: sobol}",
        "init.scheme: unknown value",
    ),
    ("network: {widths: [2, 2]}\nnetwork: {widths: [2, 2]}", "bad.yaml:2: network: given twice"),
    ("- 1\n- 2", "bad.yaml:1: config: expected a mapping, got a list"),
    ("", "bad.yaml: the config is empty"),
    (
        "network: {widths: [1, 2]}\ndata: {x: [1], label: 1}\nparameters: {W1: [[0], [9]], "
        "b1: [0, 0]}\nrounding: {digits: 1}",
        "step loss, entry ŷ_1: ln of 0.0 in the hand run: rounding broke the computation",
    ),
    (
        "network: {widths: [1, 1], head: sigmoid, loss: mse}\ndata: {x: [1000], y: [1]}\n"
        "parameters: {W1: [[-1]], b1: [0]}\nrounding: {digits: 3, mode: significant}",
        "step yhat, entry ŷ_1: exp of 1000 overflows in the float64 run: the numbers grew too "
        "large (smaller inputs, parameters or learning rate)",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_config_is_one_line_and_exit_2(
    run_cli: Cli, tmp_path: Path, text: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("run", "bad.yaml")
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert "Traceback" not in err


def test_alias_bomb_is_refused_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nine lines describe 9^9 values; the refusal comes before any of them is expanded."""
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines))
    made: list[source.Node] = []
    node = source.Node

    def counted(**fields: Any) -> source.Node:
        made.append(node(**fields))
        return made[-1]

    monkeypatch.setattr(source, "Node", counted)
    with pytest.raises(ConfigError, match="document too large"):
        source.read_text(path.read_text(), str(path))
    assert len(made) == 15  # the nine "x" and the lists a ... f, each converted once
    measure = (  # the peak memory of the command alone, in a process of its own
        "import resource, subprocess, sys\n"
        "run = subprocess.run([sys.executable, '-m', 'handcalc', 'run', sys.argv[1]],"
        " capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(run.returncode, peak // (1024 if sys.platform == 'darwin' else 1), run.stderr)"
    )
    out = subprocess.run(
        [sys.executable, "-c", measure, str(path)], capture_output=True, text=True, check=True
    ).stdout
    code, peak_kb, err = out.split(" ", 2)
    assert code == "2" and "too large" in err
    assert int(peak_kb) < 100 * 1024


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.yaml"], "error: missing.yaml: no such file"),
        (["run", "."], "error: .: is a directory"),
        (["run", "--digits", "99"], "error: --digits: rounding.digits: 99 is out of range"),
        (["run", "--rule", "half_evn"], "did you mean half_even?"),
        (["run", "--format", "xml"], "error: --format: unknown value 'xml'"),
        (
            ["run", "--learning-rate", "abc"],
            "error: --learning-rate: training.learning_rate: expected a number, got 'abc'",
        ),
        (["run", "--seed", "-1"], "error: --seed: init.seed: -1 is out of range"),
        (["run", "--steps", "1000"], "error: --steps: training.steps: 1000 is out of range"),
    ],
)
def test_bad_options(run_cli: Cli, args: list[str], message: str) -> None:
    code, _, err = run_cli(*args)
    assert code == 2 and err.startswith("error: ") and message in err, err


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_normalized_config_reproduces_the_run(run_cli: Cli, tmp_path: Path, path: Path) -> None:
    first = run_cli("run", str(path), "--format", "json")[1]
    again = tmp_path / "again.yaml"
    again.write_text(json.dumps(json.loads(first)["config"]))  # JSON is YAML
    assert run_cli("run", str(again), "--format", "json")[1] == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--rows", "-1"], "--rows: -1 is out of range (0 or more)"),
        (["run", "--rows", "1.5"], "--rows: expected a whole number, got '1.5'"),
        (["exam", "-n", "0", "-o", "e"], "--variants: 0 is out of range (1 to 500)"),
        (["exam", "--variants", "501", "-o", "e"], "--variants: 501 is out of range (1 to 500)"),
        (["mc-dropout", "--passes", "1"], "--passes: 1 is out of range (2 or more)"),
        (["run", "--rowz", "3"], "--rowz: no such option (did you mean --rows?)"),
        (["run", "--rows"], "--rows: expects a value"),
        (["rn"], "no such command 'rn' (did you mean 'run'?)"),
        (["run", "a.yaml", "b.yaml"], "got unexpected extra argument(s) (b.yaml)"),
        (
            ["run", "--format", "jsn"],
            "--format: unknown value 'jsn' (did you mean json? one of terminal, json, markdown)",
        ),
        (
            ["check", "a.yaml", "--format", "JSON"],
            "--format: unknown value 'JSON' (did you mean json? one of terminal, json)",
        ),
        (
            ["worksheet", "-o", "."],
            "--output: .: is a directory (a file name ending in .pdf, .typ, .tex, .md or .html)",
        ),
        (["worksheet"], "--output: missing (a file name ending in .pdf, .typ, .tex, .md or .html)"),
        (["exam"], "--output: missing (the folder to write the exam into)"),
    ],
)
def test_option_errors_are_one_line(run_cli: Cli, args: list[str], message: str) -> None:
    code, out, err = run_cli(*args)
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_short_version_and_completion(run_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import shellingham

    assert run_cli("-V") == (0, f"handcalc {__version__}\n", "")
    # --show-completion takes no value: it finds the shell among the process's parents, and a
    # test run may have none there (one started by a scheduler): here it runs in bash.
    monkeypatch.setattr(shellingham, "detect_shell", lambda *_, **__: ("bash", "/bin/bash"))
    code, out, _ = run_cli("--show-completion")
    assert code == 0 and "_HANDCALC_COMPLETE" in out and "complete -o default" in out


def test_run_reads_the_config_from_stdin(
    run_cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import io

    from handcalc.config import source

    text = (ROOT / "configs" / "binary.yaml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    code, out, err = run_cli("run", "-", "--format", "json")
    assert code == 0, err
    assert out == run_cli("run", str(ROOT / "configs" / "binary.yaml"), "--format", "json")[1]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"network: {widths: [2]}\n")))
    code, _, err = run_cli("run", "-")
    assert code == 2 and err.startswith("error: <stdin>:1: ")
    monkeypatch.setattr(source, "MAX_FILE_BYTES", 100)  # the cap of a config file, also here
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    expected = "error: <stdin>: larger than 100 bytes (expected a YAML config file)\n"
    assert run_cli("run", "-")[2] == expected


def test_help_shows_only_defaults_that_work(run_cli: Cli, tmp_path: Path) -> None:
    for command in ("run", "check", "init", "worksheet", "exam", "calibrate", "mc-dropout"):
        code, out, _ = run_cli(command, "--help")
        assert code == 0 and "[default: .]" not in out, command
    _, out, _ = run_cli("mc-dropout", "--help")
    assert "default: 10]" not in out
    mc = ROOT / "configs" / "mc-dropout.yaml"
    assert run_cli("mc-dropout", str(mc), "-o", str(tmp_path / "mc.txt"))[0] == 0
    assert "4 passes" in (tmp_path / "mc.txt").read_text()


def test_calibrate_prints_the_fitted_temperature_last(run_cli: Cli) -> None:
    code, out, _ = run_cli("calibrate", str(ROOT / "configs" / "calibration.yaml"))
    assert code == 0
    assert out.splitlines()[-1] == "fitted temperature: T = 1.3592 by hand, 1.35918653 in float64"
