"""A request body read within its size cap and checked against the paper before any grading.

The client names a step id, an entry's text and at most a variant number: never a file. Anything
else is a 4xx with a one-line JSON error.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from handcalc.config.limits import MAX_ANSWER_CHARS, MAX_FILE_BYTES
from handcalc.serve.sheet import Sheet, Sheets
from handcalc.text import clean, shorten

MAX_BODY = MAX_FILE_BYTES  # an uploaded answers file may be as large as any file handcalc reads
MAX_VARIANT = 16
FIELDS = frozenset(("variant", "answers", "text"))


class Refused(Exception):
    """A request refused: its HTTP status and the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = clean(reason)


@dataclass(frozen=True, slots=True)
class Request:
    """A checked request: the paper it is for, the entries typed, an uploaded file's text."""

    sheet: Sheet
    typed: dict[str, list[str]]
    text: str | None


async def body(length: str | None, chunks: AsyncIterator[bytes]) -> bytes:
    """The body, read no further than the cap."""
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise Refused(413, f"the request is larger than {MAX_BODY:,} bytes")
    data = bytearray()
    async for chunk in chunks:
        data += chunk
        if len(data) > MAX_BODY:
            raise Refused(413, f"the request is larger than {MAX_BODY:,} bytes")
    return bytes(data)


def parse(data: bytes, sheets: Sheets) -> Request:
    """A JSON object {variant, answers, text}, each part checked against the paper."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Refused(400, "the request is not JSON text") from None
    if not isinstance(value, dict):
        raise Refused(422, "expected a JSON object")
    unknown = sorted(set(value) - FIELDS)
    if unknown:
        raise Refused(422, f"unknown field {shorten(str(unknown[0]), 40)!r}")
    sheet = _sheet(value.get("variant"), sheets)
    text = value.get("text")
    if text is not None and not isinstance(text, str):
        raise Refused(422, "text: expected the answers file's text")
    return Request(sheet=sheet, typed=_typed(value.get("answers", {}), sheet), text=text)


def _sheet(variant: Any, sheets: Sheets) -> Sheet:
    if variant is not None and (not isinstance(variant, str) or len(variant) > MAX_VARIANT):
        raise Refused(422, "variant: expected the variant number as text")
    sheet = sheets.get(variant)
    if sheet is None:
        want = "a variant of the exam" if sheets.exam else "no variant (this is not an exam)"
        raise Refused(404, f"variant: expected {want}")
    return sheet


def _typed(answers: Any, sheet: Sheet) -> dict[str, list[str]]:
    """Step id -> the text of each entry, one per entry of the step."""
    if not isinstance(answers, dict):
        raise Refused(422, "answers: expected an object of step ids")
    out: dict[str, list[str]] = {}
    for step_id, texts in answers.items():
        step = sheet.steps.get(step_id)
        if step is None:
            raise Refused(422, f"answers: {shorten(step_id, 40)!r} is no step of the paper")
        size = len(step.values)
        if not isinstance(texts, list) or len(texts) != size:
            raise Refused(422, f"answers: {step_id}: expected a list of {size} entries")
        if not all(isinstance(t, str) and len(t) <= MAX_ANSWER_CHARS for t in texts):
            raise Refused(
                422,
                f"answers: {step_id}: each entry is text of {MAX_ANSWER_CHARS} characters at most",
            )
        out[step_id] = texts
    return out
