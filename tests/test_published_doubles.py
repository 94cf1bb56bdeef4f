"""A published example whose author computes in doubles and writes ŷ straight from z.

The source (configs/published-relu-softmax-doubles.yaml names it) is a library's unit test of a
2-2-3 ReLU/softmax network that prints every value as a double. The author's rule is float64
arithmetic, carried unrounded: handcalc's float64 column must give every printed double, digit for
digit. Its hand column writes 12 decimal places with ŷ the softmax rounded once
(`rounding.write: {exp_z: false, sum_exp: false}`), which is the author's ŷ to 12 places; writing
exp(z) and S first would change a digit of ŷ_2. Where the author's later doubles, rounded to 12
places, differ from the hand column, the difference is the author carrying unrounded values.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

from handcalc.model.runner import make_trace
from test_published import located, trace_of

NAME = "published-relu-softmax-doubles"

# each entry in handcalc's convention (W^(l) is d_l x d_(l-1)); the library writes W as inputs x
# outputs, so its W1_grad (i, j) is dW1[j,i] and its W2_grad (i, j) is dW2[j,i]
DOUBLES = {
    "h1[1]": "2.28",
    "h1[2]": "0",
    "yhat[1]": "0.4290527237144287",
    "yhat[2]": "0.2214905246525316",
    "yhat[3]": "0.3494567516330398",
    "loss": "1.0513754685043635",
    "dW1[1,1]": "-0.0909337567393238",
    "dW1[1,2]": "0.034100158777246425",
    "dW1[2,1]": "0",
    "dW1[2,2]": "0",
    "db1[1]": "-0.005683359796207738",
    "db1[2]": "0",
    "dh1[1]": "-0.005683359796207738",
    "dh1[2]": "-0.0368176896554923",
    "dW2[1,1]": "0.9782402100688974",
    "dW2[2,1]": "0.504998396207772",
    "dW2[3,1]": "-1.4832386062766691",
    "dW2[1,2]": "0",
    "dW2[2,2]": "0",
    "dW2[3,2]": "0",
    "db2[1]": "0.4290527237144287",
    "db2[2]": "0.2214905246525316",
    "db2[3]": "-0.6505432483669602",
}

# the hand column at 12 places where it differs from the author's double rounded to 12 places:
# a product of a rounded ŷ_j or dL/dh^(1)_1, where the author multiplies the unrounded double
CARRIED_UNROUNDED = {
    "dW2[1,1]": "0.978240210068",  # 2.28 × 0.429052723714; the author: ...6889
    "dW2[2,1]": "0.504998396209",  # 2.28 × 0.221490524653; the author: ...207772
    "dW1[1,1]": "-0.090933756736",  # 16 × (-0.005683359796); the author: ...7393238
    "dW1[1,2]": "0.034100158776",  # -6 × (-0.005683359796); the author: ...777246425
}


def test_the_float64_column_gives_every_printed_double() -> None:
    t = trace_of(NAME)
    for entry, printed in DOUBLES.items():
        step, i = located(t, entry)
        value = step.floats[i]
        assert value == float(printed), (entry, printed, repr(value))
        assert Decimal(repr(value)) == Decimal(printed), (entry, printed, repr(value))


def to_12_places(printed: str) -> str:
    return str(Decimal(printed).quantize(Decimal("1e-12"), rounding=ROUND_HALF_UP))


def test_the_hand_column_writes_the_softmax_rounded_once() -> None:
    t = trace_of(NAME)
    for entry, printed in DOUBLES.items():
        step, i = located(t, entry)
        written = step.texts()[i]
        expected = CARRIED_UNROUNDED.get(entry, to_12_places(printed))
        assert Decimal(written) == Decimal(expected), (entry, printed, written)
        if entry in CARRIED_UNROUNDED:
            assert Decimal(written) != Decimal(to_12_places(printed)), entry


def test_writing_the_exponentials_would_change_a_digit_of_yhat() -> None:
    p = trace_of(NAME).problem
    rules = dataclasses.replace(p.rules, write={})
    written_exps = make_trace(dataclasses.replace(p, rules=rules))
    step, i = located(written_exps, "yhat[2]")
    assert step.texts()[i] == "0.221490524652"  # 0.796124259835 / 3.594394212052
    assert to_12_places(DOUBLES["yhat[2]"]) == "0.221490524653"
