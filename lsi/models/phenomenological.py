r"""The eight phenomenological growth models.

Each is defined once, as sympy expressions (docs/mathematics.md, "The growth models"): its ODE, its
closed form, the inverse (time to reach a level) and, where they exist, its
inflection and singularity times.  Everything numeric is derived from that.
Time ``t`` is in decimal years, ``tau = t - t0``; ``C0`` is the capability at ``t0``.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from .. import loopmath
from ..symbolic import wrightomega
from .base import ClosedFormModel, Crossings, Definition, ParamSpec, hold, register

__all__ = [
    "Linear",
    "Exponential",
    "Hyperbolic",
    "Brake",
    "Logistic",
    "Richards",
    "Gompertz",
    "Amdahl",
]

_C0 = ParamSpec("C0", 0.0, math.inf, "data units", "capability at t0")


def _g(doc: str = "growth rate of ln C, per year") -> ParamSpec:
    return ParamSpec("g", 0.0, math.inf, "1/yr", doc)


_K = ParamSpec("K", 0.0, math.inf, "data units", "carrying capacity (resource ceiling)")


# ---------------------------------------------------------------- guessing helpers
def _loglinear(tau: np.ndarray, ly: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of ln y on tau (closed form)."""
    if tau.size < 2:
        return 0.1, float(np.mean(ly))
    tm = tau.mean()
    dt = tau - tm
    sxx = float(dt @ dt)
    if sxx == 0:
        return 0.1, float(np.mean(ly))
    slope = float(dt @ (ly - ly.mean())) / sxx
    return slope, float(ly.mean() - slope * tm)


def _half_rates(tau: np.ndarray, ly: np.ndarray) -> tuple[float, float, float, float]:
    """Growth rates of ln y on the first and second half of the data, and ln y at their centres."""
    n = tau.size
    h = max(2, n // 2)
    r1, c1 = _loglinear(tau[:h], ly[:h])
    r2, c2 = _loglinear(tau[n - h :], ly[n - h :])
    m1 = c1 + r1 * np.mean(tau[:h])
    m2 = c2 + r2 * np.mean(tau[n - h :])
    return r1, r2, float(m1), float(m2)


def _positive_rate(g: float, tau: np.ndarray, ly: np.ndarray) -> float:
    if g > 0 and np.isfinite(g):
        return g
    span = max(float(np.ptp(tau)), 1e-9)
    return max(abs(float(np.ptp(ly))) / span, 1e-3)


def _sigmoid_grid(tau: np.ndarray, y: np.ndarray, transform, factors) -> tuple[float, float, float]:
    """Best (K, slope, intercept) over a grid of ceilings, linearising a sigmoid with ``transform``.

    ``transform(K, y)`` must be linear in tau with slope ``-g`` (times a shape factor)
    and intercept ``transform(K, C0)``; the grid value whose regression explains the
    transformed data best wins.  All grid values are regressed at once.
    """
    ymax = float(np.max(y))
    K = ymax * np.asarray(factors, dtype=float)[:, None]
    with np.errstate(all="ignore"):
        z = transform(K, y[None, :])
    ok = np.all(np.isfinite(z), axis=1)
    if tau.size >= 2 and np.ptp(tau) > 0 and ok.any():
        dt = tau - tau.mean()
        zc = z - z.mean(axis=1, keepdims=True)
        slope = zc @ dt / (dt @ dt)
        icpt = z.mean(axis=1) - slope * tau.mean()
        resid = zc - slope[:, None] * dt
        score = np.sum(resid**2, axis=1) / np.maximum(np.sum(zc**2, axis=1), 1e-300)
        score = np.where(ok & (slope < 0), score, np.inf)
        i = int(np.argmin(score))
        if np.isfinite(score[i]):
            return float(K[i, 0]), float(-slope[i]), float(icpt[i])
    return 2 * ymax, _positive_rate(0.0, tau, np.log(y)), float(np.log(y[0]))


_FACTORS = (1.001, 1.01, 1.05, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0, 100.0)


# ---------------------------------------------------------------- models
def _at_start(mask: np.ndarray, t0: float) -> np.ndarray:
    """t0 where an assumption fails from the start, NaN elsewhere."""
    return np.where(mask, float(t0), np.nan)


def _none(theta: np.ndarray) -> np.ndarray:
    return np.full(theta.shape[0], np.nan)


@register
class Linear(ClosedFormModel):
    r"""Linear growth.

    .. math:: \frac{dC}{dt} = b, \qquad C(t) = C_0 + b\,(t - t_0)

    Loop-model embedding: ``p = 1``, :math:`\lambda a - \beta = -1` in the power-law
    sense (the complexity brake with ``b = 1``); amplification fails from the start.
    """

    name = "linear"
    title = "Linear"
    param_specs = (_C0, ParamSpec("b", -math.inf, math.inf, "data units/yr", "absolute growth per year"))
    embedding = "brake with b = 1: p = 1, lam*a - beta = -1 (returns negative from the start)"
    mechanism = "amplification"

    @classmethod
    def define(cls, C, tau, level, C0, b):
        return Definition(ode=b + 0 * C, solution=C0 + b * tau, inverse=(level - C0) / b)

    def guess(self, tau, y):
        A = np.vstack([tau, np.ones_like(tau)]).T
        (b, c0), *_ = np.linalg.lstsq(A, y, rcond=None)
        c0 = float(c0) if c0 > 0 else max(float(np.min(y[y > 0])) if np.any(y > 0) else 1.0, 1e-12)
        return [{"C0": c0, "b": float(b)}]

    def loop_params(self, cols):
        with np.errstate(divide="ignore", invalid="ignore"):
            g0 = np.where(cols["b"] > 0, cols["b"] / cols["C0"], np.nan)  # a declining line does not embed
        return hold(g0.size, g0=g0, beta=1.0)

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        b = self.columns(theta)["b"]
        tr = np.where(b <= 0, np.nan, _at_start(np.full(b.size, -1.0 < th.rho_min), t0))
        return Crossings(_none(theta), tr, _none(theta), _none(theta))


@register
class Exponential(ClosedFormModel):
    r"""Exponential growth: recursive self-improvement at constant returns.

    .. math:: \frac{dC}{dt} = g\,C, \qquad C(t) = C_0\,e^{g (t - t_0)}

    Doubling time :math:`\ln 2 / g`.  Loop-model embedding: ``p = 1``,
    :math:`\lambda a = \beta`; nothing fails.
    """

    name = "exponential"
    title = "Exponential"
    param_specs = (_C0, _g())
    embedding = "p = 1, lam*a = beta: nothing fails (constant doubling time)"
    mechanism = "none"

    @classmethod
    def define(cls, C, tau, level, C0, g):
        return Definition(
            ode=g * C,
            solution=C0 * sp.exp(g * tau),
            log_solution=sp.log(C0) + g * tau,
            inverse=sp.log(level / C0) / g,
        )

    def guess(self, tau, y):
        ly = np.log(y)
        g, c = _loglinear(tau, ly)
        return [{"C0": math.exp(c), "g": _positive_rate(g, tau, ly)}]

    def loop_params(self, cols):
        return hold(cols["g"].size, g0=cols["g"])

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        tr = _at_start(np.full(theta.shape[0], 0.0 < th.rho_min), t0)
        return Crossings(_none(theta), tr, _none(theta), _none(theta))


@register
class Hyperbolic(ClosedFormModel):
    r"""Hyperbolic growth: the RSI explosion.

    .. math::
        \frac{dC}{dt} = g\,C^{1+e}, \qquad
        C(t) = C_0\left[1 - e\,g\,C_0^{e}(t - t_0)\right]^{-1/e}

    It reaches infinity at :math:`t^* = t_0 + 1/(e\,g\,C_0^e)`.  Loop-model
    embedding: ``p = 1``, :math:`\lambda a - \beta = e > 0`; nothing fails before
    the singularity.
    """

    name = "hyperbolic"
    title = "Hyperbolic"
    param_specs = (
        _C0,
        ParamSpec("g", 0.0, math.inf, "1/yr (data units)^-e", "rate coefficient"),
        ParamSpec("e", 0.0, math.inf, "", "excess returns exponent (e > 0 explodes)"),
    )
    embedding = "p = 1, lam*a - beta = e > 0: nothing fails; singularity at t*"
    mechanism = "none"

    @classmethod
    def define(cls, C, tau, level, C0, g, e):
        R = e * g * C0**e
        return Definition(
            ode=g * C ** (1 + e),
            solution=C0 * (1 - R * tau) ** (-1 / e),
            log_solution=sp.log(C0) - log1p(-R * tau) / e,
            inverse=-expm1(e * sp.log(C0 / level)) / R,
            singularity_tau=1 / R,
        )

    def guess(self, tau, y):
        ly = np.log(y)
        g_exp, c = _loglinear(tau, ly)
        g_exp = _positive_rate(g_exp, tau, ly)
        r1, r2, m1, m2 = _half_rates(tau, ly)
        starts = []
        # rate ∝ C^e  =>  e = d ln rate / d ln C
        if r1 > 0 and r2 > r1 and m2 > m1:
            e = float(np.clip(math.log(r2 / r1) / (m2 - m1), 1e-3, 5.0))
            # initial rate g C0^e equal to the early log-slope
            starts.append({"C0": math.exp(ly[0]), "g": r1 / math.exp(e * m1), "e": e})
        C0 = math.exp(c)
        span = max(float(np.ptp(tau)), 1e-9)
        for e in (0.05, 0.3):
            # keep the singularity well beyond the data: R * span < 0.5
            g = g_exp / C0**e
            R = e * g * C0**e
            if R * span > 0.5:
                g *= 0.5 / (R * span)
            starts.append({"C0": C0, "g": g, "e": e})
        return starts

    def loop_params(self, cols):
        return hold(cols["g"].size, g0=cols["g"] * cols["C0"] ** cols["e"], a=cols["e"])

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        c = self.columns(theta)
        tr = _at_start(c["e"] < th.rho_min, t0)
        ts = t0 + 1.0 / (c["e"] * c["g"] * c["C0"] ** c["e"])
        return Crossings(_none(theta), tr, _none(theta), ts)


@register
class Brake(ClosedFormModel):
    r"""Complexity brake: power-law growth with diminishing returns.

    .. math::
        \frac{dC}{dt} = g\,C^{1-b}, \qquad C(t) = \left(C_0^{b} + b\,g\,(t - t_0)\right)^{1/b}

    ``b = 1`` is linear growth, ``b -> 0`` exponential.  Loop-model embedding:
    ``p = 1``, :math:`\lambda a - \beta = -b < 0`; amplification fails from the start.
    """

    name = "brake"
    title = "Complexity brake"
    param_specs = (
        _C0,
        ParamSpec("g", 0.0, math.inf, "(data units)^b/yr", "rate coefficient"),
        ParamSpec("b", 0.0, math.inf, "", "strength of the brake (b = 1 linear, b -> 0 exponential)"),
    )
    embedding = "p = 1, lam*a - beta = -b < 0: amplification fails from the start"
    mechanism = "amplification"

    @classmethod
    def define(cls, C, tau, level, C0, g, b):
        return Definition(
            ode=g * C ** (1 - b),
            solution=(C0**b + b * g * tau) ** (1 / b),
            log_solution=log1p(expm1(b * sp.log(C0)) + b * g * tau) / b,
            inverse=(expm1(b * sp.log(level)) - expm1(b * sp.log(C0))) / (b * g),
        )

    def guess(self, tau, y):
        ly = np.log(y)
        g_exp, c = _loglinear(tau, ly)
        g_exp = _positive_rate(g_exp, tau, ly)
        r1, r2, m1, m2 = _half_rates(tau, ly)
        starts = []
        C0 = math.exp(c)
        if r1 > 0 and 0 < r2 < r1 and m2 > m1:
            b = float(np.clip(-math.log(r2 / r1) / (m2 - m1), 1e-3, 5.0))
            starts.append({"C0": math.exp(ly[0]), "g": r1 * math.exp(b * m1), "b": b})
        for b in (1.0, 0.2):
            starts.append({"C0": C0, "g": g_exp * C0**b, "b": b})
        return starts

    def loop_params(self, cols):
        return hold(cols["g"].size, g0=cols["g"] * cols["C0"] ** (-cols["b"]), beta=cols["b"])

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        b = self.columns(theta)["b"]
        return Crossings(_none(theta), _at_start(-b < th.rho_min, t0), _none(theta), _none(theta))


def _ceiling_crossings(model: ClosedFormModel, theta: np.ndarray, t0: float, th: loopmath.Thresholds) -> Crossings:
    """When the assumptions fail along a ceiling model (logistic; Richards with its shape ``v``):
    returns fall below rho_min at once if rho_min > 0 (they start at 0 and stay there), and
    efficiency where the ceiling's friction passes eta_min; closure never fails."""
    c = model.columns(theta)
    v = c["v"] if "v" in c else np.ones(theta.shape[0])
    tr = _at_start(np.full(theta.shape[0], 0.0 < th.rho_min), t0)
    # eta = F = 1 - (C/K)^v < eta_min  <=>  C > K (1 - eta_min)^(1/v)
    level = c["K"] * (1 - th.eta_min) ** (1 / v)
    te = np.where(c["C0"] >= level, float(t0), model.time_at_level(theta, t0, level))
    return Crossings(_none(theta), tr, te, _none(theta))


@register
class Logistic(ClosedFormModel):
    r"""Logistic growth: the lossy-self-improvement sigmoid.

    .. math::
        \frac{dC}{dt} = g\,C\left(1 - \frac{C}{K}\right), \qquad
        C(t) = \frac{K}{1 + (K/C_0 - 1)\,e^{-g (t - t_0)}}

    Inflection at ``C = K/2``.  Loop-model embedding: ``p = 1``,
    :math:`\lambda a = \beta`, ceiling ``K`` (``nu = 1``); efficiency fails at the inflection.
    """

    name = "logistic"
    ceiling = "K"
    title = "Logistic"
    param_specs = (_C0, _g(), _K)
    embedding = "p = 1, lam*a = beta, ceiling K (nu = 1): efficiency fails at C = K/2"
    mechanism = "efficiency"

    @classmethod
    def define(cls, C, tau, level, C0, g, K):
        A = K / C0 - 1
        return Definition(
            ode=g * C * (1 - C / K),
            solution=K / (1 + A * sp.exp(-g * tau)),
            log_solution=sp.log(K) - log1p(A * sp.exp(-g * tau)),
            inverse=sp.log(A / (K / level - 1)) / g,
            inflection_tau=sp.log(A) / g,
        )

    def guess(self, tau, y):
        K, g, icpt = _sigmoid_grid(tau, y, lambda K, v: np.log(K / v - 1), _FACTORS)
        return [{"C0": K / (1 + math.exp(icpt)), "g": g, "K": K}]

    def loop_params(self, cols):
        return hold(cols["g"].size, g0=cols["g"], ceiling=cols["K"] / cols["C0"], nu=1.0)

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        return _ceiling_crossings(self, theta, t0, th)


@register
class Richards(ClosedFormModel):
    r"""Richards (generalised logistic) growth.

    .. math::
        \frac{dC}{dt} = g\,C\left(1 - (C/K)^{\nu}\right), \qquad
        C(t) = K\left[1 + \left((K/C_0)^{\nu} - 1\right) e^{-\nu g (t - t_0)}\right]^{-1/\nu}

    Inflection at :math:`C = K (1+\nu)^{-1/\nu}`; ``nu = 1`` is logistic.  Loop-model
    embedding: ``p = 1``, :math:`\lambda a = \beta`, ceiling ``K`` with shape ``nu``;
    efficiency fails where :math:`(C/K)^\nu = 1/2`.
    """

    name = "richards"
    ceiling = "K"
    title = "Richards"
    param_specs = (_C0, _g(), _K, ParamSpec("v", 0.0, math.inf, "", "shape of the ceiling (1 = logistic)"))
    embedding = "p = 1, lam*a = beta, ceiling K with shape nu = v: efficiency fails where (C/K)^v = 1/2"
    mechanism = "efficiency"

    @classmethod
    def define(cls, C, tau, level, C0, g, K, v):
        A = expm1(v * sp.log(K / C0))
        return Definition(
            ode=g * C * (1 - (C / K) ** v),
            solution=K * (1 + A * sp.exp(-v * g * tau)) ** (-1 / v),
            log_solution=sp.log(K) - log1p(A * sp.exp(-v * g * tau)) / v,
            inverse=sp.log(A / expm1(v * sp.log(K / level))) / (v * g),
            inflection_tau=sp.log(A / v) / (v * g),
        )

    def guess(self, tau, y):
        starts = []
        for v in (1.0, 0.3, 3.0):
            K, s, icpt = _sigmoid_grid(tau, y, lambda K, x, v=v: np.log((K / x) ** v - 1), _FACTORS)
            # slope of ln((K/C)^v - 1) is -v g
            starts.append({"C0": K * (1 + math.exp(icpt)) ** (-1 / v), "g": s / v, "K": K, "v": v})
        return starts

    def loop_params(self, cols):
        return hold(cols["g"].size, g0=cols["g"], ceiling=cols["K"] / cols["C0"], nu=cols["v"])

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        return _ceiling_crossings(self, theta, t0, th)


@register
class Gompertz(ClosedFormModel):
    r"""Gompertz growth: exponential growth whose efficiency decays at rate ``g``.

    .. math::
        \frac{dC}{dt} = g\,C \ln\frac{K}{C}, \qquad
        C(t) = K \exp\!\left(\ln\frac{C_0}{K}\, e^{-g (t - t_0)}\right)

    Inflection at ``C = K/e``.  Loop-model embedding: ``p = 1``,
    :math:`\lambda a = \beta`, friction ``delta = g``; efficiency fails at
    :math:`t_0 + \ln 2 / g`.
    """

    name = "gompertz"
    ceiling = "K"
    title = "Gompertz"
    param_specs = (_C0, _g("rate at which growth efficiency decays, per year"), _K)
    embedding = "p = 1, lam*a = beta, delta = g: efficiency fails at t0 + ln2/g"
    mechanism = "efficiency"

    @classmethod
    def define(cls, C, tau, level, C0, g, K):
        L0 = sp.log(C0 / K)
        return Definition(
            ode=g * C * sp.log(K / C),
            solution=K * sp.exp(L0 * sp.exp(-g * tau)),
            log_solution=sp.log(K) + L0 * sp.exp(-g * tau),
            inverse=sp.log(L0 / sp.log(level / K)) / g,
            inflection_tau=sp.log(-L0) / g,
        )

    def guess(self, tau, y):
        K, g, icpt = _sigmoid_grid(tau, y, lambda K, v: np.log(np.log(K / v)), _FACTORS)
        return [{"C0": K * math.exp(-math.exp(icpt)), "g": g, "K": K}]

    def loop_params(self, cols):
        with np.errstate(divide="ignore", invalid="ignore"):
            g0 = cols["g"] * np.log(cols["K"] / cols["C0"])
        return hold(g0.size, g0=g0, delta=cols["g"])

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        g = self.columns(theta)["g"]
        tr = _at_start(np.full(theta.shape[0], 0.0 < th.rho_min), t0)
        te = t0 - np.log(th.eta_min) / g
        te = np.where(th.eta_min >= 1, float(t0), te)
        return Crossings(_none(theta), tr, te, _none(theta))


@register
class Amdahl(ClosedFormModel):
    r"""Amdahl-capped self-improvement loop.

    .. math::
        \frac{d\ell}{dt} = \frac{g_0}{(1-p) + p\,e^{-a \ell}}, \qquad \ell = \ln(C/C_0)

    The growth rate rises from :math:`g_0` and saturates at :math:`g_0/(1-p)`: the
    human share :math:`1-p` of the R&D loop caps the speed-up.  Separating variables,
    :math:`(1-p)\ell + (p/a)(1 - e^{-a\ell}) = g_0 (t-t_0)`, solved in closed form by
    the Wright omega function :math:`\omega(z) = W_0(e^z)`:

    .. math::
        \ell = \frac{c}{1-p} + \frac{1}{a}\,\omega\!\left(\ln\frac{p}{1-p} - \frac{a c}{1-p}\right),
        \qquad c = g_0 (t - t_0) - p/a.

    Loop-model embedding: ``beta = 0``, ``lam = 1``; closure fails where
    :math:`e^{a\ell} = p/(1-p)`.
    """

    name = "amdahl"
    title = "Amdahl-capped loop"
    param_specs = (
        _C0,
        ParamSpec("g0", 0.0, math.inf, "1/yr", "growth rate of ln C at t0"),
        ParamSpec("p", 0.0, 1.0, "", "automatable share of R&D work"),
        ParamSpec("a", 0.0, math.inf, "", "elasticity of AI research speed to capability"),
    )
    embedding = "beta = 0, lam = 1, p and a fitted: closure fails where e^(a l) = p/(1-p)"
    mechanism = "closure"

    @classmethod
    def define(cls, C, tau, level, C0, g0, p, a):
        q = 1 - p
        c = g0 * tau - p / a
        ell = c / q + wrightomega(sp.log(p / q) - a * c / q) / a
        L = sp.log(level / C0)
        return Definition(
            ode=C * g0 / (q + p * (C / C0) ** (-a)),
            solution=C0 * sp.exp(ell),
            log_solution=sp.log(C0) + ell,
            inverse=(q * L + (p / a) * (1 - sp.exp(-a * L))) / g0,
        )

    def lnC_theta(self, tau, theta):
        r"""The closed form, polished by one Newton step on the implicit equation.

        For ``p`` near 1 the closed form cancels two large terms; one step of
        Newton's method on :math:`(1-p)\ell + (p/a)(1 - e^{-a\ell}) = g_0\tau`
        restores full precision.
        """
        lnC = super().lnC_theta(tau, theta)
        C0, g0, p, a = theta
        with np.errstate(all="ignore"):
            ell = lnC - np.log(C0)
            e = np.exp(-a * ell)
            F = (1 - p) * ell + (p / a) * (1 - e) - g0 * np.asarray(tau)
            step = F / ((1 - p) + p * e)
            ell = np.where(np.isfinite(step), ell - step, ell)
        return ell + np.log(C0)

    def guess(self, tau, y):
        ly = np.log(y)
        r1, r2, m1, m2 = _half_rates(tau, ly)
        g_exp, c = _loglinear(tau, ly)
        g_exp = _positive_rate(g_exp, tau, ly)
        lspan = max(float(np.ptp(ly)), 1e-3)
        starts = []
        if r1 > 0 and r2 > r1:
            p = float(np.clip(1 - r1 / r2, 0.05, 0.95))
            starts.append({"C0": math.exp(ly[0]), "g0": r1, "p": p, "a": 2.0 / lspan})
        for p, a in ((0.5, 1.0 / lspan), (0.9, 4.0 / lspan)):
            starts.append({"C0": math.exp(c), "g0": g_exp * (1 - p / 2), "p": p, "a": a})
        return starts

    def fast_value(self, log):
        # the Newton-polished ln C above, not the bare closed form
        return self.lnC_theta if log else super().fast_value(log)

    def loop_params(self, cols):
        return hold(cols["g0"].size, g0=cols["g0"], p=cols["p"], a=cols["a"])

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        c = self.columns(theta)
        p, a, g0 = c["p"], c["a"], c["g0"]
        n = theta.shape[0]
        t0a = np.full(n, float(t0))

        def l_of_kappa(k):
            with np.errstate(divide="ignore", invalid="ignore"):
                return loopmath.closure_level(k, p, a)

        def t_of_l(lv):
            with np.errstate(all="ignore"):
                return t0 + ((1 - p) * lv + (p / a) * (1 - np.exp(-a * lv))) / g0

        lk = l_of_kappa(th.kappa_min)
        tk = np.where(lk <= 0, t0a, t_of_l(lk))
        if th.kappa_min >= 1:
            tk = np.where(p < 1, t0a, np.nan)
        # rho = a kappa(l) decreases from a p... kappa(0) = 1, so rho(0) = a
        if th.rho_min <= 0:
            tr = _none(theta)
        else:
            kr = th.rho_min / a
            lr = np.where(kr < 1, l_of_kappa(np.minimum(kr, 1)), 0.0)
            tr = np.where(kr >= 1, t0a, np.where(lr <= 0, t0a, t_of_l(lr)))
        return Crossings(tk, tr, _none(theta), _none(theta))
