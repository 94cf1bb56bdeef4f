"""Speed figures: `handcalc run` start to finish, one cycle of a 784-128-10 network, an exam of 100
variants, and grading a class of 200 against 30 variants.

Run: python bench/bench.py   (prints the figures; nothing is timed inside the test suite)
     python bench/bench.py --exam   (only the exam figure, beside the baseline's)
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

import yaml

from handcalc.config import load as config
from handcalc.config.problem import Problem
from handcalc.config.source import read_text
from handcalc.documents import exam
from handcalc.model import cycle, ids
from handcalc.model.given import given_values
from handcalc.model.runner import make_trace, recompute
from handcalc.model.steps import Compute
from handcalc.numbers import hand
from handcalc.rowmajor import Nested, nest


def whole_process(repeats: int = 15) -> tuple[float, float]:
    """Median and best wall time of the `handcalc` command on the embedded default.

    Python caches compiled modules as a user's machine does (a warm-up run writes them), even
    where PYTHONDONTWRITEBYTECODE is set.
    """
    command = [str(Path(sys.executable).with_name("handcalc")), "run"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


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
        f"{wall / before:.2f}x the wall time (target <= 0.5x), on {os.cpu_count()} cores"
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


def mnist_config(per: str) -> str:
    rng = random.Random(0)
    x = [round(rng.random(), 2) for _ in range(784)]
    return json.dumps(
        {
            "network": {"widths": [784, 128, 10], "activation": "relu"},
            "data": {"x": x, "label": 3},
            "init": {"seed": 1, "scheme": "uniform", "low": -0.05, "high": 0.05},
            "rounding": {"digits": 4, "per": per},
        }
    )


def child(per: str) -> None:
    """One measurement in a fresh process, so its peak memory is its own."""
    node = read_text(mnist_config(per), "mnist.yaml")
    assert node is not None
    problem = config.build(node, "mnist.yaml")
    start = time.perf_counter()
    t = make_trace(problem)
    cycle = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    size = len(t.to_json())
    to_json = time.perf_counter() - start
    json_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "cycle": cycle,
                "json": to_json,
                "json_mb": size / 1e6,
                "peak_mb": peak_mb,
                "json_peak_mb": json_peak_mb,
            }
        )
    )


def measure(per: str, repeats: int = 5) -> tuple[dict[str, float], float]:
    """Medians over fresh processes, and the best cycle time."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", per], check=True, capture_output=True, text=True
        ).stdout
        runs.append(json.loads(out))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}, min(
        r["cycle"] for r in runs
    )


def main() -> None:
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {platform.system()}")
    median, best = whole_process()
    print(
        f"handcalc run, default config, whole process: median {median:.3f} s, "
        f"best {best:.3f} s (target < 0.3 s)"
    )
    for per, target in (("value", 0.25), ("operation", 0.5)):
        m, best = measure(per)
        print(
            f"784-128-10 cycle, per {per}: median {m['cycle']:.3f} s, best {best:.3f} s "
            f"(target < {target} s); peak memory {m['peak_mb']:.0f} MB (target < 200 MB)"
        )
        print(
            f"  its JSON trace: {m['json_mb']:.1f} MB in {m['json']:.2f} s, "
            f"peak memory {m['json_peak_mb']:.0f} MB"
        )
    print(exam_figures())
    times = [grading_class() for _ in range(3)]
    print(
        f"handcalc grade, 200 answers files against 30 variants: median "
        f"{statistics.median(times):.1f} s, best {min(times):.1f} s (target < 20 s)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    elif sys.argv[1:] == ["--exam"]:
        print(exam_figures())
    else:
        main()
