"""What a command reports on standard error: progress of a long one, a bar when standard error
is a terminal and nothing otherwise; and the one line saying what a command wrote.

Piped, redirected, on a dumb terminal or with NO_COLOR set, nothing is drawn, so a log or a
script sees only the one line saying what was written. The bar is removed when the command
ends, and that line stays.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

Advance = Callable[[], None]


class Steps(Protocol):
    """Where a long command reports its phases."""

    def task(self, description: str, total: int) -> Advance:
        """A phase of `total` units; the function returned counts one unit done."""
        ...


class Silent:
    """No progress shown."""

    def task(self, description: str, total: int) -> Advance:
        return _nothing


def _nothing() -> None:
    pass


SILENT = Silent()


class Bar:
    """Each phase as a line of a rich progress display."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def task(self, description: str, total: int) -> Advance:
        task = self.progress.add_task(description, total=total)
        return lambda: self.progress.advance(task)


def visible(console: Console) -> bool:
    """Whether a bar may be drawn: a terminal that is not dumb, and colour not turned off."""
    return console.is_terminal and not console.is_dumb_terminal and not console.no_color


@contextlib.contextmanager
def shown(console: Console | None = None) -> Iterator[Steps]:
    """Steps to report to while the block runs: a bar on a terminal, else `SILENT`."""
    from rich.console import Console

    console = console or Console(stderr=True)
    if not visible(console):
        yield SILENT
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield Bar(progress)


def wrote(path: Path, pdf: bytes | None = None) -> None:
    """The one line a writing command prints, on standard error so that standard output stays
    the program's own: `wrote key.pdf (3 pages)`. Nothing for a device or a pipe (/dev/null,
    /dev/stdout), which keeps nothing to name."""
    if not os.path.isfile(path):
        return
    from handcalc.text import clean

    detail = ""
    if pdf is not None:
        from handcalc.render.pdfjoin import pages

        n = pages(pdf)
        detail = f" ({n} page{'s' * (n != 1)})"
    print(clean(f"wrote {path}{detail}"), file=sys.stderr)
