"""`handcalc serve` over HTTP: the page, grading by the check engine, the key kept back, bad input.

The expected verdicts are the worked example of docs/checking.md: a student who forgot the ReLU
derivative in dL/dz^(2) (z^(2)_3 is negative) and carried it into row 3 of dL/dW^(2).
"""

from __future__ import annotations

import random
import re
import shutil
import socket
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from goldens import CONFIGS, ROOT
from handcalc.config import load as config
from handcalc.documents.paper import config_hash
from handcalc.grading import session
from handcalc.grading.check import Options
from handcalc.model.runner import make_trace
from handcalc.serve import app, sheet
from handcalc.serve.requests import MAX_BODY

SLIPPED = {
    "z1": ["-1.99", "1.57", "1.42"],
    "h1": ["0", "1.57", "1.42"],
    "dh2": ["-0.4928", "-0.4863", "-1.0468", "0.5364"],
    "dz2": ["-0.4928", "-0.4863", "-1.0468", "0.5364"],
    "dW2": [
        *("0", "-0.7737", "-0.6998"),
        *("0", "-0.7635", "-0.6905"),
        *("0", "-1.6435", "-1.4865"),
        *("0", "0.8421", "0.7617"),
    ],
}
NUMBER = re.compile(r"(?<![\d.])-?\d+\.\d+(?![\d.])")


def client(paper: Path | None = None, reveal: Any = "never") -> TestClient:
    return TestClient(app.create(sheet.load(paper), reveal), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def default() -> TestClient:
    return client()


def graded(c: TestClient, answers: dict[str, list[str]], **more: Any) -> dict[str, Any]:
    response = c.post("/api/grade", json={"answers": answers, **more})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_page_is_the_worksheet_with_an_input_per_entry(default: TestClient) -> None:
    response = default.get("/")
    page = response.text
    assert response.status_code == 200
    assert "<h1>One training step of a 5-3-4-3 network</h1>" in page
    assert "4 decimal places, ties away from zero" in page
    assert page.count('<input type="text"') == 147  # every entry of the 28 steps asked
    assert 'aria-label="dL/dW^(2)_3,2"' in page
    # the notes' formula as MathML: dL/dW^(2) = dL/dz^(2) (h^(1))^T
    assert "<mi>W</mi><mtext>(2)</mtext></msup></mrow></mfrac><mo>=</mo><mfrac>" in page
    # tab order follows the paper: z1's entries first, then h1's, ..., the updates last
    order = re.findall(r'data-step="(\w+)" data-i="(\d+)"', page)
    assert order[:4] == [("z1", "0"), ("z1", "1"), ("z1", "2"), ("h1", "0")]
    assert order[-1] == ("b3_next", "2")
    assert "0.6000" in page and "-1.9900" not in page  # the givens, not the key


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_every_config_gets_an_input_per_entry_in_the_papers_order(config: Path) -> None:
    sheets = sheet.load(config)
    assert sheets.single is not None
    found = re.findall(r'data-step="(\w+)" data-i="(\d+)"', sheets.single.html)
    inputs = [(step_id, int(i)) for step_id, i in found]
    steps = sheets.single.steps.values()
    assert sorted(inputs) == sorted((s.id, i) for s in steps for i in range(len(s.values)))
    assert list(dict.fromkeys(step_id for step_id, _ in inputs)) == [s.id for s in steps]


def test_security_headers_and_no_inline_script(default: TestClient) -> None:
    for path in ("/", "/static/page.js", "/api/grade", "/nothing"):
        headers = default.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
    page = default.get("/").text
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/page.js" defer>']
    assert " style=" not in page and "<style" not in page and " on" + "click" not in page
    assert default.get("/static/page.css").headers["content-type"].startswith("text/css")


def test_titles_and_labels_are_escaped(tmp_path: Path) -> None:
    config = tmp_path / "hostile.yaml"
    text = (ROOT / "configs" / "default.yaml").read_text(encoding="utf-8")
    title = "title: '<script>alert(1)</script> & \u202e'"
    config.write_text(re.sub(r"(?m)^title: .*$", lambda _: title, text), encoding="utf-8")
    page = client(config).get("/").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \\u202e" in page


def test_correct_slip_and_carried_as_check_gives_them(default: TestClient) -> None:
    result = graded(default, SLIPPED)
    steps = result["steps"]
    assert steps["z1"]["verdicts"] == ["correct"] * 3
    assert steps["dz2"]["verdicts"] == ["correct", "correct", "wrong", "correct"]
    assert steps["dz2"]["line"] == "3 correct, 1 wrong · 0.75/1 points"
    slip = steps["dz2"]["slips"][0]
    assert slip["slip"] == "likely slip: the activation derivative left out (dL/dz = dL/dh)"
    assert slip["formula"].startswith("the notes&#x27; formula: <math><mrow><mfrac>")
    assert steps["dW2"]["verdicts"] == ["correct"] * 7 + ["carried"] * 2 + ["correct"] * 3
    assert steps["dW2"]["carried"].startswith("carried from your <math><mfrac>")
    # dL/dz^(2)_3, the derivative by z^(2)_3
    assert steps["dW2"]["carried"].endswith(
        "<mn>3</mn><mtext>(2)</mtext></msubsup></mrow></mfrac></math>"
    )
    assert result["first_wrong"] == "dz2"
    assert (
        result["score"] == "4.75 of 5 points on the steps written; 23 correct, 2 carried, 1 wrong"
    )
    assert set(steps) == set(SLIPPED)


def test_unreadable_and_decimal_comma_entries(default: TestClient) -> None:
    result = graded(default, {"z1": ["-1,99", "x1", ""]})
    assert result["steps"]["z1"]["verdicts"] == ["correct", "unreadable", "blank"]
    assert result["notes"] == ["z1[1]: read '-1,99' as -1.99 (decimal comma)"]
    assert result["problems"] == ["z1[2]: 'x1' is not a number"]


def key_texts(c: TestClient) -> set[str]:
    sheets = sheet.load(None)
    assert sheets.single is not None
    return {s.text(i) for s in sheets.single.steps.values() for i in range(len(s.values))}


def students(seed: int, config: Path | None = None) -> list[dict[str, list[str]]]:
    """Answer sets of every kind: the key, near misses, slips, blanks, garbage, fractions."""
    sheets = sheet.load(config)
    assert sheets.single is not None
    rng = random.Random(seed)
    out = [SLIPPED] if config is None else []
    for _ in range(25):
        answers: dict[str, list[str]] = {}
        for step in sheets.single.steps.values():
            if rng.random() < 0.3:
                continue
            answers[step.id] = [_entry(rng, step.values[i]) for i in range(len(step.values))]
        out.append(answers)
    return out


def _entry(rng: random.Random, key: Decimal) -> str:
    kind = rng.choice(["key", "off", "far", "blank", "junk", "fraction", "negated"])
    if kind == "key":
        return f"{key:f}"
    if kind == "off":
        return f"{key + Decimal(rng.choice([-3, -2, 2, 3])) / 10000:f}"
    if kind == "far":
        return f"{key * 10:f}"
    if kind == "negated":
        return f"{-key:f}"
    return {"blank": "", "junk": "abc", "fraction": "1/3"}[kind]


@pytest.mark.parametrize("reveal", ["never", "wrong", "always"])
def test_the_key_reaches_the_page_only_as_reveal_allows(reveal: str) -> None:
    c = client(reveal=reveal)
    keys = key_texts(c)
    leaked_somewhere = False
    for answers in students(7):
        typed = {t.strip() for texts in answers.values() for t in texts}
        untyped = keys - typed
        result = graded(c, answers)
        bodies = [
            c.post("/api/grade", json={"answers": answers}).text,
            c.post("/api/answers", json={"answers": answers}).text,
        ]
        wrong_keys = {k for s in result["steps"].values() for k in s["keys"] if k is not None}
        for body in bodies:
            leaked = set(NUMBER.findall(body)) & untyped
            if reveal == "never":
                assert not leaked, leaked
            leaked_somewhere |= bool(leaked)
        if reveal == "wrong":
            verdicts = {
                (sid, i): v
                for sid, s in result["steps"].items()
                for i, v in enumerate(s["verdicts"])
            }
            shown = {
                (sid, i) for sid, s in result["steps"].items() for i, k in enumerate(s["keys"]) if k
            }
            assert all(verdicts[at] == "wrong" for at in shown)
        if reveal == "never":
            assert not wrong_keys
    assert leaked_somewhere == (reveal != "never")  # the test can tell a leak when there is one


@pytest.mark.parametrize("name", [None, "batch", "adam-minibatches", "dropout-residual"])
def test_downloaded_answers_check_to_the_same_verdicts(name: str | None, tmp_path: Path) -> None:
    config = None if name is None else ROOT / "configs" / f"{name}.yaml"
    c = client(config)
    for answers in students(11, config)[:6]:
        text = c.post("/api/answers", json={"answers": answers}).text
        path = tmp_path / "answers.yaml"
        path.write_text(text, encoding="utf-8")
        report = session.check(config, path, Options(only_answered=True))
        page = graded(c, answers)["steps"]
        checked = {s.step.id: [e.verdict for e in s.entries] for s in report.steps}
        assert checked == {k: v["verdicts"] for k, v in page.items()}


def test_upload_gives_back_what_was_typed(default: TestClient) -> None:
    answers = {"z1": ["-1.99", "1/3", "0,25"], "dW1": [""] * 14 + ["a\x1bb"], "loss": ["1e-3"]}
    text = default.post("/api/answers", json={"answers": answers}).text
    assert "\x1b" not in text and "dW1:\n  - [~, ~, ~, ~, ~]" in text
    back = default.post("/api/upload", json={"text": text}).json()
    assert back["answers"]["z1"] == ["-1.99", "1/3", "0,25"]
    assert back["answers"]["dW1"][-1] == "a\\x1bb"  # shown, never sent as a control character
    assert back["answers"]["loss"] == ["1e-3"]
    assert back["problems"] == ["answers.yaml:62: dW1[3][5]: 'a\\x1bb' is not a number"]


def test_upload_of_a_transposed_matrix_and_of_no_yaml(default: TestClient) -> None:
    rows = "\n".join(f"  - [{', '.join(str(c * 10 + r) for c in range(3))}]" for r in range(5))
    back = default.post("/api/upload", json={"text": f"dW1:\n{rows}\n"}).json()
    assert back["answers"]["dW1"][:6] == ["0", "1", "2", "3", "4", "10"]
    bad = default.post("/api/upload", json={"text": "z1: [1, 2"})
    assert bad.status_code == 422 and bad.json()["error"].startswith("answers.yaml:")


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "the request is not JSON text"),
        (b"\xff\xfe", 400, "the request is not JSON text"),
        (b"[1, 2]", 422, "expected a JSON object"),
        (b'{"path": "/etc/passwd"}', 422, "unknown field 'path'"),
        (b'{"answers": {"../x": []}}', 422, "answers: '../x' is no step of the paper"),
        (b'{"answers": {"z1": ["1"]}}', 422, "answers: z1: expected a list of 3 entries"),
        (b'{"answers": {"z1": [1, 2, 3]}}', 422, "answers: z1: each entry is text of 100"),
        (b'{"answers": {"z1": "1"}}', 422, "answers: z1: expected a list of 3 entries"),
        (b'{"answers": []}', 422, "answers: expected an object of step ids"),
        (b'{"variant": "2"}', 404, "variant: expected no variant (this is not an exam)"),
        (b'{"variant": 2}', 422, "variant: expected the variant number as text"),
        (b'{"text": 5}', 422, "text: expected the answers file's text"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "the request is not JSON text"),
    ],
)
def test_malformed_requests_get_a_json_4xx(
    default: TestClient, body: bytes, status: int, error: str
) -> None:
    response = default.post("/api/grade", content=body)
    assert response.status_code == status
    assert response.json()["error"].startswith(error)
    assert "Traceback" not in response.text


def test_long_entry_and_oversized_requests(default: TestClient) -> None:
    long = default.post("/api/grade", json={"answers": {"z1": ["1" * 101, "", ""]}})
    assert long.status_code == 422
    big = default.post("/api/grade", content=b" " * (MAX_BODY + 1))
    assert big.status_code == 413 and big.json() == {
        "error": f"the request is larger than {MAX_BODY:,} bytes"
    }

    def chunks() -> Any:  # no Content-Length: the cap holds while reading
        for _ in range(MAX_BODY // 1000 + 2):
            yield b" " * 1000

    streamed = default.post("/api/grade", content=chunks())
    assert streamed.status_code == 413
    lying = default.post("/api/grade", content=b"{}", headers={"content-length": "x"})
    assert lying.status_code in (400, 413)


def test_other_methods_and_paths_are_json_errors(default: TestClient) -> None:
    assert default.get("/api/grade").json() == {"error": "method not allowed"}
    assert default.get("/static/../cli.py").status_code == 404
    assert default.get("/static/sheet.py").json() == {"error": "not found"}


@pytest.fixture(scope="module")
def exam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An exam folder of two variants as `handcalc exam` lays it out (its PDFs are not read)."""
    folder = tmp_path_factory.mktemp("exam")
    text = (ROOT / "configs" / "default.yaml").read_text(encoding="utf-8")
    rows = ["variant,seed,config_hash,config,worksheet,key"]
    for n, seed in ((1, 24), (2, 31)):
        name = f"variant-{n:02d}"
        (folder / f"{name}.yaml").write_text(text.replace("seed: 24", f"seed: {seed}"), "utf-8")
        printed = config_hash(make_trace(config.load(folder / f"{name}.yaml")))
        rows.append(f"{n},{seed},{printed},{name}.yaml,{name}-worksheet.pdf,{name}-key.pdf")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_exam_student_enters_their_variant(exam: Path, tmp_path: Path) -> None:
    c = client(exam)
    assert 'name="variant"' in c.get("/").text
    missing = c.get("/", params={"variant": "7"})
    assert missing.status_code == 404 and "no such variant" in missing.text
    page = c.get("/", params={"variant": "02"}).text
    assert 'data-variant="2"' in page and "Worksheet · variant 2" in page
    assert c.post("/api/grade", json={"answers": {}}).status_code == 404
    first = graded(c, {"z1": SLIPPED["z1"]}, variant="1")["steps"]["z1"]["verdicts"]
    second = graded(c, {"z1": SLIPPED["z1"]}, variant="2")["steps"]["z1"]["verdicts"]
    assert first == ["correct"] * 3 and second != first  # each variant its own key
    text = c.post("/api/answers", json={"answers": {}, "variant": "2"}).text
    assert "\nvariant: 2\n" in text
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    blank = session.check(exam / "variant-02.yaml", path, Options())
    assert blank.totals()["blank"] == 147
    other = c.post("/api/upload", json={"text": text, "variant": "1"})
    assert other.status_code == 422
    assert other.json()["error"] == "answers.yaml: variant: '2' is not this page's variant 1"


def test_an_exam_variant_edited_after_the_exam_is_refused(
    exam: Path, tmp_path: Path, run_cli: Any
) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(exam, edited)
    config_file = edited / "variant-02.yaml"
    config_file.write_text(config_file.read_text("utf-8").replace("seed: 31", "seed: 32"), "utf-8")
    code, _, err = run_cli("serve", str(edited))
    assert code == 2
    assert err.startswith(f"error: {config_file}: config changed since the exam was written")


def test_serve_command_errors(run_cli: Any, tmp_path: Path) -> None:
    code, _, err = run_cli("serve", "--reveal", "sometimes")
    assert (code, err) == (
        2,
        "error: --reveal: unknown value 'sometimes' (one of never, wrong, always)\n",
    )
    code, _, err = run_cli("serve", str(tmp_path / "missing.yaml"))
    assert code == 2 and err.startswith("error: ")


def test_without_the_serve_extra_the_command_says_how_to_get_it(
    run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if `handcalc[serve]` was not installed
    code, _, err = run_cli("serve")
    assert (code, err) == (
        2,
        "error: handcalc serve needs the serve extra: pip install 'handcalc[serve]'\n",
    )


def test_a_port_in_use_is_one_line_of_error(run_cli: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli("serve", "--port", str(port))
    assert code == 2
    assert err.startswith(f"error: --host/--port: cannot listen on 127.0.0.1:{port} (")
