"""The package's shape: no import circle, small modules, small functions."""

from __future__ import annotations

import ast
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "handcalc"
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under `if TYPE_CHECKING:` (annotations only, never run)."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            stack.extend(node.orelse)
            continue
        out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def imported_names(path: Path) -> set[str]:
    """Every name a module imports, at any depth of its code: modules and names in them."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base]).strip(".")
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def imports(path: Path) -> set[str]:
    """The handcalc modules a module imports, at any depth of its code."""
    known = {module_name(p) for p in MODULES}
    return {m for m in imported_names(path) if m in known and m != module_name(path)}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in MODULES}


def test_no_import_circle() -> None:
    edges = graph()
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cycle = [*path[path.index(n) :], n]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        path.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


# One interpreter loads the third-party libraries once; then each handcalc module is imported in a
# fresh fork of it, where no handcalc module is loaded yet: alone, and in a few seconds in all.
ALONE = """
import importlib, json, multiprocessing, os, sys, traceback

def alone(name):
    try:
        importlib.import_module(name)
    except BaseException:
        return name, traceback.format_exc()
    return name, ""

for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except ImportError:  # a class or function imported from a module, or absent here
        pass
forks = multiprocessing.get_context("fork")
with forks.Pool(os.cpu_count(), maxtasksperchild=1) as pool:
    print(json.dumps(dict(pool.map(alone, json.loads(sys.argv[2]), chunksize=1))))
"""
ALONE_MODULES = [module_name(p) for p in MODULES if p.name != "__main__.py"]  # __main__ runs


def third_party() -> list[str]:
    """The names outside handcalc that the package imports (not all of them modules)."""
    names = {n for p in MODULES for n in imported_names(p)}
    return sorted(n for n in names if n.partition(".")[0] not in ("handcalc", "__future__", ""))


@pytest.fixture(scope="module")
def imported_alone() -> dict[str, str]:
    """Each module's import error (empty when it imported), each in a fresh process."""
    args = [json.dumps(third_party()), json.dumps(ALONE_MODULES)]
    done = subprocess.run(
        [sys.executable, "-c", ALONE, *args], capture_output=True, text=True, check=True
    )
    result: dict[str, str] = json.loads(done.stdout)
    return result


@pytest.mark.skipif(not hasattr(os, "fork"), reason="imports each module in a fork")
@pytest.mark.parametrize("module", ALONE_MODULES)
def test_each_module_imports_alone(imported_alone: dict[str, str], module: str) -> None:
    assert imported_alone[module] == "", imported_alone[module]


def functions() -> list[tuple[str, int]]:
    out = []
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                assert node.end_lineno is not None
                out.append((f"{module_name(path)}.{node.name}", node.end_lineno - start + 1))
    return out


def test_modules_under_400_lines() -> None:
    big = {module_name(p): n for p in MODULES if (n := len(p.read_text().splitlines())) > 400}
    assert not big, big


def test_functions_under_50_lines() -> None:
    long = {name: n for name, n in functions() if n > 50}
    assert not long, long


def test_median_function_under_10_lines() -> None:
    assert statistics.median(n for _, n in functions()) < 10
