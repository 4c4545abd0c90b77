"""lsi.robustness: the specification curve.

Simulated series with a known truth: one whose answer every defensible choice keeps (robust),
and one built so that a later start overturns it (fragile, and the sentence names the start).
The shipped METR table: its default is the frontier METR fits its trend to. Cook's distance
against the textbook formula of a linear regression; every branch of the headline; strict
JSON; reproducibility; the figure.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import lsi  # noqa: E402
from lsi import datasets, figures, robustness  # noqa: E402
from lsi.exceptions import ParameterValueError, SeriesError  # noqa: E402
from lsi.robustness import SpecRow, _headline  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------- simulated series
def _breakpoint_series(seed: int, *, uncertainties: bool, n: int = 30, noise: float = 0.08) -> lsi.Series:
    """A clear break in the growth rate (0.3/yr, then 1.5/yr from 2021.5): every defensible
    choice should find it."""
    rng = np.random.default_rng(seed)
    t = np.linspace(2015.0, 2025.0, n)
    tb = 2021.5
    z = np.where(t < tb, 0.3 * (t - 2015.0), 0.3 * (tb - 2015.0) + 1.5 * (t - tb))
    y = np.exp(z + rng.normal(0.0, noise, n))
    kw = {}
    if uncertainties:
        kw = {"lower": y * math.exp(-1.96 * noise), "upper": y * math.exp(1.96 * noise), "ci_level": 0.95}
    return lsi.Series(t, y, labels=[f"system{i}" for i in range(n)], name="sim-breakpoint", **kw)


def _early_regime_series(seed: int, n: int = 30) -> lsi.Series:
    """Eight flat points in the first 6 % of the span, then steady growth at 0.8/yr: with the
    early points the series bends, without them (a later start) it is plain growth."""
    rng = np.random.default_rng(seed)
    t = np.concatenate([np.linspace(2015.0, 2015.6, 8), np.linspace(2016.0, 2025.0, n - 8)])
    z = np.where(t < 2015.8, 0.0, 0.8 * (t - 2015.8))
    return lsi.Series(t, np.exp(z + rng.normal(0.0, 0.04, n)), name="sim-early-regime")


@pytest.fixture(scope="module")
def metr():
    return robustness.curve("metr_horizons")


# ----------------------------------------------------------------- robust and fragile
@pytest.mark.parametrize(
    ("seed", "uncertainties"), [(0, True), (1, True), (0, False), (1, False), (2, False), (3, False), (4, False)]
)
def test_every_choice_agrees_on_a_clear_truth(seed, uncertainties):
    sc = robustness.curve(_breakpoint_series(seed, uncertainties=uncertainties))
    names = [r.name for r in sc.rows]
    want = ["default", "frontier"] + (["no_uncertainties"] if uncertainties else []) + ["start_10", "start_25"]
    assert names[: len(want)] == want
    assert names[-1] == "leave_out"
    assert all(r.leading_model == "breakpoint" for r in sc.rows), [(r.name, r.leading_model) for r in sc.rows]
    assert all(r.verdict_class == "none:breakpoint" for r in sc.rows)
    assert sc.status == "robust"
    assert sc.model_agreement == sc.verdict_agreement == 1.0
    assert sc.turns_on == {"leading_model": (), "verdict": ()}
    assert sc.headline.startswith(f"Robust: breakpoint leads in all {len(sc.rows)} specifications")
    assert "exogenous jump" in sc.headline


@pytest.mark.parametrize("seed", range(4))
def test_a_later_start_that_overturns_the_answer_is_named(seed):
    sc = robustness.curve(_early_regime_series(seed))
    d = sc.default
    starts = [r for r in sc.rows if r.changed == ("start",)]
    assert [r.name for r in starts] == ["start_10", "start_25"]
    # the flip: the later starts lose the default's leading model, and the other choices keep it
    assert all(r.leading_model != d.leading_model for r in starts)
    assert all(r.agrees_model for r in sc.rows if r.changed != ("start",))
    assert sc.status == "fragile"
    assert sc.model_agreement < 0.8
    assert sc.turns_on["leading_model"] == ("start",)
    assert sc.headline.startswith(f"Fragile: the leading model is {d.leading_model} in ")
    assert "it turns on the start date (" in sc.headline
    for other in ("rows kept", "per-point uncertainties", "release", "influential point"):
        assert other not in sc.headline
    assert set(sc.disagreeing["leading_model"]) == {"start_10", "start_25"}
    # a series with no labels and one value per date gets no record-setting alternative, and says why
    assert "frontier" not in [r.name for r in sc.rows]
    assert any("no record-setting alternative" in note for note in sc.notes)


# ----------------------------------------------------------------- the METR table
def test_metr_default_is_the_frontier_metr_fits():
    specs = robustness.specifications("metr_horizons", choices=["rows", "uncertainties", "release", "start"])
    by = {s.name: s for s in specs}
    assert list(by) == ["default", "all_rows", "no_uncertainties", "release_metr_horizons_v1_0", "start_10", "start_25"]
    d = by["default"]
    frontier = datasets.load("metr_horizons", sota_only=True)
    table = datasets.table("metr_horizons")
    assert d.default and len(d.series) == 14
    assert np.array_equal(d.series.y, frontier.y)
    assert set(d.series.labels) == set(table.loc[table["is_sota"], "model_id"])
    assert d.how.startswith("The default follows the source's own convention")
    assert datasets.info("metr_horizons")["trend_convention"]["description"] in d.how
    assert len(by["all_rows"].series) == 17 and by["all_rows"].changed == ("rows",)
    assert by["no_uncertainties"].series.lower is None and len(by["no_uncertainties"].series) == 14
    assert len(by["release_metr_horizons_v1_0"].series) == len(datasets.load("metr_horizons_v1_0", sota_only=True))
    assert by["start_10"].series.t[0] > d.series.t[0]
    assert [s.changed for s in specs] == [(), ("rows",), ("uncertainties",), ("release",), ("start",), ("start",)]


def test_metr_curve_turns_on_the_rows_and_the_uncertainties(metr):
    assert metr.default.n_points == 14
    by = {r.name: r for r in metr.rows}
    # the flips the issue measured: all 17 rows and the frontier without intervals favour the breakpoint
    assert by["all_rows"].leading_model == "breakpoint"
    assert by["no_uncertainties"].leading_model == "breakpoint"
    assert metr.status == "fragile"
    assert {"rows", "uncertainties"} <= set(metr.turns_on["leading_model"])
    assert "the rows kept (all 17 rows: breakpoint" in metr.headline
    assert metr.influence is not None and metr.influence["model"] == metr.default.leading_model
    assert by["leave_out"].label == f"without {metr.influence['label']}"
    assert len({tuple(r.choices.items()) for r in metr.rows}) == len(metr.rows)


def test_a_series_loaded_from_a_dataset_keeps_its_rows_as_default():
    s = datasets.load("metr_horizons")  # all 17 rows, not METR's convention
    specs = robustness.specifications(s, choices=["rows", "release"])
    assert [x.name for x in specs] == ["default", "source_rows", "release_metr_horizons_v1_0"]
    assert len(specs[0].series) == 17 and len(specs[1].series) == 14
    assert "not the source's own convention" in specs[0].how
    assert len(specs[2].series) == len(datasets.load("metr_horizons_v1_0"))
    # a subset is the user's own series: no release of the table matches it
    part = robustness.specifications(s.until(2025.0), choices=["rows", "release"])
    assert [x.name for x in part] == ["default", "frontier"]
    assert "not a shipped dataset" in part[0].how


def test_a_single_quantity_over_time_gets_the_frontier_only_when_asked():
    t = np.arange(1990.0, 2020.0)
    y = np.exp(0.05 * (t - 1990)) * (1 + 0.1 * np.sin(t))
    s = lsi.Series(t, y, name="yearly")
    assert "frontier" not in [x.name for x in robustness.specifications(s)]
    asked = robustness.specifications(s, choices=["rows", "start"])
    assert [x.name for x in asked] == ["default", "frontier", "start_10", "start_25"]
    assert len(asked[1].series) == len(s.frontier()) < len(s)


# ----------------------------------------------------------------- influence
def test_cooks_distance_is_the_textbook_one_for_a_regression():
    rng = np.random.default_rng(3)
    t = np.linspace(2000.0, 2012.0, 15)
    z = 0.3 + 0.4 * (t - 2000.0) + rng.normal(0, 0.1, t.size)
    z[4] += 0.6
    # estimated noise scale: the exponential model is a straight line in ln y
    fits = lsi.fit(lsi.Series(t, np.exp(z)), models="exponential", noise="log")
    X = np.column_stack([np.ones_like(t), t - 2000.0])
    H = X @ np.linalg.solve(X.T @ X, X.T)
    e = z - H @ z
    h = np.diag(H)
    s2 = e @ e / (t.size - 2)
    want = e**2 * h / (2 * s2 * (1 - h) ** 2)
    assert np.allclose(robustness.cooks_distance(fits["exponential"]), want, rtol=1e-6)
    # known per-point uncertainties: weighted regression, unit scale
    sig = np.linspace(0.05, 0.2, t.size)
    s = lsi.Series(t, np.exp(z), lower=np.exp(z - 1.96 * sig), upper=np.exp(z + 1.96 * sig))
    fits = lsi.fit(s, models="exponential", noise="log", extra_scatter=False)
    sig_z = fits.noise.point_sigma(s)
    Xw = X / sig_z[:, None]
    Hw = Xw @ np.linalg.solve(Xw.T @ Xw, Xw.T)
    ew = (z - X @ np.linalg.lstsq(Xw, z / sig_z, rcond=None)[0]) / sig_z
    hw = np.diag(Hw)
    want = ew**2 * hw / (2 * (1 - hw) ** 2)
    assert np.allclose(robustness.cooks_distance(fits["exponential"]), want, rtol=1e-6)


def test_the_same_points_are_counted_once():
    # an isolated first point, far from the rest: the most influential, and the only one a
    # later start drops, so three alternatives give one series
    t = np.concatenate([[2000.0], np.linspace(2010.0, 2020.0, 20)])
    rng = np.random.default_rng(0)
    y = np.exp(0.5 * (t - 2000.0) + rng.normal(0, 0.05, t.size))
    y[0] *= 3.0
    sc = robustness.curve(lsi.Series(t, y, name="isolated"), models=["exponential", "hyperbolic"])
    names = [r.name for r in sc.rows]
    assert names == ["default", "start_10"]
    assert sum("counted once" in note for note in sc.notes) == 2


# ----------------------------------------------------------------- the headline
def _row(name, changed, model, vclass, weight=0.7):
    return SpecRow(
        name=name,
        label=f"label of {name}",
        how="",
        choices={},
        changed=changed,
        n_points=10,
        t_start=2000.0,
        t_end=2010.0,
        leading_model=model,
        leading_weight=weight,
        weights={},
        probabilities={},
        verdict_class=vclass,
        verdict_label=robustness.verdict_label(vclass),
        verdict_probability=0.9,
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.sampled_from(robustness.CHOICES)), min_size=1, max_size=9))
def test_the_headline_states_no_more_agreement_than_there_is(flags):
    rows = [_row("default", (), "hyperbolic", "none:hyperbolic")]
    for i, (same_model, same_verdict, choice) in enumerate(flags):
        r = _row(
            f"s{i}",
            (choice,),
            "hyperbolic" if same_model else "breakpoint",
            "none:hyperbolic" if same_verdict else "none:breakpoint",
        )
        rows.append(replace(r, agrees_model=same_model, agrees_verdict=same_verdict))
    n = len(rows)
    km = 1 + sum(f[0] for f in flags)
    kv = 1 + sum(f[1] for f in flags)
    status, sentence, turns = _headline(rows, 0.8)
    want = "robust" if km == kv == n else "mostly robust" if min(km, kv) / n >= 0.8 else "fragile"
    assert status == want
    assert sentence.startswith(want.capitalize() + ": ")
    assert (f"in all {n} specifications" in sentence) == (km == n)
    assert (f"holds in all {n}" in sentence) == (kv == n)
    if km < n:
        assert f"hyperbolic in {km} of {n} specifications" in sentence
    if kv < n:
        assert f"holds in {kv} of {n}" in sentence
    off = {f[2] for f in flags if not (f[0] and f[1])}
    for c in robustness.CHOICES:
        assert (robustness.CHOICE_PHRASES[c] + " (" in sentence) == (c in off)
    assert set(turns["leading_model"]) == {f[2] for f in flags if not f[0]}
    assert sentence.endswith(".")


def test_every_branch_of_the_headline_reads():
    d = _row("default", (), "logistic", "efficiency")
    status, sentence, _ = _headline([d], 0.8)
    assert status == "untested"
    assert sentence.startswith("Not tested for robustness: no defensible alternative applies")
    one_off = _row("a", ("release",), "gompertz", "efficiency")
    one_off = replace(one_off, agrees_model=False)
    rows = [d] + [_row(f"s{i}", ("start",), "logistic", "efficiency") for i in range(5)] + [one_off]
    status, sentence, _ = _headline(rows, 0.8)
    assert status == "mostly robust"
    assert sentence == (
        'Mostly robust: the leading model is logistic in 6 of 7 specifications and the verdict "efficiency is '
        'lost first" holds in all 7; the exception turns on the release of the table (label of a: gompertz 0.70).'
    )
    none = _row("default", (), None, None, weight=math.nan)
    status, sentence, _ = _headline([none, d], 0.8)
    assert status == "untested" and sentence.startswith("No model converged on the default specification")
    assert robustness.verdict_label("closure") == "the loop opens first"
    assert robustness.verdict_label("none:breakpoint", 2046.0) == "none fails before 2046: exogenous jump (breakpoint)"
    assert robustness.verdict_label("none:gompertz") == "none fails: gompertz (gompertz)"
    assert robustness.verdict_short("amplification") == "amplification fails"


# ----------------------------------------------------------------- JSON, reuse, errors
def test_strict_json_and_reproducible(metr):
    again = robustness.curve("metr_horizons")
    assert again.to_dict() == metr.to_dict()
    text = metr.to_json()
    back = json.loads(text)
    assert back["headline"] == metr.headline
    assert back["agreement"]["leading_model"] == metr.model_agreement
    assert back["agreement"]["leading_model_count"] == sum(r.agrees_model for r in metr.rows)
    assert [s["name"] for s in back["specifications"]] == [r.name for r in metr.rows]
    assert back["specifications"][0]["default"] is True
    assert set(back) >= {"convention", "turns_on", "disagreeing", "influence", "status", "notes", "design"}
    # non-finite numbers become null
    none = _row("x", (), None, None, weight=math.nan)
    json.dumps(none.to_dict(), allow_nan=False)
    assert none.to_dict()["leading_weight"] is None


def test_the_default_fits_are_reused_and_checked():
    s = _breakpoint_series(0, uncertainties=False)
    fits = lsi.fit(s, warn=False)
    sc = robustness.curve(s, fits=fits)
    assert dict(sc.default.weights) == fits.weights
    assert robustness.curve(fits).to_dict() == sc.to_dict()
    with pytest.raises(ParameterValueError, match="not the default series"):
        robustness.curve(s, fits=lsi.fit(s.until(2024.0), warn=False))
    with pytest.raises(ParameterValueError, match="the fits use log noise"):
        robustness.curve(s, fits=fits, noise="additive")


def test_errors_say_what_to_give():
    s = _breakpoint_series(0, uncertainties=False)
    with pytest.raises(ParameterValueError, match="unknown choice 'dates'"):
        robustness.specifications(s, choices=["dates"])
    with pytest.raises(ParameterValueError, match="source must be a shipped dataset name"):
        robustness.curve([1, 2, 3])
    with pytest.raises(SeriesError, match="not a shipped dataset"):
        robustness.curve("no_such_table")
    with pytest.raises(ParameterValueError, match="robust_share"):
        robustness.curve(s, robust_share=1.5)
    with pytest.raises(ParameterValueError, match="start fraction"):
        robustness.specifications(s, starts=[0.5, 1.2], choices=["start"])


# ----------------------------------------------------------------- the figure
def _axes(fig):
    """Every axes of a figure, with the axes inset into them (ax= draws into insets)."""
    return [a for ax in fig.axes for a in (ax, *ax.child_axes)]


def _gids(fig, prefix):
    return [a.get_gid() for ax in _axes(fig) for a in ax.get_children() if str(a.get_gid() or "").startswith(prefix)]


def test_figure_one_column_per_specification(metr):
    fig = figures.robustness(metr)
    n = len(metr.rows)
    assert len(_gids(fig, "leading:")) == n
    assert len(_gids(fig, "verdict:")) == n
    choices = len(metr.default.choices)
    assert len(_gids(fig, "on:")) == n * choices  # every specification takes one option of each choice
    assert len(_gids(fig, "disagree:")) == 2 * sum(not (r.agrees_model and r.agrees_verdict) for r in metr.rows)
    assert len(_gids(fig, "default-model:")) == sum(not r.agrees_model for r in metr.rows)
    assert fig.axes[0].get_ylim() == (0.0, 1.05)
    assert fig.axes[0].get_title(loc="left").startswith("fragile: hyperbolic leads in 5 of 7")
    # nothing drawn outside the figure
    fig.canvas.draw()
    box = fig.bbox
    for ax in fig.axes:
        for text in [*ax.texts, *ax.get_yticklabels(), ax.title]:
            if text.get_text():
                e = text.get_window_extent()
                assert e.x0 >= box.x0 - 1 and e.x1 <= box.x1 + 1 and e.y0 >= box.y0 - 1 and e.y1 <= box.y1 + 1


def test_figure_draws_into_given_axes_and_narrow_widths(metr):
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
    assert figures.robustness(metr, ax=b) is fig
    assert len(_gids(fig, "leading:")) == len(metr.rows)
    narrow = figures.robustness(metr, width="single")
    assert {t.get_rotation() for t in narrow.axes[1].texts} == {90.0}
    with pytest.raises(ParameterValueError, match="SpecCurve"):
        figures.robustness(lsi.fit(_breakpoint_series(0, uncertainties=False), warn=False))
