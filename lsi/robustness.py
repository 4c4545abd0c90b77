"""Robustness across defensible data choices: a specification curve (:func:`curve`).

An answer that one defensible choice of data overturns is not an answer. This module
declares, for one series, the choices a careful analyst could defend
(:func:`specifications`), fits every model under each (:func:`lsi.fit`, the default's noise
model), and records the leading model and the verdict in each (:func:`curve`). The share of
specifications that agree with the default is part of the answer: the headline sentence of a
:class:`SpecCurve` never states more agreement than there is, and below ``robust_share``
(0.8) it says the answer is fragile and on which choices it turns.

The choices, each varied one at a time from the default (a one-at-a-time design: every
specification but the default differs from it in exactly one choice, so a disagreement is
owned by that choice):

``rows``
    For a shipped dataset whose source states how it fits its trend
    (``lsi.datasets.info(name)["trend_convention"]``), the rows that convention selects
    against all rows; otherwise all rows against the record-setting points only
    (:meth:`lsi.Series.frontier`), when those differ.
``uncertainties``
    With the per-point uncertainties (and an extra scatter fitted beside them) against
    without them (the noise scale estimated), when the series has them.
``release``
    Each other shipped release of the same table (``info(name)["releases"]``), with the
    same load options.
``start``
    Later starts: the points in the first 10 % and 25 % of the time span dropped, when
    that keeps at least ``min_points`` points (default ``max(8, k + 3)``, ``k`` the most
    parameters of a fitted model, counting the noise scale or extra scatter) and at least
    half the series.
``points``
    The single most influential point left out: the point with the largest Cook's
    distance (:func:`cooks_distance`) in the default specification's leading model.

The default follows the source's own convention when it has one: ``curve("metr_horizons")``
fits the frontier rows METR flags ``is_sota``, as METR fits its trend. A Series (or fits)
loaded from a shipped dataset keeps the rows it was loaded with as its default, and the
source's convention, when different, is one of the alternatives; the curve says which.

The verdict of a specification is its *verdict class*: the outcome that takes the largest
Akaike-weight probability of failing first (:func:`lsi.assumptions` with ``n_boot=0``), and,
when that is "none", the model that carries most of that "none" (the report's own breakdown:
a breakpoint is an exogenous jump, the hyperbolic an explosion, the exponential steady
growth).

Examples
--------
>>> import lsi
>>> from lsi import robustness
>>> sc = robustness.curve("metr_horizons")  # doctest: +SKIP
>>> sc.rows[0].name, sc.rows[0].leading_model  # doctest: +SKIP
('default', 'hyperbolic')
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import datasets
from .assessment import PHRASES, assumptions
from .exceptions import ParameterValueError, SeriesError
from .fitting import fit
from .jsonvalues import strict
from .observation import Noise, default_noise, get_noise
from .results import FitCollection, FitResult
from .series import Series, from_decimal_year

__all__ = [
    "Specification",
    "SpecRow",
    "SpecCurve",
    "specifications",
    "curve",
    "cooks_distance",
    "verdict_label",
    "verdict_short",
    "CHOICES",
]

#: the data choices, in the order of tables and figures
CHOICES = ("rows", "uncertainties", "release", "start", "points")

#: what each choice is, as the headline names it ("it turns on ...")
CHOICE_PHRASES = {
    "rows": "the rows kept",
    "uncertainties": "the per-point uncertainties",
    "release": "the release of the table",
    "start": "the start date",
    "points": "a single influential point",
}

#: short names of what a "none" stands for, by the model that carries it (a figure-sized
#: form of :data:`lsi.assessment.NONE_REASONS`)
NONE_KINDS = {
    "breakpoint": "exogenous jump",
    "hyperbolic": "explosion",
    "exponential": "steady growth",
    "loop": "loop holds",
}

#: fractions of the time span dropped from the start, by default
START_FRACTIONS = (0.1, 0.25)


# ---------------------------------------------------------------- the declared choices
@dataclass(frozen=True)
class Specification:
    """One defensible way to build the series.

    Attributes
    ----------
    name : str
        Identifier (``"default"``, ``"all_rows"``, ``"no_uncertainties"``, ``"release_<dataset>"``,
        ``"start_10"``, ``"leave_out"``, ...).
    label : str
        A short human label, as sentences name it (the option it changes, e.g. ``"all 17 rows"``;
        ``"default: ..."`` for the default).
    how : str
        How the series was made, in one sentence (for the default: what it is and whether it
        follows the source's own convention).
    choices : dict
        The option taken for each choice that applies (``CHOICES`` order), in a few words
        (``{"uncertainties": "with", "release": "metr_horizons", ...}``).
    changed : tuple of str
        The choices on which it differs from the default (empty for the default).
    series : Series
    """

    name: str
    label: str
    how: str
    choices: Mapping[str, str]
    changed: tuple[str, ...]
    series: Series = field(repr=False)

    @property
    def default(self) -> bool:
        return not self.changed


def _fingerprint(s: Series) -> tuple[Any, ...]:
    def b(a: np.ndarray | None) -> bytes | None:
        return None if a is None else np.asarray(a, dtype=float).tobytes()

    return (b(s.t), b(s.y), b(s.sigma), b(s.lower), b(s.upper), s.ci_level)


def _without_uncertainties(s: Series) -> Series:
    return Series(t=s.t, y=s.y, labels=s.labels, name=s.name, units=s.units, meta=s.meta)


def _month(t: float) -> str:
    return str(from_decimal_year([t])[0].strftime("%Y-%m"))


def _options_text(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


def _dataset_of(series: Series) -> tuple[str, dict[str, Any]] | None:
    """The shipped dataset and load options a Series is exactly, or None."""
    meta = series.meta or {}
    name, used = meta.get("name"), meta.get("options_used")
    if not (isinstance(name, str) and isinstance(used, Mapping) and name in datasets.list()):
        return None
    try:
        again = datasets.load(name, **used)
    except SeriesError:
        return None
    if _fingerprint(again) != _fingerprint(series):
        return None  # subset or changed after loading: treat it as the user's own series
    return name, dict(used)


def cooks_distance(result: FitResult) -> np.ndarray:
    """Cook's distance of each observation in one fit.

    ``D_i = e_i^2 h_ii / (p s^2 (1 - h_ii)^2)`` with ``e`` the whitened residuals (in the noise
    model's space, divided by the per-point uncertainty with the extra scatter added in
    quadrature, or by one when the noise scale is estimated), ``h`` the leverages from the
    whitened Jacobian of the smooth free parameters (an irregular one, a break date, held
    fixed, as the covariance holds it), ``p`` their number and ``s^2`` one with known
    uncertainties, else the residual variance. A point with leverage one gets ``inf``.

    Parameters
    ----------
    result : FitResult

    Returns
    -------
    ndarray
        One distance per observation (NaN throughout when the Jacobian is not finite).

    Examples
    --------
    >>> import numpy as np, lsi
    >>> t = np.arange(2010.0, 2022.0)
    >>> y = np.exp(0.5 * (t - 2010)) * np.exp(np.where(t == 2021, 1.0, 0.0))
    >>> fits = lsi.fit(lsi.Series(t, y), models="exponential", noise="log")
    >>> int(np.argmax(cooks_distance(fits["exponential"])))
    11
    """
    s, noise, model = result.series, result.noise, result.model
    tau = s.t - result.t0
    with np.errstate(all="ignore"):
        jac = (
            model.lnC_jac_theta(tau, result.theta)
            if noise.uses_log_capability
            else model.C_jac_theta(tau, result.theta)
        )
        idx = [model.param_names.index(p) for p in result.free if p not in model.irregular]
        J = np.asarray(jac, dtype=float)[idx]
        sig = noise.point_sigma(s)
        if sig is None:
            w = np.ones(len(s))
        else:
            w = 1.0 / np.sqrt(sig**2 + (result.extra_scatter or 0.0) ** 2)
        e = np.asarray(result.residuals, dtype=float) * w
        Jw = J * w
        p, n = Jw.shape
        if p == 0 or not (np.all(np.isfinite(Jw)) and np.all(np.isfinite(e))):
            return np.full(n, np.nan)
        h = np.einsum("in,ij,jn->n", Jw, np.linalg.pinv(Jw @ Jw.T), Jw)
        h = np.clip(h, 0.0, 1.0)
        s2 = 1.0 if sig is not None else float(e @ e) / max(n - p, 1)
        d = e**2 * h / (p * s2 * (1.0 - h) ** 2)
    return np.where(h >= 1.0 - 1e-10, np.inf, d)


def _resolve(
    source: Any, fits: FitCollection | None
) -> tuple[Series, FitCollection | None, str | None, dict[str, Any]]:
    """The default series, fits to reuse, and the dataset and options it was loaded with."""
    if isinstance(source, FitCollection):
        if fits is not None and fits is not source:
            raise ParameterValueError("give the fits once: as source or as fits=, not both")
        fits, source = source, source.series
    if isinstance(source, str):
        if source not in datasets.list():
            raise SeriesError(
                f"{source!r} is not a shipped dataset; shipped: {', '.join(datasets.list())}; "
                "for your own data pass an lsi.Series"
            )
        conv = datasets.info(source)["trend_convention"]
        options = dict(conv["options"]) if conv else {}
        series = datasets.load(source, **options)
        return series, fits, source, options
    if not isinstance(source, Series):
        raise ParameterValueError(
            f"source must be a shipped dataset name, an lsi.Series or the fits of one; got {type(source).__name__}"
        )
    found = _dataset_of(source)
    if found is None:
        return source, fits, None, {}
    return source, fits, found[0], found[1]


def _check_choices(choices: Sequence[str] | None) -> tuple[str, ...]:
    if choices is None:
        return CHOICES
    if isinstance(choices, str):
        choices = [choices]
    bad = [c for c in choices if c not in CHOICES]
    if bad:
        raise ParameterValueError(f"unknown choice {bad[0]!r}; the choices are {', '.join(CHOICES)}")
    return tuple(c for c in CHOICES if c in choices)


def _min_points(fits: FitCollection | None, given: int | None) -> int:
    if given is not None:
        if int(given) < 3:
            raise ParameterValueError(f"min_points = {given!r}; give at least 3")
        return int(given)
    k = max((r.n_params for r in fits.values()), default=5) if fits is not None else 5
    return max(8, k + 3)


def _declare(
    series: Series,
    dataset: str | None,
    options: dict[str, Any],
    fits: FitCollection | None,
    starts: Sequence[float],
    min_points: int,
    choices: Sequence[str] | None,
) -> tuple[list[Specification], str, dict[str, Any] | None, list[str]]:
    """The specifications (default first), the sentence on the default, the influence and notes."""
    forced = choices is not None and "rows" in choices
    chosen = _check_choices(choices)
    n = len(series)
    notes: list[str] = []
    default_options: dict[str, str] = {}  # choice -> the default's option
    alts: list[tuple[str, str, str, str, str, Series]] = []  # choice, name, label, option, how, series

    # rows
    conv = datasets.info(dataset)["trend_convention"] if dataset else None
    shown = dataset + "".join(f", {k}={v!r}" for k, v in options.items()) if dataset else ""
    if dataset and conv:
        keys = dict(conv["options"])
        if all(options.get(k) == v for k, v in keys.items()):
            convention = f"The default follows the source's own convention: {conv['description']}"
            if "rows" in chosen:
                rest = {k: v for k, v in options.items() if k not in keys}
                other = datasets.load(dataset, **rest)
                default_options["rows"] = f"{_options_text(keys)} ({n} rows)"
                how = (
                    f"datasets.load({dataset!r}{''.join(f', {k}={v!r}' for k, v in rest.items())}): "
                    "every row of the table, not only those the source fits its trend to"
                )
                label = f"all {len(other)} rows"
                alts.append(("rows", "all_rows", label, label, how, other))
        else:
            convention = (
                f"The default is the series as given ({shown}), not the source's own convention"
                + (", which is the specification 'source_rows'" if "rows" in chosen else "")
                + f": {conv['description']}"
            )
            if "rows" in chosen:
                opts = {**options, **keys}
                other = datasets.load(dataset, **opts)
                default_options["rows"] = f"as given ({n} rows)"
                how = f"datasets.load({dataset!r}, {_options_text(opts)}): the rows the source fits its trend to"
                label = f"{_options_text(keys)} ({len(other)} rows)"
                alts.append(("rows", "source_rows", label, label, how, other))
    else:
        if dataset:
            convention = (
                f"The default is the dataset as loaded ({shown}); its source states no convention for fitting a trend."
            )
        else:
            convention = (
                "The default is the series as given: it is not a shipped dataset, "
                "so there is no source convention to follow."
            )
        front = series.frontier()
        systems = series.labels is not None or len(np.unique(series.t)) < n
        if "rows" in chosen and not (systems or forced):
            notes.append(
                "no record-setting alternative: the series has no labels and one value per date, so it reads as "
                "one quantity over time, whose declines are data, not systems behind the frontier "
                "(ask for it with choices=[..., 'rows'])"
            )
        elif "rows" in chosen and len(front) < n:
            default_options["rows"] = f"all {n} rows"
            how = "Series.frontier(): each point strictly above every earlier one"
            label = f"record-setting points only ({len(front)})"
            alts.append(("rows", "frontier", label, label, how, front))

    # uncertainties
    if "uncertainties" in chosen and series.has_uncertainty:
        default_options["uncertainties"] = "with"
        how = "the same points without their published uncertainties: the noise scale is estimated"
        label = "without the per-point uncertainties"
        alts.append(("uncertainties", "no_uncertainties", label, "without", how, _without_uncertainties(series)))

    # releases of the same table
    if dataset and "release" in chosen:
        releases = datasets.info(dataset)["releases"]
        if len(releases) > 1:
            default_options["release"] = dataset
            for other_name in releases:
                if other_name == dataset:
                    continue
                order = "earlier" if releases.index(other_name) < releases.index(dataset) else "later"
                try:
                    other = datasets.load(other_name, **options)
                except SeriesError as exc:
                    notes.append(f"release {other_name} left out: {exc}")
                    continue
                how = (
                    f"datasets.load({other_name!r}{''.join(f', {k}={v!r}' for k, v in options.items())}): "
                    f"the {order} release of the same table, with the same options ({len(other)} rows)"
                )
                alts.append(("release", f"release_{other_name}", f"release {other_name}", other_name, how, other))

    # later starts
    span = float(series.t[-1] - series.t[0])
    if "start" in chosen and span > 0 and starts:
        default_options["start"] = "from the first point"
        need = max(min_points, math.ceil(n / 2))
        for frac in starts:
            if not 0 < float(frac) < 1:
                raise ParameterValueError(f"start fraction {frac!r}; give fractions of the span in (0, 1), e.g. 0.1")
            cut = float(series.t[0]) + float(frac) * span
            idx = np.flatnonzero(series.t >= cut)
            pct = f"{100 * float(frac):g}%"
            if idx.size < need:
                notes.append(
                    f"a start after the first {pct} of the span keeps {idx.size} of {n} points, fewer than "
                    f"{need} (at least {min_points} and half the series); left out"
                )
                continue
            how = (
                f"the points from {_month(cut)} on: the first {pct} of the time span dropped "
                f"({n - idx.size} point{'s' if n - idx.size != 1 else ''}), {idx.size} left"
            )
            name = f"start_{100 * float(frac):g}".replace(".", "_")
            label = f"first {pct} of the span dropped"
            alts.append(("start", name, label, label, how, series._subset(idx)))

    # the most influential point
    influence = None
    if "points" in chosen:
        lead = fits.best if fits is not None else None
        if lead is None or not lead.converged:
            notes.append("no converged leading model: no point's influence to measure, so none is left out")
        elif n - 1 < min_points:
            notes.append(f"leaving a point out would keep {n - 1} points, fewer than {min_points}; not done")
        else:
            d = cooks_distance(lead)
            if np.all(np.isnan(d)):
                notes.append(f"Cook's distance is undefined for {lead.name} here; no point is left out")
            else:
                i = int(np.argmax(np.where(np.isnan(d), -np.inf, d)))
                when = _month(float(series.t[i]))
                who = series.labels[i] if series.labels is not None else f"the point of {when}"
                finite = np.sort(d[np.isfinite(d)])
                influence = {
                    "measure": "Cook's distance in the default's leading model",
                    "model": lead.name,
                    "index": i,
                    "label": who,
                    "t": float(series.t[i]),
                    "value": float(d[i]),
                    "next_largest": float(finite[-2]) if finite.size > 1 else None,
                }
                default_options["points"] = "all"
                how = (
                    f"{who} ({when}) left out: the largest Cook's distance ({d[i]:.3g}) in the default's "
                    f"leading model, {lead.name}"
                )
                rest_idx = np.delete(np.arange(n), i)
                alts.append(("points", "leave_out", f"without {who}", f"without {who}", how, series._subset(rest_idx)))

    default_label = "default" + (f": {default_options['rows']}" if "rows" in default_options else "")
    specs = [Specification("default", default_label, convention, dict(default_options), (), series)]
    seen = {_fingerprint(series): "default"}
    for choice, name, label, option, how, s in alts:
        fp = _fingerprint(s)
        if fp in seen:
            notes.append(f"'{name}' ({label}) has the same points as '{seen[fp]}'; counted once")
            continue
        seen[fp] = name
        specs.append(Specification(name, label, how, {**default_options, choice: option}, (choice,), s))
    return specs, convention, influence, notes


def specifications(
    source: str | Series | FitCollection,
    *,
    fits: FitCollection | None = None,
    models: Any = "all",
    noise: str | Noise | None = None,
    params: Mapping[str, Any] | None = None,
    starts: Sequence[float] = START_FRACTIONS,
    min_points: int | None = None,
    choices: Sequence[str] | None = None,
) -> tuple[Specification, ...]:
    """The declared set of defensible data choices for a series, default first.

    Parameters
    ----------
    source : str, Series or FitCollection
        A shipped dataset's name (the default then follows the source's trend convention),
        a Series (the default is the Series as given), or the fits of the default.
    fits : FitCollection, optional
        The fits of the default series (needed to find the most influential point; fitted
        here when not given).
    models, noise, params
        As in :func:`lsi.fit`, for fitting the default when ``fits`` is not given.
    starts : sequence of float
        Fractions of the time span dropped from the start (default 0.1 and 0.25).
    min_points : int, optional
        The fewest points a later start or a left-out point may leave (default
        ``max(8, k + 3)``, ``k`` the most parameters of a fitted model).
    choices : sequence of str, optional
        The choices to vary (names from :data:`CHOICES`); default every one that applies.
        The record-setting alternative is not offered for a series without labels and with
        one value per date (one quantity over time, such as a yearly count) unless
        ``"rows"`` is named here.

    Returns
    -------
    tuple of Specification
        The default, then one specification per alternative option (each differs from the
        default in one choice); alternatives that give the same points as an earlier one are
        counted once.

    Examples
    --------
    >>> from lsi import robustness
    >>> specs = robustness.specifications("metr_horizons", choices=["rows", "uncertainties", "release", "start"])
    >>> [s.name for s in specs]
    ['default', 'all_rows', 'no_uncertainties', 'release_metr_horizons_v1_0', 'start_10', 'start_25']
    """
    series, fits, dataset, options = _resolve(source, fits)
    if fits is None and "points" in _check_choices(choices):
        fits = fit(series, models, noise=noise, params=params, warn=False)
    _check_fits(fits, series)
    specs, _, _, _ = _declare(series, dataset, options, fits, starts, _min_points(fits, min_points), choices)
    return tuple(specs)


def _check_fits(fits: FitCollection | None, series: Series) -> None:
    if fits is None:
        return
    if not isinstance(fits, FitCollection):
        raise ParameterValueError(f"fits must be the result of lsi.fit; got {type(fits).__name__}")
    if _fingerprint(fits.series) != _fingerprint(series):
        raise ParameterValueError(
            f"fits are of {len(fits.series)} points that are not the default series ({len(series)} points); "
            "pass the fits of the series itself, or none"
        )


# ---------------------------------------------------------------- one row of the curve
@dataclass(frozen=True)
class SpecRow:
    """What one specification gives.

    Attributes
    ----------
    name, label, how, choices, changed
        As in :class:`Specification`.
    n_points : int
    t_start, t_end : float
        The span of its series.
    leading_model : str or None
        The model with the largest Akaike weight (None when no model converged).
    leading_weight : float
    weights : dict
        Akaike weight of every fitted model.
    probabilities : dict
        P(first failure = X) by Akaike weights, X in closure, amplification, efficiency, none.
    verdict_class : str or None
        ``"closure"``, ``"amplification"``, ``"efficiency"``, or ``"none:<model>"`` (the model
        that carries most of "none").
    verdict_label : str
        The class in words (``"none fails: explosion (hyperbolic)"``).
    verdict_probability : float
        P(the class's outcome).
    agrees_model, agrees_verdict : bool
        Whether the leading model and the verdict class are the default's.
    not_converged : tuple of str
    skipped : dict
        Models that could not be fitted (too few points), with the reason.
    """

    name: str
    label: str
    how: str
    choices: Mapping[str, str]
    changed: tuple[str, ...]
    n_points: int
    t_start: float
    t_end: float
    leading_model: str | None
    leading_weight: float
    weights: Mapping[str, float]
    probabilities: Mapping[str, float]
    verdict_class: str | None
    verdict_label: str
    verdict_probability: float
    agrees_model: bool = True
    agrees_verdict: bool = True
    not_converged: tuple[str, ...] = ()
    skipped: Mapping[str, str] = field(default_factory=dict)

    @property
    def default(self) -> bool:
        return not self.changed

    def to_dict(self) -> dict[str, Any]:
        return strict(
            {
                "name": self.name,
                "label": self.label,
                "how": self.how,
                "default": self.default,
                "choices": dict(self.choices),
                "changed": list(self.changed),
                "n_points": self.n_points,
                "t_start": self.t_start,
                "t_end": self.t_end,
                "leading_model": self.leading_model,
                "leading_weight": self.leading_weight,
                "weights": dict(self.weights),
                "probabilities": dict(self.probabilities),
                "verdict_class": self.verdict_class,
                "verdict_label": self.verdict_label,
                "verdict_probability": self.verdict_probability,
                "agrees_model": self.agrees_model,
                "agrees_verdict": self.agrees_verdict,
                "not_converged": list(self.not_converged),
                "skipped": dict(self.skipped),
            }
        )


def verdict_label(verdict_class: str | None, horizon: float | None = None) -> str:
    """A verdict class in words: ``"the loop opens first"``, ``"none fails before 2046: explosion (hyperbolic)"``."""
    if verdict_class is None:
        return "no verdict (no model converged)"
    outcome, _, model = verdict_class.partition(":")
    if outcome != "none":
        return PHRASES[outcome].split(" (")[0]
    when = "" if horizon is None else f" before {horizon:.0f}"
    if not model:
        return f"none fails{when}"
    return f"none fails{when}: {NONE_KINDS.get(model, model)} ({model})"


def verdict_short(verdict_class: str | None) -> str:
    """A verdict class in a few words, for figures and asides: ``"explosion"``, ``"closure fails"``."""
    if verdict_class is None:
        return "no verdict"
    outcome, _, model = verdict_class.partition(":")
    if outcome != "none":
        return f"{outcome} fails"
    return NONE_KINDS.get(model, model) if model else "none fails"


def _evaluate(spec: Specification, fits: FitCollection, thresholds: Any, horizon: float) -> SpecRow:
    rep = assumptions(fits, n_boot=0, thresholds=thresholds, horizon=horizon)
    probs = {k: float(v) for k, v in rep.probabilities.items()}
    converged = [r for r in fits.values() if r.converged]
    s = spec.series
    if not converged:
        lead, lw, vclass, vp = None, math.nan, None, math.nan
    else:
        best = fits.best
        lead, lw = best.name, float(best.weight)
        outcome = max(probs, key=lambda k: probs[k])
        vclass = outcome
        if outcome == "none":
            breakdown = rep.to_dict()["none_breakdown"]  # the report's own: largest first
            if breakdown:
                vclass = f"none:{next(iter(breakdown))}"
        vp = probs[outcome]
    return SpecRow(
        name=spec.name,
        label=spec.label,
        how=spec.how,
        choices=dict(spec.choices),
        changed=spec.changed,
        n_points=len(s),
        t_start=float(s.t[0]),
        t_end=float(s.t[-1]),
        leading_model=lead,
        leading_weight=lw,
        weights={k: float(v) for k, v in fits.weights.items()},
        probabilities=probs,
        verdict_class=vclass,
        verdict_label=verdict_label(vclass, horizon),
        verdict_probability=vp,
        not_converged=tuple(r.name for r in fits.values() if not r.converged),
        skipped=fits.skipped,
    )


# ---------------------------------------------------------------- the curve
@dataclass(frozen=True)
class SpecCurve:
    """The leading model and the verdict under every declared specification.

    Attributes
    ----------
    series_name, noise : str
    horizon : float
        Failures after this date count as "none" (the same for every specification).
    convention : str
        What the default is and whether it follows the source's own convention.
    rows : tuple of SpecRow
        The default first.
    model_agreement, verdict_agreement : float
        Share of the specifications (the default included) whose leading model, and whose
        verdict class, are the default's.
    turns_on : dict
        ``{"leading_model": (...), "verdict": (...)}``: the choices whose alternatives
        disagree with the default.
    status : str
        ``"robust"`` (every specification agrees), ``"mostly robust"`` (both shares at least
        ``robust_share``), ``"fragile"`` (either below it) or ``"untested"`` (no alternative
        applies).
    headline : str
        One sentence, built from the counts; never states more agreement than there is.
    influence : dict or None
        The point left out as most influential, and its Cook's distance.
    robust_share : float
    notes : tuple of str
        Alternatives left out or merged, and why.
    """

    series_name: str
    noise: str
    horizon: float
    convention: str
    rows: tuple[SpecRow, ...]
    model_agreement: float
    verdict_agreement: float
    turns_on: Mapping[str, tuple[str, ...]]
    status: str
    headline: str
    influence: Mapping[str, Any] | None = None
    robust_share: float = 0.8
    notes: tuple[str, ...] = ()

    @property
    def default(self) -> SpecRow:
        return self.rows[0]

    @property
    def disagreeing(self) -> dict[str, tuple[str, ...]]:
        """Names of the specifications that disagree with the default, on each count."""
        return {
            "leading_model": tuple(r.name for r in self.rows if not r.agrees_model),
            "verdict": tuple(r.name for r in self.rows if not r.agrees_verdict),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (strict JSON: no NaN or infinity)."""
        n = len(self.rows)
        return strict(
            {
                "series": self.series_name,
                "noise": self.noise,
                "horizon": self.horizon,
                "design": "one-at-a-time",
                "convention": self.convention,
                "default": {
                    "leading_model": self.default.leading_model,
                    "verdict_class": self.default.verdict_class,
                    "verdict_label": self.default.verdict_label,
                },
                "n_specifications": n,
                "agreement": {
                    "leading_model": self.model_agreement,
                    "verdict": self.verdict_agreement,
                    "leading_model_count": sum(r.agrees_model for r in self.rows),
                    "verdict_count": sum(r.agrees_verdict for r in self.rows),
                },
                "robust_share": self.robust_share,
                "status": self.status,
                "turns_on": {k: list(v) for k, v in self.turns_on.items()},
                "disagreeing": {k: list(v) for k, v in self.disagreeing.items()},
                "influence": None if self.influence is None else dict(self.influence),
                "specifications": [r.to_dict() for r in self.rows],
                "notes": list(self.notes),
                "headline": self.headline,
            }
        )

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    def __str__(self) -> str:
        return self.headline


def _count(k: int, n: int) -> str:
    return f"all {n}" if k == n else f"{k} of {n}"


def _headline(rows: Sequence[SpecRow], robust_share: float) -> tuple[str, str, dict[str, tuple[str, ...]]]:
    """The status, the sentence, and the choices each disagreement turns on."""
    d = rows[0]
    n = len(rows)
    km = sum(r.agrees_model for r in rows)
    kv = sum(r.agrees_verdict for r in rows)
    turns = {
        "leading_model": tuple(c for c in CHOICES if any(c in r.changed for r in rows if not r.agrees_model)),
        "verdict": tuple(c for c in CHOICES if any(c in r.changed for r in rows if not r.agrees_verdict)),
    }
    if d.leading_model is None:
        return "untested", "No model converged on the default specification: there is no answer to test.", turns
    if n == 1:
        return (
            "untested",
            f"Not tested for robustness: no defensible alternative applies to this series "
            f"(its answer, {d.leading_model} and {d.verdict_label}, rests on the one specification).",
            turns,
        )
    share = min(km, kv) / n
    status = "robust" if km == kv == n else "mostly robust" if share >= robust_share else "fragile"
    if km == n:
        model_part = f"{d.leading_model} leads in {_count(km, n)} specifications"
    else:
        model_part = f"the leading model is {d.leading_model} in {_count(km, n)} specifications"
    verdict_part = f'the verdict "{d.verdict_label}" holds in {_count(kv, n)}'
    sentence = f"{status.capitalize()}: {model_part} and {verdict_part}"
    off = [r for r in rows if not (r.agrees_model and r.agrees_verdict)]
    if off:
        why = []
        for c in CHOICES:
            mine = [r for r in off if c in r.changed]
            if mine:
                detail = "; ".join(
                    f"{r.label}: "
                    + ("no converged model" if r.leading_model is None else f"{r.leading_model} {r.leading_weight:.2f}")
                    + ("" if r.agrees_verdict else f", {verdict_short(r.verdict_class)}")
                    for r in mine
                )
                why.append(f"{CHOICE_PHRASES[c]} ({detail})")
        lead_in = (
            "it turns on"
            if status == "fragile"
            else ("the exception turns on" if len(off) == 1 else "the exceptions turn on")
        )
        sentence += f"; {lead_in} " + _join(why)
    return status, sentence + ".", turns


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def curve(
    source: str | Series | FitCollection | Sequence[Specification],
    *,
    fits: FitCollection | None = None,
    models: Any = None,
    noise: str | Noise | None = None,
    params: Mapping[str, Any] | None = None,
    starts: Sequence[float] = START_FRACTIONS,
    min_points: int | None = None,
    choices: Sequence[str] | None = None,
    thresholds: Any = None,
    horizon: float | None = None,
    robust_share: float = 0.8,
) -> SpecCurve:
    """Fit every model under each defensible specification and say how far the answer holds.

    Parameters
    ----------
    source : str, Series, FitCollection or sequence of Specification
        A shipped dataset's name (the default follows the source's trend convention), a
        Series or its fits (the default is that series as given), or specifications from
        :func:`specifications` (the first, with no changed choice, is the default).
    fits : FitCollection, optional
        The fits of the default series, reused (the report has them already).
    models : "all" or list of str, optional
        Models fitted in every specification; default those of ``fits``, else ``"all"``.
    noise : str or Noise, optional
        One noise model for every specification; default that of ``fits``, else the
        default series' recommended one.
    params : mapping, optional
        Parameter settings, as in :func:`lsi.fit`, for every specification.
    starts, min_points, choices
        As in :func:`specifications`.
    thresholds : Thresholds or dict, optional
        As in :func:`lsi.assumptions`.
    horizon : float, optional
        Last date a failure counts, the same for every specification; default 20 years
        after the default series' last observation.
    robust_share : float
        Below this share of agreeing specifications the answer is called fragile (0.8).

    Returns
    -------
    SpecCurve

    Examples
    --------
    >>> from lsi import robustness
    >>> sc = robustness.curve("metr_horizons")
    >>> sc.rows[0].name, sc.rows[0].n_points, sc.rows[0].leading_model
    ('default', 14, 'hyperbolic')
    >>> sc.status
    'fragile'
    """
    if not 0 < robust_share <= 1:
        raise ParameterValueError(f"robust_share = {robust_share!r}; give a share in (0, 1], e.g. 0.8")
    notes: list[str] = []
    influence = None
    if (
        isinstance(source, Sequence)
        and not isinstance(source, str)
        and all(isinstance(s, Specification) for s in source)
    ):
        specs = list(source)
        if not specs or specs[0].changed:
            raise ParameterValueError("the first specification must be the default (no changed choice)")
        series = specs[0].series
        _check_fits(fits, series)
        convention = specs[0].how
    else:
        series, fits, dataset, options = _resolve(source, fits)
        _check_fits(fits, series)
        specs = []
        convention = ""
    if fits is not None:
        noise_model = fits.noise if noise is None else get_noise(noise)
        model_list = models if models is not None else [*fits, *fits.skipped]
        if noise is not None and get_noise(noise).name != fits.noise.name:
            raise ParameterValueError(f"noise = {noise!r} but the fits use {fits.noise.name} noise; give one of them")
    else:
        noise_model = default_noise(series) if noise is None else get_noise(noise)
        model_list = "all" if models is None else models
        fits = fit(series, model_list, noise=noise_model, params=params, warn=False)
    if not specs:
        specs, convention, influence, notes = _declare(
            series, dataset, options, fits, starts, _min_points(fits, min_points), choices
        )
    horizon = float(series.t[-1] + 20.0) if horizon is None else float(horizon)
    rows = [_evaluate(specs[0], fits, thresholds, horizon)]
    for spec in specs[1:]:
        try:
            f = fit(spec.series, model_list, noise=noise_model, params=params, warn=False)
        except SeriesError as exc:
            notes.append(f"'{spec.name}' ({spec.label}) could not be fitted and is left out: {exc}")
            continue
        rows.append(_evaluate(spec, f, thresholds, horizon))
    d = rows[0]
    rows = [d] + [
        replace(r, agrees_model=r.leading_model == d.leading_model, agrees_verdict=r.verdict_class == d.verdict_class)
        for r in rows[1:]
    ]
    status, sentence, turns = _headline(rows, robust_share)
    n = len(rows)
    return SpecCurve(
        series_name=series.name,
        noise=noise_model.name,
        horizon=horizon,
        convention=convention,
        rows=tuple(rows),
        model_agreement=sum(r.agrees_model for r in rows) / n,
        verdict_agreement=sum(r.agrees_verdict for r in rows) / n,
        turns_on=turns,
        status=status,
        headline=sentence,
        influence=influence,
        robust_share=float(robust_share),
        notes=tuple(notes),
    )
