"""Text for Typst: strings, numbers and the notes' notation as markup, every piece of text a
string literal, never markup."""

from __future__ import annotations

import functools
import itertools
import json
import re
from dataclasses import replace

from handcalc.notation import Group, Node, Num, Op, Row, Space, Text, minus, to_text, to_typst
from handcalc.notation_read import parse
from handcalc.text import clean

WRAP = 9  # characters of a number on one line of a 2.1cm cell at 10pt
LONG = 16  # a number up to this long is never split (it may reach into the cell's padding)


def string(text: str) -> str:
    r"""Text as a Typst string: after `clean`, the only escapes JSON writes are the quote, the
    backslash and the newline, which Typst reads the same way.

    >>> print(string('#read("/etc/passwd")\x1b'))
    "#read(\"/etc/passwd\")\\x1b"
    """
    return json.dumps(clean(text, newlines=True), ensure_ascii=False)


def minuses(text: str) -> str:
    """A sentence's numbers with minus signs: '-0.00125 is written -0.0013'."""
    return re.sub(r"(?<![\w.])-(?=\.?\d)", "−", text)


def breakable(text: str, every: int = 20) -> str:
    """Text whose runs of 30 characters or more without a space (a link, a long name) get a
    zero-width space every `every` characters, so they wrap at the page's edge instead of
    running off it; Typst breaks lines only at spaces and hyphenation points.

    >>> breakable("a " + "x" * 45) == "a " + "x" * 20 + "\u200b" + "x" * 20 + "\u200b" + "x" * 5
    True
    """
    return re.sub(
        r"\S{30,}",
        lambda m: "\u200b".join(m[0][i : i + every] for i in range(0, len(m[0]), every)),
        text,
    )


def lit(text: str) -> str:
    """Text as a Typst string literal in markup: printed as is, never read as code."""
    return "#" + string(text)


def wrapping(number: str) -> str:
    r"""A number for an answer grid, as a Typst string; one longer than LONG characters (an exact
    value, 60 digits of e^z) gets a break opportunity (a zero-width space) every WRAP characters
    and wraps inside its cell instead of running over its neighbours. Shorter ones stay whole: a
    key never splits -1440000.2000. Always one string, whatever the length.

    >>> wrapping("0.25"), wrapping("-1440000.2000"), wrapping("-0.1234567891234567")
    ('"0.25"', '"-1440000.2000"', '"-0.123456\\u{200b}789123456\\u{200b}7"')
    """
    if len(number) <= LONG:
        return string(number)
    pieces = (string(number[i : i + WRAP])[1:-1] for i in range(0, len(number), WRAP))
    return '"' + "\\u{200b}".join(pieces) + '"'


@functools.lru_cache(maxsize=4096)
def rich(notation: str, display: bool = False) -> str:
    """Text in the notes' notation typeset: its formulas as math, each kept on one line, and
    its words as text ('Temperature T = 2: the head reads z^(2) / T.'); `display` sets the
    fractions full size, as in an equation of its own. Kept once made: the names and formulas
    of every variant of an exam are the same."""
    node = _signed(parse(notation))
    out = _mixed(node.items if isinstance(node, Row) else (node,))
    return out.replace("#box($", "#box($display(").replace("$)", ")$)") if display else out


SIGNS = frozenset({"-", "−", "+"})


def _signed(node: Node) -> Node:
    """A sign written against a number ('-0.05', '(-1)', '+2.2e-16', not 'a - 0.05') made part
    of it: then a value is one piece whatever its sign, and the papers of two variants have
    the same shape (see notation.to_typst)."""
    if isinstance(node, Group):
        return replace(node, body=_signed(node.body))
    if not isinstance(node, Row):
        return node
    items: list[Node] = []
    for item in node.items:
        sign = items[-1] if items else None
        if (
            isinstance(item, Num)
            and isinstance(sign, Op)
            and sign.text in SIGNS
            and (len(items) == 1 or items[-2] == Space())
        ):
            items[-1] = Num(("-" if sign.text != "+" else "+") + item.text)
        else:
            items.append(_signed(item))
    return items[0] if len(items) == 1 else Row(tuple(items))


def formula(notation: str) -> str:
    """An equation of its own, fractions full size; a lone number too is set as math, like the
    numbers of the equations beside it."""
    node = _signed(parse(notation))
    return f"#box($display({to_typst(node)})$)" if isinstance(node, Num) else rich(notation, True)


def symbol(notation: str) -> str:
    """A name in a heading or a label: ∂L/∂W^(2) with a slash, the height of a line."""
    return f"#inline[{rich(notation)}]"


_PUNCTUATION = frozenset({",", ";", ":", "."})


def _mixed(items: tuple[Node, ...]) -> str:
    out: list[str] = []
    run: list[Node] = []
    for item in items:
        if _aside(item) and not _prose(item) and run and run[-1] == Space():
            out.append(_formula(run))  # 'the label c (c = 2)': two formulas, a space between
            run = [item]
        elif (run and not _prose(item)) or (isinstance(item, (Num, Space)) and run):
            run.append(item)
        elif _prose(item):
            out += [_formula(run), _words(item)]
            run = []
        else:
            run.append(item)
    return "".join([*out, _formula(run)])


def _aside(node: Node) -> bool:
    """A bracketed equation of its own, as in 'c (c = 2)'."""
    return isinstance(node, Group) and isinstance(node.body, Row) and Op("=") in node.body.items


def _prose(node: Node) -> bool:
    """Words, numbers and punctuation that read as text, with no symbol among them."""
    if isinstance(node, Group):  # '(the exact sum, rounded once)', '(c = 2)', not '(-0.7000)'
        body = node.body.items if isinstance(node.body, Row) else (node.body,)
        return any(isinstance(i, Text) or (isinstance(i, Group) and _prose(i)) for i in body)
    if isinstance(node, Op):
        return node.text in _PUNCTUATION
    return isinstance(node, (Text, Num, Space))


def _words(node: Node) -> str:
    if isinstance(node, Group):
        body = node.body.items if isinstance(node.body, Row) else (node.body,)
        return lit(node.open) + _mixed(body) + lit(node.close)
    if isinstance(node, Num):
        return lit(minus(node.text))
    return " " if isinstance(node, Space) else lit(to_text(node))


def _formula(run: list[Node]) -> str:
    """A run of math as an unbreakable box, the spaces around it as spaces."""
    lead = len(run) - len(list(itertools.dropwhile(lambda n: n == Space(), run)))
    trail = len(run) - len(list(itertools.dropwhile(lambda n: n == Space(), reversed(run))))
    body = run[lead : len(run) - trail]
    if not body:
        return " " if run else ""
    math = to_typst(body[0] if len(body) == 1 else Row(tuple(body)))
    return " " * bool(lead) + f"#box(${math}$)" + " " * bool(trail)
