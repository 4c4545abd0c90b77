"""Scale of lsi.sweep through the public API (not a test: this machine is shared and noisy).

Each scenario runs in a fresh subprocess so its peak resident memory is its own:

1. 1e6 cells (a 1000 x 1000 grid over p and beta, three other parameters fixed, two
   multiples) evaluated eagerly with every diagnostic.  Target: < 10 s, peak < 2 GB.
2. 1e7 cells (a 3163 x 3163 grid) built lazily with dask (``chunks=``) and streamed into a
   netCDF file.  Target: peak memory < 2 GB.
3. The machine's memory bandwidth (a large numpy copy), and the fraction of it the
   evaluation reaches (bytes of parameters in and results out per second).

The quadrature-level comparison with a Python loop of solve_ivp(LSODA) is in
bench_quadrature.py (1e5 cells, accuracy-matched).

Run:  python benchmarks/bench_sweep.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

CHILD = r"""
import json, resource, sys, time, os
import numpy as np
import lsi
n, mode, path, engine = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
side = int(round(n ** 0.5))
grid = dict(p=np.linspace(0.5, 1.0, side), beta=np.linspace(0.0, 1.0, side))
fixed = dict(g0=0.5, a=1.0, delta=0.02, ceiling=1e6)
t = time.perf_counter()
if mode == "eager":
    ds = lsi.sweep("loop", until=40.0, multiples=[10.0, 1000.0], engine=engine, **grid, **fixed)
    ok = int((ds["status"] == 0).sum())
    ff = np.bincount(ds["first_failure"].values.ravel() + 1, minlength=5).tolist()
else:
    import dask
    dask.config.set(scheduler="threads", num_workers=2)
    ds = lsi.sweep("loop", until=40.0, multiples=[10.0, 1000.0], chunks=1 << 18, engine=engine, **grid, **fixed)
    ds.to_netcdf(path)
    import xarray as xr
    with xr.open_dataset(path) as back:
        ok = int((back["status"] == 0).sum())
        ff = np.bincount(back["first_failure"].values.ravel() + 1, minlength=5).tolist()
dt = time.perf_counter() - t
cells = side * side
out_bytes = sum(v.dtype.itemsize * v.size for v in ds.data_vars.values()) if mode == "eager" else os.path.getsize(path)
print(json.dumps({"cells": cells, "seconds": dt, "ok": ok, "first_failure_counts": ff, "engine": ds.attrs["engine"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "bytes_out": int(out_bytes)}))
"""


def run(n: int, mode: str, engine: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sweep.nc")
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), mode, path, engine], capture_output=True, text=True, check=True
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bandwidth() -> float:
    a = np.ones(1 << 26)  # 512 MB
    b = np.empty_like(a)
    best = np.inf
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best  # read + write


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n1, n2 = (10**5, 10**6) if args.quick else (10**6, 10**7)
    bw = bandwidth()
    try:
        import numba  # noqa: F401

        engines = ["numpy", "numba"]
    except ImportError:
        engines = ["numpy"]
    runs = {}
    for e in engines:
        runs[f"eager, {n1:.0e} cells, {e}"] = run(n1, "eager", e)
        runs[f"dask -> netCDF, {n2:.0e} cells, {e}"] = run(n2, "dask", e)
    print("lsi.sweep scale (the loop model, every diagnostic, two multiples; each in a fresh process)")
    print(f"{'scenario':40s} {'cells':>10s} {'seconds':>9s} {'cells/s':>10s} {'peak RSS':>10s}")
    for name, r in runs.items():
        print(
            f"{name:40s} {r['cells']:10d} {r['seconds']:9.2f} {r['cells'] / r['seconds']:10.3g} "
            f"{r['peak_rss_mb']:8.0f} MB"
        )
    # bytes per cell: 9 float64 parameters in (broadcast views, counted as if materialised) and the results out
    print()
    print(f"memory bandwidth (numpy copy, read+write): {bw / 1e9:.1f} GB/s")
    for e in engines:
        r1 = runs[f"eager, {n1:.0e} cells, {e}"]
        per_cell = r1["bytes_out"] / r1["cells"] + 9 * 8
        reached = per_cell * r1["cells"] / r1["seconds"]
        print(
            f"evaluation traffic, {e}: {per_cell:.0f} bytes/cell -> {reached / 1e6:.1f} MB/s = {reached / bw:.2e} "
            "of it (the quadrature is compute-bound)"
        )
    counts = {name: (r["ok"], r["cells"]) for name, r in runs.items()}
    print(f"cells evaluated ok: {counts}")
    print(f"first-failure counts (-1, closure, amplification, efficiency, none): {r1['first_failure_counts']}")


if __name__ == "__main__":
    main()
