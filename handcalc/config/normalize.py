"""A Problem back as a config: every key present, defaults filled in, the realized parameters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from handcalc.config.problem import Block, Calibration, Document, Dropout, Exam, Problem
from handcalc.rounding import Rounding

OPTIMIZER_CONSTANTS = ("momentum", "beta1", "beta2", "epsilon", "weight_decay")


def normalized(p: Problem) -> dict[str, Any]:
    """The config with every key present, defaults filled in and the realized parameters."""
    return {
        "title": p.title,
        "network": _network(p),
        "data": _data(p),
        "parameters": {k: _rows(v, p.rounding) for k, v in p.parameters.items()},
        "init": p.init.normalized(),
        "training": _training(p),
        "rounding": {
            "digits": p.rounding.digits,
            "mode": p.rounding.mode,
            "rule": p.rounding.rule,
            "per": p.rounding.per,
        },
        "document": _document(p.document),
        "calibration": None if p.calibration is None else _calibration(p.calibration, p.rounding),
        "exam": _exam(p.exam),
    }


def _rows(b: Block, rounding: Rounding) -> Any:
    """A matrix as a list of rows of written numbers; a vector as one list."""
    width = b.shape[-1]
    nested = [rounding.texts(b.data[i : i + width]) for i in range(0, len(b.data), width)]
    return nested if len(b.shape) == 2 else nested[0]


def _network(p: Problem) -> dict[str, Any]:
    return {
        "widths": list(p.widths),
        "activation": list(p.activations),
        "head": p.head,
        "loss": p.loss,
        "bias": p.bias,
        "residual": list(p.residual),
        "temperature": None if p.temperature is None else p.rounding.text(p.temperature),
        "dropout": None if p.dropout is None else _dropout(p.dropout),
    }


def _dropout(d: Dropout) -> dict[str, Any]:
    return {
        "keep": [str(k) for k in d.keep],
        "masks": {k: _bits(m) for k, m in d.masks.items()},
        "mc_masks": {k: _bits(m) for k, m in d.mc_masks.items()},
        "scaling": d.scaling,
    }


def _bits(m: Block) -> list[list[int]]:
    width = m.shape[1]
    return [[int(v) for v in m.data[i * width : (i + 1) * width]] for i in range(m.shape[0])]


def _data(p: Problem) -> dict[str, Any]:
    def example(b: Block) -> Any:
        written = _rows(b, p.rounding)
        return written if p.batched else written[0]

    data: dict[str, Any] = {"x": example(p.x)}
    if p.labels is None:
        data["y"] = example(p.y)
    else:
        data["label"] = list(p.labels) if p.batched else p.labels[0]
    data["reduction"] = p.reduction
    return data


def _training(p: Problem) -> dict[str, Any]:
    return {
        "learning_rate": str(p.learning_rate),
        "steps": p.steps,
        "batch_size": p.batch_size,
        "optimizer": p.optimizer.name,
        **{k: str(getattr(p.optimizer, k)) for k in OPTIMIZER_CONSTANTS},
    }


def _document(doc: Document) -> dict[str, Any]:
    return {
        "course": doc.course,
        "date": doc.date,
        "instructions": doc.instructions,
        "points": {k: str(v) for k, v in doc.points.items()},
        "expand": list(doc.expand),
    }


def _calibration(c: Calibration, rounding: Rounding) -> dict[str, Any]:
    labelled = {"y": _rows(c.y, rounding)} if c.labels is None else {"label": list(c.labels)}
    return {
        "x": _rows(c.x, rounding),
        **labelled,
        "temperature": rounding.text(c.temperature),
        "learning_rate": str(c.learning_rate),
        "steps": c.steps,
    }


def _exam(e: Exam) -> dict[str, Any]:
    return {
        "input": e.input,
        "label": e.label,
        "max_tries": e.max_tries,
        "require": {k: str(v) if isinstance(v, Decimal) else v for k, v in e.required().items()},
    }
