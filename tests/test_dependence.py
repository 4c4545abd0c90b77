"""Autocorrelated residuals (lsi.dependence): the check against its formulas, the AR(1) fit
against closed-form generalised least squares, the moving-block resampling, and coverage of
the default intervals on series simulated with AR(1) noise (a small version of
benchmarks/bench_dependence.py, which can fail)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import lsi
from lsi import dependence
from lsi.bootstrap import moving_blocks
from lsi.exceptions import ParameterValueError

T40 = 2000.0 + 0.5 * np.arange(40)
EXP = [1.0, math.log(2) / 2]  # doubling time 2 years
HYP = [1.0, (1 / 30) / 0.25, 0.25]  # singularity in 2030


def ar1_series(model, theta, t, rho, sd, seed, noise="log"):
    return dependence.simulate(model, theta, t, rho=rho, sd=sd, rng=np.random.default_rng(seed), noise=noise)


def fit1(series, model, noise="log"):
    return lsi.fit(series, models=[model], noise=noise, warn=False)


# ---------------------------------------------------------------- the check
def test_check_matches_its_formulas():
    fits = fit1(ar1_series("exponential", EXP, T40, 0.6, 0.15, 3), "exponential")
    r = fits["exponential"]
    c = dependence.residual_check(r)
    e = np.log(r.series.y) - np.log(r.fitted)
    d = e - e.mean()
    acf = [np.dot(d[k:], d[: d.size - k]) / np.dot(d, d) for k in range(1, 9)]
    n = e.size
    q = n * (n + 2) * sum(a * a / (n - k) for k, a in enumerate(acf, start=1))
    from scipy import stats

    assert c.lags == 8  # min(10, 40 // 5)
    assert c.lag1 == pytest.approx(acf[0], rel=1e-10)
    assert c.durbin_watson == pytest.approx(np.sum(np.diff(e) ** 2) / np.sum(e**2), rel=1e-10)
    assert c.ljung_box == pytest.approx(q, rel=1e-10)
    assert c.p_value == pytest.approx(stats.chi2.sf(q, 8), rel=1e-8)
    assert c.autocorrelated == (c.p_value < 0.05)
    json.dumps(c.to_dict(), allow_nan=False)


def test_check_flags_strong_autocorrelation_and_rarely_flags_none():
    flagged = {0.0: 0, 0.9: 0}
    for rho in flagged:
        for seed in range(60):
            fits = fit1(ar1_series("exponential", EXP, T40, rho, 0.15, seed), "exponential")
            flagged[rho] += dependence.residual_check(fits["exponential"]).autocorrelated
    assert flagged[0.9] >= 54  # power 0.96 at rho = 0.9 with 40 points (the benchmark): P(< 54) = 0.01
    assert flagged[0.0] <= 9  # false alarms 0.07 there: binomial(60, 0.07) exceeds 9 with p = 0.008


def test_check_verdicts_name_the_numbers():
    fits = fit1(ar1_series("exponential", EXP, T40, 0.9, 0.15, 1), "exponential")
    c = dependence.residual_check(fits["exponential"])
    assert c.verdict.startswith("autocorrelated residuals (lag-1 r = ")
    assert f"Durbin-Watson {c.durbin_watson:.2f}" in c.verdict
    fits = fit1(ar1_series("exponential", EXP, T40, 0.0, 0.15, 1), "exponential")
    c = dependence.residual_check(fits["exponential"])
    assert c.verdict.startswith("no evidence of autocorrelation (")
    short = fit1(ar1_series("exponential", EXP, T40[:6], 0.0, 0.15, 1), "exponential")
    c = dependence.residual_check(short["exponential"])
    assert not c.tested and not c.autocorrelated and "6 points" in c.verdict
    json.dumps(c.to_dict(), allow_nan=False)


def test_check_whitens_by_per_point_uncertainties():
    series = lsi.datasets.load("metr_horizons")
    fits = lsi.fit(series, models=["exponential"], warn=False)
    r = fits["exponential"]
    sig = r.noise.point_sigma(series)
    s = np.sqrt(sig**2 + r.extra_scatter**2)
    want = (np.log(series.y) - np.log(r.fitted)) / s
    assert np.allclose(dependence.whitened_residuals(r), want, rtol=1e-9, atol=1e-12)
    assert dependence.residual_check(r).n == len(series)


@pytest.mark.parametrize("noise", ["additive", "logit"])
def test_check_works_for_every_noise_model(noise):
    t = np.arange(1970.0, 2020.0)
    if noise == "logit":  # the odds grow exponentially, the scores stay inside (0.05, 0.95)
        model, theta, sd = "exponential", [0.06, 0.1], 0.1
    else:
        model, theta, sd = "linear", [5.0, 0.5], 0.5
    flagged, lag1, phi = 0, [], []
    for seed in range(6):
        series = ar1_series(model, theta, t, 0.9, sd, seed, noise=noise)
        fits = lsi.fit(series, models=[model], noise=noise, warn=False)
        c = dependence.residual_check(fits[model])
        flagged += c.autocorrelated
        lag1.append(c.lag1)
        iv = dependence.intervals(fits)[model]
        assert iv.method == "ar1" and iv.doubling_time.bounded
        phi.append(iv.phi)
    assert flagged >= 5 and np.mean(lag1) > 0.6 and np.mean(phi) > 0.7


# ---------------------------------------------------------------- the AR(1) fit
def test_ar1_plugin_is_closed_form_gls_on_a_linear_model():
    """With additive noise the linear model is a linear regression: at the REML coefficient the
    fit and its standard errors are the textbook GLS ones, computed here from the full AR(1)
    covariance matrix."""
    t = np.arange(1990.0, 2030.0)
    rng = np.random.default_rng(11)
    e = np.zeros(t.size)
    e[0] = rng.normal(0, 1 / math.sqrt(1 - 0.7**2))
    for i in range(1, t.size):
        e[i] = 0.7 * e[i - 1] + rng.normal()
    y = 3 + 0.4 * (t - t[0]) + e
    fits = lsi.fit(lsi.Series(t, y), models=["linear"], noise="additive", warn=False)
    mi = dependence.intervals(fits, method="ar1-plugin")["linear"]
    phi = mi.phi
    n = t.size
    R = phi ** np.abs(np.subtract.outer(np.arange(n), np.arange(n))) / (1 - phi**2)
    X = np.column_stack([np.ones(n), t - t[0]])
    Ri = np.linalg.inv(R)
    A = X.T @ Ri @ X
    b = np.linalg.solve(A, X.T @ Ri @ y)
    s2 = float((y - X @ b) @ Ri @ (y - X @ b)) / (n - 2)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(A)))
    q = float(__import__("scipy").stats.t.ppf(0.975, n - 2))
    for name, bi, sei in zip(("C0", "b"), b, se, strict=True):
        p = mi.params[name]
        assert p.value == pytest.approx(bi, rel=1e-6)
        assert p.upper - p.value == pytest.approx(q * sei, rel=1e-6)
    assert 0.4 < phi < 0.95


def test_reml_coefficient_is_nearly_unbiased():
    """REML's AR(1) coefficient on 40 points with a fitted trend: plain ML's is biased down by
    about (1 + 3 phi) / n (0.06 here); REML's mean stays within 0.05 of the truth."""
    got = []
    for seed in range(40):
        fits = fit1(ar1_series("exponential", EXP, T40, 0.5, 0.15, seed), "exponential")
        got.append(dependence.intervals(fits, method="ar1-plugin")["exponential"].phi)
    assert abs(np.mean(got) - 0.5) < 0.05


def test_independent_method_is_the_fits_own():
    for name in ("metr_horizons", "us_patents"):
        fits = lsi.fit(lsi.datasets.load(name), warn=False)
        iv = dependence.intervals(fits, method="independent")
        for k, r in fits.items():
            if not r.converged:
                continue
            own, mine = r.doubling_time(), iv[k].doubling_time
            assert (own.value, own.lower, own.upper) == pytest.approx((mine.value, mine.lower, mine.upper))
            s_own, s_mine = r.singularity_time(), iv[k].singularity_time
            if s_own is None:
                assert s_mine is None
            elif s_own.lower is not None:  # the same, its lower end raised to the last observation
                assert s_mine.lower == pytest.approx(max(s_own.lower, float(r.series.t[-1])))
                assert (s_mine.upper is None) == (s_own.upper is None)
                assert s_own.upper is None or s_mine.upper == pytest.approx(s_own.upper)
            for p, par in r.params.items():
                if par.vary and par.stderr is not None:
                    assert iv[k].params[p].upper - par.value == pytest.approx(r.q * par.stderr)


def test_ar1_widens_under_autocorrelation_and_not_without():
    wide = fit1(ar1_series("exponential", EXP, T40, 0.9, 0.15, 2), "exponential")
    iv = dependence.intervals(wide)["exponential"]
    own = wide["exponential"].doubling_time()
    assert iv.method == "ar1"
    assert iv.doubling_time.upper - iv.doubling_time.lower > 2 * (own.upper - own.lower)
    calm = fit1(ar1_series("exponential", EXP, T40, 0.0, 0.15, 2), "exponential")
    iv = dependence.intervals(calm)["exponential"]
    own = calm["exponential"].doubling_time()
    ratio = (iv.doubling_time.upper - iv.doubling_time.lower) / (own.upper - own.lower)
    assert 0.8 < ratio < 1.4


def test_singularity_interval_starts_after_the_data():
    fits = lsi.fit(lsi.datasets.load("us_patents"), warn=False)
    iv = dependence.intervals(fits, models=["hyperbolic"])["hyperbolic"]
    assert iv.singularity_time.lower >= fits.series.t[-1]


def test_intervals_record_the_method_and_are_strict_json():
    fits = lsi.fit(lsi.datasets.load("metr_horizons"), warn=False)
    iv = dependence.intervals(fits)
    assert iv.requested == "auto" and iv.default_method == dependence.DEFAULT_METHOD
    assert set(iv.models) == set(fits)
    for k, r in fits.items():
        assert iv[k].method == ("none" if not r.converged else dependence.DEFAULT_METHOD)
    d = json.loads(json.dumps(iv.to_dict(), allow_nan=False))
    hyp = d["models"]["hyperbolic"]
    assert set(hyp) >= {"method", "phi", "autocorrelation", "params", "doubling_time", "singularity_time"}
    assert hyp["autocorrelation"]["verdict"]
    pre = dependence.intervals(fits, method="pretest")
    for k, c in pre.models.items():
        if fits[k].converged:
            assert c.method == ("ar1" if c.check.autocorrelated else "independent")


def test_bad_arguments_say_what_is_valid():
    fits = fit1(ar1_series("exponential", EXP, T40, 0.0, 0.15, 0), "exponential")
    with pytest.raises(ParameterValueError, match="choose from"):
        dependence.intervals(fits, method="newey")
    with pytest.raises(ParameterValueError, match="fitted: exponential"):
        dependence.intervals(fits, models=["hyperbolic"])
    with pytest.raises(ParameterValueError, match="lags"):
        dependence.residual_check(fits["exponential"], lags=40)


# ---------------------------------------------------------------- the bootstraps
def test_moving_blocks_are_runs_of_the_series():
    rng = np.random.default_rng(0)
    idx = moving_blocks(rng, 50, 23, 5)
    assert idx.shape == (50, 23)
    assert idx.min() >= 0 and idx.max() <= 22
    for row in idx:
        for start in range(0, 23, 5):
            block = row[start : start + 5]
            assert np.array_equal(block, np.arange(block[0], block[0] + block.size))


def test_block_scheme_is_cached_apart_and_case_is_unchanged():
    fits = fit1(ar1_series("exponential", EXP, T40, 0.5, 0.15, 0), "exponential")
    case = fits.bootstrap(30, seed=4, processes=1)
    want = np.sort(np.random.default_rng(4).integers(0, 40, size=(30, 40)), axis=1)
    assert np.array_equal(case.indices, want) and case.scheme == "case"
    block = fits.bootstrap(30, seed=4, processes=1, scheme="block", block_length=6)
    assert block is not case and block.scheme == "block" and block.block_length == 6
    assert fits.bootstrap(30, seed=4, processes=1, scheme="block", block_length=6) is block
    with pytest.raises(ParameterValueError, match="block_length"):
        fits.bootstrap(5, processes=1, scheme="block", block_length=0)
    with pytest.raises(ParameterValueError, match="scheme"):
        fits.bootstrap(5, processes=1, scheme="stationary")


@pytest.mark.parametrize("method", ["block", "sieve"])
def test_bootstrap_methods_give_percentile_intervals(method):
    fits = fit1(ar1_series("hyperbolic", HYP, T40, 0.5, 0.15, 5), "hyperbolic")
    mi = dependence.intervals(fits, method=method, n_boot=60, processes=1)["hyperbolic"]
    assert mi.method == method and mi.n_boot >= 50
    assert mi.doubling_time.lower < mi.doubling_time.value
    assert mi.singularity_time.lower < mi.singularity_time.value
    if method == "block":
        assert mi.block_length == dependence.block_length_rule(40, mi.phi)


def test_block_length_rule():
    assert dependence.block_length_rule(40, 0.0) == 1
    assert dependence.block_length_rule(40, -0.5) == 1
    assert dependence.block_length_rule(40, 0.5) == 5  # (60)^(1/3) (4/3)^(2/3) = 4.74
    assert dependence.block_length_rule(40, 0.99) == 20  # at most n / 2


# ---------------------------------------------------------------- coverage
@pytest.mark.slow
@pytest.mark.parametrize("model,theta", [("exponential", EXP), ("hyperbolic", HYP)])
def test_default_intervals_cover_under_ar1_noise(model, theta):
    """60 seeds per cell (the benchmark runs 400): the default 95% intervals cover 0.90-0.98
    there; with 60 seeds a cell may stray by about 0.06, so the test asks at least 0.85, and
    that they do not cover by being wide where there is nothing to allow for (at rho = 0 at
    most 1.25 times the independent-errors width; 1.09-1.14 in the benchmark).  The
    independent-errors intervals, for contrast, must fail at rho = 0.9."""
    quantity = "singularity_time" if model == "hyperbolic" else "doubling_time"
    for rho in (0.0, 0.5, 0.9):
        cov = dependence.coverage(
            model, theta, T40, rho=rho, sd=0.15, seeds=range(60), methods=("independent", "auto"), processes=2
        )
        assert cov.n_sim == 60
        got = cov.get("auto", quantity)["coverage"]
        assert 0.85 <= got <= 1.0, (model, rho, got)
        if rho == 0.0:
            ratio = cov.get("auto", quantity)["median_width"] / cov.get("independent", quantity)["median_width"]
            assert ratio < 1.25, (model, ratio)
        if rho == 0.9:
            assert cov.get("independent", quantity)["coverage"] < 0.7
