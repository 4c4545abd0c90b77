r"""Backtesting: fit up to a date, score the forecast of what came after.

The honest test of a growth model is whether it would have forecast the points that
followed (docs/mathematics.md, "Comparing models").  :func:`backtest` fits the models on the data up to
each forecast origin, builds their predictive distributions for the later points
(:func:`lsi.forecast.predictive`: bootstrap parameter uncertainty plus observation
noise, and the two model averages) and scores them in the noise model's space
(``ln y``, ``logit y`` or ``y``), where errors are comparable across the range:

``interval_score``
    Gneiting and Raftery's (2007) score of the central ``level`` interval
    ``[l, u]``: ``(u - l) + (2/alpha)(l - z) 1{z < l} + (2/alpha)(z - u) 1{z > u}``,
    ``alpha = 1 - level`` (lower is better).
``crps``
    Continuous ranked probability score of the predictive distribution (exact for
    the Gaussian mixtures and the Student t of the baseline; lower is better).
``log_score``
    Log predictive density of the observation (higher is better).
``covered``
    Whether the observation fell inside the ``level`` band.
``error``
    Median forecast minus observation (noise space).

A naive baseline sits beside the models: the last local trend, a straight line in the
noise space (log-linear for log noise) through the last ``naive_points`` training
points, extrapolated with its ordinary least-squares Student-t prediction interval.
Beside the two model averages, ``stacked`` mixes the models and the naive baseline with
weights from the log scores of the pairs scored before each origin (origins before it,
points observed by then: :func:`lsi.selection.weights_before`), so it too is scored out of
sample: the default band of :func:`lsi.calibration.calibrated_forecast` before its widening.

A curve past its fitted singularity forecasts infinity: its scores are infinite
(``crps``, ``interval_score``) or ``-inf`` (``log_score``) rather than dropped, and
the summary reports medians beside means so one such origin does not hide the rest.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .exceptions import BoundWarning, ParameterValueError, SeriesError
from .fitting import fit
from .forecast import NAIVE, STACKED, LocalTrend, local_trend, mix, predictive
from .observation import default_noise, get_noise
from .selection import weights_before
from .series import Series, decimal_year

__all__ = ["backtest", "Backtest", "interval_score", "crps_student_t"]


def interval_score(z: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float) -> np.ndarray:
    """Interval score of central ``level`` intervals ``[lower, upper]`` for observations ``z``.

    Examples
    --------
    >>> round(float(interval_score(np.array([3.0]), np.array([0.0]), np.array([2.0]), 0.9)[0]), 9)
    22.0
    """
    alpha = 1.0 - level
    z, lower, upper = (np.asarray(a, dtype=float) for a in (z, lower, upper))
    with np.errstate(invalid="ignore"):
        out = (upper - lower) + (2 / alpha) * np.maximum(lower - z, 0) + (2 / alpha) * np.maximum(z - upper, 0)
    return np.where(np.isinf(lower) | np.isinf(upper), np.inf, out)


def crps_student_t(z: np.ndarray, df: float, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
    r"""CRPS of a location-scale Student t with ``df > 1`` degrees of freedom.

    .. math::
        \mathrm{CRPS} = \sigma\left[x(2F_\nu(x) - 1) + 2 f_\nu(x)\frac{\nu + x^2}{\nu - 1}
        - \frac{2\sqrt{\nu}\,B(\tfrac12, \nu - \tfrac12)}{(\nu - 1) B(\tfrac12, \tfrac\nu2)^2}\right],
        \qquad x = (z - \mu)/\sigma

    (Jordan, Krüger and Lerch 2019, scoringRules).

    Examples
    --------
    >>> round(float(crps_student_t(np.array([0.0]), 1e6, np.array([0.0]), np.array([1.0]))[0]), 4)
    0.2337
    """
    if not df > 1:
        raise ParameterValueError(f"the CRPS of a Student t needs df > 1; got {df}")
    x = (np.asarray(z, dtype=float) - loc) / scale
    nu = float(df)
    const = 2 * math.sqrt(nu) * special.beta(0.5, nu - 0.5) / ((nu - 1) * special.beta(0.5, nu / 2) ** 2)
    val = x * (2 * stats.t.cdf(x, nu) - 1) + 2 * stats.t.pdf(x, nu) * (nu + x**2) / (nu - 1) - const
    return np.asarray(scale, dtype=float) * val


@dataclass
class Backtest:
    """Scores of forecasts made at several origins.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per (origin, model, scored point): ``origin``, ``model``, ``t``,
        ``horizon`` (years after the origin), ``n_train``, ``y`` and the band
        ``lower``, ``median``, ``upper`` (data units), ``z``, ``z_lower``, ``z_median``,
        ``z_upper`` (noise space), ``covered``, ``interval_score``, ``crps``,
        ``log_score``, ``error``, and ``weight`` (the model's Akaike weight at that
        origin; NaN for the averages and the baseline).
    origins : ndarray
        The forecast origins (decimal years).
    level : float
    noise : str
    skipped : list of dict
        ``{"origin", "model", "reason"}`` for models (or the baseline) left out at an
        origin because it leaves too few points for them.
    """

    scores: pd.DataFrame
    origins: np.ndarray
    level: float
    noise: str
    series: str
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """One row per model, sorted by mean CRPS (best first).

        Columns: ``n`` (scored points), ``origins``, ``coverage`` (share inside the
        ``level`` band; nominal ``level``), ``interval_score``, ``crps``,
        ``crps_median``, ``log_score`` (means unless named), ``mae`` (mean absolute
        error of the median, noise space) and ``bias`` (mean error).
        """
        df = self.scores
        if df.empty:
            return pd.DataFrame(
                columns=[
                    "n",
                    "origins",
                    "coverage",
                    "interval_score",
                    "crps",
                    "crps_median",
                    "log_score",
                    "mae",
                    "bias",
                ]
            )
        g = df.groupby("model", sort=False)
        out = pd.DataFrame(
            {
                "n": g.size(),
                "origins": g["origin"].nunique(),
                "coverage": g["covered"].mean(),
                "interval_score": g["interval_score"].mean(),
                "crps": g["crps"].mean(),
                "crps_median": g["crps"].median(),
                "log_score": g["log_score"].mean(),
                "mae": g["error"].apply(lambda e: float(np.mean(np.abs(e)))),
                "bias": g["error"].mean(),
            }
        )
        return out.sort_values(["crps", "crps_median"], kind="stable")

    def text(self) -> str:
        """The summary as a readable table."""
        from .summary import backtest_text

        return backtest_text(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``lsi backtest --json`` object)."""

        def num(x: Any) -> Any:
            if isinstance(x, bool | np.bool_):
                return bool(x)
            if isinstance(x, int | np.integer):
                return int(x)
            if isinstance(x, float | np.floating):
                return float(x) if np.isfinite(x) else None
            return x

        summ = self.summary()
        return {
            "series": self.series,
            "noise": self.noise,
            "level": self.level,
            "origins": [float(o) for o in self.origins],
            "summary": [{"model": str(k), **{c: num(v) for c, v in row.items()}} for k, row in summ.iterrows()],
            "scores": [{c: num(v) for c, v in rec.items()} for rec in self.scores.to_dict(orient="records")],
            "skipped": [{k: num(v) for k, v in d.items()} for d in self.skipped],
        }

    def __repr__(self) -> str:
        return f"<Backtest of {self.scores['model'].nunique()} forecasts at {len(self.origins)} origins>"


def origins_after(series: Series, share: float, max_origins: int, too_few: str) -> np.ndarray:
    """Observation times leaving at least ``share`` of the series (and 6 points) before them and
    at least one point after; at most ``max_origins`` of them, evenly spread.  ``too_few`` is
    the error's text when there is none."""
    t = series.t
    n = t.size
    first = max(math.ceil(n * share), 6) - 1
    cand = np.unique(t[first:][t[first:] < t[-1]]) if n > first else np.zeros(0)
    if cand.size == 0:
        raise SeriesError(f"the series has {n} points, {too_few}")
    if cand.size > max_origins:
        cand = cand[np.unique(np.round(np.linspace(0, cand.size - 1, max_origins)).astype(int))]
    return cand


def _default_origins(series: Series, max_origins: int) -> np.ndarray:
    """Origins leaving at least half the series before them (:func:`origins_after`)."""
    return origins_after(
        series,
        0.5,
        max_origins,
        "too few to backtest (the default origins keep at least 6 points to fit and one to score); "
        "give origins= explicitly",
    )


def _naive_rows(line: LocalTrend, test_t: np.ndarray, z_test: np.ndarray, level: float):
    """Quantiles and scores of the naive local trend's Student-t forecast (noise space)."""
    dof = line.dof
    loc, scale = line.loc(test_t), line.scale(test_t)
    q = stats.t.ppf([(1 - level) / 2, 0.5, (1 + level) / 2], dof)
    zq = loc[None, :] + q[:, None] * scale[None, :]
    crps = crps_student_t(z_test, dof, loc, scale) if dof > 1 else np.full(test_t.size, np.inf)
    logs = stats.t.logpdf(z_test, dof, loc, scale)
    return zq, crps, logs


def backtest(
    series: Series,
    models: str | Sequence[str] = "all",
    origins: Sequence[Any] | None = None,
    *,
    noise: str | None = None,
    level: float = 0.9,
    horizon: float | None = None,
    n_boot: int = 200,
    seed: int | None = 0,
    naive_points: int = 5,
    max_origins: int = 8,
) -> Backtest:
    """Fit on the data up to each origin and score the forecasts of the later points.

    Parameters
    ----------
    series : Series
    models : "all", a model name or a list of names
        As for :func:`lsi.fit`.  Named models must be fittable at every origin;
        with ``"all"`` a model an origin leaves too few points for is skipped there
        (and listed in ``Backtest.skipped``).
    origins : list of decimal years or dates, optional
        Forecast origins: each fit uses the points at or before it and scores the
        points after it.  Default: up to ``max_origins`` observation times that leave
        at least half the series (and 6 points) to fit and one point to score.
    noise : str, optional
        Noise model (default: the series', as :func:`lsi.fit`).
    level : float
        Central probability of the scored bands (default 0.9).
    horizon : float, optional
        Score only points at most this many years after the origin.
    n_boot : int
        Bootstrap replicates per origin (parameter uncertainty).
    seed : int, optional
        Seed of the bootstraps.
    naive_points : int
        Points of the naive local-trend baseline (at least 3).
    max_origins : int
        Most default origins.

    Returns
    -------
    Backtest

    Raises
    ------
    SeriesError
        One line when an origin leaves fewer than 3 points to fit, none to score, or
        fewer points than a named model needs.

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.linspace(2015, 2025, 24)
    >>> y = np.exp(0.6 * (t - 2015) + np.random.default_rng(2).normal(0, 0.1, 24))
    >>> bt = backtest(lsi.Series(t, y), ["exponential", "linear"], origins=[2020, 2022], n_boot=50)
    >>> s = bt.summary()
    >>> bool(s.loc["exponential", "crps"] < s.loc["linear", "crps"]), int(s.loc["naive", "origins"])
    (True, 2)
    """

    if not isinstance(series, Series):
        raise SeriesError(f"backtest needs an lsi.Series; got {type(series).__name__} (use lsi.Series(t, y))")
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise ParameterValueError(f"level = {level!r} must lie in (0, 1), e.g. 0.9")
    if int(naive_points) < 3:
        raise ParameterValueError(f"naive_points = {naive_points} must be at least 3 (a line and its scatter)")
    if horizon is not None and not (np.isfinite(horizon) and horizon > 0):
        raise ParameterValueError(f"horizon = {horizon!r} must be a positive number of years")
    nm = default_noise(series) if noise is None else get_noise(noise)
    nm.validate(series)  # warn once here, not at every origin
    explicit = not (isinstance(models, str) and models.strip().lower() == "all")
    if origins is None:
        orig = _default_origins(series, int(max_origins))
    else:
        try:
            items = [origins] if isinstance(origins, str | int | float) else list(origins)
            orig = np.sort(np.array([float(decimal_year(o)[0]) for o in items], dtype=float))
        except (SeriesError, ValueError, TypeError):
            raise ParameterValueError(
                f"origins = {origins!r} must be decimal years or dates, e.g. [2023.0, 2024.0]"
            ) from None
        if orig.size == 0:
            raise ParameterValueError("origins is empty; give at least one date, or leave it out")
    probs = [round((1 - level) / 2, 12), 0.5, round((1 + level) / 2, 12)]
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    t_all, y_all = series.t, series.y
    scored: list[tuple[float, float, dict[str, float]]] = []
    for o in orig:
        n_train = int(np.sum(t_all <= o))
        if n_train < 3:
            raise SeriesError(
                f"origin {o:.3f} leaves {n_train} points to fit (the series starts at {t_all[0]:.3f}); "
                "fitting needs at least 3: choose a later origin"
            )
        later = t_all > o
        if horizon is not None:
            later &= t_all <= o + horizon
        if not later.any():
            raise SeriesError(
                f"origin {o:.3f} leaves no later point to score (the series ends at {t_all[-1]:.3f}"
                + (f", horizon {horizon} yr" if horizon is not None else "")
                + "); choose an earlier origin"
            )
        train = series.until(o)
        test_t, test_y = t_all[later], y_all[later]
        z_test = nm.transform(test_y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BoundWarning)
            try:
                fits = fit(train, models, noise=nm, level=level, warn=False)
            except SeriesError as exc:
                if not explicit:
                    raise SeriesError(f"origin {o:.3f} leaves {n_train} points: {exc}") from None
                raise SeriesError(
                    f"origin {o:.3f} leaves {n_train} points: {exc}; choose a later origin or fewer-parameter models"
                ) from None
        for name, reason in fits.skipped.items():
            skipped.append({"origin": float(o), "model": name, "reason": reason})
        pr = predictive(fits, test_t, n=n_boot, seed=seed)
        base = {"origin": float(o), "n_train": n_train}
        dens: dict[str, np.ndarray] = {}  # each component's log predictive density, for stacking
        for name in pr.names:
            zq = pr.quantiles(name, probs, "prediction")
            if np.all(np.isnan(zq)):
                skipped.append(
                    {
                        "origin": float(o),
                        "model": name,
                        "reason": "no bootstrap refit converged, so there is no forecast to score",
                    }
                )
                continue
            crps = pr.crps(name, z_test)
            logs = pr.logpdf(name, z_test)
            weight = pr.weights.get(name, math.nan)
            rows += _rows(base, name, weight, test_t, test_y, z_test, zq, crps, logs, nm, level)
            if name in fits:
                dens[name] = logs
        k = int(naive_points)
        if n_train >= k:
            try:
                line = local_trend(train.t, nm.transform(train.y), k)
            except SeriesError as exc:
                skipped.append({"origin": float(o), "model": NAIVE, "reason": str(exc)})
            else:
                zq, crps, logs = _naive_rows(line, test_t, z_test, level)
                rows += _rows(base, NAIVE, math.nan, test_t, test_y, z_test, zq, crps, logs, nm, level)
                dens[NAIVE] = logs
                pr.components[NAIVE] = line.draws(test_t, pr.n_boot)
        else:
            skipped.append(
                {"origin": float(o), "model": NAIVE, "reason": f"needs {k} points; the origin leaves {n_train}"}
            )
        # the stacked band: the components weighted by the pairs scored before this origin
        stacked = mix(pr.components, weights_before(scored, list(dens), float(o))) if dens else None
        if stacked is not None:
            pr.components[STACKED] = stacked
            zq = pr.quantiles(STACKED, probs, "prediction")
            crps, logs = pr.crps(STACKED, z_test), pr.logpdf(STACKED, z_test)
            rows += _rows(base, STACKED, math.nan, test_t, test_y, z_test, zq, crps, logs, nm, level)
        scored += [(float(o), float(tt), {k: float(v[i]) for k, v in dens.items()}) for i, tt in enumerate(test_t)]
    df = pd.DataFrame(rows)
    return Backtest(df, orig, float(level), nm.name, series.name, skipped)


def _rows(base, name, weight, t, y, z, zq, crps, logs, noise, level) -> list[dict[str, Any]]:
    with np.errstate(over="ignore"):
        data = noise.to_data(zq)
    iscore = interval_score(z, zq[0], zq[2], level)
    out = []
    for i in range(t.size):
        out.append(
            {
                **base,
                "model": name,
                "weight": weight,
                "t": float(t[i]),
                "horizon": float(t[i] - base["origin"]),
                "y": float(y[i]),
                "lower": float(data[0, i]),
                "median": float(data[1, i]),
                "upper": float(data[2, i]),
                "z": float(z[i]),
                "z_lower": float(zq[0, i]),
                "z_median": float(zq[1, i]),
                "z_upper": float(zq[2, i]),
                "covered": bool(zq[0, i] <= z[i] <= zq[2, i]),
                "interval_score": float(iscore[i]),
                "crps": float(crps[i]),
                "log_score": float(logs[i]),
                "error": float(zq[1, i] - z[i]),
            }
        )
    return out
