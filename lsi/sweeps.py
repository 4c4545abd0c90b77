"""Sweeps of the loop model over its parameters: grids, samples, dask, sensitivity.

:func:`sweep` evaluates the loop model (or any model that embeds in it) on every cell
of a parameter grid, or on draws from priors (:func:`sample`), by the vectorised
quadrature of :mod:`lsi.quadrature`, and returns an :class:`xarray.Dataset` with one
dimension per swept parameter.  A numerical failure in a cell is recorded in its
``status``, never a crash of the sweep.  Sweeps larger than memory run chunked through
dask (``chunks=``), lazily, so the same call writes a netCDF file of any size, or runs
on a ``dask.distributed`` cluster.  :func:`sobol` and :func:`tornado` say which
parameter matters most.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .diagnostics import FAILURES, Thresholds, _thresholds
from .exceptions import ParameterValueError
from .quadrature import STATUS_CODES, resolve_engine

__all__ = ["sweep", "sample", "sobol", "tornado", "grid_spec", "OUTPUTS", "STATUS"]

_FLOAT_OUT = (
    "t_closure",
    "t_amplification",
    "t_efficiency",
    "t_singularity",
    "lnC_end",
    "l_closure",
    "l_amplification",
    "l_efficiency",
)
#: the variables of a sweep (besides ``t_reach``)
OUTPUTS = ("first_failure", *_FLOAT_OUT, "tied", "status")
#: legend of ``status``
STATUS = STATUS_CODES


# ---------------------------------------------------------------- inputs
def grid_spec(text: str) -> np.ndarray:
    """Parse ``start:stop:count`` (inclusive, evenly spaced) or a comma list ``a,b,c``.

    Examples
    --------
    >>> grid_spec("0:1:5").tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> grid_spec("0.5,0.9,inf").tolist()
    [0.5, 0.9, inf]
    """
    text = text.strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
            if n < 1:
                raise ParameterValueError(f"grid {text!r} has count {n}; give at least 1 value")
            return np.linspace(a, b, n)
        return np.array([float(x) for x in text.split(",") if x.strip()])
    except ParameterValueError:
        raise
    except ValueError:
        raise ParameterValueError(
            f"cannot read the grid {text!r}; write start:stop:count (e.g. 0:1:51) or a comma list (0.5,0.9)"
        ) from None


def _model_and_specs(model):
    from .models import get as get_model

    m = get_model(model)
    from .diagnostics import EMBEDDINGS

    if m.name != "loop" and EMBEDDINGS.get(m.name) is None:
        raise ParameterValueError(
            f"model {m.name!r} has no loop embedding to sweep; sweep 'loop' or a model that embeds"
        )
    return m


def _split(m, grid: Mapping[str, Any], sampled: Sequence[str] = ()) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Swept (arrays) and fixed (scalars) parameters, checked against the model's ranges;
    parameters neither given nor ``sampled`` take their defaults."""
    swept: dict[str, np.ndarray] = {}
    fixed: dict[str, float] = {}
    for name, value in grid.items():
        spec = m.spec(name)  # unknown names: one line
        arr = np.asarray(value, dtype=float)
        if arr.ndim == 0:
            spec.check(float(arr), m.name)
            fixed[name] = float(arr)
            continue
        arr = arr.reshape(-1)
        if arr.size == 0:
            raise ParameterValueError(f"the grid of {name!r} is empty; give at least one value")
        bad = [float(v) for v in arr if not _inside(spec, float(v))]
        if bad:
            spec.check(bad[0], m.name)
        swept[name] = arr
    for s in m.param_specs:
        if s.name not in swept and s.name not in fixed and s.name not in sampled:
            if s.default is None and s.name != "C0":
                raise ParameterValueError(f"{m.name}: give {s.name!r} (a value or a grid); it has no default")
            fixed[s.name] = 1.0 if s.name == "C0" else float(s.default)
    return swept, fixed


def _inside(spec, v: float) -> bool:
    try:
        spec.check(v, "")
    except ParameterValueError:
        return False
    return True


def sample(
    priors: Mapping[str, Any],
    n: int,
    *,
    method: str = "lhs",
    seed: int | None = 0,
) -> dict[str, np.ndarray]:
    """Draws from independent priors, for a sweep with a ``sample`` dimension.

    Parameters
    ----------
    priors : mapping
        Parameter name -> a frozen ``scipy.stats`` distribution, or ``(low, high)`` for a
        uniform one.
    n : int
        Number of draws.
    method : {"lhs", "mc", "sobol"}
        Latin hypercube (default), plain Monte Carlo, or a scrambled Sobol sequence.
    seed : int, optional

    Returns
    -------
    dict of arrays of length n (pass as ``lsi.sweep(model, samples=...)``).

    Examples
    --------
    >>> s = sample({"p": (0.5, 1.0), "beta": (0.0, 1.0)}, 8, seed=1)
    >>> sorted(s), s["p"].shape
    (['beta', 'p'], (8,))
    """
    from scipy import stats
    from scipy.stats import qmc

    if n < 1:
        raise ParameterValueError(f"n = {n} draws; give at least 1")
    if not priors:
        raise ParameterValueError("priors is empty; give at least one parameter's distribution")
    names = list(priors)
    d = len(names)
    if method == "lhs":
        u = qmc.LatinHypercube(d=d, seed=seed).random(n)
    elif method == "sobol":
        u = qmc.Sobol(d=d, scramble=True, seed=seed).random(n)
    elif method == "mc":
        u = np.random.default_rng(seed).random((n, d))
    else:
        raise ParameterValueError(f"unknown sampling method {method!r}; choose lhs, mc or sobol")
    out = {}
    for j, name in enumerate(names):
        dist = priors[name]
        if isinstance(dist, tuple | list) and len(dist) == 2:
            lo, hi = float(dist[0]), float(dist[1])
            if not hi > lo:
                raise ParameterValueError(f"prior of {name!r}: ({lo}, {hi}) needs low < high")
            dist = stats.uniform(lo, hi - lo)
        if not hasattr(dist, "ppf"):
            raise ParameterValueError(
                f"prior of {name!r} must be a frozen scipy.stats distribution or (low, high); got {dist!r:.40}"
            )
        out[name] = np.asarray(dist.ppf(u[:, j]), dtype=float)
    return out


# ---------------------------------------------------------------- evaluation
def _loop_values(m, values: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Loop-model parameters (and C0) of a model's parameter values, by its embedding."""
    from .diagnostics import embed

    if m.name == "loop":
        lp = {
            k: np.asarray(values[k], dtype=float)
            for k in ("g0", "p", "a", "lam", "beta", "gamma", "ceiling", "nu", "delta")
        }
        return lp, np.asarray(values["C0"], dtype=float)
    shape = np.broadcast(*[np.asarray(values[k]) for k in m.param_names]).shape
    theta = np.stack(
        [np.broadcast_to(np.asarray(values[k], dtype=float), shape).reshape(-1) for k in m.param_names], axis=1
    )
    lp = embed(m, theta)
    return {k: v.reshape(shape) for k, v in lp.items()}, np.broadcast_to(np.asarray(values["C0"], float), shape)


def _evaluate(
    m,
    values: Mapping[str, np.ndarray],
    t0: float,
    until: float,
    th: Thresholds,
    multiples: Sequence[float],
    engine: str = "auto",
) -> dict[str, np.ndarray]:
    from . import quadrature

    lp, _ = _loop_values(m, values)
    with np.errstate(all="ignore"):
        res = quadrature.solve(
            t0,
            until,
            kappa_min=th.kappa_min,
            rho_min=th.rho_min,
            eta_min=th.eta_min,
            multiples=tuple(multiples),
            engine=engine,
            **lp,
        )
    return res


def sweep(
    model: Any = "loop",
    *,
    until: float,
    t0: float = 0.0,
    thresholds: Thresholds | Mapping[str, float] | None = None,
    multiples: Sequence[float] = (),
    samples: Mapping[str, Any] | None = None,
    chunks: int | None = None,
    progress: bool | None = None,
    engine: str = "auto",
    **grid: Any,
):
    """Evaluate the loop model's trajectory and diagnostics on every cell of a parameter grid.

    Parameters
    ----------
    model : "loop", a model name or a GrowthModel
        The loop model, or any model that embeds in it (then its own parameters are
        swept, e.g. ``g`` and ``K`` of the logistic).
    until : float
        End of every trajectory, in the units of ``t0``.
    t0 : float
        Time origin (default 0.0); every time in the result is in these units.
    thresholds : Thresholds or mapping, optional
        ``kappa_min``, ``rho_min``, ``eta_min``.
    multiples : sequence of float
        Capability multiples C/C0 whose reaching times go into ``t_reach`` (dimension
        ``multiple``).
    samples : mapping, optional
        Draws from :func:`sample` (arrays of one length): they share one ``sample``
        dimension instead of forming a grid.
    chunks : int, optional
        Cells per dask task: the sweep is then built lazily with dask (``pip install
        'lsi[dask]'``), with memory bounded by the chunk size, and runs on whatever
        scheduler is active (e.g. a ``dask.distributed`` cluster).  Call ``.compute()``
        or ``.to_netcdf(path)`` on the result.
    progress : bool, optional
        Progress on long eager sweeps (default: only on a terminal).
    engine : {"auto", "numpy", "numba"}
        Who solves the cells (see :func:`lsi.quadrature.solve`): ``"auto"`` takes the
        compiled solver (``pip install 'lsi[fast]'``) when numba is installed and the sweep
        has at least :data:`lsi.quadrature.JIT_MIN_CELLS` cells.  The engine that ran is
        recorded in ``attrs["engine"]``; the two agree to rounding.
    **grid : arrays or scalars
        Each parameter given as an array becomes a dimension named after it, with its
        values as coordinates; scalars are fixed; the rest take the model's defaults.

    Returns
    -------
    xarray.Dataset
        Variables ``first_failure`` (codes; legend in ``attrs["first_failure_legend"]``
        and CF ``flag_values``/``flag_meanings``), ``t_closure``, ``t_amplification``,
        ``t_efficiency``, ``t_singularity`` (NaN where none before ``until``),
        ``lnC_end`` (ln C/C0 at ``until``; inf after a singularity), ``l_*`` (ln C/C0 at
        each crossing), ``t_reach`` (over ``multiple``), ``tied`` and ``status`` (a
        numerical failure in one cell is recorded there).  Attributes hold the model,
        fixed parameters, thresholds, ``t0``, ``until`` and the lsi version.

    Examples
    --------
    >>> import numpy as np, lsi
    >>> ds = lsi.sweep("loop", until=30, g0=0.5, a=1.0, p=np.linspace(0.5, 1, 3), beta=np.linspace(0, 1, 3))
    >>> ds["first_failure"].dims
    ('p', 'beta')
    """
    import xarray as xr

    from ._version import __version__

    m = _model_and_specs(model)
    th = _thresholds(thresholds)
    t0, until = float(t0), float(until)
    if not (math.isfinite(t0) and math.isfinite(until)):
        raise ParameterValueError(f"t0 = {t0} and until = {until} must be finite")
    if not until > t0:
        raise ParameterValueError(f"until = {until} is not after t0 = {t0}; give a later end (same units as t0)")
    mult = [float(x) for x in multiples]
    if any(not (x >= 1 and math.isfinite(x)) for x in mult):
        raise ParameterValueError(f"multiples {mult} must be finite capability ratios C/C0 >= 1")
    if samples is not None:
        lengths = {k: np.asarray(v).reshape(-1).size for k, v in samples.items()}
        if len(set(lengths.values())) != 1:
            raise ParameterValueError(f"samples must all have one length; got {lengths}")
        overlap = set(samples) & set(grid)
        if overlap:
            raise ParameterValueError(f"{sorted(overlap)} given both as samples and in the grid; give each once")
        for k in samples:
            m.spec(k)
    swept, fixed = _split(m, grid, sampled=list(samples or ()))
    for k, v in (samples or {}).items():
        spec = m.spec(k)
        bad = [float(x) for x in np.asarray(v, dtype=float).reshape(-1) if not _inside(spec, float(x))]
        if bad:
            spec.check(bad[0], m.name)
    dims = list(swept)
    shape = tuple(swept[d].size for d in dims)
    n_sample = None if samples is None else next(iter(samples.values())).__len__()
    full_dims = (["sample"] if samples is not None else []) + dims
    full_shape = ((n_sample,) if samples is not None else ()) + shape

    def values_for(block_index: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Parameter arrays broadcast to the full shape (or the rows ``block_index`` of the leading dim)."""
        vals: dict[str, np.ndarray] = {}
        nd = len(full_dims)
        for k, v in fixed.items():
            vals[k] = np.asarray(v)
        if samples is not None:
            for k, v in samples.items():
                arr = np.asarray(v, dtype=float).reshape(-1)
                if block_index is not None:
                    arr = arr[block_index]
                vals[k] = arr.reshape((-1,) + (1,) * (nd - 1))
        for i, d in enumerate(dims):
            arr = swept[d]
            pos = i + (1 if samples is not None else 0)
            if block_index is not None and pos == 0:
                arr = arr[block_index]
            sh = [1] * nd
            sh[pos] = arr.size
            vals[d] = arr.reshape(sh)
        return vals

    attrs: dict[str, Any] = {
        "model": m.name,
        "t0": t0,
        "until": until,
        "lsi_version": __version__,
        "first_failure_legend": list(FAILURES),
        "status_legend": list(STATUS),
        **th.as_dict(),
    }
    for k, v in fixed.items():
        attrs[f"fixed_{k}"] = float(v)
    if samples is not None:
        attrs["sampled"] = list(samples)

    n_cells = int(np.prod(full_shape)) if full_shape else 1
    attrs["engine"] = resolve_engine(engine, n_cells)
    if chunks is None:
        res = _eager(m, values_for(), t0, until, th, mult, full_shape, n_cells, progress, attrs["engine"])
    else:
        res = _lazy(m, values_for, t0, until, th, mult, full_shape, int(chunks), attrs["engine"])
    coords: dict[str, Any] = {d: (d, swept[d]) for d in dims}
    if samples is not None:
        coords["sample"] = ("sample", np.arange(n_sample))
        for k, v in samples.items():
            coords[k] = ("sample", np.asarray(v, dtype=float).reshape(-1))
    if mult:
        coords["multiple"] = ("multiple", np.asarray(mult))
    data = {}
    for k in _FLOAT_OUT:
        data[k] = (full_dims, res[k], {"units": "same as t0" if k.startswith("t_") else "ln(C/C0)"})
    data["first_failure"] = (
        full_dims,
        res["first_failure"],
        {
            "flag_values": np.arange(len(FAILURES), dtype=np.int8),
            "flag_meanings": " ".join(FAILURES),
            "long_name": "the assumption that fails first (-1: cell not evaluated, see status)",
        },
    )
    data["tied"] = (full_dims, res["tied"], {"long_name": "two crossings within 1e-9 of the first"})
    data["status"] = (
        full_dims,
        res["status"],
        {"flag_values": np.arange(len(STATUS), dtype=np.int8), "flag_meanings": " ".join(STATUS)},
    )
    if mult:
        data["t_reach"] = (full_dims + ["multiple"], res["t_reach"], {"units": "same as t0"})
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _eager(m, vals, t0, until, th, mult, full_shape, n_cells, progress, engine) -> dict[str, np.ndarray]:
    from .progress import Progress

    block = 1 << 17
    if n_cells <= block or not full_shape:
        res = _evaluate(m, vals, t0, until, th, mult, engine)
        return {
            k: np.broadcast_to(np.asarray(v), full_shape + np.asarray(v).shape[len(full_shape) :]).copy()
            if np.asarray(v).shape[: len(full_shape)] != full_shape
            else np.asarray(v)
            for k, v in res.items()
        }
    # long sweeps: the leading dimension in blocks, with progress
    lead = full_shape[0]
    per_row = max(1, n_cells // lead)
    rows = max(1, block // per_row)
    out: dict[str, np.ndarray] = {}
    with Progress(lead, "sweep", enabled=progress) as bar:
        for start in range(0, lead, rows):
            sl = slice(start, min(lead, start + rows))
            sub = {k: (v[sl] if np.ndim(v) and np.shape(v)[0] == lead else v) for k, v in vals.items()}
            res = _evaluate(m, sub, t0, until, th, mult, engine)
            sub_shape = (sl.stop - sl.start,) + full_shape[1:]
            for k, v in res.items():
                v = np.asarray(v)
                tail = v.shape[len(sub_shape) :] if v.ndim > len(sub_shape) else ()
                v = np.broadcast_to(v, sub_shape + tail)
                if k not in out:
                    out[k] = np.empty(full_shape + tail, dtype=v.dtype)
                out[k][sl] = v
            bar.update(sl.stop - sl.start)
    return out


def _lazy(m, values_for: Callable, t0, until, th, mult, full_shape, chunks: int, engine: str) -> dict[str, Any]:
    from .exceptions import require

    da = require("dask.array", "a chunked sweep", "dask")
    dask = require("dask", "a chunked sweep", "dask")
    if not full_shape:
        raise ParameterValueError("a chunked sweep needs at least one swept parameter or samples")
    lead = full_shape[0]
    per_row = int(np.prod(full_shape[1:])) if len(full_shape) > 1 else 1
    rows = max(1, chunks // per_row)
    pieces: dict[str, list] = {}
    meta = {k: np.float64 for k in _FLOAT_OUT}
    meta.update(first_failure=np.int8, tied=np.bool_, status=np.int8)
    if mult:
        meta["t_reach"] = np.float64
    for start in range(0, lead, rows):
        stop = min(lead, start + rows)
        idx = np.arange(start, stop)
        sub_shape = (stop - start,) + full_shape[1:]

        def block(idx=idx, sub_shape=sub_shape):
            res = _evaluate(m, values_for(idx), t0, until, th, mult, engine)
            out = {}
            for k, v in res.items():
                v = np.asarray(v)
                tail = v.shape[len(sub_shape) :] if v.ndim > len(sub_shape) else ()
                out[k] = np.ascontiguousarray(np.broadcast_to(v, sub_shape + tail))
            return out

        d = dask.delayed(block, pure=True)()
        for k, dt in meta.items():
            shp = sub_shape + ((len(mult),) if k == "t_reach" else ())
            pieces.setdefault(k, []).append(da.from_delayed(d[k], shape=shp, dtype=dt))
    return {k: da.concatenate(v, axis=0) for k, v in pieces.items()}


# ---------------------------------------------------------------- sensitivity
def _output_values(ds, output: str) -> np.ndarray:
    """A sweep output as numbers for sensitivity analysis.

    Times of events that do not happen before ``until`` are censored at ``until``;
    ``first_failure:NAME`` is the indicator that NAME fails first.
    """
    if output.startswith("first_failure:"):
        name = output.split(":", 1)[1]
        if name not in FAILURES:
            raise ParameterValueError(f"unknown outcome {name!r}; choose from {', '.join(FAILURES)}")
        return (ds["first_failure"].values == FAILURES.index(name)).astype(float)
    if output not in ds:
        raise ParameterValueError(
            f"unknown sweep output {output!r}; choose from {', '.join(_FLOAT_OUT)} or first_failure:NAME"
        )
    v = np.asarray(ds[output].values, dtype=float)
    if output.startswith("t_"):
        v = np.where(np.isnan(v), ds.attrs["until"], v)
    if output.startswith("l") and output != "lnC_end":
        v = np.where(
            np.isnan(v), np.nanmax(np.where(np.isfinite(ds["lnC_end"].values), ds["lnC_end"].values, np.nan)), v
        )
    if output == "lnC_end":
        finite = v[np.isfinite(v)]
        cap = float(finite.max()) if finite.size else 0.0
        v = np.where(np.isfinite(v), v, cap)  # a singularity: censored at the largest finite value
    return v


def sobol(
    model: Any = "loop",
    priors: Mapping[str, Any] | None = None,
    *,
    until: float,
    output: str | Sequence[str] = "lnC_end",
    n: int = 1024,
    t0: float = 0.0,
    thresholds: Thresholds | Mapping[str, float] | None = None,
    seed: int | None = 0,
    confidence_level: float = 0.95,
    n_resamples: int = 200,
    **fixed: Any,
):
    """Sobol first- and total-order indices, with bootstrap confidence intervals.

    Uses :func:`scipy.stats.sobol_indices` (Saltelli sampling, ``n`` a power of 2)
    with the sweep as the model function.

    Parameters
    ----------
    model, until, t0, thresholds, **fixed
        As for :func:`sweep` (``fixed`` are scalar parameters).
    priors : mapping
        Parameter -> frozen ``scipy.stats`` distribution or ``(low, high)``.
    output : str or list of str
        Sweep outputs: a time (``t_closure``, ...; censored at ``until`` where the event
        does not happen), ``lnC_end``, or ``first_failure:NAME`` (the indicator).

    Returns
    -------
    pandas.DataFrame
        One row per (output, parameter): ``first_order``, ``first_order_low``/``high``,
        ``total_order``, ``total_order_low``/``high``.
    """
    import pandas as pd
    from scipy import stats

    if not priors:
        raise ParameterValueError("sobol needs priors: a distribution or (low, high) per varied parameter")
    if n < 2 or (n & (n - 1)):
        raise ParameterValueError(f"n = {n}; Sobol sampling needs a power of 2 (e.g. 1024)")
    outputs = [output] if isinstance(output, str) else list(output)
    names = list(priors)
    dists = []
    for k in names:
        d = priors[k]
        if isinstance(d, tuple | list):
            d = stats.uniform(float(d[0]), float(d[1]) - float(d[0]))
        dists.append(d)

    def func(x: np.ndarray) -> np.ndarray:
        ds = sweep(model, until=until, t0=t0, thresholds=thresholds, samples=dict(zip(names, x, strict=True)), **fixed)
        return np.vstack([_output_values(ds, o) for o in outputs])

    import inspect

    rng = np.random.default_rng(seed)
    key = "rng" if "rng" in inspect.signature(stats.sobol_indices).parameters else "random_state"
    res = stats.sobol_indices(func=func, n=n, dists=dists, **{key: rng})
    import warnings

    with warnings.catch_warnings():
        # a constant output (e.g. an outcome that never happens) has no BCa interval: NaN
        warnings.simplefilter("ignore")
        boot = res.bootstrap(confidence_level=confidence_level, n_resamples=n_resamples)
    k_out = len(outputs)

    def arr(x):  # scipy drops the output axis when there is one output
        return np.asarray(x, dtype=float).reshape(k_out, len(names))

    fo, to = arr(res.first_order), arr(res.total_order)
    fo_lo, fo_hi = arr(boot.first_order.confidence_interval.low), arr(boot.first_order.confidence_interval.high)
    to_lo, to_hi = arr(boot.total_order.confidence_interval.low), arr(boot.total_order.confidence_interval.high)
    rows = []
    for i, o in enumerate(outputs):
        for j, k in enumerate(names):
            rows.append(
                {
                    "output": o,
                    "parameter": k,
                    "first_order": fo[i, j],
                    "first_order_low": fo_lo[i, j],
                    "first_order_high": fo_hi[i, j],
                    "total_order": to[i, j],
                    "total_order_low": to_lo[i, j],
                    "total_order_high": to_hi[i, j],
                }
            )
    df = pd.DataFrame(rows)
    df.attrs["confidence_level"] = confidence_level
    df.attrs["n"] = n
    return df


def tornado(
    model: Any = "loop",
    base: Mapping[str, float] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    *,
    until: float,
    output: str = "lnC_end",
    t0: float = 0.0,
    thresholds: Thresholds | Mapping[str, float] | None = None,
):
    """One-at-a-time sensitivity around a base point: the output with each parameter at the
    low and the high end of its range, the others at base.

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``low``, ``high`` (parameter values), ``output_low``,
        ``output_high``, ``output_base`` and ``swing`` (|high - low|), sorted by swing.
    """
    import pandas as pd

    if not ranges:
        raise ParameterValueError("tornado needs ranges: (low, high) per parameter")
    base = dict(base or {})
    for k in ranges:
        if k not in base:
            raise ParameterValueError(f"tornado: give a base value for {k!r}")
    samples = {k: [] for k in set(base) | set(ranges)}
    order = []
    for k, (lo, hi) in ranges.items():
        for v in (lo, hi):
            for q in samples:
                samples[q].append(v if q == k else base[q])
            order.append(k)
    for q in samples:
        samples[q].append(base[q])
    ds = sweep(model, until=until, t0=t0, thresholds=thresholds, samples=samples)
    vals = _output_values(ds, output)
    base_val = float(vals[-1])
    rows = []
    for i, (k, (lo, hi)) in enumerate(ranges.items()):
        a, b = float(vals[2 * i]), float(vals[2 * i + 1])
        rows.append(
            {
                "parameter": k,
                "low": lo,
                "high": hi,
                "output_low": a,
                "output_high": b,
                "output_base": base_val,
                "swing": abs(b - a),
            }
        )
    df = pd.DataFrame(rows).sort_values("swing", ascending=False).reset_index(drop=True)
    df.attrs["output"] = output
    return df
