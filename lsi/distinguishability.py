"""Can these data tell the leading models apart?  A parametric bootstrap on the user's own design.

:func:`confusion` simulates series from each of the leading fitted models, at the observed
times and with the fitted noise, refits every model of the collection to each simulated
series exactly as :func:`lsi.fit` would score it (the same AICc, the extra scatter
re-estimated by maximum likelihood), and counts which model wins.  The result,
:class:`Confusion`, is the matrix P(model j selected | model i true) with its Monte Carlo
errors, and the sentence a verdict should use for the leading pair, for instance "these data
cannot tell hyperbolic from breakpoint: with the breakpoint model true, the hyperbolic model
still wins 60% of the time (24 of 40 simulated series); with the hyperbolic model true, the
breakpoint model never wins" (METR's time horizons).

The rule for "cannot tell" (:data:`CANNOT_TELL`): two models are told apart when, with
either of them true, the other is selected in fewer than 20% of the simulated series, and
the upper end of that fraction's 95% Monte Carlo interval also lies below 20%.  When a
fraction is 20% or more the data cannot tell them apart; in between (the estimate below
20%, its interval reaching it) they are told apart only barely.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import leastsq, selection
from .exceptions import ParameterValueError, SeriesError, UnknownModelError, check_seed

if TYPE_CHECKING:  # pragma: no cover
    from .observation import Noise
    from .results import FitCollection, FitResult
    from .workers import Job

__all__ = ["Confusion", "PairVerdict", "confusion", "plan", "CANNOT_TELL", "DEFAULT_N"]

#: a model selected this often (or more) when its rival is true means the data cannot tell them apart
CANNOT_TELL = 0.20
#: simulated series per true model by default (Monte Carlo error of a fraction at most 0.09,
#: and the "cannot tell" rule reads the upper end of its Wilson interval); 30 keeps the
#: report within its time budget beside its bootstrap
DEFAULT_N = 30
#: z of the two-sided 95% interval of a Monte Carlo fraction (Wilson score interval)
_Z95 = 1.959963984540054
#: simulated series per unit of work handed to a process
_CHUNK = 20
#: rough cost of one refit and of starting a worker process, seconds (they set how the work is
#: shared between processes, and whether a worker is worth starting)
_REFIT_COST = 2.5e-3
_WORKER_START = 2.0
#: alternations between the curve and the extra scatter in a refit, at most
_MAX_ALTERNATIONS = 12
#: evaluations per search in a refit's first step, and from a model's own starts (most need a few
#: dozen; a search that runs to a limit of the model can take thousands, and its refit is polished
#: only if it is a contender)
_FIRST_NFEV = 100
#: evaluations per search when a refit is polished (a search that runs to a limit at infinity
#: never ends on its own; its point's AICc still bounds the refit's minimum from above)
_POLISH_NFEV = 1000
#: a refit stopped by that cap is polished only when its AICc (an upper bound) is this close to the
#: best: such a search is creeping towards a limit of the model, where it equals a simpler model of
#: the collection with more parameters, and gains little more
_CAPPED_MARGIN = 2.0
#: a refit whose warm starts all sat at a limit of the model (where it equals a simpler model) is
#: refitted from the model's own starts when its AICc is this close to the best: leaving the limit
#: gains more than 10 in -2 ln L by chance in under 1% of series (chi-square, 2 degrees of freedom)
_TRAPPED_MARGIN = 10.0
#: a refit whose AICc after its first alternation is this far above the best is not polished further
_POLISH_MARGIN = 6.0
#: a refit's log-likelihood is converged in the extra scatter when a step gains less than this
_LL_TOL = 1e-2


# ---------------------------------------------------------------- the result
@dataclass(frozen=True)
class PairVerdict:
    """How well the data tell two models apart: the two confusions and the verdict's words.

    Attributes
    ----------
    a, b : str
        The two models; ``a`` is the one quoted as winning when ``b`` is true (the larger
        of the two confusions).
    p_a_given_b, p_b_given_a : float
        Fraction of the series simulated from ``b`` in which ``a`` was selected, and the
        converse.
    se_a_given_b, se_b_given_a : float
        Their Monte Carlo standard errors.
    upper_a_given_b : float
        Upper end of the 95% Wilson interval of ``p_a_given_b``.
    n_b, n_a : int
        Usable simulated series with ``b`` (and ``a``) true.
    status : {"tell", "barely", "cannot tell"}
    sentence : str
    """

    a: str
    b: str
    p_a_given_b: float
    p_b_given_a: float
    se_a_given_b: float
    se_b_given_a: float
    upper_a_given_b: float
    n_b: int
    n_a: int
    status: str
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "p_a_given_b": _num(self.p_a_given_b),
            "p_b_given_a": _num(self.p_b_given_a),
            "se_a_given_b": _num(self.se_a_given_b),
            "se_b_given_a": _num(self.se_b_given_a),
            "upper_a_given_b": _num(self.upper_a_given_b),
            "n_b": int(self.n_b),
            "n_a": int(self.n_a),
            "status": self.status,
            "sentence": self.sentence,
        }


@dataclass(frozen=True)
class Confusion:
    """Which model wins on series simulated from each leading model: P(j selected | i true).

    Attributes
    ----------
    true_models : tuple of str
        The models simulated from (rows), leading model first.
    models : tuple of str
        Every model refitted and eligible to win (columns): the converged fits of the collection.
    counts : ndarray of int, shape (len(true_models), len(models))
        How many simulated series each model won, by true model.
    n_valid : ndarray of int, shape (len(true_models),)
        Simulated series in which at least one refit gave a usable point (the denominators).
    refit_failures : ndarray of int, shape (len(true_models), len(models))
        Refits that did not end at a minimum: stopped short of one (their AICc, an upper
        bound, still took part: a model whose bound was the lowest won the series) or with
        no usable point at all (the model could not win that series).
    n : int
        Series simulated per true model.
    noise_scale : dict of str -> float
        The scale of the simulated noise per true model, in the noise model's space: the
        extra scatter added in quadrature to the per-point uncertainties, or the whole
        noise standard deviation when the series has none.
    weights : dict of str -> float
        The Akaike weights of the fits on the data (they name the leading pair).
    leader, rival : str or None
        The leading pair: the two largest Akaike weights among ``true_models`` (``rival`` is
        None when only one model converged).
    seed : int or None
    noise : str
        The noise model.
    n_points : int
        Points of the series (the design every series was simulated on).
    """

    true_models: tuple[str, ...]
    models: tuple[str, ...]
    counts: np.ndarray
    n_valid: np.ndarray
    refit_failures: np.ndarray
    n: int
    noise_scale: dict[str, float]
    weights: dict[str, float]
    leader: str | None
    rival: str | None
    seed: int | None
    noise: str
    n_points: int
    #: the per-point uncertainties are part of the simulated noise
    sigma_known: bool = False
    #: refits, per true model and model, that stopped short of a minimum with a usable point
    #: (their AICc, an upper bound of the minimum's, took part; counted in ``refit_failures`` too)
    unfinished: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=int), repr=False)
    #: AICc of every refit, shape (len(true_models), n, len(models)); inf where it failed
    aicc: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)), repr=False)
    #: whether each refit ended at a minimum
    converged: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), dtype=bool), repr=False)

    # ------------------------------------------------------------ numbers
    @property
    def probabilities(self) -> np.ndarray:
        """P(column model selected | row model true); NaN rows where no series was usable."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.counts / np.where(self.n_valid > 0, self.n_valid, np.nan)[:, None]

    @property
    def stderr(self) -> np.ndarray:
        """Monte Carlo (binomial) standard errors of :attr:`probabilities`."""
        p = self.probabilities
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(p * (1 - p) / np.where(self.n_valid > 0, self.n_valid, np.nan)[:, None])

    @property
    def failures(self) -> dict[str, int]:
        """Simulated series, per true model, in which no refit gave a usable point (left out of the rates)."""
        return {m: int(self.n - v) for m, v in zip(self.true_models, self.n_valid, strict=True)}

    def probability(self, selected: str, true: str) -> float:
        """P(``selected`` wins | ``true`` is true)."""
        i, j = self._row(true), self._col(selected)
        return float(self.probabilities[i, j])

    def _row(self, name: str) -> int:
        if name not in self.true_models:
            raise UnknownModelError(
                f"{name!r} was not simulated from; true models: {', '.join(self.true_models)} "
                "(pass models= to confusion() to simulate from it)"
            )
        return self.true_models.index(name)

    def _col(self, name: str) -> int:
        if name not in self.models:
            raise UnknownModelError(f"{name!r} was not refitted; models: {', '.join(self.models)}")
        return self.models.index(name)

    # ------------------------------------------------------------ words
    def pair(self, a: str | None = None, b: str | None = None) -> PairVerdict:
        """How well the data tell ``a`` from ``b`` (default: the leading pair), with the sentence.

        The status follows :data:`CANNOT_TELL`: "cannot tell" when either model wins at least
        20% of the series simulated from the other; "tell" when both fractions, and the upper
        ends of their 95% Monte Carlo intervals, lie below 20%; "barely" in between.
        The sentence quotes the larger of the two confusions.
        """
        a = self.leader if a is None else a
        b = self.rival if b is None else b
        if a is None or b is None:
            only = a or b or "no model"
            return PairVerdict(
                only, only, math.nan, math.nan, math.nan, math.nan, math.nan, 0, 0, "single",
                f"only one model ({only}) converged on these data: there is no rival to tell it from",
            )  # fmt: skip
        if a == b:
            raise ParameterValueError(f"a and b are both {a!r}; name two different models")
        ia, ib = self._row(a), self._row(b)
        ja, jb = self._col(a), self._col(b)
        na, nb = int(self.n_valid[ia]), int(self.n_valid[ib])
        if na == 0 or nb == 0:
            bad = a if na == 0 else b
            return PairVerdict(
                a, b, math.nan, math.nan, math.nan, math.nan, math.nan, nb, na, "undetermined",
                f"how well these data tell {a} from {b} is undetermined: no refit converged on the "
                f"{self.n} series simulated from the {bad} model",
            )  # fmt: skip
        p_ab = self.counts[ib, ja] / nb  # a wins, b true
        p_ba = self.counts[ia, jb] / na  # b wins, a true
        if p_ba > p_ab:  # quote the larger confusion first
            a, b, ia, ib, na, nb, p_ab, p_ba = b, a, ib, ia, nb, na, p_ba, p_ab
        se_ab, se_ba = _se(p_ab, nb), _se(p_ba, na)
        up = _wilson_upper(p_ab, nb)
        if p_ab >= CANNOT_TELL:
            status = "cannot tell"
        elif up >= CANNOT_TELL:
            status = "barely"
        else:
            status = "tell"
        text = _pair_sentence(status, a, b, p_ab, nb, p_ba, na)
        return PairVerdict(a, b, p_ab, p_ba, se_ab, se_ba, up, nb, na, status, text)

    def sentence(self, a: str | None = None, b: str | None = None) -> str:
        """The sentence for a verdict about ``a`` and ``b`` (default: the leading pair); see :meth:`pair`."""
        return self.pair(a, b).sentence

    def pairs(self) -> list[PairVerdict]:
        """Every pair of true models, the most confused first."""
        out = [self.pair(a, b) for k, a in enumerate(self.true_models) for b in self.true_models[k + 1 :]]
        return sorted(out, key=lambda v: -(v.p_a_given_b if math.isfinite(v.p_a_given_b) else -1.0))

    # ------------------------------------------------------------ rendering
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (no NaN or infinity: undefined numbers are None)."""
        p, se = self.probabilities, self.stderr
        return {
            "true_models": list(self.true_models),
            "models": list(self.models),
            "n": int(self.n),
            "n_valid": {m: int(v) for m, v in zip(self.true_models, self.n_valid, strict=True)},
            "failures": self.failures,
            "probabilities": {
                t: {m: _num(p[i, j]) for j, m in enumerate(self.models)} for i, t in enumerate(self.true_models)
            },
            "stderr": {
                t: {m: _num(se[i, j]) for j, m in enumerate(self.models)} for i, t in enumerate(self.true_models)
            },
            "counts": {
                t: {m: int(self.counts[i, j]) for j, m in enumerate(self.models)}
                for i, t in enumerate(self.true_models)
            },
            "refit_failures": {
                t: {m: int(self.refit_failures[i, j]) for j, m in enumerate(self.models)}
                for i, t in enumerate(self.true_models)
            },
            "unfinished": {
                t: {m: int(self.unfinished[i, j]) for j, m in enumerate(self.models)}
                for i, t in enumerate(self.true_models)
            }
            if self.unfinished.size
            else {},
            "noise_scale": {k: _num(v) for k, v in self.noise_scale.items()},
            "noise": self.noise,
            "sigma_known": bool(self.sigma_known),
            "n_points": int(self.n_points),
            "seed": self.seed,
            "weights": {k: _num(v) for k, v in self.weights.items()},
            "leader": self.leader,
            "rival": self.rival,
            "rule": (
                f"two models are told apart when, with either true, the other wins fewer than "
                f"{CANNOT_TELL:.0%} of the simulated series (and the upper end of the 95% Monte Carlo "
                f"interval is below {CANNOT_TELL:.0%}); at {CANNOT_TELL:.0%} or more the data cannot tell them apart"
            ),
            "threshold": CANNOT_TELL,
            "leading_pair": self.pair().to_dict(),
            "pairs": [v.to_dict() for v in self.pairs()],
        }

    def __repr__(self) -> str:
        return (
            f"<Confusion of {len(self.true_models)} true models x {len(self.models)} models, "
            f"{self.n} series each: {self.sentence()}>"
        )


# ---------------------------------------------------------------- checked parts of the sentence
def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _se(p: float, m: int) -> float:
    return math.sqrt(p * (1 - p) / m) if m > 0 else math.nan


def _wilson_upper(p: float, m: int) -> float:
    """Upper end of the 95% Wilson score interval of a fraction ``p`` of ``m`` trials."""
    if m <= 0:
        return math.nan
    z2 = _Z95**2
    centre = (p + z2 / (2 * m)) / (1 + z2 / m)
    half = _Z95 * math.sqrt(p * (1 - p) / m + z2 / (4 * m * m)) / (1 + z2 / m)
    return min(1.0, centre + half)


def _percent(p: float) -> str:
    """A fraction in [0, 1] as a percentage for a sentence ("40%", "<1%", "0%")."""
    if not (isinstance(p, float | int) and math.isfinite(p) and 0.0 <= p <= 1.0):
        raise ValueError(f"a fraction in [0, 1] was expected, got {p!r}")
    if p == 0:
        return "0%"
    if p < 0.01:  # never "0%" for something that happened
        return "<1%"
    if 0.99 < p < 1:  # never "100%" for something that did not always happen
        return ">99%"
    return f"{p:.0%}"


def _model_name(name: str) -> str:
    if not name or not all(c.isalnum() or c in "_- " for c in name):
        raise ValueError(f"a model name of letters, digits and '_' was expected, got {name!r}")
    return name


def _pair_sentence(status: str, a: str, b: str, p_ab: float, nb: int, p_ba: float, na: int) -> str:
    """The verdict's words for a pair, from checked parts: ``a`` won a fraction ``p_ab`` of the
    ``nb`` series simulated from ``b``, and ``b`` a fraction ``p_ba`` of the ``na`` from ``a``."""
    a, b = _model_name(a), _model_name(b)
    if nb < 1 or na < 1:
        raise ValueError("both models need usable simulated series")
    k = round(p_ab * nb)
    wins = f"{_percent(p_ab)} of the time ({k} of {nb} simulated series)" if k else f"in none of {nb} simulated series"
    back = f"wins {_percent(p_ba)}" if round(p_ba * na) else "never wins"
    other = f"with the {a} model true, the {b} model {back}"
    if status == "cannot tell":
        return f"these data cannot tell {a} from {b}: with the {b} model true, the {a} model still wins {wins}; {other}"
    if status == "barely":
        return (
            f"these data only barely tell {a} from {b}: with the {b} model true, the {a} model still wins {wins}, "
            f"close to the {_percent(CANNOT_TELL)} at which they could not be told apart; {other}"
        )
    if status == "tell":
        return f"these data tell {a} from {b}: with the {b} model true, the {a} model wins {wins}; {other}"
    raise ValueError(f"status {status!r}; expected 'tell', 'barely' or 'cannot tell'")


# ---------------------------------------------------------------- simulation
def _default_true(fits: FitCollection) -> list[str]:
    """The two largest Akaike weights among converged fits, and the exponential/hyperbolic pair."""
    conv = sorted((r for r in fits.values() if r.converged), key=lambda r: (-r.weight, r.aicc))
    out = [r.name for r in conv[:2]]
    for name in ("exponential", "hyperbolic"):
        if name in fits and fits[name].converged and name not in out:
            out.append(name)
    return out


def _zhat(r: FitResult, t: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
    """The fitted curve in the noise model's space at times ``t``."""
    th = r.theta if theta is None else theta
    tau = np.asarray(t, dtype=float) - r.t0
    with np.errstate(all="ignore"):
        return r.model.lnC_theta(tau, th) if r.noise.uses_log_capability else r.model.C_theta(tau, th)


def _chi2_scatter(resid: np.ndarray, sig: np.ndarray, target: float) -> float:
    """The extra scatter s >= 0 at which sum r^2 / (sig^2 + s^2) equals ``target`` (0 if it is below already)."""
    from scipy import optimize

    r2, s2 = resid**2, sig**2

    def excess(q: float) -> float:
        return float(np.sum(r2 / (s2 + q))) - target

    if target <= 0 or excess(0.0) <= 0:
        return 0.0
    hi = float(np.max(r2)) * resid.size / target + 1.0
    return math.sqrt(optimize.brentq(excess, 0.0, hi, xtol=1e-14, rtol=1e-10))


def _ml_scatter(resid: np.ndarray, sig: np.ndarray) -> float:
    """Maximum-likelihood extra scatter s >= 0 for fixed residuals and per-point ``sig``.

    The score in q = s^2, ``g(q) = sum (r^2 - v) / v^2`` with ``v = sig^2 + q``, is positive at
    0 unless s = 0 is the maximum, and negative from ``max r^2`` on; its root is found by
    Newton's method kept inside the bracket (bisection when a step would leave it).
    """
    r2, s2 = resid**2, sig**2
    v = s2
    if float(np.sum((r2 - v) / v**2)) <= 0:
        return 0.0
    lo, hi = 0.0, float(np.max(r2))
    q = min(max(float(np.mean(r2 - s2)), 0.0), hi) or 0.5 * hi
    for _ in range(100):
        v = s2 + q
        g = float(np.sum((r2 - v) / v**2))
        if g > 0:
            lo = q
        else:
            hi = q
        dg = float(np.sum((v - 2 * r2) / v**3))
        step = q - g / dg if dg < 0 else math.nan
        q_new = step if lo < step < hi else 0.5 * (lo + hi)
        if abs(q_new - q) <= 1e-10 * q or hi - lo <= 1e-12 * hi:
            q = q_new
            break
        q = q_new
    return math.sqrt(max(q, 0.0))


def _noise_scale(r: FitResult, sig: np.ndarray | None) -> float:
    """The scale of the noise to simulate ``r``'s model with (see :func:`confusion`)."""
    resid = r.noise.transform(r.series.y) - _zhat(r, r.series.t)
    dof = r.n - len(r.free)
    if sig is None:
        return math.sqrt(float(np.sum(resid**2)) / dof)
    if r.extra_scatter is None:  # the uncertainties were declared complete
        return 0.0
    return max(float(r.extra_scatter), _chi2_scatter(resid, sig, float(dof)))


@dataclass(frozen=True)
class _Setup:
    """What a worker needs to refit one model: the fit, its parameter layout and warm start."""

    result: FitResult
    layout: leastsq.Layout
    warm: list[dict[str, float]]
    scatter: bool  # the extra scatter is estimated (per-point uncertainties and a fitted scatter)
    at_limit: bool  # the fit to the data ran to a limit of the model (a parameter stopped mattering)


@dataclass(frozen=True)
class _Start:
    """Where a model's refits to the series simulated from one true model start."""

    points: list[dict[str, float]]
    cold: bool  # also from the model's own starts on each series (every warm start is at a limit)


#: a fit is at a limit of its model when its Jacobian in the fitter's coordinates has a
#: singular value this small relative to the largest (a parameter has stopped mattering)
_LIMIT = 1e-6


def _at_limit(st: _Setup, theta: np.ndarray, tau: np.ndarray, z: np.ndarray, w: np.ndarray) -> bool:
    """Whether ``theta`` sits at a limit of the model, where the fitter cannot move (e.g. a
    ceiling run off to infinity, or the hyperbolic model fitted to an exponential curve): the
    whitened Jacobian in the fitter's unconstrained coordinates is numerically singular."""
    lay = st.layout
    free = lay.free
    if free.size == 0:
        return False
    prob = leastsq.Problem(
        st.result.model, tau, z, w, st.result.noise.uses_log_capability, free, lay.fixed.copy(),
        leastsq.Bounds(lay.lo[free], lay.hi[free]),
    )  # fmt: skip
    with np.errstate(all="ignore"):
        u = prob.bounds.to_u(theta[free])
        if not np.all(np.isfinite(u)):
            return True
        J = prob.jacobian(u)
        if not np.all(np.isfinite(J)):
            return True
        sv = np.linalg.svd(J, compute_uv=False)
    return bool(sv[0] == 0 or sv[-1] < _LIMIT * sv[0])


def _setup(r: FitResult, sig: np.ndarray | None) -> _Setup:
    user: dict[str, dict[str, Any]] = {}
    for k, v, vary, lo, hi in zip(r.model.param_names, r.theta, r.vary, r.lower, r.upper, strict=True):
        user[k] = {"min": float(lo), "max": float(hi)} if vary else {"value": float(v), "vary": False}
    lay = leastsq.layout(r.model, user)
    warm = [dict(zip(r.model.param_names, r.theta, strict=True))]
    scatter = r.extra_scatter is not None
    st = _Setup(r, lay, warm, scatter, False)
    z = r.noise.transform(r.series.y)
    w = np.ones_like(z) if sig is None else 1.0 / np.sqrt(sig**2 + (r.extra_scatter or 0.0) ** 2)
    return _Setup(r, lay, warm, scatter, _at_limit(st, r.theta, r.series.t - r.t0, z, w))


@dataclass(frozen=True)
class _Fit:
    """One least-squares solve of a refit: the point reached, its AICc and whether it is a minimum."""

    theta: np.ndarray
    aicc: float  # inf when no usable point was reached
    converged: bool  # at a minimum (as lsi.leastsq.solve verifies it)
    capped: bool = False  # the search was stopped by the cap on evaluations


def _lsq(st: _Setup, tau, z, sig, log_jac: float, extra: int, starts, max_nfev: int | None) -> _Fit:
    """Solve one model's weighted least-squares problem from ``starts`` and score the point
    reached by AICc exactly as :func:`lsi.fit` does (the same likelihood, parameter count and
    penalty).  A point that is not a verified minimum still has a valid AICc: an upper bound of
    the minimum's."""
    r = st.result
    model, lay, n = r.model, st.layout, tau.size
    k_total = int(lay.free.size) + (0 if sig is not None else 1) + extra
    if n < k_total + 2:
        raise SeriesError(f"{model.name} needs at least {k_total + 2} points; the series has {n}")
    w = np.ones(n) if sig is None else 1.0 / sig
    sol = leastsq.solve(model, lay, tau, z, w, r.noise.uses_log_capability, starts, max_nfev)
    theta = sol.theta
    usable = bool(np.all(np.isfinite(theta))) and bool(np.all(np.abs(theta[lay.free]) < 1e100))
    usable = usable and math.isfinite(sol.rss) and sol.rss < leastsq.PENALTY
    capped = max_nfev is not None and not sol.converged and sol.status == 5
    if not usable:
        return _Fit(theta, math.inf, False, capped)
    ll = selection.gaussian_loglik(sol.rss, n, sig, log_jac)
    return _Fit(theta, selection.aicc(ll, k_total, n) + 2 * model.extra_penalty, bool(sol.converged), capped)


def _guess(st: _Setup, tau, y, z) -> list[dict[str, float]]:
    """The model's own starting points on a series (its cold starts)."""
    r = st.result
    cap = np.exp(z) if r.noise.uses_log_capability else np.clip(y, 1e-12, None)
    with np.errstate(all="ignore"):
        return list(r.model.guess(tau, cap))


def _point(st: _Setup, theta: np.ndarray) -> dict[str, float]:
    return dict(zip(st.result.model.param_names, theta, strict=True))


def _solve(
    st: _Setup,
    tau,
    y,
    z,
    sig,
    log_jac: float,
    extra: int,
    warm: list[dict[str, float]],
    search: bool = True,
    cold: bool = False,
    max_nfev: int | None = None,
) -> _Fit:
    """One refit at a fixed noise (``sig``): from the warm starts (and the model's own starts
    when ``cold``), from the model's own starts if that stops away from a minimum, and for a
    multimodal model (``search``) from its global starts when its scan promises a better
    optimum.  ``max_nfev`` caps the evaluations of each search (a capped refit is not converged)."""
    r = st.result
    model = r.model
    starts = list(warm) + (_guess(st, tau, y, z) if cold else [])
    fit = _lsq(st, tau, z, sig, log_jac, extra, starts, max_nfev)
    if not fit.converged and not fit.capped and not cold:
        back = _lsq(st, tau, z, sig, log_jac, extra, _guess(st, tau, y, z), max_nfev)
        if back.aicc < fit.aicc or (back.converged and not fit.converged and back.aicc <= fit.aicc + 1e-9):
            fit = back
    if search and model.multimodal:
        if fit.converged and r.noise.uses_log_capability:
            w = np.ones_like(z) if sig is None else 1.0 / sig
            with np.errstate(all="ignore"):
                rss = float(np.sum((w * (z - model.lnC_theta(tau, fit.theta))) ** 2))
                scanned = model.scan(tau, z, w)
            if scanned is not None and np.isfinite(rss) and float(np.min(scanned)) >= rss * (1 - 1e-9) - 1e-12:
                return fit
        starts = _guess(st, tau, y, z)
        if np.all(np.isfinite(fit.theta)):
            starts.append(_point(st, fit.theta))
        g = _lsq(st, tau, z, sig, log_jac, extra, starts, max_nfev)
        if g.converged and (not fit.converged or g.aicc < fit.aicc):
            fit = g
    return fit


class _Refit:
    """One model refitted to one simulated series, scored by AICc as :func:`lsi.fit` scores it.

    A step solves for the curve at a fixed noise.  With a fitted extra scatter, the scatter is
    then set to its maximum-likelihood value at the new residuals (exactly), so the curve and
    the scatter are maximised in turn; each step raises the likelihood, and the AICc after any
    step bounds the refit's optimum from above.  The first step starts from the warm starts
    alone, with at most ``_FIRST_NFEV`` evaluations per search; :meth:`polish` goes on without
    that cap until the point is a minimum and the scatter's step gains less than ``_LL_TOL``,
    adding the model's own starts once when every warm start sat at a limit of the model.
    ``aicc`` is inf when the refit fails; ``converged`` says whether it reached a minimum.
    """

    def __init__(self, st: _Setup, start: _Start, t, y, z, sig, log_jac: float):
        self.st, self.t, self.y, self.z, self.sig, self.log_jac = st, t, y, z, sig, log_jac
        self.warm = start.points
        self.cold_pending = start.cold
        self.tau = t - st.result.t0
        self.scatter = sig is not None and st.scatter
        self.aicc = math.inf
        self.converged = False
        self.capped = False
        self.ll = -math.inf
        self.steps = 0
        self.done = False
        self.s = 0.0
        if self.scatter:
            # start from the scatter of the warm start's residuals: close to the refit's own (the
            # model's scatter on the data is not, when the simulated noise differs from it)
            theta = np.array([self.warm[-1][k] for k in st.result.model.param_names])
            self.s = _ml_scatter(z - _zhat(st.result, t, theta), sig)
        self.step()

    def step(self) -> None:
        """One solve for the curve (and, with a fitted scatter, one exact step in the scatter)."""
        st, z, sig, n = self.st, self.z, self.sig, self.z.size
        r = st.result
        first = self.steps == 0
        cold = self.cold_pending and not first
        self.cold_pending &= not cold
        eff = np.sqrt(sig**2 + self.s**2) if self.scatter else sig
        try:
            fit = _solve(
                st, self.tau, self.y, z, eff, self.log_jac, int(self.scatter), self.warm,
                search=first, cold=cold, max_nfev=_FIRST_NFEV if first or cold else _POLISH_NFEV,
            )  # fmt: skip
        except (SeriesError, ParameterValueError, ArithmeticError, ValueError):
            fit = _Fit(np.full(len(r.model.param_names), np.nan), math.inf, False)
        self.steps += 1
        if not math.isfinite(fit.aicc):
            if not math.isfinite(self.aicc) or not cold:
                self.aicc, self.converged, self.done = math.inf, False, True
            elif not self.cold_pending and (self.converged or not self.scatter):
                self.done = True  # the extra starts failed: the refit so far stands
            return
        self.warm = [_point(st, fit.theta)]
        self.capped = fit.capped
        if not self.scatter:
            if fit.aicc < self.aicc or (fit.converged and not self.converged):
                self.aicc, self.converged = min(self.aicc, fit.aicc), fit.converged or self.converged
            self.done = self.converged or (fit.capped and not first) or self.steps >= _MAX_ALTERNATIONS
            self.done &= not self.cold_pending
            return
        resid = z - _zhat(r, self.t, fit.theta)
        s_new = _ml_scatter(resid, sig)
        eff_new = np.sqrt(sig**2 + s_new**2)
        ll_at_s = selection.gaussian_loglik(float(np.sum((resid / eff) ** 2)), n, eff, self.log_jac)
        ll_new = selection.gaussian_loglik(float(np.sum((resid / eff_new) ** 2)), n, eff_new, self.log_jac)
        gain = ll_new - max(self.ll, ll_at_s)
        self.ll = max(self.ll, ll_new)
        self.aicc = selection.aicc(self.ll, int(st.layout.free.size) + 1, n) + 2 * r.model.extra_penalty
        self.converged = fit.converged
        settled = gain < _LL_TOL or abs(s_new - self.s) <= 1e-9 * (1.0 + self.s)
        self.s = s_new
        # a polishing search stopped by its cap is not tried again: its AICc stands as a bound
        finished = (settled and fit.converged) or (fit.capped and not first)
        if (finished and not self.cold_pending) or self.steps >= _MAX_ALTERNATIONS:
            self.done = True

    def polish(self) -> float:
        while not self.done:
            self.step()
        return self.aicc


def _centre(st: _Setup, t: np.ndarray, z: np.ndarray, sd: np.ndarray, noise: Noise) -> _Start:
    """Where a model's refits to the series simulated from another model start.

    At its fit to that model's noiseless curve ``z`` (from its fit to the data and from its own
    starts, the better), which lies close to its optimum on each simulated series.  When that
    fit sits at a limit of the model (the curve is one of the model's limiting cases), the
    fitter could not leave it; the refits then start from the fit to the data, and when that
    too is at a limit, also from the model's own starts on each series.
    """
    r = st.result
    tau = t - r.t0
    with np.errstate(all="ignore"):
        y = noise.to_data(z)
        cap = np.exp(z) if noise.uses_log_capability else y
        starts = list(st.warm)
        try:
            starts += r.model.guess(tau, cap if np.all(cap > 0) else np.clip(cap, 1e-12, None))
        except (ArithmeticError, ValueError):
            pass
    fallback = _Start(st.warm, st.at_limit)
    try:
        rb = _solve(st, tau, y, z, sd, 0.0, 0, starts)
    except (SeriesError, ParameterValueError, ArithmeticError, ValueError):
        return fallback
    if not rb.converged or not np.all(np.isfinite(rb.theta)) or _at_limit(st, rb.theta, tau, z, 1.0 / sd):
        return fallback
    return _Start([dict(zip(r.model.param_names, rb.theta, strict=True))], False)


def _margin(rf: _Refit) -> float:
    """How far behind the best a refit's first step may be and still be polished."""
    if rf.cold_pending:  # every warm start sat at a limit: the model's own starts may find more
        return _TRAPPED_MARGIN
    return _CAPPED_MARGIN if rf.capped else _POLISH_MARGIN


def _simulate_task(
    shared: tuple[list[_Setup], list[list[_Start]], np.ndarray, np.ndarray | None, Noise],
    item: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """AICc of every model refitted to each simulated series of ``item`` (the true model's row of
    each series, and the series in the noise model's space), and whether each refit converged."""
    setups, warm, t, sig, noise = shared
    rows, zs = item
    aicc = np.full((zs.shape[0], len(setups)), np.inf)
    conv = np.zeros((zs.shape[0], len(setups)), dtype=bool)
    for b, (row, z) in enumerate(zip(rows, zs, strict=True)):
        with np.errstate(all="ignore"):
            y = noise.to_data(z)
            log_jac = noise.log_jacobian(y)
        if not math.isfinite(log_jac):  # the same for every model: it cannot change the selection
            log_jac = 0.0
        refits = [_Refit(st, warm[row][j], t, y, z, sig, log_jac) for j, st in enumerate(setups)]
        # a refit this far behind after its first step cannot catch up in the rest
        best = min(rf.aicc for rf in refits)
        for j, rf in enumerate(refits):
            if rf.aicc <= best + _margin(rf):
                rf.polish()
            aicc[b, j], conv[b, j] = rf.aicc, rf.converged
    return aicc, conv


def _plan(total: int, n_models: int, processes: int | None) -> tuple[int, list[int]]:
    """The processes to use and the simulated series in each unit of work, in order.

    :func:`lsi.workers.run` gives each process an equal number of units, the calling process
    the first ones; a worker first spends a second or two starting (importing lsi, compiling
    the models), so the calling process takes the larger share, as estimated from
    ``_REFIT_COST`` and ``_WORKER_START``.  The plan depends on the counts alone, so a seed and
    a process count give the same units every time.
    """
    from . import workers

    work = total * n_models * _REFIT_COST
    if processes is None:
        # a worker saves little below twice its start-up, and costs much on a busy machine
        procs = workers.default_processes(1, 0) if work >= 2 * _WORKER_START else 1
    else:
        procs = max(1, int(processes))
    procs = min(procs, max(total, 1))
    if procs == 1:
        return 1, [len(c) for c in np.array_split(np.arange(total), max(1, -(-total // _CHUNK)))]
    main = min(1.0, (work + _WORKER_START * (procs - 1)) / (procs * work))
    first = round(main * total)
    rest = np.array_split(np.arange(total - first), procs - 1)
    per_block = [first] + [len(r) for r in rest]
    units = max(1, -(-max(per_block) // _CHUNK))
    sizes = []
    for b in per_block:
        sizes += [len(c) for c in np.array_split(np.arange(b), units)]
    return procs, sizes


def confusion(
    fits: FitCollection,
    models: Sequence[str] | None = None,
    n: int = DEFAULT_N,
    *,
    seed: int | None = 0,
    processes: int | None = None,
    progress: bool | None = None,
) -> Confusion:
    """How often each model wins on series simulated from each leading model (a confusion matrix).

    For each true model, ``n`` series are simulated at the observed times: the fitted curve
    in the noise model's space plus Gaussian noise, mapped back to data units.  Every model
    of the collection that converged on the data is refitted to each series and scored by
    AICc exactly as :func:`lsi.fit` scores it (the same likelihood, parameter count and
    penalty; with per-point uncertainties, the extra scatter is re-estimated by maximum
    likelihood, s = 0 allowed, and counted as a parameter).  The model with the lowest AICc
    wins the series.

    How the refits are made.  The true model starts from its own parameters; every other
    model from its fit to the true model's noiseless curve, which lies near its optimum on
    each series (or from its fit to the data, where that fit sits at a limit of the model,
    such as the hyperbolic model fitted to an exponential curve, which the fitter could not
    leave).  The least-squares problems are solved by :func:`lsi.leastsq.solve`, the fit's
    own solver, with the model's own starts when a warm start fails, and for a model with
    several local optima (the breakpoint) its global starts.  With a fitted extra scatter,
    the curve and the scatter are maximised in turn.  To keep the cost near that of a few
    dozen fits, a refit's first search is stopped after ``_FIRST_NFEV`` evaluations, and
    only the refits that could still win are taken further: those within ``_POLISH_MARGIN``
    (6) AICc units of the best after that first step, within ``_CAPPED_MARGIN`` (2) for a
    search that was stopped (it is creeping towards a limit of the model), and within
    ``_TRAPPED_MARGIN`` (10) for a model whose warm starts all sit at a limit (it is then
    also started from its own starts).  The AICc of a refit stopped short of a minimum is an
    upper bound of its minimum's, so a model whose bound is the lowest wins the series
    whatever its minimum; refits that end short of a minimum are counted in
    ``Confusion.refit_failures``.  On METR's time horizons, polishing every refit to its end
    changes no selection in 300 series (``benchmarks/bench_distinguishability.py --check``).

    The simulated noise.  With per-point uncertainties ``sigma_i`` (in the noise model's
    space, :meth:`lsi.observation.Noise.point_sigma`), each point gets
    ``sqrt(sigma_i**2 + s**2)``, where ``s`` is the true model's extra scatter.  Without
    them, every point gets the same ``sigma``.  Both scales are the ones at which the true
    model's residuals on the data have a chi-square equal to their degrees of freedom
    ``n - k`` (``sigma**2 = rss / (n - k)``; for ``s``, the root of
    ``sum r_i**2 / (sigma_i**2 + s**2) = n - k``, and never below the fitted
    maximum-likelihood ``s``), not the maximum-likelihood ``rss / n``.  Maximum likelihood
    fits the noise to residuals that the fitted curve has already pulled towards the data:
    on 17 points with 5 parameters it understates the variance by about 30%, and simulating
    with too little noise makes rival models look easier to tell apart than they are.  The
    corrected scale errs, where it errs, towards "cannot tell", the safe side for a verdict.
    When the extra scatter was switched off (``fit(extra_scatter=False)``) the uncertainties
    are taken as complete and ``s = 0``.

    Parameters
    ----------
    fits : FitCollection
        From :func:`lsi.fit`.
    models : list of str, optional
        The true models to simulate from (only converged fits can be true).  Default: the
        two largest Akaike weights, plus the exponential and hyperbolic models whenever
        they were fitted and converged.
    n : int
        Simulated series per true model (default 40: the Monte Carlo standard error of a
        fraction is at most 8 percentage points, and the verdict's rule allows for it through
        the fraction's interval; on METR's 17 points the default costs as much as about 13
        fits of every model, 2.4 s on this project's 2-core machine).
    seed : int, optional
        Seed of the simulated noise.  The series simulated from a model depend only on the
        seed and that model's name, not on which other models are simulated.
    processes : int, optional
        Worker processes (:func:`lsi.workers.run`).  Default: one for a few seconds' work
        (METR's default is that), else two on a multi-core POSIX machine, the calling
        process taking the larger share while the worker starts (a second or two, to import
        lsi and compile the models).
        A fixed seed and process count give identical results.
    progress : bool, optional
        Show progress (default: only on a terminal).

    Returns
    -------
    Confusion

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.linspace(2000, 2020, 40)
    >>> y = np.exp(0.3 * (t - 2000) + np.random.default_rng(1).normal(0, 0.1, t.size))
    >>> fits = lsi.fit(lsi.Series(t, y), models=["exponential", "hyperbolic"], noise="log", warn=False)
    >>> c = lsi.distinguishability.confusion(fits, n=20)
    >>> c.true_models
    ('exponential', 'hyperbolic')
    >>> bool(np.allclose(c.probabilities.sum(axis=1), 1.0))
    True
    """
    from . import workers
    from .progress import Progress

    prep = _prepare(fits, models, n, seed)
    procs, sizes = _plan(prep.total, len(prep.setups), processes)
    job = prep.job(sizes)
    with Progress(prep.total, "distinguishability", enabled=progress) as bar:
        parts = workers.run(job.task, job.shared, job.items, processes=procs, progress=lambda k: bar.update(sizes[k]))
    return job.finish(parts)


def plan(fits: FitCollection, models: Sequence[str] | None = None, n: int = DEFAULT_N, *, seed: int | None = 0) -> Job:
    """The simulations of :func:`confusion` as a :class:`lsi.workers.Job` (series drawn, not yet
    refitted), to run beside other work in one pool (:func:`lsi.workers.run_jobs`)."""
    prep = _prepare(fits, models, n, seed)
    return prep.job([len(c) for c in np.array_split(np.arange(prep.total), max(1, -(-prep.total // _CHUNK)))])


@dataclass(frozen=True)
class _Prepared:
    """The simulated series and everything the refits need, before any refit."""

    fits: FitCollection
    true: list[str]
    names: tuple[str, ...]
    n: int
    seed: int | None
    rows: np.ndarray
    zs: np.ndarray
    shared: tuple[Any, ...]
    scales: dict[str, float]
    n_points: int
    sigma_known: bool

    @property
    def total(self) -> int:
        return int(self.rows.size)

    @property
    def setups(self) -> list[Any]:
        return list(self.shared[0])

    def job(self, sizes: Sequence[int]) -> Job:
        from .workers import Job

        edges = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        units = [(self.rows[a:b], self.zs[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        return Job(_simulate_task, self.shared, units, self.finish, units=list(sizes), name="distinguishability")

    def finish(self, parts: list[Any]) -> Confusion:
        true, names, n = self.true, self.names, self.n
        aicc = np.concatenate([p[0] for p in parts]).reshape(len(true), n, len(names))
        conv = np.concatenate([p[1] for p in parts]).reshape(len(true), n, len(names))
        # a refit stopped short of a minimum keeps its AICc, an upper bound of the minimum's: when
        # even that is the lowest, the model wins the series whatever its minimum
        best = np.argmin(aicc, axis=2)
        valid = np.isfinite(aicc).any(axis=2)
        counts = np.zeros((len(true), len(names)), dtype=int)
        for i in range(len(true)):
            counts[i] = np.bincount(best[i][valid[i]], minlength=len(names))
        return Confusion(
            true_models=tuple(true),
            models=names,
            counts=counts,
            n_valid=valid.sum(axis=1).astype(int),
            refit_failures=(~conv).sum(axis=1).astype(int),
            unfinished=(~conv & np.isfinite(aicc)).sum(axis=1).astype(int),
            n=n,
            noise_scale=self.scales,
            weights={k: float(v) for k, v in self.fits.weights.items()},
            leader=true[0],
            rival=true[1] if len(true) > 1 else None,
            seed=self.seed,
            noise=self.fits.noise.name,
            n_points=self.n_points,
            sigma_known=self.sigma_known,
            aicc=aicc,
            converged=conv,
        )


def _prepare(fits: FitCollection, models: Sequence[str] | None, n: int, seed: int | None) -> _Prepared:
    check_seed(seed)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ParameterValueError(f"n = {n!r} simulated series per model; give a positive integer, e.g. 100")
    eligible = [r for r in fits.values() if r.converged]
    if not eligible:
        raise ParameterValueError("no model converged on these data: there is nothing to simulate from")
    if models is None:
        true = _default_true(fits)
    else:
        if isinstance(models, str):
            models = [models]
        true = []
        for m in models:
            if m not in fits:
                raise UnknownModelError(f"{m!r} is not in the collection; fitted: {', '.join(fits)}")
            if not fits[m].converged:
                raise ParameterValueError(
                    f"{m} did not converge on the data, so it cannot be simulated from; choose from "
                    + ", ".join(r.name for r in eligible)
                )
            if m not in true:
                true.append(m)
        if not true:
            raise ParameterValueError("models is empty; name at least one fitted model")
    true.sort(key=lambda m: (-fits[m].weight, fits[m].aicc))
    series, noise = fits.series, fits.noise
    t = np.asarray(series.t, dtype=float)
    sig = noise.point_sigma(series)
    setups = [_setup(r, sig) for r in eligible]
    names = tuple(r.name for r in eligible)

    scales: dict[str, float] = {}
    warm: list[list[_Start]] = []
    zs = np.empty((len(true) * int(n), t.size))
    for i, m in enumerate(true):
        r = fits[m]
        scale = _noise_scale(r, sig)
        scales[m] = scale
        sd = np.full(t.size, scale) if sig is None else np.sqrt(sig**2 + scale**2)
        rng = np.random.default_rng([0 if seed is None else int(seed), zlib.crc32(m.encode())])
        if seed is None:
            rng = np.random.default_rng()
        centre = _zhat(r, t)
        warm.append(
            [_Start(st.warm, False) if st.result.name == m else _centre(st, t, centre, sd, noise) for st in setups]
        )
        zs[i * int(n) : (i + 1) * int(n)] = centre[None, :] + rng.standard_normal((int(n), t.size)) * sd[None, :]
    rows = np.repeat(np.arange(len(true)), int(n))
    return _Prepared(
        fits=fits,
        true=true,
        names=names,
        n=int(n),
        seed=seed,
        rows=rows,
        zs=zs,
        shared=(setups, warm, t, sig, noise),
        scales=scales,
        n_points=int(t.size),
        sigma_known=sig is not None,
    )
