"""Backtesting: scoring rules against their definitions, scores that rank the right model first,
the naive baseline, origins that leave too few points, and the command line."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import lsi
from lsi.backtest import Backtest, backtest, crps_student_t, interval_score
from lsi.cli import main
from lsi.exceptions import ParameterValueError, SeriesError
from lsi.forecast import Predictive

from .conftest import simulate


def exp_series(n=24, seed=2, noise=0.1):
    t = np.linspace(2015, 2025, n)
    y = np.exp(0.6 * (t - 2015) + np.random.default_rng(seed).normal(0, noise, n))
    return lsi.Series(t, y, name="sim-exp")


# ---------------------------------------------------------------- scoring rules
def test_interval_score_by_hand():
    z = np.array([1.0, -1.0, 3.0])
    lo, hi = np.zeros(3), np.full(3, 2.0)
    # inside: the width; below/above: width plus 2/alpha times the miss
    assert interval_score(z, lo, hi, 0.9).tolist() == pytest.approx([2.0, 2.0 + 20.0, 2.0 + 20.0])
    assert interval_score(z, lo, hi, 0.5).tolist() == pytest.approx([2.0, 6.0, 6.0])
    assert np.isinf(interval_score(np.array([1.0]), np.array([0.0]), np.array([np.inf]), 0.9)[0])


def _crps_numeric(cdf, y, lo, hi):
    a, _ = integrate.quad(lambda x: cdf(x) ** 2, lo, y, limit=200)
    b, _ = integrate.quad(lambda x: (1 - cdf(x)) ** 2, y, hi, limit=200)
    return a + b


@pytest.mark.parametrize("df", [2.5, 5.0, 30.0])
def test_crps_of_student_t_matches_its_definition(df):
    for y in (-1.3, 0.2, 2.7):
        want = _crps_numeric(lambda x: stats.t.cdf(x, df, 0.5, 1.7), y, -4000, 4000)
        assert crps_student_t(np.array([y]), df, np.array([0.5]), np.array([1.7]))[0] == pytest.approx(want, rel=1e-6)
    with pytest.raises(ParameterValueError, match="df > 1"):
        crps_student_t(np.array([0.0]), 1.0, np.array([0.0]), np.array([1.0]))


def test_mixture_crps_logpdf_and_quantiles_match_their_definitions():
    mu = np.array([[0.0], [1.5], [-0.7]])
    s = np.array([0.5, 1.0, 0.3])
    w = np.array([0.2, 0.5, 0.3])
    pr = Predictive(np.array([2030.0]), {"m": (mu, s, w)}, {}, {}, {}, None, 3, {})

    def cdf(x):
        return float(np.sum(w * stats.norm.cdf(x, mu[:, 0], s)))

    for y in (-2.0, 0.3, 1.9):
        assert pr.crps("m", np.array([y]))[0] == pytest.approx(_crps_numeric(cdf, y, -30, 30), rel=1e-7)
        dens = float(np.sum(w * stats.norm.pdf(y, mu[:, 0], s)))
        assert pr.logpdf("m", np.array([y]))[0] == pytest.approx(math.log(dens), rel=1e-12)
    q = pr.quantiles("m", [0.05, 0.5, 0.95])[:, 0]
    assert [cdf(x) for x in q] == pytest.approx([0.05, 0.5, 0.95], abs=1e-9)
    # mass at infinity (a curve past its singularity): infinite CRPS, finite log score
    mu_inf = np.array([[0.0], [np.inf]])
    pr2 = Predictive(
        np.array([2030.0]), {"m": (mu_inf, np.array([1.0, 1.0]), np.array([0.5, 0.5]))}, {}, {}, {}, None, 2, {}
    )
    assert np.isinf(pr2.crps("m", np.array([0.0]))[0])
    assert pr2.logpdf("m", np.array([0.0]))[0] == pytest.approx(math.log(0.5 * stats.norm.pdf(0.0)))
    assert np.isinf(pr2.quantiles("m", [0.9])[0, 0]) and np.isfinite(pr2.quantiles("m", [0.3])[0, 0])


# ---------------------------------------------------------------- backtests
@pytest.fixture(scope="module")
def exp_backtest():
    return backtest(exp_series(), ["exponential", "linear"], origins=[2020, 2022], n_boot=60)


def test_backtest_scores_rank_the_generating_model_first(exp_backtest):
    bt = exp_backtest
    assert isinstance(bt, Backtest)
    df = bt.scores
    assert set(df["model"]) == {"exponential", "linear", "averaged", "bootstrap_mixture", "naive", "stacked"}
    assert bt.origins.tolist() == [2020.0, 2022.0]
    n_after = int(np.sum(exp_series().t > 2020)) + int(np.sum(exp_series().t > 2022))
    assert (df["model"] == "exponential").sum() == n_after
    s = bt.summary()
    assert s.index[0] in ("exponential", "averaged", "bootstrap_mixture", "stacked")
    assert s.loc["exponential", "crps"] < s.loc["linear", "crps"]
    assert s.loc["exponential", "crps"] < s.loc["naive", "crps"]
    assert s.loc["exponential", "log_score"] > s.loc["linear", "log_score"]
    assert s.loc["exponential", "interval_score"] < s.loc["linear", "interval_score"]
    assert s.loc["exponential", "coverage"] >= 0.8 and s.loc["linear", "coverage"] < 0.5
    assert s.loc["exponential", "mae"] < s.loc["linear", "mae"]
    assert s.loc["linear", "bias"] < 0  # a straight line falls behind exponential growth
    assert set(s.columns) == {
        "n",
        "origins",
        "coverage",
        "interval_score",
        "crps",
        "crps_median",
        "log_score",
        "mae",
        "bias",
    }
    row = df.iloc[0]
    assert row["horizon"] == pytest.approx(row["t"] - row["origin"])
    assert row["z"] == pytest.approx(math.log(row["y"]))
    assert row["error"] == pytest.approx(row["z_median"] - row["z"])
    assert row["lower"] == pytest.approx(math.exp(row["z_lower"]))
    ex = df[df["model"] == "exponential"]
    assert np.allclose(ex["weight"].groupby(ex["origin"]).first().to_numpy() > 0.5, True)


def test_backtest_text_and_json(exp_backtest):
    text = exp_backtest.text()
    assert "backtest at 2 origins (2020.00, 2022.00)" in text and "naive" in text and "CRPS" in text
    d = exp_backtest.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["origins"] == [2020.0, 2022.0] and d["level"] == 0.9 and d["noise"] == "log"
    assert {r["model"] for r in d["summary"]} == set(exp_backtest.summary().index)
    assert len(d["scores"]) == len(exp_backtest.scores)


def test_horizon_limits_the_scored_points():
    bt = backtest(exp_series(), "exponential", origins=[2020], horizon=1.0, n_boot=30)
    assert bt.scores["horizon"].max() <= 1.0
    t = exp_series().t
    assert (bt.scores["model"] == "exponential").sum() == int(np.sum((t > 2020) & (t <= 2021)))


def test_default_origins_leave_half_the_series():
    s = exp_series(n=16)
    bt = backtest(s, "exponential", n_boot=30)
    assert 1 <= len(bt.origins) <= 8
    assert np.all(bt.origins >= s.t[7]) and np.all(bt.origins < s.t[-1])
    assert bt.scores["n_train"].min() >= 8


def test_naive_baseline_is_the_last_local_trend():
    # exact straight line in log space: the naive forecast is exact and its band tiny
    t = np.arange(2010.0, 2022.0)
    y = np.exp(0.5 * (t - 2010)) * np.exp(0.01 * np.sin(7 * t))
    bt = backtest(lsi.Series(t, y), "exponential", origins=[2018], n_boot=30, naive_points=4)
    nv = bt.scores[bt.scores["model"] == "naive"]
    assert np.allclose(nv["z_median"], np.log(y[t > 2018]), atol=0.05)
    with pytest.raises(ParameterValueError, match="naive_points = 2 must be at least 3"):
        backtest(lsi.Series(t, y), "exponential", origins=[2018], naive_points=2)


# ---------------------------------------------------------------- bad input
def test_origin_leaving_fewer_points_than_a_named_model_needs_is_one_clear_line():
    s = exp_series()
    with pytest.raises(SeriesError) as exc:
        backtest(s, ["exponential", "breakpoint"], origins=[2017.2], n_boot=30)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith("origin 2017.200 leaves 6 points: breakpoint has 4 free parameters and needs at least 7")
    assert msg.endswith("choose a later origin or fewer-parameter models")


def test_origin_too_early_for_some_models_skips_them_with_all():
    s = simulate("exponential", {"C0": 1.0, "g": 0.7}, n=24, span=6.0, noise=0.1, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # models that hit bounds on 6 points
        bt = backtest(s, "all", origins=[2021.5], n_boot=30)
    skipped = {d["model"]: d["reason"] for d in bt.skipped}
    assert "breakpoint" in skipped and "needs at least" in skipped["breakpoint"]
    assert "exponential" in set(bt.scores["model"])
    assert "breakpoint" not in set(bt.scores["model"])


def test_bad_origins_are_one_clear_line():
    s = exp_series()
    early = r"origin 2015\.200 leaves 1 points to fit .* at least 3: choose a later origin"
    with pytest.raises(SeriesError, match=early):
        backtest(s, "exponential", origins=[2015.2])
    late = r"origin 2025\.000 leaves no later point to score \(the series ends at 2025\.000\)"
    with pytest.raises(SeriesError, match=late):
        backtest(s, "exponential", origins=[2025.0])
    with pytest.raises(SeriesError, match="leaves no later point to score"):
        backtest(s, "exponential", origins=[2024.0], horizon=0.1)
    with pytest.raises(ParameterValueError, match="must be decimal years or dates"):
        backtest(s, "exponential", origins=["yesterday-ish"])
    with pytest.raises(ParameterValueError, match="level = 1.2"):
        backtest(s, "exponential", origins=[2020], level=1.2)
    with pytest.raises(SeriesError, match="too few to backtest"):
        backtest(lsi.Series([2020.0, 2021.0, 2022.0, 2023.0], [1.0, 2.0, 4.0, 8.0]), "exponential")


# ---------------------------------------------------------------- command line
def run(capsys, *argv):
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_backtest(capsys, tmp_path):
    path = tmp_path / "h.csv"
    s = exp_series()
    path.write_text("t,value\n" + "\n".join(f"{a},{b}" for a, b in zip(s.t, s.y, strict=True)))
    code, out, err = run(
        capsys,
        "backtest",
        str(path),
        "--models",
        "exponential,linear",
        "--origins",
        "2020,2022-01-01",
        "--n-boot",
        "30",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["origins"] == [2020.0, 2022.0] and d["level"] == 0.9
    assert {r["model"] for r in d["summary"]} >= {"exponential", "linear", "naive", "averaged"}
    code, out, err = run(
        capsys, "backtest", str(path), "--models", "exponential", "--origins", "2021", "--n-boot", "30"
    )
    assert code == 0 and "exponential" in out and "coverage" in out
    code, out, err = run(capsys, "backtest", str(path), "--models", "exponential", "--origins", "2030")
    assert code == 2 and err.startswith("lsi: error: origin 2030.000 leaves no later point")
    code, out, err = run(capsys, "backtest", str(path), "--t0", "2015")
    assert code == 2 and "does not take --t0" in err


def test_docstring_examples_run():
    import doctest
    import importlib

    # the module itself, even if the package exports a function of the same name
    module = importlib.import_module("lsi.backtest")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5 and result.failed == 0
