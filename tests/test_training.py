"""Optimizers and mini-batches: numbers worked by hand, and PyTorch's torch.optim in float64."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import handcalc

Cli = Callable[..., tuple[int, str, str]]


def one_weight(optimizer: str, steps: int = 2, **training: Any) -> handcalc.Trace:
    """z = w x + b with x = 1, y = 0 and half_sse: dL/dw = dL/db = z."""
    return handcalc.run(
        {
            "network": {"widths": [1, 1], "head": "identity", "loss": "half_sse"},
            "data": {"x": [1.0], "y": [0.0]},
            "parameters": {"W1": [[1.0]], "b1": [0.0]},
            "training": {"learning_rate": 0.1, "steps": steps, "optimizer": optimizer, **training},
            "rounding": {"digits": 4},
        }
    )


def texts(t: handcalc.Trace, step_id: str, k: int = 1) -> list[str]:
    return t.step(step_id, k).texts()


def test_momentum_by_hand() -> None:
    t = one_weight("momentum")
    # iteration 1: g = 1, v = 0.9 * 0 + 1 = 1, w = 1 - 0.1 * 1 = 0.9, b = -0.1
    assert texts(t, "vW1_prev") == ["0.0000"] and texts(t, "vW1") == ["1.0000"]
    assert texts(t, "W1_next") == ["0.9000"] and texts(t, "b1_next") == ["-0.1000"]
    # iteration 2: z = 0.8, v = 0.9 * 1 + 0.8 = 1.7, w = 0.9 - 0.17 = 0.73, b = -0.27
    assert texts(t, "vW1_prev", 2) == ["1.0000"] and texts(t, "vW1", 2) == ["1.7000"]
    assert texts(t, "W1_next", 2) == ["0.7300"] and texts(t, "b1_next", 2) == ["-0.2700"]


def test_nesterov_by_hand() -> None:
    t = one_weight("nesterov", steps=1)
    assert texts(t, "vW1") == ["1.0000"]
    assert texts(t, "nW1") == ["1.9000"]  # g + μ v = 1 + 0.9
    assert texts(t, "W1_next") == ["0.8100"]


def test_adam_by_hand() -> None:
    t = one_weight("adam", steps=1)
    assert texts(t, "mW1") == ["0.1000"]  # (1 - 0.9) * 1
    assert texts(t, "sW1") == ["0.0010"]  # (1 - 0.999) * 1^2
    assert texts(t, "mhatW1") == ["1.0000"] and texts(t, "shatW1") == ["1.0000"]
    assert texts(t, "uW1") == ["1.0000"]  # 1 / (1 + 1e-8), written to 4 decimals
    assert texts(t, "W1_next") == ["0.9000"]


def test_weight_decay_by_hand() -> None:
    t = one_weight("sgd", steps=1, weight_decay=0.5)
    assert texts(t, "gW1") == ["1.5000"]  # dL/dw + λ w = 1 + 0.5 * 1
    assert texts(t, "W1_next") == ["0.8500"]
    assert texts(t, "gb1") == ["1.0000"]


def test_mini_batches_walk_the_data(run_cli: Cli) -> None:
    config = {
        "network": {"widths": [2, 2], "head": "identity", "loss": "mse"},
        "data": {"x": [[1, 0], [0, 1], [1, 1]], "y": [[1, 0], [0, 1], [1, 1]]},
        "parameters": {"W1": [[0.5, 0], [0, 0.5]], "b1": [0, 0]},
        "training": {"steps": 4, "batch_size": 2},
    }
    t = handcalc.run(config)
    assert [(i.epoch, i.examples) for i in t.info] == [
        (1, (1, 2)),
        (1, (3,)),
        (2, (1, 2)),
        (2, (3,)),
    ]
    assert t.step("z1", 2).shape == (1, 2)  # the short last batch, still an example axis
    # examples 1 and 2: z = (0.5, 0) and (0, 0.5); each loss ((0.5 - 1)^2 + 0) / 2; their mean
    assert t.step("losses", 1).texts() == ["0.1250", "0.1250"]
    assert t.step("loss", 1).texts() == ["0.1250"]
    doc = json.loads(t.to_json())
    assert [(i["iteration"], i["epoch"], i["examples"]) for i in doc["iterations"]] == [
        (1, 1, [1, 2]),
        (2, 1, [3]),
        (3, 2, [1, 2]),
        (4, 2, [3]),
    ]
    # the mean of a batch of 2 carries 1/2, the batch of 1 none
    assert t.step("dyhat", 1).spec.formula.endswith("/ N")
    assert not t.step("dyhat", 2).spec.formula.endswith("/ N")


def test_iteration_headings(run_cli: Cli, tmp_path: Any) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "network": {"widths": [2, 2]},
                "data": {"x": [[1, 0], [0, 1], [1, 1]], "label": [1, 2, 1]},
                "training": {"steps": 3, "batch_size": 2},
            }
        )
    )
    out = run_cli("run", str(path))[1]
    assert "Iteration 2 of 3 · epoch 1 · example 3" in out
    one = run_cli("run", str(path), "--steps", "1")[1]
    assert "Iteration 1 of 1 · epoch 1 · examples 1-2" in one  # a mini-batch, not all data
    assert "Iteration 3 of 3 · epoch 2 · examples 1-2" in out


CASES = [
    ("sgd", {}),
    ("sgd", {"weight_decay": 0.01}),
    ("momentum", {"momentum": 0.8}),
    ("nesterov", {"momentum": 0.9, "weight_decay": 0.05}),
    ("adam", {"beta1": 0.8, "beta2": 0.99, "epsilon": 0.001}),
    ("adam", {"weight_decay": 0.1}),
]


@pytest.mark.parametrize(("optimizer", "extra"), CASES)
def test_optimizers_match_torch_optim(optimizer: str, extra: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    config = {
        "network": {"widths": [3, 4, 2], "activation": "tanh", "head": "softmax"},
        "data": {"x": [[0.5, -1.0, 0.3], [0.1, 0.2, -0.4], [1.0, 0.0, 0.5]], "label": [1, 2, 2]},
        "init": {"seed": 3, "scheme": "uniform"},
        "training": {
            "steps": 5,
            "batch_size": 2,
            "learning_rate": 0.3,
            "optimizer": optimizer,
            **extra,
        },
        "rounding": {"digits": 8, "mode": "significant"},  # Adam's moments are tiny
    }
    t = handcalc.run(config)
    p = t.problem
    params = {
        k: torch.tensor(
            np.array([float(v) for v in b.data]).reshape(b.shape),
            dtype=torch.float64,
            requires_grad=True,
        )
        for k, b in p.parameters.items()
    }
    kw = {"lr": 0.3, "weight_decay": extra.get("weight_decay", 0)}
    if optimizer == "adam":
        opt = torch.optim.Adam(
            params.values(),
            betas=(extra.get("beta1", 0.9), extra.get("beta2", 0.999)),
            eps=extra.get("epsilon", 1e-8),
            **kw,
        )
    else:
        opt = torch.optim.SGD(
            params.values(),
            momentum=extra.get("momentum", 0.9) if optimizer != "sgd" else 0,
            nesterov=optimizer == "nesterov",
            **kw,
        )
    x = torch.tensor(
        [[float(v) for v in p.x.data[i * 3 : (i + 1) * 3]] for i in range(3)], dtype=torch.float64
    )
    labels = torch.tensor([c - 1 for c in p.labels or ()])
    for k, info in enumerate(t.info):
        rows = [i - 1 for i in info.examples]
        h = torch.tanh(x[rows] @ params["W1"].T + params["b1"])
        z = h @ params["W2"].T + params["b2"]
        loss = torch.nn.functional.cross_entropy(z, labels[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
        for name, tensor in params.items():
            np.testing.assert_allclose(
                t.step(f"{name}_next", k + 1).floats,
                tensor.detach().numpy().ravel(),
                rtol=1e-11,
                atol=1e-13,
                err_msg=f"{optimizer} iteration {k + 1} {name}",
            )
