"""Every text, Markdown and HTML rendering of lsi results lives here.

The functions render objects handed to them (fit results and collections, the
assumption report, backtests, forecasts, sweeps) by their attributes alone: this
module imports no lsi module above it, so every module can render through it.
pandas, markdown-it-py and Jinja2 load inside the functions that need them.

Plain text goes to a terminal as is.  In Markdown, every string that comes from the
user (series name, units, model names) passes through :func:`md_escape`, and the
HTML document is made from that Markdown by markdown-it-py (raw HTML off) inside a
Jinja2 page with autoescaping and a Content-Security-Policy that loads nothing from
the network.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .assessment import AssumptionReport
    from .backtest import Backtest
    from .results import FitCollection, FitResult
    from .verdict import Answer

__all__ = [
    "format_value",
    "fits_table",
    "fits_text",
    "fit_result_text",
    "assumptions_text",
    "assumptions_markdown",
    "answer_text",
    "answer_markdown",
    "backtest_text",
    "forecast_text",
    "format_date_interval",
    "first_unbounded",
    "sweep_text",
    "sobol_text",
    "datasets_text",
    "md_escape",
    "md_table",
    "report_markdown",
    "report_html",
    "REPORT_CSP",
]

DAYS = 365.25


# ---------------------------------------------------------------- fit results
def format_value(value: float | None, stderr: float | None = None, identifiable: bool = True) -> str:
    """``value ± stderr`` with sensible digits; ``n.i.`` marks a non-identifiable parameter."""
    if value is None or not math.isfinite(value):
        return "nan"
    if not identifiable:
        return f"{value:.3g} (n.i.)"
    if stderr is None or not math.isfinite(stderr) or stderr <= 0:
        return f"{value:.6g}"
    digits = max(0, 1 - int(math.floor(math.log10(stderr)))) if stderr < abs(value) or value == 0 else 0
    mag = abs(value)
    if mag and (mag >= 1e5 or mag < 1e-3):
        return f"{value:.4e} ± {stderr:.2e}"
    return f"{value:.{min(digits, 10)}f} ± {stderr:.2g}"


def doubling_label(noise_name: str) -> str:
    """What a doubling time doubles, with its unit: C itself, or the odds under logit noise."""
    return "doubling time of the odds (days)" if noise_name == "logit" else "doubling time (days)"


def fits_table(fits: FitCollection) -> pd.DataFrame:
    """One row per model: status, AICc, delta AICc, BIC, weight, doubling time (days) and
    singularity date with intervals, and the parameters."""
    import pandas as pd

    rows = []
    best = min((r.aicc for r in fits.values() if r.converged), default=math.nan)
    for r in fits.values():
        dt = r.doubling_time()
        sing = r.singularity_time()
        row = {
            "model": r.name,
            "converged": r.converged,
            "identifiable": r.identifiable,
            "k": r.n_params,
            "rss": r.rss,
            "loglik": r.loglik,
            "aicc": r.aicc,
            "delta_aicc": r.aicc - best,
            "bic": r.bic,
            "weight": r.weight,
            "doubling_days": None if dt.value is None else dt.value * DAYS,
            "doubling_days_lower": None if dt.lower is None else dt.lower * DAYS,
            "doubling_days_upper": None if dt.upper is None else dt.upper * DAYS,
            "singularity": None if sing is None else sing.value,
            "singularity_lower": None if sing is None else sing.lower,
            "singularity_upper": None if sing is None else sing.upper,
        }
        for k, p in r.params.items():
            row[f"{k}"] = p.value
            row[f"{k}_stderr"] = p.stderr
        rows.append(row)
    df = pd.DataFrame(rows).set_index("model")
    return df.sort_values("aicc")


def fits_text(fits: FitCollection) -> str:
    """A readable comparison table with one line per model, then notes."""
    s = fits.series
    lines = [
        f"{s.name}: {len(s)} points, {s.t[0]:.2f}-{s.t[-1]:.2f}, noise = {fits.noise.name}"
        + (", per-point uncertainties used" if fits.noise.point_sigma(s) is not None else ""),
        "",
        f"{'model':<12} {'k':>2} {'AICc':>10} {'dAICc':>8} {'weight':>7}  "
        f"{doubling_label(fits.noise.name) + ' at last point':<36} singularity",
    ]
    best = min((r.aicc for r in fits.values() if r.converged), default=math.nan)
    for r in sorted(fits.values(), key=lambda r: (not r.converged, r.aicc)):
        dt = r.doubling_time()
        sing = r.singularity_time()
        dts = dt.format("{:.0f}", scale=DAYS) if dt.value is not None else "none (not growing)"
        ss = "-" if sing is None else format_date_interval(sing)
        flag = "" if r.converged else "  NOT CONVERGED"
        flag += "" if r.identifiable else "  (not identifiable)"
        lines.append(
            f"{r.name:<12} {r.n_params:>2} {r.aicc:>10.2f} {r.aicc - best:>8.2f} {r.weight:>7.3f}  {dts:<36} {ss}{flag}"
        )
    notes = []
    for r in fits.values():
        if not r.identifiable:
            notes.append(f"{r.name}: not identifiable ({'; '.join(r.issues)}); errors not reported")
        if not r.converged:
            notes.append(f"{r.name}: {r.message}")
    for name, why in fits.skipped.items():
        notes.append(f"{name}: skipped ({why})")
    for r in fits.values():
        if r.model.extra_penalty:
            notes.append(
                f"{r.name}: its searched {', '.join(r.model.irregular) or 'parameter'} is charged as "
                f"{1 + r.model.extra_penalty} parameters in AICc and BIC (k shows the fitted ones); intervals are "
                "conditional on it"
            )
    if notes:
        lines += ["", "notes:"] + [f"  - {n}" for n in notes]
    lines += ["", "intervals: 95% unless stated; 'unbounded' means the growth rate's interval reaches zero"]
    level = next(iter(fits.values())).level if len(fits) else 0.95
    if level != 0.95:
        lines[-1] = lines[-1].replace("95%", f"{level:.0%}")
    return "\n".join(lines)


def fit_result_text(r: FitResult) -> str:
    """A short summary of one fit: status, parameters, criteria, derived quantities."""
    lines = [f"{r.model.title} fit ({r.name}), noise = {r.noise.name}, t0 = {r.t0:.3f}, n = {r.n}"]
    lines.append(f"  status: {'converged' if r.converged else r.message}; {r.nfev} evaluations")
    for k, p in r.params.items():
        fixed = "" if p.vary else " (fixed)"
        lines.append(f"  {k:<8} = {format_value(p.value, p.stderr, r.identifiable or not p.vary)}{fixed}")
    lines.append(f"  RSS = {r.rss:.6g}, loglik = {r.loglik:.3f}, AICc = {r.aicc:.3f}, BIC = {r.bic:.3f}")
    dt = r.doubling_time()
    what = "doubling time of the odds" if r.noise.name == "logit" else "doubling time"
    lines.append(f"  {what} at last point: {dt.format('{:.1f}', scale=DAYS)} days")
    sing = r.singularity_time()
    if sing is not None:
        lines.append(f"  singularity: {format_date_interval(sing)}")
    if not r.identifiable:
        lines.append(f"  NOT IDENTIFIABLE: {'; '.join(r.issues)}")
    return "\n".join(lines)


# ---------------------------------------------------------------- Markdown escaping
#: characters that start inline Markdown (or HTML) wherever they stand
_MD_ALWAYS = frozenset("\\`*[]<>&|~$#")
_MD_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md_escape(text: Any) -> str:
    """A user-supplied string as literal Markdown text, for one line or one table cell.

    Line breaks become spaces (a string cannot start a block of its own), and the
    characters that open inline Markdown or raw HTML (``\\ ` * [ ] < > & | ~ $ #``) are
    backslash-escaped, as is ``_`` unless it joins two letters or digits (``metr_horizons``
    stays as it is: CommonMark never reads an underscore inside a word as emphasis).

    Examples
    --------
    >>> md_escape("# x <img src=http://x>")
    '\\\\# x \\\\<img src=http://x\\\\>'
    >>> md_escape("metr_horizons")
    'metr_horizons'
    """
    s = _MD_BREAKS.sub(" ", str(text))
    out = []
    for i, ch in enumerate(s):
        if ch in _MD_ALWAYS:
            out.append("\\" + ch)
        elif ch == "_":
            inside = 0 < i < len(s) - 1 and s[i - 1].isalnum() and s[i + 1].isalnum()
            out.append("_" if inside else "\\_")
        else:
            out.append(ch)
    return "".join(out)


def _column_format(values: Sequence[Any]) -> Any:
    """One format for a column of numbers: the same decimals in every row (four significant
    digits for the largest), a value too small for them as ``<0.001``, scientific notation for
    a column that spans beyond 1e6 or below 1e-4; NaN as ``-``."""
    nums = [abs(float(v)) for v in values if isinstance(v, float) and math.isfinite(v)]
    big = max(nums, default=0.0)
    if big >= 1e6 or (0 < big < 1e-4):

        def sci(v: float) -> str:
            return f"{v:.3e}"

        return sci
    decimals = 3 if big == 0 else min(4, max(0, 3 - math.floor(math.log10(big))))
    floor = 10.0**-decimals

    def fixed(v: float) -> str:
        if v != 0 and abs(v) < floor:
            return ("<" if v > 0 else ">-") + f"{floor:.{decimals}f}"
        return f"{v:.{decimals}f}"

    return fixed


def md_table(df: pd.DataFrame) -> str:
    """A DataFrame (its index as the first column) as a Markdown table; each column of numbers
    in one format (:func:`_column_format`), NaN and infinity as ``-`` and ``inf``, text cells
    escaped."""
    df = df.reset_index()
    cols = [md_escape(c) for c in df.columns]
    formats = [_column_format(list(df[c])) for c in df.columns]

    def cell(v: Any, fmt: Any) -> str:
        if isinstance(v, float):
            if v != v:
                return "-"
            return ("inf" if v > 0 else "-inf") if math.isinf(v) else fmt(v)
        if isinstance(v, str):
            return md_escape(v)
        return str(v)

    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    rows += [
        "| " + " | ".join(cell(v, f) for v, f in zip(r, formats, strict=True)) + " |"
        for r in df.itertuples(index=False)
    ]
    return "\n".join(rows)


# ---------------------------------------------------------------- the assumption report
#: a date beyond this year means nothing (a singularity at 7.3e12 is "never" in words)
LAST_YEAR = 10_000.0


def _fmt_t(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"beyond {LAST_YEAR:.0f}" if abs(x) > LAST_YEAR else f"{x:.2f}"


def format_date_interval(iv: Any) -> str:
    """A date with its interval; dates past the year 10,000 as "beyond 10000" (no meaning as dates)."""

    def d(x: float | None) -> str:
        return "unbounded" if x is None else _fmt_t(x)

    if iv.value is None:
        return "undefined"
    if iv.lower is None and iv.upper is None:
        return f"{d(iv.value)} (no interval)"
    return f"{d(iv.value)} [{d(iv.lower)}, {d(iv.upper)}]"


def _returns(x: float | None, fmt: str) -> str:
    """A takeoff rate or returns: "-" when the model has none, "unbounded" when infinite (or
    beyond any meaning), "undefined" when NaN."""
    if x is None:
        return "-"
    if math.isnan(x):
        return "undefined"
    if math.isinf(x):
        return "unbounded" if x > 0 else "-unbounded"
    return fmt.format(x + 0.0) if abs(x) >= 5e-4 or x == 0 else fmt.format(0.0)


def assumptions_text(rep: AssumptionReport) -> str:
    """The assumption report as plain text (:meth:`AssumptionReport.summary`)."""
    return _render(rep, markdown=False)


def assumptions_markdown(rep: AssumptionReport) -> str:
    """The assumption report as Markdown with tables (:meth:`AssumptionReport.to_markdown`)."""
    return _render(rep, markdown=True)


def answer_text(ans: Answer) -> str:
    """The checked answer as plain text (:meth:`lsi.verdict.Answer.summary`, ``lsi report``)."""
    return _render(ans.report, markdown=False, checked=ans.to_dict())


def answer_markdown(ans: Answer) -> str:
    """The checked answer as Markdown with tables (the body of ``report.md``)."""
    return _render(ans.report, markdown=True, checked=ans.to_dict())


def _render(rep: AssumptionReport, markdown: bool, checked: Mapping[str, Any] | None = None) -> str:
    h = "## " if markdown else ""

    def user(text: Any) -> str:  # a user-supplied string, escaped in Markdown
        return md_escape(text) if markdown else str(text)

    lines = []
    title = f"Which assumption of recursive self-improvement fails first? ({user(rep.series_name)})"
    lines += [("# " if markdown else "") + title, ""]
    if checked is None:
        lines += [f"**Verdict.** {rep.verdict}" if markdown else f"Verdict: {rep.verdict}", ""]
        lines += [
            "(Not checked for robustness to the data choices, distinguishability of the models, "
            "autocorrelated residuals or the calibration of forecast bands: lsi.answer(fits) runs those.)",
            "",
        ]
    else:
        lines += [f"**Answer.** {checked['headline']}" if markdown else f"Answer: {checked['headline']}", ""]
        lines += _checks_summary(checked, markdown)
        if rep.details:
            lines += [f"**Details.** {rep.details}" if markdown else f"Details: {rep.details}", ""]
    th = rep.thresholds
    lines.append(
        f"Thresholds: kappa_min = {th.kappa_min}, rho_min = {th.rho_min}, eta_min = {th.eta_min}; "
        f"horizon {rep.horizon:.1f}; noise model {rep.noise}; {rep.uncertainty}."
    )
    lines.append("")
    lines.append(h + "Probability that each assumption fails first")
    lines.append("")
    keys = list(rep.probabilities)  # the outcomes, in lsi.diagnostics.FAILURES order
    if markdown:
        lines.append("| source | " + " | ".join(keys) + " |")
        lines.append("|---|" + "---:|" * len(keys))
        lines.append("| Akaike weights | " + " | ".join(f"{rep.probabilities[k]:.3f}" for k in keys) + " |")
        if rep.bootstrap_probabilities is not None:
            lines.append(
                f"| bootstrap ({rep.n_boot} refits; Monte Carlo error up to "
                f"{_mc_error(rep.bootstrap_probabilities, rep.n_boot):.3f}) | "
                + " | ".join(f"{rep.bootstrap_probabilities[k]:.3f}" for k in keys)
                + " |"
            )
    else:
        lines.append(f"{'':<28}" + "".join(f"{k:>15}" for k in keys))
        lines.append(f"{'Akaike weights':<28}" + "".join(f"{rep.probabilities[k]:>15.3f}" for k in keys))
        if rep.bootstrap_probabilities is not None:
            lines.append(
                f"{f'bootstrap ({rep.n_boot} refits)':<28}"
                + "".join(f"{rep.bootstrap_probabilities[k]:>15.3f}" for k in keys)
            )
            bp = rep.bootstrap_probabilities
            lines.append(
                f"{'  (Monte Carlo error)':<28}"
                + "".join(f"{math.sqrt(bp[k] * (1 - bp[k]) / rep.n_boot):>15.3f}" for k in keys)
            )
    lines.append("")
    lines.append(h + "Models")
    lines.append("")
    cols = [
        "model",
        "weight",
        "first failure",
        "when",
        f"C there ({user(rep.units)})" if rep.units else "C there",
        "singularity",
        "r",
        "rho(t0)",
    ]
    rows = []
    for m in sorted(rep.models, key=lambda m: -m["weight"]):
        rows.append(
            [
                user(m["name"]),
                f"{m['weight']:.3f}",
                m["first_failure"],
                _fmt_t(m["failure_time"]),
                "-" if m["failure_level"] is None else f"{m['failure_level']:.3g}",
                _fmt_t(m["singularity_time"]),
                _returns(m["r"], "{:.2f}"),
                _returns(m["rho0"], "{:.3f}"),
            ]
        )
    lines += _table(cols, rows, markdown)
    if rep.failure_times:
        lines.append("")
        lines.append(h + "When (bootstrap replicates with each outcome)")
        lines.append("")
        rows = []
        for k, d in rep.failure_times.items():
            rows.append(
                [
                    k,
                    f"{d['share']:.3f}",
                    f"{_fmt_t(d['time_q05'])} / {_fmt_t(d['time_q50'])} / {_fmt_t(d['time_q95'])}",
                    f"{d['level_q50']:.3g}" if d.get("level_q50") is not None else "-",
                ]
            )
        lines += _table(["outcome", "share", "time 5% / 50% / 95%", "median C there"], rows, markdown)
    acc = rep.data.get("acceleration")
    if acc:
        lines.append("")
        lines.append(h + "The data themselves")
        lines.append("")
        lines.append(
            f"Growth rate of ln C changes by {acc['value']:+.3f} per year [{acc['lower']:+.3f}, {acc['upper']:+.3f}] "
            f"(quadratic in time): doubling times are {acc['doubling_times']}."
        )
        dts = rep.data.get("doubling_times", [])
        if dts:

            def days(x: float | None) -> str:
                return "unbounded" if x is None else f"{DAYS * x:.0f}"

            parts = [f"{e['t']:.1f}: {days(e['value'])} [{days(e['lower'])}, {days(e['upper'])}]" for e in dts]
            lines.append(
                f"Local doubling times (days, windows of {rep.data['window']} points): " + "; ".join(parts) + "."
            )
    if checked is not None:
        lines += _checks_sections(checked, markdown, user)
    notes = list(rep.notes) if checked is None else list(checked.get("notes", []))
    if checked is not None:
        fb = {k: v for k, v in checked.get("bootstrap_fallback", {}).items() if v is not None and v >= 0.005}
        if fb:
            notes.append(
                "bootstrap refits that needed the cold starts (their warm start stalled or sat at a limit of "
                "the model): " + ", ".join(f"{user(k)} {v:.0%}" for k, v in fb.items())
            )
    if notes:
        lines.append("")
        lines.append(h + "Notes")
        lines.append("")
        lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


#: the checks' titles, in the report's order
_CHECK_TITLES = {
    "identification": "Identification",
    "robustness": "Robustness across data choices",
    "distinguishability": "Can these data tell the leading models apart?",
    "autocorrelation": "Autocorrelated residuals",
    "calibration": "Calibration of the forecast bands",
}


def _checks_summary(d: Mapping[str, Any], markdown: bool) -> list[str]:
    """The checks in one list: one sentence each."""
    out = []
    for key, sentence in d.get("checks", {}).items():
        title = _CHECK_TITLES.get(key, key)
        out.append(f"- **{title}.** {sentence}" if markdown else f"- {title}: {sentence}")
    return [*out, ""] if out else []


def _pct(p: float | None) -> str:
    return "-" if p is None else f"{100 * p:.0f}%"


def _checks_sections(d: Mapping[str, Any], markdown: bool, user: Any) -> list[str]:
    h = "## " if markdown else ""
    lines: list[str] = []
    ident = d.get("identification") or {}
    off = {k: v for k, v in ident.items() if v != "identified"}
    if off:
        lines += ["", h + _CHECK_TITLES["identification"], ""]
        lines += _table(["model", "status"], [[user(k), user(v)] for k, v in off.items()], markdown)
    sc = d.get("robustness")
    if sc:
        lines += ["", h + _CHECK_TITLES["robustness"], "", sc["headline"], "", user(sc["convention"]), ""]
        rows = []
        for r in sc["specifications"]:
            lead = "-" if r["leading_model"] is None else f"{user(r['leading_model'])} {r['leading_weight']:.2f}"
            rows.append(
                [
                    user(r["name"]),
                    user(r["label"]),
                    str(r["n_points"]),
                    lead,
                    user(r["verdict_label"]),
                    "default" if r["default"] else ("yes" if r["agrees_verdict"] else "no"),
                ]
            )
        lines += _table(["specification", "data", "points", "leading model", "verdict", "agrees"], rows, markdown)
        lines += [f"- {user(n)}" for n in sc.get("notes", [])]
    cf = d.get("distinguishability")
    if cf:
        lines += ["", h + _CHECK_TITLES["distinguishability"], ""]
        lines.append(
            f"Series simulated from each leading model at the observed times ({cf['n']} each, with its fitted "
            "noise), every model refitted: the share of series each model wins (rows: the true model)."
        )
        lines.append("")
        models = cf["models"]
        rows = []
        for t in cf["true_models"]:
            rows.append([f"{user(t)} true"] + [_pct(cf["probabilities"][t][m]) for m in models])
        lines += _table(["", *(user(m) for m in models)], rows, markdown)
        lines.append("")
        lines += [f"- {p['sentence']}." for p in cf["pairs"]]
        lines.append(f"- Rule: {cf['rule']}.")
    ac = d.get("autocorrelation")
    if ac:
        lines += ["", h + _CHECK_TITLES["autocorrelation"], ""]
        lines.append(
            f"Residuals in time order; {ac['level']:.0%} intervals with the method named (ar1: AR(1) errors, "
            "the coefficient integrated out). Doubling time at the last observation, in days."
        )
        lines.append("")
        rows = []
        for name, m in ac["models"].items():
            c = m["autocorrelation"]
            dt = m["doubling_time"]
            st = m.get("singularity_time")
            rows.append(
                [
                    user(name),
                    _num_or_dash(c["lag1"], "{:+.2f}"),
                    _num_or_dash(c["durbin_watson"], "{:.2f}"),
                    _num_or_dash(c["p_value"], "{:.2g}"),
                    "yes" if c["autocorrelated"] else "no",
                    m["method"],
                    _interval_days(dt),
                    "-" if st is None else _interval_years(st),
                ]
            )
        lines += _table(
            ["model", "lag-1 r", "Durbin-Watson", "Ljung-Box p", "autocorrelated", "method", "doubling (days)",
             "singularity"],
            rows,
            markdown,
        )  # fmt: skip
    cal = d.get("calibration")
    if cal:
        lines += ["", h + _CHECK_TITLES["calibration"], "", cal["sentence"], ""]
        rows = [
            [
                f"{o['origin']:.2f}",
                str(o["n"]),
                _num_or_dash(o.get("coverage"), "{:.2f}"),
                _num_or_dash(o.get("kappa"), "{:.3g}"),
                _num_or_dash(o.get("coverage_calibrated"), "{:.2f}"),
            ]
            for o in cal.get("by_origin", [])
        ]
        if rows:
            lines += _table(
                ["origin", "later points", "default band covered", "kappa (from earlier origins)",
                 "calibrated band covered"],
                rows,
                markdown,
            )  # fmt: skip
    return lines


def _num_or_dash(x: Any, fmt: str) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)


def _interval_days(iv: Mapping[str, Any]) -> str:
    """A doubling time's JSON interval (already in days)."""

    def days(x: Any) -> str:
        return "unbounded" if x is None else f"{x:.0f}"

    return f"{days(iv.get('value'))} [{days(iv.get('lower'))}, {days(iv.get('upper'))}]"


def _interval_years(iv: Mapping[str, Any]) -> str:
    def yr(x: Any) -> str:
        return "unbounded" if x is None else _fmt_t(x)

    return f"{yr(iv.get('value'))} [{yr(iv.get('lower'))}, {yr(iv.get('upper'))}]"


def _mc_error(probs: Mapping[str, float], n: int) -> float:
    """The largest Monte Carlo standard error of bootstrap probabilities from ``n`` replicates."""
    return max((math.sqrt(p * (1 - p) / n) for p in probs.values() if n > 0 and math.isfinite(p)), default=0.0)


def _table(cols: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return out
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    out = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return out


# ---------------------------------------------------------------- the report document
#: the files the report writes beside report.md, and what each holds
_NUMBERS = (
    ("report.json", "everything above, machine-readable"),
    ("models.csv", "per model weight, first failure, crossing times, singularity"),
    ("comparison.csv", "the model comparison with parameters"),
    ("doubling_times.csv", "local doubling times along the data"),
    ("probabilities.csv", "probability each assumption fails first"),
    ("specifications.csv", "the leading model and verdict under each data choice"),
    ("confusion.csv", "how often each model wins on series simulated from each leading model"),
    ("autocorrelation.csv", "residual autocorrelation and the intervals that account for it"),
)


def report_markdown(ans: Answer, comparison: pd.DataFrame, figures: Sequence[tuple[str, str]] = ()) -> str:
    """The report document in Markdown: the checked answer, the model comparison table, the
    figures (``(caption, file name)`` pairs) and the files with the numbers."""
    md = answer_markdown(ans)
    md += "\n\n## Model comparison\n\n" + md_table(comparison)
    if figures:
        md += "\n\n## Figures\n\n" + "\n\n".join(f"![{md_escape(cap)}]({fn})" for cap, fn in figures)
    md += "\n\n## Numbers behind the report\n\n" + "".join(f"- `{fn}`: {what}\n" for fn, what in _NUMBERS)
    return md


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
th.align-right, td.align-right { text-align: right; }
th.align-center, td.align-center { text-align: center; }
th { background: #f2f2f2; }
figure { margin: 0.6rem 0; }
img { max-width: 100%; margin: 0.6rem 0; }
code { background: #f4f4f4; padding: 0 0.2rem; }
"""


def _csp(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; img-src 'self' file:; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"


#: the Content-Security-Policy of report.html: no script, nothing from the network, images
#: from the report's own folder, and the one inline style sheet (by its hash)
REPORT_CSP = _csp(_CSS)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="referrer" content="no-referrer">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
{{ body }}
</body>
</html>
"""


def _is_local(src: str) -> bool:
    """True for a relative path inside the report's folder (no scheme, host or root)."""
    return bool(src) and not re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|/|\\)", src) and ".." not in src.split("/")


def _report_rules(state: Any) -> None:
    """markdown-it core rule: a paragraph holding one local image becomes a figure with
    its caption; remote images are dropped to their text; table alignment becomes a
    class (the CSP allows no inline style attribute)."""
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type in ("th_open", "td_open"):
            style = tok.attrs.pop("style", None)
            if isinstance(style, str) and style.startswith("text-align:"):
                tok.attrSet("class", "align-" + style.split(":", 1)[1].strip())
        if tok.type != "inline" or not tok.children:
            continue
        for child in tok.children:
            if child.type == "image" and not _is_local(str(child.attrGet("src") or "")):
                child.type, child.tag, child.content, child.children, child.attrs = "text", "", child.content, None, {}
        kids = tok.children
        if (
            len(kids) == 1
            and kids[0].type == "image"
            and 0 < i < len(tokens) - 1
            and tokens[i - 1].type == "paragraph_open"
            and tokens[i + 1].type == "paragraph_close"
        ):
            tokens[i - 1].tag = tokens[i + 1].tag = "figure"
            kids[0].meta["figure"] = True


def _render_image(self: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    from markdown_it.common.utils import escapeHtml

    tok = tokens[idx]
    alt = self.renderInlineAsText(tok.children or [], options, env)
    img = f'<img src="{escapeHtml(str(tok.attrGet("src")))}" alt="{escapeHtml(alt)}">'
    if tok.meta.get("figure"):
        img += f"<figcaption>{escapeHtml(alt)}</figcaption>"
    return img


@functools.lru_cache(maxsize=1)
def _markdown_parser() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    md.core.ruler.push("lsi_report", _report_rules)
    md.add_render_rule("image", _render_image)
    return md


def report_html(markdown: str, title: str = "lsi report") -> str:
    """The report page: ``markdown`` rendered by markdown-it-py with raw HTML off (every
    ``<``, ``&`` and quote in the text is escaped), inside a Jinja2 page with autoescaping
    and a Content-Security-Policy (:data:`REPORT_CSP`) that runs no script and loads
    nothing from the network."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    body = _markdown_parser().render(markdown)
    page = env.from_string(_PAGE)
    # the policy and the style sheet are this module's constants; the title is escaped
    return page.render(csp=Markup(REPORT_CSP), title=title, css=Markup(_CSS), body=Markup(body))


# ---------------------------------------------------------------- backtests
def backtest_text(bt: Backtest) -> str:
    """A backtest's summary as a readable table (:meth:`Backtest.text`)."""
    s = bt.summary()
    lines = [
        f"{bt.series}: backtest at {len(bt.origins)} origins "
        f"({', '.join(f'{o:.2f}' for o in bt.origins)}), noise = {bt.noise}, "
        f"scores in the noise space, {bt.level:.0%} bands",
        "",
        f"{'model':<18} {'n':>4} {'coverage':>9} {'int.score':>10} {'CRPS':>9} {'CRPS med':>9} "
        f"{'log score':>10} {'MAE':>8} {'bias':>8}",
    ]

    def f(x: float, w: int, d: int = 3) -> str:
        if math.isnan(x):
            return f"{'-':>{w}}"
        if math.isinf(x):
            return f"{('inf' if x > 0 else '-inf'):>{w}}"
        return f"{x:>{w}.{d}f}" if abs(x) < 1e4 else f"{x:>{w}.2e}"

    for name, r in s.iterrows():
        lines.append(
            f"{name:<18} {int(r['n']):>4} {f(r['coverage'], 9, 2)} {f(r['interval_score'], 10)} "
            f"{f(r['crps'], 9)} {f(r['crps_median'], 9)} {f(r['log_score'], 10)} {f(r['mae'], 8)} "
            f"{f(r['bias'], 8)}"
        )
    if bt.skipped:
        lines += ["", "skipped:"]
        lines += [f"  - {d['model']} at {d['origin']:.2f}: {d['reason']}" for d in bt.skipped]
    lines += [
        "",
        "lower is better except log score and coverage (nominal "
        f"{bt.level:.0%}); inf: a model forecast a singularity before a scored point",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- the command line's outputs
def first_unbounded(ds: Any, name: str) -> float | None:
    """The first date after the data from which a band's upper end is unbounded (None: never):
    the calibrated forecast's ``unbounded_from``, else where the plain band's upper end is
    infinite."""
    import numpy as np

    if "unbounded_from" in ds:
        u = float(ds["unbounded_from"].sel(model=name))
        return u if math.isfinite(u) else None
    last = float(ds.attrs["last_observation"])
    hi = float(ds["quantile"].values[-1])
    upper = np.asarray(ds["prediction"].sel(model=name, quantile=hi).values, dtype=float)
    t = np.asarray(ds["time"].values, dtype=float)
    hit = np.flatnonzero((t > last) & (upper == np.inf))
    return float(t[hit[0]]) if hit.size else None


def forecast_text(ds: Any, fits: FitCollection, reach: Mapping[str, Any] | None, level_reached: float | None) -> str:
    """``lsi forecast``'s table: per model the median and band for a new observation at up
    to three dates (the table fits in 100 columns), then (with ``reach``) the dates each model
    reaches ``level_reached``, which band it is (calibrated or not) and from when a band is
    unbounded above.

    ``ds`` is the Dataset of :meth:`FitCollection.forecast` or of
    :func:`lsi.calibration.calibrated_forecast`; ``reach`` that of
    :meth:`FitCollection.time_to_reach`.
    """
    import numpy as np

    units = f" {ds.attrs['units']}" if ds.attrs.get("units") else ""
    t = np.asarray(ds["time"].values, dtype=float)
    last = float(ds.attrs["last_observation"])
    end = float(t[-1])
    whole = np.floor(last) + 1
    cols = [float(c) for c in np.linspace(whole, end, 3)] if end - whole >= 2 else [end]
    picks = [int(np.argmin(np.abs(t - c))) for c in cols]
    lo, mid, hi = (float(q) for q in ds["quantile"].values)

    def g(x: float, digits: int = 3) -> str:  # short exponents ("8.25e3"): the table fits 100 columns
        if np.isnan(x):
            return "-"
        if not np.isfinite(x):
            return "inf"
        text = f"{x:.{digits - 1}e}" if x != 0 and not 1e-2 <= abs(x) < 1e4 else f"{x:.{digits}g}"
        if "e" in text:
            mant, exp = text.split("e")
            text = f"{mant}e{int(exp)}"
        return text

    rows = []
    for m in [str(x) for x in ds["model"].values]:
        p = ds["prediction"].sel(model=m)
        cells = []
        for i in picks:
            a, b, c = (float(p.sel(quantile=q).values[i]) for q in (lo, mid, hi))
            cells.append(f"{g(b)} [{g(a, 2)}, {g(c, 2)}]")
        w = f"{fits[m].weight:.3f}" if m in fits else "-"
        flag = ""
        if m in fits and not fits[m].converged:
            flag = " (1)"
        elif m in ds["model"] and not bool(ds["parameter_uncertainty"].sel(model=m)):
            flag = " (2)"
        rows.append((m, w, cells, flag))
    width = max([10, *(len(c) for _, _, cells, _ in rows for c in cells)])
    lines = [
        *textwrap.wrap(
            f"{ds.attrs['series']}: forecast to {end:.2f} (last observation {last:.2f}), noise = "
            f"{ds.attrs['noise']}, median [{ds.attrs['level']:.0%} band for a new observation]{units}",
            100,
        ),
        "",
        f"{'model':<18} {'weight':>6}  " + "  ".join(f"{t[i]:>{width}.2f}" for i in picks),
    ]
    lines += [f"{m + flag:<18} {w:>6}  " + "  ".join(f"{c:>{width}}" for c in cells) for m, w, cells, flag in rows]
    table_end = len(lines)
    if any(f == " (1)" for *_, f in rows):
        lines.append("(1) not converged: no bands")
    if any(f == " (2)" for *_, f in rows):
        lines.append(
            "(2) not identifiable: the refits stay at the limiting case the data prefer, so the band shows "
            "the noise but little of the parameter uncertainty"
        )
    if reach is not None:
        lines += [
            "",
            f"date of reaching {level_reached:.4g}{units} (value [{ds.attrs['level']:.0%} interval]; "
            "'unbounded': the interval reaches 'never'):",
        ]
        for m, r in reach.items():
            if r["value"] is None:
                lines.append(f"  {m:<18} {r['reason'] or 'never'}")
                continue
            if r["p_never"] is None:
                lines.append(f"  {m:<18} {r['value']:.2f} (no interval: no bootstrap refit converged)")
                continue
            up = "unbounded" if r["upper"] is None else f"{r['upper']:.2f}"
            low = "-" if r["lower"] is None else f"{r['lower']:.2f}"
            lines.append(f"  {m:<18} {r['value']:.2f} [{low}, {up}]  P(never) = {r['p_never']:.2f}")
    lines += ["", "inf: past the model's fitted singularity; '-': no band (no converged bootstrap refit)"]
    if ds.attrs.get("calibration"):
        lines.append(
            f"band: calibrated on the series' own past forecasts ({ds.attrs['calibration']}; the default band is "
            f"the row {ds.attrs.get('band', 'averaged')}); "
            f"{ds.attrs.get('calibration_note', '')} (--uncalibrated for the plain band)"
        )
    else:
        lines.append(
            "band: uncalibrated (parameter bootstrap and fitted noise only; "
            + (ds.attrs.get("calibration_note") or "lsi forecast without --uncalibrated calibrates it")
            + ")"
        )
    for m in [str(x) for x in ds["model"].values]:
        u = first_unbounded(ds, m)
        if u is not None:
            lines.append(f"{m}: unbounded above from {u:.2f} (a fitted singularity has passed)")
    lines[table_end:] = [
        ln if len(ln) <= 100 else textwrap.fill(ln, 100, subsequent_indent="  ") for ln in lines[table_end:]
    ]
    return "\n".join(lines)


def sweep_text(
    n_cells: int, dims: Mapping[str, int], engine: str, counts: Mapping[str, int], out: str | None = None
) -> str:
    """``lsi sweep``'s summary: the grid, then how many cells end in each first failure."""
    lines = [f"{n_cells} cells over {', '.join(f'{d} ({n})' for d, n in dims.items())} (engine: {engine})"]
    lines += [f"  {k:<15} {v:>10} ({v / max(n_cells, 1):.1%})" for k, v in counts.items()]
    if out:
        lines.append(f"wrote {out}")
    return "\n".join(lines)


def sobol_text(indices: pd.DataFrame) -> str:
    """``lsi sweep --sobol``: the table of Sobol indices, three decimals; an index that is not
    a share of variance (outside [0, 1]) is named below the table with the reason."""
    table = indices.drop(columns=["note"], errors="ignore")
    text = table.to_string(index=False, float_format=lambda x: f"{x:.3f}")
    if "note" in indices:
        notes = [f"- {r.output}, {r.parameter}: {r.note}" for r in indices.itertuples() if r.note]
        if notes:
            text += "\n\nNot shares of variance:\n" + "\n".join(notes)
    return text


def datasets_text(titles: Mapping[str, str]) -> str:
    """``lsi datasets``: one line per shipped dataset, its name and title."""
    return "\n".join(f"{name:<22} {title}" for name, title in titles.items())
