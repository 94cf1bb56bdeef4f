"""Reading the notes' notation: the plain form the steps carry, or a step's identity, as a tree.

`parse` never fails: what it does not know stays text, so any symbol or formula reads, and
`notation.to_text(parse(text)) == text` for every one the steps write (tests/test_notation.py).
"""

from __future__ import annotations

import re

from handcalc.model.ids import Kind, StepId
from handcalc.notation import (
    Deriv,
    Frac,
    Func,
    Group,
    Layer,
    Node,
    Num,
    Op,
    Row,
    Space,
    Sqrt,
    Sub,
    Sup,
    Sym,
    Text,
    Transpose,
    layered,
    row,
)

_OF_Z = {Kind.J_z_W: "W", Kind.J_z_b: "b", Kind.J_z_h: "h"}
_GRADIENTS = {Kind.dz: "z", Kind.dh: "h", Kind.dW: "W", Kind.db: "b", Kind.dhd: "h̃"}


_UNLAYERED = {
    Kind.y: "y",
    Kind.T: "T",
    Kind.sum_exp: "S",
    Kind.yhat: "ŷ",
    Kind.tyhat: "ŷ",
    Kind.losses: "L_n",
    Kind.loss: "L",
    Kind.dyhat: "dL/dŷ",
    Kind.dT: "dL/dT",
    Kind.T_next: "T",
}


def symbol(ident: StepId, plain: str = "") -> Node:
    """The notes' symbol of a step, built from its identity; `plain` (the step's own symbol,
    parsed) for a step whose identity does not say it all, such as an optimizer's state."""
    layer = ident.layer
    if layer is None:
        return parse(_UNLAYERED.get(ident.kind, plain))
    if ident.kind in _GRADIENTS:
        return Deriv(Sym("L"), layered(_GRADIENTS[ident.kind], layer))
    if ident.kind in _OF_Z:
        back = layer - 1 if ident.kind is Kind.J_z_h else layer
        return Deriv(layered("z", layer), layered(_OF_Z[ident.kind], back))
    if ident.kind in (Kind.W, Kind.b, Kind.z, Kind.h, Kind.a, Kind.d):
        return layered(ident.kind.value, layer)
    if ident.kind in (Kind.W_next, Kind.b_next):
        return layered(ident.kind.value[0], layer)
    if ident.kind is Kind.hd:
        return layered("h̃", layer)
    return parse(plain)


# function names when applied, f(...), and ln, which the notes also write as ln ŷ_j
_FUNCS = frozenset(
    {"exp", "ln", "tanh", "diag", "max", "relu", "leaky_relu", "sigmoid", "softmax", "identity"}
)
_LAYER = re.compile(r"\^\((\d+|l|l[-+]\d+)\)")
_INDEX = re.compile(r"_(\d+(?:,\d+)*|prev(?![A-Za-z])|[A-Za-z](?:,?[a-z])*(?![A-Za-z]))")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)?")
_WORD = re.compile(
    r"leaky_relu|[α-ω]\d(?!\d)|[A-Za-zÀ-ɏͰ-ϿḀ-ỿ](?:[\u0300-\u036f]|[-']?[A-Za-zÀ-ɏ])*'?"
)
_OPS = "+-−=<>,/⊙←·×≈;:!|"
_CLOSE = {"(": ")", "[": "]", "{": "}"}


def parse(text: str) -> Node:
    """The tree of a formula in the plain notation; to_text gives the text back.

    >>> parse("dL/dW^(2)")
    Deriv(of=Sym(name='L'), by=Sup(base=Sym(name='W'), sup=Layer(text='2')))
    >>> from handcalc.notation import to_text
    >>> to_text(parse("β1 m_W^(1)_prev + (1 - β1) (dL/dW^(1))^2"))
    'β1 m_W^(1)_prev + (1 - β1) (dL/dW^(1))^2'
    """
    items, _ = _row(text, 0, "")
    return _single(items)


def _single(items: list[Node]) -> Node:
    return items[0] if len(items) == 1 else Row(tuple(items))


def _row(text: str, i: int, close: str) -> tuple[list[Node], int]:
    """The parts up to `close` (or the end); a slash between two parts makes a fraction."""
    items: list[Node] = []
    while i < len(text) and text[i] != close:
        item, i = _part(text, i)
        items.append(item)
        _fraction(items)
        _prose(items)
    return items, i


def _prose(items: list[Node]) -> None:
    """Words with spaces between them as one text: 'the dropout mask'."""
    if len(items) < 3 or items[-2] != Space():
        return
    before, last = items[-3], items[-1]
    if not (isinstance(before, Text) and isinstance(last, Text)):
        return
    if before.text[-1:].isalpha() and last.text[:1].isalpha():
        del items[-2:]
        items[-1] = Text(f"{before.text} {last.text}")


def _fraction(items: list[Node]) -> None:
    """'a / b' and '(1/N)' as fractions, once the part after the slash is read."""
    if len(items) >= 5 and items[-4:-1] == [Space(), Op("/"), Space()] and _operand(items[-5]):
        den, num = items.pop(), items[-4]
        del items[-4:]
        if isinstance(num, Group) and items and isinstance(items[-1], Func):
            num = row(items.pop(), num)  # exp(z) / S: the function's value is the numerator
        items.append(Frac(num, den))
    elif len(items) == 3 and items[1] == Op("/") and items[0] == Num("1") and _operand(items[2]):
        den = items.pop()
        items[:] = [Frac(Num("1"), den, spaced=False)]


def _operand(node: Node) -> bool:
    return not isinstance(node, (Op, Space, Text, Func))


def _part(text: str, i: int) -> tuple[Node, int]:
    """One part with its scripts: a group, a number, a derivative, a symbol or word, an op."""
    c = text[i]
    if c == " ":
        return Space(), i + 1
    if c == "√":
        body, i = _part(text, i + 1)
        return Sqrt(body), i
    atom, i = _atom(text, i)
    return _scripts(text, i, atom)


def _atom(text: str, i: int) -> tuple[Node, int]:
    c = text[i]
    if c in _CLOSE:
        items, j = _row(text, i + 1, _CLOSE[c])
        if j < len(text):
            return Group(_single(items) if items else Row(()), c, _CLOSE[c]), j + 1
        return Text(c), i + 1  # an unclosed bracket stays text
    number = _NUMBER.match(text, i)
    if number:
        return Num(number.group()), number.end()
    derivative = _derivative(text, i)
    if derivative is not None:
        return derivative
    word = _WORD.match(text, i)
    if word:
        return _word(word.group(), text.startswith("(", word.end())), word.end()
    return (Op(c) if c in _OPS else Text(c)), i + 1


def _word(word: str, applied: bool) -> Node:
    """A function name (the ones spelt as words need their argument), a symbol, or words."""
    if word == "ln" or (word in _FUNCS and applied):
        return Func(word)
    if re.fullmatch(r"Δ?[^\W\d_][\u0300-\u036f]?'?", word) or re.fullmatch(r"[α-ω]\d", word):
        return Sym(word)
    return Text(word)


def _derivative(text: str, i: int) -> tuple[Node, int] | None:
    """'dL/dz^(2)', 'dŷ/dz', 'dz_j/dW': d, a symbol with scripts, '/d', another."""
    if not text.startswith("d", i):
        return None
    of = _symbol_at(text, i + 1)
    if of is None or not text.startswith("/d", of[1]):
        return None
    by = _symbol_at(text, of[1] + 2)
    if by is None:
        return None
    return Deriv(of[0], by[0]), by[1]


def _symbol_at(text: str, i: int) -> tuple[Node, int] | None:
    word = re.compile(r"[^\W\d_][\u0300-\u036f]?").match(text, i)
    if word is None:
        return None
    return _scripts(text, word.end(), Sym(word.group()), transpose=False)


def _scripts(text: str, i: int, base: Node, transpose: bool = True) -> tuple[Node, int]:
    """The superscripts, subscripts and transposes after a part."""
    while i < len(text) and text[i] in "^_":
        step = _script(text, i, base, transpose)
        if step is None:
            break
        base, i = step
    return base, i


def _script(text: str, i: int, base: Node, transpose: bool) -> tuple[Node, int] | None:
    layer = _LAYER.match(text, i)
    if layer:
        return Sup(base, Layer(layer.group(1))), layer.end()
    index = _INDEX.match(text, i)
    if index:
        return Sub(base, _index(index.group(1))), index.end()
    if text.startswith("^T", i) and transpose and not text[i + 2 : i + 3].isalnum():
        return Transpose(base), i + 2
    if text.startswith("^", i) and i + 1 < len(text) and text[i + 1] not in " ":
        if text[i + 1] == "(":
            power, j = _atom(text, i + 1)
            return (Sup(base, power), j) if isinstance(power, Group) else None
        power, j = _atom(text, i + 1)
        return Sup(base, power), j
    return None


def _index(text: str) -> Node:
    if text == "prev":
        return Text(text)
    if text[0].isdigit():
        return Num(text)
    return _single([Op(",") if c == "," else Sym(c) for c in text])
