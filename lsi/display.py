"""How results show themselves in a notebook and to users of lmfit and statsmodels.

The ``_repr_html_`` methods of :class:`~lsi.results.FitResult`, :class:`~lsi.results.FitCollection`
and :class:`~lsi.series.Series` return the HTML built here, and :meth:`FitResult.fit_report
<lsi.results.FitResult.fit_report>` the lmfit-style text.  Everything is rendered from the
objects' attributes alone, so this module imports nothing from lsi (and no third-party
library): any layer may render through it.  Every string that comes from the user (series
name, units, model and parameter names, messages, labels) passes through :func:`html.escape`.

Doubling times are shown in days, as in :meth:`FitCollection.table
<lsi.results.FitCollection.table>` and the text summaries (:data:`DOUBLING_UNIT`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .results import FitCollection, FitResult
    from .series import Series

__all__ = [
    "DOUBLING_UNIT",
    "fit_result_html",
    "fit_collection_html",
    "series_html",
    "assumption_report_html",
    "fit_report_text",
]

#: the unit doubling times are shown in, and its length in years
DOUBLING_UNIT = ("days", 365.25)

#: rows of a series shown at each end before the middle is elided
_SERIES_ROWS = 5


def _e(text: Any) -> str:
    """A user string as HTML text (quotes escaped too, so it may stand in an attribute)."""
    return html.escape(str(text), quote=True)


def _g(x: Any, fmt: str = "{:.4g}") -> str:
    """A number as text; ``-`` for a missing or NaN value, ``inf`` kept."""
    if x is None:
        return "-"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if math.isnan(v):
        return "-"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return fmt.format(v)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "") -> str:
    """An HTML table from cells that are already HTML (escape user text before)."""
    out = ['<table class="lsi">']
    if caption:
        out.append(f'<caption style="text-align:left">{caption}</caption>')
    out.append("<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    out.append("</tbody></table>")
    return "\n".join(out)


def _interval(iv: Any, scale: float = 1.0, fmt: str = "{:.3g}") -> str:
    """An :class:`~lsi.intervals.Interval` as ``value [lower, upper]``; None bounds are unbounded."""
    if iv is None:
        return "-"
    if iv.value is None:
        return "none"

    def f(x: float | None) -> str:
        return "unbounded" if x is None else _g(x * scale, fmt)

    if iv.lower is None and iv.upper is None:
        return f"{_g(iv.value * scale, fmt)} (no interval)"
    return f"{_g(iv.value * scale, fmt)} [{f(iv.lower)}, {f(iv.upper)}]"


def _doubling_header(noise_name: str, level: float) -> str:
    what = "doubling time of the odds" if noise_name == "logit" else "doubling time"
    return f"{what} ({DOUBLING_UNIT[0]}) [{level:.0%}]"


def _status(r: FitResult) -> str:
    if not r.converged:
        return f'<span title="{_e(r.message)}">no</span>'
    return "yes" if r.identifiable else '<span title="not identifiable">yes (n.i.)</span>'


# ---------------------------------------------------------------- fit results
def fit_result_html(r: FitResult) -> str:
    """One fit as HTML: the statistics, then its parameters with errors and intervals."""
    s = r.series
    head = (
        f"<strong>{_e(r.model.title or r.name)}</strong> ({_e(r.name)}) on "
        f"<strong>{_e(s.name)}</strong>{f' ({_e(s.units)})' if s.units else ''}: "
        f"n = {r.nobs}, noise = {_e(r.noise.name)}, t0 = {r.t0:.3f}"
    )
    stats = _table(
        ["converged", "k", "AICc", "BIC", "weight", "log-likelihood", _doubling_header(r.noise.name, r.level)],
        [
            [
                _status(r),
                str(r.n_params),
                _g(r.aicc, "{:.2f}"),
                _g(r.bic, "{:.2f}"),
                _g(r.weight, "{:.3f}"),
                _g(r.llf, "{:.3f}"),
                _interval(r.doubling_time(), DOUBLING_UNIT[1]),
            ]
        ],
    )
    ci = r.conf_int()
    rows = []
    for name, p in r.params.items():
        lo, hi = ci.loc[name, "lower"], ci.loc[name, "upper"]
        rows.append(
            [
                _e(name),
                _g(p.value, "{:.6g}"),
                "fixed" if not p.vary else _g(p.stderr, "{:.3g}"),
                _g(lo, "{:.6g}"),
                _g(hi, "{:.6g}"),
            ]
        )
    params = _table(["parameter", "value", "std. error", f"lower {r.level:.0%}", f"upper {r.level:.0%}"], rows)
    notes = []
    if not r.converged:
        notes.append(f"not converged: {_e(r.message)}")
    if not r.identifiable:
        notes.append(f"not identifiable: {_e('; '.join(r.issues))}; errors not reported")
    irregular = [n for n in r.model.irregular if n in r.free]
    if irregular:
        notes.append(f"no Wald interval for {_e(', '.join(irregular))} (searched; see lsi.profile)")
    foot = "".join(f"<div>{n}</div>" for n in notes)
    return f'<div class="lsi-fit">\n<div>{head}</div>\n{stats}\n{params}\n{foot}</div>'


def fit_collection_html(fits: FitCollection) -> str:
    """A collection as HTML: one row per model, sorted by AICc, as in :meth:`FitCollection.summary`."""
    s = fits.series
    members = list(fits.values())
    level = members[0].level if members else 0.95
    head = (
        f"<strong>{_e(s.name)}</strong>{f' ({_e(s.units)})' if s.units else ''}: "
        f"{len(s)} points, {s.t[0]:.2f}-{s.t[-1]:.2f}, noise = {_e(fits.noise.name)}"
    )
    best = min((r.aicc for r in members if r.converged), default=math.nan)
    rows = []
    for r in sorted(members, key=lambda r: (not r.converged, r.aicc)):
        rows.append(
            [
                _e(r.name),
                _status(r),
                str(r.n_params),
                _g(r.aicc, "{:.2f}"),
                _g(r.aicc - best, "{:.2f}"),
                _g(r.weight, "{:.3f}"),
                _interval(r.doubling_time(), DOUBLING_UNIT[1], "{:.0f}"),
                _interval(r.singularity_time(), fmt="{:.2f}"),
            ]
        )
    table = _table(
        [
            "model",
            "converged",
            "k",
            "AICc",
            "&Delta;AICc",
            "weight",
            _doubling_header(fits.noise.name, level),
            "singularity",
        ],
        rows,
    )
    foot = "".join(f"<div>{_e(name)}: skipped ({_e(why)})</div>" for name, why in fits.skipped.items())
    return f'<div class="lsi-fits">\n<div>{head}</div>\n{table}\n{foot}</div>'


# ---------------------------------------------------------------- series
def series_html(s: Series) -> str:
    """A series as HTML: what it measures, then its first and last points (dates and decimal years)."""
    df = s.to_pandas()
    n = len(df)
    cols = [c for c in ("date", "t", "value", "sigma", "lower", "upper", "label") if c in df.columns]
    shown = list(range(n)) if n <= 2 * _SERIES_ROWS else [*range(_SERIES_ROWS), -1, *range(n - _SERIES_ROWS, n)]

    def cell(col: str, v: Any) -> str:
        if col == "date":
            return _e(str(v)[:10])
        if col == "label":
            return _e(v)
        return _g(v, "{:.4f}" if col == "t" else "{:.4g}")

    rows = []
    for i in shown:
        if i < 0:
            rows.append(["&hellip;"] * len(cols))
        else:
            rows.append([cell(c, df[c].iloc[i]) for c in cols])
    unc = ", with sigma" if s.sigma is not None else (", with intervals" if s.lower is not None else "")
    head = (
        f"<strong>{_e(s.name)}</strong>{f' ({_e(s.units)})' if s.units else ''}: "
        f"{n} points, {s.t[0]:.2f}-{s.t[-1]:.2f}{unc}"
    )
    return f'<div class="lsi-series">\n<div>{head}</div>\n{_table([_e(c) for c in cols], rows)}\n</div>'


# ---------------------------------------------------------------- the assumption report
def assumption_report_html(rep: Any) -> str:
    """An assumption report (:func:`lsi.assumptions`) as HTML: the verdict, the probability that
    each assumption fails first, and the models (for ``AssumptionReport._repr_html_``)."""
    keys = list(rep.probabilities)
    prob_rows = [["Akaike weights", *(_g(rep.probabilities[k], "{:.3f}") for k in keys)]]
    if getattr(rep, "bootstrap_probabilities", None) is not None:
        prob_rows.append(
            [f"bootstrap ({_e(rep.n_boot)} refits)", *(_g(rep.bootstrap_probabilities[k], "{:.3f}") for k in keys)]
        )
    probs = _table(["source", *(_e(k) for k in keys)], prob_rows, "probability that each assumption fails first")
    model_rows = [
        [
            _e(m["name"]),
            _g(m["weight"], "{:.3f}"),
            _e(m["first_failure"]),
            _g(m["failure_time"], "{:.2f}"),
            _g(m["singularity_time"], "{:.2f}"),
        ]
        for m in sorted(rep.models, key=lambda m: -m["weight"])
    ]
    models = _table(["model", "weight", "first failure", "when", "singularity"], model_rows)
    head = f"<strong>Which assumption fails first? ({_e(rep.series_name)})</strong>"
    return f'<div class="lsi-assumptions">\n<div>{head}</div>\n<p>{_e(rep.verdict)}</p>\n{probs}\n{models}\n</div>'


def answer_html(ans: Any) -> str:
    """The checked answer (:func:`lsi.answer`) as HTML: the headline, one line per check, and
    the assumption report beneath (for ``Answer._repr_html_``)."""
    checks = "".join(f"<li><em>{_e(k)}</em>: {_e(v)}</li>" for k, v in ans.sentences().items())
    return (
        f'<div class="lsi-answer">\n<p><strong>Answer ({_e(ans.strength)}).</strong> {_e(ans.headline)}</p>\n'
        f"<ul>{checks}</ul>\n{assumption_report_html(ans.report)}\n</div>"
    )


# ---------------------------------------------------------------- the lmfit-style report
def fit_report_text(r: FitResult, level: float | None = None, min_correl: float = 0.1) -> str:
    """One fit as lmfit's ``fit_report`` lays it out: the fit statistics, the parameters with
    standard errors (and their share of the value) and intervals at ``level``, then the
    correlations whose size is at least ``min_correl``, largest first."""
    level = r.level if level is None else level
    ci = r.conf_int(level)
    out = [
        "[[Model]]",
        f"    {r.model.title or r.name} ({r.name}), noise = {r.noise.name}, t0 = {r.t0:.6g}",
        "[[Fit Statistics]]",
        f"    # function evals   = {r.nfev}",
        f"    # data points      = {r.nobs}",
        f"    # variables        = {r.df_model}",
        f"    converged          = {r.converged}" + ("" if r.converged else f" ({r.message})"),
        f"    RSS                = {r.rss:.6g}",
        f"    log-likelihood     = {r.llf:.6g}",
        f"    AIC                = {r.aic:.6g}",
        f"    AICc               = {r.aicc:.6g}",
        f"    BIC                = {r.bic:.6g}",
    ]
    if r.extra_scatter is not None:
        out.append(f"    extra scatter      = {r.extra_scatter:.6g}")
    out.append(f"[[Variables]] (intervals at {level:.0%})")
    width = max((len(k) for k in r.params), default=0) + 1
    correl: dict[tuple[str, str], float] = {}
    for name, p in r.params.items():
        label = f"{name}:".ljust(width + 1)
        if not p.vary:
            out.append(f"    {label} {p.value:.8g} (fixed)")
            continue
        if p.stderr is None or not math.isfinite(p.stderr):
            why = (
                "searched: see lsi.profile for its interval"
                if name in r.model.irregular
                else ("not identifiable" if not r.identifiable else "no standard error")
            )
            out.append(f"    {label} {p.value:.8g} +/- None ({why})")
            continue
        share = f" ({abs(p.stderr / p.value):.2%})" if p.value else ""
        lo, hi = float(ci.loc[name, "lower"]), float(ci.loc[name, "upper"])
        out.append(f"    {label} {p.value:.8g} +/- {p.stderr:.8g}{share} [{lo:.6g}, {hi:.6g}]")
        for other, c in (p.correl or {}).items():
            key = (name, other) if (name, other)[::-1] not in correl else (other, name)
            correl[key] = c
    big = sorted(((k, c) for k, c in correl.items() if abs(c) >= min_correl), key=lambda kc: -abs(kc[1]))
    if big:
        out.append(f"[[Correlations]] (unreported correlations are < {min_correl:.3f})")
        out += [f"    C({a}, {b}) = {c:+.4f}" for (a, b), c in big]
    if not r.identifiable:
        out.append(f"    not identifiable: {'; '.join(r.issues)}")
    return "\n".join(out)
