"""Jacobians, --explain, the float32 column, the PyTorch twin, the Python API and the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

import handcalc
from conftest import CONFIGS, ROOT
from handcalc.config import load as config
from handcalc.config.problem import Problem
from handcalc.config.schema import json_schema
from handcalc.config.spec import SPEC
from handcalc.model.ids import Kind

Cli = Callable[..., tuple[int, str, str]]
DEFAULT = ROOT / "configs" / "default.yaml"


def test_jacobians_and_the_contracted_3_tensor() -> None:
    t = handcalc.run(DEFAULT, jacobians=True)
    p = t.problem
    for layer in range(1, p.layers):
        diag = np.diag(np.array(t.step(f"dhdz{layer}").floats))
        np.testing.assert_array_equal(np.array(t.step(f"J_h{layer}").float64), diag)
        w_next = np.array(t.step(f"W{layer + 1}").float64)
        np.testing.assert_array_equal(np.array(t.step(f"J_z{layer + 1}_h{layer}").float64), w_next)
    for layer in range(1, p.layers + 1):
        d = p.widths[layer]
        np.testing.assert_array_equal(np.array(t.step(f"J_z{layer}_b{layer}").float64), np.eye(d))
        h = np.array(t.step(f"h{layer - 1}").floats)
        tensor = np.array(t.step(f"J_z{layer}_W{layer}").float64)
        np.testing.assert_array_equal(tensor, np.einsum("jm,k->jmk", np.eye(d), h))
        dz = np.array(t.step(f"dz{layer}").floats)
        contracted = t.step(f"dW{layer}_contracted")
        np.testing.assert_allclose(
            np.array(contracted.float64), np.einsum("j,jmk->mk", dz, tensor), rtol=1e-15
        )
        assert contracted.values == t.step(f"dW{layer}").values  # same key, by hand too


def test_no_3_tensor_past_the_limit() -> None:
    t = handcalc.run(
        {"network": {"widths": [12, 10, 2]}, "data": {"x": [0.1] * 12, "label": 1}}, jacobians=True
    )
    ids = {s.id for s in t.iterations[0]}
    assert "J_z1_W1" not in ids and "J_z2_W2" in ids  # 10 * 10 * 12 > 1000 >= 2 * 2 * 10


EXPLAINED = """\
z^(1)_2 = W^(1) h^(0) + b^(1)   [z1, forward]
  term 1   W^(1)_2,1 h^(0)_1 = (0.4000)(0.5000) = 0.2000   partial sum 0.2000
  term 2   W^(1)_2,2 h^(0)_2 = (-0.9000)(-1.0000) = 0.9000   partial sum 1.1000
  term 3   W^(1)_2,3 h^(0)_3 = (0.5000)(0.3000) = 0.1500   partial sum 1.2500
  term 4   W^(1)_2,4 h^(0)_4 = (-0.7000)(0.0000) = 0.0000   partial sum 1.2500
  term 5   W^(1)_2,5 h^(0)_5 = (0.4000)(0.8000) = 0.3200   partial sum 1.5700
  bias     b^(1)_2 = 0.0000   partial sum 1.5700
  sum      1.5700 (the exact sum, rounded once)
  written  1.5700   (4 decimal places, ties away from zero, rounding every written value)
  float64  1.57000000   hand − float64 0 (0 units)
"""

TIE = {
    "network": {"widths": [2, 1], "head": "identity", "loss": "half_sse", "bias": False},
    "data": {"x": [0.5, 0.5], "y": [0]},
    "parameters": {"W1": [[0.15, 0.25]]},
    "rounding": {"digits": 2, "per": "operation"},
}


def test_explain_an_entry(run_cli: Cli, tmp_path: Path) -> None:
    code, out, _ = run_cli("run", "--explain", "z1[2]")
    assert code == 0 and out == EXPLAINED
    path = tmp_path / "tie.yaml"
    path.write_text(yaml.safe_dump(TIE))
    out = run_cli("run", str(path), "--explain", "z1[1]", "--explain", "W1_next[1,2]")[1]
    assert "term 1   W^(1)_1,1 h^(0)_1 = (0.15)(0.50) = 0.08   partial sum 0.08" in out
    assert "term 2   W^(1)_1,2 h^(0)_2 = (0.25)(0.50) = 0.13   partial sum 0.21" in out
    assert "sum      0.21 (every product and partial sum rounded)" in out
    assert "so       0.25 - 0.1 × (0.11) = 0.25 - (0.01) = 0.24" in out


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("dW9[1,1]", "dW9: unknown step (did you mean dW3?"),
        ("dW2[5,1]", "index 1 is 5, out of range (1 to 4)"),
        ("dW2[1]", "dW2 has shape 4 x 3 (two indices"),
        ("dW2", "not an entry"),
    ],
)
def test_explain_errors(run_cli: Cli, entry: str, message: str) -> None:
    code, _, err = run_cli("run", "--explain", entry)
    assert code == 2 and message in err, err


SOFTMAX_MSE = ROOT / "configs" / "softmax-mse.yaml"
THROUGH_SOFTMAX = """\
dL/dz^(2)_1 = (dŷ/dz^(2))^T dL/dŷ   [dz2, backward]
  term 1   dŷ/dz^(2)_1,1 dL/dŷ_1 = (0.2151)(0.2088) = 0.04491288   partial sum 0.04491288
  term 2   dŷ/dz^(2)_2,1 dL/dŷ_2 = (-0.1188)(0.2528) = -0.03003264   partial sum 0.01488024
  term 3   dŷ/dz^(2)_3,1 dL/dŷ_3 = (-0.0963)(-0.4617) = 0.04446171   partial sum 0.05934195
  sum      0.05934195 (the exact sum, rounded once)
  written  0.0593   (4 decimal places, ties away from zero, rounding every written value)
  float64  0.05935143   hand − float64 -5.14e-05 (-0.51 units)

L = (1/d_L) Σ_j (ŷ_j - y_j)^2   [loss, loss]
  term 1   (ŷ_1 - y_1)^2 = (0.3132 - 0.0000)^2 = 0.09809424   partial sum 0.09809424
  term 2   (ŷ_2 - y_2)^2 = (0.3792 - 0.0000)^2 = 0.14379264   partial sum 0.24188688
  term 3   (ŷ_3 - y_3)^2 = (0.3075 - 1.0000)^2 = 0.47955625   partial sum 0.72144313
  sum      0.72144313
  then     0.72144313 / 3 ≈ 0.240481043333 (exact, rounded once when written)
  written  0.2405   (4 decimal places, ties away from zero, rounding every written value)
  float64  0.24048140   hand − float64 +1.86e-05 (+0.19 units)
"""


def test_explain_shows_every_term_of_a_sum(run_cli: Cli) -> None:
    """dz^(L) through the softmax Jacobian: each of the three terms and the partial sums."""
    out = run_cli("run", str(SOFTMAX_MSE), "--explain", "dz2[1]", "--explain", "loss")[1]
    assert out == THROUGH_SOFTMAX
    rounded = run_cli("run", str(SOFTMAX_MSE), "--per", "operation", "--explain", "loss")[1]
    assert "  term 3   (ŷ_3 - y_3)^2 = (0.3075 - 1.0000)^2 = 0.4796   partial sum 0.7215" in rounded
    assert "  then     0.7215 / 3 = 0.2405 (every operation rounded)" in rounded


def _traces(path: Path) -> list[handcalc.Trace]:
    """Every run of a config whose steps may be sums: by value, per operation, with the
    Jacobians; calibration and Monte Carlo dropout where the config has them."""
    from handcalc.model import calibration, mc_dropout

    out = [handcalc.run(path, per=per) for per in ("value", "operation")]
    out.append(handcalc.run(path, jacobians=True))
    p = config.load(path)
    if p.calibration is not None:
        out.append(calibration.make(p))
    if p.dropout is not None and p.dropout.mc_masks:
        out.append(mc_dropout.make(p))
    return out


def test_every_sum_explained_adds_up() -> None:
    """Each summed entry's terms, partial sums and last operation give the written value, and
    its explanation shows them; every kind of sum occurs in the configs."""
    from handcalc.explain import explain, finished, worked
    from handcalc.explain_sums import SUMS, exact_text
    from handcalc.numbers import hand

    seen = set()
    for path in CONFIGS:
        for t in _traces(path):
            for step in t.iterations[0]:
                for i in range(min(len(step.values), 6)):
                    total = worked(t, step, i)
                    if total is None or not step.spec.written:  # not written: passed on as is
                        continue
                    seen.add(step.spec.kind)
                    value = finished(hand(step.rounding), total)
                    assert step.rounding.rounder()(value) == step.values[i], (path, step.id)
                    last = explain(t, step, i)[-3]
                    assert last.startswith(("  sum ", "  then ")), (path, step.id)
                    assert exact_text(value, step.rounding).lstrip("≈") in last, last
    assert seen == set(SUMS) - {Kind.dzT}, set(SUMS) - seen
    data = yaml.safe_load(SOFTMAX_MSE.read_text())
    data["network"]["temperature"] = 1.5
    t = handcalc.run(data)  # dL/dz̃ through the softmax Jacobian
    total = worked(t, t.step("dzT"), 0)
    assert total is not None and len(total.a) == 3
    assert (
        t.step("dzT").rounding.rounder()(finished(hand(t.problem.rounding), total))
        == (t.step("dzT").values[0])
    )


def test_loss_terms_of_each_loss() -> None:
    """The terms each loss sums, with the numbers put in, and what follows the sum."""
    from handcalc.explain import explain

    def loss_lines(network: dict[str, object], y: list[float]) -> list[str]:
        t = handcalc.run(
            {
                "network": {"widths": [1, 2], **network},
                "data": {"x": [0.0], "y": y},
                "parameters": {"W1": [[0], [0]], "b1": [0, 0]},
                "rounding": {"digits": 2},
            }
        )
        return explain(t, t.step("loss"), 0)[1:-2]

    # ŷ = (0.5, 0.5) from equal logits
    assert loss_lines({"head": "softmax", "loss": "cross_entropy"}, [0, 1]) == [
        "  term 1   y_1 ln ŷ_1 = 0.00 ln 0.50 = 0.00   partial sum 0.00",
        "  term 2   y_2 ln ŷ_2 = 1.00 ln 0.50 ≈ -0.6931471806   partial sum ≈-0.6931471806",
        "  sum      ≈-0.6931471806",
        "  then     -(-0.6931471806) ≈ 0.6931471806 (exact, rounded once when written)",
    ]
    assert loss_lines({"head": "identity", "loss": "half_sse"}, [1, -1])[2:] == [
        "  sum      2.00",  # (0 - 1)^2 + (0 + 1)^2
        "  then     2.00 / 2 = 1.00 (exact, rounded once when written)",
    ]
    assert loss_lines({"head": "identity", "loss": "sse"}, [1, 2])[-1] == (
        "  sum      5.00 (the exact sum, rounded once)"
    )
    assert loss_lines({"head": "sigmoid", "loss": "binary_cross_entropy"}, [1, 0])[0] == (
        "  term 1   y_1 ln ŷ_1 + (1 - y_1) ln(1 - ŷ_1) = 1.00 ln 0.50 + (1 - 1.00) ln(1 - 0.50)"
        " ≈ -0.6931471806   partial sum ≈-0.6931471806"
    )


def test_test_pass_sums(run_cli: Cli) -> None:
    """The test-time z with the weights times p, and ŷ of a softmax with its sum of exps."""
    out = run_cli(
        "run",
        str(ROOT / "configs" / "dropout.yaml"),
        "--per",
        "operation",
        "--explain",
        "tz2[1]",
        "--explain",
        "tyhat[1]",
    )[1]
    assert (
        "  term 2   0.5 W^(2)_1,2 h^(1)_2 = (-0.2500)(1.3000) = -0.3250   partial sum -0.3250"
        in out
    )
    assert "  term 2   exp(z^(2)_2) = exp(-0.3226) = 0.7243   partial sum 0.9946" in out
    assert "  then     0.2703 / 0.9946 = 0.2718 (every operation rounded)" in out


def numpy_float32(p: Problem) -> dict[str, np.ndarray]:
    """The default network's cycle in numpy float32, written independently of handcalc."""
    f = np.float32
    W = {
        k: np.array([float(v) for v in b.data], dtype=f).reshape(b.shape)
        for k, b in p.parameters.items()
    }
    x = np.array([float(v) for v in p.x.data], dtype=f)
    y = np.array([float(v) for v in p.y.data], dtype=f)
    h1 = np.maximum(W["W1"] @ x + W["b1"], f(0))
    z2 = W["W2"] @ h1 + W["b2"]
    h2 = np.maximum(z2, f(0))
    z3 = W["W3"] @ h2 + W["b3"]
    e = np.exp(z3)
    yhat = e / e.sum()
    dz3 = yhat - y
    dz2 = (W["W3"].T @ dz3) * (z2 > 0)
    return {
        "yhat": yhat,
        "loss": -np.log(yhat[y == 1]),
        "dz3": dz3,
        "dz2": dz2,
        "dW3": np.outer(dz3, h2),
        "dW2": np.outer(dz2, h1),
    }


def test_float32_column() -> None:
    t = handcalc.run(DEFAULT, float32=True)
    oracle = numpy_float32(t.problem)
    for step_id, expected in oracle.items():
        got = np.array(t.step(step_id).float32, dtype=np.float64)
        np.testing.assert_allclose(got, expected.reshape(got.shape), rtol=2e-6, atol=1e-7)
    for step in t.iterations[0]:
        assert step.floats32 is not None
        assert all(np.float32(v) == v for v in step.floats32), step.id  # float32 numbers
    assert t.step("loss").floats32 != t.step("loss").floats
    doc = json.loads(t.to_json())["iterations"][0]["steps"]
    assert all("float32" in s and "float32_deviation" in s for s in doc)


def test_float32_in_the_table(run_cli: Cli) -> None:
    lines = run_cli("run", "--float32")[1].splitlines()
    at = lines.index("L = -Σ_j y_j ln ŷ_j   [loss]")
    assert lines[at + 1].split()[-1] == "float32"
    assert lines[at + 3].split()[-1] == "1.53735256"  # float32, beside float64's 1.53735262


@pytest.mark.parametrize("tolerances", [False, True], ids=["float32", "tolerances"])
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_float32_tables_fit_80_columns(
    run_cli: Cli, monkeypatch: pytest.MonkeyPatch, path: Path, tolerances: bool
) -> None:
    """No table row wraps at 80 columns; only sentences do, at a word."""
    from handcalc.render import terminal
    from handcalc.render.tables import closing_lines, summary_lines

    monkeypatch.setenv("COLUMNS", "80")
    flags = ["--float32", *(["--tolerances"] if tolerances else [])]
    code, out, _ = run_cli("run", str(path), *flags)
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    t = handcalc.run(path, float32=True)
    sentences = {f"{label:<10}{text}" for label, text in summary_lines(t)} | set(closing_lines(t))
    sentences.add(t.problem.title or "")
    for line in terminal.lines(t, 80, tolerances=tolerances):  # before the console wraps them
        if len(line.plain) > 80:
            assert line.plain in sentences or line.plain.startswith(("Deviations", "The column"))


def test_columns_close_up_before_one_is_left_out() -> None:
    from handcalc.render import terminal

    def table(path: Path, tolerances: bool) -> list[str]:
        text = [
            line.plain
            for line in terminal.lines(handcalc.run(path, float32=True), 80, tolerances=tolerances)
        ]
        at = text.index("L = -Σ_j y_j ln ŷ_j   [loss]")
        return text[at + 1 : at + 4]

    assert table(DEFAULT, False) == [  # fits as it is
        "entry    hand     float64  hand − float64    units     float32",
        "─────  ──────  ──────────  ──────────────  ───────  ──────────",
        "L      1.5376  1.53735262       +2.47e-04  +2.47 !  1.53735256",
    ]
    assert table(DEFAULT, True)[2] == (  # one space between columns
        "L     1.5376 1.53735262      +2.47e-04 +2.47 ! 1.53735256 3.47e-04"
    )
    residual = ROOT / "configs" / "residual.yaml"
    lines = [
        line.plain
        for line in terminal.lines(handcalc.run(residual, float32=True), 80, tolerances=True)
    ]
    assert lines[8] == (
        "The column hand − float64 is left out to fit 80 columns: units gives the same "
        "deviation in units of the last kept digit."
    )
    at = lines.index("(W^(2))^T dL/dz^(2) = (W^(2))^T dL/dz^(2)   [dh1_W]")
    assert lines[at + 1 : at + 4 : 2] == [
        "entry                    hand     float64   units     float32 ± accept",
        "(W^(2))^T dL/dz^(2)_1  0.0218  0.02179941 +0.01    0.02179942 1.01e-04",
    ]


def test_every_config_runs_its_documented_command(run_cli: Cli) -> None:
    """Each command a config's comments give, with the config in place of THIS_FILE."""
    import re
    import shlex

    found = 0
    for path in CONFIGS:
        comments = " ".join(
            line.lstrip("# ") for line in path.read_text().splitlines() if line.startswith("#")
        )
        commands = re.findall(
            r"handcalc ([a-z-]+) (?:THIS_FILE|FILE)((?: --?[a-z-]+(?: \d+)?)*)", comments
        )
        for command, args in commands or [("run", "")]:
            found += bool(commands)
            code, _, err = run_cli(command, str(path), *shlex.split(args))
            assert (code, err) == (0, ""), (path.name, command, args, err)
    assert found >= 4  # run, calibrate, mc-dropout and dropout into a residual layer


def _twin(run_cli: Cli, tmp_path: Path, path: Path, dtype: str) -> dict[str, object]:
    script = tmp_path / "twin.py"
    assert run_cli("export-torch", str(path), "--output", str(script), "--force")[0] == 0
    done = subprocess.run(
        [sys.executable, str(script), "--dtype", dtype, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    out: dict[str, object] = json.loads(done.stdout)
    return out


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_pytorch_twin(run_cli: Cli, tmp_path: Path, path: Path) -> None:
    pytest.importorskip("torch")
    t = handcalc.run(path, float32=True)
    for dtype, column, rtol, atol in (
        ("float64", "float64", 1e-12, 1e-14),
        ("float32", "float32", 2e-5, 2e-6),
    ):
        got = _twin(run_cli, tmp_path, path, dtype)
        assert set(got) <= {s.id for s in t.iterations[0]}
        for step_id, value in got.items():
            expected = getattr(t.step(step_id), column)
            np.testing.assert_allclose(
                np.array(value, dtype=np.float64),
                np.array(expected, dtype=np.float64),
                rtol=rtol,
                atol=atol,
                err_msg=f"{dtype} {step_id}",
            )


def test_twin_is_written_without_torch(run_cli: Cli) -> None:
    code, out, _ = run_cli("export-torch")
    assert code == 0
    assert "retain_grad()" in out and "nn.Linear(5, 3, bias=True)" in out
    compile(out, "twin.py", "exec")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_api_matches_the_cli(run_cli: Cli, path: Path) -> None:
    assert handcalc.run(path).to_json() == run_cli("run", str(path), "--format", "json")[1]


def test_api_from_a_dict_and_its_errors() -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    t = handcalc.run(data, digits=3)
    assert t.step("loss").value == Decimal(str(t.step("loss").value))
    assert t.problem.rounding.digits == 3
    assert t.step("dW1").value[0][0] == t.step("dW1").values[0]  # nested in the step's shape
    with pytest.raises(handcalc.ConfigError, match=r"data\.x: missing key"):
        handcalc.run({"network": {"widths": [2, 2]}, "data": {"label": 1}})
    with pytest.raises(handcalc.ConfigError, match="unknown override 'digit'"):
        handcalc.run(digit=3)
    assert "| entry | hand |" in t._repr_markdown_()


def test_schema_accepts_every_config_and_refuses_bad_ones(run_cli: Cli) -> None:
    schema = json.loads(run_cli("schema")[1])
    assert schema == json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in CONFIGS:
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path
    good = {"network": {"widths": [2, 2]}, "data": {"x": [1, 2], "label": 1}}
    assert validator.is_valid(good)
    bad = [
        {"data": {"x": [1], "label": 1}},
        {"network": {"widths": [2, 0]}, "data": {"x": [1, 2], "label": 1}},
        {"network": {"widths": [2, 2], "head": "softmx"}, "data": {"x": [1, 2], "label": 1}},
        {"network": {"widths": [2, 2]}, "data": {"x": [1, 2], "label": 1, "y": [1, 0]}},
        {"network": {"widths": [2, 2]}, "data": {"x": [1, 2]}},
        {
            "network": {"widths": [2, 2]},
            "data": {"x": [1, 2], "label": 1},
            "rounding": {"digit": 3},
        },
        {
            "network": {"widths": [2, 2]},
            "data": {"x": [1, 2], "label": 1},
            "rounding": {"digits": 40},
        },
        {
            "network": {"widths": [2, 2]},
            "data": {"x": [1, 2], "label": 1},
            "training": {"learning_rate": 0},
        },
        {
            "network": {"widths": [2, 2]},
            "data": {"x": [1, 2], "label": 1},
            "parameters": {"w1": [[1, 2], [3, 4]]},
        },
    ]
    for config_data in bad:
        assert not validator.is_valid(config_data), config_data


def test_schema_and_starter_cover_every_key() -> None:
    schema = json_schema()
    starter = config.default_text()
    for section, keys in SPEC.items():
        props = schema["properties"]
        for part in section.split(".") if section else []:
            props = props[part]["properties"]
        assert set(props) == set(keys)
        for name in keys:
            assert f"{name}:" in starter, name


def test_trace_renders_in_rich() -> None:
    from rich.console import Console

    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(handcalc.run())
    assert "FORWARD PASS" in console.export_text()


def test_twin_names_its_config(run_cli: Cli) -> None:
    out = run_cli("export-torch", str(DEFAULT))[1]
    assert f"from {DEFAULT}: a 5-3-4-3 network" in " ".join(out.split())


def test_float32_shows_no_more_digits_than_it_holds(run_cli: Cli) -> None:
    """At 12 decimal places float64 shows 16; float32 stops at 8, where its digits run out."""
    config = str(Path(__file__).parent.parent / "configs" / "published-relu-softmax-doubles.yaml")
    lines = run_cli("run", config, "--float32")[1].splitlines()
    at = lines.index("dL/dh^(1) = (W^(2))^T dL/dz^(2)   [dh1]")
    assert lines[at + 3].split()[-2:] == ["+0.21", "-0.00568335"]
