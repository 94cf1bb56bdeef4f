"""Temperature calibration: dL/dT against finite differences and torch, T carried between
iterations, the network run as at test time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import ROOT, problem
from handcalc.config import load as config
from handcalc.model import calibration as calibrate
from oracle import arrays, torch_logits

Cli = Callable[..., tuple[int, str, str]]
CONFIG = ROOT / "configs" / "calibration.yaml"


def test_gradient_in_t_matches_finite_differences() -> None:
    t = calibrate.make(config.load(CONFIG))
    p = t.info[0].problem
    labels = np.array(p.labels or ()) - 1
    for k in range(len(t.iterations)):
        z = np.array(t.step("z1", k + 1).floats).reshape(p.examples, -1)
        temperature = t.step("T", k + 1).floats[0]

        def loss(tt: float, z: np.ndarray = z) -> float:
            s = z / tt
            logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
            return float(-logp[np.arange(len(labels)), labels].mean())

        eps = 1e-6
        numeric = (loss(temperature + eps) - loss(temperature - eps)) / (2 * eps)
        assert t.step("dT", k + 1).floats[0] == pytest.approx(numeric, rel=1e-6)
        assert t.step("loss", k + 1).floats[0] == pytest.approx(loss(temperature), rel=1e-12)


def test_temperature_is_carried_and_stepped() -> None:
    t = calibrate.make(config.load(CONFIG))
    for k in (1, 2):
        assert t.step("T", k + 1).values == t.step("T_next", k).values
        assert t.step("T", k + 1).floats == t.step("T_next", k).floats
    first = t.iterations[0]
    assert [s.id for s in first][-2:] == ["dT", "T_next"]
    assert t.step("T").texts() == ["1.0000"]
    # T - η dL/dT = 1 - 0.5 * (-0.3464)
    assert t.step("dT").texts() == ["-0.3464"] and t.step("T_next").texts() == ["1.1732"]


def test_calibrate_command(run_cli: Cli, tmp_path: object) -> None:
    code, out, _ = run_cli("calibrate", str(CONFIG))
    assert code == 0
    assert "dL/dT = -(1/T^2) Σ_n Σ_j (dL/dz̃^(1))_nj z^(1)_nj   [dT]" in out
    assert "Iteration 3 of 3" in out
    code, _, err = run_cli("calibrate")
    assert code == 2 and "calibration: missing section" in err


def test_calibration_set_is_checked(run_cli: Cli, tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "c.yaml"
    path.write_text(CONFIG.read_text().replace("- [1.0, 0.0, 0.0]", "- [1.0, 0.0]"))
    code, _, err = run_cli("calibrate", str(path))
    assert code == 2 and "calibration.x[1]: has 2 numbers" in err


def dropout_config(scaling: str) -> dict[str, Any]:
    """A residual network with dropout on both layer inputs, and a calibration set."""
    return {
        "network": {
            "widths": [3, 3, 3],
            "activation": "tanh",
            "residual": [1],
            "temperature": 1.0,
            "dropout": {"keep": [0.8, 0.5], "scaling": scaling},
        },
        "data": {"x": [0.5, -1.0, 1.5], "label": 3},
        "init": {"seed": 4, "scheme": "uniform"},
        "calibration": {
            "x": [[1.0, 0.0, -0.5], [0.0, 1.0, 0.5], [0.5, 0.5, 0.0]],
            "label": [1, 2, 3],
            "learning_rate": 0.5,
            "steps": 3,
        },
        "rounding": {"digits": 4},
    }


@pytest.mark.parametrize("scaling", ["notes", "inverted"])
def test_calibration_runs_the_network_as_at_test_time(scaling: str) -> None:
    t = calibrate.make(problem(dropout_config(scaling)))
    ids = {s.id for s in t.iterations[0]}
    assert not ids & {"d0", "d1", "hd0", "hd1"}  # no masks
    first = t.step("z1").spec.formula
    assert first == ("0.8 W^(1) h^(0) + b^(1)" if scaling == "notes" else "W^(1) h^(0) + b^(1)")
    torch = pytest.importorskip("torch")
    p = t.info[0].problem
    params, x, _ = arrays(p)
    tp = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
    z = torch_logits(torch, p, tp, torch.tensor(x, dtype=torch.float64), None)
    labels = torch.tensor([c - 1 for c in p.labels or ()])
    for k in range(len(t.iterations)):
        temperature = torch.tensor(
            t.step("T", k + 1).floats[0], dtype=torch.float64, requires_grad=True
        )
        total = torch.nn.functional.cross_entropy(z / temperature, labels)
        total.backward()
        np.testing.assert_allclose(t.step("z2", k + 1).floats, z.numpy().ravel(), rtol=1e-13)
        assert t.step("loss", k + 1).floats[0] == pytest.approx(total.item(), rel=1e-12)
        assert t.step("dT", k + 1).floats[0] == pytest.approx(temperature.grad.item(), rel=1e-10)


def test_calibrate_command_with_dropout(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(dropout_config("notes")))
    code, out, err = run_cli("calibrate", str(path))
    assert (code, err) == (0, "")
    assert "z^(2) = 0.5 W^(2) h^(1) + b^(2)   [z2]" in out
