"""Paper figures: one function per figure, ``ax=None`` (or ``fig=None``) in, Figure out.

Every function draws inside the lsi style (:mod:`lsi.figures.style`: a colour and line
style of its own for each model, Okabe-Ito colours for the assumptions, 8 pt text, widths
of one 3.5 in or two 7.2 in journal columns) through a ``matplotlib.rc_context``;
importing this package changes no global matplotlib setting.  A figure function creates a
new figure (constrained layout, legends outside the data) unless it is given axes or a
figure to draw into.  Save with :func:`save`, which writes vector PDF/SVG or PNG at a
chosen dpi with the same style (TrueType fonts in PDF, reproducible metadata).

Conventions shared by every figure:

- time axes show dates (decimal years are converted with
  :func:`lsi.series.from_decimal_year`);
- a y axis is logarithmic when the values span two orders of magnitude or more;
- an interval with an unbounded end (``None`` in :class:`lsi.intervals.Interval`)
  is drawn as an arrow, or a hatched band, running to the edge of the axes; it is
  never clipped silently;
- each model has one colour and line style in every figure.

Artists carry a ``gid`` naming their role (``"data"``, ``"curve:<model>"``,
``"band:<model>"``, ``"unbounded"``, ...), so figures can be checked by machine.

One module per family of figures: :mod:`~lsi.figures.fits` (fit, comparison),
:mod:`~lsi.figures.doubling`, :mod:`~lsi.figures.forecasts` (forecast, backtest),
:mod:`~lsi.figures.failures` (the assumption report), :mod:`~lsi.figures.confusion`
(how often each model wins when another is true), :mod:`~lsi.figures.specifications` (the
specification curve), :mod:`~lsi.figures.loop` (loop diagnostics, Amdahl speed-up),
:mod:`~lsi.figures.sweeps` (phase diagram, sensitivity) and :mod:`~lsi.figures.export`
(saving).  What they share lives in :mod:`~lsi.figures.style`, :mod:`~lsi.figures.axes`, :mod:`~lsi.figures.marks`,
:mod:`~lsi.figures.legend`, :mod:`~lsi.figures.labels` and :mod:`~lsi.figures.inputs`.
The full set for a fitted series is written by :func:`lsi.paper_figures.save_all`.
"""

from __future__ import annotations

from . import style
from .axes import DAYS as DAYS
from .confusion import distinguishability as distinguishability
from .doubling import doubling_times
from .export import save
from .failures import assumptions
from .fits import comparison, fit
from .forecasts import backtest, forecast
from .labels import ASSUMPTION_LABELS as ASSUMPTION_LABELS
from .labels import OUTPUT_LABELS as OUTPUT_LABELS
from .labels import PARAMETER_LABELS as PARAMETER_LABELS
from .labels import PARAMETER_SHORT as PARAMETER_SHORT
from .loop import amdahl_speedup, loop_diagnostics
from .specifications import robustness as robustness
from .sweeps import phase, sensitivity

__all__ = [
    "fit",
    "comparison",
    "doubling_times",
    "forecast",
    "phase",
    "loop_diagnostics",
    "amdahl_speedup",
    "assumptions",
    "sensitivity",
    "backtest",
    "distinguishability",
    "robustness",
    "save",
    "COLUMN_WIDTHS",
]

#: figure widths in inches for one and two journal columns
COLUMN_WIDTHS = dict(style.WIDTHS)
