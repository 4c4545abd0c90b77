"""The checked answer (lsi.verdict): every branch of the headline rendered from checked parts,
the confidence never above what a check allows, identification, and the whole answer on
simulated and shipped series."""

from __future__ import annotations

import itertools
import json
import math
import re
import warnings

import numpy as np
import pytest

import lsi
from lsi.cli import main
from lsi.verdict import Headline, answer, headline, identification

PAIR_CANNOT = (
    "cannot tell",
    "hyperbolic",
    "breakpoint",
    "these data cannot tell hyperbolic from breakpoint: with the breakpoint model true, the hyperbolic "
    "model still wins 95% of the time (38 of 40 simulated series)",
    "none:hyperbolic",
    "none:breakpoint",
)
PAIR_TELL = (
    "tell",
    "hyperbolic",
    "exponential",
    "these data tell hyperbolic from exponential: with the exponential model true, the hyperbolic model "
    "wins 8% of the time (3 of 40 simulated series)",
    "none:hyperbolic",
    "none:exponential",
)
PAIR_SAME = PAIR_CANNOT[:4] + ("closure", "closure")


def _clean(text: str) -> None:
    """No sentence built from checked parts carries an empty or undefined part."""
    for bad in ("nan", "None", "inf ", "  ", " ,", "( ", ":  ", "..", "fails first:  by"):
        assert bad not in text, (bad, text)
    assert text.endswith("."), text


#: (parts, expected strength, words the headline must contain)
BRANCHES = [
    (Headline(outcome=None), "no answer", ["No answer", "no model converged"]),
    (Headline(outcome="closure", degenerate="the series is constant"), "no answer", ["No answer: the series is"]),
    (
        Headline(outcome="closure", p_akaike=0.9, p_boot=0.88, horizon=2046, agreement=(7, 7)),
        "favours",
        ["The evidence favours: the loop opens first", "P = 0.90", "0.88 by bootstrap", "all 7"],
    ),
    (
        Headline(outcome="efficiency", p_akaike=0.6, p_boot=0.7, horizon=2046),
        "leans towards",
        ["leans towards: efficiency is lost first", "P = 0.60"],
    ),
    (
        Headline(outcome="amplification", p_akaike=0.4, p_boot=0.45, horizon=2046),
        "cannot tell",
        ["cannot tell which assumption fails first", "self-amplification fails first", "P = 0.40"],
    ),
    (
        Headline(
            outcome="none",
            carrier="hyperbolic",
            p_akaike=0.71,
            p_boot=0.85,
            horizon=2045.9,
            agreement=(5, 7),
            fragile_on="the rows kept and the per-point uncertainties",
            pair=PAIR_CANNOT,
        ),
        "fragile",
        ["Fragile", "only 5 of 7", "turns on the rows kept", "no assumption fails before 2046", "hyperbolic", "95%"],
    ),
    (
        Headline(outcome="none", carrier="hyperbolic", p_akaike=0.8, p_boot=0.9, horizon=2046, pair=PAIR_CANNOT),
        "undetermined",
        ["Undetermined", "95% of the time", "RSI's explosion (hyperbolic)", "one-time jump in the growth rate"],
    ),
    (
        Headline(outcome="closure", p_akaike=0.9, p_boot=0.9, horizon=2046, pair=PAIR_SAME),
        "favours",
        ["favours: the loop opens first", "Note that these data cannot tell hyperbolic from breakpoint"],
    ),
    (
        Headline(outcome="none", carrier="hyperbolic", p_akaike=0.9, p_boot=0.9, horizon=2046, pair=PAIR_TELL),
        "favours",
        ["carried by the hyperbolic model: RSI's explosion"],
    ),
    (
        Headline(
            outcome="efficiency",
            p_akaike=0.95,
            p_boot=0.9,
            horizon=2046,
            unidentified="gompertz: its fitted ceiling K = 0.874 lies below the observed maximum 0.881",
        ),
        "not identified",
        ["Not identified", "ceiling K = 0.874 lies below the observed maximum 0.881", "do not determine"],
    ),
    (
        Headline(outcome="closure", p_akaike=0.9, p_boot=0.9, horizon=2046, short="the series is short (8 points)"),
        "favours",
        ["Caution: the series is short (8 points)"],
    ),
]


@pytest.mark.parametrize(("parts", "strength", "words"), BRANCHES)
def test_every_branch_of_the_headline_is_built_from_checked_parts(parts, strength, words):
    assert parts.strength == strength
    text = headline(parts)
    _clean(text)
    for w in words:
        assert w in text, (w, text)


def test_the_branches_cover_every_strength():
    assert {b[1] for b in BRANCHES} == {
        "no answer",
        "not identified",
        "fragile",
        "undetermined",
        "favours",
        "leans towards",
        "cannot tell",
    }


@pytest.mark.parametrize(
    ("pa", "pb", "agree"), list(itertools.product([0.3, 0.55, 0.8, 0.97], [None, 0.5, 0.9], [None, (3, 7), (6, 7)]))
)
def test_the_headline_is_never_more_confident_than_any_check(pa, pb, agree):
    h = Headline(outcome="closure", p_akaike=pa, p_boot=pb, horizon=2046, agreement=agree)
    shares = [pa] + ([pb] if pb is not None else []) + ([agree[0] / agree[1]] if agree else [])
    assert h.confidence == pytest.approx(min(shares))
    text = headline(h)
    _clean(text)
    if agree is not None and agree[0] / agree[1] < 0.8:
        assert h.strength == "fragile" and text.startswith("Fragile")
    elif min(shares) >= 0.75:
        assert h.strength == "favours"
    elif min(shares) >= 0.5:
        assert h.strength == "leans towards"
    else:
        assert h.strength == "cannot tell" and "favours" not in text and "leans" not in text
    # every probability quoted is one of the checks' own numbers
    quoted = [float(x) for x in re.findall(r"P = ([0-9.]+)", text)]
    assert quoted == [round(pa, 2)]


def test_a_ceiling_below_the_data_is_not_identified():
    t = np.arange(2000.0, 2016.0)
    y = 10 / (1 + np.exp(-0.8 * (t - 2008)))
    s = lsi.Series(t, y * np.exp(np.random.default_rng(0).normal(0, 0.02, t.size)))
    fixed = {"logistic": {"K": {"value": 8.0, "vary": False}}}
    ident = identification(lsi.fit(s, ["logistic", "richards"], params=fixed, warn=False))
    assert ident["logistic"].startswith("not identified: its fitted ceiling K = 8 lies below the observed maximum")
    # a ceiling just under a noisy maximum is what noise does, not a contradiction ...
    free = lsi.fit(s, ["logistic"], warn=False)
    assert free["logistic"].theta[2] < s.y.max()
    assert identification(free)["logistic"] == "identified"
    # ... but on a series of records (never falling) any ceiling below the last record is one
    rec = lsi.Series(t, np.maximum.accumulate(s.y))
    near = {"logistic": {"K": {"value": float(rec.y.max()) * 0.999, "vary": False}}}
    assert identification(lsi.fit(rec, ["logistic"], params=near, warn=False))["logistic"].startswith(
        "not identified: its fitted ceiling"
    )


def test_a_constant_series_gets_one_clear_answer():
    s = lsi.Series(np.arange(2000.0, 2012.0), np.full(12, 5.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = lsi.fit(s, ["linear", "exponential"], warn=False)
        ans = answer(fits, n_boot=10)
    assert ans.strength == "no answer"
    assert ans.headline.startswith("No answer: the series is constant (12 points all equal to 5)")
    assert set(ans.skipped) == {"robustness", "distinguishability", "autocorrelation", "calibration"}
    assert ans.report.verdict.startswith("No answer")
    json.loads(ans.to_json())


def test_the_answer_on_simulated_exponential_growth_is_checked_and_consistent():
    t = np.linspace(2000, 2020, 25)
    y = np.exp(0.35 * (t - 2000) + np.random.default_rng(4).normal(0, 0.08, t.size))
    fits = lsi.fit(lsi.Series(t, y, name="sim"), ["exponential", "hyperbolic", "logistic"], noise="log", warn=False)
    ans = answer(fits, n_boot=60, n_sim=12, seed=1)
    d = json.loads(ans.to_json())
    assert d["headline"] == ans.headline and d["verdict"].startswith(ans.headline)
    assert set(d["checks"]) == {"robustness", "distinguishability", "autocorrelation", "calibration"}
    assert 0 <= d["confidence"] <= 1
    rows = d["robustness"]["specifications"]
    share = sum(r["agrees_verdict"] for r in rows) / len(rows)
    assert d["confidence"] <= share + 1e-12
    assert d["confidence"] <= d["probabilities"][max(d["probabilities"], key=d["probabilities"].get)] + 1e-12
    assert d["autocorrelation"]["models"]["exponential"]["method"] == "ar1"
    assert d["calibration"]["level"] == 0.9
    text = ans.summary()
    for title in ("Robustness across data choices", "Can these data tell", "Autocorrelated residuals", "Calibration"):
        assert title in text


def test_report_on_metr_follows_its_checks(capsys):
    """The default report on METR: the frontier (METR's own convention, said on stderr), every
    check in the JSON, and a headline no more certain than the specification curve."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["report", "metr_horizons", "--json", "--bootstrap", "100"])
    captured = capsys.readouterr()
    assert code == 0
    assert "frontier" in captured.err and "--all-rows" in captured.err
    d = json.loads(captured.out)
    assert d["robustness"]["n_specifications"] >= 5
    assert d["robustness"]["specifications"][0]["n_points"] == 14
    for key in ("distinguishability", "autocorrelation", "calibration"):
        assert d[key] is not None
    share = d["robustness"]["agreement"]["verdict"]
    if share < 0.8:
        assert d["strength"] == "fragile" and d["headline"].startswith("Fragile")
    assert d["confidence"] <= share + 1e-12
    pair = d["distinguishability"]["leading_pair"]
    if pair["status"] == "cannot tell":
        assert pair["a"] in d["headline"] and pair["b"] in d["headline"]
    assert math.isfinite(d["calibration"]["default"]["coverage"])
    assert "P = 0.97" not in d["headline"]


def test_the_answer_and_the_report_show_in_a_notebook_escaped():
    t = np.linspace(2000, 2020, 20)
    y = np.exp(0.3 * (t - 2000) + np.random.default_rng(2).normal(0, 0.1, t.size))
    fits = lsi.fit(lsi.Series(t, y, name="<script>x</script>"), ["exponential", "linear"], noise="log", warn=False)
    ans = answer(fits, n_boot=0, checks=("autocorrelation",))
    html = ans._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert ans.headline.split(":")[0] in html and "autocorrelation" in html
    assert "&lt;script&gt;" in ans.report._repr_html_()
    assert repr(ans.report).startswith("<AssumptionReport for '<script>x</script>'") and "\n" not in repr(ans.report)
    with pytest.raises(AttributeError):
        ans.report.verdict = "changed"  # results are frozen


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"horizon": math.nan}, "horizon"),
        ({"horizon": 1990.0}, "after the last observation"),
        ({"horizon": "2040"}, "horizon"),
        ({"n_boot": -1}, "n_boot"),
        ({"n_boot": 2.5}, "n_boot"),
        ({"thresholds": {"kappa": 0.5}}, "unknown thresholds"),
        ({"thresholds": {"kappa_min": "half"}}, "threshold kappa_min"),
        ({"thresholds": 0.5}, "thresholds"),
        ({"checks": ["robustnes"]}, "unknown checks"),
        ({"seed": "x"}, "seed"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_wrong_arguments_get_one_line(kw, match):
    t = np.linspace(2000, 2010, 12)
    fits = lsi.fit(lsi.Series(t, np.exp(0.3 * (t - 2000))), ["exponential"], noise="log", warn=False)
    with pytest.raises(lsi.exceptions.ParameterValueError, match=match):
        answer(fits, **kw)
    if "checks" not in kw:  # the unchecked report refuses the same
        with pytest.raises(lsi.exceptions.ParameterValueError, match=match):
            lsi.assumptions(fits, **{"n_boot": 0, **kw})


def test_under_logit_noise_a_singularity_is_a_saturating_score_not_an_explosion():
    h = Headline(outcome="none", carrier="hyperbolic", p_akaike=0.9, p_boot=0.9, horizon=2046, noise="logit")
    text = headline(h)
    _clean(text)
    assert "the score reaching 1" in text and "explosion" not in text
    undetermined = Headline(
        outcome="none", carrier="hyperbolic", p_akaike=0.9, p_boot=0.9, horizon=2046, pair=PAIR_CANNOT, noise="logit"
    )
    assert "a score saturating at 1 (hyperbolic odds)" in headline(undetermined)


def test_a_logit_report_never_calls_a_saturating_score_an_explosion():
    t = np.linspace(2018, 2025, 12)
    odds = 0.15 / (1 - (t - 2018) / 8.5)  # hyperbolic odds: the score reaches 1 in 2026.5
    acc = odds / (1 + odds) * np.exp(np.random.default_rng(0).normal(0, 0.02, t.size))
    fits = lsi.fit(lsi.Series(t, acc), ["exponential", "hyperbolic"], noise="logit", warn=False)
    assert fits["hyperbolic"].weight > 0.9
    ans = answer(fits, n_boot=0, checks=())
    for text in (ans.report.verdict, ans.headline):
        assert "the score reaching 1" in text and "explosion" not in text


def test_scores_in_zero_one_get_a_hint_towards_the_logit_link():
    t = np.arange(2018.0, 2026.0)
    y = np.array([0.3, 0.45, 0.6, 0.7, 0.78, 0.84, 0.87, 0.88])
    with pytest.warns(lsi.exceptions.SeriesWarning, match="noise='logit'"):
        lsi.fit(lsi.Series(t, y), ["exponential"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lsi.fit(lsi.Series(t, y), ["exponential"], noise="log")  # chosen: no hint
        lsi.fit(lsi.Series(t, 10 * y), ["exponential"])  # not a score: no hint


def test_the_report_and_the_figures_show_the_same_bootstrap_for_one_seed():
    """lsi report (the pooled bootstrap of lsi.answer) and lsi figures (lsi.assumptions, as
    paper_figures.save_all makes it) draw the same replicates for a seed and refit them alike."""
    fits = lsi.fit(lsi.datasets.load("metr_horizons", sota_only=True), ["exponential", "hyperbolic", "breakpoint"])
    pooled = answer(fits, n_boot=60, seed=3, checks=()).report
    alone = lsi.assumptions(fits, n_boot=60, seed=3)
    assert pooled.n_boot == alone.n_boot == 60
    assert np.array_equal(pooled.bootstrap.indices, alone.bootstrap.indices)
    assert pooled.bootstrap_probabilities == pytest.approx(alone.bootstrap_probabilities, abs=1 / 60 + 1e-12)
    assert pooled.selection == pytest.approx(alone.selection, abs=1 / 60 + 1e-12)


def test_every_seed_argument_is_checked_alike():
    from lsi import bootstrap, calibration, dependence, distinguishability, sweeps

    t = np.linspace(2000, 2015, 16)
    fits = lsi.fit(lsi.Series(t, np.exp(0.3 * (t - 2000))), ["exponential"], noise="log", warn=False)
    calls = [
        lambda s: bootstrap.bootstrap(fits, 5, seed=s),
        lambda s: calibration.calibrate(fits, seed=s),
        lambda s: dependence.intervals(fits, seed=s),
        lambda s: distinguishability.confusion(fits, n=2, seed=s),
        lambda s: sweeps.sample({"p": (0.5, 1.0)}, 4, seed=s),
        lambda s: fits.forecast(2020, n=20, seed=s),
    ]
    for call in calls:
        for bad in ("x", -1, 2.5, True):
            with pytest.raises(lsi.exceptions.ParameterValueError, match="seed"):
                call(bad)
