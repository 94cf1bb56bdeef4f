"""Exams typeset in worker processes and joined into one PDF; progress and the written line."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader
from rich.console import Console

from handcalc import progress
from handcalc.config import load as config
from handcalc.documents import exam
from handcalc.errors import ConfigError, HandcalcError
from handcalc.render import pdf, pdfjoin
from handcalc.render.pdfjoin import Part, join

Cli = Callable[..., tuple[int, str, str]]
DEFAULT = Path(__file__).resolve().parent.parent / "configs" / "default.yaml"

# Without a date, a PDF is a function of its source. Headings become outline entries whose
# titles hold parentheses, a backslash and text that reads like a reference: the join must
# renumber references, never text.
SOURCE = """#set document(title: "Part {n}", date: none)
#set page(width: 10cm, height: 6cm)
= Given (1 0 R) ((nested) \\\\ back) é
Page one of part {n}.
#pagebreak()
= Loss {n}
Page two of part {n}.
"""


def parts(count: int) -> list[bytes]:
    return [pdf.pdf(SOURCE.replace("{n}", str(n))) for n in range(1, count + 1)]


def text(reader: PdfReader, page: int) -> str:
    return " ".join((reader.pages[page].extract_text() or "").split())


def titles(outline: list[object]) -> list[object]:
    return [titles(o) if isinstance(o, list) else getattr(o, "title", None) for o in outline]


def test_join_keeps_every_page_in_order_and_each_part_an_outline_entry() -> None:
    joined = join([Part(p, f"Variant {n}") for n, p in enumerate(parts(3), start=1)], "Keys ü")
    reader = PdfReader(io.BytesIO(joined), strict=True)
    assert [text(reader, k) for k in range(6)] == [
        f"Given (1 0 R) ((nested) \\ back) é Page {word} of part {n}."
        if word == "one"
        else f"Loss {n} Page two of part {n}."
        for n in (1, 2, 3)
        for word in ("one", "two")
    ]
    own = ["Given (1 0 R) ((nested) \\ back) é", None]  # "Loss n" differs per part
    found = titles(reader.outline)
    assert found[0::2] == ["Variant 1", "Variant 2", "Variant 3"]
    assert [[t[0]] for t in found[1::2]] == [[own[0]]] * 3
    assert [t[1] for t in found[1::2]] == ["Loss 1", "Loss 2", "Loss 3"]
    assert reader.metadata is not None and reader.metadata.title == "Keys ü"
    # each variant's entry opens its first page
    firsts = [reader.get_destination_page_number(o) for o in reader.outline[0::2]]
    assert firsts == [0, 2, 4]


def test_join_of_parts_without_labels_has_an_empty_outline() -> None:
    reader = PdfReader(io.BytesIO(join([Part(p) for p in parts(2)], "t")), strict=True)
    assert len(reader.pages) == 4
    assert reader.outline == []
    assert pdfjoin.pages(join([Part(p) for p in parts(2)], "t")) == 4


def test_a_pdf_not_laid_out_as_typst_writes_is_refused_and_merged_by_the_library() -> None:
    typst = parts(1)[0]
    at = typst.rindex(b"startxref")
    broken = typst[:at] + b"startxref\n9\n%%EOF\n"  # the table is not where it says
    with pytest.raises(pdfjoin.Unsupported):
        join([Part(broken)], "t")
    merged = exam._joined([Part(broken), Part(typst)], "t")  # a general library recovers it
    assert len(PdfReader(io.BytesIO(merged)).pages) == 4
    assert pdfjoin.pages(broken) == 2


def test_workers_give_the_same_pdfs_as_one_process_in_the_same_order() -> None:
    sources = {f"part-{n}": SOURCE.replace("{n}", str(n)) for n in range(5, 0, -1)}
    counted: list[tuple[int, str, bytes]] = []
    alone = pdf.pdfs(sources.items(), 1, lambda name, data: counted.append((1, name, data)))
    side_by_side = pdf.pdfs(sources.items(), 2, lambda name, data: counted.append((2, name, data)))
    assert list(side_by_side) == list(sources)
    assert side_by_side == alone
    assert [n for n, _, _ in counted] == [1] * 5 + [2] * 5
    assert {(name, data) for _, name, data in counted} == set(alone.items())


def test_an_error_in_a_worker_is_the_one_line_error_and_no_worker_is_left() -> None:
    started: list[subprocess.Popen[bytes]] = []
    start = pdf._start

    def recorded() -> subprocess.Popen[bytes]:
        started.append(start())
        return started[-1]

    sources = {"good": SOURCE.replace("{n}", "1"), "bad": "#let x = (", "more": "= More"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf, "_start", recorded)
        with pytest.raises(HandcalcError, match=r"^typst could not compile the document: "):
            pdf.pdfs(sources.items(), 2, lambda name, data: None)
    assert len(started) == 2
    assert all(p.returncode is not None for p in started)


def test_a_worker_that_dies_is_reported_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    def dying() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["python3", "-c", "import sys; sys.exit(3)"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    monkeypatch.setattr(pdf, "_start", dying)
    with pytest.raises(HandcalcError) as e:
        pdf.pdfs([("a", "= A"), ("b", "= B")], 2, lambda name, data: None)
    assert str(e.value) == "typesetting stopped: a worker ended with exit code 3"


def test_an_exam_is_the_same_bytes_for_any_number_of_workers(tmp_path: Path) -> None:
    base = config.load(None)
    for workers in (1, 3):
        exam.write(base, 3, tmp_path / f"w{workers}", force=False, duplex=True, workers=workers)
    one, three = sorted((tmp_path / "w1").iterdir()), sorted((tmp_path / "w3").iterdir())
    assert [p.name for p in one] == [p.name for p in three]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(one, three, strict=True))
    keys = PdfReader(tmp_path / "w1" / "keys.pdf", strict=True)
    assert titles(keys.outline)[0::2] == ["Variant 1", "Variant 2", "Variant 3"]


def test_ctrl_c_while_typesetting_leaves_no_folder_and_no_worker(tmp_path: Path) -> None:
    started: list[subprocess.Popen[bytes]] = []
    start = pdf._start

    class Interrupted:
        def task(self, description: str, total: int) -> progress.Advance:
            return interrupt if description == "typesetting PDFs" else (lambda: None)

    def interrupt() -> None:
        raise KeyboardInterrupt

    def recorded() -> subprocess.Popen[bytes]:
        started.append(start())
        return started[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf, "_start", recorded)
        with pytest.raises(KeyboardInterrupt):
            exam.write(config.load(None), 2, tmp_path / "e", False, steps=Interrupted(), workers=2)
    assert list(tmp_path.iterdir()) == []
    assert len(started) == 2 and all(p.returncode is not None for p in started)


def console(**kwargs: object) -> Console:
    return Console(file=io.StringIO(), width=80, **kwargs)


def test_progress_is_drawn_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    with progress.shown(console()) as steps:
        assert steps is progress.SILENT  # piped
    with progress.shown(console(force_terminal=True, no_color=True)) as steps:
        assert steps is progress.SILENT
    shown = console(force_terminal=True)
    with progress.shown(shown) as steps:
        assert isinstance(steps, progress.Bar)
        advance = steps.task("typesetting PDFs", 2)
        advance()
        advance()
    assert "typesetting PDFs" in shown.file.getvalue()
    monkeypatch.setenv("TERM", "dumb")
    with progress.shown(console(force_terminal=True)) as steps:
        assert steps is progress.SILENT


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["run", "--output", "{d}/key.txt"], "wrote {d}/key.txt"),
        (["run", "--format", "json", "-o", "{d}/key.json"], "wrote {d}/key.json"),
        (["run", "--explain", "z1[2]", "-o", "{d}/z1.txt"], "wrote {d}/z1.txt"),
        (["worksheet", "-o", "{d}/sheet.pdf"], "wrote {d}/sheet.pdf ({pages} pages)"),
        (["worksheet", "--key", "-o", "{d}/key.typ"], "wrote {d}/key.typ"),
        (["check", "--template", "-o", "{d}/answers.yaml"], "wrote {d}/answers.yaml"),
        (["export-torch", "-o", "{d}/twin.py"], "wrote {d}/twin.py"),
        (["calibrate", "configs/calibration.yaml", "-o", "{d}/c.txt"], "wrote {d}/c.txt"),
        (["mc-dropout", "configs/mc-dropout.yaml", "-o", "{d}/m.txt"], "wrote {d}/m.txt"),
        (["init", "{d}/new.yaml"], "wrote {d}/new.yaml; run it with: handcalc run {d}/new.yaml"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else "",
)
def test_every_writing_command_says_what_it_wrote(
    run_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], line: str
) -> None:
    from conftest import ROOT

    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(*(a.replace("{d}", str(tmp_path)) for a in args))
    sheet = tmp_path / "sheet.pdf"
    pages = str(len(PdfReader(sheet).pages)) if sheet.exists() else ""
    line = line.replace("{d}", str(tmp_path)).replace("{pages}", pages)
    assert (code, out, err) == (0, "", line + "\n")


def test_nothing_is_said_when_nothing_is_written(run_cli: Cli) -> None:
    code, out, err = run_cli("run")
    assert (code, err) == (0, "")
    assert out.startswith("One training step")


def test_an_error_while_drawing_stops_the_workers_already_started(tmp_path: Path) -> None:
    started: list[subprocess.Popen[bytes]] = []
    start = pdf._start

    def recorded() -> subprocess.Popen[bytes]:
        started.append(start())
        return started[-1]

    data = yaml.safe_load(DEFAULT.read_text())
    data["exam"] = {"require": {"max_abs": 1}, "max_tries": 40}  # some variants, not 30
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf, "_start", recorded)
        with pytest.raises(
            ConfigError, match=r": exam.require: only \d+ of 30 variants met it in "
        ):
            exam.write(config.load(path), 30, tmp_path / "e", False, workers=2)
    assert not (tmp_path / "e").exists()
    assert len(started) == 2 and all(p.returncode is not None for p in started)
