"""The paper's figures for a fitted series, computed and written as a set (``lsi figures``).

:mod:`lsi.figures` draws what it is given; this module, one layer above it, computes
what the figures need (the assumption report with its bootstrap, a backtest, a
forecast and the dates a level is reached) and writes every figure to a folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from . import figures
from .assessment import assumptions as assumption_report
from .backtest import backtest as run_backtest
from .exceptions import ParameterValueError, SeriesError
from .models import ALL_MODELS

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from .assessment import AssumptionReport
    from .fitting import FitCollection

__all__ = ["save_all"]


def save_all(
    fits: FitCollection,
    directory: str | Path,
    *,
    format: str = "pdf",
    dpi: int = 300,
    until: float | None = None,
    reach: float | None = None,
    level: float = 0.9,
    width: str | float = "double",
    n_boot: int = 200,
    seed: int | None = 0,
    report: AssumptionReport | None = None,
) -> tuple[dict[str, Path], dict[str, str]]:
    """Write every figure available for a fitted series (what ``lsi figures`` does).

    ``fit``, ``comparison``, ``doubling_times``, ``assumptions`` (the report of
    :func:`lsi.assumptions` with ``n_boot`` bootstrap replicates) and ``forecast``
    (``fits.forecast``, with the dates at which ``reach`` is reached when that is
    given) always; ``backtest`` (:func:`lsi.backtest.backtest` at its default
    origins, ``n_boot`` replicates per origin) when ``n_boot > 0`` and some origin
    can be scored.  ``sensitivity`` belongs to the loop model over its priors, not
    to a series, and is not drawn here.

    Parameters
    ----------
    fits : FitCollection
    directory : str or Path
        Created if absent; files are named after the figures (``fit.pdf``, ...).
    format : str
        ``"pdf"``, ``"svg"`` or ``"png"``.
    dpi : int
        Resolution of raster output.
    until : float, optional
        End of the forecast (decimal year; default three years after the last point).
    reach : float, optional
        A level (data units) whose reaching date is marked on the forecast.
    level : float
        Central probability of the forecast bands.
    width : "single", "double" or float
        Width of the time-series figures (``comparison`` is one column).
    n_boot : int
        Bootstrap replicates of the assumption report and of each backtest origin
        (a modest 200 by default; ``lsi report`` uses 1000).  0: the assumption
        figure from Akaike weights alone, and no backtest.
    seed : int, optional
        Seed of those bootstraps.
    report : AssumptionReport, optional
        The report of :func:`lsi.assumptions` on these fits, when it is already made
        (``lsi report``): drawn as it is, with its own bootstrap, instead of a new one.

    Returns
    -------
    written : dict of str to Path
        Figure name -> file.
    skipped : dict of str to str
        Figure name -> why it was not drawn.
    """
    if not (isinstance(n_boot, int | np.integer) and n_boot >= 0):
        raise ParameterValueError(f"n_boot = {n_boot!r}; give a number of replicates >= 0")
    directory = Path(directory)
    fmt = format.lower().lstrip(".")
    written: dict[str, Path] = {}
    skipped: dict[str, str] = {}

    def emit(name: str, fig: Figure) -> None:
        try:
            written[name] = figures.save(fig, directory / f"{name}.{fmt}", dpi=dpi)
        finally:
            plt.close(fig)

    emit("fit", figures.fit(fits, width=width))
    emit("comparison", figures.comparison(fits))
    emit("doubling_times", figures.doubling_times(fits, width=width))
    if report is None:
        report = assumption_report(fits, n_boot=int(n_boot), seed=seed, progress=False)
    emit("assumptions", figures.assumptions(report, fits=fits, width=width))
    why_not = _backtest(fits, emit, n_boot=int(n_boot), seed=seed, level=level, width=width)
    if why_not:
        skipped["backtest"] = why_not
    skipped["sensitivity"] = (
        "it is a property of the loop model over its priors, not of a series: "
        "lsi.sensitivity.sobol / lsi.sensitivity.tornado, then lsi.figures.sensitivity"
    )
    end = float(fits.series.t[-1]) + 3.0 if until is None else float(until)
    ds = fits.forecast(until=end, level=level)
    rows = None if reach is None else _reach_rows(fits, reach)
    emit(
        "forecast",
        figures.forecast(ds, rows, target=reach if rows else None, series=fits.series, width=width),
    )
    return written, skipped


def _reach_rows(fits: FitCollection, reach: float) -> dict[str, Any]:
    """When ``reach`` is reached: by the two model averages and the three best models."""
    found = fits.time_to_reach(reach)
    top = sorted((r for r in fits.values() if r.converged), key=lambda r: r.aicc)[:3]
    keys = [k for k in ("averaged", "bootstrap_mixture") if k in found] + [r.name for r in top]
    return {k: found[k] for k in keys if k in found}


def _backtest(
    fits: FitCollection, emit: Any, *, n_boot: int, seed: int | None, level: float, width: str | float
) -> str | None:
    """Draw the backtest figure of :func:`save_all`; returns why there is none, else None."""
    if n_boot == 0:
        return "n_boot = 0: the forecasts' bands need bootstrap replicates"
    # "all" lets an origin skip the models it leaves too few points for
    models: Any = "all" if set(fits) | set(fits.skipped) == set(ALL_MODELS) else list(fits)
    try:
        bt = run_backtest(fits.series, models, noise=fits.noise.name, level=level, n_boot=n_boot, seed=seed)
    except (SeriesError, ParameterValueError) as exc:
        return str(exc)
    if bt.scores.empty:
        return "no forecast could be scored at any origin"
    emit("backtest", figures.backtest(bt, width=width))
    return None
