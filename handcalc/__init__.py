"""handcalc: one training step of a small neural network, computed the way it is done by hand.

>>> import handcalc
>>> trace = handcalc.run()                      # the embedded default; or a path, or a dict
>>> trace.step("loss").value
Decimal('1.5376')
>>> trace.step("dW3").value[0][2]               # row 1, column 3 of dL/dW^(3)
Decimal('0.0000')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from handcalc.errors import ComputationError, ConfigError, HandcalcError, OutputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from handcalc.trace import Step, Trace

from handcalc.version import __version__ as __version__

__all__ = [
    "ComputationError",
    "ConfigError",
    "HandcalcError",
    "OutputError",
    "Step",
    "Trace",
    "run",
]

_OVERRIDES = {
    "digits": "rounding.digits",
    "mode": "rounding.mode",
    "rule": "rounding.rule",
    "per": "rounding.per",
    "seed": "init.seed",
    "steps": "training.steps",
    "learning_rate": "training.learning_rate",
}


def run(
    config: str | Path | Mapping[str, Any] | None = None,
    *,
    float32: bool = False,
    jacobians: bool = False,
    **overrides: Any,
) -> Trace:
    """Run the cycle on a config file, a config as a dict, or the embedded default.

    Keyword overrides are those of `handcalc run`: digits, mode, rule, per, seed, steps,
    learning_rate; float32 and jacobians add the float32 column and the local Jacobians.
    Errors are the CLI's, raised as HandcalcError (ConfigError, ComputationError).
    """
    from handcalc.config import load as cfg
    from handcalc.config import source
    from handcalc.model.runner import make_trace

    unknown = sorted(set(overrides) - set(_OVERRIDES))
    if unknown:
        raise ConfigError(
            f"run(): unknown override {unknown[0]!r} (one of {', '.join(_OVERRIDES)})"
        )
    flags = {_OVERRIDES[k]: (source.plain_text(v), k) for k, v in overrides.items()}
    if config is None or isinstance(config, (str, Path)):
        problem = cfg.load(Path(config) if config is not None else None, flags)
    else:
        problem = cfg.load_node(source.from_data(config, "config"), "config", flags)
    return make_trace(problem, float32=float32, jacobians=jacobians)
