"""`handcalc serve` in a real browser: Debian's headless Chromium driven by Playwright.

A student types a correct step, a slip and a carried step; reloads and finds the entries kept;
downloads the answers, which `handcalc check` grades to the page's verdicts; clears the page and
uploads the file to go on. Playwright's own browser builds are never used: the test launches
/usr/bin/chromium, which .ci/run installs. Under CI a missing browser fails the test.

HANDCALC_SCREENSHOTS=DIR writes the README's screenshots (samples/serve-*.png) into DIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CI
from test_serve import SLIPPED

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
    *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
]
TIMEOUT_MS = 30_000


def _needs(reason: str) -> None:
    if CI:
        pytest.fail(f"CI runs the browser test, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`handcalc serve --port 0` as a student starts it; its URL as it prints it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "handcalc", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("handcalc serve: open http://127.0.0.1:"), line
        yield line.split()[3]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _needs("Playwright is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        _needs(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            accept_downloads=True,
            viewport={"width": 1000, "height": 800},
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context.new_page()
        finally:
            context.close()


def entry(page: Any, step: str, i: int) -> Any:
    return page.locator(f'input[data-step="{step}"][data-i="{i}"]')


def type_step(page: Any, step: str, texts: list[str]) -> None:
    """Click the step's first box and type each entry, Tab to the next, as a student does."""
    entry(page, step, 0).click()
    for text in texts:
        page.keyboard.type(text)
        page.keyboard.press("Tab")


def verdicts(page: Any, step: str) -> list[str]:
    boxes = page.locator(f'input[data-step="{step}"]')
    out: list[str] = boxes.evaluate_all("(xs) => xs.map((x) => x.dataset.verdict || 'blank')")
    return out


def settled(page: Any) -> None:
    """Wait until the page's latest grading request has been answered and shown."""
    page.wait_for_selector('body[data-state="graded"]')


def test_a_student_session(server: str, page: Any, tmp_path: Path) -> None:
    page.goto(server)
    type_step(page, "z1", SLIPPED["z1"])
    # Tab order follows the paper: after z^(1)_3 comes h^(1)_1
    assert page.evaluate("document.activeElement.dataset.step") == "h1"
    settled(page)
    assert verdicts(page, "z1") == ["correct"] * 3
    for step in ("h1", "dh2", "dz2", "dW2"):
        type_step(page, step, SLIPPED[step])
    settled(page)
    assert verdicts(page, "dz2") == ["correct", "correct", "wrong", "correct"]
    assert verdicts(page, "dW2") == ["correct"] * 7 + ["carried"] * 2 + ["correct"] * 3
    slip = page.locator("#step-dz2 .slip").inner_text()
    assert slip == "likely slip: the activation derivative left out (dL/dz = dL/dh)"
    assert page.locator("#step-dW2 .carried-from").inner_text().startswith("carried from your")
    assert page.locator(".key").evaluate_all("(xs) => xs.map((x) => x.textContent).join('')") == ""
    _screenshots(page)

    page.reload()
    settled(page)
    assert entry(page, "dz2", 2).input_value() == "-1.0468"
    assert verdicts(page, "dz2") == ["correct", "correct", "wrong", "correct"]

    saved = _download(page, tmp_path)
    checked = _check(saved)
    for step, expected in checked.items():
        assert verdicts(page, step) == expected, step
    assert set(checked) == set(SLIPPED)

    page.click("#clear")
    page.click("#clear")
    settled(page)
    assert entry(page, "z1", 0).input_value() == ""
    page.set_input_files("#upload", str(saved))
    settled(page)
    assert entry(page, "dW2", 7).input_value() == "-1.6435"
    assert {step: verdicts(page, step) for step in checked} == checked


def _download(page: Any, tmp_path: Path) -> Path:
    with page.expect_download() as caught:
        page.click("#download")
    download = caught.value
    assert download.suggested_filename == "answers.yaml"
    saved = tmp_path / "answers.yaml"
    download.save_as(saved)
    return saved


def _check(answers: Path) -> dict[str, list[str]]:
    """`handcalc check` on the downloaded file: each step written and its entries' verdicts."""
    done = subprocess.run(
        [sys.executable, "-m", "handcalc", "check", str(answers), "--only-answered", "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # 1: a step went wrong, as the student's did
    report = json.loads(done.stdout)
    return {s["id"]: [e["verdict"] for e in s["entries"]] for s in report["steps"]}


def _screenshots(page: Any) -> None:
    """The README's pictures: the page's top, and the slip named at dL/dz^(2) above the carried
    row of dL/dW^(2)."""
    folder = os.environ.get("HANDCALC_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(Path(folder) / "serve-top.png"))
    top = page.locator("#step-dz2").bounding_box()
    bottom = page.locator("#step-dW2").bounding_box()
    scrolled = page.evaluate("window.scrollY")
    clip = {
        "x": 0,
        "y": top["y"] + scrolled - 8,
        "width": 1000,
        "height": bottom["y"] + bottom["height"] - top["y"] + 16,
    }
    page.screenshot(path=str(Path(folder) / "serve-slip-carried.png"), full_page=True, clip=clip)
