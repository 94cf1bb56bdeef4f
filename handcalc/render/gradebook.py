"""A graded class as files and a table: the gradebook, an LMS import, the per-step summary."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from rich.console import Console
from rich.table import Table

from handcalc.errors import OutputError
from handcalc.folders import publish
from handcalc.grading.gradebook import STANDINGS, Gradebook, Graded
from handcalc.render.check_report import number, percent, points
from handcalc.render.feedback import feedback
from handcalc.text import clean

GRADEBOOK = "gradebook.csv"
SUMMARY = "summary.csv"
LMS = "grades-lms.csv"
FEEDBACK = "feedback"
GRADEBOOK_HEAD = "file,variant,score,possible,percent,first_wrong,diagnosis,problem"
_RISKY = re.compile(r"^[=+\-@\t\r]")  # a spreadsheet reads these as a formula


def cell(text: str) -> str:
    """Text from a student's file as a CSV cell a spreadsheet shows as text.

    >>> cell("=HYPERLINK(1)"), cell("alice.yaml"), cell("a\\nb"), cell("a\\u202eb")
    ("'=HYPERLINK(1)", 'alice.yaml', 'a b', 'a\\\\u202eb')
    """
    text = clean(text)  # line breaks as spaces, any other unsafe character as its escape
    return "'" + text if _RISKY.match(text) else text


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def gradebook_csv(book: Gradebook) -> str:
    """One row per answers file: its score, or why it was not graded."""
    return _csv([GRADEBOOK_HEAD.split(","), *(_row(g) for g in book.rows)])


def _row(g: Graded) -> list[str]:
    variant = g.variant.number if g.variant else ""
    r = g.report
    if r is None:
        return [cell(str(g.path)), variant, "", "", "", "", "", cell(g.reason or "")]
    earned, possible = r.score
    first = r.first_wrong
    problem = f"{len(r.problems)} unreadable: {r.problems[0]}" if r.problems else ""
    return [
        cell(str(g.path)),
        variant,
        points(earned),
        number(possible),
        number(percent(r)),
        first.step.id if first else "",
        r.main_slip() or "",
        cell(problem),
    ]


def identifier(g: Graded) -> str:
    """The student's identifier: the file's name without its suffix and its variant.

    >>> from handcalc.grading.exam_folder import Variant
    >>> v = Variant(number="3", config=Path("variant-03.yaml"), names=())
    >>> identifier(Graded(path=Path("variant-03-alice.yaml"), variant=v))
    'alice'
    """
    stem = g.path.stem
    if g.variant is not None:
        rest = stem.replace(g.variant.stem, "").strip("-_ .")
        stem = rest or stem
    return stem


def lms_csv(book: Gradebook) -> str:
    """identifier, grade: what an LMS imports (an empty grade where none could be given)."""
    rows = [["identifier", "grade"]]
    for g in book.rows:
        grade = points(g.report.score[0]) if g.report is not None else ""
        rows.append([cell(identifier(g)), grade])
    return _csv(rows)


def summary_csv(book: Gradebook) -> str:
    """Per step: how many students got it correct, carried, wrong, part or none of it."""
    head = ["step", "symbol", "points", *STANDINGS, "most_common_slip", "students"]
    rows = [
        [
            s.step_id,
            s.symbol,
            s.points,
            *(str(s.counts[k]) for k in STANDINGS),
            s.slip[0] if s.slip else "",
            str(s.slip[1]) if s.slip else "",
        ]
        for s in book.summary()
    ]
    return _csv([head, *rows])


def summary_table(book: Gradebook) -> Table:
    """The summary as a table: how the class did on each step, and its most common slip."""
    table = Table(title="Steps across the class", title_justify="left")
    table.add_column("step", no_wrap=True)
    for name in STANDINGS:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("most common slip (students)", ratio=1)
    for s in book.summary():
        slip = f"{s.slip[0]} ({s.slip[1]})" if s.slip else ""
        table.add_row(s.step_id, *(str(s.counts[k]) for k in STANDINGS), slip)
    return table


def print_summary(book: Gradebook, console: Console | None = None) -> None:
    """The summary table, then the files not graded and why."""
    out = console or Console()
    graded = [g for g in book.rows if g.report is not None]
    out.print(summary_table(book))
    out.print(f"graded {len(graded)} of {len(book.rows)} answers files", highlight=False)
    for g in book.rows:
        if g.report is None:
            out.print(f"not graded: {g.path}: {g.reason}", highlight=False, markup=False)


def outputs(book: Gradebook, folder: Path, feedback_files: bool, lms: bool) -> dict[Path, str]:
    """Every file to write, by path."""
    files = {folder / GRADEBOOK: gradebook_csv(book), folder / SUMMARY: summary_csv(book)}
    if lms:
        files[folder / LMS] = lms_csv(book)
    if feedback_files:
        names: set[str] = set()
        for g in book.rows:
            name = _unique(g.path.stem, names)
            files[folder / FEEDBACK / f"{name}.md"] = feedback(g)
    return files


def _unique(stem: str, taken: set[str]) -> str:
    name, k = stem, 1
    while name in taken:
        k += 1
        name = f"{stem}-{k}"
    taken.add(name)
    return name


def write(book: Gradebook, folder: Path, force: bool, feedback: bool, lms: bool) -> list[Path]:
    """Write the gradebook's files into `folder` as a unit: a reader sees the old files or all the
    new ones, never a mix. Only a folder of what grade wrote before is replaced, with `force`."""
    files = outputs(book, folder, feedback, lms)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not is_grades_folder(folder):
            raise OutputError(
                f"{folder}: holds files handcalc grade did not write; not replaced, even with "
                "--force (name an empty or a new folder)"
            )
        existing = [p for p in files if p.exists()] or [folder / GRADEBOOK]
        if not force:
            raise OutputError(f"{existing[0]}: already exists (use --force to overwrite)")
    named = {path.relative_to(folder).as_posix(): text.encode() for path, text in files.items()}
    publish(folder, named, force, is_grades_folder)
    return list(files)


def is_grades_folder(folder: Path) -> bool:
    """Whether `folder` holds what grade writes and nothing else (regular files, no links):
    --force replaces only such a folder."""
    entries = list(folder.iterdir())
    return all(map(_written, entries)) and _starts(folder / GRADEBOOK, GRADEBOOK_HEAD)


def _written(path: Path) -> bool:
    """Whether an entry of a folder is one that grade writes."""
    if path.is_symlink():
        return False
    if path.name == FEEDBACK and path.is_dir():
        return all(p.suffix == ".md" and p.is_file() and not p.is_symlink() for p in path.iterdir())
    return path.name in (GRADEBOOK, SUMMARY, LMS) and path.is_file()


def _starts(path: Path, head: str) -> bool:
    """Whether a regular file starts with `head` (read no further)."""
    want = head.encode()
    try:
        with path.open("rb") as f:
            return f.read(len(want)) == want
    except OSError:
        return False
