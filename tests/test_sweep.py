"""Sweeps: grids and samples, agreement with the reference ODE path cell by cell, the expected
failure regions, failing cells isolated, dask (and a LocalCluster), netCDF round trip,
sensitivity, bad input and the command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from lsi import quadrature
from lsi.cli import main
from lsi.diagnostics import FAILURES
from lsi.exceptions import ParameterValueError, UnknownParameterError
from lsi.sensitivity import sobol, tornado
from lsi.sweeps import grid_spec, sample, sweep

BASE = {"g0": 0.5, "a": 1.0}


def test_grid_dimensions_coordinates_and_attrs():
    p = np.linspace(0.5, 1.0, 6)
    beta = np.linspace(0.0, 1.0, 5)
    ds = sweep("loop", until=30.0, p=p, beta=beta, multiples=[10, 1000], **BASE)
    assert ds["first_failure"].dims == ("p", "beta")
    assert ds.sizes == {"p": 6, "beta": 5, "multiple": 2}
    assert np.array_equal(ds["p"].values, p) and np.array_equal(ds["beta"].values, beta)
    for v in ("first_failure", "t_closure", "t_amplification", "t_efficiency", "t_singularity", "lnC_end", "status"):
        assert v in ds
    assert ds["t_reach"].dims == ("p", "beta", "multiple")
    assert ds.attrs["first_failure_legend"] == list(FAILURES)
    assert ds.attrs["fixed_g0"] == 0.5 and ds.attrs["model"] == "loop" and ds.attrs["lsi_version"]
    assert ds.attrs["kappa_min"] == 0.5 and ds.attrs["until"] == 30.0
    assert (ds["status"] == 0).all()


def test_random_cells_equal_the_reference_ode_path():
    rng = np.random.default_rng(3)
    s = {
        "g0": rng.uniform(0.1, 1.5, 12),
        "p": rng.uniform(0.3, 1.0, 12),
        "a": rng.uniform(0, 2, 12),
        "lam": rng.uniform(0.3, 1, 12),
        "beta": rng.uniform(0, 1, 12),
        "gamma": rng.uniform(0, 0.2, 12),
        "ceiling": np.where(rng.random(12) < 0.5, np.inf, rng.uniform(10, 1e5, 12)),
        "delta": rng.uniform(0, 0.1, 12),
    }
    ds = sweep("loop", until=2045.0, t0=2020.0, samples=s, multiples=[100.0])
    for i in range(12):
        cell = {k: float(v[i]) for k, v in s.items()}
        ref = quadrature.solve_reference(2020.0, 2045.0, multiples=[100.0], **cell)
        got = ds.isel(sample=i)
        for key in ("t_closure", "t_amplification", "t_efficiency", "t_singularity"):
            a, b = float(got[key]), float(np.asarray(ref[key]).reshape(-1)[0])
            assert (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 1e-6, (i, key, a, b)
        a, b = float(got["lnC_end"]), float(np.asarray(ref["lnC_end"]).reshape(-1)[0])
        assert (a == b == np.inf) or abs(a - b) <= 1e-6, (i, a, b)
        assert int(got["first_failure"]) == int(np.asarray(ref["first_failure"]).reshape(-1)[0])


@pytest.mark.parametrize(
    ("point", "fixed", "expected"),
    [
        ({"p": 0.5, "beta": 0.0}, {}, "closure"),  # kappa(0) = p = 0.5: the loop is open from the start
        ({"p": 0.9, "beta": 0.9}, {}, "amplification"),  # rho(0) = a p - beta = 0 < ... strictly falling
        ({"p": 0.9, "beta": 0.1}, {}, "closure"),  # returns stay positive until the Amdahl knee
        ({"p": 1.0, "beta": 0.5}, {}, "none"),  # closed loop, a > beta: constant positive returns
        ({"p": 1.0, "beta": 1.0}, {"ceiling": 1e3}, "efficiency"),  # exponential into a resource ceiling
        ({"p": 1.0, "beta": 1.0}, {"delta": 0.1}, "efficiency"),  # Gompertz: friction halves efficiency
    ],
)
def test_phase_regions_at_hand_checked_points(point, fixed, expected):
    ds = sweep("loop", until=60.0, p=np.array([point["p"]]), beta=np.array([point["beta"]]), **{**BASE, **fixed})
    assert FAILURES[int(ds["first_failure"].item())] == expected


def test_a_numerical_failure_in_one_cell_is_recorded_not_raised():
    ds = sweep("loop", until=1.5, g0=1.0, a=1.0, gamma=0.5, beta=np.array([1e-310, 0.5]))
    assert ds["status"].values.tolist() == [2, 0]
    assert int(ds["first_failure"][0]) == -1 and np.isnan(float(ds["lnC_end"][0]))
    assert np.isfinite(float(ds["lnC_end"][1]))


def test_phenomenological_models_sweep_through_their_embedding():
    ds = sweep("logistic", until=20.0, C0=1.0, g=np.array([0.5, 1.0]), K=np.array([10.0, 100.0]))
    ff = ds["first_failure"].values
    assert (ff == FAILURES.index("efficiency")).all()
    # efficiency fails at C = K/2: t = ln(K - 1)/g for C0 = 1
    want = np.log(np.array([10.0, 100.0]) - 1)[None, :] / np.array([0.5, 1.0])[:, None]
    assert np.allclose(ds["t_efficiency"].values, want, atol=1e-6)


def test_samples_are_seeded_and_reproducible():
    a = sample({"p": (0.5, 1.0), "beta": (0.0, 1.0)}, 64, seed=4)
    b = sample({"p": (0.5, 1.0), "beta": (0.0, 1.0)}, 64, seed=4)
    assert np.array_equal(a["p"], b["p"])
    # Latin hypercube: one draw in each of the 64 strata of every margin
    assert sorted(np.floor((a["p"] - 0.5) / 0.5 * 64).astype(int).tolist()) == list(range(64))
    mc = sample({"p": (0.5, 1.0)}, 10, method="mc", seed=1)
    assert mc["p"].shape == (10,)
    ds = sweep("loop", until=30.0, samples=a, **BASE)
    assert ds["first_failure"].dims == ("sample",) and np.array_equal(ds["p"].values, a["p"])
    with pytest.raises(ParameterValueError, match="unknown sampling method"):
        sample({"p": (0, 1)}, 4, method="grid")


def test_dask_chunks_give_the_same_result_lazily():
    pytest.importorskip("dask")
    grid = dict(p=np.linspace(0.5, 1, 7), beta=np.linspace(0, 1, 9), multiples=[10.0])
    eager = sweep("loop", until=30.0, **grid, **BASE)
    lazy = sweep("loop", until=30.0, chunks=20, **grid, **BASE)
    assert lazy["lnC_end"].chunks is not None  # nothing computed yet
    # the quadrature batches cells differently per chunk: equal to rounding
    xr.testing.assert_allclose(eager, lazy.compute(), rtol=1e-13, atol=0)
    for v in ("first_failure", "status", "tied"):
        np.testing.assert_array_equal(eager[v].values, lazy[v].values)


def test_the_same_call_runs_on_a_distributed_cluster():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl,
        distributed.Client(cl),
    ):
        ds = sweep("loop", until=30.0, chunks=16, p=np.linspace(0.5, 1, 5), beta=np.linspace(0, 1, 8), **BASE).compute()
    eager = sweep("loop", until=30.0, p=np.linspace(0.5, 1, 5), beta=np.linspace(0, 1, 8), **BASE)
    xr.testing.assert_allclose(eager, ds, rtol=1e-13, atol=0)
    np.testing.assert_array_equal(eager["first_failure"].values, ds["first_failure"].values)


def test_netcdf_round_trip_keeps_the_legend(tmp_path):
    pytest.importorskip("netCDF4")
    ds = sweep("loop", until=30.0, p=np.linspace(0.5, 1, 4), beta=np.linspace(0, 1, 3), multiples=[10.0], **BASE)
    path = tmp_path / "s.nc"
    ds.to_netcdf(path)
    back = xr.open_dataset(path)
    assert back.attrs["first_failure_legend"] == list(FAILURES)
    assert back["first_failure"].attrs["flag_meanings"].split() == list(FAILURES)
    assert back["first_failure"].dtype == np.int8
    for v in ds.data_vars:
        np.testing.assert_array_equal(ds[v].values, back[v].values)
    back.close()


def test_sobol_indices_on_an_analytic_case():
    # exponential embedding: ln(C/C0) at until = g (until - t0): only g matters
    df = sobol("exponential", {"g": (0.2, 1.0), "C0": (1.0, 10.0)}, until=10.0, output="lnC_end", n=256)
    g = df[df.parameter == "g"].iloc[0]
    c = df[df.parameter == "C0"].iloc[0]
    assert g.first_order == pytest.approx(1.0, abs=0.05) and g.total_order == pytest.approx(1.0, abs=0.05)
    assert abs(c.total_order) < 0.05
    assert g.first_order_low <= g.first_order <= g.first_order_high


def test_tornado_swings_are_the_analytic_ones():
    # p = 1, a = 0: the brake dl/dt = g0 e^{-beta l}, so l(T) = ln(1 + beta g0 T) / beta
    T = 10.0

    def l_end(g0, beta):
        return math.log1p(beta * g0 * T) / beta

    df = tornado(
        "loop",
        base={"g0": 0.5, "beta": 0.5, "a": 0.0},
        ranges={"g0": (0.4, 0.6), "beta": (0.45, 0.55), "a": (0.0, 0.0)},
        until=T,
        output="lnC_end",
    )
    assert list(df.columns)[:3] == ["parameter", "low", "high"]
    assert df["swing"].is_monotonic_decreasing
    row = df.set_index("parameter")
    assert row.loc["g0", "output_low"] == pytest.approx(l_end(0.4, 0.5), abs=1e-9)
    assert row.loc["g0", "output_high"] == pytest.approx(l_end(0.6, 0.5), abs=1e-9)
    assert row.loc["beta", "output_high"] == pytest.approx(l_end(0.5, 0.55), abs=1e-9)
    assert row.loc["a", "swing"] == 0.0
    assert row.loc["g0", "output_base"] == pytest.approx(l_end(0.5, 0.5), abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"zeta": np.array([1.0])}, UnknownParameterError, "no parameter 'zeta'"),
        ({"p": np.array([])}, ParameterValueError, "empty"),
        ({"p": np.array([0.5, 1.2])}, ParameterValueError, "p = 1.2 is outside"),
        ({"lam": 0.0}, ParameterValueError, "lam = 0.0 is outside"),
        ({"until": -1.0}, ParameterValueError, "not after t0"),
        ({"multiples": [0.5]}, ParameterValueError, "multiples"),
    ],
)
def test_bad_input_gets_one_clear_line(kwargs, exc, match):
    kw = {"until": 10.0, **BASE, **kwargs}
    with pytest.raises(exc, match=match) as info:
        sweep("loop", **kw)
    assert "\n" not in str(info.value)


def test_grid_spec():
    assert grid_spec("0:1:3").tolist() == [0.0, 0.5, 1.0]
    assert grid_spec("1,2,inf").tolist() == [1.0, 2.0, math.inf]
    with pytest.raises(ParameterValueError, match="start:stop:count"):
        grid_spec("0:1")


def test_cli_sweep_writes_netcdf_and_sobol_table(tmp_path, capsys):
    pytest.importorskip("netCDF4")
    out = tmp_path / "sweep.nc"
    code = main(
        [
            "sweep",
            "--model",
            "loop",
            "--param",
            "p=0.5:1:11",
            "--param",
            "beta=0:1:11",
            "--fixed",
            "g0=0.5",
            "--fixed",
            "a=1",
            "--until",
            "2040",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["cells"] == 121 and sum(d["first_failure"].values()) == 121
    ds = xr.open_dataset(out)
    assert ds["first_failure"].dims == ("p", "beta")
    ds.close()
    code = main(
        [
            "sweep",
            "--param",
            "p=0.5:1:3",
            "--param",
            "beta=0:1:3",
            "--fixed",
            "g0=0.5",
            "--fixed",
            "a=1",
            "--until",
            "40",
            "--sobol",
            "--n",
            "128",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0 and "first_order" in text and "beta" in text
    code = main(["sweep", "--param", "p=0.5:1.5:3", "--fixed", "g0=0.5", "--until", "40"])
    assert code == 2 and "p = 1.5 is outside" in capsys.readouterr().err
