"""The command line's arguments and options, each declared once as an `Annotated` type."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Literal, get_args

import typer

from handcalc.errors import ConfigError
from handcalc.version import __version__

Format = Literal["terminal", "json", "markdown"]
FORMATS: tuple[Format, ...] = get_args(Format)
REPORT_FORMATS: tuple[Format, ...] = ("terminal", "json")


def print_version(value: bool) -> None:
    if value:
        print(f"handcalc {__version__}")
        raise typer.Exit()


def format_of(fmt: str, allowed: tuple[Format, ...]) -> Format:
    """The --format value as one of `allowed`, or the error that lists them."""
    for known in allowed:
        if fmt == known:
            return known
    close = difflib.get_close_matches(fmt.lower(), allowed, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    raise ConfigError(f"--format: unknown value {fmt!r} ({hint}one of {', '.join(allowed)})")


def decimal_option(flag: str, text: str | None, low: int, high: int | None) -> Decimal | None:
    """A number option within its range (None when not given)."""
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"{flag}: expected a number, got {text!r}") from None
    if not value.is_finite() or value < low or (high is not None and value > high):
        bound = f"{low} to {high}" if high is not None else f"{low} or more"
        raise ConfigError(f"{flag}: {text} is out of range ({bound})")
    return value


def whole(flag: str, low: int, high: int | None = None) -> Callable[[str | int], int]:
    """A parser of a whole-number option that words its errors as every other message does."""
    bound = f"{low} to {high}" if high is not None else f"{low} or more"

    def parse(value: str | int) -> int:
        text = str(value).strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise typer.BadParameter(f"expected a whole number, got {text!r}", param_hint=flag)
        digits = len(text.lstrip("+-").lstrip("0"))
        number = int(text) if digits <= 1000 else None  # Python refuses to read much longer ones
        if number is None:
            raise typer.BadParameter(f"{text} is too large ({bound})", param_hint=flag)
        if number < low or (high is not None and number > high):
            raise typer.BadParameter(f"{text} is out of range ({bound})", param_hint=flag)
        return number

    return parse


def usage_message(error: Exception) -> str | None:
    """A usage error from typer's parser as `FLAG: what is wrong`; None for any other error.

    Typer raises click's family of usage errors: a message, and the option it concerns.
    """
    message = getattr(error, "message", None)
    if not isinstance(message, str) or not hasattr(error, "exit_code"):
        return None
    message = re.sub(r"\.? Did you mean (.*)\?$", r" (did you mean \1?)", message.rstrip("."))
    flag = getattr(error, "param_hint", None) or _flag(getattr(error, "param", None))
    if flag is None:
        flag = getattr(error, "option_name", None)
        message = {True: "no such option", False: message}[message.startswith("No such option")]
        if "requires an argument" in message:
            message = "expects a value"
    close = getattr(error, "possibilities", None)
    if close:
        message += f" (did you mean {close[0]}?)"
    text = message[:1].lower() + message[1:]
    return f"{flag}: {text}" if flag else text


def _flag(param: object) -> str | None:
    """An option's long name, or an argument's metavar."""
    if param is None:
        return None
    names = [str(o) for o in getattr(param, "opts", [])]
    longs = [n for n in names if n.startswith("--")]
    return longs[0] if longs else str(getattr(param, "human_readable_name", names[0]))


VersionOption = Annotated[
    bool,
    typer.Option(
        "--version",
        "-V",
        callback=print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
]
ConfigArg = Annotated[
    Path | None,
    typer.Argument(
        help="YAML config (- for standard input); the embedded default when left out.",
        show_default=False,
        metavar="[CONFIG]",
    ),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to FILE.", metavar="FILE")
]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite an existing FILE.")]
FormatOption = Annotated[
    str, typer.Option("--format", "-f", metavar="terminal|json|markdown", help="Output format.")
]
RowsOption = Annotated[
    int,
    typer.Option(
        help="Rows shown per step in tables (0: all).", parser=whole("--rows", 0), metavar="N"
    ),
]

# run
DigitsOption = Annotated[str | None, typer.Option(help="Override rounding.digits.", metavar="N")]
ModeOption = Annotated[
    str | None, typer.Option(help="Override rounding.mode.", metavar="decimals|significant")
]
RuleOption = Annotated[
    str | None, typer.Option(help="Override rounding.rule.", metavar="half_up|half_even")
]
PerOption = Annotated[
    str | None, typer.Option(help="Override rounding.per.", metavar="value|operation")
]
SeedOption = Annotated[str | None, typer.Option(help="Override init.seed.", metavar="N")]
StepsOption = Annotated[str | None, typer.Option(help="Override training.steps.", metavar="N")]
LearningRateOption = Annotated[
    str | None, typer.Option(help="Override training.learning_rate.", metavar="X")
]
TolerancesOption = Annotated[
    bool, typer.Option("--tolerances", help="Add the tolerance `check` accepts per entry.")
]
Float32Option = Annotated[
    bool, typer.Option("--float32", help="Add a float32 column (PyTorch's default precision).")
]
JacobiansOption = Annotated[
    bool, typer.Option("--jacobians", help="Write out the local Jacobians and the 3-tensor.")
]
ExplainOption = Annotated[
    list[str] | None,
    typer.Option(
        "--explain",
        help="Work one entry out by hand, e.g. 'dW2[1,3]' (repeatable).",
        metavar="ENTRY",
    ),
]

# check
CheckPathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="[CONFIG] ANSWERS: the config (the embedded default when left out) "
        "and the student's answers file.",
        show_default=False,
        metavar="[CONFIG] ANSWERS",
    ),
]
TemplateOption = Annotated[
    bool, typer.Option("--template", help="Print a blank answers file for CONFIG.")
]
ToleranceOption = Annotated[
    str | None,
    typer.Option(
        help="Accept |answer - key| up to X for every entry (default: per entry, see "
        "run --tolerances).",
        metavar="X",
    ),
]
CarriedCreditOption = Annotated[
    str, typer.Option(help="Share of the points a carried entry earns, 0 to 1.", metavar="X")
]
OnlyAnsweredOption = Annotated[
    bool,
    typer.Option(
        "--only-answered",
        help="Score only the steps answered, out of their points (a self-check); blank entries "
        "are left out instead of earning nothing.",
    ),
]
ReportFormatOption = Annotated[
    str, typer.Option("--format", "-f", metavar="terminal|json", help="Output format.")
]

# grade
ExamDirArg = Annotated[
    Path,
    typer.Argument(
        help="The exam folder handcalc exam wrote (its manifest.csv).", metavar="EXAM_DIR"
    ),
]
AnswersArg = Annotated[
    list[Path],
    typer.Argument(
        help="Answers files, or folders of them (their .yaml and .yml files).",
        show_default=False,
        metavar="ANSWERS...",
    ),
]
GradesFolderOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="DIR",
        help="The folder to write gradebook.csv and summary.csv into (made if missing); a file "
        "already there is replaced only with --force.",
    ),
]
FeedbackOption = Annotated[
    bool,
    typer.Option("--feedback", help="Also write feedback/FILE.md per student: their slips."),
]
LmsOption = Annotated[
    bool,
    typer.Option("--lms", help="Also write grades-lms.csv: identifier and grade, for an LMS."),
]

# init, worksheet, exam, mc-dropout
InitPathArg = Annotated[Path, typer.Argument(help="Where to write it; - for standard output.")]
PaperOutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help=("Where to write: .pdf, .typ (Typst), .tex (LaTeX), .md or .html."),
    ),
]
KeyOption = Annotated[bool, typer.Option("--key", help="The answer key instead.")]
HintsOption = Annotated[bool, typer.Option("--hints", help="Print each step's formula.")]
PaperJacobiansOption = Annotated[
    bool, typer.Option("--jacobians", help="Add the local Jacobians and the 3-tensor.")
]
VariantsOption = Annotated[
    int,
    typer.Option(
        "--variants",
        "-n",
        parser=whole("--variants", 1, 500),
        metavar="N",
        help="How many variants, 1 to 500.",
    ),
]
FolderOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="DIR",
        help="The folder to write the exam into, written as a whole: a new or empty folder, "
        "or with --force an exam folder handcalc wrote before.",
    ),
]
MoodleOption = Annotated[
    Path | None,
    typer.Option("--moodle", metavar="FILE", help="Also write the variants as a Moodle XML quiz."),
]
DuplexOption = Annotated[
    bool,
    typer.Option(
        "--duplex",
        help="Pad each variant to an even page count in the combined PDFs, for two-sided "
        "printing (the added page says it is blank on purpose).",
    ),
]
FolderForceOption = Annotated[
    bool, typer.Option("--force", help="Replace an exam folder (and a quiz file) written before.")
]
PassesOption = Annotated[
    int | None,
    typer.Option(
        "--passes",
        "-T",
        parser=whole("--passes", 2),
        metavar="T",
        show_default=False,
        help="Stochastic forward passes (default: one per mask in network.dropout.mc_masks, "
        "else 10).",
    ),
]
