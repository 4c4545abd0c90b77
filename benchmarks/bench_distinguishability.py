"""Cost of the distinguishability check, side by side with the plain fits in one run (not a test).

1. ``lsi.fit`` of every model on metr_horizons (what ``lsi report`` fits first).
2. ``lsi.distinguishability.confusion`` on those fits at its default (``DEFAULT_N`` series per
   true model, the default process count), and with one and two processes.  Target:
   at most ~2.5 s added to ``lsi report metr_horizons`` on this 2-core machine.
3. With ``--check``: the same simulated series with every refit polished to its end (no cap on
   the first search, no margins), to show the shortcuts change no selection.

Wall-clock times on a shared machine are noisy: the CPU time of this process (``process_time``)
is printed beside them, and each timing is the best of ``--repeat`` runs.

With ``--report``: the assumption report's own work (``lsi.assumptions`` with its 1000-replicate
bootstrap), for scale.

Run:  python benchmarks/bench_distinguishability.py [--n N] [--repeat R] [--check] [--report] [--dataset NAME]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import lsi
from lsi import distinguishability as dist


def timed(fn, repeat: int):
    """(result, best wall seconds, CPU seconds of that run) over ``repeat`` runs."""
    best = None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if best is None or wall < best[1]:
            best = (out, wall, cpu)
    assert best is not None
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="metr_horizons")
    ap.add_argument("--n", type=int, default=dist.DEFAULT_N)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--report", action="store_true", help="also time lsi.assumptions (the report's own work)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    series = lsi.datasets.load(args.dataset)
    lsi.fit(series)  # compile every model once
    fits, t_fit, c_fit = timed(lambda: lsi.fit(series), args.repeat)
    dist.confusion(fits, n=2, processes=1)  # warm caches
    c1, t1, cpu1 = timed(lambda: dist.confusion(fits, n=args.n, seed=0, processes=1), args.repeat)
    c2, t2, cpu2 = timed(lambda: dist.confusion(fits, n=args.n, seed=0, processes=2), args.repeat)
    procs, _ = dist._plan(args.n * len(c1.true_models), len(c1.models), None)
    sims = args.n * len(c1.true_models)
    print(f"{args.dataset}: {len(series)} points, {len(fits)} models, {len(c1.models)} refitted per series")
    print(f"  true models: {', '.join(c1.true_models)};  n = {args.n} per true model ({sims} series)")
    print()
    print(f"  lsi.fit (every model)                 : wall {t_fit:6.2f} s   cpu {c_fit:6.2f} s")
    print(f"  confusion, 1 process                  : wall {t1:6.2f} s   cpu {cpu1:6.2f} s")
    print(f"  confusion, 2 processes                : wall {t2:6.2f} s   cpu {cpu2:6.2f} s (this process)")
    print(f"  the default uses                      : {procs} process{'es' if procs > 1 else ''}")
    print(f"  per simulated series, 1 process       : {t1 / sims * 1e3:6.1f} ms wall, {cpu1 / sims * 1e3:6.1f} ms cpu")
    print(f"  ratio confusion / plain fit (1 proc)  : {t1 / t_fit:6.1f}")
    print()
    np.set_printoptions(precision=2, suppress=True, linewidth=160)
    print("  P(column selected | row true):", ", ".join(c1.models))
    for m, row, se in zip(c1.true_models, c1.probabilities, c1.stderr, strict=True):
        print(f"    {m:12s}", " ".join(f"{p:5.2f}\u00b1{s:4.2f}" for p, s in zip(row, se, strict=True)))
    print("  refits that did not reach a minimum:", c1.refit_failures.sum(axis=0).tolist())
    print(f"  {c1.sentence()}")
    same = np.array_equal(c1.counts, c2.counts)
    print(f"  1 and 2 processes give the same counts: {same}")
    if args.report:
        _, t_rep, cpu_rep = timed(lambda: lsi.assumptions(fits, n_boot=1000, seed=0), 1)
        print()
        print(f"  lsi.assumptions(n_boot=1000)          : wall {t_rep:6.2f} s   cpu {cpu_rep:6.2f} s (this process)")
    if args.check:
        saved = (dist._FIRST_NFEV, dist._POLISH_MARGIN, dist._CAPPED_MARGIN, dist._TRAPPED_MARGIN)
        dist._FIRST_NFEV, dist._POLISH_MARGIN, dist._CAPPED_MARGIN, dist._TRAPPED_MARGIN = None, 1e9, 1e9, 1e9
        try:
            ref, t_ref, cpu_ref = timed(lambda: dist.confusion(fits, n=args.n, seed=0, processes=1), 1)
        finally:
            dist._FIRST_NFEV, dist._POLISH_MARGIN, dist._CAPPED_MARGIN, dist._TRAPPED_MARGIN = saved
        sel = np.argmin(c1.aicc, axis=2)
        sel_ref = np.argmin(ref.aicc, axis=2)
        print()
        print(f"  every refit polished to its end       : wall {t_ref:6.2f} s   cpu {cpu_ref:6.2f} s")
        print(f"  selections that differ                : {int(np.sum(sel != sel_ref))} of {sel.size}")


if __name__ == "__main__":
    main()
