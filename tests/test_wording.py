"""One wording for each thing: the head's steps under a temperature, the optimizer's constants in
every output, and no paper that would ask nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT, problem
from handcalc.documents import moodle, paper, statement
from handcalc.documents.settings import hyperparameters, settings
from handcalc.errors import ConfigError
from handcalc.model.optimizers import Optimizer
from handcalc.model.plan import plan
from handcalc.model.runner import make_trace
from handcalc.render import html, latex, markdown, terminal
from handcalc.render import markdown_paper as mdoc
from handcalc.render.tables import summary_lines
from handcalc.serve import page, sheet
from handcalc.trace import Trace

Cli = Callable[..., tuple[int, str, str]]


def softmax_mse(**network: Any) -> dict[str, Any]:
    """configs/softmax-mse.yaml (3-2-3, softmax head, squared error) with network keys changed."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "configs" / "softmax-mse.yaml").read_text())
    data["network"] = {**data["network"], **network}
    return data


def one_layer(head: str, loss: str, **network: Any) -> dict[str, Any]:
    return {
        "network": {"widths": [2, 2], "head": head, "loss": loss, **network},
        "data": {"x": [0.5, 1.0], "y": [1, 0]},
        "rounding": {"digits": 4},
    }


def worded(data: dict[str, Any]) -> dict[str, str]:
    """Each step of the first iteration as its table title reads: 'symbol = formula'."""
    return {s.id: f"{s.symbol} = {s.formula}" for s in plan(problem(data))[0].specs}


def test_the_softmax_steps_read_the_scaled_logits_under_a_temperature() -> None:
    steps = worded(softmax_mse(temperature=2))
    assert [steps[i] for i in ("zT", "exp_z", "sum_exp", "yhat")] == [
        "z̃^(2) = z^(2) / T",
        "exp(z̃^(2)) = exp(z̃^(2)_j)",
        "S = Σ_j exp(z̃^(2)_j)",
        "ŷ = exp(z̃^(2)) / S",
    ]
    assert [steps[i] for i in ("J_softmax", "dzT", "dz2")] == [
        "dŷ/dz̃^(2) = diag(ŷ) - ŷ ŷ^T",
        "dL/dz̃^(2) = (dŷ/dz̃^(2))^T dL/dŷ",
        "dL/dz^(2) = dL/dz̃^(2) / T",
    ]


def test_without_a_temperature_the_head_reads_z_itself() -> None:
    steps = worded(softmax_mse())
    assert "zT" not in steps and "dzT" not in steps
    assert [steps[i] for i in ("exp_z", "sum_exp", "yhat", "J_softmax", "dz2")] == [
        "exp(z^(2)) = exp(z^(2)_j)",
        "S = Σ_j exp(z^(2)_j)",
        "ŷ = exp(z^(2)) / S",
        "dŷ/dz^(2) = diag(ŷ) - ŷ ŷ^T",
        "dL/dz^(2) = (dŷ/dz^(2))^T dL/dŷ",
    ]


@pytest.mark.parametrize(
    ("head", "loss", "expected"),
    [
        (
            "sigmoid",
            "mse",
            {
                "yhat": "ŷ = 1 / (1 + e^(-z̃^(1)))",
                "dyhat_dz": "diag(dŷ/dz̃^(1)) = ŷ (1 - ŷ)",
                "dzT": "dL/dz̃^(1) = diag(dŷ/dz̃^(1)) ⊙ dL/dŷ",
                "dz1": "dL/dz^(1) = dL/dz̃^(1) / T",
            },
        ),
        (
            "sigmoid",
            "binary_cross_entropy",
            {
                "yhat": "ŷ = 1 / (1 + e^(-z̃^(1)))",
                "dzT": "dL/dz̃^(1) = (ŷ - y) / d_L",
                "dz1": "dL/dz^(1) = dL/dz̃^(1) / T",
            },
        ),
        ("identity", "mse", {"yhat": "ŷ = z̃^(1)", "dzT": "dL/dz̃^(1) = dL/dŷ"}),
    ],
)
def test_every_head_names_what_it_reads(head: str, loss: str, expected: dict[str, str]) -> None:
    steps = worded(one_layer(head, loss, temperature=0.5))
    assert {i: steps[i] for i in expected} == expected
    plain = worded(one_layer(head, loss))
    assert plain["yhat"] == expected["yhat"].replace("z̃", "z")


@pytest.fixture(scope="module")
def scaled() -> Trace:
    return make_trace(problem(softmax_mse(temperature=2)))


def test_the_run_outputs_name_the_scaled_logits(scaled: Trace) -> None:
    text = terminal.to_text(scaled)
    assert "exp(z̃^(2)) = exp(z̃^(2)_j)   [exp_z]" in text.splitlines()
    assert "dL/dz̃^(2) = (dŷ/dz̃^(2))^T dL/dŷ   [dzT]" in text.splitlines()
    assert "**`sum_exp`**: `S = Σ_j exp(z̃^(2)_j)`" in markdown.render(scaled).splitlines()
    steps = {s["id"]: s for s in json.loads(scaled.to_json())["iterations"][0]["steps"]}
    assert (steps["exp_z"]["symbol"], steps["exp_z"]["formula"]) == (
        "exp(z̃^(2))",
        "exp(z̃^(2)_j)",
    )
    for out in (text, markdown.render(scaled), scaled.to_json()):
        assert "exp(z^(" not in out and "dŷ/dz^(" not in out


def test_the_papers_name_the_scaled_logits(scaled: Trace) -> None:
    doc = paper.build(scaled, key=True)
    boxes = {b.step_id: b for s in doc.sections for b in s.boxes}
    assert (boxes["exp_z"].symbol, boxes["exp_z"].formula) == (
        "exp(z̃^(2))",
        "exp(z̃^(2)) = exp(z̃^(2)_j)",
    )
    assert "**exp(z̃<sup>(2)</sup>)** `3 · exp_z` (1 pt)" in mdoc.document(doc)
    assert "<b>exp(z̃<sup>(2)</sup>)</b>" in html.document(doc)
    assert r"\textbf{exp(\ensuremath{\tilde{z}}\textsuperscript{(2)})}" in latex.document(doc)
    assert "the head reads z̃^(2) = z^(2) / T." in settings(scaled)[-1]


def test_moodle_and_the_served_page_name_the_scaled_logits(scaled: Trace) -> None:
    question = moodle.question(scaled, 1, 0)
    assert "<b>exp(z̃<sup>(2)</sup>)</b>" in question
    assert "<b>dŷ/dz̃<sup>(2)</sup></b>" in question
    assert (
        "Output layer 2: softmax head, ŷ = exp(z̃<sup>(2)</sup><sub>j</sub>) / Σ<sub>k</sub> "
        "exp(z̃<sup>(2)</sup><sub>k</sub>), z̃<sup>(2)</sup> = z<sup>(2)</sup> / T with T = 2</li>"
    ) in question
    served = page.worksheet(paper.build(scaled, key=False, hints=True), scaled, None)
    exp = '<mi mathvariant="normal">exp</mi><mrow><mo>(</mo><msup><mi>z̃</mi>'
    assert exp in served and exp.replace("z̃", "z") not in served


def test_the_rule_line_names_the_scaled_quantities() -> None:
    data = softmax_mse(temperature=2)
    data["rounding"] = {"digits": 4, "write": {"exp_z": False}, "overrides": {"dzT": "exact"}}
    assert statement.rule_line(problem(data)) == (
        "4 decimal places, ties away from zero, rounding every written value; dL/dz̃ exact; "
        "not written down (kept exact): exp(z̃)"
    )
    data["network"].pop("temperature")
    data["rounding"]["overrides"] = {"dyhat_dz": "exact"}
    assert statement.rule_line(problem(data)).endswith(
        "dŷ/dz exact; not written down (kept exact): exp(z)"
    )


OPTIMIZERS = [
    (Optimizer(), {}),
    (
        Optimizer(name="momentum", momentum=Decimal("0.90"), weight_decay=Decimal("0.01")),
        {"momentum": "μ = 0.9", "weight decay": "weight decay λ = 0.01"},
    ),
    (Optimizer(name="nesterov", momentum=Decimal("0.5")), {"momentum": "μ = 0.5"}),
    (
        Optimizer(name="adam", beta2=Decimal("0.99"), epsilon=Decimal("0.00000001")),
        {"adam": "β1 = 0.9, β2 = 0.99, ε = 1e-8"},
    ),
]


@pytest.mark.parametrize(("optimizer", "expected"), OPTIMIZERS)
def test_the_optimizers_constants_are_worded_once(
    optimizer: Optimizer, expected: dict[str, str]
) -> None:
    assert hyperparameters(optimizer) == expected


def test_the_terminal_papers_and_moodle_share_the_wording() -> None:
    data = softmax_mse()
    data["training"] |= {"optimizer": "adam", "epsilon": "1e-8", "weight_decay": 0.01}
    t = make_trace(problem(data))
    words = "β1 = 0.9, β2 = 0.999, ε = 1e-8"
    assert dict(summary_lines(t))["learning"] == (
        f"η = 0.5; adam; {words}; weight decay λ = 0.01; 1 step"
    )
    lines = statement.lines(t.problem)
    assert f"Adam: {words}" in lines and "Weight decay λ = 0.01" in lines
    assert settings(t)[0].startswith(f"Update with Adam, {words}: m = β1 m_prev")
    assert settings(t)[0].endswith("; weight decay λ = 0.01 (g = dL/dθ + λ θ).")
    assert f"Adam: {words}" in moodle.question(t, 1, 0)


NOTHING_WRITTEN = """\
network: {widths: [2, 2]}
data: {x: [0.5, 1.0], label: 1}
rounding:
  digits: 4
  write:
    z: false
    exp_z: false
    sum_exp: false
    yhat: false
    loss: false
    dz: false
    dW: false
    db: false
    W_next: false
    b_next: false
"""


@pytest.fixture
def silent(tmp_path: Path) -> Path:
    path = tmp_path / "silent.yaml"
    path.write_text(NOTHING_WRITTEN)
    return path


def refusal(path: Path) -> str:
    return (
        f"error: {path}:6: rounding.write: nothing is written, so the paper would ask nothing "
        "(set at least one step kind or id to true)\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["worksheet", "-o", "{tmp}/sheet.md"],
        ["worksheet", "--key", "-o", "{tmp}/key.pdf"],
        ["worksheet", "--hints", "-o", "{tmp}/sheet.html"],
        ["exam", "-o", "{tmp}/exam", "--moodle", "{tmp}/quiz.xml"],
    ],
)
def test_a_paper_that_would_ask_nothing_is_refused(
    run_cli: Cli, silent: Path, tmp_path: Path, args: list[str]
) -> None:
    code, out, err = run_cli(args[0], str(silent), *(a.format(tmp=tmp_path) for a in args[1:]))
    assert (code, out, err) == (2, "", refusal(silent))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["silent.yaml"]  # nothing written


def test_the_run_still_shows_the_float64_cycle(run_cli: Cli, silent: Path) -> None:
    code, out, err = run_cli("run", str(silent))
    assert code == 0 and err == ""
    assert "not written down (kept exact): z, exp(z), S, ŷ, the loss L, dL/dz, dL/dW," in out
    assert "ŷ = exp(z^(1)) / S   (not written down: kept exact)   [yhat]" in out.splitlines()


def test_the_server_refuses_a_sheet_that_asks_nothing(silent: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        sheet.load(silent)
    assert f"error: {refused.value}\n" == refusal(silent)


def test_one_written_step_is_enough() -> None:
    data = yaml.safe_load(NOTHING_WRITTEN)
    data["rounding"]["write"]["dW"] = {1: True}
    doc = paper.build(make_trace(problem(data)), key=False)
    assert [b.step_id for s in doc.sections for b in s.boxes] == ["dW1"]
