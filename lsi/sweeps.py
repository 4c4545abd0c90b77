"""Sweeps of the loop model over its parameters: grids, samples, dask.

:func:`sweep` evaluates the loop model (or any model that embeds in it) on every cell
of a parameter grid, or on draws from priors (:func:`sample`), by the vectorised
quadrature of :mod:`lsi.quadrature`, and returns an :class:`xarray.Dataset` with one
dimension per swept parameter.  A numerical failure in a cell is recorded in its
``status``, never a crash of the sweep.  Sweeps larger than memory run chunked through
dask (``chunks=``), lazily, so the same call writes a netCDF file of any size, or runs
on a ``dask.distributed`` cluster.  :mod:`lsi.sensitivity` says which parameter
matters most.

Memory is estimated before anything is allocated (:func:`memory_estimate`): an eager
sweep whose result would not fit in the budget (``max_memory=``, by default half the
machine's physical memory: :func:`default_max_memory`), or a chunked one whose tasks
would not, is refused with one line that gives the estimate and the fix.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import loopmath, quadrature
from .exceptions import ParameterValueError, check_seed
from .loopmath import FAILURES, Thresholds
from .models import get as get_model
from .quadrature import STATUS_CODES, resolve_engine

__all__ = ["sweep", "sample", "grid_spec", "memory_estimate", "default_max_memory", "OUTPUTS", "STATUS"]

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
#: each output's type (``t_reach`` has one float per multiple)
_DTYPES: dict[str, type[np.generic]] = {
    **{k: np.float64 for k in FLOAT_OUTPUTS},
    "first_failure": np.int8,
    "tied": np.bool_,
    "status": np.int8,
}

#: share of the physical memory a sweep may hold by default (:func:`default_max_memory`)
MEMORY_FRACTION = 0.5
#: the budget where the physical memory cannot be read (4 GiB)
FALLBACK_MAX_MEMORY = 4 << 30
#: cells an eager sweep evaluates at once (the rest of the grid waits in blocks)
EAGER_BLOCK = 1 << 17
#: working memory of the quadrature per cell being evaluated, in bytes: 390-550 measured
#: (tracemalloc peak less the result, 1.3e5 cells, loop and logistic, 0 or 2 multiples)
WORK_BYTES_PER_CELL = 640
#: cells per task suggested when a sweep is refused
SUGGESTED_CHUNKS = 1 << 20


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
        _check_all(spec, arr, m.name)
        swept[name] = arr
    for s in m.param_specs:
        if s.name not in swept and s.name not in fixed and s.name not in sampled:
            if s.default is None and s.name != "C0":
                raise ParameterValueError(f"{m.name}: give {s.name!r} (a value or a grid); it has no default")
            fixed[s.name] = 1.0 if s.name == "C0" else float(s.default)
    return swept, fixed


def _check_all(spec, arr: np.ndarray, model: str) -> None:
    """``spec.check`` on every value of ``arr`` at array speed: the first value outside
    the range (NaN included) gets the one-line error."""
    with np.errstate(invalid="ignore"):
        ok_lo = arr >= spec.min if spec.closed_min else arr > spec.min
        ok_hi = arr <= spec.max if spec.closed_max else arr < spec.max
    bad = np.flatnonzero(~(ok_lo & ok_hi))
    if bad.size:
        spec.check(float(arr[bad[0]]), model)


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
    check_seed(seed)
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


# ---------------------------------------------------------------- memory
def default_max_memory() -> int:
    """The memory a sweep may hold by default: :data:`MEMORY_FRACTION` (half) of the
    machine's physical memory, or :data:`FALLBACK_MAX_MEMORY` (4 GiB) where the system
    does not say.

    Examples
    --------
    >>> default_max_memory() > 0
    True
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not on Linux or macOS
        return FALLBACK_MAX_MEMORY
    return int(total * MEMORY_FRACTION) if total > 0 else FALLBACK_MAX_MEMORY


_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS.update(kib=1 << 10, mib=1 << 20, gib=1 << 30, tib=1 << 40, k=1 << 10, m=1 << 20, g=1 << 30, t=1 << 40)


def _budget(max_memory: Any) -> float:
    """``max_memory`` in bytes: ``None`` (the default budget), a number of bytes, or text
    such as ``"8GB"`` or ``"512 MiB"``; ``math.inf`` turns the check off."""
    if max_memory is None:
        return float(default_max_memory())
    value: float | None = None
    if isinstance(max_memory, str):
        found = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", max_memory)
        unit = found.group(2).lower() if found else ""
        if found and (unit in _UNITS or unit == ""):
            value = float(found.group(1)) * _UNITS.get(unit, 1)
    elif isinstance(max_memory, int | float | np.integer | np.floating) and not isinstance(max_memory, bool):
        value = float(max_memory)
    if value is None or not value > 0:
        raise ParameterValueError(
            f"max_memory = {max_memory!r} is not a memory size; give bytes (e.g. 8e9) or text such as '8GB'"
        )
    return value


def _bytes_text(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _result_bytes(n_multiples: int) -> int:
    """Bytes of one cell of a sweep's result."""
    return sum(np.dtype(t).itemsize for t in _DTYPES.values()) + 8 * n_multiples


def memory_estimate(n_cells: int, n_multiples: int = 0, *, chunks: int | None = None) -> int:
    """Bytes a sweep of ``n_cells`` cells holds at its peak.

    Eager (``chunks=None``): the whole result (67 bytes a cell, and 8 more per capability
    multiple) plus the quadrature's working memory for the block of at most
    :data:`EAGER_BLOCK` cells being evaluated.  Chunked: one task's (its cells' result,
    packed and unpacked, and working memory); the scheduler runs as many tasks at once
    as it has workers.

    Examples
    --------
    >>> memory_estimate(100_000 * 100_000) / 2**30 > 600  # a 1e5 x 1e5 grid, eagerly
    True
    >>> memory_estimate(100_000 * 100_000, chunks=1 << 20) / 2**30 < 1
    True
    """
    per_cell = _result_bytes(n_multiples)
    if chunks is None:
        return int(n_cells) * per_cell + min(int(n_cells), EAGER_BLOCK) * WORK_BYTES_PER_CELL
    cells = min(int(n_cells), int(chunks))
    return cells * (per_cell + 8 * (len(_DTYPES) + n_multiples) + WORK_BYTES_PER_CELL)


def _chunks_within(budget: float, n_multiples: int) -> int:
    """Cells per task to suggest: :data:`SUGGESTED_CHUNKS`, or fewer (a power of two) to fit ``budget``."""
    fit = int(budget // memory_estimate(1, n_multiples, chunks=1))
    return max(1, min(SUGGESTED_CHUNKS, 1 << max(fit.bit_length() - 1, 0)))


def _check_memory(full_shape: tuple[int, ...], n_mult: int, chunks: int | None, max_memory: Any) -> None:
    """Refuse, before anything is allocated, a sweep (or a chunked sweep's task) beyond the budget."""
    budget = _budget(max_memory)
    n_cells = math.prod(full_shape)
    need = memory_estimate(n_cells, n_mult, chunks=chunks)
    if need <= budget:
        return
    suggest = _chunks_within(budget, n_mult)
    grid = " x ".join(str(n) for n in full_shape) or "1"
    if chunks is None:
        raise ParameterValueError(
            f"a sweep of {n_cells:,} cells ({grid}) needs about {_bytes_text(need)} of memory, beyond the budget "
            f"of {_bytes_text(budget)} (max_memory=); build it lazily with chunks={suggest} (--chunks {suggest} on "
            "the command line) and write it with lsi.quadrature.output.write_netcdf(ds, path) (--out), "
            "or raise max_memory="
        )
    raise ParameterValueError(
        f"chunks = {chunks:,} cells a task need about {_bytes_text(need)} each, beyond the budget of "
        f"{_bytes_text(budget)} (max_memory=); give fewer cells a task (e.g. chunks={suggest}) or raise max_memory="
    )


def _chunk_count(chunks: Any) -> int:
    """``chunks=`` as a whole number of cells a task, at least 1."""
    ok = isinstance(chunks, int | float | np.integer | np.floating) and not isinstance(chunks, bool)
    if not ok or not math.isfinite(chunks) or chunks < 1 or chunks != int(chunks):
        raise ParameterValueError(f"chunks = {chunks!r} must be a whole number of cells a task, at least 1")
    return int(chunks)


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
    max_memory: float | str | None = None,
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
        or :func:`lsi.quadrature.output.write_netcdf` on the result.  A task is a block of at most ``chunks``
        cells, whole along the trailing dimensions where it can be.
    progress : bool, optional
        Progress on long eager sweeps (default: only on a terminal).
    engine : {"auto", "numpy", "numba"}
        Who solves the cells (see :func:`lsi.quadrature.solve`): ``"auto"`` takes the
        compiled solver (``pip install 'lsi[fast]'``) when numba is installed and the sweep
        has at least :data:`lsi.quadrature.JIT_MIN_CELLS` cells.  The engine that ran is
        recorded in ``attrs["engine"]``; the two agree to rounding.
    max_memory : float or str, optional
        Most memory the sweep may hold, in bytes or as text (``"8GB"``, ``"512 MiB"``):
        an eager sweep whose result would need more (see :func:`memory_estimate`), or a
        chunked one whose tasks would, is refused before anything is allocated, with
        the estimate and the fix.  Default: half the physical memory
        (:func:`default_max_memory`); ``math.inf`` turns the check off.
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

    Raises
    ------
    ParameterValueError
        A parameter outside its range, an empty grid, ``until`` not after ``t0``, or a
        sweep beyond ``max_memory``.

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
        _check_all(m.spec(k), np.asarray(v, dtype=float).reshape(-1), m.name)
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

    n_cells = math.prod(full_shape)
    n_chunk = None if chunks is None else _chunk_count(chunks)
    _check_memory(full_shape, len(mult), n_chunk, max_memory)
    attrs["engine"] = resolve_engine(engine, n_cells)
    if n_chunk is None:
        res = _eager(m, values_for(), t0, until, th, mult, full_shape, n_cells, progress, attrs["engine"])
    else:
        columns = {k: np.asarray(v, dtype=float).reshape(-1) for k, v in (samples or {}).items()}
        columns.update(swept)
        where = {k: 0 for k in samples or ()} | {d: i + (samples is not None) for i, d in enumerate(dims)}
        res = _lazy(m, columns, where, fixed, t0, until, th, mult, full_shape, n_chunk, attrs["engine"])
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

    block = EAGER_BLOCK
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


def _block_shape(full_shape: tuple[int, ...], chunks: int) -> tuple[int, ...]:
    """The largest block of at most ``chunks`` cells, whole along the trailing dimensions where it can be."""
    out = []
    room = chunks
    for n in reversed(full_shape):
        b = max(1, min(n, room))
        out.append(b)
        room = max(1, room // b)
    return tuple(reversed(out))


def _sweep_block(*blocks: np.ndarray, names, fixed, model, t0, until, th, mult, engine) -> np.ndarray:
    """One dask task: the cells of one block, every output packed as float64 along a last axis
    (the outputs in :data:`_DTYPES` order, then ``t_reach``; codes and flags convert exactly)."""
    shape = np.broadcast_shapes(*(b.shape for b in blocks))
    vals: dict[str, np.ndarray] = {k: np.asarray(v) for k, v in fixed.items()}
    vals.update(zip(names, blocks, strict=True))
    res = _evaluate(model, vals, t0, until, th, mult, engine)
    out = np.empty(shape + (len(_DTYPES) + len(mult),))
    for j, k in enumerate(_DTYPES):
        out[..., j] = np.broadcast_to(np.asarray(res[k]), shape)
    if mult:
        out[..., len(_DTYPES) :] = np.broadcast_to(np.asarray(res["t_reach"]), shape + (len(mult),))
    return out


def _unpack(block: np.ndarray, lo: int, hi: int | None, dtype: type[np.generic]) -> np.ndarray:
    """One output of a packed block: the column ``lo`` (``hi=None``) or the columns ``lo:hi``."""
    return (block[..., lo] if hi is None else block[..., lo:hi]).astype(dtype)


def _lazy(
    m,
    columns: Mapping[str, np.ndarray],
    where: Mapping[str, int],
    fixed: Mapping[str, float],
    t0: float,
    until: float,
    th: Thresholds,
    mult: Sequence[float],
    full_shape: tuple[int, ...],
    chunks: int,
    engine: str,
) -> dict[str, Any]:
    """The sweep as dask arrays, built with array-level operations: one blockwise layer
    that evaluates a block of cells and packs its outputs, and one per output that takes
    its column.  The graph is a few layers whatever the number of blocks (building a
    1e5 x 1e5 grid's took 48 s as a Python loop of delayed tasks, each closure pickled to
    be tokenized)."""
    from .exceptions import require

    da = require("dask.array", "a chunked sweep", "dask")
    dask = require("dask", "a chunked sweep", "dask")
    if not full_shape:
        raise ParameterValueError("a chunked sweep needs at least one swept parameter or samples")
    nd = len(full_shape)
    block = _block_shape(full_shape, chunks)
    spec = da.core.normalize_chunks(block, full_shape)
    names = list(columns)
    token = dask.base.tokenize(
        m.name, names, [columns[k] for k in names], dict(fixed), t0, until, th.as_dict(), list(mult), engine, block
    )
    args = []
    for k in names:
        pos = where[k]
        shape = [1] * nd
        shape[pos] = full_shape[pos]
        arr_chunks = tuple(spec[i] if i == pos else (1,) for i in range(nd))
        args.append(da.from_array(columns[k].reshape(shape), chunks=arr_chunks, name=f"lsi-sweep-{k}-in-{token}"))
    width = len(_DTYPES) + len(mult)
    kw = dict(names=names, fixed=dict(fixed), model=m, t0=t0, until=until, th=th, mult=tuple(mult), engine=engine)
    packed = da.map_blocks(
        _sweep_block,
        *args,
        **kw,
        dtype=np.float64,
        chunks=spec + ((width,),),
        new_axis=nd,
        meta=np.empty((0,) * (nd + 1)),
        name=f"lsi-sweep-{token}",
    )
    out: dict[str, Any] = {}
    for j, (k, dt) in enumerate(_DTYPES.items()):
        out[k] = da.map_blocks(
            _unpack,
            packed,
            j,
            None,
            dt,
            dtype=dt,
            drop_axis=nd,
            meta=np.empty((0,) * nd, dtype=dt),
            name=f"lsi-sweep-{k}-{token}",
        )
    if mult:
        out["t_reach"] = da.map_blocks(
            _unpack,
            packed,
            len(_DTYPES),
            width,
            np.float64,
            dtype=np.float64,
            chunks=spec + ((len(mult),),),
            meta=np.empty((0,) * (nd + 1)),
            name=f"lsi-sweep-t_reach-{token}",
        )
    return out


# ---------------------------------------------------------------- sensitivity
