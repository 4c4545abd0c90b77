"""Figures over the loop model's parameters: the phase diagram of which assumption fails
first (:func:`phase`) and which parameters matter, Sobol indices and tornado (:func:`sensitivity`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import matplotlib as mpl
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ..exceptions import ParameterValueError
from . import style
from .axes import is_wide, new_figure, own_axes, runs
from .inputs import check_columns
from .labels import ASSUMPTION_LABELS, PARAMETER_SHORT, output_label, param_label, wrap_math
from .legend import marker_handle, note_handle, place_legend

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes


__all__ = ["phase", "sensitivity"]


def _edges(c: np.ndarray) -> tuple[np.ndarray, bool]:
    """Cell edges around centres ``c``; geometric when the centres are."""
    c = np.asarray(c, dtype=float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5]), False
    geometric = (
        bool(np.all(c > 0))
        and c.size > 2
        and np.allclose(np.diff(np.log(c)), np.diff(np.log(c))[0], rtol=1e-6)
        and c[-1] / c[0] >= 20
    )
    z = np.log(c) if geometric else c
    mid = 0.5 * (z[1:] + z[:-1])
    e = np.concatenate([[z[0] - (mid[0] - z[0])], mid, [z[-1] + (z[-1] - mid[-1])]])
    return (np.exp(e) if geometric else e), geometric


def phase(
    sweep_ds: xr.Dataset,
    x: str | None = None,
    y: str | None = None,
    *,
    singularity: bool = True,
    ax: Axes | None = None,
    width: str | float = "single",
    height: float | None = None,
) -> Figure:
    """Phase diagram: which assumption fails first over two parameters.

    Each cell (or sample) is coloured by ``first_failure`` (closure, amplification,
    efficiency, none), with the legend from ``attrs["first_failure_legend"]``; cells
    where the trajectory reaches a finite-time singularity are hatched.  Cells whose
    code lies outside the legend (a failed evaluation) are left white and named in
    the legend.

    Parameters
    ----------
    sweep_ds : xarray.Dataset
        From :func:`lsi.sweep`: ``first_failure`` over dimensions named after the swept
        parameters (a grid), or over ``sample`` with the parameters as variables.
        Select single values of any other swept parameter first (``ds.sel(lam=1)``).
    x, y : str, optional
        The parameters on the horizontal and vertical axes; by default the two swept
        dimensions of a grid, in their order.
    singularity : bool
        Hatch cells with a finite ``t_singularity``.
    ax : Axes, optional
    width, height
        As in :func:`~lsi.figures.fit`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of ``ax``, or a new one.
    """
    if "first_failure" not in getattr(sweep_ds, "data_vars", {}):
        raise ParameterValueError("phase needs a sweep Dataset with a first_failure variable (from lsi.sweep)")
    legend = [
        str(s) for s in sweep_ds.attrs.get("first_failure_legend", ["closure", "amplification", "efficiency", "none"])
    ]
    ff = sweep_ds["first_failure"]
    if x is None or y is None:
        swept = cast("list[str]", [d for d in ff.dims if ff.sizes[d] > 1])  # a sweep names dims by str
        if len(swept) != 2 or (x is not None and x not in swept) or (y is not None and y not in swept):
            raise ParameterValueError(
                f"name the parameters to plot, e.g. phase(ds, x='p', y='beta'); the sweep varies {swept}"
            )
        x = x or next(d for d in swept if d != y)
        y = y or next(d for d in swept if d != x)
    grid = x in ff.dims and y in ff.dims
    if not grid:
        for name in (x, y):
            if name not in sweep_ds.variables:
                raise ParameterValueError(
                    f"{name!r} is neither a dimension nor a variable of the sweep; "
                    f"dims: {list(ff.dims)}, "
                    f"variables: {sorted(map(str, sweep_ds.variables))}"
                )
    if x == y:
        raise ParameterValueError(f"x and y are both {x!r}; give two different parameters")
    colours = [style.ASSUMPTION_COLOURS.get(name, style.model_style(name)["color"]) for name in legend]
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(-0.5, len(legend) + 0.5), len(legend))
    with style.context():
        fig, ax, own = own_axes(ax, width, height, 3.0 if is_wide(width) else 2.9)
        if grid:
            others = [d for d in ff.dims if d not in (x, y) and ff.sizes[d] > 1]
            if others:
                raise ParameterValueError(
                    f"the sweep also varies {others}; select one value of each first, e.g. "
                    f"ds.sel({others[0]}=...) or ds.isel({others[0]}=0)"
                )
            da = ff.squeeze(drop=True).transpose(y, x)
            codes = np.asarray(da.values, dtype=float)
            cx = np.asarray(sweep_ds[x].values, dtype=float)
            cy = np.asarray(sweep_ds[y].values, dtype=float)
            ex, logx = _edges(cx)
            ey, logy = _edges(cy)
            bad = ~np.isfinite(codes) | (codes < 0) | (codes >= len(legend))
            mesh = ax.pcolormesh(
                ex,
                ey,
                np.ma.masked_array(codes, bad),
                cmap=cmap,
                norm=norm,
                shading="flat",
                rasterized=codes.size > 20000,
                gid="phase",
                linewidth=0,
            )
            del mesh
            if logx:
                ax.set_xscale("log")
            if logy:
                ax.set_yscale("log")
            ax.set_xlim(ex[0], ex[-1])
            ax.set_ylim(ey[0], ey[-1])
            sing = None
            if singularity and "t_singularity" in sweep_ds.data_vars:
                ts = np.asarray(sweep_ds["t_singularity"].squeeze(drop=True).transpose(y, x).values, dtype=float)
                sing = np.isfinite(ts)
                if sing.any():
                    _hatch_cells(ax, ex, ey, sing)
        else:
            codes = np.asarray(ff.values, dtype=float).ravel()
            xv = np.asarray(sweep_ds[x].values, dtype=float).ravel()
            yv = np.asarray(sweep_ds[y].values, dtype=float).ravel()
            if not (codes.size == xv.size == yv.size):
                raise ParameterValueError(
                    f"{x!r}, {y!r} and first_failure have different sizes "
                    f"({xv.size}, {yv.size}, {codes.size}); "
                    "for a sampled sweep give the sampled parameters"
                )
            bad = ~np.isfinite(codes) | (codes < 0) | (codes >= len(legend))
            ok = ~bad
            s = max(3.0, min(14.0, 6000.0 / max(codes.size, 1)))
            ax.scatter(
                xv[ok],
                yv[ok],
                c=codes[ok],
                cmap=cmap,
                norm=norm,
                s=s,
                linewidths=0,
                gid="phase",
                rasterized=codes.size > 5000,
            )
            if bad.any():
                ax.scatter(
                    xv[bad],
                    yv[bad],
                    marker="x",
                    c=style.GREY,
                    s=s,
                    linewidths=0.5,
                    gid="phase-failed",
                )
            sing = None
            if singularity and "t_singularity" in sweep_ds.data_vars:
                ts = np.asarray(sweep_ds["t_singularity"].values, dtype=float).ravel()
                sing = np.isfinite(ts)
                if sing.any():
                    ax.scatter(
                        xv[sing],
                        yv[sing],
                        marker="o",
                        facecolors="none",
                        edgecolors=style.DATA_COLOUR,
                        s=s * 2.2,
                        linewidths=0.4,
                        gid="singularity",
                    )
            for name, setter in ((x, ax.set_xscale), (y, ax.set_yscale)):
                v = np.asarray(sweep_ds[name].values, dtype=float)
                v = v[np.isfinite(v)]
                # log-distributed draws (a log-uniform prior): most values far below the largest
                if v.size and np.all(v > 0) and v.max() / v.min() >= 100 and np.median(v) < 0.1 * v.max():
                    setter("log")
        present = sorted({int(c) for c in codes[~bad].ravel()})
        handles: list[Any] = [Patch(facecolor=colours[i], edgecolor="none") for i in present]
        labels = [ASSUMPTION_LABELS.get(legend[i], legend[i]) for i in present]
        if sing is not None and sing.any():
            if grid:
                handles.append(Patch(facecolor="none", edgecolor=style.DATA_COLOUR, hatch="////", linewidth=0.4))
            else:
                handles.append(marker_handle("o", style.DATA_COLOUR, face="none"))
            labels.append("finite-time singularity")
        if bad.any():
            handles.append(Patch(facecolor="white", edgecolor=style.GREY, linewidth=0.5))
            labels.append("evaluation failed (see status)")
        ax.set_xlabel(param_label(x))
        ax.set_ylabel(param_label(y))
        place_legend(ax, handles, labels, own)
    return fig


def _hatch_cells(ax: Axes, ex: np.ndarray, ey: np.ndarray, mask: np.ndarray) -> None:
    """Hatch the cells where ``mask`` (ny, nx) is True, merged into row runs."""
    rects = []
    for j in range(mask.shape[0]):
        for i0, i1 in runs(mask[j]):
            rects.append(Rectangle((ex[i0], ey[j]), ex[i1] - ex[i0], ey[j + 1] - ey[j]))
    with mpl.rc_context({"hatch.linewidth": 0.4}):
        pc = PatchCollection(
            rects,
            facecolor="none",
            edgecolor=style.DATA_COLOUR,
            hatch="////",
            linewidth=0,
            gid="singularity",
        )
        ax.add_collection(pc)


def sensitivity(
    sobol_df: Any = None,
    tornado_df: Any = None,
    *,
    fig: Figure | None = None,
    width: str | float = "double",
    height: float | None = None,
) -> Figure:
    """Which parameter matters: Sobol indices with their intervals, and a tornado chart.

    Sobol (one panel per output): per parameter, the first-order index (the share of
    the output's variance it explains alone; solid) and the total-order index (alone
    and through its interactions; hatched), each with its bootstrap confidence
    interval.  Parameters are ordered by their largest total-order index, most
    important on top, the same order in every panel.  Tornado (below, or alone): the
    output with each parameter at the low and the high end of its range, the others at
    the base point, as bars from the base value; the parameter's values are written at
    the bar ends, largest swing on top.

    Parameters
    ----------
    sobol_df : pandas.DataFrame, optional
        From :func:`lsi.sensitivity.sobol`: ``output``, ``parameter``, ``first_order``,
        ``first_order_low``, ``first_order_high``, ``total_order``,
        ``total_order_low``, ``total_order_high``.
    tornado_df : pandas.DataFrame, optional
        From :func:`lsi.sensitivity.tornado`: ``parameter``, ``low``, ``high``,
        ``output_low``, ``output_high``, ``output_base``, ``swing``; its
        ``attrs["output"]`` names the output.
    fig, width, height
        As in :func:`~lsi.figures.fit`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``fig`` when given): a Sobol panel per output above the tornado.

    Examples
    --------
    >>> import pandas as pd, lsi.figures
    >>> tor = pd.DataFrame({"parameter": ["p", "beta"], "low": [0.7, 0.0], "high": [0.99, 0.6],
    ...                     "output_low": [2.4, 10.0], "output_high": [9.2, 2.4],
    ...                     "output_base": [3.8, 3.8], "swing": [6.8, 7.6]})
    >>> fig = lsi.figures.sensitivity(tornado_df=tor)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['$p$ automatable share', '$\\\\beta$ complexity brake']
    """
    if sobol_df is None and tornado_df is None:
        raise ParameterValueError(
            "sensitivity needs sobol_df (lsi.sensitivity.sobol) or tornado_df (lsi.sensitivity.tornado), or both"
        )
    sob_cols = (
        "output",
        "parameter",
        "first_order",
        "first_order_low",
        "first_order_high",
        "total_order",
        "total_order_low",
        "total_order_high",
    )
    tor_cols = ("parameter", "low", "high", "output_low", "output_high", "output_base")
    outputs: list[str] = []
    params: list[str] = []
    if sobol_df is not None:
        check_columns(sobol_df, "sobol_df", sob_cols, "lsi.sensitivity.sobol")
        if len(sobol_df) == 0:
            raise ParameterValueError("sobol_df is empty")
        outputs = list(dict.fromkeys(str(o) for o in sobol_df["output"]))
        top = sobol_df.groupby("parameter", sort=False)["total_order"].max()
        params = [str(p) for p in top.fillna(-np.inf).sort_values(ascending=False).index]
    if tornado_df is not None:
        check_columns(tornado_df, "tornado_df", tor_cols, "lsi.sensitivity.tornado")
        if len(tornado_df) == 0:
            raise ParameterValueError("tornado_df is empty")
    n_out = len(outputs)
    with style.context():
        own = fig is None
        wide = is_wide(width) if fig is None else fig.get_figwidth() > 5
        ncol = min(n_out, 3 if wide else 2) if n_out else 1
        nrow_s = math.ceil(n_out / ncol) if n_out else 0
        h_sob = 0.55 + 0.27 * len(params)
        h_tor = 0.55 + 0.24 * (len(tornado_df) if tornado_df is not None else 0)
        if fig is None:
            total = nrow_s * h_sob + (h_tor if tornado_df is not None else 0.0)
            fig = new_figure(width, height, max(total, 1.2))
        ratios = [h_sob] * nrow_s + ([h_tor] if tornado_df is not None else [])
        gs = fig.add_gridspec(len(ratios), ncol, height_ratios=ratios)
        handles: list[Any] = []
        labels: list[str] = []
        owner = None
        if n_out:
            ypos = np.arange(len(params))[::-1]
            lows = sobol_df[["first_order_low", "total_order_low", "first_order"]].to_numpy(float)
            highs = sobol_df[["first_order_high", "total_order_high", "total_order"]].to_numpy(float)
            x_lo = min(0.0, float(np.nanmin(lows)) if np.isfinite(lows).any() else 0.0) - 0.03
            x_hi = max(1.0, float(np.nanmax(highs)) if np.isfinite(highs).any() else 1.0) + 0.03
            first_ax = None
            no_interval = False
            # characters of a 7 pt title that fit over one panel (tick labels take ~1.3 in)
            chars = max(14, int((fig.get_figwidth() - 1.3) / ncol / 0.06))
            for i, out in enumerate(outputs):
                ax = fig.add_subplot(gs[i // ncol, i % ncol], sharey=first_ax)
                first_ax = first_ax or ax
                owner = owner or ax
                d = sobol_df[sobol_df["output"].astype(str) == out].set_index(
                    sobol_df[sobol_df["output"].astype(str) == out]["parameter"].astype(str)
                )
                for yi, prm in zip(ypos, params, strict=True):
                    if prm not in d.index:
                        continue
                    row = d.loc[prm]
                    for kind, off, bar_style in (
                        ("first_order", 0.0, {"color": style.OKABE_ITO["blue"]}),
                        (
                            "total_order",
                            -0.38,
                            {
                                "facecolor": "white",
                                "edgecolor": style.OKABE_ITO["blue"],
                                "hatch": "/////",
                                "linewidth": 0.6,
                            },
                        ),
                    ):
                        v = float(row[kind])
                        lo, hi = float(row[f"{kind}_low"]), float(row[f"{kind}_high"])
                        yc = yi + off + 0.19
                        ax.barh(
                            yi + off,
                            v if math.isfinite(v) else 0.0,
                            height=0.38 if off == 0 else 0.38,
                            align="edge",
                            gid=f"{kind}:{out}:{prm}",
                            **bar_style,
                        )
                        if math.isfinite(lo) and math.isfinite(hi):
                            ax.plot(
                                [lo, hi],
                                [yc, yc],
                                color=style.DATA_COLOUR,
                                linewidth=0.8,
                                solid_capstyle="butt",
                                gid=f"interval:{kind}:{out}:{prm}",
                                zorder=4,
                            )
                        else:
                            no_interval = True
                ax.axvline(0.0, color=style.GREY, linewidth=0.5, zorder=0)
                ax.set_xlim(x_lo, x_hi)
                ax.set_ylim(-0.6, len(params) - 0.4)
                ax.tick_params(axis="y", length=0)
                ax.set_yticks(ypos, [PARAMETER_SHORT.get(p, p) for p in params])
                if i % ncol:
                    ax.tick_params(labelleft=False)
                ax.set_xlabel("Sobol index")
                ax.set_title(
                    wrap_math(output_label(out), chars),
                    loc="left",
                    fontsize=7,
                    pad=3,
                )
            handles += [
                Patch(facecolor=style.OKABE_ITO["blue"]),
                Patch(
                    facecolor="white",
                    edgecolor=style.OKABE_ITO["blue"],
                    hatch="/////",
                    linewidth=0.6,
                ),
                Line2D([], [], color=style.DATA_COLOUR, linewidth=0.8),
            ]
            labels += [
                "first-order Sobol index (alone)",
                "total-order Sobol index (with interactions)",
                "bootstrap confidence interval",
            ]
            if no_interval:
                handles.append(note_handle())
                labels.append("no bar for an interval: the output did not vary")
        if tornado_df is not None:
            ax = fig.add_subplot(gs[nrow_s, :])
            owner = owner or ax
            tdf = tornado_df.copy()
            tdf["_swing"] = (tdf["output_high"] - tdf["output_low"]).abs()
            tdf = tdf.sort_values("_swing", ascending=False, kind="stable")
            n = len(tdf)
            ys = np.arange(n)[::-1]
            base = float(tdf["output_base"].iloc[0])
            c_lo, c_hi = style.OKABE_ITO["skyblue"], style.OKABE_ITO["vermillion"]
            ends = [base]
            for y, (_, r) in zip(ys, tdf.iterrows(), strict=True):
                prm = str(r["parameter"])
                for key, val_key, colour, off in (
                    ("low", "output_low", c_lo, 0.0),
                    ("high", "output_high", c_hi, -0.36),
                ):
                    v = float(r[val_key])
                    if not math.isfinite(v):
                        continue
                    ends.append(v)
                    ax.barh(
                        y + off,
                        v - base,
                        left=base,
                        height=0.36,
                        align="edge",
                        color=colour,
                        gid=f"tornado:{key}:{prm}",
                    )
                    ax.annotate(
                        f"{float(r[key]):g}",
                        xy=(v, y + off + 0.18),
                        xytext=(3 if v >= base else -3, 0),
                        textcoords="offset points",
                        ha="left" if v >= base else "right",
                        va="center",
                        fontsize=6,
                    )
            ax.axvline(base, color=style.DATA_COLOUR, linewidth=0.7, gid="tornado:base")
            lo_e, hi_e = min(ends), max(ends)
            pad = 0.12 * (hi_e - lo_e if hi_e > lo_e else max(abs(base), 1.0))
            ax.set_xlim(lo_e - pad, hi_e + pad)
            ax.set_ylim(-0.6, n - 0.4)
            ax.set_yticks(ys, [PARAMETER_SHORT.get(str(p), str(p)) for p in tdf["parameter"]])
            ax.tick_params(axis="y", length=0)
            output = str(tornado_df.attrs.get("output", "output"))
            ax.set_xlabel(output_label(output))
            ax.set_title(
                "one at a time around the base point",
                loc="left",
                fontsize=7,
                pad=3,
            )
            handles += [
                Patch(facecolor=c_lo),
                Patch(facecolor=c_hi),
                Line2D([], [], color=style.DATA_COLOUR, linewidth=0.7),
            ]
            labels += [
                "parameter at the low end of its range (its value at the bar's end)",
                "at the high end",
                f"base point ({base:.3g})",
            ]
        assert owner is not None  # sobol_df or tornado_df (one is required) drew a panel
        place_legend(owner, handles, labels, own)
    return fig
