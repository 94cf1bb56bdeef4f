"""Exam variants that are fair, and a Moodle quiz that imports and grades right."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from conftest import ROOT
from handcalc.config import load as config
from handcalc.documents import exam
from handcalc.documents.fairness import defaults, spread
from handcalc.documents.variants import candidate, draw
from handcalc.model.runner import make_trace

Cli = Callable[..., tuple[int, str, str]]
DEFAULT = ROOT / "configs" / "default.yaml"
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
DRAWN = [c for c in CONFIGS if c.name not in ("calibration.yaml", "sigmoid-2-2-2.yaml")]


def test_the_default_seed_that_zeroes_the_gradients_is_skipped() -> None:
    base = config.load(DEFAULT)
    first = make_trace(candidate(base, 25))  # h(2) = 0: dL/dW(1) and dL/dW(2) are zero
    assert not any(first.step("h2").values)
    assert defaults(first) == ["nonzero_gradients"]
    variants = draw(base, 2)
    assert [(v.seed, v.draws) for v in variants] == [(26, 2), (27, 1)]


@pytest.mark.parametrize("path", DRAWN, ids=lambda p: p.stem)
def test_no_default_variant_has_a_zero_gradient_matrix(path: Path) -> None:
    for v in draw(config.load(path), 3):
        assert defaults(v.trace) == []
        for s in v.trace.iterations[0]:
            if s.spec.kind in ("dW", "db"):
                assert any(s.values), (v.seed, s.id)


def test_require_overrides_the_defaults(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    data["exam"] = {"require": {"max_abs": 100}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    assert [v.seed for v in draw(config.load(path), 1)] == [25]  # the zero gradients pass


@pytest.mark.parametrize("name", ["calibration.yaml", "sigmoid-2-2-2.yaml"])
def test_nothing_drawn_is_refused(run_cli: Cli, tmp_path: Path, name: str) -> None:
    path = str(ROOT / "configs" / name)
    code, _, err = run_cli("exam", path, "-n", "2", "-o", str(tmp_path / "e"))
    assert code == 2
    assert err == (
        "error: exam: 2 variants would be identical: nothing is drawn (every parameter is given "
        "and neither the input nor the label varies; leave a parameter out of parameters, or set "
        "exam.input or exam.label)\n"
    )
    assert not (tmp_path / "e").exists()
    assert run_cli("exam", path, "-n", "1", "-o", str(tmp_path / "one"))[0] == 0


def test_a_label_drawn_is_enough(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "configs" / "sigmoid-2-2-2.yaml").read_text())
    data["exam"] = {"label": True, "input": True}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    assert len(draw(config.load(path), 2)) == 2


def test_manifest_and_summary_show_draws_and_spread(run_cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "exam"
    code, _, err = run_cli("exam", "-n", "2", "-o", str(folder))
    assert code == 0
    assert err == f"wrote 9 files to {folder} (2 variants from 3 draws: 2, 1)\n"
    rows = list(csv.DictReader((folder / "manifest.csv").read_text().splitlines()))
    assert [(r["draws"], r["nonzero_gradients"], r["largest_gradient"]) for r in rows] == [
        ("2", "19", "0.8289"),
        ("1", "31", "0.8637"),
    ]
    first = draw(config.load(DEFAULT), 1)[0]
    assert spread(first.trace).nonzero == 19


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def test_duplex_pads_odd_variants_with_a_page_that_says_so() -> None:
    one = exam._blank()  # a one-page PDF stands for a variant of one page
    padded = exam._padded([one, one])
    assert [pages(p) for p in padded] == [1, 1, 1, 1]
    merged = PdfReader(io.BytesIO(exam.printing.merge_pdfs(padded)))
    assert len(merged.pages) == 4
    assert "intentionally left blank" in (merged.pages[1].extract_text() or "")
    two = exam.printing.merge_pdfs([one, one])
    assert exam._padded([two]) == [two]  # even: nothing added


def test_duplex_exam_has_even_page_counts(run_cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "exam"
    assert run_cli("exam", "-n", "2", "-o", str(folder), "--duplex")[0] == 0
    for kind in ("worksheet", "key"):
        own = [pages((folder / f"variant-0{i}-{kind}.pdf").read_bytes()) for i in (1, 2)]
        combined = pages((folder / f"{kind}s.pdf").read_bytes())
        assert combined == sum(n + n % 2 for n in own)
