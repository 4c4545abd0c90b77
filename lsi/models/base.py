"""The one interface every growth model implements.

A model is a class that holds configuration only, never data or parameter values.
Its mathematics is written once, in :meth:`GrowthModel.define`, as sympy
expressions; every numeric function (values, Jacobians, growth rates, event
times) is derived from that definition by :mod:`lsi.symbolic`.

Parameter values go in as :class:`lmfit.Parameters` (or a plain mapping of names
to numbers) and come back on a fit result.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np
import sympy as sp

from ..exceptions import ParameterValueError, UnknownModelError, UnknownParameterError
from ..loopmath import DEFAULTS as _HOLD
from ..symbolic import CompiledModel

if TYPE_CHECKING:  # pragma: no cover
    import lmfit

    from ..loopmath import Thresholds

__all__ = [
    "ParamSpec",
    "Definition",
    "GrowthModel",
    "ClosedFormModel",
    "register",
    "get",
    "names",
    "hold",
    "PHENOMENOLOGICAL",
    "Crossings",
]

LN2 = math.log(2.0)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a model: its name, open bounds, unit and meaning.

    ``default`` is used when the parameter is held fixed by default (the loop
    model); ``vary`` says whether a fit varies it unless told otherwise.
    """

    name: str
    min: float = -math.inf
    max: float = math.inf
    unit: str = ""
    doc: str = ""
    default: float | None = None
    vary: bool = True
    closed_min: bool = False  # True when ``min`` itself is an allowed value
    closed_max: bool = False

    def check(self, value: float, model: str, what: str = "value") -> None:
        """Raise :class:`ParameterValueError` unless ``value`` lies in the allowed range."""
        ok_lo = value >= self.min if self.closed_min else value > self.min
        ok_hi = value <= self.max if self.closed_max else value < self.max
        if math.isnan(value) or not (ok_lo and ok_hi):
            lo = "[" if self.closed_min else "("
            hi = "]" if self.closed_max else ")"
            raise ParameterValueError(
                f"{model}: {what} {self.name} = {value!r} is outside {lo}{self.min}, {self.max}{hi}"
                f" ({self.doc}); give a {what} inside that range"
            )


@dataclass(frozen=True)
class Definition:
    """A model's mathematics as sympy expressions in ``C``, ``tau = t - t0`` and its parameters.

    ``ode`` is dC/dt; ``solution`` C(tau) (None without a closed form); ``log_solution``
    ln C(tau) (derived from ``solution`` when omitted); ``inverse`` the tau at which C
    reaches ``level``; ``inflection_tau`` and ``singularity_tau`` the tau of those events
    (None when the model has none).
    """

    ode: sp.Expr
    solution: sp.Expr | None = None
    log_solution: sp.Expr | None = None
    inverse: sp.Expr | None = None
    inflection_tau: sp.Expr | None = None
    singularity_tau: sp.Expr | None = None


_REGISTRY: dict[str, type[GrowthModel]] = {}


def register(cls: type[GrowthModel]) -> type[GrowthModel]:
    """Class decorator: add a model to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    """Names of every registered model: the phenomenological ones first, in the order of docs/mathematics.md."""
    first = [n for n in PHENOMENOLOGICAL if n in _REGISTRY]
    return first + [n for n in _REGISTRY if n not in first]


def get(name: str | GrowthModel) -> GrowthModel:
    """A model instance by name (or the instance itself)."""
    if isinstance(name, GrowthModel):
        return name
    try:
        return _REGISTRY[str(name).strip().lower()]()
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r}; choose from {', '.join(_REGISTRY)} (or 'all')") from None


class Crossings(NamedTuple):
    """When each assumption fails along fitted curves, per draw (NaN where none); see
    :meth:`GrowthModel.crossings`."""

    closure: np.ndarray
    amplification: np.ndarray
    efficiency: np.ndarray
    singularity: np.ndarray


def hold(n: int, **overrides: Any) -> dict[str, np.ndarray]:
    """Loop parameters for ``n`` draws: the all-assumptions-hold values (``p = 1``, ``a = 0``,
    no brake, ceiling or friction) with a model's own mechanism overridden."""
    base: dict[str, Any] = {"a": 0.0, **_HOLD}
    base.update(overrides)
    return {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in base.items()}


class GrowthModel(ABC):
    """The one interface every growth model implements.

    Subclasses set ``name``, ``title``, ``param_specs`` (``C0`` first), ``embedding``
    (a sentence on its place in the loop model) and implement :meth:`define`,
    :meth:`guess`, the numerics on a parameter vector (``*_theta``; :class:`ClosedFormModel`
    derives them all from :meth:`define`), and the model's own knowledge of the three
    assumptions: :meth:`loop_params` (its embedding in the loop model) and
    :meth:`crossings` (when each assumption fails along a fitted curve).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    param_specs: ClassVar[tuple[ParamSpec, ...]] = ()
    embedding: ClassVar[str] = ""
    #: the assumption a fitted model can break (``"closure"``, ``"amplification"``,
    #: ``"efficiency"`` or ``"none"``)
    mechanism: ClassVar[str] = "none"
    #: True for models with a closed form (their Jacobians are analytic)
    closed_form: ClassVar[bool] = True
    #: parameters whose likelihood is not smooth (a break date): the boundary check skips
    #: them and the covariance holds them fixed (intervals are conditional on them)
    irregular: ClassVar[tuple[str, ...]] = ()
    #: extra effective parameters charged in AICc and BIC (a searched change point costs
    #: about three ordinary parameters, not one)
    extra_penalty: ClassVar[int] = 0
    #: True when the least-squares objective has several local optima (a break date): the
    #: bootstrap then also refits from the model's own global starts (see :meth:`scan`)
    multimodal: ClassVar[bool] = False
    #: the parameter that is a ceiling on C in data units (a carrying capacity), if any: a
    #: fitted ceiling below the observed data is not a finding (:func:`lsi.verdict.identification`)
    ceiling: ClassVar[str | None] = None

    # ------------------------------------------------------------ definition
    # the parameters come as keywords, one symbol per name in param_specs, and each model
    # spells out its own: ``*args: Any, **p: Any`` is how mypy accepts such overrides
    @classmethod
    @abstractmethod
    def define(cls, C: sp.Symbol, tau: sp.Symbol, level: sp.Symbol, *args: Any, **p: Any) -> Definition:
        """The model's mathematics: its ODE and, where one exists, its closed form."""

    @classmethod
    def symbols(cls) -> dict[str, sp.Symbol]:
        return _symbols(cls)

    @classmethod
    def definition(cls) -> Definition:
        return _definition(cls)

    @classmethod
    def compiled(cls) -> CompiledModel:
        return _compiled(cls)

    # ------------------------------------------------------------ parameters
    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.param_specs)

    def spec(self, name: str) -> ParamSpec:
        for s in self.param_specs:
            if s.name == name:
                return s
        raise UnknownParameterError(
            f"model {self.name!r} has no parameter {name!r}; its parameters are {', '.join(self.param_names)}"
        )

    def make_params(self, **values: float) -> lmfit.Parameters:
        """lmfit.Parameters for this model, with bounds, from keyword values.

        Examples
        --------
        >>> import lsi
        >>> p = lsi.models.get("exponential").make_params(C0=1.0, g=0.5)
        >>> p["g"].value
        0.5
        """
        import lmfit

        params = lmfit.Parameters()
        for s in self.param_specs:
            v = values.pop(s.name, s.default)
            params.add(s.name, value=np.nan if v is None else float(v), min=s.min, max=s.max, vary=s.vary)
        if values:
            bad = next(iter(values))
            self.spec(bad)  # raises a one-line UnknownParameterError
        return params

    def theta(self, params: lmfit.Parameters | Mapping[str, Any]) -> np.ndarray:
        """The parameter vector in ``param_specs`` order, checked against the bounds."""
        vals = []
        known = set(self.param_names)
        for key in params:
            if key not in known:
                self.spec(key)
        for s in self.param_specs:
            if s.name not in params:
                if s.default is None:
                    raise UnknownParameterError(
                        f"model {self.name!r} needs a value for {s.name!r}; give all of {', '.join(self.param_names)}"
                    )
                v = float(s.default)
            else:
                v = params[s.name]
                v = float(v.value if hasattr(v, "value") else v)
            s.check(v, self.name)
            vals.append(v)
        return np.asarray(vals, dtype=float)

    def columns(self, theta: Any) -> dict[str, np.ndarray]:
        """Parameter draws by name: ``theta`` is one vector or an (n, k) array of them."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        return {name: theta[:, i] for i, name in enumerate(self.param_names)}

    # ------------------------------------------------------------ starting guess
    @abstractmethod
    def guess(self, tau: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
        """Data-driven starting points (best first) from times since t0 and capability values > 0."""

    def scan(self, tau: np.ndarray, lnC: np.ndarray, w: np.ndarray | None = None) -> np.ndarray | None:
        """For a ``multimodal`` model: the residual sum of squares at each of its global
        starting points (so a refit can tell whether its warm start is already best); None
        for models without such a scan."""
        return None

    # ------------------------------------------------------------ numerics on theta
    @abstractmethod
    def lnC_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """ln C at times since t0."""

    @abstractmethod
    def lnC_jac_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """d ln C / d theta, shape (k, n)."""

    @abstractmethod
    def C_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """C at times since t0."""

    @abstractmethod
    def C_jac_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """d C / d theta, shape (k, n)."""

    @abstractmethod
    def rate_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Growth rate d ln C / dt."""

    @abstractmethod
    def rate_grad_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """d (d ln C/dt) / d theta."""

    @abstractmethod
    def inverse_theta(self, level: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """tau at which C reaches ``level`` (NaN where never)."""

    @abstractmethod
    def inverse_grad_theta(self, level: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """d tau(level) / d theta."""

    @abstractmethod
    def event_tau_theta(self, event: str, theta: np.ndarray) -> tuple[float, np.ndarray] | None:
        """(tau, gradient) of ``"inflection"`` or ``"singularity"``, or None if the model has none."""

    def fast_value(self, log: bool) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """``(tau, theta) -> ln C`` (or C) for the fitter's hot loop (the caller holds an errstate)."""
        return self.lnC_theta if log else self.C_theta

    def fast_jacobian(self, log: bool) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """``(tau, theta) -> d ln C / d theta`` (or dC/d theta), shape (k, n), for the fitter."""
        return self.lnC_jac_theta if log else self.C_jac_theta

    def lnC_draws(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """ln C at one time per draw: ``tau`` (n,), ``theta`` (n, k)."""
        return np.array([float(self.lnC_theta(np.array([tf]), row)[0]) for tf, row in zip(tau, theta, strict=True)])

    # ------------------------------------------------------------ the three assumptions
    @abstractmethod
    def loop_params(self, cols: Mapping[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """The model's embedding in the loop model (docs/mathematics.md, "From fitted models to
        assumptions"): loop parameters per draw from the model's parameter columns
        (:meth:`columns`), or None for a model with no loop embedding (an exogenous regime
        change)."""

    @abstractmethod
    def crossings(self, theta: np.ndarray, t0: float, th: Thresholds, horizon: float) -> Crossings:
        """When each assumption fails along the fitted curve, per draw.

        ``theta`` is (n, k); returns the times at which closure, amplification and efficiency
        first go below their thresholds, and the singularity date (NaN where none; times may
        lie beyond ``horizon``, which the caller applies).
        """

    # ------------------------------------------------------------ public numerics
    def capability(self, params: lmfit.Parameters | Mapping[str, Any], t: Any, t0: float = 0.0) -> np.ndarray:
        """C(t) for the given parameters and time origin."""
        return np.exp(self.lnC_theta(np.asarray(t, dtype=float) - t0, self.theta(params)))

    def log_capability(self, params, t, t0: float = 0.0) -> np.ndarray:
        """ln C(t)."""
        return self.lnC_theta(np.asarray(t, dtype=float) - t0, self.theta(params))

    def growth_rate(self, params, t, t0: float = 0.0) -> np.ndarray:
        """d ln C / dt at times t (per year)."""
        return self.rate_theta(np.asarray(t, dtype=float) - t0, self.theta(params))

    def doubling_time(self, params, t, t0: float = 0.0) -> np.ndarray:
        """ln 2 divided by the growth rate at t (NaN where C does not grow)."""
        r = self.growth_rate(params, t, t0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(r > 0, LN2 / r, np.nan)

    def time_to_reach(self, params, level: Any, t0: float = 0.0) -> np.ndarray:
        """Time at which C first reaches ``level`` (NaN where it never does)."""
        return t0 + self.inverse_theta(np.asarray(level, dtype=float), self.theta(params))

    def inflection_time(self, params, t0: float = 0.0) -> float | None:
        """Time of the inflection of C(t), or None for models without one."""
        ev = self.event_tau_theta("inflection", self.theta(params))
        return None if ev is None else t0 + ev[0]

    def singularity_time(self, params, t0: float = 0.0) -> float | None:
        """Time at which C reaches infinity, or None for models without a singularity."""
        ev = self.event_tau_theta("singularity", self.theta(params))
        if ev is None or not np.isfinite(ev[0]) or ev[0] <= -np.inf:
            return None
        return t0 + ev[0]

    def ode_rhs(self, params, C: Any, t: Any = 0.0, t0: float = 0.0) -> np.ndarray:
        """dC/dt at capability C (and time t for non-autonomous models), from the sympy ODE."""
        f = _ode_function(type(self))
        return f(np.asarray(C, dtype=float), np.asarray(t, dtype=float) - t0, *self.theta(params))

    def __repr__(self) -> str:
        return f"lsi.models.{type(self).__name__}()"


class ClosedFormModel(GrowthModel):
    """A model whose closed form is written in :meth:`define`: every numeric function is
    compiled from that one definition (:mod:`lsi.symbolic`), Jacobians included."""

    closed_form: ClassVar[bool] = True

    def lnC_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self.compiled().lnC.value(tau, *theta)

    def lnC_jac_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self.compiled().lnC.grad(tau, *theta)

    def C_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self.compiled().C.value(tau, *theta)

    def C_jac_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self.compiled().C.grad(tau, *theta)

    def rate_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self.compiled().rate.value(tau, *theta)

    def rate_grad_theta(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self.compiled().rate.grad(tau, *theta)

    def inverse_theta(self, level: np.ndarray, theta: np.ndarray) -> np.ndarray:
        inv = self.compiled().inverse
        if inv is None:
            raise NotImplementedError
        return inv.value(level, *theta)

    def inverse_grad_theta(self, level: np.ndarray, theta: np.ndarray) -> np.ndarray:
        inv = self.compiled().inverse
        assert inv is not None  # every closed-form model writes its inverse in define()
        return inv.grad(level, *theta)

    def event_tau_theta(self, event: str, theta: np.ndarray) -> tuple[float, np.ndarray] | None:
        c = getattr(self.compiled(), event)
        if c is None:
            return None
        x = np.zeros(())
        return float(c.value(x, *theta)), c.grad(x, *theta).reshape(-1)

    def fast_value(self, log: bool) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        raw = getattr(self.compiled(), "lnC" if log else "C").raw_value
        if raw is None:
            return super().fast_value(log)
        return lambda tau, th: raw(tau, *th)

    def fast_jacobian(self, log: bool) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        rawg = getattr(self.compiled(), "lnC" if log else "C").raw_grad
        if rawg is None:
            return super().fast_jacobian(log)
        k = len(self.param_specs)

        def grad(tau: np.ndarray, th: np.ndarray) -> np.ndarray:
            out = np.empty((k, tau.size))
            for i, g in enumerate(rawg(tau, *th)):
                out[i] = g
            return out

        return grad

    def lnC_draws(self, tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self.compiled().lnC.value(tau, *[theta[:, i] for i in range(theta.shape[1])])

    def time_at_level(self, theta: np.ndarray, t0: float, level: np.ndarray) -> np.ndarray:
        """t at which C reaches ``level`` per draw (closed-form inverse, NaN where never)."""
        comp = self.compiled().inverse
        assert comp is not None  # every closed-form model writes its inverse in define()
        args = [theta[:, i] for i in range(theta.shape[1])]
        with np.errstate(all="ignore"):
            return t0 + comp.value(level, *args)


@cache
def _symbols(cls: type[GrowthModel]) -> dict[str, sp.Symbol]:
    out = {}
    for s in cls.param_specs:
        positive = s.min >= 0 and not s.closed_min
        out[s.name] = sp.Symbol(s.name, positive=True) if positive else sp.Symbol(s.name, real=True)
    return out


_C = sp.Symbol("C", positive=True)
_TAU = sp.Symbol("tau", real=True)
_LEVEL = sp.Symbol("level", positive=True)


@cache
def _definition(cls: type[GrowthModel]) -> Definition:
    d = cls.define(_C, _TAU, _LEVEL, **_symbols(cls))
    if d.solution is not None and d.log_solution is None:
        d = Definition(
            ode=d.ode,
            solution=d.solution,
            log_solution=sp.expand_log(sp.log(d.solution), force=True),
            inverse=d.inverse,
            inflection_tau=d.inflection_tau,
            singularity_tau=d.singularity_tau,
        )
    return d


@cache
def _compiled(cls: type[GrowthModel]) -> CompiledModel:
    return CompiledModel(_definition(cls), _symbols(cls), _TAU, _LEVEL)


@cache
def _ode_function(cls: type[GrowthModel]):
    from ..symbolic import _MODULES

    syms = list(_symbols(cls).values())
    f = sp.lambdify([_C, _TAU, *syms], _definition(cls).ode, modules=_MODULES)

    def call(C, tau, *theta):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(f(C, tau, *theta), dtype=float), np.broadcast(C, tau).shape).copy()

    return call


def model_symbols() -> tuple[sp.Symbol, sp.Symbol, sp.Symbol]:
    """The shared sympy symbols ``(C, tau, level)``."""
    return _C, _TAU, _LEVEL


PHENOMENOLOGICAL = (
    "linear",
    "exponential",
    "hyperbolic",
    "brake",
    "logistic",
    "richards",
    "gompertz",
    "amdahl",
)
