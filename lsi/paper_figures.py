"""The paper's figures for a fitted series, computed and written as a set (``lsi figures``).

:mod:`lsi.figures` draws what it is given; this module, one layer above it, computes
what the figures need (the assumption report with its bootstrap, a backtest, a
forecast calibrated on the series' own past and the dates a level is reached) and writes
every figure to a folder.  What a report has already computed can be handed in, so the
report and the figures share one computation and one bootstrap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from . import figures
from .assessment import assumptions as assumption_report
from .backtest import backtest as run_backtest
from .bootstrap import DEFAULT_N
from .exceptions import ParameterValueError, SeriesError
from .files import atomic_folder
from .models import ALL_MODELS

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from .assessment import AssumptionReport
    from .backtest import Backtest
    from .bootstrap import Bootstrap
    from .calibration import Calibration
    from .fitting import FitCollection

__all__ = ["save_all", "figure_forecast"]


#: bootstrap replicates by default: as many as ``lsi report`` draws (its ``--bootstrap``), so
#: the figures and the report show the same numbers
N_BOOT = DEFAULT_N
#: bootstrap replicates per origin of the backtest by default (``lsi backtest --n-boot``)
BACKTEST_BOOT = 200


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
    n_boot: int = N_BOOT,
    seed: int | None = 0,
    report: AssumptionReport | None = None,
    bootstrap: Bootstrap | None = None,
    calibration: Calibration | None = None,
    calibrated: bool = True,
    backtest: Backtest | None = None,
    backtest_boot: int = BACKTEST_BOOT,
) -> tuple[dict[str, Path], dict[str, str]]:
    """Write every figure available for a fitted series (what ``lsi figures`` does).

    ``fit``, ``comparison``, ``doubling_times`` (every window of the report's local fits),
    ``assumptions`` (the report of :func:`lsi.assumptions`) and ``forecast`` (the band
    calibrated on the series' own backtest, :func:`lsi.calibration.calibrated_forecast`, with
    the dates at which ``reach`` is reached when that is given) always; ``backtest``
    (:func:`lsi.backtest.backtest` at its default origins) when some origin can be scored.
    ``sensitivity`` belongs to the loop model over its priors, not to a series, and is not
    drawn here.

    What a report has already computed can be handed in (``report``, ``bootstrap``,
    ``calibration``, ``backtest``): it is drawn as it is, not computed again.  Otherwise one
    bootstrap of ``n_boot`` replicates (``fits.bootstrap(n_boot, seed=seed)``, kept on the
    collection) serves the assumption report, the forecast and the dates ``reach`` is
    reached, so ``lsi figures`` and ``lsi report`` with the same count and seed show the
    same numbers.  The files are written as a set (:func:`lsi.files.atomic_folder`): an
    interrupt or an error leaves the folder as it was.

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
        Bootstrap replicates of the assumption report, the forecast and the reaching dates
        (default :data:`lsi.bootstrap.DEFAULT_N`, as ``lsi report --bootstrap``).  0: the assumption figure from Akaike
        weights alone, and no backtest.
    seed : int, optional
        Seed of the bootstraps and of the calibration's parameter draws.
    report : AssumptionReport, optional
        The report of :func:`lsi.assumptions` on these fits, when it is already made
        (``lsi report``): drawn as it is, and its bootstrap (if any) serves the forecast.
    bootstrap : lsi.bootstrap.Bootstrap, optional
        Replicates already made (``fits.bootstrap(n)``), used instead of ``n_boot`` new ones.
    calibration : lsi.calibration.Calibration, optional
        The calibration of the bands already made (:func:`lsi.calibration.past_coverage` at
        ``level``); default: made here the same way (the fast record, as the report makes it).
    calibrated : bool
        Draw the calibrated band (default); False draws the default band, uncalibrated.
        When the series is too short to calibrate on, the default band is drawn and the
        figure says why.
    backtest : lsi.backtest.Backtest, optional
        A backtest already made, drawn as it is.
    backtest_boot : int
        Bootstrap replicates per origin of the backtest made here (default 200, as
        ``lsi backtest``).

    Returns
    -------
    written : dict of str to Path
        Figure name -> file.
    skipped : dict of str to str
        Figure name -> why it was not drawn.
    """
    for name, value in (("n_boot", n_boot), ("backtest_boot", backtest_boot)):
        if not (isinstance(value, int | np.integer) and value >= 0):
            raise ParameterValueError(f"{name} = {value!r}; give a number of replicates >= 0")
    directory = Path(directory)
    fmt = format.lower().lstrip(".")
    written: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    if report is None:
        report = assumption_report(fits, n_boot=int(n_boot), seed=seed, bootstrap=bootstrap, progress=False)
    boot = bootstrap if bootstrap is not None else report.bootstrap
    end = float(fits.series.t[-1]) + 3.0 if until is None else float(until)

    with atomic_folder(directory) as tmp:

        def emit(name: str, fig: Figure) -> None:
            try:
                figures.save(fig, tmp / f"{name}.{fmt}", dpi=dpi)
                written[name] = directory / f"{name}.{fmt}"
            finally:
                plt.close(fig)

        emit("fit", figures.fit(fits, width=width))
        emit("comparison", figures.comparison(fits))
        emit("doubling_times", figures.doubling_times(fits, check=report.data, width=width))
        emit("assumptions", figures.assumptions(report, fits=fits, width=width))
        if backtest is not None:
            emit("backtest", figures.backtest(backtest, width=width))
        else:
            why_not = _backtest(
                fits, emit, n_boot=0 if n_boot == 0 else int(backtest_boot), seed=seed, level=level, width=width
            )
            if why_not:
                skipped["backtest"] = why_not
        ds = figure_forecast(
            fits, end, level=level, seed=seed, bootstrap=boot, calibration=calibration, calibrated=calibrated
        )
        rows = None if reach is None else _reach_rows(fits, reach, level=level, bootstrap=boot)
        emit(
            "forecast",
            figures.forecast(ds, rows, target=reach if rows else None, series=fits.series, width=width),
        )
    skipped["sensitivity"] = (
        "it is a property of the loop model over its priors, not of a series: "
        "lsi.sensitivity.sobol / lsi.sensitivity.tornado, then lsi.figures.sensitivity"
    )
    return written, skipped


def figure_forecast(
    fits: FitCollection,
    end: float,
    *,
    level: float,
    seed: int | None,
    bootstrap: Bootstrap | None,
    calibration: Calibration | None,
    calibrated: bool,
) -> Any:
    """The forecast drawn: calibrated on the series' own past when it can be, else the default
    band with ``calibration_note`` saying why not."""
    kw: dict[str, Any] = {"level": level} if bootstrap is None else {"level": level, "bootstrap": bootstrap}
    if not calibrated:
        return fits.forecast(end, **kw)
    from .calibration import calibrated_forecast, past_coverage

    try:
        cal = calibration if calibration is not None else past_coverage(fits, level=level, seed=seed)
    except SeriesError as exc:
        ds = fits.forecast(end, **kw)
        ds.attrs["calibration_note"] = f"not calibrated: {exc}"
        return ds
    return calibrated_forecast(fits, end, calibration=cal, seed=seed, **kw)


def _reach_rows(fits: FitCollection, reach: float, *, level: float, bootstrap: Bootstrap | None) -> dict[str, Any]:
    """When ``reach`` is reached: by the two model averages and the three best models."""
    found = (
        fits.time_to_reach(reach, ci_level=level)
        if bootstrap is None
        else fits.time_to_reach(reach, ci_level=level, bootstrap=bootstrap)
    )
    top = sorted((r for r in fits.values() if r.converged), key=lambda r: r.aicc)[:3]
    keys = [k for k in ("averaged", "bootstrap_mixture") if k in found] + [r.name for r in top]
    return {k: found[k] for k in keys if k in found}


def _backtest(
    fits: FitCollection, emit: Any, *, n_boot: int, seed: int | None, level: float, width: str | float
) -> str | None:
    """Draw the backtest figure of :func:`save_all`; returns why there is none, else None."""
    if n_boot == 0:
        return "n_boot = 0 (or backtest_boot = 0): the forecasts' bands need bootstrap replicates"
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
