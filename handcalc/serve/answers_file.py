"""The page's entries as the YAML answers file `handcalc check` and `handcalc grade` read, and back.

Each entry is written as typed: a plain number bare, anything else as a double-quoted YAML string
(JSON's grammar, with every unsafe character escaped), so the file reads back to the same text and
`handcalc check` gives it the verdict the page gave.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from handcalc.config.limits import MAX_ANSWER_CHARS
from handcalc.config.source import Node, read_text
from handcalc.errors import HandcalcError
from handcalc.grading import answers as ans
from handcalc.grading.asked import unwritten
from handcalc.serve.sheet import Sheet
from handcalc.text import clean, json_safe
from handcalc.trace import Step

PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
NAME = "answers.yaml"  # what upload problems are reported against


def write(sheet: Sheet, typed: dict[str, list[str]]) -> str:
    """The answers file: every step the paper asks, in its order, `~` where nothing is typed."""
    p = sheet.trace.problem
    out = [
        f"# Answers for: {clean(p.title or 'handcalc')} (check with: handcalc check CONFIG "
        "THIS_FILE)",
        "# Written by handcalc serve; it can be uploaded there again to go on.",
    ]
    if sheet.variant is not None:
        out += [
            "",
            "# the exam variant of your paper: leave it as it is",
            f"variant: {sheet.variant}",
        ]
    phase = None
    for step in sheet.steps.values():
        if step.spec.phase != phase:
            phase = step.spec.phase
            out += ["", f"# {phase}"]
        size = " x ".join(map(str, step.shape)) or "one number"
        out.append(f"# {step.spec.symbol} = {step.spec.formula}   ({size})")
        texts = typed.get(step.id) or [""] * len(step.values)
        out.append(f"{step.id}:{_nested(step, [_scalar(t) for t in texts])}")
    return "\n".join(out) + "\n"


def _scalar(text: str) -> str:
    """One entry as YAML: a plain number bare, ~ when blank, else a quoted string.

    >>> [_scalar(t) for t in ("-0.5", " ", "1/3", "0,25", "a: b")]
    ['-0.5', '~', '"1/3"', '"0,25"', '"a: b"']
    """
    text = text.strip()
    if not text or text == "~":
        return "~"
    if PLAIN.fullmatch(text):
        return text
    return json_safe(json.dumps(text, ensure_ascii=False))


def _nested(step: Step, cells: list[str]) -> str:
    """The entries in the step's shape: a list on the key's line, a matrix a row per line."""
    shape = step.shape
    if not shape:
        return f" {cells[0]}"
    if len(shape) == 1:
        return f" [{', '.join(cells)}]"
    inner = 1
    for n in shape[1:]:
        inner *= n
    return "".join(
        f"\n  - {_flow(shape[1:], cells[r * inner : (r + 1) * inner])}" for r in range(shape[0])
    )


def _flow(shape: tuple[int, ...], cells: list[str]) -> str:
    if len(shape) == 1:
        return f"[{', '.join(cells)}]"
    size = len(cells) // shape[0]
    return (
        "["
        + ", ".join(_flow(shape[1:], cells[k * size : (k + 1) * size]) for k in range(shape[0]))
        + "]"
    )


class UploadError(HandcalcError):
    """An uploaded file that cannot be read as this paper's answers."""


def read(sheet: Sheet, text: str) -> tuple[dict[str, list[str]], list[str]]:
    """An uploaded answers file: each step's entries as written, and what could not be read."""
    root = read_text(text, NAME)
    shapes = {s.id: s.shape for s in sheet.steps.values()}
    answers = ans.from_node(Path(NAME), root, shapes, unwritten(sheet.trace))
    if root is not None and isinstance(root.value, dict):
        _same_variant(sheet, ans.variant_of(root.value))
    typed = {
        step_id: _texts(root, step_id, given.transposed) for step_id, given in answers.given.items()
    }
    return typed, [clean(p) for p in answers.problems]


def _same_variant(sheet: Sheet, named: str | None) -> None:
    if sheet.variant is None or named is None:
        return
    if (named.lstrip("0") or "0") != (sheet.variant.lstrip("0") or "0"):
        raise UploadError(
            f"{NAME}: variant: {clean(named)!r} is not this page's variant {sheet.variant}"
        )


def _texts(root: Node | None, step_id: str, transposed: bool) -> list[str]:
    """A step's entries as written in the file, in the step's row-major order."""
    assert root is not None and isinstance(root.value, dict)
    leaves = _leaves(root.value[step_id])
    texts = [_shown(leaf) for leaf in leaves]
    if transposed:
        node = root.value[step_id]
        assert isinstance(node.value, list)
        rows, cols = len(node.value), len(texts) // len(node.value)
        texts = [texts[i * cols + j] for j in range(cols) for i in range(rows)]
    return texts


def _shown(leaf: Node) -> str:
    """An entry as the page shows it; one longer than a request may carry is left empty (the
    problems say why), so that the page can still grade the rest."""
    text = "" if leaf.kind == "null" else clean(str(leaf.value))
    return text if len(text) <= MAX_ANSWER_CHARS else ""


def _leaves(node: Node) -> list[Node]:
    if node.is_seq and isinstance(node.value, list):
        return [leaf for item in node.value for leaf in _leaves(item)]
    return [node]
