"""Bounded memory and time (issue 12, item 5): the new approach beside the old, in one run.

Each case runs in a fresh subprocess, so its peak resident memory is its own:

1. The breakpoint's scan of candidate breaks (``Breakpoint.guess``): the direct solve it
   replaced (an (m, n, 3) design of every candidate at once) against prefix and suffix
   sums (O(n) memory), on a simulated series with one break.
2. Building a chunked sweep's lazy graph (``lsi.sweep(..., chunks=)``), nothing computed:
   the Python loop of ``dask.delayed`` tasks it replaced (one closure per chunk, each
   pickled to be tokenized) against one blockwise evaluation layer.  Then the time dask
   takes to optimise the new graph for computing (every block's task is built then).

Reported as new / old ratios.  Not a test (this machine is shared and noisy).

Last run (2 shared cores, 23 GB):

* scan, 2000 points: new 0.001 s +1 MB, old 0.82 s +291 MB; 5000: new 0.002 s +2 MB, old
  5.9 s +1.8 GB; 10,000: new 0.009 s +4 MB, old 30.9 s +6.9 GB (time ratio 0.0003, memory
  0.0006); 100,000: new 0.054 s +42 MB (the old one asks for 240 GB).
* 1e5 x 1e5 cells, chunks = 1e6 (10,000 blocks): new 0.12 s to build, old 61.7 s (ratio
  0.0019); dask then takes 17.8 s to optimise the new graph when it is computed.

Run:  python benchmarks/bench_bounds.py [--quick] [--no-old-10k]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

SCAN_CHILD = r"""
import json, resource, sys, time
import numpy as np
import lsi

n, which = int(sys.argv[1]), sys.argv[2]


def old_two_segment_rss(tau, ly, cand, w=None):
    # the scan as it was: the (m, n, 3) design of every candidate, solved at once
    w = np.ones_like(tau) if w is None else np.asarray(w, dtype=float)
    x1 = np.minimum(tau[None, :], cand[:, None])
    x2 = np.maximum(tau[None, :] - cand[:, None], 0.0)
    X = np.stack([np.ones_like(x1), x1, x2], axis=-1) * w[None, :, None]
    ly = ly * w
    Xt = X.transpose(0, 2, 1)
    XtX = Xt @ X
    Xty = (Xt @ ly[:, None])[..., 0]
    rss = np.full(cand.size, np.inf)
    coef = np.full((cand.size, 3), np.nan)
    with np.errstate(all="ignore"):
        ratio = np.linalg.det(XtX) / np.prod(np.diagonal(XtX, axis1=1, axis2=2), axis=1)
        ok = np.isfinite(ratio) & (ratio > 1e-10)
        if ok.any():
            b = np.linalg.solve(XtX[ok], Xty[ok][..., None])
            r = ly[None, :] - (X[ok] @ b)[..., 0]
            rss[ok] = np.sum(r**2, axis=1)
            coef[ok] = b[..., 0]
    return rss, coef


rng = np.random.default_rng(0)
tau = np.sort(rng.uniform(0.0, 10.0, n))
tau -= tau[0]
z = 0.3 * np.minimum(tau, 6.0) + 1.2 * np.maximum(tau - 6.0, 0.0) + rng.normal(0.0, 0.1, n)
m = lsi.models.get("breakpoint")
if which == "old":
    import lsi.models.regime as regime

    regime._two_segment_rss = old_two_segment_rss
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
starts = m.guess(tau, np.exp(z))
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": dt, "peak_rss_mb": peak / 1024, "extra_mb": (peak - base) / 1024, "tb": starts[0]["tb"]}))
"""

SWEEP_CHILD = r"""
import json, sys, time
import numpy as np
import dask
import dask.array as da
import lsi
from lsi import loopmath, sweeps

side, chunks, which = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
grid = dict(p=np.linspace(0.5, 1.0, side), beta=np.linspace(0.0, 1.0, side))
fixed = dict(g0=0.5, a=1.0, delta=0.02, ceiling=1e6)
mult = [10.0]
lsi.sweep("loop", until=40.0, chunks=4, p=np.linspace(0.5, 1.0, 3), g0=0.5, a=1.0)  # imports, outside the clock


def old_lazy():
    # the graph as it was built: one delayed closure per run of rows, twelve from_delayed pieces
    # each, concatenated (its values_for broadcast the rows of the leading dimension)
    m = lsi.models.get("loop")
    th = loopmath.thresholds(None)
    swept, fx = sweeps._split(m, {**grid, **fixed})
    rows = max(1, chunks // side)
    meta = {k: np.float64 for k in sweeps.FLOAT_OUTPUTS}
    meta.update(first_failure=np.int8, tied=np.bool_, status=np.int8, t_reach=np.float64)

    def values_for(idx):
        vals = {k: np.asarray(v) for k, v in fx.items()}
        vals["p"] = swept["p"][idx].reshape(-1, 1)
        vals["beta"] = swept["beta"].reshape(1, -1)
        return vals

    pieces = {}
    for start in range(0, side, rows):
        stop = min(side, start + rows)
        idx = np.arange(start, stop)
        sub_shape = (stop - start, side)

        def block(idx=idx, sub_shape=sub_shape):
            res = sweeps._evaluate(m, values_for(idx), 0.0, 40.0, th, mult, "auto")
            return {k: np.broadcast_to(np.asarray(v), sub_shape + np.asarray(v).shape[2:]) for k, v in res.items()}

        d = dask.delayed(block, pure=True)()
        for k, dt in meta.items():
            shp = sub_shape + ((len(mult),) if k == "t_reach" else ())
            pieces.setdefault(k, []).append(da.from_delayed(d[k], shape=shp, dtype=dt))
    return {k: da.concatenate(v, axis=0) for k, v in pieces.items()}


t = time.perf_counter()
if which == "old":
    arrays = old_lazy()
else:
    ds = lsi.sweep("loop", until=40.0, multiples=mult, chunks=chunks, **grid, **fixed)
    arrays = {k: v.data for k, v in ds.data_vars.items()}
build = time.perf_counter() - t
out = {"build_seconds": build, "blocks": int(np.prod(arrays["lnC_end"].numblocks))}
if which == "new" and len(sys.argv) > 4:
    t = time.perf_counter()
    dask.optimize(*arrays.values())
    out["optimize_seconds"] = time.perf_counter() - t
print(json.dumps(out))
"""


def child(code: str, *args: object, timeout: float = 1800) -> dict:
    try:
        out = subprocess.run(
            [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True, timeout=timeout
        )
    except subprocess.CalledProcessError as exc:
        return {"error": exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else f"exit {exc.returncode}"}
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller cases (old scan at 2000 points, 1e4 x 1e4 grid)")
    ap.add_argument("--no-old-10k", action="store_true", help="skip the old scan at 10k points (it needs 7 GB)")
    args = ap.parse_args()

    print("breakpoint scan (Breakpoint.guess on a simulated series with one break)")
    sizes = [2000] if args.quick else [2000, 5000, 10_000]
    for n in sizes:
        new = child(SCAN_CHILD, n, "new")
        old = {"error": "skipped"} if (n >= 10_000 and args.no_old_10k) else child(SCAN_CHILD, n, "old")
        line = f"  n = {n:>6}: new {new['seconds']:.3f} s, +{new['extra_mb']:.0f} MB"
        if "error" in old:
            line += f"; old: {old['error']}"
        else:
            line += (
                f"; old {old['seconds']:.3f} s, +{old['extra_mb']:.0f} MB; "
                f"new/old time {new['seconds'] / old['seconds']:.4f}, "
                f"memory {new['extra_mb'] / max(old['extra_mb'], 1):.4f}"
            )
        print(line)
    big = child(SCAN_CHILD, 100_000, "new")
    print(f"  n = 100000: new {big['seconds']:.3f} s, +{big['extra_mb']:.0f} MB (the old one asks for 240 GB)")

    print("chunked sweep, building the lazy graph (nothing computed)")
    side, chunks = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    new = child(SWEEP_CHILD, side, chunks, "new", "optimize")
    old = child(SWEEP_CHILD, side, chunks, "old")
    print(f"  {side} x {side} cells, chunks = {chunks}: {new['blocks']} blocks")
    print(f"  new {new['build_seconds']:.2f} s to build, then {new['optimize_seconds']:.1f} s for dask to optimise it")
    if "error" in old:
        print(f"  old: {old['error']}")
    else:
        print(f"  old {old['build_seconds']:.2f} s to build; new/old {new['build_seconds'] / old['build_seconds']:.4f}")


if __name__ == "__main__":
    main()
