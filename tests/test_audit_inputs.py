"""Hostile input found by running every command on generated configs, answers files and exam
folders: each refusal is one line `error: ...` with exit code 2, or a row of the gradebook; never
a traceback, a wait on a pipe, a read of a device, or a control character in the output.

The exam folders here are written by hand (a manifest and the variants' configs), as a lecturer's
edits or a damaged copy leave them; `grade` reads nothing else of a folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from handcalc.config import load
from handcalc.config.schema import json_schema
from handcalc.config.source import read_text
from handcalc.documents import paper
from handcalc.errors import ConfigError
from handcalc.model.runner import make_trace

Cli = Callable[..., tuple[int, str, str]]
TINY = "network: {widths: [2, 2], head: identity, loss: mse}\ndata: {x: [1, 1], y: [0, 1]}\n"
OTHER = "network: {widths: [2, 2, 2], head: identity, loss: mse}\ndata: {x: [1, 1], y: [0, 1]}\n"
HEADER = "variant,seed,config_hash,config,worksheet,key\n"
UNSET = "00000000"  # a row's config hash until its config is written


def row(number: str, config: str = "variant-01.yaml") -> str:
    return f"{number},0,{UNSET},{config},w.pdf,k.pdf\n"


def config_hash(text: str, name: str) -> str:
    """The hash `handcalc exam` lists in the manifest for a config of this text."""
    node = read_text(text, name)
    assert node is not None
    return paper.config_hash(make_trace(load.build(node, name)))


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def one_error(run_cli: Cli, *args: str) -> str:
    code, out, err = run_cli(*args)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    return err.rstrip("\n")


def exam_folder(manifest: str, configs: dict[str, str] | None = None) -> Path:
    """An exam folder with this manifest and these configs (variant-01.yaml: TINY)."""
    folder = Path("exam")
    folder.mkdir()
    configs = configs if configs is not None else {"variant-01.yaml": TINY}
    for name, text in configs.items():  # listed with its own hash, as `handcalc exam` lists it
        if f",{UNSET},{name}," in manifest:
            manifest = manifest.replace(f",{UNSET},{name},", f",{config_hash(text, name)},{name},")
    (folder / "manifest.csv").write_text(manifest)
    for name, text in configs.items():
        (folder / name).write_text(text)
    Path("answers").mkdir()
    (Path("answers") / "variant-01-ann.yaml").write_text("z1: [0.5, 1]\n")
    return folder


# Config numbers: Python's Decimal reads digits of every script, "١٢" as 12; the gate does not.


@pytest.mark.parametrize("written", ['"١٢"', '"１"', '"1_٣"'])
def test_config_numbers_are_ascii_digits(run_cli: Cli, written: str) -> None:
    Path("bad.yaml").write_text(TINY.replace("x: [1, 1]", f"x: [1, {written}]"))
    shown = written.strip('"')
    assert one_error(run_cli, "run", "bad.yaml") == (
        f"error: bad.yaml:2: data.x[2]: expected a number, got '{shown}'"
    )
    with pytest.raises(jsonschema.ValidationError):  # the editor's schema refuses it too
        jsonschema.validate({"data": {"x": [1, written.strip('"')]}}, json_schema())


def test_underscores_between_ascii_digits_still_read(run_cli: Cli) -> None:
    Path("ok.yaml").write_text(TINY.replace("x: [1, 1]", 'x: [1, "1_0"]'))
    code, out, _ = run_cli("run", "ok.yaml", "--format", "json")
    assert code == 0 and json.loads(out)["config"]["data"]["x"] == ["1.0000", "10.0000"]


# Text keys: a title of a file's size kept `worksheet` typesetting for over 20 s.


@pytest.mark.parametrize("key", ["title", "document.course", "document.instructions"])
def test_texts_longer_than_a_paragraph_are_refused(run_cli: Cli, key: str) -> None:
    long = "x" * 2001
    line = f"title: {long}\n" if key == "title" else f"document: {{{key[9:]}: {long}}}\n"
    Path("bad.yaml").write_text(TINY + line)
    assert one_error(run_cli, "worksheet", "bad.yaml", "-o", "w.pdf") == (
        f"error: bad.yaml:3: {key}: a text of 2,001 characters is too long (at most 2,000)"
    )
    assert not Path("w.pdf").exists()
    schema = json_schema()["properties"]["title"]
    assert schema["maxLength"] == 2000


# YAML text that never was UTF-8: a lone surrogate reaches the parser only through a JSON request
# to `handcalc serve`, and libyaml cannot encode it.


def test_a_lone_surrogate_is_a_yaml_error_on_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        read_text('z1: [1, 2, 3]\nh1: ["\ud800", 1, 1]\n', "answers.yaml")
    assert str(caught.value) == (
        "answers.yaml:2: YAML syntax: the character U+D800 is not allowed "
        "(text, tabs and line breaks only)"
    )


def test_serve_upload_with_a_lone_surrogate_is_a_422() -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from handcalc.serve import app, sheet

    client = TestClient(app.create(sheet.load(None), "never"), raise_server_exceptions=False)
    body = json.dumps({"text": 'h1: ["\ud800", 1, 1]'}).encode()  # JSON escapes it: \ud800
    json_type = {"content-type": "application/json"}
    response = client.post("/api/upload", content=body, headers=json_type)
    assert response.status_code == 422
    assert response.json() == {
        "error": "answers.yaml:1: YAML syntax: the character U+D800 is not allowed "
        "(text, tabs and line breaks only)"
    }


# Exam folders: the manifest and the variants' configs as a damaged or edited copy leaves them.

MANIFEST_CANNOT = (
    "error: exam/manifest.csv: cannot be read (expected the manifest handcalc exam writes)"
)


def test_a_manifest_that_is_a_pipe_or_a_device_is_never_read(run_cli: Cli) -> None:
    folder = exam_folder(HEADER + row("1"))
    (folder / "manifest.csv").unlink()
    os.mkfifo(folder / "manifest.csv")  # no writer: opening it would wait for ever
    assert one_error(run_cli, "grade", "exam", "answers", "-o", "grades") == MANIFEST_CANNOT
    (folder / "manifest.csv").unlink()
    (folder / "manifest.csv").symlink_to("/dev/zero")  # reading it would never end
    assert one_error(run_cli, "grade", "exam", "answers", "-o", "grades") == MANIFEST_CANNOT


def test_a_manifest_saved_by_a_spreadsheet_is_read(run_cli: Cli) -> None:
    """A byte order mark and CRLF line ends, as a spreadsheet saves "CSV UTF-8"."""
    exam_folder("\ufeff" + (HEADER + row("1")).replace("\n", "\r\n"))
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades")
    assert code == 0, err
    assert (
        Path("grades/gradebook.csv")
        .read_text()
        .splitlines()[1]
        .startswith("answers/variant-01-ann.yaml,1,0,")
    )


def test_a_manifest_larger_than_a_file_handcalc_reads(run_cli: Cli) -> None:
    exam_folder(HEADER + row("1") + "#" * 300_000 + "\n")
    assert one_error(run_cli, "grade", "exam", "answers", "-o", "grades") == (
        "error: exam/manifest.csv: larger than 300,000 bytes "
        "(expected the manifest handcalc exam writes)"
    )


def test_a_manifest_field_past_the_csv_limit(run_cli: Cli) -> None:
    exam_folder(HEADER + row("1").rstrip("\n") + ',"' + "x" * 200_000 + '"\n')
    assert one_error(run_cli, "grade", "exam", "answers", "-o", "grades") == (
        "error: exam/manifest.csv: cannot be read as CSV (field larger than field limit (131072))"
    )


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("0", "'0'"),
        ("-1", "'-1'"),
        ("١", "'١'"),
        (
            "1" * 5000,
            "'111111111111111111111111111111111111111111111111111111111111111111111111111"
            "1111…1111111111111111111111111111111' (5,002 characters)",
        ),
    ],
)
def test_a_variant_number_that_is_none(run_cli: Cli, number: str, shown: str) -> None:
    exam_folder(HEADER + row(number))
    assert one_error(run_cli, "grade", "exam", "answers", "-o", "grades") == (
        f"error: exam/manifest.csv:2: variant: {shown} is not a variant number "
        "(a whole number from 1)"
    )


def test_a_variant_listed_twice(run_cli: Cli) -> None:
    exam_folder(HEADER + row("1") + row("01"))
    assert one_error(run_cli, "grade", "exam", "answers", "-o", "grades") == (
        "error: exam/manifest.csv:3: variant 01 is listed twice"
    )


@pytest.mark.parametrize("name", ["variant-\x1b[31m01.yaml", "variant-01\u202e.yaml"])
def test_a_config_name_with_control_characters(run_cli: Cli, name: str) -> None:
    exam_folder(HEADER + row("1", name), {name: TINY})
    assert one_error(run_cli, "grade", "exam", "answers", "-o", "grades") == (
        "error: exam/manifest.csv:2: expected a variant's row "
        "(variant, seed, config_hash, config, worksheet, key)"
    )


def test_a_variant_config_that_is_a_pipe(run_cli: Cli) -> None:
    folder = exam_folder(HEADER + row("1"), {})
    os.mkfifo(folder / "variant-01.yaml")
    assert one_error(run_cli, "grade", "exam", "answers", "-o", "grades") == (
        "error: exam/variant-01.yaml: not a regular file (expected the variant's config)"
    )


def test_an_answers_variant_of_thousands_of_digits_is_no_variant(run_cli: Cli) -> None:
    exam_folder(HEADER + row("1"))
    Path("answers/variant-01-ann.yaml").write_text(f"variant: {'1' * 5000}\nz1: [0.5, 1]\n")
    code, _, err = run_cli("grade", "exam", "answers", "--output", "grades")
    assert code == 0 and "Traceback" not in err
    gradebook = Path("grades/gradebook.csv").read_text()
    assert "is not a variant of the exam (1)" in gradebook


def test_variants_that_ask_different_steps_are_summarized_by_step(run_cli: Cli) -> None:
    """Variants of networks of two depths: each step is counted over the students whose paper
    asks it, in the first paper's order, then the steps only others ask."""
    exam_folder(
        HEADER + row("1") + row("2", "variant-02.yaml"),
        {"variant-01.yaml": TINY, "variant-02.yaml": OTHER},
    )
    Path("answers/variant-02-ben.yaml").write_text("z1: [0.5, 1]\n")
    code, _, err = run_cli("grade", "exam", "answers", "--output", "grades")
    assert code == 0, err
    summary = list(csv.reader(io.StringIO(Path("grades/summary.csv").read_text())))
    head, rows = summary[0], {r[0]: r for r in summary[1:]}
    assert list(rows) == [
        *("z1", "yhat", "loss", "dyhat", "dz1", "db1", "dW1", "W1_next", "b1_next"),
        *("h1", "z2", "dz2", "db2", "dW2", "dh1", "dhdz1", "W2_next", "b2_next"),
    ]
    blank = head.index("blank")
    assert rows["z1"][blank - 4 : blank + 1] == ["0", "0", "2", "0", "0"]  # both wrong
    assert rows["h1"][blank - 4 : blank + 1] == ["0", "0", "0", "0", "1"]  # Ben's paper only


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (b"variant-01-\x1b[31mann\xe2\x80\xae.yaml", "variant-01-\\x1b[31mann\\u202e.yaml"),
        (b"variant-01-\xff.yaml", "variant-01-\\udcff.yaml"),
    ],
)
def test_an_answers_file_name_that_cannot_be_shown(run_cli: Cli, name: bytes, shown: str) -> None:
    """Its name would go into the gradebook and name a feedback file: one line names it."""
    exam_folder(HEADER + row("1"))
    Path(os.fsdecode(b"answers/" + name)).write_text("z1: [0.5, 1]\n")
    assert one_error(run_cli, "grade", "exam", "answers", "-o", "grades", "--feedback") == (
        f"error: answers/{shown}: a file name with a control character or bytes that are not "
        "UTF-8 (rename the file)"
    )
    assert not Path("grades").exists()


# A step the class passes on without writing it down (rounding.write): `grade` and the page's
# upload name an answer to it as `check` does, not as an unknown id with a guess.

UNWRITTEN = (
    "network: {widths: [2, 3]}\ndata: {x: [1, 1], label: 1}\n"
    "rounding: {write: {exp_z: false, sum_exp: false}}\n"
)
NOT_ASKED = "exp_z: not asked: the class passes it on without writing it down"


def test_grade_names_an_answer_to_a_step_not_written_down(run_cli: Cli) -> None:
    exam_folder(HEADER + row("1"), {"variant-01.yaml": UNWRITTEN})
    Path("answers/variant-01-ann.yaml").write_text("z1: [0.5, 1, 1]\nexp_z: [1, 2, 3]\n")
    code, _, err = run_cli("grade", "exam", "answers", "-o", "grades")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(Path("grades/gradebook.csv").read_text())))
    assert rows[0]["problem"] == f"1 unreadable: answers/variant-01-ann.yaml:2: {NOT_ASKED}"


def test_serve_upload_names_an_answer_to_a_step_not_written_down() -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from handcalc.serve import app, sheet

    Path("c.yaml").write_text(UNWRITTEN)
    client = TestClient(app.create(sheet.load(Path("c.yaml")), "never"))
    response = client.post("/api/upload", json={"text": "z1: [0.5, 1, 1]\nexp_z: [1, 2, 3]\n"})
    assert response.status_code == 200
    assert response.json() == {
        "answers": {"z1": ["0.5", "1", "1"]},
        "problems": [f"answers.yaml:2: {NOT_ASKED}"],
    }
