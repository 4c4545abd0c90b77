"""Saving figures for print: vector PDF/SVG with TrueType fonts or PNG at a chosen dpi,
with reproducible metadata, written atomically (:func:`save`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from .._version import __version__
from ..exceptions import ParameterValueError
from ..files import atomic_path, os_errors
from . import style

__all__ = ["save"]


_FORMATS = ("pdf", "svg", "png", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp")


def save(
    fig: Figure,
    path: str | Path,
    *,
    dpi: int = 300,
    format: str | None = None,
    transparent: bool = False,
) -> Path:
    """Save a figure for print: vector PDF/SVG (TrueType fonts) or PNG at ``dpi``.

    The size is the figure's own (one or two journal columns), nothing is cropped,
    and the metadata carry no date, so the same figure saves to the same bytes.
    Parent directories are created.  The file is written atomically
    (:func:`lsi.files.atomic_path`): an interrupt or a full disk leaves the previous file
    (or none), never a truncated one.

    Parameters
    ----------
    fig : Figure
    path : str or Path
        Its suffix gives the format unless ``format`` is given.
    dpi : int
        Resolution of raster output (and of rasterised parts of vector output).
    format : str, optional
        ``"pdf"``, ``"svg"``, ``"png"``, ...
    transparent : bool
        Transparent background.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in _FORMATS:
        raise ParameterValueError(f"format {fmt or '(none)'!r}; use one of {', '.join(_FORMATS)} (e.g. fig.pdf)")
    if format is not None and path.suffix.lstrip(".").lower() != fmt:
        path = path.with_suffix(path.suffix + f".{fmt}" if path.suffix else f".{fmt}")
    if not isinstance(dpi, int | np.integer) or not 10 <= int(dpi) <= 4800:
        raise ParameterValueError(f"dpi = {dpi!r}; give an integer between 10 and 4800 (300 for print)")
    meta: dict[str, Any] | None
    creator = f"lsi {__version__} (matplotlib {mpl.__version__})"
    if fmt == "pdf":
        meta = {"Creator": creator, "CreationDate": None}
    elif fmt == "svg":
        meta = {"Creator": creator, "Date": None}
    elif fmt == "png":
        meta = {"Software": creator}
    elif fmt in ("eps", "ps"):
        meta = {"Creator": creator}
    else:
        meta = None
    with os_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    with style.context(), atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=int(dpi), format=fmt, metadata=meta, transparent=transparent)
    return path
