"""Figures of fitted models: the data with each model's curve and residuals (:func:`fit`),
and the model comparison by AICc and Akaike weights (:func:`comparison`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..exceptions import ParameterValueError
from ..series import Series
from . import style
from .axes import auto_yscale, ax_or_fig, figure_of, is_wide, new_figure, time_axis, use_dates, xvals
from .inputs import check_forecast, chosen_results, noise_name
from .labels import fmt_weight, model_label, units_label
from .legend import add_notes, hatch_handle, note_handle, place_legend
from .marks import band_fill, draw_data, reference_lines, row_text

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes

    from ..fitting import FitCollection

__all__ = ["fit", "comparison"]


def fit(
    fits: FitCollection,
    models: str | Sequence[str] | None = None,
    *,
    ax: Axes | None = None,
    fig: Figure | None = None,
    residuals: bool | None = None,
    residual_models: str | Sequence[str] | None = None,
    band: xr.Dataset | None = None,
    yscale: str | None = None,
    dates: bool | None = None,
    ylabel: str | None = None,
    width: str | float = "double",
    height: float | None = None,
) -> Figure:
    """The data with their intervals, each model's fitted curve and a residual panel.

    Parameters
    ----------
    fits : FitCollection
        From :func:`lsi.fit`.
    models : str or list of str, optional
        Models to draw; default every converged model (the legend names the ones
        left out and why).
    ax : Axes, optional
        Draw the data and curves into these axes (no residual panel).
    fig : Figure, optional
        Draw into this (empty) figure instead of a new one.
    residuals : bool, optional
        Add a panel of residuals in the noise model's space (ln units for ``log``
        noise, logits for ``logit``, data units for ``additive``); default yes,
        unless ``ax`` is given.
    residual_models : str or list of str, optional
        Models whose residuals are drawn; default all drawn models, or the three
        with the lowest AICc when the series has more than 60 points (markers only).
    band : xarray.Dataset, optional
        A forecast (``fits.forecast(...)``); the ``curve`` band of each drawn model
        is shaded over the observed time range.
    yscale : {"linear", "log", "logit"}, optional
        Default: logarithmic when the data span two orders of magnitude or more.
    dates : bool, optional
        Dates on the time axis (default when the times are calendar years).
    ylabel : str, optional
        Default: the series' units.
    width : "single", "double" or float
        Figure width: one (3.5 in) or two (7.2 in) journal columns, or inches.
    height : float, optional
        Figure height in inches, not counting the legend (the figure grows by its
        height when the legend goes below the axes).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn (that of ``ax`` when given): the data and curves, above the
        residuals when they are drawn.

    Examples
    --------
    >>> import lsi, lsi.figures
    >>> fits = lsi.fit(lsi.datasets.load("metr_horizons"), warn=False)
    >>> fig = lsi.figures.fit(fits)
    >>> [ax.get_yscale() for ax in fig.axes]
    ['log', 'linear']
    """
    ax_or_fig(ax, fig)
    if residuals is None:
        residuals = ax is None
    elif residuals and ax is not None:
        raise ParameterValueError(
            "the residuals need a panel of their own: pass fig= (a figure to fill) instead of ax=, or residuals=False"
        )
    series: Series = fits.series
    results, left_out = chosen_results(fits, models)
    dates = use_dates(series.t, dates)
    with style.context():
        own = fig is None and ax is None
        axr = None
        if ax is not None:
            fig = figure_of(ax)
        else:
            if fig is None:
                fig = new_figure(width, height, 3.6 if is_wide(width) else 3.2)
            if residuals:
                ax, axr = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
            else:
                ax = fig.subplots()
        data_vals = [series.y] + ([series.lower, series.upper] if series.lower is not None else [])
        scale = auto_yscale(yscale, *data_vals)
        ax.set_yscale(scale)
        draw_data(ax, series, dates)
        t_grid = np.linspace(series.t[0], series.t[-1], 400)
        x_grid = xvals(t_grid, dates)
        dense = len(series) > 60
        shown = (
            []
            if axr is None
            else results
            if residual_models is None and not dense
            else (results[:3] if residual_models is None else chosen_results(fits, residual_models)[0])
        )
        with_marker = {r.name for r in shown}
        handles, labels = [], []
        zorders = style.curve_zorder([r.name for r in results])
        for r in results:
            st = style.model_style(r.name)
            with np.errstate(all="ignore"):
                yhat = np.asarray(r.predict(t_grid), dtype=float)
            if scale == "log":
                yhat = np.where(yhat > 0, yhat, np.nan)
            # the best model on top; patterned lines above solid ones, so none hides another
            (line,) = ax.plot(
                x_grid,
                yhat,
                color=st["color"],
                linestyle=st["linestyle"],
                linewidth=style.curve_width(r.name),
                zorder=zorders[r.name],
                scalex=False,
                scaley=False,
                gid=f"curve:{r.name}",
                alpha=1.0 if r.converged else 0.6,
            )
            # the legend shows the marker of the model's residuals on its line
            handles.append(
                Line2D(
                    [],
                    [],
                    color=st["color"],
                    linestyle=st["linestyle"],
                    linewidth=style.curve_width(r.name),
                    marker=st["marker"],
                    markersize=4.0,
                    markeredgewidth=0,
                )
                if r.name in with_marker
                else line
            )
            labels.append(model_label(r))
        if band is not None:
            check_forecast(band)
            qs = np.sort(np.asarray(band["quantile"].values, dtype=float))
            tb = np.asarray(band["time"].values, dtype=float)
            inside = (tb >= series.t[0]) & (tb <= series.t[-1])
            xb = xvals(tb[inside], dates)
            ax.set_ylim(ax.get_ylim())
            for r in results:
                if r.name not in band["model"].values:
                    continue
                c = band["curve"].sel(model=r.name)
                band_fill(
                    ax,
                    xb,
                    c.sel(quantile=qs[0]).values[inside],
                    c.sel(quantile=qs[-1]).values[inside],
                    style.model_style(r.name)["color"],
                    0.18,
                    gid=f"band:{r.name}",
                )
        data_handle = ax.get_legend_handles_labels()
        handles = [data_handle[0][0]] + handles
        labels = [data_handle[1][0]] + labels
        if band is not None:
            handles.append(Patch(color=style.GREY, alpha=0.3, linewidth=0))
            labels.append(f"{float(band.attrs.get('level', qs[-1] - qs[0])):.0%} band of each curve")
        add_notes(handles, labels, results, left_out)
        ax.set_ylabel(ylabel or units_label(series.units))
        if axr is not None:
            axr.axhline(0.0, color=style.GREY, linewidth=0.6, zorder=1)
            xr_ = xvals(series.t, dates)
            # each model's markers a little to the side of the next (a dodge of at most 1% of the
            # time span in all), so markers of models with equal residuals do not hide each other
            span = float(xr_[-1] - xr_[0]) if len(xr_) > 1 else 0.0
            step = 0.01 * span / max(len(shown) - 1, 1)
            for rank, r in enumerate(shown):
                st = style.model_style(r.name)
                # markers only: residuals are separate points, not a path
                axr.plot(
                    xr_ + (rank - (len(shown) - 1) / 2) * step,
                    r.residuals,
                    color=st["color"],
                    linestyle="none",
                    marker=st["marker"],
                    markersize=2.2 if dense else 3.2,
                    markeredgecolor="white",
                    markeredgewidth=0.3,
                    alpha=0.7 if dense else 0.9,
                    gid=f"residual:{r.name}",
                    zorder=2.9 - 0.01 * rank,
                )
            if len(shown) < len(results):
                axr.text(
                    1.0,
                    1.0,
                    "residuals of " + ", ".join(r.name for r in shown),
                    fontsize=6,
                    color=style.GREY,
                    ha="right",
                    va="bottom",
                    transform=axr.transAxes,
                )
            noise = noise_name(fits)
            axr.set_ylabel(
                {"log": "residual\n(ln units)", "logit": "residual\n(logit)"}.get(
                    noise, "residual\n" + units_label(series.units, width=16)
                )
            )
            time_axis(axr, dates)
            ax.tick_params(labelbottom=False)
        else:
            time_axis(ax, dates)
        # a margin either side, so no point sits on the spine
        x0, x1 = xvals(series.t[0], dates)[0], xvals(series.t[-1], dates)[0]
        pad = 0.02 * (x1 - x0) if x1 > x0 else 1.0
        ax.set_xlim(x0 - pad, x1 + pad)
        place_legend(ax, handles, labels, own, title="model (Akaike weight)")
    return fig


def comparison(
    fits: FitCollection,
    *,
    bootstrap: Any = None,
    fig: Figure | None = None,
    width: str | float = "single",
    height: float | None = None,
) -> Figure:
    """Model comparison: delta AICc and Akaike weights, one row per model (best on top).

    Reference lines at delta AICc = 2 and 10 mark the usual reading (below 2:
    substantial support; above 10: essentially none).  Models that did not
    converge have no bar and say so; non-identifiable ones are marked "n.i." after
    the name.

    Parameters
    ----------
    fits : FitCollection
    bootstrap : lsi.fitting.Bootstrap or mapping of str to float, optional
        Draw the bootstrap selection probabilities (``fits.bootstrap(n)``) beside
        the Akaike weights.
    fig, width, height
        As in :func:`fit`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``fig`` when given): delta AICc beside the Akaike weights.

    Examples
    --------
    >>> import lsi, lsi.figures
    >>> fits = lsi.fit(lsi.datasets.load("imagenet_top1"), warn=False)
    >>> fig = lsi.figures.comparison(fits)
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['$\\\\Delta$AICc', 'Akaike weight']
    """
    results = sorted(fits.values(), key=lambda r: (not r.converged, r.aicc))
    finite = [r.aicc for r in results if r.converged and math.isfinite(r.aicc)]
    best = min(finite) if finite else math.nan
    probs: dict[str, float] | None = None
    if bootstrap is not None:
        probs = (
            dict(bootstrap.selection_probabilities())
            if hasattr(bootstrap, "selection_probabilities")
            else {str(k): float(v) for k, v in dict(bootstrap).items()}
        )
    n = len(results)
    with style.context():
        own = fig is None
        if fig is None:
            row = 0.22 if probs is None else 0.3
            fig = new_figure(width, height, 0.6 + row * n)
        axd, axw = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 0.8]})
        ypos = np.arange(n)[::-1]
        names = []
        for yi, r in zip(ypos, results, strict=True):
            st = style.model_style(r.name)
            d = r.aicc - best if r.converged else math.nan
            names.append((r.model.title or r.name) + ("" if r.identifiable or not r.converged else " (n.i.)"))
            if r.converged and math.isfinite(d):
                axd.barh(yi, d, height=0.62, color=st["color"], gid=f"daicc:{r.name}")
                axw.barh(
                    yi,
                    r.weight,
                    height=0.62 if probs is None else 0.36,
                    color=st["color"],
                    gid=f"weight:{r.name}",
                    align="center" if probs is None else "edge",
                )
                axw.text(
                    max(r.weight, 0) + 0.02,
                    yi + (0 if probs is None else 0.18),
                    fmt_weight(r.weight),
                    va="center",
                    ha="left",
                    fontsize=6.5,
                )
            else:
                axd.barh(yi, 0, height=0.62)
                row_text(
                    axd,
                    0.02,
                    yi,
                    "did not converge",
                    ha="left",
                    va="center",
                    fontsize=6.5,
                    color=style.GREY,
                    gid=f"not-converged:{r.name}",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
                )
            if probs is not None:
                pb = probs.get(r.name, math.nan)
                if math.isfinite(pb):
                    axw.barh(
                        yi,
                        pb,
                        height=-0.36,
                        align="edge",
                        facecolor="white",
                        edgecolor=st["color"],
                        hatch="/////",
                        linewidth=0.6,
                        gid=f"bootstrap:{r.name}",
                    )
                    axw.text(pb + 0.02, yi - 0.18, fmt_weight(pb), va="center", ha="left", fontsize=6.5)
        reference = reference_lines(axd, (2.0, 10.0), gid="reference")
        axd.set_yticks(ypos, names)
        axd.set_xlabel(r"$\Delta$AICc")
        axd.set_ylim(-0.6, n - 0.4)
        dmax = max(
            (r.aicc - best for r in results if r.converged and math.isfinite(r.aicc - best)),
            default=10.0,
        )
        axd.set_xlim(0, max(dmax, 12.0) * 1.05)
        axw.set_xlim(0, 1.4)
        axw.set_xticks([0, 0.5, 1.0])
        axw.set_xlabel("weight")
        axw.tick_params(left=False)
        handles: list[Any] = [reference]
        labels = [r"$\Delta$AICc = 2, 10"]
        if probs is not None:
            handles += [
                Patch(facecolor=style.GREY),
                hatch_handle(style.GREY),
            ]
            labels += ["Akaike weight", "bootstrap: P(lowest AICc)"]
        if any(r.converged and not r.identifiable for r in results):
            handles.append(note_handle())
            labels.append("n.i.: parameters not identifiable")
        place_legend(axw, handles, labels, own, ncol=1 if probs is None and own else None)
    return fig
