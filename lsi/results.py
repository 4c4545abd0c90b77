"""Results of fitting: :class:`FitResult` (one model on one series) and :class:`FitCollection`.

Results are frozen: everything a fit found is set when it is built, and every statistic
derived from it (``params`` with their errors, fitted values, residuals, intervals of derived
quantities) is computed from those fields, lazily.  A collection computes the Akaike weights of
its members when it is built, and keeps the bootstrap of its members (resampling refits,
:mod:`lsi.bootstrap`) so that every later analysis of the same collection shares one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from . import selection
from .bootstrap import DEFAULT_N
from .exceptions import UnknownModelError
from .intervals import Interval, inverse, quantile, wald
from .models.base import LN2, GrowthModel
from .observation import Noise
from .series import Series, decimal_year

if TYPE_CHECKING:  # pragma: no cover
    import lmfit
    import pandas as pd

    from .bootstrap import Bootstrap

__all__ = ["FitResult", "FitCollection"]


def _years(t: Any) -> np.ndarray:
    """Times as decimal years in the shape they came in: decimal years as they are; ISO strings,
    ``datetime``/``date``, pandas timestamps and ``DatetimeIndex``, ``numpy.datetime64`` through
    :func:`lsi.series.decimal_year`, as :class:`~lsi.series.Series` reads them."""
    if isinstance(t, float | int | np.floating | np.integer) or (isinstance(t, np.ndarray) and t.dtype.kind in "fiu"):
        return np.asarray(t, dtype=float)  # decimal years already: the fitter's own calls
    shape = np.shape(t)
    if len(shape) > 1:
        t = np.asarray(t).ravel()  # the date parser takes one dimension
    return decimal_year(t).reshape(shape)


def _one_year(t: Any, what: str) -> float:
    """One time (a decimal year or a date) as a decimal year."""
    years = _years(t)
    if years.size != 1:
        raise ValueError(f"{what} takes one time; got {years.size} ({t!r:.60}); call it once per time")
    return float(years.reshape(-1)[0])


#: default of FitResult's array fields, which come after defaulted ones; the fitter always
#: fills them, so they are typed as arrays (the default stays None)
_FILLED_BY_FIT = cast("np.ndarray", None)


@dataclass(frozen=True)
class FitResult:
    """The fit of one model to one series.

    Attributes
    ----------
    model : GrowthModel
    params : lmfit.Parameters
        Best-fit values with ``stderr`` and ``correl`` (None where not identifiable).
    converged : bool
    message : str
    rss : float
        Residual sum of squares in the noise model's space (chi-square when the
        series carries per-point uncertainties).
    loglik, aicc, bic : float
        Also under statsmodels' names: ``llf``, ``aicc``, ``bic``, with ``aic``, ``nobs``,
        ``df_model`` and ``df_resid`` beside them.
    weight : float
        Akaike weight within the collection (set by :class:`FitCollection`).
    n, n_params : int
        Points and free parameters (``n_params`` counts the noise scale when it is
        estimated).
    identifiable : bool
    issues : list of str
        Why the parameters are not identifiable, when they are not.
    """

    model: GrowthModel
    series: Series
    noise: Noise
    t0: float
    converged: bool
    message: str
    nfev: int
    rss: float
    loglik: float
    aicc: float
    bic: float
    n: int
    n_params: int
    covar: np.ndarray | None  # covariance of the free parameters
    free: list[str]
    sigma_known: bool
    identifiable: bool
    issues: list[str]
    level: float = 0.95
    weight: float = float("nan")
    #: extra scatter (standard deviation in the noise model's space) added in quadrature
    #: to the per-point uncertainties; None when the series has none
    extra_scatter: float | None = None
    #: the parameter vector in ``model.param_specs`` order
    theta: np.ndarray = field(default=_FILLED_BY_FIT, repr=False)
    #: which parameters were varied, and the ranges they were varied in
    vary: np.ndarray = field(default=_FILLED_BY_FIT, repr=False)
    lower: np.ndarray = field(default=_FILLED_BY_FIT, repr=False)
    upper: np.ndarray = field(default=_FILLED_BY_FIT, repr=False)

    @cached_property
    def params(self) -> lmfit.Parameters:
        """Best-fit values as lmfit.Parameters, with ``stderr`` and ``correl`` where the
        parameters are identifiable (built on first access)."""
        import lmfit

        params = lmfit.Parameters()
        for i, s in enumerate(self.model.param_specs):
            params.add(
                s.name,
                value=float(self.theta[i]),
                vary=bool(self.vary[i]),
                min=float(self.lower[i]),
                max=float(self.upper[i]),
            )
        cov = self.covar
        if cov is not None and self.identifiable:  # a parameter's own error means nothing otherwise
            sd = np.sqrt(np.diag(cov))
            reg = [b for b, nb in enumerate(self.free) if nb not in self.model.irregular]
            for a in reg:  # irregular parameters (a break date) have their own intervals
                na = self.free[a]
                params[na].stderr = float(sd[a])
                params[na].correl = {self.free[b]: float(cov[a, b] / (sd[a] * sd[b])) for b in reg if b != a}
        return params

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def dof(self) -> int:
        return self.n - len(self.free)

    # ---------------------------------------------------------- statsmodels' names
    @property
    def nobs(self) -> int:
        """Number of observations (``n``)."""
        return self.n

    @property
    def llf(self) -> float:
        """Log-likelihood at the optimum (``loglik``), of the data in data units."""
        return self.loglik

    @property
    def df_model(self) -> int:
        """Number of free curve parameters (the noise scale and the extra scatter are not counted,
        as statsmodels does not count the scale)."""
        return len(self.free)

    @property
    def df_resid(self) -> int:
        """Residual degrees of freedom: ``nobs - df_model``."""
        return self.dof

    @property
    def aic(self) -> float:
        """Akaike information criterion, ``-2 llf + 2 k``, with the same ``k`` as ``aicc`` and ``bic``
        (``n_params``, plus a searched parameter's charge)."""
        return -2.0 * self.loglik + 2.0 * (self.n_params + self.model.extra_penalty)

    def conf_int(self, level: float | None = None, *, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals of the parameters, as statsmodels' ``conf_int``.

        Parameters
        ----------
        level : float, optional
            Coverage of the intervals (default: the fit's ``level``, 0.95 unless asked otherwise).
        alpha : float, optional
            statsmodels' spelling: ``level = 1 - alpha``.  Give one of the two.

        Returns
        -------
        pandas.DataFrame
            Index: the parameter names; columns ``lower`` and ``upper``: ``value -+ q stderr``
            with ``q`` the Student t quantile on ``df_resid`` degrees of freedom (normal when
            the noise scale is known).  NaN where there is no standard error: a fixed
            parameter, a fit that is not identifiable, a searched parameter (a break date:
            see :mod:`lsi.profile`).

        Examples
        --------
        >>> import lsi
        >>> s = lsi.Series([2020, 2021, 2022, 2023, 2024], [1.0, 2.1, 3.9, 8.2, 15.8])
        >>> r = lsi.fit(s, "exponential")["exponential"]
        >>> list(r.conf_int(0.9).columns)
        ['lower', 'upper']
        """
        import pandas as pd

        level = _level(level, alpha, self.level)
        q = quantile(level, None if self.sigma_known else self.dof)
        rows = {}
        for name, p in self.params.items():
            se = p.stderr if p.vary and p.stderr is not None else math.nan
            rows[name] = (p.value - q * se, p.value + q * se)
        return pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "upper"], dtype=float)

    def fit_report(self, level: float | None = None, min_correl: float = 0.1) -> str:
        """The fit as lmfit's ``fit_report`` lays it out: statistics, parameters with standard
        errors and intervals at ``level``, correlations of size ``min_correl`` or more."""
        from .display import fit_report_text

        return fit_report_text(self, _level(level, None, self.level), min_correl)

    @property
    def q(self) -> float:
        """Critical value for the result's level (Student t when the noise scale is estimated)."""
        return quantile(self.level, None if self.sigma_known else self.dof)

    # ---------------------------------------------------------- predictions
    def _tau(self, t: Any) -> np.ndarray:
        return _years(t) - self.t0

    def capability(self, t: Any) -> np.ndarray:
        """Fitted capability C(t) (the odds, for logit noise) at times ``t``: decimal years or
        dates (ISO strings, ``datetime``, ``numpy.datetime64``, pandas timestamps)."""
        return np.exp(self.model.lnC_theta(self._tau(t), self.theta))

    def predict(self, t: Any) -> np.ndarray:
        """Fitted value at times ``t``, in data units, in the shape of ``t``.

        ``t`` holds decimal years or dates (ISO strings, ``datetime``/``date``,
        ``numpy.datetime64``, pandas timestamps or a ``DatetimeIndex``), read as
        :class:`~lsi.series.Series` reads them.
        """
        if self.noise.uses_log_capability:
            return self.noise.to_data(self.model.lnC_theta(self._tau(t), self.theta))
        return self.model.C_theta(self._tau(t), self.theta)

    @property
    def fitted(self) -> np.ndarray:
        """Fitted values at the observed times, in data units."""
        return self.predict(self.series.t)

    @property
    def residuals(self) -> np.ndarray:
        """Residuals in the noise model's space (not whitened)."""
        z = self.noise.transform(self.series.y)
        zhat = self.noise.transform(self.fitted) if self.noise.name != "additive" else self.fitted
        return z - zhat

    # ---------------------------------------------------------- delta method
    def _se(self, grad_full: np.ndarray) -> float:
        if self.covar is None:
            return math.nan
        idx = [self.model.param_names.index(n) for n in self.free]
        g = np.asarray(grad_full, dtype=float)[idx]
        if not np.all(np.isfinite(g)):
            return math.nan
        v = float(g @ self.covar @ g)
        return math.sqrt(v) if v >= 0 else math.nan

    def growth_rate(self, t: Any = None) -> Interval:
        """d ln C/dt at t (a decimal year or a date; default: the last observation), with a Wald interval."""
        t = self.series.t[-1] if t is None else _one_year(t, "growth_rate")
        tau = np.asarray(t - self.t0)
        r = float(self.model.rate_theta(tau, self.theta))
        se = self._se(self.model.rate_grad_theta(tau, self.theta).reshape(-1))
        return wald(r, se, self.q, self.level)

    def doubling_time(self, t: Any = None) -> Interval:
        """Doubling time of C in years at t (a decimal year or a date; default: the last observation).

        The interval is the inverse of the growth rate's interval; an upper bound
        of None means unbounded (the rate's interval reaches zero).
        """
        t = self.series.t[-1] if t is None else _one_year(t, "doubling_time")
        tau = np.asarray(t - self.t0)
        r = float(self.model.rate_theta(tau, self.theta))
        se = self._se(self.model.rate_grad_theta(tau, self.theta).reshape(-1))
        return inverse(r, se, self.q, self.level, numerator=LN2)

    def singularity_time(self) -> Interval | None:
        """Date at which C reaches infinity, or None for models without one.

        Derived from the interval of ``1 / (t* - t0)`` (a rate), so an interval of
        that rate reaching zero gives an unbounded upper date.
        """
        ev = self.model.event_tau_theta("singularity", self.theta)
        if ev is None:
            return None
        tau_s, grad = ev
        with np.errstate(over="ignore"):
            tau2 = np.float64(tau_s) ** 2
        if not np.isfinite(tau_s) or tau_s <= 0 or not np.isfinite(tau2):
            return Interval(None, None, None, self.level)  # none, or beyond any float date
        rate = 1.0 / tau_s
        se = self._se(-grad / tau2)
        return inverse(rate, se, self.q, self.level, numerator=1.0, offset=self.t0)

    def inflection_time(self) -> Interval | None:
        """Date of the inflection of C(t) (Wald interval), or None for models without one."""
        ev = self.model.event_tau_theta("inflection", self.theta)
        if ev is None:
            return None
        tau_i, grad = ev
        if not np.isfinite(tau_i):
            return Interval(None, None, None, self.level)
        return wald(self.t0 + tau_i, self._se(grad), self.q, self.level)

    def time_to_reach(self, level: float) -> Interval:
        """Date at which C first reaches ``level`` (data units).

        The interval comes from the rate ``1 / (t_reach - t_last)`` and is inverted,
        so it is unbounded above when that rate's interval reaches zero; the value is
        None when the fitted model never reaches the level.
        """
        cap = float(self.noise.capability_from_data(np.asarray(level)))
        t_last = float(self.series.t[-1])
        try:
            tau = float(self.model.inverse_theta(np.asarray(cap), self.theta))
            grad = self.model.inverse_grad_theta(np.asarray(cap), self.theta).reshape(-1)
        except NotImplementedError:
            return Interval(None, None, None, self.level)
        dt = self.t0 + tau - t_last
        with np.errstate(over="ignore"):
            dt2 = np.float64(dt) ** 2
        if not np.isfinite(dt) or not np.isfinite(dt2):
            return Interval(None, None, None, self.level)
        if dt <= 0:
            return Interval(self.t0 + tau, None, None, self.level)
        rate = 1.0 / dt
        se = self._se(-grad / dt2)
        return inverse(rate, se, self.q, self.level, numerator=1.0, offset=t_last)

    # ---------------------------------------------------------- rendering
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``lsi fit --json`` record of this model)."""
        sing = self.singularity_time()
        dt = self.doubling_time()
        out: dict[str, Any] = {
            "name": self.name,
            "converged": bool(self.converged),
            "params": {
                k: {
                    "value": _num(p.value),
                    "stderr": _num(p.stderr) if p.stderr is not None else None,
                    "vary": bool(p.vary),
                }
                for k, p in self.params.items()
            },
            "rss": _num(self.rss),
            "loglik": _num(self.loglik),
            "aicc": _num(self.aicc),
            "bic": _num(self.bic),
            "weight": _num(self.weight),
            "n_params": int(self.n_params),
            "fitted": [_num(v) for v in self.fitted],
            "doubling_time": None if dt.value is None else dt.to_days(),
            "singularity_time": None if sing is None or sing.value is None else sing.to_dict(unit="decimal year"),
            "identifiable": bool(self.identifiable),
            "issues": list(self.issues),
            "message": self.message,
        }
        return out

    def summary(self) -> str:
        from .summary import fit_result_text

        return fit_result_text(self)

    def __repr__(self) -> str:
        status = "converged" if self.converged else "NOT CONVERGED"
        return f"<FitResult {self.name} on {self.series.name!r}: n={self.n}, {status}, AICc={self.aicc:.2f}>"

    def _repr_html_(self) -> str:
        from .display import fit_result_html

        return fit_result_html(self)


def _level(level: float | None, alpha: float | None, default: float) -> float:
    """The coverage asked for as ``level`` or as statsmodels' ``alpha`` (one of them), checked."""
    if level is not None and alpha is not None:
        raise ValueError(f"give level ({level}) or alpha ({alpha}), not both; level = 1 - alpha")
    value = default if level is None and alpha is None else (1.0 - alpha if alpha is not None else level)
    try:
        value = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"level must be a number in (0, 1); got {value!r}") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"level must be in (0, 1) (0.95 for 95% intervals); got {value!r}")
    return value


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class FitCollection(Mapping[str, FitResult]):
    """Fits of several models to one series, with Akaike weights.

    Behaves as a read-only mapping from model name to :class:`FitResult`.  Its members are
    the results as fitted, each with its Akaike weight within the collection; nothing about
    them changes after the collection is built.
    """

    def __init__(self, series: Series, noise: Noise, results: Sequence[FitResult], skipped: Mapping[str, str]):
        self._series = series
        self._noise = noise
        scores = np.array([r.aicc if r.converged else np.inf for r in results])
        weights = selection.akaike_weights(scores)
        self._results = {r.name: replace(r, weight=float(w)) for r, w in zip(results, weights, strict=True)}
        self._skipped = dict(skipped)
        self._bootstraps: dict[tuple[int, int | None, bool, str, int | None], Bootstrap] = {}

    @property
    def series(self) -> Series:
        """The series every model was fitted to."""
        return self._series

    @property
    def noise(self) -> Noise:
        """The observation model of every fit."""
        return self._noise

    @property
    def skipped(self) -> Mapping[str, str]:
        """Models that could not be fitted at all, with the reason (``fit(errors="skip")``): a copy."""
        return dict(self._skipped)

    def __getitem__(self, name: str) -> FitResult:
        try:
            return self._results[name]
        except KeyError:
            hint = f"; {name!r} was skipped: {self.skipped[name]}" if name in self.skipped else ""
            raise UnknownModelError(
                f"no fit of {name!r} in this collection; fitted: {', '.join(self._results)}{hint}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    @property
    def weights(self) -> dict[str, float]:
        """Akaike (AICc) weights by model."""
        return {k: r.weight for k, r in self._results.items()}

    @property
    def best(self) -> FitResult:
        """The result with the largest Akaike weight."""
        return max(self._results.values(), key=lambda r: (r.weight, -r.aicc))

    @property
    def nobs(self) -> int:
        """Number of observations every model was fitted to."""
        return len(self._series)

    def table(self) -> pd.DataFrame:
        """A pandas DataFrame: one row per model, sorted by AICc.

        The comparison (``converged``, ``k``, ``aicc``, ``delta_aicc``, ``weight``,
        ``doubling_days`` with its interval, ``singularity``, ...), then each model's
        parameters in columns qualified by the model (``exponential.g``,
        ``exponential.g_stderr``): models that share a parameter name (``g``) do not share a
        column.  :meth:`params_table` has the parameters one row each.
        """
        import pandas as pd

        from .summary import fits_table

        df = fits_table(self)
        # the comparison names each parameter by itself, so two models' g would fall in one
        # column: those columns are replaced by ones qualified by the model
        names = {p for r in self._results.values() for p in r.model.param_names}
        shared = [c for c in df.columns if c in names or (c.endswith("_stderr") and c[: -len("_stderr")] in names)]
        qualified: dict[str, dict[str, float | None]] = {}
        for r in self._results.values():
            for k, p in r.params.items():
                qualified.setdefault(f"{r.name}.{k}", {})[r.name] = p.value
                qualified.setdefault(f"{r.name}.{k}_stderr", {})[r.name] = p.stderr
        extra = pd.DataFrame(qualified, index=df.index, dtype=float)
        return pd.concat([df.drop(columns=shared), extra], axis=1)

    def params_table(self, level: float | None = None, *, alpha: float | None = None) -> pd.DataFrame:
        """Every model's parameters, one row each (long format): columns ``model``, ``param``,
        ``value``, ``stderr``, ``lower``, ``upper`` (Wald intervals at ``level``, as
        :meth:`FitResult.conf_int`) and ``vary``; models in the collection's order."""
        import pandas as pd

        rows = []
        for r in self._results.values():
            ci = r.conf_int(level, alpha=alpha)
            for k, p in r.params.items():
                se = p.stderr if p.vary and p.stderr is not None else math.nan
                rows.append((r.name, k, p.value, se, ci.loc[k, "lower"], ci.loc[k, "upper"], bool(p.vary)))
        cols = ["model", "param", "value", "stderr", "lower", "upper", "vary"]
        return pd.DataFrame(rows, columns=cols).astype({c: float for c in cols[2:6]})

    def conf_int(self, level: float | None = None, *, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals of every model's parameters: a DataFrame indexed by (model, param) with
        columns ``lower`` and ``upper`` (see :meth:`FitResult.conf_int`)."""
        return self.params_table(level, alpha=alpha).set_index(["model", "param"])[["lower", "upper"]]

    def fit_report(self, level: float | None = None, min_correl: float = 0.1) -> str:
        """Each model's :meth:`FitResult.fit_report`, in order of AICc, each headed by its weight."""
        members = sorted(self._results.values(), key=lambda r: (not r.converged, r.aicc))
        return "\n\n".join(
            f"=== {r.name} (Akaike weight {r.weight:.3f}) ===\n{r.fit_report(level, min_correl)}" for r in members
        )

    def summary(self) -> str:
        """A text table of the comparison."""
        from .summary import fits_text

        return fits_text(self)

    def bootstrap(
        self,
        n: int = DEFAULT_N,
        *,
        seed: int | None = 0,
        progress: bool | None = None,
        processes: int | None = None,
        global_starts: bool = True,
        scheme: str = "case",
        block_length: int | None = None,
    ) -> Bootstrap:
        """Refit every model to ``n`` resampled copies of the series (see :func:`lsi.bootstrap.bootstrap`):
        independent cases (``scheme="case"``) or moving blocks (``scheme="block"``, ``block_length``).

        The collection keeps each bootstrap it has made: asking again with the same ``n``,
        ``seed``, ``global_starts``, ``scheme`` and ``block_length`` returns the same replicates
        (``progress`` and ``processes`` do not change them), so a report, its forecasts and its
        figures share one.
        """
        from .bootstrap import bootstrap

        length = None if scheme == "case" or block_length is None else int(block_length)
        key = (int(n), seed, bool(global_starts), scheme, length)
        if key not in self._bootstraps:
            self._bootstraps[key] = bootstrap(
                self,
                n,
                seed=seed,
                progress=progress,
                processes=processes,
                global_starts=global_starts,
                scheme=scheme,
                block_length=block_length,
            )
        return self._bootstraps[key]

    def forecast(self, until: Any, **kw: Any):
        """Forecast every model and their averages to ``until``, with bands: an ``xarray.Dataset``
        (see :func:`lsi.forecast.forecast` for the options: ``level``, ``n``, ``seed``, ``step``,
        ``bootstrap``)."""
        from .forecast import forecast

        return forecast(self, until, **kw)

    def time_to_reach(self, level: float, **kw: Any) -> dict[str, dict[str, Any]]:
        """Date at which capability first reaches ``level`` (data units), per model and averaged,
        with bootstrap intervals (see :func:`lsi.forecast.time_to_reach`)."""
        from .forecast import time_to_reach

        return time_to_reach(self, level, **kw)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``lsi fit --json`` prints."""
        return {
            "n": len(self.series),
            "noise": self.noise.name,
            "t0": float(next(iter(self._results.values())).t0) if self._results else None,
            "models": [r.to_dict() for r in self._results.values()],
            "skipped": dict(self.skipped),
        }

    def __repr__(self) -> str:
        best = f"; best {self.best.name} (weight {self.best.weight:.2f})" if self._results else ""
        return f"<FitCollection on {self.series.name!r}: n={self.nobs}, {len(self)} models{best}>"

    def _repr_html_(self) -> str:
        from .display import fit_collection_html

        return fit_collection_html(self)
