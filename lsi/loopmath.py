r"""The loop model's factors and diagnostics, written once.

The loop model (docs/mathematics.md, "The loop model") is one equation for :math:`l = \ln(C/C_0)` whose factors
are the three assumptions of recursive self-improvement:

.. math::

    \frac{dl}{dt} = g_0 \, \frac{S(l)^\lambda}{D(l)} \, F(l) \, E(t),

* the Amdahl speed-up :math:`S(l) = 1/((1-p) + p e^{-a l})` (closed loop),
* the complexity brake :math:`D(l) = e^{\beta (l + \gamma l^2/2)}` (self-amplifying),
* the resource ceiling :math:`F(l) = \max(0, 1 - (C/K)^\nu)` and the friction
  :math:`E(t) = e^{-\delta (t - t_0)}` (no efficiency loss).

Along a trajectory the three diagnostics of section 3 are the closure
:math:`\kappa = d\ln S/d\ln m`, the returns :math:`\rho = d\ln(S^\lambda/D)/dl` and the
efficiency :math:`\eta = F E`.

Every function here is a plain elementwise formula: its body uses arithmetic, numpy's
elementwise functions (``np.exp``, ``np.log``, ``np.log1p``, ``np.expm1``, ...) and the two
primitives :func:`select` and :func:`expit`.  So the same function serves numpy arrays and,
compiled by numba on scalars, the compiled engine of :mod:`lsi.quadrature` (which compiles
``select`` to a scalar branch and ``expit`` to its overflow-safe two-branch form).  Functions
named ``*_from_*`` take a transformed parameter (``logit p``, ``ln K``) that the quadrature
holds once per cell; the others take the nine parameters of :data:`PARAMS` as they are.

This module is a low layer: it imports numpy and the standard library only (scipy's
``expit`` is loaded on first use).

Examples
--------
>>> from lsi import loopmath as lm
>>> float(lm.speedup(0.0, 0.9, 1.0))  # S(0) = 1
1.0
>>> round(float(lm.closure(np.log(4.0), 0.8, 1.0)), 12)  # Amdahl's knee, e^{a l} = p/(1-p)
0.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .exceptions import ParameterValueError

__all__ = [
    "PARAMS",
    "DEFAULTS",
    "FAILURES",
    "Thresholds",
    "thresholds",
    "select",
    "expit",
    "logit",
    "speedup",
    "log_speedup",
    "brake",
    "log_brake",
    "ceiling_factor",
    "ceiling_factor_from_log",
    "friction",
    "friction_free_time",
    "elapsed_time",
    "growth_rate",
    "closure",
    "closure_from_logit",
    "closure_level",
    "closure_level_from_logit",
    "returns",
    "returns_from_closure",
    "returns_slope",
    "efficiency",
    "growth_accounting",
    "takeoff_r",
]

#: Names of the loop-model parameters, in their canonical order.
PARAMS: tuple[str, ...] = ("g0", "p", "a", "lam", "beta", "gamma", "ceiling", "nu", "delta")

#: Defaults for the parameters that have an "all assumptions hold" value (docs/mathematics.md, "The loop model");
#: ``nu = 1`` (a logistic ceiling) only matters when ``ceiling`` is finite.  ``g0`` and ``a``
#: have no default and must always be given.
DEFAULTS: dict[str, float] = {
    "p": 1.0,
    "lam": 1.0,
    "beta": 0.0,
    "gamma": 0.0,
    "ceiling": math.inf,
    "nu": 1.0,
    "delta": 0.0,
}

#: The outcomes of "which assumption fails first", in the order of their integer codes.
FAILURES: tuple[str, ...] = ("closure", "amplification", "efficiency", "none")


@dataclass(frozen=True)
class Thresholds:
    """Thresholds below which an assumption counts as failed (docs/mathematics.md, "The three diagnostics").

    Closure fails below ``kappa_min`` (0.5: Amdahl's knee), returns below ``rho_min`` (0: each
    doubling slower than the last) and efficiency below ``eta_min`` (0.5).
    """

    kappa_min: float = 0.5
    rho_min: float = 0.0
    eta_min: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.kappa_min <= 1:
            raise ParameterValueError(
                f"kappa_min = {self.kappa_min!r} must lie in (0, 1]: closure is a fraction; 0.5 is Amdahl's knee"
            )
        if not 0 < self.eta_min <= 1:
            raise ParameterValueError(f"eta_min = {self.eta_min!r} must lie in (0, 1]: efficiency is a fraction")
        if not math.isfinite(self.rho_min):
            raise ParameterValueError(f"rho_min = {self.rho_min!r} must be a finite number (returns per unit ln C)")

    def as_dict(self) -> dict[str, float]:
        return {"kappa_min": self.kappa_min, "rho_min": self.rho_min, "eta_min": self.eta_min}


def thresholds(th: Thresholds | Mapping[str, Any] | None) -> Thresholds:
    """A :class:`Thresholds` from None (the defaults), a Thresholds, or a mapping of its fields.

    Examples
    --------
    >>> thresholds({"kappa_min": 0.6}).as_dict()
    {'kappa_min': 0.6, 'rho_min': 0.0, 'eta_min': 0.5}
    """
    if th is None:
        return Thresholds()
    if isinstance(th, Thresholds):
        return th
    if not isinstance(th, Mapping):
        raise ParameterValueError(
            f"thresholds = {th!r}; give a dict such as {{'kappa_min': 0.5, 'rho_min': 0.0, 'eta_min': 0.5}}"
        )
    known = ("kappa_min", "rho_min", "eta_min")
    unknown = [k for k in th if k not in known]
    if unknown:
        raise ParameterValueError(f"unknown thresholds {unknown}; the thresholds are {', '.join(known)}")
    for k, v in th.items():
        v_: Any = v
        if isinstance(v_, bool) or not isinstance(v_, numbers.Real):
            raise ParameterValueError(f"threshold {k} = {v!r}; give a number")
    return Thresholds(**{k: float(v) for k, v in th.items()})


# --------------------------------------------------------------------------------------
# the two primitives besides numpy's elementwise functions
# --------------------------------------------------------------------------------------


def select(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``if_true`` where ``condition`` holds, else ``if_false``, elementwise (``np.where``).

    Both values are evaluated everywhere: callers that may produce invalid values silence
    them with ``np.errstate``.  The compiled engine compiles this to a scalar branch.
    """
    return np.where(condition, if_true, if_false)


def expit(z: Any) -> Any:
    r"""The logistic function :math:`1/(1 + e^{-z})`, elementwise (:func:`scipy.special.expit`).

    The compiled engine compiles it to the overflow-safe form :math:`1/(1 + e^{-z})` for
    :math:`z \ge 0` and :math:`e^z/(1 + e^z)` below.
    """
    from scipy.special import expit as logistic

    return logistic(z)


def logit(p: Any) -> Any:
    r""":math:`\ln p - \ln(1 - p)`: ``+inf`` at ``p = 1``, ``-inf`` at ``p = 0``."""
    return np.log(p) - np.log1p(-p)


# --------------------------------------------------------------------------------------
# the factors
# --------------------------------------------------------------------------------------


def speedup(l: Any, p: Any, a: Any) -> Any:
    r"""Amdahl speed-up of the R&D loop, :math:`S(l) = 1/((1-p) + p e^{-a l})`.

    ``p`` is the share of R&D work the AI does and :math:`m = e^{a l} = (C/C_0)^a` how much
    faster it does it; :math:`S(0) = 1` and :math:`S \to 1/(1-p)` as :math:`l \to \infty`.

    Examples
    --------
    >>> float(speedup(np.log(4.0), 0.8, 1.0))  # the knee: S = 1/(0.2 + 0.2)
    2.5
    """
    return 1.0 / ((1 - p) + p * np.exp(-a * l))


def log_speedup(l: Any, p: Any, a: Any) -> Any:
    r""":math:`\ln S(l) = -\ln((1-p) + p e^{-a l})`, exactly :math:`a l` at ``p = 1``.

    Both terms of the sum are non-negative, so nothing cancels; the case ``p = 1`` is exact
    even where :math:`e^{-a l}` underflows.
    """
    al = a * l
    return select(p == 1.0, al, -np.log((1.0 - p) + p * np.exp(-al)))


def brake(l: Any, beta: Any, gamma: Any) -> Any:
    r"""Complexity brake, :math:`D(l) = e^{\beta (l + \gamma l^2/2)}`: difficulty rising with
    capability, stiffening when :math:`\gamma > 0`.

    Examples
    --------
    >>> float(brake(2.0, 0.5, 0.0))  # e^{beta l}
    2.718281828459045
    """
    return np.exp(beta * (l + gamma * l**2 / 2))


def log_brake(l: Any, beta: Any, gamma: Any) -> Any:
    r""":math:`\ln D(l) = l (\beta + (\beta\gamma/2) l)`."""
    return l * (beta + 0.5 * beta * gamma * l)


def ceiling_factor(l: Any, ceiling: Any, nu: Any) -> Any:
    r"""Resource ceiling, :math:`F(l) = \max(0, 1 - (C/K)^\nu)` with :math:`C/C_0 = e^l` and
    ``ceiling`` :math:`= K/C_0`; 1 where ``ceiling`` is infinite.

    Computed as :math:`-\operatorname{expm1}(\nu (l - \ln K))`, accurate to the last digits
    near the ceiling.

    Examples
    --------
    >>> round(float(ceiling_factor(np.log(5.0), 10.0, 1.0)), 12)  # 1 - 5/10
    0.5
    """
    return ceiling_factor_from_log(l, np.log(ceiling), nu)


def ceiling_factor_from_log(l: Any, log_ceiling: Any, nu: Any) -> Any:
    r""":math:`F(l)` of :func:`ceiling_factor`, given :math:`\ln K` (``inf``: no ceiling)."""
    return select(np.isinf(log_ceiling), 1.0, np.maximum(0.0, -np.expm1(nu * (l - log_ceiling))))


def friction(elapsed: Any, delta: Any) -> Any:
    r"""Organisational friction, :math:`E = e^{-\delta (t - t_0)}`, with ``elapsed`` :math:`= t - t_0`."""
    return np.exp(-delta * elapsed)


def friction_free_time(elapsed: Any, delta: Any) -> Any:
    r"""The friction-free time :math:`\tau = \int_{t_0}^t E\,ds = (1 - e^{-\delta (t-t_0)})/\delta`
    accumulated in ``elapsed`` :math:`= t - t_0` years (``elapsed`` when :math:`\delta = 0`);
    NaN for ``elapsed < 0`` (the model starts at :math:`t_0`).

    The loop model separates, :math:`dl / (g_0 S^\lambda F / D) = E\,dt`, so the level reached
    at :math:`t` is the one with :math:`\tau(l)` equal to this.
    """
    return select(elapsed >= 0, select(delta > 0, -np.expm1(-delta * elapsed) / delta, elapsed), np.nan)


def elapsed_time(tau: Any, delta: Any) -> Any:
    r"""The inverse of :func:`friction_free_time`: :math:`t - t_0 = -\ln(1 - \delta\tau)/\delta`
    (:math:`\tau` when :math:`\delta = 0`); NaN where never, :math:`\delta\tau \ge 1` (beyond the
    friction limit) or :math:`\tau` infinite.
    """
    d = delta * tau
    return select((d < 1) & np.isfinite(tau), select(delta > 0, -np.log1p(-d) / delta, tau), np.nan)


def growth_rate(
    l: Any, elapsed: Any, g0: Any, p: Any, a: Any, lam: Any, beta: Any, gamma: Any, ceiling: Any, nu: Any, delta: Any
) -> Any:
    r"""The loop model's growth rate, :math:`dl/dt = g_0 S(l)^\lambda F(l) E(t) / D(l)`.

    ``elapsed`` is :math:`t - t_0`; the nine parameters follow in :data:`PARAMS` order.

    Examples
    --------
    >>> float(growth_rate(0.0, 0.0, 0.7, 0.9, 1.0, 1.0, 0.3, 0.0, np.inf, 1.0, 0.0))  # g0 at t0
    0.7
    """
    return (
        g0 * speedup(l, p, a) ** lam / brake(l, beta, gamma) * ceiling_factor(l, ceiling, nu) * friction(elapsed, delta)
    )


# --------------------------------------------------------------------------------------
# the diagnostics
# --------------------------------------------------------------------------------------


def closure_from_logit(l: Any, logit_p: Any, a: Any) -> Any:
    r""":math:`\kappa(l) = \operatorname{expit}(\operatorname{logit} p - a l)`, given
    :math:`\operatorname{logit} p` (exact at ``p`` = 0 and 1, where it is :math:`\mp\infty`)."""
    return expit(logit_p - a * l)


def closure(l: Any, p: Any, a: Any) -> Any:
    r"""Closure of the loop, :math:`\kappa(l) = d\ln S/d\ln m = p e^{-a l} / ((1-p) + p e^{-a l})`.

    The share of the R&D cycle's time that the AI part takes; the loop is closed while
    :math:`\kappa \ge 1/2` (Amdahl's knee).  It equals ``p`` at ``l = 0``, is constant when
    ``p`` is 0 or 1 or ``a = 0``, and otherwise falls strictly to 0.  Computed as
    :math:`\operatorname{expit}(\operatorname{logit} p - a l)`, with the constant cases exact.
    """
    k = select(a == 0, p, closure_from_logit(l, logit(p), a))
    return select(p == 1, 1.0, select(p == 0, 0.0, k))


def closure_level(kappa: Any, p: Any, a: Any) -> Any:
    r"""The level where closure has fallen to ``kappa``,
    :math:`l = \ln(p (1-\kappa) / (\kappa (1-p))) / a` (for :math:`0 < p < 1`, :math:`a > 0`).

    At Amdahl's knee, :math:`\kappa = 1/2`, it is :math:`e^{a l} = p/(1-p)`; it is negative
    when closure starts below ``kappa`` (:math:`\kappa(0) = p`).

    Examples
    --------
    >>> round(float(closure_level(0.5, 0.8, 1.0)), 12)  # ln 4
    1.38629436112
    """
    return np.log(p * (1.0 - kappa) / (kappa * (1.0 - p))) / a


def closure_level_from_logit(kappa: Any, logit_p: Any, a: Any) -> Any:
    r""":func:`closure_level` given :math:`\operatorname{logit} p`:
    :math:`(\operatorname{logit} p - \operatorname{logit} \kappa)/a`."""
    return (logit_p - logit(kappa)) / a


def returns_from_closure(kappa: Any, l: Any, a: Any, lam: Any, beta: Any, gamma: Any) -> Any:
    r""":math:`\rho = \lambda a \kappa - \beta (1 + \gamma l)`, given :math:`\kappa(l)`."""
    return lam * a * kappa - beta * (1.0 + gamma * l)


def returns(l: Any, p: Any, a: Any, lam: Any, beta: Any, gamma: Any) -> Any:
    r"""Returns to capability, :math:`\rho(l) = d\ln(S^\lambda/D)/dl = \lambda a \kappa(l) - \beta (1 + \gamma l)`.

    Positive while each doubling comes faster than the last (friction aside); with ``p = 1``
    it is the takeoff exponent :math:`\lambda a - \beta`.
    """
    return returns_from_closure(closure(l, p, a), l, a, lam, beta, gamma)


def returns_slope(kappa: Any, a: Any, lam: Any, beta: Any, gamma: Any) -> Any:
    r""":math:`d\rho/dl = -\lambda a^2 \kappa (1 - \kappa) - \beta\gamma`, given :math:`\kappa(l)`
    (never positive: returns only fall along a trajectory)."""
    return -lam * a * a * kappa * (1.0 - kappa) - beta * gamma


def efficiency(l: Any, elapsed: Any, ceiling: Any, nu: Any, delta: Any) -> Any:
    r"""Efficiency along a trajectory, :math:`\eta = F(l) E(t)`, with ``elapsed`` :math:`= t - t_0`."""
    return ceiling_factor(l, ceiling, nu) * friction(elapsed, delta)


def takeoff_r(loop_params: Mapping[str, Any]) -> np.ndarray:
    r"""The r of the takeoff literature, :math:`r = \lambda a / \beta` (software doublings per
    doubling of research input); ``inf`` when ``beta = 0``.  r > 1 is rho > 0 at ``p = 1``."""
    lam = np.asarray(loop_params["lam"], dtype=float)
    a = np.asarray(loop_params["a"], dtype=float)
    beta = np.asarray(loop_params["beta"], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(beta > 0, lam * a / np.where(beta > 0, beta, 1.0), np.where(lam * a > 0, np.inf, np.nan))


def growth_accounting(l: Any, t: Any, *, t0: float = 0.0, **params: Any) -> dict[str, np.ndarray]:
    r"""Split the growth-rate elasticity :math:`d \ln(d\ell/dt) / d\ell` along a trajectory.

    With :math:`\dot\ell = g_0 S^\lambda F E / D` the elasticity is

    .. math::
        \underbrace{-\lambda a (1-\kappa)}_{\text{closure}}
        + \underbrace{\lambda a - \beta(1+\gamma\ell)}_{\text{returns}}
        + \underbrace{\frac{d\ln F}{d\ell} - \frac{\delta}{\dot\ell}}_{\text{friction}}

    closure: amplification lost because the loop is open; returns: the amplification
    a closed loop would have, net of the complexity brake; friction: the resource
    ceiling and organisational losses.  The three sum to the total.

    Parameters
    ----------
    l, t : array-like
        Points of a trajectory: ln(C/C0) and the matching times.
    t0 : float
    **params : the loop parameters (g0, p, a, lam, beta, gamma, ceiling, nu, delta)

    Returns
    -------
    dict with ``closure``, ``returns``, ``friction`` and ``total``.
    """
    P = {k: np.asarray(params[k], dtype=float) for k in PARAMS}
    l = np.asarray(l, dtype=float)
    t = np.asarray(t, dtype=float)
    lam, a, beta, gamma, nu = P["lam"], P["a"], P["beta"], P["gamma"], P["nu"]
    with np.errstate(all="ignore"):
        ldot = growth_rate(l, t - t0, *P.values())
        closure_part = -lam * a * (1 - closure(l, P["p"], a))
        returns_part = lam * a - beta * (1 + gamma * l)
        # d ln F / dl = -nu (C/K)^nu / F, 0 without a ceiling
        log_ceiling = np.log(P["ceiling"])
        u = select(np.isinf(log_ceiling), 0.0, np.exp(nu * (l - log_ceiling)))
        dlnF = select(u > 0, -nu * u / ceiling_factor_from_log(l, log_ceiling, nu), 0.0)
        friction_part = dlnF - P["delta"] / ldot
    return {
        "closure": closure_part,
        "returns": returns_part,
        "friction": friction_part,
        "total": closure_part + returns_part + friction_part,
    }
