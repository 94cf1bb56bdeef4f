"""Text from input made safe to show: no control character reaches a terminal, a message or a file.

Every string that comes from a config, an answers file, an option or a file name passes `clean`
before it is printed or written; each output format then escapes it in its own way. A character
that could move the cursor, rewrite the terminal's title or clipboard, reorder the text around it
or break a file format is shown as its escape, `\\x1b` or `\\u202e`, so the reader sees that it
was there. These are: the C0 controls but newline and tab, DEL and the C1 controls; the bidi
controls; the line and paragraph separators; lone surrogates; U+FFFE and U+FFFF.
"""

from __future__ import annotations

import re

UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufffe\uffff]"
)
BREAKS = re.compile("[\t\n]")
# printable ASCII, tab and newline: no character of these is UNSAFE (tests/test_output_safety.py)
_PLAIN = bytes(range(0x20, 0x7F)) + b"\t\n"
LONG_WORD = 160  # characters of one word (a number, a key, a path) in a message, at most
LONG_LINE = 600  # characters of one message, at most


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str, newlines: bool = False) -> str:
    """Text with every unsafe character shown as its escape; tabs (and newlines) as spaces.

    >>> clean("quiz\\x1b]52;c;aGk=\\x07 1\\u202e")
    'quiz\\\\x1b]52;c;aGk=\\\\x07 1\\\\u202e'
    >>> clean("line 1\\nline 2"), clean("line 1\\nline 2", newlines=True)
    ('line 1 line 2', 'line 1\\nline 2')
    """
    text = text.replace("\t", " ") if newlines else BREAKS.sub(" ", text)
    return UNSAFE.sub(_visible, text)


def is_clean(text: str) -> bool:
    """Whether `text` holds no unsafe character (newlines and tabs are safe)."""
    return UNSAFE.search(text) is None


def json_safe(text: str) -> str:
    """JSON text with the unsafe characters its encoder lets through written as \\u escapes.

    They can only stand inside strings, where the escape means the same character.

    >>> json_safe('{"title": "a\\u202eb"}')
    '{"title": "a\\\\u202eb"}'
    """
    if text.isascii() and not text.encode("ascii").translate(None, _PLAIN):
        return text  # the usual case, seen at C speed: a trace is mostly digits
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def shorten(text: str, limit: int) -> str:
    """`text` with its middle left out past `limit` characters, saying how long it was.

    >>> shorten("1" * 5000, 40)
    '11111111111111111111…11111111 (5,000 characters)'
    """
    if len(text) <= limit:
        return text
    head, tail = limit // 2, limit // 5
    return f"{text[:head]}…{text[-tail:]} ({len(text):,} characters)"


def message(text: str) -> str:
    """An error message as one safe line: long words and a long line shortened in the middle.

    >>> line = message("data.label: " + "1234567890" * 500 + " is out of range (1 to 3)")
    >>> len(line), line[92:]
    (169, '…90123456789012345678901234567890 (5,000 characters) is out of range (1 to 3)')
    """
    words = [shorten(word, LONG_WORD) for word in clean(text).split(" ")]
    return shorten(" ".join(words), LONG_LINE)
