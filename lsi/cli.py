"""The ``lsi`` command line: subcommands mirror the library one to one.

``lsi fit SOURCE``      :func:`lsi.fit` and the comparison table (``--json`` for machines)
``lsi report SOURCE``   :func:`lsi.assumptions`: which assumption of RSI fails first (the main job)
``lsi sweep``           :func:`lsi.sweep`: the loop model over a parameter grid (netCDF), or Sobol indices
``lsi figures SOURCE``  :mod:`lsi.figures`: the paper figures for a series (``--out DIR``)
``lsi forecast SOURCE`` :func:`lsi.forecast.forecast`: bands to ``--until``; ``--reach LEVEL`` adds dates
``lsi backtest SOURCE`` :func:`lsi.backtest.backtest`: fit up to past origins, score what came after

SOURCE is a CSV file (columns ``date`` or ``t``, ``value`` or ``y``, optional
``sigma``, ``lower``/``upper``, ``label``) or the name of a shipped dataset
(``lsi datasets`` lists them).  Errors are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from .exceptions import LsiError, LsiWarning, ParameterValueError, SeriesError

__all__ = ["main", "load_source"]


def load_source(source: str, *, frontier: bool = False, all_rows: bool = False, quiet: bool = False):
    """A Series from a CSV path or a shipped dataset name.

    A shipped dataset whose source states how it fits its trend (``datasets.info(name)
    ["trend_convention"]``, e.g. METR's frontier rows) is loaded that way unless ``all_rows``;
    a note on standard error says so.
    """
    from . import datasets
    from .series import Series

    if os.path.exists(source) or source.lower().endswith(".csv"):
        series = Series.from_csv(source)
    elif source in datasets.list():
        convention = datasets.info(source).get("trend_convention") or {}
        options = {} if all_rows else dict(convention.get("options", {}))
        series = datasets.load(source, **options)
        if options and not quiet:
            print(
                f"lsi: note: {source}: {convention.get('description', '')} (--all-rows for every row)",
                file=sys.stderr,
            )
    else:
        raise SeriesError(
            f"{source!r} is neither a CSV file nor a shipped dataset; shipped: {', '.join(datasets.list())}"
        )
    return series.frontier() if frontier else series


def _models_arg(text: str) -> Any:
    text = text.strip()
    if text.lower() == "all":
        return "all"
    return [m.strip() for m in text.split(",") if m.strip()]


def _add_source(p: argparse.ArgumentParser, *, level: float = 0.95) -> None:
    """The arguments every command on a series shares; ``level`` is the command's own default."""
    p.add_argument("source", help="CSV file or shipped dataset name")
    p.add_argument("--frontier", action="store_true", help="keep only record-setting points")
    p.add_argument(
        "--all-rows",
        action="store_true",
        help="every row of a shipped dataset (default: the rows its source fits its trend to, e.g. METR's frontier)",
    )
    p.add_argument("--noise", default=None, help="additive, log or logit (default: the dataset's, else log)")
    p.add_argument("--models", default="all", help="'all' or a comma list of model names")
    p.add_argument("--t0", type=float, default=None, help="time origin (decimal year; default first point)")
    p.add_argument("--level", type=float, default=level, help=f"interval level (default {level:g})")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _cmd_fit(args: argparse.Namespace) -> int:
    from .fitting import fit

    series = load_source(args.source, frontier=args.frontier, all_rows=args.all_rows)
    fits = fit(series, _models_arg(args.models), noise=args.noise, t0=args.t0, level=args.level)
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
    from .fitting import fit
    from .paper_figures import save_all

    series = load_source(args.source, frontier=args.frontier, all_rows=args.all_rows)
    fits = fit(series, _models_arg(args.models), noise=args.noise, t0=args.t0, level=args.level)
    written, skipped = save_all(
        fits, args.out, format=args.format, dpi=args.dpi, until=args.until, reach=args.reach, width=args.width
    )
    if args.json:
        print(json.dumps({"written": {k: str(v) for k, v in written.items()}, "skipped": skipped}))
    else:
        for path in written.values():
            print(path)
        for name, why in skipped.items():
            print(f"lsi: note: {name} not drawn: {why}", file=sys.stderr)
    return 0


def _year_arg(text: str) -> Any:
    """A decimal year (``2030``, ``2030.5``) or an ISO date (``2030-06-30``)."""
    try:
        return float(text)
    except ValueError:
        return text


def _num(x: Any) -> float | None:
    import math

    x = float(x)
    return x if math.isfinite(x) else None


def _cmd_forecast(args: argparse.Namespace) -> int:
    from .fitting import fit
    from .forecast import reach_json
    from .summary import forecast_text

    series = load_source(args.source, frontier=args.frontier, all_rows=args.all_rows)
    fits = fit(series, _models_arg(args.models), noise=args.noise, t0=args.t0, level=args.level)
    ds = fits.forecast(_year_arg(args.until), level=args.level, n=args.n, seed=args.seed, step=args.step)
    reach = fits.time_to_reach(args.reach, ci_level=args.level, n=args.n, seed=args.seed) if args.reach else None
    lo, mid, hi = (float(q) for q in ds["quantile"].values)
    time = [float(x) for x in ds["time"].values]

    def band(name: str) -> dict[str, Any]:
        p = ds["prediction"].sel(model=name)
        c = ds["curve"].sel(model=name)
        return {
            "time": time,
            "median": [_num(v) for v in p.sel(quantile=mid).values],
            "lower": [_num(v) for v in p.sel(quantile=lo).values],
            "upper": [_num(v) for v in p.sel(quantile=hi).values],
            "curve_lower": [_num(v) for v in c.sel(quantile=lo).values],
            "curve_upper": [_num(v) for v in c.sel(quantile=hi).values],
        }

    names = [str(m) for m in ds["model"].values]
    fitted = [m for m in names if m in fits]
    if args.json:
        out: dict[str, Any] = {
            "series": series.name,
            "units": series.units,
            "noise": fits.noise.name,
            "level": float(args.level),
            "models": [{"name": m, "weight": _num(fits[m].weight), **band(m)} for m in fitted],
        }
        for key in ("averaged", "bootstrap_mixture"):
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
    series = load_source(args.source, frontier=args.frontier, all_rows=args.all_rows)
    origins = None
    if args.origins:
        origins = [_year_arg(x.strip()) for x in args.origins.split(",") if x.strip()]
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


def _add_thresholds(p: argparse.ArgumentParser) -> None:
    """The three thresholds at which an assumption of the loop counts as failed."""
    p.add_argument(
        "--kappa-min",
        type=float,
        default=0.5,
        metavar="KAPPA",
        help="closure threshold: the loop opens once closure kappa falls below it (default 0.5, "
        "Amdahl's knee: the AI and human parts of the R&D cycle take equal time)",
    )
    p.add_argument(
        "--rho-min",
        type=float,
        default=0.0,
        metavar="RHO",
        help="returns threshold: self-amplification fails once the returns rho fall below it "
        "(default 0: each doubling then comes slower than the last)",
    )
    p.add_argument(
        "--eta-min",
        type=float,
        default=0.5,
        metavar="ETA",
        help="efficiency threshold: efficiency is lost once eta (resource ceiling times "
        "organisational friction) falls below it (default 0.5)",
    )


#: bootstrap replicates by default (lsi.bootstrap.DEFAULT_N; written here so that --help loads no numpy)
DEFAULT_N = 500


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="lsi",
        description="Lossy self-improvement: fit, compare and forecast AI capability growth.",
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
    p = sub.add_parser(
        "figures", help="write the paper figures for a series (fit, comparison, doubling times, forecast)"
    )
    _add_source(p)
    p.add_argument("--out", required=True, help="folder for the figures (created if absent)")
    p.add_argument("--format", choices=["pdf", "svg", "png"], default="pdf", help="file format (default pdf)")
    p.add_argument("--dpi", type=int, default=300, help="resolution of raster output (default 300)")
    p.add_argument(
        "--width",
        choices=["single", "double"],
        default="double",
        help="journal columns of the time-series figures (default double)",
    )
    p.add_argument("--until", type=float, default=None, help="end of the forecast (default: 3 years after the data)")
    p.add_argument("--reach", type=float, default=None, help="mark when each model reaches this level (data units)")
    p.set_defaults(func=_cmd_figures)
    p = sub.add_parser("report", help="which assumption of RSI fails first: the assumption report")
    _add_source(p)
    p.add_argument(
        "--bootstrap", type=int, default=DEFAULT_N, help=f"bootstrap replicates (default {DEFAULT_N}; 0: none)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--horizon", type=float, default=None, help="last date a failure counts (default: +20 years)")
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
        help="a swept parameter: NAME=start:stop:count or NAME=a,b,c (repeatable)",
    )
    p.add_argument("--fixed", action="append", default=[], metavar="NAME=VALUE", help="a fixed parameter (repeatable)")
    p.add_argument("--until", type=float, required=True, help="end of every trajectory (units of --t0)")
    p.add_argument("--t0", type=float, default=0.0, help="time origin (default 0)")
    p.add_argument("--multiple", type=float, action="append", default=[], help="report when C/C0 reaches this")
    _add_thresholds(p)
    p.add_argument("--chunks", type=int, default=None, help="cells per dask task (lazy, bounded memory)")
    p.add_argument(
        "--engine",
        choices=("auto", "numpy", "numba"),
        default="auto",
        help="who solves the cells: numba (pip install 'lsi[fast]') or numpy; auto picks numba if installed",
    )
    p.add_argument("--out", default=None, help="write the sweep to this netCDF file")
    p.add_argument("--sobol", action="store_true", help="Sobol indices over the --param ranges (uniform priors)")
    p.add_argument("--n", type=int, default=1024, help="Sobol base sample size (a power of 2)")
    p.add_argument("--output", action="append", default=None, help="Sobol output(s) (default lnC_end)")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the Sobol sample and of its bootstrap intervals (default 0; with --sobol)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_sweep)
    p = sub.add_parser("forecast", help="forecast every model and their averages, with bands")
    _add_source(p, level=0.9)
    p.add_argument("--until", required=True, help="end of the forecast (decimal year or ISO date)")
    p.add_argument("--reach", type=float, default=None, help="also the date each model reaches this level (data units)")
    p.add_argument("--n", type=int, default=DEFAULT_N, help=f"bootstrap replicates (default {DEFAULT_N})")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--step", type=float, default=None, help="spacing of the time grid in years (default: 201 points)")
    p.set_defaults(func=_cmd_forecast)
    p = sub.add_parser("backtest", help="fit up to past dates and score the forecasts of what came after")
    _add_source(p, level=0.9)
    p.add_argument("--origins", default=None, help="comma list of forecast origins (default: up to 8 in the data)")
    p.add_argument("--horizon", type=float, default=None, help="score only points this many years after an origin")
    p.add_argument("--n-boot", type=int, default=200, help="bootstrap replicates per origin (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstraps (default 0)")
    p.add_argument("--naive-points", type=int, default=5, help="points of the naive local-trend baseline (default 5)")
    p.set_defaults(func=_cmd_backtest)
    return parser


def _pairs(items: list[str], what: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        if "=" not in item:
            raise ParameterValueError(f"{what} {item!r} must look like NAME=VALUE (e.g. p=0.5:1:51)")
        k, v = item.split("=", 1)
        out.append((k.strip(), v.strip()))
    return out


def _cmd_sweep(args: argparse.Namespace) -> int:
    import numpy as np

    from .sensitivity import sobol
    from .summary import sobol_text, sweep_text
    from .sweeps import grid_spec, sweep

    grid: dict[str, Any] = {}
    for k, v in _pairs(args.param, "--param"):
        grid[k] = grid_spec(v)
    for k, v in _pairs(args.fixed, "--fixed"):
        try:
            grid[k] = float(v)
        except ValueError:
            raise ParameterValueError(f"--fixed {k}={v!r}: the value must be a number (inf allowed)") from None
    thresholds = {"kappa_min": args.kappa_min, "rho_min": args.rho_min, "eta_min": args.eta_min}
    if args.sobol:
        swept = {k: v for k, v in grid.items() if np.ndim(v) == 1}
        if not swept:
            raise ParameterValueError(
                "--sobol needs at least one --param range (its start and stop bound a uniform prior)"
            )
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
    ds = sweep(
        args.model,
        until=args.until,
        t0=args.t0,
        thresholds=thresholds,
        multiples=args.multiple,
        chunks=args.chunks,
        engine=args.engine,
        **grid,
    )
    if args.out:
        ds.to_netcdf(args.out)
    ff = np.asarray(ds["first_failure"].values)
    counts = {name: int((ff == i).sum()) for i, name in enumerate(ds.attrs["first_failure_legend"])}
    counts["not evaluated"] = int((ff < 0).sum())
    if args.json:
        summary = {"cells": int(ff.size), "first_failure": counts, "out": args.out, "engine": ds.attrs["engine"]}
        print(json.dumps(summary))
    else:
        dims = {str(d): int(ds.sizes[d]) for d in ds["first_failure"].dims}
        print(sweep_text(int(ff.size), dims, ds.attrs["engine"], counts, args.out))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .fitting import fit
    from .verdict import CHECKS, answer

    series = load_source(args.source, frontier=args.frontier, all_rows=args.all_rows)
    fits = fit(series, _models_arg(args.models), noise=args.noise, t0=args.t0, level=args.level)
    thresholds = {"kappa_min": args.kappa_min, "rho_min": args.rho_min, "eta_min": args.eta_min}
    checks = CHECKS if args.checks == "all" else [] if args.checks == "none" else _models_arg(args.checks)
    rep = answer(
        fits, n_boot=args.bootstrap, seed=args.seed, thresholds=thresholds, horizon=args.horizon, checks=checks
    )
    if args.out:
        from .report import write_report

        paths = write_report(rep, fits, args.out)
        if not args.json:
            print(f"wrote {len(paths)} files to {args.out}: " + ", ".join(os.path.basename(p) for p in paths))
    if args.json:
        print(rep.to_json())
    elif not args.out:
        print(rep.summary())
    return 0


def _warning_line(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    stream = sys.stderr if file is None else file
    name = category.__name__
    stream.write(f"lsi: {'warning' if issubclass(category, LsiWarning) else name}: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lsi`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    old = warnings.showwarning
    warnings.showwarning = _warning_line
    try:
        return int(args.func(args) or 0)
    except LsiError as exc:
        print(f"lsi: error: {exc}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = old


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
