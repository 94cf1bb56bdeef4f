"""Scripted students graded by `handcalc check`: verdicts, carried errors and named slips."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT, problem
from handcalc.config import load as config
from handcalc.config.problem import Problem
from handcalc.model import cycle
from handcalc.model.given import given_values
from handcalc.model.runner import make_trace, recompute
from handcalc.numbers import NumberSystem, hand
from handcalc.rowmajor import nest

Cli = Callable[..., tuple[int, str, str]]
Slips = Mapping[str, Callable[[NumberSystem, Mapping[str, Any]], Any]]
DEFAULT = ROOT / "configs" / "default.yaml"


def student(p: Problem, slips: Slips | None = None, rounding: Any = None) -> dict[str, Any]:
    """A student who works the whole cycle, making the given slips and everything else right."""
    r = rounding or p.rounding
    ns = hand(r)
    values = given_values(replace(p, rounding=r), ns)
    out = {}
    for spec in cycle.build(p):
        if spec.compute is None:
            continue
        compute = (slips or {}).get(spec.id, spec.compute)
        values[spec.id] = recompute(replace(spec, compute=compute), ns, values)
        shape = spec.shape[1:] if spec.per_example and not p.batched else spec.shape
        out[spec.id] = nest([r.text(v) for v in values[spec.id].data], shape)
    return out


def grade(
    run_cli: Cli, tmp_path: Path, answers: dict[str, Any], config_path: Path = DEFAULT, *args: str
) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers))
    code, out, err = run_cli("check", str(config_path), str(path), "--format", "json", *args)
    assert err == "", err
    return code, json.loads(out)


def entries(report: dict[str, Any], step_id: str) -> list[dict[str, Any]]:
    return next(s for s in report["steps"] if s["id"] == step_id)["entries"]


def verdicts(report: dict[str, Any], step_id: str) -> set[str]:
    return {e["verdict"] for e in entries(report, step_id)}


def diagnoses(report: dict[str, Any], step_id: str) -> set[str | None]:
    return {e["diagnosis"] for e in entries(report, step_id) if e["verdict"] == "wrong"}


def write(tmp_path: Path, data: dict[str, Any], name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_perfect_student(run_cli: Cli, tmp_path: Path) -> None:
    code, report = grade(run_cli, tmp_path, student(config.load(DEFAULT)))
    assert code == 0
    assert report["first_wrong"] is None
    assert all(s["wrong"] == 0 and s["carried"] == 0 for s in report["steps"])
    assert Decimal(report["score"]["earned"]) == Decimal(report["score"]["possible"]) == 28


def test_slip_at_a_hidden_dz_is_carried_forward(run_cli: Cli, tmp_path: Path) -> None:
    p = config.load(DEFAULT)
    answers = student(p, {"dz2": lambda ns, v: v["dh2"]})  # the activation derivative left out
    code, report = grade(run_cli, tmp_path, answers)
    assert code == 1
    assert report["first_wrong"] == "dz2"
    assert diagnoses(report, "dz2") == {"the activation derivative left out (dL/dz = dL/dh)"}
    assert verdicts(report, "dz2") == {"correct", "wrong"}  # active units are right anyway
    order = [s["id"] for s in report["steps"]]
    for later in order[order.index("dz2") + 1 :]:
        assert "wrong" not in verdicts(report, later), later
    assert "carried" in verdicts(report, "dW2") and "carried" in verdicts(report, "W1_next")
    text = run_cli("check", str(tmp_path / "answers.yaml"))[1]
    assert "first step that went wrong: dz2" in text
    assert "likely slip: the activation derivative left out" in text
    assert "the notes' formula: dL/dz^(2) = σ'(z^(2)) ⊙ dL/dh^(2)" in text


def test_carried_credit(run_cli: Cli, tmp_path: Path) -> None:
    answers = student(config.load(DEFAULT), {"dz2": lambda ns, v: v["dh2"]})
    full = grade(run_cli, tmp_path, answers)[1]["score"]["earned"]
    half = grade(run_cli, tmp_path, answers, DEFAULT, "--carried-credit", "0.5")[1]
    assert Decimal(half["score"]["earned"]) < Decimal(full)


SQUARE = {
    "network": {"widths": [3, 3, 3], "activation": "sigmoid"},
    "data": {"x": [0.5, -1.0, 0.25], "label": 1},
    "init": {"seed": 4},
    "training": {"learning_rate": 0.5},
}


@pytest.mark.parametrize(
    ("data", "step", "slip", "name"),
    [
        (
            SQUARE,
            "dW2",
            lambda ns, v: ns.matmul_nt(ns.transpose(v["h1"]), ns.transpose(v["dz2"])),
            "the outer product transposed (h dz^T instead of dz h^T)",
        ),
        (
            SQUARE,
            "dh1",
            lambda ns, v: ns.matmul_nt(v["dz2"], v["W2"]),
            "W used instead of W^T (dL/dh = W dL/dz)",
        ),
        (
            SQUARE,
            "dhdz1",
            lambda ns, v: ns.mul(
                ns.div(Decimal(1), ns.add(Decimal(1), ns.exp(ns.neg(v["h1"])))),
                ns.sub(Decimal(1), ns.div(Decimal(1), ns.add(Decimal(1), ns.exp(ns.neg(v["h1"]))))),
            ),
            "the derivative taken at h instead of z (σ'(h))",
        ),
        (
            SQUARE,
            "W1_next",
            lambda ns, v: ns.add(v["W1"], ns.mul(Decimal("0.5"), v["dW1"])),
            "the update's sign flipped (W + η g)",
        ),
        (
            SQUARE,
            "b2_next",
            lambda ns, v: ns.sub(v["b2"], v["db2"]),
            "the learning rate left out (W - g)",
        ),
        (
            SQUARE,
            "dz2",
            lambda ns, v: ns.sub(v["y"], v["yhat"]),
            "y - ŷ instead of ŷ - y (the sign flipped)",
        ),
        (
            SQUARE,
            "loss",
            lambda ns, v: ns.reshape(
                ns.div(ns.neg(ns.total(ns.xlogy(v["y"], v["yhat"]), 1)), Decimal(10).ln()), ()
            ),
            "log10 instead of ln",
        ),
        (
            SQUARE,
            "dh1",
            lambda ns, v: ns.matmul_nt(v["dz2"], ns.transpose(v["W2_next"])),
            "the already-updated W^(l+1) used for dL/dh^(l)",
        ),
    ],
    ids=lambda x: x if isinstance(x, str) and " " not in x else None,
)
def test_each_slip_is_named(
    run_cli: Cli, tmp_path: Path, data: dict[str, Any], step: str, slip: Any, name: str
) -> None:
    path = write(tmp_path, data)
    p = config.load(path)
    if "already-updated" in name:  # the student reads W2_next from the key's update
        key = make_trace(p)
        w2_next = key.step("W2_next").values

        def slip(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
            updated = ns.array(w2_next, (3, 3))
            return ns.matmul_nt(v["dz2"], ns.transpose(updated))

    answers = student(p, {step: slip})
    code, report = grade(run_cli, tmp_path, answers, path)
    assert code == 1
    assert report["first_wrong"] == step
    assert name in diagnoses(report, step), entries(report, step)


def test_transposed_shape_is_named(run_cli: Cli, tmp_path: Path) -> None:
    answers = student(config.load(DEFAULT))
    answers["dW3"] = [list(col) for col in zip(*answers["dW3"], strict=True)]  # 4 x 3, not 3 x 4
    code, report = grade(run_cli, tmp_path, answers)
    assert code == 1
    dw3 = next(s for s in report["steps"] if s["id"] == "dW3")
    assert dw3["transposed"]
    assert diagnoses(report, "dW3") == {"the matrix written transposed (h dz^T instead of dz h^T)"}


def test_batch_one_over_n(run_cli: Cli, tmp_path: Path) -> None:
    path = ROOT / "configs" / "batch.yaml"
    p = config.load(path)
    n = Decimal(3)
    left_out = student(p, {"dz2": lambda ns, v: ns.sub(v["yhat"], v["y"])})
    report = grade(run_cli, tmp_path, left_out, path)[1]
    assert diagnoses(report, "dz2") == {"the batch 1/N left out"}
    twice = student(p, {"dz2": lambda ns, v: ns.div(ns.div(ns.sub(v["yhat"], v["y"]), n), n)})
    report = grade(run_cli, tmp_path, twice, path)[1]
    assert "the batch 1/N applied twice" in diagnoses(report, "dz2")


def test_label_read_zero_based(run_cli: Cli, tmp_path: Path) -> None:
    data = {**SQUARE, "data": {"x": [0.5, -1.0, 0.25], "label": 1}}
    path = write(tmp_path, data)
    p = config.load(path)
    shifted = {"y": [0, 1, 0]}

    def with_shifted(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        y = ns.array([Decimal(c) for c in shifted["y"]], (1, 3))
        return ns.sub(v["yhat"], y)

    report = grade(run_cli, tmp_path, student(p, {"dz2": with_shifted}), path)[1]
    assert "the label read 0-based (class c taken as c + 1)" in diagnoses(report, "dz2")


def test_misplaced_decimal_point(run_cli: Cli, tmp_path: Path) -> None:
    answers = student(config.load(DEFAULT))
    answers["z1"][1] = str(Decimal(answers["z1"][1]) * 10)
    report = grade(run_cli, tmp_path, answers)[1]
    assert diagnoses(report, "z1") == {"a misplaced decimal point (off by a factor of 10^1)"}


def test_decimal_point_misplaced_to_the_left(run_cli: Cli, tmp_path: Path) -> None:
    answers = student(config.load(DEFAULT))
    answers["z1"][1] = str(Decimal(answers["z1"][1]) / 10)
    code, report = grade(run_cli, tmp_path, answers)
    assert code == 1
    assert diagnoses(report, "z1") == {"a misplaced decimal point (off by a factor of 10^-1)"}


def float64_student() -> dict[str, Any]:
    t = make_trace(config.load(DEFAULT))
    r = t.problem.rounding
    return {
        s.id: nest([r.text(Decimal(repr(f))) for f in s.floats], s.shape)
        for s in t.iterations[0]
        if s.spec.phase != "given"
    }


def test_student_who_did_not_round_intermediates(run_cli: Cli, tmp_path: Path) -> None:
    code, report = grade(run_cli, tmp_path, float64_student())
    assert code == 0  # the default tolerance covers each entry's float64 deviation
    assert any(e["note"] for s in report["steps"] for e in s["entries"])
    code, strict = grade(run_cli, tmp_path, float64_student(), DEFAULT, "--tolerance", "0.00005")
    assert code == 1
    assert "intermediates not rounded: the value is the unrounded float64 one" in diagnoses(
        strict, "loss"
    )


def test_other_rounding_rules(run_cli: Cli, tmp_path: Path) -> None:
    tie = {
        "network": {"widths": [2, 2]},
        "data": {"x": [1.0, 0.5], "label": 1},
        "parameters": {"W1": [[0.2, -0.4], [0.5, 0.0]], "b1": [0, 0]},
    }
    path = write(tmp_path, tie)
    p = config.load(path)
    even = student(p, rounding=replace(p.rounding, rule="half_even"))
    report = grade(run_cli, tmp_path, {"dW1": even["dW1"]}, path, "--tolerance", "0")[1]
    assert diagnoses(report, "dW1") == {"rounded half_even instead of half_up"}
    big = {
        "network": {"widths": [1, 1], "head": "identity", "loss": "mse"},
        "data": {"x": [3.3333], "y": [0]},
        "parameters": {"W1": [[3.7777]], "b1": [0]},
    }
    path = write(tmp_path, big, "big.yaml")
    p = config.load(path)
    sig = student(p, rounding=replace(p.rounding, mode="significant"))
    report = grade(run_cli, tmp_path, {"z1": sig["z1"]}, path)[1]
    assert diagnoses(report, "z1") == {"4 significant digits instead of 4 decimal places"}


def test_readable_forms_of_numbers(run_cli: Cli, tmp_path: Path) -> None:
    answers = student(config.load(DEFAULT))
    z1 = [Decimal(v) for v in answers["z1"]]
    answers["z1"] = [f"{z1[0]}", str(z1[1]).replace(".", ","), f"{z1[2]:e}"]
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(answers))
    code, out, _ = run_cli("check", str(path))
    assert code == 0
    assert "decimal comma" in out


def test_bad_input_is_reported_and_the_rest_graded(run_cli: Cli, tmp_path: Path) -> None:
    answers = student(config.load(DEFAULT))
    answers["z1"][0] = "abc"
    answers["h1"] = [1, 2]
    answers["dW9"] = [1]
    answers["dz_3"] = [1, 2, 3]
    code, report = grade(run_cli, tmp_path, answers)
    assert code == 2
    problems = " | ".join(report["problems"])
    assert "z1[1]: 'abc' is not a number" in problems
    assert "h1: shape 2, expected 3" in problems
    assert "dW9: unknown step id" in problems
    assert "dz_3: unknown step id (did you mean dz3?" in problems
    assert {s["id"] for s in report["steps"]} >= {"z2", "dW1", "W1_next"}  # the rest is graded
    assert verdicts(report, "z1") == {"correct"}  # its two readable entries


def test_empty_answers(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("")
    code, out, _ = run_cli("check", str(path))
    assert code == 2 and "no answers in the file" in " ".join(out.split())


def test_template_lists_every_step(run_cli: Cli, tmp_path: Path) -> None:
    code, out, _ = run_cli("check", str(DEFAULT), "--template")
    assert code == 0
    blank = yaml.safe_load(out)
    key = make_trace(config.load(DEFAULT))
    assert set(blank) == {s.id for s in key.iterations[0] if s.spec.phase != "given"}
    assert blank["dW1"] == [[None] * 5] * 3 and blank["loss"] is None
    path = tmp_path / "blank.yaml"
    path.write_text(out)
    code, report_out, _ = run_cli("check", str(path))
    assert code == 0 and "no step went wrong" in report_out


def test_points_from_the_config(run_cli: Cli, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    data["document"] = {"points": {"dW1": 5, "forward": 0.5}}
    path = write(tmp_path, data)
    report = grade(
        run_cli, tmp_path, {"dW1": student(config.load(path))["dW1"], "z1": [0, 0, 0]}, path
    )[1]
    points = {s["id"]: s["points"] for s in report["steps"]}
    assert points == {"z1": "0.5", "dW1": "5"}
    assert Decimal(report["score"]["earned"]) == 5


def test_unknown_point_key(run_cli: Cli, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    data["document"] = {"points": {"dW7": 5}}
    code, _, err = run_cli("run", str(write(tmp_path, data)))
    assert code == 2 and "document.points.dW7: unknown step or phase" in err


def test_run_shows_tolerances(run_cli: Cli) -> None:
    code, out, _ = run_cli("run", "--tolerances")
    assert code == 0 and "± accept" in out


def test_problem_helper_is_shared() -> None:
    assert problem(SQUARE).widths == (3, 3, 3)
