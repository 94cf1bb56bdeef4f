"""The command line: typer commands; the one place a HandcalcError becomes `error: ...`, exit 2."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from handcalc.errors import ConfigError, HandcalcError
from handcalc.version import __version__

FORMATS = ("terminal", "json", "markdown")
EXAMPLES = """Examples:

\b
  handcalc run                       the notes' 5-3-4-3 network, 4 decimals
  handcalc run quiz.yaml --digits 3 --rule half_even
  handcalc run quiz.yaml --format json --output key.json
  handcalc init quiz.yaml            a commented starter config to edit
"""

CHECK_EXAMPLES = """Examples:

\b
  handcalc check --template > answers.yaml     a blank answers file to fill in
  handcalc check answers.yaml                  answers to the default config
  handcalc check quiz.yaml answers.yaml --carried-credit 0.5 --format json

Exit code: 0 when every answer given is correct or carried, 1 when one is wrong,
2 for unreadable input.
"""

app = typer.Typer(
    name="handcalc",
    help="One training step of a small neural network, computed by hand-calculation rules.",
    epilog=EXAMPLES,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

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
ConfigArg = Annotated[
    Path | None,
    typer.Argument(
        help="YAML config; the embedded default when left out.",
        show_default=False,
        metavar="[CONFIG]",
    ),
]


def _version(value: bool) -> None:
    if value:
        print(f"handcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """One training step of a small neural network, computed by hand-calculation rules."""


@app.command(epilog=EXAMPLES)
def run(
    config: ConfigArg = None,
    fmt: FormatOption = "terminal",
    output: OutputOption = None,
    force: ForceOption = False,
    digits: Annotated[
        str | None, typer.Option(help="Override rounding.digits.", metavar="N")
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="Override rounding.mode.", metavar="decimals|significant")
    ] = None,
    rule: Annotated[
        str | None, typer.Option(help="Override rounding.rule.", metavar="half_up|half_even")
    ] = None,
    per: Annotated[
        str | None, typer.Option(help="Override rounding.per.", metavar="value|operation")
    ] = None,
    seed: Annotated[str | None, typer.Option(help="Override init.seed.", metavar="N")] = None,
    steps: Annotated[str | None, typer.Option(help="Override training.steps.", metavar="N")] = None,
    learning_rate: Annotated[
        str | None, typer.Option(help="Override training.learning_rate.", metavar="X")
    ] = None,
    rows: RowsOption = 24,
    tolerances: Annotated[
        bool, typer.Option("--tolerances", help="Add the tolerance `check` accepts per entry.")
    ] = False,
    float32: Annotated[
        bool, typer.Option("--float32", help="Add a float32 column (PyTorch's default precision).")
    ] = False,
    jacobians: Annotated[
        bool, typer.Option("--jacobians", help="Write out the local Jacobians and the 3-tensor.")
    ] = False,
    explain: Annotated[
        list[str] | None,
        typer.Option(
            "--explain",
            help="Work one entry out by hand, e.g. 'dW2[1,3]' (repeatable).",
            metavar="ENTRY",
        ),
    ] = None,
) -> None:
    """Run one update cycle and show every written number beside float64."""
    _check_format(fmt)
    from handcalc.config import load as cfg
    from handcalc.model.runner import make_trace

    flags = {
        "rounding.digits": ("--digits", digits),
        "rounding.mode": ("--mode", mode),
        "rounding.rule": ("--rule", rule),
        "rounding.per": ("--per", per),
        "init.seed": ("--seed", seed),
        "training.steps": ("--steps", steps),
        "training.learning_rate": ("--learning-rate", learning_rate),
    }
    overrides = {k: (v, flag) for k, (flag, v) in flags.items() if v is not None}
    problem = cfg.load(config, overrides)
    trace = make_trace(problem, float32=float32, jacobians=jacobians)
    if explain:
        from handcalc.explain import explain_all

        _write(explain_all(trace, explain), output, force)
        return
    _emit(trace, fmt, output, force, rows, tolerances)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"--format: unknown value {fmt!r} (one of {', '.join(FORMATS)})")


def _emit(
    trace: object, fmt: str, output: Path | None, force: bool, rows: int, tolerances: bool
) -> None:
    from handcalc.render import markdown, terminal
    from handcalc.trace import Trace

    assert isinstance(trace, Trace)
    if fmt == "terminal" and output is None:
        from rich.console import Console

        terminal.render(trace, Console(), rows, tolerances)
        return
    if fmt == "json":
        text = trace.to_json()
    elif fmt == "markdown":
        text = markdown.render(trace, rows, tolerances)
    else:
        text = terminal.to_text(trace, max_rows=rows, tolerances=tolerances)
    _write(text, output, force)


def _write(text: str, output: Path | None, force: bool) -> None:
    from handcalc.files import write_atomic

    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text, force)


@app.command(epilog=CHECK_EXAMPLES)
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="[CONFIG] ANSWERS: the config (the embedded default when left out) "
            "and the student's answers file.",
            show_default=False,
            metavar="[CONFIG] ANSWERS",
        ),
    ] = None,
    template: Annotated[
        bool, typer.Option("--template", help="Print a blank answers file for CONFIG.")
    ] = False,
    tolerance: Annotated[
        str | None,
        typer.Option(
            help="Accept |answer - key| up to X for every entry (default: per entry, see "
            "run --tolerances).",
            metavar="X",
        ),
    ] = None,
    carried_credit: Annotated[
        str, typer.Option(help="Share of the points a carried entry earns, 0 to 1.", metavar="X")
    ] = "1",
    fmt: Annotated[
        str, typer.Option("--format", "-f", metavar="terminal|json", help="Output format.")
    ] = "terminal",
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Grade a student's answers: correct, carried (error carried forward) or wrong."""
    from handcalc.config import load as cfg
    from handcalc.grading import answers as ans
    from handcalc.grading import check as chk
    from handcalc.model.runner import make_trace

    items = list(paths or [])
    if fmt not in ("terminal", "json"):
        raise ConfigError(f"--format: unknown value {fmt!r} (one of terminal, json)")
    if len(items) > (1 if template else 2) or (not template and not items):
        want = "[CONFIG]" if template else "[CONFIG] ANSWERS"
        raise ConfigError(f"check: expected {want}, got {len(items)} file names")
    config_path = items[0] if (template and items) or len(items) == 2 else None
    trace = make_trace(cfg.load(config_path))
    if template:
        _write(ans.template(trace, chk.answerable(trace)), output, force)
        return
    given = ans.read(items[-1], {k: s.shape for k, s in chk.answerable(trace).items()})
    report = chk.grade(
        trace,
        given,
        _decimal_option("--tolerance", tolerance, 0, None),
        _decimal_option("--carried-credit", carried_credit, 0, 1) or Decimal(0),
    )
    _report(report, fmt, output, force)
    raise typer.Exit(report.exit_code)


def _decimal_option(flag: str, text: str | None, low: int, high: int | None) -> Decimal | None:
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


def _report(report: object, fmt: str, output: Path | None, force: bool) -> None:
    from handcalc.grading.verdicts import Report
    from handcalc.render import check_report as rep
    from handcalc.trace import dumps

    assert isinstance(report, Report)
    if fmt == "json":
        _write(dumps(rep.to_dict(report)) + "\n", output, force)
        return
    if output is None:
        from rich.console import Console
        from rich.text import Text

        Console().print(Text("\n").join(rep.lines(report)), overflow="fold")
        return
    _write(rep.to_text(report), output, force)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write it; - for standard output.")] = Path(
        "handcalc.yaml"
    ),
    force: ForceOption = False,
) -> None:
    """Write a fully commented starter config (every key, its default, its choices)."""
    from handcalc.config.load import default_text
    from handcalc.files import write_atomic

    text = default_text()
    if str(path) == "-":
        sys.stdout.write(text)
        return
    write_atomic(path, text, force)
    print(f"wrote {path}; run it with: handcalc run {path}", file=sys.stderr)


@app.command()
def worksheet(
    config: ConfigArg = None,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help=("Where to write: .pdf, .typ (Typst), .tex (LaTeX), .md or .html."),
        ),
    ] = Path(),
    key: Annotated[bool, typer.Option("--key", help="The answer key instead.")] = False,
    hints: Annotated[bool, typer.Option("--hints", help="Print each step's formula.")] = False,
    jacobians: Annotated[
        bool, typer.Option("--jacobians", help="Add the local Jacobians and the 3-tensor.")
    ] = False,
    force: ForceOption = False,
) -> None:
    """Write a printable worksheet, or with --key its answer key."""
    from handcalc.config import load as cfg
    from handcalc.documents import formats as printing
    from handcalc.documents import paper as document
    from handcalc.files import write_atomic
    from handcalc.model.runner import make_trace

    if output == Path():
        raise ConfigError(
            "--output: missing (a file name ending in .pdf, .typ, .tex, .md or .html)"
        )
    suffix = printing.suffix_of(output)
    trace = make_trace(cfg.load(config), jacobians=jacobians)
    doc = document.build(trace, key=key, hints=hints)
    write_atomic(output, printing.render([doc], suffix, doc.header.title), force)


@app.command()
def exam(
    config: ConfigArg = None,
    variants: Annotated[
        int, typer.Option("--variants", "-n", min=1, max=500, help="How many variants.")
    ] = 1,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="DIR", help="The folder to write the exam into."),
    ] = Path(),
    moodle: Annotated[
        Path | None,
        typer.Option(
            "--moodle", metavar="FILE", help="Also write the variants as a Moodle XML quiz."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty DIR.")] = False,
) -> None:
    """Make exam variants: per variant a worksheet, a key and its config; combined PDFs."""
    from handcalc.config import load as cfg
    from handcalc.documents import exam as ex

    if output == Path():
        raise ConfigError("--output: missing (the folder to write the exam into)")
    written = ex.write(cfg.load(config), variants, output, force, moodle)
    print(
        f"wrote {len(written)} files to {output}" + (f" and {moodle}" if moodle else ""),
        file=sys.stderr,
    )


@app.command()
def calibrate(
    config: ConfigArg = None,
    fmt: FormatOption = "terminal",
    output: OutputOption = None,
    force: ForceOption = False,
    rows: RowsOption = 24,
) -> None:
    """Fit the temperature T on the config's calibration set by gradient steps in T."""
    from handcalc.config import load as cfg
    from handcalc.model import calibration as cal

    _check_format(fmt)
    _emit(cal.make(cfg.load(config)), fmt, output, force, rows, False)


@app.command("mc-dropout")
def mc_dropout(
    config: ConfigArg = None,
    passes: Annotated[int, typer.Option("--passes", "-T", help="Stochastic forward passes.")] = 10,
    fmt: FormatOption = "terminal",
    output: OutputOption = None,
    force: ForceOption = False,
    rows: RowsOption = 24,
) -> None:
    """Monte Carlo dropout: T stochastic test-time passes, their mean and per-class variance."""
    from handcalc.config import load as cfg
    from handcalc.model import mc_dropout as mcdropout

    _check_format(fmt)
    _emit(mcdropout.make(cfg.load(config), passes), fmt, output, force, rows, False)


@app.command("export-torch")
def export_torch(
    config: ConfigArg = None,
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Write a standalone PyTorch script that runs the same cycle (float64 or float32)."""
    from handcalc.config import load as cfg
    from handcalc.export_torch import script

    problem = cfg.load(config)
    _write(script(problem, str(config) if config else "the embedded default config"), output, force)


@app.command()
def schema() -> None:
    """Print a JSON Schema of the config, for editors that complete and check YAML."""
    import json

    from handcalc.config.schema import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    """Console entry point: every HandcalcError ends as one line on stderr and exit code 2."""
    try:
        app()
    except HandcalcError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # `handcalc run | head`: the reader left; not an error
        sys.stderr.close()
        sys.exit(0)
