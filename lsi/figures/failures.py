"""The assumption-report figure: which assumption of RSI fails first, when, and how sure
we are (:func:`assumptions`, drawn from :class:`lsi.assessment.AssumptionReport`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ..diagnostics import FAILURES
from ..exceptions import ParameterValueError
from . import style
from .axes import is_wide, new_figure, time_axis, use_dates, xvals
from .labels import fmt_weight
from .legend import hatch_handle, marker_handle, place_legend
from .marks import median_tick, reference_lines

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..fitting import FitCollection

__all__ = ["assumptions"]


_FAILURE_ROWS = ("closure", "amplification", "efficiency")


def _replicates(report: Any) -> dict[str, np.ndarray] | None:
    """Per bootstrap replicate of ``report.bootstrap``: the first failure of its best model
    (codes into FAILURES; -1 when no model converged), its time and the date of a finite-time
    singularity, as :func:`lsi.assumptions` found them (``report.replicate_outcomes``).  None
    without a bootstrap."""
    out = getattr(report, "replicate_outcomes", None)
    if out is None:
        return None
    return {"code": out["code"], "time": out["time"], "singularity": out["singularity"]}


def _strip(ax: Axes, x: np.ndarray, y: float, color: str, *, marker: str, gid: str, seed: int) -> None:
    """Replicates as dots jittered vertically around row ``y`` (deterministic)."""
    if x.size == 0:
        return
    rng = np.random.default_rng(seed)
    jy = y + rng.uniform(-0.22, 0.22, x.size)
    big = x.size > 300
    ax.plot(
        x,
        jy,
        linestyle="none",
        marker=marker,
        markersize=2.0 if big else 2.8 if x.size < 10 else 2.6,
        markeredgewidth=0.5 if marker == "x" else 0,
        color=color,
        alpha=0.35 if big else 0.6,
        gid=gid,
        rasterized=x.size > 2000,
        zorder=3,
    )


def _quantile_box(ax: Axes, x: np.ndarray, y: float, *, gid: str) -> None:
    """The 5-95 % range of ``x`` as an open box over row ``y``, its median as a bar
    (from ten values up: fewer are shown as they are)."""
    if x.size < 10:
        return
    q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
    ax.add_patch(
        Rectangle(
            (q05, y - 0.27),
            max(q95 - q05, 0.0),
            0.54,
            facecolor="none",
            edgecolor=style.DATA_COLOUR,
            linewidth=0.7,
            zorder=2,
            gid=gid,
        )
    )
    median_tick(ax, q50, y, 0.27, linewidth=1.4, zorder=2, gid=gid + ":median")


def assumptions(
    report: Any,
    *,
    fits: FitCollection | None = None,
    data: bool = True,
    min_weight: float = 0.001,
    fig: Figure | None = None,
    dates: bool | None = None,
    width: str | float = "double",
    height: float | None = None,
) -> Figure:
    """The assumption report: which assumption of RSI fails first, when, how sure we are.

    Three panels:

    - **how likely**: for each outcome (closure, amplification, efficiency, none
      before the horizon) the probability that it comes first, by Akaike weights
      (solid bars) and by the bootstrap (hatched: the share of replicates whose best
      model has it fail first);
    - **when**: one row per assumption, every bootstrap replicate that has it fail
      first as a dot at its failure date (the report's own ``replicate_outcomes``,
      found by :func:`lsi.diagnostics.failure_analysis`), with a box
      over the 5-95 % range and the median as a bar; a separate row, below a line,
      holds the dates of finite-time singularities of replicates that reach one
      before any assumption fails: RSI's explosion, which is not a failure.
      Diamonds mark each model's own fit (Akaike weight at least ``min_weight``);
    - **the data alone** (``data=True``): the change of the growth rate of ln C per
      year from a quadratic in time with its interval (:func:`lsi.assessment.data_check`);
      right of zero, doubling times shrink.

    Parameters
    ----------
    report : lsi.assessment.AssumptionReport
        From :func:`lsi.assumptions`; with ``n_boot > 0`` for the bootstrap bars and
        the replicates' dates (without, the panel shows the models' own dates).
    fits : FitCollection, optional
        Accepted as before and not needed: the report carries its replicates' outcomes.
    data : bool
        Add the panel of the model-agnostic check.
    min_weight : float
        Models with a smaller Akaike weight get no diamond.
    fig, dates, width, height
        As in :func:`~lsi.figures.fit`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``fig`` when given): how likely, when, and the data alone (with ``data``).

    Examples
    --------
    >>> import lsi, lsi.figures, warnings
    >>> warnings.simplefilter("ignore")
    >>> rep = lsi.assumptions(lsi.fit(lsi.datasets.load("metr_horizons")), n_boot=50)
    >>> fig = lsi.figures.assumptions(rep)
    >>> [ax.get_title(loc="left").split(":")[0] for ax in fig.axes]
    ['how likely', 'when', 'the data alone']
    """
    need = ("probabilities", "models", "thresholds", "horizon", "failure_times", "data", "t0", "bootstrap")
    if any(not hasattr(report, k) for k in need):
        raise ParameterValueError(
            f"assumptions needs the report of lsi.assumptions(fits, n_boot=...); got {type(report).__name__}"
        )
    if not (isinstance(min_weight, int | float) and 0 <= min_weight <= 1):
        raise ParameterValueError(f"min_weight = {min_weight!r}; give an Akaike weight in [0, 1]")
    probs = dict(report.probabilities)
    boot_probs = report.bootstrap_probabilities
    reps = _replicates(report)
    n_rep = 0 if reps is None else int(np.sum(reps["code"] >= 0))
    horizon = float(report.horizon)
    dts = (report.data or {}).get("doubling_times") or []
    t_last = float(dts[-1]["t_end"]) if dts else math.nan
    acc = (report.data or {}).get("acceleration") if data else None

    # what panel "when" shows: per row, replicate dates; model diamonds
    rows = list(_FAILURE_ROWS) + ["singularity"]
    rep_x: dict[str, np.ndarray] = {k: np.array([]) for k in rows}
    if reps is not None:
        for i, k in enumerate(_FAILURE_ROWS):
            sel = reps["code"] == i
            rep_x[k] = reps["time"][sel]
        s = reps["singularity"]
        blown = (reps["code"] == FAILURES.index("none")) & np.isfinite(s) & (s <= horizon)
        rep_x["singularity"] = s[blown]
    diamonds: list[tuple[str, float, str, float]] = []  # row, time, model, weight
    for m in report.models:
        w = float(m.get("weight", 0.0))
        if not m.get("converged", True) or w < min_weight:
            continue
        ft, ts = m.get("failure_time"), m.get("singularity_time")
        if m.get("first_failure") in _FAILURE_ROWS and ft is not None and math.isfinite(ft):
            diamonds.append((m["first_failure"], float(ft), str(m["name"]), w))
        elif ts is not None and math.isfinite(ts) and ts <= horizon:
            diamonds.append(("singularity", float(ts), str(m["name"]), w))
    times = [v for v in rep_x.values() if v.size] + [np.array([d[1] for d in diamonds])]
    if math.isfinite(t_last):
        times.append(np.array([t_last]))
    allt = np.concatenate(times) if times else np.array([])
    allt = allt[np.isfinite(allt)]
    if allt.size == 0:
        allt = np.array([horizon - 1.0, horizon])
    dates = use_dates(allt, dates)
    lo_t, hi_t = float(allt.min()), float(allt.max())
    pad = max(0.06 * (hi_t - lo_t), 0.5)
    lo_t, hi_t = lo_t - pad, hi_t + pad

    with style.context():
        own = fig is None
        wide = is_wide(width) if fig is None else fig.get_figwidth() > 5
        if fig is None:
            fig = new_figure(width, height, (2.5 if wide else 5.0) + (0.0 if acc or wide else -0.7))
        if wide:
            gs = fig.add_gridspec(2 if acc else 1, 2, width_ratios=[1, 1.55], height_ratios=[4, 1.4] if acc else [1])
            axp = fig.add_subplot(gs[0, 0])
            axt = fig.add_subplot(gs[:, 1])
            axd = fig.add_subplot(gs[1, 0]) if acc else None
        else:
            gs = fig.add_gridspec(3 if acc else 2, 1, height_ratios=[3.2, 4.6, 1.2] if acc else [3.2, 4.6])
            axp = fig.add_subplot(gs[0])
            axt = fig.add_subplot(gs[1])
            axd = fig.add_subplot(gs[2]) if acc else None

        # -------- how likely
        ypos = np.arange(len(FAILURES))[::-1]
        two = boot_probs is not None
        h = 0.36 if two else 0.62
        for yi, k in zip(ypos, FAILURES, strict=True):
            c = style.ASSUMPTION_COLOURS[k]
            edge = style.GREY if k == "none" else c
            p = float(probs.get(k, 0.0))
            axp.barh(
                yi,
                p,
                height=h,
                align="edge" if two else "center",
                color=c,
                edgecolor=edge,
                linewidth=0.5,
                gid=f"weight:{k}",
            )
            axp.text(p + 0.02, yi + (h / 2 if two else 0), fmt_weight(p), va="center", fontsize=6.5)
            if two:
                pb = float(boot_probs.get(k, 0.0))
                axp.barh(
                    yi,
                    pb,
                    height=-h,
                    align="edge",
                    facecolor="white",
                    edgecolor=edge,
                    hatch="/////",
                    linewidth=0.6,
                    gid=f"bootstrap:{k}",
                )
                axp.text(pb + 0.02, yi - h / 2, fmt_weight(pb), va="center", fontsize=6.5)
        axp.set_yticks(ypos, ["closure", "amplification", "efficiency", f"none before {horizon:.0f}"])
        # "none" is several answers at once (an explosion, an exogenous jump, ...): name its carriers
        carriers = getattr(report, "none_breakdown", {}) or {}
        if carriers and probs.get("none", 0.0) > 0:
            words = [f"{k} {fmt_weight(w)}" for k, w in list(carriers.items())[:3]]
            axp.text(
                0.01,
                float(ypos[FAILURES.index("none")]) + 0.55,
                "none, by Akaike weight: " + ", ".join(words),
                ha="left",
                va="center",
                fontsize=5.5,
                color=style.GREY,
                gid="none-breakdown",
            )
        axp.tick_params(axis="y", length=0)
        axp.set_ylim(-0.6, len(FAILURES) - 0.4)
        axp.set_xlim(0, 1.3)
        axp.set_xticks([0, 0.5, 1.0])
        axp.set_xlabel("probability it fails first")
        axp.set_title("how likely: the first failure", loc="left", fontsize=7, pad=3)

        # -------- when
        yrow = {k: float(len(rows) - 1 - i) for i, k in enumerate(rows)}
        for i, k in enumerate(rows):
            x = xvals(rep_x[k], dates)
            if k == "singularity":
                _strip(axt, x, yrow[k], style.DATA_COLOUR, marker="x", gid="singularity", seed=i)
            else:
                _strip(
                    axt,
                    x,
                    yrow[k],
                    style.ASSUMPTION_COLOURS[k],
                    marker="o",
                    gid=f"when:{k}",
                    seed=i,
                )
            _quantile_box(axt, x, yrow[k], gid=f"range:{k}")
        axt.axhline(yrow["singularity"] + 0.5, color=style.GREY, linewidth=0.5, linestyle=(0, (3, 2)))
        # model diamonds; their names are placed once the layout is known (_label_diamonds)
        span_x = xvals([lo_t, hi_t], dates)
        marked: list[tuple[float, list[tuple[float, str]]]] = []
        for row in rows:
            mine = sorted(
                ((float(xvals(d[1], dates)[0]), d) for d in diamonds if d[0] == row),
                key=lambda e: e[0],
            )
            yd = yrow[row] + 0.38
            for xd, (_r, _t, name, _w) in mine:
                axt.plot(
                    [xd],
                    [yd],
                    marker="D",
                    markersize=3.6,
                    markerfacecolor="white",
                    markeredgecolor=style.DATA_COLOUR,
                    markeredgewidth=0.8,
                    linestyle="none",
                    zorder=5,
                    gid=f"model:{name}",
                )
            if mine:
                marked.append((yd, [(xd, f"{d[2]} ({fmt_weight(d[3])})") for xd, d in mine]))
        last = None
        if math.isfinite(t_last) and lo_t <= t_last <= hi_t:
            last = reference_lines(axt, xvals(t_last, dates), gid="last-observation")

        def count(k: str) -> str:
            if reps is None:
                return ""
            return f"\n{rep_x[k].size} of {n_rep}"

        axt.set_yticks(
            [yrow[k] for k in rows],
            [k + count(k) for k in _FAILURE_ROWS] + ["singularity" + count("singularity")],
        )
        axt.get_yticklabels()[-1].set_fontstyle("italic")
        axt.tick_params(axis="y", length=0)
        axt.set_ylim(-0.5, len(rows) - 0.4)
        axt.set_xlim(*span_x)
        time_axis(axt, dates)
        axt.set_title(
            "when: "
            + (f"in {n_rep} bootstrap replicates" if reps is not None else "in each model's fit (no bootstrap)"),
            loc="left",
            fontsize=7,
            pad=3,
        )
        if reps is not None and not any(rep_x[k].size for k in rows):
            axt.text(
                0.5,
                0.5,
                f"no replicate fails or explodes before {horizon:.0f}",
                transform=axt.transAxes,
                ha="center",
                va="center",
                fontsize=7,
                color=style.GREY,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
            )

        # -------- the data alone
        if axd is not None and acc:
            v, lo, hi = float(acc["value"]), float(acc["lower"]), float(acc["upper"])
            axd.errorbar(
                [v],
                [0.0],
                xerr=[[v - lo], [hi - v]],
                fmt="o",
                color=style.DATA_COLOUR,
                elinewidth=1.0,
                markersize=3.5,
                gid="acceleration",
            )
            axd.axvline(0.0, color=style.GREY, linewidth=0.6, zorder=0, gid="zero")
            r = 1.25 * max(abs(lo), abs(hi), 1e-9)
            axd.set_xlim(-r, r)
            axd.xaxis.set_major_locator(mpl.ticker.MaxNLocator(5, symmetric=True))
            axd.set_ylim(-1, 1.2)
            axd.set_yticks([])
            axd.spines["left"].set_visible(False)
            for xa, ha, txt in (
                (0.02, "left", "\u2190 growing"),
                (0.98, "right", "shrinking \u2192"),
            ):
                axd.text(
                    xa,
                    0.95,
                    txt,
                    transform=axd.transAxes,
                    ha=ha,
                    va="top",
                    fontsize=6,
                    color=style.GREY,
                )
            axd.set_xlabel("change of the growth rate of ln $C$ (per year)")
            level_d = float((report.data or {}).get("level", 0.95))
            axd.set_title(
                f"the data alone: doubling times ({level_d:.0%} interval)",
                loc="left",
                fontsize=7,
                pad=3,
            )

        # -------- legend
        handles: list[Any] = [
            Patch(facecolor=style.GREY, edgecolor=style.GREY, linewidth=0.5),
        ]
        labels = ["Akaike weights"]
        if boot_probs is not None:
            handles.append(hatch_handle(style.GREY))
            labels.append(f"bootstrap: share of {report.n_boot} replicates")
        if reps is not None:
            handles.append(Line2D([], [], marker="o", color=style.GREY, linestyle="none", markersize=3))
            labels.append("a replicate (its best model's first failure)")
        if any(v.size >= 10 for v in rep_x.values()):
            handles.append(Patch(facecolor="none", edgecolor=style.DATA_COLOUR, linewidth=0.7))
            labels.append("5-95% of replicates, median")
        if rep_x["singularity"].size:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="x",
                    color=style.DATA_COLOUR,
                    linestyle="none",
                    markersize=3,
                    markeredgewidth=0.6,
                )
            )
            labels.append("finite-time singularity first (not a failure)")
        if diamonds:
            handles.append(marker_handle("D", style.DATA_COLOUR, markersize=3.6))
            labels.append(f"a model's own fit (Akaike weight; shown from {min_weight:g})")
        if last is not None:
            handles.append(last)
            labels.append("last observation")
        if axd is not None:
            handles.append(Line2D([], [], marker="o", color=style.DATA_COLOUR, markersize=3.5, linewidth=1.0))
            labels.append("the data: change of the growth rate, interval")
        place_legend(axt if not own else axp, handles, labels, own)
        _label_diamonds(fig, axt, marked)
    return fig


def _label_diamonds(fig: Figure, ax: Axes, rows: list[tuple[float, list[tuple[float, str]]]]) -> None:
    """Name the markers of each row (at height y, by x) without overlaps.

    Markers closer than two character heights share one label.  A label goes right of
    its markers if it fits there (inside the axes, clear of other markers and labels),
    else left of them, else below them on white, one name a line."""
    if not rows:
        return
    fig.draw_without_rendering()  # the final layout, so that extents are known
    to_px = ax.transData.transform
    box = ax.get_window_extent()
    pt = fig.dpi / 72.0
    pad, half = 4.0 * pt, 3.0 * pt  # label offset; half a marker

    def width(text: str) -> float:
        probe = ax.text(0, 0, text, fontsize=6)
        w = max(probe.get_window_extent().width, 1.0)
        probe.remove()
        return w

    gap = 5.0 * pt  # between labels: text widths vary a little with the output's dpi

    def free(lo: float, hi: float, taken: list[tuple[float, float]]) -> bool:
        return box.x0 <= lo and hi <= box.x1 and all(hi + gap <= a or lo - gap >= b for a, b in taken)

    for y, items in rows:
        px = [float(to_px((x, y))[0]) for x, _t in items]
        clusters: list[list[int]] = [[0]]
        for i in range(1, len(items)):
            if px[i] - px[clusters[-1][-1]] < 12.0 * pt:
                clusters[-1].append(i)
            else:
                clusters.append([i])
        marks = [(p - half, p + half) for p in px]  # the markers' line: they are taken
        top: list[tuple[float, float]] = []
        below: list[tuple[float, float]] = []
        for cl in clusters:
            text = ", ".join(items[k][1] for k in cl)
            w = width(text)
            first, last = px[cl[0]], px[cl[-1]]
            others = top + [m for k, m in enumerate(marks) if k not in cl]
            if free(last + pad, last + pad + w, others):
                xy, off, ha, va = items[cl[-1]][0], (4.0, 0.0), "left", "center"
                top.append((last + pad, last + pad + w))
            elif free(first - pad - w, first - pad, others):
                xy, off, ha, va = items[cl[0]][0], (-4.0, 0.0), "right", "center"
                top.append((first - pad - w, first - pad))
            else:  # below the markers, one name a line
                va = "top"
                text = text.replace(", ", "\n")
                w = max(width(t) for t in text.split("\n"))
                if free(first, first + w, below):
                    xy, off, ha = items[cl[0]][0], (0.0, -5.0), "left"
                    below.append((first, first + w))
                elif free(last - w, last, below):
                    xy, off, ha = items[cl[-1]][0], (0.0, -5.0), "right"
                    below.append((last - w, last))
                else:  # after the labels already below, as far left as they allow
                    start = max([first] + [b + gap for _a, b in below])
                    start = min(start, box.x1 - w)
                    xy, off, ha = items[cl[0]][0], ((start - first) / pt, -5.0), "left"
                    below.append((start, start + w))
            ann = ax.annotate(
                text,
                xy=(xy, y),
                xytext=off,
                textcoords="offset points",
                fontsize=6,
                ha=ha,
                va=va,
                color=style.DATA_COLOUR,
                gid="model-label",
            )
            if va == "top":
                ann.set_bbox({"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.5})
