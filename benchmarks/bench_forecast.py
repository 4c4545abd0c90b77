"""Forecast and backtest speed on METR's horizons (not a test: the machine is shared and noisy).

1. The pieces of ``fits.forecast(until=2030)`` with 1000 replicates, all nine models: the
   bootstrap itself (lsi.fitting), the global refits of the breakpoint model's replicates
   (warm starts stick in other basins of the break), and the bands (mixture quantiles
   by safeguarded Newton at 201 times).
2. The mixture quantiles against plain bisection to the same tolerance, on 1000 components
   x 201 times: the Newton iteration should take a fraction of bisection's CDF evaluations.
3. ``lsi.backtest`` with its defaults (8 origins, 200 replicates each).

Run:  python benchmarks/bench_forecast.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from scipy import special

import lsi
from lsi.backtest import backtest
from lsi.forecast import _mixture_quantiles, forecast


def timed(label, fn):
    t = time.perf_counter()
    out = fn()
    print(f"  {label:<44} {time.perf_counter() - t:7.2f} s")
    return out


def bisection(mu, s, w, p, tol=1e-9):
    lo = np.min(mu + s[:, None] * special.ndtri(p), axis=0)
    hi = np.max(mu + s[:, None] * special.ndtri(p), axis=0)
    n = 0
    while np.any(hi - lo > tol):
        mid = 0.5 * (lo + hi)
        below = np.sum(w[:, None] * special.ndtr((mid - mu) / s[:, None]), axis=0) < p
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        n += 1
    return 0.5 * (lo + hi), n


def main() -> None:
    warnings.simplefilter("ignore")
    series = lsi.datasets.load("metr_horizons")
    fits = lsi.fit(series)
    print(f"METR horizons, {len(series)} points, {len(fits)} models")
    boot = timed("bootstrap, 1000 replicates", lambda: fits.bootstrap(1000, seed=0))
    local = timed("bootstrap, warm starts only", lambda: fits.bootstrap(1000, seed=0, global_starts=False))
    j = boot.models.index("breakpoint")
    improved = int(np.sum(boot.aicc[:, j] < local.aicc[:, j] - 1e-6))
    print(f"  {'breakpoint replicates the global starts improve':<44} {improved:7d}")
    print(
        f"  {'refits that needed the cold starts':<44} "
        + ", ".join(f"{k} {v:.2f}" for k, v in boot.fallback_share().items())
    )
    timed("bands to 2030 (bootstrap given)", lambda: forecast(fits, 2030, bootstrap=boot))

    rng = np.random.default_rng(0)
    mu = rng.normal(0, 1, (1000, 201)) + np.linspace(0, 5, 201)
    s = rng.uniform(0.2, 0.5, 1000)
    w = np.full(1000, 1e-3)
    t = time.perf_counter()
    q = _mixture_quantiles(mu, s, w, [0.05])[0]
    t_newton = time.perf_counter() - t
    t = time.perf_counter()
    qb, n_bis = bisection(mu, s, w, 0.05)
    t_bis = time.perf_counter() - t
    print(
        f"mixture 5% quantile, 1000 x 201: Newton {t_newton * 1e3:.0f} ms, bisection {t_bis * 1e3:.0f} ms "
        f"({n_bis} CDF evaluations); max difference {np.max(np.abs(q - qb)):.1e}"
    )

    timed("backtest, default origins and replicates", lambda: backtest(series))


if __name__ == "__main__":
    main()
