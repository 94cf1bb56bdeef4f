"""An exam written out: per variant its config file, worksheet and key; combined PDFs; a manifest.

Each variant's config file holds its realized numbers, so any student's paper can be re-run or
checked later.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from handcalc.config import limits
from handcalc.config.load import load_node, normalized
from handcalc.config.problem import Problem
from handcalc.config.source import from_data
from handcalc.documents import formats as printing
from handcalc.documents import paper as document
from handcalc.documents.fairness import spread
from handcalc.documents.moodle import quiz
from handcalc.documents.variants import Variant, drawn
from handcalc.errors import OutputError
from handcalc.files import write_atomic
from handcalc.folders import check, publish
from handcalc.progress import SILENT, Advance, Steps
from handcalc.render import pdf, pdfjoin, typst
from handcalc.text import clean, is_clean

NAMES = re.compile(
    r"variant-\d{2,}(\.yaml|-worksheet\.pdf|-key\.pdf)|worksheets\.pdf|keys\.pdf|manifest\.csv"
)
HEADER = "variant,seed,config_hash,config,worksheet,key"
COLUMNS = [*HEADER.split(","), "draws", "nonzero_gradients", "largest_gradient"]
KINDS = ("worksheet", "key")
HEADINGS = {"worksheet": "Worksheets", "key": "Answer keys"}
PER_WORKER = 8  # papers to typeset for each worker process started
BLANK = """#set page(paper: "a4")
#set text(size: 11pt)
#align(center + horizon)[This page is intentionally left blank.]
"""


@dataclass(frozen=True, slots=True)
class Written:
    """What `write` wrote, and how many candidates each variant took."""

    files: list[Path]
    folder: Path
    draws: list[int]
    moodle: Path | None = None

    def summary(self) -> str:
        """The one line the command prints."""
        quiz = f" and {self.moodle}" if self.moodle else ""
        n = len(self.draws)
        # each variant's count while it fits on the line; beyond, the range (the manifest lists all)
        each = ", ".join(map(str, self.draws)) if n <= 8 else self._spread()
        return (
            f"wrote {len(self.files)} files to {self.folder}{quiz} ({n} variant{'s' * (n != 1)} "
            f"from {sum(self.draws)} draw{'s' * (sum(self.draws) != 1)}: {each})"
        )

    def _spread(self) -> str:
        """'1 to 4 each, see manifest.csv' (the draws of many variants, in brief)."""
        low, high = min(self.draws), max(self.draws)
        each = f"{low} each" if low == high else f"{low} to {high} each"
        return f"{each}, see manifest.csv"


def variant_yaml(v: Variant, count: int) -> str:
    data = normalized(v.trace.problem)
    head = (
        f"# handcalc exam: variant {v.number} of {count}, seed {v.seed}, config "
        f"{document.config_hash(v.trace)}\n# Every number is written out, so this file "
        "re-runs the paper: handcalc run THIS_FILE; handcalc check THIS_FILE ANSWERS\n"
    )
    text = _yaml(data, unicode=True)
    # YAML writes some unsafe characters (the bidi controls) raw: then every non-ASCII
    # character is written as an escape instead, which reads back the same.
    return head + (text if is_clean(text) else _yaml(data, unicode=False))


def _yaml(data: dict[str, Any], unicode: bool) -> str:
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=unicode, width=100, default_flow_style=None
    )


def reload(text: str, name: str) -> Problem:
    """A variant's config file read back (what a grader does later)."""
    return load_node(from_data(yaml.safe_load(text), name), name)


def write(
    base: Problem,
    count: int,
    folder: Path,
    force: bool,
    moodle: Path | None = None,
    duplex: bool = False,
    steps: Steps = SILENT,
    workers: int | None = None,
) -> Written:
    """Draw the variants and write the exam folder as a unit, then the quiz file.

    The PDFs are typeset by `workers` processes (by default one per processor); the files are
    the same whatever their number."""
    check(folder, force, is_exam_folder)
    if moodle is not None and os.path.isfile(moodle) and not force:
        raise OutputError(f"{moodle}: already exists (use --force to overwrite)")
    limits.check_exam(base)
    variants: list[Variant] = []
    files = _files(base, count, variants, duplex, steps, workers)
    publish(folder, files, force, is_exam_folder)
    written = [folder / name for name in files]
    if moodle is not None:
        write_atomic(moodle, quiz(variants, base.title or "One training step"), force)
        written.append(moodle)
    return Written(files=written, folder=folder, draws=[v.draws for v in variants], moodle=moodle)


def is_exam_folder(folder: Path) -> bool:
    """Whether `folder` holds an exam handcalc wrote, and nothing else: --force replaces only
    such a folder."""
    entries = list(folder.iterdir())
    if not all(NAMES.fullmatch(p.name) and p.is_file() and not p.is_symlink() for p in entries):
        return False
    return any(
        _starts(p, HEADER if p.suffix == ".csv" else "# handcalc exam:")
        for p in entries
        if p.suffix in (".csv", ".yaml")
    )


def _starts(path: Path, head: str) -> bool:
    with open(path, "rb") as f:
        return f.read(len(head)) == head.encode()


def _files(
    base: Problem,
    count: int,
    variants: list[Variant],
    duplex: bool,
    steps: Steps,
    workers: int | None,
) -> dict[str, bytes]:
    """Every file of the exam folder by name, in the order they are written; `variants`
    receives the variants drawn.

    The worksheets are typeset first, then the keys, so that the worksheets are joined into
    one file while the workers typeset the keys; the config files and the manifest's rows are
    made while they typeset too."""
    configs: dict[str, bytes] = {}
    rows: list[list[Any]] = []
    papers = _papers(base, count, variants, configs, rows, steps.task("drawing variants", count))
    if workers is None:  # a process costs about as much to start as a few papers to typeset
        workers = min(os.cpu_count() or 1, 2 * count // PER_WORKER)
    typeset, combined = steps.task("typesetting PDFs", 2 * count), steps.task("combining PDFs", 2)
    title = clean(base.title or "One training step")  # as the papers' own title
    pdfs: dict[str, bytes] = {}
    arrived: Counter[str] = Counter()

    def ready(name: str, data: bytes) -> None:
        pdfs[name] = data
        typeset()
        kind = "worksheet" if name.endswith("-worksheet.pdf") else "key"
        arrived[kind] += 1
        if arrived[kind] == count:  # `drawn` gives `count` variants, or stops with an error
            pdfs[f"{kind}s.pdf"] = _combined(
                variants, pdfs, kind, f"{HEADINGS[kind]}: {title}", duplex
            )
            combined()

    pdf.pdfs(papers, workers, ready)
    files: dict[str, bytes] = {}
    for v in variants:
        files[f"{v.stem}.yaml"] = configs[v.stem]
        files |= {f"{v.stem}-{kind}.pdf": pdfs[f"{v.stem}-{kind}.pdf"] for kind in KINDS}
    files |= {f"{kind}s.pdf": pdfs[f"{kind}s.pdf"] for kind in KINDS}
    files["manifest.csv"] = _manifest(rows).encode()
    return files


def _papers(
    base: Problem,
    count: int,
    variants: list[Variant],
    configs: dict[str, bytes],
    rows: list[list[Any]],
    found: Advance,
) -> Iterator[tuple[str, str]]:
    """The worksheets as Typst source, each as soon as its variant is drawn, then the keys;
    `configs` and `rows` receive each variant's config file and manifest row."""
    for v in drawn(base, count):
        variants.append(v)
        found()
        configs[v.stem] = variant_yaml(v, count).encode()
        names = [f"{v.stem}.yaml", *(f"{v.stem}-{kind}.pdf" for kind in KINDS)]
        rows.append([v.number, v.seed, document.config_hash(v.trace), *names, *_fairness(v)])
        yield f"{v.stem}-worksheet.pdf", _source(v, key=False)
    for v in variants:
        yield f"{v.stem}-key.pdf", _source(v, key=True)


def _source(v: Variant, key: bool) -> str:
    return typst.document(document.build(v.trace, key=key, variant=v.number))


def _combined(
    variants: list[Variant], pdfs: dict[str, bytes], kind: str, title: str, duplex: bool
) -> bytes:
    """One kind of paper of every variant in one file, each variant an entry of its outline."""
    parts = [pdfjoin.Part(pdfs[f"{v.stem}-{kind}.pdf"], f"Variant {v.number}") for v in variants]
    return _joined(_padded(parts) if duplex else parts, title)


def _joined(parts: list[pdfjoin.Part], title: str) -> bytes:
    """The parts in one PDF, each variant an entry of its outline."""
    try:
        return pdfjoin.join(parts, title)
    except pdfjoin.Unsupported:  # not laid out as this Typst writes: the general library
        return printing.merge_pdfs([p.data for p in parts])


def _fairness(v: Variant) -> list[Any]:
    """The manifest's view of a variant's fairness: its draws, and how even its gradients are."""
    s = spread(v.trace)
    return [v.draws, s.nonzero, v.trace.problem.rounding.text(s.largest)]


def _padded(parts: list[pdfjoin.Part]) -> list[pdfjoin.Part]:
    """Each PDF followed by a page saying it is blank when its page count is odd, so that
    every variant of a two-sided print starts on a new sheet."""
    out = []
    for part in parts:
        out.append(part)
        if pdfjoin.pages(part.data) % 2:
            out.append(pdfjoin.Part(_blank()))
    return out


@cache
def _blank() -> bytes:
    return pdf.pdf(BLANK)


def _manifest(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()
