"""The specification curve (:func:`robustness`): the leading model and the verdict under each
defensible data choice of :func:`lsi.robustness.curve`, one column per specification."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..exceptions import ParameterValueError
from . import style
from .axes import ax_or_fig, figure_of, new_figure
from .labels import fmt_weight, model_title
from .legend import marker_handle, place_legend

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..robustness import SpecCurve

__all__ = ["robustness"]

#: a marker per model, so that models of one colour (exponential and breakpoint) stay apart
MODEL_MARKERS = {
    "linear": "v",
    "exponential": "s",
    "breakpoint": "D",
    "hyperbolic": "o",
    "brake": "<",
    "logistic": "^",
    "richards": ">",
    "gompertz": "h",
    "amdahl": "p",
    "loop": "*",
}

#: the choices as the dot matrix names them (the order of lsi.robustness.CHOICES)
_CHOICE_TITLES = {
    "rows": "rows",
    "uncertainties": "uncertainties",
    "release": "release",
    "start": "start",
    "points": "points",
}

_DISAGREE = "#EDEDED"


def _marker(name: str) -> str:
    return MODEL_MARKERS.get(name, "X")


def _matrix(rows: Any) -> list[tuple[str, str]]:
    """The (choice, option) rows of the dot matrix: each choice's default option, then its
    alternatives in the order the specifications take them."""
    d = rows[0]
    out: list[tuple[str, str]] = []
    for choice in _CHOICE_TITLES:
        if choice not in d.choices:
            continue
        out.append((choice, d.choices[choice]))
        for r in rows[1:]:
            if choice in r.changed and (choice, r.choices[choice]) not in out:
                out.append((choice, r.choices[choice]))
    return out


def _row_labels(matrix: list[tuple[str, str]]) -> list[str]:
    """The dot matrix's row labels: the choice named on the first option of its group."""
    out, previous = [], None
    for choice, option in matrix:
        text = textwrap.shorten(option, 34, placeholder="...")
        out.append(f"{_CHOICE_TITLES[choice]}: {text}" if choice != previous else text)
        previous = choice
    return out


def robustness(
    curve: SpecCurve,
    *,
    ax: Axes | None = None,
    fig: Figure | None = None,
    width: str | float = "double",
    height: float | None = None,
) -> Figure:
    """The specification curve: one column per specification of :func:`lsi.robustness.curve`.

    Top: the Akaike weight of each specification's leading model, its marker coloured (and
    shaped) by that model; where another model leads than in the default, an open marker
    shows the weight left to the default's leading model, and the column is shaded. Below
    it, the verdict class of each specification (red where it is not the default's), then
    which option of each data choice the specification takes, as a dot matrix (each
    choice's default option first).

    Parameters
    ----------
    curve : lsi.robustness.SpecCurve
        From :func:`lsi.robustness.curve`.
    ax : Axes, optional
        Draw into these axes: the weights in them, the verdicts and the dot matrix in axes
        added below them.
    fig : Figure, optional
        Draw into this (empty) figure instead of a new one.
    width : "single", "double" or float
        Figure width: one (3.5 in) or two (7.2 in) journal columns, or inches.
    height : float, optional
        Figure height in inches, not counting the legend.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn (that of ``ax`` when given): the weights above the dot matrix.

    Examples
    --------
    >>> import lsi.figures
    >>> from lsi import robustness
    >>> sc = robustness.curve("metr_horizons")
    >>> fig = lsi.figures.robustness(sc)
    >>> fig.axes[0].get_ylabel()
    'Akaike weight of\\nthe leading model'
    """
    from ..robustness import verdict_short

    rows = getattr(curve, "rows", None)
    if not rows or not all(hasattr(r, "leading_model") and hasattr(r, "choices") for r in rows):
        raise ParameterValueError(
            f"robustness needs the SpecCurve of lsi.robustness.curve(...); got {type(curve).__name__}"
        )
    ax_or_fig(ax, fig)
    d = rows[0]
    n = len(rows)
    matrix = _matrix(rows)
    m = len(matrix)
    row_in = 0.15  # inches per row of the matrix
    verdicts = [verdict_short(r.verdict_class) for r in rows]
    labels = _row_labels(matrix)
    with style.context():
        own = fig is None and ax is None
        if ax is not None:
            fig = figure_of(ax)
            box_w = ax.get_position().width * fig.get_figwidth()
        else:
            box_w = style.width_in(width) if fig is None else fig.get_figwidth()
        # the width left to the columns once the labels of the rows are set, and whether the
        # verdicts have room to lie flat in their columns
        label_w = 0.045 * max(len(t) for t in ["Akaike weight of", *labels]) + 0.3
        narrow = (box_w - label_w) / n < 0.7
        vu = max(2.0, math.ceil(0.043 * max(len(v) for v in verdicts) / row_in)) if narrow else 1.0
        matrix_in = row_in * (m + vu)
        if ax is not None:
            ax.set_axis_off()
            box_h = max(ax.get_position().height * figure_of(ax).get_figheight(), 0.5)
            frac = min(matrix_in / box_h, 0.75)
            gap = 0.12 / box_h
            axw = ax.inset_axes((0.0, frac + gap, 1.0, 1.0 - frac - gap))
            axm = ax.inset_axes((0.0, 0.0, 1.0, frac), sharex=axw)
        else:
            if fig is None:
                fig = new_figure(width, height, 1.5 + matrix_in + 0.35)
            axw, axm = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.5, matrix_in]})

        # ------- the weights
        for i, r in enumerate(rows):
            if not (r.agrees_model and r.agrees_verdict):
                for a in (axw, axm):
                    a.axvspan(i - 0.5, i + 0.5, color=_DISAGREE, linewidth=0, zorder=0, gid=f"disagree:{r.name}")
            if r.leading_model is None:
                axw.text(i, 0.5, "no model\nconverged", ha="center", va="center", fontsize=6, color=style.GREY)
                continue
            if not r.agrees_model and d.leading_model is not None:
                w_def = float(r.weights.get(d.leading_model, np.nan))
                if np.isfinite(w_def):
                    axw.plot([i, i], [w_def, r.leading_weight], color=style.GREY, linewidth=0.6, zorder=2)
                    axw.plot(
                        [i],
                        [w_def],
                        marker=_marker(d.leading_model),
                        markersize=5,
                        markerfacecolor="white",
                        markeredgecolor=style.model_style(d.leading_model)["color"],
                        markeredgewidth=0.9,
                        linestyle="none",
                        zorder=3,
                        gid=f"default-model:{r.name}",
                    )
            st = style.model_style(r.leading_model)
            axw.plot(
                [i],
                [r.leading_weight],
                marker=_marker(r.leading_model),
                markersize=5.5,
                markerfacecolor=st["color"],
                markeredgecolor=st["color"],
                linestyle="none",
                zorder=4,
                gid=f"leading:{r.name}",
            )
            axw.annotate(
                fmt_weight(r.leading_weight),
                (i, r.leading_weight),
                xytext=(0, 5) if narrow else (5, 0),
                textcoords="offset points",
                ha="center" if narrow else "left",
                va="bottom" if narrow else "center",
                fontsize=6,
                gid=f"weight:{r.name}",
            )
        axw.set_ylim(0, 1.16 if narrow else 1.05)
        axw.set_yticks([0, 0.5, 1.0])
        axw.grid(axis="y")
        axw.set_axisbelow(True)
        axw.set_ylabel("Akaike weight of\nthe leading model")
        axw.spines["bottom"].set_visible(False)
        axw.tick_params(axis="x", bottom=False, labelbottom=False)
        km = sum(r.agrees_model for r in rows)
        kv = sum(r.agrees_verdict for r in rows)
        status = str(getattr(curve, "status", "")) or "specifications"

        def count(k: int) -> str:
            return f"all {n}" if k == n else f"{k} of {n}"

        title = (
            f"{status}: {d.leading_model} leads in {count(km)} specifications, "
            f"the default's verdict holds in {count(kv)}"
        )
        chars = max(30, int((box_w - label_w) / 0.05))
        axw.set_title("\n".join(textwrap.wrap(title, chars)), loc="left", fontsize=7, pad=3)

        # ------- the verdicts and the dot matrix
        yv = m - 0.5 + vu / 2  # the verdict row, above the m rows of the choices
        for i, (r, v) in enumerate(zip(rows, verdicts, strict=True)):
            axm.text(
                i,
                yv,
                v if narrow else "\n".join(textwrap.wrap(v, 11)),
                ha="center",
                va="center",
                rotation=90 if narrow else 0,
                fontsize=6,
                linespacing=0.95,
                color=style.DATA_COLOUR if r.agrees_verdict else style.OKABE_ITO["vermillion"],
                gid=f"verdict:{r.name}",
            )
        yrow = {key: float(m - 1 - j) for j, key in enumerate(matrix)}
        for i, r in enumerate(rows):
            for key in matrix:
                on = r.choices.get(key[0]) == key[1]
                axm.plot(
                    [i],
                    [yrow[key]],
                    marker="o",
                    markersize=4.0 if on else 1.8,
                    color=style.DATA_COLOUR if on else style.GREY,
                    linestyle="none",
                    zorder=3,
                    gid=f"on:{r.name}:{key[0]}" if on else f"off:{r.name}:{key[0]}",
                )
        previous = None
        for key in matrix:
            if key[0] != previous:
                axm.axhline(yrow[key] + 0.5, color=style.LIGHT_GREY, linewidth=0.5, zorder=1)
            previous = key[0]
        axm.set_yticks([yv, *yrow.values()], ["verdict", *labels])
        axm.tick_params(axis="y", length=0)
        axm.set_ylim(-0.6, m - 0.5 + vu + 0.1)
        for side in ("left", "bottom"):
            axm.spines[side].set_visible(False)
        axm.set_xticks(np.arange(n), ["default"] + [""] * (n - 1))
        axm.tick_params(axis="x", length=0)
        axm.set_xlim(-0.6, n - 0.4)

        # ------- legend
        handles: list[Any] = []
        names: list[str] = []
        for name in dict.fromkeys(r.leading_model for r in rows if r.leading_model is not None):
            st = style.model_style(name)
            handles.append(marker_handle(_marker(name), st["color"], st["color"], markersize=5))
            names.append(f"{model_title(name)} leads")
        if any(not r.agrees_model for r in rows) and d.leading_model is not None:
            st = style.model_style(d.leading_model)
            handles.append(marker_handle(_marker(d.leading_model), st["color"], markersize=5))
            names.append(f"weight left to {model_title(d.leading_model)}, the default's leader")
        if any(not (r.agrees_model and r.agrees_verdict) for r in rows):
            handles.append(Patch(facecolor=_DISAGREE, edgecolor="none"))
            names.append("disagrees with the default")
        place_legend(axw, handles, names, own)
    return figure_of(axw)
