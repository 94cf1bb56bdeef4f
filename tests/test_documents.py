"""Worksheets, answer keys and exam variants, read back as a grader would."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

import handcalc
from conftest import ROOT
from goldens import KEY_TYPST as GOLDEN
from handcalc.config import load as config
from handcalc.documents import paper as document
from handcalc.documents.variants import draw, violations
from handcalc.render import latex, typst
from handcalc.render import markdown_paper as mdoc

Cli = Callable[..., tuple[int, str, str]]
DEFAULT = ROOT / "configs" / "default.yaml"


def text_of(pdf: bytes | Path) -> list[str]:
    """Each page's text as a reader copies it: math letters (𝑊, 𝛽) as letters, − as -."""
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    pages = (unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages)
    return [" ".join(p.replace("−", "-").split()) for p in pages]


def test_key_and_worksheet_read_back(run_cli: Cli, tmp_path: Path) -> None:
    t = handcalc.run(DEFAULT)
    for key in (False, True):
        out = tmp_path / f"{key}.pdf"
        args = ["worksheet", "--output", str(out), *(["--key"] if key else [])]
        assert run_cli(*args)[0] == 0
        pages = text_of(out)
        text = " ".join(pages)
        assert "One training step of a 5-3-4-3 network" in text
        for given in ("W1", "b3", "h0"):
            assert all(v in text for v in t.step(given).texts())
        answers = {t.step("loss").text(0), *t.step("dW3").texts(), *t.step("W1_next").texts()}
        given_texts = {v for s in t.iterations[0] if s.spec.phase == "given" for v in s.texts()}
        distinctive = sorted(answers - given_texts - {"0.0000"})
        assert len(distinctive) > 10
        if key:
            assert all(v in text for v in distinctive)
            assert "Worked entries" in text and "Rounding against float64" in text
        else:
            assert not any(v in text for v in distinctive), [v for v in distinctive if v in text]
            assert "Name:" in text
        stamp = f"seed 24 · config {document.config_hash(t)}"
        assert all(stamp in page for page in pages)


def test_pdfs_are_reproducible(tmp_path: Path, run_cli: Cli) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    run_cli("worksheet", "--key", "--output", str(a))
    run_cli("worksheet", "--key", "--output", str(b))
    assert a.read_bytes() == b.read_bytes()


def test_golden_typst_source(run_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "key.typ"
    assert run_cli("worksheet", "--key", "--output", str(out))[0] == 0
    assert out.read_text() == GOLDEN.read_text(), "run scripts/samples.py"


def test_hints_print_the_formulas(run_cli: Cli, tmp_path: Path) -> None:
    plain, hinted = tmp_path / "a.md", tmp_path / "b.md"
    run_cli("worksheet", "--output", str(plain))
    run_cli("worksheet", "--hints", "--output", str(hinted))
    assert "σ'(z<sup>(2)</sup>) ⊙ dL/dh<sup>(2)</sup>" in hinted.read_text()
    assert "⊙" not in plain.read_text()


TRICKY = ['#read("/etc/passwd")', r"\input{/etc/passwd}", "<script>alert(1)</script>"]


@pytest.mark.parametrize("title", TRICKY)
@pytest.mark.parametrize("suffix", [".pdf", ".typ", ".tex", ".html", ".md"])
def test_user_text_prints_literally(run_cli: Cli, tmp_path: Path, title: str, suffix: str) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    data["title"] = title
    data["document"]["course"] = title
    data["document"]["instructions"] = title
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / f"sheet{suffix}"
    code, _, err = run_cli("worksheet", str(path), "--output", str(out))
    assert code == 0, err
    if suffix == ".pdf":
        text = " ".join(text_of(out))
        assert title in text and "root:" not in text
        return
    body = out.read_text()
    escaped = {
        ".typ": json.dumps(title, ensure_ascii=False),  # a Typst string literal
        ".tex": latex.esc(title),
        ".html": html.escape(title),
        ".md": mdoc.esc(title),
    }[suffix]
    assert escaped in body
    if suffix == ".typ":  # outside string literals, no trace of the text
        code_only = re.sub(r'"(?:[^"\\]|\\.)*"', '""', body)
        assert "#read" not in code_only and "script" not in code_only
        assert "input" not in code_only
    elif suffix != ".md":  # Markdown shows #read(...) and \input as text anyway
        assert title not in body.replace(escaped, ""), "the title leaked unescaped"


def test_jacobians_in_the_key(run_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "key.md"
    assert run_cli("worksheet", "--key", "--jacobians", "--output", str(out))[0] == 0
    text = out.read_text()
    assert "· J_z2_W2`" in text and "· dW2_contracted`" in text and "· J_h1`" in text


def test_unknown_document_type(run_cli: Cli, tmp_path: Path) -> None:
    code, _, err = run_cli("worksheet", "--output", str(tmp_path / "x.docx"))
    assert code == 2 and "unknown document type '.docx'" in err


def test_exam_folder(run_cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "exam"
    moodle = tmp_path / "quiz.xml"
    code, _, err = run_cli(
        "exam", "--variants", "3", "--output", str(folder), "--moodle", str(moodle)
    )
    assert code == 0, err
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        [
            "manifest.csv",
            "worksheets.pdf",
            "keys.pdf",
            *(
                f"variant-0{i}{s}"
                for i in (1, 2, 3)
                for s in (".yaml", "-worksheet.pdf", "-key.pdf")
            ),
        ]
    )
    rows = list(csv.DictReader((folder / "manifest.csv").read_text().splitlines()))
    assert [r["variant"] for r in rows] == ["1", "2", "3"]
    assert [r["seed"] for r in rows] == ["26", "27", "28"]  # seed 25 has zero gradients
    keys = text_of(folder / "keys.pdf")
    sheets = text_of(folder / "worksheets.pdf")
    for row in rows:
        stamp = f"variant {row['variant']} · seed {row['seed']} · config {row['config_hash']}"
        assert any(stamp in page for page in keys) and any(stamp in page for page in sheets)
        variant_pages = text_of(folder / row["key"])
        assert all(stamp in page for page in variant_pages)
        # the variant's config re-runs the paper: same numbers, same hash
        again = handcalc.run(folder / row["config"])
        assert document.config_hash(again) == row["config_hash"]
        assert again.step("loss").text(0) in " ".join(variant_pages)
    losses = {handcalc.run(folder / r["config"]).step("loss").text(0) for r in rows}
    assert len(losses) == 3  # the variants differ
    quiz = ET.parse(moodle).getroot()
    questions = quiz.findall("question[@type='cloze']")
    assert len(questions) == 3
    text = questions[0].find("questiontext/text").text or ""
    assert len(re.findall(r"\{[0-9]+:NUMERICAL:=", text)) == sum(
        len(s.values)
        for s in handcalc.run(folder / rows[0]["config"]).iterations[0]
        if s.spec.phase != "given"
    )
    code, _, err = run_cli("exam", "--variants", "3", "--output", str(folder))
    assert code == 2 and err == f"error: {folder}: not empty (use --force to replace it)\n"


def test_same_seed_same_variant(tmp_path: Path) -> None:
    base = config.load(DEFAULT)
    first = draw(base, 2)
    again = draw(base, 2)
    assert [v.seed for v in first] == [v.seed for v in again]
    assert typst.document(document.build(first[1].trace, True, variant=2)) == typst.document(
        document.build(again[1].trace, True, variant=2)
    )
    assert first[0].trace.step("W1").values != first[1].trace.step("W1").values


def test_constraints_hold(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    data["exam"] = {
        "input": True,
        "label": True,
        "require": {
            "relu_mixed": True,
            "max_abs": 10,
            "min_abs_nonzero": 0.0001,
            "no_ties": True,
            "no_saturation": True,
        },
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    variants = draw(config.load(path), 5)
    xs = {tuple(v.trace.problem.x.data) for v in variants}
    assert len(xs) > 1  # inputs vary too
    for v in variants:
        assert violations(v.trace) == []
        for layer in (1, 2):
            z = v.trace.step(f"z{layer}").values
            assert any(x > 0 for x in z) and any(x <= 0 for x in z)
        assert all(0 < p < 1 for p in v.trace.step("yhat").values)


def test_impossible_constraints_name_the_culprit(run_cli: Cli, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    data["exam"] = {"max_tries": 50, "require": {"max_abs": 0.001}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    code, _, err = run_cli("exam", str(path), "--variants", "2", "--output", str(tmp_path / "e"))
    assert code == 2
    assert err.startswith(
        f"error: {path}: exam.require: only 0 of 2 variants met it in 50 tries; failed most "
        "often: max_abs"
    )


def test_latex_source_compiles(run_cli: Cli, tmp_path: Path) -> None:
    """Where pdflatex is installed, the .tex key compiles without an error."""
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    tex = tmp_path / "key.tex"
    assert run_cli("worksheet", "--key", "--output", str(tex))[0] == 0
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1.5376" in " ".join(text_of(tmp_path / "key.pdf"))


def test_exam_pdfs_are_reproducible(run_cli: Cli, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert run_cli("exam", "--variants", "2", "--output", str(tmp_path / name))[0] == 0
    for file in ("variant-02-key.pdf", "variant-01-worksheet.pdf", "keys.pdf", "variant-02.yaml"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file


def test_labels_are_given(run_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "sheet.md"
    assert run_cli("worksheet", str(ROOT / "configs" / "batch.yaml"), "--output", str(out))[0] == 0
    assert "(labels = 1, 3, 2)" in out.read_text()


EXAM_FILES = ["keys.pdf", "manifest.csv", "worksheets.pdf"]


def exam_files(count: int) -> list[str]:
    """The names in an exam folder of `count` variants."""
    own = [f"variant-{i:02d}{s}" for i in range(1, count + 1) for s in (".yaml", "-worksheet.pdf")]
    own += [f"variant-{i:02d}-key.pdf" for i in range(1, count + 1)]
    return sorted(EXAM_FILES + own)


def test_exam_force_leaves_no_stale_variant(run_cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "exam"
    assert run_cli("exam", "-n", "3", "-o", str(folder))[0] == 0
    assert sorted(p.name for p in folder.iterdir()) == exam_files(3)
    code, _, err = run_cli("exam", "-n", "1", "-o", str(folder), "--force")
    assert code == 0, err
    assert sorted(p.name for p in folder.iterdir()) == exam_files(1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exam"]  # nothing aside


def test_exam_never_removes_other_files(run_cli: Cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me")
    (notes / "keys.pdf").write_text("mine")  # an exam's name, but not an exam folder
    code, _, err = run_cli("exam", "-o", str(notes), "--force")
    assert code == 2 and "holds files handcalc did not write" in err
    assert sorted(p.name for p in notes.iterdir()) == ["keys.pdf", "todo.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("exam", "-o", str(empty))[0] == 0  # an empty folder is free
    assert sorted(p.name for p in empty.iterdir()) == exam_files(1)
    code, _, err = run_cli("exam", "-o", ".")
    assert code == 2 and "the current folder cannot be replaced" in err


def test_a_killed_exam_leaves_a_marked_folder_the_next_run_removes(
    run_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after three files (as by a kill: nothing cleans up), the exam is not there,
    the old one is untouched, and the next run removes what was left."""
    from handcalc import folders

    folder = tmp_path / "exam"
    assert run_cli("exam", "-n", "2", "-o", str(folder))[0] == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    written = folders._write
    count = iter(range(100))

    def killed(path: Path, data: bytes) -> None:
        if next(count) == 3:
            raise KeyboardInterrupt
        written(path, data)

    with monkeypatch.context() as m:
        m.setattr(folders, "_write", killed)
        m.setattr(folders, "discard", lambda path: None)
        code, _, _ = run_cli("exam", "-n", "1", "-o", str(folder), "--force")
    assert code == 130
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    left = [p for p in tmp_path.iterdir() if p.name != "exam"]
    assert [p.name.startswith(".exam.handcalc-incomplete-") for p in left] == [True]
    assert len(list(left[0].iterdir())) == 3
    code, _, err = run_cli("exam", "-n", "1", "-o", str(folder), "--force")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exam"]
    assert sorted(p.name for p in folder.iterdir()) == exam_files(1)


def test_a_folder_being_written_is_left_alone(run_cli: Cli, tmp_path: Path) -> None:
    """A run's folder in progress is locked: another run into the same target keeps off it."""
    import fcntl
    import os

    busy = tmp_path / ".exam.handcalc-incomplete-busy"
    busy.mkdir()
    fd = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert run_cli("exam", "-o", str(tmp_path / "exam"))[0] == 0
        assert busy.is_dir()
    finally:
        os.close(fd)


def test_two_exams_into_one_new_folder(tmp_path: Path) -> None:
    """Run at once, one succeeds and the other is refused; the folder holds one run's files."""
    import subprocess
    import sys

    data = yaml.safe_load(DEFAULT.read_text())
    for seed in (1, 100):  # two runs that write different numbers
        data["init"]["seed"] = seed
        (tmp_path / f"seed{seed}.yaml").write_text(yaml.safe_dump(data))
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "handcalc", "exam", name, "-n", "2", "-o", "exam"],
            cwd=tmp_path,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("seed1.yaml", "seed100.yaml")
    ]
    results = sorted((run.wait(timeout=300), run.communicate()[1]) for run in runs)
    assert [code for code, _ in results] == [0, 2], results
    assert results[1][1] == "error: exam: not empty (use --force to replace it)\n"
    folder = tmp_path / "exam"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exam", "seed1.yaml", "seed100.yaml"]
    assert sorted(p.name for p in folder.iterdir()) == exam_files(2)
    rows = list(csv.DictReader((folder / "manifest.csv").read_text().splitlines()))
    assert {r["seed"] for r in rows} in ({"2", "3"}, {"101", "102"})
    for row in rows:  # every file is the manifest's run's
        again = handcalc.run(folder / row["config"])
        assert document.config_hash(again) == row["config_hash"]
        stamp = f"seed {row['seed']} · config {row['config_hash']}"
        assert all(stamp in page for page in text_of(folder / row["key"]))


def test_leftovers_of_another_folder_are_not_swept(run_cli: Cli, tmp_path: Path) -> None:
    """The sweep matches the folder's own name literally, even with glob characters in it."""
    other = tmp_path / ".ex1.handcalc-incomplete-abc"
    other.mkdir()
    mine = tmp_path / ".ex[1].handcalc-incomplete-abc"
    mine.mkdir()
    assert run_cli("exam", "-o", str(tmp_path / "ex[1]"))[0] == 0
    assert other.is_dir() and not mine.exists()
