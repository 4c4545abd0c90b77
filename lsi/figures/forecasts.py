"""Figures of forecasts: the fan chart with the dates a level is reached (:func:`forecast`)
and the backtest scores against the naive baseline (:func:`backtest`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..exceptions import ParameterValueError, UnknownModelError
from ..series import Series
from . import style
from .axes import (
    auto_yscale,
    ax_or_fig,
    figure_of,
    freeze_ylim,
    is_wide,
    new_figure,
    time_axis,
    use_dates,
    xvals,
)
from .inputs import check_forecast
from .labels import model_title, units_label
from .legend import hatch_handle, note_handle, place_legend
from .marks import band_fill, draw_data, edge_arrow, edge_marks, median_tick, reference_lines, row_text

#: the forecasts that mix models (named by what they are, not by a model's title)
MIXTURES = ("averaged", "bootstrap_mixture", "stacked")

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes


__all__ = ["forecast", "backtest"]


def _reach_rows(
    reach: Mapping[str, Any],
) -> list[tuple[str, float | None, float | None, float | None]]:
    rows: list[tuple[str, float | None, float | None, float | None]] = []
    for name, rec in reach.items():
        if rec is None:
            rows.append((str(name), None, None, None))
            continue
        if hasattr(rec, "value") and hasattr(rec, "lower"):
            v, lo, hi = rec.value, rec.lower, rec.upper
        else:
            try:
                v, lo, hi = rec["value"], rec.get("lower"), rec.get("upper")
            except (TypeError, KeyError, AttributeError):
                raise ParameterValueError(
                    f"reach[{name!r}] = {rec!r}; give {{'value', 'lower', 'upper'}} (None for unbounded) or None"
                ) from None

        def num(x: Any) -> float | None:
            return None if x is None or not math.isfinite(float(x)) else float(x)

        rows.append((str(name), num(v), num(lo), num(hi)))
    return rows


def sensible_ylim(
    anchor: Sequence[np.ndarray], values: Sequence[np.ndarray], keep: Sequence[float], log: bool
) -> tuple[list[np.ndarray], bool]:
    """The values that set the y axis: ``values`` cut to a range around the ``anchor`` (the
    data, else the median over the observed times), and ``keep`` (a target, the data's
    intervals) always.

    The range reaches one span of the anchor (at least a decade on a log axis) beyond it
    either way, so the data keep at least a third of the height however far a band runs (a
    band that grows without bound as a fitted singularity nears would otherwise take the
    axis to 1e11 and squeeze the data into a sliver).  Returns the values to fit the axis
    to, and whether any finite value was cut.
    """
    a = np.concatenate([np.asarray(x, dtype=float).ravel() for x in anchor]) if anchor else np.array([])
    a = a[np.isfinite(a) & (a > 0)] if log else a[np.isfinite(a)]
    if a.size == 0:
        return [*values, np.asarray(keep, dtype=float)], False
    if log:
        lo, hi = np.log10(a.min()), np.log10(a.max())
        span = max(hi - lo, 1.0)
        bounds = (10 ** (lo - span), 10 ** (hi + span))
    else:
        lo, hi = float(a.min()), float(a.max())
        span = hi - lo if hi > lo else max(abs(hi), 1.0)
        bounds = (lo - span, hi + span)
    out, cut = [a], False
    for v in values:
        v = np.asarray(v, dtype=float).ravel()
        fin = np.isfinite(v)
        inside = fin & (v >= bounds[0]) & (v <= bounds[1])
        cut |= bool((fin & ~inside).any())
        out.append(np.clip(v[fin], *bounds))
    out.append(np.asarray(keep, dtype=float))
    return out, cut


def _band_words(ds: xr.Dataset, band: str, level: float) -> tuple[str, str | None]:
    """The legend's name of the prediction band, and a note on its calibration (None: none).

    A forecast of :func:`lsi.calibration.calibrated_forecast` (it has ``prediction_default``)
    is named calibrated when its band was calibrated; a plain forecast says it is not when
    its ``calibration_note`` says why.
    """
    pct = f"{level:.0%}"
    note = ds.attrs.get("calibration_note")
    if "prediction_default" in ds.data_vars and "kappa" in ds.data_vars:
        kappa = float(ds["kappa"].sel(model=band))
        if math.isfinite(kappa):
            past = ds["past_coverage"].sel(model=band) if "past_coverage" in ds.data_vars else None
            cov = float(past) if past is not None else math.nan
            widened = "" if kappa > 0 else " (not widened: its past coverage is within sampling error)"
            name = f"{pct} band for new observations, calibrated on the series' own backtest{widened}"
            tail = None
            if math.isfinite(cov):
                tail = f"before calibration, past {pct} bands covered {cov:.2f} of later observations"
                out = float(ds.attrs.get("calibrated_coverage", math.nan))
                if kappa > 0 and math.isfinite(out):
                    pairs = ds.attrs.get("calibrated_pairs")
                    tail += f"; calibrated, {out:.2f}" + (f" of {pairs}" if pairs else "") + " out of sample"
            from ..calibration import stacking_of, weights_words

            weights = stacking_of(ds)
            if band == "stacked" and weights:
                words = ", ".join(weights_words(weights))
                stack = f"stacked: models and a naive local trend weighted by their past forecasts ({words}, ...)"
                tail = stack if tail is None else stack + "\n" + tail
            return name, tail
        return f"{pct} band for new observations, not calibrated", (
            str(note) if note else "too few past forecasts to calibrate on"
        )
    if note:
        return f"{pct} band for new observations, not calibrated", str(note)
    return f"{pct} band for new observations", None


def _number(x: float) -> str:
    """A number as a reader reads it: ``3000``, ``2.5``, or ``$9.1\\times10^{6}$`` when large or small."""
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        m, e = f"{x:.1e}".split("e")
        return f"${m}\\times10^{{{int(e)}}}$"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _unbounded_from(ds: xr.Dataset, band: str, t: np.ndarray, upper: Sequence[np.ndarray]) -> float | None:
    """The first date from which the band is unbounded above (a fitted singularity passed)."""
    if "unbounded_from" in ds.data_vars:
        u = float(ds["unbounded_from"].sel(model=band))
        if math.isfinite(u):
            return u
    first = [float(t[np.flatnonzero(np.isposinf(h))[0]]) for h in upper if np.isposinf(h).any()]
    return min(first) if first else None


def forecast(
    ds: xr.Dataset,
    reach: Mapping[str, Any] | None = None,
    *,
    target: float | None = None,
    series: Series | None = None,
    band: str | None = None,
    models: Sequence[str] = (),
    mixture: bool | None = None,
    ax: Axes | None = None,
    fig: Figure | None = None,
    yscale: str | None = None,
    dates: bool | None = None,
    ylabel: str | None = None,
    width: str | float = "double",
    height: float | None = None,
) -> Figure:
    """Fan chart of a forecast with its default band and time-to-level markers.

    The ``band`` model (default the forecast's own default band, its ``band`` attribute:
    the stacked forecast of :func:`lsi.calibration.calibrated_forecast`, else the
    Akaike-weighted average) is drawn with its
    prediction band (new observations; light) and curve band (darker) and its median;
    the bootstrap mixture's prediction band is outlined when present.  Where a band
    has no finite upper end (a model passed its singularity) it is hatched to the top
    edge with an arrow.  With ``reach``, a lower panel shows for each model when the
    ``target`` level is reached, with its interval; an unbounded upper end is an arrow
    to the right edge, and "never reached" is written out.

    Parameters
    ----------
    ds : xarray.Dataset
        ``fits.forecast(until, level)``: variables ``prediction`` and ``curve`` over
        ``model`` x ``time`` x ``quantile`` (lower, median, upper), data units.
    reach : mapping, optional
        Model name -> ``{"value", "lower", "upper"}`` (decimal years; None bounds are
        unbounded) or None (never reached).
    target : float, optional
        The level of ``reach``, drawn as a horizontal line (data units).
    series : Series, optional
        The observations, drawn as points with their intervals.
    band : str
        Model whose bands are drawn (default: ``ds.attrs["band"]``, else ``"averaged"``).
    models : list of str
        Other models whose medians are drawn as lines.
    mixture : bool, optional
        Outline the ``bootstrap_mixture`` prediction band when present (default: when the
        band drawn is the Akaike-weighted average, the other uncalibrated average; the
        stacked band is calibrated, and an uncalibrated outline beside it would mislead).
    ax : Axes, optional
        Draw the fan chart into these axes (without ``reach``, which needs a panel
        of its own: pass ``fig`` then).
    fig, yscale, dates, ylabel, width, height
        As in :func:`~lsi.figures.fit`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn (that of ``ax`` when given): the fan chart, above the dates
        ``target`` is reached when ``reach`` is given.
    """
    ax_or_fig(ax, fig)
    if ax is not None and reach is not None:
        raise ParameterValueError("reach= adds a panel of its own: pass fig= (a figure to fill) instead of ax=")
    check_forecast(ds)
    model_names = [str(m) for m in ds["model"].values]
    if band is None:
        band = str(ds.attrs.get("band", "averaged"))
    if band not in model_names:
        raise UnknownModelError(f"band = {band!r} is not a model of this forecast; models: {', '.join(model_names)}")
    for m in models:
        if m not in model_names:
            raise UnknownModelError(f"no forecast for model {m!r}; models: {', '.join(model_names)}")
    if reach is not None and target is None:
        raise ParameterValueError("reach= needs target= (the level being reached, in data units)")
    rows = _reach_rows(reach) if reach is not None else []
    t = np.asarray(ds["time"].values, dtype=float)
    qs = np.sort(np.asarray(ds["quantile"].values, dtype=float))
    q_lo, q_hi = qs[0], qs[-1]
    q_mid = qs[np.argmin(np.abs(qs - 0.5))]
    level = float(ds.attrs.get("level", q_hi - q_lo))
    units = str(ds.attrs.get("units", series.units if series is not None else ""))
    times_all = [t] + ([series.t] if series is not None else [])
    # the x range: the forecast, the data, and reach values (capped at half the span again)
    t_min = float(min(np.nanmin(x) for x in times_all))
    t_max = float(max(np.nanmax(x) for x in times_all))
    cap = t_max + 0.5 * (t_max - t_min)
    reach_pts = [v for _, v, lo, hi in rows for v in (v, lo, hi) if v is not None]
    x_right = min(max([t_max] + reach_pts), cap)
    dates = use_dates(np.array([t_min, x_right]), dates)

    def sel(var: str, model: str, q: float) -> np.ndarray:
        return np.asarray(ds[var].sel(model=model, quantile=q).values, dtype=float)

    with style.context():
        own = fig is None and ax is None
        if ax is not None:
            fig = figure_of(ax)
        elif fig is None:
            main_h = 3.2 if is_wide(width) else 2.6
            fig = new_figure(width, height, main_h + (0.45 + 0.17 * len(rows) if rows else 0.0))
        if ax is not None:
            axr = None
        elif rows:
            strip = 0.17 * len(rows) + 0.1
            ax, axr = fig.subplots(
                2,
                1,
                sharex=True,
                gridspec_kw={"height_ratios": [fig.get_figheight() - strip - 0.35, strip]},
            )
        else:
            ax, axr = fig.subplots(), None
        x = xvals(t, dates)
        pl, ph = sel("prediction", band, q_lo), sel("prediction", band, q_hi)
        cl, ch = sel("curve", band, q_lo), sel("curve", band, q_hi)
        med = sel("curve", band, q_mid)
        vals = [pl, ph, cl, ch, med]
        if series is not None:
            # a Series holds both interval bounds or neither
            vals += [series.y] + (
                [series.lower, series.upper] if series.lower is not None and series.upper is not None else []
            )
        if target is not None:
            vals.append(np.array([target]))
        scale = auto_yscale(yscale, *vals)
        ax.set_yscale(scale)
        keep = [] if target is None else [target]
        if series is not None:
            anchor = [series.y]
            if series.lower is not None and series.upper is not None:
                keep += [*series.lower, *series.upper]  # the data's intervals are never cut
        else:
            t_obs = float(ds.attrs.get("last_observation", t[-1]))
            anchor = [med[t <= t_obs]] if np.any(t <= t_obs) else [med]
        shown, cut = sensible_ylim(anchor, vals, keep, log=scale == "log")
        freeze_ylim(ax, shown, log=scale == "log")
        colour = style.model_style(band)["color"]
        handles: list[Any] = []
        labels: list[str] = []
        unb = band_fill(ax, x, pl, ph, colour, 0.12, gid=f"prediction:{band}", zorder=1)
        unb |= band_fill(ax, x, cl, ch, colour, 0.28, gid=f"band:{band}", zorder=2)
        (mline,) = ax.plot(x, med, color=colour, linewidth=1.3, gid=f"curve:{band}", zorder=3)
        title = model_title(band)
        handles += [
            mline,
            Patch(color=colour, alpha=0.28, linewidth=0),
            Patch(color=colour, alpha=0.12, linewidth=0),
        ]
        band_name, band_note = _band_words(ds, band, level)
        labels += [
            f"{title}: median",
            f"{level:.0%} band of the curve",
            band_name,
        ]
        if mixture is None:
            mixture = band == "averaged"
        if mixture and "bootstrap_mixture" in model_names and band != "bootstrap_mixture":
            st = style.model_style("bootstrap_mixture")
            for q in (q_lo, q_hi):
                yv = sel("prediction", "bootstrap_mixture", q)
                (ml,) = ax.plot(
                    x,
                    yv,
                    color=st["color"],
                    linestyle=st["linestyle"],
                    linewidth=0.8,
                    gid="mixture",
                    scaley=False,
                    zorder=3,
                )
            handles.append(ml)
            labels.append(f"bootstrap mixture: {level:.0%} band for new observations")
        for m in models:
            st = style.model_style(m)
            (ln,) = ax.plot(
                x,
                sel("curve", m, q_mid),
                color=st["color"],
                linestyle=st["linestyle"],
                linewidth=0.9,
                gid=f"curve:{m}",
                scaley=False,
                zorder=3,
            )
            handles.append(ln)
            labels.append(f"{model_title(m)}: median")
        if series is not None:
            cont = draw_data(ax, series, dates)
            handles.insert(0, cont)
            labels.insert(0, cont.get_label())
            handles.append(reference_lines(ax, xvals(series.t[-1], dates), gid="last-observation"))
            labels.append("last observation")
        if target is not None:
            ax.axhline(
                target,
                color=style.DATA_COLOUR,
                linewidth=0.6,
                linestyle=(0, (1, 1.5)),
                gid="target",
            )
            handles.append(Line2D([], [], color=style.DATA_COLOUR, linewidth=0.6, linestyle=(0, (1, 1.5))))
            labels.append(f"target: {target:g} {units}".strip())
        if unb:
            handles.append(hatch_handle(colour, "////", 0.5))
            labels.append("band unbounded above (after a singularity)")
            t_unb = _unbounded_from(ds, band, t, [ph, ch])
            if t_unb is not None:
                xu = xvals(t_unb, dates)[0]
                ax.axvline(xu, color=colour, linewidth=0.6, linestyle=(0, (1, 1.5)), zorder=2.5, gid="unbounded-from")
                ax.annotate(
                    f"unbounded above\nfrom {t_unb:.1f}",
                    xy=(xu, 0.97),
                    xycoords=ax.get_xaxis_transform(),
                    xytext=(-3, 0),
                    textcoords="offset points",
                    ha="right",
                    va="top",
                    fontsize=6.5,
                    color=colour,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85},
                    zorder=6,
                    gid="unbounded-from-label",
                )
        if cut:
            top = ax.get_ylim()[1]
            handles.append(note_handle())
            labels.append(f"axis cut at {_number(top)} {units}: the bands run on past it".replace("  ", " "))
        for note in band_note.split("\n") if band_note else ():
            handles.append(note_handle())
            labels.append(note)
        ax.set_ylabel(ylabel or units_label(units))
        x0 = xvals(t_min, dates)[0]
        x1 = xvals(x_right, dates)[0]
        # a margin either side, so the first point is not cut in half by the spine
        ax.set_xlim(x0 - 0.02 * (x1 - x0), x1 + 0.02 * (x1 - x0))
        if axr is not None:
            _draw_reach(
                axr,
                rows,
                dates,
                x1 + 0.02 * (x1 - x0),
                f"date it reaches {target:g} {units}".strip(),
                short=not is_wide(width) if own else fig.get_figwidth() < 5,
            )
            time_axis(axr, dates)
            ax.tick_params(labelbottom=False)
            axr.set_xlim(ax.get_xlim())
        else:
            time_axis(ax, dates)
        place_legend(ax, handles, labels, own)
    return fig


def _draw_reach(
    ax: Axes,
    rows: list[tuple[str, float | None, float | None, float | None]],
    dates: bool,
    x_edge: float,
    title: str,
    short: bool = False,
) -> None:
    """One row per model: the date ``target`` is reached, its interval, "never reached";
    ``short`` labels rows by model name rather than title (narrow figures)."""
    n = len(rows)
    ys = np.arange(n)[::-1]
    for y, (name, v, lo, hi) in zip(ys, rows, strict=True):
        st = style.model_style(name)
        c = st["color"]
        if v is None:
            row_text(
                ax,
                0.01,
                y,
                "never reached",
                ha="left",
                va="center",
                fontsize=6.5,
                color=style.GREY,
                gid=f"never:{name}",
            )
            continue
        xv = xvals(v, dates)[0] if v is not None else math.nan
        beyond = not math.isfinite(xv) or xv > x_edge
        if lo is not None:
            xlo = xvals(lo, dates)[0]
            if hi is not None and xvals(hi, dates)[0] <= x_edge:
                ax.plot(
                    [xlo, xvals(hi, dates)[0]],
                    [y, y],
                    color=c,
                    linewidth=1.2,
                    gid=f"reach:{name}",
                    solid_capstyle="butt",
                )
            else:
                edge_arrow(ax, xlo, y, c, to="right")
                if hi is not None:
                    row_text(ax, 1.0, y + 0.3, f"{hi:.1f}", ha="right", va="bottom", fontsize=6, color=c)
        if beyond:
            row_text(
                ax, 1.0, y, f"{v:.1f} ", ha="right", va="center", fontsize=6.5, color=c, gid=f"reach-beyond:{name}"
            )
        else:
            ax.plot(
                [xv],
                [y],
                marker="o",
                color=c,
                markersize=3.5,
                linestyle="none",
                gid=f"reach-value:{name}",
            )
        if lo is None and hi is None:
            ax.text(xv, y + 0.3, "no interval", ha="center", va="bottom", fontsize=6, color=style.GREY)
    ax.set_yticks(
        ys,
        [model_title(r[0]) if not short or r[0] in MIXTURES else r[0] for r in rows],
    )
    ax.set_ylim(-0.7, n - 0.3)
    ax.tick_params(axis="y", length=0)
    ax.set_title(title, loc="left", fontsize=7, pad=3)


_NOISE_UNITS = {"log": "ln units", "logit": "logit units", "additive": "data units"}


_BT_COLUMNS = ("origin", "model", "covered", "interval_score", "crps", "error")


def _bt_label(name: str) -> str:
    if name == "naive":
        return "naive: last local trend"
    return model_title(name)


def _origin_dots(ax: Axes, x: np.ndarray, y: float, color: str, *, gid: str) -> None:
    """One dot per forecast origin along row ``y``."""
    ax.plot(
        x,
        np.full(len(x), y),
        "o",
        color=color,
        markersize=2.6,
        markeredgewidth=0,
        linestyle="none",
        zorder=3,
        gid=gid,
    )


def backtest(
    bt: Any,
    *,
    score: str = "crps",
    models: Sequence[str] | None = None,
    fig: Figure | None = None,
    width: str | float = "double",
    height: float | None = None,
) -> Figure:
    """Backtest scores per model across forecast origins, with the naive baseline.

    One row per forecast (the models, the two model averages and the naive
    last-local-trend baseline, whose row is shaded), best on top, in three panels:

    - **score** (``crps`` or ``interval_score``, noise space, lower is better): a bar
      to the mean over every scored point (the ranking of :meth:`Backtest.summary`),
      a tick at the median, and a dot per origin (the mean of that origin's points);
      a dotted line at the baseline's mean carries it across the rows;
    - **coverage**: the share of later observations inside the ``level`` band (bar)
      and per origin (dots), against the nominal level (dashed);
    - **error of the median** (median forecast minus observation, noise space): the
      mean error (bar from zero, the bias) and per origin (dots).

    Values past the axes (an infinite score after a forecast singularity, or an
    absurd one) are triangles on the edge, never dropped; the legend says which.
    A forecast scored at fewer origins than the others shows ``(k/N)`` after its name.

    Parameters
    ----------
    bt : lsi.backtest.Backtest
        From :func:`lsi.backtest.backtest`.
    score : {"crps", "interval_score"}
    models : list of str, optional
        Forecasts to show (default all, in the order of the mean score).
    fig, width, height
        As in :func:`~lsi.figures.fit`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``fig`` when given): score, coverage and error of the median.
    """
    import pandas as pd

    df = getattr(bt, "scores", None)
    if not isinstance(df, pd.DataFrame) or not hasattr(bt, "level"):
        raise ParameterValueError(f"backtest needs the result of lsi.backtest.backtest(...); got {type(bt).__name__}")
    if score not in ("crps", "interval_score"):
        raise ParameterValueError(f"score = {score!r}; use 'crps' or 'interval_score'")
    if df.empty:
        raise ParameterValueError("the backtest scored no forecast (see its skipped list)")
    missing = [c for c in _BT_COLUMNS if c not in df.columns]
    if missing:
        raise ParameterValueError(f"the backtest's scores lack columns {missing}")
    level = float(bt.level)
    noise = str(getattr(bt, "noise", ""))
    units = _NOISE_UNITS.get(noise, "noise space")
    n_orig = int(df["origin"].nunique())
    g = df.groupby("model", sort=False)
    with np.errstate(invalid="ignore"):
        summ = pd.DataFrame(
            {
                "mean": g[score].mean(),
                "median": g[score].median(),
                "coverage": g["covered"].mean(),
                "bias": g["error"].mean(),
                "origins": g["origin"].nunique(),
            }
        )
        per = df.groupby(["model", "origin"], sort=False).agg(
            s=(score, "mean"), cov=("covered", "mean"), err=("error", "mean")
        )
    order = list(summ.sort_values(["mean", "median"], kind="stable").index.astype(str))
    if models is not None:
        for m in models:
            if m not in order:
                raise UnknownModelError(f"no backtest scores of {m!r}; scored: {', '.join(order)}")
        order = [m for m in order if m in set(models)]
    n = len(order)
    ypos = {m: float(n - 1 - i) for i, m in enumerate(order)}

    # score axis: log when the finite values span a decade or more; capped so a few absurd
    # values do not squeeze the rest (those go to the edge)
    finite = np.concatenate(
        [
            summ.loc[order, ["mean", "median"]].to_numpy(float).ravel(),
            per.loc[order, "s"].to_numpy(float) if len(per) else np.array([]),
        ]
    )
    finite = finite[np.isfinite(finite) & (finite > 0)]
    ref = float(summ.loc["naive", "median"]) if "naive" in summ.index else math.nan
    if not (math.isfinite(ref) and ref > 0):
        meds = summ.loc[order, "median"].to_numpy(float)
        meds = meds[np.isfinite(meds) & (meds > 0)]
        ref = float(np.median(meds)) if meds.size else 1.0
    if finite.size:
        s_hi = min(float(finite.max()), 30.0 * ref) * 1.3
        s_lo = float(finite[finite <= s_hi].min()) / 1.4
    else:
        s_lo, s_hi = 0.1 * ref, 10.0 * ref
    s_log = s_hi / s_lo >= 10
    if not s_log:
        s_lo = 0.0
    errs = np.concatenate([summ.loc[order, "bias"].to_numpy(float), per["err"].to_numpy(float)])
    errs = errs[np.isfinite(errs)]
    if errs.size:
        typical = float(np.median(np.abs(errs))) or 1.0
        e_lim = min(float(np.abs(errs).max()), 5.0 * typical) * 1.15
    else:
        e_lim = 1.0
    e_lim = e_lim or 1.0

    with style.context():
        own = fig is None
        wide = is_wide(width) if fig is None else fig.get_figwidth() > 5
        if fig is None:
            fig = new_figure(width, height, (0.75 + 0.21 * n) * (1 if wide else 2))
        if wide:
            axs, axc, axe = fig.subplots(1, 3, sharey=True, gridspec_kw={"width_ratios": [1.35, 1, 1]})
        else:  # one column: the score across the top, coverage and error below it
            gs = fig.add_gridspec(2, 2, width_ratios=[1, 1.3])
            axs = fig.add_subplot(gs[0, :])
            axc = fig.add_subplot(gs[1, 0], sharey=axs)
            axe = fig.add_subplot(gs[1, 1], sharey=axs)
        beyond: dict[str, list[float]] = {}
        for m in order:
            y = ypos[m]
            st = style.model_style(m)
            c = style.GREY if m == "naive" else st["color"]
            if m == "naive":
                for a in (axs, axc, axe):
                    a.axhspan(
                        y - 0.5, y + 0.5, color=style.LIGHT_GREY, alpha=0.45, linewidth=0, zorder=0, gid="naive-row"
                    )
            row = summ.loc[m]
            pts = per.loc[m] if m in per.index.get_level_values(0) else None
            # score
            mean = float(row["mean"])
            shown = min(mean, s_hi) if not math.isnan(mean) else math.nan
            if math.isfinite(shown) or math.isinf(mean):
                axs.barh(
                    y,
                    (s_hi if math.isinf(mean) else shown) - (s_lo if s_log else 0.0),
                    left=s_lo if s_log else 0.0,
                    height=0.56,
                    color=c,
                    alpha=0.35,
                    linewidth=0,
                    hatch="////" if mean > s_hi else None,
                    gid=f"score:{m}",
                )
            med = float(row["median"])
            if math.isfinite(med) and s_lo <= med <= s_hi:
                median_tick(axs, med, y, 0.28, linewidth=1.2, zorder=4, gid=f"median:{m}")
            if pts is not None:
                sv = pts["s"].to_numpy(float)
                inside = np.isfinite(sv) & (sv >= s_lo) & (sv <= s_hi)
                _origin_dots(axs, sv[inside], y, c, gid=f"origin-score:{m}")
                over = edge_marks(axs, sv[~inside], y, s_lo, s_hi, c, f"beyond:{m}")
                if not (math.isnan(med) or s_lo <= med <= s_hi):
                    over += edge_marks(axs, np.array([med]), y, s_lo, s_hi, style.DATA_COLOUR, f"beyond:{m}")
                if over:
                    beyond.setdefault(m, []).extend(over)
            # coverage
            axc.barh(y, float(row["coverage"]), height=0.56, color=c, alpha=0.35, linewidth=0, gid=f"coverage:{m}")
            if pts is not None:
                _origin_dots(axc, pts["cov"].to_numpy(float), y, c, gid=f"origin-coverage:{m}")
            # error of the median
            b = float(row["bias"])
            if math.isfinite(b):
                axe.barh(y, max(-e_lim, min(b, e_lim)), height=0.56, color=c, alpha=0.35, linewidth=0, gid=f"bias:{m}")
            if pts is not None:
                ev = pts["err"].to_numpy(float)
                inside = np.isfinite(ev) & (np.abs(ev) <= e_lim)
                _origin_dots(axe, ev[inside], y, c, gid=f"origin-error:{m}")
                over = edge_marks(axe, ev[~inside], y, -e_lim, e_lim, c, f"beyond:{m}")
                if over:
                    beyond.setdefault(m, []).extend(over)
        if "naive" in summ.index and "naive" in order:
            nv = float(summ.loc["naive", "mean"])
            if math.isfinite(nv) and s_lo <= nv <= s_hi:
                axs.axvline(nv, color=style.GREY, linewidth=0.6, linestyle=(0, (1, 1.5)), zorder=1, gid="baseline")
        names = []
        for m in order:
            k = int(summ.loc[m, "origins"])
            short = m if m not in MIXTURES else model_title(m)
            names.append((_bt_label(m) if wide else short) + (f" ({k}/{n_orig})" if k < n_orig else ""))
        axs.set_yticks([ypos[m] for m in order], names)
        axs.tick_params(axis="y", length=0)
        if not wide:
            axc.tick_params(axis="y", labelleft=True)
        axs.set_ylim(-0.6, n - 0.4)
        if s_log:
            axs.set_xscale("log")
        axs.set_xlim(s_lo, s_hi)
        what = "CRPS" if score == "crps" else "interval score"
        axs.set_xlabel(f"{what} ({units})")
        axs.set_title(f"{what}: lower is better", loc="left", fontsize=7, pad=3)
        axc.axvline(level, color=style.DATA_COLOUR, linewidth=0.7, linestyle=(0, (4, 2)), gid="nominal")
        axc.set_xlim(0, 1.02)
        axc.set_xticks([0, 0.5, 1.0])
        axc.set_xlabel(f"share inside\nthe {level:.0%} band")
        axc.set_title("coverage", loc="left", fontsize=7, pad=3)
        axe.axvline(0.0, color=style.GREY, linewidth=0.6, zorder=1)
        axe.set_xlim(-e_lim, e_lim)
        axe.xaxis.set_major_locator(mpl.ticker.MaxNLocator(5, symmetric=True))
        axe.set_xlabel(f"median {'forecast ' if wide else ''}\u2212 observed\n({units})")
        axe.set_title("error of the median", loc="left", fontsize=7, pad=3)
        for a in (axc, axe):
            a.tick_params(axis="y", left=False)
        if not wide:
            axe.tick_params(axis="y", labelleft=False)
        handles: list[Any] = [
            Patch(facecolor=style.GREY, alpha=0.35, linewidth=0),
            Line2D([], [], color=style.DATA_COLOUR, linewidth=1.2),
            Line2D([], [], marker="o", color=style.GREY, linestyle="none", markersize=2.6),
            Line2D([], [], color=style.DATA_COLOUR, linewidth=0.7, linestyle=(0, (4, 2))),
        ]
        labels = [
            "all scored points: mean (bar; coverage: share)",
            "median score",
            f"one forecast origin (mean of its points; {n_orig} origins)",
            f"nominal coverage {level:.0%}",
        ]
        if "naive" in order:
            handles.append(Patch(facecolor=style.LIGHT_GREY, alpha=0.45, linewidth=0))
            labels.append("naive baseline (its mean score dotted)")
        if beyond:
            handles.append(Line2D([], [], marker=">", color=style.GREY, linestyle="none", markersize=4))

            def worst(v: list[float]) -> str:
                big = max(v, key=abs)
                return "inf" if math.isinf(big) else f"up to {big:.2g}"

            labels.append("beyond the axis: " + "; ".join(f"{_bt_label(m)} ({worst(v)})" for m, v in beyond.items()))
        if any(int(summ.loc[m, "origins"]) < n_orig for m in order):
            handles.append(note_handle())
            labels.append(f"(k/{n_orig}): scored at k origins (see Backtest.skipped)")
        place_legend(axe, handles, labels, own)
    return fig
