"""Sweeps of the loop model over its parameters: grids, samples, dask.

:func:`sweep` evaluates the loop model (or any model that embeds in it) on every cell
of a parameter grid, or on draws from priors (:func:`sample`), by the vectorised
quadrature of :mod:`lsi.quadrature`, and returns an :class:`xarray.Dataset` with one
dimension per swept parameter.  A numerical failure in a cell is recorded in its
``status``, never a crash of the sweep.  Sweeps larger than memory run chunked through
dask (``chunks=``), lazily, so the same call writes a netCDF file of any size, or runs
on a ``dask.distributed`` cluster.  :mod:`lsi.sensitivity` says which parameter
matters most.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import loopmath, quadrature
from .exceptions import ParameterValueError
from .loopmath import FAILURES, Thresholds
from .models import get as get_model
from .quadrature import STATUS_CODES, resolve_engine

__all__ = ["sweep", "sample", "grid_spec", "OUTPUTS", "STATUS"]

#: the float variables of a sweep
FLOAT_OUTPUTS = (
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
OUTPUTS = ("first_failure", *FLOAT_OUTPUTS, "tied", "status")
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
    m = get_model(model)
    if m.loop_params(m.columns(np.ones(len(m.param_names)))) is None:
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
    if m.name == "loop":
        lp = {k: np.asarray(values[k], dtype=float) for k in loopmath.PARAMS}
        return lp, np.asarray(values["C0"], dtype=float)
    shape = np.broadcast(*[np.asarray(values[k]) for k in m.param_names]).shape
    theta = np.stack(
        [np.broadcast_to(np.asarray(values[k], dtype=float), shape).reshape(-1) for k in m.param_names], axis=1
    )
    lp = m.loop_params(m.columns(theta))
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
    lp: dict[str, Any] = _loop_values(m, values)[0]  # Any: as **params beside solve's typed keywords
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
    th = loopmath.thresholds(thresholds)
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
    full_shape = shape if n_sample is None else (n_sample,) + shape

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
        coords["sample"] = ("sample", np.arange(full_shape[0]))
        for k, v in samples.items():
            coords[k] = ("sample", np.asarray(v, dtype=float).reshape(-1))
    if mult:
        coords["multiple"] = ("multiple", np.asarray(mult))
    data: dict[str, tuple[list[str], Any, dict[str, Any]]] = {}
    for k in FLOAT_OUTPUTS:
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
    meta: dict[str, type[np.generic]] = {k: np.float64 for k in FLOAT_OUTPUTS}
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
