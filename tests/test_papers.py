"""Papers a lecturer can hand out: solvable from the page, honest indices, room and marks."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import handcalc
from conftest import CONFIGS, ROOT, problem
from handcalc.config.load import load
from handcalc.config.problem import Problem
from handcalc.documents import moodle, paper
from handcalc.documents.settings import number
from handcalc.model.runner import make_trace
from handcalc.render import html, latex, typst
from handcalc.render import markdown_paper as mdoc
from handcalc.trace import Trace

Cli = Callable[..., tuple[int, str, str]]


def config(name: str, **changes: dict[str, Any]) -> dict[str, Any]:
    """A config of configs/ as a dict, with some sections changed."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text())
    for section, values in changes.items():
        data[section] = {**data.get(section, {}), **values}
    return data


COMBINATIONS = {
    "dropout+adam": config("dropout", training={"optimizer": "adam", "steps": 2}),
    "residual+nesterov": config(
        "residual", training={"optimizer": "nesterov", "momentum": 0.5, "weight_decay": 0.02}
    ),
    "batch+temperature": config("batch", network={"temperature": 2}),
    "adam+decay": config("adam-minibatches", training={"weight_decay": 0.001}),
    "dropout-residual+momentum": config("dropout-residual", training={"optimizer": "momentum"}),
}


def trace_of(name: str) -> Trace:
    """A config of configs/ ("default", "default --jacobians") or a combination, run."""
    if name in COMBINATIONS:
        return make_trace(problem(COMBINATIONS[name]))
    stem, _, flag = name.partition(" ")
    return make_trace(load(ROOT / "configs" / f"{stem}.yaml"), jacobians=bool(flag))


CASES = [c.stem + flag for c in CONFIGS for flag in ("", " --jacobians")] + list(COMBINATIONS)


@pytest.mark.parametrize("name", CASES)
def test_every_step_reads_what_the_paper_gives_or_asks(name: str) -> None:
    trace = trace_of(name)
    doc = paper.build(trace, key=False)
    printed = {m.name for m in doc.given} | {b.step_id for s in doc.sections for b in s.boxes}
    passed_on = {s.id: s.spec.inputs for s in trace.iterations[0] if not s.spec.written}
    for step in trace.iterations[0]:
        if step.id in printed and step.spec.compute is not None:
            reads, missing = list(step.spec.inputs), set()
            while reads:  # a step not written down reads, in its place, what it reads
                i = reads.pop()
                reads += passed_on.get(i, ())
                missing |= set() if i in printed or i in passed_on else {i}
            assert not missing, f"{name}: {step.id} reads {missing}, neither given nor asked"


def constants(p: Problem) -> list[str]:
    """Every constant a step of `p` reads, as the worksheet must print it."""
    o, out = p.optimizer, [f"η = {number(p.learning_rate)}"]
    if o.name in ("momentum", "nesterov"):
        out.append(f"μ = {number(o.momentum)}")
    if o.name == "adam":
        out += [f"β1 = {number(o.beta1)}", f"β2 = {number(o.beta2)}", f"ε = {number(o.epsilon)}"]
    if o.weight_decay or o.name != "sgd":
        out.append(f"λ = {number(o.weight_decay)}")
    if p.dropout is not None:
        out += [f"p<sup>({i})</sup> = {number(k)}" for i, k in enumerate(p.dropout.keep)]
    if p.temperature is not None:
        out.append(f"T = {number(p.temperature)}")
    return out + [f"Layer {layer} is residual" for layer in p.residual]


@pytest.mark.parametrize("name", CASES)
def test_every_constant_is_printed(name: str) -> None:
    trace = trace_of(name)
    text = mdoc.document(paper.build(trace, key=False))
    for wanted in constants(trace.problem):
        assert wanted in text, f"{name}: {wanted} missing"
    if len(trace.info) > 1:
        assert f"iteration 1 of {len(trace.info)}" in text


def worksheet(data: dict[str, Any]) -> str:
    return mdoc.document(paper.build(make_trace(problem(data)), key=False))


def test_the_worksheet_prints_every_constant_the_steps_read() -> None:
    text = worksheet(COMBINATIONS["dropout+adam"])
    assert "Update with Adam, β1 = 0.9, β2 = 0.999, ε = 1e-8" in text
    assert "weight decay λ = 0 (g = dL/dθ + λ θ)" in text
    assert "Dropout keep probabilities p<sup>(0)</sup> = 1, p<sup>(1)</sup> = 0.5" in text
    assert "the test-time pass uses p W in place of W" in text
    assert "This paper shows iteration 1 of 2 (epoch 1)" in text
    text = worksheet(COMBINATIONS["residual+nesterov"])
    assert "Update with momentum μ = 0.5: v = μ v\\_prev + g; n = g + μ v" in text
    assert "weight decay λ = 0.02" in text
    assert "Layer 2 is residual: h<sup>(2)</sup> = σ(z<sup>(2)</sup>) + h<sup>(1)</sup>." in text
    text = worksheet(COMBINATIONS["batch+temperature"])
    assert "Temperature T = 2: the head reads z̃<sup>(2)</sup> = z<sup>(2)</sup> / T." in text
    assert "Batch: examples 1, 2, 3 of the 3 given, as rows n = 1, 2, 3" in text
    text = worksheet(config("adam-minibatches"))
    assert "Batch: examples 1, 2 of the 5 given, as rows n = 1, 2; L is the mean" in text
    assert "iteration 1 of 4" in text


def test_labels_sit_on_the_targets_and_ids_only_on_the_key() -> None:
    text = worksheet(config("dropout"))
    assert "y = one-hot of the label c (c = 2)\n" in text
    assert "d<sup>(1)</sup> = the dropout mask (given)\n" in text
    assert "`[y]`" not in text and "· dhdz1`" not in text
    text = worksheet(config("adam-minibatches"))
    assert "y = one-hot of the label c (labels = 1, 2)\n" in text
    assert "(0 at the start)\n" in text
    key = mdoc.document(paper.build(make_trace(problem(config("adam-minibatches"))), key=True))
    assert "(0 at the start) `[sb2_prev]`" in key and "`3 x 3 · dW1`" in key
    for render in (html.document, latex.document):
        sheet = render(paper.build(make_trace(problem(config("dropout"))), key=False))
        assert "[y]" not in sheet and "dhdz1" not in sheet


def test_only_values_that_replace_old_ones_are_marked_updated() -> None:
    """W, b and Adam's m, s are updated; m̂, ŝ and u are worked out on the way."""
    t = handcalc.run(ROOT / "configs" / "adam-minibatches.yaml")
    text = mdoc.document(paper.build(t, key=True))
    for name in ("m<sub>W</sub>", "s<sub>W</sub>", "W"):
        assert f"**{name}<sup>(1)</sup> (updated)**" in text, name
    for name in ("m̂<sub>W</sub>", "ŝ<sub>W</sub>", "u<sub>W</sub>"):
        assert f"**{name}<sup>(1)</sup>**" in text, name
    question = moodle.question(t, 1, 1)
    assert "<b>u<sub>W</sub><sup>(1)</sup></b> (3 × 3;" in question
    assert "<b>m<sub>W</sub><sup>(1)</sup></b> (updated) (3 × 3;" in question


def test_per_example_numbers_have_a_row_per_example() -> None:
    doc = paper.build(handcalc.run(ROOT / "configs" / "batch.yaml"), key=True)
    boxes = {b.step_id: b for s in doc.sections for b in s.boxes}
    assert boxes["losses"].row_labels == ["n=1", "n=2", "n=3"]
    assert [len(r) for r in boxes["losses"].values or []] == [1, 1, 1]
    assert boxes["sum_exp"].row_labels == ["n=1", "n=2", "n=3"]


def test_three_tensors_print_as_labelled_slices() -> None:
    trace = make_trace(load(ROOT / "configs" / "default.yaml"), jacobians=True)
    boxes = {b.step_id: b for s in paper.build(trace, key=True).sections for b in s.boxes}
    tensor = boxes["J_z3_W3"]
    assert tensor.shape == "3 x 3 x 4"
    assert tensor.row_labels[:4] == ["j=1, 1", "j=1, 2", "j=1, 3", "j=2, 1"]
    assert len(tensor.row_labels) == 9
    trace = make_trace(load(ROOT / "configs" / "adam-minibatches.yaml"), jacobians=True)
    boxes = {b.step_id: b for s in paper.build(trace, key=True).sections for b in s.boxes}
    assert boxes["J_h1"].row_labels == [f"n={n}, {i}" for n in (1, 2) for i in (1, 2, 3)]


def test_the_typst_paper_prints_each_slice_as_its_own_small_matrix() -> None:
    trace = make_trace(load(ROOT / "configs" / "default.yaml"), jacobians=True)
    source = typst.document(paper.build(trace, key=True))
    step = source[source.index('#"J_z3_W3"') :].split("\n")[2]  # the line after its formula
    slices = re.findall(r'\[#"(j = \d)" \\ #answers\((.*?)\)\]', step)
    assert [name for name, _ in slices] == ["j = 1", "j = 2", "j = 3"]
    for _, table in slices:  # rows 1..3 of the slice, never "j=1, 2"
        assert ', "1", "' in table and ', "3", "' in table and "j=" not in table


def test_masks_and_one_hot_targets_print_as_0_and_1() -> None:
    doc = paper.build(handcalc.run(ROOT / "configs" / "dropout.yaml"), key=False)
    given = {m.name: m for m in doc.given}
    assert given["y"].rows == [["0", "1"]]
    assert given["d1"].rows == [["1", "0", "1", "1"]]


def test_every_step_has_points_and_the_paper_a_total() -> None:
    doc = paper.build(handcalc.run(ROOT / "configs" / "default.yaml"), key=False)
    boxes = [b for s in doc.sections for b in s.boxes]
    assert {b.points for b in boxes} == {"1"}
    assert doc.total == str(len(boxes))
    data = config("default", document={"points": {"dW1": 3, "forward": 0.5}})
    doc = paper.build(make_trace(problem(data)), key=True)
    points = {b.step_id: b.points for s in doc.sections for b in s.boxes}
    assert points["dW1"] == "3"
    assert points["z1"] == "0.5"
    assert points["loss"] == "1"
    source = typst.document(doc)
    assert f"Total: {doc.total} points" in source


def test_every_page_carries_name_id_and_variant() -> None:
    doc = paper.build(handcalc.run(ROOT / "configs" / "default.yaml"), key=False, variant=3)
    source = typst.document(doc)
    assert "header: context" in source
    assert "#head.update([#grid(columns: (1.3fr, 1fr, auto), gutter: 1.2em, [Name: " in source
    assert '"variant 3 · total 28 points"' in source
    tex = latex.document(doc)
    assert "\\fancyhead[L]{\\footnotesize\\ifnum\\value{page}>1 \\pagehead\\fi}" in tex
    assert "\\renewcommand{\\pagehead}{Name: \\rule{6cm}{0.4pt}" in tex
    assert "variant 3 · total 28 points}" in tex


@pytest.mark.parametrize(
    ("space", "height"), [("none", None), ("small", "2.2cm"), ("large", "5cm")]
)
def test_document_space_sets_the_working_area(space: str, height: str | None) -> None:
    data = config("default", document={"space": space})
    source = typst.document(paper.build(make_trace(problem(data)), key=False))
    if height is None:
        assert "working" not in source
    else:
        assert f"#block(width: 100%, height: {height}," in source
    key = typst.document(paper.build(make_trace(problem(data)), key=True))
    assert "working" not in key


def test_a_wrong_space_is_one_line_error(run_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config("default", document={"space": "huge"})))
    code, _, err = run_cli("worksheet", str(path), "-o", str(tmp_path / "w.pdf"))
    assert code == 2
    assert err.startswith(f"error: {path}:")
    assert "document.space" in err and "huge" in err


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_the_latex_key_compiles(path: Path, tmp_path: Path) -> None:
    source = latex.document(paper.build(handcalc.run(path), key=True))
    (tmp_path / "key.tex").write_text(source)
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "key.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_wide_matrices_split_into_column_blocks_in_html_and_latex() -> None:
    data = config("default", network={"widths": [12, 2, 2]})
    data["data"] = {"x": [0.5, -0.5] * 6, "y": [0, 1]}
    doc = paper.build(make_trace(problem(data)), key=True)
    page = html.document(doc)
    assert "<th>8</th></tr>" in page and "<tr><th></th><th>9</th>" in page
    tex = latex.document(doc)
    assert "& 7 \\\\ \\hline" in tex and "\\begin{tabular}{|r|p{1.9cm}|p{1.9cm}|p{1.9cm}" in tex
    assert " & 8 & 9 & 10 & 11 & 12 \\\\ \\hline" in tex


def test_html_footer_never_covers_the_page() -> None:
    page = html.document(paper.build(handcalc.run(ROOT / "configs" / "default.yaml"), key=True))
    assert "position:fixed" not in page


def test_the_pdf_worksheet_reads_back_with_every_constant_and_no_answer() -> None:
    from handcalc.render.pdf import pdf
    from test_documents import text_of

    trace = make_trace(problem(COMBINATIONS["dropout+adam"]))
    text = "".join(text_of(pdf(typst.document(paper.build(trace, key=False))))).replace(" ", "")
    for wanted in ("β1=0.9", "β2=0.999", "ε=1e-8", "λ=0", "=0.5", "iteration1of2"):
        assert wanted in text
    loss = trace.step("loss").texts()[0]
    assert loss not in text
    key = "".join(text_of(pdf(typst.document(paper.build(trace, key=True))))).replace(" ", "")
    assert loss in key and "β1=0.9" in key


PDF_CASES = [c.stem for c in CONFIGS] + list(COMBINATIONS)
NUMBER = re.compile(r"-?\d+\.\d+")


def pdf_text(doc: paper.Document) -> str:
    """The PDF's text as a reader copies it, on one line."""
    from handcalc.render.pdf import pdf
    from test_documents import text_of

    return " ".join(text_of(pdf(typst.document(doc))))


def settings_read(p: Problem) -> list[str]:
    """Every constant a step of `p` reads, as the PDF's text spells it (math has no spaces)."""
    return [re.sub(r" |</?sup>", "", c) for c in constants(p)]


@pytest.mark.parametrize("name", PDF_CASES)
def test_the_pdf_worksheet_gives_every_value_and_no_answer_and_the_key_every_answer(
    name: str,
) -> None:
    trace = trace_of(name)
    sheet, key = paper.build(trace, key=False), paper.build(trace, key=True)
    text, key_text = pdf_text(sheet), pdf_text(key)
    given = {v for m in sheet.given for row in m.rows for v in row}
    assert all(v in text for v in given), [v for v in given if v not in text]
    for wanted in settings_read(trace.problem):
        assert wanted in text.replace(" ", ""), f"{name}: {wanted} missing"
    answers = {v for s in key.sections for b in s.boxes for row in b.values or [] for v in row}
    missing = [v for v in answers if v not in key_text]
    assert not missing, f"{name}: the key lacks {missing}"
    shown = (
        given
        | set(NUMBER.findall(sheet.rule_example))
        | set(NUMBER.findall(" ".join(sheet.settings)))
    )
    leaked = set(NUMBER.findall(text)) & (answers - shown)
    assert not leaked, f"{name}: the worksheet prints answers {leaked}"
