"""`handcalc grade` against the exam as printed, and its output folder written as a unit.

A variant's config edited after the exam was written no longer gives the key of the paper its
students had: grade stops. The gradebook, summary and feedback files are written together or not
at all, so an error or Ctrl-C halfway leaves the previous grades as they were.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from handcalc.config import load as config
from handcalc.documents import exam, paper
from handcalc.model.runner import make_trace

Cli = Callable[..., tuple[int, str, str]]
HASH_OF = {"1": "e80c2744", "2": "84de7327", "3": "ed5d8219"}  # the default config's 3 variants


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("written") / "exam"
    exam.write(config.load(None), 3, folder, force=False)
    return folder


@pytest.fixture
def copy(written: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the written exam in a fresh folder, with an answers folder for two variants;
    the current folder is the copy's parent, so that messages name short paths."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(written, "exam")
    Path("answers").mkdir()
    Path("answers/ann.yaml").write_text("variant: 1\nz1: [0.55, 0.4, -0.99]\n")
    Path("answers/variant-02-ben.yaml").write_text("z1: [1, 2, 3]\n")
    yield Path("exam")


def test_the_manifest_lists_each_variants_hash(written: Path) -> None:
    lines = (written / "manifest.csv").read_text().splitlines()[1:]
    assert {line.split(",")[0]: line.split(",")[2] for line in lines} == HASH_OF


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


def test_a_config_changed_after_the_exam_stops_grade(copy: Path, run_cli: Cli) -> None:
    edit(copy / "variant-02.yaml", "learning_rate: '0.1'", "learning_rate: '0.2'")
    code, out, err = run_cli("grade", "exam", "answers", "-o", "grades")
    assert (code, out) == (2, "")
    now = paper.config_hash(make_trace(config.load(copy / "variant-02.yaml")))
    assert now != HASH_OF["2"]
    assert err == (
        "error: exam/variant-02.yaml: config changed since the exam was written "
        f"(manifest says 84de7327, file gives {now})\n"
    )
    assert not Path("grades").exists()


def test_a_changed_variant_stops_grade_even_with_no_student_of_it(copy: Path, run_cli: Cli) -> None:
    edit(copy / "variant-03.yaml", "x: ['", "x: ['1")  # its first input 1 more, in front
    code, _, err = run_cli("grade", "exam", "answers/ann.yaml", "-o", "grades")
    assert code == 2
    assert err.startswith("error: exam/variant-03.yaml: config changed since the exam was written")
    assert "(manifest says ed5d8219, file gives " in err and err.count("\n") == 1


def test_the_same_numbers_written_otherwise_are_no_change(copy: Path, run_cli: Cli) -> None:
    """The hash is of the config read, not of its text: a comment or a quote is no change."""
    edit(copy / "variant-02.yaml", "learning_rate: '0.1'", "learning_rate: 0.1")
    with (copy / "variant-02.yaml").open("a") as f:
        f.write("# checked by the second marker\n")
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades")
    assert code == 0, err


def test_the_manifests_hash_is_shown_safely(copy: Path, run_cli: Cli) -> None:
    edit(copy / "manifest.csv", ",84de7327,", ",\x1b[2J84de7327,")
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades")
    assert code == 2
    assert err == (
        "error: exam/variant-02.yaml: config changed since the exam was written "
        "(manifest says \\x1b[2J84de7327, file gives 84de7327)\n"
    )


def test_a_manifest_without_the_hash(copy: Path, run_cli: Cli) -> None:
    edit(copy / "manifest.csv", ",84de7327,", ",,")
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades")
    assert (code, err) == (
        2,
        "error: exam/variant-02.yaml: config changed since the exam was written "
        "(manifest says none, file gives 84de7327)\n",
    )


# The output folder, as a unit.


def graded_once(run_cli: Cli) -> dict[str, bytes]:
    """Grade the class into grades/ with feedback; every file it wrote and its bytes."""
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades", "--feedback", "--lms")
    assert code == 0, err
    return snapshot(Path("grades"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}


def fail_on(monkeypatch: pytest.MonkeyPatch, call: int, error: BaseException) -> None:
    """The `call`th file put on disk fails (each file is synced before the folder is in place)."""
    count, real = itertools.count(1), os.fsync

    def fsync(fd: int) -> None:
        if next(count) == call:
            raise error
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_an_error_halfway_leaves_the_previous_grades(
    copy: Path, run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = graded_once(run_cli)
    assert sorted(before) == [
        "feedback/ann.md",
        "feedback/variant-02-ben.md",
        "gradebook.csv",
        "grades-lms.csv",
        "summary.csv",
    ]
    Path("answers/cy.yaml").write_text("variant: 3\nz1: [1, 2, 3]\n")  # the new run differs
    fail_on(monkeypatch, 3, OSError(28, "No space left on device"))
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades", "--feedback", "--force")
    assert (code, err) == (2, "error: grades: cannot be written (No space left on device)\n")
    assert snapshot(Path("grades")) == before
    assert sorted(os.listdir()) == ["answers", "exam", "grades"]  # nothing half-written beside


def test_ctrl_c_halfway_leaves_the_previous_grades(
    copy: Path, run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = graded_once(run_cli)
    Path("answers/cy.yaml").write_text("variant: 3\nz1: [1, 2, 3]\n")
    fail_on(monkeypatch, 2, KeyboardInterrupt())
    code, _, _ = run_cli("grade", "exam", "answers", "-o", "grades", "--feedback", "--force")
    assert code == 130  # as a shell reports a command ended by Ctrl-C
    assert snapshot(Path("grades")) == before
    assert sorted(os.listdir()) == ["answers", "exam", "grades"]


def test_force_replaces_the_previous_grades_whole(copy: Path, run_cli: Cli) -> None:
    graded_once(run_cli)
    Path("answers/ann.yaml").unlink()
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades", "--force")
    assert code == 0, err
    # ann's feedback was of the run replaced: the folder is this run's, nothing of the last
    assert sorted(snapshot(Path("grades"))) == ["gradebook.csv", "summary.csv"]


def test_previous_grades_are_kept_without_force(copy: Path, run_cli: Cli) -> None:
    before = graded_once(run_cli)
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades")
    assert (code, err) == (
        2,
        "error: grades/gradebook.csv: already exists (use --force to overwrite)\n",
    )
    assert snapshot(Path("grades")) == before


FOREIGN = (
    "error: grades: holds files handcalc grade did not write; not replaced, even with --force "
    "(name an empty or a new folder)\n"
)


@pytest.mark.parametrize("force", [(), ("--force",)])
@pytest.mark.parametrize(
    "foreign",
    ["notes.txt", "feedback/notes.txt", "feedback/old.md/notes", "link.csv", "grades-lms.csv"],
)
def test_a_folder_with_a_foreign_file_is_refused(
    copy: Path, run_cli: Cli, force: tuple[str, ...], foreign: str
) -> None:
    graded_once(run_cli)
    if foreign == "link.csv":
        Path("grades/link.csv").symlink_to("gradebook.csv")
    elif foreign == "grades-lms.csv":  # a name grade writes, but not a regular file
        Path("grades/grades-lms.csv").unlink()
        Path("grades/grades-lms.csv").mkdir()
    else:
        Path("grades", foreign).parent.mkdir(parents=True, exist_ok=True)
        Path("grades", foreign).write_text("mine\n")
    before = {p.as_posix() for p in Path("grades").rglob("*")}
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades", *force)
    assert (code, err) == (2, FOREIGN)
    assert {p.as_posix() for p in Path("grades").rglob("*")} == before


@pytest.mark.parametrize("force", [(), ("--force",)])
def test_a_folder_of_other_files_is_refused(
    copy: Path, run_cli: Cli, force: tuple[str, ...]
) -> None:
    """A gradebook.csv that grade did not write (another header) is no gradebook of grade's."""
    Path("grades").mkdir()
    Path("grades/gradebook.csv").write_text("name,grade\nann,10\n")
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades", *force)
    assert (code, err) == (2, FOREIGN)
    assert Path("grades/gradebook.csv").read_text() == "name,grade\nann,10\n"


def test_an_empty_folder_is_written_into(copy: Path, run_cli: Cli) -> None:
    Path("grades").mkdir()
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades", "--feedback")
    assert (code, err) == (0, "wrote 4 files to grades\n")
    assert sorted(snapshot(Path("grades"))) == [
        "feedback/ann.md",
        "feedback/variant-02-ben.md",
        "gradebook.csv",
        "summary.csv",
    ]
