"""Fitting growth models to a capability history: :func:`fit`, the driver.

For each model the parameter layout is set from the user's settings, the least-squares
problem in the noise model's space (:mod:`lsi.observation`) is solved by :mod:`lsi.leastsq`,
and the solution becomes a frozen :class:`lsi.results.FitResult`: its covariance (with
irregular parameters such as a break date held fixed), identifiability, likelihood, AICc and
BIC.  With per-point uncertainties an extra scatter is estimated by profile likelihood.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import leastsq, selection
from .exceptions import (
    ConvergenceWarning,
    IdentifiabilityWarning,
    ParameterValueError,
    SeriesError,
    SeriesWarning,
    UnknownParameterError,
)
from .models import ALL_MODELS
from .models import get as get_model
from .models.base import GrowthModel
from .observation import Noise, default_noise, get_noise
from .results import FitCollection, FitResult
from .series import Series, to_decimal_years

__all__ = ["fit"]


def _say_default_noise(series: Series, chosen: Noise) -> None:
    """Warn when the default noise model is not the usual log noise because of the data, and
    hint at the logit link when the values look like scores (all in (0, 1], the largest above 0.5)."""
    if (series.meta or {}).get("noise"):
        return
    y = series.y
    if np.all(y > 0):
        if np.all(y <= 1) and float(np.max(y)) > 0.5:
            warnings.warn(
                f"noise: log, although every value lies in (0, 1] (largest {float(np.max(y)):g}); if these are "
                "scores or accuracies, which cannot pass 1, pass noise='logit' (the models then describe the "
                "odds, and a fit cannot cross 1), or noise='log' to keep log noise and silence this",
                SeriesWarning,
                stacklevel=3,
            )
        return
    bad = np.flatnonzero(series.y <= 0)
    i = int(bad[0])
    warnings.warn(
        f"noise: {chosen.name} (chosen because {bad.size} of {len(series)} values are <= 0, e.g. "
        f"{series.y[i]:g} at {series.t[i]:.3f}, and log noise needs positive values); pass "
        f"noise={chosen.name!r} to choose it and silence this, or noise='logit' for scores in (0, 1)",
        SeriesWarning,
        stacklevel=3,
    )


_MODELS_HINT = "give a model name ('exponential'), a list of names, or 'all'"


def _resolve_models(models: str | GrowthModel | Sequence[str | GrowthModel]) -> list[GrowthModel]:
    if isinstance(models, str | GrowthModel) or _is_model_class(models):
        models = [models]  # type: ignore[list-item]
    elif isinstance(models, Mapping) or not isinstance(models, Sequence | set | frozenset):
        extra = " (parameter settings go in params=)" if isinstance(models, Mapping) else ""
        raise ParameterValueError(
            f"models = {models!r:.60} ({type(models).__name__}) is not a model; {_MODELS_HINT}{extra}"
        )
    out: list[GrowthModel] = []
    for i, m in enumerate(models):
        if isinstance(m, str) and m.strip().lower() == "all":
            out.extend(get_model(n) for n in ALL_MODELS)
        elif _is_model_class(m):
            out.append(m())  # type: ignore[operator]
        elif isinstance(m, str | GrowthModel):
            out.append(get_model(m))
        else:
            raise ParameterValueError(f"models[{i}] = {m!r:.60} ({type(m).__name__}) is not a model; {_MODELS_HINT}")
    seen: dict[str, GrowthModel] = {}
    for m in out:
        seen.setdefault(m.name, m)
    if not seen:
        raise ParameterValueError("models is empty; name at least one model, or 'all'")
    return list(seen.values())


def _is_model_class(m: Any) -> bool:
    return isinstance(m, type) and issubclass(m, GrowthModel)


def _is_number(x: Any) -> bool:
    """A real number that is not a boolean (True is not a level, a start or a bound)."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def _check_level(level: Any) -> float:
    if not _is_number(level) or not 0 < float(level) < 1:
        raise ParameterValueError(f"level = {level!r} must be a number in (0, 1), e.g. 0.95")
    return float(level)


def _check_t0(t0: Any, series: Series) -> float:
    """The time origin as a decimal year: a finite number or one date."""
    if t0 is None:
        return float(series.t[0])
    if _is_number(t0):
        value = float(t0)
    elif isinstance(t0, str | _dt.date | np.datetime64) or type(t0).__name__ == "Timestamp":
        try:
            value = float(to_decimal_years(t0)[0])
        except SeriesError as exc:
            raise ParameterValueError(f"t0 = {t0!r} is not a time: {exc}") from None
    else:
        raise ParameterValueError(
            f"t0 = {t0!r:.60} ({type(t0).__name__}) is not one time; "
            "give a decimal year (2020.0) or a date ('2020-01-01')"
        )
    if not math.isfinite(value):
        raise ParameterValueError(f"t0 = {t0!r} must be a finite decimal year, e.g. the first observation's")
    return value


def _check_max_nfev(max_nfev: Any) -> int | None:
    if max_nfev is None:
        return None
    whole = not isinstance(max_nfev, bool | np.bool_) and isinstance(max_nfev, numbers.Integral)
    if not whole or max_nfev < 1:
        raise ParameterValueError(
            f"max_nfev = {max_nfev!r} must be a whole number of evaluations >= 1, or None for the default"
        )
    return int(max_nfev)


def _check_flag(name: str, value: Any, none: bool = False) -> None:
    if isinstance(value, bool | np.bool_) or (none and value is None):
        return
    allowed = "True, False or None" if none else "True or False"
    raise ParameterValueError(f"{name} = {value!r:.60} must be {allowed}")


_SETTINGS = ("value", "vary", "min", "max")


def _check_setting(model: GrowthModel, name: str, setting: Any) -> None:
    """One parameter's settings as the user gave them: numbers where numbers go, bounds in order,
    no lmfit ``expr`` ties (which the fitter cannot honour: it would freeze them at their start)."""
    import lmfit

    where = f"params[{model.name!r}][{name!r}]"
    if isinstance(setting, lmfit.Parameter):
        if setting.expr:
            raise ParameterValueError(
                f"{where} is tied by the lmfit expression {setting.expr!r}, which lsi does not honour; "
                "fix it to a number or let it vary (ties between parameters are not supported)"
            )
        setting = {"value": setting.value, "vary": setting.vary, "min": setting.min, "max": setting.max}
    elif not isinstance(setting, Mapping):
        if not _is_number(setting) or not math.isfinite(float(setting)):
            raise ParameterValueError(
                f"{where} = {setting!r:.60} must be a finite number (which fixes it) or a dict of "
                "value, vary, min and max"
            )
        return
    if "expr" in setting:
        raise ParameterValueError(
            f"{where} has an lmfit expr tie {setting['expr']!r}, which lsi does not honour; "
            "fix it to a number or let it vary (ties between parameters are not supported)"
        )
    for key in ("value", "min", "max"):
        v = setting.get(key)
        if v is None or key not in setting:
            continue
        if not _is_number(v) or math.isnan(float(v)):
            raise ParameterValueError(f"{where}[{key!r}] = {v!r:.60} must be a number (or leave {key} out)")
        if key == "value" and not math.isfinite(float(v)):
            raise ParameterValueError(f"{where}['value'] = {v!r} must be finite (or leave value out)")
    if "vary" in setting and not isinstance(setting["vary"], bool | np.bool_):
        raise ParameterValueError(f"{where}['vary'] = {setting['vary']!r:.60} must be True or False")
    spec = model.spec(name)
    lo_user, hi_user = setting.get("min"), setting.get("max")
    lo = spec.min if lo_user is None else max(spec.min, float(lo_user))
    hi = spec.max if hi_user is None else min(spec.max, float(hi_user))
    if lo_user is not None and hi_user is not None and float(lo_user) >= float(hi_user):
        raise ParameterValueError(
            f"{where} has min = {lo_user!r} >= max = {hi_user!r}; give min below max (to fix the parameter, "
            "give a number instead)"
        )
    vary = bool(setting.get("vary", spec.vary))
    if lo >= hi and vary:
        raise ParameterValueError(
            f"{where}: min = {lo_user!r}, max = {hi_user!r} leave no room inside {name}'s own range "
            f"({spec.min}, {spec.max}); give bounds that overlap it"
        )
    v = setting.get("value")
    if not vary and v is not None and not (lo <= float(v) <= hi) and (lo_user is not None or hi_user is not None):
        raise ParameterValueError(f"{where}: the fixed value {v!r} lies outside min {lo_user!r}, max {hi_user!r}")


def _check_params(params: Any, model_list: Sequence[GrowthModel]) -> None:
    """Every parameter setting well-formed before any model is fitted (one line per fault)."""
    import lmfit

    if params is None:
        return
    if not isinstance(params, Mapping):
        raise ParameterValueError("params must map model names to parameter settings, e.g. {'loop': {'p': 0.9}}")
    by_name = {m.name: m for m in model_list}
    for key, given in params.items():
        if key not in by_name:
            owners = [m.name for m in model_list if key in m.param_names]
            hint = f"; params is keyed by model: params={{{owners[0]!r}: {{{key!r}: ...}}}}" if owners else ""
            raise UnknownParameterError(
                f"params names model {key!r}, which is not being fitted; "
                f"fitted models: {', '.join(sorted(by_name))}{hint}"
            )
        if given is None:
            continue
        if not isinstance(given, Mapping | lmfit.Parameters):
            raise ParameterValueError(
                f"params[{key!r}] must be lmfit.Parameters or a dict of parameter name -> setting; "
                f"got {type(given).__name__}"
            )
        for name, setting in given.items():
            by_name[key].spec(name)  # an unknown name gets the model's own one-line error
            _check_setting(by_name[key], name, setting)


def _fit_one(
    model: GrowthModel,
    series: Series,
    noise: Noise,
    t0: float,
    z: np.ndarray,
    sig: np.ndarray | None,
    user: Mapping[str, Mapping[str, Any]],
    level: float,
    max_nfev: int | None,
    starts: list[dict[str, float]] | None = None,
    extra_params: int = 0,
    extra_scatter: float | None = None,
    vouch: bool = True,
) -> FitResult:
    """Fit one model: solve the least-squares problem, then its covariance and statistics."""
    lay = leastsq.layout(model, user)
    names = list(lay.names)
    free = lay.free
    k_free = int(free.size)
    n = len(series)
    k_total = k_free + (0 if sig is not None else 1) + extra_params
    if n < k_total + 2:
        raise SeriesError(
            f"{model.name} has {k_free} free parameters and needs at least {k_total + 2} points; the series has {n}"
        )
    tau = series.t - t0
    cap = np.exp(z) if noise.uses_log_capability else series.y
    with np.errstate(all="ignore"):
        cold = model.guess(tau, cap) if np.all(cap > 0) else model.guess(tau, np.clip(cap, 1e-12, None))
    # the model's own cold starts back up a warm start that stops away from a minimum, and are
    # always compared with a user's start (which can sit on a plateau far from the optimum)
    fallback = cold if (starts is not None or lay.user_start) else None
    if starts is None:
        starts = cold
    w = np.ones(n) if sig is None else 1.0 / sig
    sol = leastsq.solve(
        model,
        lay,
        tau,
        z,
        w,
        noise.uses_log_capability,
        starts,
        max_nfev,
        fallback=fallback,
        compare=bool(lay.user_start),
        vouch=vouch,
    )
    converged = sol.converged
    msg = sol.message
    theta = sol.theta.copy()
    if not converged and sol.status == 5:
        msg = f"no convergence within {sol.maxfev} evaluations; the best point found is reported"
    elif converged:
        msg = "converged"

    # covariance of the free parameters (in theta space); irregular ones (a break date) held fixed
    free_names = [names[i] for i in free]
    regular = [nm not in model.irregular for nm in free_names] if model.irregular else None
    reg_names = free_names if regular is None else [nm for nm, r in zip(free_names, regular, strict=True) if r]
    cov = None
    with np.errstate(all="ignore"):
        Jk = sol.problem.jac_theta(theta) * w  # (k_free, n), whitened
        Jr = Jk if regular is None else Jk[regular]
        if np.all(np.isfinite(Jr)) and Jr.shape[0]:
            JTJ = Jr @ Jr.T
            d = np.sqrt(np.diag(JTJ))
            dd = np.outer(d, d)
            if np.all(d > 0) and np.all(np.isfinite(JTJ / dd)):  # a Jacobian that overflows has no covariance
                ev, V = np.linalg.eigh(JTJ / dd)
                if ev[0] > 1e-14 * ev[-1]:  # condition number below 1e14
                    cov_r = (V / ev) @ V.T / dd
                    if regular is None:
                        cov = cov_r
                    else:
                        cov = np.zeros((k_free, k_free))
                        cov[np.ix_(regular, regular)] = cov_r
    if cov is not None and sig is None:
        dof = n - k_free
        cov = cov * (sol.rss / dof if dof > 0 else np.nan)
    stuck = leastsq.at_bound(reg_names, Jr, sol.residuals, z * w) if converged else []
    huge = ~np.isfinite(theta[free]) | (np.abs(theta[free]) > 1e100)
    if huge.any():
        converged = False
        msg = "diverged: " + ", ".join(names[i] for i in free[huge]) + " ran off to infinity"
        theta[free] = np.where(huge, np.sign(theta[free]) * 1e100, theta[free])
    if regular is None:
        issues = selection.identifiability(free_names, theta[free], cov, stuck)
    else:
        issues = selection.identifiability(
            reg_names, theta[free][regular], None if cov is None else cov[np.ix_(regular, regular)], stuck
        )

    ll = selection.gaussian_loglik(sol.rss, n, sig, noise.log_jacobian(series.y))
    return FitResult(
        model=model,
        series=series,
        noise=noise,
        t0=t0,
        converged=converged,
        message=msg,
        nfev=sol.problem.nfev,
        rss=sol.rss,
        loglik=ll,
        # a searched change point is charged as extra parameters, at AIC's (not AICc's) rate
        aicc=selection.aicc(ll, k_total, n) + 2 * model.extra_penalty,
        bic=selection.bic(ll, k_total, n) + model.extra_penalty * math.log(n),
        n=n,
        n_params=k_total,
        covar=None if stuck else cov,
        free=free_names,
        sigma_known=sig is not None,
        identifiable=not issues,
        issues=issues,
        level=level,
        extra_scatter=extra_scatter,
        theta=theta,
        vary=lay.vary,
        lower=lay.lo,
        upper=lay.hi,
    )


def _fit_with_scatter(model, series, noise, t0, z, sig, user, level, max_nfev) -> FitResult:
    """Fit with per-point sigma plus an extra scatter s (in quadrature), s by profile likelihood.

    For each trial s the weighted least-squares problem is solved (warm-started); the
    s that maximises the likelihood, with s = 0 allowed, is kept.
    """
    from scipy import optimize

    base = _fit_one(model, series, noise, t0, z, sig, user, level, max_nfev, extra_params=1, extra_scatter=0.0)
    best = [base]
    warm = [dict(zip(model.param_names, base.theta, strict=True))]
    resid = z - (
        base.model.lnC_theta(series.t - t0, base.theta)
        if noise.uses_log_capability
        else base.model.C_theta(series.t - t0, base.theta)
    )
    spread = float(np.sqrt(np.mean(resid**2)))
    med = float(np.median(sig))
    if not np.isfinite(spread) or spread <= 0:
        return base

    def nll(log_s: float) -> float:
        s_eff = np.sqrt(sig**2 + math.exp(2 * log_s))
        try:
            r = _fit_one(
                model,
                series,
                noise,
                t0,
                z,
                s_eff,
                user,
                level,
                max_nfev,
                starts=warm,
                extra_params=1,
                extra_scatter=math.exp(log_s),
                vouch=False,  # the profile follows the verified fit at s = 0 closely
            )
        except ParameterValueError:
            return math.inf
        if r.converged and r.loglik > best[0].loglik:
            best[0] = r
        return -r.loglik

    lo, hi = math.log(1e-3 * min(med, spread)), math.log(max(3 * spread, med))
    if hi > lo:
        optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    return best[0]


def fit(
    series: Series,
    models: str | GrowthModel | Sequence[str | GrowthModel] = "all",
    *,
    noise: str | Noise | None = None,
    t0: float | None = None,
    params: Mapping[str, Any] | None = None,
    level: float = 0.95,
    max_nfev: int | None = None,
    extra_scatter: bool | None = None,
    errors: str | None = None,
    warn: bool = True,
) -> FitCollection:
    """Fit growth models to a capability history.

    Parameters
    ----------
    series : Series or pandas.DataFrame
        The history (see :class:`lsi.Series`; :func:`lsi.datasets.load` gives shipped ones).
        A DataFrame (or a pandas Series indexed by time) is read by
        :meth:`lsi.Series.from_pandas` with its default columns; call that yourself to
        choose columns or drop blank rows.
    models : "all", a model name, or a list of names
        ``"all"`` is the phenomenological models (docs/mathematics.md, "The growth models"); the loop
        model is fitted only when named, with its parameters other than ``C0`` and
        ``g0`` fixed unless ``params`` says otherwise.
    noise : {"additive", "log", "logit"}, optional
        The observation model (:mod:`lsi.observation`); by default the series'
        recommended one, else ``log`` for positive data and ``additive`` otherwise (with
        a :class:`~lsi.exceptions.SeriesWarning` that says so; pass ``noise=`` to choose).
    t0 : float or date, optional
        Time origin (a decimal year or one date, e.g. ``"2020-01-01"``); default the
        first observation.  ``C0`` is the capability there.
    params : mapping, optional
        Per model name, an ``lmfit.Parameters`` or a dict of parameter settings: a
        number fixes that parameter; a dict ``{"value", "vary", "min", "max"}``
        sets a start, bounds or fixes it (``min`` below ``max``).  lmfit ``expr``
        ties are refused: the fitter cannot honour them.
    level : float
        Confidence level of every interval on the results (default 0.95), in (0, 1).
    max_nfev : int, optional
        Most model evaluations per search (at least 1); default the fitter's own.
    extra_scatter : bool, optional
        With per-point uncertainties (``sigma`` or ``lower``/``upper``), also estimate
        by maximum likelihood an extra scatter ``s`` added in quadrature to them
        (``s = 0`` when the residuals do not exceed the stated uncertainties); it
        counts as a parameter for every model.  Default: True when the series has
        uncertainties.
    errors : {"raise", "skip"}, optional
        What to do when a model cannot be fitted at all (too few points for its
        parameters): ``"raise"`` the one-line error, or ``"skip"`` the model and record
        why in ``FitCollection.skipped`` (the summary says so).  Default: ``"skip"`` for
        ``models="all"``, ``"raise"`` when models are named.
    warn : bool
        Issue one warning each for models that did not converge or whose parameters
        are not identifiable, and one when the default noise model is additive because
        some values are not positive.

    Raises
    ------
    lsi.exceptions.LsiError
        One line naming the argument and the fix for any argument of the wrong type or
        range (``models``, ``level``, ``t0``, ``params``, ``max_nfev``, ...);
        :class:`~lsi.exceptions.SeriesError` for an unusable series.

    Returns
    -------
    FitCollection

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.linspace(2020, 2025, 30)
    >>> y = 2.0 * np.exp(0.7 * (t - 2020)) * np.exp(np.random.default_rng(0).normal(0, 0.05, 30))
    >>> fits = lsi.fit(lsi.Series(t, y), models=["exponential", "logistic"], noise="log")
    >>> round(fits["exponential"].params["g"].value, 2)
    0.7
    """
    if type(series).__module__.startswith("pandas") and type(series).__name__ in ("DataFrame", "Series"):
        series = Series.from_pandas(series)
    if not isinstance(series, Series):
        raise SeriesError(
            f"fit needs an lsi.Series or a pandas DataFrame; got {type(series).__name__} (use lsi.Series(t, y))"
        )
    if len(series) < 3:
        raise SeriesError(f"the series has {len(series)} points; fitting needs at least 3")
    level = _check_level(level)
    max_nfev = _check_max_nfev(max_nfev)
    _check_flag("extra_scatter", extra_scatter, none=True)
    _check_flag("warn", warn)
    if noise is None:
        nm = default_noise(series)
        if warn:
            _say_default_noise(series, nm)
    else:
        nm = get_noise(noise)
    nm.validate(series)
    if errors is None:
        errors = "skip" if isinstance(models, str) and models.strip().lower() == "all" else "raise"
    if errors not in ("raise", "skip"):
        raise ParameterValueError(f"errors = {errors!r}; choose 'raise' or 'skip'")
    model_list = _resolve_models(models)
    _check_params(params, model_list)
    t0 = _check_t0(t0, series)
    z = nm.transform(series.y)
    sig = nm.point_sigma(series)
    results: list[FitResult] = []
    skipped: dict[str, str] = {}
    scatter = sig is not None and (extra_scatter is None or extra_scatter)
    for m in model_list:
        user = leastsq.user_settings(m, (params or {}).get(m.name))
        try:
            if scatter:
                results.append(_fit_with_scatter(m, series, nm, t0, z, sig, user, level, max_nfev))
            else:
                results.append(_fit_one(m, series, nm, t0, z, sig, user, level, max_nfev))
        except SeriesError as exc:
            if errors == "raise":
                raise
            skipped[m.name] = str(exc)
        except OverflowError:
            far = max(float(series.t[0]) - t0, t0 - float(series.t[-1]), 0.0)
            raise ParameterValueError(
                f"{m.name}: the fit overflowed with t0 = {t0:g}, {far:.3g} years from the data; "
                "choose t0 within or near the data (the default is the first observation)"
            ) from None
    if not results:
        raise SeriesError(
            "no model could be fitted: " + "; ".join(skipped.values()) + "; add points or fit fewer-parameter models"
        )
    coll = FitCollection(series, nm, results, skipped)
    if warn:
        bad = [r.name for r in results if not r.converged]
        if bad:
            warnings.warn(
                f"did not converge: {', '.join(bad)} (best points reported; try other starts via params=)",
                ConvergenceWarning,
                stacklevel=2,
            )
        ni = [f"{r.name} ({'; '.join(r.issues)})" for r in results if r.converged and not r.identifiable]
        if ni:
            warnings.warn(
                "parameters not identifiable from these data, their errors are not reported: " + ", ".join(ni),
                IdentifiabilityWarning,
                stacklevel=2,
            )
    return coll
