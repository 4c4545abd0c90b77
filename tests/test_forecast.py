"""Forecasts and times to reach a level: structure, bands that widen and respect bounds, model
averages, calibration of the prediction bands on simulated data, the published headline numbers
reproduced with lsi.fit, bad input, and the command line."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

import lsi
from lsi.cli import main
from lsi.exceptions import IdentifiabilityWarning, ParameterValueError
from lsi.forecast import forecast, predictive, reach_json, time_to_reach
from lsi.series import decimal_year

from .conftest import simulate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def exp_series(n=20, g=0.7, noise=0.1, seed=1, start=2020.0, span=5.0):
    t = np.linspace(start, start + span, n)
    y = np.exp(g * (t - start) + np.random.default_rng(seed).normal(0, noise, n))
    return lsi.Series(t, y, name="sim-exp", units="minutes")


@pytest.fixture(scope="module")
def exp_fits():
    return lsi.fit(exp_series(), ["exponential", "linear"], noise="log", warn=False)


# ---------------------------------------------------------------- structure
def test_forecast_dataset_structure(exp_fits):
    ds = forecast(exp_fits, until=2028, level=0.8, n=100, seed=3)
    assert list(ds["model"].values) == ["exponential", "linear", "averaged", "bootstrap_mixture"]
    assert ds["quantile"].values.tolist() == pytest.approx([0.1, 0.5, 0.9])
    t = ds["time"].values
    assert t[0] == exp_fits.series.t[0] and t[-1] == 2028 and t.size == 201
    for var in ("prediction", "curve"):
        assert ds[var].dims == ("model", "time", "quantile")
        v = ds[var].values
        assert np.all(np.isfinite(v)) and np.all(v > 0)
        assert np.all(np.diff(v, axis=2) >= 0)  # lower <= median <= upper
    assert ds.attrs["level"] == 0.8 and ds.attrs["noise"] == "log"
    assert ds.attrs["units"] == "minutes" and ds.attrs["series"] == "sim-exp" and ds.attrs["n_boot"] == 100
    w = ds["weight"].to_series()
    assert w["exponential"] + w["linear"] == pytest.approx(1.0) and np.isnan(w["averaged"])
    assert ds["selection_probability"].sel(model="exponential") > 0.9
    assert bool(ds["parameter_uncertainty"].sel(model="exponential"))
    assert float(ds["refit_share"].sel(model="exponential")) == 1.0
    # the best fit sits inside its own curve band over the data
    fit_curve = ds["fitted"].sel(model="exponential").values
    cb = ds["curve"].sel(model="exponential").values
    inside = (cb[:, 0] <= fit_curve * 1.0001) & (fit_curve <= cb[:, 2] * 1.0001)
    assert inside.mean() > 0.95
    # a new observation is less certain than the curve
    pb = ds["prediction"].sel(model="exponential").values
    assert np.all(pb[:, 2] / pb[:, 0] > cb[:, 2] / cb[:, 0])
    # step= gives the grid asked for, ending at until
    ds2 = forecast(exp_fits, until="2026-07-02", n=100, seed=3, step=0.5)
    assert np.allclose(np.diff(ds2["time"].values)[:-1], 0.5)
    assert ds2["time"].values[-1] == pytest.approx(2026.5)


def test_bands_widen_with_horizon(exp_fits):
    ds = forecast(exp_fits, until=2030, n=200)
    t = ds["time"].values
    after = t > exp_fits.series.t[-1]
    for var in ("prediction", "curve"):
        b = ds[var].sel(model="exponential").values[after]
        width = np.log(b[:, 2]) - np.log(b[:, 0])
        assert np.all(np.diff(width) > 0), var
        if var == "curve":  # parameter uncertainty grows fastest; the noise is a floor
            assert width[-1] > 2 * width[0]
    avg = ds["prediction"].sel(model="averaged").values[after]
    assert np.log(avg[-1, 2] / avg[-1, 0]) > np.log(avg[0, 2] / avg[0, 0])


def test_median_follows_the_truth_and_bands_scale_with_noise():
    fits = lsi.fit(exp_series(n=40, noise=0.05, seed=2), "exponential", noise="log")
    pr = predictive(fits, [2026.0], n=300)
    lo, med, hi = pr.quantiles("exponential", [0.05, 0.5, 0.95])[:, 0]
    assert abs(med - 0.7 * 6) < 0.1
    # the prediction band is at least the noise band, and not wildly wider this close to the data
    assert 2 * 1.645 * 0.05 < hi - lo < 2 * 1.645 * 0.05 * 3


def test_bounded_series_stays_inside_zero_one():
    s = lsi.datasets.load("imagenet_top1")
    fits = lsi.fit(s, ["exponential", "logistic", "linear"], warn=False)
    assert fits.noise.name == "logit"
    ds = forecast(fits, until=2030, n=100)
    for var in ("prediction", "curve"):
        v = ds[var].values
        v = v[np.isfinite(v)]
        assert v.size and np.all(v > 0) and np.all(v < 1)


def test_averaged_follows_the_akaike_weights(exp_fits):
    assert exp_fits["exponential"].weight > 0.999
    ds = forecast(exp_fits, until=2027, n=100)
    a = ds["prediction"].sel(model="averaged").values
    e = ds["prediction"].sel(model="exponential").values
    assert np.allclose(a, e, rtol=0.02)


def test_past_a_singularity_the_forecast_is_infinite():
    s = simulate("hyperbolic", {"C0": 1.0, "g": 0.25, "e": 0.5}, n=30, span=6.0, noise=0.05, seed=0)
    fits = lsi.fit(s, "hyperbolic", noise="log")
    ts = fits["hyperbolic"].singularity_time()
    assert ts.value < 2030
    ds = forecast(fits, until=2032, n=100)
    med = ds["curve"].sel(model="hyperbolic", quantile=0.5)
    assert np.isinf(med.sel(time=2032.0, method="nearest"))
    assert np.all(np.isfinite(med.sel(time=slice(None, 2026.0)).values))


def test_bootstrap_is_shared_cached_and_checked(exp_fits):
    boot = exp_fits.bootstrap(50, seed=7, processes=1)
    a = forecast(exp_fits, until=2027, bootstrap=boot)
    b = forecast(exp_fits, until=2027, n=50, seed=7)
    assert np.allclose(a["prediction"].values, b["prediction"].values)
    assert a.attrs["n_boot"] == 50
    other = lsi.fit(exp_series(seed=5), "exponential", noise="log")
    with pytest.raises(ParameterValueError, match="no replicates of linear"):
        forecast(exp_fits, until=2027, bootstrap=other.bootstrap(30, processes=1))
    short = lsi.fit(exp_series(n=12), ["exponential", "linear"], noise="log", warn=False)
    with pytest.raises(ParameterValueError, match="resampled 12 points but the series has 20"):
        forecast(exp_fits, until=2027, bootstrap=short.bootstrap(30, processes=1))


def test_fit_collection_methods_delegate(exp_fits):
    ds = exp_fits.forecast(until=2027, n=60, seed=1)
    assert np.allclose(ds["curve"].values, forecast(exp_fits, 2027, n=60, seed=1)["curve"].values)
    r = exp_fits.time_to_reach(200.0, n=60, seed=1)
    assert r == time_to_reach(exp_fits, 200.0, n=60, seed=1)


# ---------------------------------------------------------------- bad input
def test_until_before_the_data_is_one_clear_line(exp_fits):
    with pytest.raises(ParameterValueError, match=r"until = 2024\.000 is not after the last observation \(2025\.000\)"):
        forecast(exp_fits, until=2024)
    with pytest.raises(ParameterValueError, match="not after the last observation"):
        forecast(exp_fits, until=2025.0)
    with pytest.raises(ParameterValueError, match="is not a date or a decimal year"):
        forecast(exp_fits, until="soon")
    with pytest.raises(ParameterValueError, match="level = 90 must lie in"):
        forecast(exp_fits, until=2027, level=90)
    with pytest.raises(ParameterValueError, match="step = -1"):
        forecast(exp_fits, until=2027, step=-1)
    with pytest.raises(ParameterValueError, match="too few for bands"):
        forecast(exp_fits, until=2027, n=5)


def test_level_at_or_below_the_current_value_is_one_clear_line(exp_fits):
    now = float(exp_fits.best.predict(exp_fits.series.t[-1:])[0])
    with pytest.raises(ParameterValueError, match=r"is at or below the current fitted value .* ask for a higher level"):
        time_to_reach(exp_fits, 0.5 * now)
    with pytest.raises(ParameterValueError, match="at or below the current"):
        time_to_reach(exp_fits, now)
    with pytest.raises(ParameterValueError, match="must be > 0 for log noise"):
        time_to_reach(exp_fits, -1.0)
    s = lsi.datasets.load("imagenet_top1")
    fits = lsi.fit(s, "exponential")
    with pytest.raises(ParameterValueError, match=r"must be \(0, 1\) for logit noise"):
        time_to_reach(fits, 1.0)


# ---------------------------------------------------------------- time to reach a level
def test_time_to_reach_matches_the_closed_form_with_an_interval(exp_fits):
    r = time_to_reach(exp_fits, 200.0, ci_level=0.9, n=200)
    f = exp_fits["exponential"]
    C0, g = f.theta
    assert r["exponential"]["value"] == pytest.approx(f.t0 + math.log(200.0 / C0) / g, rel=1e-12)
    e = r["exponential"]
    assert e["lower"] < e["value"] < e["upper"] and e["p_never"] == 0 and e["reason"] is None
    assert e["level"] == 0.9
    truth = 2020 + math.log(200.0) / 0.7
    assert e["lower"] < truth < e["upper"]
    assert e["wald"]["lower"] < e["value"] < e["wald"]["upper"]
    assert r["averaged"]["value"] == pytest.approx(e["value"], abs=0.1)
    assert set(r) == {"exponential", "linear", "averaged", "bootstrap_mixture"}
    js = reach_json(r)
    assert js["exponential"] == {k: e[k] for k in ("value", "lower", "upper")}
    json.dumps(js, allow_nan=False)


def test_a_level_a_model_never_reaches_is_reported_as_such():
    s = simulate("logistic", {"C0": 1.0, "g": 1.2, "K": 100.0}, n=40, span=8.0, noise=0.05, seed=1)
    fits = lsi.fit(s, ["logistic", "exponential"], noise="log")
    r = time_to_reach(fits, 150.0, n=100)
    lg = r["logistic"]
    assert lg["value"] is None and lg["reason"].startswith("never: its fitted ceiling")
    assert lg["p_never"] > 0.95 and lg["upper"] is None
    assert r["exponential"]["value"] is not None
    assert reach_json(r)["logistic"] is None


def test_time_to_reach_is_unbounded_when_the_rate_may_be_zero():
    """A linear trend whose slope's interval reaches zero: 'never' is inside the interval."""
    rng = np.random.default_rng(3)
    t = np.linspace(2020, 2024, 12)
    y = 10 + 0.3 * (t - 2020) + rng.normal(0, 1.0, t.size)
    fits = lsi.fit(lsi.Series(t, y), "linear", noise="additive")
    f = fits["linear"]
    b = f.params["b"]
    assert b.value > 0 and b.value - f.q * b.stderr < 0
    level = float(f.predict(t[-1:])[0]) + 1.0
    r = time_to_reach(fits, level, ci_level=0.9, n=200)["linear"]
    assert r["value"] is not None and r["lower"] is not None and r["upper"] is None
    assert r["p_never"] > 0.05
    assert r["wald"]["upper"] is None  # the delta-method interval, inverted from the rate's, agrees


# ---------------------------------------------------------------- calibration
CALIBRATION = {
    "linear": {"C0": 1.0, "b": 2.0},
    "exponential": {"C0": 1.0, "g": 0.7},
    "hyperbolic": {"C0": 1.0, "g": 0.25, "e": 0.5},
    "brake": {"C0": 1.0, "g": 1.0, "b": 0.5},
    "logistic": {"C0": 1.0, "g": 1.2, "K": 100.0},
    "richards": {"C0": 1.0, "g": 1.0, "K": 100.0, "v": 3.0},
    "gompertz": {"C0": 1.0, "g": 0.5, "K": 100.0},
    "amdahl": {"C0": 1.0, "g0": 0.3, "p": 0.97, "a": 1.0},
    "breakpoint": {"C0": 1.0, "g1": 0.5, "g2": 1.2, "tb": 2.5},
}


@pytest.mark.slow
@pytest.mark.parametrize("model", list(CALIBRATION))
def test_prediction_bands_are_calibrated_on_held_out_points(model):
    """Nominal 90% prediction bands cover 85-95% of later points.

    120 simulated series per model (30 points over 6 years, log noise sd 0.1); each
    model is fitted to the first 24 points and its band (60 bootstrap refits) is
    scored on the last 6 (up to 1.2 years ahead).  Two estimates of the coverage:
    the share of held-out points inside their bands, and (with far less Monte Carlo
    noise) the probability that a new observation at each held-out time falls inside
    its band, exact given the band because the true curve and noise are known here.
    Measured at the time of writing (points; probability): linear 0.860, 0.886;
    exponential 0.869, 0.877 (the exact Student-t interval gives 0.868, 0.882 on the
    same seeds); hyperbolic 0.890, 0.901; brake 0.875, 0.882; logistic 0.887, 0.889;
    richards 0.875, 0.871; gompertz 0.875, 0.880; amdahl 0.899, 0.896; breakpoint
    0.890, 0.898.
    """
    params = CALIBRATION[model]
    m = lsi.models.get(model)
    sd = 0.1
    t = np.linspace(2020, 2026, 30)
    truth = m.log_capability(params, t, 2020.0)
    hits, prob = [], []
    undefined = 0
    for seed in range(120):
        s = lsi.Series(t, np.exp(truth + np.random.default_rng(seed).normal(0, sd, t.size)))
        fits = lsi.fit(s.until(t[23]), model, noise="log", warn=False)
        if not fits[model].converged:  # e.g. Richards running into its Gompertz limit, v -> 0, g -> inf
            undefined += 1
            continue
        lo, hi = predictive(fits, t[24:], n=60, seed=seed).quantiles(model, [0.05, 0.95])
        z = np.log(s.y[24:])
        hits.append(np.mean((z >= lo) & (z <= hi)))
        prob.append(np.mean(special.ndtr((hi - truth[24:]) / sd) - special.ndtr((lo - truth[24:]) / sd)))
    assert undefined <= 6, (model, undefined)  # a fit that did not converge has no band to score
    assert 0.85 <= np.mean(hits) <= 0.95, (model, np.mean(hits))
    assert 0.85 <= np.mean(prob) <= 0.95, (model, np.mean(prob))


# ---------------------------------------------------------------- published headline numbers
def _metr_doubling_days(df: pd.DataFrame) -> float:
    """Kwa et al. 2025: log-linear OLS of the SOTA horizons released up to early 2025 (no weights)."""
    rows = df[df["is_sota"].astype(bool) & (decimal_year(df["release_date"]) <= decimal_year(["2025-03-01"])[0])]
    series = lsi.Series(rows["release_date"].to_numpy(), rows["p50_minutes"].to_numpy(dtype=float))
    assert len(series) == 11
    f = lsi.fit(series, "exponential", noise="log")["exponential"]
    assert not f.sigma_known
    return f.doubling_time().value * 365.25


def _epoch_growth(df: pd.DataFrame) -> tuple[float, float, float, int]:
    """Epoch: log-linear OLS of notable models' training compute since 2010, 90% interval."""
    keep = df["notability_criteria"].notna() & df["training_compute_flop"].notna()
    keep &= decimal_year(df["publication_date"]) >= decimal_year(["2010-01-01"])[0]
    rows = df[keep]
    series = lsi.Series(rows["publication_date"].to_numpy(), rows["training_compute_flop"].to_numpy(dtype=float))
    f = lsi.fit(series, "exponential", noise="log", level=0.9)["exponential"]
    g = f.params["g"]
    return math.exp(g.value), math.exp(g.value - f.q * g.stderr), math.exp(g.value + f.q * g.stderr), len(series)


def test_metr_doubling_time_reproduced_from_the_shipped_table():
    d = _metr_doubling_days(lsi.datasets.table("metr_horizons_v1_0"))
    assert 171 <= d <= 249  # Kwa et al. 2025: 212 days, 95% CI 171-249
    assert d == pytest.approx(212.18, abs=0.1)  # 212.15 in decimal years of 365.25 days


def test_epoch_growth_reproduced_from_the_shipped_table():
    x, lo, hi, n = _epoch_growth(lsi.datasets.table("epoch_compute"))
    assert n == 428
    assert 4.3 <= x <= 5.2  # Epoch: 4.7x/year, 90% CI 4.3-5.2
    assert round(x, 1) == 4.7
    assert lo == pytest.approx(4.24, abs=0.01) and hi == pytest.approx(5.17, abs=0.01)


def test_headlines_reproduced_from_the_reference_copies():
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    d = _metr_doubling_days(pd.read_csv(SHARED / "metr_time_horizons_v1_0.csv"))
    assert 171 <= d <= 249 and d == pytest.approx(212.18, abs=0.1)
    x, lo, hi, n = _epoch_growth(pd.read_csv(SHARED / "epoch_ai_models_compute.csv"))
    assert n == 428 and 4.3 <= x <= 5.2 and round(x, 1) == 4.7


# ---------------------------------------------------------------- METR forecast
def test_metr_forecast_weighs_jump_against_amplification():
    s = lsi.datasets.load("metr_horizons")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdentifiabilityWarning)
        fits = lsi.fit(s, ["exponential", "hyperbolic", "breakpoint"])
    boot = fits.bootstrap(100, seed=0, processes=1)
    ds = forecast(fits, until=2027, bootstrap=boot)
    assert set(ds["model"].values) == {"exponential", "hyperbolic", "breakpoint", "averaged", "bootstrap_mixture"}
    # with the break date charged as three parameters the jump still wins 90% of refits
    assert ds["selection_probability"].sel(model="breakpoint") >= 0.85
    last = ds["prediction"].sel(time=2027.0, method="nearest")
    # the single jump forecasts far more than one exponential, far less than the singularity
    assert last.sel(model="breakpoint", quantile=0.5) > 3 * last.sel(model="exponential", quantile=0.5)
    assert last.sel(model="hyperbolic", quantile=0.95) == np.inf
    r = time_to_reach(fits, 167 * 60.0, bootstrap=boot)  # a one-work-month horizon
    assert 2026 < r["breakpoint"]["value"] < 2028
    assert r["hyperbolic"]["value"] < r["breakpoint"]["value"] < r["exponential"]["value"]


# ---------------------------------------------------------------- command line
def run(capsys, *argv):
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_forecast_json_schema(capsys):
    code, out, err = run(
        capsys,
        "forecast",
        "metr_horizons",
        "--models",
        "exponential,breakpoint",
        "--until",
        "2028",
        "--n",
        "60",
        "--json",
        "--reach",
        "10080",
    )
    assert code == 0, err
    d = json.loads(out)
    assert [m["name"] for m in d["models"]] == ["exponential", "breakpoint"]
    for m in d["models"]:
        assert set(m) >= {"name", "weight", "time", "median", "lower", "upper"}
        assert len(m["time"]) == len(m["median"]) == len(m["lower"]) == len(m["upper"]) == 201
        assert isinstance(m["weight"], float)
        assert all(lo <= md <= hi for lo, md, hi in zip(m["lower"], m["median"], m["upper"], strict=True))
    assert set(d["averaged"]) >= {"time", "median", "lower", "upper"}
    assert d["averaged"]["time"][-1] == 2028.0
    assert set(d["reach"]) == {"exponential", "breakpoint", "averaged", "bootstrap_mixture"}
    for v in d["reach"].values():
        assert v is None or set(v) == {"value", "lower", "upper"}


def test_cli_forecast_text_and_errors(capsys):
    code, out, err = run(
        capsys,
        "forecast",
        "metr_horizons",
        "--models",
        "exponential",
        "--until",
        "2027-06-30",
        "--n",
        "40",
        "--reach",
        "10080",
    )
    assert code == 0, err
    assert "forecast to 2027.49" in out and "exponential" in out and "date of reaching" in out
    code, out, err = run(capsys, "forecast", "metr_horizons", "--models", "exponential", "--until", "2024")
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1].startswith("lsi: error: until = 2024.000 is not after the last observation")
    code, out, err = run(
        capsys, "forecast", "metr_horizons", "--models", "exponential", "--until", "2027", "--reach", "1"
    )
    assert code == 2 and "at or below the current fitted value" in err


def test_docstring_examples_run():
    import doctest
    import importlib

    # the module itself, even if the package exports a function of the same name
    module = importlib.import_module("lsi.forecast")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5 and result.failed == 0


# ---------------------------------------------------------------- dates beside decimal years
def _round_trips(ds):
    """The forecast's times and dates name the same instants both ways."""
    from lsi.series import from_decimal_year, to_decimal_years

    t = ds["time"].values
    d = ds["date"].values
    assert ds["date"].dims == ("time",) and d.dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(d, from_decimal_year(t).to_numpy().astype("datetime64[ns]"))
    np.testing.assert_array_equal(to_decimal_years(d), t)
    np.testing.assert_array_equal(from_decimal_year(to_decimal_years(d)).to_numpy().astype("datetime64[ns]"), d)


def test_forecast_carries_dates_beside_decimal_years(exp_fits):
    ds = forecast(exp_fits, until=2028, n=60, seed=1)
    assert ds["time"].dtype == np.float64 and ds.indexes["time"].is_monotonic_increasing
    _round_trips(ds)
    assert str(ds["date"].values[0]) == "2020-01-01T00:00:00.000000000"
    assert str(ds["date"].values[-1]) == "2028-01-01T00:00:00.000000000"
    # select by decimal year as before, or index by date
    assert ds["prediction"].sel(model="averaged", time=2028.0).shape == (3,)
    by_date = ds.swap_dims(time="date")
    a = by_date["prediction"].sel(model="averaged", date="2028-01-01").values
    np.testing.assert_array_equal(a, ds["prediction"].sel(model="averaged", time=2028.0).values)
    # the collection's method and a step= grid carry them too
    _round_trips(exp_fits.forecast(until=2027, n=60, seed=1))
    stepped = forecast(exp_fits, until="2026-07-02", n=60, seed=1, step=0.1)
    _round_trips(stepped)
    assert str(stepped["date"].values[-1])[:10] == "2026-07-02"


def test_default_grid_holds_the_last_observation_and_until_exactly():
    s = lsi.datasets.load("metr_horizons")  # observed on dates: odd decimal years
    fits = lsi.fit(s, "exponential", warn=False)
    boot = fits.bootstrap(30, seed=0, processes=1)
    for until in (2028, "2026-07-15", 2025.9, float(s.t[-1]) + 1e-3, 2100.3):
        ds = forecast(fits, until=until, bootstrap=boot)
        t = ds["time"].values
        assert t.size == 201 and np.all(np.diff(t) > 0)
        assert t[0] == s.t[0] and float(s.t[-1]) in t and t[-1] == decimal_year(until)[0]
        _round_trips(ds)
        # evenly spaced on each side of the last observation; the times in between on whole
        # days (midnight UTC, so off the even spacing by half a day at most) when they are
        # two days apart or more, else on whole milliseconds
        last = int(np.flatnonzero(t == s.t[-1])[0])
        inner = np.ones(t.size, dtype=bool)
        inner[[0, last, t.size - 1]] = False
        d = ds["date"].values
        for side in (slice(0, last + 1), slice(last, t.size)):
            gaps = np.diff(t[side])
            if gaps.min() * 365 >= 2:
                days = d[side][inner[side]]
                np.testing.assert_array_equal(days, days.astype("datetime64[D]"))
                day_gaps = np.diff(d[side]) / np.timedelta64(1, "D")
                assert day_gaps.max() - day_gaps.min() <= 2.1
            else:
                assert gaps.max() - gaps.min() < 1e-9
    # the two sides share the intervals in proportion: the spacing barely changes at the data's end
    ds = forecast(fits, until=2028, bootstrap=boot)
    gaps = np.diff(ds["time"].values)
    assert gaps.max() / gaps.min() < 1.15


def test_dates_past_what_nanoseconds_hold_are_nat_and_the_times_stay(exp_fits):
    ds = forecast(exp_fits, until=2300, n=60, seed=1)
    t, d = ds["time"].values, ds["date"].values
    assert t[-1] == 2300.0 and np.all(np.isfinite(t))
    late = t > 2262.2
    assert late.any() and np.all(np.isnat(d[late])) and not np.isnat(d[~late]).any()


@pytest.mark.parametrize("engine", ["scipy", "netcdf4"])
def test_forecast_netcdf_round_trip_is_identical(exp_fits, tmp_path, engine):
    pytest.importorskip({"scipy": "scipy.io", "netcdf4": "netCDF4"}[engine])
    from lsi.quadrature.output import read_netcdf, write_netcdf

    for ds in (
        forecast(exp_fits, until="2027-03-15", n=60, seed=1),
        forecast(exp_fits, until=2027.3, n=60, seed=1, step=0.05),
        forecast(exp_fits, until=2300, n=60, seed=1),
    ):
        back = read_netcdf(write_netcdf(ds, tmp_path / f"forecast-{engine}.nc", engine=engine))
        np.testing.assert_array_equal(back["time"].values, ds["time"].values)
        np.testing.assert_array_equal(back["date"].values, ds["date"].values)
        assert back["date"].dtype == ds["date"].dtype
        assert back.identical(ds)


def test_cli_forecast_json_gives_iso_dates_beside_decimal_years(capsys):
    code, out, err = run(
        capsys, "forecast", "metr_horizons", "--models", "exponential", "--until", "2028", "--n", "40", "--json"
    )
    assert code == 0, err
    d = json.loads(out)
    s = lsi.datasets.load("metr_horizons")
    for band in (d["models"][0], d["averaged"]):
        assert len(band["date"]) == len(band["time"]) == 201
        assert all(isinstance(x, str) and len(x) == 10 and x[4] == x[7] == "-" for x in band["date"])
        assert band["date"] == sorted(band["date"])
        assert band["date"][-1] == "2028-01-01" and band["time"][-1] == 2028.0
        last = band["time"].index(float(s.t[-1]))
        assert band["date"][last] == "2025-11-24" and band["date"][0] == "2019-02-14"
        assert len(set(band["date"])) == 201  # whole days apart


def test_forecast_figure_draws_a_dated_forecast(exp_fits):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lsi import figures

    ds = forecast(exp_fits, until=2028, n=60, seed=1)
    fig = figures.forecast(ds, series=exp_fits.series)
    assert fig.axes
    plt.close(fig)
