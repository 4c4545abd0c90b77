"""Profile likelihood on a finished fit: :func:`profile` for any parameter, and
:func:`break_date`, the interval of a breakpoint model's break date.

A profile holds one parameter at each value of a grid and refits the others (and the extra
scatter, when the fit estimated one) by the same fitter and likelihood as the fit itself
(:func:`lsi.fit`); inverting the likelihood-ratio test gives an interval that needs no
smoothness of the likelihood in that parameter, which a break date lacks.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .exceptions import ParameterValueError
from .fitting import fit as _fit
from .intervals import Interval, quantile, wald

if TYPE_CHECKING:  # pragma: no cover
    from .results import FitResult

__all__ = ["profile", "profile_break", "break_date"]


def profile(fit: FitResult, name: str, values: np.ndarray) -> np.ndarray:
    """Profile log-likelihood of parameter ``name`` of a fit at each of ``values``.

    At each value the parameter is held fixed and the model's other free parameters
    (and the extra scatter, when the fit estimated one) are refitted, warm-started at
    the fit.  Values at which the refit fails get ``-inf``.

    Parameters
    ----------
    fit : FitResult
    name : str
        One of the model's free parameters.
    values : array-like
        Values of that parameter (in its own units).

    Returns
    -------
    ndarray
        The maximised log-likelihood at each value.
    """
    fit.model.spec(name)
    if name not in fit.free:
        raise ParameterValueError(f"{fit.model.name}.{name} was not varied in this fit; profile a free parameter")
    values = np.asarray(values, dtype=float).reshape(-1)
    names = fit.model.param_names
    base = dict(zip(names, fit.theta, strict=True))
    fixed = {k: float(v) for k, v, vary in zip(names, fit.theta, fit.vary, strict=True) if not vary}
    scatter = fit.extra_scatter is not None
    ll = np.full(values.size, -np.inf)
    for i, v in enumerate(values):
        params: dict[str, object] = {k: {"value": float(x)} for k, x in base.items() if k != name and k not in fixed}
        params.update(fixed)
        params[name] = float(v)
        try:
            r = _fit(
                fit.series,
                fit.model,
                noise=fit.noise,
                t0=fit.t0,
                params={fit.model.name: params},
                level=fit.level,
                extra_scatter=scatter,
                warn=False,
            )[fit.model.name]
        except (ValueError, ArithmeticError):
            continue
        ll[i] = r.loglik
    return ll


def _check_fit(fit: FitResult) -> None:
    if fit.model.name != "breakpoint":
        raise ParameterValueError(
            f"break_date needs a fit of the 'breakpoint' model; got {fit.model.name!r} (use fits['breakpoint'])"
        )


def profile_break(fit: FitResult, grid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Profile log-likelihood of the break date.

    At each break date on ``grid`` (decimal years; default 121 points spanning the
    data, plus the fitted break) the other parameters (and the extra scatter, when
    the fit estimated one) are refitted with the break held fixed, by the same
    fitter and likelihood as the fit itself.

    Parameters
    ----------
    fit : FitResult
        A fit of the ``breakpoint`` model.
    grid : array-like, optional
        Break dates to profile (decimal years, strictly after the fit's ``t0``).

    Returns
    -------
    dates, loglik : ndarray
        The break dates (sorted) and the maximised log-likelihood at each.

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.linspace(2020, 2026, 25)
    >>> lnC = np.where(t < 2023.1, 0.5 * (t - 2020), 1.55 + 1.5 * (t - 2023.1))
    >>> y = np.exp(lnC + np.random.default_rng(0).normal(0, 0.1, 25))
    >>> f = lsi.fit(lsi.Series(t, y), "breakpoint", noise="log")["breakpoint"]
    >>> dates, ll = profile_break(f)
    >>> bool(abs(dates[np.argmax(ll)] - 2023.1) < 0.3)
    True
    """
    _check_fit(fit)
    t = fit.series.t
    t_lo = max(float(t[0]), fit.t0)
    span = float(t[-1]) - t_lo
    if grid is None:
        eps = 1e-6 * max(span, 1e-9)
        grid = np.union1d(np.linspace(t_lo + eps, float(t[-1]), 121), [fit.t0 + float(fit.theta[3])])
    dates = np.sort(np.asarray(grid, dtype=float).reshape(-1))
    if np.any(dates <= fit.t0):
        raise ParameterValueError(f"break dates must lie after t0 = {fit.t0:.3f}; the grid starts at {dates[0]:.3f}")
    ll = profile(fit, "tb", dates - fit.t0)
    return dates, ll


def break_date(
    fit: FitResult, level: float | None = None, *, method: str = "profile", grid: np.ndarray | None = None
) -> Interval:
    """Date of the break of a fitted ``breakpoint`` model, with an interval.

    ``method="profile"`` (default) inverts the likelihood-ratio test: the interval
    holds every break date whose profile log-likelihood lies within
    ``chi2_1(level) / 2`` of the maximum (the ends refined by root finding between
    grid points; the hull when that set has gaps).  An end reaching the data's first
    or last observation is reported as unbounded (None): the data then cannot rule
    out a break at (or beyond) the edge, i.e. no break at all.  Change points are
    not regular parameters, so the chi-square calibration is approximate; it is still
    far more honest than ``method="wald"``, the symmetric interval from the
    covariance (None bounds when the covariance is unavailable).

    Parameters
    ----------
    fit : FitResult
        A fit of the ``breakpoint`` model (``fits["breakpoint"]``).
    level : float, optional
        Confidence level (default the fit's).
    method : {"profile", "wald"}
    grid : array-like, optional
        Break dates for the profile (see :func:`profile_break`).

    Returns
    -------
    Interval
        ``value`` is the fitted break date (decimal year).

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.linspace(2020, 2026, 25)
    >>> lnC = np.where(t < 2023.1, 0.5 * (t - 2020), 1.55 + 1.5 * (t - 2023.1))
    >>> y = np.exp(lnC + np.random.default_rng(0).normal(0, 0.1, 25))
    >>> f = lsi.fit(lsi.Series(t, y), "breakpoint", noise="log")["breakpoint"]
    >>> iv = break_date(f, 0.95)
    >>> bool(iv.lower < 2023.1 < iv.upper)
    True
    """
    _check_fit(fit)
    level = fit.level if level is None else float(level)
    if not 0 < level < 1:
        raise ParameterValueError(f"level = {level!r} must lie in (0, 1), e.g. 0.95")
    value = fit.t0 + float(fit.theta[3])
    if method == "wald":
        p = fit.params["tb"]
        se = math.nan if p.stderr is None else float(p.stderr)
        q = quantile(level, None if fit.sigma_known else fit.dof)
        return wald(value, se, q, level)
    if method != "profile":
        raise ParameterValueError(f"method = {method!r}; choose 'profile' or 'wald'")
    from scipy import optimize, stats

    dates, ll = profile_break(fit, grid)
    top = max(float(np.max(ll)), fit.loglik)
    cut = top - 0.5 * float(stats.chi2.ppf(level, 1))
    inside = ll >= cut
    if not inside.any():  # pragma: no cover - the fitted break is on the grid
        return Interval(value, None, None, level)
    i_lo, i_hi = int(np.flatnonzero(inside)[0]), int(np.flatnonzero(inside)[-1])

    def refine(i_out: int, i_in: int) -> float:
        """The crossing of the cut between an outside and an inside grid point."""
        a, b = dates[i_out], dates[i_in]
        if not np.isfinite(ll[i_out]):
            return float(b)

        def h(d: float) -> float:
            _, v = profile_break(fit, np.array([d]))
            return float(v[0]) - cut if np.isfinite(v[0]) else -1.0

        try:
            return float(optimize.brentq(h, a, b, xtol=1e-4 * max(abs(b - a), 1e-9)))
        except ValueError:
            return float(b)

    lower = None if i_lo == 0 else refine(i_lo - 1, i_lo)
    upper = None if i_hi == dates.size - 1 else refine(i_hi + 1, i_hi)
    return Interval(value, lower, upper, level)
