"""Every example in README.md and docs/*.md runs as printed.

The convention the documents follow:

- A ```console block holds commands after a `$ ` prompt (a line ending in `\\` goes on);
  the lines up to the next prompt are what the command prints (standard output, then standard
  error), compared line by line apart from trailing spaces. A line `...` stands for any lines.
  A document that means an exit code shows it, as `; echo "exit code $?"` prints it.
- A ```sh block is a script that must exit 0. Lines that work on the checkout itself (a venv,
  pip, the test suite, the linters, git, the sample writer, the benchmark) are not run here.
- The blocks of one `## ` section run in order in one fresh folder, which holds a copy of
  configs/ only when a command of the section names it. `<!-- test: needs torch -->` on the
  line before a block stops its section there where torch is not installed.
- `>>>` sessions are doctests, run from the project folder.
- No other block holds a command.
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import handcalc
from conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TESTED = {"console", "sh"}
TORCH = "<!-- test: needs torch -->"
SETUP = re.compile(
    r"(python3 -m venv|\. \.venv/bin/activate|python -m pip install|python -m pytest"
    r"|ruff |mypy|git |python scripts/samples\.py|python bench/bench\.py)"
)
FENCE = re.compile(r"^```(\w*)\s*$")
LINK = re.compile(r"\]\(([^)\s]+)\)")
REPO_PATH = re.compile(r"`((?:handcalc|configs|samples|tests|scripts|bench|docs|\.ci)/[^`\s]*)`")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block: where it is, its language, its lines, whether it needs torch."""

    path: Path
    line: int
    section: str
    lang: str
    lines: tuple[str, ...]
    torch: bool

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True, slots=True)
class Command:
    """A command of a console block and the output the document shows for it."""

    text: str
    output: tuple[str, ...]


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, each with the `## ` section it sits in."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    section, start, lang, indent = "", -1, "", 0
    for number, line in enumerate(lines):
        fence = FENCE.match(line.strip())
        if start < 0 and line.startswith("## "):
            section = line[3:].strip()
        elif fence and start < 0:
            start, lang, indent = number, fence.group(1), len(line) - len(line.lstrip())
        elif line.strip().startswith("```") and start >= 0:
            torch = start > 0 and lines[start - 1].strip() == TORCH
            body = tuple(text[indent:] for text in lines[start + 1 : number])
            found.append(Block(path, start + 1, section, lang, body, torch))
            start = -1
    return found


def commands(block: Block) -> list[Command]:
    """The `$ ` commands of a console block, each with the output lines that follow it."""
    found: list[Command] = []
    lines = list(block.lines)
    while lines:
        assert lines[0].startswith("$ "), f"{block.where}: {lines[0]!r}"
        text = lines.pop(0)[2:]
        while text.endswith("\\"):
            text += "\n" + lines.pop(0)
        output: list[str] = []
        while lines and not lines[0].startswith("$ "):
            output.append(lines.pop(0))
        found.append(Command(text, tuple(output)))
    return found


def script(block: Block) -> str:
    """A sh block as a script, without the lines that work on the checkout itself."""
    kept = []
    for line in block.lines:
        parts = [p for p in line.split(" && ") if not SETUP.match(p.strip())]
        kept.append(" && ".join(parts))
    return "\n".join(kept)


def sections() -> dict[str, list[Block]]:
    """The tested blocks, grouped by file and `## ` section, in document order."""
    grouped: dict[str, list[Block]] = {}
    for path in DOCS:
        for block in blocks(path):
            if block.lang in TESTED:
                grouped.setdefault(f"{path.relative_to(ROOT)}: {block.section}", []).append(block)
    return grouped


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether actual reads as expected, where a line `...` stands for any lines.

    >>> matches(["a", "...", "d"], ["a", "b", "c", "d"]), matches(["a", "..."], ["b"])
    (True, False)
    """
    chunks: list[list[str]] = [[]]
    for line in expected:
        if line == "...":
            chunks.append([])
        else:
            chunks[-1].append(line)
    if len(chunks) == 1:
        return chunks[0] == actual
    head, *middle, tail = chunks
    at = len(head)
    if actual[:at] != head or len(actual) - at < len(tail):
        return False
    for chunk in middle:
        found = next((i for i in range(at, len(actual)) if actual[i : i + len(chunk)] == chunk), -1)
        if found < 0:
            return False
        at = found + len(chunk)
    return len(actual) - at >= len(tail) and actual[len(actual) - len(tail) :] == tail


def trimmed(lines: list[str]) -> list[str]:
    """Lines without trailing spaces and without trailing empty lines."""
    out = [line.rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def shims(folder: Path) -> dict[str, str]:
    """An environment where `handcalc` and `python` are this checkout's, as a user types them."""
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    for name, run in {"handcalc": "-m handcalc ", "python": ""}.items():
        (bin_dir / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" {run}"$@"\n')
        (bin_dir / name).chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    fixed = {"PATH": path, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "80"}
    return {**os.environ, **fixed, "TERM": "dumb"}


def shell(text: str, folder: Path, env: dict[str, str], *flags: str) -> tuple[int, list[str]]:
    """Run text with bash in folder: the exit code, and standard output then standard error."""
    done = subprocess.run(
        ["bash", *flags, "-c", text], cwd=folder, env=env, capture_output=True, text=True
    )
    return done.returncode, (done.stdout + done.stderr).splitlines()


def prepare(folder: Path, group: list[Block]) -> None:
    """A fresh folder for a section; configs/ is copied in when a command names it."""
    if any("configs/" in line for block in group for line in block.lines):
        shutil.copytree(ROOT / "configs", folder / "configs")


def run_console(block: Block, folder: Path, env: dict[str, str]) -> None:
    for command in commands(block):
        code, out = shell(command.text, folder, env)
        where = f"{block.where}: $ {command.text}"
        expected = trimmed(list(command.output))
        shown = "\n".join(["expected:", *expected, "printed:", *out])
        assert matches(expected, trimmed(out)), f"{where}: exit {code}\n{shown}"


def run_script(block: Block, folder: Path, env: dict[str, str]) -> None:
    code, out = shell(script(block), folder, env, "-e")
    assert code == 0, f"{block.where}: exit {code}\n" + "\n".join(out)


SECTIONS = sections()


@pytest.mark.parametrize("name", list(SECTIONS))
def test_examples_run_as_printed(name: str, tmp_path: Path) -> None:
    group = SECTIONS[name]
    env = shims(tmp_path)
    folder = tmp_path / "work"
    folder.mkdir()
    prepare(folder, group)
    for block in group:
        if block.torch and importlib.util.find_spec("torch") is None:
            pytest.skip(f"{block.where} needs torch")
        (run_console if block.lang == "console" else run_script)(block, folder, env)


def test_every_command_example_is_tested() -> None:
    """A command shown outside a console or sh block would escape the tests."""
    for path in DOCS:
        for block in blocks(path):
            if block.lang in TESTED:
                continue
            shown = [line for line in block.lines if line.startswith(("$ ", "handcalc "))]
            assert not shown, f"{block.where}: a ```{block.lang} block with {shown}"


def test_setup_lines_name_what_exists() -> None:
    """The lines CI runs instead of this test name files and folders that exist."""
    for path in DOCS:
        for block in blocks(path):
            for line in block.lines if block.lang == "sh" else ():
                for part in line.split(" && "):
                    if SETUP.match(part.strip()):
                        named = re.findall(r"\b(?:scripts|bench)/\w+\.py\b", part)
                        assert all((ROOT / name).is_file() for name in named), part


def test_python_sessions() -> None:
    """The `>>>` sessions run as written, from the project folder."""
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        results = [
            doctest.testfile(
                str(path),
                module_relative=False,
                optionflags=doctest.ELLIPSIS,
                globs={"handcalc": handcalc},
            )
            for path in DOCS
        ]
    finally:
        os.chdir(here)
    assert sum(r.attempted for r in results) >= 5 and sum(r.failed for r in results) == 0
    assert doctest.testmod(handcalc).failed == 0


def prose(path: Path) -> list[str]:
    """The lines of a Markdown file outside its fenced blocks."""
    out: list[str] = []
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("```"):
            inside = not inside
        elif not inside:
            out.append(line)
    return out


def slug(title: str) -> str:
    """The anchor GitHub gives a heading.

    >>> slug("Mini-batches and epochs"), slug("Correct, carried, wrong")
    ('mini-batches-and-epochs', 'correct-carried-wrong')
    """
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings."""
    return {slug(line.lstrip("#").strip()) for line in prose(path) if line.startswith("#")}


def test_links_and_paths_lead_somewhere() -> None:
    """Every relative link reaches a file and heading, and every repository path named exists."""
    for path in DOCS:
        name = path.relative_to(ROOT)
        for line in prose(path):
            for target in LINK.findall(line):
                if target.startswith(("http://", "https://")):
                    continue
                file, _, anchor = target.partition("#")
                linked = (path.parent / file).resolve() if file else path
                assert linked.exists(), f"{name}: {target}"
                assert not anchor or anchor in anchors(linked), f"{name}: {target}"
            for named in REPO_PATH.findall(line):
                assert any(ROOT.glob(named.rstrip("/"))), f"{name}: {named}"
