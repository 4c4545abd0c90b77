"""Figures and axes for :mod:`lsi.figures`: new figures at journal widths, time axes in
dates or decimal years, y scales and limits.

Shared by every family of figures; nothing here draws data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

from ..exceptions import ParameterValueError
from ..series import from_decimal_year
from . import style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: days in a year, for doubling times drawn in days
DAYS = 365.25
#: the decimal years a ``datetime64[ns]`` can hold
DATE_RANGE = (1678.0, 2261.0)


def new_figure(width: str | float, height: float | None, default_height: float) -> Figure:
    """A new figure (constrained layout) of the given width; ``height`` excludes a legend
    below the axes, which :func:`~lsi.figures.legend.place_legend` adds to it."""
    import matplotlib.pyplot as plt

    w = style.width_in(width)
    h = default_height if height is None else float(height)
    if not 0.5 <= h <= 20:
        raise ParameterValueError(f"height = {height!r} inches; give a height between 0.5 and 20")
    return plt.figure(figsize=(w, h), layout="constrained")


def figure_of(ax: Axes) -> Figure:
    """The figure that holds ``ax`` (the figures draw into axes of a Figure, not of a SubFigure)."""
    return cast("Figure", ax.figure)


def own_axes(
    ax: Axes | None, width: str | float, height: float | None, default_height: float
) -> tuple[Figure, Axes, bool]:
    """The caller's axes and their figure, or a new figure with one axes; and whether the
    figure is new (then the legend goes below the axes, see :func:`~lsi.figures.legend.place_legend`)."""
    if ax is not None:
        return figure_of(ax), ax, False
    fig = new_figure(width, height, default_height)
    return fig, fig.add_subplot(), True


def ax_or_fig(ax: Axes | None, fig: Figure | None) -> None:
    """Raise when both axes and a figure to draw into are given."""
    if ax is not None and fig is not None:
        raise ParameterValueError("give ax= (axes to draw into) or fig= (a figure to fill), not both")


def is_wide(width: str | float) -> bool:
    """Whether a figure width is that of two columns (the wide layout of a figure)."""
    return style.width_in(width) > 5


def use_dates(t: np.ndarray, dates: bool | None) -> bool:
    """Whether a time axis shows dates: as asked, by default when the times are calendar years."""
    t = np.asarray(t, dtype=float)
    t = t[np.isfinite(t)]
    fits_range = bool(t.size) and t.min() >= DATE_RANGE[0] and t.max() <= DATE_RANGE[1]
    if dates is None:
        return fits_range
    if dates and not fits_range:
        raise ParameterValueError(
            f"dates=True but the times span {t.min():.4g}-{t.max():.4g}; dates cover decimal years "
            f"{DATE_RANGE[0]:.0f}-{DATE_RANGE[1]:.0f}; pass dates=False"
        )
    return bool(dates)


def xvals(t: Any, dates: bool) -> np.ndarray:
    """Decimal years to axis coordinates (matplotlib date numbers when ``dates``)."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    if not dates:
        return t
    out = np.full(t.shape, np.nan)
    ok = np.isfinite(t)
    if ok.any():
        out[ok] = mdates.date2num(from_decimal_year(t[ok]).to_numpy())
    return out


def time_axis(ax: Axes, dates: bool) -> None:
    """Concise date ticks (when ``dates``) and the axis label, ``date`` or ``time (years)``."""
    if dates:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7 if figure_of(ax).get_figwidth() > 5 else 5)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.set_xlabel("date" if dates else "time (years)")


def span_orders(values: Iterable[Any]) -> float:
    """Decades spanned by the finite values (0 when any is not positive)."""
    v = np.concatenate([np.atleast_1d(np.asarray(x, dtype=float)).ravel() for x in values])
    v = v[np.isfinite(v)]
    if v.size == 0 or np.any(v <= 0):
        return 0.0
    return float(np.log10(v.max() / v.min()))


def auto_yscale(yscale: str | None, *values: Any) -> str:
    """The y scale asked for (checked), else logarithmic when the values span two decades."""
    if yscale is not None:
        if yscale not in ("linear", "log", "logit", "symlog"):
            raise ParameterValueError(f"yscale = {yscale!r}; use 'linear', 'log', 'logit' or 'symlog'")
        return yscale
    return "log" if span_orders(values) >= 2 else "linear"


def plain_log_ticks(axis: Any) -> None:
    """On a log axis spanning less than three decades, label 1-2-5 ticks in plain numbers."""
    lo, hi = axis.get_view_interval()
    if not (lo > 0 and hi > lo) or math.log10(hi / lo) > 3:
        return
    axis.set_major_locator(mpl.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(mpl.ticker.NullFormatter())


def freeze_ylim(ax: Axes, values: Sequence[np.ndarray], log: bool, pad: float = 0.06) -> tuple[float, float]:
    """Set y limits from the finite values given (unbounded pieces are drawn to these edges)."""
    v = np.concatenate([np.asarray(x, dtype=float).ravel() for x in values]) if values else np.array([])
    v = v[np.isfinite(v)]
    if log:
        v = v[v > 0]
    if v.size == 0:
        lo, hi = ax.get_ylim()
    elif log:
        a, b = np.log10(v.min()), np.log10(v.max())
        span = max(b - a, 0.3)
        lo, hi = 10 ** (a - pad * span), 10 ** (b + pad * span)
    else:
        a, b = float(v.min()), float(v.max())
        span = b - a if b > a else max(abs(b), 1.0)
        lo, hi = a - pad * span, b + pad * span
    ax.set_ylim(lo, hi)
    return lo, hi


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges [i, j) where ``mask`` is True."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(int))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))
