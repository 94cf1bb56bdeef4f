"""rounding.write and rounding.overrides name steps by id: every command that reads a config
refuses an id no step has, as `run` does, and accepts the ids of its own steps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT

Cli = Callable[..., tuple[int, str, str]]


def with_rounding(tmp_path: Path, base: str, rounding: dict[str, Any]) -> Path:
    """configs/BASE.yaml with `rounding` merged into its rounding section."""
    data = yaml.safe_load((ROOT / "configs" / f"{base}.yaml").read_text())
    data["rounding"] = {**data.get("rounding", {}), **rounding}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("command", "base", "key", "hint"),
    [
        ("mc-dropout", "mc-dropout", "write", "dW2"),
        ("mc-dropout", "mc-dropout", "overrides", "dW2"),
        ("calibrate", "calibration", "write", "dW1"),
        ("calibrate", "calibration", "overrides", "dW1"),
        ("export-torch", "default", "write", "dW3"),
    ],
)
def test_an_unknown_id_is_refused_by_every_command(
    run_cli: Cli, tmp_path: Path, command: str, base: str, key: str, hint: str
) -> None:
    value: Any = False if key == "write" else "exact"
    path = with_rounding(tmp_path, base, {key: {"dW7": value}})
    line = path.read_text().splitlines().index(f"  {key}:") + 2  # the dW7 line, 1-based
    code, out, err = run_cli(command, str(path))
    assert (code, out) == (2, "")
    assert err == (
        f"error: {path}:{line}: rounding.{key}.dW7: no step of this network has that id "
        f"(did you mean {hint}? a step id of the run, or a step kind)\n"
    )


@pytest.mark.parametrize(
    ("command", "base", "rounding"),
    [
        ("mc-dropout", "mc-dropout", {"write": {"z1_2": False}, "overrides": {"yhat_1": "exact"}}),
        ("mc-dropout", "mc-dropout", {"write": {"dW2": False}}),
        ("calibrate", "calibration", {"overrides": {"dT": "exact"}, "write": {"T_next": False}}),
        ("calibrate", "calibration", {"write": {"dW1": False}}),
    ],
)
def test_the_ids_of_a_command_and_of_the_cycle_are_accepted(
    run_cli: Cli, tmp_path: Path, command: str, base: str, rounding: dict[str, Any]
) -> None:
    code, out, err = run_cli(command, str(with_rounding(tmp_path, base, rounding)))
    assert (code, err) == (0, "")
    assert out


SMALL = "network: {widths: [3, 2, 2]}\ndata: {x: [0.5, -1, 0.3], y: [0, 1]}\nrounding:\n"


@pytest.mark.parametrize("command", ["run", "check", "export-torch"])
def test_a_layer_no_step_of_the_kind_has_is_refused(
    run_cli: Cli, tmp_path: Path, command: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(SMALL + "  write:\n    dW:\n      1: false\n      3: false\n")
    more = ["--template"] if command == "check" else []
    code, out, err = run_cli(command, str(path), *more)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {path}:7: rounding.write.dW.3: no step of this network has that layer "
        "(dW is on layers 1, 2)\n"
    )


def test_a_layer_of_a_kind_the_network_lacks_is_refused(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(SMALL.replace("[3, 2, 2]", "[3, 2]") + "  write: {dhdz: {1: false}}\n")
    code, _, err = run_cli("run", str(path))
    assert code == 2
    assert err.endswith(
        "rounding.write.dhdz.1: no step of this network has that layer (no dhdz step)\n"
    )


def test_a_layer_the_network_has_is_left_unwritten(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(SMALL + "  write: {dW: {2: false}}\n")
    code, out, err = run_cli("check", str(path), "--template")
    assert (code, err) == (0, "")
    assert "\ndW1:" in out and "dW2" not in out
