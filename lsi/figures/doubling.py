"""The doubling-times figure: each model's doubling time along the history beside the
model-free local fits of :func:`lsi.assessment.data_check` (:func:`doubling_times`)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..exceptions import LsiWarning, ParameterValueError
from ..intervals import Interval
from ..observation import default_noise
from ..series import Series
from . import style
from .axes import DAYS, freeze_ylim, is_wide, own_axes, plain_log_ticks, time_axis, use_dates, xvals
from .inputs import chosen_results, is_collection, noise_name
from .labels import model_label
from .legend import add_notes, hatch_handle, marker_handle, note_handle, place_legend
from .marks import band_fill, edge_arrow, interval_arrays

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..fitting import FitCollection

__all__ = ["doubling_times"]

#: more windows than this are drawn as a band through their centres rather than one bar each
DENSE_WINDOWS = 20


def span_handle() -> Line2D:
    """The legend's mark of a window's span: the grey bar drawn across it."""
    return Line2D([], [], color=style.GREY, linewidth=0.8)


def _local_doubling(
    fits: FitCollection | None,
    series: Series,
    noise: str,
    window: int | None,
    level: float,
    check: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], int | None, str | None]:
    """The model-agnostic doubling times of :func:`lsi.assessment.data_check` (years), every
    window of it (the windows the report's text lists); returns them, the window and why
    there are none.  ``check`` is a result of ``data_check`` already made (an assumption
    report's ``.data``), drawn as it is."""
    from ..assessment import data_check
    from ..fitting import fit as _fit

    if check is None:
        n = len(series)
        if window is None and n < 4:
            return [], None, f"too few points ({n}) for a local fit"
        if fits is None or noise_name(fits) != noise:
            # data_check reads the noise model (and the extra scatter) off an exponential fit
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LsiWarning)
                fits = _fit(series, "exponential", noise=noise, level=level, warn=False)
        check = data_check(fits, window=window, level=level)
    if not check.get("available", True) or "doubling_times" not in check:
        return [], None, str(check.get("reason", "no local fits"))
    return list(check["doubling_times"]), int(check["window"]), None


def doubling_times(
    fits_or_series: FitCollection | Series,
    models: str | Sequence[str] | None = None,
    *,
    local: bool = True,
    check: Mapping[str, Any] | Any = None,
    window: int | None = None,
    noise: str | None = None,
    level: float = 0.95,
    n: int = 150,
    ax: Axes | None = None,
    dates: bool | None = None,
    width: str | float = "double",
    height: float | None = None,
) -> Figure:
    """Doubling times (days) along the history, with intervals.

    Two readings side by side: each model's doubling time ``ln 2 / (d ln C/dt)`` at
    every date (a line with its band), and, independently of any model, the local
    doubling times of :func:`lsi.assessment.data_check` (log-linear fits to sliding
    windows of the data, the numbers of the assumption report), drawn as points with
    the window's span as a horizontal grey bar; every window the report lists is drawn
    (more than 20: their intervals as one band, the spans of the first and last only).
    Shrinking doubling times are what self-amplification predicts; constant ones,
    exponential growth; growing ones, a brake or a ceiling.  An interval whose upper end is unbounded (the rate's
    interval reaches zero) runs to the top edge as an arrow or hatched band.

    Parameters
    ----------
    fits_or_series : FitCollection or Series
        With a Series only the local fits are drawn.
    models : str or list of str, optional
        Default: the three converged models with the lowest AICc.
    local : bool
        Draw the sliding-window fits.
    check : dict or AssumptionReport, optional
        The sliding-window fits already made: the dict of :func:`lsi.assessment.data_check`,
        or an assumption report (its ``.data``), so the figure draws the very windows the
        report lists; default: ``data_check`` is run here (with ``window``, ``noise`` and
        ``level``).
    window : int, optional
        Points per window (default that of :func:`lsi.assessment.data_check`,
        ``max(4, n // 3)``); every window is drawn, as the report lists them.
    noise : str, optional
        Noise model of the local fits (default: that of ``fits``, else the series');
        it gives the capability whose logarithm is fitted (the odds for ``logit``) and
        the weights of the points.
    level : float
        Interval level of the local fits (the models' intervals are at their own level).
    n : int
        Dates at which each model's doubling time is evaluated.
    ax : Axes, optional
    dates, width, height
        As in :func:`~lsi.figures.fit`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of ``ax``, or a new one.
    """
    if is_collection(fits_or_series):
        fits = fits_or_series
        series = fits.series
        results, left_out = chosen_results(fits, models, default_top=3)
        noise = noise or noise_name(fits)
    elif isinstance(fits_or_series, Series):
        fits, series, results, left_out = None, fits_or_series, [], []
        if models is not None:
            raise ParameterValueError("models= needs a FitCollection; a Series gives only the local fits")
        if not local:
            raise ParameterValueError("local=False with a Series leaves nothing to draw; pass fits or local=True")
    else:
        raise ParameterValueError(
            f"doubling_times needs a FitCollection (lsi.fit) or an lsi.Series; got {type(fits_or_series).__name__}"
        )
    if noise is None:
        noise = default_noise(series).name
    if n < 2:
        raise ParameterValueError(f"n = {n}; evaluate the models at 2 dates or more")
    dates = use_dates(series.t, dates)
    t_grid = np.linspace(series.t[0], series.t[-1], int(n))
    x_grid = xvals(t_grid, dates)
    with style.context():
        fig, ax, own = own_axes(ax, width, height, 3.0 if is_wide(width) else 2.5)
        ax.set_yscale("log")
        handles: list[Any] = []
        labels: list[str] = []
        drawn = []  # (x, v, lo, hi, unbounded, no_int, color)
        finite_vals: list[np.ndarray] = []
        for rank, r in enumerate(results):
            st = style.model_style(r.name)
            v, lo, hi, unb, noint = interval_arrays([r.doubling_time(t) for t in t_grid], DAYS)
            (line,) = ax.plot(
                x_grid,
                v,
                color=st["color"],
                linestyle=st["linestyle"],
                gid=f"curve:{r.name}",
                zorder=3.9 - 0.01 * rank,
            )
            lab = model_label(r)
            if not np.isfinite(lo).any():
                lab += ", no interval"
            handles.append(line)
            labels.append(lab)
            drawn.append((x_grid, v, lo, hi, st["color"], r.name))
            finite_vals += [v, lo, hi]
        if check is not None and not isinstance(check, Mapping):
            check = getattr(check, "data", None)
            if not isinstance(check, Mapping):
                raise ParameterValueError(
                    "check= takes the dict of lsi.assessment.data_check or an AssumptionReport (lsi.assumptions)"
                )
        if check is not None:
            level = float(check.get("level", level))
        loc, w, why_none = _local_doubling(fits, series, noise, window, level, check) if local else ([], None, None)
        lv, llo, lhi, lunb, lnoint = interval_arrays(
            [Interval(d["value"], d["lower"], d["upper"], level) for d in loc], DAYS
        )
        finite_vals += [lv, llo, lhi]
        freeze_ylim(ax, finite_vals, log=True, pad=0.12)
        hatched = arrowed = False
        for x, _v, lo, hi, color, name in drawn:
            hatched |= band_fill(ax, x, lo, hi, color, 0.18, gid=f"band:{name}")
        if loc:
            xm = xvals([d["t"] for d in loc], dates)
            x1 = xvals([d["t_start"] for d in loc], dates)
            x2 = xvals([d["t_end"] for d in loc], dates)
            has = np.isfinite(lv)
            dense = len(loc) > DENSE_WINDOWS
            if dense:
                # many windows sliding a point at a time: their intervals as one band through the
                # windows' centres (hatched to the edge where unbounded), the spans of the first
                # and last windows only (every window fits the same number of points)
                hatched |= band_fill(ax, xm, llo, lhi, style.GREY, 0.3, gid="local-interval", zorder=4)
                ends = np.flatnonzero(has)[[0, -1]] if has.any() else np.array([], dtype=int)
                ax.hlines(lv[ends], x1[ends], x2[ends], colors=style.GREY, linewidth=0.8, zorder=4, gid="local-window")
            else:
                bounded = has & np.isfinite(llo) & np.isfinite(lhi)
                yerr = np.vstack([lv - llo, lhi - lv])
                ax.errorbar(
                    xm[bounded],
                    lv[bounded],
                    yerr=yerr[:, bounded],
                    fmt="none",
                    ecolor=style.DATA_COLOUR,
                    elinewidth=0.8,
                    zorder=5,
                    gid="local-interval",
                )
                ax.hlines(
                    lv[has],
                    x1[has],
                    x2[has],
                    colors=style.GREY,
                    linewidth=0.8,
                    zorder=4,
                    gid="local-window",
                )
                for i in np.flatnonzero(lunb):
                    ax.plot(
                        [xm[i], xm[i]],
                        [llo[i], lv[i]],
                        color=style.DATA_COLOUR,
                        linewidth=0.8,
                        zorder=5,
                    )
                    edge_arrow(ax, float(xm[i]), float(lv[i]), style.DATA_COLOUR)
                    arrowed = True
            (pts,) = ax.plot(
                xm[has],
                lv[has],
                "o",
                color=style.DATA_COLOUR,
                markersize=2.0 if dense else 3.5,
                zorder=6,
                gid="local",
                linestyle="none",
            )
            none = ~has
            if none.any():  # the rate is not positive: no doubling at all in that window
                ax.plot(
                    xm[none],
                    np.full(int(none.sum()), 0.97),
                    marker="^",
                    markerfacecolor="white",
                    markeredgecolor=style.DATA_COLOUR,
                    linestyle="none",
                    transform=ax.get_xaxis_transform(),
                    gid="local-no-growth",
                    clip_on=False,
                )
                handles.append(marker_handle("^", style.DATA_COLOUR))
                labels.append("local fit: not growing (no doubling)")
            what = f"log-linear fits on windows of {w} points, all {len(loc)}"
            if dense:
                handles[:0] = [pts, Patch(color=style.GREY, alpha=0.3, linewidth=0), span_handle()]
                labels[:0] = [
                    what,
                    f"their {level:.0%} intervals",
                    "span of the first and last windows (the points each fits)",
                ]
            else:
                # an empty errorbar: the legend draws it as the point with its vertical interval
                mark = ax.errorbar([], [], yerr=[], fmt="o", color=style.DATA_COLOUR, elinewidth=0.8, markersize=3.5)
                handles[:0] = [mark, span_handle()]
                labels[:0] = [f"{what} ({level:.0%} interval)", "a window's span (the points it fits)"]
        elif local and why_none:
            handles.insert(0, note_handle())
            labels.insert(0, f"no local fits: {why_none}")
        if hatched:
            handles.append(hatch_handle(style.GREY, "////", 0.5))
            labels.append("band unbounded above (hatched to the edge)")
        if arrowed:
            handles.append(Line2D([], [], color=style.DATA_COLOUR, linewidth=0.8, marker="^", markersize=3.5))
            labels.append("interval unbounded above (arrow to the edge)")
        add_notes(handles, labels, results, left_out)
        odds = noise == "logit"
        ax.set_ylabel("doubling time of the odds (days)" if odds else "doubling time (days)")
        x0, x1 = xvals(series.t[0], dates)[0], xvals(series.t[-1], dates)[0]
        ax.set_xlim(x0 - 0.02 * (x1 - x0), x1 + 0.02 * (x1 - x0))
        time_axis(ax, dates)
        plain_log_ticks(ax.yaxis)
        ax.grid(True, which="major", axis="y")
        place_legend(ax, handles, labels, own, title="model (Akaike weight)" if results else None)
    return fig
