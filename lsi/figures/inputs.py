"""What :mod:`lsi.figures` accepts: the results of a FitCollection to draw (and the notes on
those left out), forecast Datasets and the DataFrames of the sensitivity analyses, checked
with messages that name what is missing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard

from ..exceptions import ParameterValueError, UnknownModelError

if TYPE_CHECKING:  # pragma: no cover
    from ..fitting import FitCollection, FitResult


def chosen_results(
    fits: FitCollection, models: str | Sequence[str] | None, default_top: int | None = None
) -> tuple[list[FitResult], list[str]]:
    """The results to draw, and a note on the ones left out (empty when none are)."""
    if isinstance(models, str):
        models = [models]
    if models is None:
        chosen = [r for r in fits.values() if r.converged]
        chosen.sort(key=lambda r: r.aicc)
        notes = []
        if default_top is not None and len(chosen) > default_top:
            notes.append(", ".join(r.name for r in chosen[default_top:]) + " (higher AICc)")
            chosen = chosen[:default_top]
        bad = [r.name for r in fits.values() if not r.converged]
        if bad:
            notes.append(", ".join(bad) + " (did not converge)")
        return chosen, notes
    out = []
    for name in models:
        if name not in fits:
            raise UnknownModelError(f"no fit of {name!r} in this collection; fitted: {', '.join(fits)}")
        out.append(fits[name])
    return out, []


def noise_name(fits: FitCollection) -> str:
    """The name of the collection's noise model (``log``, ``logit``, ``additive``)."""
    return str(fits.noise.name)


def is_collection(obj: Any) -> TypeGuard[FitCollection]:
    """Whether ``obj`` is a FitCollection (a mapping of results with a series and a noise model)."""
    return hasattr(obj, "series") and hasattr(obj, "noise") and isinstance(obj, Mapping)


def check_forecast(ds: Any) -> None:
    """Raise unless ``ds`` is a forecast Dataset with a lower and an upper quantile."""
    missing = [k for k in ("prediction", "curve") if k not in getattr(ds, "data_vars", {})]
    dims = set(getattr(ds, "dims", ()))
    if missing or not {"model", "time", "quantile"} <= dims:
        raise ParameterValueError(
            "a forecast must be the xarray.Dataset of fits.forecast(...), with variables "
            "prediction and curve "
            f"over dims model, time, quantile; got variables {list(getattr(ds, 'data_vars', {}))} "
            f"and dims {sorted(dims)}"
        )
    if ds.sizes["quantile"] < 2:
        raise ParameterValueError("a forecast needs at least two quantiles (lower, upper) to draw a band")


def check_columns(df: Any, what: str, need: Sequence[str], source: str) -> None:
    """Raise unless the DataFrame ``df`` (argument ``what``, made by ``source``) has the columns."""
    cols = set(getattr(df, "columns", ()))
    missing = [c for c in need if c not in cols]
    if missing:
        raise ParameterValueError(f"{what} must be the DataFrame of {source}; missing columns {missing}")
