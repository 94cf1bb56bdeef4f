"""Temperature calibration: dL/dT against finite differences, T carried between iterations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from conftest import ROOT
from handcalc.config import load as config
from handcalc.model import calibration as calibrate

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
