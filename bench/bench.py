"""Speed figures as ratios to the bare import floor, side by side in one run: `handcalc run` of a
784-128-10 network to JSON and to the terminal, the default run, the JSON run's peak memory, the
exact arithmetic beside numpy int64 fixed point; then an exam of 100 variants and grading a class
of 200 against 30 variants.

Run: python bench/bench.py [--repeats N]   (nothing is timed inside the test suite)
     python bench/bench.py --exam   (only the exam figure, beside the baseline's)
     python bench/bench.py --arithmetic [N]   (only the exact arithmetic's rows, N repeats)
"""

from __future__ import annotations

import io
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from floor import cycle as floor_cycle

from handcalc.config import load as config
from handcalc.config.problem import Problem
from handcalc.config.source import read_text
from handcalc.documents import exam
from handcalc.model import cycle, ids
from handcalc.model.given import given_values
from handcalc.model.plan import plan
from handcalc.model.runner import recompute, run
from handcalc.model.steps import Compute
from handcalc.numbers import NumberSystem, hand, hand_field
from handcalc.rowmajor import Nested, nest

# The last commit whose exam typeset its PDFs in threads and merged them with pypdf: the exam
# figure is measured against it, side by side in one run on one machine.
EXAM_BASELINE = "b5c0416"


def exam_command(code: Path | None) -> list[str]:
    """`handcalc exam` run by this interpreter, from the package in `code` (None: this one)."""
    if code is None:
        return [str(Path(sys.executable).with_name("handcalc")), "exam"]
    start = f"import sys; sys.path.insert(0, {str(code)!r}); from handcalc.cli import main; main()"
    return [sys.executable, "-c", start, "exam"]


def baseline_code(folder: Path) -> Path | None:
    """The package as it was at EXAM_BASELINE, written into `folder` (None: no git checkout)."""
    root = Path(__file__).resolve().parent.parent
    try:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", EXAM_BASELINE, "handcalc"],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def exam_variants(command: list[str], count: int = 100) -> tuple[float, float]:
    """Wall and CPU time (its worker processes included) of `handcalc exam --variants 100`
    with all its PDFs, whole process."""
    with tempfile.TemporaryDirectory() as folder:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [*command, "--variants", str(count), "--output", str(Path(folder) / "exam")],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return wall, cpu


def exam_figures(repeats: int = 3) -> str:
    """Today's exam beside the baseline's, run in turn so that both see the same load."""
    with tempfile.TemporaryDirectory() as folder:
        code = baseline_code(Path(folder))
        now, then = [], []
        for _ in range(repeats):
            if code is not None:
                then.append(exam_variants(exam_command(code)))
            now.append(exam_variants(exam_command(None)))
    wall = statistics.median(w for w, _ in now)
    cpu = statistics.median(c for _, c in now)
    line = f"handcalc exam --variants 100 (all PDFs): median {wall:.1f} s, CPU {cpu:.1f} s"
    if not then:
        return line + " (no git checkout: the baseline is not measured)"
    before = statistics.median(w for w, _ in then)
    before_cpu = statistics.median(c for _, c in then)
    return (
        f"{line}; at {EXAM_BASELINE} {before:.1f} s, CPU {before_cpu:.1f} s: "
        f"{wall / before:.2f}x the wall time (target <= 0.5x), {cpu / before_cpu:.2f}x the CPU "
        f"time, on {os.cpu_count()} cores"
    )


# the slips of a class: none, σ' left out, the sign of ŷ - y, the learning rate left out, an
# arithmetic slip no rule explains (so every rival rounding rule is tried)
SLIPS: list[dict[str, Compute]] = [
    {},
    {"dz2": lambda ns, v: v["dh2"]},
    {"dz3": lambda ns, v: ns.sub(v["y"], v["yhat"])},
    {"W1_next": lambda ns, v: ns.sub(v["W1"], v["dW1"])},
    {"z1": lambda ns, v: ns.mul(ns.matmul_nt(v["h0"], v["W1"], v["b1"]), Decimal("1.1"))},
]
ON_PAPER = {"z", "h", "yhat", "loss", "dz", "dW", "db", "W_next", "b_next"}


def scripted(p: Problem, slips: dict[str, Compute], on_paper: bool) -> dict[str, Nested[str]]:
    """A student's answers: the cycle worked with the given slips, as written on paper."""
    ns = hand(p.rounding)
    values = given_values(p, ns)
    out: dict[str, Nested[str]] = {}
    for spec in cycle.build(p):
        if spec.compute is None:
            continue
        values[spec.id] = recompute(
            replace(spec, compute=slips.get(spec.id, spec.compute)), ns, values
        )
        if not on_paper or str(ids.known(spec.id).kind) in ON_PAPER:
            shape = spec.shape[1:] if spec.per_example and not p.batched else spec.shape
            out[spec.id] = nest([p.rounding.text(v) for v in values[spec.id].data], shape)
    return out


def grading_class(files: int = 200, variants: int = 30) -> float:
    """Wall time of `handcalc grade` on `files` answers files of a `variants`-variant exam, with
    feedback files and the LMS layout, whole process (the exam and answers made beforehand)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        exam.write(config.load(None), variants, folder / "exam", force=False)
        (folder / "answers").mkdir()
        for k in range(files):
            variant = k % variants + 1
            p = config.load(folder / "exam" / f"variant-{variant:02d}.yaml")
            answers = scripted(p, SLIPS[k % len(SLIPS)], on_paper=bool(k % 2))
            text = f"variant: {variant}\n" + yaml.safe_dump(answers)
            (folder / "answers" / f"student-{k:03d}.yaml").write_text(text)
        command = [str(Path(sys.executable).with_name("handcalc")), "grade"]
        start = time.perf_counter()
        subprocess.run(
            [
                *command,
                str(folder / "exam"),
                str(folder / "answers"),
                "--output",
                str(folder / "grades"),
                "--feedback",
                "--lms",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


HANDCALC = str(Path(sys.executable).with_name("handcalc"))
FLOOR = [sys.executable, "-c", "import numpy, rich, typer, yaml"]
# Python caches compiled modules as a user's machine does (a warm-up run writes them), even
# where PYTHONDONTWRITEBYTECODE is set.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CASES = [(per, mode) for per in ("value", "operation") for mode in ("decimals", "significant")]


def mnist_config(per: str, mode: str = "decimals") -> str:
    rng = random.Random(0)
    x = [round(rng.random(), 2) for _ in range(784)]
    return json.dumps(
        {
            "network": {"widths": [784, 128, 10], "activation": "relu"},
            "data": {"x": x, "label": 3},
            "init": {"seed": 1, "scheme": "uniform", "low": -0.05, "high": 0.05},
            "rounding": {"digits": 4, "per": per, "mode": mode},
        }
    )


def finished(command: list[str]) -> Any:
    """Run a command to its end; its own resource usage (CPU time, peak memory)."""
    process = subprocess.Popen(  # the "wrote FILE" line of each run is not wanted here
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, command
    return usage


def timed(command: list[str]) -> float:
    """The CPU time of a whole process: on a shared machine it moves far less with the load
    than the wall time does."""
    usage = finished(command)
    return float(usage.ru_utime + usage.ru_stime)


def cpu(command: list[str], repeats: int) -> tuple[float, float]:
    """Median CPU time of a whole process and its ratio to the import floor's, the two run in
    turn (after a warm-up run of each)."""
    timed(FLOOR)
    timed(command)
    times, floors = [], []
    for _ in range(repeats):
        floors.append(timed(FLOOR))
        times.append(timed(command))
    return statistics.median(times), statistics.median(times) / statistics.median(floors)


def peak_mb(command: list[str]) -> float:
    """The peak resident memory of one process (its own, not the largest of all children)."""
    return float(finished(command).ru_maxrss / 1024)


def median_time(f: Any, repeats: int) -> float:
    """The median CPU time of a call, in this process."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        f()
        times.append(time.process_time() - start)
    return statistics.median(times)


def exact_arithmetic(per: str, repeats: int) -> tuple[float, float, float, float]:
    """Median CPU times of the hand run of the 784-128-10 cycle from its given numbers, of the
    same in Decimal alone, and of the int64 floor; and the time the hand system takes to make
    its given numbers (the floor's are made before it is timed, as the hand run's are)."""
    node = read_text(mnist_config(per), "mnist.yaml")
    assert node is not None
    p = config.build(node, "mnist.yaml")
    iterations = plan(p)
    ns = hand(p.rounding, size=10**9)  # fixed point, whatever the size
    start = time.process_time()
    given = given_values(p, ns)
    making = time.process_time() - start
    hand_time = median_time(lambda: run(p, ns, iterations, given), 5 * repeats)
    decimal = NumberSystem(hand_field(p.rounding))
    decimal_given = given_values(p, decimal)
    decimal_time = median_time(lambda: run(p, decimal, iterations, decimal_given), repeats)
    scale = 10**p.rounding.digits

    def ints(data: Any) -> Any:
        return np.array([int(v * scale) for v in data], dtype=np.int64)

    params = {k: ints(b.data).reshape(b.shape) for k, b in p.parameters.items()}
    x, eta = ints(p.x.data), int(p.learning_rate * scale)
    label = (p.labels or (0,))[0]
    args = (params, x, label, eta, p.rounding.digits, per == "operation")
    return hand_time, median_time(lambda: floor_cycle(*args), 5 * repeats), decimal_time, making


def arithmetic_rows(repeats: int) -> list[str]:
    """The exact arithmetic beside numpy int64 fixed point, per value and per operation."""
    out = []
    for per in ("value", "operation"):
        by_hand, fixed, decimal, making = exact_arithmetic(per, repeats)
        out.append(
            f"| exact arithmetic of the 784-128-10 cycle, per {per}, decimals "
            f"| {by_hand * 1000:.1f} ms (Decimal alone {decimal * 1000:.1f} ms; the given "
            f"numbers made in {making * 1000:.1f} ms) | {by_hand / fixed:.1f}x numpy int64 "
            f"({fixed * 1000:.1f} ms) | <= 3x numpy int64 |"
        )
    return out


def row(what: str, measured: tuple[float, float], target: str) -> str:
    seconds, ratio = measured
    return f"| {what} | {seconds:.2f} s | {ratio:.1f}x | {target} |"


def run_rows(folder: Path, repeats: int) -> list[str]:
    """The 784-128-10 runs to a JSON file and to the terminal (piped), in every mode."""
    out = []
    for per, mode in CASES:
        config_file = folder / f"{per}-{mode}.json"
        config_file.write_text(mnist_config(per, mode))
        command = [HANDCALC, "run", str(config_file)]
        json_out = [*command, "--format", "json", "-o", str(folder / "out.json"), "--force"]
        out.append(
            row(
                f"784-128-10 `run --format json -o FILE`, per {per}, {mode}",
                cpu(json_out, repeats),
                "<= 4x",
            )
        )
        out.append(
            row(
                f"784-128-10 `run`, terminal, per {per}, {mode}",
                cpu(command, repeats),
                "<= 3x",
            )
        )
    return out


def speed_table(repeats: int) -> list[str]:
    """The figures of the output path and the arithmetic, as a Markdown table."""
    out = [
        "| what | measured | x floor | target |",
        "|---|---|---|---|",
        row('import floor: `python -c "import numpy, rich, typer, yaml"`', cpu(FLOOR, repeats), ""),
        row("`handcalc run`, default config", cpu([HANDCALC, "run"], repeats), "<= 1.5x"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        out += run_rows(folder, repeats)
        command = [HANDCALC, "run", str(folder / "value-decimals.json"), "--format", "json"]
        peak = peak_mb([*command, "-o", str(folder / "out.json"), "--force"])
        out.append(
            f"| peak memory of the JSON run, per value, decimals | {peak:.0f} MB | | < 100 MB |"
        )
    out += arithmetic_rows(repeats)
    return out


def main() -> None:
    repeats = int(sys.argv[2]) if len(sys.argv) == 3 and sys.argv[1] == "--repeats" else 5
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {platform.system()}")
    print(
        f"CPU time (user + system) of whole processes, medians over {repeats}, each run in "
        "turn with the import floor (x floor: the ratio of their medians)\n"
    )
    print("\n".join(speed_table(repeats)))
    print()
    print(exam_figures())
    times = [grading_class() for _ in range(3)]
    print(
        f"handcalc grade, 200 answers files against 30 variants: median "
        f"{statistics.median(times):.1f} s, best {min(times):.1f} s (target < 20 s)"
    )


if __name__ == "__main__":
    if sys.argv[1:] in (["--help"], ["-h"]):
        print(__doc__)
    elif sys.argv[1:] == ["--exam"]:
        print(exam_figures())
    elif sys.argv[1:2] == ["--arithmetic"]:
        count = int(sys.argv[2]) if len(sys.argv) == 3 else 5
        print("\n".join(arithmetic_rows(count)))
    else:
        main()
