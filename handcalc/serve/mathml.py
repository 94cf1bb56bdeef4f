"""The notes' plain-text notation as MathML, which browsers render with no script or network.

`dL/dW^(2)` is the fraction ∂L/∂W⁽²⁾ as the notes write it; `z^(3)_j` a sub- and superscript;
relu, exp, ln and the other names upright; words such as "if" and "else" as text. The tree is
built with ElementTree, so every character of the input is escaped by the XML serializer.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

NS = "http://www.w3.org/1998/Math/MathML"
FUNCTIONS = frozenset(
    ("relu", "leaky_relu", "sigmoid", "tanh", "exp", "ln", "log", "softmax", "diag", "max", "min")
)
# A quantity: a letter (with combining accents, a prime), then any run of scripts.
_ATOM = (
    r"[^\W\d_][\u0300-\u036f]*(?:(?<=[α-ω])[0-9])?'?"
    r"(?:\^\([^()]*\)|\^[A-Za-z0-9]+|_[A-Za-z0-9]+(?:,[0-9]+)*)*"
)
_TOKEN = re.compile(
    rf"(?P<deriv>d(?P<top>{_ATOM})?/d(?P<bottom>{_ATOM}))"
    r"|(?P<word>(?:leaky_relu|one-hot|[A-Za-z]{2,})(?![A-Za-z0-9^_\u0300-\u036f]))"
    rf"|(?P<atom>{_ATOM})"
    r"|(?P<post>\^\((?:[^()]|\([^()]*\))*\)|\^[A-Za-z0-9]+)"
    r"|(?P<number>[0-9]+(?:\.[0-9]+)?)"
    r"|(?P<space>\s+)"
    r"|(?P<op>.)"
)
_SCRIPT = re.compile(r"\^\(([^()]*)\)|\^([A-Za-z0-9]+)|_([A-Za-z0-9]+(?:,[0-9]+)*)")
_ENTRY = re.compile(r"(?<=\))_([0-9]+(?:,[0-9]+)*)$")  # the index after a layer's (l)
_LAYER = re.compile(r"\([0-9A-Za-z+-]+\)")  # a superscript (2) or (l+1), set as one piece
_OPERATORS = {"-": "−", "*": "·"}


def to_mathml(notation: str, display: bool = False) -> str:
    """A formula in the notes' notation as one <math> element.

    >>> to_mathml("z^(1)_2")
    '<math><msubsup><mi>z</mi><mn>2</mn><mtext>(1)</mtext></msubsup></math>'
    >>> to_mathml("dL/db^(2) = dL/dz^(2)").count("<mfrac>")
    2
    >>> "<mi mathvariant=\\"normal\\">relu</mi>" in to_mathml("relu(z^(1))")
    True
    >>> to_mathml("<b>")
    '<math><mo>&lt;</mo><mi>b</mi><mo>&gt;</mo></math>'
    """
    root = ET.Element("math", {"display": "block"} if display else {})
    for node in _nodes(notation):
        root.append(node)
    return ET.tostring(root, encoding="unicode").replace(f' xmlns="{NS}"', "")


def _nodes(notation: str) -> list[ET.Element]:
    out: list[ET.Element] = []
    for m in _TOKEN.finditer(notation):
        kind = m.lastgroup
        if kind == "deriv":
            out.append(_derivative(m.group("top"), m.group("bottom")))
        elif kind == "word":
            out.append(_word(m.group()))
        elif kind == "atom":
            out.append(_atom(m.group()))
        elif kind == "number":
            out.append(_leaf("mn", m.group()))
        elif kind == "post":
            _superscript(out, m.group())
        elif kind == "op":
            out.append(_leaf("mo", _OPERATORS.get(m.group(), m.group())))
    return out


def _superscript(out: list[ET.Element], script: str) -> None:
    """(h^(1))^T: the script raises the bracketed group before it (or the last node)."""
    start = len(out) - 1
    if out and out[-1].tag == "mo" and out[-1].text == ")":
        depth = 0
        for start in range(len(out) - 1, -1, -1):
            text = out[start].text if out[start].tag == "mo" else None
            depth += (text == ")") - (text == "(")
            if depth == 0:
                break
    base = _row(*out[start:]) if len(out) - start > 1 else out[start] if out else _row()
    del out[max(start, 0) :]
    inner = script[2:-1] if script.startswith("^(") else script[1:]
    grouped = script.startswith("^(") and "(" not in inner  # (l) stays; e^(-z) is e to the -z
    out.append(_scripted(base, "", f"({inner})" if grouped else inner))


def _leaf(tag: str, text: str | None, **attrs: str) -> ET.Element:
    node = ET.Element(tag, attrs)
    node.text = text
    return node


def _row(*children: ET.Element) -> ET.Element:
    row = ET.Element("mrow")
    row.extend(children)
    return row


def _word(text: str) -> ET.Element:
    """A function name upright; any other word (if, else, the, state) as text."""
    if text in FUNCTIONS:
        return _leaf("mi", text, mathvariant="normal")
    return _leaf("mtext", f"\u2009{text}\u2009")


def _derivative(top: str | None, bottom: str) -> ET.Element:
    """dL/dz^(2) as ∂L over ∂z^(2); an entry's index, dL/dz^(2)_3, on the whole fraction."""
    entry = _ENTRY.search(bottom)
    if entry is not None:
        bottom = bottom[: entry.start()]
    frac = ET.Element("mfrac")
    frac.append(_row(_leaf("mo", "∂"), *([_atom(top)] if top else [])))
    frac.append(_row(_leaf("mo", "∂"), _atom(bottom)))
    return frac if entry is None else _scripted(frac, entry.group(1), "")


def _atom(text: str) -> ET.Element:
    """A letter and its scripts: the first subscript and superscript as the notes set them."""
    first = _SCRIPT.search(text)
    name = text if first is None else text[: first.start()]
    base = _leaf("mo" if name == "Σ" else "mi", name)
    if name[-1:].isdigit():  # β1 of Adam: β with subscript 1
        base = _scripted(_leaf("mi", name[:-1]), name[-1], "")
    if first is None:
        return base
    sub: list[str] = []
    sup: list[str] = []
    for m in _SCRIPT.finditer(text, first.start()):
        if m.group(3) is not None:
            sub.append(m.group(3))
        else:
            sup.append(f"({m.group(1)})" if m.group(1) is not None else m.group(2))
    return _scripted(base, ",".join(sub), "".join(sup))


def _scripted(base: ET.Element, sub: str, sup: str) -> ET.Element:
    if sub and sup:
        node = ET.Element("msubsup")
        node.extend([base, _script(sub), _script(sup)])
    else:
        node = ET.Element("msub" if sub else "msup")
        node.extend([base, _script(sub or sup)])
    return node


def _script(text: str) -> ET.Element:
    if _LAYER.fullmatch(text):
        return _leaf("mtext", text)
    nodes = _nodes(text)
    return nodes[0] if len(nodes) == 1 else _row(*nodes)
