"""The fixed-point floor: one cycle of a one-hidden-layer ReLU network with a softmax head and
cross-entropy, in numpy int64 scaled by 10^digits, as a reference for the exact arithmetic.

Every value is an integer count of 10^-digits; a product is rounded back (ties away from zero)
once per written value, or per product in the per-operation mode; in decimals mode a sum of such
numbers is exact. The softmax of the few logits is taken in float64: it is a handful of numbers
and costs nothing beside the products. An overflow bound is checked before every product.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Ints = Any  # a numpy int64 array


def rescale(a: Ints, places: int) -> Ints:
    """a / 10^places rounded half away from zero."""
    q = 10**places
    return np.sign(a) * ((np.abs(a) + q // 2) // q)


def bounded(a: Ints, b: Ints, terms: int) -> None:
    """Refuse a product whose sum of `terms` could overflow int64."""
    bound = int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0)) * terms
    if bound >= 2**63:
        raise OverflowError("int64 could overflow")


def matvec(w: Ints, h: Ints, digits: int, per_operation: bool) -> Ints:
    """W h in units of 10^-digits: products rounded each (per operation) or the sum once."""
    bounded(w, h, w.shape[1])
    if per_operation:
        return rescale(w * h, digits).sum(axis=1)
    return rescale(w @ h, digits)


def outer(a: Ints, b: Ints, digits: int) -> Ints:
    bounded(a, b, 1)
    return rescale(np.outer(a, b), digits)


def cycle(params: dict[str, Ints], x: Ints, label: int, eta: Ints, d: int, per_op: bool) -> Ints:
    """The cycle's written values; the updated W1 is returned."""
    s = 10**d
    z1 = matvec(params["W1"], x, d, per_op) + params["b1"]
    h1 = np.maximum(z1, 0)
    z2 = matvec(params["W2"], h1, d, per_op) + params["b2"]
    e = np.exp(z2 / s)
    yhat = np.rint(e / e.sum() * s).astype(np.int64)
    loss = -math.log(max(yhat[label], 1) / s)
    y = np.zeros_like(yhat)
    y[label] = s
    dz2 = yhat - y
    dw2 = outer(dz2, h1, d)
    dh1 = matvec(params["W2"].T.copy(), dz2, d, per_op)
    dz1 = np.where(z1 > 0, dh1, 0)
    dw1 = outer(dz1, x, d)
    updates = {"W1": dw1, "b1": dz1, "W2": dw2, "b2": dz2}
    new = {k: params[k] - rescale(eta * g, d) for k, g in updates.items()}
    assert loss >= 0
    return new["W1"]
