"""Legends of :mod:`lsi.figures`: placed outside the data, with handles drawn like the marks
they stand for and text-only notes."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .axes import figure_of

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..fitting import FitResult


#: mean width of a 7 pt character, inches
CHAR_IN = 0.054
#: a legend handle, its padding and the gap between columns, inches
HANDLE_IN = 0.5


def place_legend(
    owner_ax: Axes,
    handles: list[Any],
    labels: list[str],
    own: bool,
    *,
    title: str | None = None,
    ncol: int | None = None,
) -> Any:
    """A legend outside the data.

    On a figure this module made, it goes below the axes in as many columns as fit
    the width (long labels wrapped), and the figure grows by the legend's height so
    the axes keep their size.  On the caller's axes it goes beside them, right.
    """
    if not handles:
        return None
    fig = figure_of(owner_ax)
    if not own:
        return owner_ax.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            title=title,
            ncols=ncol or 1,
        )
    width = fig.get_figwidth()
    longest = max(max((len(x) for x in lab.split("\n")), default=0) for lab in labels)
    if ncol is None:
        ncol = int(max(1, min(4, width // (HANDLE_IN + CHAR_IN * min(longest, 60)))))
        ncol = min(ncol, len(handles))
    limit = max(12, int((width / ncol - HANDLE_IN) / CHAR_IN))
    labels = [lab if "$" in lab or "\n" in lab else textwrap.fill(lab, limit) for lab in labels]
    leg = fig.legend(handles, labels, loc="outside lower center", title=title, ncols=ncol)
    extra = leg.get_window_extent().height / fig.dpi  # any backend: matplotlib picks a renderer
    fig.set_figheight(fig.get_figheight() + extra + 0.15)
    return leg


def note_handle() -> Line2D:
    """An empty handle: the legend entry beside it is a note."""
    return Line2D([], [], linestyle="none", marker="none")


def marker_handle(marker: str, edge: str, face: str = "white", **kw: Any) -> Line2D:
    """A lone marker (open, by default) standing for markers drawn without a line."""
    return Line2D([], [], marker=marker, markerfacecolor=face, markeredgecolor=edge, linestyle="none", **kw)


def hatch_handle(edge: str, hatch: str = "/////", linewidth: float = 0.6) -> Patch:
    """A white patch hatched in ``edge``: a bootstrap bar, or a band unbounded above."""
    return Patch(facecolor="white", edgecolor=edge, hatch=hatch, linewidth=linewidth)


def add_notes(
    handles: list[Any],
    labels: list[str],
    results: Sequence[FitResult],
    left_out: Sequence[str],
    width: int = 44,
) -> None:
    """Append the legend's text-only notes: the n.i./n.c. flags and the models not shown."""
    if any(not r.identifiable and r.converged for r in results):
        handles.append(note_handle())
        labels.append("n.i.: parameters not identifiable")
    if any(not r.converged for r in results):
        handles.append(note_handle())
        labels.append("n.c.: did not converge")
    if left_out:
        handles.append(note_handle())
        labels.append(textwrap.fill("not shown: " + "; ".join(left_out), width))
