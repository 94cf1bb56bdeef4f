"""Typst source -> PDF or PNG with the compiler and fonts embedded in the typst package."""

from __future__ import annotations

import tempfile
from pathlib import Path

from handcalc.errors import HandcalcError


def _compile(source: str, png_ppi: int | None) -> bytes | list[bytes]:
    """Compile with no system fonts, no packages and an empty root folder: the same bytes on
    every machine, and no file is readable from the document."""
    import typst

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        main = root / "document.typ"
        main.write_text(source, encoding="utf-8")
        try:
            if png_ppi is not None:
                pages: bytes | list[bytes] = typst.compile(
                    main, root=root, format="png", ppi=png_ppi, ignore_system_fonts=True
                )
                return pages
            out: bytes = typst.compile(main, root=root, format="pdf", ignore_system_fonts=True)
            return out
        except typst.TypstError as e:  # a bug here, never the user's text (it is escaped)
            raise HandcalcError(f"typst could not compile the document: {e}") from None


def pdf(source: str) -> bytes:
    out = _compile(source, None)
    assert isinstance(out, bytes)
    return out


def png_pages(source: str, ppi: int = 110) -> list[bytes]:
    out = _compile(source, ppi)
    return out if isinstance(out, list) else [out]
