"""Dropout (notes section 11): worked by hand, against finite differences and against torch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import handcalc
from conftest import problem
from handcalc import trace
from handcalc.model.runner import make_trace
from oracle import arrays, finite_differences, loss, torch_logits

Cli = Callable[..., tuple[int, str, str]]


def tiny(scaling: str) -> handcalc.Trace:
    return handcalc.run(
        {
            "network": {
                "widths": [2, 1],
                "head": "identity",
                "loss": "half_sse",
                "dropout": {"keep": [0.5], "masks": {"d0": [1, 0]}, "scaling": scaling},
            },
            "data": {"x": [2.0, 3.0], "y": [0.0]},
            "parameters": {"W1": [[1.0, 1.0]], "b1": [0.0]},
            "rounding": {"digits": 4},
        }
    )


def test_notes_scaling_by_hand() -> None:
    t = tiny("notes")
    assert t.step("d0").texts() == ["1.0000", "0.0000"]
    assert t.step("hd0").texts() == ["2.0000", "0.0000"]  # h ⊙ d
    assert t.step("z1").texts() == ["2.0000"]
    assert t.step("dW1").texts() == ["4.0000", "0.0000"]  # dz (h ⊙ d)^T: the dropped input
    assert t.step("W1_next").texts() == ["0.6000", "1.0000"]
    # at test time no mask, the weights times p: 0.5 (0.6 * 2 + 1 * 3) + (-0.2)
    assert t.step("tz1").texts() == ["1.9000"]


def test_inverted_scaling_by_hand() -> None:
    t = tiny("inverted")
    assert t.step("hd0").texts() == ["4.0000", "0.0000"]  # h ⊙ d / p
    assert t.step("z1").texts() == ["4.0000"]
    assert t.step("dW1").texts() == ["16.0000", "0.0000"]  # dz = z = 4, times h̃ = (4, 0)
    # W - 0.1 dW = (-0.6, 1), b = -0.4; at test time nothing changes: -0.6 * 2 + 1 * 3 - 0.4
    assert t.step("tz1").texts() == ["1.4000"]


def config(scaling: str, seed: int, batch: bool) -> dict[str, Any]:
    x: Any = [[0.5, -1.0, 0.3], [0.2, 0.4, -0.6]] if batch else [0.5, -1.0, 0.3]
    return {
        "network": {
            "widths": [3, 4, 3, 2],
            "activation": ["tanh", "sigmoid"],
            "dropout": {"keep": [0.8, 0.5, 0.5], "scaling": scaling},
        },
        "data": {"x": x, "label": [1, 2] if batch else 2},
        "init": {"seed": seed, "scheme": "uniform"},
        "rounding": {"digits": 4},
    }


CASES = [(s, seed, batch) for s in ("notes", "inverted") for seed in (1, 2) for batch in (0, 1)]


def _masks(t: trace.Trace) -> dict[str, np.ndarray]:
    return {
        s.id: np.array(s.floats).reshape(s.spec.shape)
        for s in t.iterations[0]
        if s.id.startswith("d") and s.id[1:].isdigit()
    }


@pytest.mark.parametrize(("scaling", "seed", "batch"), CASES)
def test_gradients_match_finite_differences(scaling: str, seed: int, batch: int) -> None:
    p = problem(config(scaling, seed, bool(batch)))
    t = make_trace(p)
    masks = _masks(t)
    assert set(masks) == {"d0", "d1", "d2"}
    params, x, y = arrays(p)
    assert t.step("loss").floats[0] == pytest.approx(loss(p, params, x, y, masks), rel=1e-12)
    for name, expected in finite_differences(p, masks=masks).items():
        got = np.array(t.step(f"d{name}").floats).reshape(expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize(("scaling", "seed", "batch"), CASES)
def test_dropout_matches_torch(scaling: str, seed: int, batch: int) -> None:
    torch = pytest.importorskip("torch")
    p = problem(config(scaling, seed, bool(batch)))
    t = make_trace(p)
    masks = {k: torch.tensor(v, dtype=torch.float64) for k, v in _masks(t).items()}
    params, x, _ = arrays(p)
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(x, dtype=torch.float64)
    for layer in range(1, 4):
        keep = float(p.dropout.keep[layer - 1]) if p.dropout else 1.0
        h = h * masks[f"d{layer - 1}"]  # the trace's mask, as F.dropout would draw one
        if scaling == "inverted":
            h = h / keep
        h = torch.nn.functional.linear(h, tp[f"W{layer}"], tp[f"b{layer}"])
        if layer < 3:
            h = (torch.tanh if layer == 1 else torch.sigmoid)(h)
    labels = torch.tensor([c - 1 for c in p.labels or ()])
    total = torch.nn.functional.cross_entropy(h, labels)
    total.backward()
    assert t.step("loss").floats[0] == pytest.approx(total.item(), rel=1e-12)
    for name, tensor in tp.items():
        np.testing.assert_allclose(
            t.step(f"d{name}").floats, tensor.grad.numpy().ravel(), rtol=1e-10, atol=1e-13
        )


def torch_step(torch: Any, t: trace.Trace, rate: float = 0.1) -> dict[str, Any]:
    """One training step in torch float64 from the trace's masks, then the test-time pass:
    the gradients, the loss and the test-time ŷ by name."""
    p = t.problem
    params, x, _ = arrays(p)
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    masks = {k: torch.tensor(v, dtype=torch.float64) for k, v in _masks(t).items()}
    xt = torch.tensor(x, dtype=torch.float64)
    labels = torch.tensor([c - 1 for c in p.labels or ()])
    reduction = "mean" if p.reduction == "mean" else "sum"
    scale = 1.0 if p.temperature is None else float(p.temperature)
    total = torch.nn.functional.cross_entropy(
        torch_logits(torch, p, tp, xt, masks) / scale, labels, reduction=reduction
    )
    total.backward()
    out = {f"d{k}": v.grad.numpy().ravel().copy() for k, v in tp.items()}
    with torch.no_grad():
        updated = {k: v - rate * v.grad for k, v in tp.items()}
        z = torch_logits(torch, p, updated, xt, None) / scale
        out["tyhat"] = torch.softmax(z, 1).numpy().ravel()
    return {**out, "loss": total.item()}


def test_test_pass_applies_the_temperature() -> None:
    """softmax(z / T) at test time too: 0.73456, 0.26544 in torch, not softmax(z)."""
    t = handcalc.run(
        {
            "network": {
                "widths": [1, 2],
                "temperature": 2.0,
                "dropout": {"keep": [0.5], "masks": {"d0": [1]}, "scaling": "inverted"},
            },
            "data": {"x": [1.0], "label": 1},
            "parameters": {"W1": [[1.0], [-1.0]], "b1": [0, 0]},
        }
    )
    assert t.step("tyhat").spec.formula == "softmax(z^(1) / T)"
    assert t.step("tyhat").texts() == ["0.7346", "0.2654"]
    torch = pytest.importorskip("torch")
    expected = torch_step(torch, t)
    np.testing.assert_allclose(t.step("tyhat").floats, [0.73456, 0.26544], atol=5e-6)
    np.testing.assert_allclose(t.step("tyhat").floats, expected["tyhat"], rtol=1e-12)


def residual_tiny(scaling: str) -> handcalc.Trace:
    """1-2-2-1 with identities, h^(2) = z^(2) + h^(1), h^(1) dropped by the mask (1, 0)."""
    return handcalc.run(
        {
            "network": {
                "widths": [1, 2, 2, 1],
                "activation": "identity",
                "head": "identity",
                "loss": "half_sse",
                "bias": False,
                "residual": [2],
                "dropout": {"keep": [1, 0.5, 1], "masks": {"d1": [1, 0]}, "scaling": scaling},
            },
            "data": {"x": [1.0], "y": [0.0]},
            "parameters": {"W1": [[1], [2]], "W2": [[1, 1], [1, -1]], "W3": [[1, 1]]},
            "rounding": {"digits": 4},
        }
    )


def test_dropout_into_a_residual_layer_by_hand() -> None:
    t = residual_tiny("notes")
    # h = (1, 2), h̃ = (1, 0); z^(2) = W^(2) h̃ = (1, 1); h^(2) = z^(2) + h^(1) = (2, 3)
    assert t.step("hd1").texts() == ["1.0000", "0.0000"]
    assert t.step("z2").texts() == ["1.0000", "1.0000"]
    assert t.step("h2").texts() == ["2.0000", "3.0000"]
    # z^(3) = 5 = dL/dz^(3); dL/dh^(2) = (5, 5) = dL/dz^(2); dL/dh̃^(1) = (W^(2))^T (5, 5)
    assert t.step("dhd1").texts() == ["10.0000", "0.0000"]
    dh1 = t.step("dh1")
    assert dh1.spec.formula == "diag(d^(1)) dL/dh̃^(1) + dL/dh^(2)"
    assert dh1.spec.inputs == ("d1", "dhd1", "dh2")
    assert dh1.texts() == ["15.0000", "5.0000"]  # (1 · 10 + 5, 0 · 0 + 5)
    assert t.step("dW2").texts() == ["5.0000", "0.0000", "5.0000", "0.0000"]  # dz (h̃)^T
    assert t.step("dW1").texts() == ["15.0000", "5.0000"]
    # test time, W - 0.1 dW: W^(1) = (-0.5, 1.5), W^(2) = ((0.5, 1), (0.5, -1)), W^(3) = (0, -0.5)
    assert t.step("tz2").spec.formula == "0.5 W^(2) h^(1)"
    assert t.step("tz2").texts() == ["0.6250", "-0.8750"]  # 0.5 (1.25, -1.75)
    assert t.step("th2").spec.formula == "identity(z^(2)) + h^(1)"
    assert t.step("th2").texts() == ["0.1250", "0.6250"]  # z^(2) + (-0.5, 1.5)
    assert t.step("tyhat").texts() == ["-0.3125"]


def test_inverted_dropout_into_a_residual_layer_by_hand() -> None:
    t = residual_tiny("inverted")
    # h̃ = (1, 0) / 0.5 = (2, 0); z^(2) = (2, 2); h^(2) = (3, 4); z^(3) = 7
    assert t.step("h2").texts() == ["3.0000", "4.0000"]
    assert t.step("dhd1").texts() == ["14.0000", "0.0000"]
    assert t.step("dh1").spec.formula == "diag(d^(1)) dL/dh̃^(1) / 0.5 + dL/dh^(2)"
    assert t.step("dh1").texts() == ["35.0000", "7.0000"]  # (1 · 14 / 0.5 + 7, 0 + 7)


def residual_config(scaling: str, seed: int, batch: bool, temperature: bool) -> dict[str, Any]:
    data = config(scaling, seed, batch)
    data["network"] = {
        "widths": [3, 3, 3, 2],
        "activation": ["tanh", "sigmoid"],
        "residual": [1, 2] if seed % 2 else [2],
        "temperature": 1.5 if temperature else None,
        "dropout": {"keep": [0.8, 0.5, 0.5], "scaling": scaling},
    }
    return data


RESIDUAL = [(*case, temperature) for case in CASES for temperature in (False, True)]


@pytest.mark.parametrize(("scaling", "seed", "batch", "temperature"), RESIDUAL)
def test_dropout_with_residual_layers(
    scaling: str, seed: int, batch: int, temperature: bool
) -> None:
    """Gradients against finite differences and, with the test-time pass, against torch."""
    p = problem(residual_config(scaling, seed, bool(batch), temperature))
    t = make_trace(p)
    masks = _masks(t)
    params, x, y = arrays(p)
    assert t.step("loss").floats[0] == pytest.approx(loss(p, params, x, y, masks), rel=1e-12)
    for name, expected in finite_differences(p, masks=masks).items():
        got = np.array(t.step(f"d{name}").floats).reshape(expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=name)
    torch = pytest.importorskip("torch")
    expected = torch_step(torch, t)
    assert t.step("loss").floats[0] == pytest.approx(expected["loss"], rel=1e-12)
    for name, value in expected.items():
        if name != "loss":
            np.testing.assert_allclose(t.step(name).floats, value, rtol=1e-10, atol=1e-13)


def test_jacobians_read_the_masked_input() -> None:
    """dz/dW holds h̃, so its contraction gives dL/dW again under dropout."""
    from conftest import ROOT

    t = handcalc.run(ROOT / "configs" / "dropout.yaml", jacobians=True)
    assert t.step("J_z2_W2").spec.formula == "(dz_j/dW)_m,k = δ_jm h̃^(1)_k"
    assert t.step("J_z2_h1").spec.symbol == "dz^(2)/dh̃^(1)"
    assert t.step("dW2_contracted").values == t.step("dW2").values
    assert t.step("dW2").texts()[1] == "0.0000"  # h^(1)_2 is dropped


def test_masks_are_drawn_from_the_seed() -> None:
    a = make_trace(problem(config("notes", 1, False)))
    b = make_trace(problem(config("notes", 1, False)))
    assert a.step("d1").values == b.step("d1").values
    assert (
        len(
            {
                tuple(make_trace(problem(config("notes", s, False))).step("d1").values)
                for s in range(1, 8)
            }
        )
        > 1
    )


@pytest.mark.parametrize(
    ("dropout", "message"),
    [
        ({"keep": [0.5]}, "network.dropout.keep: has 1 number (expected 2)"),
        ({"keep": [0, 1]}, "network.dropout.keep[1]: 0 is not in (0, 1]"),
        ({"keep": [1, 0.5], "masks": {"d1": [1, 2, 0]}}, "has an entry that is not 0 or 1"),
        ({"keep": [1, 0.5], "masks": {"d1": [1, 0]}}, "network.dropout.masks.d1: has 2 numbers"),
        ({"keep": [1, 0.5], "masks": {"d5": [1, 0, 1]}}, "network.dropout.masks.d5: unknown mask"),
        ({"keep": [1, 0.5], "scaling": "pytorch"}, "network.dropout.scaling: unknown value"),
    ],
)
def test_dropout_config_errors(
    run_cli: Cli, tmp_path: Path, dropout: dict[str, Any], message: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "network": {"widths": [2, 3, 2], "dropout": dropout},
                "data": {"x": [1, 2], "label": 1},
            }
        )
    )
    code, _, err = run_cli("run", str(path))
    assert code == 2 and message in err, err


def test_mc_dropout_mean_and_variance(run_cli: Cli) -> None:
    from conftest import ROOT
    from handcalc.config import load as cfg
    from handcalc.model import mc_dropout as mcdropout

    p = cfg.load(ROOT / "configs" / "dropout.yaml")
    t = mcdropout.make(p, 6)
    outputs = np.array([t.step(f"yhat_{k}").floats for k in range(1, 7)])
    np.testing.assert_allclose(t.step("mean").floats, outputs.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(t.step("var").floats, outputs.var(axis=0), rtol=1e-10, atol=1e-15)
    masks = {tuple(t.step(f"d1_{k}").values) for k in range(1, 7)}
    assert len(masks) > 1  # each pass draws its own mask
    again = mcdropout.make(p, 6)
    assert again.step("mean").values == t.step("mean").values  # the seed fixes the passes
    code, out, _ = run_cli("mc-dropout", str(ROOT / "configs" / "dropout.yaml"), "--passes", "4")
    assert code == 0 and "mean ŷ = (1/T) Σ_k ŷ_k   [mean]" in out
    assert "[yhat_4]" in out
    code, _, err = run_cli("mc-dropout")
    assert code == 2 and "no layer input is dropped" in err
    code, _, err = run_cli("mc-dropout", str(ROOT / "configs" / "dropout.yaml"), "--passes", "1")
    assert code == 2 and "--passes: 1 is out of range" in err


def test_mc_dropout_given_masks(run_cli: Cli) -> None:
    from conftest import ROOT
    from handcalc.config import load as cfg
    from handcalc.model import mc_dropout as mcdropout

    path = ROOT / "configs" / "mc-dropout.yaml"
    t = mcdropout.make(cfg.load(path), 4)
    assert t.step("d1_2").texts() == ["0.0000", "1.0000", "1.0000", "0.0000"]
    assert t.step("d1_2").spec.formula == "given for pass 2"
    code, _, err = run_cli("mc-dropout", str(path), "--passes", "3")
    assert (code, err) == (
        2,
        "error: --passes: 3, but network.dropout.mc_masks.d1 gives 4 masks (one per pass; "
        "leave --passes out to run one pass per given mask)\n",
    )


def test_given_masks_set_the_passes(run_cli: Cli, tmp_path: Path) -> None:
    from conftest import ROOT

    path = ROOT / "configs" / "mc-dropout.yaml"
    code, out, _ = run_cli("mc-dropout", str(path))
    assert code == 0 and "[yhat_4]" in out and "[yhat_5]" not in out
    assert run_cli("mc-dropout", str(path), "--passes", "4")[1] == out
    drawn = run_cli("mc-dropout", str(ROOT / "configs" / "dropout.yaml"))[1]
    assert "[yhat_10]" in drawn and "[yhat_11]" not in drawn  # no masks given: 10 passes
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(
        path.read_text()
        .replace("keep: [1, 0.5]", "keep: [0.5, 0.5]")
        .replace("mc_masks:", "mc_masks:\n      d0: [[1, 0, 1], [0, 1, 1]]")
    )
    code, _, err = run_cli("mc-dropout", str(mixed))
    assert code == 2
    assert err == (
        f"error: {mixed}: network.dropout.mc_masks.d1: gives 4 masks, but d0 gives 2 "
        "(one per pass: as many for every layer input)\n"
    )
    one = tmp_path / "one.yaml"
    one.write_text(
        path.read_text().replace(
            "d1: [[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1], [1, 0, 0, 1]]", "d1: [[1, 0, 1, 1]]"
        )
    )
    code, _, err = run_cli("mc-dropout", str(one))
    assert code == 2 and "mc_masks.d1: gives 1 mask (2 to 200, one per pass)" in err


@pytest.mark.parametrize(
    ("network", "training", "message"),
    [
        ({"widths": [2, 3, 2], "residual": [1]}, {}, "network.residual[1]: layer 1 maps d_0 = 2"),
        ({"widths": [2, 2], "residual": [1]}, {}, "the network has no hidden layer"),
        ({"widths": [2, 2], "temperature": 0}, {}, "network.temperature: 0 is not positive"),
        (
            {"widths": [2, 2]},
            {"optimizer": "rmsprop"},
            "training.optimizer: unknown value 'rmsprop'",
        ),
        ({"widths": [2, 2]}, {"batch_size": 0}, "training.batch_size: 0 is out of range"),
        ({"widths": [2, 2]}, {"momentum": -1}, "training.momentum: -1 is not"),
        ({"widths": [2, 2]}, {"epsilon": 0}, "training.epsilon: 0 is not positive"),
        ({"widths": [2, 2]}, {"weight_decay": "x"}, "training.weight_decay: expected a number"),
    ],
)
def test_extension_config_errors(
    run_cli: Cli, tmp_path: Path, network: dict[str, Any], training: dict[str, Any], message: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump(
            {"network": network, "data": {"x": [1, 2], "label": 1}, "training": training}
        )
    )
    code, _, err = run_cli("run", str(path))
    assert code == 2 and message in err, err
