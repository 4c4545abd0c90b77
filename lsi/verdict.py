"""The answer, and how sure we are of it: :func:`answer` (what ``lsi report`` prints).

:func:`lsi.assumptions` says which assumption of recursive self-improvement fails first, by
the Akaike weights of the fitted models and by the bootstrap.  Those probabilities hold on
one choice of the data, if the leading models can be told apart on it, with intervals that
assume independent errors and forecast bands that trust the fitted curves.  :func:`answer`
runs the checks of each of those, and words the headline from them:

``identification``
    Every model that converged is *identified* unless a parameter ran to an end of its
    range (the data prefer a limiting case: :attr:`lsi.results.FitResult.issues`) or its
    fitted ceiling (the model's :attr:`~lsi.models.base.GrowthModel.ceiling`) lies below the
    largest observed value (on a series of records by any amount, otherwise by more than
    twice the fit's scatter: :func:`identification`).  A verdict carried by a model that is not identified is reported
    as not identified, never as a finding.  A model needs at least ``k + 2`` points for its
    ``k`` free parameters (the noise scale or extra scatter counted) to be fitted at all
    (:func:`lsi.fit`); the weights carry a warning when the series has fewer than
    ``2 k`` points for the model with most parameters (:data:`SHORT_FACTOR`).
``robustness``
    The leading model and the verdict under each defensible data choice
    (:func:`lsi.robustness.curve`); the default follows the source's own convention.
``distinguishability``
    How often each model wins on series simulated from the leading models at the observed
    times (:func:`lsi.distinguishability.confusion`).
``autocorrelation``
    Ljung-Box and Durbin-Watson on every fit's residuals, and intervals with AR(1) errors
    (:func:`lsi.dependence.intervals`).
``calibration``
    How often the default 90% forecast band covered on the series' own rolling-origin
    backtest, and the calibration that widens it (:func:`lsi.calibration.past_coverage`).

How the headline is worded (:func:`headline`; every branch is rendered by a test).  The
verdict's *class* is the outcome with the largest Akaike-weight probability of failing
first, and for "none" the model that carries it (an explosion, a one-time jump, steady
growth are different answers).  Its *confidence* is the smallest of: the class's
probability by Akaike weights, by the bootstrap, and the share of specifications that give
the same class.  The strength word follows the confidence (at least 0.75: "favours"; at
least 0.5: "leans towards"; below: "cannot tell").  The headline then says, each only when
it applies: that the answer is fragile (fewer than 80% of the specifications agree) and on
what it turns; that the leading pair cannot be told apart, with the confusion in numbers,
and that their answers differ; that the model carrying the verdict is not identified; and
that the series is short.  Nothing is stated with a number the checks do not support.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from . import loopmath
from .assessment import PHRASES, AssumptionReport, assumptions, check_horizon, none_reasons
from .bootstrap import DEFAULT_N
from .exceptions import LsiError, ParameterValueError, check_seed
from .jsonvalues import strict
from .results import FitCollection

if TYPE_CHECKING:  # pragma: no cover
    from .calibration import Calibration
    from .dependence import DependenceIntervals
    from .distinguishability import Confusion
    from .robustness import SpecCurve

__all__ = ["Answer", "answer", "headline", "Headline", "identification", "CHECKS", "SHORT_FACTOR"]

#: the checks :func:`answer` runs by default, in the order the report shows them
CHECKS = ("robustness", "distinguishability", "autocorrelation", "calibration")

#: weights on a series with fewer than this many times the most free parameters of any
#: fitted model carry a warning
SHORT_FACTOR = 2

#: confidence at which the headline says "favours", and "leans towards"
STRONG, LEAN = 0.75, 0.5

#: share of agreeing specifications below which the answer is fragile
ROBUST_SHARE = 0.8

#: a verdict class in a few words, for the "cannot tell" sentence
_KIND = {
    "breakpoint": "a one-time jump in the growth rate",
    "hyperbolic": "RSI's explosion",
    "exponential": "steady exponential growth",
    "loop": "a loop whose assumptions hold",
}


# ---------------------------------------------------------------- identification
def identification(fits: FitCollection) -> dict[str, str]:
    """Per model: ``"identified"``, or why its fit is not a finding.

    A model is not identified when it did not converge, when a parameter ran to an end of
    its range (:attr:`lsi.results.FitResult.issues`), or when its fitted ceiling lies below
    the largest observed value (a carrying capacity the data have already passed): by any
    amount on a series of records (never falling, such as a frontier), otherwise by more than
    twice the scatter of the best-fitting model (its root mean square residual in the noise
    model's space, or the point's own uncertainty with the extra scatter when larger).
    """
    out = {}
    s = fits.series
    i_top = int(np.nanargmax(s.y))
    top = float(s.y[i_top])
    records = bool(np.all(np.diff(s.y[np.argsort(s.t, kind="stable")]) >= 0))
    # the scatter as the best-fitting model sees it (a misfit model's residuals would hide its misfit)
    rms = [float(np.sqrt(np.mean(np.asarray(r.residuals, dtype=float) ** 2))) for r in fits.values() if r.converged]
    scatter = min((v for v in rms if math.isfinite(v)), default=0.0)
    for name, r in fits.items():
        if not r.converged:
            out[name] = f"did not converge ({r.message})"
            continue
        why = list(r.issues)
        ceiling = r.model.ceiling
        if ceiling is not None:
            k = float(r.theta[r.model.param_names.index(ceiling)])
            if k < top and _beyond_noise(r, k, i_top, 0.0 if records else 2.0 * scatter):
                why.insert(0, f"its fitted ceiling {ceiling} = {k:.4g} lies below the observed maximum {top:.4g}")
        out[name] = "identified" if not why else "not identified: " + "; ".join(why)
    return out


def _beyond_noise(r: Any, k: float, i: int, allowed: float) -> bool:
    """Whether a ceiling ``k`` lies below the observation ``i`` by more than ``allowed`` (in the
    noise model's space; with per-point uncertainties, twice the point's own counts too)."""
    noise = r.noise
    with np.errstate(all="ignore"):
        gap = float(noise.transform(np.array([r.series.y[i]]))[0] - noise.transform(np.array([k]))[0])
        sig = noise.point_sigma(r.series)
    if allowed > 0 and sig is not None:
        allowed = max(allowed, 2.0 * float(np.hypot(sig[i], r.extra_scatter or 0.0)))
    return not math.isfinite(gap) or gap > allowed


def _short(fits: FitCollection) -> str | None:
    if not fits:
        return None
    k = max(r.n_params for r in fits.values())
    n = len(fits.series)
    if n >= SHORT_FACTOR * k:
        return None
    return (
        f"the series is short ({n} points for models with up to {k} free parameters; the weights are "
        f"trustworthy from about {SHORT_FACTOR * k}): read the weights as weak evidence"
    )


# ---------------------------------------------------------------- the headline
@dataclass(frozen=True)
class Headline:
    """The checked parts a headline is built from (every field is a number or a sentence a
    check produced; :func:`headline` only chooses and joins them).

    Attributes
    ----------
    outcome : str or None
        The outcome with the largest Akaike-weight probability (None: no model converged).
    carrier : str or None
        For ``outcome == "none"``, the model that carries most of it.
    p_akaike, p_boot : float or None
        The class's probability by Akaike weights and by the bootstrap.
    horizon : float
    agreement : tuple of (int, int) or None
        Specifications giving the default's verdict class, and all of them (None: untested).
    fragile_on : str
        What the disagreement turns on, in words ("the rows kept").
    pair : tuple or None
        ``(status, a, b, sentence, a_class, b_class)`` for the leading pair.
    unidentified : str or None
        Why the model carrying the verdict is not identified.
    short : str or None
        The short-series warning.
    degenerate : str or None
        Why the series cannot be answered at all (constant, too few points).
    noise : str
        The noise model of the fits (under ``"logit"`` a singularity is of a score's odds).
    n_boot : int
        Bootstrap replicates behind ``p_boot`` (its Monte Carlo error is quoted with it).
    """

    outcome: str | None
    carrier: str | None = None
    p_akaike: float | None = None
    p_boot: float | None = None
    horizon: float = math.nan
    agreement: tuple[int, int] | None = None
    fragile_on: str = ""
    pair: tuple[str, str, str, str, str, str] | None = None
    unidentified: str | None = None
    short: str | None = None
    degenerate: str | None = None
    noise: str = "log"
    n_boot: int = 0

    @property
    def confidence(self) -> float | None:
        """The smallest probability the checks give the verdict class (None: no verdict)."""
        vals = [p for p in (self.p_akaike, self.p_boot) if p is not None and math.isfinite(p)]
        if self.agreement is not None and self.agreement[1] > 1:
            vals.append(self.agreement[0] / self.agreement[1])
        return min(vals) if vals and self.outcome is not None else None

    @property
    def fragile(self) -> bool:
        a = self.agreement
        return a is not None and a[1] > 1 and a[0] / a[1] < ROBUST_SHARE

    @property
    def confused(self) -> bool:
        """The leading pair cannot be told apart and their answers differ."""
        return self.pair is not None and self.pair[0] == "cannot tell" and self.pair[4] != self.pair[5]

    @property
    def strength(self) -> str:
        """``"no answer"``, ``"not identified"``, ``"fragile"``, ``"undetermined"``,
        ``"favours"``, ``"leans towards"`` or ``"cannot tell"``."""
        c = self.confidence
        if self.degenerate is not None or c is None:
            return "no answer"
        if self.unidentified is not None:
            return "not identified"
        if self.fragile:
            return "fragile"
        if self.confused:
            return "undetermined"
        return "favours" if c >= STRONG else "leans towards" if c >= LEAN else "cannot tell"


def _claim(h: Headline) -> str:
    """The verdict class in words, with what carries a 'none'."""
    assert h.outcome is not None
    if h.outcome != "none":
        phrase = PHRASES[h.outcome]  # "the loop opens first (closure falls ...)": no nested brackets
        head, _, why = phrase.partition(" (")
        return f"{head}: {why.removesuffix(')')}" if why else phrase
    claim = f"no assumption fails before {h.horizon:.0f}"
    if h.carrier is not None:
        reason = none_reasons(h.noise).get(h.carrier, "no assumption failing")
        claim += f", carried by the {h.carrier} model: {reason}"
    return claim


def _numbers(h: Headline, *, agreement: bool = True) -> str:
    parts = []
    if h.p_akaike is not None:
        parts.append(f"P = {h.p_akaike:.2f} by Akaike weights")
    if h.p_boot is not None and math.isfinite(h.p_boot):
        if h.n_boot:
            se = math.sqrt(max(h.p_boot * (1 - h.p_boot), 0.0) / h.n_boot)
            parts.append(f"{h.p_boot:.2f} by bootstrap (Monte Carlo error {se:.2f}, {h.n_boot} refits)")
        else:
            parts.append(f"{h.p_boot:.2f} by bootstrap")
    if agreement and h.agreement is not None and h.agreement[1] > 1:
        k, n = h.agreement
        parts.append(f"the same in {'all ' + str(n) if k == n else f'{k} of {n}'} data specifications")
    return "; ".join(parts)


def headline(h: Headline) -> str:
    """The headline sentence(s) from checked parts (see the module docstring for the rules)."""
    if h.degenerate is not None:
        return f"No answer: {h.degenerate}."
    if h.outcome is None:
        return "No answer: no model converged on these data."
    nums = _numbers(h)
    claim = _claim(h)
    s = h.strength
    if s == "not identified":
        out = (
            f"Not identified: the leading answer would be that {claim} ({nums}), but the model carrying "
            f"it is not identified ({h.unidentified}); these data do not determine it."
        )
    elif s == "fragile":
        k, n = h.agreement or (0, 0)
        out = (
            f"Fragile: on the default data {claim} ({_numbers(h, agreement=False)}), but only {k} of {n} "
            f"defensible data specifications agree; the answer turns on {h.fragile_on or 'the data choices'}."
        )
    elif s == "undetermined":
        assert h.pair is not None
        out = (
            f"Undetermined: {claim} ({nums}), but {h.pair[3]}; {_kind(h.pair[1], h.noise)} and "
            f"{_kind(h.pair[2], h.noise)} are different answers."
        )
    elif s == "cannot tell":
        out = f"The data cannot tell which assumption fails first: the leading answer, that {claim}, has {nums}."
    else:
        word = "The evidence favours" if s == "favours" else "The evidence leans towards"
        out = f"{word}: {claim} ({nums})."
    if s not in ("undetermined",) and h.pair is not None and h.pair[0] == "cannot tell":
        out += f" Note that {h.pair[3]}."
    if h.short is not None:
        out += f" Caution: {h.short}."
    return out


def _kind(model: str, noise: str = "log") -> str:
    if noise == "logit" and model == "hyperbolic":
        return "a score saturating at 1 (hyperbolic odds)"
    return f"{_KIND.get(model, 'the ' + model + ' model')} ({model})"


# ---------------------------------------------------------------- the answer
@dataclass(frozen=True)
class Answer:
    """The assumption report with the checks of how sure it is, and the headline they allow.

    Attributes
    ----------
    report : AssumptionReport
        :func:`lsi.assumptions` on the fits (its own verdict is the unchecked one).
    headline : str
        The answer in one or two sentences, no more certain than the checks allow.
    strength : str
        :attr:`Headline.strength`.
    confidence : float or None
        :attr:`Headline.confidence`.
    verdict : str
        The headline followed by the checks' sentences and the report's details.
    identification : dict
        Per model, ``"identified"`` or why not (:func:`identification`).
    robustness, distinguishability, autocorrelation, calibration
        The checks' results (None when not run; see ``skipped``).
    skipped : dict
        Checks not run or that failed, with the reason.
    notes : tuple of str
    """

    report: AssumptionReport
    headline: str
    strength: str
    confidence: float | None
    verdict: str
    identification: Mapping[str, str]
    robustness: SpecCurve | None = None
    distinguishability: Confusion | None = None
    autocorrelation: DependenceIntervals | None = None
    calibration: Calibration | None = None
    skipped: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def series_name(self) -> str:
        return self.report.series_name

    def sentences(self) -> dict[str, str]:
        """One sentence per check that ran (or why it did not)."""
        out: dict[str, str] = {}
        if self.robustness is not None:
            out["robustness"] = self.robustness.headline + " " + self.robustness.convention
        if self.distinguishability is not None:
            out["distinguishability"] = _capital(self.distinguishability.sentence()) + "."
        if self.autocorrelation is not None:
            out["autocorrelation"] = _autocorrelation_sentence(self.autocorrelation, self.report)
        if self.calibration is not None:
            out["calibration"] = self.calibration.sentence()
        for k, why in self.skipped.items():
            out[k] = f"Not checked: {why}."
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``lsi report --json`` object): the report's keys, the checks' sections."""
        d = self.report.to_dict()
        d["unchecked_verdict"] = d.pop("verdict")
        d.update(
            {
                "headline": self.headline,
                "strength": self.strength,
                "confidence": self.confidence,
                "verdict": self.verdict,
                "identification": dict(self.identification),
                "robustness": None if self.robustness is None else self.robustness.to_dict(),
                "distinguishability": None if self.distinguishability is None else self.distinguishability.to_dict(),
                "autocorrelation": None if self.autocorrelation is None else strict(self.autocorrelation.to_dict()),
                "calibration": None if self.calibration is None else self.calibration.to_dict(),
                "checks": self.sentences(),
                "checks_skipped": dict(self.skipped),
                "bootstrap_fallback": _bootstrap_fallback(self.report),
                "notes": list(self.report.notes) + list(self.notes),
            }
        )
        return strict(d)

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    def summary(self) -> str:
        """Plain-text report."""
        from .summary import answer_text

        return answer_text(self)

    def to_markdown(self) -> str:
        from .summary import answer_markdown

        return answer_markdown(self)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<Answer for {self.series_name!r}: {self.strength}: {self.headline}>"

    def _repr_html_(self) -> str:
        from .display import answer_html

        return answer_html(self)


def _capital(s: str) -> str:
    return s[:1].upper() + s[1:]


def _bootstrap_fallback(rep: AssumptionReport) -> dict[str, float | None]:
    b = rep.bootstrap
    if b is None:
        return {}
    return {k: (v if math.isfinite(v) else None) for k, v in b.fallback_share().items()}


def _autocorrelation_sentence(iv: DependenceIntervals, rep: AssumptionReport) -> str:
    ranked = [m["name"] for m in sorted(rep.models, key=lambda m: -m["weight"]) if m["converged"]]
    tested = [iv.models[m] for m in ranked if m in iv.models and iv.models[m].check.tested]
    if not tested:
        return "The residuals could not be tested for autocorrelation (too few points)."
    lead = tested[0]
    c = lead.check
    flagged = [m.model for m in tested if m.check.autocorrelated]
    s = f"Residuals of the leading model ({lead.model}): {c.verdict}"
    if flagged and flagged != [lead.model]:
        others = [m for m in flagged if m != lead.model]
        if others:
            s += f"; autocorrelated in {', '.join(others)}"
    return s + (
        ". Intervals of doubling times and singularity dates use AR(1) errors "
        "(Prais-Winsten GLS, the AR coefficient integrated over its REML likelihood), which stay "
        "close to the independent ones where there is no dependence."
        if lead.method == "ar1"
        else f". Intervals use the {lead.method} method."
    )


def _verdict_class(rep: AssumptionReport) -> tuple[str | None, str | None, float | None, float | None]:
    """Outcome, the model carrying a 'none', and the class's probability by Akaike weights and bootstrap."""
    probs = rep.probabilities
    if not any(m["converged"] for m in rep.models) or sum(probs.values()) <= 0:
        return None, None, None, None
    outcome = max(probs, key=lambda k: probs[k])
    if outcome != "none":
        pb = None if rep.bootstrap_probabilities is None else rep.bootstrap_probabilities.get(outcome)
        return outcome, None, probs[outcome], pb
    nones = [m for m in rep.models if m["converged"] and m["first_failure"] == "none"]
    carrier = max(nones, key=lambda m: m["weight"])["name"] if nones else None
    pa = sum(m["weight"] for m in nones if m["name"] == carrier)
    pb = None
    if rep.selection is not None and carrier is not None:
        sel = rep.selection.get(carrier)
        pb = None if sel is None or not math.isfinite(sel) else float(sel)
    return outcome, carrier, pa, pb


def _class_of(rep: AssumptionReport, model: str) -> str:
    for m in rep.models:
        if m["name"] == model:
            ff = m["first_failure"]
            return f"none:{model}" if ff == "none" else ff
    return model


def _degenerate(fits: FitCollection) -> str | None:
    s = fits.series
    if len(s) >= 2 and np.ptp(s.y) == 0:
        return (
            f"the series is constant ({len(s)} points all equal to {s.y[0]:.6g}): there is no growth to "
            "tell the models apart by"
        )
    if not any(r.converged for r in fits.values()):
        return "no model converged on these data"
    return None


def _check_task(shared: tuple[str, FitCollection, dict[str, Any]], item: Any) -> tuple[bool, Any]:
    """One check (a module-level function: it may run in a worker process); a failure of it is
    recorded as ``(False, why)``, not raised, so the others still count."""
    name, fits, kw = shared
    try:
        if name == "robustness":
            from .robustness import curve

            return True, curve(fits, **kw)
        if name == "autocorrelation":
            from .dependence import intervals

            return True, intervals(fits, **kw)
        from .calibration import past_coverage

        return True, past_coverage(fits, **kw)
    except (LsiError, ArithmeticError, np.linalg.LinAlgError) as exc:
        return False, f"{name} could not be computed ({exc})"


#: where each single-item check goes in the pool's sequence (below _FIRST_SHARE: the calling
#: process, which starts at once while the worker is still starting)
_FRONT = {"robustness": 0.2, "autocorrelation": 0.3, "calibration": 0.8}

#: the calling process's share of the pool's work: a worker spends about 1.4 s of CPU starting
#: (importing lsi, unpickling the fits, compiling the models), about a tenth of the report's
#: 14 s of pooled work on METR, so the calling process takes 55% (measured: 6.1 s against the
#: worker's 8.0 s with equal shares)
_FIRST_SHARE = 0.55


def _succeeded(finish: Callable[[list[Any]], Any], parts: list[Any]) -> tuple[bool, Any]:
    return True, finish(parts)


def _jobs(
    fits: FitCollection,
    n_boot: int,
    seed: int | None,
    thresholds: Any,
    horizon: float,
    wanted: Sequence[str],
    n_sim: int | None,
    band_level: float,
) -> dict[str, Any]:
    """The bootstrap and the checks as jobs for one pool of processes."""
    from . import bootstrap, distinguishability
    from .workers import Job

    def first(parts: list[Any]) -> Any:
        return parts[0]

    jobs: dict[str, Any] = {}
    if n_boot > 0:
        jobs["bootstrap"] = bootstrap.plan(fits, int(n_boot), seed=seed)
    kw: dict[str, dict[str, Any]] = {
        "robustness": {"thresholds": thresholds, "horizon": horizon},
        "autocorrelation": {},
        "calibration": {"level": band_level, "seed": seed},
    }
    for name in wanted:
        if name == "distinguishability":
            n = distinguishability.DEFAULT_N if n_sim is None else n_sim
            try:
                job = distinguishability.plan(fits, n=n, seed=seed)
            except LsiError as exc:
                jobs[name] = (False, f"{name} could not be computed ({exc})")
            else:  # its answer as (ok, value), as the other checks give theirs
                jobs[name] = replace(job, finish=functools.partial(_succeeded, job.finish))
        else:
            jobs[name] = Job(_check_task, (name, fits, kw[name]), [0], first, front=_FRONT[name], name=name)
    return jobs


def _run_jobs(jobs: dict[str, Any], progress: bool | None) -> dict[str, Any]:
    """Run the jobs in one pool; each check's result as ``(ok, value)``, the bootstrap's as is."""
    from . import workers
    from .progress import Progress

    runnable = {k: j for k, j in jobs.items() if isinstance(j, workers.Job)}
    out: dict[str, Any] = {k: j for k, j in jobs.items() if k not in runnable}
    if runnable:
        total = sum(sum(j.units) if j.units is not None else len(j.items) for j in runnable.values())
        procs = workers.default_processes(1, 0)
        with Progress(total, "bootstrap and checks", enabled=progress) as bar:
            got = workers.run_jobs(
                list(runnable.values()), processes=procs, progress=bar.update, first_share=_FIRST_SHARE
            )
        out.update(zip(runnable, got, strict=True))
    return out


def answer(
    fits: FitCollection,
    *,
    n_boot: int = DEFAULT_N,
    seed: int | None = 0,
    thresholds: Any = None,
    horizon: float | None = None,
    checks: Sequence[str] = CHECKS,
    n_sim: int | None = None,
    band_level: float = 0.9,
    progress: bool | None = None,
) -> Answer:
    """Which assumption of RSI fails first, when, and how sure we are: the checked answer.

    Parameters
    ----------
    fits : FitCollection
        From :func:`lsi.fit` (for a shipped dataset, load it as its source fits its trend:
        :func:`lsi.datasets.load` with ``info(name)["trend_convention"]["options"]``, as
        ``lsi report`` does).
    n_boot, seed, thresholds, horizon
        As in :func:`lsi.assumptions`.
    checks : sequence of str
        Which of :data:`CHECKS` to run (default all).
    n_sim : int, optional
        Series simulated per leading model for the distinguishability check
        (default :data:`lsi.distinguishability.DEFAULT_N`).
    band_level : float
        Level of the forecast band whose past coverage is checked (0.9).
    progress : bool, optional
        Progress bars (default: on a terminal).

    Returns
    -------
    Answer
    """
    if not isinstance(fits, FitCollection):
        raise ParameterValueError(f"answer needs the result of lsi.fit; got {type(fits).__name__}")
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ParameterValueError(f"unknown checks {unknown}; choose from {', '.join(CHECKS)}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ParameterValueError(f"n_boot = {n_boot!r}; give a whole number of replicates, 0 or more")
    check_seed(seed)
    s = fits.series
    horizon = check_horizon(horizon, float(s.t[-1]))
    thresholds = loopmath.thresholds(thresholds)
    ident = identification(fits)
    skipped: dict[str, str] = {}
    degenerate = _degenerate(fits)
    results: dict[str, Any] = dict.fromkeys(CHECKS)
    wanted = [c for c in CHECKS if c in checks] if degenerate is None else []
    if degenerate is not None:
        skipped.update(dict.fromkeys(checks, degenerate))
    jobs = _jobs(fits, n_boot, seed, thresholds, horizon, wanted, n_sim, band_level)
    done = _run_jobs(jobs, progress)
    boot = done.pop("bootstrap", None)
    for name, (ok, value) in done.items():
        if ok:
            results[name] = value
        else:
            skipped[name] = value
    rep = assumptions(fits, n_boot=0, thresholds=thresholds, horizon=horizon, bootstrap=boot)
    h = _parts(rep, ident, results, fits, degenerate)
    head = headline(h)
    ans = Answer(
        report=rep,
        headline=head,
        strength=h.strength,
        confidence=h.confidence,
        verdict="",
        identification=ident,
        robustness=results["robustness"],
        distinguishability=results["distinguishability"],
        autocorrelation=results["autocorrelation"],
        calibration=results["calibration"],
        skipped=skipped,
    )
    return replace(ans, verdict=" ".join([head, *ans.sentences().values(), rep.details]).strip())


def _parts(
    rep: AssumptionReport,
    ident: Mapping[str, str],
    results: Mapping[str, Any],
    fits: FitCollection,
    degenerate: str | None,
) -> Headline:
    outcome, carrier, pa, pb = _verdict_class(rep)
    agreement, fragile_on = None, ""
    sc = results.get("robustness")
    if sc is not None and len(sc.rows) > 1:
        agreement = (sum(r.agrees_verdict for r in sc.rows), len(sc.rows))
        from .robustness import CHOICE_PHRASES

        on = sc.turns_on.get("verdict", ())
        fragile_on = " and ".join(CHOICE_PHRASES[c] for c in on)
    pair = None
    cf = results.get("distinguishability")
    if cf is not None:
        pv = cf.pair()
        if pv.status not in ("single", "undetermined"):
            pair = (pv.status, pv.a, pv.b, pv.sentence, _class_of(rep, pv.a), _class_of(rep, pv.b))
    carrier_model = carrier
    if outcome is not None and outcome != "none":
        # the model with most weight among those in which the outcome comes first
        fav = [m for m in rep.models if m["converged"] and m["first_failure"] == outcome]
        carrier_model = max(fav, key=lambda m: m["weight"])["name"] if fav else None
    unidentified = None
    if carrier_model is not None and ident.get(carrier_model, "identified") != "identified":
        unidentified = f"{carrier_model}: {ident[carrier_model].removeprefix('not identified: ')}"
    return Headline(
        outcome=outcome,
        carrier=carrier,
        p_akaike=pa,
        p_boot=pb,
        horizon=rep.horizon,
        agreement=agreement,
        fragile_on=fragile_on,
        pair=pair,
        unidentified=unidentified,
        short=_short(fits),
        degenerate=degenerate,
        noise=fits.noise.name,
        n_boot=rep.n_boot,
    )
