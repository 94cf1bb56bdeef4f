"""Exam variants that are fair, and a Moodle quiz that imports and grades right."""

from __future__ import annotations

import csv
import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

import handcalc
from conftest import ROOT
from handcalc.config import load as config
from handcalc.documents import exam, moodle
from handcalc.documents.fairness import defaults, spread
from handcalc.documents.moodle import asked, points, scale
from handcalc.documents.variants import candidate, draw
from handcalc.model.runner import make_trace
from handcalc.render.pdfjoin import Part, join

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
        f"error: {path}: exam: 2 variants would be identical: nothing is drawn (every parameter "
        "is given and neither the input nor the label varies; leave a parameter out of "
        "parameters, or set exam.input or exam.label)\n"
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


def test_summary_of_many_variants_stays_one_short_line() -> None:
    many = exam.Written(files=[Path("a")] * 303, folder=Path("exam"), draws=[1, 3, *[1] * 98])
    assert many.summary() == (
        "wrote 303 files to exam (100 variants from 102 draws: 1 to 3 each, see manifest.csv)"
    )
    same = exam.Written(files=[Path("a")] * 30, folder=Path("exam"), draws=[2] * 10)
    assert same.summary().endswith("(10 variants from 20 draws: 2 each, see manifest.csv)")


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def test_duplex_pads_odd_variants_with_a_page_that_says_so() -> None:
    one = exam._blank()  # a one-page PDF stands for a variant of one page
    padded = exam._padded([Part(one, "Variant 1"), Part(one, "Variant 2")])
    assert [(pages(p.data), p.label) for p in padded] == [
        (1, "Variant 1"),
        (1, None),
        (1, "Variant 2"),
        (1, None),
    ]
    merged = PdfReader(io.BytesIO(exam._joined(padded, "Worksheets")))
    assert len(merged.pages) == 4
    assert "intentionally left blank" in (merged.pages[1].extract_text() or "")
    assert [o.title for o in merged.outline] == ["Variant 1", "Variant 2"]
    two = join([Part(one), Part(one)], "two")
    assert exam._padded([Part(two)]) == [Part(two)]  # even: nothing added


def test_duplex_exam_has_even_page_counts(run_cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "exam"
    assert run_cli("exam", "-n", "2", "-o", str(folder), "--duplex")[0] == 0
    for kind in ("worksheet", "key"):
        own = [pages((folder / f"variant-0{i}-{kind}.pdf").read_bytes()) for i in (1, 2)]
        combined = pages((folder / f"{kind}s.pdf").read_bytes())
        assert combined == sum(n + n % 2 for n in own)


# What Moodle's cloze importer reads (question/type/multianswer/questiontype.php): a field is
# {weight:TYPE:alternatives}, weight whole; an alternative is a fraction ("=" or "%n%"), an answer
# that ends at an unescaped ~ # or }, and "#feedback" that ends at an unescaped ~ or }.
NUMBER = r"-?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?"
FIELD = re.compile(
    r"\{([0-9]*):(NUMERICAL|NM):(=|%-?[0-9]+(?:[.,][0-9]*)?%)?"
    r"(.+?)(?<!\\|&)(?=[~#}])(?:#(.*?)(?<!\\)(?=[~}]))?\}",
    re.S,
)


@dataclass(frozen=True)
class Field:
    weight: int
    fraction: Decimal
    value: Decimal
    tolerance: str
    feedback: str


def fields(text: str) -> list[Field]:
    """Every numerical field of a cloze text, read as Moodle's importer reads it."""
    out = []
    for m in FIELD.finditer(text):
        weight, _, fraction, answer, note = m.groups()
        number = re.fullmatch(f"({NUMBER})(?::({NUMBER}))?", answer)
        assert number is not None, answer
        value, tol = number.groups()
        out.append(
            Field(
                weight=int(weight or 1),
                fraction=Decimal(1) if fraction == "=" else Decimal(fraction[1:-1]) / 100,
                value=Decimal(value),
                tolerance=tol,
                feedback=html.unescape(note or "").replace("\\}", "}").replace("\\#", "#"),
            )
        )
    return out


def quiz_of(run_cli: Cli, tmp_path: Path, path: Path, n: int = 2) -> ET.Element:
    moodle = tmp_path / "quiz.xml"
    code, _, err = run_cli(
        "exam", str(path), "-n", str(n), "-o", str(tmp_path / "e"), "--moodle", str(moodle)
    )
    assert code == 0, err
    return ET.parse(moodle).getroot()


@pytest.mark.parametrize("name", ["default.yaml", "adam-minibatches.yaml", "momentum.yaml"])
def test_moodle_quiz_imports_and_grades_by_the_key(run_cli: Cli, tmp_path: Path, name: str) -> None:
    root = quiz_of(run_cli, tmp_path, ROOT / "configs" / name)
    assert root.tag == "quiz"
    kinds = [q.get("type") for q in root.findall("question")]
    assert kinds == ["category", "cloze", "cloze"]
    questions = root.findall("question[@type='cloze']")
    for q, row in zip(questions, manifest(tmp_path / "e"), strict=True):
        trace = handcalc.run(tmp_path / "e" / row["config"])
        assert q.find("questiontext").get("format") == "html"
        text = q.findtext("questiontext/text") or ""
        found = fields(text)
        steps = asked(trace)
        assert len(found) == sum(len(s.values) for s in steps)  # every field parses
        factor = scale(trace)
        it = iter(found)
        for s in steps:
            mine = [next(it) for _ in s.values]
            assert sum(f.weight for f in mine) == factor * points(trace, s)  # points split
            for i, f in enumerate(mine):
                assert f.fraction == 1 and f.value == s.values[i]  # the key, full marks
                tol = Decimal(f.tolerance)
                assert tol >= s.tolerances()[i] and len(tol.normalize().as_tuple().digits) <= 2
        assert "&#x27;" not in text and "&amp;" not in text and "&#" not in text


def manifest(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((folder / "manifest.csv").read_text().splitlines()))


def test_moodle_question_states_the_network(run_cli: Cli, tmp_path: Path) -> None:
    def text(name: str) -> str:
        """The first question's text as a student reads it: tags dropped, entities decoded."""
        root = quiz_of(run_cli, tmp_path / name, ROOT / "configs" / name, n=1)
        return html.unescape(re.sub("<[^>]+>", "", root.findtext("question/questiontext/text", "")))

    default = text("default.yaml")
    for part in (
        "d0 = 5, d1 = 3, d2 = 4, d3 = 3",
        "Layer 1: ReLU",
        "softmax head",
        "Loss: cross-entropy",
        "Learning rate η = 0.1",
        "Rounding: 4 decimal places, ties away from zero",
        "W(1) (3 × 5, given) =",
    ):
        assert part in default, part
    momentum = text("momentum.yaml")
    assert "Momentum μ = 0.9" in momentum and "Weight decay λ = 0.01" in momentum
    adam = text("adam-minibatches.yaml")
    assert "Adam: β1 = 0.9, β2 = 0.999, ε = " in adam and "Mini-batches of 2" in adam
    assert "tanh" in adam and "Answer for iteration 1 (of 4)" in adam
    dropout = text("dropout-residual.yaml")
    assert "Dropout keep probabilities: p(0) = 1, p(1) = 0.5, p(2) = 1" in dropout
    assert "plus the skip path h(1)" in dropout and "d(1) (3, given) =" in dropout
    assert "z(1) (test-time pass: updated parameters, no masks)" in dropout


def test_moodle_escapes_once(run_cli: Cli, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    data["title"] = 'Quiz {1:NM:=1} ~ a/b #2 "x" & <y>'
    data["network"]["activation"] = "sigmoid"
    data["document"] = {"points": {"dW1": 3, "forward": 2}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    root = quiz_of(run_cli, tmp_path, path, n=1)
    assert root.findtext("question/category/text") == '$course$/Quiz {1:NM:=1} ~ a//b #2 "x" & <y>'
    q = root.find("question[@type='cloze']")
    assert q is not None
    assert q.findtext("name/text") == 'Quiz {1:NM:=1} ~ a/b #2 "x" & <y>: variant 1 (seed 25)'
    text = q.findtext("questiontext/text") or ""
    assert text.startswith('<p>Quiz &#123;1:NM:=1} ~ a/b #2 "x" &amp; &lt;y&gt;: variant 1')
    assert "σ'(z" in text or "σ′" in text or "sigmoid" in text
    assert "&#x27;" not in text and "&amp;#" not in text
    trace = handcalc.run(tmp_path / "e" / "variant-01.yaml")
    found = fields(text)
    assert len(found) == sum(len(s.values) for s in asked(trace))  # the title adds no field
    by_step = {s.id: points(trace, s) for s in asked(trace)}
    assert by_step["dW1"] == 3 and by_step["z1"] == 2 and by_step["dW2"] == 1
    assert found[0].feedback.startswith("z<sup>(1)</sup> [1]: ")


def test_moodle_pieces() -> None:
    assert moodle.tolerance(Decimal("0.0001000000000000555111512312578")) == "0.00011"
    assert moodle.tolerance(Decimal("0.0015")) == "0.0015"
    assert moodle.tolerance(Decimal("0")) == "0"
    assert moodle.tolerance(Decimal("0.0123456")) == "0.013"
    assert moodle.feedback("a}b#c~d") == "a\\}b\\#c&#126;d"
    assert fields("{3:NUMERICAL:=-0.25:0.001#W<sup>(1)</sup> [1,2]: a\\}b}")[0] == Field(
        weight=3,
        fraction=Decimal(1),
        value=Decimal("-0.25"),
        tolerance="0.001",
        feedback="W<sup>(1)</sup> [1,2]: a}b",
    )


def test_moodle_weights_stay_within_what_moodle_stores(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text())
    data["network"]["widths"] = [16, 13, 11, 7]
    data["data"] = {"x": [0.5] * 16, "label": 1}
    path = tmp_path / "wide.yaml"
    path.write_text(yaml.safe_dump(data))
    trace = handcalc.run(path)
    factor = scale(trace)  # the exact factor, 16 * 13 * 11 * 7, would pass Moodle's limit
    found = fields(moodle.question(trace, 1, 1))
    assert 1 <= factor < 16 * 13 * 11 * 7 and sum(f.weight for f in found) <= moodle.MAX_MARK
    assert min(f.weight for f in found) >= 1


def test_relu_mixed_reads_the_mini_batch(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "configs" / "adam-minibatches.yaml").read_text())
    data["network"]["activation"] = "relu"
    data["exam"] = {"max_tries": 200, "require": {"relu_mixed": True}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    for v in draw(config.load(path), 2):  # z(1) holds the 2 examples of the first mini-batch
        z = v.trace.step("z1").values
        assert len(z) == 2 * 3 and any(x > 0 for x in z[:3]) and any(x <= 0 for x in z[:3])
