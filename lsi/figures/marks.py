"""Marks shared by the figures of :mod:`lsi.figures`: observations with their intervals,
bands whose unbounded ends run to the edge of the axes (hatched, with an arrow), and
values past the axes as arrows or triangles on the edge, never clipped silently."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.lines import Line2D

from . import style
from .axes import runs, xvals

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..intervals import Interval
    from ..series import Series


#: the dashed grey line of a reference value or date (the last observation; AICc 2 and 10)
REFERENCE_LINE: dict[str, Any] = {"color": style.GREY, "linewidth": 0.5, "linestyle": (0, (2, 2))}


def reference_lines(ax: Axes, xs: Iterable[float], *, gid: str) -> Line2D:
    """Dashed vertical lines at ``xs`` behind the data; returns their legend handle."""
    for x in xs:
        ax.axvline(x, **REFERENCE_LINE, zorder=0, gid=gid)
    return Line2D([], [], **REFERENCE_LINE)


def row_text(ax: Axes, x: float, y: float, text: str, *, ha: str, **kw: Any) -> Any:
    """Text in row ``y`` (data units) at ``x`` across the axes (0 the left edge, 1 the right)."""
    return ax.text(x, y, text, transform=ax.get_yaxis_transform(), ha=ha, **kw)


def median_tick(ax: Axes, x: float, y: float, half: float, *, linewidth: float, zorder: float, gid: str) -> None:
    """A median as a bar across row ``y`` (``half`` its half-height)."""
    ax.plot(
        [x, x],
        [y - half, y + half],
        color=style.DATA_COLOUR,
        linewidth=linewidth,
        solid_capstyle="butt",
        gid=gid,
        zorder=zorder,
    )


def draw_data(ax: Axes, series: Series, dates: bool, *, label: str | None = None) -> Any:
    """The observations as points with their intervals (or standard deviations)."""
    x = xvals(series.t, dates)
    y = np.asarray(series.y, dtype=float)
    if series.lower is not None and series.upper is not None:
        yerr = np.vstack([y - series.lower, series.upper - y])
        what = f"data ({series.ci_level:.0%} interval)"
    elif series.sigma is not None:
        yerr = np.asarray(series.sigma, dtype=float)
        what = "data (±1 s.d.)"
    else:
        yerr = None
        what = "data"
    cont = ax.errorbar(
        x,
        y,
        yerr=yerr,
        fmt="o",
        color=style.DATA_COLOUR,
        ecolor=style.GREY,
        elinewidth=0.7,
        markersize=3.0,
        markeredgewidth=0,
        zorder=4,
        label=label or what,
    )
    cont[0].set_gid("data")
    for c in cont[2]:
        c.set_gid("data-interval")
    return cont


def edge_arrow(
    ax: Axes, x: float, y: float, color: str, *, to: str = "top", gid: str = "unbounded", lw: float = 0.8
) -> None:
    """An arrow from the data point (x, y) to the top (``to="top"``: unbounded above) or the right
    edge of the axes (``to="right"``: unbounded later)."""
    if to == "top":
        xy, coords = (x, 1.0), ax.get_xaxis_transform()
    else:
        xy, coords = (1.0, y), ax.get_yaxis_transform()
    ax.annotate(
        "",
        xy=xy,
        xycoords=coords,
        xytext=(x, y),
        textcoords="data",
        arrowprops={
            "arrowstyle": "-|>",
            "color": color,
            "lw": lw,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 7,
        },
        annotation_clip=False,
        gid=gid,
    )


def band_fill(
    ax: Axes,
    x: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    color: str,
    alpha: float,
    *,
    gid: str,
    label: str | None = None,
    zorder: float = 1,
) -> bool:
    """Fill lo..hi; where ``hi`` is not finite (unbounded) fill to the top edge of the
    axes with hatching and an arrow (call after the y limits are frozen).  Returns
    True when part of the band is unbounded."""
    x, lo, hi = (np.asarray(a, dtype=float) for a in (x, lo, hi))
    ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(x)
    if ok.any():
        ax.fill_between(
            x,
            lo,
            hi,
            where=ok,
            interpolate=False,
            color=color,
            alpha=alpha,
            linewidth=0,
            gid=gid,
            label=label,
            zorder=zorder,
        )
    open_top = np.isfinite(lo) & ~np.isfinite(hi) & np.isfinite(x)
    if not open_top.any():
        return False
    top = ax.get_ylim()[1]
    for i, j in runs(open_top):
        i0, j0 = max(i - 1, 0), min(j + 1, x.size)  # join to the bounded band on either side
        xs = x[i0:j0]
        lows = lo[i0:j0]
        ax.fill_between(
            xs,
            lows,
            np.full(xs.size, top),
            facecolor=(*mpl.colors.to_rgb(color), alpha * 0.6),
            edgecolor=color,
            hatch="////",
            linewidth=0,
            gid="unbounded",
            zorder=zorder,
        )
        k = i + (j - i) // 2
        edge_arrow(ax, float(x[k]), float(lo[k]), color)
    return True


def interval_arrays(intervals: Sequence[Interval | None], scale: float = 1.0) -> tuple[np.ndarray, ...]:
    """value, lower, upper arrays (NaN for None) and the flags unbounded-above and no-interval."""
    n = len(intervals)
    v, lo, hi = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for i, iv in enumerate(intervals):
        if iv is None or iv.value is None:
            continue
        v[i] = iv.value * scale
        lo[i] = np.nan if iv.lower is None else iv.lower * scale
        hi[i] = np.nan if iv.upper is None else iv.upper * scale
    has_v = np.isfinite(v)
    unbounded = has_v & np.isfinite(lo) & ~np.isfinite(hi)
    no_interval = has_v & ~np.isfinite(lo) & ~np.isfinite(hi)
    return v, lo, hi, unbounded, no_interval


def edge_marks(ax: Axes, xs: np.ndarray, y: float, lo: float, hi: float, color: str, gid: str) -> list[float]:
    """Values outside [lo, hi] (or infinite) as triangles on the axes' edge; returns them."""
    out = []
    for v in xs:
        if math.isnan(v) or lo <= v <= hi:
            continue
        right = v > hi
        ax.plot(
            [1.0 if right else 0.0],
            [y],
            marker=">" if right else "<",
            markersize=4,
            color=color,
            linestyle="none",
            transform=ax.get_yaxis_transform(),
            clip_on=False,
            zorder=5,
            gid=gid,
        )
        out.append(float(v))
    return out
