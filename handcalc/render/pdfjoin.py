"""Typst's PDFs one after another in one file, without parsing their content.

A general PDF library reads every object of every part, copies each into its own model and writes
it out again; an exam of 100 variants spends a second per combined file on that. Typst writes a
plain cross-reference table and no object streams, so a part's objects can be cut out at their
offsets and copied as bytes: only the dictionaries are read, to renumber their references. The
objects reached from the pages and the outline are kept; the tagging structure is not (its page
numbering would clash across parts). Each part's pages become one node of the new page tree, and
its outline one entry of the new outline, under the part's label. A part this does not recognise
raises `Unsupported`, and the caller merges with a general library instead.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

XREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
SUBSECTION = re.compile(rb"\s*(\d+) (\d+)\r?\n")
ENTRY = re.compile(rb"(\d{10}) \d{5} ([nf])")
TRAILER = re.compile(rb"trailer\s*<<(.*?)>>\s*startxref", re.S)
HEADER = re.compile(rb"\s*(\d+) 0 obj\s")
TOKEN = re.compile(rb"\(|(\d+) 0 R\b|stream\r?\n|endobj")
REF = re.compile(rb"/(\w+)\s*(\d+) 0 R")


class Unsupported(Exception):
    """A part is not laid out as Typst writes PDFs."""


@dataclass(frozen=True, slots=True)
class Part:
    """One PDF to append, and the outline entry it gets (None: no entry)."""

    data: bytes
    label: str | None = None


@dataclass(slots=True)
class _Object:
    """An object cut out of its part: its text as pieces between references, and its stream."""

    pieces: list[bytes]
    refs: list[int]
    stream: bytes  # from the `stream` keyword to the end, copied as is; b"" for none


@dataclass(slots=True)
class _Out:
    """The new file being numbered: each object once, in the order first reached."""

    numbers: dict[tuple[int, int], int] = field(default_factory=dict)
    order: list[tuple[int, int]] = field(default_factory=list)
    reserved: int = 3  # 1 the page tree, 2 the outline, 3 the catalog

    def number(self, key: tuple[int, int]) -> int:
        if key not in self.numbers:
            self.numbers[key] = self.reserved + len(self.order) + 1
            self.order.append(key)
        return self.numbers[key]


def join(parts: list[Part], title: str) -> bytes:
    """The parts' pages in order, in one PDF titled `title`."""
    docs = [_read(p.data) for p in parts]
    out = _Out()
    for k, doc in enumerate(docs):
        _reach(k, doc, out, outline=parts[k].label is not None)
    info = out.reserved + len(out.order) + 1
    bodies: dict[int, bytes] = {}
    for k, n in out.order:
        bodies[out.numbers[k, n]] = _write_object(docs[k].objects[n], k, out)
    labelled = [k for k, p in enumerate(parts) if p.label is not None]
    for k, doc in enumerate(docs):
        bodies[out.numbers[k, doc.pages]] = _page_node(bodies[out.numbers[k, doc.pages]])
        if k in labelled:
            bodies[out.numbers[k, doc.entry]] = _entry(parts, docs, labelled, k, out)
    kids = b" ".join(b"%d 0 R" % out.numbers[k, d.pages] for k, d in enumerate(docs))
    count = sum(d.page_count for d in docs)
    bodies[1] = b"<</Type/Pages/Count %d/Kids[%s]>>" % (count, kids)
    bodies[2] = _outline_root(labelled, docs, out)
    bodies[3] = b"<</Type/Catalog/Pages 1 0 R/Outlines 2 0 R/PageMode/UseOutlines%s>>" % (
        docs[0].lang if docs else b""
    )
    bodies[info] = b"<</Title%s/Creator(handcalc)>>" % text_string(title)
    return _file(bodies, info)


def pages(data: bytes) -> int:
    """How many pages a PDF has (read by a general library when not laid out as Typst's)."""
    try:
        return _read(data).page_count
    except Unsupported:
        from pypdf import PdfReader

        return len(PdfReader(io.BytesIO(data)).pages)


@dataclass(slots=True)
class _Doc:
    objects: _Objects
    pages: int  # the page tree's root
    first_page: int
    page_count: int
    outlines: int | None
    lang: bytes

    @property
    def entry(self) -> int:
        """The object that becomes the part's outline entry: its outline root, or else an
        empty object added under the number -1, which no part uses."""
        return self.outlines if self.outlines is not None else -1


def _read(data: bytes) -> _Doc:
    """A part's objects by number (each cut out when first needed), and the catalog's entries
    this module uses."""
    end = XREF.search(data)
    if end is None or not data.startswith(b"%PDF-"):
        raise Unsupported("no cross-reference table at the end")
    start = int(end.group(1))
    trailer = TRAILER.search(data, start)
    if trailer is None:
        raise Unsupported("no trailer")
    objects = _Objects(data, _xref(data, start))
    refs = dict(REF.findall(trailer.group(1)))
    return _catalog(objects, _dict(objects, int(refs.get(b"Root", b"0"))))


class _Objects(dict[int, _Object]):
    """A part's objects, each cut out the first time it is asked for: an exam's parts hold
    ten times more objects (the tagging structure) than the pages reach."""

    def __init__(self, data: bytes, table: list[tuple[int, int, int]]) -> None:
        super().__init__()
        self.data, self.table = data, table

    def __missing__(self, number: int) -> _Object:
        for first, count, pos in self.table:
            if first <= number < first + count:
                entry = ENTRY.match(self.data, pos + 20 * (number - first))
                if entry is None or entry.group(2) != b"n":
                    break
                self[number] = o = _cut(self.data, int(entry.group(1)), number)
                return o
        raise Unsupported(f"object {number} is missing")


def _xref(data: bytes, start: int) -> list[tuple[int, int, int]]:
    """The subsections of a plain cross-reference table: first number, count, where their
    entries start (each entry is 20 bytes, its end of line included)."""
    if data[start : start + 4] != b"xref":
        raise Unsupported("a cross-reference stream")
    pos, table = start + 4, []
    while (head := SUBSECTION.match(data, pos)) is not None:
        first, count = int(head.group(1)), int(head.group(2))
        table.append((first, count, head.end()))
        pos = head.end() + 20 * count
    return table


def _cut(data: bytes, offset: int, number: int) -> _Object:
    """An object's pieces between references, up to its stream or `endobj`."""
    head = HEADER.match(data, offset)
    if head is None or int(head.group(1)) != number:
        raise Unsupported(f"object {number} is not where the table says")
    pieces, refs, pos, at = [], [], head.end(), head.end()
    while (m := TOKEN.search(data, pos)) is not None:
        if m.group(0) == b"(":
            pos = _string_end(data, m.start())
            continue
        pieces.append(data[at : m.start()])
        if m.group(1) is not None:
            refs.append(int(m.group(1)))
            pos = at = m.end()
            continue
        if m.group(0) == b"endobj":
            return _Object(pieces=pieces, refs=refs, stream=b"")
        return _Object(pieces=pieces, refs=refs, stream=_stream(data, m, b"".join(pieces)))
    raise Unsupported(f"object {number} does not end")


def _stream(data: bytes, keyword: re.Match[bytes], head: bytes) -> bytes:
    """From the `stream` keyword to `endstream`, its length read from the dictionary."""
    length = re.search(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", head)
    if length is None:
        raise Unsupported("a stream without a direct length")
    end = keyword.end() + int(length.group(1))
    tail = re.compile(rb"\s*endstream").match(data, end)
    if tail is None:
        raise Unsupported("a stream whose length is wrong")
    return data[keyword.start() : tail.end()]


def _string_end(text: bytes, pos: int) -> int:
    """Past the literal string that opens at `pos` (balanced parentheses, backslash escapes)."""
    depth, i = 0, pos
    while i < len(text):
        c = text[i]
        if c == 0x5C:  # a backslash: the next byte is taken as it is
            i += 2
            continue
        depth += (c == 0x28) - (c == 0x29)
        i += 1
        if depth == 0:
            return i
    raise Unsupported("a string does not end")


def _dict(objects: dict[int, _Object], number: int) -> bytes:
    """An object's text with its references written as they were."""
    o = objects[number]
    out = o.pieces[0]
    for ref, piece in zip(o.refs, o.pieces[1:], strict=True):
        out += b"%d 0 R%s" % (ref, piece)
    return out


def _catalog(objects: _Objects, catalog: bytes) -> _Doc:
    refs = dict(REF.findall(catalog))
    if b"/Catalog" not in catalog or b"Pages" not in refs:
        raise Unsupported("no catalog")
    pages = int(refs[b"Pages"])
    tree = _dict(objects, pages)
    kids = re.search(rb"/Kids\s*\[\s*(\d+) 0 R", tree)
    count = re.search(rb"/Count (\d+)", tree)
    if kids is None or count is None or b"/Type/Pages" in _dict(objects, int(kids.group(1))):
        raise Unsupported("not a flat page tree")
    lang = re.search(rb"/Lang\s*\([A-Za-z-]*\)", catalog)
    outlines = int(refs[b"Outlines"]) if b"Outlines" in refs else None
    return _Doc(
        objects=objects,
        pages=pages,
        first_page=int(kids.group(1)),
        page_count=int(count.group(1)),
        outlines=outlines,
        lang=lang.group(0) if lang else b"",
    )


def _reach(k: int, doc: _Doc, out: _Out, outline: bool) -> None:
    """Number every object reached from the part's pages (and outline), breadth first."""
    queue = [doc.pages]
    if outline:
        doc.objects.setdefault(-1, _Object(pieces=[b""], refs=[], stream=b""))
        queue.append(doc.entry)
    for n in queue:
        out.number((k, n))
    i = 0
    while i < len(queue):
        o = doc.objects[queue[i]]
        for ref in o.refs:
            if (k, ref) not in out.numbers:
                out.number((k, ref))
                queue.append(ref)
        i += 1


def _write_object(o: _Object, k: int, out: _Out) -> bytes:
    text = [o.pieces[0]]
    for ref, piece in zip(o.refs, o.pieces[1:], strict=True):
        text.append(b"%d 0 R%s" % (out.numbers[k, ref], piece))
    return b"".join(text).strip() + (b"\n" + o.stream if o.stream else b"")


def _page_node(body: bytes) -> bytes:
    """A part's page tree root as a node under the new root."""
    if not body.startswith(b"<<"):
        raise Unsupported("a page tree that is not a dictionary")
    return b"<</Parent 1 0 R" + body[2:]


def _entry(parts: list[Part], docs: list[_Doc], labelled: list[int], k: int, out: _Out) -> bytes:
    """The part's outline root rewritten as its entry in the new outline: its label, opening
    its first page, with the part's own entries under it (closed)."""
    doc, i = docs[k], labelled.index(k)
    label = parts[k].label or ""
    body = b"/Title%s/Parent 2 0 R/Dest[%d 0 R/Fit]" % (
        text_string(label),
        out.numbers[k, doc.first_page],
    )
    if i > 0:
        body += b"/Prev %d 0 R" % out.numbers[labelled[i - 1], docs[labelled[i - 1]].entry]
    if i + 1 < len(labelled):
        after = labelled[i + 1]
        body += b"/Next %d 0 R" % out.numbers[after, docs[after].entry]
    if doc.outlines is not None:
        own = _dict(doc.objects, doc.outlines)
        ends = dict(REF.findall(own))
        count = re.search(rb"/Count (\d+)", own)
        if b"First" in ends and b"Last" in ends:
            body += b"/First %d 0 R/Last %d 0 R/Count -%s" % (
                out.numbers[k, int(ends[b"First"])],
                out.numbers[k, int(ends[b"Last"])],
                count.group(1) if count else b"0",
            )
    return b"<<" + body + b">>"


def _outline_root(labelled: list[int], docs: list[_Doc], out: _Out) -> bytes:
    if not labelled:
        return b"<</Type/Outlines/Count 0>>"
    first, last = labelled[0], labelled[-1]
    return b"<</Type/Outlines/First %d 0 R/Last %d 0 R/Count %d>>" % (
        out.numbers[first, docs[first].entry],
        out.numbers[last, docs[last].entry],
        len(labelled),
    )


def text_string(text: str) -> bytes:
    """A PDF text string as UTF-16 in hexadecimal: any character, nothing to escape."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _file(bodies: dict[int, bytes], info: int) -> bytes:
    """The objects numbered 1..n, a cross-reference table and the trailer."""
    out = [b"%PDF-1.7\n%\x80\x80\x80\x80\n"]
    size = len(out[0])
    offsets = []
    for n in range(1, info + 1):
        offsets.append(size)
        chunk = b"%d 0 obj\n%s\nendobj\n" % (n, bodies[n])
        out.append(chunk)
        size += len(chunk)
    table = [b"xref\n0 %d\n0000000000 65535 f \n" % (info + 1)]
    table += [b"%010d 00000 n \n" % offset for offset in offsets]
    trailer = b"trailer\n<</Size %d/Root 3 0 R/Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n"
    out += [*table, trailer % (info + 1, info, size)]
    return b"".join(out)
