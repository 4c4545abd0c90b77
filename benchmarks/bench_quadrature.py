"""Benchmark of lsi.quadrature: accuracy against the ODE reference, speed, memory.

Run from the repository root::

    python benchmarks/bench_quadrature.py            # the full run (a few minutes)
    python benchmarks/bench_quadrature.py --quick    # smaller sizes, a smoke run

It prints three tables:

1. accuracy: ``solve`` (each engine: numpy, and numba when installed) and a
   ``solve_ivp(LSODA)`` loop at a ladder of tolerances, each against the tight ODE reference
   (``solve_reference``, DOP853, rtol 1e-13) on random cells.  The *matched* LSODA tolerance
   is the loosest whose worst error in ln C is within 1e-6 (the issue's criterion);
2. speed: 1e5 cells by ``solve`` (each engine) against a Python loop of
   ``solve_ivp(LSODA)`` at the matched tolerance (and at rtol 1e-12), the loop timed on a
   subset and scaled up, with the ratios;
3. scale: 1e6 cells with every diagnostic (default engine), cells/second and peak memory
   (tracemalloc, and the process's maximum resident set size).

Random cells are drawn over the ranges of the parameter table (p = 1 and ceiling = inf
exactly in a fifth and a half of the cells, delta = 0 and gamma = 0 in 40%, ...).  Cells where
the reference itself is ill-conditioned are skipped in the accuracy table and counted.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lsi.quadrature as q  # noqa: E402

T0 = 2020.0
MULTIPLES = (2.0, 10.0, 1e3)
REF_RTOL, REF_ATOL = 1e-13, 1e-15  # the accuracy table's truth: DOP853 at its tightest
KEYS = ("lnC_end", "t_closure", "t_amplification", "t_efficiency", "t_singularity")


def draw_cells(rng: np.random.Generator, n: int):
    u = rng.uniform(size=n)
    params = {
        "g0": np.exp(rng.uniform(np.log(0.05), np.log(2.0), n)),
        "p": np.where(u < 0.2, 1.0, np.where(u < 0.3, 0.0, rng.uniform(0, 1, n))),
        "a": np.where(rng.uniform(size=n) < 0.1, 0.0, rng.uniform(0, 3, n)),
        "lam": rng.uniform(0.1, 1.0, n),
        "beta": np.where(rng.uniform(size=n) < 0.2, 0.0, rng.uniform(0, 1.5, n)),
        "gamma": np.where(rng.uniform(size=n) < 0.4, 0.0, rng.uniform(0, 0.5, n)),
        "ceiling": np.where(rng.uniform(size=n) < 0.5, np.inf, np.exp(rng.uniform(np.log(2), np.log(1e6), n))),
        "nu": np.exp(rng.uniform(np.log(0.2), np.log(5.0), n)),
        "delta": np.where(rng.uniform(size=n) < 0.4, 0.0, rng.uniform(0, 0.5, n)),
    }
    until = T0 + rng.uniform(0.5, 20.0, n)
    th = {
        "kappa_min": rng.uniform(0.05, 0.95, n),
        "rho_min": rng.uniform(-0.5, 0.5, n),
        "eta_min": rng.uniform(0.05, 0.95, n),
    }
    return params, until, th


def cell(d: dict, i: int) -> dict:
    return {k: float(v[i]) for k, v in d.items()}


def well_conditioned(params: dict) -> bool:
    """Same filter as the tests: skip what an ODE solver cannot resolve to 1e-6."""
    L = math.log(params["ceiling"])
    if any(abs(math.log(m) - L) < 1e-4 for m in MULTIPLES):
        return False
    c = params["lam"] * params["a"] - params["beta"]
    bg = params["beta"] * params["gamma"]
    if params["p"] == 1 and math.isinf(L) and c > 0 and 0 < bg < 1e-3:
        return False
    tinf = float(q.tau_infinity(**params))
    return not (math.isfinite(tinf) and abs(params["delta"] * tinf - 1.0) < 1e-3)


def errors(a: dict, b: dict, until: float, rate: float) -> dict[str, float]:
    """Absolute differences; an event missing on one side counts by its distance to until."""
    out = {}
    for key in (*KEYS, "t_reach"):
        xa, xb = np.ravel(a[key]).astype(float), np.ravel(b[key]).astype(float)
        d = np.zeros(xa.shape)
        one = np.isnan(xa) != np.isnan(xb)
        both = ~np.isnan(xa) & ~np.isnan(xb)
        with np.errstate(invalid="ignore"):  # inf - inf where both are inf
            d[both] = np.where(xa[both] == xb[both], 0.0, np.abs(xa[both] - xb[both]))
        d[one] = np.abs(np.where(np.isnan(xa), xb, xa)[one] - until)
        if key == "lnC_end" and rate > 1e4:
            continue  # next to a blow-up: 1e-10 y of horizon is > 1e-6 in l, for any method
        out[key] = float(d.max()) if d.size else 0.0
    out["first_failure"] = float(int(a["first_failure"]) != int(b["first_failure"]))
    return out


def end_rate(fast: dict, params: dict, until: float) -> float:
    lv = float(fast["lnC_end"])
    if not math.isfinite(lv):
        return 0.0
    return math.exp(-params["delta"] * (until - T0)) / float(q.integrand(lv, **params))


# LSODA rtols tried (atol 1e-14); looser ones miss 1e-6 in ln C by far
LADDER = (1e-6, 1e-7, 1e-8, 1e-9, 3e-10, 1e-10, 1e-12)
MATCH = 1e-6  # the accuracy: 1e-6 in ln C


def engines() -> list[str]:
    return ["numpy"] + (["numba"] if q.resolve_engine("auto", q.JIT_MIN_CELLS) == "numba" else [])


MAX_RHS = 200_000  # an LSODA run still going after this many right-hand sides is a failure


class TooSlow(Exception):
    pass


def lsoda(i, params, until, th, rtol, max_rhs: int | None = None):
    """solve_reference with LSODA; with ``max_rhs``, a run that needs more right-hand side
    evaluations stops and counts as a failure (at loose tolerances LSODA can crawl for
    minutes, storing every step, as it approaches a ceiling)."""
    kw = dict(multiples=MULTIPLES, method="LSODA", rtol=rtol, atol=1e-14, **cell(params, i), **cell(th, i))
    if max_rhs is None:
        return q.solve_reference(T0, until[i], **kw)
    from scipy import integrate  # solve_reference looks solve_ivp up here on every call

    solve_ivp = integrate.solve_ivp

    def capped(fun, *args, **kwargs):
        count = [0]

        def counted(t, y):
            count[0] += 1
            if count[0] > max_rhs:
                raise TooSlow
            return fun(t, y)

        return solve_ivp(counted, *args, **kwargs)

    integrate.solve_ivp = capped
    try:
        return q.solve_reference(T0, until[i], **kw)
    except TooSlow:
        return {"status": np.int8(2)}
    finally:
        integrate.solve_ivp = solve_ivp


def accuracy(n: int, seed: int = 1) -> tuple[dict[str, dict], int, int]:
    """Worst errors against the DOP853 reference: per engine of solve and per LSODA rtol."""
    rng = np.random.default_rng(seed)
    params, until, th = draw_cells(rng, n)
    fast = {e: q.solve(T0, until, multiples=MULTIPLES, engine=e, **params, **th) for e in engines()}
    worst: dict[str, dict] = {k: {} for k in [*fast, *(f"LSODA {r:g}" for r in LADDER)]}
    checked = skipped = 0
    for i in range(n):
        p, t = cell(params, i), cell(th, i)
        if not well_conditioned(p):
            skipped += 1
            continue
        ref = q.solve_reference(T0, until[i], multiples=MULTIPLES, rtol=REF_RTOL, atol=REF_ATOL, **p, **t)
        if int(ref["status"]) != 0:
            skipped += 1
            continue
        rate = end_rate({k: v[i] for k, v in fast["numpy"].items()}, p, until[i])
        results = {e: {k: v[i] for k, v in r.items()} for e, r in fast.items()}
        results.update({f"LSODA {r:g}": lsoda(i, params, until, th, r, MAX_RHS) for r in LADDER})
        for name, res in results.items():
            store = worst[name]
            if int(res["status"]) != 0:
                store["failures"] = store.get("failures", 0) + 1
                continue
            for k, v in errors(res, ref, until[i], rate).items():
                store[k] = max(store.get(k, 0.0), v)
        checked += 1
    return worst, checked, skipped


def time_lsoda(params, until, th, idx, rtol) -> float:
    t = time.perf_counter()
    for i in idx:
        lsoda(i, params, until, th, rtol)
    return time.perf_counter() - t


def time_solve(params, until, th, engine: str, repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        q.solve(T0, until, multiples=MULTIPLES, engine=engine, **params, **th)
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = ap.parse_args(argv)
    n_acc, n_speed, n_loop, n_big = (300, 20_000, 50, 100_000) if args.quick else (2000, 100_000, 300, 1_000_000)

    print(f"lsi.quadrature benchmark (numpy {np.__version__}; engines: {', '.join(engines())})\n")
    if "numba" in engines():  # compile (or load the cache) before anything is timed
        t = time.perf_counter()
        q.solve(T0, T0 + 1.0, g0=0.5, a=1.0, p=0.9, ceiling=100.0, delta=0.1, engine="numba")
        print(f"numba engine ready in {time.perf_counter() - t:.1f} s (compiled or loaded from its cache)\n")
    # ---- 1. accuracy
    t = time.perf_counter()
    worst, checked, skipped = accuracy(n_acc)
    print(
        f"1. accuracy: max |error| against solve_reference (DOP853, rtol {REF_RTOL:g}) over "
        f"{checked} random cells ({skipped} ill-conditioned for the reference skipped; "
        f"{time.perf_counter() - t:.0f} s)"
    )
    names = list(worst)
    print("   " + f"{'quantity':16s}" + "".join(f"{n.replace('LSODA', 'LSODA rtol'):>17s}" for n in names))
    for k in (*KEYS, "t_reach", "first_failure", "failures"):
        if any(k in w for w in worst.values()):
            print("   " + f"{k:16s}" + "".join(f"{worst[n].get(k, 0.0):17.1e}" for n in names))
    good = [r for r in LADDER if worst[f"LSODA {r:g}"].get("lnC_end", 0.0) <= MATCH]
    good = [r for r in good if "failures" not in worst[f"LSODA {r:g}"]]
    matched = good[0] if good else LADDER[-1]
    print(
        "   (lnC_end in ln C units, skipped where dl/dt > 1e4 per year at the horizon; times in"
        " years;\n    first_failure = 1 if any cell disagrees; failures = cells with status != 0)"
    )
    print(f"   matched accuracy ({MATCH:g} in ln C): LSODA needs rtol {matched:g}\n")

    # ---- 2. speed against a solve_ivp loop
    rng = np.random.default_rng(2)
    params, until, th = draw_cells(rng, n_speed)
    t_fast = {e: time_solve(params, until, th, e) for e in engines()}
    t_one = None
    if "numba" in engines():  # the compiled engine on one core, for a like-for-like ratio
        from lsi.quadrature import numba_engine

        threads = numba_engine.threads
        numba_engine.threads = lambda: 1
        try:
            t_one = time_solve(params, until, th, "numba")
        finally:
            numba_engine.threads = threads
    idx = np.arange(n_loop)
    scale = n_speed / n_loop
    t_loop = {r: time_lsoda(params, until, th, idx, r) * scale for r in dict.fromkeys((matched, 1e-12))}
    print(f"2. speed: {n_speed:.0e} cells, every diagnostic and {len(MULTIPLES)} multiples")
    cols = "".join(f"{'/ ' + e:>12s}" for e in engines())
    print(f"   {'method':40s} {'seconds':>9s} {'cells/s':>10s}{cols}")
    for e, tf in t_fast.items():
        label = f"solve, engine={e}" + (f" ({_jit_threads()} threads)" if e == "numba" else "")
        rat = "".join(f"{tf / t_fast[x]:12.2f}" for x in engines())
        print(f"   {label:40s} {tf:9.3f} {n_speed / tf:10.3g}{rat}")
    if t_one is not None:
        rat = "".join(f"{t_one / t_fast[x]:12.2f}" for x in engines())
        print(f"   {'solve, engine=numba (1 thread)':40s} {t_one:9.3f} {n_speed / t_one:10.3g}{rat}")
    for r, tl in t_loop.items():
        label = f"solve_ivp(LSODA) loop, rtol {r:g}" + (" (matched)" if r == matched else "")
        rat = "".join(f"{tl / t_fast[x]:12.0f}" for x in engines())
        print(f"   {label:40s} {tl:9.1f} {n_speed / tl:10.3g}{rat}")
        if t_one is not None:
            print(f"   {'   ... over numba on 1 thread':40s} {'':9s} {'':10s}{'':12s}{tl / t_one:12.0f}")
    print(f"   (ratios: each row's time over each engine's; the loop timed on {n_loop} cells, x{scale:g})\n")

    # ---- 3. scale and memory
    rng = np.random.default_rng(3)
    params, until, th = draw_cells(rng, n_big)
    t = time.perf_counter()
    res = q.solve(T0, until, multiples=MULTIPLES, **params, **th)
    t_big = time.perf_counter() - t
    status = np.bincount(res["status"], minlength=3)
    del res
    tracemalloc.start()
    q.solve(T0, until, multiples=MULTIPLES, **params, **th)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    inputs = sum(v.nbytes for v in (*params.values(), *th.values(), until))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB on Linux
    print(f"3. scale: {n_big:.0e} cells, every diagnostic, engine {q.resolve_engine('auto', n_big)}")
    print(f"   time {t_big:.2f} s, {n_big / t_big:.3g} cells/s; status counts {status.tolist()}")
    print(
        f"   peak traced memory of the call {peak / 2**20:.0f} MB (inputs {inputs / 2**20:.0f} MB "
        f"not included); process max RSS {rss:.0f} MB"
    )


def _jit_threads() -> int:
    from lsi.quadrature import numba_engine

    return numba_engine.threads()


if __name__ == "__main__":
    main()
