"""Documents to files: the format follows the file's suffix."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal, get_args

from handcalc.documents.paper import Document
from handcalc.errors import ConfigError
from handcalc.render import html, latex, typst
from handcalc.render import markdown_paper as mdoc
from handcalc.text import clean

Suffix = Literal[".pdf", ".typ", ".tex", ".md", ".html"]
SUFFIXES: tuple[Suffix, ...] = get_args(Suffix)


def suffix_of(path: Path) -> Suffix:
    """The document type a file name asks for."""
    suffix = path.suffix.lower()
    for known in SUFFIXES:
        if suffix == known:
            return known
    raise ConfigError(
        f"--output: {path}: unknown document type {suffix or '(none)'!r} "
        f"(one of {', '.join(SUFFIXES)})"
    )


def merge_pdfs(pdfs: list[bytes]) -> bytes:
    """PDFs one after another, each from a new page, fonts shared."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for data in pdfs:
        writer.append(io.BytesIO(data))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render(docs: list[Document], suffix: Suffix, title: str) -> bytes:
    """One or more documents (each from a new page) in the format of `suffix`."""
    if suffix in (".pdf", ".typ"):
        source = typst.document(docs[0]) if len(docs) == 1 else typst.combined(docs, title)
        if suffix == ".typ":
            return clean(source, newlines=True).encode()
        from handcalc.render.pdf import pdf

        return pdf(source)
    if suffix == ".tex":
        text = latex.document(docs[0]) if len(docs) == 1 else latex.combined(docs, title)
    elif suffix == ".html":
        text = html.combined(docs, title)
    else:
        text = "\n\n---\n\n".join(mdoc.document(d) for d in docs)
    return clean(text, newlines=True).encode()  # each renderer escapes; this is the backstop
