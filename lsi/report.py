"""The assumption report as a document: Markdown and HTML with figures and the numbers
behind them (CSV and JSON), so a reader can check and re-plot everything.

This module draws and writes; the words, tables and the HTML page come from
:mod:`lsi.summary` (:func:`~lsi.summary.report_markdown`, :func:`~lsi.summary.report_html`),
which escapes every user-supplied string and gives ``report.html`` a Content-Security-Policy
that runs no script and loads nothing from the network.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .exceptions import ParameterValueError, require
from .files import atomic_folder, check_output
from .summary import report_html, report_markdown

if TYPE_CHECKING:  # pragma: no cover
    from .results import FitCollection
    from .verdict import Answer

__all__ = ["write_report", "markdown_to_html"]

#: the report page for a Markdown text (kept under its former name)
markdown_to_html = report_html

#: the columns of the comparison table in report.md (all of them go to comparison.csv)
_COMPARISON = [
    "converged",
    "k",
    "aicc",
    "delta_aicc",
    "weight",
    "doubling_days",
    "doubling_days_lower",
    "doubling_days_upper",
]


def _figures(
    ans: Answer, fits: FitCollection, out: str, fmt: str, dpi: int, backtest_boot: int = 0
) -> list[tuple[str, str]]:
    """Draw the report's figures; returns (caption, filename)."""
    import matplotlib.pyplot as plt

    from . import figures

    rep = ans.report
    wanted: list[tuple[str, str, Any]] = [
        ("fit", "Data and fitted models, with residuals", lambda f: f.fit(fits)),
        ("comparison", "Model comparison: Akaike weights and AICc", lambda f: f.comparison(fits)),
        ("doubling_times", "Doubling times along the history", lambda f: f.doubling_times(fits, check=rep.data)),
        ("assumptions", "Which assumption fails first, and when", lambda f: f.assumptions(rep, fits=fits)),
    ]
    from .paper_figures import figure_forecast

    level = 0.9 if ans.calibration is None else ans.calibration.level
    ds = figure_forecast(
        fits,
        float(fits.series.t[-1]) + 3.0,
        level=level,
        seed=0,
        bootstrap=rep.bootstrap,
        calibration=ans.calibration,
        calibrated=ans.calibration is not None,
    )
    caption = f"Forecast: the model-averaged {level:.0%} band" + (
        ", calibrated on the series' own backtest" if ans.calibration is not None else ""
    )
    wanted.append(("forecast", caption, lambda f: f.forecast(ds, series=fits.series)))
    if backtest_boot > 0:
        from .backtest import backtest

        bt = backtest(fits.series, list(fits), noise=fits.noise.name, level=level, n_boot=backtest_boot, seed=0)
        if not bt.scores.empty:
            wanted.append(
                (
                    "backtest",
                    f"Rolling-origin backtest: how the {level:.0%} bands made at past dates covered what came after",
                    lambda f: f.backtest(bt),
                )
            )
    if ans.robustness is not None and len(ans.robustness.rows) > 1:
        wanted.append(
            ("specifications", "The answer under each defensible data choice", lambda f: f.robustness(ans.robustness))
        )
    if ans.distinguishability is not None:
        wanted.append(
            (
                "distinguishability",
                "How often each model wins on series simulated from the leading models",
                lambda f: f.distinguishability(ans.distinguishability),
            )
        )
    made = []
    for name, caption, draw in wanted:
        fig = draw(figures)
        path = os.path.join(out, f"{name}.{fmt}")
        figures.save(fig, path, dpi=dpi)
        plt.close(fig)
        made.append((caption, os.path.basename(path)))
    return made


def write_report(
    ans: Answer, fits: FitCollection, out: str, *, fmt: str = "png", dpi: int = 200, backtest: int = 0
) -> list[str]:
    """Write ``report.md``, ``report.html``, ``report.json``, CSVs of the numbers and the figures.

    Returns the paths written.  The HTML page needs the ``lsi[report]`` extra (Jinja2 and
    markdown-it-py); without it nothing is written and one line says what to install.  The
    files are written into a temporary sibling folder and moved into ``out`` when all are
    complete (:func:`lsi.files.atomic_folder`): an interrupt or a full disk leaves ``out`` as
    it was.  Files in ``out`` that the report does not write are left alone.  With
    ``backtest`` > 0 the report also draws the rolling-origin backtest figure, with that many
    bootstrap replicates per past origin (it refits every model at every origin).
    """
    from .verdict import Answer

    if not isinstance(ans, Answer):
        raise ParameterValueError(f"write_report needs the checked answer, lsi.answer(fits); got {type(ans).__name__}")
    for module in ("jinja2", "markdown_it"):
        require(module, "the HTML report (lsi report --out)", "report")
    check_output(out, folder=True)
    names: list[str] = []
    with atomic_folder(out) as tmp:
        rep = ans.report
        figs = _figures(ans, fits, str(tmp), fmt, dpi, backtest)
        md = report_markdown(ans, fits.table()[_COMPARISON], figs)
        files = {
            "report.md": md,
            "report.html": report_html(md, title=f"lsi report: {rep.series_name}"),
            "report.json": ans.to_json(indent=2),
        }
        for name, text in files.items():
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as fh:
                fh.write(text)
            names.append(name)
        for name, df in _tables(ans, fits).items():
            df.to_csv(os.path.join(tmp, name), index=False)
            names.append(name)
        names += [fn for _, fn in figs]
    return [os.path.join(out, name) for name in names]


def _tables(ans: Answer, fits: FitCollection) -> dict[str, Any]:
    """The numbers behind the report, one table per CSV file."""
    import pandas as pd

    rep = ans.report
    tables = {
        "models.csv": pd.DataFrame(rep.models),
        "comparison.csv": fits.table().reset_index(),
        "doubling_times.csv": pd.DataFrame(rep.data.get("doubling_times", [])),
        "probabilities.csv": pd.DataFrame(
            {
                "outcome": list(rep.probabilities),
                "akaike_weights": list(rep.probabilities.values()),
                "bootstrap": [
                    None if rep.bootstrap_probabilities is None else rep.bootstrap_probabilities[k]
                    for k in rep.probabilities
                ],
            }
        ),
    }
    d = ans.to_dict()
    if d["robustness"]:
        tables["specifications.csv"] = pd.DataFrame(
            [{k: v for k, v in r.items() if not isinstance(v, dict | list)} for r in d["robustness"]["specifications"]]
        )
    if d["distinguishability"]:
        cf = d["distinguishability"]
        tables["confusion.csv"] = pd.DataFrame(
            [
                {"true": t, "selected": m, "share": cf["probabilities"][t][m], "count": cf["counts"][t][m]}
                for t in cf["true_models"]
                for m in cf["models"]
            ]
        )
    if d["autocorrelation"]:
        rows = []
        for name, m in d["autocorrelation"]["models"].items():
            row = {**m["autocorrelation"], "model": name, "method": m["method"]}
            for key in ("doubling_time", "singularity_time"):
                iv = m.get(key) or {}
                row.update({f"{key}_{k}": iv.get(k) for k in ("value", "lower", "upper")})
            rows.append(row)
        tables["autocorrelation.csv"] = pd.DataFrame(rows)
    return tables
