"""Capability histories: :class:`Series`.

A :class:`Series` holds observation times in decimal years, observed values, and
optionally per-point uncertainties (a standard deviation ``sigma`` in data units,
or an interval ``lower``/``upper`` at level ``ci_level``) and labels (model names).
Dates of any common kind are converted to decimal years; times that are not in
order are sorted (with a warning); repeated times are legitimate and kept.
"""

from __future__ import annotations

import datetime as _dt
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import SeriesError, SeriesWarning

__all__ = ["Series", "decimal_year", "from_decimal_year"]


def _decimal_year_from_datetime64(values: np.ndarray) -> np.ndarray:
    ts = pd.DatetimeIndex(values)
    if ts.tz is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    year = ts.year.to_numpy()
    start = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1}))
    end = pd.to_datetime(pd.DataFrame({"year": year + 1, "month": 1, "day": 1}))
    elapsed = (ts - pd.DatetimeIndex(start)).total_seconds().to_numpy()
    length = (pd.DatetimeIndex(end) - pd.DatetimeIndex(start)).total_seconds().to_numpy()
    return year + elapsed / length


def decimal_year(times: Any) -> np.ndarray:
    """Convert times to decimal years.

    Accepts floats (returned as they are), ISO date strings, ``datetime.date`` /
    ``datetime.datetime`` objects, ``numpy.datetime64`` and pandas timestamps or a
    ``DatetimeIndex``.  2024-07-02 00:00 is 2024.5 (2024 is a leap year).

    Examples
    --------
    >>> float(decimal_year(["2024-07-02"])[0])
    2024.5
    """
    if isinstance(times, pd.DatetimeIndex):
        return _decimal_year_from_datetime64(times.to_numpy())
    if isinstance(times, pd.Series | pd.Index):
        if pd.api.types.is_datetime64_any_dtype(times.dtype):
            return _decimal_year_from_datetime64(pd.DatetimeIndex(times).to_numpy())
        times = times.to_numpy()
    arr = np.asarray(times)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.dtype.kind in "iuf":
        return arr.astype(float)
    if arr.dtype.kind == "M":
        return _decimal_year_from_datetime64(arr)
    if arr.dtype.kind == "b":
        raise SeriesError("times are booleans; give dates or decimal years")
    # strings, dates, datetimes, mixed objects
    if arr.size and all(isinstance(x, int | float | np.integer | np.floating) for x in arr.ravel()):
        return arr.astype(float)
    try:
        parsed = pd.to_datetime(pd.Series(arr.ravel()), format="mixed")
    except (ValueError, TypeError) as exc:
        bad = _first_unparsable(arr.ravel())
        raise SeriesError(
            f"cannot read time {bad!r} as a date or a decimal year; use ISO dates "
            "(2024-07-02) or decimal years (2024.5)"
        ) from exc
    if parsed.isna().any():
        bad = arr.ravel()[int(np.flatnonzero(parsed.isna().to_numpy())[0])]
        raise SeriesError(f"time {bad!r} is missing or not a date; remove the row or fix the date")
    return _decimal_year_from_datetime64(parsed.to_numpy())


def _first_unparsable(values: np.ndarray) -> Any:
    for v in values:
        if isinstance(v, _dt.date | np.datetime64 | int | float):
            continue
        try:
            pd.to_datetime(v)
        except (ValueError, TypeError):
            return v
    return values[0] if len(values) else None


def from_decimal_year(t: Any) -> pd.DatetimeIndex:
    """Inverse of :func:`decimal_year`: decimal years to timestamps."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    year = np.floor(t).astype(int)
    start = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1}))
    end = pd.to_datetime(pd.DataFrame({"year": year + 1, "month": 1, "day": 1}))
    length = (end - start).dt.total_seconds().to_numpy()
    return pd.DatetimeIndex(start + pd.to_timedelta((t - year) * length, unit="s"))


def _float_array(name: str, values: Any, n: int) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise SeriesError(f"{name} must be numbers; got {values!r:.60}") from exc
    if arr.size != n:
        raise SeriesError(f"{name} has {arr.size} entries but the series has {n} times; give one per time")
    return arr


@dataclass(frozen=True)
class Series:
    """A capability history.

    Parameters
    ----------
    t : array-like
        Observation times: decimal years, or dates (ISO strings, ``datetime``,
        ``numpy.datetime64``, pandas ``DatetimeIndex``), converted to decimal years.
    y : array-like
        Observed values, in data units (e.g. minutes of task horizon, FLOP, score).
    sigma : array-like, optional
        One-standard-deviation uncertainty of each value, in data units.
    lower, upper : array-like, optional
        A published interval for each value (e.g. a bootstrap CI) at level
        ``ci_level``; the noise model turns it into a standard deviation in the
        space where it fits.
    ci_level : float
        Level of ``lower``/``upper`` (default 0.95).
    labels : sequence of str, optional
        A label per point (e.g. the model name).
    name, units : str
        What the series measures.
    meta : mapping
        Free-form metadata (source, citation, recommended noise model, ...).

    Examples
    --------
    >>> s = Series(["2020-01-01", "2021-01-01", "2022-01-01"], [1.0, 2.0, 4.0])
    >>> s.t.round(3).tolist()
    [2020.0, 2021.0, 2022.0]
    """

    t: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    ci_level: float = 0.95
    labels: tuple[str, ...] | None = None
    name: str = "series"
    units: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = decimal_year(self.t)
        n = t.size
        if n == 0:
            raise SeriesError("the series is empty; give at least 3 (time, value) pairs")
        y = _float_array("values", self.y, n)
        extra: dict[str, np.ndarray | None] = {}
        for key in ("sigma", "lower", "upper"):
            v = getattr(self, key)
            extra[key] = None if v is None else _float_array(key, v, n)
        labels = None if self.labels is None else tuple(str(x) for x in self.labels)
        if labels is not None and len(labels) != n:
            raise SeriesError(f"labels has {len(labels)} entries but the series has {n} times")
        for key, arr in (("times", t), ("values", y)):
            bad = ~np.isfinite(arr)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise SeriesError(
                    f"{key} contain {int(bad.sum())} NaN/inf entries (first at position {i}: "
                    f"{arr[i]}); remove those rows or fill them"
                )
        sig = extra["sigma"]
        if sig is not None and (~np.isfinite(sig) | (sig <= 0)).any():
            i = int(np.flatnonzero(~np.isfinite(sig) | (sig <= 0))[0])
            raise SeriesError(f"sigma must be positive and finite; position {i} has {sig[i]}; drop sigma or fix it")
        lo, hi = extra["lower"], extra["upper"]
        if (lo is None) != (hi is None):
            raise SeriesError("give both lower and upper interval bounds, or neither")
        if lo is not None and hi is not None:
            bad = ~np.isfinite(lo) | ~np.isfinite(hi) | (lo > y) | (hi < y)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise SeriesError(
                    f"interval at position {i} [{lo[i]}, {hi[i]}] does not contain the value {y[i]}; fix the bounds"
                )
        if not 0 < self.ci_level < 1:
            raise SeriesError(f"ci_level must be in (0, 1); got {self.ci_level}")
        order = np.argsort(t, kind="stable")
        if np.any(np.diff(t) < 0):
            warnings.warn(
                f"times were not in order; sorted {n} points by time (ties keep their order)",
                SeriesWarning,
                stacklevel=3,
            )
            t, y = t[order], y[order]
            extra = {k: (None if v is None else v[order]) for k, v in extra.items()}
            if labels is not None:
                labels = tuple(labels[i] for i in order)
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "y", y)
        for key, v in extra.items():
            object.__setattr__(self, key, v)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "meta", dict(self.meta))
        for column in (self.t, self.y, self.sigma, self.lower, self.upper):
            if column is not None:
                column.setflags(write=False)

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return int(self.t.size)

    def __repr__(self) -> str:
        span = f"{self.t[0]:.2f}-{self.t[-1]:.2f}"
        unc = " with sigma" if self.sigma is not None else (" with intervals" if self.lower is not None else "")
        return f"<lsi.Series {self.name!r}: {len(self)} points, {span}{unc}>"

    def _repr_html_(self) -> str:
        """The series in a notebook: what it measures, then its first and last points."""
        from .display import series_html

        return series_html(self)

    @property
    def has_uncertainty(self) -> bool:
        return self.sigma is not None or self.lower is not None

    def _subset(self, idx: np.ndarray) -> Series:
        def take(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.asarray(a)[idx]

        return Series(
            t=self.t[idx],
            y=self.y[idx],
            sigma=take(self.sigma),
            lower=take(self.lower),
            upper=take(self.upper),
            ci_level=self.ci_level,
            labels=None if self.labels is None else tuple(self.labels[i] for i in idx),
            name=self.name,
            units=self.units,
            meta=self.meta,
        )

    def frontier(self) -> Series:
        """Keep only record-setting points (each strictly above every earlier value).

        Among points that share a time, only the highest can set a record.

        Examples
        --------
        >>> s = Series([2020, 2021, 2021, 2022, 2023], [1.0, 3.0, 2.0, 2.5, 4.0])
        >>> s.frontier().y.tolist()
        [1.0, 3.0, 4.0]
        """
        order = np.lexsort((-self.y, self.t))
        best = -np.inf
        keep = []
        for i in order:
            if self.y[i] > best:
                keep.append(i)
                best = self.y[i]
        return self._subset(np.asarray(keep, dtype=int))

    def until(self, t_max: float) -> Series:
        """The points observed at or before ``t_max`` (a decimal year or a date)."""
        t_max = float(decimal_year(t_max)[0])
        idx = np.flatnonzero(self.t <= t_max)
        if idx.size == 0:
            raise SeriesError(f"no observation at or before {t_max:.3f}; the series starts at {self.t[0]:.3f}")
        return self._subset(idx)

    def between(self, t_min: float, t_max: float) -> Series:
        """The points observed in ``[t_min, t_max]`` (decimal years or dates)."""
        lo, hi = float(decimal_year(t_min)[0]), float(decimal_year(t_max)[0])
        idx = np.flatnonzero((self.t >= lo) & (self.t <= hi))
        if idx.size == 0:
            raise SeriesError(
                f"no observation in [{lo:.3f}, {hi:.3f}]; the series spans {self.t[0]:.3f}-{self.t[-1]:.3f}"
            )
        return self._subset(idx)

    # ----------------------------------------------------------- conversions
    def to_pandas(self) -> pd.DataFrame:
        """A DataFrame with columns ``t``, ``date``, ``value`` and any of sigma/lower/upper/label."""
        df = pd.DataFrame({"t": self.t, "date": from_decimal_year(self.t), "value": self.y})
        for key in ("sigma", "lower", "upper"):
            v = getattr(self, key)
            if v is not None:
                df[key] = v
        if self.labels is not None:
            df["label"] = list(self.labels)
        return df

    @classmethod
    def from_pandas(
        cls,
        data: pd.DataFrame | pd.Series,
        *,
        time: str | None = None,
        value: str | None = None,
        sigma: str | None = None,
        lower: str | None = None,
        upper: str | None = None,
        label: str | None = None,
        **kwargs: Any,
    ) -> Series:
        """Build a series from a DataFrame (named columns) or a pandas Series (index = time).

        Column names default to ``date`` or ``t`` for time, ``value`` or ``y`` for
        the values, and ``sigma``, ``lower``, ``upper``, ``label`` when present.
        """
        if isinstance(data, pd.Series):
            return cls(t=data.index, y=data.to_numpy(), name=str(data.name or "series"), **kwargs)
        if not isinstance(data, pd.DataFrame):
            raise SeriesError(f"from_pandas needs a DataFrame or Series; got {type(data).__name__}")
        cols = {str(c).strip().lower(): c for c in data.columns}

        def pick(given: str | None, choices: Sequence[str], what: str, required: bool) -> Any:
            if given is not None:
                if given not in data.columns:
                    raise SeriesError(f"no column {given!r} for {what}; columns are {list(data.columns)}")
                return given
            for c in choices:
                if c in cols:
                    return cols[c]
            if required:
                raise SeriesError(
                    f"no {what} column: expected one of {list(choices)}; columns are {list(data.columns)}"
                )
            return None

        tcol = pick(time, ("date", "t", "time", "year", "decimal_year"), "time", True)
        vcol = pick(value, ("value", "y"), "value", True)
        scol = pick(sigma, ("sigma",), "sigma", False)
        locol = pick(lower, ("lower",), "lower", False)
        hicol = pick(upper, ("upper",), "upper", False)
        lcol = pick(label, ("label",), "label", False)
        kw: dict[str, Any] = dict(kwargs)
        if scol is not None:
            kw["sigma"] = data[scol].to_numpy(dtype=float)
        if locol is not None and hicol is not None:
            kw["lower"] = data[locol].to_numpy(dtype=float)
            kw["upper"] = data[hicol].to_numpy(dtype=float)
        if lcol is not None:
            kw["labels"] = [str(x) for x in data[lcol]]
        tvals = data[tcol]
        if tvals.isna().any():
            i = int(np.flatnonzero(tvals.isna().to_numpy())[0])
            raise SeriesError(f"time column {tcol!r} is empty at row {i + 1}; remove the row or fill the time")
        try:
            yvals = pd.to_numeric(data[vcol]).to_numpy(dtype=float)
        except (ValueError, TypeError) as exc:
            raise SeriesError(f"value column {vcol!r} holds non-numbers; fix or remove those rows") from exc
        return cls(t=tvals.to_numpy(), y=yvals, **kw)

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str], **kwargs: Any) -> Series:
        """Read a CSV with a time column (``date`` ISO dates, or ``t`` decimal years), a value
        column (``value`` or ``y``) and optional ``sigma``, ``lower``/``upper`` and ``label``."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise SeriesError(f"no such file {path!r}; give a CSV path or a shipped dataset name")
        try:
            df = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise SeriesError(f"cannot read {path!r} as CSV ({type(exc).__name__}); check the file") from exc
        kwargs.setdefault("name", os.path.splitext(os.path.basename(path))[0])
        return cls.from_pandas(df, **kwargs)
