r"""The three diagnostics of recursive self-improvement, and where each fails first.

Along a loop-model trajectory (docs/mathematics.md, "The three diagnostics"):

* assumption 1, the loop is closed: closure
  :math:`\kappa(\ell) = p e^{-a\ell} / ((1-p) + p e^{-a\ell})` holds while ``kappa >= kappa_min``;
* assumption 2, it is self-amplifying: returns
  :math:`\rho(\ell) = \lambda a \kappa - \beta (1 + \gamma\ell)` hold while ``rho >= rho_min``;
* assumption 3, no efficiency loss: efficiency :math:`\eta(t) = F(\ell(t)) E(t)` holds
  while ``eta >= eta_min``.

All three are non-increasing along a trajectory, so each fails (goes strictly below
its threshold) at most once; the first to fail is the answer.

Each model carries its own knowledge of these: its embedding in the loop model
(:meth:`~lsi.models.GrowthModel.loop_params`, so that only its own mechanism can fail) and
its crossing times (:meth:`~lsi.models.GrowthModel.crossings`, in closed form for the
phenomenological models, vectorised over parameter draws and checked in the tests against
the numerical path of :mod:`lsi.quadrature`).  This module combines them: which fails
first, when, and at what capability.  The factors and thresholds themselves are written
once, in :mod:`lsi.loopmath`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import loopmath
from .loopmath import FAILURES, Thresholds, growth_accounting, takeoff_r
from .models import get as get_model

__all__ = [
    "Thresholds",
    "FAILURES",
    "embed",
    "failure_analysis",
    "growth_accounting",
    "takeoff_r",
]


def embed(model, theta: Any) -> dict[str, np.ndarray] | None:
    """Loop-model parameters (arrays over draws) of a fitted model.

    ``theta`` is one parameter vector or an (n, k) array of them, in the model's
    ``param_names`` order.  Returns None for models with no loop embedding.
    """
    model = get_model(model)
    return model.loop_params(model.columns(theta))


# ---------------------------------------------------------------- which fails first
def failure_analysis(
    model,
    theta: Any,
    t0: float,
    *,
    thresholds: Thresholds | Mapping[str, float] | None = None,
    horizon: float = math.inf,
) -> dict[str, np.ndarray]:
    """Crossing times of the three diagnostics for draws of a fitted model, and which fails first.

    Parameters
    ----------
    model : str or GrowthModel
    theta : array, shape (k,) or (n, k)
        Parameter vectors in the model's ``param_names`` order.
    t0 : float
        The time origin of the fit.
    thresholds : Thresholds or mapping, optional
    horizon : float
        Crossings after this date count as "none before the horizon".

    Returns
    -------
    dict of arrays (length n)
        ``t_closure``, ``t_amplification``, ``t_efficiency`` (NaN where no crossing
        before the horizon), ``t_singularity`` (NaN where none), ``first_failure``
        (codes into :data:`FAILURES`; "none" also when a singularity comes first),
        ``failure_time`` and ``failure_level`` (C at the failure; NaN for "none") and
        ``tied`` (two crossings within 1e-9 years).
    """
    model = get_model(model)
    th = loopmath.thresholds(thresholds)
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    n = theta.shape[0]
    tk, tr, te, ts = model.crossings(theta, float(t0), th, horizon)
    times = np.vstack([tk, tr, te])
    times = np.where(times <= horizon, times, np.nan)
    ts = np.where(ts <= horizon, ts, np.nan)
    # a crossing after the singularity never happens
    times = np.where(np.isfinite(ts) & (times >= ts), np.nan, times)
    filled = np.where(np.isnan(times), np.inf, times)
    first = np.argmin(filled, axis=0)
    tmin = filled[first, np.arange(n)]
    none = ~np.isfinite(tmin)
    first = np.where(none, 3, first).astype(np.int8)
    with np.errstate(invalid="ignore"):  # inf - inf where nothing fails
        tied = (np.sum(np.abs(filled - tmin) <= 1e-9, axis=0) >= 2) & ~none
    ftime = np.where(none, np.nan, tmin)
    with np.errstate(all="ignore"):
        tau_f = np.where(none, 0.0, ftime - t0)
        lnc = model.lnC_draws(tau_f, theta)
        level = np.where(none, np.nan, np.exp(lnc))
    return {
        "t_closure": times[0],
        "t_amplification": times[1],
        "t_efficiency": times[2],
        "t_singularity": ts,
        "first_failure": first,
        "failure_time": ftime,
        "failure_level": level,
        "tied": tied,
    }
