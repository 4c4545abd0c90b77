"""A fit called converged is at the optimum, from any start: NIST's certified problems from
random starts, the shipped METR and Moore series from starts scattered about their fits, and
the bootstrap's warm refits against cold ones."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import lsi
from lsi import leastsq

NIST = json.loads((Path(__file__).parent / "data" / "nist_strd.json").read_text())


def random_starts(fit: lsi.FitResult, rng: np.random.Generator, spread: float) -> dict[str, dict[str, float]]:
    """Each free parameter's start drawn log-normally about the fitted value."""
    return {
        k: {"value": float(v * math.exp(rng.normal(0.0, spread)))}
        for k, v, vary in zip(fit.model.param_names, fit.theta, fit.vary, strict=True)
        if vary
    }


@pytest.mark.parametrize(("problem", "model"), [("Rat42", "logistic"), ("Rat43", "richards")])
def test_nist_from_100_random_starts_converged_means_certified(problem, model):
    ref = NIST[problem]
    series = lsi.Series(np.array(ref["x"]), ref["y"])
    best = lsi.fit(series, model, noise="additive")[model]
    rng = np.random.default_rng({"Rat42": 42, "Rat43": 43}[problem])
    converged = 0
    for _ in range(100):
        start = random_starts(best, rng, spread=1.0)  # a factor e either way, often far more
        try:
            f = lsi.fit(series, model, noise="additive", params={model: start}, warn=False)[model]
        except lsi.exceptions.ParameterValueError:
            continue  # a start with no finite prediction is refused in one line
        if f.converged:
            converged += 1
            assert f.rss == pytest.approx(ref["rss"], rel=1e-6), f"converged at RSS {f.rss} from {start}"
    assert converged >= 90


def test_a_users_start_on_a_plateau_is_not_reported_as_the_fit():
    # Rat42 from a start whose logistic is a step between two observations: the gradient there
    # vanishes (a plateau at 450x the certified RSS), which MINPACK accepts
    ref = NIST["Rat42"]
    series = lsi.Series(np.array(ref["x"]), ref["y"])
    start = {"C0": {"value": 237.15}, "g": {"value": 0.0844}, "K": {"value": 50.93}}
    f = lsi.fit(series, "logistic", noise="additive", params={"logistic": start}, warn=False)["logistic"]
    assert f.converged and f.rss == pytest.approx(ref["rss"], rel=1e-6)


def test_minpack_success_alone_is_not_convergence():
    # one MINPACK run from a poor start on Rat43 stops short with ier = 2; verification says so
    ref = NIST["Rat43"]
    s = lsi.Series(np.array(ref["x"]), ref["y"])
    m = lsi.models.get("richards")
    lay = leastsq.layout(m, {})
    tau = s.t - s.t[0]
    bad = {"C0": 3.6, "g": 4.6e-4, "K": 1.2e3, "v": 0.5}
    sol = leastsq.solve(m, lay, tau, s.y, np.ones(len(s)), False, [bad])
    if sol.rss > ref["rss"] * (1 + 1e-6):
        assert not sol.converged and "away from a minimum" in sol.message
    with_cold = leastsq.solve(m, lay, tau, s.y, np.ones(len(s)), False, [bad], fallback=m.guess(tau, s.y))
    assert with_cold.converged and with_cold.rss == pytest.approx(ref["rss"], rel=1e-6)


#: known open case (issue 11): on METR with its extra scatter, Richards' cold fit creeps along
#: the K -> infinity valley and stops 0.19 AICc above a point a scattered start finds
STILL_SHORT = {("metr_horizons", "richards")}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["metr_horizons", "moore_transistors"])
def test_shipped_series_from_scattered_starts_converged_means_the_optimum(name):
    series = lsi.datasets.load(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lsi.exceptions.LsiWarning)
        fits = lsi.fit(series)
    rng = np.random.default_rng(7)
    for model, cold in fits.items():
        if not cold.converged or model == "breakpoint":  # the break date has its own global search
            continue
        if (name, model) in STILL_SHORT:
            continue
        found = []
        for _ in range(6):
            start = random_starts(cold, rng, spread=0.5)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", lsi.exceptions.LsiWarning)
                    f = lsi.fit(series, model, params={model: start})[model]
            except lsi.exceptions.ParameterValueError:
                continue
            found.append(f)
        best = min([cold.aicc] + [f.aicc for f in found if f.converged])
        for f in found + [cold]:
            if f.converged:  # converged means the best optimum any start found, to 0.01 in AICc
                assert f.aicc <= best + 0.01, (model, f.aicc, best, f.message)


def test_bootstrap_refits_are_verified_and_record_the_fallback():
    series = lsi.datasets.load("metr_horizons")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lsi.exceptions.LsiWarning)
        fits = lsi.fit(series, models=["exponential", "hyperbolic", "logistic"])
    boot = fits.bootstrap(40, seed=3, processes=1)
    share = boot.fallback_share()
    assert set(share) == set(boot.models)
    assert all(0.0 <= v <= 1.0 for v in share.values() if not math.isnan(v))
    # each verified warm refit scores no worse than a cold multi-start refit of the same replicate
    z_all = fits.noise.transform(series.y)
    sig_all = fits.noise.point_sigma(series)
    j = boot.models.index("logistic")
    r = fits["logistic"]
    lay = leastsq.layout(r.model, {})
    for b in range(0, 40, 4):
        if not boot.converged[b, j]:
            continue
        ii = boot.indices[b]
        tau, z = series.t[ii] - r.t0, z_all[ii]
        sig = np.sqrt(sig_all[ii] ** 2 + (r.extra_scatter or 0.0) ** 2)
        cold = leastsq.solve(r.model, lay, tau, z, 1 / sig, True, r.model.guess(tau, np.exp(z)))
        th = boot.theta["logistic"][b]
        rss_boot = float(np.sum(((z - r.model.lnC_theta(tau, th)) / sig) ** 2))
        assert rss_boot <= cold.rss * (1 + 1e-6) + 1e-9
