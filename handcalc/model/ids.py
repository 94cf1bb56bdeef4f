"""Step ids: the structure behind a public id such as z1, dW2, dh1_W, vW1_prev or J_z2_h1.

`str(StepId)` writes an id exactly as the JSON trace and the answer files spell it; `parse` is the
one reader of ids, and `parse_entry` reads an entry such as dW2[1,3].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a step is: its id with the layer (and parameter, pass) left out."""

    W = "W"
    b = "b"
    h = "h"  # h0 is the input x
    y = "y"
    T = "T"
    d = "d"  # a dropout mask
    z = "z"
    a = "a"  # σ(z) on a residual layer, before the skip path is added
    hd = "hd"  # h̃ = h ⊙ d
    zT = "zT"
    exp_z = "exp_z"
    sum_exp = "sum_exp"
    yhat = "yhat"
    losses = "losses"
    loss = "loss"
    dyhat = "dyhat"
    dyhat_dz = "dyhat_dz"
    J_softmax = "J_softmax"
    dzT = "dzT"
    dz = "dz"
    dh = "dh"
    dhd = "dhd"
    dh_W = "dh_W"
    dhdz = "dhdz"
    dW = "dW"
    db = "db"
    J_h = "J_h"
    J_z_W = "J_z_W"
    J_z_b = "J_z_b"
    J_z_h = "J_z_h"
    dW_contracted = "dW_contracted"
    # the optimizer's quantities of one parameter (g: the gradient with weight decay)
    g = "g"
    v = "v"
    n = "n"
    m = "m"
    s = "s"
    mhat = "mhat"
    shat = "shat"
    u = "u"
    deltaW = "deltaW"  # ΔW^(l) = −η times the optimizer's direction (training.update_form: delta)
    deltab = "deltab"
    W_next = "W_next"
    b_next = "b_next"
    tz = "tz"
    th = "th"
    tyhat = "tyhat"
    dT = "dT"
    T_next = "T_next"
    mean = "mean"
    var = "var"


UNLAYERED = frozenset(
    {
        Kind.y,
        Kind.T,
        Kind.zT,
        Kind.exp_z,
        Kind.sum_exp,
        Kind.yhat,
        Kind.losses,
        Kind.loss,
        Kind.dyhat,
        Kind.dyhat_dz,
        Kind.J_softmax,
        Kind.dzT,
        Kind.tyhat,
        Kind.dT,
        Kind.T_next,
        Kind.mean,
        Kind.var,
    }
)
STATES = frozenset({Kind.g, Kind.v, Kind.n, Kind.m, Kind.s, Kind.mhat, Kind.shat, Kind.u})
# kinds whose id puts letters after the layer: dh1_W, W1_next, dW1_contracted
_TAILED = {Kind.dh_W, Kind.W_next, Kind.b_next, Kind.dW_contracted}
# the Jacobians of z^(l): dz^(l)/dW^(l), dz^(l)/db^(l) and dz^(l)/dh^(l-1)
_OF_Z = {Kind.J_z_W: ("W", 0), Kind.J_z_b: ("b", 0), Kind.J_z_h: ("h", 1)}

_PASS = re.compile(r"(?P<base>.+?)(?:_(?P<pass>\d+))?")
_JACOBIAN = re.compile(r"J_z(?P<layer>\d+)_(?P<of>[Wbh])\d+")
_LAYERED = re.compile(r"(?P<lead>[A-Za-z_]+?)(?P<layer>\d+)(?P<tail>_[A-Za-z]+)?")
_MAX_ID = 40  # longer than any id, and its layer numbers cannot overflow int()
MAX_INDEX_DIGITS = 9  # far above any width or batch a config allows
_ENTRY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]\s*")


@dataclass(frozen=True, slots=True)
class StepId:
    """A step's identity; `param` names W or b for an optimizer quantity, `prev` its given state.

    The layer of a Jacobian of z is that of z (J_z2_h1 has layer 2); `mc_pass` numbers the
    stochastic passes of Monte Carlo dropout.
    """

    kind: Kind
    layer: int | None = None
    param: Kind | None = None
    prev: bool = False
    mc_pass: int | None = None

    def __str__(self) -> str:
        return self._base() + ("" if self.mc_pass is None else f"_{self.mc_pass}")

    def _base(self) -> str:
        if self.layer is None:
            return self.kind.value
        if self.kind in _OF_Z:
            of, back = _OF_Z[self.kind]
            return f"J_z{self.layer}_{of}{self.layer - back}"
        if self.kind in _TAILED:
            lead, tail = self.kind.value.split("_", 1)
            return f"{lead}{self.layer}_{tail}"
        if self.kind in STATES:
            return f"{self.kind}{self.param}{self.layer}" + ("_prev" if self.prev else "")
        return f"{self.kind}{self.layer}"

    @property
    def parameter(self) -> StepId:
        """The parameter an optimizer quantity belongs to: vW1 -> W1."""
        assert self.param is not None and self.layer is not None, self
        return StepId(kind=self.param, layer=self.layer)


def parse(text: str) -> StepId | None:
    """The structure of a step id, or None when no step has that id.

    >>> str(parse("dW2").kind), parse("dW2").layer
    ('dW', 2)
    >>> [str(parse(t).kind) for t in ("dh1_W", "W1_next", "h0", "J_z2_h1", "dW1_contracted")]
    ['dh_W', 'W_next', 'h', 'J_z_h', 'dW_contracted']
    >>> s = parse("mhatb2_prev"); (str(s.kind), str(s.param), s.layer, s.prev)
    ('mhat', 'b', 2, True)
    >>> s = parse("exp_z_3"); (str(s.kind), s.layer, s.mc_pass)
    ('exp_z', None, 3)
    >>> [parse(t) for t in ("W01", "J_z2_h2", "yhat1", "nonsense", "")]
    [None, None, None, None, None]
    """
    whole = _PASS.fullmatch(text) if len(text) <= _MAX_ID else None
    if whole is None:
        return None
    base, mc_pass = whole.group("base"), whole.group("pass")
    step = _base(base)
    if step is not None and mc_pass is not None:
        step = StepId(
            kind=step.kind,
            layer=step.layer,
            param=step.param,
            prev=step.prev,
            mc_pass=int(mc_pass),
        )
    # the id written back must be the text: W01, J_z2_h2 and yhat1 name no step
    return step if step is not None and str(step) == text else None


def _base(text: str) -> StepId | None:
    if text in Kind.__members__ and Kind(text) in UNLAYERED:
        return StepId(kind=Kind(text))
    jacobian = _JACOBIAN.fullmatch(text)
    if jacobian is not None:
        kind = Kind(f"J_z_{jacobian.group('of')}")
        return StepId(kind=kind, layer=int(jacobian.group("layer")))
    layered = _LAYERED.fullmatch(text)
    if layered is None:
        return None
    lead, layer, tail = layered.group("lead"), int(layered.group("layer")), layered.group("tail")
    if lead[:-1] in STATES and lead[-1] in "Wb":
        param = Kind(lead[-1])
        return StepId(kind=Kind(lead[:-1]), layer=layer, param=param, prev=tail == "_prev")
    name = lead + (tail or "")
    if name not in Kind.__members__ or Kind(name) in UNLAYERED:
        return None
    return StepId(kind=Kind(name), layer=layer)


def known(text: str) -> StepId:
    """The structure of an id the program itself wrote, such as a parameter's name."""
    step = parse(text)
    assert step is not None, text
    return step


def parse_entry(text: str) -> tuple[str, tuple[int, ...]] | None:
    """An entry as written: 'dW2[1,3]' -> ('dW2', (1, 3)), 1-based indices; None if not one.

    An index of more than MAX_INDEX_DIGITS digits names no entry of any network.

    >>> parse_entry(" dW2[1, 3] "), parse_entry("loss"), parse_entry("z1[]")
    (('dW2', (1, 3)), None, None)
    >>> parse_entry("z1[" + "1" * 5000 + "]")
    """
    match = _ENTRY.fullmatch(text)
    if match is None:
        return None
    digits = [i.strip().lstrip("0") for i in match.group(2).split(",")]
    if any(len(i) > MAX_INDEX_DIGITS for i in digits):
        return None
    return match.group(1), tuple(int(i or "0") for i in digits)
