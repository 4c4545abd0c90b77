"""The one figure style of :mod:`lsi.figures`: colours, line styles, sizes and rc settings.

Models take the nine colours of Paul Tol's muted scheme, one each, with a line style of
their own (safe for the common colour-vision deficiencies, and distinct in greyscale by the
line styles); assumptions, data and the averages take the Okabe-Ito palette.  Sizes fit journal
columns: 3.5 in (one column) and 7.2 in (two columns), 8 pt text.  Nothing here
touches matplotlib's global state: :func:`context` is a ``rc_context`` used inside
each figure function and by :func:`lsi.figures.save`.
"""

from __future__ import annotations

import zlib
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.rcsetup import cycler  # what ``matplotlib.cycler`` is (its stub omits the name)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.typing import RcKeyType

#: Okabe & Ito (2008), "Color universal design"
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "skyblue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
GREY = "#8C8C8C"
LIGHT_GREY = "#D9D9D9"

#: journal column widths in inches
WIDTHS = {"single": 3.5, "double": 7.2}

#: Paul Tol's "muted" qualitative scheme (Tol 2021, "Colour schemes", SRON/EPS/TN/09-002):
#: nine colours that stay distinct for the common colour-vision deficiencies, one per fitted model
TOL_MUTED = {
    "indigo": "#332288",
    "cyan": "#88CCEE",
    "teal": "#44AA99",
    "green": "#117733",
    "olive": "#999933",
    "sand": "#DDCC77",
    "rose": "#CC6677",
    "wine": "#882255",
    "purple": "#AA4499",
}

#: colour, line style and residual marker per model; the same model looks the same in every
#: figure.  No two models share a colour (the nine fitted models take the nine colours of
#: :data:`TOL_MUTED`; the two averages are black and Okabe-Ito blue), and models whose
#: curves often coincide (the exponential and the sigmoids or the breakpoint, which all
#: grow exponentially early on) differ in line style too: the solid lines are drawn below
#: the patterned ones (see :func:`curve_zorder`), so each shows through the others' gaps.
MODEL_STYLE: dict[str, dict[str, Any]] = {
    "linear": {"color": TOL_MUTED["indigo"], "linestyle": (0, (1, 1.2)), "marker": "v"},
    "exponential": {"color": TOL_MUTED["green"], "linestyle": "-", "marker": "o"},
    "breakpoint": {"color": TOL_MUTED["teal"], "linestyle": (0, (6, 1.5, 1, 1.5)), "marker": "D"},
    "hyperbolic": {"color": TOL_MUTED["wine"], "linestyle": "-", "marker": "s"},
    "brake": {"color": TOL_MUTED["cyan"], "linestyle": (0, (4, 2)), "marker": "^"},
    "logistic": {"color": TOL_MUTED["olive"], "linestyle": (0, (7, 2.5)), "marker": "P"},
    "richards": {"color": TOL_MUTED["sand"], "linestyle": (0, (3, 2)), "marker": "X"},
    "gompertz": {"color": TOL_MUTED["purple"], "linestyle": (0, (3, 1, 1, 1)), "marker": "<"},
    "amdahl": {"color": TOL_MUTED["rose"], "linestyle": (0, (8, 1.5, 1.5, 1.5, 1.5, 1.5)), "marker": ">"},
    "loop": {"color": OKABE_ITO["black"], "linestyle": (0, (5, 1.5)), "marker": "h"},
    "averaged": {"color": OKABE_ITO["black"], "linestyle": "-", "marker": "*"},
    "bootstrap_mixture": {"color": OKABE_ITO["blue"], "linestyle": (0, (5, 1.5)), "marker": "p"},
    "stacked": {"color": OKABE_ITO["vermillion"], "linestyle": "-", "marker": "d"},
}
#: line widths of curves: solid lines a little wider than patterned ones, so a solid line
#: under a patterned one shows along its edges as well as through its gaps
SOLID_WIDTH = 1.7
PATTERNED_WIDTH = 1.0
_FALLBACK_COLOURS = ["blue", "vermillion", "green", "purple", "orange", "skyblue"]
_FALLBACK_STYLES = [(0, (1, 1)), (0, (6, 2, 1, 2)), (0, (3, 1.5))]
_FALLBACK_MARKERS = ["o", "s", "^", "D", "v"]

#: colour per assumption (the first-failure categories)
ASSUMPTION_COLOURS = {
    "closure": OKABE_ITO["blue"],
    "amplification": OKABE_ITO["vermillion"],
    "efficiency": OKABE_ITO["orange"],
    "none": LIGHT_GREY,
}

DATA_COLOUR = OKABE_ITO["black"]

RC: dict[RcKeyType, Any] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "legend.frameon": False,
    "legend.handlelength": 2.2,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=[OKABE_ITO[c] for c in _FALLBACK_COLOURS]),
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "errorbar.capsize": 0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.width": 0.4,
    "ytick.minor.width": 0.4,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "xtick.minor.size": 1.5,
    "ytick.minor.size": 1.5,
    "grid.linewidth": 0.4,
    "grid.color": "#E5E5E5",
    "hatch.linewidth": 0.6,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "figure.constrained_layout.h_pad": 0.03,
    "figure.constrained_layout.w_pad": 0.03,
    "pdf.fonttype": 42,  # TrueType, not Type 3: journals ask for it
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "lsi",  # reproducible SVG ids
    "path.simplify": True,
}


def context() -> AbstractContextManager[Any]:
    """The lsi style as a context manager (no global change)."""
    return mpl.rc_context(RC)


def width_in(width: str | float) -> float:
    """A figure width in inches: ``"single"`` (3.5), ``"double"`` (7.2) or a number."""
    if isinstance(width, str):
        try:
            return WIDTHS[width]
        except KeyError:
            raise ValueError(f"width = {width!r}; use 'single' (3.5 in), 'double' (7.2 in) or inches") from None
    w = float(width)
    if not 1.0 <= w <= 20.0:
        raise ValueError(f"width = {width!r} inches; give a width between 1 and 20 (journal columns: 3.5, 7.2)")
    return w


def model_style(name: str) -> dict[str, Any]:
    """Colour, line style and residual marker of a model (fixed ones for unknown names, from the name)."""
    if name in MODEL_STYLE:
        return dict(MODEL_STYLE[name])
    h = zlib.crc32(name.encode())
    return {
        "color": OKABE_ITO[_FALLBACK_COLOURS[h % len(_FALLBACK_COLOURS)]],
        "linestyle": _FALLBACK_STYLES[(h // 7) % len(_FALLBACK_STYLES)],
        "marker": _FALLBACK_MARKERS[(h // 3) % len(_FALLBACK_MARKERS)],
    }


def is_solid(linestyle: Any) -> bool:
    """Whether a line style draws an unbroken line."""
    return linestyle in ("-", "solid")


def curve_width(name: str) -> float:
    """Line width of a model's curve: :data:`SOLID_WIDTH` or :data:`PATTERNED_WIDTH`."""
    return SOLID_WIDTH if is_solid(model_style(name)["linestyle"]) else PATTERNED_WIDTH


def curve_zorder(names: list[str]) -> dict[str, float]:
    """Drawing order of model curves, ``names`` ranked best first: the best model on top,
    then the patterned lines above the solid ones (each group best first), so that no solid
    curve (the exponential, the hyperbolic) hides under another that coincides with it."""
    rest = names[1:]
    patterned = [m for m in rest if not is_solid(model_style(m)["linestyle"])]
    solid = [m for m in rest if is_solid(model_style(m)["linestyle"])]
    order = names[:1] + patterned + solid  # top first
    return {m: 3.9 - 0.01 * i for i, m in enumerate(order)}
