"""Fitting growth models to a capability history: :func:`fit`, the driver.

For each model the parameter layout is set from the user's settings, the least-squares
problem in the noise model's space (:mod:`lsi.observation`) is solved by :mod:`lsi.leastsq`,
and the solution becomes a frozen :class:`lsi.results.FitResult`: its covariance (with
irregular parameters such as a break date held fixed), identifiability, likelihood, AICc and
BIC.  With per-point uncertainties an extra scatter is estimated by profile likelihood.
"""

from __future__ import annotations

import math
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
    UnknownParameterError,
)
from .models import ALL_MODELS
from .models import get as get_model
from .models.base import GrowthModel
from .observation import Noise, default_noise, get_noise
from .results import FitCollection, FitResult
from .series import Series

__all__ = ["fit"]


def _resolve_models(models: str | GrowthModel | Sequence[str | GrowthModel]) -> list[GrowthModel]:
    if isinstance(models, str | GrowthModel):
        models = [models]
    out: list[GrowthModel] = []
    for m in models:
        if isinstance(m, str) and m.strip().lower() == "all":
            out.extend(get_model(n) for n in ALL_MODELS)
        else:
            out.append(get_model(m))
    seen: dict[str, GrowthModel] = {}
    for m in out:
        seen.setdefault(m.name, m)
    if not seen:
        raise ParameterValueError("models is empty; name at least one model, or 'all'")
    return list(seen.values())


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
    series : Series
        The history (see :class:`lsi.Series`; :func:`lsi.datasets.load` gives shipped ones).
    models : "all", a model name, or a list of names
        ``"all"`` is the phenomenological models (DESIGN.md section 2); the loop
        model is fitted only when named, with its parameters other than ``C0`` and
        ``g0`` fixed unless ``params`` says otherwise.
    noise : {"additive", "log", "logit"}, optional
        The observation model (:mod:`lsi.observation`); by default the series'
        recommended one, else ``log`` for positive data.
    t0 : float, optional
        Time origin (decimal year); default the first observation.  ``C0`` is the
        capability there.
    params : mapping, optional
        Per model name, an ``lmfit.Parameters`` or a dict of parameter settings: a
        number fixes that parameter; a dict ``{"value", "vary", "min", "max"}``
        sets a start, bounds or fixes it.
    level : float
        Confidence level of every interval on the results (default 0.95).
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
        are not identifiable.

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
    if not isinstance(series, Series):
        raise SeriesError(f"fit needs an lsi.Series; got {type(series).__name__} (use lsi.Series(t, y))")
    if len(series) < 3:
        raise SeriesError(f"the series has {len(series)} points; fitting needs at least 3")
    if not 0 < level < 1:
        raise ParameterValueError(f"level = {level!r} must lie in (0, 1), e.g. 0.95")
    nm = default_noise(series) if noise is None else get_noise(noise)
    nm.validate(series)
    if errors is None:
        errors = "skip" if isinstance(models, str) and models.strip().lower() == "all" else "raise"
    if errors not in ("raise", "skip"):
        raise ParameterValueError(f"errors = {errors!r}; choose 'raise' or 'skip'")
    model_list = _resolve_models(models)
    if params is not None:
        if not isinstance(params, Mapping):
            raise ParameterValueError("params must map model names to parameter settings, e.g. {'loop': {'p': 0.9}}")
        names_in = {m.name for m in model_list}
        for key in params:
            if key not in names_in:
                raise UnknownParameterError(
                    f"params names model {key!r}, which is not being fitted; "
                    f"fitted models: {', '.join(sorted(names_in))}"
                )
    t0 = float(series.t[0]) if t0 is None else float(t0)
    if not math.isfinite(t0):
        raise ParameterValueError(f"t0 = {t0!r} must be a finite decimal year")
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
