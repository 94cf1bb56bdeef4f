"""A trace that shows itself: in rich as `handcalc run` prints it, in Jupyter as Markdown tables.

The display protocols live here, on the render side, so that the trace never imports a renderer.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console, ConsoleOptions
from rich.text import Text

from handcalc.render import markdown, terminal
from handcalc.trace import Trace


class ShownTrace(Trace):
    """A Trace with rich's and Jupyter's display protocols."""

    __slots__ = ()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        """Shown by rich (and in Jupyter with rich) as `handcalc run` shows it."""
        yield Text("\n").join(terminal.lines(self, options.max_width))

    def _repr_markdown_(self) -> str:
        """Shown in Jupyter as the Markdown tables."""
        return markdown.render(self)


def shown(trace: Trace) -> ShownTrace:
    """The same records, displayable."""
    return ShownTrace(problem=trace.problem, iterations=trace.iterations, info=trace.info)
