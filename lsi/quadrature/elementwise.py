r"""The elementwise functions of :mod:`lsi.quadrature`: the diagnostics, the integrand, and
:math:`\tau`, :math:`t(l)`, :math:`l(t)` and :math:`\eta` at given levels or times.

Each broadcasts its arguments with the loop-model parameters (:data:`~.validation.PARAMS`,
defaults filled in) and returns an array of the broadcast shape.  :math:`\tau` and its
inverse are computed by the numpy engine's march (:mod:`.march`), or in closed form where
one exists (:mod:`.maps`); the factors are those of :mod:`lsi.loopmath`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import loopmath
from .cells import Cells
from .maps import level_closed_form, tau_closed_form
from .march import ceiling_first, march, psi, x_of_y, y_of_x
from .panels import DEFAULT_CHUNK
from .validation import prepare

__all__ = ["kappa", "rho", "integrand", "tau", "tau_infinity", "time_at", "lnC_at", "eta"]


def kappa(l: Any, p: Any, a: Any) -> np.ndarray:
    r"""Closure of the loop, :math:`\kappa(l) = p e^{-a l} / ((1-p) + p e^{-a l})`.

    :math:`\kappa = d\ln S / d\ln m` is the share of the R&D cycle's time that the AI part
    takes; the loop is closed while :math:`\kappa \ge 1/2` (Amdahl's knee).  It equals ``p``
    at ``l = 0``, is constant when ``p`` is 0 or 1 or ``a = 0``, and otherwise falls
    strictly to 0 (:func:`lsi.loopmath.closure`).

    Parameters
    ----------
    l : array_like
        Log capability :math:`\ln(C/C_0)`.
    p, a : array_like
        Automatable share and research-speed elasticity; broadcast with ``l``.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> float(kappa(0.0, 0.8, 1.0))
    0.8
    >>> round(float(kappa(np.log(4.0), 0.8, 1.0)), 12)  # e^{a l} = p/(1-p): the knee
    0.5
    """
    x, p, a = (np.asarray(v, dtype=float) for v in (l, p, a))
    with np.errstate(all="ignore"):
        return loopmath.closure(x, p, a)


def rho(l: Any, p: Any, a: Any, lam: Any, beta: Any, gamma: Any) -> np.ndarray:
    r"""Returns to capability, :math:`\rho(l) = \lambda a \kappa(l) - \beta (1 + \gamma l)`.

    :math:`\rho = d \ln(S^\lambda / D)/dl`: positive while each doubling comes faster than
    the last (friction aside).  With ``p = 1`` it is the takeoff exponent
    :math:`\lambda a - \beta` (:func:`lsi.loopmath.returns`).

    Examples
    --------
    >>> float(rho(0.0, 1.0, 1.0, 1.0, 0.4, 0.0))
    0.6
    """
    x, p, a, lam, beta, gamma = (np.asarray(v, dtype=float) for v in (l, p, a, lam, beta, gamma))
    return loopmath.returns_from_closure(kappa(x, p, a), x, a, lam, beta, gamma)


def _elementwise(l_like: Any, params: Mapping[str, Any], invalid: str, extra=None):
    arrs, bad = prepare(params, invalid, {"__l": l_like, **(extra or {})})
    shape = bad.shape
    flat = {k: np.ascontiguousarray(v).reshape(-1) for k, v in arrs.items()}
    return flat, bad.reshape(-1), shape


def integrand(l: Any, *, invalid: str = "raise", **params: Any) -> np.ndarray:  # noqa: E741
    r"""The integrand :math:`d\tau/dl = D(l) / (g_0 S(l)^\lambda F(l))`.

    It is :math:`1/(dl/dt)` at :math:`E = 1`: years per unit of log capability.  It is
    ``+inf`` at and above the ceiling (:math:`F = 0`).

    Parameters
    ----------
    l : array_like
        Log capability; broadcast with the parameters.
    invalid : {"raise", "nan"}
        What to do with parameter values outside their ranges: raise
        :class:`~lsi.exceptions.ParameterValueError`, or return NaN in those cells.
    **params
        Loop-model parameters (see :data:`~lsi.quadrature.PARAMS`, :data:`~lsi.quadrature.DEFAULTS`).

    Examples
    --------
    >>> float(integrand(0.0, g0=2.0, a=1.0))
    0.5
    """
    flat, bad, shape = _elementwise(l, params, invalid)
    x = flat["__l"]
    with np.errstate(all="ignore"):
        m = Cells.from_columns(flat)
        lnh = psi(m, x[:, None], slice(None))[:, 0]
        f = loopmath.ceiling_factor_from_log(x, m.L, m.nu)
        out = np.where(f > 0, np.exp(lnh) / f, np.inf)
    out[bad | np.isnan(x)] = np.nan
    return out.reshape(shape)


def _chunked(fun: Callable, n: int, *args: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fun(m_sub, *args_sub) -> (values, fail)`` over chunks of DEFAULT_CHUNK cells."""
    vals = np.full(n, np.nan)
    fail = np.zeros(n, dtype=bool)
    for i0 in range(0, n, DEFAULT_CHUNK):
        sl = slice(i0, min(n, i0 + DEFAULT_CHUNK))
        vals[sl], fail[sl] = fun(*(a[sl] for a in args))
    return vals, fail


def _tau_flat(x: np.ndarray, m: Cells) -> tuple[np.ndarray, np.ndarray]:
    """tau(x) for valid cells (1-D); returns (tau, numerical failure mask)."""
    out = np.full(m.n, np.nan)
    fail = np.zeros(m.n, dtype=bool)
    ok = x >= 0
    cf = m.cf & ok
    out[cf] = tau_closed_form(x[cf], m.c[cf], m.g0[cf])
    gen = ceiling_first(m, np.flatnonzero(~m.cf & ok))
    if gen.size:
        sub = m.take(gen)
        yv = y_of_x(sub, x[gen], slice(None))
        res = np.full(gen.size, np.inf)
        idx = np.flatnonzero(np.isfinite(yv))

        def run(ii):
            s2 = sub.take(ii)
            r = march(s2, yv[ii], np.full(ii.size, np.inf), yq=yv[ii][:, None])
            return r["tau_yq"][:, 0], r["fail"]

        if idx.size:
            res[idx], f = _chunked(run, idx.size, idx)
            fail[gen[idx[f]]] = True
        out[gen] = res
    return out, fail


def tau(l: Any, *, invalid: str = "raise", **params: Any) -> np.ndarray:  # noqa: E741
    r"""Friction-free time to reach a level, :math:`\tau(l) = \int_0^l D/(g_0 S^\lambda F)\,dx`.

    Computed by the regularised Chebyshev-panel quadrature described in
    :mod:`lsi.quadrature` (closed form when ``p = 1``, no ceiling and ``beta * gamma = 0``).

    Parameters
    ----------
    l : array_like
        Log capability :math:`l \ge 0` (NaN for ``l < 0``: the model starts at ``l = 0``).
    invalid : {"raise", "nan"}
        Raise on parameters outside their ranges, or return NaN in those cells.
    **params
        Loop-model parameters, broadcast with ``l``.

    Returns
    -------
    numpy.ndarray
        :math:`\tau(l)`; ``+inf`` at and above the ceiling :math:`\ln K`, and for
        ``l = inf`` unless :math:`\tau(\infty)` is finite (:func:`tau_infinity`).

    Examples
    --------
    >>> float(tau(1.0, g0=0.5, a=1.0, beta=1.0))  # exponential: tau = l / g0
    2.0
    """
    flat, bad, shape = _elementwise(l, params, invalid)
    x = flat["__l"]
    with np.errstate(all="ignore"):
        out = np.full(x.shape, np.nan)
        good = np.flatnonzero(~bad & ~np.isnan(x))
        if good.size:
            m = Cells.from_columns(flat, good)
            val, fail = _tau_flat(x[good], m)
            val[fail] = np.nan
            out[good] = val
    return out.reshape(shape)


def tau_infinity(*, invalid: str = "raise", **params: Any) -> np.ndarray:
    r""":math:`\tau(\infty)`: finite only for a finite-time singularity.

    :math:`\tau(\infty) = 1/(g_0 (\lambda a - \beta))` when ``p = 1``, ``ceiling = inf``,
    :math:`\beta\gamma = 0` and :math:`\lambda a > \beta`; ``+inf`` otherwise (with ``p < 1``
    the integrand tends to a positive constant or grows; a finite ceiling makes it diverge
    like :math:`1/(\nu(\ln K - x))`; :math:`\beta\gamma > 0` makes it grow like a Gaussian).

    Examples
    --------
    >>> float(tau_infinity(g0=1.0, a=1.0, beta=0.5))
    2.0
    """
    arrs, bad = prepare(params, invalid)
    with np.errstate(all="ignore"):
        c = arrs["lam"] * arrs["a"] - arrs["beta"]
        sing = (arrs["p"] == 1) & np.isinf(arrs["ceiling"]) & (arrs["beta"] * arrs["gamma"] == 0) & (c > 0)
        out = np.where(sing, 1.0 / (arrs["g0"] * c), np.inf)
    return np.where(bad, np.nan, out)[()]


def time_at(l: Any, t0: Any, *, invalid: str = "raise", **params: Any) -> np.ndarray:  # noqa: E741
    r"""Time at which the trajectory reaches level :math:`l`.

    .. math:: t(l) = t_0 - \ln(1 - \delta \tau(l))/\delta \quad (t_0 + \tau(l),\ \delta = 0).

    Returns
    -------
    numpy.ndarray
        ``t(l)``; **NaN** where the level is never reached in finite time: at or above the
        ceiling, at or above the friction limit (:math:`\delta\tau(l) \ge 1`), or ``l < 0``.
        For ``l = inf`` it is the singularity time where one exists, else NaN.

    Examples
    --------
    >>> float(time_at(np.log(2.0), 2020.0, g0=np.log(2.0), a=1.0, beta=1.0))
    2021.0
    """
    flat, bad, shape = _elementwise(l, params, invalid, {"__t0": t0})
    x = flat["__l"]
    with np.errstate(all="ignore"):
        out = np.full(x.shape, np.nan)
        good = np.flatnonzero(~bad & ~np.isnan(x) & np.isfinite(flat["__t0"]))
        if good.size:
            m = Cells.from_columns(flat, good)
            val, fail = _tau_flat(x[good], m)
            val[fail] = np.nan
            out[good] = flat["__t0"][good] + loopmath.elapsed_time(val, m.delta)
    return out.reshape(shape)


def lnC_at(t: Any, t0: Any, *, invalid: str = "raise", **params: Any) -> np.ndarray:
    r"""Log capability :math:`l(t) = \ln(C(t)/C_0)` (the inverse of :func:`time_at`).

    Solves :math:`\tau(l) = \int_{t_0}^t E = (1 - e^{-\delta(t-t_0)})/\delta` for :math:`l`.

    Returns
    -------
    numpy.ndarray
        ``l(t)``; ``+inf`` at and after a finite-time singularity; NaN for ``t < t0`` (the
        model starts at ``t0``).  ``t = inf`` gives the limit: the friction limit
        :math:`l_{max}` when :math:`\delta > 0`, else the ceiling :math:`\ln K` (or ``inf``).

    Examples
    --------
    >>> round(float(lnC_at(2021.0, 2020.0, g0=1.0, a=0.0)), 12)  # exponential growth
    1.0
    """
    flat, bad, shape = _elementwise(t, params, invalid, {"__t0": t0})
    tt = flat["__l"]
    with np.errstate(all="ignore"):
        out = np.full(tt.shape, np.nan)
        good = np.flatnonzero(~bad & ~np.isnan(tt) & np.isfinite(flat["__t0"]))
        if good.size:
            m = Cells.from_columns(flat, good)
            ttau = loopmath.friction_free_time(tt[good] - flat["__t0"][good], m.delta)
            val, fail = _l_of_tau_flat(ttau, m)
            val[fail] = np.nan
            out[good] = val
    return out.reshape(shape)


def _l_of_tau_flat(ttau: np.ndarray, m: Cells) -> tuple[np.ndarray, np.ndarray]:
    """l with tau(l) = ttau for valid cells (1-D); returns (l, numerical failure mask)."""
    out = np.full(m.n, np.nan)
    fail = np.zeros(m.n, dtype=bool)
    ok = ttau >= 0
    cf = m.cf & ok
    out[cf] = level_closed_form(ttau[cf], m.c[cf], m.g0[cf])
    gen = ~m.cf & ok
    lim = gen & np.isinf(ttau)
    out[lim] = np.where(m.fin, m.L, np.inf)[lim]
    idx = ceiling_first(m, np.flatnonzero(gen & np.isfinite(ttau)))

    def run(ii):
        sub = m.take(ii)
        r = march(sub, np.full(ii.size, np.inf), ttau[ii], tq=ttau[ii][:, None])
        xv, _ = x_of_y(sub, r["y_tq"], slice(None))
        return xv[:, 0], r["fail"]

    if idx.size:
        out[idx], f = _chunked(run, idx.size, idx)
        fail[idx[f]] = True
    return out, fail


def eta(
    l: Any,  # noqa: E741 - l is ln(C/C0), as in the design notes
    t0: Any = None,
    *,
    invalid: str = "raise",
    **params: Any,
) -> np.ndarray:
    r"""Efficiency along the trajectory at level :math:`l`: :math:`\eta = F(l)(1-\delta\tau(l))`.

    :math:`\eta = F(l) E(t(l))` and :math:`E(t(l)) = 1 - \delta \tau(l)`, so the value
    depends on the level alone; ``t0`` is accepted for symmetry with :func:`time_at` and
    does not change the result.

    Returns
    -------
    numpy.ndarray
        :math:`\eta`; NaN where the level is never reached (at or above the ceiling or the
        friction limit) or ``l < 0``.

    Examples
    --------
    >>> round(float(eta(np.log(5.0), g0=1.0, a=1.0, beta=1.0, ceiling=10.0)), 12)  # 1 - 5/10
    0.5
    """
    flat, bad, shape = _elementwise(l, params, invalid)
    x = flat["__l"]
    with np.errstate(all="ignore"):
        out = np.full(x.shape, np.nan)
        good = np.flatnonzero(~bad & ~np.isnan(x))
        if good.size:
            m = Cells.from_columns(flat, good)
            val, fail = _tau_flat(x[good], m)
            f = loopmath.ceiling_factor_from_log(x[good], m.L, m.nu)
            e = 1.0 - m.delta * val
            res = np.where((e > 0) & (f > 0) & np.isfinite(val), f * e, np.nan)
            res[fail] = np.nan
            out[good] = res
    return out.reshape(shape)
