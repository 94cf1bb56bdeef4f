"""The update phase: plain gradient descent, momentum, Nesterov and Adam, as torch.optim defines
them, each optimizer's state written as steps and carried from one iteration to the next.

With weight decay λ, the gradient first becomes g = dL/dθ + λ θ (L2, as torch.optim.SGD and Adam).
- sgd:       θ ← θ − η g
- momentum:  v = μ v_prev + g;                 θ ← θ − η v          (v_prev = 0 at the start)
- nesterov:  v = μ v_prev + g;  n = g + μ v;   θ ← θ − η n
- adam:      m = β1 m_prev + (1 − β1) g;  s = β2 s_prev + (1 − β2) g²;
             m̂ = m / (1 − β1^t);  ŝ = s / (1 − β2^t);  θ ← θ − η m̂ / (√ŝ + ε)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handcalc.numbers import NumberSystem, Shape

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Optimizer:
    name: str = "sgd"
    momentum: Decimal = Decimal("0.9")
    beta1: Decimal = Decimal("0.9")
    beta2: Decimal = Decimal("0.999")
    epsilon: Decimal = Decimal("1e-8")
    weight_decay: Decimal = Decimal(0)

    def state(self) -> tuple[str, ...]:
        """The prefixes of the state carried between iterations (v, or m and s)."""
        return {"sgd": (), "momentum": ("v",), "nesterov": ("v",), "adam": ("m", "s")}[self.name]


@dataclass(frozen=True, slots=True)
class Update:
    """One step of the update phase, before it becomes a StepSpec."""

    id: str
    symbol: str
    formula: str
    inputs: tuple[str, ...]
    compute: Any


def _sym(prefix: str, name: str) -> str:
    return f"{prefix}_{name[0]}^({name[1:]})"


def updates(opt: Optimizer, name: str, rate: Decimal, t: int) -> list[Update]:
    """The update steps of parameter `name` (W1, b1, ...) at iteration t (1-based)."""
    theta = f"{name[0]}^({name[1:]})"
    out: list[Update] = []
    raw = f"d{name}"
    grad = f"g{name}" if opt.weight_decay else raw  # the gradient the optimizer uses
    if opt.weight_decay:
        lam = opt.weight_decay
        out.append(
            Update(
                grad,
                _sym("g", name),
                f"dL/d{theta} + λ {theta}",
                (raw, name),
                lambda ns, v: ns.add(v[raw], ns.mul(lam, v[name])),
            )
        )
    g_sym = _sym("g", name) if opt.weight_decay else f"dL/d{theta}"
    if opt.name == "sgd":
        direction, d_sym = grad, g_sym
    elif opt.name in ("momentum", "nesterov"):
        mu, v = opt.momentum, f"v{name}"
        out.append(
            Update(
                v,
                _sym("v", name),
                f"μ {_sym('v', name)}_prev + {g_sym}",
                (f"{v}_prev", grad),
                lambda ns, x: ns.add(ns.mul(mu, x[f"{v}_prev"]), x[grad]),
            )
        )
        direction, d_sym = v, _sym("v", name)
        if opt.name == "nesterov":
            out.append(
                Update(
                    f"n{name}",
                    _sym("n", name),
                    f"{g_sym} + μ {_sym('v', name)}",
                    (grad, v),
                    lambda ns, x: ns.add(x[grad], ns.mul(mu, x[v])),
                )
            )
            direction, d_sym = f"n{name}", _sym("n", name)
    else:
        out += _adam(opt, name, grad, g_sym, t)
        direction, d_sym = f"u{name}", _sym("u", name)
    out.append(
        Update(
            f"{name}_next",
            theta,
            f"{theta} - η {d_sym}",
            (name, direction),
            lambda ns, v: ns.sub(v[name], ns.mul(rate, v[direction])),
        )
    )
    return out


def _adam(opt: Optimizer, name: str, grad: str, g_sym: str, t: int) -> list[Update]:
    b1, b2, eps = opt.beta1, opt.beta2, opt.epsilon
    m, s = f"m{name}", f"s{name}"
    c1, c2 = ONE - b1**t, ONE - b2**t  # bias corrections, exact decimals

    def moment2(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.add(ns.mul(b2, v[f"{s}_prev"]), ns.mul(ONE - b2, ns.mul(v[grad], v[grad])))

    def direction(ns: NumberSystem, v: Mapping[str, Any]) -> Any:
        return ns.div(v[f"mhat{name}"], ns.add(ns.sqrt(v[f"shat{name}"]), eps))

    return [
        Update(
            m,
            _sym("m", name),
            f"β1 {_sym('m', name)}_prev + (1 - β1) {g_sym}",
            (f"{m}_prev", grad),
            lambda ns, v: ns.add(ns.mul(b1, v[f"{m}_prev"]), ns.mul(ONE - b1, v[grad])),
        ),
        Update(
            s,
            _sym("s", name),
            f"β2 {_sym('s', name)}_prev + (1 - β2) ({g_sym})^2",
            (f"{s}_prev", grad),
            moment2,
        ),
        Update(
            f"mhat{name}",
            _sym("m̂", name),
            f"{_sym('m', name)} / (1 - β1^{t})",
            (m,),
            lambda ns, v: ns.div(v[m], c1),
        ),
        Update(
            f"shat{name}",
            _sym("ŝ", name),
            f"{_sym('s', name)} / (1 - β2^{t})",
            (s,),
            lambda ns, v: ns.div(v[s], c2),
        ),
        Update(
            f"u{name}",
            _sym("u", name),
            f"{_sym('m̂', name)} / (√{_sym('ŝ', name)} + ε)",
            (f"mhat{name}", f"shat{name}"),
            direction,
        ),
    ]


def initial_state(opt: Optimizer, parameters: Mapping[str, Shape]) -> dict[str, Shape]:
    """The state given to the first iteration (all zeros), by step id, with its shape."""
    return {
        f"{prefix}{name}_prev": shape
        for name, shape in parameters.items()
        for prefix in opt.state()
    }
