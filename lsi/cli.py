"""The ``lsi`` command line: subcommands mirror the library one to one.

``lsi fit SOURCE``      :func:`lsi.fit` and the comparison table (``--json`` for machines)
``lsi report SOURCE``   :func:`lsi.answer`: which assumption of RSI fails first, and how sure (the main job)
``lsi sweep``           :func:`lsi.sweep`: the loop model over a parameter grid (netCDF), or Sobol indices
``lsi figures SOURCE``  :mod:`lsi.figures`: the paper figures for a series (``--out DIR``)
``lsi forecast SOURCE`` :func:`lsi.calibration.calibrated_forecast`: calibrated bands to ``--until``
``lsi backtest SOURCE`` :func:`lsi.backtest.backtest`: fit up to past origins, score what came after

SOURCE is a CSV file (columns ``date`` or ``t``, ``value`` or ``y``, optional ``sigma``,
``lower``/``upper``, ``label``; other names with ``--time``, ``--value``, ...) or the name of a
shipped dataset (``lsi datasets`` lists them).

What the command writes on standard error:

- ``lsi: warning: ...``: one line per warning, as it arises;
- ``lsi: note: ...``: how a shipped dataset was loaded, at the end of a run that succeeds;
- on a failure, **exactly one line** ``lsi: error: ...`` that names the bad value (the
  option, the file) and the fix, and exit status 2; an interrupt (Ctrl-C) gives the one line
  ``lsi: interrupted`` and exit status 130.  Never a traceback, and an output (``--out``)
  is written whole or not at all.

Options are checked before any long work starts: numbers finite and in range, seeds and counts
whole numbers, dates after the data, ``--out`` writable.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .exceptions import LsiError, LsiWarning, ParameterValueError, SeriesError, UsageError

__all__ = ["main", "load_source", "build_parser"]

#: bootstrap replicates by default (lsi.bootstrap.DEFAULT_N; written here so that --help loads no numpy)
DEFAULT_N = 300
#: the most bootstrap replicates a command accepts (a probability's Monte Carlo error is then 0.002)
MAX_REPLICATES = 100_000
#: no date after this year is meaningful for a forecast or a horizon
LAST_YEAR = 10_000
#: the most points of a forecast's time grid (as lsi.forecast.forecast allows)
MAX_GRID = 200_000
#: what a CSV's columns and dates may be told with (option dest -> Series.from_csv keyword)
COLUMN_OPTIONS = ("time", "value", "sigma", "lower", "upper", "label", "dropna", "date_format", "dayfirst", "date_unit")
#: the figures ``lsi figures`` writes (lsi.paper_figures.save_all)
FIGURES = ("fit", "comparison", "doubling_times", "assumptions", "forecast", "backtest")


# ---------------------------------------------------------------- one line per failure
def _line(text: str) -> str:
    """One printable line: line breaks and other control characters (a hostile file name's
    terminal escapes) are shown escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))


# the library's keyword arguments, as the command line spells them
_KEYWORDS = (
    (re.compile(r"\bdayfirst=True or False\b"), "--dayfirst or --monthfirst"),
    (re.compile(r"\bdayfirst=True\b"), "--dayfirst"),
    (re.compile(r"\bdayfirst=False\b"), "--monthfirst"),
    (re.compile(r"\bdropna=True\b"), "--dropna"),
    (re.compile(r"\bdate_format=('[^']*'|\"[^\"]*\")"), r"--date-format \1"),
    (re.compile(r"\bdate_format=(?=[\s,;)]|$)"), "--date-format"),
    (re.compile(r"\bdate_unit=['\"]?(\w+)['\"]?"), r"--date-unit \1"),
    (re.compile(r"\bdate_unit=(?=[\s,;)]|$)"), "--date-unit"),
    (re.compile(r"\b(time|value|sigma|lower|upper|label)=\.\.\."), r"--\1 ..."),
    (re.compile(r"\b(time|value|sigma|lower|upper|label)=('[^']*'|\"[^\"]*\")"), r"--\1 \2"),
    (re.compile(r"\bnoise=['\"](additive|log|logit)['\"]"), r"--noise \1"),
)


def _cli_words(text: str) -> str:
    """A library message in the command line's words (``dayfirst=True`` -> ``--dayfirst``)."""
    for pattern, repl in _KEYWORDS:
        text = pattern.sub(repl, text)
    return text


def _say(kind: str, text: str) -> None:
    print(_line(f"lsi: {kind}: {_cli_words(text)}"), file=sys.stderr)


def _warning_line(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    stream = sys.stderr if file is None else file
    text = str(message) if issubclass(category, LsiWarning) else f"{category.__name__}: {message}"
    stream.write(_line(f"lsi: warning: {_cli_words(text)}") + "\n")


def _os_line(exc: OSError) -> str:
    """The one line for an operating-system error no lsi code restated."""
    what = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    names = [os.fspath(f) for f in (exc.filename, exc.filename2) if f is not None]
    where = f"{' -> '.join(names)}: " if names else ""
    return f"{where}{what[:1].lower()}{what[1:]}; check the path, its permissions and the free space, and try again"


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one ``UsageError`` line naming the option and the fix."""

    def error(self, message: str) -> NoReturn:
        m = re.match(r"argument (\S+?)(?:/\S+)?: (.*)$", message, re.S)
        if m:
            option, rest = m.groups()
            text = rest.replace("{opt}", option) if "{opt}" in rest else f"{option}: {rest}"
        else:
            text = message
        if "{opt}" not in message:
            text += f" (see `{self.prog} --help`)"
        raise UsageError(text)


# ---------------------------------------------------------------- option types (no numpy)
def _whole(what: str, minimum: int, example: int, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number in [minimum, maximum]; ``what`` says what it counts."""

    def parse(text: str) -> int:
        try:
            n = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{{opt}} {text!r}: {what} is a whole number >= {minimum} (e.g. {{opt}} {example})"
            ) from None
        if n < minimum:
            raise argparse.ArgumentTypeError(
                f"{{opt}} {n}: {what} is a whole number >= {minimum} (e.g. {{opt}} {example})"
            )
        if maximum is not None and n > maximum:
            raise argparse.ArgumentTypeError(f"{{opt}} {n}: {what} is at most {maximum:_} (e.g. {{opt}} {example})")
        return n

    parse.__name__ = "whole number"
    return parse


def _real(text: str) -> float:
    try:
        x = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{{opt}} {text!r} is not a number") from None
    return x


def _finite(what: str, example: str) -> Callable[[str], float]:
    """A finite number (not nan, not inf)."""

    def parse(text: str) -> float:
        x = _real(text)
        if not math.isfinite(x):
            raise argparse.ArgumentTypeError(f"{{opt}} {text}: {what} must be a finite number (e.g. {{opt}} {example})")
        return x

    return parse


def _positive(what: str, example: str) -> Callable[[str], float]:
    """A finite number > 0."""

    def parse(text: str) -> float:
        x = _real(text)
        if not (math.isfinite(x) and x > 0):
            raise argparse.ArgumentTypeError(
                f"{{opt}} {text}: {what} must be a positive finite number (e.g. {{opt}} {example})"
            )
        return x

    return parse


def _fraction(text: str) -> float:
    """A level strictly between 0 and 1."""
    x = _real(text)
    if not (math.isfinite(x) and 0 < x < 1):
        raise argparse.ArgumentTypeError(
            f"{{opt}} {text}: a level is a probability strictly between 0 and 1 (e.g. {{opt}} 0.9)"
        )
    return x


def _when(text: str) -> float | str:
    """A decimal year (``2030``, ``2030.5``) or a date (``2030-06-30``); checked against the data
    once it is loaded."""
    t = text.strip()
    try:
        x = float(t)
    except ValueError:
        if not t:
            raise argparse.ArgumentTypeError(
                "{opt} is empty: give a decimal year or a date (e.g. {opt} 2030)"
            ) from None
        return t
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(
            f"{{opt}} {text}: a date must be a finite decimal year or an ISO date (e.g. {{opt}} 2030)"
        )
    if x > LAST_YEAR:
        raise argparse.ArgumentTypeError(
            f"{{opt}} {text}: dates after the year {LAST_YEAR} mean nothing here; give an earlier date "
            f"(e.g. {{opt}} 2030)"
        )
    return x


def _models_arg(text: str) -> Any:
    text = text.strip()
    if text.lower() == "all":
        return "all"
    return [m.strip() for m in text.split(",") if m.strip()]


# ---------------------------------------------------------------- the source
def load_source(
    source: str,
    *,
    frontier: bool = False,
    all_rows: bool = False,
    quiet: bool = False,
    columns: dict[str, Any] | None = None,
    notes: list[str] | None = None,
):
    """A Series from a CSV path or a shipped dataset name.

    A shipped dataset whose source states how it fits its trend (``datasets.info(name)
    ["trend_convention"]``, e.g. METR's frontier rows) is loaded that way unless ``all_rows``;
    a note on standard error says so (appended to ``notes`` instead, when given, so the
    command can print it once it has succeeded).  ``columns`` are keyword arguments of
    :meth:`lsi.Series.from_csv` (``time``, ``value``, ``date_format``, ...), for a CSV only.

    Raises
    ------
    lsi.exceptions.InputError
        The source is a folder or cannot be read (one line naming the path and the fix).
    lsi.exceptions.SeriesError
        It is neither a CSV file nor a shipped dataset, or the CSV is malformed.
    """
    from . import datasets
    from .files import os_error, os_errors
    from .series import Series

    # None: not given (dayfirst=False is given: month first); dropna=False is the default
    columns = {k: v for k, v in (columns or {}).items() if v is not None and not (k == "dropna" and v is False)}
    if os.path.exists(source) or source.lower().endswith(".csv"):
        _check_readable(source, os_error)
        with os_errors(source, reading=True):
            series = Series.from_csv(source, **columns)
    elif source in datasets.list():
        if columns:
            given = ", ".join("--" + k.replace("_", "-") for k in columns)
            raise UsageError(
                f"{given}: column and date options apply to a CSV file; {source!r} is a shipped dataset "
                "whose columns are known (give a CSV path to choose columns)"
            )
        convention = datasets.info(source).get("trend_convention") or {}
        options = {} if all_rows else dict(convention.get("options", {}))
        series = datasets.load(source, **options)
        if options and not quiet:
            note = f"{source}: {convention.get('description', '')} (--all-rows for every row)"
            if notes is None:
                print(_line(f"lsi: note: {note}"), file=sys.stderr)
            else:
                notes.append(note)
    else:
        raise SeriesError(
            f"{source!r} is neither a CSV file nor a shipped dataset; shipped: {', '.join(datasets.list())}"
        )
    return series.frontier() if frontier else series


def _check_readable(source: str, os_error: Callable[..., Exception]) -> None:
    """Refuse, as one InputError line, a source that is a folder, not a regular file (a pipe or
    a device, which could block or never end) or not readable."""
    import errno
    import stat

    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        return  # Series.from_csv says "no such file" with the fix
    except OSError as exc:
        raise os_error(exc, source, reading=True) from exc
    if stat.S_ISDIR(mode):
        raise os_error(IsADirectoryError(errno.EISDIR, "Is a directory"), source, reading=True)
    if not stat.S_ISREG(mode):
        raise os_error(OSError(errno.EINVAL, "Not a regular file (a pipe or a device)"), source, reading=True)
    if not os.access(source, os.R_OK):
        raise os_error(PermissionError(errno.EACCES, "Permission denied"), source, reading=True)


def _columns(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k, None) for k in COLUMN_OPTIONS}


def _load(args: argparse.Namespace):
    return load_source(
        args.source, frontier=args.frontier, all_rows=args.all_rows, columns=_columns(args), notes=args.notes
    )


def _year(value: float | str, option: str) -> float:
    """A decimal year from an option's value (a date is converted)."""
    if isinstance(value, float):
        return value
    from .series import to_decimal_years

    try:
        x = float(to_decimal_years([value])[0])
    except (SeriesError, ValueError, TypeError, OverflowError) as exc:
        raise UsageError(f"{option} {value!r}: {exc}") from None
    if not math.isfinite(x) or x > LAST_YEAR:
        raise UsageError(f"{option} {value!r}: give a date before the year {LAST_YEAR} (e.g. {option} 2030)")
    return x


def _after_data(value: float | str, series: Any, option: str, name: str) -> float:
    """The decimal year of ``value``, which must come after the last observation."""
    end = _year(value, option)
    last = float(series.t[-1])
    if not end > last:
        raise UsageError(f"{name} = {end:.3f} is not after the last observation ({last:.3f}); give a later {option}")
    return end


def _noise_name(args: argparse.Namespace, series: Any) -> str:
    if args.noise is not None:
        return str(args.noise)
    from .observation import default_noise

    return default_noise(series).name


def _check_reach(reach: float | None, noise: str) -> None:
    """A level that can be reached on this noise model: log noise keeps capability positive,
    logit noise keeps a score inside (0, 1)."""
    if reach is None:
        return
    if noise == "log" and reach <= 0:
        raise UsageError(
            f"--reach {reach:g}: a level <= 0 cannot be reached on log noise (capability stays positive); "
            "give a positive level in data units, or --noise additive"
        )
    if noise == "logit" and not 0 < reach < 1:
        raise UsageError(
            f"--reach {reach:g}: on logit noise a score stays strictly inside (0, 1); give a level in (0, 1)"
        )


def _check_out(path: str, *, folder: bool) -> None:
    """Refuse now, before the long work, an --out that cannot be written."""
    from .files import check_output, os_errors

    with os_errors(path):  # an error of the check itself (a name too long) is about path too
        check_output(path, folder=folder)


# ---------------------------------------------------------------- the commands
def _fits(args: argparse.Namespace, series: Any):
    from .fitting import fit

    return fit(series, _models_arg(args.models), noise=args.noise, t0=args.t0, level=args.level)


def _cmd_fit(args: argparse.Namespace) -> int:
    series = _load(args)
    fits = _fits(args, series)
    if args.json:
        print(json.dumps(fits.to_dict(), allow_nan=False))
    else:
        print(fits.summary())
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from . import datasets
    from .summary import datasets_text

    print(datasets_text({name: datasets.info(name).get("title", "") for name in datasets.list()}))
    return 0


def _cmd_figures(args: argparse.Namespace) -> int:
    _check_out(args.out, folder=True)
    series = _load(args)
    until = None if args.until is None else _after_data(args.until, series, "--until", "until")
    _check_reach(args.reach, _noise_name(args, series))
    fits = _fits(args, series)
    from .paper_figures import save_all

    written, skipped = save_all(
        fits,
        args.out,
        format=args.format,
        dpi=args.dpi,
        until=until,
        reach=args.reach,
        width=args.width,
        n_boot=args.bootstrap,
        seed=args.seed,
        backtest_boot=args.backtest,
    )
    if args.backtest == 0 and "backtest" in skipped:
        skipped["backtest"] = "pass --backtest 200 to draw it (it refits every model at every past origin)"
    if args.json:
        print(json.dumps({"written": {k: str(v) for k, v in written.items()}, "skipped": skipped}))
    else:
        for path in written.values():
            print(path)
        for name, why in skipped.items():
            args.notes.append(f"{name} not drawn: {why}")
    return 0


def _num(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _cmd_forecast(args: argparse.Namespace) -> int:

    from .forecast import reach_json
    from .series import iso_days
    from .summary import first_unbounded, forecast_text

    series = _load(args)
    end = _after_data(args.until, series, "--until", "until")
    if args.step is not None and (end - float(series.t[0])) / args.step > MAX_GRID:
        least = (end - float(series.t[0])) / MAX_GRID
        raise UsageError(
            f"--step {args.step:g}: that is more than {MAX_GRID:_} times from the first observation to "
            f"--until; give --step {least:.3g} or more (or leave it out for 201 times)"
        )
    _check_reach(args.reach, _noise_name(args, series))
    fits = _fits(args, series)
    if args.uncalibrated:
        ds = fits.forecast(end, level=args.level, n=args.n, seed=args.seed, step=args.step)
    else:
        from .calibration import calibrated_forecast

        ds = calibrated_forecast(fits, end, level=args.level, n=args.n, seed=args.seed, step=args.step)
    reach = None
    if args.reach is not None:
        reach = fits.time_to_reach(args.reach, ci_level=args.level, n=args.n, seed=args.seed)
    lo, mid, hi = (float(q) for q in ds["quantile"].values)
    time = [float(x) for x in ds["time"].values]
    # each time's calendar day (UTC) beside it: the forecast's `date` coordinate, read from the
    # decimal years so that a date past 2262, which nanoseconds cannot hold, is still given
    date = iso_days(ds["time"].values)
    calibrated = not args.uncalibrated

    def stat(name: str, key: str) -> float | None:
        return _num(ds[key].sel(model=name)) if calibrated else None

    def band(name: str) -> dict[str, Any]:
        p = ds["prediction"].sel(model=name)
        c = ds["curve"].sel(model=name)
        return {
            "time": time,
            "date": date,
            "median": [_num(v) for v in p.sel(quantile=mid).values],
            "lower": [_num(v) for v in p.sel(quantile=lo).values],
            "upper": [_num(v) for v in p.sel(quantile=hi).values],
            "curve_lower": [_num(v) for v in c.sel(quantile=lo).values],
            "curve_upper": [_num(v) for v in c.sel(quantile=hi).values],
            "unbounded_from": first_unbounded(ds, name),
            "kappa": stat(name, "kappa"),
            "past_coverage": stat(name, "past_coverage"),
        }

    names = [str(m) for m in ds["model"].values]
    fitted = [m for m in names if m in fits]
    if args.json:
        from .calibration import stacking_of

        a = ds.attrs
        out: dict[str, Any] = {
            "series": series.name,
            "units": series.units,
            "noise": fits.noise.name,
            "level": float(args.level),
            "band": "calibrated" if calibrated else "uncalibrated",
            "default_band": str(ds.attrs.get("band", "averaged")),
            "calibration": None
            if not calibrated
            else {
                "method": a["calibration"],
                "stacking": stacking_of(ds),
                "past_coverage": _num(a["past_coverage"]),
                "calibrated_coverage": _num(a["calibrated_coverage"]),
                "kappa": _num(a["kappa"]),
                "origins": [float(o) for o in a["calibration_origins"]],
                "note": a["calibration_note"],
            },
            "models": [{"name": m, "weight": _num(fits[m].weight), **band(m)} for m in fitted],
        }
        for key in ("stacked", "averaged", "bootstrap_mixture"):
            if key in names:
                out[key] = band(key)
        if reach is not None:
            out["reach"] = reach_json(reach)
        print(json.dumps(out, allow_nan=False))
        return 0
    print(forecast_text(ds, fits, reach, args.reach))
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest
    from .summary import backtest_text

    if args.t0 is not None:
        raise ParameterValueError("lsi backtest does not take --t0: every origin fits from the first observation")
    series = _load(args)
    origins = None
    if args.origins:
        origins = [_when_text(x.strip()) for x in args.origins.split(",") if x.strip()]
    bt = backtest(
        series,
        _models_arg(args.models),
        origins,
        noise=args.noise,
        level=args.level,
        horizon=args.horizon,
        n_boot=args.n_boot,
        seed=args.seed,
        naive_points=args.naive_points,
    )
    if args.json:
        print(json.dumps(bt.to_dict(), allow_nan=False))
    else:
        print(backtest_text(bt))
    return 0


def _when_text(text: str) -> Any:
    """A decimal year (``2030``, ``2030.5``) or a date as text, for the library to read."""
    try:
        return float(text)
    except ValueError:
        return text


def _pairs(items: list[str], what: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        if "=" not in item:
            raise UsageError(f"{what} {item!r} must look like NAME=VALUE (e.g. {what} p=0.5:1:51)")
        k, v = item.split("=", 1)
        k = k.strip()
        if not k:
            raise UsageError(f"{what} {item!r}: the parameter name is missing (e.g. {what} p=0.5:1:51)")
        out.append((k, v.strip()))
    return out


def _cmd_sweep(args: argparse.Namespace) -> int:
    grid: dict[str, Any] = {}
    given: dict[str, str] = {}
    for option, items in (("--param", args.param), ("--fixed", args.fixed)):
        for k, v in _pairs(items, option):
            if k in given:
                raise UsageError(
                    f"{option} {k}={v}: {k} is already given ({given[k]} {k}=...); give each parameter once, "
                    "swept with --param or fixed with --fixed"
                )
            given[k] = option
            if option == "--fixed":
                try:
                    value = float(v)
                except ValueError:
                    value = math.nan
                if math.isnan(value):
                    raise UsageError(f"--fixed {k}={v}: the value must be a number (inf allowed)")
                grid[k] = value
            else:
                grid[k] = v
    if args.out:
        _check_out(args.out, folder=False)

    import numpy as np

    from .sweeps import grid_spec

    grid = {k: grid_spec(v) if given[k] == "--param" else v for k, v in grid.items()}
    thresholds = {"kappa_min": args.kappa_min, "rho_min": args.rho_min, "eta_min": args.eta_min}
    if args.sobol:
        from .sensitivity import sobol
        from .summary import sobol_text

        swept = {k: v for k, v in grid.items() if np.ndim(v) == 1}
        if not swept:
            raise UsageError("--sobol needs at least one --param range (its start and stop bound a uniform prior)")
        priors = {k: (float(v.min()), float(v.max())) for k, v in swept.items()}
        fixed = {k: v for k, v in grid.items() if k not in swept}
        df = sobol(
            args.model,
            priors,
            until=args.until,
            t0=args.t0,
            thresholds=thresholds,
            n=args.n,
            output=args.output or ["lnC_end"],
            seed=args.seed,
            **fixed,
        )
        if args.json:
            print(df.to_json(orient="records"))
        else:
            print(sobol_text(df))
        return 0
    from .summary import sweep_text
    from .sweeps import sweep

    ds = sweep(
        args.model,
        until=args.until,
        t0=args.t0,
        thresholds=thresholds,
        multiples=args.multiple,
        chunks=args.chunks,
        engine=args.engine,
        max_memory=args.max_memory,
        **grid,
    )
    lazy = args.chunks is not None
    with _dask_progress(lazy):
        if args.out:
            from .quadrature.output import write_netcdf

            write_netcdf(ds, args.out)
        counts, n_cells = _first_failure_counts(ds)
    if args.json:
        summary = {"cells": n_cells, "first_failure": counts, "out": args.out, "engine": ds.attrs["engine"]}
        print(json.dumps(summary))
    else:
        dims = {str(d): int(ds.sizes[d]) for d in ds["first_failure"].dims}
        print(sweep_text(n_cells, dims, ds.attrs["engine"], counts, args.out))
    return 0


def _dask_progress(lazy: bool) -> Any:
    """dask's progress bar over a lazy sweep's computation, on a terminal; else nothing."""
    import contextlib

    if lazy and sys.stderr.isatty():
        from dask.diagnostics import ProgressBar

        return ProgressBar(out=sys.stderr)
    return contextlib.nullcontext()


def _first_failure_counts(ds: Any) -> tuple[dict[str, int], int]:
    """How many cells end in each first failure, counted blockwise on a lazy sweep (one pass
    over the graph, never the whole grid in memory)."""
    import numpy as np

    ff = ds["first_failure"]
    legend = list(ds.attrs["first_failure_legend"])
    if ff.chunks is None:
        values = np.asarray(ff.values)
        sums = [int((values == i).sum()) for i in range(len(legend))] + [int((values < 0).sum())]
    else:
        import dask

        data = ff.data
        sums = [int(v) for v in dask.compute(*[(data == i).sum() for i in range(len(legend))], (data < 0).sum())]
    counts = dict(zip(legend, sums[:-1], strict=True))
    counts["not evaluated"] = sums[-1]
    return counts, int(ff.size)


def _cmd_report(args: argparse.Namespace) -> int:
    if args.out:
        from .exceptions import require

        for module in ("jinja2", "markdown_it"):
            require(module, "the HTML report (lsi report --out)", "report")
        _check_out(args.out, folder=True)
    series = _load(args)
    horizon = None if args.horizon is None else _after_data(args.horizon, series, "--horizon", "horizon")
    from .verdict import CHECKS, answer

    checks = CHECKS if args.checks == "all" else [] if args.checks == "none" else _models_arg(args.checks)
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise UsageError(
            f"--checks {args.checks}: unknown {', '.join(unknown)}; give 'all', 'none' or a comma list of "
            f"{', '.join(CHECKS)}"
        )
    fits = _fits(args, series)
    thresholds = {"kappa_min": args.kappa_min, "rho_min": args.rho_min, "eta_min": args.eta_min}
    rep = answer(fits, n_boot=args.bootstrap, seed=args.seed, thresholds=thresholds, horizon=horizon, checks=checks)
    if args.out:
        from .report import write_report

        paths = write_report(rep, fits, args.out, backtest=args.backtest)
        if not args.json:
            print(f"wrote {len(paths)} files to {args.out}: " + ", ".join(os.path.basename(p) for p in paths))
    if args.json:
        print(rep.to_json())
    elif not args.out:
        print(rep.summary())
    return 0


# ---------------------------------------------------------------- the parser
def _add_source(p: argparse.ArgumentParser, *, level: float = 0.95) -> None:
    """The arguments every command on a series shares; ``level`` is the command's own default."""
    p.add_argument("source", help="CSV file or shipped dataset name (lsi datasets lists them)")
    p.add_argument("--frontier", action="store_true", help="keep only record-setting points")
    p.add_argument(
        "--all-rows",
        action="store_true",
        help="every row of a shipped dataset (default: the rows its source fits its trend to, e.g. METR's frontier)",
    )
    p.add_argument(
        "--noise",
        default=None,
        choices=("additive", "log", "logit"),
        help="additive, log or logit (default: the dataset's, else log for positive values)",
    )
    p.add_argument("--models", default="all", help="'all' or a comma list of model names")
    p.add_argument(
        "--t0",
        type=_finite("a time origin", "2020"),
        default=None,
        help="time origin (decimal year; default first point)",
    )
    p.add_argument("--level", type=_fraction, default=level, help=f"interval level (default {level:g})")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    g = p.add_argument_group("columns and dates of a CSV source (not for a shipped dataset)")
    g.add_argument("--time", metavar="COLUMN", help="the time column (default: date, t, time, year or decimal_year)")
    g.add_argument("--value", metavar="COLUMN", help="the value column (default: value or y)")
    g.add_argument("--sigma", metavar="COLUMN", help="the column of standard errors (default: sigma, if present)")
    g.add_argument("--lower", metavar="COLUMN", help="the column of lower bounds of an interval (with --upper)")
    g.add_argument("--upper", metavar="COLUMN", help="the column of upper bounds of an interval (with --lower)")
    g.add_argument("--label", metavar="COLUMN", help="the column naming each point (default: label, if present)")
    g.add_argument("--dropna", action="store_true", help="drop rows with a blank time or value (with a warning)")
    g.add_argument(
        "--date-format",
        metavar="FORMAT",
        help="strftime format of the dates, e.g. '%%d/%%m/%%Y' (default: ISO dates or decimal years)",
    )
    order = g.add_mutually_exclusive_group()
    order.add_argument(
        "--dayfirst",
        action="store_const",
        const=True,
        default=None,
        help="dates such as 01/03/2015 put the day first (1 March)",
    )
    order.add_argument(
        "--monthfirst",
        dest="dayfirst",
        action="store_const",
        const=False,
        help="dates such as 01/03/2015 put the month first (3 January)",
    )
    g.add_argument(
        "--date-unit",
        choices=("year", "s", "ms", "us", "ns", "excel"),
        help="unit of numeric times: decimal years (default), Unix seconds/ms/us/ns, or excel serial days",
    )


def _add_thresholds(p: argparse.ArgumentParser) -> None:
    """The three thresholds at which an assumption of the loop counts as failed."""
    p.add_argument(
        "--kappa-min",
        type=_finite("the closure threshold", "0.5"),
        default=0.5,
        metavar="KAPPA",
        help="closure threshold: the loop opens once closure kappa falls below it (default 0.5, "
        "Amdahl's knee: the AI and human parts of the R&D cycle take equal time)",
    )
    p.add_argument(
        "--rho-min",
        type=_finite("the returns threshold", "0"),
        default=0.0,
        metavar="RHO",
        help="returns threshold: self-amplification fails once the returns rho fall below it "
        "(default 0: each doubling then comes slower than the last)",
    )
    p.add_argument(
        "--eta-min",
        type=_finite("the efficiency threshold", "0.5"),
        default=0.5,
        metavar="ETA",
        help="efficiency threshold: efficiency is lost once eta (resource ceiling times "
        "organisational friction) falls below it (default 0.5)",
    )


_SEED = _whole("a seed", 0, 0)


def _replicates(example: int, minimum: int = 0) -> Callable[[str], int]:
    return _whole("the number of bootstrap replicates", minimum, example, MAX_REPLICATES)


def build_parser() -> argparse.ArgumentParser:
    """The ``lsi`` command's parser (it loads nothing of the science stack)."""
    from ._version import __version__

    parser = _Parser(
        prog="lsi",
        description="Lossy self-improvement: fit, compare and forecast AI capability growth.",
        epilog="Errors are one line on standard error ('lsi: error: ...') and exit status 2; "
        "an interrupt exits with 130.",
    )
    parser.add_argument("--version", action="version", version=f"lsi {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("fit", help="fit growth models to a series and compare them")
    _add_source(p)
    p.set_defaults(func=_cmd_fit)
    p = sub.add_parser("compare", help="alias of fit: the model comparison table")
    _add_source(p)
    p.set_defaults(func=_cmd_fit)
    p = sub.add_parser("datasets", help="list the shipped datasets")
    p.set_defaults(func=_cmd_datasets)
    figures = ", ".join(FIGURES[:-1]) + f" and {FIGURES[-1]}"
    p = sub.add_parser(
        "figures",
        help=f"write the paper figures for a series ({figures})",
        description=f"Write the paper figures for a series to --out: {figures} (with --backtest N, "
        "when some past origin can be scored), one file each, named after the figure (fit.pdf, ...). "
        "The folder is written whole or not at all.",
    )
    _add_source(p)
    p.add_argument("--out", required=True, help="folder for the figures (created if absent)")
    p.add_argument("--format", choices=["pdf", "svg", "png"], default="pdf", help="file format (default pdf)")
    p.add_argument(
        "--dpi",
        type=_whole("the resolution", 10, 300, 1200),
        default=300,
        help="resolution of raster output, dots per inch (default 300; 10 to 1200)",
    )
    p.add_argument(
        "--width",
        choices=["single", "double"],
        default="double",
        help="journal columns of the time-series figures (default double)",
    )
    p.add_argument(
        "--until",
        type=_when,
        default=None,
        help="end of the forecast, decimal year or ISO date (default: 3 years after the data)",
    )
    p.add_argument(
        "--reach",
        type=_finite("a level", "100"),
        default=None,
        help="mark when each model reaches this level (data units)",
    )
    p.add_argument(
        "--bootstrap",
        type=_replicates(DEFAULT_N),
        default=DEFAULT_N,
        help=f"bootstrap replicates of the assumption figure, the forecast and the dates --reach is "
        f"reached (default {DEFAULT_N}, as lsi report; 0: Akaike weights alone, no backtest)",
    )
    p.add_argument("--seed", type=_SEED, default=0, help="seed of the bootstraps (default 0)")
    p.add_argument(
        "--backtest",
        type=_replicates(200),
        default=0,
        metavar="N",
        help="also the backtest figure, with N bootstrap replicates per past origin (e.g. 200, as lsi "
        "backtest; it refits every model at every origin, about a minute on METR; default 0: not drawn)",
    )
    p.set_defaults(func=_cmd_figures)
    p = sub.add_parser("report", help="which assumption of RSI fails first, and how sure: the checked answer")
    _add_source(p)
    p.add_argument(
        "--bootstrap",
        type=_replicates(DEFAULT_N),
        default=DEFAULT_N,
        help=f"bootstrap replicates (default {DEFAULT_N}; 0: none)",
    )
    p.add_argument("--seed", type=_SEED, default=0, help="seed of the bootstrap and the checks (default 0)")
    p.add_argument(
        "--backtest",
        type=_replicates(200),
        default=0,
        metavar="N",
        help="with --out, also the backtest figure, N bootstrap replicates per past origin (e.g. 200; "
        "it refits every model at every origin, about a minute on METR; default 0: not drawn)",
    )
    p.add_argument(
        "--horizon",
        type=_when,
        default=None,
        help="last date a failure counts, decimal year or ISO date (default: 20 years after the data)",
    )
    _add_thresholds(p)
    p.add_argument(
        "--checks",
        default="all",
        help="how sure: 'all' (default), 'none', or a comma list of robustness, distinguishability, "
        "autocorrelation, calibration",
    )
    p.add_argument("--out", default=None, help="write the report (Markdown, HTML, figures, CSV/JSON) to this folder")
    p.set_defaults(func=_cmd_report)
    p = sub.add_parser("sweep", help="sweep the loop model's parameters (grid -> netCDF, or Sobol indices)")
    p.add_argument("--model", default="loop", help="loop, or a model that embeds in it (default loop)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="a swept parameter: NAME=start:stop:count or NAME=a,b,c (repeatable, once per name)",
    )
    p.add_argument(
        "--fixed",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a fixed parameter (repeatable, once per name, not also swept)",
    )
    p.add_argument(
        "--until",
        type=_finite("the end", "40"),
        required=True,
        help="end of every trajectory (units of --t0)",
    )
    p.add_argument("--t0", type=_finite("a time origin", "0"), default=0.0, help="time origin (default 0)")
    p.add_argument(
        "--multiple",
        type=_finite("a multiple", "10"),
        action="append",
        default=[],
        help="report when C/C0 reaches this (>= 1; repeatable)",
    )
    _add_thresholds(p)
    p.add_argument(
        "--max-memory",
        default=None,
        metavar="SIZE",
        help="memory a sweep may hold, e.g. 8GB (default: half the machine's memory); a larger grid needs --chunks",
    )
    p.add_argument(
        "--chunks",
        type=_whole("the number of cells per task", 1, 100_000),
        default=None,
        help="cells per dask task (lazy, bounded memory)",
    )
    p.add_argument(
        "--engine",
        choices=("auto", "numpy", "numba"),
        default="auto",
        help="who solves the cells: numba (pip install 'lsi[fast]') or numpy; auto picks numba if installed",
    )
    p.add_argument("--out", default=None, help="write the sweep to this netCDF file (written whole or not at all)")
    p.add_argument("--sobol", action="store_true", help="Sobol indices over the --param ranges (uniform priors)")
    p.add_argument(
        "--n",
        type=_whole("the Sobol base sample size", 1, 1024, 1 << 20),
        default=1024,
        help="Sobol base sample size (a power of 2; default 1024)",
    )
    p.add_argument("--output", action="append", default=None, help="Sobol output(s) (default lnC_end)")
    p.add_argument(
        "--seed",
        type=_SEED,
        default=0,
        help="seed of the Sobol sample and of its bootstrap intervals (default 0; with --sobol)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_sweep)
    p = sub.add_parser("forecast", help="forecast every model and their averages, with calibrated bands")
    _add_source(p, level=0.9)
    p.add_argument("--until", type=_when, required=True, help="end of the forecast (decimal year or ISO date)")
    p.add_argument(
        "--reach",
        type=_finite("a level", "100"),
        default=None,
        help="also the date each model reaches this level (data units)",
    )
    p.add_argument(
        "--n",
        "--bootstrap",
        dest="n",
        type=_replicates(DEFAULT_N, 20),
        default=DEFAULT_N,
        help=f"bootstrap replicates (default {DEFAULT_N}, as lsi report; at least 20)",
    )
    p.add_argument("--seed", type=_SEED, default=0, help="seed of the bootstrap and the calibration (default 0)")
    p.add_argument(
        "--step",
        type=_positive("a step", "0.25"),
        default=None,
        help="spacing of the time grid in years (default: 201 points)",
    )
    p.add_argument(
        "--uncalibrated",
        action="store_true",
        help="the plain band (parameter bootstrap and fitted noise) instead of the default band "
        "calibrated on the series' own past forecasts",
    )
    p.set_defaults(func=_cmd_forecast)
    p = sub.add_parser("backtest", help="fit up to past dates and score the forecasts of what came after")
    _add_source(p, level=0.9)
    p.add_argument(
        "--origins",
        default=None,
        help="comma list of forecast origins, decimal years or dates (default: up to 8 in the data)",
    )
    p.add_argument(
        "--horizon",
        type=_positive("a horizon in years", "2"),
        default=None,
        help="score only points this many years after an origin",
    )
    p.add_argument(
        "--n-boot",
        "--bootstrap",
        dest="n_boot",
        type=_replicates(200, 20),
        default=200,
        help="bootstrap replicates per origin (default 200; at least 20)",
    )
    p.add_argument("--seed", type=_SEED, default=0, help="seed of the bootstraps (default 0)")
    p.add_argument(
        "--naive-points",
        type=_whole("the number of points", 3, 5),
        default=5,
        help="points of the naive local-trend baseline (default 5; at least 3)",
    )
    p.set_defaults(func=_cmd_backtest)
    return parser


# ---------------------------------------------------------------- the entry point
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lsi`` command.

    Returns the exit status: 0 on success, 2 after one ``lsi: error:`` line, 130 after an
    interrupt.  ``--help`` and ``--version`` exit through :class:`SystemExit` (status 0), as
    argparse does.
    """
    old = warnings.showwarning
    warnings.showwarning = _warning_line
    notes: list[str] = []
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        args.notes = notes
        code = int(args.func(args) or 0)
        for note in notes:
            _say("note", note)
        return code
    except KeyboardInterrupt:
        print("lsi: interrupted", file=sys.stderr)
        return 130
    except LsiError as exc:
        _say("error", str(exc))
        return 2
    except BrokenPipeError:  # the reader of our output went away (lsi ... | head): nothing to say
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
            pass
        return 141  # as a shell reports a command ended by SIGPIPE
    except OSError as exc:
        _say("error", _os_line(exc))
        return 2
    except Warning as w:  # a warning made an error (python -W error)
        _say("error", f"{w} ({type(w).__name__}, an error here because warnings are errors: -W error)")
        return 2
    except MemoryError:
        _say(
            "error",
            "out of memory; ask for less (fewer bootstrap replicates, a coarser --step, a smaller grid, "
            "or --chunks for a sweep)",
        )
        return 2
    finally:
        warnings.showwarning = old


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
