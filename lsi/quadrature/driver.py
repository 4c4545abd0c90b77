"""solve(): every diagnostic for every cell, in chunks, on the engine that suits the call.

The driver validates the call (names, shapes, multiples), broadcasts the parameters with the
times and thresholds, picks the engine (:func:`resolve_engine`) and lets it schedule the
chunks (:mod:`.engines`).  For each chunk it marks the invalid cells (status 1), hands the
valid ones to the engine as a :class:`~.cells.Cells` record, and isolates a cell that makes
the engine fail (status 2) by bisection, so that one bad cell never fails a sweep.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..exceptions import ParameterValueError
from . import numpy_engine
from .cells import Cells
from .engines import ENGINES, JIT_MIN_CELLS, Engine
from .output import empty_result
from .panels import DEFAULT_CHUNK, MAX_ITER
from .validation import PARAMS, as_float_array, complete, problems

__all__ = ["resolve_engine", "load_engine", "solve_cells", "solve"]

_NUMBA_UNAVAILABLE: list[str] = []  # why the compiled engine could not be loaded, once known


def _numba_engine() -> Engine | None:
    """The compiled engine, or None when it cannot be loaded (numba not installed, or unable
    to set up here, e.g. no writable cache directory)."""
    if _NUMBA_UNAVAILABLE:
        return None
    try:
        from . import numba_engine
    except ImportError:
        _NUMBA_UNAVAILABLE.append("needs numba, which is not installed; install it with pip install 'lsi[fast]'")
        return None
    except RuntimeError as exc:  # numba's own set-up errors
        _NUMBA_UNAVAILABLE.append(f"could not be set up ({exc})")
        return None
    return numba_engine


def resolve_engine(engine: str, size: int) -> str:
    """The engine (``"numpy"`` or ``"numba"``) that :func:`~lsi.quadrature.solve` runs for ``size`` cells.

    Raises :class:`ParameterValueError` for an unknown engine, or for ``"numba"`` when numba
    is not installed.
    """
    if engine not in ENGINES:
        raise ParameterValueError(f"engine = {engine!r} is not one of {', '.join(map(repr, ENGINES))}")
    if engine == "numpy" or (engine == "auto" and size < JIT_MIN_CELLS):
        return "numpy"
    if _numba_engine() is None:
        if engine == "numba":
            raise ParameterValueError(f"engine='numba' {_NUMBA_UNAVAILABLE[0]}; or use engine='numpy'")
        return "numpy"
    return "numba"


def load_engine(name: str) -> Engine:
    """The engine module named ``name`` (as returned by :func:`resolve_engine`)."""
    if name == "numpy":
        return numpy_engine
    eng = _numba_engine()
    if name != "numba" or eng is None:
        raise ParameterValueError(f"engine {name!r} cannot be loaded; resolve it with resolve_engine first")
    return eng


def solve_cells(
    engine: Engine, cols: dict[str, np.ndarray], lm: np.ndarray, max_iter: int = MAX_ITER
) -> dict[str, np.ndarray]:
    """solve() for 1-D arrays of any cells; invalid cells are marked, never raised.

    ``engine`` solves the valid cells; ``cols`` holds the nine parameters, ``t0``, ``until``
    and the three thresholds, ``lm`` the logs of the multiples."""
    n = cols["g0"].shape[0]
    res = empty_result(n, lm.shape[0])
    res["_deferred"] = np.zeros(n, dtype=bool)
    with np.errstate(all="ignore"):
        bad, _ = problems({k: cols[k] for k in PARAMS})
        t0, until = cols["t0"], cols["until"]
        bad = bad | ~np.isfinite(t0) | ~np.isfinite(until) | ~(until >= t0)
        for k in ("kappa_min", "rho_min", "eta_min"):
            bad |= np.isnan(cols[k])
        res["status"][bad] = 1
        good = np.flatnonzero(~bad)
        if good.size == 0:
            return res
        m = Cells.from_columns(cols, good)
        try:
            sub = engine.solve_valid(
                m,
                t0[good],
                until[good],
                cols["kappa_min"][good],
                cols["rho_min"][good],
                cols["eta_min"][good],
                lm,
                max_iter,
            )
        except Exception:  # noqa: BLE001 - isolate the bad cell instead of failing the call
            if good.size == 1:
                res["status"][good] = 2
                return res
            half = good.size // 2
            parts = [good[:half], good[half:]]
            for part in parts:
                sub_cols = {k: v[part] for k, v in cols.items()}
                r = solve_cells(engine, sub_cols, lm, max_iter)
                for k, v in r.items():
                    res[k][part] = v
            return res
        for k, v in sub.items():
            res[k][good] = v
    return res


def solve(
    t0: Any,
    until: Any,
    *,
    kappa_min: Any = 0.5,
    rho_min: Any = 0.0,
    eta_min: Any = 0.5,
    multiples: Iterable[float] = (),
    chunk: int = DEFAULT_CHUNK,
    engine: str = "auto",
    **params: Any,
) -> dict[str, np.ndarray]:
    r"""Solve the loop model and its three diagnostics for every parameter cell.

    Each cell's trajectory starts at :math:`l = 0` at ``t0`` and is followed to ``until``.
    The diagnostics :math:`\kappa(l)`, :math:`\rho(l)` and :math:`\eta = F(l)E(t)` are
    non-increasing along it, so each *crosses* (goes strictly below its threshold) at most
    once; a diagnostic that is already below at ``t0``, or exactly at its threshold and
    strictly falling, crosses at ``t0`` (``l = 0``).  The closure crossing is closed form,
    :math:`l_\kappa = \ln(p(1-\kappa_{min})/(\kappa_{min}(1-p)))/a`; the others are located
    inside the quadrature panels (see :mod:`lsi.quadrature`).

    Parameters
    ----------
    t0, until : array_like
        Start and end times (decimal years); ``until >= t0``, both finite.
    kappa_min, rho_min, eta_min : array_like
        Thresholds of closure, returns and efficiency (defaults 0.5, 0, 0.5).
    multiples : sequence of float
        Values of :math:`C/C_0 \ge 1` whose reaching times are reported in ``t_reach``.
    chunk : int
        Cells processed at once; the working memory is about 4 kB per cell of a chunk
        (60 MB at the default 16384), on top of the outputs (67 bytes per cell plus 8 per
        multiple) and the caller's inputs.
    engine : {"auto", "numpy", "numba"}
        Who marches the panels.  ``"numpy"``: all cells of a chunk at once in numpy (the
        reference).  ``"numba"``: the same algorithm compiled, one cell at a time on every
        CPU the process may use (:mod:`lsi.quadrature.numba_engine`; needs the ``lsi[fast]``
        extra; the first call in a fresh install compiles it, a few seconds, cached
        afterwards).  ``"auto"`` (default): numba when it is installed and the call has at
        least :data:`~lsi.quadrature.JIT_MIN_CELLS` cells, else numpy.  The two agree to
        rounding (about 1e-13).
    **params
        Loop-model parameters (:data:`~lsi.quadrature.PARAMS`; :data:`~lsi.quadrature.DEFAULTS`
        for those not given), all broadcast together with ``t0``, ``until`` and the thresholds.

    Returns
    -------
    dict of numpy.ndarray
        Over the broadcast shape:

        ``lnC_end``
            :math:`l` at ``until``; ``inf`` if a singularity comes first.
        ``t_closure``, ``t_amplification``, ``t_efficiency``
            Crossing times; NaN where there is no crossing at or before ``until``.
        ``l_closure``, ``l_amplification``, ``l_efficiency``
            ln(C/C0) at each crossing; NaN where there is none.
        ``t_singularity``
            Time of a finite-time singularity at or before ``until``, else NaN.
        ``t_reach``
            Shape ``(*shape, len(multiples))``: time at which :math:`C/C_0` reaches each
            multiple; NaN if not by ``until`` (or never).
        ``first_failure``
            int8 index into :data:`~lsi.quadrature.FAILURE_CODES` of the earliest crossing; 3 ("none") when
            there is none or a singularity comes first; -1 where ``status != 0``.
        ``tied``
            True when two or more crossings lie within :data:`~lsi.quadrature.TIE_TOLERANCE` of the first.
        ``status``
            int8 index into :data:`~lsi.quadrature.STATUS_CODES`: 0 ok, 1 invalid parameters (or ``t0``,
            ``until``, thresholds) in that cell, 2 numerical failure; such cells hold NaN.

    Raises
    ------
    UnknownParameterError, ParameterValueError
        Only for problems with the call itself (unknown names, missing ``g0``/``a``,
        arrays that do not broadcast, bad ``multiples``); bad *values* are marked per cell.

    Examples
    --------
    Gompertz embedding: efficiency halves at :math:`t_0 + \ln 2/g`.

    >>> from lsi.quadrature import FAILURE_CODES
    >>> r = solve(2020.0, 2030.0, g0=0.5, a=1.0, beta=1.0, delta=0.5)
    >>> round(float(r["t_efficiency"]), 9), FAILURE_CODES[int(r["first_failure"])]
    (2021.386294361, 'efficiency')
    """
    full = complete(params)
    mult = as_float_array("multiples", list(multiples)).reshape(-1)
    ok_mult = np.isfinite(mult) & (mult >= 1)
    if not ok_mult.all():
        raise ParameterValueError(
            f"multiples contain {float(mult[~ok_mult][0])!r}; each multiple of C0 must be a finite number >= 1"
        )
    lm = np.log(mult)
    if not isinstance(chunk, int | np.integer) or chunk < 1:
        raise ParameterValueError(f"chunk = {chunk!r} is not a positive integer")
    extra = {
        "t0": as_float_array("t0", t0),
        "until": as_float_array("until", until),
        "kappa_min": as_float_array("kappa_min", kappa_min),
        "rho_min": as_float_array("rho_min", rho_min),
        "eta_min": as_float_array("eta_min", eta_min),
    }
    arrays = {**full, **extra}
    try:
        shape = np.broadcast_shapes(*(v.shape for v in arrays.values()))
    except ValueError as exc:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in arrays.items())
        raise ParameterValueError(
            f"arrays do not broadcast together: {shapes}; give arrays of compatible shapes"
        ) from exc
    size = int(np.prod(shape, dtype=np.int64))
    views = {k: np.broadcast_to(v, shape) for k, v in arrays.items()}
    nm = lm.shape[0]
    out = empty_result(size, nm)
    eng = load_engine(resolve_engine(engine, size))

    def run(idx: np.ndarray | slice, max_iter: int) -> np.ndarray:
        cols = {k: np.asarray(v.flat[idx], dtype=float) for k, v in views.items()}
        with np.errstate(all="ignore"):
            r = solve_cells(eng, cols, lm, max_iter)
        deferred = r.pop("_deferred")
        for k, v in r.items():
            out[k][idx] = v
        return deferred

    eng.schedule(size, int(chunk), run)
    final = {k: v.reshape(shape) for k, v in out.items() if k != "t_reach"}
    final["t_reach"] = out["t_reach"].reshape(shape + (nm,))
    return final
