"""Capability histories: :class:`Series`, and the one reader of times, :func:`to_decimal_years`.

A :class:`Series` holds observation times in decimal years, observed values, and
optionally per-point uncertainties (a standard deviation ``sigma`` in data units,
or an interval ``lower``/``upper`` at level ``ci_level``) and labels (model names).
Dates of any common kind are converted to decimal years; times that are not in
order are sorted (with a warning); repeated times are legitimate and kept.

Times are never guessed.  Numbers, and text that is a number (``"2015.5"``), are
decimal years; ISO dates (``2015-07-02``) are dates; a column that mixes the two,
or whose day and month could be either way round (``01/03/2015``), is refused
until its format is stated (``date_format=`` or ``dayfirst=``); numbers that look
like Unix timestamps or spreadsheet serials in a table's time column are refused
until their unit is stated (``date_unit=``); times with a time zone are converted
to UTC with a warning.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import numbers
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import SeriesError, SeriesWarning

__all__ = ["Series", "to_decimal_years", "decimal_year", "from_decimal_year", "iso_days", "DATE_UNITS"]

#: Units a numeric time column may be declared in (``date_unit=``): decimal years, seconds,
#: milliseconds, microseconds or nanoseconds since 1970-01-01 UTC (Unix time), or days of a
#: spreadsheet's 1900 date system (serial 45000 is 2023-03-15).
DATE_UNITS = ("year", "s", "ms", "us", "ns", "excel")

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# ISO 8601 calendar dates (year first), optionally with a time and a zone; "/" or "." also
# separate year, month and day (2015/07/02): with the year first the order is never in doubt
_ISO = re.compile(
    r"(?P<date>[+-]?\d{4}(?P<sep>[-/.])\d{1,2}((?P=sep)\d{1,2})?)"
    r"([T ]\d{1,2}(:\d{2}(:\d{2}([.,]\d+)?)?)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}(:?\d{2})?)?"
)
# day and month first, in an order only the user knows: 01/03/2015, 1.3.15, 01-03-2015
_DAY_MONTH = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})")
_MONTH_NAME = re.compile(r"[A-Za-z]{3,}")
_YEAR4 = re.compile(r"(?<!\d)\d{4}(?!\d)")
_BLANK = frozenset({"", "nan", "na", "n/a", "nat", "none", "null"})

# where a problem is, in the words of the caller (a position in a list, a row of a table)
RowName = Callable[[int], str]


def _position(i: int) -> str:
    return f"position {i}"


def _listing(idx: Sequence[int] | np.ndarray, where: RowName, most: int = 8) -> str:
    """``rows 2, 5, 9 and 3 more``: the first few places, in the caller's words."""
    names = [where(int(i)) for i in idx]
    more = f" and {len(names) - most} more" if len(names) > most else ""
    words = {n.split(" ", 1)[0] for n in names}
    if len(words) == 1 and len(names) > 1 and all(" " in n for n in names):
        word = words.pop()
        return f"{word}s " + ", ".join(n.split(" ", 1)[1] for n in names[:most]) + more
    return ", ".join(names[:most]) + more


# ---------------------------------------------------------------- datetimes <-> decimal years
def _years_from_datetime64(values: np.ndarray) -> np.ndarray:
    """Naive (UTC) datetime64 values of any unit to decimal years; NaT becomes NaN."""
    us = np.asarray(values).astype("datetime64[us]")
    nat = np.isnat(us)
    year = us.astype("datetime64[Y]")
    start = year.astype("datetime64[us]")
    length = ((year + 1).astype("datetime64[us]") - start).astype(np.int64).astype(float)
    elapsed = (us - start).astype(np.int64).astype(float)
    with np.errstate(invalid="ignore"):
        out = year.astype(np.int64).astype(float) + 1970.0 + elapsed / length
    out[nat] = np.nan
    return out


def from_decimal_year(t: Any) -> pd.DatetimeIndex:
    """Inverse of :func:`to_decimal_years`: decimal years to timestamps (UTC, naive).

    A decimal year in float64 holds a date to about 15 microseconds, so the result is
    rounded to the nearest millisecond: any date with whole milliseconds comes back
    exactly (2023-02-24 is 2023-02-24 00:00:00, not 23:59:59.999996).  Times that are
    not finite or lie beyond the range of ``datetime64[us]`` become ``NaT``.

    Examples
    --------
    >>> str(from_decimal_year([2024.5])[0])
    '2024-07-02 00:00:00'
    """
    t = np.atleast_1d(np.asarray(t, dtype=float)).reshape(-1)
    out = np.full(t.shape, np.datetime64("NaT"), dtype="datetime64[us]")
    ok = np.isfinite(t) & (np.abs(t - 1970.0) < 2.9e5)
    if ok.any():
        year = np.floor(t[ok])
        ys = (year - 1970.0).astype(np.int64).astype("datetime64[Y]")
        start = ys.astype("datetime64[us]")
        length_us = ((ys + 1).astype("datetime64[us]") - start).astype(np.int64).astype(float)
        offset_ms = np.rint((t[ok] - year) * length_us / 1000.0).astype(np.int64)
        out[ok] = start + (offset_ms * 1000).astype("timedelta64[us]")
    return pd.DatetimeIndex(out)


def iso_days(t: Any) -> list[str | None]:
    """Each decimal year's calendar day (UTC) as ISO text, None where it has none.

    Examples
    --------
    >>> iso_days([2024.5, float("nan")])
    ['2024-07-02', None]
    """
    days = np.datetime_as_string(from_decimal_year(t).to_numpy(), unit="D")
    return [None if d == "NaT" else str(d) for d in days]


# ---------------------------------------------------------------- reading times
def _kind(x: Any) -> str:
    """What one time is: number, iso, daymonth, text, date, missing, bool or other."""
    if x is None or x is pd.NaT:
        return "missing"
    if isinstance(x, bool | np.bool_):
        return "bool"
    if isinstance(x, str):
        s = x.strip()
        if s.lower() in _BLANK:
            return "missing"
        if _NUMBER.fullmatch(s):
            return "number"
        if _ISO.fullmatch(s):
            return "iso"
        if _DAY_MONTH.fullmatch(s):
            return "daymonth"
        return "text"
    if isinstance(x, _dt.date | np.datetime64):  # datetime and pandas Timestamp are dates too
        return "missing" if pd.isna(x) else "date"
    if isinstance(x, numbers.Real):
        return "missing" if math.isnan(float(x)) else "number"
    return "other"


def _exact(x: Any) -> Any:
    """A number exactly as given (an int, a Decimal of its text, or the float itself)."""
    if isinstance(x, str):
        try:
            return Decimal(x.strip())
        except InvalidOperation:  # pragma: no cover - the regex admits only decimal text
            return x
    if isinstance(x, numbers.Integral):
        return int(x)
    return float(x)


def _check_distinct(years: np.ndarray, keys: Sequence[Any], raw: Sequence[Any] | np.ndarray, where: RowName) -> None:
    """Refuse times that differ as given but are equal as float64 decimal years."""
    first: dict[float, int] = {}
    for i, (y, k) in enumerate(zip(years.tolist(), keys, strict=True)):
        j = first.setdefault(y, i)
        if j != i and keys[j] != k:
            raise SeriesError(
                f"times must be distinct: {raw[j]!s} ({where(j)}) and {raw[i]!s} ({where(i)}) differ but are "
                "the same decimal year in float64; measure time from a nearer origin or merge the rows"
            )


def _implausible_years(years: np.ndarray, column: str) -> None:
    """Refuse a table's numeric time column whose numbers are not plausibly decimal years."""
    finite = np.abs(years[np.isfinite(years)])
    if finite.size == 0 or finite.max() < 1e4:
        return
    mid = float(np.median(finite))
    if 1e7 <= mid < 1e8:
        hint = "they look like YYYYMMDD dates: pass date_format='%Y%m%d'"
    elif 1e4 <= mid < 1e5:
        hint = "they look like spreadsheet serial days: pass date_unit='excel'"
    elif mid >= 1e8:
        unit = "s" if mid < 1e11 else "ms" if mid < 1e14 else "us" if mid < 1e17 else "ns"
        hint = f"they look like Unix timestamps: pass date_unit={unit!r}"
    else:
        hint = "state their unit with date_unit= (one of " + ", ".join(DATE_UNITS) + ")"
    raise SeriesError(
        f"time column {column!r} holds numbers such as {mid:.10g}, not decimal years; {hint} "
        "(or date_unit='year' if they really are years)"
    )


def _from_unit(values: np.ndarray, unit: str, where: RowName) -> np.ndarray:
    """Numbers in a declared unit (Unix time or spreadsheet days) to datetime64[us]."""
    with np.errstate(invalid="ignore"):
        if unit == "excel":
            early = np.flatnonzero(values < 61)
            if early.size:
                raise SeriesError(
                    f"spreadsheet serial {values[early[0]]:g} at {where(int(early[0]))} is before 1900-03-01, "
                    "where the 1900 date system is off by a day; give those dates as ISO text"
                )
            scale, origin = 86400e6, np.datetime64("1899-12-30", "us")
        else:
            scale, origin = {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3}[unit], np.datetime64("1970-01-01", "us")
        us = np.rint(values * scale)
    if not np.all(np.abs(us) < 9.2e18):
        raise SeriesError(f"times in unit {unit!r} are out of range for dates; check date_unit")
    return origin + us.astype(np.int64).astype("timedelta64[us]")


def _warn_zone(n: int) -> None:
    warnings.warn(
        f"{n} time(s) carried a time zone; converted to UTC (decimal years are UTC)",
        SeriesWarning,
        stacklevel=4,
    )


def _parse_strings(
    strings: list[str],
    kinds: list[str],
    date_format: str | None,
    dayfirst: bool | None,
    where: RowName,
    idx: list[int],
) -> tuple[np.ndarray, int]:
    """Date text to naive UTC datetime64[us], and how many carried a zone."""
    s = pd.Series([x.strip() for x in strings], dtype=object)
    if date_format is not None:
        try:
            parsed = pd.to_datetime(s, format=date_format, errors="coerce", utc=True)
        except (ValueError, TypeError) as exc:
            raise SeriesError(f"date_format={date_format!r} is not a strftime format ({exc})") from exc
        what = f"in date_format {date_format!r}"
        zoned = int(sum("%z" in date_format or "%Z" in date_format for _ in strings))
    else:
        present = sorted(set(kinds), key=["iso", "daymonth", "text"].index)
        if len(present) > 1:
            a, b = sorted(kinds.index(k) for k in present[:2])
            raise SeriesError(
                f"times mix date formats ({strings[a]!r} at {where(idx[a])}, {strings[b]!r} at {where(idx[b])}); "
                "write them in one format, or state it with date_format= (e.g. '%Y-%m-%d')"
            )
        kind = present[0]
        if kind == "iso":
            zones = [_ISO.fullmatch(x.strip()).group("zone") is not None for x in strings]  # type: ignore[union-attr]
            zoned = int(sum(zones))
            if 0 < zoned < len(strings):
                a, b = zones.index(True), zones.index(False)
                raise SeriesError(
                    f"some times carry a time zone ({strings[a]!r} at {where(idx[a])}) and some do not "
                    f"({strings[b]!r} at {where(idx[b])}); give every time in UTC or with its zone"
                )
            s = s.str.replace(r"^([+-]?\d{4})[/.](\d{1,2})(?:[/.](\d{1,2}))?", _dashes, regex=True)
            parsed = pd.to_datetime(s, format="ISO8601", errors="coerce", utc=True)
            what = "as an ISO date"
        elif kind == "daymonth":
            m = [_DAY_MONTH.fullmatch(x.strip()) for x in strings]
            if any(len(g.group(4)) == 2 for g in m if g):
                i = next(i for i, g in enumerate(m) if g and len(g.group(4)) == 2)
                raise SeriesError(
                    f"time {strings[i]!r} at {where(idx[i])} has a two-digit year; state the format with "
                    "date_format= (e.g. '%d/%m/%y')"
                )
            if dayfirst is None:
                late = next((i for i, g in enumerate(m) if g and int(g.group(1)) > 12), None)
                seen = f"; {strings[late]!r} at {where(idx[late])} reads only day first" if late is not None else ""
                raise SeriesError(
                    f"dates like {strings[0]!r} ({where(idx[0])}) can be day/month or month/day{seen}; "
                    "state the order with dayfirst=True or False, or date_format= (e.g. '%d/%m/%Y')"
                )
            order = "%d-%m-%Y" if dayfirst else "%m-%d-%Y"
            s = s.str.replace(r"[/.]", "-", regex=True)
            parsed = pd.to_datetime(s, format=order, errors="coerce", utc=True)
            zoned = 0
            what = f"with dayfirst={dayfirst}"
        else:
            no_year = [i for i, x in enumerate(strings) if not (_MONTH_NAME.search(x) and _YEAR4.search(x))]
            if no_year:
                i = no_year[0]
                raise SeriesError(
                    f"cannot read time {strings[i]!r} at {where(idx[i])} as a date or a decimal year without "
                    "guessing; use ISO dates (2024-07-02) or decimal years (2024.5), or state date_format="
                )
            out = []
            zoned = 0
            for x in strings:
                try:
                    ts = pd.Timestamp(x.strip())
                except (ValueError, TypeError):
                    out.append(pd.NaT)
                    continue
                if ts.tzinfo is not None:
                    zoned += 1
                    ts = ts.tz_convert("UTC")
                out.append(ts.tz_localize(None) if ts.tzinfo is not None else ts)
            parsed = pd.Series(pd.DatetimeIndex(out, dtype="datetime64[us]")).dt.tz_localize("UTC")
            what = "as a date"
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise SeriesError(
            f"time {strings[i]!r} at {where(idx[i])} is not a date {what}; fix it, or state the format "
            "with date_format= (ISO dates 2024-07-02 and decimal years 2024.5 need none)"
        )
    naive = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return naive.to_numpy().astype("datetime64[us]"), zoned


def _dashes(m: re.Match[str]) -> str:
    return "-".join(g for g in m.groups() if g)


def _check_options(date_format: Any, dayfirst: Any, date_unit: Any) -> None:
    if date_format is not None and not isinstance(date_format, str):
        raise SeriesError(f"date_format must be a strftime format such as '%d/%m/%Y'; got {date_format!r}")
    if dayfirst is not None and not isinstance(dayfirst, bool | np.bool_):
        raise SeriesError(f"dayfirst must be True, False or None; got {dayfirst!r}")
    if date_unit is not None and date_unit not in DATE_UNITS:
        raise SeriesError(f"date_unit = {date_unit!r}; choose one of {', '.join(DATE_UNITS)}")


def _parse_times(
    times: Any,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    date_unit: str | None = None,
    where: RowName = _position,
    column: str | None = None,
) -> np.ndarray:
    """Times of any accepted kind to decimal years (see :func:`to_decimal_years`).

    ``where`` names a position in the caller's words; ``column`` (a table's time column)
    turns on the check that numbers are plausibly years.
    """
    _check_options(date_format, dayfirst, date_unit)
    if isinstance(times, pd.Series | pd.Index):
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            _warn_zone(int(times.notna().sum()))
            times = pd.DatetimeIndex(times).tz_convert("UTC").tz_localize(None)
        times = times.to_numpy()
    arr = np.asarray(times)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    arr = arr.reshape(-1)
    if arr.dtype.kind == "b":
        raise SeriesError("times are booleans; give dates or decimal years")
    if arr.dtype.kind == "M":
        if date_unit is not None:
            raise SeriesError(f"date_unit={date_unit!r} applies to numbers; these times are already dates")
        years = _years_from_datetime64(arr)
        if arr.size > 1:
            keys = arr.astype("datetime64[us]").astype(np.int64)
            if np.unique(keys).size != np.unique(years).size:
                _check_distinct(years, keys.tolist(), [str(x) for x in arr], where)
        return years
    if arr.dtype.kind in "iuf" and date_format is None:
        return _numbers(arr, arr, date_unit, where, column)
    if arr.dtype.kind in "iuf" or arr.dtype.kind in "US":
        arr = arr.astype(object)
    if arr.dtype.kind != "O":
        raise SeriesError(f"cannot read times of type {arr.dtype}; give dates or decimal years")
    # one kind per value: numbers (or number text), ISO text, day/month text, other text, dates
    items = arr.tolist()
    if date_format is not None:  # every value that is not a date object is text in that format
        items = [_as_text(x) for x in items]
    kinds = [_kind(x) for x in items]
    for bad_kind, say in (("missing", "is missing"), ("bool", "is a boolean"), ("other", "is not a time")):
        if bad_kind in kinds:
            i = kinds.index(bad_kind)
            raise SeriesError(f"time {items[i]!r} at {where(i)} {say}; remove the row or give a date or a decimal year")
    if date_format is not None:
        kinds = ["date" if k == "date" else "format" for k in kinds]
    if all(k == "number" for k in kinds):
        return _numbers(np.array([float(x) for x in items]), items, date_unit, where, column, exact=True)
    if "number" in kinds:
        i, j = kinds.index("number"), next(i for i, k in enumerate(kinds) if k != "number")
        raise SeriesError(
            f"times mix decimal years ({items[i]!r} at {where(i)}) and dates ({items[j]!r} at {where(j)}); "
            "give one kind: ISO dates (2024-07-02) or decimal years (2024.5)"
        )
    if date_unit is not None:
        raise SeriesError(f"date_unit={date_unit!r} applies to numbers; these times are dates")
    out = np.empty(len(items), dtype="datetime64[us]")
    zoned = 0
    text = [i for i, k in enumerate(kinds) if k != "date"]
    if text:
        parsed, zoned = _parse_strings(
            [items[i] for i in text], [kinds[i] for i in text], date_format, dayfirst, where, text
        )
        out[text] = parsed
    objs = [i for i, k in enumerate(kinds) if k == "date"]
    if objs:
        stamps = [pd.Timestamp(items[i]) for i in objs]
        aware = [ts.tzinfo is not None for ts in stamps]
        if any(aware) and not all(aware) or (any(aware) and text and not zoned):
            raise SeriesError("some times carry a time zone and some do not; give every time in UTC or with its zone")
        zoned += sum(aware)
        out[objs] = np.array(
            [
                (ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts).as_unit("us").asm8
                for ts in stamps
            ],
            dtype="datetime64[us]",
        )
    if zoned:
        _warn_zone(zoned)
    years = _years_from_datetime64(out)
    if len(items) > 1:
        _check_distinct(years, out.astype(np.int64).tolist(), [str(x) for x in items], where)
    return years


def _as_text(x: Any) -> Any:
    """A value to be read with ``date_format``: whole numbers as their digits, text as it is."""
    if isinstance(x, bool | np.bool_) or not isinstance(x, numbers.Real):
        return x
    value = float(x)
    if not math.isfinite(value):
        return x
    return str(int(value)) if value == int(value) else str(x)


def _numbers(
    values: np.ndarray,
    raw: Sequence[Any] | np.ndarray,
    date_unit: str | None,
    where: RowName,
    column: str | None,
    exact: bool = False,
) -> np.ndarray:
    """Numeric times: decimal years, or converted from the declared unit."""
    years = values.astype(float)
    if date_unit is None and column is not None:
        _implausible_years(years, column)
    if date_unit not in (None, "year"):
        bad = np.flatnonzero(~np.isfinite(years))
        if bad.size:
            raise SeriesError(f"time {raw[int(bad[0])]!s} at {where(int(bad[0]))} is not finite; fix or remove it")
        years = _years_from_datetime64(_from_unit(years, str(date_unit), where))
        if years.size > 1:
            _check_distinct(years, [_exact(x) for x in raw], raw, where)
        return years
    # exact integers beyond 2**53 and decimal text can differ where their floats do not
    if years.size > 1 and (exact or (values.dtype.kind in "iu" and np.any(np.abs(years) >= 2.0**53))):
        _check_distinct(years, [_exact(x) for x in raw], raw, where)
    return years


def to_decimal_years(
    times: Any,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    date_unit: str | None = None,
) -> np.ndarray:
    """Convert times of any accepted kind to decimal years, never guessing.

    Accepted: numbers and number text (``2024.5``, ``"2024.5"``: decimal years); ISO
    dates and datetimes as text (``"2024-07-02"``, ``"2024-07-02T12:00Z"``;
    ``"2024/07/02"`` too); ``datetime.date`` / ``datetime.datetime``, pandas
    ``Timestamp`` / ``DatetimeIndex`` / datetime Series, ``numpy.datetime64``; text
    with a month name and a four-digit year (``"5 January 2024"``).  2024-07-02 00:00
    is 2024.5 (2024 is a leap year).

    Parameters
    ----------
    times : scalar or array-like
        One time or a sequence (a scalar gives an array of one).
    date_format : str, optional
        A ``strftime`` format every text time is read with (``'%d/%m/%Y'``,
        ``'%Y%m%d'``); needed for day/month text with two-digit years and for formats
        other than the above.
    dayfirst : bool, optional
        The order of day/month text such as ``01/03/2015``: True for day first, False
        for month first.  Such text is refused while this is None.
    date_unit : {"year", "s", "ms", "us", "ns", "excel"}, optional
        The unit of numeric times: decimal years (the default), Unix time in seconds,
        milliseconds, microseconds or nanoseconds, or days of a spreadsheet's 1900 date
        system (``"excel"``: 45000 is 2023-03-15).

    Returns
    -------
    numpy.ndarray
        One-dimensional float array of decimal years (UTC).

    Raises
    ------
    lsi.exceptions.SeriesError
        For a missing or unreadable time, a mix of decimal years and dates, a mix of
        date formats, day/month text without a stated order, some times with a zone
        and some without, or distinct times that are the same float64 decimal year.

    Warns
    -----
    lsi.exceptions.SeriesWarning
        When times carry a time zone (they are converted to UTC).

    Examples
    --------
    >>> to_decimal_years(["2024-07-02", "2025-01-01"]).tolist()
    [2024.5, 2025.0]
    >>> to_decimal_years("2015.5").tolist()
    [2015.5]
    >>> to_decimal_years(["01/03/2015", "13/03/2017"], dayfirst=True).round(3).tolist()
    [2015.162, 2017.195]
    >>> to_decimal_years([45000], date_unit="excel").round(4).tolist()
    [2023.2]
    """
    return _parse_times(times, date_format=date_format, dayfirst=dayfirst, date_unit=date_unit)


def decimal_year(times: Any) -> np.ndarray:
    """Convert times to decimal years: :func:`to_decimal_years` without options (its older name).

    Examples
    --------
    >>> float(decimal_year(["2024-07-02"])[0])
    2024.5
    """
    return _parse_times(times)


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
        ``numpy.datetime64``, pandas ``DatetimeIndex``), converted to decimal years by
        :func:`to_decimal_years` (which never guesses: see its options below).
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
    date_format, dayfirst, date_unit
        How to read ``t`` when it is text in another format, day/month text, or numbers
        in another unit (Unix time, spreadsheet days); see :func:`to_decimal_years`.
        They are not stored.

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
    date_format: InitVar[str | None] = None
    dayfirst: InitVar[bool | None] = None
    date_unit: InitVar[str | None] = None

    def __post_init__(self, date_format: str | None, dayfirst: bool | None, date_unit: str | None) -> None:
        t = _parse_times(self.t, date_format=date_format, dayfirst=dayfirst, date_unit=date_unit)
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
        """A DataFrame with columns ``t``, ``date``, ``value`` and any of sigma/lower/upper/label.

        ``date`` is :func:`from_decimal_year` of ``t``: exactly the dates read for any
        date given to the millisecond (2023-02-24 comes back as 2023-02-24).
        """
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
        dropna: bool = False,
        date_format: str | None = None,
        dayfirst: bool | None = None,
        date_unit: str | None = None,
        **kwargs: Any,
    ) -> Series:
        """Build a series from a DataFrame (named columns) or a pandas Series (index = time).

        Parameters
        ----------
        data : pandas.DataFrame or pandas.Series
            A table with one row per observation, or values indexed by time.
        time, value, sigma, lower, upper, label : str, optional
            The column of each role.  Defaults: ``date``, ``t``, ``time``, ``year`` or
            ``decimal_year`` for the time (exactly one of them may be present, else name
            it), ``value`` or ``y`` for the values, and ``sigma``, ``lower``, ``upper``
            and ``label`` when present (``lower`` and ``upper`` go together).  Names
            match without regard to case or surrounding spaces when that is unambiguous.
        dropna : bool
            Rows with a blank time, value, sigma, lower or upper are refused (the error
            lists them); with ``dropna=True`` they are dropped, with a warning that says
            how many and which.
        date_format, dayfirst, date_unit
            How to read the time column; see :func:`to_decimal_years`.  A numeric time
            column whose numbers are not plausibly years (Unix timestamps, spreadsheet
            serials, YYYYMMDD) is refused until ``date_unit=`` (or ``date_format=``) says
            what they are.
        **kwargs
            Passed to :class:`Series` (``name``, ``units``, ``ci_level``, ``meta``).

        Raises
        ------
        lsi.exceptions.SeriesError
            For a missing or ambiguous column, a repeated column name, ``lower``
            without ``upper`` (or the reverse), blank cells (without ``dropna``), text
            in a numeric column, or times that cannot be read without guessing.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"Publication date": ["2020-01-01", None, "2022-01-01"],
        ...                    "FLOP": [1e20, 3e20, 1e22]})
        >>> s = Series.from_pandas(df, time="Publication date", value="FLOP", dropna=True)  # doctest: +SKIP
        >>> len(s)  # doctest: +SKIP
        2
        """
        if isinstance(data, pd.Series):
            frame = pd.DataFrame({"time": data.index, "value": data.to_numpy()})
            kwargs.setdefault("name", str(data.name) if data.name is not None else "series")
            return _from_frame(
                cls, frame, dict(time="time", value="value"), dropna, (date_format, dayfirst, date_unit), kwargs
            )
        if not isinstance(data, pd.DataFrame):
            raise SeriesError(f"from_pandas needs a DataFrame or Series; got {type(data).__name__}")
        roles = dict(time=time, value=value, sigma=sigma, lower=lower, upper=upper, label=label)
        return _from_frame(cls, data, roles, dropna, (date_format, dayfirst, date_unit), kwargs)

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        *,
        time: str | None = None,
        value: str | None = None,
        sigma: str | None = None,
        lower: str | None = None,
        upper: str | None = None,
        label: str | None = None,
        dropna: bool = False,
        date_format: str | None = None,
        dayfirst: bool | None = None,
        date_unit: str | None = None,
        **kwargs: Any,
    ) -> Series:
        """Read a CSV with a time column (``date`` ISO dates, or ``t`` decimal years), a value
        column (``value`` or ``y``) and optional ``sigma``, ``lower``/``upper`` and ``label``.

        Every cell is read as the text it is (so ``2015.5`` stays a decimal year and large
        numbers keep every digit); leading ``#`` comment lines (a shipped dataset's header)
        are skipped.  The keyword arguments are those of :meth:`from_pandas`; ``name``
        defaults to the file's name.

        Raises
        ------
        lsi.exceptions.SeriesError
            For a file that is missing or unreadable, is not CSV, repeats a column name,
            or whose columns fail :meth:`from_pandas`'s checks.
        """
        path = os.fspath(path)
        if not os.path.exists(path):
            raise SeriesError(f"no such file {path!r}; give a CSV path or a shipped dataset name")
        if os.path.isdir(path):
            raise SeriesError(f"{path!r} is a folder, not a CSV file; give the path of a CSV file")
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                text = fh.read()
        except UnicodeDecodeError as exc:
            raise SeriesError(f"cannot read {path!r}: it is not UTF-8 text; save it as UTF-8 CSV") from exc
        except OSError as exc:
            raise SeriesError(
                f"cannot read {path!r} ({exc.strerror or type(exc).__name__}); check the path and its permissions"
            ) from exc
        lines = text.splitlines(keepends=True)
        skip = 0
        while skip < len(lines) and lines[skip].startswith("#"):
            skip += 1
        body = "".join(lines[skip:])
        if not body.strip():
            raise SeriesError(f"{path!r} has no header or rows; give a CSV with a header line")
        header = next(csv.reader(io.StringIO(body)), [])
        names = [h.strip() for h in header]
        for i, h in enumerate(names):
            if h in names[:i]:
                raise SeriesError(
                    f"{path!r} repeats the column name {h!r} (columns {names.index(h) + 1} and {i + 1}); "
                    "rename one so each column says what it holds"
                )
        try:
            df = pd.read_csv(io.StringIO(body), dtype=str, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise SeriesError(f"cannot read {path!r} as CSV ({type(exc).__name__}); check the file") from exc
        df.columns = [str(c).strip() for c in df.columns]
        kwargs.setdefault("name", os.path.splitext(os.path.basename(path))[0])
        roles = dict(time=time, value=value, sigma=sigma, lower=lower, upper=upper, label=label)
        return _from_frame(cls, df, roles, dropna, (date_format, dayfirst, date_unit), kwargs)


# ---------------------------------------------------------------- tables
_DEFAULT_COLUMNS = {
    "time": ("date", "t", "time", "year", "decimal_year"),
    "value": ("value", "y"),
    "sigma": ("sigma",),
    "lower": ("lower",),
    "upper": ("upper",),
    "label": ("label",),
}


def _row(i: int) -> str:
    return f"row {i + 1}"


def _blank(column: pd.Series) -> np.ndarray:
    """Cells that hold nothing: NaN, None, NaT, or empty / NA-like text."""
    blank = np.array(column.isna().to_numpy(), dtype=bool)
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        text = column.astype(str).str.strip().str.lower()
        blank |= text.isin(_BLANK).to_numpy()
    return np.asarray(blank, dtype=bool)


def _pick_columns(data: pd.DataFrame, roles: Mapping[str, str | None]) -> dict[str, Any]:
    """The column of each role, by the user's name or by the defaults; ambiguity is an error."""
    columns = list(data.columns)
    dup = pd.Index(columns)[pd.Index(columns).duplicated()]
    if len(dup):
        raise SeriesError(f"the table repeats the column name {dup[0]!r}; rename one so each column says what it holds")
    folded: dict[str, list[Any]] = {}
    for c in columns:
        folded.setdefault(str(c).strip().lower(), []).append(c)
    chosen: dict[str, Any] = {}
    for role, given in roles.items():
        if given is not None:
            if given in columns:
                chosen[role] = given
                continue
            near = folded.get(str(given).strip().lower(), [])
            if len(near) != 1:
                raise SeriesError(f"no column {given!r} for {role}; columns are {columns}")
            chosen[role] = near[0]
            continue
        found = [c for name in _DEFAULT_COLUMNS[role] for c in folded.get(name, [])]
        if len(found) > 1:
            raise SeriesError(
                f"columns {', '.join(repr(c) for c in found)} could each be the {role}; "
                f"choose one with {role}={found[0]!r} (or rename the other)"
            )
        if found:
            chosen[role] = found[0]
        elif role in ("time", "value"):
            raise SeriesError(
                f"no {role} column: expected one of {list(_DEFAULT_COLUMNS[role])}, or name it with "
                f"{role}=...; columns are {columns}"
            )
    if ("lower" in chosen) != ("upper" in chosen):
        have, lack = ("lower", "upper") if "lower" in chosen else ("upper", "lower")
        raise SeriesError(
            f"column {chosen[have]!r} gives the {have} bound but no column gives the {lack} bound; "
            f"name it with {lack}=..., or drop the {have} column"
        )
    used: dict[Any, str] = {}
    for role, c in chosen.items():
        if c in used:
            raise SeriesError(f"column {c!r} is chosen both as {used[c]} and as {role}; give each role its own column")
        used[c] = role
    return chosen


def _numeric(column: pd.Series, name: Any, role: str) -> np.ndarray:
    """A numeric column as floats (blanks already handled); text in it is an error naming the rows."""
    values = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & ~_blank(column))
    if bad.size:
        raise SeriesError(
            f"{role} column {name!r} holds non-numbers ({column.iloc[int(bad[0])]!r} at "
            f"{_listing(bad, _row)}); fix or remove those rows"
        )
    return np.asarray(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _from_frame(
    cls: type[Series],
    data: pd.DataFrame,
    roles: Mapping[str, str | None],
    dropna: bool,
    reading: tuple[str | None, bool | None, str | None],
    kwargs: dict[str, Any],
) -> Series:
    """A Series from a table: columns chosen, blank rows refused or dropped, times read."""
    if not isinstance(dropna, bool | np.bool_):
        raise SeriesError(f"dropna must be True or False; got {dropna!r}")
    named = {str(c).strip().lower() for c in data.columns}
    if (
        roles.get("time") is None
        and isinstance(data.index, pd.DatetimeIndex)
        and not named & set(_DEFAULT_COLUMNS["time"])
    ):
        # a table indexed by date, as pandas time series usually are: the index is the time
        data = data.reset_index(names="__time__")
        roles = {**roles, "time": "__time__"}
    cols = _pick_columns(data, roles)
    data = data.reset_index(drop=True)
    checked = [r for r in ("time", "value", "sigma", "lower", "upper") if r in cols]
    blank = {r: _blank(data[cols[r]]) for r in checked}
    any_blank = np.zeros(len(data), dtype=bool)
    for b in blank.values():
        any_blank |= b
    rows = np.flatnonzero(any_blank)
    if rows.size:
        which = ", ".join(f"{cols[r]!r}" for r in checked if blank[r].any())
        if not dropna:
            raise SeriesError(
                f"{rows.size} of {len(data)} rows have a blank {which} ({_listing(rows, _row)}); "
                "fill them, or pass dropna=True to drop them"
            )
        warnings.warn(
            f"dropped {rows.size} of {len(data)} rows with a blank {which} ({_listing(rows, _row)})",
            SeriesWarning,
            stacklevel=4,
        )
    keep = np.flatnonzero(~any_blank)

    def where(i: int) -> str:
        return _row(int(keep[i]))

    sub = data.iloc[keep]
    date_format, dayfirst, date_unit = reading
    t = _parse_times(
        sub[cols["time"]],
        date_format=date_format,
        dayfirst=dayfirst,
        date_unit=date_unit,
        where=where,
        column=str(cols["time"]),
    )
    kw: dict[str, Any] = dict(kwargs)
    for role in ("sigma", "lower", "upper"):
        if role in cols:
            kw[role] = _numeric(data[cols[role]], cols[role], role)[keep]
    if "label" in cols:
        labels = data[cols["label"]].iloc[keep]
        kw["labels"] = ["" if b else str(x) for x, b in zip(labels, _blank(labels), strict=True)]
    y = _numeric(data[cols["value"]], cols["value"], "value")[keep]
    return cls(t=t, y=y, **kw)
