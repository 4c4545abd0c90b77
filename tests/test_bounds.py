"""Bounded memory and time (issue 12, item 5), tested by behaviour, never by the clock.

* the breakpoint's scan of candidate breaks holds O(n) memory (a tracemalloc peak far below
  the (m, n, 3) design a direct solve builds), and a fit of 10k points runs;
* a sweep estimates its memory before it allocates and refuses, in one line with the
  estimate and the ``chunks=`` hint, beyond its budget (``max_memory=``); a chunked sweep's
  graph is a few array-level layers however many blocks it has;
* a forecast's ``until`` and time grid are checked before the bootstrap runs.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

import lsi
from lsi import sweeps
from lsi.exceptions import ParameterValueError

BASE = dict(g0=0.5, a=1.0)


def _peak(fn, *args, **kw):
    """Peak of memory allocated by Python and numpy while ``fn`` runs, in bytes."""
    tracemalloc.start()
    try:
        out = fn(*args, **kw)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------- the breakpoint's scan
def _breaking_series(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = 2000.0 + np.sort(rng.uniform(0.0, 10.0, n))
    z = 0.3 * np.minimum(t - 2000, 6.0) + 1.2 * np.maximum(t - 2006, 0.0) + rng.normal(0.0, 0.1, n)
    return t, np.exp(z)


def test_breakpoint_scan_memory_is_linear_in_the_points():
    m = lsi.models.get("breakpoint")
    t, y = _breaking_series(3000)
    tau = t - t[0]
    m.scan(tau, np.log(y))  # anything loaded on first use, outside the measurement
    design = m.candidates(tau).size * tau.size * 3 * 8  # the (m, n, 3) design alone: 225 MB
    rss, peak = _peak(m.scan, tau, np.log(y), np.full(tau.size, 2.0))
    assert rss.shape == m.candidates(tau).shape and np.isfinite(rss).all()
    assert peak < 5e6 and peak < design / 40
    # ten times the points, about ten times the memory (not a hundred)
    t, y = _breaking_series(30_000)
    tau = t - t[0]
    _, peak_10x = _peak(m.scan, tau, np.log(y))
    assert peak_10x < 20 * max(peak, 1e6)


def test_breakpoint_guess_at_100k_points_stays_small():
    m = lsi.models.get("breakpoint")
    t, y = _breaking_series(100_000, seed=1)
    starts, peak = _peak(m.guess, t - t[0], y)
    assert peak < 300e6  # a direct solve would ask for 240 GB
    assert starts[0]["tb"] == pytest.approx(6.0, abs=0.05)
    assert starts[0]["g1"] == pytest.approx(0.3, abs=0.01) and starts[0]["g2"] == pytest.approx(1.2, abs=0.01)


def test_breakpoint_fit_of_10k_points():
    t, y = _breaking_series(10_000, seed=2)
    fits = lsi.fit(lsi.Series(t, y, name="sim-10k"), "breakpoint")
    r = fits["breakpoint"]
    assert r.converged
    p = dict(zip(r.model.param_names, r.theta, strict=True))
    assert p["tb"] == pytest.approx(6.0, abs=0.05)
    assert p["g1"] == pytest.approx(0.3, abs=0.01) and p["g2"] == pytest.approx(1.2, abs=0.01)


# ---------------------------------------------------------------- sweeps
def test_a_sweep_beyond_memory_is_refused_before_allocating():
    grid = dict(p=np.linspace(0.5, 1.0, 100_000), beta=np.linspace(0.0, 1.0, 100_000))
    with pytest.raises(ParameterValueError) as info:
        lsi.sweep("loop", until=40.0, **grid, **BASE)
    msg = str(info.value)
    assert "\n" not in msg
    assert "10,000,000,000 cells (100000 x 100000)" in msg and "GiB" in msg and "chunks=" in msg
    need = sweeps.memory_estimate(10**10)
    assert f"{need / 2**30:.1f} GiB" in msg
    # the refusal comes before the result is allocated: the peak is the grid's coordinates
    tracemalloc.start()
    try:
        with pytest.raises(ParameterValueError, match="needs about"):
            lsi.sweep("loop", until=40.0, **grid, **BASE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6


def test_memory_estimate_counts_every_output():
    ds = lsi.sweep("loop", until=30.0, multiples=[10.0, 100.0], p=np.linspace(0.5, 1, 4), beta=[0.0, 0.5], **BASE)
    held = sum(v.nbytes for v in ds.data_vars.values())
    assert sweeps.memory_estimate(8, 2) - 8 * sweeps.WORK_BYTES_PER_CELL == held
    # eager: the result grows with the grid, the working space stays one block's
    big, bigger = sweeps.memory_estimate(10**8), sweeps.memory_estimate(10**9)
    assert bigger - big == 9 * 10**8 * 67
    # chunked: one task's, whatever the grid
    assert sweeps.memory_estimate(10**8, chunks=1000) == sweeps.memory_estimate(10**12, chunks=1000)


@pytest.mark.parametrize(
    ("budget", "refused"),
    [(1e6, True), ("1 MB", True), ("1MiB", True), ("8GB", False), (math.inf, False), (2**40, False)],
)
def test_max_memory_sets_the_budget(budget, refused):
    grid = dict(p=np.linspace(0.5, 1.0, 300), beta=np.linspace(0.0, 1.0, 300))  # ~26 MB with working space
    if refused:
        with pytest.raises(ParameterValueError, match=r"beyond the budget of 1\.0 MiB|beyond the budget of 976\.6 KiB"):
            lsi.sweep("loop", until=30.0, max_memory=budget, **grid, **BASE)
    else:
        ds = lsi.sweep("loop", until=30.0, max_memory=budget, **grid, **BASE)
        assert ds["first_failure"].shape == (300, 300)


@pytest.mark.parametrize("budget", [0, -1, "lots", "8 parsecs", True, float("nan"), [1]])
def test_a_bad_max_memory_is_one_clear_line(budget):
    with pytest.raises(ParameterValueError, match="max_memory") as info:
        lsi.sweep("loop", until=30.0, max_memory=budget, p=[0.5, 1.0], **BASE)
    assert "\n" not in str(info.value)


def test_default_budget_is_half_the_physical_memory():
    import os

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert sweeps.default_max_memory() == int(total * sweeps.MEMORY_FRACTION)
    assert sweeps.MEMORY_FRACTION == 0.5


@pytest.mark.parametrize("chunks", [0, -5, 1.5, True, "many", float("inf")])
def test_bad_chunks_are_one_clear_line(chunks):
    pytest.importorskip("dask")
    with pytest.raises(ParameterValueError, match="chunks") as info:
        lsi.sweep("loop", until=30.0, chunks=chunks, p=[0.5, 1.0], **BASE)
    assert "\n" not in str(info.value)


def test_a_chunked_sweeps_tasks_are_held_to_the_budget():
    pytest.importorskip("dask")
    grid = dict(p=np.linspace(0.5, 1.0, 1000), beta=np.linspace(0.0, 1.0, 1000))
    with pytest.raises(ParameterValueError, match=r"chunks = 1,000,000 cells a task need about .* chunks=\d+"):
        lsi.sweep("loop", until=30.0, chunks=10**6, max_memory="100MB", **grid, **BASE)
    ds = lsi.sweep("loop", until=30.0, chunks=10**4, max_memory="100MB", **grid, **BASE)
    assert max(math.prod(c) for c in _block_sizes(ds["lnC_end"].data)) <= 10**4


def _block_sizes(arr):
    import itertools

    return itertools.product(*arr.chunks)


@pytest.mark.parametrize(
    ("shape", "chunks"), [((7, 9), 20), ((5, 8), 16), ((100, 1000), 250), ((3, 4, 5), 7), ((10,), 3), ((4, 6), 1)]
)
def test_blocks_hold_at_most_chunks_cells(shape, chunks):
    block = sweeps._block_shape(shape, chunks)
    assert math.prod(block) <= max(chunks, 1)
    assert all(1 <= b <= n for b, n in zip(block, shape, strict=True))
    # whole along the trailing dimensions where they fit
    if shape[-1] <= chunks:
        assert block[-1] == shape[-1]


def test_a_huge_chunked_sweep_is_a_few_array_level_layers():
    """1e5 x 1e5 cells in 1e6 blocks: the evaluation is one blockwise layer (not one Python
    task per block, which took 48 s to build at 1e4 blocks); only the coordinates are split
    into tasks, one per block along their own dimension."""
    pytest.importorskip("dask")
    p, beta = np.linspace(0.5, 1.0, 100_000), np.linspace(0.0, 1.0, 100_000)
    ds = lsi.sweep("loop", until=40.0, multiples=[10.0], chunks=10**4, p=p, beta=beta, **BASE)
    arr = ds["lnC_end"].data
    assert arr.numblocks == (100_000, 10)
    graph = arr.__dask_graph__()
    assert len(graph.layers) <= 4
    # (layers are mappings: compare them by kind, never by ==, which would build every task)
    materialized = [layer for layer in graph.layers.values() if layer.is_materialized()]
    assert len(materialized) <= 2 and sum(len(layer) for layer in materialized) <= sum(arr.numblocks)
    lazy = [type(layer).__name__ for layer in graph.layers.values() if not layer.is_materialized()]
    assert lazy and set(lazy) == {"Blockwise"}
    assert ds["t_reach"].data.numblocks == (100_000, 10, 1) and ds["tied"].dtype == bool


def test_a_chunked_sweep_over_samples_and_three_dimensions_equals_the_eager_one():
    pytest.importorskip("dask")
    draws = sweeps.sample({"g0": (0.3, 0.7), "a": (0.5, 1.5)}, 5, seed=2)
    grid = dict(p=np.linspace(0.5, 1, 4), beta=np.linspace(0, 1, 3), lam=[0.5, 1.0])
    eager = lsi.sweep("loop", until=30.0, samples=draws, multiples=[10.0, 100.0], **grid)
    for chunks in (1, 7, 24, 10**6):
        lazy = lsi.sweep("loop", until=30.0, samples=draws, multiples=[10.0, 100.0], chunks=chunks, **grid)
        assert lazy["lnC_end"].chunks is not None
        assert max(math.prod(c) for c in _block_sizes(lazy["lnC_end"].data)) <= chunks
        done = lazy.compute()
        for v in eager.data_vars:
            assert done[v].dims == eager[v].dims and done[v].dtype == eager[v].dtype
            np.testing.assert_allclose(done[v].values.astype(float), eager[v].values.astype(float), rtol=1e-13)


def test_a_chunked_sweep_is_deterministic():
    pytest.importorskip("dask")
    grid = dict(p=np.linspace(0.5, 1, 7), beta=np.linspace(0, 1, 9))
    a = lsi.sweep("loop", until=30.0, chunks=20, **grid, **BASE)
    b = lsi.sweep("loop", until=30.0, chunks=20, **grid, **BASE)
    c = lsi.sweep("loop", until=31.0, chunks=20, **grid, **BASE)
    assert a["lnC_end"].data.name == b["lnC_end"].data.name != c["lnC_end"].data.name


# ---------------------------------------------------------------- forecasts
@pytest.fixture(scope="module")
def exp_fits():
    t = np.linspace(2020, 2025, 20)
    y = np.exp(0.7 * (t - 2020) + np.random.default_rng(1).normal(0, 0.1, 20))
    return lsi.fit(lsi.Series(t, y, name="sim-exp"), "exponential", noise="log")


@pytest.fixture
def no_bootstrap(monkeypatch):
    """Fail if a forecast gets as far as its predictive distribution (the bootstrap)."""
    from lsi import forecast as fc

    def refuse(*args, **kw):
        raise AssertionError("the forecast ran before its arguments were checked")

    monkeypatch.setattr(fc, "predictive", refuse)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (
            {"until": 1e9},
            r"until = 1e\+09 is .* years after the last observation \(2025\.000\); .* at most 10,000 years",
        ),
        ({"until": 2025.0 + 10_001}, "at most 10,000 years past the data"),
        ({"until": math.inf}, "until = inf is not a finite date"),
        ({"until": -math.inf}, "until = -inf is not a finite date"),
        ({"until": math.nan}, "until = nan is not a finite date"),
        ({"until": 2030, "step": 1e-9}, r"step = 1e-09 gives 10,000,000,001 times .* give step >= 0\.0051"),
        ({"until": 2030, "step": 5e-324}, "gives inf times"),
        ({"until": 2030, "step": 0.001, "n": 100}, r"at most 10,000 times: give step >= 0\.0011"),
        ({"until": 2030, "step": 0.005}, r"2,001 times .* at most 2,000 times with 1,000 bootstrap replicates"),
        ({"until": 2030, "step": 0.0}, "step = 0.0 must be a positive number"),
        ({"until": 2030, "step": math.nan}, "step = nan must be a positive number"),
        ({"until": 2030, "step": "0.1"}, "step = '0.1' must be a positive number"),
        ({"until": 2030, "step": True}, "step = True must be a positive number"),
    ],
)
def test_forecast_bounds_are_checked_before_the_bootstrap(exp_fits, no_bootstrap, kw, match):
    from lsi.forecast import forecast

    with pytest.raises(ParameterValueError, match=match) as info:
        forecast(exp_fits, **kw)
    assert "\n" not in str(info.value)


def test_the_finest_step_suggested_is_accepted(exp_fits):
    from lsi.forecast import MAX_TIME_REPLICATES, forecast

    boot = exp_fits.bootstrap(30, seed=0, processes=1)
    # 30 replicates: the time bound (10,000) binds, not the pairs (2e6 / 30 = 66,666)
    with pytest.raises(ParameterValueError, match=r"at most 10,000 times: give step >= 0\.0011") as info:
        forecast(exp_fits, until=2030, step=0.001, bootstrap=boot)
    finest = float(str(info.value).split("give step >= ")[1].split(",")[0])
    ds = forecast(exp_fits, until=2030, step=finest, bootstrap=boot)
    assert ds.sizes["time"] <= 10_000 and float(ds["time"][-1]) == 2030.0
    assert 10_000 * 30 < MAX_TIME_REPLICATES


def test_until_as_decimal_year_text_is_a_decimal_year(exp_fits):
    from lsi.forecast import forecast

    ds = forecast(exp_fits, until="2030.5", n=30, step=0.5)
    assert float(ds["time"][-1]) == 2030.5
    assert float(ds["time"][-2]) == 2030.0
    assert float(ds["time"][0]) == 2020.0
