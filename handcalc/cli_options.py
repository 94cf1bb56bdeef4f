"""The command line's arguments and options, each declared once as an `Annotated` type."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, get_args

import typer

from handcalc.version import __version__

Format = Literal["terminal", "json", "markdown"]
FORMATS: tuple[Format, ...] = get_args(Format)
REPORT_FORMATS: tuple[Format, ...] = ("terminal", "json")


def print_version(value: bool) -> None:
    if value:
        print(f"handcalc {__version__}")
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option(
        "--version", callback=print_version, is_eager=True, help="Print the version and exit."
    ),
]
ConfigArg = Annotated[
    Path | None,
    typer.Argument(
        help="YAML config; the embedded default when left out.",
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
    int, typer.Option(help="Rows shown per step in tables (0: all).", min=0, metavar="N")
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
    Path,
    typer.Option(
        "--output",
        "-o",
        metavar="DIR",
        help="The folder to write gradebook.csv and summary.csv into.",
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
    Path,
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
    int, typer.Option("--variants", "-n", min=1, max=500, help="How many variants.")
]
FolderOption = Annotated[
    Path,
    typer.Option("--output", "-o", metavar="DIR", help="The folder to write the exam into."),
]
MoodleOption = Annotated[
    Path | None,
    typer.Option("--moodle", metavar="FILE", help="Also write the variants as a Moodle XML quiz."),
]
FolderForceOption = Annotated[bool, typer.Option("--force", help="Write into a non-empty DIR.")]
PassesOption = Annotated[int, typer.Option("--passes", "-T", help="Stochastic forward passes.")]
