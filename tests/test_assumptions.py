"""The assumption report: scenarios built so one assumption fails first are named, probabilities
sum to one, the verdict says when the data cannot tell or the two methods disagree, the data
check, renderings, the report document and the CLI."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import lsi
from lsi import quadrature
from lsi.assessment import _verdict, data_check
from lsi.cli import main
from lsi.diagnostics import FAILURES, Thresholds
from lsi.exceptions import ParameterValueError

from .conftest import simulate

DEFAULTS = dict(p=1.0, a=0.0, lam=1.0, beta=0.0, gamma=0.0, ceiling=np.inf, nu=1.0, delta=0.0)
SCENARIOS = {
    "closure": {"g0": 0.4, "p": 0.98, "a": 1.0},  # the Amdahl knee at l = ln 49
    "amplification": {"g0": 1.5, "beta": 0.6},  # a complexity brake from the start
    "efficiency": {"g0": 1.2, "ceiling": 300.0},  # a resource ceiling, K/2 reached inside the data
}


def loop_series(name: str, seed: int, n: int = 40, span: float = 10.0, noise: float = 0.08) -> lsi.Series:
    rng = np.random.default_rng(seed)
    t = np.linspace(2015, 2015 + span, n)
    lnc = quadrature.lnC_at(t, 2015.0, **{**DEFAULTS, **SCENARIOS[name]})
    return lsi.Series(t, np.exp(lnc + rng.normal(0, noise, n)), name=f"loop-{name}")


@pytest.mark.slow
@pytest.mark.parametrize("assumption", list(SCENARIOS))
def test_report_names_the_assumption_that_fails_first_in_the_simulated_loop(assumption):
    for seed in range(2):
        fits = lsi.fit(loop_series(assumption, seed), warn=False)
        rep = lsi.assumptions(fits, n_boot=100, seed=seed)
        assert max(rep.probabilities, key=rep.probabilities.get) == assumption
        assert max(rep.bootstrap_probabilities, key=rep.bootstrap_probabilities.get) == assumption
        assert rep.probabilities[assumption] > 0.8
        assert assumption in rep.verdict or "loop opens" in rep.verdict


def test_probabilities_sum_to_one_and_both_methods_are_present():
    fits = lsi.fit(simulate("logistic", {"C0": 1.0, "g": 1.2, "K": 100.0}, seed=1), warn=False)
    rep = lsi.assumptions(fits, n_boot=60, seed=3)
    assert set(rep.probabilities) == set(FAILURES) == set(rep.bootstrap_probabilities)
    assert sum(rep.probabilities.values()) == pytest.approx(1.0)
    assert sum(rep.bootstrap_probabilities.values()) == pytest.approx(1.0)
    assert rep.n_boot == 60
    # failure times of the bootstrap replicates bracket the fitted logistic's own
    ft = rep.failure_times["efficiency"]
    logi = next(m for m in rep.models if m["name"] == "logistic")
    assert ft["time_q05"] <= logi["failure_time"] <= ft["time_q95"]
    assert math.log(99) / 1.2 + 2020 == pytest.approx(logi["failure_time"], abs=0.3)  # truth: K/2 at ln(99)/g


def test_bootstrap_is_reproducible_and_reusable():
    fits = lsi.fit(simulate("exponential", {"C0": 1.0, "g": 0.7}, seed=2), warn=False)
    b = fits.bootstrap(40, seed=7)
    r1 = lsi.assumptions(fits, bootstrap=b)
    r2 = lsi.assumptions(fits, n_boot=40, seed=7)
    assert r1.bootstrap_probabilities == r2.bootstrap_probabilities
    r0 = lsi.assumptions(fits, n_boot=0)
    assert r0.bootstrap_probabilities is None and "bootstrap" not in r0.verdict


def test_verdict_says_when_the_data_cannot_tell_and_when_methods_disagree():
    probs = {"closure": 0.4, "amplification": 0.35, "efficiency": 0.05, "none": 0.2}
    boot = {"closure": 0.3, "amplification": 0.45, "efficiency": 0.05, "none": 0.2}
    v = " ".join(_verdict(probs, boot, [], {}, {}, Thresholds(), 2045.0))
    assert v.startswith("The data cannot tell which assumption fails first")
    assert "disagree" in v
    strong = {"closure": 0.9, "amplification": 0.05, "efficiency": 0.0, "none": 0.05}
    v = " ".join(
        _verdict(
            strong,
            strong,
            [],
            {},
            {"closure": {"time_q05": 2024.0, "time_q50": 2025.0, "time_q95": 2026.5}},
            Thresholds(),
            2045.0,
        )
    )
    assert v.startswith("The evidence favours: the loop opens first") and "2025.0" in v and "disagree" not in v


def test_data_check_sees_acceleration_and_deceleration():
    hyp = lsi.fit(simulate("hyperbolic", {"C0": 1.0, "g": 0.25, "e": 0.5}, seed=0, noise=0.05), warn=False)
    assert data_check(hyp)["acceleration"]["doubling_times"] == "shrinking"
    brk = lsi.fit(simulate("brake", {"C0": 1.0, "g": 1.0, "b": 0.5}, seed=0, noise=0.05), warn=False)
    assert data_check(brk)["acceleration"]["doubling_times"] == "growing"


@pytest.mark.slow
def test_data_check_on_constant_doubling_says_cannot_tell_about_as_often_as_its_level():
    cannot = 0
    seeds = 100
    for seed in range(seeds):
        fits = lsi.fit(simulate("exponential", {"C0": 1.0, "g": 0.7}, seed=seed), ["exponential"], warn=False)
        cannot += data_check(fits)["acceleration"]["doubling_times"] == "cannot tell"
    assert 0.90 <= cannot / seeds <= 0.99  # a 95% interval on the curvature


def test_local_doubling_times_match_the_truth_for_exponential_data():
    fits = lsi.fit(simulate("exponential", {"C0": 1.0, "g": 0.7}, seed=5, noise=0.02), warn=False)
    d = data_check(fits)["doubling_times"]
    assert len(d) >= 5
    for e in d:
        assert e["lower"] <= math.log(2) / 0.7 <= e["upper"]


def test_renderings_and_json():
    fits = lsi.fit(simulate("gompertz", {"C0": 1.0, "g": 0.5, "K": 100.0}, seed=0), warn=False)
    rep = lsi.assumptions(fits, n_boot=30)
    d = json.loads(rep.to_json())
    assert set(d) >= {"probabilities", "bootstrap_probabilities", "models", "doubling_times", "verdict"}
    for m in d["models"]:
        assert set(m) >= {"name", "weight", "first_failure", "failure_time", "singularity_time"}
        assert m["first_failure"] in FAILURES
    md = rep.to_markdown()
    assert md.startswith("# Which assumption") and "| Akaike weights |" in md
    txt = rep.summary()
    assert "Verdict:" in txt and "gompertz" in txt


def test_report_errors():
    fits = lsi.fit(simulate("exponential", {"C0": 1.0, "g": 0.7}, seed=0), warn=False)
    with pytest.raises(ParameterValueError, match="horizon"):
        lsi.assumptions(fits, horizon=2000.0, n_boot=0)
    with pytest.raises(ParameterValueError, match="result of lsi.fit"):
        lsi.assumptions([1, 2, 3])
    with pytest.raises(ParameterValueError, match="kappa_min"):
        lsi.assumptions(fits, thresholds={"kappa_min": 2.0}, n_boot=0)


def test_write_report_document(tmp_path):
    from lsi.report import write_report

    fits = lsi.fit(simulate("logistic", {"C0": 1.0, "g": 1.2, "K": 100.0}, seed=0), warn=False)
    with pytest.raises(lsi.exceptions.ParameterValueError, match="lsi.answer"):
        write_report(lsi.assumptions(fits, n_boot=0), fits, str(tmp_path))
    assert not any(tmp_path.iterdir())  # refused before writing anything
    rep = lsi.answer(fits, n_boot=20, n_sim=10)
    paths = write_report(rep, fits, str(tmp_path))
    names = {p.split("/")[-1] for p in paths}
    assert {
        "report.md",
        "report.html",
        "report.json",
        "models.csv",
        "comparison.csv",
        "doubling_times.csv",
        "probabilities.csv",
        "specifications.csv",
        "confusion.csv",
        "autocorrelation.csv",
        "specifications.png",
        "distinguishability.png",
        "forecast.png",
    } <= names
    html = (tmp_path / "report.html").read_text()
    assert "<table>" in html and "Answer" in html
    for title in ("Robustness across data choices", "Can these data tell", "Autocorrelated residuals", "Calibration"):
        assert title in html
    d = json.loads((tmp_path / "report.json").read_text())
    assert d["headline"] == rep.headline and d["strength"] == rep.strength
    for key in ("robustness", "distinguishability", "autocorrelation", "calibration"):
        assert d[key] is not None, key
    for p in paths:
        if p.endswith(".png"):
            assert (tmp_path / p.split("/")[-1]).stat().st_size > 1000


def test_cli_report_json_on_shipped_series(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["report", "metr_horizons", "--json", "--bootstrap", "50"])
    out = capsys.readouterr().out
    assert code == 0
    d = json.loads(out)
    for key in ("probabilities", "bootstrap_probabilities"):
        assert set(d[key]) == {"closure", "amplification", "efficiency", "none"}
        assert sum(d[key].values()) == pytest.approx(1.0)
    assert {m["name"] for m in d["models"]} >= set(lsi.models.PHENOMENOLOGICAL)
    for m in d["models"]:
        assert m["first_failure"] in FAILURES
        assert m["failure_time"] is None or isinstance(m["failure_time"], float)
        assert m["singularity_time"] is None or isinstance(m["singularity_time"], float)
    for e in d["doubling_times"]:
        assert set(e) == {"t", "value", "lower", "upper", "unit"} and e["unit"] == "days"
    assert isinstance(d["verdict"], str) and d["verdict"]


def test_verdict_says_what_none_is_made_of():
    probs = {"closure": 0.03, "amplification": 0.0, "efficiency": 0.0, "none": 0.97}
    models = [
        {"name": "breakpoint", "weight": 0.89, "first_failure": "none", "singularity_time": None},
        {"name": "hyperbolic", "weight": 0.08, "first_failure": "none", "singularity_time": 2027.0},
        {"name": "amdahl", "weight": 0.03, "first_failure": "closure", "singularity_time": None},
    ]
    v = " ".join(_verdict(probs, probs, models, {}, {}, Thresholds(), 2046.0))
    assert "no assumption fails before 2046" in v
    assert "exogenous jump" in v and "(breakpoint, weight 0.89)" in v
    assert "finite-time singularity (hyperbolic, weight 0.08)" in v
    assert v.index("breakpoint") < v.index("hyperbolic")  # largest share first


def test_returns_at_t0_are_the_loops_own_with_closure_at_p():
    # a fitted Amdahl model with p < 1: the loop's rho(0) = lam a kappa(0) - beta with kappa(0) = p,
    # not lam a - beta as if the loop started closed
    fits = lsi.fit(loop_series("closure", 0), models=["amdahl", "exponential"], warn=False)
    rep = lsi.assumptions(fits, n_boot=0)
    row = next(m for m in rep.models if m["name"] == "amdahl")
    g0, p, a = (float(fits["amdahl"].params[k].value) for k in ("g0", "p", "a"))
    assert p < 0.999
    expected = float(quadrature.rho(0.0, p, a, 1.0, 0.0, 0.0))
    assert row["rho0"] == pytest.approx(expected, rel=1e-12)
    assert row["rho0"] == pytest.approx(a * p, rel=1e-12)
    ds = lsi.models.Loop().trajectory({"g0": g0, "p": p, "a": a}, until=2.0)
    assert row["rho0"] == pytest.approx(float(ds["rho"][0]), rel=1e-9)


def test_report_folder_needs_the_report_extra_and_writes_nothing_without_it(tmp_path, monkeypatch):
    import sys

    from lsi.exceptions import OptionalDependencyError
    from lsi.report import write_report

    fits = lsi.fit(loop_series("efficiency", 1), models=["exponential", "logistic"], warn=False)
    rep = lsi.answer(fits, n_boot=0, checks=())
    monkeypatch.setitem(sys.modules, "jinja2", None)  # as on an install without lsi[report]
    out = tmp_path / "rep"
    with pytest.raises(OptionalDependencyError, match=r"lsi\[report\]"):
        write_report(rep, fits, str(out))
    assert not out.exists()


def test_an_interrupted_report_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    from lsi import report as report_module

    fits = lsi.fit(loop_series("efficiency", 1), models=["exponential", "logistic"], warn=False)
    ans = lsi.answer(fits, n_boot=0, checks=())
    out = tmp_path / "rep"
    first = report_module.write_report(ans, fits, str(out))
    before = {p: open(p, "rb").read() for p in first}
    (out / "mine.txt").write_text("not lsi's")

    def fail(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "report_html", fail)  # an interrupt halfway through
    with pytest.raises(KeyboardInterrupt):
        report_module.write_report(ans, fits, str(out))
    assert {p: open(p, "rb").read() for p in first} == before
    assert (out / "mine.txt").read_text() == "not lsi's"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["rep"]  # no temporary left beside it


def test_the_report_draws_the_backtest_when_asked(tmp_path):
    from lsi.report import write_report

    s = simulate("exponential", {"C0": 1.0, "g": 0.7}, n=14, seed=4)
    fits = lsi.fit(s, ["exponential", "linear"], warn=False)
    ans = lsi.answer(fits, n_boot=0, checks=())
    names = {p.split("/")[-1] for p in write_report(ans, fits, str(tmp_path / "a"))}
    assert "backtest.png" not in names
    names = {p.split("/")[-1] for p in write_report(ans, fits, str(tmp_path / "b"), backtest=20)}
    assert "backtest.png" in names
    assert "backtest.png" in (tmp_path / "b" / "report.md").read_text()
