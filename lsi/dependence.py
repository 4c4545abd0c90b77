"""Autocorrelated residuals: the check, and intervals that stay honest when the check fails.

A fit's default intervals (:meth:`lsi.results.FitResult.doubling_time`, ``singularity_time``,
the parameters' errors) assume independent errors.  On a long history the residuals of a
smooth trend are often correlated from one observation to the next, and the data then hold
fewer independent pieces of evidence than points: the default intervals are too narrow.

:func:`residual_check` tests the residuals of one fit (lag-1 autocorrelation, Durbin-Watson,
Ljung-Box).  :func:`intervals` gives, per model of a collection, the intervals of the
parameters, the doubling time at the last observation and the singularity date by a method
that accounts for the dependence, and records which method it used.

The methods (``method=``), each tried on simulated series with AR(1) noise
(``benchmarks/bench_dependence.py``; the coverage table is in the benchmark's output):

``"ar1"`` (what ``"auto"`` uses)
    AR(1) errors in the likelihood.  The whitened residuals, in time order, follow
    ``e_i = phi e_{i-1} + u_i``.  The model is refitted by generalised least squares (the
    Prais-Winsten transform of the residuals, the first observation kept) at the ``phi`` of
    restricted maximum likelihood (REML, on the model linearised at the fit; plain maximum
    likelihood underestimates ``phi`` on a short series with a fitted trend), alternating the
    two until they agree.  The intervals do not condition on that ``phi``: its uncertainty is
    integrated out, the delta-method distributions at each ``phi`` of a grid weighted by the
    REML likelihood under the prior ``(1 - phi^2)^(-1/4)`` (between a flat prior, which
    under-covers at ``rho = 0.9``, and the AR(1) reference prior ``(1 - phi^2)^(-1/2)``,
    which over-covers at ``rho = 0.5``).  Inverse quantities (doubling times, singularity
    dates) come from the interval of their rate, as everywhere in ``lsi``.
``"ar1-plugin"``
    The same GLS fit, intervals at the REML ``phi`` alone.
``"ar1-ols"``
    The original fit kept, its covariance recomputed under the REML AR(1) errors (a
    sandwich).
``"hac"``
    The original fit kept, with a Newey-West covariance (Bartlett kernel, Andrews's AR(1)
    plug-in bandwidth).
``"block"``
    The moving-block bootstrap of cases (:func:`lsi.bootstrap.bootstrap` with
    ``scheme="block"``), the block length from the lag-1 autocorrelation of the residuals
    (:func:`block_length_rule`), percentile intervals.
``"sieve"``
    The prewhitened residual bootstrap: the AR(1) innovations (REML ``phi``) resampled,
    recoloured, added to the fitted curve and refitted; percentile intervals.
``"independent"``
    The fit's own intervals (independent errors).
``"pretest"``
    ``"ar1"`` where :func:`residual_check` finds autocorrelation, else ``"independent"``.
``"auto"`` (the default)
    :data:`DEFAULT_METHOD` for every converged model, whatever the check says.  The check has
    little power on short series (it flags about half of 40-point series with ``rho = 0.5``),
    and keeping the independent intervals when it stays silent under-covers; where the
    residuals are independent the AR(1) intervals stay close to the fit's own.

Every interval is for the parameters, the doubling time at the last observation and the
singularity date; a singularity date's interval never starts before the last observation
(the fitted curve is finite there).
Observations are taken in time order (ties in the order of the table); an AR(1) in that
order is the model of dependence whatever the spacing of the dates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import leastsq
from .exceptions import ParameterValueError, check_seed
from .intervals import Interval, inverse, quantile, wald
from .models.base import LN2

if TYPE_CHECKING:  # pragma: no cover
    from .results import FitCollection, FitResult

__all__ = [
    "ResidualCheck",
    "ModelIntervals",
    "DependenceIntervals",
    "residual_check",
    "residual_checks",
    "intervals",
    "whitened_residuals",
    "block_length_rule",
    "Coverage",
    "coverage",
    "simulate",
    "METHODS",
    "DEFAULT_METHOD",
]

#: every method :func:`intervals` knows
METHODS = ("auto", "independent", "ar1", "ar1-plugin", "ar1-ols", "hac", "block", "sieve", "pretest")
#: the method ``"auto"`` uses for autocorrelated residuals (chosen by coverage, see the module doc)
DEFAULT_METHOD = "ar1"
#: a singularity date of a bootstrap replicate beyond this year counts as none (unbounded)
_LAST_DATE = 10_000.0
#: fewest points for which the residuals are tested
MIN_POINTS = 8
#: significance level of the Ljung-Box test behind the verdict
ALPHA = 0.05
#: range searched for the AR(1) coefficient
_PHI_RANGE = (-0.95, 0.995)
#: the AR(1) coefficient is integrated out under the prior (1 - phi^2)^(-_PRIOR_POWER): 0 is flat,
#: 1/2 the reference prior of Berger & Yang (1994); 1/4 covers best (benchmarks/bench_dependence.py)
_PRIOR_POWER = 0.25


# ---------------------------------------------------------------- the residual check
@dataclass(frozen=True)
class ResidualCheck:
    """Tests of a fit's whitened residuals, in time order, for autocorrelation.

    Attributes
    ----------
    model : str
    n : int
        Points tested.
    lag1 : float
        Lag-1 autocorrelation of the residuals (NaN when not tested).
    durbin_watson : float
        ``sum (e_i - e_{i-1})^2 / sum e_i^2``: about ``2 (1 - lag1)``; 2 for independent
        residuals, towards 0 for positively correlated ones.
    ljung_box : float
        The Ljung-Box statistic ``Q = n (n + 2) sum_k r_k^2 / (n - k)`` over ``lags`` lags.
    lags : int
    p_value : float
        Of ``Q`` against chi-square with ``lags`` degrees of freedom.
    autocorrelated : bool
        ``p_value < alpha`` (False when not tested).
    verdict : str
        One plain sentence.
    """

    model: str
    n: int
    lag1: float
    durbin_watson: float
    ljung_box: float
    lags: int
    p_value: float
    autocorrelated: bool
    verdict: str
    alpha: float = ALPHA

    @property
    def tested(self) -> bool:
        return math.isfinite(self.p_value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "n": self.n,
            "lag1": _num(self.lag1),
            "durbin_watson": _num(self.durbin_watson),
            "ljung_box": _num(self.ljung_box),
            "ljung_box_lags": self.lags,
            "p_value": _num(self.p_value),
            "alpha": self.alpha,
            "autocorrelated": bool(self.autocorrelated),
            "verdict": self.verdict,
        }


def whitened_residuals(fit: FitResult) -> np.ndarray:
    """The fit's residuals in the noise model's space, in time order, divided by their standard
    deviation: the per-point uncertainties (with the extra scatter in quadrature) when the
    series has them, else the fitted noise scale."""
    z, w = _data(fit)
    e = w * (z - _predict(fit, fit.theta))
    if not fit.sigma_known:
        dof = max(fit.dof, 1)
        s = math.sqrt(float(np.sum(e**2)) / dof)
        if s > 0:
            e = e / s
    return e


def residual_check(fit: FitResult, *, lags: int | None = None, alpha: float = ALPHA) -> ResidualCheck:
    """Test one fit's residuals for autocorrelation: lag-1 autocorrelation, Durbin-Watson and
    Ljung-Box.

    Parameters
    ----------
    fit : FitResult
        Any model, any noise model, with or without per-point uncertainties (the residuals
        are whitened by them).
    lags : int, optional
        Lags of the Ljung-Box test (default ``min(10, n // 5)``, at least 1).
    alpha : float
        The test's level: the verdict says "autocorrelated" when its p-value is below it.

    Returns
    -------
    ResidualCheck

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.arange(2000.0, 2040.0)
    >>> e = np.zeros(40)
    >>> u = np.random.default_rng(1).normal(0, 0.1, 40)
    >>> for i in range(1, 40):
    ...     e[i] = 0.9 * e[i - 1] + u[i]
    >>> fits = lsi.fit(lsi.Series(t, np.exp(0.3 * (t - 2000) + e)), models="exponential", noise="log")
    >>> check = lsi.dependence.residual_check(fits["exponential"])
    >>> check.autocorrelated, check.verdict.split(" (")[0]
    (True, 'autocorrelated residuals')
    """
    name = fit.name
    if not 0 < alpha < 1:
        raise ParameterValueError(f"alpha = {alpha!r} must lie in (0, 1), e.g. 0.05")
    e = whitened_residuals(fit)
    n = int(e.size)
    if n < MIN_POINTS or not np.all(np.isfinite(e)):
        why = f"{n} points" if n < MIN_POINTS else "residuals that are not finite"
        return ResidualCheck(
            name, n, math.nan, math.nan, math.nan, 0, math.nan, False, f"not tested for autocorrelation ({why})", alpha
        )
    h = max(1, min(10, n // 5)) if lags is None else int(lags)
    if not 1 <= h < n:
        raise ParameterValueError(f"lags = {lags!r}; give between 1 and {n - 1} (the points less one)")
    ss = float(np.sum(e**2))
    if ss <= 0:
        return ResidualCheck(
            name, n, math.nan, math.nan, math.nan, h, math.nan, False, "not tested for autocorrelation (an exact fit)"
        )
    dw = float(np.sum(np.diff(e) ** 2)) / ss
    r = _acf(e, h)
    q = float(n * (n + 2) * np.sum(r**2 / (n - np.arange(1, h + 1))))
    from scipy import stats

    p = float(stats.chi2.sf(q, h))
    auto = p < alpha
    p_text = "p < 0.001" if p < 0.001 else f"p = {p:.2g}"
    numbers = f"lag-1 r = {r[0]:.2f}, Durbin-Watson {dw:.2f}, Ljung-Box {p_text} over {h} lag{'s' * (h > 1)}"
    verdict = f"autocorrelated residuals ({numbers})" if auto else f"no evidence of autocorrelation ({numbers})"
    return ResidualCheck(name, n, float(r[0]), dw, q, h, p, auto, verdict, alpha)


def residual_checks(fits: FitCollection, **kw: Any) -> dict[str, ResidualCheck]:
    """:func:`residual_check` of every converged model of a collection."""
    return {name: residual_check(r, **kw) for name, r in fits.items() if r.converged}


def _acf(e: np.ndarray, h: int) -> np.ndarray:
    """Autocorrelations at lags 1..h (mean removed, the usual biased estimator)."""
    d = e - e.mean()
    den = float(np.sum(d**2))
    return np.array([float(np.sum(d[k:] * d[:-k])) / den for k in range(1, h + 1)])


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class ModelIntervals:
    """One model's intervals by one method.

    Attributes
    ----------
    model : str
    method : str
        The method used (one of :data:`METHODS` other than ``"auto"`` and ``"pretest"``), or
        ``"none"`` for a model that did not converge (its intervals are then empty).
    check : ResidualCheck
    params : dict of str -> Interval
        The varied parameters.
    doubling_time : Interval
        Of C at the last observation, in years.
    singularity_time : Interval or None
        For models with a singularity.
    phi : float or None
        The AR(1) coefficient used (``ar1``, ``ar1-ols``, ``sieve``, ``block``: the one behind
        the block length).
    block_length : int or None
    n_boot : int or None
        Bootstrap replicates that converged (bootstrap methods).
    note : str
    """

    model: str
    method: str
    check: ResidualCheck
    params: dict[str, Interval]
    doubling_time: Interval
    singularity_time: Interval | None
    level: float
    phi: float | None = None
    block_length: int | None = None
    n_boot: int | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "method": self.method,
            "level": self.level,
            "phi": _num(self.phi),
            "block_length": self.block_length,
            "n_boot": self.n_boot,
            "note": self.note,
            "autocorrelation": self.check.to_dict(),
            "params": {k: v.to_dict() for k, v in self.params.items()},
            "doubling_time": self.doubling_time.to_days(),
            "singularity_time": None
            if self.singularity_time is None
            else self.singularity_time.to_dict(unit="decimal year"),
        }


@dataclass(frozen=True)
class DependenceIntervals:
    """Per model, intervals that account for autocorrelated residuals (:func:`intervals`).

    Attributes
    ----------
    requested : str
        The ``method`` asked for (``"auto"`` by default).
    default_method : str
        The method ``"auto"`` applies (:data:`DEFAULT_METHOD`).
    level : float
    models : dict of str -> ModelIntervals
    """

    requested: str
    default_method: str
    level: float
    models: dict[str, ModelIntervals] = field(default_factory=dict)

    def __getitem__(self, name: str) -> ModelIntervals:
        return self.models[name]

    @property
    def methods(self) -> dict[str, str]:
        """The method each model's intervals come from."""
        return {k: m.method for k, m in self.models.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "default_method": self.default_method,
            "level": self.level,
            "models": {k: m.to_dict() for k, m in self.models.items()},
        }


# ---------------------------------------------------------------- the entry point
def intervals(
    fits: FitCollection | FitResult,
    *,
    method: str = "auto",
    level: float | None = None,
    n_boot: int = 400,
    seed: int | None = 0,
    block_length: int | None = None,
    processes: int | None = None,
    models: list[str] | None = None,
) -> DependenceIntervals:
    """Intervals of each model's parameters, doubling time (at the last observation) and
    singularity date that account for autocorrelated residuals.

    Parameters
    ----------
    fits : FitCollection or FitResult
    method : str
        One of :data:`METHODS` (see the module doc).  ``"auto"`` applies
        :data:`DEFAULT_METHOD` (AR(1) errors) to every converged model; each model's
        :func:`residual_check` is recorded beside its intervals either way.
    level : float, optional
        Confidence level (default: the fits' own, 0.95 unless set in :func:`lsi.fit`).
    n_boot : int
        Replicates of the bootstrap methods.
    seed : int, optional
        Seed of the bootstrap methods.
    block_length : int, optional
        For ``method="block"``: the block length (default: the AR(1) plug-in rule).
    processes : int, optional
        Worker processes of the bootstrap methods.
    models : list of str, optional
        Only these models (default: all of the collection).

    Returns
    -------
    DependenceIntervals

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.arange(2000.0, 2040.0)
    >>> e = np.zeros(40)
    >>> u = np.random.default_rng(1).normal(0, 0.1, 40)
    >>> for i in range(1, 40):
    ...     e[i] = 0.9 * e[i - 1] + u[i]
    >>> fits = lsi.fit(lsi.Series(t, np.exp(0.3 * (t - 2000) + e)), models="exponential", noise="log")
    >>> iv = lsi.dependence.intervals(fits)
    >>> iv["exponential"].method
    'ar1'
    >>> wide, narrow = iv["exponential"].doubling_time, fits["exponential"].doubling_time()
    >>> (wide.upper - wide.lower) > 1.5 * (narrow.upper - narrow.lower)
    True
    """
    check_seed(seed)
    if method not in METHODS:
        raise ParameterValueError(f"method = {method!r}; choose from {', '.join(METHODS)}")
    from .results import FitCollection, FitResult

    if isinstance(fits, FitResult):
        coll = None
        results = {fits.name: fits}
    elif isinstance(fits, FitCollection):
        coll = fits
        results = dict(fits.items())
    else:
        raise ParameterValueError(f"intervals needs a FitCollection or FitResult; got {type(fits).__name__}")
    if models is not None:
        unknown = [m for m in models if m not in results]
        if unknown:
            raise ParameterValueError(f"no fit of {unknown[0]!r} here; fitted: {', '.join(results)}")
        results = {m: results[m] for m in models}
    lev = float(level) if level is not None else float(next(iter(results.values())).level)
    if not 0 < lev < 1:
        raise ParameterValueError(f"level = {level!r} must lie in (0, 1), e.g. 0.95")
    checks = {k: residual_check(r) for k, r in results.items()}
    chosen: dict[str, str] = {}
    for k, r in results.items():
        if not r.converged:
            chosen[k] = "none"
        elif method == "auto":
            chosen[k] = DEFAULT_METHOD
        elif method == "pretest":
            chosen[k] = "ar1" if checks[k].autocorrelated else "independent"
        else:
            chosen[k] = method
    out: dict[str, ModelIntervals] = {}
    boot_names = [k for k, m in chosen.items() if m == "block"]
    boot = None
    phis: dict[str, float] = {}
    if boot_names:
        boot, phis, length = _block_bootstrap(coll, results, boot_names, n_boot, seed, block_length, processes)
    for k, r in results.items():
        m = chosen[k]
        check = checks[k]
        if m == "none":
            out[k] = _independent(r, check, lev, method="none", note="did not converge: no intervals")
        elif m == "independent":
            out[k] = _independent(r, check, lev)
        elif m in ("ar1", "ar1-plugin", "ar1-ols", "hac"):
            out[k] = _covariance_method(r, check, lev, m)
        elif m == "block":
            assert boot is not None
            j = boot.models.index(k)
            th = boot.theta[k][boot.converged[:, j]]
            out[k] = _from_draws(r, check, lev, th, "block", phi=phis[k], block_length=length)
        else:  # sieve
            th, phi = _sieve(r, n_boot, seed, processes)
            out[k] = _from_draws(r, check, lev, th, "sieve", phi=phi)
    return DependenceIntervals(method, DEFAULT_METHOD, lev, out)


# ---------------------------------------------------------------- shared pieces
def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _data(fit: FitResult) -> tuple[np.ndarray, np.ndarray]:
    """The data in the noise model's space and the weights 1/sigma (ones without per-point
    uncertainties; the extra scatter in quadrature when it was estimated)."""
    z = fit.noise.transform(fit.series.y)
    sig = fit.noise.point_sigma(fit.series)
    if sig is None:
        return z, np.ones_like(z)
    if fit.extra_scatter:
        sig = np.sqrt(sig**2 + fit.extra_scatter**2)
    return z, 1.0 / sig


def _predict(fit: FitResult, theta: np.ndarray) -> np.ndarray:
    tau = fit.series.t - fit.t0
    if fit.noise.uses_log_capability:
        return fit.model.lnC_theta(tau, theta)
    return fit.model.C_theta(tau, theta)


def _prais_winsten(x: np.ndarray, phi: float) -> np.ndarray:
    """The AR(1) whitening along the last axis: ``sqrt(1 - phi^2) x_0``, ``x_i - phi x_{i-1}``."""
    out = np.empty_like(x)
    out[..., 0] = math.sqrt(1.0 - phi * phi) * x[..., 0]
    out[..., 1:] = x[..., 1:] - phi * x[..., :-1]
    return out


def _regular(fit: FitResult) -> list[int]:
    """Positions in ``fit.free`` of the free parameters that are not irregular (a break date)."""
    return [a for a, nm in enumerate(fit.free) if nm not in fit.model.irregular]


def _problem(fit: FitResult, theta: np.ndarray) -> tuple[leastsq.Problem, leastsq.Layout]:
    """The fit's least-squares problem, irregular and fixed parameters held at ``theta``."""
    model = fit.model
    held = {
        k: {"value": float(v), "vary": False}
        for k, v, vary in zip(model.param_names, theta, fit.vary, strict=True)
        if not vary or k in model.irregular
    }
    lay = leastsq.layout(model, held)
    z, w = _data(fit)
    prob = leastsq.Problem(
        model,
        fit.series.t - fit.t0,
        z,
        w,
        fit.noise.uses_log_capability,
        lay.free,
        lay.fixed.copy(),
        leastsq.Bounds(lay.lo[lay.free], lay.hi[lay.free]),
    )
    return prob, lay


def _jac(prob: leastsq.Problem, theta: np.ndarray) -> np.ndarray:
    """Whitened Jacobian of the prediction in the free parameters, shape (k, n)."""
    with np.errstate(all="ignore"):
        return prob.jac_theta(theta) * prob.w


def _inverse(A: np.ndarray) -> np.ndarray | None:
    """Inverse of a symmetric positive matrix, scaled for conditioning; None when singular."""
    d = np.sqrt(np.diag(A))
    if not np.all(np.isfinite(A)) or not np.all(d > 0):
        return None
    dd = np.outer(d, d)
    ev, V = np.linalg.eigh(A / dd)
    if ev[0] <= 1e-14 * ev[-1]:
        return None
    return (V / ev) @ V.T / dd


def _reml_profile(e: np.ndarray, X: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """The AR(1) model ``e = X' b + AR(1)`` (X of shape (k, n)) at each ``phi`` of ``grid``:
    the restricted log-likelihood ``-(n-k)/2 ln(S/(n-k)) + 1/2 ln(1-phi^2) - 1/2 ln det(X* X*')``
    (``*`` the Prais-Winsten transform, S the GLS residual sum of squares), the innovation
    variance ``S/(n-k)`` and the inverse of ``X* X*'`` (None where singular).

    The cross-products of the transformed ``[X; e]`` are quadratic in ``phi``: they are formed
    from four (k+1)-square matrices, for the whole grid at once.
    """
    n, k = e.size, X.shape[0]
    m = max(n - k, 1)
    Z = np.vstack([X, e[None, :]])
    full = Z @ Z.T
    first = np.outer(Z[:, 0], Z[:, 0])
    last = np.outer(Z[:, -1], Z[:, -1])
    cross = Z[:, 1:] @ Z[:, :-1].T
    cross = cross + cross.T
    p = np.asarray(grid, dtype=float)[:, None, None]
    M = (1 - p * p) * first + (full - first) - p * cross + p * p * (full - last)
    A, b, ee = M[:, :k, :k], M[:, :k, k], M[:, k, k]
    d = np.sqrt(np.abs(np.diagonal(A, axis1=1, axis2=2)))  # (G, k)
    ok = np.all(np.isfinite(A), axis=(1, 2)) & np.all(d > 0, axis=1)
    d = np.where(d > 0, d, 1.0)
    dd = d[:, :, None] * d[:, None, :]
    ev, V = np.linalg.eigh(np.where(np.isfinite(A), A, 0.0) / dd)
    ok &= ev[:, 0] > 1e-14 * ev[:, -1]
    ev = np.where(ev > 0, ev, np.inf)
    inv = np.einsum("gij,gj,gkj->gik", V, 1.0 / ev, V) / dd
    S = ee - np.einsum("gi,gij,gj->g", b, inv, b)
    ok &= S > 0
    with np.errstate(all="ignore"):
        logdet = np.sum(np.log(ev), axis=1) + 2 * np.sum(np.log(d), axis=1)
        ll = -0.5 * m * np.log(S / m) + 0.5 * np.log(1 - p[:, 0, 0] ** 2) - 0.5 * logdet
    ll = np.where(ok & np.isfinite(ll), ll, -np.inf)
    s2 = np.where(ok, S / m, np.nan)
    return ll, s2, [inv[j] if ok[j] else None for j in range(p.shape[0])]


def _reml_phi(e: np.ndarray, X: np.ndarray) -> tuple[float, float]:
    """REML estimate of the AR(1) coefficient of ``e = X' b + AR(1)`` and the innovation
    variance at it: the best point of a grid, polished by a bounded search."""
    from scipy import optimize

    grid = np.linspace(_PHI_RANGE[0], _PHI_RANGE[1], 200)
    ll, s2, _ = _reml_profile(e, X, grid)
    i = int(np.argmax(ll))
    if not np.isfinite(ll[i]):
        return 0.0, math.nan
    lo, hi = float(grid[max(i - 1, 0)]), float(grid[min(i + 1, grid.size - 1)])

    def neg(phi: float) -> float:
        return -float(_reml_profile(e, X, np.array([phi]))[0][0])

    res = optimize.minimize_scalar(neg, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    if np.isfinite(res.fun) and -res.fun >= ll[i]:
        phi = float(res.x)
        return phi, float(_reml_profile(e, X, np.array([phi]))[1][0])
    return float(grid[i]), float(s2[i])


def _gls(prob: leastsq.Problem, lay: leastsq.Layout, theta: np.ndarray, phi: float) -> np.ndarray:
    """The GLS fit under AR(1) errors with coefficient ``phi``, started from ``theta``."""
    from scipy import optimize

    free = lay.free
    u0 = prob.bounds.to_u(theta[free])
    if not np.all(np.isfinite(u0)):
        return theta

    def res(u: np.ndarray) -> np.ndarray:
        return _prais_winsten(prob.residuals(u), phi)

    def jac(u: np.ndarray) -> np.ndarray:
        return _prais_winsten(prob.jacobian(u), phi)

    with np.errstate(all="ignore"):
        u, _cov, info, _msg, ier = optimize.leastsq(
            res, u0, Dfun=jac, col_deriv=True, full_output=True, ftol=1e-12, xtol=1e-12, gtol=0.0, maxfev=200
        )
    if ier not in (1, 2, 3, 4) or not np.all(np.isfinite(info["fvec"])):
        return theta
    return prob.theta_of(u)


class _Spread:
    """Half-widths of intervals of smooth functions of the parameters (delta method): for a
    gradient ``g`` over the regular free parameters, the half-width ``c`` of a symmetric
    interval at ``level``.  One covariance gives ``q sqrt(g'Vg)``; several, weighted (the AR(1)
    coefficient integrated out), give the ``c`` at which the mixture of their t distributions
    holds ``level``."""

    def __init__(self, covs: list[np.ndarray], weights: np.ndarray, dof: int | None, level: float):
        self.covs = covs
        self.weights = np.asarray(weights, dtype=float) / float(np.sum(weights))
        self.dof = dof
        self.level = level
        self.q = quantile(level, dof)

    def half_width(self, g: np.ndarray) -> float:
        g = np.asarray(g, dtype=float)
        if not np.all(np.isfinite(g)):
            return math.nan
        var = np.array([float(g @ V @ g) for V in self.covs])
        if np.any(~np.isfinite(var)) or np.any(var < 0):
            return math.nan
        se = np.sqrt(var)
        if len(self.covs) == 1:
            return self.q * float(se[0])
        if not np.all(se > 0):
            return self.q * float(np.sum(self.weights * se))
        from scipy import optimize, special

        def cdf(x: np.ndarray) -> np.ndarray:
            return special.ndtr(x) if self.dof is None else special.stdtr(max(self.dof, 1), x)

        def gap(c: float) -> float:
            return float(np.sum(self.weights * (2 * cdf(c / se) - 1))) - self.level

        return float(optimize.brentq(gap, 0.0, 2 * self.q * float(se.max()), xtol=1e-10 * float(se.max())))


def _delta_intervals(
    fit: FitResult, theta: np.ndarray, spread: _Spread | None, level: float
) -> tuple[dict[str, Interval], Interval, Interval | None]:
    """Parameters, doubling time at the last observation and singularity date at ``theta``, with
    the half-widths of ``spread`` (none when it is None); inverse quantities from the interval of
    their rate, as :class:`lsi.results.FitResult` does."""
    model = fit.model
    reg = [model.param_names.index(nm) for nm in fit.free if nm not in model.irregular]
    params: dict[str, Interval] = {}
    for nm in fit.free:
        i = model.param_names.index(nm)
        v = float(theta[i])
        if spread is None or nm in model.irregular or not fit.identifiable:
            params[nm] = Interval(v, None, None, level)
        else:
            g = np.zeros(len(reg))
            g[reg.index(i)] = 1.0
            params[nm] = wald(v, spread.half_width(g), 1.0, level)

    def hw(grad_full: np.ndarray) -> float:
        return math.nan if spread is None else spread.half_width(np.asarray(grad_full, dtype=float).reshape(-1)[reg])

    tau = np.asarray(float(fit.series.t[-1]) - fit.t0)
    with np.errstate(all="ignore"):
        rate = float(model.rate_theta(tau, theta))
        dt = inverse(rate, hw(model.rate_grad_theta(tau, theta)), 1.0, level, numerator=LN2)
        ev = model.event_tau_theta("singularity", theta)
    if ev is None:
        return params, dt, None
    tau_s, grad = ev
    if not np.isfinite(tau_s) or tau_s <= 0:
        return params, dt, Interval(None, None, None, level)
    sing = inverse(1.0 / tau_s, hw(-grad / tau_s**2), 1.0, level, numerator=1.0, offset=fit.t0)
    return params, dt, _after_data(fit, sing)


def _after_data(fit: FitResult, sing: Interval) -> Interval:
    """A singularity date's interval with its lower end no earlier than the last observation
    (the fitted curve is finite there, so no singularity can come before it)."""
    t_last = float(fit.series.t[-1])
    if sing.lower is None or sing.value is None or sing.lower >= t_last:
        return sing
    return Interval(sing.value, t_last, sing.upper, sing.level)


# ---------------------------------------------------------------- the methods
def _independent(
    fit: FitResult, check: ResidualCheck, level: float, method: str = "independent", note: str = ""
) -> ModelIntervals:
    """The fit's own intervals (independent errors)."""
    spread = None
    if fit.covar is not None and method != "none":
        reg = _regular(fit)
        spread = _Spread([fit.covar[np.ix_(reg, reg)]], np.ones(1), None if fit.sigma_known else fit.dof, level)
    params, dt, sing = _delta_intervals(fit, fit.theta, spread, level)
    return ModelIntervals(fit.name, method, check, params, dt, sing, level, note=note)


def _covariance_method(fit: FitResult, check: ResidualCheck, level: float, method: str) -> ModelIntervals:
    """``ar1`` (GLS under AR(1) errors, the coefficient integrated out over its REML
    likelihood), ``ar1-plugin`` (GLS at the REML coefficient), ``ar1-ols`` (the fit, AR(1)
    sandwich) or ``hac`` (the fit, Newey-West)."""
    theta = np.array(fit.theta, dtype=float)
    if fit.covar is None or not _regular(fit):
        return _independent(fit, check, level, method, note="no covariance (parameters not identifiable)")
    prob, lay = _problem(fit, theta)
    z, w = _data(fit)
    n = z.size
    dof = max(n - len(_regular(fit)), 1)
    with np.errstate(all="ignore"):
        e = w * (z - prob.predict(theta))
        X = _jac(prob, theta)
        covs: list[np.ndarray] = []
        weights = np.ones(1)
        if method in ("ar1", "ar1-plugin"):
            phi, _ = _reml_phi(e, X)
            for _ in range(4):  # alternate: phi of the fit linearised at theta, theta by GLS at phi
                new = _gls(prob, lay, theta, phi)
                e = w * (z - prob.predict(new))
                X = _jac(prob, new)
                phi_new, _ = _reml_phi(e, X)
                done = abs(phi_new - phi) < 1e-3 and np.allclose(new, theta, rtol=1e-8, atol=0)
                theta, phi = new, phi_new
                if done:
                    break
            theta = _gls(prob, lay, theta, phi)
            e = w * (z - prob.predict(theta))
            X = _jac(prob, theta)
            if method == "ar1":
                grid = np.linspace(_PHI_RANGE[0], _PHI_RANGE[1], 80)
                ll, s2, invs = _reml_profile(e, X, grid)
                wt = np.exp(ll - np.max(ll)) * (1 - grid**2) ** (-_PRIOR_POWER)
                keep = [j for j in range(grid.size) if wt[j] > 1e-6 and invs[j] is not None]
                covs = [s2[j] * invs[j] for j in keep]
                weights = wt[keep]
            else:
                ll, s2, invs = _reml_profile(e, X, np.array([phi]))
                covs = [] if invs[0] is None else [s2[0] * invs[0]]
        elif method == "ar1-ols":
            phi, s2_ = _reml_phi(e, X)
            inv = _inverse(X @ X.T)
            lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
            sigma = s2_ / (1 - phi * phi) * phi**lag
            covs = [] if inv is None else [inv @ (X @ sigma @ X.T) @ inv]
        else:  # hac
            phi = float(_acf(e, 1)[0])
            rho = min(max(phi, -0.95), 0.95)
            alpha = 4 * rho * rho / ((1 - rho) ** 2 * (1 + rho) ** 2)
            bw = min(1.1447 * (alpha * n) ** (1 / 3), n - 1.0)
            g = X * e  # scores, (k, n)
            meat = g @ g.T
            for lag_ in range(1, int(math.floor(bw)) + 1):
                c = g[:, lag_:] @ g[:, :-lag_].T
                meat += (1 - lag_ / (bw + 1)) * (c + c.T)
            inv = _inverse(X @ X.T)
            covs = [] if inv is None else [inv @ meat @ inv * n / dof]
    spread = _Spread(covs, weights, dof, level) if covs else None
    params, dt, sing = _delta_intervals(fit, theta, spread, level)
    return ModelIntervals(fit.name, method, check, params, dt, sing, level, phi=_num(phi))


def block_length_rule(n: int, phi: float) -> int:
    """Block length of the moving-block bootstrap for AR(1) residuals with coefficient ``phi``:
    ``(3n/2)^(1/3) (2 phi / (1 - phi^2))^(2/3)`` (the AR(1) plug-in for the variance of a
    mean), at least 1 and at most ``n / 2``."""
    p = min(max(float(phi), 0.0), 0.95)
    raw = (1.5 * n) ** (1 / 3) * (2 * p / (1 - p * p)) ** (2 / 3)
    return int(min(max(round(raw), 1), max(n // 2, 1)))


def _block_bootstrap(
    coll: FitCollection | None,
    results: Mapping[str, FitResult],
    names: list[str],
    n_boot: int,
    seed: int | None,
    block_length: int | None,
    processes: int | None,
):
    """One moving-block bootstrap for the models ``names``, with the block length from the
    largest lag-1 autocorrelation among them (unless given)."""
    from .results import FitCollection

    phis = {k: float(_acf(whitened_residuals(results[k]), 1)[0]) for k in names}
    first = results[names[0]]
    n = len(first.series)
    length = block_length if block_length is not None else block_length_rule(n, max(phis.values()))
    if coll is None or set(names) != set(coll):
        coll = FitCollection(first.series, first.noise, [results[k] for k in names], {})
    boot = coll.bootstrap(n_boot, seed=seed, processes=processes, progress=False, scheme="block", block_length=length)
    return boot, phis, length


def _sieve(fit: FitResult, n_boot: int, seed: int | None, processes: int | None) -> tuple[np.ndarray, float]:
    """Parameter draws of the prewhitened (AR(1) sieve) residual bootstrap: replicates of the
    fitted curve plus recoloured resampled innovations, each refitted."""
    from . import workers

    theta = np.array(fit.theta, dtype=float)
    prob, _lay = _problem(fit, theta)
    z, w = _data(fit)
    with np.errstate(all="ignore"):
        zhat = prob.predict(theta)
        e = w * (z - zhat)
        phi, _ = _reml_phi(e, _jac(prob, theta))
    u = _prais_winsten(e, phi)
    u = u - u.mean()
    n = e.size
    rng = np.random.default_rng(seed)
    draws = u[rng.integers(0, n, size=(n_boot, n))]
    ez = np.empty_like(draws)
    ez[:, 0] = draws[:, 0] / math.sqrt(1 - phi * phi)
    for i in range(1, n):
        ez[:, i] = phi * ez[:, i - 1] + draws[:, i]
    zs = zhat + ez / w
    procs = workers.default_processes(n_boot) if processes is None else max(1, int(processes))
    chunks = np.array_split(zs, max(1, -(-n_boot // 25)))
    parts = workers.run(_sieve_task, fit, chunks, processes=procs)
    th = np.concatenate(parts)
    return th[np.all(np.isfinite(th), axis=1)], phi


def _sieve_task(fit: FitResult, zs: np.ndarray) -> np.ndarray:
    """Refit ``fit``'s model to each row of ``zs`` (data in the noise model's space)."""
    from .bootstrap import refit
    from .exceptions import SeriesError

    model = fit.model
    fixed = {
        k: {"value": float(v), "vary": False}
        for k, v, vary in zip(model.param_names, fit.theta, fit.vary, strict=True)
        if not vary
    }
    lay = leastsq.layout(model, fixed)
    warm = [dict(zip(model.param_names, fit.theta, strict=True))]
    tau = fit.series.t - fit.t0
    _z, w = _data(fit)
    sig = None if not fit.sigma_known else 1.0 / w
    extra = 1 if fit.extra_scatter is not None else 0
    out = np.full((zs.shape[0], len(model.param_specs)), np.nan)
    for b, z in enumerate(zs):
        y = fit.noise.to_data(z)
        with np.errstate(all="ignore"):
            lj = fit.noise.log_jacobian(y)
        try:
            rb = refit(fit, lay, tau, y, z, sig, lj, warm, extra)
            if not rb.converged:
                rb = refit(fit, lay, tau, y, z, sig, lj, None, extra)
        except (SeriesError, ParameterValueError, ArithmeticError, ValueError):
            continue
        if rb.converged:
            out[b] = rb.theta
    return out


def _from_draws(
    fit: FitResult,
    check: ResidualCheck,
    level: float,
    theta: np.ndarray,
    method: str,
    *,
    phi: float | None = None,
    block_length: int | None = None,
) -> ModelIntervals:
    """Percentile intervals from parameter draws (the fit's own values as the point values)."""
    lo_q, hi_q = 0.5 - level / 2, 0.5 + level / 2
    model = fit.model
    nb = int(theta.shape[0])
    if nb < 20:
        params, dt, sing = _delta_intervals(fit, fit.theta, None, level)
        return ModelIntervals(
            fit.name, method, check, params, dt, sing, level, phi, block_length, nb, "too few replicates converged"
        )

    def pct(x: np.ndarray, value: float | None) -> Interval:
        x = np.where(np.isnan(x), np.inf, x)
        a, b = np.quantile(x, [lo_q, hi_q], method="inverted_cdf")
        return Interval(value, float(a) if np.isfinite(a) else None, float(b) if np.isfinite(b) else None, level)

    params = {}
    for nm in fit.free:
        i = model.param_names.index(nm)
        params[nm] = pct(theta[:, i], float(fit.theta[i]))
    tau_last = np.asarray(float(fit.series.t[-1]) - fit.t0)
    with np.errstate(all="ignore"):
        rate = np.array([float(model.rate_theta(tau_last, th)) for th in theta])
        dts = np.where(rate > 0, LN2 / rate, np.inf)
    own = fit.doubling_time()
    dt = pct(dts, own.value)
    sing = None
    own_s = fit.singularity_time()
    if own_s is not None:
        ts = np.full(nb, np.inf)
        for b, th in enumerate(theta):
            ev = model.event_tau_theta("singularity", th)
            if ev is not None and np.isfinite(ev[0]) and 0 < ev[0] and fit.t0 + ev[0] < _LAST_DATE:
                ts[b] = fit.t0 + ev[0]
        sing = _after_data(fit, pct(ts, own_s.value))
    return ModelIntervals(fit.name, method, check, params, dt, sing, level, phi, block_length, nb)


# ---------------------------------------------------------------- coverage on simulated series
@dataclass(frozen=True)
class Coverage:
    """How often each method's intervals covered the truth on simulated series (:func:`coverage`).

    Attributes
    ----------
    model : str
    rho : float
        The AR(1) coefficient of the simulated noise.
    level : float
    n_sim : int
        Simulated series whose fit converged (the others, ``n_failed``, are left out).
    rows : list of dict
        One per method and quantity: ``method``, ``quantity`` (``doubling_time``,
        ``singularity_time``), ``coverage``, ``median_width``, ``mean_width`` (of the
        bounded intervals), ``unbounded`` (share of intervals unbounded on one side),
        ``autocorrelated`` (share of fits the residual check flagged).
    """

    model: str
    rho: float
    level: float
    n_sim: int
    n_failed: int
    rows: list[dict[str, Any]]

    def get(self, method: str, quantity: str) -> dict[str, Any]:
        for r in self.rows:
            if r["method"] == method and r["quantity"] == quantity:
                return r
        raise KeyError((method, quantity))


def simulate(
    model: str,
    theta: Any,
    t: np.ndarray,
    *,
    rho: float,
    sd: float,
    rng: np.random.Generator,
    noise: str = "log",
):
    """A series from ``model`` at times ``t`` (``t0 = t[0]``) with stationary AR(1) noise of
    coefficient ``rho`` and marginal standard deviation ``sd`` in the noise model's space."""
    from .models import get as get_model
    from .observation import get_noise
    from .series import Series

    m = get_model(model)
    nm = get_noise(noise)
    t = np.asarray(t, dtype=float)
    th = np.asarray(theta, dtype=float)
    tau = t - t[0]
    mean = m.lnC_theta(tau, th) if nm.uses_log_capability else m.C_theta(tau, th)
    n = t.size
    e = np.empty(n)
    e[0] = rng.normal(0.0, sd)
    innov = rng.normal(0.0, sd * math.sqrt(1 - rho * rho), n)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + innov[i]
    return Series(t, nm.to_data(mean + e))


def _truth(model: str, theta: np.ndarray, t: np.ndarray) -> dict[str, float]:
    from .models import get as get_model

    m = get_model(model)
    rate = float(m.rate_theta(np.asarray(t[-1] - t[0]), theta))
    out = {"doubling_time": LN2 / rate if rate > 0 else math.inf}
    ev = m.event_tau_theta("singularity", theta)
    if ev is not None:
        out["singularity_time"] = float(t[0] + ev[0]) if np.isfinite(ev[0]) and ev[0] > 0 else math.inf
    return out


def coverage(
    model: str,
    theta: Any,
    t: np.ndarray,
    *,
    rho: float,
    sd: float,
    seeds: Any = range(200),
    methods: tuple[str, ...] = ("independent", "ar1", "ar1-plugin", "ar1-ols", "hac", "block", "sieve", "pretest"),
    level: float = 0.95,
    n_boot: int = 200,
    noise: str = "log",
    processes: int | None = None,
) -> Coverage:
    """Coverage of each method's intervals (doubling time at the last observation, and the
    singularity date where the model has one) over series simulated from ``model`` with
    AR(1) noise (:func:`simulate`), one series per seed, each fitted by that model alone.

    Use it to check a method on a design of your own (your dates, your noise level).
    """
    from . import workers

    th = np.asarray(theta, dtype=float)
    t = np.asarray(t, dtype=float)
    seeds = [int(s) for s in seeds]
    shared = (model, th, t, float(rho), float(sd), tuple(methods), float(level), int(n_boot), noise)
    procs = workers.default_processes(len(seeds) * 50) if processes is None else max(1, int(processes))
    chunks = [seeds[i : i + 5] for i in range(0, len(seeds), 5)]
    parts = workers.run(_coverage_task, shared, chunks, processes=procs)
    records = [r for p in parts for r in p]
    ok = [r for r in records if r is not None]
    truth = _truth(model, th, t)
    rows = []
    for m in methods:
        for q in truth:
            got = [r[m][q] for r in ok if q in r[m]]
            cov = [lo <= truth[q] <= hi for lo, hi, _ in got]
            width = np.array([hi - lo for lo, hi, _ in got])
            bounded = width[np.isfinite(width)]
            rows.append(
                {
                    "method": m,
                    "quantity": q,
                    "coverage": float(np.mean(cov)) if cov else math.nan,
                    "median_width": float(np.median(width)) if width.size else math.nan,
                    "mean_width": float(np.mean(bounded)) if bounded.size else math.nan,
                    "unbounded": float(np.mean(~np.isfinite(width))) if width.size else math.nan,
                    "autocorrelated": float(np.mean([a for _, _, a in got])) if got else math.nan,
                    "n": len(got),
                }
            )
    return Coverage(model, float(rho), float(level), len(ok), len(records) - len(ok), rows)


def _coverage_task(shared: tuple, seeds: list[int]) -> list[dict[str, Any] | None]:
    import warnings

    from .fitting import fit

    model, th, t, rho, sd, methods, level, n_boot, noise = shared
    out: list[dict[str, Any] | None] = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        series = simulate(model, th, t, rho=rho, sd=sd, rng=rng, noise=noise)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fits = fit(series, models=[model], noise=noise, level=level, warn=False)
            except (ValueError, ArithmeticError):
                out.append(None)
                continue
            r = fits[model]
            if not r.converged:
                out.append(None)
                continue
            rec: dict[str, Any] = {}
            for m in methods:
                mi = intervals(fits, method=m, level=level, n_boot=n_boot, seed=seed, processes=1)[model]
                got = {}
                for q, iv in (("doubling_time", mi.doubling_time), ("singularity_time", mi.singularity_time)):
                    if iv is None:
                        continue
                    if iv.value is None:  # undefined: treated as an interval over everything
                        lo, hi = -math.inf, math.inf
                    else:
                        lo = -math.inf if iv.lower is None else iv.lower
                        hi = math.inf if iv.upper is None else iv.upper
                    got[q] = (lo, hi, mi.check.autocorrelated)
                rec[m] = got
        out.append(rec)
    return out
