"""Curated capability histories shipped with lsi.

Each dataset is a small CSV table inside this package, selected from a public
source without estimation: values are exactly as published. Its metadata is
written once, in two places that never repeat each other:

- the ``# key: value`` lines at the top of the CSV (the keys of
  :data:`HEADER_KEYS`: title, citation, provenance, licence, units, noise,
  selection), so the file carries its own citation wherever it goes;
- ``registry.json`` beside the CSVs: everything that is not flat text
  (description, source, interval and its level, column roles, read types,
  options, row count, published headlines, caveats, trend convention), and
  which datasets are releases of one table.

This module only reads them. Adding a dataset takes a CSV with its header and
an entry in ``registry.json``; code is needed only for load options.

Functions
---------
list
    Names of the shipped datasets.
info
    Metadata of one dataset: title, description, source, citation, provenance
    (repository and commit), licence, units, recommended noise model, level of
    the per-point intervals, the selection rule applied, published headline
    numbers, caveats, the shipped releases of its table and the source's own
    convention for fitting a trend.
load
    One dataset as an :class:`lsi.Series` (``meta`` holds the metadata).
table
    The full curated table as a pandas DataFrame (every shipped column).
header
    The ``# key: value`` citation lines at the top of a dataset's CSV file.

Examples
--------
>>> from lsi import datasets
>>> "metr_horizons" in datasets.list()
True
>>> s = datasets.load("metr_horizons")
>>> s.units, s.meta["noise"], s.ci_level
('minutes', 'log', 0.95)
>>> int(datasets.table("metr_horizons")["is_sota"].sum())
14
"""

from __future__ import annotations

import builtins
import copy
import functools
import io
import json
from collections.abc import Callable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..exceptions import SeriesError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..series import Series

__all__ = ["list", "info", "load", "table", "header", "NOISE_MODELS", "HEADER_KEYS"]

#: Noise models a dataset may recommend (the space in which errors are additive).
NOISE_MODELS = ("additive", "log", "logit")

#: Metadata keys written as ``# key: value`` comment lines at the top of each CSV.
HEADER_KEYS = (
    "title",
    "citation",
    "repository",
    "commit",
    "source_path",
    "licence",
    "units",
    "noise",
    "selection",
)

# The keys of info(name) after "name", in order. HEADER_KEYS come from the CSV, "file" from the
# name, "releases" from the registry's release lists and every other key from the registry entry.
_INFO_KEYS = (
    "file",
    "title",
    "description",
    "source",
    "citation",
    "repository",
    "commit",
    "source_path",
    "licence",
    "units",
    "noise",
    "ci_level",
    "interval",
    "selection",
    "columns",
    "options",
    "n_rows",
    "published",
    "caveats",
    "releases",
    "trend_convention",
)

# Entry keys that every release of one table shares: an older release's entry leaves them out.
_SHARED_BY_RELEASES = ("ci_level", "interval", "columns", "dtypes", "options", "trend_convention")

# Column types in the registry's "dtypes" (the rest are read as numbers).
_DTYPES = {"str": str, "bool": bool}


@functools.cache
def _text(filename: str) -> str:
    """A file of this package as text (an immutable str, so caching it is safe)."""
    return resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")


@functools.cache
def _registry() -> dict[str, Any]:
    # Never handed out: info() and load() return deep copies.
    registry: dict[str, Any] = json.loads(_text("registry.json"))
    return registry


def list() -> builtins.list[str]:  # noqa: A001 - the public name is part of the API
    """Names of the shipped datasets, sorted.

    Returns
    -------
    list of str
        Dataset names accepted by :func:`load`, :func:`info` and :func:`table`.

    Examples
    --------
    >>> from lsi import datasets
    >>> datasets.list()[:2]
    ['epoch_compute', 'gpqa_diamond']
    """
    return sorted(_registry()["datasets"])


def _releases(name: str) -> builtins.list[str]:
    """The shipped releases of ``name``'s table, oldest first (``[name]`` when it has one)."""
    for names in _registry()["releases"].values():
        if name in names:
            return [*names]
    return [name]


def _spec(name: Any) -> dict[str, Any]:
    """The registry entry of ``name``, with what it shares with the newest release of its table."""
    entries = _registry()["datasets"]
    if not (isinstance(name, str) and name in entries):
        raise SeriesError(
            f"unknown dataset {name!r}; available: {', '.join(sorted(entries))}; "
            "for your own data use lsi.Series.from_csv(path)"
        )
    newest = _releases(name)[-1]
    if newest == name:
        return entries[name]
    shared = {key: entries[newest][key] for key in _SHARED_BY_RELEASES}
    return {**shared, **entries[name]}


def info(name: str) -> dict[str, Any]:
    """Metadata of a shipped dataset.

    Parameters
    ----------
    name : str
        A name from :func:`list`.

    Returns
    -------
    dict
        A fresh copy (safe to modify) with keys ``name``, ``file``, ``title``,
        ``description``, ``source``, ``citation``, ``repository``, ``commit``,
        ``source_path``, ``licence``, ``units``, ``noise`` (the recommended noise
        model: ``"additive"``, ``"log"`` or ``"logit"``), ``ci_level`` (level of
        the Series' ``lower``/``upper``, or None when it has none), ``interval``
        (what the interval is), ``selection`` (the rule applied to the source),
        ``columns`` (which table columns become time, value, lower, upper,
        label), ``options`` (what :func:`load` accepts), ``n_rows``,
        ``published`` (headline numbers computed from this data by their authors,
        with their grade and how to reproduce them), ``caveats``, ``releases``
        (the shipped datasets that are releases of the same table, oldest first,
        this one included; ``[name]`` when only one is shipped) and
        ``trend_convention`` (how the source itself fits its trend: a dict with
        ``options``, the :func:`load` options that select the rows it fits, and
        ``description``; None when the source states no such convention).

    Raises
    ------
    lsi.exceptions.SeriesError
        If ``name`` is not a shipped dataset.

    Examples
    --------
    >>> from lsi import datasets
    >>> meta = datasets.info("epoch_compute")
    >>> meta["noise"], meta["published"][0]["value"]
    ('log', 4.7)
    >>> datasets.info("metr_horizons")["releases"]
    ['metr_horizons_v1_0', 'metr_horizons']
    >>> datasets.info("metr_horizons")["trend_convention"]["options"]
    {'sota_only': True}
    """
    meta = {**_spec(name), **header(name), "file": f"{name}.csv", "releases": _releases(name)}
    return {"name": name, **{key: copy.deepcopy(meta[key]) for key in _INFO_KEYS}}


def _split_header(text: str) -> tuple[dict[str, str], str]:
    head: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        key, _, value = lines[i][1:].strip().partition(":")
        head[key.strip()] = value.strip()
        i += 1
    return head, "".join(lines[i:])


def header(name: str) -> dict[str, str]:
    """The ``# key: value`` comment lines at the top of a dataset's CSV file.

    Parameters
    ----------
    name : str
        A name from :func:`list`.

    Returns
    -------
    dict of str to str
        One entry per key of :data:`HEADER_KEYS`, equal to ``str(info(name)[key])``.

    Examples
    --------
    >>> from lsi import datasets
    >>> datasets.header("moore_transistors")["licence"]
    'CC BY 4.0'
    """
    _spec(name)
    return _split_header(_text(f"{name}.csv"))[0]


def table(name: str) -> pd.DataFrame:
    """The full curated table of a dataset, every shipped column, as published.

    Dates stay ISO strings, text columns are strings (only empty fields are
    missing), and flags such as ``is_sota`` are booleans. Each call returns a new
    DataFrame.

    Parameters
    ----------
    name : str
        A name from :func:`list`.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> from lsi import datasets
    >>> df = datasets.table("metr_horizons_v1_0")
    >>> df.shape
    (33, 11)
    >>> df.loc[df.model_id == "claude_3_7_sonnet", "p50_minutes"].item()
    56.09162
    """
    import pandas as pd

    dtypes = {col: _DTYPES[kind] for col, kind in _spec(name)["dtypes"].items()}
    _, body = _split_header(_text(f"{name}.csv"))
    return pd.read_csv(io.StringIO(body), dtype=dtypes, keep_default_na=False, na_values=[""])


def _check_options(name: str, options: Mapping[str, Any]) -> None:
    allowed = _spec(name)["options"]
    for key in options:
        if key not in allowed:
            valid = ", ".join(allowed) if allowed else "none"
            raise SeriesError(
                f"dataset {name!r} has no option {key!r}; its options are: {valid} "
                f"(see lsi.datasets.info({name!r})['options'])"
            )


# Load options: each function takes the table and the metadata (which it may update to say what
# the Series holds) and returns the rows to keep. A dataset without options needs none.
def _metr_rows(df: pd.DataFrame, meta: dict[str, Any], sota_only: bool = False, metric: str = "p50") -> pd.DataFrame:
    if metric not in ("p50", "p80"):
        raise SeriesError(f"metric must be 'p50' or 'p80'; got {metric!r}")
    if metric == "p80":
        meta["columns"].update(value="p80_minutes", lower="p80_ci_low_minutes", upper="p80_ci_high_minutes")
        meta["title"] = meta["title"].replace("50%", "80%")
        meta["interval"] = meta["interval"].replace("p50", "p80")
    return df[df["is_sota"]] if sota_only else df


def _epoch_rows(df: pd.DataFrame, meta: dict[str, Any], since: Any = None) -> pd.DataFrame:
    if since is None:
        return df
    from ..series import decimal_year

    cut = float(decimal_year(since)[0])
    return df[decimal_year(df["publication_date"]) >= cut]


def _imagenet_rows(df: pd.DataFrame, meta: dict[str, Any], extra_training_data: bool = True) -> pd.DataFrame:
    return df if extra_training_data else df[df["extra_training_data"] == "no"]


def _gpqa_rows(df: pd.DataFrame, meta: dict[str, Any], frontier: bool = False) -> pd.DataFrame:
    return df  # the frontier is taken on the Series, after sorting


def _patent_rows(df: pd.DataFrame, meta: dict[str, Any], measure: str = "per_million") -> pd.DataFrame:
    if measure not in ("per_million", "grants"):
        raise SeriesError(f"measure must be 'per_million' or 'grants'; got {measure!r}")
    if measure == "grants":
        meta["columns"]["value"] = "patent_grants"
        meta["units"] = "patent grants"
        meta["title"] = "US patent grants, 1963-2019"
    return df


def _all_rows(df: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    return df


_ROWS: dict[str, Callable[..., pd.DataFrame]] = {
    "metr_horizons": _metr_rows,
    "metr_horizons_v1_0": _metr_rows,
    "epoch_compute": _epoch_rows,
    "imagenet_top1": _imagenet_rows,
    "gpqa_diamond": _gpqa_rows,
    "us_patents": _patent_rows,
}


def _column(df: pd.DataFrame, col: str, shift: int) -> np.ndarray:
    """A numeric column as floats, the decimal point moved ``shift`` places.

    Moving the decimal point in the shortest decimal text of each value gives the
    float nearest the published decimal (87.4 % -> 0.874 exactly, where
    ``87.4 / 100`` would give 0.8740000000000001).
    """
    from decimal import Decimal

    import numpy as np

    values = df[col].to_numpy(dtype=float)
    if shift == 0:
        return values
    return np.array([float(Decimal(repr(float(v))).scaleb(shift)) for v in values])


def load(name: str, **options: Any) -> Series:
    """Load a shipped dataset as an :class:`lsi.Series`.

    Rows are put in time order (a stable sort, so rows sharing a time keep the
    table's order); ``meta`` is the dataset's :func:`info` plus the ``options``
    used, ``name`` is the dataset name and ``units`` its units.

    Parameters
    ----------
    name : str
        A name from :func:`list`.
    **options
        Dataset-specific options, listed in ``info(name)["options"]``:

        - ``metr_horizons``, ``metr_horizons_v1_0``: ``sota_only=False`` (keep
          the rows METR flags is_sota), ``metric="p50"`` (or ``"p80"``).
        - ``epoch_compute``: ``since=None`` (ISO date; ``"2010-01-01"`` gives the
          428 models of Epoch's 4.7x/year fit).
        - ``imagenet_top1``: ``extra_training_data=True`` (False drops the three
          results trained with extra data).
        - ``gpqa_diamond``: ``frontier=False`` (True keeps record-setting scores).
        - ``us_patents``: ``measure="per_million"`` (or ``"grants"``).

    Returns
    -------
    lsi.Series

    Raises
    ------
    lsi.exceptions.SeriesError
        For an unknown name or option.

    Examples
    --------
    >>> from lsi import datasets
    >>> s = datasets.load("metr_horizons_v1_0", sota_only=True)
    >>> len(s), s.labels[-1], s.meta["noise"]
    (17, 'claude_opus_4_5', 'log')
    >>> e = datasets.load("epoch_compute", since="2010-01-01")
    >>> len(e), e.lower is None
    (428, True)
    """
    import numpy as np

    from ..series import Series, decimal_year

    spec = _spec(name)
    _check_options(name, options)
    meta = info(name)
    df = _ROWS.get(name, _all_rows)(table(name), meta, **options)
    cols = meta["columns"]
    if df.empty:
        raise SeriesError(f"dataset {name!r} has no rows with options {options!r}; relax them")
    t = decimal_year(df[cols["time"]].to_numpy())
    order = np.argsort(t, kind="stable")
    df = df.iloc[order]
    shift = spec.get("decimal_shift", 0)
    kwargs: dict[str, Any] = {}
    if "lower" in cols:
        kwargs["lower"] = _column(df, cols["lower"], shift)
        kwargs["upper"] = _column(df, cols["upper"], shift)
        kwargs["ci_level"] = meta["ci_level"]
    if "label" in cols:
        kwargs["labels"] = [str(x) for x in df[cols["label"]]]
    meta["options_used"] = dict(options)
    series = Series(
        t=t[order], y=_column(df, cols["value"], shift), name=name, units=meta["units"], meta=meta, **kwargs
    )
    if options.get("frontier"):
        series = series.frontier()
    return series
