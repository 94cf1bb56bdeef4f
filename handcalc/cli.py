"""The command line: typer commands; the one place a HandcalcError becomes `error: ...`, exit 2."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from handcalc import OVERRIDES
from handcalc import cli_options as opt
from handcalc.cli_examples import CHECK_EXAMPLES, EXAMPLES, GRADE_EXAMPLES
from handcalc.errors import ConfigError, HandcalcError, OutputError
from handcalc.progress import wrote
from handcalc.serve.command import serve
from handcalc.text import clean, json_safe, message

if TYPE_CHECKING:
    from collections.abc import Iterator

    from handcalc.config.problem import Problem
    from handcalc.grading.check import Options
    from handcalc.grading.verdicts import Report
    from handcalc.trace import Trace

STDIN = "<stdin>"

app = typer.Typer(
    name="handcalc",
    help="One training step of a small neural network, computed by hand-calculation rules.",
    epilog=EXAMPLES,
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(version: opt.VersionOption = False) -> None:
    """One training step of a small neural network, computed by hand-calculation rules."""


@app.command(epilog=EXAMPLES)
def run(
    config: opt.ConfigArg = None,
    fmt: opt.FormatOption = "terminal",
    output: opt.OutputOption = None,
    force: opt.ForceOption = False,
    digits: opt.DigitsOption = None,
    mode: opt.ModeOption = None,
    rule: opt.RuleOption = None,
    per: opt.PerOption = None,
    seed: opt.SeedOption = None,
    steps: opt.StepsOption = None,
    learning_rate: opt.LearningRateOption = None,
    rows: opt.RowsOption = 24,
    tolerances: opt.TolerancesOption = False,
    float32: opt.Float32Option = False,
    jacobians: opt.JacobiansOption = False,
    explain: opt.ExplainOption = None,
) -> None:
    """Run one update cycle and show every written number beside float64."""
    shown = opt.format_of(fmt, opt.FORMATS)
    overrides = _overrides(
        digits=digits,
        mode=mode,
        rule=rule,
        per=per,
        seed=seed,
        steps=steps,
        learning_rate=learning_rate,
    )
    trace = _trace(config, overrides, float32=float32, jacobians=jacobians)
    if explain:
        from handcalc.explain import explain_all

        _write(explain_all(trace, explain), output, force)
        return
    _emit(trace, shown, output, force, rows, tolerances)


def _overrides(**given: str | None) -> dict[str, tuple[str, str]]:
    """Options given that override config keys, as `load` takes them: key -> (text, flag)."""
    return {
        OVERRIDES[name]: (text, "--" + name.replace("_", "-"))
        for name, text in given.items()
        if text is not None
    }


def _load(config: Path | None, overrides: dict[str, tuple[str, str]] | None = None) -> Problem:
    """The config named on the command line: a file, - for standard input, or the default."""
    from handcalc.config import load as cfg

    if config is None or str(config) != "-":
        return cfg.load(config, overrides)
    from handcalc.config.source import read_stream

    # the same size cap as a config file's, so a refusal stays as quick
    return cfg.load_node(read_stream(sys.stdin.buffer, STDIN), STDIN, overrides)


def _trace(
    config: Path | None,
    overrides: dict[str, tuple[str, str]] | None = None,
    *,
    float32: bool = False,
    jacobians: bool = False,
) -> Trace:
    from handcalc.model.runner import make_trace

    return make_trace(_load(config, overrides), float32=float32, jacobians=jacobians)


def _emit(
    trace: Trace, fmt: opt.Format, output: Path | None, force: bool, rows: int, tolerances: bool
) -> None:
    if fmt == "json":
        _write(trace.json_chunks(), output, force, json=True)  # streamed, never held whole
        return
    from handcalc.render import terminal

    if fmt == "terminal" and output is None:
        from rich.console import Console

        terminal.render(trace, Console(), rows, tolerances)
        return
    if fmt == "markdown":
        from handcalc.render import markdown

        text = markdown.render(trace, rows, tolerances)
    else:
        text = terminal.to_text(trace, max_rows=rows, tolerances=tolerances)
    _write(text, output, force)


def _write(text: str | Iterator[str], output: Path | None, force: bool, json: bool = False) -> None:
    """Text (JSON may come in pieces) to standard output or a file; whatever came from input, no
    control character in it reaches either (each renderer escapes; this is the backstop)."""
    from handcalc.files import write_atomic

    if isinstance(text, str):
        text = json_safe(text) if json else clean(text, newlines=True)
    else:
        # an unsafe character is one character: a text is safe when each of its pieces is
        text = map(json_safe, text) if json else (clean(t, newlines=True) for t in text)
    if output is None:
        sys.stdout.writelines(text)
    else:
        write_atomic(output, text, force)
        wrote(output)


@app.command(epilog=CHECK_EXAMPLES)
def check(
    paths: opt.CheckPathsArg = None,
    template: opt.TemplateOption = False,
    tolerance: opt.ToleranceOption = None,
    carried_credit: opt.CarriedCreditOption = "1",
    only_answered: opt.OnlyAnsweredOption = False,
    fmt: opt.ReportFormatOption = "terminal",
    output: opt.OutputOption = None,
    force: opt.ForceOption = False,
) -> None:
    """Grade a student's answers: correct, carried (error carried forward) or wrong."""
    from handcalc.grading import session

    shown = opt.format_of(fmt, opt.REPORT_FORMATS)
    items = list(paths or [])
    config = _check_config(items, template)
    if template:
        _write(session.blank(config), output, force)
        return
    options = _grading_options(tolerance, carried_credit, only_answered)
    report = session.check(config, items[-1], options)
    _report(report, shown, output, force)
    raise typer.Exit(report.exit_code)


def _check_config(items: list[Path], template: bool) -> Path | None:
    """The config among `check`'s file names (None: the embedded default)."""
    if len(items) > (1 if template else 2) or (not template and not items):
        want = "[CONFIG]" if template else "[CONFIG] ANSWERS"
        raise ConfigError(f"check: expected {want}, got {len(items)} file names")
    return items[0] if (template and items) or len(items) == 2 else None


def _grading_options(tolerance: str | None, carried_credit: str, only_answered: bool) -> Options:
    from handcalc.grading.check import Options

    return Options(
        tolerance=opt.decimal_option("--tolerance", tolerance, 0, None),
        carried_credit=opt.decimal_option("--carried-credit", carried_credit, 0, 1) or Decimal(0),
        only_answered=only_answered,
    )


@app.command(epilog=GRADE_EXAMPLES)
def grade(
    exam: opt.ExamDirArg,
    answers: opt.AnswersArg,
    output: opt.GradesFolderOption = None,
    feedback: opt.FeedbackOption = False,
    lms: opt.LmsOption = False,
    tolerance: opt.ToleranceOption = None,
    carried_credit: opt.CarriedCreditOption = "1",
    force: opt.ForceOption = False,
) -> None:
    """Grade a class: each answers file against its exam variant; a gradebook and a summary."""
    from handcalc.grading import gradebook
    from handcalc.render import gradebook as shown

    if output is None:
        raise ConfigError("--output: missing (the folder to write the gradebook into)")
    options = _grading_options(tolerance, carried_credit, False)
    book = gradebook.grade_all(exam, answers, options)
    written = shown.write(book, output, force, feedback=feedback, lms=lms)
    shown.print_summary(book)
    print(clean(f"wrote {len(written)} files to {output}"), file=sys.stderr)


def _report(report: Report, fmt: opt.Format, output: Path | None, force: bool) -> None:
    from handcalc.render import check_report as rep
    from handcalc.rowmajor import dumps

    if fmt == "json":
        _write(dumps(rep.to_dict(report)) + "\n", output, force, json=True)
        return
    if output is None:
        from rich.console import Console
        from rich.text import Text

        Console().print(Text("\n").join(rep.lines(report)), overflow="fold")
        return
    _write(rep.to_text(report), output, force)


@app.command()
def init(
    path: opt.InitPathArg = Path("handcalc.yaml"),
    force: opt.ForceOption = False,
) -> None:
    """Write a fully commented starter config (every key, its default, its choices)."""
    from handcalc.config.load import default_text
    from handcalc.files import write_atomic

    text = default_text()
    if str(path) == "-":
        sys.stdout.write(text)
        return
    write_atomic(path, text, force)
    shown = clean(str(path))
    print(f"wrote {shown}; run it with: handcalc run {shown}", file=sys.stderr)


@app.command()
def worksheet(
    config: opt.ConfigArg = None,
    output: opt.PaperOutputOption = None,
    key: opt.KeyOption = False,
    hints: opt.HintsOption = False,
    jacobians: opt.PaperJacobiansOption = False,
    force: opt.ForceOption = False,
) -> None:
    """Write a printable worksheet, or with --key its answer key."""
    from handcalc.config import limits
    from handcalc.config import load as cfg
    from handcalc.documents import formats as printing
    from handcalc.documents import paper as document
    from handcalc.files import write_atomic
    from handcalc.model.runner import make_trace

    wanted = "a file name ending in .pdf, .typ, .tex, .md or .html"
    if output is None:
        raise ConfigError(f"--output: missing ({wanted})")
    if output.is_dir():
        raise OutputError(f"--output: {output}: is a directory ({wanted})")
    suffix = printing.suffix_of(output)
    problem = cfg.load(config)
    if suffix == ".pdf":
        limits.check_pdf(problem, jacobians)
    doc = document.build(make_trace(problem, jacobians=jacobians), key=key, hints=hints)
    data = printing.render([doc], suffix, doc.header.title)
    write_atomic(output, data, force)
    wrote(output, data if suffix == ".pdf" else None)


@app.command()
def exam(
    config: opt.ConfigArg = None,
    variants: opt.VariantsOption = 1,
    output: opt.FolderOption = None,
    moodle: opt.MoodleOption = None,
    duplex: opt.DuplexOption = False,
    force: opt.FolderForceOption = False,
) -> None:
    """Make exam variants: per variant a worksheet, a key and its config; combined PDFs."""
    from handcalc import progress
    from handcalc.documents import exam as ex

    if output is None:
        raise ConfigError("--output: missing (the folder to write the exam into)")
    problem = _load(config)
    with progress.shown() as steps:
        written = ex.write(problem, variants, output, force, moodle, duplex=duplex, steps=steps)
    print(clean(written.summary()), file=sys.stderr)


@app.command()
def calibrate(
    config: opt.ConfigArg = None,
    fmt: opt.FormatOption = "terminal",
    output: opt.OutputOption = None,
    force: opt.ForceOption = False,
    rows: opt.RowsOption = 24,
) -> None:
    """Fit the temperature T on the config's calibration set by gradient steps in T."""
    from handcalc.model import calibration as cal

    shown = opt.format_of(fmt, opt.FORMATS)
    _emit(cal.make(_load(config)), shown, output, force, rows, False)


@app.command("mc-dropout")
def mc_dropout(
    config: opt.ConfigArg = None,
    passes: opt.PassesOption = None,
    fmt: opt.FormatOption = "terminal",
    output: opt.OutputOption = None,
    force: opt.ForceOption = False,
    rows: opt.RowsOption = 24,
) -> None:
    """Monte Carlo dropout: T stochastic test-time passes, their mean and per-class variance."""
    from handcalc.model import mc_dropout as mcdropout

    shown = opt.format_of(fmt, opt.FORMATS)
    _emit(mcdropout.make(_load(config), passes), shown, output, force, rows, False)


@app.command("export-torch")
def export_torch(
    config: opt.ConfigArg = None,
    output: opt.OutputOption = None,
    force: opt.ForceOption = False,
) -> None:
    """Write a standalone PyTorch script that runs the same cycle (float64 or float32)."""
    from handcalc.export_torch import script

    problem = _load(config)
    named = str(config) if config is not None else None
    source = {None: "the embedded default config", "-": "standard input"}.get(named, str(named))
    _write(script(problem, source), output, force)


@app.command()
def schema() -> None:
    """Print a JSON Schema of the config, for editors that complete and check YAML."""
    import json

    from handcalc.config.schema import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")


app.command()(serve)


def main() -> None:
    """Console entry point: every error, ours or the option parser's, ends as one line on
    stderr and exit code 2."""
    try:
        code = app(prog_name="handcalc", standalone_mode=False)
        sys.stdout.flush()  # a full disk behind standard output is an error like any other
    except HandcalcError as e:
        _fail(str(e))
    except BrokenPipeError:  # `handcalc run | head`: the reader left; not an error
        sys.stderr.close()
        sys.exit(0)
    except OSError as e:  # one no message above foresaw; named by its file when it has one
        where = e.filename if e.filename is not None else "standard output"
        _fail(f"{where}: cannot be written ({e.strerror or e})")
    except Exception as e:
        line = opt.usage_message(e)
        if line is None:
            raise
        if type(e).__name__ == "NoArgsIsHelpError":  # `handcalc` alone: the help
            print(getattr(e, "message", ""), file=sys.stderr)
            sys.exit(2)
        _fail(line)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(text: str) -> None:
    print(f"error: {message(text)}", file=sys.stderr)
    sys.exit(2)
