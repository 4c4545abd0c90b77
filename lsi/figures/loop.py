"""Figures of the loop model's mechanics: the three diagnostics along a trajectory
(:func:`loop_diagnostics`) and the Amdahl speed-up of the R&D loop (:func:`amdahl_speedup`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..exceptions import ParameterValueError
from . import style
from .axes import new_figure, own_axes, time_axis, use_dates, xvals
from .legend import marker_handle, note_handle, place_legend

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes


__all__ = ["loop_diagnostics", "amdahl_speedup"]


_DIAGNOSTICS = (
    ("kappa", "kappa_min", 0.5, "t_closure", "closure", "closure $\\kappa$"),
    ("rho", "rho_min", 0.0, "t_amplification", "amplification", "returns $\\rho$"),
    ("eta", "eta_min", 0.5, "t_efficiency", "efficiency", "efficiency $\\eta$"),
)


def _attr_float(ds: Any, key: str, default: float = math.nan) -> float:
    v = ds.attrs.get(key, default)
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def loop_diagnostics(
    traj_ds: xr.Dataset,
    *,
    capability: bool = True,
    fig: Figure | None = None,
    dates: bool | None = None,
    width: str | float = "single",
    height: float | None = None,
) -> Figure:
    """The three diagnostics of a loop-model trajectory against time.

    Closure ``kappa``, returns ``rho`` and efficiency ``eta`` each in a panel with its
    threshold (dashed; the side where the assumption fails is shaded), the
    crossing marked (open circle, dotted line) and the first failure filled in;
    a finite-time singularity is a vertical line through every panel.  The top
    panel shows ``ln(C/C0)``.

    Parameters
    ----------
    traj_ds : xarray.Dataset
        ``lsi.models.Loop().trajectory(...)``: ``lnC``, ``kappa``, ``rho``, ``eta``
        over ``time``; attrs ``kappa_min``, ``rho_min``, ``eta_min``, ``t_closure``,
        ``t_amplification``, ``t_efficiency``, ``t_singularity`` (NaN if none) and
        ``first_failure``.
    capability : bool
        Add the ``ln(C/C0)`` panel on top.
    fig, dates, width, height
        As in :func:`~lsi.figures.fit`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``fig`` when given): ln(C/C0) (with ``capability``) above closure, returns
        and efficiency.
    """
    need = ["kappa", "rho", "eta"] + (["lnC"] if capability else [])
    missing = [v for v in need if v not in getattr(traj_ds, "data_vars", {})]
    if missing or "time" not in getattr(traj_ds, "coords", {}):
        raise ParameterValueError(
            f"a trajectory needs variables {need} over a time coordinate "
            "(lsi.models.Loop().trajectory); "
            f"missing: {missing or ['time']}"
        )
    t = np.asarray(traj_ds["time"].values, dtype=float)
    dates = use_dates(t, dates)
    x = xvals(t, dates)
    first = str(traj_ds.attrs.get("first_failure", ""))
    t_sing = _attr_float(traj_ds, "t_singularity")
    panels = (["lnC"] if capability else []) + [d[0] for d in _DIAGNOSTICS]
    with style.context():
        own = fig is None
        if fig is None:
            fig = new_figure(width, height, 0.8 * len(panels) + 0.45)
        axes = fig.subplots(len(panels), 1, sharex=True)
        axes = np.atleast_1d(axes)
        k = 0
        if capability:
            a = axes[0]
            a.plot(
                x,
                np.asarray(traj_ds["lnC"].values, dtype=float),
                color=style.DATA_COLOUR,
                gid="lnC",
            )
            a.set_ylabel("$\\ln(C/C_0)$")
            k = 1
        for a, (var, key, default, tkey, name, label) in zip(axes[k:], _DIAGNOSTICS, strict=True):
            c = style.ASSUMPTION_COLOURS[name]
            v = np.asarray(traj_ds[var].values, dtype=float)
            thr = _attr_float(traj_ds, key, default)
            a.plot(x, v, color=c, gid=f"diagnostic:{var}")
            fin = v[np.isfinite(v)]
            if var in ("kappa", "eta"):
                a.set_ylim(-0.03, 1.05)
            elif fin.size:
                lo, hi = min(fin.min(), thr), max(fin.max(), thr)
                pad = 0.08 * (hi - lo if hi > lo else 1.0)
                a.set_ylim(lo - pad, hi + pad)
            a.axhline(thr, color=style.GREY, linewidth=0.7, linestyle=(0, (4, 2)), gid=f"threshold:{var}")
            a.axhspan(a.get_ylim()[0], thr, color=c, alpha=0.07, linewidth=0, zorder=0)
            a.set_ylabel(label)
            tc = _attr_float(traj_ds, tkey)
            if math.isfinite(tc):
                xc = xvals(tc, dates)[0]
                is_first = first == name
                a.axvline(xc, color=c, linewidth=0.6, linestyle=(0, (1, 1.5)), gid=f"crossing-line:{var}")
                a.plot(
                    [xc],
                    [thr],
                    marker="o",
                    markersize=4.5,
                    markeredgecolor=c,
                    markeredgewidth=1.0,
                    markerfacecolor=c if is_first else "white",
                    linestyle="none",
                    zorder=5,
                    gid=f"crossing:{var}" + (":first" if is_first else ""),
                )
                if is_first:
                    a.annotate(
                        "fails first",
                        xy=(xc, thr),
                        xytext=(4, 4),
                        textcoords="offset points",
                        fontsize=6.5,
                        color=c,
                        ha="left",
                        va="bottom",
                    )
        if math.isfinite(t_sing):
            xs = xvals(t_sing, dates)[0]
            for a in axes:
                a.axvline(
                    xs,
                    color=style.DATA_COLOUR,
                    linewidth=0.8,
                    linestyle=(0, (5, 1, 1, 1)),
                    gid="singularity",
                )
        time_axis(axes[-1], dates)
        for a in axes[:-1]:
            a.tick_params(labelbottom=False)
        fig.align_ylabels(axes)
        handles: list[Any] = [Line2D([], [], color=style.GREY, linewidth=0.7, linestyle=(0, (4, 2)))]
        labels = ["threshold (fails below)"]
        crossed = {d[4] for d in _DIAGNOSTICS if math.isfinite(_attr_float(traj_ds, d[3]))}
        if crossed - {first}:
            handles.append(marker_handle("o", style.DATA_COLOUR))
            labels.append("crossing")
        if first in crossed:
            handles.append(Line2D([], [], marker="o", color=style.DATA_COLOUR, linestyle="none"))
            labels.append("first failure")
        if math.isfinite(t_sing):
            handles.append(Line2D([], [], color=style.DATA_COLOUR, linewidth=0.8, linestyle=(0, (5, 1, 1, 1))))
            labels.append("finite-time singularity")
        if not crossed:
            handles.append(note_handle())
            labels.append(
                "no assumption fails before " + ("the singularity" if math.isfinite(t_sing) else "the horizon")
            )
        place_legend(axes[-1], handles, labels, own, ncol=2 if own and fig.get_figwidth() < 5 else None)
    return fig


def amdahl_speedup(
    p: float | Sequence[float] = (0.5, 0.9, 0.99, 0.999),
    a: float = 1.0,
    *,
    lmax: float | None = None,
    knee: bool = True,
    ax: Axes | None = None,
    width: str | float = "single",
    height: float | None = None,
) -> Figure:
    """Amdahl speed-up of the R&D loop, ``S(l) = 1 / ((1-p) + p e^{-a l})``, for a few ``p``.

    Plotted against capability ``C/C0 = e^l`` (both axes logarithmic), with the
    ceiling ``1/(1-p)`` dashed and Amdahl's knee marked where the closure
    ``kappa = p e^{-a l} / ((1-p) + p e^{-a l})`` falls to 1/2 (``e^{a l} = p/(1-p)``,
    ``S = 1/(2(1-p))``): beyond it the human share of the cycle takes longer than the
    AI's, and the loop is no longer closed.

    Parameters
    ----------
    p : float or sequence of float
        Automatable shares of R&D work, in [0, 1].
    a : float
        Elasticity of AI research speed to capability (>= 0).
    lmax : float, optional
        Largest ``l = ln(C/C0)`` drawn (default: a hundred times past the knee of the
        largest ``p`` below 1).
    knee : bool
        Mark Amdahl's knee.
    ax, width, height
        As in :func:`~lsi.figures.fit`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of ``ax``, or a new one.

    Examples
    --------
    >>> import lsi.figures
    >>> fig = lsi.figures.amdahl_speedup(p=[0.9, 0.99], a=1.0)
    >>> fig.axes[0].get_xscale(), fig.axes[0].get_yscale()
    ('log', 'log')
    """
    ps = np.atleast_1d(np.asarray(p, dtype=float))
    if ps.size == 0 or np.any(~np.isfinite(ps)) or np.any((ps < 0) | (ps > 1)):
        raise ParameterValueError(f"p = {p!r}; every automatable share must lie in [0, 1]")
    a = float(a)
    if not math.isfinite(a) or a < 0:
        raise ParameterValueError(f"a = {a!r}; the elasticity must be finite and >= 0")
    if lmax is None:
        inner = ps[ps < 1]
        knees = np.log(np.maximum(inner / (1 - inner), 1.0)) / a if (inner.size and a > 0) else np.array([0.0])
        lmax = (
            float(max(np.max(knees) + math.log(100.0) / max(a, 1e-12), math.log(100.0))) if a > 0 else math.log(100.0)
        )
        lmax = min(lmax, 40.0)
    elif not (math.isfinite(lmax) and lmax > 0):
        raise ParameterValueError(f"lmax = {lmax!r}; give a positive ln(C/C0)")
    ell = np.linspace(0.0, lmax, 400)
    colours = [style.OKABE_ITO[c] for c in ("blue", "vermillion", "green", "purple", "orange", "skyblue")]
    with style.context():
        fig, ax, own = own_axes(ax, width, height, 2.6)
        handles, labels = [], []
        for i, pi in enumerate(ps):
            c = colours[i % len(colours)]
            S = 1.0 / ((1 - pi) + pi * np.exp(-a * ell))
            (line,) = ax.plot(np.exp(ell), S, color=c, gid=f"speedup:{pi:g}")
            handles.append(line)
            labels.append(f"$p$ = {pi:g}")
            if pi < 1 and a > 0:
                ax.axhline(
                    1.0 / (1 - pi),
                    color=c,
                    linewidth=0.6,
                    linestyle=(0, (4, 2)),
                    gid=f"ceiling:{pi:g}",
                )
                if knee and pi > 0.5:
                    lk = math.log(pi / (1 - pi)) / a
                    if lk <= lmax:
                        ax.plot(
                            [math.exp(lk)],
                            [1.0 / (2 * (1 - pi))],
                            marker="o",
                            markersize=4,
                            markerfacecolor="white",
                            markeredgecolor=c,
                            markeredgewidth=1.0,
                            zorder=4,
                            gid=f"knee:{pi:g}",
                            linestyle="none",
                        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1.0, math.exp(lmax))
        ax.set_xlabel("capability $C/C_0 = e^{l}$")
        ax.set_ylabel("speed-up of the R&D loop $S$")
        if any(pi < 1 for pi in ps) and a > 0:
            handles.append(Line2D([], [], color=style.GREY, linewidth=0.6, linestyle=(0, (4, 2))))
            labels.append("ceiling $1/(1-p)$")
        if knee and a > 0 and any(0.5 < pi < 1 for pi in ps):
            handles.append(marker_handle("o", style.GREY))
            labels.append(r"knee: closure $\kappa$ = 1/2")
        ax.text(0.98, 0.02, f"$a$ = {a:g}", transform=ax.transAxes, ha="right", va="bottom", fontsize=7)
        place_legend(ax, handles, labels, own)
    return fig
