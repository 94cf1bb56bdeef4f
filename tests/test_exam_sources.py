"""The Typst sources of an exam's variants have one shape.

Typst numbers the pieces of a source in order and keys what it lays out by them, so it reuses
the layout of one variant's paper for the next only where both sources have the same pieces
before that point. Values therefore go into the source as single pieces (a string, or plain
digits), whatever their sign, length or colour, and the variants' sources differ only in them.
This is what makes typesetting an exam cheap (bench/bench.py --exam measures it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handcalc.config.load import load
from handcalc.documents import paper
from handcalc.documents.variants import drawn
from handcalc.render import typst

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [
    "default.yaml",
    "adam-minibatches.yaml",
    "batch.yaml",
    "dropout-residual.yaml",
    "momentum.yaml",
    "regression.yaml",
    "published-relu-softmax-doubles.yaml",
]
# a string literal, or a number with its unit: one piece of source each
PIECE = re.compile(r'"(?:[^"\\]|\\.)*"|\d+(?:\.\d+)?')


def shape(source: str) -> list[str]:
    return PIECE.sub("_", source).split("\n")


def first_difference(a: list[str], b: list[str]) -> str:
    for line_a, line_b in zip(a, b, strict=False):
        if line_a != line_b:
            line_a, line_b = line_a + "\0", line_b + "\1"  # a difference even where one ends
            i = next(i for i, (x, y) in enumerate(zip(line_a, line_b, strict=False)) if x != y)
            return (
                f"{line_a[max(0, i - 80) : i + 40]!r} against {line_b[max(0, i - 80) : i + 40]!r}"
            )
    return f"{len(a)} lines against {len(b)}"


@pytest.mark.parametrize("name", CONFIGS)
def test_the_variants_of_an_exam_have_sources_of_one_shape(name: str) -> None:
    variants = list(drawn(load(ROOT / "configs" / name), 4))
    for key in (False, True):
        sources = [
            typst.document(paper.build(v.trace, key=key, variant=v.number)) for v in variants
        ]
        assert len(set(sources)) == len(sources)  # the numbers differ
        first = shape(sources[0])
        for v, source in zip(variants[1:], sources[1:], strict=True):
            assert shape(source) == first, (
                f"variant {v.number}: {first_difference(first, shape(source))}"
            )


def test_a_value_is_one_piece_whatever_its_sign_or_length() -> None:
    from handcalc.render.typst_text import formula, rich, wrapping

    assert shape(rich("partial sum -0.0500")) == shape(rich("partial sum 0.0500"))
    assert shape(rich("W_1,2 h_2 = (0.7)(-1) = -0.7")) == shape(rich("W_1,2 h_2 = (0.7)(1) = 0.7"))
    assert shape(rich("hand − float64 +2.22e-16 (0.00 units)")) == shape(
        rich("hand − float64 0 (0 units)")
    )
    assert shape(wrapping("-0.12345678912345678912")) == shape(wrapping("0.5"))
    assert rich("a - 0.5") == '#box($a - "0.5"$)'  # a minus between two terms stays an operator
    assert formula("-0.05") == '#box($display("−0.05")$)'  # a lone number is math, like its row
    assert shape(formula("−0.05")) == shape(formula("0.05"))


def test_numbers_in_words_have_minus_signs() -> None:
    from handcalc.render.typst_text import minuses, rich

    assert minuses("-0.00125 is written -0.0013; x-1") == "−0.00125 is written −0.0013; x-1"
    assert rich("ε = 1e-8") == '#box($epsilon = "1e−8"$)'
    assert rich("hand − float64 -9.02e-06") == '#"hand" #box($-$) #"float"#"64" #"−9.02e−06"'
