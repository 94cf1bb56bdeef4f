"""An independent float64 implementation in numpy, used only by the tests as an oracle, and the
same network written in torch."""

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
    """The float64 loss; with dropout, the given masks act on the layer inputs where the weights
    read them (a skip path adds the input unmasked)."""
    h = x
    for layer in range(1, p.layers + 1):
        feed, mask = h, (masks or {}).get(f"d{layer - 1}")
        if mask is not None and p.dropout is not None:
            feed = h * mask
            if p.dropout.scaling == "inverted":
                feed = feed / float(p.dropout.keep[layer - 1])
        z = feed @ params[f"W{layer}"].T
        if p.bias:
            z = z + params[f"b{layer}"]
        skip = h if layer in p.residual else 0.0  # the skip path adds the input unmasked
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


def torch_logits(
    torch: Any, p: Problem, params: dict[str, Any], x: Any, masks: dict[str, Any] | None
) -> Any:
    """The logits z^(L) in torch: with the given dropout masks, or at test time (masks None),
    where the notes' scaling multiplies the weights by p and inverted dropout changes nothing."""
    f = torch.nn.functional
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "identity": _same}
    h = x
    for layer in range(1, p.layers + 1):
        keep = p.dropout.keep_probability(layer - 1) if p.dropout else None
        feed, w = h, params[f"W{layer}"]
        if keep is not None and masks is None and p.dropout and p.dropout.scaling == "notes":
            w = float(keep) * w
        if keep is not None and masks is not None and p.dropout:
            feed = h * masks[f"d{layer - 1}"]  # the trace's mask, as F.dropout would draw one
            feed = feed / float(keep) if p.dropout.scaling == "inverted" else feed
        z = f.linear(feed, w, params.get(f"b{layer}"))
        if layer < p.layers:  # the skip path adds the layer's input unmasked
            h = act[p.activations[layer - 1]](z) + (h if layer in p.residual else 0)
    return z


def _same(z: Any) -> Any:
    return z
