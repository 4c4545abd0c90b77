r"""Calibrated forecast bands: models stacked by their past forecasts, widened by what those still missed.

The default band (:func:`lsi.forecast.forecast`) carries each model's parameter uncertainty
and observation noise, and the uncertainty between models through their Akaike weights.  It
cannot carry what none of the fitted curves knows: that the trend itself changes.  A
rolling-origin backtest shows it: fitted to the frontier of METR's horizons up to each date
from 2024.4 on, the model-averaged 90% band covered half of the later points (0.50), every
miss above the band (the frontier accelerated); on Moore's law it covered 0.79, on the U.S.
patent series 0.63.

This module measures that on the series' own past and widens the band by as much as the
past says, no more (``benchmarks/bench_calibration.py`` has the numbers for every shipped
history).  Widening the Akaike-weighted band is not enough: on METR's frontier it covers
only by being four times as wide as a ruler's straight line through the last points, since
at METR's last origins the hyperbolic model, near its singularity, takes most of the Akaike
weight.  Akaike weights say which curve fits the past best, not which forecast the future
best.

**The default band (stacking).**  The default band is a mixture of every model's predictive
distribution and of a naive local trend's (:func:`lsi.forecast.local_trend`: a least-squares
line in the noise space through the last 5 points, with its Student-t prediction), weighted
by how well each forecast the series' own past (stacking of predictive distributions; Yao,
Vehtari, Simpson and Gelman 2018).  At each past origin every component gives each later
observation a log predictive density; the weights maximise their total
(:func:`lsi.selection.stacking_weights`), each origin counting once (its later points share
one fit and are not independent tries), with a symmetric Dirichlet prior worth one origin
(:data:`lsi.selection.STACKING_PRIOR`), which keeps a model that forecast a short past badly from losing
all weight on a handful of correlated points.  The band at a past origin uses the weights
from the pairs scored before it (origins before it, points observed by then), so its past
coverage is out of sample; the forecast from the last observation uses every past pair.
Without the prior, the stacked band covered 0.79 out of sample on METR's rows and 0.78 on
Moore's law (the weights collapse on one component after a few origins); with it, 1.00 and
0.99.  The conformal drift below then widens the stacked band by what it still missed.

**Method (conformal drift).**  At past origins :math:`o_j` the models are fitted to the
points up to :math:`o_j` and the band is made for every later point :math:`t_i` (horizon
:math:`h = t_i - o_j`), in the noise model's space (``ln y`` for log noise, ``logit y``,
``y``): median :math:`m`, lower :math:`l`, upper :math:`u`, with
:math:`q = \Phi^{-1}((1 + \text{level})/2)` and the side's half-width read as a standard
deviation, :math:`s = (u - m)/q` above the median and :math:`(m - l)/q` below.  The spread
the band lacked to cover the observation :math:`z`, scaled to one year of horizon, is its
score

.. math::
    \kappa_i = \frac{\sqrt{\max\left(0,\ ((z - m)/q)^2 - s^2\right)}}{\max(h, h_0)^{3/2}},

zero for every covered point (:math:`h_0`, the median spacing of the observations up to the
origin, keeps a miss one observation ahead from counting as a miss at no horizon).  The
calibrated band adds that spread in quadrature on each side,

.. math::
    m \pm q\sqrt{s^2 + \hat\kappa^2 \max(h, h_0)^3},

with :math:`\hat\kappa` the split-conformal quantile of the past scores: the
:math:`\lceil (n + 1)\,\text{level}\rceil`-th smallest of :math:`n`.  The calibrated band
covers a past point exactly when :math:`\kappa_i \le \hat\kappa`, so if past and future
misses are exchangeable it covers at least ``level`` of what comes next.  Conformal
quantiles need :math:`n \ge \text{level}/(1 - \text{level})` scores (9 at 90%); with fewer
the band is left uncalibrated and says so.

The band is widened only when its past shows it covering less than ``level`` beyond
sampling error: a one-sided binomial test at :data:`EVIDENCE` (0.2), over as many trials as
there are distinct observations scored (one observation scored from several origins is not
several independent trials).  A band that covers ``level`` misses a tenth of its past by
chance, and the conformal quantile alone then widens it in half the series: on exponential
series fitted by the exponential (30 yearly points, 60 seeds), to twice its width or more
in a quarter of them and 3.4 times in a tenth, for an out-of-sample coverage of 0.93; with
the test, the width is the model band's in over half the series (a tenth are widened by 1.6
or more) and the out-of-sample coverage is 0.91 (``tests/test_calibration.py`` checks it).

The added spread grows as :math:`h^{3/2}`, the standard deviation of a trend whose growth
rate takes random shocks after the origin (changes of slope arriving at random, or a random
walk of the rate: the local linear trend): a spread of :math:`\hat\kappa` one year ahead is
:math:`2^{3/2} \approx 2.8` times that two years ahead and :math:`3^{3/2} \approx 5.2`
times three years ahead.  On simulated series (30 yearly points, 60 seeds) whose growth
rate wanders (a random-walk step each year) or breaks (a slope change at a random date),
an exponential's band covers 0.41
and 0.11 of the later points; calibrated with the 3/2 power it covers 0.71 and 0.52 out of
sample, with a spread growing linearly 0.63 and 0.41.  On the shipped histories the two
powers do about as well (the 3/2 power better on the patent series; see the benchmark).

The coverage this module reports is out of sample: the band at each past origin is widened
only by the scores of earlier origins on points observed by then, and scored on the points
after it.

**Two records of the past bands.**

* From a :class:`lsi.backtest.Backtest` (``backtest=``): the default bands themselves
  (stacked and Akaike-weighted), bootstrap and all, at the backtest's origins, and the
  stacking weights from its log scores.  Exact, and as costly as the backtest.
* Otherwise (the report's path), each model is refitted at each origin from the previous
  origin's optimum and its own cold starts (the data added since can move the optimum to
  another basin), with the extra scatter re-estimated beside the parameters, and its
  parameter uncertainty is drawn from the fit's own covariance (HC1-scaled as the bootstrap
  is) and carried to the forecast to first order, the singularity date included, instead of
  refitting resampled data; a model whose parameters are not identifiable keeps its optimum,
  as its warm-started refits do.  The noise and the Akaike mixture are made as the default
  band makes them (:class:`lsi.forecast.Predictive`), the naive local trend's Student-t
  prediction joins them as a mixture of Gaussians (:meth:`lsi.forecast.LocalTrend.draws`),
  and each component's log predictive density of every later point is kept for the
  stacking weights.  About a second on METR; on every shipped history the Akaike-weighted
  band's past coverage is within 0.04 of the backtest's, and its :math:`\hat\kappa`
  within about 10% (``benchmarks/bench_calibration.py --backtests DIR``).

A singularity inside the horizon makes the band unbounded above from the date on which more
than ``(1 - level)/2`` of its predictive mass has passed it, and only from then: the lower
bound stays finite (held at its last finite value, capability not falling), and the output
names that date (``unbounded_from``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special, stats

from . import leastsq, selection
from .bootstrap import DEFAULT_N
from .exceptions import BoundWarning, ParameterValueError, SeriesError, check_seed
from .forecast import AVERAGED, MIXTURE, NAIVE, STACKED, Predictive, forecast, local_trend, mix
from .series import iso_days

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

    from .backtest import Backtest
    from .bootstrap import Bootstrap
    from .models.base import GrowthModel
    from .results import FitCollection, FitResult
    from .series import Series

__all__ = [
    "PastBands",
    "Calibration",
    "past_bands",
    "calibrate",
    "past_coverage",
    "calibrated_forecast",
    "drift_scores",
    "conformal_quantile",
    "widen",
    "bands_json",
    "default_origins",
    "min_scores",
    "METHOD",
    "POWER",
    "EVIDENCE",
    "kappa_hat",
]

#: the method's name, as the attributes and JSON give it
METHOD = "conformal drift"
#: the added spread grows as this power of the horizon (random shocks to the growth rate)
POWER = 1.5
#: the band is widened only when its past coverage falls short of the level with a one-sided
#: binomial p-value below this (see :func:`kappa_hat`)
EVIDENCE = 0.2


# ---------------------------------------------------------------- the scores and the widening
def _q(level: float) -> float:
    return float(special.ndtri(0.5 + level / 2))


def drift_scores(
    z: np.ndarray,
    lower: np.ndarray,
    median: np.ndarray,
    upper: np.ndarray,
    horizon: np.ndarray,
    level: float,
) -> np.ndarray:
    """The spread each past band lacked to cover its observation, scaled to one year of horizon.

    All arguments in the noise model's space; ``horizon`` in years, already floored at the
    spacing of the observations; the spread is divided by ``horizon ** POWER`` (see the
    module docstring).  Zero for a covered point (including an unbounded side), NaN where
    the band is undefined.

    Examples
    --------
    A band of standard deviation 1 (90%: +-1.645) covers 0.5; it misses 3.0 by a spread of
    sqrt((3/1.645)^2 - 1) one year ahead:

    >>> q = 1.6448536269514722
    >>> s = drift_scores(np.array([0.5, 3.0]), np.array([-q, -q]), np.zeros(2), np.array([q, q]), np.ones(2), 0.9)
    >>> [round(float(x), 4) for x in s]
    [0.0, 1.5253]
    """
    q = _q(level)
    z, lo, med, hi, h = (np.asarray(a, dtype=float) for a in (z, lower, median, upper, horizon))
    with np.errstate(all="ignore"):
        above = z >= med
        s = np.where(above, hi - med, med - lo) / q
        e = (z - med) / q
        k = np.sqrt(np.maximum(e**2 - s**2, 0.0)) / h**POWER
        k = np.where(np.isinf(s) & (s > 0), 0.0, k)  # an unbounded side covers everything on it
        # a median past a singularity: covered from the lower bound up, else the gap to that bound
        k = np.where(np.isposinf(med), np.where(z >= lo, 0.0, (lo - z) / q / h**POWER), k)
    bad = np.isnan(med) | np.isnan(lo) | ~np.isfinite(z) | ~(h > 0)
    return np.where(bad, np.nan, k)


def conformal_quantile(scores: np.ndarray, level: float) -> float | None:
    """The ``ceil((n + 1) level)``-th smallest of ``n`` finite scores; None when ``n`` is too
    small for that (fewer than ``level / (1 - level)``, 9 at 90%)."""
    x = np.sort(np.asarray(scores, dtype=float)[np.isfinite(scores)])
    k = math.ceil((x.size + 1) * level - 1e-9)
    if k > x.size or x.size == 0:
        return None
    return float(x[k - 1])


def min_scores(level: float) -> int:
    """The fewest past scores a conformal quantile at ``level`` needs."""
    n = 1
    while math.ceil((n + 1) * level - 1e-9) > n:
        n += 1
    return n


def widen(
    lower: np.ndarray,
    median: np.ndarray,
    upper: np.ndarray,
    horizon: np.ndarray,
    kappa: float,
    level: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The calibrated band (noise space): each side's spread plus ``kappa * horizon ** POWER`` in quadrature.

    An unbounded upper side stays unbounded; where the median itself is unbounded the lower
    bound moves down by the added spread alone.

    Examples
    --------
    >>> lo, hi = widen(np.array([-1.0]), np.array([0.0]), np.array([1.0]), np.array([2.0]), 0.0, 0.9)
    >>> float(lo[0]), float(hi[0])
    (-1.0, 1.0)
    """
    q = _q(level)
    lo, med, hi, h = (np.asarray(a, dtype=float) for a in (lower, median, upper, horizon))
    add = (kappa * np.maximum(h, 0.0) ** POWER) ** 2
    with np.errstate(all="ignore"):
        new_hi = np.where(np.isfinite(hi), med + q * np.sqrt(((hi - med) / q) ** 2 + add), hi)
        new_lo = np.where(np.isfinite(med), med - q * np.sqrt(((med - lo) / q) ** 2 + add), lo - q * np.sqrt(add))
    return new_lo, new_hi


# ---------------------------------------------------------------- the record of past bands
@dataclass(frozen=True)
class PastBands:
    """The bands made at past origins for the points observed after them (noise space).

    One entry per (origin, model, later point): ``origin``, ``t``, ``horizon`` (years),
    ``floor`` (the horizon floor :math:`h_0` at that origin), ``z`` (the observation),
    ``lower``, ``median``, ``upper``; ``model`` names the band (a model, ``"averaged"``,
    ``"stacked"``).  ``source`` says how the bands were made.  The fast record also keeps the
    stacking weights: ``stacking`` (from every past pair, for the forecast from the last
    observation), ``stacking_by_origin`` (the weights each past origin's stacked band used,
    from the pairs scored before it) and ``stacking_pairs`` (how many pairs were scored);
    a record read from a backtest has its final weights only.
    """

    model: np.ndarray
    origin: np.ndarray
    t: np.ndarray
    horizon: np.ndarray
    floor: np.ndarray
    z: np.ndarray
    lower: np.ndarray
    median: np.ndarray
    upper: np.ndarray
    origins: np.ndarray
    level: float
    source: str
    stacking: dict[str, float] = field(default_factory=dict)
    stacking_by_origin: dict[float, dict[str, float]] = field(default_factory=dict)
    stacking_pairs: int = 0
    #: how the bands were made: "refits" (parameter draws to first order) or "backtest" (bootstrap refits)
    record: str = "refits"

    def of(self, model: str) -> dict[str, np.ndarray]:
        """The entries of one band, as arrays by field."""
        keep = self.model == model
        return {k: getattr(self, k)[keep] for k in ("origin", "t", "horizon", "floor", "z", "lower", "median", "upper")}

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(self.model.tolist()))


def _floor(t: np.ndarray) -> float:
    """Median spacing of distinct observation times (0 for one time)."""
    g = np.diff(np.unique(t))
    g = g[g > 0]
    return float(np.median(g)) if g.size else 0.0


def default_origins(series: Series, max_origins: int = 12) -> np.ndarray:
    """Observation times that leave a third of the series (and at least 6 points) to fit and
    one later point to score; at most ``max_origins`` of them, evenly spread
    (:func:`lsi.backtest.origins_after`)."""
    from .backtest import origins_after

    return origins_after(
        series,
        1 / 3,
        max_origins,
        "too few to calibrate on its past (a past origin keeps at least 6 points to fit and one to score)",
    )


def _from_backtest(bt: Backtest, fits: FitCollection, level: float) -> PastBands:
    if abs(bt.level - level) > 1e-12:
        raise ParameterValueError(
            f"the backtest scored {bt.level:.0%} bands but level = {level}; backtest at the same level"
        )
    series = fits.series
    df = bt.scores
    if df.empty or not (df["model"] != NAIVE).any():
        raise ParameterValueError("the backtest has no scored model bands to calibrate on")
    # the stacking weights of the forecast from the end: the log scores of every past pair
    parts = df[df["model"].isin([*fits, NAIVE])]
    scored: dict[tuple[float, float], dict[str, float]] = {}
    for o, t, m, ls in zip(parts["origin"], parts["t"], parts["model"], parts["log_score"], strict=True):
        scored.setdefault((float(o), float(t)), {})[str(m)] = float(ls)
    names = [k for k in [*fits, NAIVE] if k in set(parts["model"])]
    weights = selection.weights_before([(o, t, lp) for (o, t), lp in scored.items()], names, math.inf)
    floors = {float(o): _floor(series.t[series.t <= o]) for o in bt.origins}
    return PastBands(
        model=df["model"].to_numpy(dtype=str),
        origin=df["origin"].to_numpy(dtype=float),
        t=df["t"].to_numpy(dtype=float),
        horizon=df["horizon"].to_numpy(dtype=float),
        floor=np.array([floors[float(o)] for o in df["origin"]]),
        z=df["z"].to_numpy(dtype=float),
        lower=df["z_lower"].to_numpy(dtype=float),
        median=df["z_median"].to_numpy(dtype=float),
        upper=df["z_upper"].to_numpy(dtype=float),
        origins=np.asarray(bt.origins, dtype=float),
        level=float(bt.level),
        source=f"rolling-origin backtest of the default bands ({len(bt.origins)} origins)",
        stacking=weights if STACKED in set(df["model"]) else {},
        stacking_pairs=len(scored),
        record="backtest",
    )


# ---------------------------------------------------------------- the cheap record: refit and draw
@dataclass
class _Refit:
    theta: np.ndarray
    scatter: float | None  # the extra scatter at this origin (None: the noise scale is estimated)
    aicc: float
    deviations: np.ndarray  # (n_draws, k) parameter deviations from the optimum (zeros: none)
    noise_sd: np.ndarray  # (n_draws,)


def _linearised(r: FitResult, tau: np.ndarray, theta: np.ndarray, dev: np.ndarray) -> np.ndarray:
    """Curves of the parameter draws ``theta + dev`` to first order, shape (n_draws, len(tau)).

    The curve and, for a model with a singularity, its date move linearly with the
    deviations, as the bootstrap's warm-started refits move near the optimum; a draw is
    +inf from its own singularity date on.
    """
    m = r.model
    log = r.noise.uses_log_capability
    with np.errstate(all="ignore"):
        z0 = np.asarray(m.lnC_theta(tau, theta) if log else m.C_theta(tau, theta), dtype=float)
        G = np.asarray(m.lnC_jac_theta(tau, theta) if log else m.C_jac_theta(tau, theta), dtype=float)
        G = np.where(np.isfinite(G), G, 0.0)
        mu = z0[None, :] + dev @ G
        try:
            ev = m.event_tau_theta("singularity", theta)
        except (NotImplementedError, ValueError, ArithmeticError):
            ev = None
        if ev is not None and np.isfinite(ev[0]):
            g = np.where(np.isfinite(ev[1]), ev[1], 0.0)
            ts = ev[0] + dev @ g
            mu[(ts[:, None] > 0) & (tau[None, :] >= ts[:, None])] = np.inf
    mu[:, ~np.isfinite(z0) & (z0 > 0)] = np.inf
    return mu


def _deviations(
    model: GrowthModel,
    lay: leastsq.Layout,
    sol: leastsq.Solution,
    z: np.ndarray,
    w: np.ndarray,
    scale_unknown: bool,
    dof: int,
    n_draws: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Parameter deviations from the optimum drawn from the fit's covariance, shape (n_draws, k).

    The covariance is the fit's own (:mod:`lsi.fitting`: irregular parameters, a break date,
    held where they are; scaled by the residual variance when the noise scale is estimated,
    and by ``n / (n - k)`` when it is known, as the bootstrap's HC1 correction scales case
    resampling).  A model whose parameters are not identifiable (a parameter at a limit of
    its range, a singular covariance, a correlation of 0.9999) gets no deviations, as its
    warm-started bootstrap refits stay at the limiting case the data prefer.
    """
    theta = sol.theta
    free = lay.free
    out = np.zeros((n_draws, theta.size))
    names = [lay.names[i] for i in free]
    regular = np.array([nm not in model.irregular for nm in names], dtype=bool)
    reg_names = [nm for nm, r in zip(names, regular, strict=True) if r]
    with np.errstate(all="ignore"):
        J = sol.problem.jac_theta(theta) * w
    Jr = J[regular]
    n = z.size
    if not (Jr.shape[0] and dof > 0 and np.all(np.isfinite(Jr))):
        return out
    cov = None
    with np.errstate(all="ignore"):
        JTJ = Jr @ Jr.T
        d = np.sqrt(np.diag(JTJ))
        scaled = JTJ / np.outer(d, d)
    if np.all(d > 0) and np.all(np.isfinite(scaled)):
        try:
            ev, V = np.linalg.eigh(scaled)
        except np.linalg.LinAlgError:
            return out
        if ev[0] > 1e-14 * ev[-1]:
            cov = (V / ev) @ V.T / np.outer(d, d)
            cov = cov * (sol.rss / dof if scale_unknown else n / dof)
    stuck = leastsq.at_bound(reg_names, Jr, sol.residuals, z * w)
    if cov is None or stuck or selection.identifiability(reg_names, theta[free][regular], cov, stuck):
        return out
    try:
        ev, V = np.linalg.eigh(cov)
    except np.linalg.LinAlgError:
        return out
    L = V * np.sqrt(np.maximum(ev, 0.0))
    out[:, free[regular]] = rng.standard_normal((n_draws, L.shape[1])) @ L.T
    return out


def _profile_scatter(resid: np.ndarray, sig: np.ndarray) -> float:
    """The extra scatter (added in quadrature to ``sig``) that maximises the Gaussian
    likelihood of fixed residuals; 0 when the residuals do not exceed ``sig``."""
    from scipy import optimize

    r2, s2 = resid**2, sig**2
    top = max(9.0 * float(np.mean(r2)), float(np.median(s2)), 1e-300)

    def nll(v: float) -> float:
        tot = s2 + v
        return float(np.sum(r2 / tot + np.log(tot)))

    best = optimize.minimize_scalar(nll, bounds=(0.0, top), method="bounded", options={"xatol": 1e-8 * top})
    v = float(best.x)
    return math.sqrt(v) if nll(v) < nll(0.0) else 0.0


def _refit(
    r: FitResult,
    train: Series,
    warm: tuple[np.ndarray, float | None] | None,
    n_draws: int,
    rng: np.random.Generator,
) -> _Refit | None:
    """Refit ``r``'s model to ``train`` and draw its parameter uncertainty; None if it cannot be fitted.

    Started from ``warm`` (the previous origin's optimum and extra scatter) and from the
    model's own cold starts, the best verified point winning.  With per-point uncertainties
    the extra scatter is re-estimated by alternating between the scatter (its likelihood
    maximised with the parameters held) and the parameters (refitted from where they were,
    from the cold starts too if that fails), twice at most: the full fit profiles it.
    """
    model, noise = r.model, r.noise
    fixed = {
        k: {"value": float(v), "vary": False}
        for k, v, vary in zip(model.param_names, r.theta, r.vary, strict=True)
        if not vary
    }
    lay = leastsq.layout(model, fixed)
    free = lay.free
    n = len(train)
    point = noise.point_sigma(train) if r.sigma_known else None
    scatter = None if point is None or r.extra_scatter is None else (warm[1] if warm else r.extra_scatter)
    extra_params = 0 if point is None or r.extra_scatter is None else 1
    k_total = int(free.size) + (0 if point is not None else 1) + extra_params
    if n < k_total + 2:
        return None
    tau = train.t - r.t0
    z = noise.transform(train.y)
    cap = np.exp(z) if noise.uses_log_capability else train.y
    with np.errstate(all="ignore"):
        cold = model.guess(tau, cap if np.all(cap > 0) else np.clip(cap, 1e-12, None))
    # the previous origin's optimum and the model's own cold starts: the data added since can
    # move the optimum to another basin (a hyperbolic's singularity date), which warm starts miss
    starts = ([dict(zip(model.param_names, warm[0], strict=True))] if warm is not None else []) + cold

    def sig_of(s: float | None) -> np.ndarray | None:
        if point is None:
            return None
        return np.sqrt(point**2 + (s or 0.0) ** 2)

    def solve(st: list[dict[str, float]], s: float | None) -> leastsq.Solution:
        sg = sig_of(s)
        w = np.ones(n) if sg is None else 1.0 / sg
        sol = leastsq.solve(model, lay, tau, z, w, noise.uses_log_capability, st)
        if not sol.converged and len(st) == 1:
            sol = leastsq.solve(model, lay, tau, z, w, noise.uses_log_capability, st + cold)
        return sol

    try:
        sol = solve(starts, scatter)
        if scatter is not None and point is not None:
            for _ in range(2):
                new = _profile_scatter(z - sol.problem.predict(sol.theta), point)
                if abs(new - scatter) <= 1e-3 * max(scatter, float(np.median(point))):
                    break
                scatter = new
                sol = solve([dict(zip(model.param_names, sol.theta, strict=True))], scatter)
    except (ParameterValueError, ArithmeticError, ValueError):
        return None
    theta = sol.theta
    if not (sol.converged and np.all(np.isfinite(theta)) and np.all(np.abs(theta[free]) < 1e100)):
        return None
    sig = sig_of(scatter)
    w = np.ones(n) if sig is None else 1.0 / sig
    ll = selection.gaussian_loglik(sol.rss, n, sig, noise.log_jacobian(train.y))
    aicc = selection.aicc(ll, k_total, n) + 2 * model.extra_penalty
    dof = n - int(free.size)
    deviations = _deviations(model, lay, sol, z, w, sig is None, dof, n_draws, rng)
    # noise of a new observation, as the default band: known scale, or Student t by stratified chi2
    if point is not None:
        sd = np.full(n_draws, math.sqrt(float(np.mean(point**2)) + (scatter or 0.0) ** 2))
    elif dof > 0 and sol.rss > 0:
        uq = (rng.permutation(n_draws) + 0.5) / n_draws
        sd = math.sqrt(sol.rss / dof) * np.sqrt(dof / stats.chi2.ppf(uq, dof))
    else:
        return None
    return _Refit(theta, scatter, aicc, deviations, sd)


def _parametric_record(
    fits: FitCollection, origins: np.ndarray, level: float, n_draws: int, seed: int | None, per_model: bool
) -> PastBands:
    series = fits.series
    probs = [(1 - level) / 2, 0.5, (1 + level) / 2]
    rng = np.random.default_rng(seed)
    cols: dict[str, list[Any]] = {k: [] for k in ("model", "origin", "t", "horizon", "floor", "z", "lo", "med", "hi")}
    warm: dict[str, tuple[np.ndarray, float | None]] = {}
    results = [r for r in fits.values() if r.converged]
    # (origin, time, {component: log predictive density}) of every past pair, for stacking
    scored: list[tuple[float, float, dict[str, float]]] = []
    by_origin: dict[float, dict[str, float]] = {}
    for o in origins:
        train = series.until(float(o))
        later = series.t > o
        t_test = series.t[later]
        z_test = fits.noise.transform(series.y[later])
        comps: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        aiccs: dict[str, float] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BoundWarning)
            for r in results:
                got = _refit(r, train, warm.get(r.name), n_draws, rng)
                if got is None:
                    continue
                warm[r.name] = (got.theta, got.scatter)
                mu = _linearised(r, t_test - r.t0, got.theta, got.deviations)
                comps[r.name] = (mu, got.noise_sd, np.full(n_draws, 1.0 / n_draws))
                aiccs[r.name] = got.aicc
        if not comps:
            continue
        names = list(comps)
        wts = selection.akaike_weights(np.array([aiccs[k] for k in names]))
        averaged = mix(comps, dict(zip(names, wts.tolist(), strict=True)))
        assert averaged is not None  # the best model's weight is positive
        try:
            line = local_trend(train.t, fits.noise.transform(train.y))
        except SeriesError:
            line = None
        if line is not None:
            comps[NAIVE] = line.draws(t_test, n_draws)
        stack_names = list(comps)
        stacking = selection.weights_before(scored, stack_names, float(o))
        by_origin[float(o)] = stacking
        stacked = mix(comps, stacking)
        comps[AVERAGED] = averaged
        if stacked is not None:
            comps[STACKED] = stacked
        pr = Predictive(t_test, comps, dict(zip(names, wts.tolist(), strict=True)), {}, {}, fits.noise, n_draws, {})
        dens = {k: pr.logpdf(k, z_test) for k in stack_names}
        scored += [(float(o), float(tt), {k: float(dens[k][i]) for k in stack_names}) for i, tt in enumerate(t_test)]
        fl = _floor(train.t)
        bands = list(comps) if per_model else [k for k in (AVERAGED, STACKED, NAIVE) if k in comps]
        for name in bands:
            qz = pr.quantiles(name, probs)
            cols["model"] += [name] * t_test.size
            cols["origin"] += [float(o)] * t_test.size
            cols["t"] += t_test.tolist()
            cols["horizon"] += (t_test - o).tolist()
            cols["floor"] += [fl] * t_test.size
            cols["z"] += z_test.tolist()
            cols["lo"] += qz[0].tolist()
            cols["med"] += qz[1].tolist()
            cols["hi"] += qz[2].tolist()
    # the weights of the forecast from the last observation: every past pair, the models of ``fits``
    final = [r.name for r in results] + [NAIVE]
    weights = selection.weights_before(scored, [k for k in final if any(k in lp for _, _, lp in scored)], math.inf)
    return PastBands(
        model=np.array(cols["model"], dtype=str),
        origin=np.array(cols["origin"], dtype=float),
        t=np.array(cols["t"], dtype=float),
        horizon=np.array(cols["horizon"], dtype=float),
        floor=np.array(cols["floor"], dtype=float),
        z=np.array(cols["z"], dtype=float),
        lower=np.array(cols["lo"], dtype=float),
        median=np.array(cols["med"], dtype=float),
        upper=np.array(cols["hi"], dtype=float),
        origins=np.asarray(origins, dtype=float),
        level=float(level),
        source=(
            f"refits at {len(origins)} past origins, parameter uncertainty drawn from each fit's covariance "
            f"and carried to first order ({n_draws} draws per model)"
        ),
        stacking=weights,
        stacking_by_origin=by_origin,
        stacking_pairs=len(scored),
    )


def past_bands(
    fits: FitCollection,
    backtest: Backtest | None = None,
    *,
    level: float = 0.9,
    origins: Sequence[float] | None = None,
    max_origins: int = 12,
    n_draws: int = 200,
    seed: int | None = 0,
    per_model: bool = True,
) -> PastBands:
    """The bands the models would have given at past origins, for the points after each.

    From ``backtest`` when given (its origins and default bands), else by refitting at
    ``origins`` (default :func:`default_origins`) and drawing each fit's parameter
    uncertainty (``n_draws`` per model): see the module docstring.  ``per_model=False``
    records the model-averaged band only (the fast record's quantiles are most of its cost).
    """
    _check_level(level)
    if backtest is not None:
        return _from_backtest(backtest, fits, level)
    orig = default_origins(fits.series, max_origins) if origins is None else np.sort(np.asarray(origins, float))
    return _parametric_record(fits, orig, level, int(n_draws), seed, per_model)


# ---------------------------------------------------------------- calibration
@dataclass(frozen=True)
class BandCalibration:
    """The calibration of one band (a model's, or the average's) on its own past.

    Attributes
    ----------
    kappa : float or None
        The added spread one year ahead (noise space; it grows as ``horizon ** POWER``);
        None when the past holds
        fewer than :func:`min_scores` scores (the band is left uncalibrated).
    n_scores : int
        Past (origin, later point) pairs it was calibrated on.
    coverage : float or None
        Share of all past pairs the default band covered (the series' own backtest).
    coverage_out : float or None
        Share of the past pairs, at origins with enough earlier scores, covered by the band
        calibrated at that origin on the earlier scores only (out of sample); None when no
        origin had enough.
    coverage_out_default : float or None
        The default band's coverage on those same pairs.
    n_out : int
        The pairs behind ``coverage_out``.
    width_ratio : float or None
        Median width of the calibrated band over median width of the default band, on the
        pairs behind ``coverage_out`` (noise space).
    width_naive : float or None
        Median width of the calibrated band over the naive local trend's median width, on the
        same pairs (noise space; inf when the band is unbounded above at most of them; None
        when the record has no naive band): how informative the band is beside a ruler's line
        through the last points.
    above, below : float or None
        Shares of all past pairs above and below the default band.
    by_origin : list of dict
        Per past origin: ``origin``, ``n`` (later points scored), ``coverage`` (the default
        band's), ``kappa`` (from the earlier origins; None: too few scores) and
        ``coverage_calibrated`` (None when uncalibrated).
    """

    kappa: float | None
    n_scores: int
    coverage: float | None
    coverage_out: float | None
    coverage_out_default: float | None
    n_out: int
    width_ratio: float | None
    above: float | None
    below: float | None
    by_origin: list[dict[str, Any]] = field(default_factory=list)
    width_naive: float | None = None


def _fin(x: Any) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _undercovers(covered: np.ndarray, t: np.ndarray, level: float) -> bool:
    """Whether past pairs show the band covering less than ``level`` beyond sampling error.

    One-sided binomial test at :data:`EVIDENCE`: the share of pairs covered, over as many
    trials as there are distinct observations scored (the pairs of one observation, scored
    from several origins, are not independent trials).
    """
    n_eff = int(np.unique(t).size)
    if n_eff == 0:
        return False
    hits = math.floor(float(np.mean(covered)) * n_eff + 1e-9)
    return bool(stats.binom.cdf(hits, n_eff, level) < EVIDENCE)


def kappa_hat(scores: np.ndarray, covered: np.ndarray, t: np.ndarray, level: float) -> float | None:
    """The added spread from past scores: their conformal quantile (:func:`conformal_quantile`),
    or 0 when the past pairs do not show under-coverage (:func:`_undercovers`); None when
    there are too few scores."""
    keep = np.isfinite(scores)
    k = conformal_quantile(scores[keep], level)
    if k is None or k == 0.0:
        return k
    return k if _undercovers(covered[keep], t[keep], level) else 0.0


def _calibrate_band(rec: Mapping[str, np.ndarray], level: float) -> tuple[BandCalibration, dict[str, np.ndarray]]:
    """Calibrate one band on its record; also returns the out-of-sample calibrated bands."""
    o, t, z = rec["origin"], rec["t"], rec["z"]
    h = np.maximum(rec["horizon"], rec["floor"])
    lo, med, hi = rec["lower"], rec["median"], rec["upper"]
    sc = drift_scores(z, lo, med, hi, h, level)
    ok = np.isfinite(z) & ~np.isnan(med) & ~np.isnan(lo) & ~np.isnan(hi)
    covered = ok & (lo <= z) & (z <= hi)
    clo, chi = np.full(z.size, np.nan), np.full(z.size, np.nan)
    path: dict[float, float | None] = {}
    out = np.zeros(z.size, dtype=bool)
    for oo in np.unique(o):
        past = (o < oo) & (t <= oo) & ok
        k = kappa_hat(sc[past], covered[past], t[past], level)
        path[float(oo)] = k
        if k is None:
            continue
        ev = o == oo
        clo[ev], chi[ev] = widen(lo[ev], med[ev], hi[ev], h[ev], k, level)
        out |= ev
    out &= ok
    kappa = kappa_hat(sc[ok], covered[ok], t[ok], level)
    n_ok = int(ok.sum())
    with np.errstate(all="ignore"):
        cal_cov = (clo <= z) & (z <= chi)
        w_def = np.median((hi - lo)[out]) if out.any() else np.nan
        w_cal = np.median((chi - clo)[out]) if out.any() else np.nan
        ratio = w_cal / w_def if out.any() and np.isfinite(w_def) and w_def > 0 else np.nan
    bc = BandCalibration(
        kappa=kappa,
        n_scores=int(np.isfinite(sc).sum()),
        coverage=float(covered[ok].mean()) if n_ok else None,
        coverage_out=float(cal_cov[out].mean()) if out.any() else None,
        coverage_out_default=float(covered[out].mean()) if out.any() else None,
        n_out=int(out.sum()),
        width_ratio=_fin(ratio),
        above=float(np.mean(z[ok] > hi[ok])) if n_ok else None,
        below=float(np.mean(z[ok] < lo[ok])) if n_ok else None,
        by_origin=[
            {
                "origin": float(oo),
                "n": int(np.sum(ok & (o == oo))),
                "coverage": _fin(np.mean(covered[ok & (o == oo)])) if np.any(ok & (o == oo)) else None,
                "kappa": _fin(path[float(oo)]),
                "coverage_calibrated": _fin(np.mean(cal_cov[out & (o == oo)])) if np.any(out & (o == oo)) else None,
            }
            for oo in np.unique(o)
        ],
    )
    return bc, {"lower": clo, "upper": chi, "out": out}


def weights_words(weights: Mapping[str, float], top: int = 3) -> list[str]:
    """The ``top`` largest stacking weights, each as "name 0.44" (the naive component as "naive
    local trend"), leaving out those below 0.005."""
    ranked = sorted(weights.items(), key=lambda kv: -kv[1])
    return [f"{'naive local trend' if k == NAIVE else k} {w:.2f}" for k, w in ranked[:top] if w >= 0.005]


def stacking_of(ds: xr.Dataset) -> dict[str, float]:
    """The stacking weights a calibrated forecast carries (its ``stacking_models`` and
    ``stacking_weights`` attributes; empty when it has none)."""
    a = ds.attrs
    return dict(zip(a.get("stacking_models", []), (float(w) for w in a.get("stacking_weights", [])), strict=True))


@dataclass(frozen=True)
class Calibration:
    """How the default bands covered on the series' own past, and how much to widen them.

    Attributes
    ----------
    bands : dict of str -> BandCalibration
        Per band: each model, and ``"averaged"`` (the default band).
    level : float
    origins : ndarray
        The past origins.
    source : str
        How the past bands were made (a backtest, or refits with parameter draws).
    series : str
    units : str
        The noise space's unit of ``kappa`` (e.g. "ln units").
    stacking : dict
        The stacking weights of the forecast from the last observation.
    record : str
        ``"refits"`` (the fast record) or ``"backtest"``.
    """

    bands: dict[str, BandCalibration]
    level: float
    origins: np.ndarray
    source: str
    series: str
    units: str
    method: str = METHOD
    stacking: dict[str, float] = field(default_factory=dict)
    record: str = "refits"

    @property
    def band(self) -> str:
        """The name of the default band: ``"stacked"`` when the record has it, else ``"averaged"``."""
        return STACKED if STACKED in self.bands else AVERAGED

    @property
    def default(self) -> BandCalibration:
        """The calibration of the default band (:attr:`band`)."""
        return self.bands[self.band]

    def kappa(self, model: str) -> float:
        """The added spread one year ahead for a band: a model's own, the averaged band's for
        ``"bootstrap_mixture"``; 0 when uncalibrated, not widened or not recorded."""
        b = self.bands.get(AVERAGED if model == MIXTURE else model)
        return 0.0 if b is None or b.kappa is None else float(b.kappa)

    def weights_text(self, top: int = 3) -> str:
        """The largest stacking weights in words ("breakpoint 0.44, naive local trend 0.27, ...")."""
        words = weights_words(self.stacking, top)
        rest = sum(sorted(self.stacking.values(), reverse=True)[top:])
        if rest >= 0.005:
            words.append(f"the others {rest:.2f}")
        return ", ".join(words)

    def sentence(self) -> str:
        """One line for the report: how the past bands covered, and what the calibration does."""
        pct = f"{self.level:.0%}"
        d = self.default

        def covered(b: BandCalibration, what: str, counts: bool = True) -> str:
            side = ""
            if b.above is not None and b.below is not None and b.coverage is not None and b.coverage < self.level:
                if b.below == 0 and b.above > 0:
                    side = ", every miss above the band"
                elif b.above == 0 and b.below > 0:
                    side = ", every miss below the band"
            n = f"{b.n_scores} from {len(self.origins)} origins" if counts else ""
            paren = f" ({n}{side})" if n else (f" ({side[2:]})" if side else "")
            return f"{what} covered {b.coverage:.2f} of the later observations{paren}"

        if d.coverage is None:
            return f"No past {pct} band could be scored on this series."
        avg = self.bands.get(AVERAGED)
        if self.band == STACKED:
            head = ""
            if avg is not None and avg.coverage is not None:
                head = covered(avg, f"Past {pct} bands of the Akaike-weighted average") + "; "
            head += covered(
                d,
                f"{'t' if head else 'T'}he default band, weighting the models and a naive local trend by how "
                f"well they forecast the series' past (stacking: {self.weights_text()}),",
                counts=not head,
            )
        else:
            head = covered(d, f"Past {pct} bands")
        if d.kappa is None:
            return head + f"; too few to calibrate on (a {pct} conformal band needs {min_scores(self.level)})."
        if d.kappa == 0 and d.coverage < self.level:
            tail = "; the shortfall is within sampling error, so the band is not widened"
        elif d.kappa == 0:
            tail = "; it is not widened"
        else:
            tail = (
                f"; the calibrated band adds {d.kappa:.3g} {self.units} of spread one year ahead, growing as "
                "the 3/2 power of the horizon"
            )
        if d.coverage_out is not None:
            # the fast record's parameter draws are narrower than the bootstrap's refits
            fast = self.record == "refits"
            how = ", by refits at past origins with first-order parameter uncertainty," if fast else ""

            def wide(b: BandCalibration | None) -> str:
                if b is None or b.width_naive is None:
                    return ""
                if math.isinf(b.width_naive):
                    return ", its band unbounded above at most of them"
                return f" at {b.width_naive:.2g} times the naive local trend's width"

            if self.band == STACKED and avg is not None and avg.coverage_out is not None:
                tail += (
                    f" (out of sample{how} it covered {d.coverage_out:.2f} of {d.n_out}{wide(d)}; the Akaike-weighted "
                    f"average, calibrated the same way, covered {avg.coverage_out:.2f}{wide(avg)})"
                )
            else:
                tail += (
                    f" (out of sample{how} it covered {d.coverage_out:.2f} of {d.n_out}{wide(d)}, where the band "
                    f"before widening covered {d.coverage_out_default:.2f})"
                )
        return head + tail + "."

    def to_dict(self) -> dict[str, Any]:
        """A strict-JSON dict (no NaN or infinity: None instead)."""

        def band(b: BandCalibration) -> dict[str, Any]:
            return {
                "kappa": _fin(b.kappa),
                "n_scores": int(b.n_scores),
                "coverage": _fin(b.coverage),
                "coverage_out_of_sample": _fin(b.coverage_out),
                "coverage_out_of_sample_default": _fin(b.coverage_out_default),
                "n_out_of_sample": int(b.n_out),
                "width_ratio": _fin(b.width_ratio),
                "width_over_naive": _fin(b.width_naive),
                "above": _fin(b.above),
                "below": _fin(b.below),
            }

        return {
            "method": self.method,
            "band": self.band,
            "stacking": {k: float(v) for k, v in self.stacking.items()},
            "stacking_prior": selection.STACKING_PRIOR,
            "power": POWER,
            "evidence": EVIDENCE,
            "level": float(self.level),
            "series": self.series,
            "source": self.source,
            "origins": [float(o) for o in self.origins],
            "kappa_units": self.units,
            "min_scores": min_scores(self.level),
            "default": band(self.default),
            "by_origin": self.default.by_origin,
            "averaged": band(self.bands[AVERAGED]) if AVERAGED in self.bands else None,
            "models": {k: band(b) for k, b in self.bands.items() if k not in (AVERAGED, STACKED)},
            "sentence": self.sentence(),
        }


def _units(noise_name: str) -> str:
    return {"log": "ln units", "logit": "logit units"}.get(noise_name, "data units")


def _check_level(level: float) -> None:
    if not (isinstance(level, int | float) and 0 < float(level) < 1):
        raise ParameterValueError(f"level = {level!r} must lie in (0, 1), e.g. 0.9")


def calibrate(
    fits: FitCollection,
    backtest: Backtest | None = None,
    *,
    level: float = 0.9,
    origins: Sequence[float] | None = None,
    max_origins: int = 12,
    n_draws: int = 200,
    seed: int | None = 0,
    per_model: bool = True,
    record: PastBands | None = None,
) -> Calibration:
    """Calibrate the bands of ``fits`` on the series' own past: stacking weights and the conformal drift.

    The default band (:attr:`Calibration.band`) is the stacked one: the models and the naive
    local trend weighted by their past predictive scores (``.stacking`` holds the weights of
    the forecast from the last observation).

    Parameters
    ----------
    fits : FitCollection
    backtest : Backtest, optional
        A backtest of the same series at the same ``level``: its default bands are the
        record (exact, costly).  Without it the record is made by refits and parameter draws
        (fast; see the module docstring).
    level : float
        Central probability of the bands (default 0.9).
    origins, max_origins, n_draws, seed
        The past origins (default :func:`default_origins`) and the parameter draws per model
        of the fast record.
    per_model : bool
        Calibrate every model's band as well as the averaged and stacked ones (default True).
    record : PastBands, optional
        A record already made (:func:`past_bands`).

    Returns
    -------
    Calibration

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.linspace(2000, 2020, 30)
    >>> y = np.exp(0.3 * (t - 2000) + np.random.default_rng(3).normal(0, 0.1, 30))
    >>> cal = calibrate(lsi.fit(lsi.Series(t, y), ["exponential", "linear"], noise="log"))
    >>> cal.default.kappa
    0.0
    """
    _check_level(level)
    check_seed(seed)
    if record is None:
        record = past_bands(
            fits,
            backtest,
            level=level,
            origins=origins,
            max_origins=max_origins,
            n_draws=n_draws,
            seed=seed,
            per_model=per_model,
        )
    rec = record
    bands = {}
    naive = None
    if NAIVE in rec.models:
        nv = rec.of(NAIVE)
        keys = zip(nv["origin"].tolist(), nv["t"].tolist(), strict=True)
        naive = dict(zip(keys, (nv["upper"] - nv["lower"]).tolist(), strict=True))
    for name in rec.models:
        if name == NAIVE:
            continue
        b = rec.of(name)
        bc, widened = _calibrate_band(b, level)
        if naive is not None and widened["out"].any():
            out = widened["out"]
            pairs = zip(b["origin"][out].tolist(), b["t"][out].tolist(), strict=True)
            wn = np.array([naive.get(k, np.nan) for k in pairs])
            with np.errstate(all="ignore"):
                ratio = float(np.median(widened["upper"][out] - widened["lower"][out]) / np.nanmedian(wn))
            bc = replace(bc, width_naive=None if math.isnan(ratio) else ratio)
        bands[name] = bc
    if AVERAGED not in bands:
        raise SeriesError("no past origin left enough points to fit any model; the bands cannot be calibrated")
    return Calibration(
        bands=bands,
        level=float(level),
        origins=rec.origins,
        source=rec.source,
        series=fits.series.name,
        units=_units(fits.noise.name),
        stacking=dict(rec.stacking),
        record=rec.record,
    )


def past_coverage(
    fits: FitCollection, backtest: Backtest | None = None, *, level: float = 0.9, **kw: Any
) -> Calibration:
    """The series' own rolling-origin coverage of the default band, and its calibration (the report's call).

    :func:`calibrate` for the Akaike-weighted and the stacked bands only (and the naive
    local trend's, to measure their widths against), by the fast record unless a
    ``backtest`` is given; read ``.default.coverage``, ``.default.kappa``, ``.stacking`` and
    ``.sentence()`` ("Past 90% bands of the Akaike-weighted average covered 0.53 of the later
    observations (36 from 8 origins, every miss above the band); the default band, weighting
    the models and a naive local trend ...").  Pass it to :func:`calibrated_forecast` as
    ``calibration=`` to add the stacked band and widen it and the averaged band (and the
    bootstrap mixture) by it.
    """
    kw.setdefault("per_model", False)
    return calibrate(fits, backtest, level=level, **kw)


# ---------------------------------------------------------------- calibrated bands
def _hold_lower(lo: np.ndarray) -> np.ndarray:
    """A lower bound that went infinite (all mass past a singularity) held at its last finite value."""
    out = lo.copy()
    last = np.nan
    for i in range(out.size):
        if np.isfinite(out[i]):
            last = out[i]
        elif not np.isnan(last) and out[i] > 0:
            out[i] = last
    return out


def calibrated_forecast(
    fits: FitCollection,
    until: Any,
    *,
    calibration: Calibration | None = None,
    backtest: Backtest | None = None,
    level: float = 0.9,
    n: int = DEFAULT_N,
    seed: int | None = 0,
    step: float | None = None,
    bootstrap: Bootstrap | None = None,
    **calibrate_kw: Any,
) -> xr.Dataset:
    """Forecast bands calibrated on the series' own past: :func:`lsi.forecast.forecast`, widened.

    The stacked band (``"stacked"``: the models and the naive local trend with the
    calibration's stacking weights, :func:`lsi.forecast.forecast`'s ``stacking=``) joins
    the forecast as its default band.  It, each model's prediction band and the
    Akaike-weighted one are widened by the spread their own past forecasts missed
    (:func:`calibrate`; ``bootstrap_mixture`` takes the averaged band's), from the last
    observation on; the ``curve`` band (parameter uncertainty only) is left as it is.  A
    band the calibration has no record of (a model never fitted at a past origin, or every
    model when ``calibration`` came from :func:`past_coverage`, which records the two
    averages only) is left as it is, with ``kappa`` NaN.

    Parameters
    ----------
    fits : FitCollection
    until, level, n, seed, step, bootstrap
        As for :func:`lsi.forecast.forecast`.
    calibration : Calibration, optional
        From :func:`calibrate` (made here if not given, from ``backtest`` when given).
    backtest : Backtest, optional
        Passed to :func:`calibrate`.
    **calibrate_kw
        Passed to :func:`calibrate` (``origins``, ``max_origins``, ``n_draws``).

    Returns
    -------
    xarray.Dataset
        As :func:`lsi.forecast.forecast`'s, with ``prediction`` calibrated and beside it
        ``prediction_default`` (the band before calibration), per model ``kappa`` (added
        spread one year ahead, noise space), ``past_coverage`` (share of the series'
        own past pairs the default band covered), ``calibrated_coverage`` (the calibrated
        band's out-of-sample coverage on that past) and ``unbounded_from`` (the first date
        from which the upper bound is unbounded, a fitted singularity having passed; NaN
        when it never is).  Attributes as forecast's, plus ``calibration`` (the method),
        ``calibration_source``, ``calibration_origins``, ``past_coverage``,
        ``calibrated_coverage`` (and ``calibrated_pairs``, the past pairs behind it),
        ``kappa`` (the default band's), ``band`` (the default
        band's name: ``"stacked"``, or ``"averaged"`` when the calibration has no stacked
        band, as from a backtest made before it had one), ``stacking_models`` and
        ``stacking_weights``, and ``calibration_note``
        (one sentence for a reader).

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.linspace(2000, 2020, 30)
    >>> y = np.exp(0.3 * (t - 2000) + np.random.default_rng(3).normal(0, 0.1, 30))
    >>> fits = lsi.fit(lsi.Series(t, y), ["exponential", "linear"], noise="log")
    >>> ds = calibrated_forecast(fits, 2025, n=100)
    >>> ds.prediction.sel(model="averaged").shape, ds.attrs["calibration"]
    ((201, 3), 'conformal drift')
    """
    _check_level(level)
    cal = calibration if calibration is not None else calibrate(fits, backtest, level=level, **calibrate_kw)
    if abs(cal.level - level) > 1e-12:
        raise ParameterValueError(f"the calibration is for {cal.level:.0%} bands but level = {level}")
    ds = forecast(
        fits, until, level=level, n=n, seed=seed, step=step, bootstrap=bootstrap, stacking=cal.stacking or None
    )
    noise = fits.noise
    t = ds["time"].to_numpy()
    t_last = float(fits.series.t[-1])
    h_floor = _floor(fits.series.t)
    after = t > t_last
    h = np.where(after, np.maximum(t - t_last, h_floor), 0.0)
    names = [str(m) for m in ds["model"].to_numpy()]
    default = ds["prediction"].to_numpy()
    calibrated = default.copy()
    kappas = np.full(len(names), np.nan)
    unbounded = np.full(len(names), np.nan)
    past = np.full(len(names), np.nan)
    past_out = np.full(len(names), np.nan)
    for i, name in enumerate(names):
        # a model by its own past; the bootstrap mixture by the averaged band's
        b = cal.bands.get(AVERAGED if name == MIXTURE else name)
        k = 0.0 if b is None or b.kappa is None else float(b.kappa)
        kappas[i] = np.nan if b is None or b.kappa is None else k
        if b is not None:
            past[i] = np.nan if b.coverage is None else b.coverage
            past_out[i] = np.nan if b.coverage_out is None else b.coverage_out
        with np.errstate(all="ignore"):
            zq = noise.transform(default[i].T)  # (3, time)
        lo, hi = widen(zq[0], zq[1], zq[2], h, k, level)
        lo = np.where(after, lo, zq[0])
        hi = np.where(after, hi, zq[2])
        inf_at = np.flatnonzero(np.isposinf(hi) & after)
        if inf_at.size:
            first = int(inf_at[0])
            unbounded[i] = float(t[first])
            hi[first:] = np.inf
        lo = _hold_lower(lo)
        with np.errstate(over="ignore"):
            # widened after the data only: up to the last observation (a grid time) the default
            # band stays bit for bit, not sent through the noise space and back
            calibrated[i, after, 0] = noise.to_data(lo)[after]
            calibrated[i, after, 2] = noise.to_data(hi)[after]
    ds = ds.rename({"prediction": "prediction_default"})
    ds["prediction"] = (("model", "time", "quantile"), calibrated)
    ds["prediction"].attrs["description"] = (
        "band for a new observation, calibrated on the series' own past forecasts (conformal drift)"
    )
    ds["prediction_default"].attrs["description"] = "the default band before calibration"
    ds["kappa"] = (("model",), kappas)
    ds["kappa"].attrs["description"] = (
        f"added spread one year ahead ({cal.units}), growing as the {POWER:g} power of the horizon"
    )
    ds["past_coverage"] = (("model",), past)
    ds["calibrated_coverage"] = (("model",), past_out)
    ds["unbounded_from"] = (("model",), unbounded)
    ds["unbounded_from"].attrs["description"] = (
        "first date from which the upper bound is unbounded (a fitted singularity passed; for a bounded "
        "score, the band reaches the top of its scale); NaN: never"
    )
    d = cal.default
    band = cal.band if cal.band in names else AVERAGED
    ds.attrs.update(
        {
            "band": band,
            "stacking_models": list(cal.stacking),
            "stacking_weights": [float(v) for v in cal.stacking.values()],
            "calibration": cal.method,
            "calibration_source": cal.source,
            "calibration_origins": [float(o) for o in cal.origins],
            "past_coverage": np.nan if d.coverage is None else float(d.coverage),
            "calibrated_coverage": np.nan if d.coverage_out is None else float(d.coverage_out),
            "calibrated_pairs": int(d.n_out),
            "kappa": 0.0 if d.kappa is None else float(d.kappa),
            "calibration_note": cal.sentence(),
        }
    )
    return ds


def bands_json(ds: xr.Dataset, models: Sequence[str] | None = None) -> dict[str, Any]:
    """A strict-JSON dict of a calibrated forecast (:func:`calibrated_forecast`).

    ``{"method", "band", "stacking", "level", "series", "units", "past_coverage",
    "calibrated_coverage", "kappa", "note", "time", "date", "bands": {model: {"lower",
    "median", "upper", "kappa", "unbounded_from"}}}`` (``date``: each time's calendar day,
    ISO, UTC);
    an unbounded upper bound is None, and ``unbounded_from`` gives the date it starts (None:
    never).  ``models`` limits the bands (default: all, the averaged band first).
    """

    def num(x: Any) -> float | None:
        x = float(x)
        return x if math.isfinite(x) else None

    names = [str(m) for m in ds["model"].to_numpy()]
    chosen = names if models is None else [m for m in models if m in names]
    first = [m for m in (STACKED, AVERAGED) if m in chosen]
    chosen = first + [m for m in chosen if m not in first]
    bands = {}
    for m in chosen:
        p = ds["prediction"].sel(model=m).to_numpy()
        bands[m] = {
            "lower": [num(x) for x in p[:, 0]],
            "median": [num(x) for x in p[:, 1]],
            "upper": [num(x) for x in p[:, 2]],
            "kappa": num(ds["kappa"].sel(model=m)),
            "unbounded_from": num(ds["unbounded_from"].sel(model=m)),
        }
    a = ds.attrs
    return {
        "method": a["calibration"],
        "band": a.get("band", AVERAGED),
        "stacking": stacking_of(ds),
        "level": float(a["level"]),
        "series": a["series"],
        "units": a["units"],
        "past_coverage": num(a["past_coverage"]),
        "calibrated_coverage": num(a["calibrated_coverage"]),
        "kappa": num(a["kappa"]),
        "note": a["calibration_note"],
        "time": [float(x) for x in ds["time"].to_numpy()],
        "date": iso_days(ds["time"].to_numpy()),
        "bands": bands,
    }
