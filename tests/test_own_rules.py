"""The class's own rules: quantities not written, rules per quantity, the weight change as a step.

Expected values are worked by hand or by an independent Decimal computation at 100 digits.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import yaml

from conftest import CI, ROOT, problem
from handcalc.config.problem import Problem
from handcalc.config.schema import json_schema
from handcalc.errors import ConfigError
from handcalc.grading.mixed_rules import ALL_WRITTEN, CLASS_RULE
from handcalc.model import cycle
from handcalc.model.given import given_values
from handcalc.model.runner import Systems, hand_systems, make_trace, recompute, system_of
from handcalc.numbers import hand
from handcalc.rounding import Rounding
from handcalc.rowmajor import nest
from handcalc.trace import Step

Cli = Callable[..., tuple[int, str, str]]

D = Decimal
ORACLE = Context(prec=100)
TIES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


def two_logits(a: str, digits: int, rule: str, write: dict[str, Any] | None) -> dict[str, Any]:
    """A 1-1-2 softmax network whose logits are exactly (a, 0): W2 = 0, b2 = (a, 0), both kept
    exact, so ŷ_1 = 1 / (1 + e^(-a)) and only the head's rounding is at stake."""
    rounding: dict[str, Any] = {
        "digits": digits,
        "rule": rule,
        "overrides": {"b": "exact", "z": "exact", "W": "exact"},
    }
    if write is not None:
        rounding["write"] = write
    return {
        "network": {"widths": [1, 1, 2]},
        "data": {"x": [1], "y": [1, 0]},
        "parameters": {"W1": [[1]], "b1": [0], "W2": [[0], [0]], "b2": [a, 0]},
        "rounding": rounding,
    }


def logit_for(p: Decimal) -> str:
    """a with 1 / (1 + e^(-a)) = p to far more digits than any test needs (40 characters)."""
    a = ORACLE.ln(ORACLE.divide(p, 1 - p))
    return format(a, ".36f")[:40]


def exact_softmax(a: str, digits: int, rule: str) -> str:
    """1 / (1 + e^(-a)), correctly rounded, computed at 100 digits."""
    e = ORACLE.exp(D(a))
    value = ORACLE.divide(e, e + 1)
    return str(value.quantize(D(1).scaleb(-digits), rounding=TIES[rule]))


ONCE = {"exp_z": False, "sum_exp": False}


@pytest.mark.parametrize("rule", ["half_up", "half_even"])
def test_softmax_written_directly_rounds_a_tie_by_the_rule(rule: str) -> None:
    # four equal logits: ŷ_j = 1/4 exactly, a tie at one decimal
    config = {
        "network": {"widths": [1, 1, 4]},
        "data": {"x": [1], "y": [1, 0, 0, 0]},
        "parameters": {"W1": [[1]], "b1": [0], "W2": [[0]] * 4, "b2": ["0.7"] * 4},
        "rounding": {"digits": 1, "rule": rule, "write": ONCE},
    }
    yhat = make_trace(problem(config)).step("yhat")
    assert yhat.texts() == ["0.3" if rule == "half_up" else "0.2"] * 4


@pytest.mark.parametrize("rule", ["half_up", "half_even"])
@pytest.mark.parametrize("offset", ["1e-20", "-1e-20", "1e-9", "-1e-9", "0.0001", "-0.0001"])
def test_softmax_written_directly_is_the_correctly_rounded_softmax(rule: str, offset: str) -> None:
    # ŷ_1 just above or below the tie 0.35: one rounding of the exact value decides
    a = logit_for(D("0.35") + D(offset))
    trace = make_trace(problem(two_logits(a, 1, rule, ONCE)))
    expected = exact_softmax(a, 1, rule)
    assert expected == ("0.4" if offset[0] != "-" else "0.3")
    assert trace.step("yhat").texts() == [expected, "0.6" if expected == "0.4" else "0.7"]


def test_written_intermediates_carry_their_own_rounding() -> None:
    # the same near-tie with exp(z) and S written: e^-0.619 = 0.5384 -> 0.5, S = 1.5, ŷ_1 = 0.33
    a = logit_for(D("0.35") + D("1e-9"))
    trace = make_trace(problem(two_logits(a, 1, "half_up", None)))
    assert trace.step("exp_z").texts() == ["0.5", "1.0"]
    assert trace.step("yhat").texts() == ["0.3", "0.7"]


def test_a_step_not_written_is_marked_and_keeps_its_float64() -> None:
    a = logit_for(D("0.35") + D("1e-9"))
    trace = make_trace(problem(two_logits(a, 1, "half_up", ONCE)))
    step = trace.step("exp_z")
    assert not step.spec.written and trace.step("yhat").spec.written
    record = step.to_json()
    assert record["written"] is False
    assert "written" not in trace.step("yhat").to_json()
    assert record["float64"] == pytest.approx([0.5384615384615384, 1.0])
    # the value passed on is exact: e^a itself, not 0.5
    assert abs(step.values[0] - ORACLE.exp(D(a))) < D("1e-50")


def test_write_per_layer_and_per_id() -> None:
    base = {
        "network": {"widths": [2, 2, 2, 2], "activation": "sigmoid"},
        "data": {"x": [1, 0], "y": [0, 1]},
        "init": {"seed": 3},
    }
    per_layer = make_trace(problem({**base, "rounding": {"write": {"dhdz": {"2": False}}}}))
    assert not per_layer.step("dhdz2").spec.written
    assert per_layer.step("dhdz1").spec.written
    by_id = make_trace(problem({**base, "rounding": {"write": {"dhdz1": False}}}))
    assert not by_id.step("dhdz1").spec.written and by_id.step("dhdz2").spec.written


def adam_config(rounding: dict[str, Any], form: str = "delta") -> dict[str, Any]:
    return {
        "network": {"widths": [2, 1], "activation": "relu", "loss": "mse"},
        "data": {"x": ["0.5", "-1"], "y": ["0.2"]},
        "parameters": {"W1": [["0.3", "0.1"]], "b1": ["0.05"]},
        "training": {"learning_rate": "0.1", "update_form": form},
        "rounding": rounding,
    }


def test_delta_in_significant_digits_and_the_rest_in_decimals() -> None:
    # z = 0.15 - 0.1 + 0.05 = 0.1; ŷ = 0.1; L = (0.1 - 0.2)^2 = 0.01; dL/dz = 2 (ŷ - y) = -0.2
    # dL/dW = (-0.1, 0.2); ΔW = -0.1 dL/dW = (0.01, -0.02) -> 3 significant: 0.0100, -0.0200
    rules = {"digits": 2, "overrides": {"deltaW": {"digits": 3, "mode": "significant"}}}
    trace = make_trace(problem(adam_config(rules)))
    assert trace.step("dz1").texts() == ["-0.20"]
    assert trace.step("dW1").texts() == ["-0.10", "0.20"]
    assert trace.step("deltaW1").texts() == ["0.0100", "-0.0200"]
    assert trace.step("deltab1").texts() == ["0.02"]  # the class's rule: 2 decimals
    assert trace.step("W1_next").texts() == ["0.31", "0.08"]
    assert trace.step("W1_next").spec.formula == "W^(1) + ΔW^(1)"
    assert trace.step("deltaW1").spec.formula == "-η dL/dW^(1)"
    assert trace.step("deltaW1").spec.symbol == "ΔW^(1)"


def test_delta_with_exact_parameters() -> None:
    # ΔW = -η dL/dW from dL/dW = (-0.10, 0.20), kept exact, and the new weights exact
    rules = {"digits": 2, "overrides": {"update": "exact"}}
    trace = make_trace(problem(adam_config(rules)))
    assert trace.step("deltaW1").texts() == ["0.01", "-0.02"]
    assert trace.step("W1_next").texts() == ["0.31", "0.08"]


def test_delta_follows_the_optimizers_direction() -> None:
    # Adam's first step moves each weight by η m̂ / (√ŝ + ε) ≈ η sign(g)
    config = adam_config({"digits": 4, "mode": "significant"})
    config["training"]["optimizer"] = "adam"
    trace = make_trace(problem(config))
    ids = [s.id for s in trace.iterations[0]]
    assert ids.index("uW1") < ids.index("deltaW1") < ids.index("W1_next")
    assert trace.step("deltaW1").spec.formula == "-η u_W^(1)"
    assert trace.step("deltaW1").texts() == ["0.1000", "-0.1000"]
    direct = make_trace(problem(adam_config({"digits": 4}, "direct")))
    assert "deltaW1" not in [s.id for s in direct.iterations[0]]


def test_rules_by_kind_beat_rules_by_phase() -> None:
    rules = {
        "digits": 4,
        "overrides": {"forward": {"digits": 2}, "z": {"digits": 3}, "loss": {"digits": 1}},
    }
    trace = make_trace(problem(adam_config(rules, "direct")))
    assert trace.step("z1").texts() == ["0.100"]
    assert trace.step("yhat").texts() == ["0.10"]
    assert trace.step("loss").texts() == ["0.0"]
    assert trace.step("dz1").texts() == ["-0.2000"]


def test_exact_given_parameters_are_kept_as_written() -> None:
    config = adam_config({"digits": 1, "overrides": {"W": "exact"}}, "direct")
    config["parameters"]["W1"] = [["0.123", "0.1"]]
    trace = make_trace(problem(config))
    assert trace.step("W1").texts() == ["0.123", "0.1"]
    assert trace.step("b1").texts() == ["0.1"]  # b is read by the class's rule


def test_the_config_in_the_trace_reads_back() -> None:
    rules = {
        "write": {"dW": {"1": False}, "losses": False},
        "overrides": {"deltaW": {"digits": 3, "mode": "significant"}, "W_next": "exact"},
    }
    trace = make_trace(problem(adam_config(rules)))
    written = json.loads(trace.to_json())["config"]
    assert written["rounding"]["write"] == {"dW": {"1": False}, "losses": False}
    assert written["rounding"]["overrides"] == {
        "deltaW": {"digits": 3, "mode": "significant", "rule": "half_up", "per": "value"},
        "W_next": "exact",
    }
    assert written["training"]["update_form"] == "delta"
    again = make_trace(problem(written))
    assert again.step("deltaW1").texts() == trace.step("deltaW1").texts()


@pytest.mark.parametrize(
    ("rounding", "message"),
    [
        (
            {"overrides": {"dW": {"digit": 3}}},
            "rounding.overrides.dW.digit: unknown key (did you mean digits? known: digits, "
            "mode, rule, per)",
        ),
        (
            {"overrides": {"dW": "rounded"}},
            "rounding.overrides.dW: expected exact or a mapping, got 'rounded'",
        ),
        (
            {"overrides": {"dW": {"digits": 30}}},
            "rounding.overrides.dW.digits: 30 is out of range (a whole number from 1 to 20)",
        ),
        (
            {"overrides": {"dw": {"digits": 3}}},
            "rounding.overrides.dw: unknown step kind or id (did you mean dW? ",
        ),
        ({"overrides": {"dW7": "exact"}}, "rounding.overrides.dW7: no step of this network"),
        ({"write": {"exp_z": "no"}}, "rounding.write.exp_z: expected true or false, got 'no'"),
        ({"write": {"y": False}}, "rounding.write.y: unknown step kind or id (given numbers"),
        ({"write": {"loss": {"1": False}}}, "rounding.write.loss: loss has no layers"),
        ({"write": {"dW": {"x": False}}}, "rounding.write.dW.x: expected a number, got 'x'"),
        ({"write": [1]}, "rounding.write: expected a mapping, got a list"),
    ],
)
def test_bad_rules_name_the_key(rounding: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as e:
        make_trace(problem(adam_config(rounding)))
    assert f"test.yaml:1: {message}" in str(e.value) or message in str(e.value)
    assert message in str(e.value)


# ---------------------------------------------------------------- check


def work(p: Problem, systems: Systems, written: Callable[[Step], Rounding]) -> dict[str, Any]:
    """A student who works every step in `systems` and writes each asked step by `written`."""
    values = given_values(p, system_of(systems, cycle.build(p)[0]))
    out = {}
    steps = {s.id: s for s in make_trace(p).iterations[0]}
    for spec in cycle.build(p):
        if spec.compute is None:
            continue
        values[spec.id] = recompute(spec, system_of(systems, spec), values)
        if spec.written:
            shape = steps[spec.id].shape
            rule = written(steps[spec.id])
            out[spec.id] = nest([rule.text(v) for v in values[spec.id].data], shape)
    return out


def check(run_cli: Cli, tmp_path: Path, data: dict[str, Any], answers: dict[str, Any]) -> Any:
    config, path = tmp_path / "c.yaml", tmp_path / "answers.yaml"
    config.write_text(yaml.safe_dump(data))
    path.write_text(yaml.safe_dump(answers))
    code, out, err = run_cli("check", str(config), str(path), "--format", "json")
    assert err == ""
    return code, json.loads(out)


PER_QUANTITY = {
    "network": {"widths": [3, 2, 3], "activation": "sigmoid"},
    "data": {"x": ["0.5", "-1.0", "0.3"], "label": 2},
    "init": {"seed": 5},
    "training": {"learning_rate": "0.5", "update_form": "delta"},
    "rounding": {
        "digits": 4,
        "write": {"exp_z": False, "sum_exp": False},
        "overrides": {
            "loss": {"digits": 3},
            "deltaW": {"digits": 3, "mode": "significant"},
            "W_next": "exact",
        },
    },
}


def test_check_grades_a_per_quantity_student_with_no_wrong_entry(
    run_cli: Cli, tmp_path: Path
) -> None:
    p = problem(PER_QUANTITY)
    answers = work(p, hand_systems(p), lambda step: step.rounding)
    assert "exp_z" not in answers and "deltaW1" in answers
    code, report = check(run_cli, tmp_path, PER_QUANTITY, answers)
    assert code == 0
    assert all(s["wrong"] == 0 and s["carried"] == 0 for s in report["steps"])
    assert "exp_z" not in [s["id"] for s in report["steps"]]


def test_check_names_the_class_rule_used_for_a_quantity_with_its_own(
    run_cli: Cli, tmp_path: Path
) -> None:
    p = problem(PER_QUANTITY)
    answers = work(p, hand(p.rounding), lambda step: p.rounding)
    code, report = check(run_cli, tmp_path, PER_QUANTITY, answers)
    assert code == 1
    wrong = {
        s["id"]: {e["diagnosis"] for e in s["entries"] if e["verdict"] == "wrong"}
        for s in report["steps"]
        if s["wrong"]
    }
    named = CLASS_RULE.format(p.rounding.describe())
    assert wrong and all(found == {named} for found in wrong.values()), wrong
    assert set(wrong) <= {"yhat", "loss", "deltaW1", "deltaW2", "W1_next", "W2_next"}


def test_check_names_the_slips_of_the_weight_change(run_cli: Cli, tmp_path: Path) -> None:
    p = problem(PER_QUANTITY)
    right = work(p, hand_systems(p), lambda step: step.rounding)
    rule = Rounding(digits=3, mode="significant")
    dw = [[-Decimal(v) for v in row] for row in right["deltaW2"]]
    flipped = {**right, "deltaW2": [[rule.text(v) for v in row] for row in dw]}
    report = check(run_cli, tmp_path, PER_QUANTITY, flipped)[1]
    entries = next(s for s in report["steps"] if s["id"] == "deltaW2")["entries"]
    found = {e["diagnosis"] for e in entries if e["verdict"] == "wrong"}
    assert found == {"the sign of ΔW flipped (ΔW = +η g)"}


OWN = {
    "write": {"exp_z": False, "sum_exp": False, "losses": False, "dhdz": False},
    "overrides": {"loss": {"digits": 3}, "deltaW": {"digits": 3, "mode": "significant"}},
}


@pytest.mark.parametrize("name", ["default", "batch", "adam-minibatches", "momentum", "dropout"])
def test_the_float64_column_does_not_depend_on_the_rules(name: str) -> None:
    data = yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text())
    plain = make_trace(problem(data))
    data.setdefault("rounding", {}).update(OWN)
    data.setdefault("training", {})["update_form"] = "delta"
    ruled = make_trace(problem(data))
    for before, after in zip(plain.iterations, ruled.iterations, strict=True):
        floats = {s.id: s.floats for s in after}
        assert all(floats[s.id] == s.floats for s in before)
        assert any(s.id.startswith("delta") for s in after)


def test_another_rule_is_named_from_each_quantitys_own(run_cli: Cli, tmp_path: Path) -> None:
    # a student who kept one digit fewer everywhere: 3 decimals, ΔW to 2 significant digits
    fewer = {**PER_QUANTITY, "rounding": {**PER_QUANTITY["rounding"], "digits": 3}}
    fewer["rounding"]["overrides"] = {
        "loss": {"digits": 2},
        "deltaW": {"digits": 2, "mode": "significant"},
        "W_next": "exact",
    }
    p = problem(fewer)
    answers = work(p, hand_systems(p), lambda step: step.rounding)
    report = check(run_cli, tmp_path, PER_QUANTITY, answers)[1]
    named = {
        s["id"]: {e["diagnosis"] for e in s["entries"] if e["verdict"] == "wrong"}
        for s in report["steps"]
        if s["wrong"]
    }
    assert named["deltaW2"] == {"2 significant digits instead of 3"}
    assert named["dW2"] == {"3 decimal places instead of 4"}


def test_the_optimizer_phase_and_the_given_numbers() -> None:
    config = adam_config(
        {"digits": 2, "overrides": {"optimizer": {"digits": 5}, "given": "exact"}}, "direct"
    )
    config["training"]["optimizer"] = "momentum"
    config["data"]["x"] = ["0.505", "-1"]
    trace = make_trace(problem(config))
    assert trace.step("h0").texts() == ["0.505", "-1"]  # read as written
    # z = 0.3 (0.505) - 0.1 + 0.05 = 0.1015 -> 0.10; dL/dz = 2 (0.10 - 0.2) = -0.20
    assert trace.step("dW1").texts() == ["-0.10", "0.20"]  # -0.101 to 2 decimals
    assert trace.step("vW1").texts() == ["-0.10000", "0.20000"]  # v = g as written, 5 decimals
    assert trace.step("W1_next").texts() == ["0.31", "0.08"]


def test_an_answer_to_a_step_not_written_down_is_named_as_such(
    run_cli: Cli, tmp_path: Path
) -> None:
    config, answers = tmp_path / "c.yaml", tmp_path / "a.yaml"
    config.write_text(yaml.safe_dump(PER_QUANTITY, sort_keys=False))
    answers.write_text("loss: 1.234\nexp_z: [1, 2, 3]\nexp_q: [1]\n")
    code, out, _ = run_cli("check", str(config), str(answers), "--format", "json")
    problems = json.loads(out)["problems"]
    assert code == 2  # part of the file could not be read
    assert (
        f"{answers}:2: exp_z: not asked: the class passes it on without writing it down" in problems
    )
    assert f"{answers}:3: exp_q: unknown step id (see --template)" in problems


def test_papers_and_templates_leave_out_what_is_not_written(run_cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(PER_QUANTITY, sort_keys=False))
    code, out, err = run_cli("check", str(config), "--template")
    assert code == 0 and err == ""
    assert "exp_z" not in out and "sum_exp" not in out
    assert "# L = -Σ_j y_j ln ŷ_j   (one number; 3 decimals)\nloss: ~" in out
    assert "# ΔW^(1) = -η dL/dW^(1)   (2 x 3; 3 significant digits)\ndeltaW1:" in out
    code, out, err = run_cli("worksheet", str(config), "--output", str(tmp_path / "w.md"))
    paper = (tmp_path / "w.md").read_text()
    assert (
        code == 0
        and "**exp(" not in paper
        and "**S**" not in paper
        and "**ΔW<sup>(1)</sup>** `2 x 3`" in paper
    )
    assert (
        "4 decimal places, ties away from zero, rounding every written value; the loss L to 3 "
        "decimals; ΔW to 3 significant digits; the updated W exact; not written down (kept "
        "exact): exp(z), S"
    ) in " ".join(paper.split())


def test_the_schema_describes_the_new_keys() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    good = {**PER_QUANTITY, "rounding": {**PER_QUANTITY["rounding"]}}
    good["rounding"]["write"] = {"exp_z": False, "dhdz": {"1": False}}
    assert list(validator.iter_errors(good)) == []
    for rounding in (
        {"overrides": {"dW": "rounded"}},
        {"overrides": {"dW": {"digit": 3}}},
        {"write": {"exp_z": "no"}},
    ):
        assert not validator.is_valid({**PER_QUANTITY, "rounding": rounding}), rounding
    assert not validator.is_valid({**PER_QUANTITY, "training": {"update_form": "deltas"}})


def test_the_pytorch_twin_reads_exact_parameters_in_full(run_cli: Cli, tmp_path: Path) -> None:
    config = adam_config({"digits": 1, "overrides": {"W": "exact"}})
    config["parameters"]["W1"] = [["0.123", "0.1"]]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    code, out, err = run_cli("export-torch", str(path))
    assert code == 0 and err == "" and "[0.123, 0.1]" in out.replace("\n", "").replace("  ", "")
    if importlib.util.find_spec("torch") is None and not CI:
        return
    script = tmp_path / "twin.py"
    script.write_text(out)
    done = subprocess.run(
        [sys.executable, str(script), "--json"], capture_output=True, text=True, check=True
    )
    trace = make_trace(problem(config))
    for step_id, value in json.loads(done.stdout).items():
        got = np.array(value, dtype=np.float64).ravel()
        np.testing.assert_allclose(got, trace.step(step_id).floats, rtol=1e-12, atol=1e-14)


def test_check_names_intermediates_rounded_that_the_class_keeps_exact(
    run_cli: Cli, tmp_path: Path
) -> None:
    # nine logits of -5.29: e^-5.29 = 0.00504 is written 0.01, S = 1.09 instead of 1.0454, and
    # ŷ_1 = 1 / S comes out 0.92 where the class, writing only ŷ, has 0.96
    config = {
        "network": {"widths": [1, 10]},
        "data": {"x": [1], "label": 1},
        "parameters": {"W1": [[0]] * 10, "b1": [0] + ["-5.29"] * 9},
        "rounding": {"digits": 2, "write": ONCE},
    }
    every = problem({**config, "rounding": {"digits": 2}})
    answers = work(every, hand_systems(every), lambda step: step.rounding)
    answers.pop("exp_z"), answers.pop("sum_exp")
    assert answers["yhat"][0] == "0.92"
    report = check(run_cli, tmp_path, config, answers)[1]
    yhat = next(s for s in report["steps"] if s["id"] == "yhat")["entries"][0]
    assert (yhat["verdict"], yhat["key"]) == ("wrong", "0.96")
    assert yhat["diagnosis"] == ALL_WRITTEN


def test_explain_shows_the_change_and_what_is_passed_on(run_cli: Cli, tmp_path: Path) -> None:
    rules = {"digits": 2, "overrides": {"deltaW": {"digits": 3, "mode": "significant"}}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(adam_config(rules)))
    code, out, err = run_cli(
        "run", str(path), "--explain", "deltaW1[1,1]", "--explain", "W1_next[1,1]"
    )
    assert code == 0 and err == ""
    assert "  so       -0.1 × (-0.10) = 0.0100\n  written  0.0100   (3 significant digits" in out
    assert "  so       0.30 + (0.0100) = 0.31\n  written  0.31   (2 decimal places" in out
    a = logit_for(D("0.35") + D("1e-9"))
    path.write_text(yaml.safe_dump(two_logits(a, 1, "half_up", ONCE)))
    out = run_cli("run", str(path), "--explain", "sum_exp")[1]
    assert "(the exact sum, passed on)\n  passed   ≈1.53846154   (not written down: exact)" in out
