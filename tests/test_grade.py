"""`handcalc grade`: a class of scripted students against a 30-variant exam, end to end."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from handcalc.config import load as config
from handcalc.documents import exam
from handcalc.grading import session
from handcalc.model import ids
from test_check import KEEP, student

Cli = Callable[..., tuple[int, str, str]]
VARIANTS = 30
SIGMA = "the activation derivative left out (dL/dz = dL/dh)"
SIGN = "y - ŷ instead of ŷ - y (the sign flipped)"


@pytest.fixture(scope="module")
def exam_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default config's exam of 30 variants, made once for the module (a few seconds)."""
    folder = tmp_path_factory.mktemp("exam") / "exam"
    exam.write(config.load(None), VARIANTS, folder, force=False)
    return folder


def answers_for(variant: int, folder: Path) -> dict[str, Any]:
    """Variant k's student: σ' left out every 4th, the sign of dL/dz^(3) every 5th, and
    every 3rd writes only what goes on paper (no exp(z), S, dL/dh, σ'(z))."""
    p = config.load(folder / f"variant-{variant:02d}.yaml")
    slips = {}
    if variant % 4 == 0:
        slips = {"dz2": lambda ns, v: v["dh2"]}
    if variant % 5 == 0:
        slips = {"dz3": lambda ns, v: ns.sub(v["y"], v["yhat"])}
    answers = student(p, slips)
    if variant % 3 == 0:
        answers = {k: v for k, v in answers.items() if str(ids.known(k).kind) in KEEP}
    return answers


@pytest.fixture(scope="module")
def class_dir(exam_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 answers files: one blank (its template), one not YAML, one naming no variant; half name
    their variant by a `variant:` key, half by their file name."""
    folder = tmp_path_factory.mktemp("answers")
    for k in range(1, VARIANTS + 1):
        text = yaml.safe_dump(answers_for(k, exam_dir))
        if k == 7:
            (folder / "blank.yaml").write_text(session.blank(exam_dir / "variant-07.yaml"))
        elif k == 8:
            (folder / "variant-08-broken.yaml").write_text("z1: [0.5, 1\n")
        elif k == 9:
            (folder / "nobody.yaml").write_text(text)
        elif k % 2:
            (folder / f"student-{k:02d}.yaml").write_text(f"variant: {k}\n{text}")
        else:
            (folder / f"variant-{k:02d}-s{k:02d}.yaml").write_text(text)
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


@pytest.fixture(scope="module")
def graded(exam_dir: Path, class_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The class graded once through the command line; the output folder."""
    from handcalc import cli

    out = tmp_path_factory.mktemp("grades") / "grades"
    argv = ["grade", str(exam_dir), str(class_dir), "--output", str(out), "--feedback", "--lms"]
    with pytest.raises(SystemExit) as done:
        cli.app(argv)
    assert done.value.code in (0, None)
    return out


def test_gradebook_lists_every_file(graded: Path, class_dir: Path) -> None:
    book = {Path(r["file"]).name: r for r in rows(graded / "gradebook.csv")}
    assert len(book) == VARIANTS
    assert book["blank.yaml"] | {"file": ""} == {
        "file": "",
        "variant": "7",
        "score": "0",
        "possible": "28",
        "percent": "0",
        "first_wrong": "",
        "diagnosis": "",
        "problem": "",
    }
    assert book["variant-08-broken.yaml"]["score"] == ""
    assert "YAML syntax" in book["variant-08-broken.yaml"]["problem"]
    assert book["nobody.yaml"]["problem"].startswith("names no variant of the exam")
    assert book["student-01.yaml"]["score"] == book["student-01.yaml"]["possible"] == "28"
    assert (book["variant-04-s04.yaml"]["first_wrong"], book["student-05.yaml"]["first_wrong"]) == (
        "dz2",
        "dz3",
    )
    assert book["variant-04-s04.yaml"]["diagnosis"] == SIGMA
    assert book["student-15.yaml"]["diagnosis"] == SIGN  # on paper only, skipped steps
    assert book["variant-12-s12.yaml"]["diagnosis"] == SIGMA  # σ'(z) and dL/dh not written
    assert book["student-03.yaml"]["score"] == "22"  # 6 steps of the paper not written


def test_summary_per_step(graded: Path) -> None:
    summary = rows(graded / "summary.csv")
    assert len(summary) == 28 and summary[0]["step"] == "z1"
    for row in summary:
        counts = [int(row[k]) for k in ("correct", "carried", "wrong", "partial", "blank")]
        assert sum(counts) == 28, row  # the students graded
    by_step = {r["step"]: r for r in summary}
    sigma = [k for k in range(1, VARIANTS + 1) if k % 4 == 0 and k % 5 and k not in (8,)]
    assert by_step["dz2"]["most_common_slip"] == SIGMA
    assert by_step["dz2"]["students"] == str(len(sigma))
    assert by_step["dz3"]["most_common_slip"] == SIGN
    assert by_step["exp_z"]["blank"] == str(1 + len(range(3, VARIANTS + 1, 3)) - 1)  # k = 9 left


def test_table_and_reasons_printed(
    exam_dir: Path, class_dir: Path, tmp_path: Path, run_cli: Cli
) -> None:
    code, out, err = run_cli("grade", str(exam_dir), str(class_dir), "-o", str(tmp_path / "g"))
    assert code == 0
    assert "Steps across the class" in out and "graded 28 of 30 answers files" in out
    text = " ".join(out.split())
    assert f"not graded: {class_dir}/nobody.yaml: names no variant of the exam" in text
    assert f"not graded: {class_dir}/variant-08-broken.yaml:" in text
    assert err == f"wrote 2 files to {tmp_path / 'g'}\n"


def test_feedback_and_lms(graded: Path) -> None:
    feedback = sorted(p.name for p in (graded / "feedback").iterdir())
    assert len(feedback) == VARIANTS and "nobody.md" in feedback
    text = (graded / "feedback" / "variant-04-s04.md").read_text()
    assert "Likely slip: the activation derivative left out (dL/dz = dL/dh)." in text
    assert "The notes' formula: `dL/dz^(2) = σ'(z^(2)) ⊙ dL/dh^(2)`" in text
    assert "## Carried forward" in text
    assert "could not be graded" in (graded / "feedback" / "nobody.md").read_text()
    lms = {r["identifier"]: r["grade"] for r in rows(graded / "grades-lms.csv")}
    assert len(lms) == VARIANTS
    assert (lms["student-01"], lms["s04"], lms["blank"]) == ("28", "27.75", "0")
    assert (lms["nobody"], lms["variant-08-broken"]) == ("", "")  # not graded: no grade


def test_nothing_overwritten_without_force(
    exam_dir: Path, class_dir: Path, tmp_path: Path, run_cli: Cli
) -> None:
    out = tmp_path / "g"
    assert run_cli("grade", str(exam_dir), str(class_dir / "blank.yaml"), "-o", str(out))[0] == 0
    before = (out / "gradebook.csv").read_text()
    code, _, err = run_cli("grade", str(exam_dir), str(class_dir), "-o", str(out))
    assert (
        code == 2
        and err == f"error: {out}/gradebook.csv: already exists (use --force to overwrite)\n"
    )
    assert (out / "gradebook.csv").read_text() == before
    assert run_cli("grade", str(exam_dir), str(class_dir), "-o", str(out), "--force")[0] == 0
    assert len(rows(out / "gradebook.csv")) == VARIANTS


def test_variant_named_in_a_file(exam_dir: Path, tmp_path: Path, run_cli: Cli) -> None:
    (tmp_path / "a.yaml").write_text("variant: 99\nz1: [1, 2, 3]\n")
    (tmp_path / "=HYPERLINK(1).yaml").write_text("variant: variant-02\nz1: [1, 2, 3]\n")
    (tmp_path / "variant-3-c.yaml").write_text("z1: [1, 2, 3]\n")
    out = tmp_path / "g"
    code, _, _ = run_cli("grade", str(exam_dir), str(tmp_path), "-o", str(out), "--lms")
    assert code == 0
    book = rows(out / "gradebook.csv")
    assert [r["variant"] for r in book] == ["2", "", ""]
    assert book[1]["problem"] == "variant: '99' is not a variant of the exam (1 to 30)"
    assert book[2]["problem"].startswith("names no variant")  # variant-3 is not variant-03
    # a spreadsheet shows the identifier as text, not as a formula
    assert rows(out / "grades-lms.csv")[0]["identifier"] == "'=HYPERLINK(1)"


def test_a_missing_exam_or_answers(exam_dir: Path, tmp_path: Path, run_cli: Cli) -> None:
    code, _, err = run_cli("grade", str(tmp_path), str(tmp_path), "-o", str(tmp_path / "g"))
    assert code == 2 and "manifest.csv: cannot be read (expected the manifest" in err
    out = tmp_path / "g"
    code, _, err = run_cli("grade", str(exam_dir), str(tmp_path / "none.yaml"), "-o", str(out))
    assert code == 0
    assert rows(out / "gradebook.csv")[0]["problem"] == (
        f"{tmp_path}/none.yaml: no such file (expected the student's answers file)"
    )
    code, _, err = run_cli("grade", str(exam_dir), str(tmp_path))
    assert (
        code == 2 and err == "error: --output: missing (the folder to write the gradebook into)\n"
    )
    help_text = run_cli("grade", "--help")[1]
    assert "[default: .]" not in help_text  # --output has no default: it must be given


def test_template_of_a_variant_names_it(exam_dir: Path, run_cli: Cli) -> None:
    code, out, _ = run_cli("check", str(exam_dir / "variant-12.yaml"), "--template")
    assert code == 0 and "\nvariant: 12\n" in out
    assert "variant:" not in run_cli("check", "--template")[1]
