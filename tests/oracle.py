"""An independent float64 implementation in numpy, used only by the tests as an oracle."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from handcalc.config.problem import Problem

Arr = npt.NDArray[np.float64]

ACT = {
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "identity": lambda z: z,
}


def arrays(p: Problem) -> tuple[dict[str, Arr], Arr, Arr]:
    params = {
        k: np.array([float(v) for v in b.data]).reshape(b.shape) for k, b in p.parameters.items()
    }
    x = np.array([float(v) for v in p.x.data]).reshape(p.x.shape)
    y = np.array([float(v) for v in p.y.data]).reshape(p.y.shape)
    return params, x, y


def loss(
    p: Problem, params: dict[str, Arr], x: Arr, y: Arr, masks: dict[str, Arr] | None = None
) -> float:
    """The float64 loss; with dropout, the given masks act on the layer inputs."""
    h = x
    for layer in range(1, p.layers + 1):
        mask = (masks or {}).get(f"d{layer - 1}")
        if mask is not None and p.dropout is not None:
            h = h * mask
            if p.dropout.scaling == "inverted":
                h = h / float(p.dropout.keep[layer - 1])
        z = h @ params[f"W{layer}"].T
        if p.bias:
            z = z + params[f"b{layer}"]
        skip = h if layer in p.residual else 0.0
        h = ACT[p.activations[layer - 1]](z) + skip if layer < p.layers else z
    if p.temperature is not None:
        h = h / float(p.temperature)
    if p.head == "softmax":
        e = np.exp(h)
        out = e / e.sum(axis=1, keepdims=True)
    elif p.head == "sigmoid":
        out = 1.0 / (1.0 + np.exp(-h))
    else:
        out = h
    d = out.shape[1]
    per: Any
    if p.loss == "cross_entropy":
        per = -(y * np.log(out)).sum(axis=1)
    elif p.loss == "binary_cross_entropy":
        per = -(y * np.log(out) + (1 - y) * np.log(1 - out)).sum(axis=1) / d
    elif p.loss == "mse":
        per = ((out - y) ** 2).sum(axis=1) / d
    elif p.loss == "sse":
        per = ((out - y) ** 2).sum(axis=1)
    else:
        per = 0.5 * ((out - y) ** 2).sum(axis=1)
    return float(per.mean() if p.reduction == "mean" else per.sum())


def finite_differences(
    p: Problem, eps: float = 1e-6, masks: dict[str, Arr] | None = None
) -> dict[str, Arr]:
    """Central differences of the float64 loss in every parameter entry (masks held fixed)."""
    params, x, y = arrays(p)
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            saved = value[idx]
            value[idx] = saved + eps
            up = loss(p, params, x, y, masks)
            value[idx] = saved - eps
            down = loss(p, params, x, y, masks)
            value[idx] = saved
            g[idx] = (up - down) / (2 * eps)
        grads[name] = g
    return grads
