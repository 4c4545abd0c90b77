"""Diagnostics along loop trajectories: embeddings fail only through their own mechanism at
their closed-form times (checked against the quadrature path), thresholds behave, growth
accounting sums up, the trajectory API and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lsi
from lsi import quadrature
from lsi.diagnostics import FAILURES, Thresholds, embed, failure_analysis, growth_accounting, takeoff_r
from lsi.exceptions import ParameterValueError

from .conftest import TYPICAL

EXPECTED = {
    "exponential": "none",
    "hyperbolic": "none",
    "amdahl": "closure",
    "brake": "amplification",
    "linear": "amplification",
    "logistic": "efficiency",
    "richards": "efficiency",
    "gompertz": "efficiency",
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_embedding_fails_only_through_its_own_mechanism_at_its_closed_form_time(name):
    m = lsi.models.get(name)
    theta = m.theta(TYPICAL[name])
    fa = failure_analysis(m, theta, 0.0, horizon=1e3)
    assert FAILURES[fa["first_failure"][0]] == EXPECTED[name]
    others = {"closure": "t_closure", "amplification": "t_amplification", "efficiency": "t_efficiency"}
    for mech, key in others.items():
        if mech != EXPECTED[name]:
            assert np.isnan(fa[key][0]), (name, key)
    # the numerical (quadrature) path of the embedded loop model agrees
    lp = {k: float(v[0]) for k, v in embed(m, theta).items()}
    res = quadrature.solve(0.0, 1e3, **lp)
    for key in ("t_closure", "t_amplification", "t_efficiency", "t_singularity"):
        a, b = float(np.asarray(fa[key]).reshape(-1)[0]), float(np.asarray(res[key]).reshape(-1)[0])
        if np.isnan(a):
            assert np.isnan(b), (name, key, b)
        else:
            assert b == pytest.approx(a, abs=1e-6), (name, key)
    # and the embedded loop trajectory reproduces the model's own curve
    t = np.linspace(0, 3.0, 7)
    assert np.allclose(quadrature.lnC_at(t, 0.0, **lp), m.lnC_theta(t, theta) - math.log(theta[0]), atol=1e-7)


def test_closed_form_failure_times_are_the_textbook_ones():
    logi = lsi.models.get("logistic")
    p = TYPICAL["logistic"]
    fa = failure_analysis(logi, logi.theta(p), 2020.0)
    assert fa["t_efficiency"][0] == pytest.approx(logi.inflection_time(p, t0=2020.0), rel=1e-12)  # C = K/2
    gom = lsi.models.get("gompertz")
    p = TYPICAL["gompertz"]
    fa = failure_analysis(gom, gom.theta(p), 2020.0)
    assert fa["t_efficiency"][0] == pytest.approx(2020.0 + math.log(2) / p["g"], rel=1e-12)
    amd = lsi.models.get("amdahl")
    p = TYPICAL["amdahl"]
    fa = failure_analysis(amd, amd.theta(p), 0.0)
    l_k = math.log(p["p"] / (1 - p["p"])) / p["a"]  # where e^{a l} = p/(1-p)
    assert fa["t_closure"][0] == pytest.approx(float(amd.time_to_reach(p, p["C0"] * math.exp(l_k))), rel=1e-10)
    hyp = lsi.models.get("hyperbolic")
    p = TYPICAL["hyperbolic"]
    fa = failure_analysis(hyp, hyp.theta(p), 0.0)
    assert fa["t_singularity"][0] == pytest.approx(hyp.singularity_time(p), rel=1e-12)
    assert FAILURES[fa["first_failure"][0]] == "none"


def test_failure_analysis_is_vectorised_over_draws():
    m = lsi.models.get("gompertz")
    theta = np.array([[1.0, g, 50.0] for g in (0.25, 0.5, 1.0)])
    fa = failure_analysis(m, theta, 0.0)
    assert np.allclose(fa["t_efficiency"], math.log(2) / theta[:, 1])
    assert np.allclose(
        fa["failure_level"],
        m.C_theta(fa["failure_time"], theta[0]) * 0
        + [float(m.C_theta(np.array([ft]), th)[0]) for ft, th in zip(fa["failure_time"], theta, strict=True)],
    )


def test_horizon_turns_late_failures_into_none():
    m = lsi.models.get("gompertz")
    fa = failure_analysis(m, m.theta(TYPICAL["gompertz"]), 0.0, horizon=1.0)  # fails at ln2/0.5 = 1.39
    assert FAILURES[fa["first_failure"][0]] == "none" and np.isnan(fa["failure_time"][0])


def test_ties_are_reported():
    m = lsi.models.get("linear")
    th = Thresholds(rho_min=0.0)
    fa = failure_analysis(m, m.theta(TYPICAL["linear"]), 0.0, thresholds=th)
    assert not fa["tied"][0]
    # a loop where closure and amplification both fail at t0
    ds = lsi.models.Loop().trajectory({"g0": 0.5, "p": 0.2, "a": 1.0, "beta": 2.0}, until=5.0)
    assert ds.attrs["t_closure"] == 0.0 and ds.attrs["t_amplification"] == 0.0
    assert ds.attrs["tied"] == 1 and ds.attrs["first_failure"] == "closure"


LOOP = st.fixed_dictionaries(
    {
        "g0": st.floats(0.05, 2.0),
        "p": st.floats(0.0, 1.0),
        "a": st.floats(0.0, 3.0),
        "lam": st.floats(0.05, 1.0),
        "beta": st.floats(0.0, 2.0),
        "gamma": st.floats(0.0, 0.5),
        "ceiling": st.one_of(st.just(math.inf), st.floats(2.0, 1e6)),
        "nu": st.floats(0.2, 3.0),
        "delta": st.floats(0.0, 0.5),
    }
)


@settings(max_examples=60, deadline=None)
@given(params=LOOP, lo=st.floats(0.05, 0.95), hi=st.floats(0.05, 0.95), rlo=st.floats(-1, 1), rhi=st.floats(-1, 1))
def test_raising_a_threshold_never_delays_its_crossing(params, lo, hi, rlo, rhi):
    lo, hi = min(lo, hi), max(lo, hi)
    rlo, rhi = min(rlo, rhi), max(rlo, rhi)
    a = quadrature.solve(0.0, 30.0, kappa_min=lo, rho_min=rlo, eta_min=lo, **params)
    b = quadrature.solve(0.0, 30.0, kappa_min=hi, rho_min=rhi, eta_min=hi, **params)
    for key in ("t_closure", "t_amplification", "t_efficiency"):
        ta, tb = float(np.asarray(a[key]).reshape(-1)[0]), float(np.asarray(b[key]).reshape(-1)[0])
        if np.isfinite(ta):
            assert np.isfinite(tb) and tb <= ta + 1e-9, (key, ta, tb)


@settings(max_examples=40, deadline=None)
@given(params=LOOP, kmin=st.floats(0.1, 0.9), emin=st.floats(0.1, 0.9))
def test_thresholds_are_respected_exactly(params, kmin, emin):
    res = quadrature.solve(0.0, 30.0, kappa_min=kmin, rho_min=0.0, eta_min=emin, **params)
    lk = float(np.asarray(res["l_closure"]).reshape(-1)[0])
    if np.isfinite(lk) and lk > 0:
        assert float(quadrature.kappa(lk, params["p"], params["a"])) == pytest.approx(kmin, rel=1e-9)
    le = float(np.asarray(res["l_efficiency"]).reshape(-1)[0])
    te = float(np.asarray(res["t_efficiency"]).reshape(-1)[0])
    if np.isfinite(le) and le > 0:
        F = 1 - (math.exp(le) / params["ceiling"]) ** params["nu"] if math.isfinite(params["ceiling"]) else 1.0
        eta = F * math.exp(-params["delta"] * te)
        assert eta == pytest.approx(emin, rel=1e-6, abs=1e-8)


def test_growth_accounting_sums_to_the_elasticity_of_the_growth_rate():
    params = {
        "g0": 0.6,
        "p": 0.95,
        "a": 1.2,
        "lam": 0.8,
        "beta": 0.3,
        "gamma": 0.1,
        "ceiling": 1e4,
        "nu": 1.5,
        "delta": 0.05,
    }
    ds = lsi.models.Loop().trajectory(params, until=15.0, n=2001)
    l, rate = ds["lnC"].values, ds["growth_rate"].values
    parts = ds["closure_part"] + ds["returns_part"] + ds["friction_part"]
    assert np.allclose(parts, ds["elasticity"])
    # the total is d ln(dl/dt) / dl along the trajectory (finite differences)
    fd = np.gradient(np.log(rate), l)
    inner = slice(50, -50)
    assert np.allclose(ds["elasticity"].values[inner], fd[inner], rtol=2e-3, atol=2e-3)
    acc = growth_accounting(l, ds["time"].values, **params)
    assert np.allclose(acc["total"], ds["elasticity"].values)


def test_trajectory_dataset():
    ds = lsi.models.Loop().trajectory({"g0": 0.5, "p": 0.9, "a": 1.0}, until=2045.0, t0=2025.0, n=101)
    assert ds.sizes["time"] == 101
    assert set(ds.data_vars) >= {"lnC", "kappa", "rho", "eta", "speedup", "growth_rate", "elasticity"}
    assert ds.attrs["first_failure"] == "closure"
    assert ds.attrs["t_closure"] == pytest.approx(2025.0 + ((0.1 * math.log(9)) + 0.9 * (1 - 1 / 9)) / 0.5)
    assert np.all(np.diff(ds["kappa"].values) <= 1e-15)  # non-increasing
    assert ds["speedup"].values[-1] == pytest.approx(10.0, rel=1e-6)  # 1/(1-p)
    sing = lsi.models.Loop().trajectory({"g0": 0.5, "a": 1.0}, until=20)  # p = 1: hyperbolic
    assert sing.attrs["t_singularity"] == pytest.approx(2.0)  # 1/(lam a g0)
    assert sing.attrs["first_failure"] == "none"
    assert sing["time"].values[-1] < 2.0


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"p": 1.3}, "p = 1.3 is outside"),
        ({"lam": 0.0}, "lam = 0.0 is outside"),
        ({"lam": 1.5}, "lam = 1.5 is outside"),
        ({"beta": -0.1}, "beta = -0.1 is outside"),
        ({"ceiling": 1.0}, "ceiling = 1.0 is outside"),
        ({"ceiling": 0.5}, "ceiling = 0.5 is outside"),
        ({"zeta": 1.0}, "no parameter 'zeta'"),
    ],
)
def test_bad_loop_parameters_get_one_clear_line(bad, match):
    with pytest.raises(lsi.exceptions.LsiError, match=match) as info:
        lsi.models.Loop().trajectory({"g0": 0.5, **bad}, until=10)
    assert "\n" not in str(info.value)


def test_bad_trajectory_arguments():
    with pytest.raises(ParameterValueError, match="not after t0"):
        lsi.models.Loop().trajectory({"g0": 0.5}, until=0.0)
    with pytest.raises(ParameterValueError, match="needs g0"):
        lsi.models.Loop().trajectory({"p": 0.5}, until=3.0)
    with pytest.raises(ParameterValueError, match="kappa_min"):
        Thresholds(kappa_min=1.5)
    with pytest.raises(ParameterValueError, match="eta_min"):
        Thresholds(eta_min=0.0)


def test_takeoff_r_beside_rho():
    r = takeoff_r({"lam": np.array([1.0, 0.5, 1.0]), "a": np.array([2.0, 2.0, 1.0]), "beta": np.array([1.0, 2.0, 0.0])})
    assert r.tolist() == [2.0, 0.5, math.inf]
    # r > 1 exactly when rho = lam a - beta > 0 (p = 1)
    rho = np.array([1.0, -1.0, 1.0])
    assert np.array_equal(r > 1, rho > 0)


def test_loop_model_fits_with_fixed_mechanism_parameters():
    m = lsi.models.get("amdahl")
    p = {"C0": 1.0, "g0": 0.4, "p": 0.95, "a": 1.0}
    t = np.linspace(2020, 2028, 30)
    y = m.capability(p, t, 2020.0) * np.exp(np.random.default_rng(0).normal(0, 0.03, 30))
    s = lsi.Series(t, y)
    f = lsi.fit(s, "loop", params={"loop": {"p": 0.95, "a": 1.0}}, t0=2020.0)["loop"]
    assert f.converged
    assert f.params["g0"].value == pytest.approx(0.4, rel=0.05)
    assert f.free == ["C0", "g0"]
    fa = failure_analysis("loop", f.theta, 2020.0)
    fa_amdahl = failure_analysis(m, m.theta(p), 2020.0)
    assert FAILURES[fa["first_failure"][0]] == "closure"
    assert fa["t_closure"][0] == pytest.approx(fa_amdahl["t_closure"][0], abs=0.1)
