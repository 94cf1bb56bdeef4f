"""The notes' notation as a small expression tree, written as the plain form (terminal, Markdown)
or as Typst math.

The steps write symbols and formulas as plain text in the notes' notation (`dL/dz^(2)`,
`(W^(2))^T dL/dz^(2)`, `β1 m_W^(1)_prev + (1 - β1) dL/dW^(1)`). `notation_read.parse` reads any
such text into this tree, `to_text` writes the very same text back, and `to_typst` typesets
it: ∂L/∂z^(l) as a fraction, W^(l) with its superscript, ⊙, ^T, Σ, η and hats and tildes as
accents. Prose inside a formula ("the dropout mask") stays upright
text, and every piece of text reaches Typst as a string literal, never as code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from handcalc.text import clean


@dataclass(frozen=True, slots=True)
class Sym:
    """One symbol: a letter, a Greek letter, with its accent and prime ('ŷ', 'z̃', 'β1', "σ'")."""

    name: str


@dataclass(frozen=True, slots=True)
class Num:
    """A number as written, or a list of indices ('1,3')."""

    text: str


@dataclass(frozen=True, slots=True)
class Text:
    """Words set upright: 'the dropout mask', 'prev', 'if'."""

    text: str


@dataclass(frozen=True, slots=True)
class Op:
    """An operator or punctuation: + - = > , / ⊙ ← ·."""

    text: str


@dataclass(frozen=True, slots=True)
class Space:
    """A space as the plain form writes it (Typst math spaces by itself)."""


@dataclass(frozen=True, slots=True)
class Func:
    """An upright function name: exp, ln, tanh, diag, max, relu."""

    name: str


@dataclass(frozen=True, slots=True)
class Layer:
    """A layer superscript, shown with its parentheses: the '(2)' of W^(2)."""

    text: str


@dataclass(frozen=True, slots=True)
class Sup:
    """base^sup: a power, or a layer when `sup` is a Layer."""

    base: Node
    sup: Node


@dataclass(frozen=True, slots=True)
class Sub:
    """base_sub: an index ('_j', '_1,3'), a parameter ('m_W') or a word ('_prev')."""

    base: Node
    sub: Node


@dataclass(frozen=True, slots=True)
class Transpose:
    base: Node


@dataclass(frozen=True, slots=True)
class Deriv:
    """dof/dby, typeset ∂of/∂by."""

    of: Node
    by: Node


@dataclass(frozen=True, slots=True)
class Frac:
    """num / den; `spaced` keeps the plain form's spaces around the slash."""

    num: Node
    den: Node
    spaced: bool = True


@dataclass(frozen=True, slots=True)
class Sqrt:
    body: Node


@dataclass(frozen=True, slots=True)
class Group:
    """A bracketed part: '(...)' or '[...]'."""

    body: Node
    open: str = "("
    close: str = ")"


@dataclass(frozen=True, slots=True)
class Row:
    """Juxtaposed parts, in order."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    """A vector or matrix written in brackets; each cell a node."""

    rows: tuple[tuple[Node, ...], ...]


Node = (
    Sym
    | Num
    | Text
    | Op
    | Space
    | Func
    | Layer
    | Sup
    | Sub
    | Transpose
    | Deriv
    | Frac
    | Sqrt
    | Group
    | Row
    | Matrix
)

# ---------------------------------------------------------------- building


def row(*items: Node) -> Row:
    return Row(tuple(items))


def layered(name: str, layer: int | str) -> Sup:
    """A symbol with its layer: layered('W', 2) is W^(2)."""
    return Sup(Sym(name), Layer(str(layer)))


def equation(left: Node, right: Node, update: bool = False) -> Row:
    """left = right, or the update left ← right (the notes never write W = W - ...)."""
    return row(left, Space(), Op("←" if update else "="), Space(), right)


# ---------------------------------------------------------------- the plain form


def to_text(node: Node) -> str:
    """The plain form, as the terminal and Markdown write it."""
    match node:
        case Sym(name) | Num(name) | Text(name) | Op(name) | Func(name):
            return name
        case Space():
            return " "
        case Layer(text):
            return f"({text})"
        case Sup(base, sup):
            return f"{to_text(base)}^{to_text(sup)}"
        case Sub(base, sub):
            return f"{to_text(base)}_{to_text(sub)}"
        case Transpose(base):
            return f"{to_text(base)}^T"
        case Deriv(of, by):
            return f"d{to_text(of)}/d{to_text(by)}"
        case Frac(num, den, spaced):
            return f"{to_text(num)}{' / ' if spaced else '/'}{to_text(den)}"
        case Sqrt(body):
            return f"√{to_text(body)}"
        case Group(body, open_, close):
            return f"{open_}{to_text(body)}{close}"
        case Row(items):
            return "".join(map(to_text, items))
        case Matrix(rows):
            return "[" + "; ".join(", ".join(map(to_text, r)) for r in rows) + "]"


# ---------------------------------------------------------------- Typst math

_GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "η": "eta",
    "θ": "theta",
    "τ": "tau",
    "φ": "phi",
    "ω": "omega",
    "ν": "nu",
    "ρ": "rho",
    "Δ": "Delta",
    "λ": "lambda",
    "μ": "mu",
    "σ": "sigma",
    "Σ": "sum",
    "π": "pi",
}
_ACCENTS = {"\u0302": "hat", "\u0303": "tilde"}
_PRECOMPOSED = {"ŷ": "y\u0302", "ŝ": "s\u0302", "ĥ": "h\u0302", "ẑ": "z\u0302"}
_TYPST_OPS = {
    "-": "-",
    "−": "-",
    "+": "+",
    "=": "=",
    ">": ">",
    "<": "<",
    ",": ",",
    "/": "\\/",
    "⊙": "dot.o",
    "←": "<-",
    "·": "dot.op",
    "×": "times",
    "≈": "approx",
    ";": ";",
}
_TYPST_FUNCS = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "identity": "id"}


def to_typst(node: Node) -> str:
    """The body of Typst math (put it between $ and $); text goes in as string literals."""
    match node:
        case Sym(name):
            return _sym(name)
        case Num(text):
            return text if _DIGITS.fullmatch(text) else _number(text)
        case Text(text):
            return _string(text)
        case Op(text):
            return _TYPST_OPS.get(text, _string(text))
        case Space():
            return " "
        case Func(name):
            return f"op({_string(_TYPST_FUNCS.get(name, name))})"
        case Layer(text):
            return f"({_string(text) if not text.isdigit() else text})"
        case Sup() | Sub():
            return _attach(node)
        case _:
            return _compound(node)


def _compound(node: Node) -> str:
    match node:
        case Transpose(base):
            return f"{_base(base)}^upright(T)"
        case Deriv(of, by):
            return f"(partial {to_typst(of)})/(partial {to_typst(by)})"
        case Frac(num, den):
            return f"({_bare(num)})/({_bare(den)})"
        case Sqrt(body):
            return f"sqrt({to_typst(body)})"
        case Group(Frac() as body, "("):
            return to_typst(body)  # (1/N) is a fraction: its parentheses only grouped
        case Group(body, open_, close):
            return f"{open_}{to_typst(body)}{close}"
        case Row(items):
            return _row_typst(items)
        case Matrix(rows):
            cells = "; ".join(", ".join(to_typst(c) for c in r) for r in rows)
            return f'display(mat(delim: "[", align: #right, {cells}))'
    raise AssertionError(node)  # pragma: no cover


def _sym(name: str) -> str:
    """A symbol in Typst: β1 is beta_1, ŷ is hat(y), σ' is sigma', ΔW is Delta W."""
    if name.startswith("Δ") and len(name) > 1:
        return f"Delta {_sym(name[1:])}"  # a change of W: one symbol, scripts on the pair
    prime = "'" if name.endswith("'") else ""
    name = _PRECOMPOSED.get(name.rstrip("'"), name.rstrip("'"))
    letter, marks = name[:1], name[1:]
    out = _GREEK.get(letter, letter if letter.isascii() and letter.isalpha() else _string(letter))
    for mark in marks:
        out = f"{_ACCENTS[mark]}({out})" if mark in _ACCENTS else f"{out}_{mark}"
    return out + prime


def _string(text: str) -> str:
    return json.dumps(clean(text), ensure_ascii=False)


_DIGITS = re.compile(r"\d+(?:,\d+)*")  # an index (2,3), a power, 1 of 1/N: math digits


def _number(text: str) -> str:
    """A number with a sign, a point or an exponent, as a string in math: it looks the same
    as the number would, and like plain digits it is one piece of source whatever its sign.
    So the papers of two exam variants have sources of the same shape, differing only in
    their strings: Typst, which numbers the pieces of a source in order, then finds what it
    laid out for the one in the other, and lays out again only what holds another number."""
    return _string(minus(text))


def minus(number: str) -> str:
    """A written number with the minus sign of the formulas beside it, not a hyphen, in front
    and in its exponent (2.2e−16)."""
    return ("−" + number[1:] if number.startswith("-") else number).replace("e-", "e−")


def _bare(node: Node) -> str:
    """A fraction's part without the parentheses the plain form needed around it."""
    if isinstance(node, Group) and node.open == "(":
        return to_typst(node.body)
    return to_typst(node)


def _base(node: Node) -> str:
    """A part that takes scripts: a compound one in parentheses Typst does not show."""
    if isinstance(node, (Sym, Num, Group, Func, Layer, Transpose, Matrix)):
        return to_typst(node)
    return f"({to_typst(node)})"


def _attach(node: Node) -> str:
    """A symbol with all its scripts at once: m_W^(1)_prev is m with W, prev below, (1) above."""
    subs: list[Node] = []
    sups: list[Node] = []
    while isinstance(node, (Sup, Sub)):
        if isinstance(node, Sup):
            sups.insert(0, node.sup)
            node = node.base
        else:
            subs.insert(0, node.sub)
            node = node.base
    out = _base(node)
    if subs:
        out += "_(" + ", ".join(_script_typst(s) for s in subs) + ")"
    if sups:
        out += "^(" + ", ".join(_script_typst(s) for s in sups) + ")"
    return out


def _script_typst(node: Node) -> str:
    if isinstance(node, Group) and node.open == "(":
        return to_typst(node.body)  # e^(-z): the parentheses only group
    return to_typst(node)


def _row_typst(items: tuple[Node, ...]) -> str:
    """Parts side by side; a space between two letters keeps Typst from reading one name."""
    out: list[str] = []
    for before, item in zip((None, *items), items, strict=False):
        text = to_typst(item)
        if out and before is not None and not isinstance(before, Space) and _joins(out[-1], text):
            out.append(" ")
        out.append(text)
    return "".join(out)


def _joins(left: str, right: str) -> bool:
    return bool(re.search(r"[A-Za-z0-9_.')\]]$", left)) and bool(re.match(r"[A-Za-z0-9\"]", right))


def math(node: Node) -> str:
    """Inline Typst math for markup."""
    return f"${to_typst(node)}$"
