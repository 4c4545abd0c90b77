"""Results as researchers use them: dates wherever a time goes in, the statistics under
statsmodels' and lmfit's names (checked against ordinary least squares worked by hand), a
comparison table that keeps each model's parameters apart, and one-line reprs."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import lsi

from .conftest import simulate


@pytest.fixture(scope="module")
def exp_fit() -> lsi.results.FitResult:
    s = simulate("exponential", {"C0": 1.5, "g": 0.7}, n=30, noise=0.1, seed=4)
    return lsi.fit(s, "exponential", warn=False)["exponential"]


@pytest.fixture(scope="module")
def fits() -> lsi.results.FitCollection:
    s = simulate("logistic", {"C0": 1.0, "g": 0.9, "K": 50.0}, n=30, noise=0.05, seed=3)
    return lsi.fit(s, ["exponential", "logistic", "gompertz", "linear"], warn=False)


# ---------------------------------------------------------------- dates in
#: dates whose decimal years are exact: 2024 is a leap year, so 2024-07-02 is its midpoint
DATES = ["2022-01-01", "2024-07-02"]
YEARS = np.array([2022.0, 2024.5])


@pytest.mark.parametrize(
    "times",
    [
        DATES,
        np.array(DATES),
        pd.to_datetime(DATES),
        pd.Series(pd.to_datetime(DATES)),
        np.array(DATES, dtype="datetime64[D]"),
        np.array(DATES, dtype="datetime64[ns]"),
        [dt.date(2022, 1, 1), dt.date(2024, 7, 2)],
        [dt.datetime(2022, 1, 1), dt.datetime(2024, 7, 2)],
        [pd.Timestamp("2022-01-01"), pd.Timestamp("2024-07-02")],
    ],
    ids=[
        "iso",
        "iso-array",
        "DatetimeIndex",
        "pd.Series",
        "datetime64[D]",
        "datetime64[ns]",
        "date",
        "datetime",
        "Timestamp",
    ],
)
def test_predict_takes_dates_as_the_decimal_years_they_are(exp_fit, times):
    expected = exp_fit.predict(YEARS)
    got = exp_fit.predict(times)
    assert np.all(np.isfinite(got))  # datetime64 was read as nanoseconds since 1970: inf
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(exp_fit.capability(times), exp_fit.capability(YEARS), rtol=1e-12)


@pytest.mark.parametrize(
    "one",
    [
        "2024-07-02",
        dt.date(2024, 7, 2),
        dt.datetime(2024, 7, 2),
        pd.Timestamp("2024-07-02"),
        np.datetime64("2024-07-02"),
    ],
    ids=["iso", "date", "datetime", "Timestamp", "datetime64"],
)
def test_one_date_everywhere_a_time_goes(exp_fit, one):
    assert float(exp_fit.predict(one)) == pytest.approx(float(exp_fit.predict(2024.5)), rel=1e-12)
    assert np.shape(exp_fit.predict(one)) == ()
    assert exp_fit.doubling_time(one) == exp_fit.doubling_time(2024.5)
    assert exp_fit.growth_rate(one) == exp_fit.growth_rate(2024.5)


def test_predict_keeps_the_shape_of_its_times(exp_fit):
    grid = np.array([["2022-01-01", "2024-07-02"], ["2024-07-02", "2022-01-01"]], dtype="datetime64[D]")
    got = exp_fit.predict(grid)
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, exp_fit.predict(np.array([[2022.0, 2024.5], [2024.5, 2022.0]])), rtol=1e-12)
    assert exp_fit.predict(np.linspace(2020, 2026, 7)).shape == (7,)


def test_a_time_that_is_not_a_date_says_so(exp_fit):
    with pytest.raises(lsi.exceptions.SeriesError, match="soon"):
        exp_fit.predict(["2024-07-02", "soon"])
    with pytest.raises(ValueError, match="takes one time"):
        exp_fit.doubling_time(DATES)


def test_predict_at_the_dates_a_series_was_given_is_the_fit():
    dates = pd.date_range("2020-01-01", periods=12, freq="90D")
    y = 2.0 * np.exp(0.6 * np.arange(12) / 4) * np.exp(np.random.default_rng(0).normal(0, 0.05, 12))
    r = lsi.fit(lsi.Series(dates, y), "exponential", warn=False)["exponential"]
    np.testing.assert_array_equal(r.predict(dates), r.fitted)
    np.testing.assert_array_equal(r.predict([d.strftime("%Y-%m-%d") for d in dates]), r.fitted)


# ---------------------------------------------------------------- statsmodels' and lmfit's names
def _ols(t: np.ndarray, y: np.ndarray) -> dict:
    """Ordinary least squares of y on (1, t - t[0]), as any textbook works it."""
    X = np.column_stack([np.ones_like(t), t - t[0]])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    n, p = X.shape
    rss = float(resid @ resid)
    cov = rss / (n - p) * np.linalg.inv(X.T @ X)
    llf = -0.5 * n * (math.log(2 * math.pi * rss / n) + 1)
    return {"beta": beta, "se": np.sqrt(np.diag(cov)), "llf": llf, "n": n, "p": p, "cov": cov}


@pytest.fixture(scope="module")
def line():
    rng = np.random.default_rng(7)
    t = np.linspace(2018, 2024, 25)
    y = 5.0 + 1.3 * (t - 2018) + rng.normal(0, 0.4, t.size)
    r = lsi.fit(lsi.Series(t, y), "linear", noise="additive", warn=False)["linear"]
    return r, _ols(t, y)


def test_statistics_match_ordinary_least_squares(line):
    r, ols = line
    n, p = ols["n"], ols["p"]
    k = p + 1  # the noise scale is estimated, and counted as R's AIC(lm) counts it
    assert r.nobs == n and r.df_model == p and r.df_resid == n - p
    assert r.llf == r.loglik == pytest.approx(ols["llf"], rel=1e-8)
    assert r.aic == pytest.approx(-2 * ols["llf"] + 2 * k, rel=1e-8)
    assert r.aicc == pytest.approx(r.aic + 2 * k * (k + 1) / (n - k - 1), rel=1e-10)
    assert r.bic == pytest.approx(-2 * ols["llf"] + k * math.log(n), rel=1e-8)


@pytest.mark.parametrize("level", [0.5, 0.9, 0.95, 0.99])
def test_conf_int_is_the_t_interval_at_the_level_asked(line, level):
    r, ols = line
    ci = r.conf_int(level)
    assert list(ci.index) == ["C0", "b"] and list(ci.columns) == ["lower", "upper"]
    q = stats.t.ppf(0.5 + level / 2, ols["n"] - ols["p"])
    np.testing.assert_allclose(ci["lower"], ols["beta"] - q * ols["se"], rtol=1e-6)
    np.testing.assert_allclose(ci["upper"], ols["beta"] + q * ols["se"], rtol=1e-6)


def test_conf_int_takes_statsmodels_alpha_and_refuses_nonsense(line):
    r, _ = line
    pd.testing.assert_frame_equal(r.conf_int(alpha=0.1), r.conf_int(0.9))
    pd.testing.assert_frame_equal(r.conf_int(), r.conf_int(r.level))
    assert (r.conf_int(0.5)["upper"] < r.conf_int(0.99)["upper"]).all()
    for bad in (0.0, 1.0, 95, -0.1, "high"):
        with pytest.raises(ValueError, match="level"):
            r.conf_int(bad)
    with pytest.raises(ValueError, match="not both"):
        r.conf_int(0.9, alpha=0.1)


def test_conf_int_is_nan_where_there_is_no_standard_error():
    s = simulate("exponential", {"C0": 1.5, "g": 0.7}, n=20, noise=0.1, seed=2)
    r = lsi.fit(s, "exponential", params={"exponential": {"C0": 1.5}}, warn=False)["exponential"]
    ci = r.conf_int()
    assert ci.loc["C0"].isna().all()  # fixed
    assert ci.loc["g"].notna().all()


def test_fit_report_reads_as_lmfits(line):
    r, ols = line
    text = r.fit_report()
    heads = ["[[Model]]", "[[Fit Statistics]]", "[[Variables]]", "[[Correlations]]"]
    assert [text.index(h) for h in heads] == sorted(text.index(h) for h in heads)
    assert f"# data points      = {ols['n']}" in text
    assert f"AIC                = {r.aic:.6g}" in text
    lo, hi = r.conf_int().loc["b"]
    assert f"[{lo:.6g}, {hi:.6g}]" in text
    assert f"+/- {r.params['b'].stderr:.8g}" in text
    rho = ols["cov"][0, 1] / (ols["se"][0] * ols["se"][1])
    assert f"C(C0, b) = {rho:+.4f}" in text or f"C(b, C0) = {rho:+.4f}" in text
    assert "[[Correlations]]" not in r.fit_report(min_correl=abs(rho) + 0.01)
    assert "(intervals at 68%)" in r.fit_report(level=0.68)


def test_fit_report_marks_fixed_and_searched_parameters():
    s = simulate("exponential", {"C0": 1.5, "g": 0.7}, n=20, noise=0.1, seed=2)
    r = lsi.fit(s, "exponential", params={"exponential": {"C0": 1.5}}, warn=False)["exponential"]
    assert "C0:  1.5 (fixed)" in r.fit_report()
    metr = lsi.fit(lsi.datasets.load("metr_horizons"), "breakpoint", warn=False)["breakpoint"]
    assert "searched: see lsi.profile" in metr.fit_report()


# ---------------------------------------------------------------- the collection
def test_table_keeps_each_models_parameters_apart(fits):
    df = fits.table()
    for col in ("converged", "k", "aicc", "delta_aicc", "weight", "doubling_days", "doubling_days_upper"):
        assert col in df.columns
    assert "g" not in df.columns and "g_stderr" not in df.columns
    for name in ("exponential", "logistic", "gompertz"):
        assert df.loc[name, f"{name}.g"] == fits[name].params["g"].value
        assert df.loc[name, f"{name}.g_stderr"] == fits[name].params["g"].stderr
        others = [m for m in fits if m != name]
        assert df.loc[others, f"{name}.g"].isna().all()
    assert df.loc["logistic", "exponential.g"] != df.loc["logistic", "logistic.g"] or math.isnan(
        df.loc["logistic", "exponential.g"]
    )
    assert df["aicc"].is_monotonic_increasing


def test_params_table_is_long_and_agrees_with_conf_int(fits):
    pt = fits.params_table(0.9)
    assert list(pt.columns) == ["model", "param", "value", "stderr", "lower", "upper", "vary"]
    assert len(pt) == sum(len(r.params) for r in fits.values())
    for row in pt.itertuples():
        r = fits[row.model]
        assert row.value == r.params[row.param].value
        lo, hi = r.conf_int(0.9).loc[row.param]
        assert (row.lower, row.upper) == pytest.approx((lo, hi), nan_ok=True)
    assert (pt.groupby("model")["param"].count() == pt.groupby("model")["param"].nunique()).all()


def test_collection_conf_int_fit_report_and_nobs(fits):
    ci = fits.conf_int(alpha=0.05)
    assert ci.index.names == ["model", "param"]
    pd.testing.assert_frame_equal(ci.loc["logistic"], fits["logistic"].conf_int(0.95), check_names=False)
    assert fits.nobs == len(fits.series) == 30
    report = fits.fit_report()
    order = [report.index(f"=== {r.name} ") for r in sorted(fits.values(), key=lambda r: r.aicc)]
    assert order == sorted(order)


# ---------------------------------------------------------------- reprs
def test_reprs_are_one_short_line(fits):
    r = fits["logistic"]
    text = repr(r)
    assert "\n" not in text and len(text) < 120
    for part in ("logistic", repr(fits.series.name), "n=30", "converged", f"AICc={r.aicc:.2f}"):
        assert part in text
    text = repr(fits)
    assert "\n" not in text and "n=30" in text and "4 models" in text and fits.best.name in text


def test_repr_says_when_a_fit_did_not_converge(fits):
    from dataclasses import replace

    r = replace(fits["logistic"], converged=False, message="stopped")
    assert "NOT CONVERGED" in repr(r)
