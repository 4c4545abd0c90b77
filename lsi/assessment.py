"""Which assumption of recursive self-improvement fails first: :func:`assumptions`.

Every fitted model embeds in the loop model so that only its own mechanism can fail
(:mod:`lsi.diagnostics`).  A model comparison is therefore also evidence about the
assumptions: the probability that each fails first is the total Akaike weight of the
models in which it does, and, separately, the share of bootstrap replicates (refits
to resampled data) whose best model has it fail first.  Beside these sits a
model-agnostic check on the data: doubling times along the history and whether the
growth rate of ln C rises or falls, with an interval.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from . import loopmath
from .bootstrap import DEFAULT_N
from .diagnostics import FAILURES, Thresholds, embed, failure_analysis, takeoff_r
from .exceptions import ParameterValueError, check_seed
from .intervals import DAYS, inverse, quantile
from .jsonvalues import strict
from .results import FitCollection

if TYPE_CHECKING:  # pragma: no cover
    from .bootstrap import Bootstrap

__all__ = ["assumptions", "AssumptionReport", "data_check"]

LN2 = math.log(2.0)

PHRASES = {
    "closure": ("the loop opens first (closure falls below kappa_min: the human share of R&D becomes the bottleneck)"),
    "amplification": (
        "self-amplification fails first (returns fall below rho_min: each doubling comes slower than the last)"
    ),
    "efficiency": (
        "efficiency is lost first "
        "(a resource ceiling or organisational friction cuts the loop's efficiency below eta_min)"
    ),
    "none": "no assumption fails before the horizon",
}


# ---------------------------------------------------------------- the data itself
def data_check(fits: FitCollection, *, window: int | None = None, level: float = 0.95) -> dict[str, Any]:
    """Model-agnostic evidence on ln C: local doubling times and the trend of the growth rate.

    * Doubling times along the history: log-linear fits in sliding windows of
      ``window`` consecutive points (default ``max(4, n // 3)``), each with the
      interval derived from its slope's interval (unbounded when that reaches zero).
    * Acceleration: a quadratic in time fitted to ln C, ``ln C = b0 + b1 t + b2 t^2``;
      the growth rate changes by ``2 b2`` per year.  Doubling times shrink when the
      interval of ``b2`` lies above zero, grow when below, and the data cannot tell
      otherwise.  The observed elasticity ``d ln(dl/dt)/dl = 2 b2 / r^2`` at the last
      point is reported too.

    Per-point uncertainties (with the extra scatter of the exponential fit, if any)
    weight the regressions.
    """
    s, noise = fits.series, fits.noise
    cap = noise.capability_from_data(s.y)
    if np.any(cap <= 0):
        return {"available": False, "reason": "non-positive values: ln C is undefined"}
    lc = np.log(cap)
    t = s.t
    sig = noise.point_sigma(s) if noise.name != "additive" else None
    if sig is not None:
        # the scatter beyond the stated uncertainties, as the best-supported model sees it (a
        # misspecified model's extra scatter would also absorb its lack of fit)
        conv = [r for r in fits.values() if r.converged and r.extra_scatter is not None]
        if conv:
            extra = max(conv, key=lambda r: r.weight).extra_scatter
            assert extra is not None  # conv keeps only the fits that have one
            sig = np.sqrt(sig**2 + extra**2)
    w = None if sig is None else 1.0 / sig**2
    n = len(s)
    window = max(4, n // 3) if window is None else int(window)
    if window < 3 or window > n:
        raise ParameterValueError(f"window = {window} points; give between 3 and the series length {n}")

    def wls(X, y, wt):
        if wt is None:
            wt = np.ones_like(y)
        W = np.sqrt(wt)
        beta, *_ = np.linalg.lstsq(X * W[:, None], y * W, rcond=None)
        resid = (y - X @ beta) * W
        dof = len(y) - X.shape[1]
        s2 = float(resid @ resid) / dof if dof > 0 else math.nan
        if sig is not None:
            s2 = max(s2, 1.0)  # stated uncertainties are a floor on the scatter
        cov = np.linalg.pinv((X * W[:, None]).T @ (X * W[:, None])) * s2
        return beta, cov, dof

    doubling = []
    for i in range(0, n - window + 1):
        tt, yy = t[i : i + window], lc[i : i + window]
        if np.ptp(tt) <= 0:
            continue
        tc = tt.mean()
        X = np.vstack([np.ones_like(tt), tt - tc]).T
        beta, cov, dof = wls(X, yy, None if w is None else w[i : i + window])
        q = quantile(level, dof if sig is None else None)
        iv = inverse(float(beta[1]), float(math.sqrt(max(cov[1, 1], 0))), q, level, numerator=LN2)
        doubling.append(
            {
                "t": float(tc),
                "value": iv.value,
                "lower": iv.lower,
                "upper": iv.upper,
                "t_start": float(tt[0]),
                "t_end": float(tt[-1]),
            }
        )
    out: dict[str, Any] = {"available": True, "window": window, "doubling_times": doubling, "level": level}
    if n >= 5 and np.ptp(t) > 0:
        tc = t.mean()
        X = np.vstack([np.ones_like(t), t - tc, (t - tc) ** 2]).T
        beta, cov, dof = wls(X, lc, w)
        q = quantile(level, dof if sig is None else None)
        b2, se2 = float(beta[2]), float(math.sqrt(max(cov[2, 2], 0)))
        lo, hi = 2 * (b2 - q * se2), 2 * (b2 + q * se2)
        r_last = float(beta[1] + 2 * beta[2] * (t[-1] - tc))
        trend = "shrinking" if lo > 0 else "growing" if hi < 0 else "cannot tell"
        pval = float(2 * stats.norm.sf(abs(b2 / se2))) if se2 > 0 else math.nan
        out["acceleration"] = {
            "value": 2 * b2,
            "lower": lo,
            "upper": hi,
            "units": "change of d ln C/dt per year",
            "doubling_times": trend,
            "p_value": pval,
            "rate_at_last": r_last,
            "elasticity_at_last": (2 * b2 / r_last**2) if r_last > 0 else None,
        }
    return out


# ---------------------------------------------------------------- the report
@dataclass(frozen=True, repr=False)
class AssumptionReport:
    """Which assumption fails first, when, at what capability, and how sure we are.

    Attributes
    ----------
    probabilities : dict
        P(first failure = X) from Akaike weights, X in closure, amplification,
        efficiency, none (sums to 1).
    bootstrap_probabilities : dict or None
        The same from the bootstrap over refits (None when ``n_boot = 0``).
    models : list of dict
        Per model: weight, first failure, its time and capability level, every crossing
        time, the singularity time, the takeoff r and rho at t0.
    failure_times : dict
        Per outcome, quantiles (5, 50, 95 %) of the failure time and level among the
        bootstrap replicates with that outcome.
    data : dict
        The model-agnostic check (:func:`data_check`).
    verdict : str
    """

    series_name: str
    noise: str
    thresholds: Thresholds
    horizon: float
    probabilities: dict[str, float]
    bootstrap_probabilities: dict[str, float] | None
    models: list[dict[str, Any]]
    failure_times: dict[str, dict[str, Any]]
    selection: dict[str, float] | None
    data: dict[str, Any]
    verdict: str
    uncertainty: str
    n_boot: int
    #: the verdict without its first, unchecked claim: what carries a 'none', singularities,
    #: the data's own trend (:class:`lsi.verdict.Answer` puts its checked headline before it)
    details: str = ""
    units: str = ""
    #: time origin of the fits (their parameters are relative to it)
    t0: float = 0.0
    notes: list[str] = field(default_factory=list)
    bootstrap: Bootstrap | None = field(default=None, repr=False)
    #: per bootstrap replicate, the first failure of its best model (``code`` into FAILURES,
    #: -1 when no model converged), its ``time`` and capability ``level``, and the date of a
    #: finite-time ``singularity``; None without a bootstrap (the figures read it from here)
    replicate_outcomes: dict[str, np.ndarray] | None = field(default=None, repr=False)

    # ---------------------------------------------------------- renderings
    @property
    def none_breakdown(self) -> dict[str, float]:
        """The Akaike weights of the models in which no assumption fails before the horizon,
        largest first (those above 0.01): what carries "none", whose meanings differ (a
        hyperbolic's explosion, a breakpoint's exogenous jump)."""
        return _none_breakdown(self.models)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``lsi report --json`` object)."""
        return strict(
            {
                "series": self.series_name,
                "noise": self.noise,
                "uncertainty": self.uncertainty,
                "thresholds": self.thresholds.as_dict(),
                "horizon": self.horizon,
                "probabilities": self.probabilities,
                "bootstrap_probabilities": self.bootstrap_probabilities,
                "n_bootstrap": self.n_boot,
                "bootstrap_model_selection": self.selection,
                "models": self.models,
                "failure_times": self.failure_times,
                "doubling_times": [
                    {
                        "t": d["t"],
                        **{k: None if d[k] is None else d[k] * DAYS for k in ("value", "lower", "upper")},
                        "unit": "days",
                    }
                    for d in self.data.get("doubling_times", [])
                ],
                "acceleration": self.data.get("acceleration"),
                "none_breakdown": self.none_breakdown,
                "notes": self.notes,
                "verdict": self.verdict,
            }
        )

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    def summary(self) -> str:
        """Plain-text report."""
        from .summary import assumptions_text

        return assumptions_text(self)

    def to_markdown(self) -> str:
        """Markdown report (tables)."""
        from .summary import assumptions_markdown

        return assumptions_markdown(self)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        top = max(self.probabilities, key=lambda k: self.probabilities[k])
        return (
            f"<AssumptionReport for {self.series_name!r}: {top} first, P = {self.probabilities[top]:.2f} by "
            f"Akaike weights, {self.n_boot} bootstrap replicates (unchecked: lsi.answer checks it)>"
        )

    def _repr_html_(self) -> str:
        from .display import assumption_report_html

        return assumption_report_html(self)


def _model_row(r, fa: dict[str, np.ndarray], noise) -> dict[str, Any]:
    lp = embed(r.model, r.theta)
    rr = None if lp is None else float(takeoff_r(lp)[0])
    rho0 = None
    if lp is not None:  # the loop's own returns at t0, where closure is kappa(0) = p
        with np.errstate(divide="ignore"):  # logit p = inf at p = 1, exact
            rho0 = float(loopmath.returns(0.0, lp["p"][0], lp["a"][0], lp["lam"][0], lp["beta"][0], lp["gamma"][0]))
    code = int(fa["first_failure"][0])
    lvl = float(fa["failure_level"][0])
    row = {
        "name": r.name,
        "weight": float(r.weight),
        "converged": bool(r.converged),
        "mechanism": r.model.mechanism,
        "first_failure": FAILURES[code],
        "failure_time": float(fa["failure_time"][0]),
        "failure_level": None if not np.isfinite(lvl) else float(noise.data_from_capability(lvl)),
        "t_closure": float(fa["t_closure"][0]),
        "t_amplification": float(fa["t_amplification"][0]),
        "t_efficiency": float(fa["t_efficiency"][0]),
        "singularity_time": float(fa["t_singularity"][0]),
        "tied": bool(fa["tied"][0]),
        "r": rr,
        "rho0": rho0,
    }
    return _in_range(row)


#: beyond these a number means nothing: dates past the year 10,000, returns beyond 1e6
LAST_YEAR = 10_000.0
MAX_RETURNS = 1e6


def _in_range(row: dict[str, Any]) -> dict[str, Any]:
    """Numbers outside any meaningful range replaced by None, with the reason in ``out_of_range``."""
    why = {}
    for key in ("failure_time", "t_closure", "t_amplification", "t_efficiency", "singularity_time"):
        v = row[key]
        if v is not None and math.isfinite(v) and abs(v) > LAST_YEAR:
            why[key] = f"{v:.3g}: beyond the year {LAST_YEAR:.0f}, a date with no meaning (read it as never)"
            row[key] = math.inf if v > 0 else -math.inf
    for key in ("rho0", "r"):
        v = row[key]
        if v is not None and math.isfinite(v) and abs(v) > MAX_RETURNS:
            why[key] = f"{v:.3g}: beyond |{MAX_RETURNS:.0e}|, unbounded returns (a degenerate fit)"
            row[key] = math.inf if v > 0 else -math.inf
    row["out_of_range"] = why
    return row


def assumptions(
    fits: FitCollection,
    *,
    n_boot: int = DEFAULT_N,
    seed: int | None = 0,
    thresholds: Thresholds | dict[str, float] | None = None,
    horizon: float | None = None,
    bootstrap: Bootstrap | None = None,
    progress: bool | None = None,
) -> AssumptionReport:
    """Which assumption of RSI fails first, when, at what capability, and how sure we are.

    Parameters
    ----------
    fits : FitCollection
        Fits of several models to one series (:func:`lsi.fit`).
    n_boot : int
        Bootstrap replicates (refits to resampled data); 0 skips the bootstrap.
    seed : int, optional
        Seed of the bootstrap.
    thresholds : Thresholds or dict, optional
        ``kappa_min`` (0.5), ``rho_min`` (0), ``eta_min`` (0.5).
    horizon : float, optional
        Failures after this date count as "none before the horizon"; default 20
        years after the last observation.
    bootstrap : Bootstrap, optional
        Reuse replicates already computed (``fits.bootstrap(n)``).

    Returns
    -------
    AssumptionReport

    Examples
    --------
    >>> import lsi, warnings
    >>> warnings.simplefilter("ignore")
    >>> fits = lsi.fit(lsi.datasets.load("metr_horizons"))
    >>> rep = lsi.assumptions(fits, n_boot=50)
    >>> round(sum(rep.probabilities.values()), 6)
    1.0
    """
    if not isinstance(fits, FitCollection):
        raise ParameterValueError(f"assumptions needs the result of lsi.fit; got {type(fits).__name__}")
    th = loopmath.thresholds(thresholds)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ParameterValueError(f"n_boot = {n_boot!r}; give a whole number of replicates, 0 or more")
    check_seed(seed)
    s = fits.series
    horizon = check_horizon(horizon, float(s.t[-1]))
    models = []
    probs = dict.fromkeys(FAILURES, 0.0)
    notes = []
    for r in fits.values():
        fa = failure_analysis(r.model, r.theta, r.t0, thresholds=th, horizon=horizon)
        row = _model_row(r, fa, fits.noise)
        models.append(row)
        if r.converged:
            probs[row["first_failure"]] += r.weight
        for key, why in row["out_of_range"].items():
            notes.append(f"{r.name}: {key} is {why}")
        if row["tied"]:
            notes.append(
                f"{r.name}: two assumptions fail at the same time; the first in the order closure, "
                "amplification, efficiency is named"
            )
    total = sum(probs.values())
    probs = {k: v / total for k, v in probs.items()} if total > 0 else probs

    boot_probs = None
    failure_times: dict[str, dict[str, Any]] = {}
    selection = None
    replicate_outcomes = None
    if bootstrap is None and n_boot > 0:
        bootstrap = fits.bootstrap(n_boot, seed=seed, progress=progress)
    if bootstrap is not None:
        best = bootstrap.best
        codes = np.full(best.size, -1, dtype=int)
        ftime = np.full(best.size, np.nan)
        flevel = np.full(best.size, np.nan)
        fsing = np.full(best.size, np.nan)
        for j, name in enumerate(bootstrap.models):
            rows = np.flatnonzero(best == j)
            if rows.size == 0:
                continue
            r = fits[name]
            fa = failure_analysis(r.model, bootstrap.theta[name][rows], r.t0, thresholds=th, horizon=horizon)
            codes[rows] = fa["first_failure"]
            ftime[rows] = fa["failure_time"]
            flevel[rows] = fits.noise.data_from_capability(fa["failure_level"])
            fsing[rows] = fa["t_singularity"]
        replicate_outcomes = {"code": codes, "time": ftime, "level": flevel, "singularity": fsing}
        ok = codes >= 0
        if ok.any():
            boot_probs = {k: float(np.mean(codes[ok] == i)) for i, k in enumerate(FAILURES)}
            for i, k in enumerate(FAILURES[:3]):
                sel = ok & (codes == i)
                if sel.any():
                    q = np.nanquantile(ftime[sel], [0.05, 0.5, 0.95])
                    lv = flevel[sel]
                    failure_times[k] = {
                        "share": float(np.mean(codes[ok] == i)),
                        "time_q05": float(q[0]),
                        "time_q50": float(q[1]),
                        "time_q95": float(q[2]),
                        "level_q50": float(np.nanmedian(lv)) if np.isfinite(lv).any() else None,
                    }
        selection = bootstrap.selection_probabilities()
        if (~ok).any():
            notes.append(
                f"{int((~ok).sum())} of {best.size} bootstrap replicates had no converged model and were left out"
            )

    data = data_check(fits)
    sig_note = "no per-point uncertainties (noise scale estimated)"
    if fits.noise.point_sigma(s) is not None:
        extra = [r.extra_scatter for r in fits.values() if r.extra_scatter is not None]
        sig_note = "per-point uncertainties from the published intervals"
        if extra and max(extra) > 0:
            sig_note += (
                f", plus an extra scatter estimated per model (up to {max(extra):.3g} in "
                f"{fits.noise.name} space) because the residuals exceed them"
            )
    for r in fits.values():
        if not r.converged:
            notes.append(f"{r.name} did not converge ({r.message}); it carries no weight")
    claim, details = _verdict(probs, boot_probs, models, data, failure_times, th, horizon, fits.noise.name)
    return AssumptionReport(
        series_name=s.name,
        noise=fits.noise.name,
        thresholds=th,
        horizon=horizon,
        probabilities=probs,
        bootstrap_probabilities=boot_probs,
        models=models,
        failure_times=failure_times,
        selection=selection,
        data=data,
        verdict=f"{claim} {details}".strip(),
        details=details,
        uncertainty=sig_note,
        n_boot=0 if bootstrap is None else bootstrap.n,
        units=s.units,
        t0=float(next(iter(fits.values())).t0),
        notes=notes,
        bootstrap=bootstrap,
        replicate_outcomes=replicate_outcomes,
    )


def check_horizon(horizon: Any, last: float) -> float:
    """The last date a failure counts: 20 years after ``last`` by default; a finite date after it."""
    if horizon is None:
        return last + 20.0
    if isinstance(horizon, bool) or not isinstance(horizon, int | float | np.number):
        raise ParameterValueError(f"horizon = {horizon!r}; give a decimal year after the last observation {last:.2f}")
    h = float(horizon)
    if not math.isfinite(h) or h <= last:
        raise ParameterValueError(
            f"horizon = {h!r} is not a date after the last observation {last:.2f}; give a later decimal year"
        )
    return h


NONE_REASONS = {
    "breakpoint": "a one-time exogenous jump in the growth rate, not self-amplification",
    "hyperbolic": "RSI's explosion towards a finite-time singularity",
    "exponential": "steady growth at constant returns",
    "loop": "a loop whose assumptions hold to the horizon",
}


def _none_breakdown(models: list[dict[str, Any]]) -> dict[str, float]:
    """Weights of the models in which nothing fails, largest first (those above 0.01)."""
    w = {m["name"]: m["weight"] for m in models if m["first_failure"] == "none" and m["weight"] > 0.01}
    return dict(sorted(w.items(), key=lambda kv: -kv[1]))


#: under logit noise the models describe the odds of a score: a singularity of the odds is the
#: score reaching its ceiling of 1 in finite time (a benchmark saturating), not an explosion
LOGIT_REASONS = {
    "hyperbolic": "the odds diverging in finite time: the score reaching 1 (the benchmark saturating)",
}


def none_reasons(noise_name: str) -> dict[str, str]:
    """What a 'none' carried by each model means, under the noise model the fits used."""
    return {**NONE_REASONS, **LOGIT_REASONS} if noise_name == "logit" else dict(NONE_REASONS)


def _verdict(probs, boot, models, data, failure_times, th, horizon, noise_name="log") -> tuple[str, str]:
    """The unchecked claim (the first sentence, with its strength word) and the details."""
    reasons = none_reasons(noise_name)
    if not sum(probs.values()) > 0:
        return "No answer: no model carries any weight on these data (none converged, or the series is degenerate).", ""
    top_w = max(probs, key=probs.get)
    parts = []
    if boot is not None:
        top_b = max(boot, key=boot.get)
        agree = top_w == top_b
        strong = agree and probs[top_w] >= 0.75 and boot[top_b] >= 0.75
        lean = agree and probs[top_w] >= 0.5 and boot[top_b] >= 0.5
    else:
        top_b, agree = None, True
        strong = probs[top_w] >= 0.75
        lean = probs[top_w] >= 0.5
    pw = f"P = {probs[top_w]:.2f} by Akaike weights" + (f", {boot[top_w]:.2f} by bootstrap" if boot else "")
    if strong or lean:
        word = "The evidence favours" if strong else "The evidence leans towards"
        when = ""
        ft = failure_times.get(top_w)
        if top_w != "none" and ft:
            when = f", around {ft['time_q50']:.1f} (90% of replicates {ft['time_q05']:.1f}-{ft['time_q95']:.1f})"
        parts.append(f"{word}: {PHRASES[top_w]}{when} ({pw}).")
        claims = 1
        if top_w == "none":
            parts[-1] = parts[-1].replace("before the horizon", f"before {horizon:.0f}")
            why = _none_breakdown(models)
            if why:
                parts.append(
                    "That 'none' is made of: "
                    + "; ".join(f"{reasons.get(k, k)} ({k}, weight {w:.2f})" for k, w in why.items())
                    + "."
                )
    else:
        claims = 1
        ranked = sorted(probs, key=probs.get, reverse=True)
        parts.append(
            "The data cannot tell which assumption fails first: "
            + ", ".join(f"{k} {probs[k]:.2f}" for k in ranked if probs[k] > 0.005)
            + " by Akaike weights"
            + (
                ", "
                + ", ".join(f"{k} {boot[k]:.2f}" for k in sorted(boot, key=boot.get, reverse=True) if boot[k] > 0.005)
                + " by bootstrap"
                if boot
                else ""
            )
            + "."
        )
    if boot is not None and not agree:
        parts.insert(claims, f"Akaike weights and the bootstrap disagree ({top_w} vs {top_b}); read both.")
        claims += 1
    sing = [
        m
        for m in models
        if m["singularity_time"] is not None and np.isfinite(m["singularity_time"]) and m["weight"] > 0.05
    ]
    if (strong or lean) and top_w == "none":
        sing, bp_models = [], []  # already named in the breakdown of 'none'
    else:
        bp_models = [m for m in models if m["name"] == "breakpoint" and m["weight"] > 0.05]
    for m in sing:
        if noise_name == "logit":
            parts.append(
                f"The {m['name']} model (weight {m['weight']:.2f}) has the odds diverge at "
                f"{m['singularity_time']:.1f}: the score reaches 1 then (the benchmark saturates), which says "
                "nothing of an explosion of capability."
            )
        else:
            parts.append(
                f"The {m['name']} model (weight {m['weight']:.2f}) reaches a finite-time singularity at "
                f"{m['singularity_time']:.1f}: RSI's explosion, with no assumption failing first."
            )
    for m in bp_models:
        parts.append(
            f"A one-time jump in the growth rate (breakpoint, weight {m['weight']:.2f}) explains the "
            "acceleration without any self-amplification."
        )
    acc = data.get("acceleration")
    if acc:
        parts.append(
            "On the data alone, "
            + (
                "the data cannot tell whether doubling times shrink or grow "
                if acc["doubling_times"] == "cannot tell"
                else f"doubling times are {acc['doubling_times']} "
            )
            + f"(growth rate of ln C changing by {acc['value']:+.2f}/yr [{acc['lower']:+.2f}, {acc['upper']:+.2f}])."
        )
    return " ".join(parts[:claims]), " ".join(parts[claims:])
