"""The notes' notation as a tree: read from the plain form, written back as it and as Typst math."""

from __future__ import annotations

import re

import pytest

from handcalc import notation as n
from handcalc.model.ids import known
from handcalc.notation_read import parse, symbol
from test_papers import CASES, trace_of


def plain_forms() -> list[str]:
    """Every symbol and formula any step of any config (and combination) writes."""
    seen: dict[str, None] = {}
    for name in CASES:
        for step in trace_of(name).iterations[0]:
            seen.setdefault(step.spec.symbol)
            seen.setdefault(step.spec.formula)
    return list(seen)


def test_every_plain_form_reads_back_as_itself() -> None:
    forms = plain_forms()
    assert len(forms) > 200
    for text in forms:
        assert n.to_text(parse(text)) == text


@pytest.mark.parametrize(
    ("plain", "typst"),
    [
        ("dL/dz^(2)", "(partial L)/(partial z^((2)))"),
        ("W^(1) h^(0) + b^(1)", "W^((1)) h^((0)) + b^((1))"),
        ("(W^(2))^T dL/dz^(2)", "(W^((2)))^upright(T) (partial L)/(partial z^((2)))"),
        ("σ'(z^(1)) ⊙ dL/dh^(1)", "sigma'(z^((1))) dot.o (partial L)/(partial h^((1)))"),
        ("m_W^(1)_prev", 'm_(W, "prev")^((1))'),
        ("m̂_W^(1) / (√ŝ_W^(1) + ε)", "(hat(m)_(W)^((1)))/(sqrt(hat(s)_(W)^((1))) + epsilon)"),
        ("β1 m_b^(2)_prev", 'beta_1 m_(b, "prev")^((2))'),
        ("(1/N) Σ_n L_n", "(1)/(N) sum_(n) L_(n)"),
        ("exp(z^(2)) / S", '(op("exp")(z^((2))))/(S)'),
        ("-Σ_j y_j ln ŷ_j", '-sum_(j) y_(j) op("ln") hat(y)_(j)'),
        ("relu(z^(1))", 'op("ReLU")(z^((1)))'),
        ("1 / (1 + e^(-z^(2)))", "(1)/(1 + e^(-z^((2))))"),
        (
            "(dz_j/dW)_m,k = δ_jm h^(1)_k",
            "((partial z_(j))/(partial W))_(m,k) = delta_(j m) h_(k)^((1))",
        ),
        (
            "the dropout mask (drawn, keep p = 0.5)",
            '"the dropout mask" ("drawn", "keep" p = "0.5")',
        ),
        ("z̃^(2)", "tilde(z)^((2))"),
        ("diag(ŷ) - ŷ ŷ^T", 'op("diag")(hat(y)) - hat(y) hat(y)^upright(T)'),
        ("ΔW^(1) = -η dL/dW^(1)", "Delta W^((1)) = -eta (partial L)/(partial W^((1)))"),
    ],
)
def test_typst_math_of_the_notes_notation(plain: str, typst: str) -> None:
    assert n.to_typst(parse(plain)) == typst


def test_text_reaches_typst_only_as_string_literals() -> None:
    evil = 'label #read("/etc/passwd") $ x $ \x1b ] ) \\'
    out = n.to_typst(parse(evil))
    # what is left outside string literals, but the escaped slash
    code = re.sub(r'"(?:[^"\\]|\\.)*"', "", out).replace("\\/", "")
    assert not set(code) & set("#$\\\x1b"), code


def test_the_update_is_an_assignment_and_symbols_come_from_ids() -> None:
    update = n.equation(n.layered("W", 1), parse("W^(1) - η dL/dW^(1)"), update=True)
    assert n.to_text(update) == "W^(1) ← W^(1) - η dL/dW^(1)"
    assert n.to_typst(update) == "W^((1)) <- W^((1)) - eta (partial L)/(partial W^((1)))"
    for ident, plain in [
        ("dW2", "dL/dW^(2)"),
        ("dhd1", "dL/dh̃^(1)"),
        ("J_z3_h2", "dz^(3)/dh^(2)"),
        ("W1_next", "W^(1)"),
        ("hd1", "h̃^(1)"),
        ("yhat", "ŷ"),
        ("losses", "L_n"),
    ]:
        assert n.to_text(symbol(known(ident))) == plain
    assert n.to_text(symbol(known("vW1_prev"), "v_W^(1)_prev")) == "v_W^(1)_prev"


def test_a_matrix_in_brackets() -> None:
    m = n.Matrix(((n.Num("1"), n.Num("0")), (n.Num("-0.5"), n.Num("2"))))
    assert n.to_text(m) == "[1, 0; -0.5, 2]"
    # a number with a sign or a point is a string: one piece of source whatever its sign
    assert n.to_typst(m) == 'display(mat(delim: "[", align: #right, 1, 0; "−0.5", 2))'
