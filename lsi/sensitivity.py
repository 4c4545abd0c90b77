"""Which parameter of a model matters most: Sobol indices and tornado swings.

:func:`sobol` computes first- and total-order Sobol indices of any output of a sweep
(:mod:`lsi.sweeps`) over uniform or log-uniform priors, with bootstrap intervals
(``scipy.stats.sobol_indices``); :func:`tornado` the one-at-a-time swings about a base
point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .exceptions import ParameterValueError, check_seed
from .loopmath import FAILURES, Thresholds
from .sweeps import FLOAT_OUTPUTS, sweep

__all__ = ["sobol", "tornado"]


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
            f"unknown sweep output {output!r}; choose from {', '.join(FLOAT_OUTPUTS)} or first_failure:NAME"
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

    check_seed(seed)
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
                    "note": "; ".join(
                        filter(
                            None,
                            (
                                range_note("first order", fo[i, j], fo_lo[i, j], fo_hi[i, j], n),
                                range_note("total order", to[i, j], to_lo[i, j], to_hi[i, j], n),
                            ),
                        )
                    ),
                }
            )
    df = pd.DataFrame(rows)
    df.attrs["confidence_level"] = confidence_level
    df.attrs["n"] = n
    return df


def range_note(what: str, value: float, low: float, high: float, n: int) -> str:
    """Why a Sobol index is not to be read as a share of variance, or "" when it is.

    An index is a share of variance, in [0, 1].  A Monte Carlo estimate can fall outside by
    its sampling error; outside beyond its own interval, the estimate is not a share at all
    (too few samples for this output, or an output with heavy tails or a few extreme cells).
    """
    if not np.isfinite(value):
        return f"{what} undefined (the output does not vary, or its variance is not finite)"
    if 0.0 <= value <= 1.0:
        return ""
    lo_ok = np.isfinite(low) and low <= 1.0
    hi_ok = np.isfinite(high) and high >= 0.0
    if lo_ok and hi_ok:
        clipped = min(max(value, 0.0), 1.0)
        return f"{what} {value:.3f} lies outside [0, 1] within its sampling error: read it as {clipped:g}"
    return (
        f"{what} {value:.3f} lies outside [0, 1] beyond its interval: undefined at n = {n} "
        "(raise n, or the output has heavy tails)"
    )


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
    samples: dict[str, list[float]] = {k: [] for k in set(base) | set(ranges)}
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
