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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from handcalc.model.ids import Kind, StepId, known
from handcalc.model.steps import Compute, Phase, StepSpec, Values, sup
from handcalc.numbers import Flat, NumberSystem, Shape

OptimizerName = Literal["sgd", "momentum", "nesterov", "adam"]
OPTIMIZERS: tuple[OptimizerName, ...] = ("sgd", "momentum", "nesterov", "adam")
ONE = Decimal(1)
Ref = tuple[str, str]  # a quantity the update reads: its step id and its symbol


# the quantities each optimizer carries from one iteration to the next
CARRIED: dict[OptimizerName, tuple[Kind, ...]] = {
    "sgd": (),
    "momentum": (Kind.v,),
    "nesterov": (Kind.v,),
    "adam": (Kind.m, Kind.s),
}


@dataclass(frozen=True, slots=True)
class Optimizer:
    """training.optimizer and its constants, as torch.optim names them."""

    name: OptimizerName = "sgd"
    momentum: Decimal = Decimal("0.9")
    beta1: Decimal = Decimal("0.9")
    beta2: Decimal = Decimal("0.999")
    epsilon: Decimal = Decimal("1e-8")
    weight_decay: Decimal = Decimal(0)

    def state(self) -> tuple[Kind, ...]:
        """The quantities carried between iterations (v, or m and s)."""
        return CARRIED[self.name]


@dataclass(frozen=True, slots=True)
class Parameter:
    """The parameter θ an update works on, and the names of its optimizer's quantities."""

    name: StepId
    shape: Shape

    @property
    def theta(self) -> str:
        assert self.name.layer is not None
        return sup(self.name.kind, self.name.layer)

    def quantity(self, kind: Kind, prev: bool = False) -> StepId:
        """Quantity `kind` of this parameter: Kind.v of W1 is vW1."""
        return StepId(kind=kind, layer=self.name.layer, param=self.name.kind, prev=prev)

    def of(self, kind: Kind, prev: bool = False) -> str:
        return str(self.quantity(kind, prev))

    def sym(self, prefix: str) -> str:
        """The symbol of a quantity of this parameter: sym('v') of W1 is 'v_W^(1)'."""
        return f"{prefix}_{self.theta}"

    def step(
        self, kind: Kind, symbol: str, formula: str, inputs: tuple[str, ...], compute: Compute
    ) -> StepSpec:
        """An update step computing quantity `kind` of this parameter."""
        return StepSpec(
            ident=self.quantity(kind),
            phase=Phase.update,
            symbol=symbol,
            formula=formula,
            inputs=inputs,
            shape=self.shape,
            per_example=False,
            compute=compute,
        )


def updates(
    opt: Optimizer, param: Parameter, rate: Decimal, t: int, delta: bool = False
) -> list[StepSpec]:
    """The update steps of a parameter at iteration t (1-based); with `delta`, the change
    Δθ = −η (direction) is a step of its own before θ + Δθ."""
    decay = _decay(opt, param)
    grad = (decay[0].id, decay[0].symbol) if decay else (f"d{param.name}", f"dL/d{param.theta}")
    moves = MOVES[opt.name](opt, param, grad, t)
    direction = (moves[-1].id, moves[-1].symbol) if moves else grad
    if delta:
        change = _delta(param, rate, direction)
        return [*decay, *moves, change, _added(param, change)]
    return [*decay, *moves, _next(param, rate, direction)]


def _decay(opt: Optimizer, param: Parameter) -> list[StepSpec]:
    """g = dL/dθ + λ θ, the gradient the optimizer uses under weight decay."""
    if not opt.weight_decay:
        return []
    lam, raw, name, theta = opt.weight_decay, f"d{param.name}", str(param.name), param.theta

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.add(v[raw], ns.mul(lam, v[name]))

    formula = f"dL/d{theta} + λ {theta}"
    return [param.step(Kind.g, param.sym("g"), formula, (raw, name), compute)]


def _next(param: Parameter, rate: Decimal, direction: Ref) -> StepSpec:
    """θ ← θ − η times the direction."""
    name, (d, d_sym) = str(param.name), direction

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.sub(v[name], ns.mul(rate, v[d]))

    return _updated(param, f"{param.theta} - η {d_sym}", (name, d), compute)


def _updated(param: Parameter, formula: str, inputs: tuple[str, str], compute: Compute) -> StepSpec:
    """The new value of θ (W_next or b_next), however it is reached."""
    kind = Kind.W_next if param.name.kind == Kind.W else Kind.b_next
    return StepSpec(
        ident=StepId(kind=kind, layer=param.name.layer),
        phase=Phase.update,
        symbol=param.theta,
        formula=formula,
        inputs=inputs,
        shape=param.shape,
        per_example=False,
        compute=compute,
    )


def _delta(param: Parameter, rate: Decimal, direction: Ref) -> StepSpec:
    """Δθ = −η times the direction: the change a student writes before the new value."""
    d, d_sym = direction
    kind = Kind.deltaW if param.name.kind == Kind.W else Kind.deltab

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.neg(ns.mul(rate, v[d]))  # negation is exact: one rounding, as θ - η d has

    return StepSpec(
        ident=StepId(kind=kind, layer=param.name.layer),
        phase=Phase.update,
        symbol=f"Δ{param.theta}",
        formula=f"-η {d_sym}",
        inputs=(d,),
        shape=param.shape,
        per_example=False,
        compute=compute,
    )


def _added(param: Parameter, change: StepSpec) -> StepSpec:
    """θ ← θ + Δθ."""
    name, delta = str(param.name), change.id

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.add(v[name], v[delta])

    return _updated(param, f"{param.theta} + {change.symbol}", (name, delta), compute)


def _sgd(opt: Optimizer, param: Parameter, grad: Ref, t: int) -> list[StepSpec]:
    return []


def _momentum(opt: Optimizer, param: Parameter, grad: Ref, t: int) -> list[StepSpec]:
    """v = μ v_prev + g."""
    mu, (g, g_sym), prev = opt.momentum, grad, param.of(Kind.v, prev=True)

    def compute(ns: NumberSystem, x: Values) -> Flat:
        return ns.add(ns.mul(mu, x[prev]), x[g])

    formula = f"μ {param.sym('v')}_prev + {g_sym}"
    return [param.step(Kind.v, param.sym("v"), formula, (prev, g), compute)]


def _nesterov(opt: Optimizer, param: Parameter, grad: Ref, t: int) -> list[StepSpec]:
    """v as momentum, then the look-ahead direction n = g + μ v."""
    mu, (g, g_sym), v = opt.momentum, grad, param.of(Kind.v)

    def compute(ns: NumberSystem, x: Values) -> Flat:
        return ns.add(x[g], ns.mul(mu, x[v]))

    formula = f"{g_sym} + μ {param.sym('v')}"
    look_ahead = param.step(Kind.n, param.sym("n"), formula, (g, v), compute)
    return [*_momentum(opt, param, grad, t), look_ahead]


def _adam(opt: Optimizer, param: Parameter, grad: Ref, t: int) -> list[StepSpec]:
    """The two moments, their bias corrections and the direction m̂ / (√ŝ + ε)."""
    return [*_moments(opt, param, grad), *_corrected(opt, param, t), _adam_direction(opt, param)]


def _moments(opt: Optimizer, param: Parameter, grad: Ref) -> list[StepSpec]:
    b1, b2, (g, g_sym) = opt.beta1, opt.beta2, grad
    m_prev, s_prev = param.of(Kind.m, prev=True), param.of(Kind.s, prev=True)

    def first(ns: NumberSystem, v: Values) -> Flat:
        return ns.add(ns.mul(b1, v[m_prev]), ns.mul(ONE - b1, v[g]))

    def second(ns: NumberSystem, v: Values) -> Flat:
        return ns.add(ns.mul(b2, v[s_prev]), ns.mul(ONE - b2, ns.mul(v[g], v[g])))

    m_formula = f"β1 {param.sym('m')}_prev + (1 - β1) {g_sym}"
    s_formula = f"β2 {param.sym('s')}_prev + (1 - β2) ({g_sym})^2"
    return [
        param.step(Kind.m, param.sym("m"), m_formula, (m_prev, g), first),
        param.step(Kind.s, param.sym("s"), s_formula, (s_prev, g), second),
    ]


def _corrected(opt: Optimizer, param: Parameter, t: int) -> list[StepSpec]:
    """m̂ = m / (1 − β1^t) and ŝ = s / (1 − β2^t), the corrections exact decimals."""
    m, s = param.of(Kind.m), param.of(Kind.s)
    c1, c2 = ONE - opt.beta1**t, ONE - opt.beta2**t
    m_formula = f"{param.sym('m')} / (1 - β1^{t})"
    s_formula = f"{param.sym('s')} / (1 - β2^{t})"
    return [
        param.step(Kind.mhat, param.sym("m̂"), m_formula, (m,), _divided(m, c1)),
        param.step(Kind.shat, param.sym("ŝ"), s_formula, (s,), _divided(s, c2)),
    ]


def _divided(source: str, by: Decimal) -> Compute:
    return lambda ns, v: ns.div(v[source], by)


def _adam_direction(opt: Optimizer, param: Parameter) -> StepSpec:
    eps, mhat, shat = opt.epsilon, param.of(Kind.mhat), param.of(Kind.shat)

    def compute(ns: NumberSystem, v: Values) -> Flat:
        return ns.div(v[mhat], ns.add(ns.sqrt(v[shat]), eps))

    formula = f"{param.sym('m̂')} / (√{param.sym('ŝ')} + ε)"
    return param.step(Kind.u, param.sym("u"), formula, (mhat, shat), compute)


Moves = Callable[[Optimizer, Parameter, Ref, int], list[StepSpec]]
MOVES: dict[OptimizerName, Moves] = {
    "sgd": _sgd,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "adam": _adam,
}


def initial_state(opt: Optimizer, parameters: Mapping[str, Shape]) -> dict[StepId, Shape]:
    """The state given to the first iteration (all zeros), by step id, with its shape."""
    return {
        Parameter(name=known(name), shape=shape).quantity(kind, prev=True): shape
        for name, shape in parameters.items()
        for kind in opt.state()
    }


def state_symbol(ident: StepId) -> str:
    """The symbol of a given state: v_W^(1)_prev."""
    assert ident.param is not None and ident.layer is not None
    return f"{ident.kind}_{sup(ident.param, ident.layer)}_prev"
