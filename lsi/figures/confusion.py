"""The confusion matrix of :func:`lsi.distinguishability.confusion` as a heatmap
(:func:`distinguishability`): which model wins on series simulated from each true model."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..exceptions import ParameterValueError
from . import style
from .axes import figure_of, new_figure
from .legend import note_handle, place_legend

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..distinguishability import Confusion

__all__ = ["distinguishability"]

#: white to the palette's blue: the share of series a model won
_CMAP = LinearSegmentedColormap.from_list("lsi_share", ["#FFFFFF", style.OKABE_ITO["blue"]])


def _columns(c: Confusion) -> tuple[list[int], list[str]]:
    """The columns drawn: the true models first (so the diagonal is the block's diagonal), then
    every other model that won any series, most wins first; and the models never selected."""
    order = [c.models.index(m) for m in c.true_models if m in c.models]
    won = c.counts.sum(axis=0)
    rest = sorted((j for j in range(len(c.models)) if j not in order and won[j] > 0), key=lambda j: -won[j])
    never = [c.models[j] for j in range(len(c.models)) if j not in order and won[j] == 0]
    return order + rest, never


def _cell_text(p: float, se: float, k: int) -> str:
    if k == 0:
        return "0"
    pct = "<1%" if p < 0.01 else ">99%" if 0.99 < p < 1 else f"{p:.0%}"
    return f"{pct}\n\u00b1{se * 100:.0f}" if se * 100 >= 0.5 else f"{pct}\n\u00b1<1"


def distinguishability(
    confusion: Confusion,
    ax: Axes | None = None,
    *,
    width: str | float = "single",
    height: float | None = None,
) -> Figure:
    """Which model wins when each model is true: the confusion matrix as a heatmap.

    Rows are the models simulated from (true), columns the model selected (lowest AICc); each
    cell gives the share of the simulated series that model won, with its Monte Carlo
    standard error in percentage points, and is shaded by it.  The cells where the true
    model wins are outlined; the title gives the verdict for the leading pair.  Models that
    won no series at all are named below the matrix rather than drawn as empty columns.

    Parameters
    ----------
    confusion : lsi.distinguishability.Confusion
        From :func:`lsi.distinguishability.confusion`.
    ax : Axes, optional
        Draw into these axes (the title and notes go on them); default a new figure.
    width : "single", "double" or float
        Width of a new figure: one (3.5 in) or two (7.2 in) journal columns, or inches.
    height : float, optional
        Height of a new figure in inches (default from the number of rows).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, lsi, lsi.figures
    >>> t = np.linspace(2000, 2020, 30)
    >>> y = np.exp(0.3 * (t - 2000) + np.random.default_rng(1).normal(0, 0.1, t.size))
    >>> fits = lsi.fit(lsi.Series(t, y), models=["exponential", "hyperbolic"], noise="log", warn=False)
    >>> fig = lsi.figures.distinguishability(lsi.distinguishability.confusion(fits, n=10))
    >>> fig.axes[0].get_ylabel()
    'true model (simulated from)'
    """
    needed = ("counts", "n_valid", "true_models", "models", "probabilities", "stderr", "pair")
    if not all(hasattr(confusion, k) for k in needed):
        raise ParameterValueError(
            "distinguishability needs the Confusion of lsi.distinguishability.confusion(...); "
            f"got {type(confusion).__name__}"
        )
    c = confusion
    cols, never = _columns(c)
    rows = list(c.true_models)
    p = c.probabilities[:, cols]
    se = c.stderr[:, cols]
    k = c.counts[:, cols]
    nr, nc = len(rows), len(cols)
    col_names = [c.models[j] for j in cols]
    with style.context():
        own = ax is None
        if ax is None:
            fig = new_figure(width, height, 0.95 + 0.36 * nr + 0.04 * max(len(m) for m in col_names))
            ax = fig.add_subplot()
        else:
            fig = figure_of(ax)
        shade = np.where(np.isfinite(p), p, 0.0)
        ax.imshow(shade, cmap=_CMAP, vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest", gid="shares")
        for i, true in enumerate(rows):
            if c.n_valid[i] == 0:
                ax.add_patch(
                    Rectangle((-0.5, i - 0.5), nc, 1.0, facecolor="white", edgecolor=style.GREY, hatch="////",
                              linewidth=0.0, gid=f"no-series:{true}")
                )  # fmt: skip
                ax.text((nc - 1) / 2, i, "no usable series", ha="center", va="center", fontsize=6.5,
                        color=style.GREY, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})  # fmt: skip
                continue
            for jj, sel in enumerate(col_names):
                v = float(p[i, jj])
                dark = v > 0.55
                ax.text(
                    jj,
                    i,
                    _cell_text(v, float(se[i, jj]), int(k[i, jj])),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    linespacing=0.95,
                    color="white" if dark else (style.DATA_COLOUR if k[i, jj] else style.GREY),
                    gid=f"cell:{true}:{sel}",
                )
                if sel == true:
                    ax.add_patch(
                        Rectangle((jj - 0.5, i - 0.5), 1.0, 1.0, fill=False, edgecolor=style.DATA_COLOUR,
                                  linewidth=1.0, clip_on=False, gid=f"diagonal:{true}")
                    )  # fmt: skip
        # the column labels lie flat when each column is wide enough for its name
        cell_in = (fig.get_figwidth() * ax.get_position().width) / nc
        flat = cell_in >= 0.06 * max(len(m) for m in col_names)
        ax.set_xticks(range(nc), col_names, rotation=0 if flat else 30, ha="center" if flat else "right",
                      rotation_mode="anchor")  # fmt: skip
        ax.set_yticks(range(nr), rows)
        ax.set_xlim(-0.5, nc - 0.5)
        ax.set_ylim(nr - 0.5, -0.5)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
        ax.set_xlabel("model selected (lowest AICc)")
        ax.set_ylabel("true model (simulated from)")
        box_w = ax.get_position().width * fig.get_figwidth()
        chars = max(30, int(box_w / 0.05))
        verdict = c.pair()
        head = _headline(verdict)
        ax.set_title("\n".join(textwrap.wrap(head, chars)), loc="left", fontsize=7, pad=4)
        notes = [
            f"cell: % of the {c.n} series simulated from the row's model that the column's model won, "
            "\u00b1 its Monte Carlo standard error (percentage points); outlined: the true model wins"
        ]
        if int(np.sum(c.n - c.n_valid)):
            notes.append(
                "series where no refit converged are left out: "
                + ", ".join(f"{m} {c.n - int(nv)}" for m, nv in zip(rows, c.n_valid, strict=True) if nv < c.n)
            )
        if never:
            notes.append("never selected: " + ", ".join(never))
        total = c.n * nr
        failed = c.refit_failures.sum(axis=0)
        bad = [f"{m} ({int(f)})" for m, f in zip(c.models, failed, strict=True) if f > 0]
        if bad:  # a model whose refit failed could not win that series
            notes.append(f"refits that did not reach a minimum, of {total} series: " + ", ".join(bad))
        place_legend(ax, [note_handle() for _ in notes], notes, own, ncol=1)
    return fig


def _headline(v: Any) -> str:
    """The title: the verdict for the leading pair, in short."""
    if v.status == "single" or v.status == "undetermined":
        return v.sentence
    verb = {"cannot tell": "cannot tell", "barely": "barely tell", "tell": "tell"}[v.status]
    pct = "<1%" if 0 < v.p_a_given_b < 0.01 else ">99%" if 0.99 < v.p_a_given_b < 1 else f"{v.p_a_given_b:.0%}"
    return f"These data {verb} {v.a} from {v.b}: with {v.b} true, {v.a} wins {pct}"
