"""One `handcalc check`: the files read, a file given in the wrong place caught, the report made."""

from __future__ import annotations

from pathlib import Path

from handcalc.config import load as cfg
from handcalc.config.source import read_file
from handcalc.errors import ConfigError, HandcalcError
from handcalc.grading import answers as ans
from handcalc.grading.asked import asked, unwritten
from handcalc.grading.check import Options, grade
from handcalc.grading.exam_folder import variant_of
from handcalc.grading.template import template
from handcalc.grading.verdicts import Report
from handcalc.model import ids
from handcalc.model.runner import make_trace
from handcalc.trace import Trace

LEFT_OUT = "the config was probably left out (handcalc check CONFIG ANSWERS)"


def blank(config: Path | None) -> str:
    """The answers template of a config, naming its exam variant when a manifest lists it."""
    trace = _trace(config)
    return template(trace, variant_of(config) if config is not None else None)


def check(config: Path | None, answers: Path, options: Options) -> Report:
    """The answers file graded against the config's key (the embedded default without one)."""
    trace = _trace(config)
    shapes = {s.id: s.shape for s in asked(trace)}
    read = ans.read(answers, shapes, unwritten(trace))
    if config is None and not read.given and (read.rejected or read.unknown):
        first = read.problems[0]
        raise ConfigError(f"{first}; no answer fits a step of the default network: {LEFT_OUT}")
    return grade(trace, read, options)


def _trace(config: Path | None) -> Trace:
    if config is not None:
        refuse_answers(config)
    return make_trace(cfg.load(config))


def refuse_answers(path: Path) -> None:
    """Stop when a file given as the config holds step ids at its top level: answers."""
    try:
        root = read_file(path)
    except HandcalcError:
        return  # the config loader says what is wrong with it
    if root is None or not isinstance(root.value, dict):
        return
    keys = list(root.value)
    steps = [k for k in keys if k == ans.VARIANT or ids.parse(k) is not None]
    if steps and len(steps) * 2 >= len(keys):
        shown = ", ".join(steps[:3])
        raise ConfigError(
            f"{path}: step ids at the top level ({shown}): an answers file, not a config; "
            + LEFT_OUT
        )
