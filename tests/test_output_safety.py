"""Hostile text in every output format, and files that cannot or must not be written."""

from __future__ import annotations

import html.parser
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt
from pypdf import PdfReader
from rich.console import Console

from conftest import ROOT
from handcalc.config import load as config
from handcalc.config.problem import Problem
from handcalc.documents import formats
from handcalc.documents import paper as document
from handcalc.documents.moodle import quiz
from handcalc.documents.variants import Variant
from handcalc.model.runner import make_trace
from handcalc.render import markdown, terminal
from handcalc.text import UNSAFE, clean, message

Cli = Callable[..., tuple[int, str, str]]
DEFAULT = ROOT / "configs" / "default.yaml"

HOSTILE = [
    "\x1b]52;c;aGFja2Vk\x07 clipboard",  # OSC 52: write the clipboard
    "\x1b[2J\x1b[H cleared",  # CSI 2J: clear the screen
    "\x1b]0;owned\x07 title",  # OSC 0: the window title
    "nul\x00byte del\x7f",
    "carriage\rreturn",
    "\x9b31m C1 \x85 next line",
    "bidi \u202egnp.exe \u2066isolate\u2069 \u200f",
    "line\u2028separator\u2029",
    "two\nlines\tand a tab",
    "# heading\n- item\n1. list\n> quote\n```\nfence\n```\n    indented",
    "[link](http://x.example) ![image](http://y.example/i.png) <http://z.example>",
    "`tick` $x$ *b* _i_ | pipe ~~s~~ &amp; \\*",
    r"\input{/etc/passwd} % & # ^ ~ { } [1cm] \\",
    '#read("/etc/passwd") #set text(red) $x$ @ref <label> *strong*',
    "<script>alert(1)</script> & &lt; \" '",
    "]]> <![CDATA[ x ]]> <!-- comment -->",
    "\ufffe\uffff\ud800 not characters",
    "9" * 5000,
    "x" * 3000 + "\x1b[2J",
]
IDS = [f"hostile{i}" for i in range(len(HOSTILE))]
SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own styling


def hostile_problem(text: str) -> Problem:
    """The default problem with `text` as title, course, date and instructions."""
    p = config.load(DEFAULT)
    d = replace(p.document, course=text, date=text, instructions=text)
    return replace(p, title=text, document=d)


def assert_safe(text: str) -> None:
    found = UNSAFE.search(text)
    assert found is None, f"raw {found.group()!r} at {found.start()}"


def test_clean_shows_every_control_character() -> None:
    assert clean("\x1b]0;x\x07") == "\\x1b]0;x\\x07"
    assert clean("a\u202eb\x9b") == "a\\u202eb\\x9b"
    assert clean("a\nb\tc") == "a b c"
    assert clean("a\nb\tc", newlines=True) == "a\nb c"
    assert clean("\ud800") == "\\ud800"
    for text in HOSTILE:
        assert_safe(clean(text))
        assert clean(clean(text)) == clean(text)  # shown once, never escaped twice


def test_messages_are_one_short_line() -> None:
    line = message("data.label: " + "9" * 5000 + " is out of range")
    assert "\n" not in line and len(line) < 200 and "(5,000 characters)" in line
    assert len(message(" ".join(["word"] * 2000))) < 700
    assert_safe(message("\x1b[2J\nsecond line"))


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_terminal_and_markdown(text: str) -> None:
    trace = make_trace(hostile_problem(text))
    plain = terminal.to_text(trace)
    assert_safe(plain)
    assert plain.splitlines()[0].startswith(clean(text)[:60])
    styled = Console(file=io.StringIO(), force_terminal=True, width=80, color_system="standard")
    terminal.render(trace, styled)
    assert_safe(SGR.sub("", styled.file.getvalue()))  # type: ignore[attr-defined]
    md = markdown.render(trace)
    assert_safe(md)
    assert md.startswith(f"# {markdown._escape(text)}\n")
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    heading = tokens[1]
    assert tokens[0].tag == "h1" and heading.content  # the title stays one heading
    rendered = MarkdownIt("commonmark").render(md.split("\n", 1)[0])
    assert rendered.startswith("<h1>") and "<a " not in rendered and "<img" not in rendered
    assert "<code>" not in rendered and "<script" not in rendered


class Tags(html.parser.HTMLParser):
    """The start tags of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_documents(text: str) -> None:
    trace = make_trace(hostile_problem(text))
    for key in (False, True):
        doc = document.build(trace, key=key)
        for suffix in (".md", ".tex", ".html", ".typ"):
            source = formats.render([doc], suffix, doc.header.title).decode()
            assert_safe(source)
        page = formats.render([doc], ".html", doc.header.title).decode()
        parser = Tags()
        parser.feed(page)
        assert "script" not in parser.tags and "a" not in parser.tags and "img" not in parser.tags
        lines = formats.render([doc], ".md", doc.header.title).decode().splitlines()
        assert lines[0] == f"# {markdown._escape(text)}"
        rendered = MarkdownIt("commonmark").render("\n".join(lines[:8]))
        assert rendered.count("<h1>") == 1 and "<h2>" not in rendered and "<li>" not in rendered
        assert "<a " not in rendered and "<img" not in rendered and "<pre>" not in rendered
        assert "<blockquote>" not in rendered and "<code>" not in rendered


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_typst_pdf_shows_the_text(text: str) -> None:
    """The PDF compiles, and shows the text as `clean` writes it, never as a JSON escape."""
    doc = document.build(make_trace(hostile_problem(text)), key=False)
    pdf = formats.render([doc], ".pdf", doc.header.title)
    first = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "\\u001b" not in first and "\\u202e" not in first.replace(clean(text), "")
    words = [w for w in clean(text).split() if len(w) > 3 and w.isalnum()]
    assert all(w[:40] in first.replace("\n", "") for w in words[:3]), first[:300]


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_moodle_xml_is_well_formed(text: str) -> None:
    trace = make_trace(hostile_problem(text))
    xml = quiz([Variant(number=1, seed=7, trace=trace)], text)
    assert_safe(xml)
    root = ET.fromstring(xml.encode())
    name = root.find("question[@type='cloze']/name/text")
    assert name is not None and name.text == f"{clean(text)}: variant 1 (seed 7)"
    category = root.find("question[@type='category']/category/text")
    assert category is not None and category.text == "$course$/" + clean(text).replace("/", "//")


def test_latex_with_hostile_text_compiles(tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    text = " ".join(t[:200] for t in HOSTILE)
    doc = document.build(make_trace(hostile_problem(text)), key=True)
    (tmp_path / "k.tex").write_bytes(formats.render([doc], ".tex", doc.header.title))
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "k.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:]


def config_with(tmp_path: Path, text: str) -> Path:
    data = yaml.safe_load(DEFAULT.read_text())
    data["title"] = text
    data["document"] = {"course": text, "instructions": text}
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=False))
    return path


@pytest.mark.parametrize("text", HOSTILE[:8] + HOSTILE[-2:], ids=IDS[:8] + IDS[-2:])
def test_cli_outputs(run_cli: Cli, tmp_path: Path, text: str) -> None:
    """Through the command line: either every output is safe, or one safe line says why not."""
    path = config_with(tmp_path, text)
    code, out, err = run_cli("run", str(path))
    assert_safe(out + err)
    if code == 2:  # the config refused the text: one line
        assert err.startswith("error: ") and err.count("\n") == 1
        return
    assert code == 0, err
    code, out, err = run_cli("run", str(path), "--format", "json")
    assert code == 0 and err == ""
    assert_safe(out)
    assert json.loads(out)["config"]["title"] == text  # JSON keeps the text, escaped
    for fmt in ("terminal", "markdown"):
        target = tmp_path / f"out-{fmt}"
        assert run_cli("run", str(path), "-f", fmt, "-o", str(target))[0] == 0
        assert_safe(target.read_text())
    for suffix in (".md", ".tex", ".html", ".typ"):
        target = tmp_path / f"sheet{suffix}"
        assert run_cli("worksheet", str(path), "--key", "-o", str(target))[0] == 0
        assert_safe(target.read_text())
    code, out, err = run_cli("export-torch", str(path))
    assert code == 0 and '"""' not in out.split('"""', 2)[1]  # the docstring ends where it should
    compile(out, "twin.py", "exec")


def test_check_report_shows_student_text_safely(run_cli: Cli, tmp_path: Path) -> None:
    path = config_with(tmp_path, HOSTILE[0])
    answers = tmp_path / "answers.yaml"
    hostile = {text[:300]: [1] for text in HOSTILE if "\x00" not in text and "\ud800" not in text}
    answers.write_text(yaml.safe_dump({**hostile, "z1": ["\x1b[2J", 1, 2]}, allow_unicode=False))
    for fmt in ("terminal", "json"):
        code, out, err = run_cli("check", str(path), str(answers), "--format", fmt)
        assert code in (0, 1, 2), err
        assert_safe(out + err)
        if code != 2:
            assert "unknown step id" in out
        if fmt == "json" and code != 2:
            json.loads(out)
    target = tmp_path / "report.txt"
    run_cli("check", str(path), str(answers), "-o", str(target))
    assert_safe(target.read_text())


def test_exam_and_quiz_with_hostile_title(run_cli: Cli, tmp_path: Path) -> None:
    text = " ".join(t[:100] for t in HOSTILE)
    path = config_with(tmp_path, text)
    folder, moodle = tmp_path / "exam", tmp_path / "quiz.xml"
    code, _, err = run_cli("exam", str(path), "-o", str(folder), "--moodle", str(moodle))
    assert_safe(err)
    if code == 2:
        assert err.count("\n") == 1
        return
    assert code == 0, err
    ET.parse(moodle)  # well-formed
    assert_safe(moodle.read_text())
    variant = (folder / "variant-01.yaml").read_text()
    assert_safe(variant)
    assert yaml.safe_load(variant)["title"] == text  # the variant re-runs the same paper


@pytest.mark.parametrize(
    "text",
    ["\x1b]0;owned\x07", "\x1b[2J", "\u202e", "9" * 5000],
    ids=["osc", "csi", "bidi", "long"],
)
def test_errors_echo_input_safely(run_cli: Cli, tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {"network": {"widths": [2, 2]}, "data": {"x": [1, 2], "label": 1}, text: 1},
            allow_unicode=False,
        )
    )
    for args in (
        ["run", str(bad)],
        ["run", str(tmp_path / f"{text[:200]}.yaml")],
        ["run", "--format", text],
        ["run", "--rows", text],
        ["run", "--explain", text],
        ["run", "--digits", text],
    ):
        code, out, err = run_cli(*args)
        assert code == 2 and out == ""
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert_safe(err)
        assert len(err) < 700


def test_force_never_replaces_a_pipe(run_cli: Cli, tmp_path: Path) -> None:
    """A FIFO is written into while a reader holds it open, refused when none does."""
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    for name in (fifo, link):
        code, _, err = run_cli("run", "-f", "json", "-o", str(name), "--force")
        assert code == 2 and err == f"error: {name}: is a named pipe (FIFO) with no reader\n"
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    while not got and reader.is_alive():
        if run_cli("run", "-f", "json", "-o", str(fifo), "--force")[0] == 0:
            break  # the reader had opened its end: written into
    reader.join(timeout=60)
    assert json.loads(got[0])["schema"] == "handcalc.trace/1"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the pipe
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "pipe"]


def test_a_character_device_is_written_into(run_cli: Cli) -> None:
    """/dev/full takes writes like /dev/null, then says the disk is full."""
    import os
    import stat

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    for force in ([], ["--force"]):
        code, _, err = run_cli("run", "-o", "/dev/full", *force)
        assert (
            code == 2 and err == "error: /dev/full: cannot be written (No space left on device)\n"
        )
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_links_folders_and_files(run_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "key.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    code, _, err = run_cli("run", "-o", str(link))
    assert code == 2 and err == f"error: {link}: already exists (use --force to overwrite)\n"
    assert run_cli("run", "-o", str(link), "--force")[0] == 0
    assert link.is_symlink() and target.read_text().startswith("One training step")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nothing")
    (tmp_path / "folder").mkdir()
    for name, what in ((dangling, "a symbolic link to nothing"), (tmp_path / "folder", "a dir")):
        code, _, err = run_cli("run", "-o", str(name), "--force")
        assert code == 2 and err.startswith(f"error: {name}: is {what}"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling",
        "folder",
        "key.txt",
        "link.txt",
    ]


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file write fails as on a full disk, once its data is flushed."""
    import errno
    import os

    def fail(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fail)


def read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing can be created in the current folder, as if it were read-only (even for root)."""
    import errno
    import os
    import tempfile

    here = Path.cwd()

    def guard(make: Callable[..., object]) -> Callable[..., object]:
        def made(
            suffix: str | None = None, prefix: str | None = None, dir: str | None = None
        ) -> object:
            if dir is not None and Path(dir).resolve() == here.resolve():
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), dir)
            return make(suffix, prefix, dir)

        return made

    monkeypatch.setattr(tempfile, "mkstemp", guard(tempfile.mkstemp))
    monkeypatch.setattr(tempfile, "mkdtemp", guard(tempfile.mkdtemp))


@pytest.mark.parametrize("broken", [full_disk, read_only], ids=["full disk", "read-only"])
@pytest.mark.parametrize(
    "args",
    [["run", "-o", "out.txt"], ["worksheet", "-o", "sheet.pdf"], ["exam", "-o", "exam"]],
    ids=["run", "worksheet", "exam"],
)
def test_unwritable_is_one_line_and_leaves_nothing(
    run_cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    broken: Callable[[pytest.MonkeyPatch], None],
    args: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    broken(monkeypatch)
    code, out, err = run_cli(*args)
    reason = "No space left on device" if broken is full_disk else "Read-only file system"
    assert code == 2 and out == ""
    assert err == f"error: {args[-1]}: cannot be written ({reason})\n"
    assert list(tmp_path.iterdir()) == []


def test_full_standard_output_is_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "handcalc", "run"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr == "error: standard output: cannot be written (No space left on device)\n"


def test_json_safe_passes_plain_ascii_unchanged_and_escapes_the_rest() -> None:
    """The shortcut for printable ASCII gives what escaping every unsafe character gives."""
    from handcalc.text import json_safe

    for code in range(0x80):
        text = f'{{"a": "x{chr(code)}y"}}\n'
        escaped = UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        assert json_safe(text) == escaped, code
    assert json_safe("[0.5, 1e-05]\n") == "[0.5, 1e-05]\n"
    assert json_safe('"\x7f\x1b\u202e"') == '"\\u007f\\u001b\\u202e"'
