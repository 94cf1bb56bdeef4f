"""The notes' notation as MathML, which browsers render with no script, font or network.

The formula is read into the expression tree of `handcalc.notation` (the one the papers typeset
with Typst), and each node written as its MathML element: ∂L/∂W^(2) as a fraction, W^(l) with
its layer above, ^T, Σ, ⊙, function names upright, words as text. The tree is serialized by
ElementTree, so every character from the input is escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from handcalc.notation import (
    Deriv,
    Frac,
    Func,
    Group,
    Layer,
    Matrix,
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
)
from handcalc.notation_read import parse

NS = "http://www.w3.org/1998/Math/MathML"
_OPS = {"-": "−", "*": "·", "'": "′"}
_FUNCS = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "identity": "id"}  # as the papers set them


def to_mathml(notation: str) -> str:
    """A formula in the notes' notation as one <math> element.

    >>> to_mathml("z^(1)_2")
    '<math><msubsup><mi>z</mi><mn>2</mn><mtext>(1)</mtext></msubsup></math>'
    >>> to_mathml("dL/db^(2)").count("<mo rspace=\\"0\\">∂</mo>")
    2
    >>> to_mathml("<b>")
    '<math><mrow><mo>&lt;</mo><mi>b</mi><mo>&gt;</mo></mrow></math>'
    """
    root = ET.Element("math")
    root.append(element(parse(notation)))
    return ET.tostring(root, encoding="unicode").replace(f' xmlns="{NS}"', "")


def _leaf(tag: str, text: str, **attrs: str) -> ET.Element:
    node = ET.Element(tag, attrs)
    node.text = text
    return node


def _row(children: list[ET.Element]) -> ET.Element:
    if len(children) == 1:
        return children[0]
    row = ET.Element("mrow")
    row.extend(children)
    return row


def element(node: Node) -> ET.Element:
    """One node of the tree as MathML."""
    match node:
        case Sym(name):
            return _symbol(name)
        case Num(text):
            return _leaf("mn", text)
        case Text(text):
            return _leaf("mtext", f"\u2009{text}\u2009" if " " in text or len(text) > 1 else text)
        case Op(text):
            return _leaf("mo", _OPS.get(text, text))
        case Func(name):
            return _leaf("mi", _FUNCS.get(name, name), mathvariant="normal")
        case Layer(text):
            return _leaf("mtext", f"({text})")
        case Sup() | Sub():
            return _scripts(node)
    return _compound(node)


def _compound(node: Node) -> ET.Element:
    match node:
        case Transpose(base):
            return _tag("msup", element(base), _leaf("mi", "T", mathvariant="normal"))
        case Deriv(of, by):
            partial = _leaf("mo", "∂", rspace="0")
            return _tag("mfrac", _row([partial, element(of)]), _row([partial, element(by)]))
        case Frac(num, den):
            return _tag("mfrac", _bare(num), _bare(den))
        case Sqrt(body):
            return _tag("msqrt", element(body))
        case Group(Frac() as body, "("):
            return element(body)  # (1/N) is a fraction: its parentheses only grouped
        case Group(body, open_, close):
            return _row([_leaf("mo", open_), element(body), _leaf("mo", close)])
        case Row(items):
            return _row([element(i) for i in items if not isinstance(i, Space)] or [_tag("mrow")])
        case Matrix(rows):
            table = _tag(
                "mtable", *(_tag("mtr", *(_tag("mtd", element(c)) for c in r)) for r in rows)
            )
            return _row([_leaf("mo", "["), table, _leaf("mo", "]")])
    return _tag("mrow")  # a space alone


def _tag(tag: str, *children: ET.Element) -> ET.Element:
    node = ET.Element(tag)
    node.extend(children)
    return node


def _symbol(name: str) -> ET.Element:
    """A letter as the notes write it: β1 is β with 1 below, σ' has a prime."""
    if name == "Σ":
        return _leaf("mo", name)
    if name[-1:].isdigit():
        return _tag("msub", _leaf("mi", name[:-1]), _leaf("mn", name[-1]))
    return _leaf("mi", name.replace("'", "′"))


def _bare(node: Node) -> ET.Element:
    """A fraction's part without the parentheses the plain form needed around it."""
    if isinstance(node, Group) and node.open == "(":
        return element(node.body)
    return element(node)


def _scripts(node: Node) -> ET.Element:
    """A symbol with all its scripts at once: m_W^(1)_prev is m with W, prev below, (1) above."""
    subs: list[Node] = []
    sups: list[Node] = []
    while isinstance(node, (Sup, Sub)):
        if isinstance(node, Sup):
            sups.insert(0, node.sup)
        else:
            subs.insert(0, node.sub)
        node = node.base
    base = element(node)
    if subs and sups:
        return _tag("msubsup", base, _joined(subs), _joined(sups))
    return _tag("msub" if subs else "msup", base, _joined(subs or sups))


def _joined(scripts: list[Node]) -> ET.Element:
    parts: list[ET.Element] = []
    for script in scripts:
        if parts:
            parts.append(_leaf("mo", ","))
        if isinstance(script, Text):  # _prev: a word, set close
            parts.append(_leaf("mtext", script.text))
        else:
            parts.append(_bare(script))  # e^(-z): the parentheses only group
    return _row(parts)
