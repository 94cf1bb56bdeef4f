"""Exam variants: one config, N papers with their own numbers, each reproducible from its seed.

Candidates are drawn with seeds init.seed + 1, + 2, ... and kept when they meet the config's
`exam.require` constraints. Each kept variant's config file holds its realized numbers, so any
student's paper can be re-run or checked later.
"""

from __future__ import annotations

import csv
import io
import os
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from handcalc.config import draw as params
from handcalc.config.load import load_node, normalized
from handcalc.config.problem import Block, Problem
from handcalc.config.source import from_data
from handcalc.documents import formats as printing
from handcalc.documents import paper as document
from handcalc.errors import ComputationError, ConfigError, OutputError
from handcalc.files import write_atomic
from handcalc.model.runner import make_trace
from handcalc.trace import Trace


@dataclass(frozen=True, slots=True)
class Variant:
    number: int
    seed: int
    trace: Trace

    @property
    def stem(self) -> str:
        return f"variant-{self.number:02d}"


# ---------------------------------------------------------------- drawing variants


def candidate(base: Problem, seed: int) -> Problem:
    """The base problem with every drawn number drawn again from `seed`."""
    drawn = params.draw(base.widths, replace(base.init, seed=seed))
    r = base.rounding.rounder()
    parameters = {
        k: base.parameters[k]
        if k in base.given_parameters
        else Block(b.shape, tuple(map(r, drawn[k])))
        for k, b in base.parameters.items()
    }
    p = replace(base, parameters=parameters, init=replace(base.init, seed=seed))
    rng = random.Random(f"handcalc-exam-{seed}")
    if base.exam.input:
        values = params.grid(base.init) or [Decimal(0)]
        data = tuple(r(values[int(rng.random() * len(values))]) for _ in base.x.data)
        p = replace(p, x=Block(base.x.shape, data))
    if base.exam.label:
        p = _with_labels(p, rng)
    return p


def _with_labels(p: Problem, rng: random.Random) -> Problem:
    dl = p.widths[-1]
    labels = tuple(int(rng.random() * dl) + 1 for _ in range(p.examples))
    y = tuple(p.rounding.rounder()(Decimal(int(j + 1 == c))) for c in labels for j in range(dl))
    return replace(p, labels=labels, y=Block(p.y.shape, y))


def violations(t: Trace) -> list[str]:
    """The exam.require constraints this trace breaks."""
    p, steps = t.problem, t.iterations[0]
    out = []
    need = p.exam
    if need.relu_mixed and not _relu_mixed(t):
        out.append("relu_mixed")
    if need.max_abs is not None and any(abs(v) > need.max_abs for s in steps for v in s.values):
        out.append("max_abs")
    if need.min_abs_nonzero is not None and any(
        abs(f) > 1e-12 and abs(v) < need.min_abs_nonzero
        for s in steps
        if s.spec.phase != "given"
        for v, f in zip(s.values, s.floats, strict=True)
    ):
        out.append("min_abs_nonzero")
    if need.no_saturation and _saturated(t):
        out.append("no_saturation")
    if need.no_ties and _has_ties(t):
        out.append("no_ties")
    return out


def _relu_mixed(t: Trace) -> bool:
    p = t.problem
    for layer, act in enumerate(p.activations, start=1):
        if act not in ("relu", "leaky_relu"):
            continue
        z = t.step(f"z{layer}").values
        d = p.widths[layer]
        for n in range(p.examples):
            row = z[n * d : (n + 1) * d]
            if all(v > 0 for v in row) or all(v <= 0 for v in row):
                return False
    return True


def _saturated(t: Trace) -> bool:
    p = t.problem
    outputs = [t.step("yhat").values] if p.head in ("sigmoid", "softmax") else []
    outputs += [
        t.step(f"h{layer}").values
        for layer, act in enumerate(p.activations, start=1)
        if act == "sigmoid"
    ]
    return any(v <= 0 or v >= 1 for values in outputs for v in values)


def _has_ties(t: Trace) -> bool:
    """A tie at the rounding digit somewhere: the other tie rule writes another key."""
    r = t.problem.rounding
    other = replace(r, rule="half_even" if r.rule == "half_up" else "half_up")
    try:
        twin = make_trace(replace(t.problem, rounding=other))
    except ComputationError:
        return True
    return any(
        a.values != b.values for a, b in zip(t.iterations[0], twin.iterations[0], strict=True)
    )


def draw(base: Problem, count: int) -> list[Variant]:
    """`count` variants meeting the constraints, or a clear error naming the one most failed."""
    variants: list[Variant] = []
    failed: Counter[str] = Counter()
    tries = 0
    seed = base.init.seed
    while len(variants) < count:
        if tries >= base.exam.max_tries:
            worst = ", ".join(f"{name} ({n} times)" for name, n in failed.most_common(2))
            raise ConfigError(
                f"exam: only {len(variants)} of {count} variants met exam.require in "
                f"{tries} tries; failed most often: {worst} (relax it, or raise exam.max_tries)"
            )
        tries += 1
        seed += 1
        try:
            t = make_trace(candidate(base, seed))
        except ComputationError:
            failed["computable"] += 1
            continue
        broken = violations(t)
        failed.update(broken)
        if not broken:
            variants.append(Variant(len(variants) + 1, seed, t))
    return variants


# ---------------------------------------------------------------- writing an exam


def variant_yaml(v: Variant, count: int) -> str:
    data = normalized(v.trace.problem)
    head = (
        f"# handcalc exam: variant {v.number} of {count}, seed {v.seed}, config "
        f"{document.config_hash(v.trace)}\n# Every number is written out, so this file "
        "re-runs the paper: handcalc run THIS_FILE; handcalc check THIS_FILE ANSWERS\n"
    )
    return head + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )


def reload(text: str, name: str) -> Problem:
    """A variant's config file read back (what a grader does later)."""
    return load_node(from_data(yaml.safe_load(text), name), name)


def write(
    base: Problem,
    count: int,
    folder: Path,
    force: bool,
    moodle: Path | None = None,
) -> list[Path]:
    """Draw the variants and write every file of the exam into `folder`."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise OutputError(f"{folder}: not empty (use --force to write into it)")
    if moodle is not None and moodle.exists() and not force:
        raise OutputError(f"{moodle}: already exists (use --force to overwrite)")
    variants = draw(base, count)
    folder.mkdir(parents=True, exist_ok=True)
    title = base.title or "One training step"
    sheets = [document.build(v.trace, key=False, variant=v.number) for v in variants]
    keys = [document.build(v.trace, key=True, variant=v.number) for v in variants]
    # Typst releases the interpreter while it lays out, so the PDFs compile side by side; the
    # combined documents are these PDFs merged (much faster than laying out one long document).
    jobs = {
        f"{v.stem}-{kind}.pdf": doc
        for v, sheet, key in zip(variants, sheets, keys, strict=True)
        for kind, doc in (("worksheet", sheet), ("key", key))
    }
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {
            name: pool.submit(printing.render, [doc], ".pdf", doc.header.title)
            for name, doc in jobs.items()
        }
        pdfs = {name: f.result() for name, f in futures.items()}
    pdfs["worksheets.pdf"] = printing.merge_pdfs(
        [pdfs[f"{v.stem}-worksheet.pdf"] for v in variants]
    )
    pdfs["keys.pdf"] = printing.merge_pdfs([pdfs[f"{v.stem}-key.pdf"] for v in variants])
    written: list[Path] = []
    rows = []
    for v in variants:
        files = {
            f"{v.stem}.yaml": variant_yaml(v, count).encode(),
            f"{v.stem}-worksheet.pdf": pdfs[f"{v.stem}-worksheet.pdf"],
            f"{v.stem}-key.pdf": pdfs[f"{v.stem}-key.pdf"],
        }
        for name, data in files.items():
            write_atomic(folder / name, data, force=True)
            written.append(folder / name)
        rows.append([v.number, v.seed, document.config_hash(v.trace), *files])
    for name in ("worksheets.pdf", "keys.pdf"):
        write_atomic(folder / name, pdfs[name], force=True)
        written.append(folder / name)
    write_atomic(folder / "manifest.csv", _manifest(rows), force=True)
    written.append(folder / "manifest.csv")
    if moodle is not None:
        from handcalc.documents.moodle import quiz

        write_atomic(moodle, quiz(variants, title), force=True)
        written.append(moodle)
    return written


def _manifest(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["variant", "seed", "config_hash", "config", "worksheet", "key"])
    writer.writerows(rows)
    return out.getvalue()
