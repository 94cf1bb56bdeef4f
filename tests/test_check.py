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
from handcalc.documents.paper import build
from handcalc.model import cycle, ids
from handcalc.model.given import given_values
from handcalc.model.runner import make_trace, recompute
from handcalc.numbers import NumberSystem, hand
from handcalc.rowmajor import nest

Cli = Callable[..., tuple[int, str, str]]
Slips = Mapping[str, Callable[[NumberSystem, Mapping[str, Any]], Any]]
DEFAULT = ROOT / "configs" / "default.yaml"
NOT_ROUNDED = "intermediates not rounded: the value is the unrounded float64 one"


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
    # written to the rule's 4 decimals: no more digits kept than the rule, so no note
    assert not any(e["more_digits"] for s in report["steps"] for e in s["entries"])
    code, strict = grade(run_cli, tmp_path, float64_student(), DEFAULT, "--tolerance", "0.00005")
    assert code == 1
    assert NOT_ROUNDED in diagnoses(strict, "loss")


def test_other_rounding_rules(run_cli: Cli, tmp_path: Path) -> None:
    tie = {
        "network": {"widths": [2, 2]},
        "data": {"x": [1.0, 0.5], "label": 1},
        "parameters": {"W1": [[0.2, -0.4], [0.5, 0.0]], "b1": [0, 0]},
    }
    path = write(tmp_path, tie)
    p = config.load(path)
    even = student(p, rounding=replace(p.rounding, rule="half_even"))
    report = grade(run_cli, tmp_path, even, path, "--tolerance", "0")[1]
    assert diagnoses(report, "dW1") == {"rounded half_even instead of half_up"}
    # dW1 alone: not rounding at all gives its 4 entries as well; the tie goes to the simpler
    report = grade(run_cli, tmp_path, {"dW1": even["dW1"]}, path, "--tolerance", "0")[1]
    assert diagnoses(report, "dW1") == {NOT_ROUNDED}
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
    assert verdicts(report, "z1") == {"correct", "unreadable"}  # the unreadable earns nothing


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
    assert (points["z1"], points["dW1"], points["z2"], points["loss"]) == ("0.5", "5", "0.5", "1")
    assert Decimal(report["score"]["earned"]) == 5
    assert Decimal(report["score"]["possible"]) == 8 * Decimal("0.5") + 1 + 18 + 5  # every step


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


# Scores a lecturer can publish: every step of the paper counts; blanks earn nothing.


def test_blank_student_scores_nothing_of_the_papers_points(run_cli: Cli, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    data["document"] = {"points": {"dW1": 3, "forward": 0.5}}
    path = write(tmp_path, data)
    blank = tmp_path / "blank.yaml"
    blank.write_text(run_cli("check", str(path), "--template")[1])
    code, out, _ = run_cli("check", str(path), str(blank))
    assert code == 0
    assert "score 0 of 26 points; 0 correct, 0 carried, 0 wrong" in out  # 8 x 0.5 + 3 + 19
    code, out, _ = run_cli("check", str(path), str(blank), "--format", "json")
    report = json.loads(out)
    assert report["score"]["possible"] == "26" and report["score"]["earned"] == "0.0000"
    assert {e["verdict"] for s in report["steps"] for e in s["entries"]} == {"blank"}


def test_half_blank_step_earns_its_answered_share(run_cli: Cli, tmp_path: Path) -> None:
    config = ROOT / "configs" / "sigmoid-2-2-2.yaml"
    path = tmp_path / "a.yaml"
    path.write_text("dW2: [[0.0822, ~], [~, ~]]\n")
    code, out, _ = run_cli("check", str(config), str(path))
    assert code == 0
    assert "dW2       dL/dW^(2)      1 correct, 3 blank   0.25/1 points" in out
    assert "score 0.25 of 19 points" in out
    out = run_cli("check", str(config), str(path), "--only-answered")[1]
    assert "score 1 of 1 points (the steps answered)" in out  # a student's self-check


def test_unreadable_entry_earns_nothing(run_cli: Cli, tmp_path: Path) -> None:
    answers = student(config.load(DEFAULT))
    answers["z1"][0] = "abc"
    _code, report = grade(run_cli, tmp_path, answers)
    z1 = next(s for s in report["steps"] if s["id"] == "z1")
    assert (z1["correct"], z1["unreadable"], z1["earned"]) == (2, 1, "0.6667")
    assert report["score"]["earned"] == "27.6667"


def test_json_report_schema(run_cli: Cli, tmp_path: Path) -> None:
    _code, report = grade(run_cli, tmp_path, {"z1": [-1.99, 1.57, None]})
    assert report["schema"] == "handcalc.check/2"
    assert report["score"] == {
        "earned": "0.6667",
        "possible": "28",
        "percent": "2.4",
        "carried_credit": "1",
        "only_answered": False,
    }
    z1 = report["steps"][0]
    assert (z1["id"], z1["phase"], z1["points"], z1["earned"]) == ("z1", "forward", "1", "0.6667")
    assert [e["verdict"] for e in z1["entries"]] == ["correct", "correct", "blank"]
    assert z1["entries"][2]["value"] is None and z1["entries"][2]["key"] == "1.4200"
    assert len(report["steps"]) == 28 and report["totals"]["blank"] == 145


# Follow-through from whatever the student wrote.

KEEP = {"z", "h", "yhat", "loss", "dz", "dW", "db", "W_next", "b_next"}


def on_paper(answers: dict[str, Any], keep: set[str] = KEEP) -> dict[str, Any]:
    """Only what students write on paper: no exp(z), S, L_n, dL/dŷ, σ'(z) or dL/dh."""
    return {k: v for k, v in answers.items() if str(ids.known(k).kind) in keep}


def z1_slip(p: Problem) -> Slips:
    """The largest entry of z^(1) written 0.5 too large (so that a ReLU passes it on)."""
    width = p.widths[1]

    def slip(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        z = ns.matmul_nt(v["h0"], v["W1"], v["b1"])
        top = max(range(width), key=lambda j: z.data[j])
        bump = [Decimal("0.5") if j == top else Decimal(0) for j in range(p.examples * width)]
        return ns.add(z, ns.array(bump, (p.examples, width)))

    return {"z1": slip}


@pytest.mark.parametrize(
    "name", ["default.yaml", "binary.yaml", "softmax-mse.yaml", "batch.yaml", "sigmoid-2-2-2.yaml"]
)
def test_a_slip_in_z1_carries_through_skipped_steps(
    run_cli: Cli, tmp_path: Path, name: str
) -> None:
    path = ROOT / "configs" / name
    p = config.load(path)
    code, report = grade(run_cli, tmp_path, on_paper(student(p, z1_slip(p))), path)
    assert code == 1
    assert report["first_wrong"] == "z1"
    assert [s["id"] for s in report["steps"] if s["wrong"]] == ["z1"]
    answered = [s for s in report["steps"] if s["correct"] + s["carried"] + s["wrong"]]
    assert {s["id"] for s in answered} == set(on_paper(student(p)))
    later = [s["id"] for s in answered[1:] if s["carried"]]
    assert {"h1", "yhat", "loss", f"dW{p.layers}"} <= set(later), later
    h1 = next(e for e in entries(report, "h1") if e["verdict"] == "carried")
    assert h1["carried_from"][0].startswith("z^(1)_")


def test_a_carried_entry_names_what_it_carries(run_cli: Cli, tmp_path: Path) -> None:
    answers = student(config.load(DEFAULT), {"dz2": lambda ns, v: v["dh2"]})
    _code, report = grade(run_cli, tmp_path, answers)
    dw2 = [e for e in entries(report, "dW2") if e["verdict"] == "carried"]
    assert [e["carried_from"] for e in dw2] == [["dL/dz^(2)_3"]] * 2
    db1 = [e for e in entries(report, "db1") if e["verdict"] == "carried"]
    assert db1 and all(e["carried_from"][0].startswith("dL/dz^(1)_") for e in db1)


# Diagnoses by kind, where the slip happens, written or not.

HEAD_LEFT_OUT = "the head's derivative left out (dL/dz^(L) = dL/dŷ)"
SIGN = "y - ŷ instead of ŷ - y (the sign flipped)"
ONE_OVER_N = "the batch 1/N left out"
SIGMA_LEFT_OUT = "the activation derivative left out (dL/dz = dL/dh)"


def _sign_in_mse(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
    return ns.div(ns.mul(Decimal(2), ns.sub(v["y"], v["yhat"])), Decimal(3))


@pytest.mark.parametrize(
    ("name", "slips", "keep", "where", "slip", "at"),
    [
        (
            "batch.yaml",
            {"loss": lambda ns, v: ns.total(v["losses"], 0)},
            KEEP,
            "loss",
            ONE_OVER_N,
            None,
        ),
        (
            "batch.yaml",
            {"dz2": lambda ns, v: ns.sub(v["yhat"], v["y"])},
            KEEP,
            "dz2",
            ONE_OVER_N,
            None,
        ),
        (
            "batch.yaml",
            {"dz2": lambda ns, v: ns.sub(v["yhat"], v["y"])},
            KEEP - {"dz"},
            "db2",
            ONE_OVER_N,
            "dz2",
        ),
        ("sigmoid-2-2-2.yaml", {"dz2": lambda ns, v: v["dyhat"]}, KEEP, "dz2", HEAD_LEFT_OUT, None),
        ("softmax-mse.yaml", {"dz2": lambda ns, v: v["dyhat"]}, KEEP, "dz2", HEAD_LEFT_OUT, None),
        ("default.yaml", {"dz2": lambda ns, v: v["dh2"]}, KEEP, "dz2", SIGMA_LEFT_OUT, None),
        (
            "default.yaml",
            {"dz2": lambda ns, v: v["dh2"]},
            KEEP - {"dz"},
            "db2",
            SIGMA_LEFT_OUT,
            "dz2",
        ),
        (
            "sigmoid-2-2-2.yaml",
            {"dyhat": lambda ns, v: ns.sub(v["y"], v["yhat"])},
            KEEP,
            "dz2",
            SIGN,
            "dyhat",
        ),
        ("softmax-mse.yaml", {"dyhat": _sign_in_mse}, KEEP, "dz2", SIGN, "dyhat"),
        ("default.yaml", {"dz3": lambda ns, v: ns.sub(v["y"], v["yhat"])}, KEEP, "dz3", SIGN, None),
    ],
)
def test_each_slip_is_named_where_it_happens(
    run_cli: Cli,
    tmp_path: Path,
    name: str,
    slips: Slips,
    keep: set[str],
    where: str,
    slip: str,
    at: str | None,
) -> None:
    path = ROOT / "configs" / name
    _code, report = grade(
        run_cli, tmp_path, on_paper(student(config.load(path), slips), keep), path
    )
    assert report["first_wrong"] == where
    step = next(s for s in report["steps"] if s["id"] == where)
    wrong = [e["label"] for e in step["entries"] if e["verdict"] == "wrong"]
    assert step["slips"] == [
        {"diagnosis": slip, "at": at or where, "hint": step["slips"][0]["hint"], "entries": wrong}
    ]
    assert {(e["diagnosis"], e["slip_at"]) for e in step["entries"] if e["verdict"] == "wrong"} == {
        (slip, at)
    }


def test_a_shared_slip_is_said_once(run_cli: Cli, tmp_path: Path) -> None:
    path = ROOT / "configs" / "batch.yaml"
    answers = on_paper(student(config.load(path), {"dz2": lambda ns, v: ns.sub(v["yhat"], v["y"])}))
    (tmp_path / "answers.yaml").write_text(yaml.safe_dump(answers))
    out = run_cli("check", str(path), str(tmp_path / "answers.yaml"))[1]
    assert "9 wrong" in out
    assert out.count("likely slip: the batch 1/N left out") == 1
    assert out.count("the notes' formula: dL/dz^(2) = (ŷ - y) / N") == 1


def rule_student(p: Problem, rule: dict[str, Any]) -> dict[str, Any]:
    if not rule:  # not rounded: the float64 values, written by the rule
        t = make_trace(p)
        r = p.rounding
        return {
            s.id: nest([r.text(Decimal(repr(f))) for f in s.floats], s.shape)
            for s in t.iterations[0]
            if s.spec.phase != "given"
        }
    return student(p, rounding=replace(p.rounding, **rule))


@pytest.mark.parametrize(
    ("rule", "name"),
    [
        ({}, NOT_ROUNDED),
        ({"rule": "half_even"}, "rounded half_even instead of half_up"),
        ({"mode": "significant"}, "4 significant digits instead of 4 decimal places"),
        ({"per": "operation"}, "rounded every operation instead of every written value"),
        ({"digits": 3}, "3 decimal places instead of 4"),
        ({"digits": 5}, "5 decimal places instead of 4"),
    ],
)
@pytest.mark.parametrize("config_name", ["default.yaml", "sigmoid-2-2-2.yaml", "batch.yaml"])
def test_rounding_rule_students_get_their_rule(
    run_cli: Cli, tmp_path: Path, rule: dict[str, Any], name: str, config_name: str
) -> None:
    path = ROOT / "configs" / config_name
    answers = rule_student(config.load(path), rule)
    _code, report = grade(run_cli, tmp_path, answers, path, "--tolerance", "0")
    found = {
        e["diagnosis"] for s in report["steps"] for e in s["entries"] if e["verdict"] == "wrong"
    }
    assert found == {name}  # never σ'(h) or another rule one unit off the key


# The note about digits kept: closer to float64 and longer than the rule; once.


def test_more_digits_note_once(run_cli: Cli, tmp_path: Path) -> None:
    t = make_trace(config.load(DEFAULT))
    textbook = {
        s.id: nest([f"{f:.9f}" for f in s.floats], s.shape)
        for s in t.iterations[0]
        if s.spec.phase != "given"
    }
    code, report = grade(run_cli, tmp_path, textbook)
    assert code == 0
    kept = [e for s in report["steps"] for e in s["entries"] if e["more_digits"]]
    assert len(kept) > 10
    assert len([n for n in report["notes"] if "more digits kept" in n]) == 1
    (tmp_path / "answers.yaml").write_text(yaml.safe_dump(textbook))
    out = " ".join(run_cli("check", str(tmp_path / "answers.yaml"))[1].split())
    assert out.count("more digits kept than the rule") == 1


def test_one_unit_off_away_from_float64_gets_no_note(run_cli: Cli, tmp_path: Path) -> None:
    t = make_trace(config.load(DEFAULT))
    step = t.step("exp_z")  # exp(z^(3))_1 = 0.5453, float64 0.54525593: the key is above it
    key, exact = step.values[0], Decimal(repr(step.floats[0]))
    off = key + (Decimal("0.0001") if key > exact else Decimal("-0.0001"))
    answers = {"exp_z": [str(off), step.text(1), step.text(2)]}
    _code, report = grade(run_cli, tmp_path, answers)
    assert entries(report, "exp_z")[0]["verdict"] == "correct"
    assert not entries(report, "exp_z")[0]["more_digits"] and report["notes"] == []
    longer = key + (Decimal("0.00005") if key > exact else Decimal("-0.00005"))
    answers["exp_z"][0] = str(longer)  # more digits, but further from float64 than the key
    _code, report = grade(run_cli, tmp_path, answers)
    assert entries(report, "exp_z")[0]["verdict"] == "correct"
    assert not entries(report, "exp_z")[0]["more_digits"] and report["notes"] == []


# Wrong file, clear words.


def test_missing_answers_file_stops(run_cli: Cli, tmp_path: Path) -> None:
    code, out, err = run_cli("check", str(tmp_path / "answers.yaml"))
    assert code == 2 and out == ""
    assert (
        err
        == f"error: {tmp_path}/answers.yaml: no such file (expected the student's answers file)\n"
    )


def test_answers_given_as_the_config(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("z1: [1, 2, 3]\nh1: [1, 2, 3]\n")
    for args in ((str(path), str(path)), (str(path), "--template")):
        code, out, err = run_cli("check", *args)
        assert code == 2 and out == ""
        assert "step ids at the top level (z1, h1): an answers file, not a config" in err
        assert "the config was probably left out (handcalc check CONFIG ANSWERS)" in err


def test_answers_that_fit_no_step_of_the_default(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("dW2: [[0.0822, ~], [~, ~]]\nfoo1: [1]\n")
    code, out, err = run_cli("check", str(path))
    assert code == 2 and out == ""
    assert "no answer fits a step of the default network: the config was probably left out" in err


# The template: the paper's steps, in its order, filled in place.


def fill(template: str, values: Mapping[str, list[str]]) -> str:
    """The template with each ~ replaced, in place, by the next of its step's values."""
    out, step, k = [], None, 0
    for line in template.splitlines():
        head = line.split(":")[0]
        if not line.startswith(("#", " ")) and ":" in line:
            step, k = head, 0
        while step in values and "~" in line:
            line = line.replace("~", values[step][k], 1)
            k += 1
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("config_path", sorted((ROOT / "configs").glob("*.yaml")), ids=str)
def test_template_is_the_paper_and_fills_in_place(
    run_cli: Cli, tmp_path: Path, config_path: Path
) -> None:
    text = run_cli("check", str(config_path), "--template")[1]
    key = make_trace(config.load(config_path))
    paper = build(key, key=False)
    assert list(yaml.safe_load(text)) == [b.step_id for s in paper.sections for b in s.boxes]
    filled = tmp_path / "filled.yaml"
    filled.write_text(fill(text, {s.id: s.texts() for s in key.iterations[0]}))
    code, report = grade(run_cli, tmp_path, yaml.safe_load(filled.read_text()), config_path)
    assert code == 0
    assert report["score"]["earned"] == f"{Decimal(report['score']['possible']):.4f}"
