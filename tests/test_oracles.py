"""float64 gradients against finite differences and PyTorch; the hand run at 15 digits."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from conftest import CONFIGS, problem
from handcalc import trace
from handcalc.config import load as config
from handcalc.model.functions import ACTIVATIONS
from handcalc.model.runner import make_trace
from oracle import arrays, finite_differences, loss

PAIRS = [
    ("softmax", "cross_entropy"),
    ("sigmoid", "binary_cross_entropy"),
    *[
        (head, loss)
        for head in ("identity", "sigmoid", "softmax")
        for loss in ("mse", "sse", "half_sse")
    ],
]


def random_config(
    seed: int, head: str, loss_name: str, batch: int | None, residual: bool = False
) -> dict[str, Any]:
    rng = random.Random(seed)
    widths = [rng.randint(1, 4) for _ in range(rng.randint(2, 4))]
    if residual:  # equal input and hidden widths, so that skips add up
        widths = [3, 3, 3, rng.randint(2, 3)]
    widths[-1] = max(widths[-1], 2) if head == "softmax" else widths[-1]
    hidden = len(widths) - 2
    acts = [rng.choice(list(ACTIVATIONS)) for _ in range(hidden)]

    def vec(n: int) -> list[float]:
        return [round(rng.uniform(-1.5, 1.5), 4) for _ in range(n)]

    def target() -> list[float]:
        if loss_name == "cross_entropy":
            raw = [rng.random() + 0.01 for _ in range(widths[-1])]
            probs = [round(v / sum(raw), 4) for v in raw]
            probs[-1] = round(1 - sum(probs[:-1]), 4)
            return probs
        if loss_name == "binary_cross_entropy":
            return [round(rng.random(), 4) for _ in range(widths[-1])]
        return vec(widths[-1])

    x: Any = vec(widths[0]) if batch is None else [vec(widths[0]) for _ in range(batch)]
    y: Any = target() if batch is None else [target() for _ in range(batch)]
    residual = [
        layer
        for layer in range(1, hidden + 1)
        if widths[layer] == widths[layer - 1] and rng.random() < 0.7
    ]
    return {
        "network": {
            "widths": widths,
            "activation": acts,
            "head": head,
            "loss": loss_name,
            "bias": rng.random() < 0.8,
            "residual": residual,
            "temperature": 1.5 if residual else None,  # both extensions of the notes at once
        },
        "data": {"x": x, "y": y, "reduction": rng.choice(["mean", "sum"])},
        "init": {"seed": seed, "scheme": "uniform", "low": -1.0, "high": 1.0},
        "training": {"learning_rate": 0.1},
        "rounding": {"digits": 4},
    }


RESIDUAL = [
    (seed, head, loss_name, batch, True)
    for seed in (3, 4)
    for head, loss_name in PAIRS[:3]
    for batch in (None, 2)
]
CASES = [
    (seed, head, loss_name, batch, False)
    for seed in (1, 2)
    for head, loss_name in PAIRS
    for batch in (None, 3)
] + RESIDUAL


@pytest.mark.parametrize(("seed", "head", "loss_name", "batch", "residual"), CASES)
def test_float64_gradients_match_finite_differences(
    seed: int, head: str, loss_name: str, batch: int | None, residual: bool
) -> None:
    p = problem(random_config(seed, head, loss_name, batch, residual))
    t = make_trace(p)
    params, x, y = arrays(p)
    assert t.step("loss").floats[0] == pytest.approx(loss(p, params, x, y), rel=1e-12, abs=1e-14)
    for name, expected in finite_differences(p).items():
        got = np.array(t.step(f"d{name}").floats).reshape(expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7, err_msg=name)
        after = np.array(t.step(f"{name}_next").floats).reshape(expected.shape)
        np.testing.assert_allclose(after, params[name] - 0.1 * got, rtol=0, atol=1e-15)


def _relative_gap(step: trace.Step) -> float:
    scale = max([abs(f) for f in step.floats] + [1e-300])
    return max(abs(float(v) - f) for v, f in zip(step.values, step.floats, strict=True)) / scale


@pytest.mark.parametrize(("seed", "head", "loss_name", "batch", "residual"), CASES[::3])
def test_fifteen_significant_digits_agree_with_float64(
    seed: int, head: str, loss_name: str, batch: int | None, residual: bool
) -> None:
    data = random_config(seed, head, loss_name, batch, residual)
    data["rounding"] = {"digits": 15, "mode": "significant"}
    t = make_trace(problem(data))
    for step in t.iterations[0]:
        assert _relative_gap(step) < 1e-12, step.id


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_configs_at_fifteen_digits(path: Any) -> None:
    p = config.load(
        path, {"rounding.digits": ("15", "--digits"), "rounding.mode": ("significant", "--mode")}
    )
    for step in make_trace(p).iterations[0]:
        assert _relative_gap(step) < 1e-12, step.id


def test_the_classic_2_2_2_example() -> None:
    """The float64 column reproduces the widely published worked example to its 9 digits."""
    t = make_trace(config.load(CONFIGS[[c.name for c in CONFIGS].index("sigmoid-2-2-2.yaml")]))
    assert t.step("loss").floats[0] == pytest.approx(0.298371109, abs=5e-10)
    w2 = t.step("W2_next").floats
    assert w2 == pytest.approx([0.35891648, 0.408666186, 0.511301270, 0.561370121], abs=5e-9)
    w1 = t.step("W1_next").floats
    assert w1 == pytest.approx([0.149780716, 0.19956143, 0.24975114, 0.29950229], abs=5e-9)


def test_several_steps_continue_from_the_updates() -> None:
    data = random_config(3, "softmax", "cross_entropy", None, False)
    data["training"]["steps"] = 3
    t = make_trace(problem(data))
    assert len(t.iterations) == 3
    for k in (1, 2):
        for name in t.problem.parameters:
            assert t.step(name, k + 1).values == t.step(f"{name}_next", k).values
            assert t.step(name, k + 1).floats == t.step(f"{name}_next", k).floats
    losses = [t.step("loss", k).floats[0] for k in (1, 2, 3)]
    assert losses[0] > losses[1] > losses[2]


@pytest.mark.parametrize(("seed", "head", "loss_name", "batch", "residual"), CASES)
def test_float64_matches_pytorch(
    seed: int, head: str, loss_name: str, batch: int | None, residual: bool
) -> None:
    torch = pytest.importorskip("torch")
    p = problem(random_config(seed, head, loss_name, batch, residual))
    t = make_trace(p)
    params, x, y = arrays(p)
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    act = {
        "relu": torch.relu,
        "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "identity": lambda z: z,
    }
    for layer in range(1, p.layers + 1):
        skip = h
        h = torch.nn.functional.linear(h, tp[f"W{layer}"], tp.get(f"b{layer}"))
        if layer < p.layers:
            h = act[p.activations[layer - 1]](h) + (skip if layer in p.residual else 0)
    if p.temperature is not None:
        h = h / float(p.temperature)
    f = torch.nn.functional
    if loss_name == "cross_entropy":
        per = f.cross_entropy(h, yt, reduction="none")
    elif loss_name == "binary_cross_entropy":
        per = f.binary_cross_entropy(torch.sigmoid(h), yt, reduction="none").mean(dim=1)
    else:
        out = {
            "softmax": lambda z: torch.softmax(z, 1),
            "sigmoid": torch.sigmoid,
            "identity": lambda z: z,
        }[head](h)
        sq = (out - yt) ** 2
        per = {"mse": sq.mean(dim=1), "sse": sq.sum(dim=1), "half_sse": 0.5 * sq.sum(dim=1)}[
            loss_name
        ]
    total = per.mean() if p.reduction == "mean" else per.sum()
    total.backward()
    assert t.step("loss").floats[0] == pytest.approx(total.item(), rel=1e-12, abs=1e-15)
    for name, tensor in tp.items():
        got = np.array(t.step(f"d{name}").floats)
        np.testing.assert_allclose(got, tensor.grad.numpy().ravel(), rtol=1e-10, atol=1e-13)
        with torch.no_grad():
            tensor -= 0.1 * tensor.grad
        np.testing.assert_allclose(
            np.array(t.step(f"{name}_next").floats),
            tensor.detach().numpy().ravel(),
            rtol=1e-12,
            atol=1e-14,
        )
