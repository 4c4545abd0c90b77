"""lsi.figures: structural checks of the artists, layout checks, and text-free image baselines.

Every figure is checked for what a reader relies on: the right number of curves and bands,
axis scales, labels and legend entries, unbounded intervals drawn as open-ended arrows or
hatched bands (never clipped), nothing outside the figure and no legend over the data.
Run with ``LSI_GENERATE_BASELINES=1`` to rewrite the baseline images in tests/baseline/.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.collections import PathCollection, PolyCollection, QuadMesh  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

import lsi  # noqa: E402
from lsi import figures, paper_figures  # noqa: E402
from lsi.exceptions import ParameterValueError, UnknownModelError  # noqa: E402
from lsi.figures.axes import xvals  # noqa: E402
from lsi.figures.marks import band_fill, interval_arrays  # noqa: E402
from lsi.intervals import Interval  # noqa: E402

BASELINE = Path(__file__).parent / "baseline"
LEGEND = ["closure", "amplification", "efficiency", "none"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------- synthetic inputs
def _series(n=24, seed=0, sigma=False):
    rng = np.random.default_rng(seed)
    t = np.linspace(2019.0, 2025.0, n)
    y = 0.05 * np.exp(1.1 * (t - 2019.0) + 0.08 * (t - 2019.0) ** 2) * np.exp(rng.normal(0, 0.15, n))
    kw = {}
    if sigma:
        kw = {"lower": y / 1.6, "upper": y * 1.6, "ci_level": 0.95}
    return lsi.Series(t, y, name="synthetic", units="minutes", **kw)


@pytest.fixture(scope="module")
def fits():
    return lsi.fit(
        _series(sigma=True),
        ["linear", "exponential", "hyperbolic", "logistic"],
        noise="log",
        warn=False,
    )


def _forecast_ds(models=("exponential", "hyperbolic", "averaged", "bootstrap_mixture"), inf_after=None):
    t = np.linspace(2019.0, 2030.0, 56)
    q = np.array([0.05, 0.5, 0.95])
    base = 0.05 * np.exp(1.2 * (t - 2019.0))
    curve = np.stack([base / 1.5, base, base * 1.5], axis=-1)
    pred = np.stack([base / 3, base, base * 3], axis=-1)
    curve = np.repeat(curve[None], len(models), axis=0)
    pred = np.repeat(pred[None], len(models), axis=0)
    if inf_after is not None:
        k = list(models).index("averaged")
        pred[k, t > inf_after, 2] = np.inf
        curve[k, t > inf_after, 2] = np.inf
    return xr.Dataset(
        {
            "prediction": (("model", "time", "quantile"), pred),
            "curve": (("model", "time", "quantile"), curve),
        },
        coords={"model": list(models), "time": t, "quantile": q},
        attrs={"level": 0.9, "noise": "log", "units": "minutes", "series": "synthetic"},
    )


def _sweep_ds(extra_dim=False):
    p = np.linspace(0.5, 1.0, 11)
    beta = np.linspace(0.0, 1.0, 6)
    P, B = np.meshgrid(p, beta, indexing="ij")
    code = np.where(B > 0.5, 1, np.where(P < 0.9, 0, 3)).astype(np.int8)
    code[0, 0] = -1  # a failed cell
    ts = np.where((P == 1.0) & (B < 0.5), 2030.0, np.nan)
    data = {
        "first_failure": (("p", "beta"), code),
        "t_singularity": (("p", "beta"), ts),
        "t_closure": (("p", "beta"), np.where(code == 0, 2025.0, np.nan)),
    }
    ds = xr.Dataset(data, coords={"p": p, "beta": beta}, attrs={"first_failure_legend": LEGEND})
    if extra_dim:
        ds = xr.concat([ds, ds], dim=xr.DataArray([0.5, 1.0], dims="lam", name="lam"))
    return ds


def _trajectory(with_singularity=False):
    t = np.linspace(2020.0, 2040.0, 201)
    s = t - 2020.0
    kappa = 0.9 / (1 + np.exp(0.8 * (s - 5)))  # 0.5 at s = 5 + ln(0.8)/0.8 ... computed below
    rho = 0.4 - 0.05 * s  # 0 at s = 8
    eta = np.exp(-0.05 * s)  # 0.5 at s = ln2/0.05
    t_k = 2020.0 + 5 + math.log(0.9 / 0.5 - 1) / 0.8
    attrs = {
        "kappa_min": 0.5,
        "rho_min": 0.0,
        "eta_min": 0.5,
        "t_closure": t_k,
        "t_amplification": 2028.0,
        "t_efficiency": 2020.0 + math.log(2) / 0.05,
        "t_singularity": 2035.0 if with_singularity else math.nan,
        "first_failure": "closure",
    }
    return xr.Dataset(
        {
            "lnC": ("time", 0.4 * s),
            "kappa": ("time", kappa),
            "rho": ("time", rho),
            "eta": ("time", eta),
        },
        coords={"time": t},
        attrs=attrs,
    )


# ----------------------------------------------------------------- generic checks
def _gids(fig, prefix):
    """Artists whose gid starts with ``prefix`` (or equals it, when it ends with no separator)."""

    def match(a):
        g = a.get_gid() or ""
        return g.startswith(prefix) if prefix.endswith(":") else (g == prefix or g.startswith(prefix + ":"))

    return list(fig.findobj(match))


def _labels(fig):
    """The figure legend's entries, with wrapped lines joined."""
    return [" ".join(t.get_text().split()) for t in fig.legends[0].get_texts()]


def _assert_readable(fig):
    """Nothing clipped (all that is drawn lies inside the figure); no figure legend over an axes."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tb = fig.get_tightbbox(renderer)  # inches
    w, h = fig.get_size_inches()
    assert tb.x0 >= -0.01 and tb.y0 >= -0.01 and tb.x1 <= w + 0.01 and tb.y1 <= h + 0.01, (
        f"something is drawn outside the figure: {tb} vs {w:.2f} x {h:.2f} in"
    )
    for leg in fig.legends:
        lb = leg.get_window_extent(renderer)
        for ax in fig.axes:
            assert not lb.overlaps(ax.get_window_extent(renderer)), "a legend covers an axes"


def test_import_changes_no_global_matplotlib_state():
    code = (
        "import matplotlib as mpl; before = dict(mpl.rcParams); import lsi.figures, lsi.figures.style; "
        "after = dict(mpl.rcParams); import sys; sys.exit(0 if before == after else 1)"
    )
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ, "MPLBACKEND": "Agg"}).returncode == 0


def test_drawing_leaves_rcparams_as_they_were(fits):
    before = dict(matplotlib.rcParams)
    figures.fit(fits)
    figures.amdahl_speedup()
    assert dict(matplotlib.rcParams) == before


# ----------------------------------------------------------------- fit
def test_fit_draws_data_intervals_curves_and_residuals(fits):
    fig = figures.fit(fits)
    ax, axr = fig.axes
    assert ax.get_yscale() == "log"  # the data span more than two orders of magnitude
    assert len(_gids(fig, "curve:")) == len(fits)
    assert len(_gids(fig, "residual:")) == len(fits)
    (data,) = _gids(fig, "data")
    assert len(data.get_xdata()) == len(fits.series)
    (bars,) = [a for a in _gids(fig, "data-interval")]
    segs = bars.get_segments()
    assert len(segs) == len(fits.series)
    assert np.allclose([s[0][1] for s in segs], fits.series.lower)
    assert np.allclose([s[1][1] for s in segs], fits.series.upper)
    assert isinstance(axr.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert axr.get_ylabel().startswith("residual") and "ln" in axr.get_ylabel()
    labels = _labels(fig)
    assert labels[0] == "data (95% interval)"
    best = min(fits.values(), key=lambda r: r.aicc)
    assert labels[1].startswith(best.model.title)
    # the best model is drawn on top of the others
    z = {a.get_gid(): a.get_zorder() for a in _gids(fig, "curve:")}
    assert z[f"curve:{best.name}"] == max(z.values())
    # curves are the models' predictions
    line = _gids(fig, f"curve:{best.name}")[0]
    xd = np.asarray(line.get_xdata())
    t = _dates(xd[[0, -1]])
    assert np.allclose(line.get_ydata()[[0, -1]], best.predict(t), rtol=1e-4)
    _assert_readable(fig)


def _cielab(colour):
    """CIE L*a*b* (D65) of an sRGB colour."""
    c = np.array(matplotlib.colors.to_rgb(colour))
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ c / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_no_two_models_share_a_colour_or_a_look():
    """Issue 13: in the fit figure two pairs of models shared a colour."""
    from lsi.figures import style
    from lsi.models import ALL_MODELS

    names = [m for m in ALL_MODELS if m in style.MODEL_STYLE] + ["averaged", "bootstrap_mixture"]
    assert len(names) >= 11
    lab = {m: _cielab(style.model_style(m)["color"]) for m in names if m != "loop"}
    for i, a in enumerate(lab):
        for b in list(lab)[i + 1 :]:
            # distinct colours, not shades of one: CIE76 colour difference well above the ~2.3 a
            # reader can just tell apart
            assert np.linalg.norm(lab[a] - lab[b]) > 20, (a, b)
    looks = {(style.model_style(m)["color"], str(style.model_style(m)["linestyle"])) for m in style.MODEL_STYLE}
    assert len(looks) == len(style.MODEL_STYLE)
    markers = [style.model_style(m)["marker"] for m in style.MODEL_STYLE]
    assert len(set(markers)) == len(markers)


def _pixels_of(fig, colour):
    """Pixels of the first axes' inside drawn in ``colour`` (the legend left out)."""
    fig.canvas.draw()
    a = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float) / 255
    bb = fig.axes[0].get_window_extent()
    h = a.shape[0]
    a = a[int(h - bb.y1) + 1 : int(h - bb.y0) - 1, int(bb.x0) + 1 : int(bb.x1) - 1]
    return int((np.abs(a - np.array(matplotlib.colors.to_rgb(colour))).max(axis=-1) < 0.08).sum())


@pytest.fixture(scope="module")
def metr_fits():
    return lsi.fit(lsi.datasets.load("metr_horizons"), warn=False)


def test_fit_of_every_model_keeps_each_curve_visible_and_residuals_as_markers(metr_fits):
    """Issue 13: sigmoid curves hid the exponential, and residuals were joined by lines."""
    from lsi.figures import style

    fig = figures.fit(metr_fits)
    curves = _gids(fig, "curve:")
    drawn = [c.get_gid().split(":", 1)[1] for c in curves]
    assert len(drawn) == sum(r.converged for r in metr_fits.values()) >= 8
    colours = [matplotlib.colors.to_hex(c.get_color()) for c in curves]
    assert len(set(colours)) == len(colours)  # no two drawn models share a colour
    residuals = _gids(fig, "residual:")
    assert len(residuals) == len(drawn)
    for r in residuals:
        assert r.get_linestyle() == "None" and r.get_marker() not in (None, "None", "")
    assert len({r.get_marker() for r in residuals}) == len(residuals)
    # the legend shows each model's residual marker on its line
    handles = {lab: h for lab, h in zip(_labels(fig), fig.legends[0].legend_handles, strict=True)}
    exp_label = next(lab for lab in handles if lab.startswith("Exponential ("))
    assert handles[exp_label].get_marker() == style.model_style("exponential")["marker"]
    _assert_readable(fig)
    # the exponential is as visible beside the sigmoids that coincide with it as alone
    green = style.model_style("exponential")["color"]
    sigmoids = [m for m in ("exponential", "logistic", "richards", "brake", "gompertz") if m in drawn]
    assert len(sigmoids) >= 3
    alone = _pixels_of(figures.fit(metr_fits, "exponential", residuals=False, width="single"), green)
    crowded = _pixels_of(figures.fit(metr_fits, sigmoids, residuals=False, width="single"), green)
    assert crowded >= 0.85 * alone, (crowded, alone)


def test_fit_linear_scale_models_subset_and_no_residuals():
    t = np.linspace(2000, 2010, 15)
    y = 100 + 5 * (t - 2000) + np.random.default_rng(1).normal(0, 1, 15)
    f = lsi.fit(lsi.Series(t, y, units="patents"), ["linear", "exponential"], noise="additive", warn=False)
    fig = figures.fit(f, "linear", residuals=False, width="single")
    assert len(fig.axes) == 1
    assert fig.axes[0].get_yscale() == "linear"
    assert [a.get_gid() for a in _gids(fig, "curve:")] == ["curve:linear"]
    assert fig.get_figwidth() == pytest.approx(3.5)
    with pytest.raises(UnknownModelError, match="gompertz"):
        figures.fit(f, ["gompertz"])
    _assert_readable(fig)


def test_fit_band_from_forecast_is_shaded_and_unbounded_part_runs_to_the_edge(fits):
    ds = _forecast_ds(models=("exponential", "hyperbolic", "averaged"), inf_after=2024.0)
    ds = ds.assign_coords(model=["exponential", "hyperbolic", "logistic"])
    fig = figures.fit(fits, ["exponential", "logistic"], band=ds)
    assert {a.get_gid() for a in _gids(fig, "band:")} == {"band:exponential", "band:logistic"}
    # logistic's upper band is infinite after 2024: a hatched band to the top and an arrow
    hatched = _gids(fig, "unbounded")
    assert any(isinstance(a, PolyCollection) and a.get_hatch() for a in hatched)
    assert any(isinstance(a, Annotation) for a in hatched)


# ----------------------------------------------------------------- comparison
def test_comparison_bars_weights_and_order(fits):
    fig = figures.comparison(fits)
    axd, axw = fig.axes
    order = sorted(fits.values(), key=lambda r: r.aicc)
    ticks = [t.get_text() for t in axd.get_yticklabels()]
    ypos = list(axd.get_yticks())
    top = ticks[int(np.argmax(ypos))]
    assert top.startswith(order[0].model.title)
    for r in order:
        (bar,) = _gids(fig, f"weight:{r.name}")
        assert bar.get_width() == pytest.approx(r.weight)
        (d,) = _gids(fig, f"daicc:{r.name}")
        assert d.get_width() == pytest.approx(r.aicc - order[0].aicc)
    assert [ln.get_xdata()[0] for ln in _gids(fig, "reference")] == [2.0, 10.0]
    assert axd.get_xlabel() == r"$\Delta$AICc"
    _assert_readable(fig)


def test_comparison_with_bootstrap_probabilities(fits):
    probs = {name: (1.0 if i == 0 else 0.0) for i, name in enumerate(fits)}
    fig = figures.comparison(fits, bootstrap=probs)
    bars = _gids(fig, "bootstrap:")
    assert len(bars) == len(fits)
    assert all(b.get_hatch() for b in bars)
    assert sorted(b.get_width() for b in bars) == sorted(probs.values())
    labels = _labels(fig)
    assert "bootstrap: P(lowest AICc)" in labels
    _assert_readable(fig)


# ----------------------------------------------------------------- doubling times
def test_doubling_times_models_and_local_fits(fits):
    fig = figures.doubling_times(fits, window=8)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "doubling time (days)"
    curves = _gids(fig, "curve:")
    assert len(curves) == 3  # the three lowest-AICc models by default
    best = min(fits.values(), key=lambda r: r.aicc)
    line = _gids(fig, f"curve:{best.name}")[0]
    t_end = fits.series.t[-1]
    assert line.get_ydata()[-1] == pytest.approx(best.doubling_time(t_end).value * 365.25, rel=1e-6)
    (pts,) = _gids(fig, "local")
    # every window of lsi.assessment.data_check is drawn: the windows the report's text lists
    from lsi.assessment import data_check

    check = data_check(fits, window=8)["doubling_times"]
    assert len(check) == len(fits.series) - 8 + 1
    assert len(pts.get_xdata()) == len(check)
    assert np.allclose(pts.get_ydata(), [d["value"] * 365.25 for d in check])
    assert np.allclose(pts.get_xdata(), xvals([d["t"] for d in check], True), rtol=0, atol=1e-6)
    (spans,) = _gids(fig, "local-window")
    assert len(spans.get_segments()) == len(check)
    labels = _labels(fig)
    assert any("windows of 8 points" in lab for lab in labels)
    assert "a window's span (the points it fits)" in labels  # the grey bars have a legend entry
    assert _legend_hatch(fig) == _drawn_hatch(fig)  # a hatch in the legend only if one is drawn
    assert any(lab.startswith("not shown:") for lab in labels)
    _assert_readable(fig)


def _drawn_hatch(fig):
    return any(a.get_hatch() for ax in fig.axes for a in ax.collections + ax.patches)


def _legend_hatch(fig):
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return any(getattr(h, "get_hatch", lambda: None)() for leg in legends for h in leg.legend_handles)


def _listed_windows(text):
    """The windows the report's text lists: 'Local doubling times (...): 2021.8: 256 [...]; ...'."""
    line = text.split("Local doubling times", 1)[1].split("\n", 1)[0]
    return line.split("):", 1)[1].count(";") + 1


@pytest.mark.parametrize("source", ["synthetic", "metr_horizons"])
def test_doubling_times_draws_every_window_the_report_lists(source, fits):
    """Issue 13: on METR the figure drew 8 windows where the report's text listed 13; it now
    draws the report's own windows, with a legend entry for their spans and no hatch it does
    not use."""
    f = fits if source == "synthetic" else lsi.fit(lsi.datasets.load(source), warn=False)
    rep = lsi.assumptions(f, n_boot=0)
    n_listed = _listed_windows(rep.summary())
    assert n_listed == len(rep.data["doubling_times"])
    if source == "metr_horizons":
        assert n_listed == 13
    for fig in (figures.doubling_times(f, check=rep), figures.doubling_times(f)):
        (pts,) = _gids(fig, "local")
        assert len(pts.get_xdata()) == n_listed
        assert np.allclose(pts.get_ydata(), [d["value"] * 365.25 for d in rep.data["doubling_times"]])
        (spans,) = _gids(fig, "local-window")
        assert len(spans.get_segments()) == n_listed
        labels = _labels(fig)
        assert any(f"all {n_listed}" in lab for lab in labels)
        assert "a window's span (the points it fits)" in labels
        assert _legend_hatch(fig) == _drawn_hatch(fig)
        _assert_readable(fig)
    with pytest.raises(ParameterValueError, match="check="):
        figures.doubling_times(f, check=object())


def test_doubling_times_with_many_windows_draws_them_as_a_band():
    t = np.linspace(1970, 2020, 90)
    y = np.exp(0.35 * (t - 1970) + np.random.default_rng(4).normal(0, 0.1, t.size))
    f = lsi.fit(lsi.Series(t, y), ["exponential", "linear"], noise="log", warn=False)
    check = lsi.assessment.data_check(f)
    fig = figures.doubling_times(f)
    (pts,) = _gids(fig, "local")
    assert len(pts.get_xdata()) == len(check["doubling_times"]) > 20  # every window, still
    assert [a for a in _gids(fig, "local-interval") if isinstance(a, PolyCollection)]
    (spans,) = _gids(fig, "local-window")
    assert len(spans.get_segments()) == 2  # the first and last windows' spans
    labels = _labels(fig)
    assert "span of the first and last windows (the points each fits)" in labels
    assert _legend_hatch(fig) == _drawn_hatch(fig)
    _assert_readable(fig)


def test_doubling_times_from_a_series_marks_unbounded_intervals():
    # flat, noisy windows: the local growth rate's interval reaches zero
    rng = np.random.default_rng(3)
    t = np.linspace(2000, 2012, 36)
    y = np.exp(np.where(t < 2006, 0.02 * (t - 2000), 0.5 * (t - 2006) + 0.12) + rng.normal(0, 0.2, t.size))
    s = lsi.Series(t, y)
    fig = figures.doubling_times(s, window=12, noise="log")
    assert _gids(fig, "curve:") == []
    arrows = [a for a in _gids(fig, "unbounded") if isinstance(a, Annotation)]
    assert arrows, "an unbounded interval must be drawn as an arrow to the edge"
    ax = fig.axes[0]
    for a in arrows:  # each arrow ends on the top edge of the axes
        assert a.xy[1] == 1.0 and a.xycoords is not None
    labels = _labels(fig)
    assert any("unbounded" in lab for lab in labels)
    assert ax.get_ylim()[1] > 0
    with pytest.raises(ParameterValueError, match="FitCollection"):
        figures.doubling_times(s, models=["exponential"])
    with pytest.raises(ParameterValueError, match="FitCollection"):
        figures.doubling_times([1, 2, 3])


def test_interval_helpers_keep_unbounded_ends():
    v, lo, hi, unb, noint = interval_arrays(
        [
            Interval(1.0, 0.5, 2.0, 0.95),
            Interval(1.0, 0.5, None, 0.95),
            Interval(1.0, None, None, 0.95),
            Interval(None, None, None, 0.95),
            None,
        ]
    )
    assert unb.tolist() == [False, True, False, False, False]
    assert noint.tolist() == [False, False, True, False, False]
    assert np.isnan(v[3:]).all()
    fig, ax = plt.subplots()
    ax.set_ylim(0.1, 10)
    x = np.arange(5.0)
    drew = band_fill(ax, x, np.full(5, 0.5), np.array([2, 2, np.inf, np.inf, 2.0]), "k", 0.2, gid="b")
    assert drew
    (hatch,) = [c for c in ax.collections if c.get_gid() == "unbounded"]
    top = hatch.get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(10.0)  # the band runs to the edge of the axes
    assert not band_fill(ax, x, np.zeros(5), np.ones(5), "k", 0.2, gid="c")


# ----------------------------------------------------------------- forecast
def test_forecast_fan_chart_with_reach_markers():
    ds = _forecast_ds()
    s = _series(sigma=True)
    reach = {
        "averaged": {"value": 2026.5, "lower": 2026.0, "upper": 2027.2},
        "exponential": {"value": 2027.0, "lower": 2026.2, "upper": None},  # unbounded later
        "hyperbolic": None,  # never reached
    }
    fig = figures.forecast(ds, reach, target=1e4, series=s)
    ax, axr = fig.axes
    assert ax.get_yscale() == "log"
    assert _gids(fig, "prediction:averaged") and _gids(fig, "band:averaged") and _gids(fig, "curve:averaged")
    assert len(_gids(fig, "mixture")) == 2
    assert _gids(fig, "target")[0].get_ydata()[0] == 1e4
    assert [t.get_text() for t in axr.get_yticklabels()] == [
        "model average",
        "Exponential",
        "Hyperbolic",
    ]
    assert _gids(fig, "never:hyperbolic")
    (seg,) = _gids(fig, "reach:averaged")
    assert np.allclose(seg.get_xdata(), xvals([2026.0, 2027.2], True))
    arrows = [a for a in _gids(fig, "unbounded") if isinstance(a, Annotation)]
    assert len(arrows) == 1 and arrows[0].xy[0] == 1.0  # to the right edge
    assert isinstance(axr.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    labels = _labels(fig)
    assert "90% band for new observations" in labels and "target: 10000 minutes" in labels
    _assert_readable(fig)
    narrow = figures.forecast(ds, reach, target=1e4, series=s, width="single")
    assert [t.get_text() for t in narrow.axes[1].get_yticklabels()] == [
        "model average",
        "exponential",
        "hyperbolic",
    ]
    _assert_readable(narrow)


def test_forecast_band_past_a_singularity_is_hatched_not_clipped():
    fig = figures.forecast(_forecast_ds(inf_after=2027.0), models=["exponential"], width="single")
    assert len(fig.axes) == 1
    assert _gids(fig, "curve:exponential")
    hatched = [a for a in _gids(fig, "unbounded") if isinstance(a, PolyCollection)]
    assert hatched and all(h.get_hatch() for h in hatched)
    labels = _labels(fig)
    assert any("unbounded above" in lab for lab in labels)
    _assert_readable(fig)


def _exploding_ds(t_sing=2027.0):
    """A band whose upper end grows past 1e11 as a singularity nears, then is unbounded."""
    ds = _forecast_ds(inf_after=t_sing)
    t = ds["time"].values
    k = list(ds["model"].values).index("averaged")
    near = (t > 2025.0) & (t <= t_sing)
    for var in ("prediction", "curve"):
        up = ds[var].values.copy()
        up[k, near, 2] = up[k, near, 2] * np.exp(25.0 * (t[near] - 2025.0))  # to ~1e14
        ds[var] = (("model", "time", "quantile"), up)
    return ds


def test_forecast_axis_stays_near_the_data_and_says_where_the_band_is_unbounded():
    """Issue 13: a band past a singularity took the y axis to 1e11, squeezing the data into a
    third of the height, and cut the first point in half on the spine."""
    s = _series(sigma=True)
    ds = _exploding_ds(2027.0)
    assert np.nanmax(np.where(np.isfinite(ds["prediction"].values), ds["prediction"].values, np.nan)) > 1e11
    fig = figures.forecast(ds, series=s)
    (ax,) = fig.axes
    lo, hi = ax.get_ylim()
    data_lo, data_hi = float(np.min(s.y)), float(np.max(s.y))
    # the data keep at least a third of the height (log axis), the data and their intervals inside
    assert math.log10(data_hi / data_lo) >= math.log10(hi / lo) / 3.2
    assert lo <= np.min(s.lower) and hi >= np.max(s.upper)
    # the date from which the band is unbounded, written at it
    (label,) = _gids(fig, "unbounded-from-label")
    first_inf = float(ds["time"].values[np.flatnonzero(ds["time"].values > 2027.0)[0]])
    assert label.get_text() == f"unbounded above\nfrom {first_inf:.1f}"
    assert label.xy[0] == pytest.approx(xvals(first_inf, True)[0])
    (vline,) = _gids(fig, "unbounded-from")
    assert vline.get_xdata()[0] == pytest.approx(xvals(first_inf, True)[0])
    labels = _labels(fig)
    assert any(lab.startswith("axis cut at") for lab in labels)
    assert "band unbounded above (after a singularity)" in labels
    # the first point is not on the spine: a margin on the left
    x0 = xvals(s.t[0], True)[0]
    x_lo, x_hi = ax.get_xlim()
    assert x_lo < x0 - 0.01 * (x_hi - x_lo)
    _assert_readable(fig)
    # without the data the median over the observed times anchors the axis
    ds.attrs["last_observation"] = 2025.0
    bare = figures.forecast(ds, width="single")
    lo, hi = bare.axes[0].get_ylim()
    assert hi < 1e9
    _assert_readable(bare)


def _calibrated_ds(kappa):
    ds = _forecast_ds()
    n = ds.sizes["model"]
    ds["prediction_default"] = ds["prediction"]
    ds["kappa"] = (("model",), np.full(n, kappa))
    ds["past_coverage"] = (("model",), np.full(n, 0.52))
    ds["unbounded_from"] = (("model",), np.full(n, np.nan))
    ds.attrs.update({"calibration": "conformal drift", "calibrated_coverage": 0.82, "calibration_note": "Past ..."})
    return ds


def test_forecast_names_the_band_it_draws():
    """The calibrated band is said to be calibrated on the series' own backtest; a band that
    could not be calibrated says so and why."""
    labels = _labels(figures.forecast(_calibrated_ds(1.3)))
    assert "90% band for new observations, calibrated on the series' own backtest" in labels
    assert (
        "before calibration, past 90% bands covered 0.52 of later observations; calibrated, 0.82 out of sample"
        in labels
    )
    labels = _labels(figures.forecast(_calibrated_ds(0.0)))
    assert any("calibrated on the series' own backtest (not widened" in lab for lab in labels)
    labels = _labels(figures.forecast(_calibrated_ds(np.nan)))
    assert "90% band for new observations, not calibrated" in labels and "Past ..." in labels
    plain = _forecast_ds()
    plain.attrs["calibration_note"] = "not calibrated: the series has 5 points, too few"
    labels = _labels(figures.forecast(plain))
    assert "90% band for new observations, not calibrated" in labels
    assert "not calibrated: the series has 5 points, too few" in labels
    assert "90% band for new observations" in _labels(figures.forecast(_forecast_ds()))


def test_forecast_rejects_bad_input():
    ds = _forecast_ds()
    with pytest.raises(ParameterValueError, match="prediction and curve"):
        figures.forecast(ds.drop_vars("curve"))
    with pytest.raises(ParameterValueError, match="target"):
        figures.forecast(ds, {"averaged": None})
    with pytest.raises(UnknownModelError, match="logistic"):
        figures.forecast(ds, models=["logistic"])
    with pytest.raises(ParameterValueError, match="reach"):
        figures.forecast(ds, {"averaged": 2027.0}, target=10.0)


# ----------------------------------------------------------------- phase diagram
def test_phase_grid_colours_legend_and_singularity_hatching():
    ds = _sweep_ds()
    fig = figures.phase(ds, "p", "beta")
    (ax,) = fig.axes
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    arr = mesh.get_array()
    assert arr.shape == (6, 11)  # beta rows, p columns
    assert np.ma.is_masked(arr[0, 0])  # the failed cell is left blank
    assert np.array_equal(arr[1:, 1:].filled(-9), ds["first_failure"].values.T[1:, 1:])
    # categorical colours: each code gets its assumption's colour
    cmap = mesh.get_cmap()
    assert matplotlib.colors.to_hex(cmap(mesh.norm(1))) == "#d55e00"
    labels = _labels(fig)
    assert labels == [
        "closed loop fails first",
        "self-amplification fails first",
        "none fails",
        "finite-time singularity",
        "evaluation failed (see status)",
    ]
    (hatch,) = _gids(fig, "singularity")
    assert hatch.get_hatch() and len(hatch.get_paths()) == 3  # one row run per beta below 0.5
    assert ax.get_xlabel().startswith("automatable share")
    assert ax.get_xlim() == pytest.approx((0.475, 1.025))
    _assert_readable(fig)
    default = figures.phase(ds)  # the two swept dimensions, in order
    assert default.axes[0].get_xlabel() == ax.get_xlabel()
    assert default.axes[0].get_ylabel() == ax.get_ylabel()
    with pytest.raises(ParameterValueError, match="varies"):
        figures.phase(_sweep_ds(extra_dim=True))


def test_phase_needs_two_axes_only_and_handles_samples_and_log_axes():
    with pytest.raises(ParameterValueError, match="lam"):
        figures.phase(_sweep_ds(extra_dim=True), "p", "beta")
    figures.phase(_sweep_ds(extra_dim=True).sel(lam=0.5), "p", "beta")
    with pytest.raises(ParameterValueError, match="delta"):
        figures.phase(_sweep_ds(), "p", "delta")
    rng = np.random.default_rng(0)
    n = 400
    ceiling = 10 ** rng.uniform(1, 6, n)
    ds = xr.Dataset(
        {
            "first_failure": ("sample", rng.integers(0, 4, n)),
            "p": ("sample", rng.uniform(0, 1, n)),
            "ceiling": ("sample", ceiling),
        },
        attrs={"first_failure_legend": LEGEND},
    )
    fig = figures.phase(ds, "ceiling", "p")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    (sc,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(sc.get_offsets()) == n
    assert len(fig.legends[0].get_texts()) == 4
    # a geometric grid coordinate gets a log axis with cell edges between the centres
    g = xr.Dataset(
        {"first_failure": (("ceiling", "p"), np.zeros((5, 3), dtype=int))},
        coords={"ceiling": 10.0 ** np.arange(1, 6), "p": [0.5, 0.7, 0.9]},
        attrs={"first_failure_legend": LEGEND},
    )
    fig = figures.phase(g, "ceiling", "p")
    assert fig.axes[0].get_xscale() == "log"
    assert fig.axes[0].get_xlim() == pytest.approx((10**0.5, 10**5.5))


# ----------------------------------------------------------------- loop diagnostics
def test_loop_diagnostics_thresholds_crossings_and_singularity():
    traj = _trajectory(with_singularity=True)
    fig = figures.loop_diagnostics(traj)
    axes = fig.axes
    assert len(axes) == 4
    assert [a.get_ylabel() for a in axes[1:]] == [
        "closure $\\kappa$",
        "returns $\\rho$",
        "efficiency $\\eta$",
    ]
    for var, key in (("kappa", "kappa_min"), ("rho", "rho_min"), ("eta", "eta_min")):
        (thr,) = _gids(fig, f"threshold:{var}")
        assert thr.get_ydata()[0] == traj.attrs[key]
    (first,) = _gids(fig, "crossing:kappa:first")
    assert first.get_xdata()[0] == pytest.approx(xvals(traj.attrs["t_closure"], True)[0])
    assert first.get_ydata()[0] == 0.5 and first.get_markerfacecolor() != "white"
    (rho_x,) = _gids(fig, "crossing:rho")
    assert rho_x.get_markerfacecolor() == "white"
    assert len(_gids(fig, "singularity")) == 4  # through every panel
    labels = _labels(fig)
    assert labels == [
        "threshold (fails below)",
        "crossing",
        "first failure",
        "finite-time singularity",
    ]
    assert isinstance(axes[-1].xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    _assert_readable(fig)


def test_loop_diagnostics_without_crossings_or_capability_panel():
    traj = _trajectory().assign_coords(time=np.linspace(0, 20, 201))
    for k in ("t_closure", "t_amplification", "t_efficiency"):
        traj.attrs[k] = math.nan
    traj.attrs["first_failure"] = "none"
    fig = figures.loop_diagnostics(traj, capability=False)
    assert len(fig.axes) == 3
    assert fig.axes[-1].get_xlabel() == "time (years)"
    assert _gids(fig, "crossing:") == []
    labels = _labels(fig)
    assert labels[-1] == "no assumption fails before the horizon"
    with pytest.raises(ParameterValueError, match="kappa"):
        figures.loop_diagnostics(traj.drop_vars("kappa"))


def test_loop_diagnostics_on_a_real_trajectory():
    from lsi.models import Loop

    traj = Loop().trajectory({"g0": 0.5, "p": 0.9, "a": 1.0, "beta": 0.2, "delta": 0.05}, until=2040, t0=2020)
    fig = figures.loop_diagnostics(traj)
    first = traj.attrs["first_failure"]
    var = {"closure": "kappa", "amplification": "rho", "efficiency": "eta"}[first]
    assert _gids(fig, f"crossing:{var}:first")
    _assert_readable(fig)


# ----------------------------------------------------------------- Amdahl speed-up
def test_amdahl_speedup_curves_ceilings_and_knees():
    ps = [0.5, 0.9, 0.99, 1.0]
    fig = figures.amdahl_speedup(p=ps, a=0.5)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    for p in ps:
        (line,) = _gids(fig, f"speedup:{p:g}")
        m = np.asarray(line.get_xdata())
        S = np.asarray(line.get_ydata())
        ell = np.log(m)
        assert np.allclose(S, 1 / ((1 - p) + p * np.exp(-0.5 * ell)))
    assert [c.get_ydata()[0] for c in _gids(fig, "ceiling:")] == pytest.approx([2.0, 10.0, 100.0])
    knees = {k.get_gid(): (k.get_xdata()[0], k.get_ydata()[0]) for k in _gids(fig, "knee:")}
    assert set(knees) == {"knee:0.9", "knee:0.99"}  # p = 0.5 has its knee at the start; p = 1 none
    x, y = knees["knee:0.9"]
    assert x == pytest.approx((0.9 / 0.1) ** (1 / 0.5)) and y == pytest.approx(1 / (2 * 0.1))
    _assert_readable(fig)
    for bad in ([1.2], [-0.1], [], [math.nan]):
        with pytest.raises(ParameterValueError, match="p ="):
            figures.amdahl_speedup(p=bad)
    with pytest.raises(ParameterValueError, match="a ="):
        figures.amdahl_speedup(a=-1)


def test_fit_and_forecast_draw_into_given_axes(fits):
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7.2, 3), layout="constrained")
    assert figures.fit(fits, ax=a1) is fig
    assert len(_gids(fig, "curve:")) == len(fits) and not _gids(fig, "residual:")
    assert a1.get_legend() is not None and not fig.legends
    assert figures.forecast(_forecast_ds(), series=fits.series, ax=a2) is fig
    assert _gids(fig, "band:averaged") and a2.get_legend() is not None
    assert len(fig.axes) == 2
    with pytest.raises(ParameterValueError, match="residuals"):
        figures.fit(fits, ax=a1, residuals=True)
    with pytest.raises(ParameterValueError, match="reach"):
        figures.forecast(_forecast_ds(), {"averaged": None}, target=1.0, ax=a2)
    with pytest.raises(ParameterValueError, match="not both"):
        figures.fit(fits, ax=a1, fig=fig)


def test_every_figure_function_takes_ax_or_fig_and_returns_the_figure():
    import inspect

    drawn = [n for n in figures.__all__ if n not in ("save", "COLUMN_WIDTHS")]
    assert len(drawn) == 12
    for name in drawn:
        sig = inspect.signature(getattr(figures, name))
        assert {"ax", "fig"} & set(sig.parameters), name
        assert sig.return_annotation == "Figure", name


def _confusion():
    from lsi.distinguishability import Confusion

    counts = np.array([[30, 10], [18, 22]])
    return Confusion(
        true_models=("hyperbolic", "exponential"),
        models=("hyperbolic", "exponential"),
        counts=counts,
        n_valid=counts.sum(axis=1),
        refit_failures=np.zeros_like(counts),
        n=40,
        noise_scale={"hyperbolic": 0.1, "exponential": 0.1},
        weights={"hyperbolic": 0.7, "exponential": 0.3},
        leader="hyperbolic",
        rival="exponential",
        seed=0,
        noise="log",
        n_points=24,
    )


@pytest.fixture(scope="module")
def spec_curve():
    from lsi import robustness

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lsi.exceptions.LsiWarning)
        return robustness.curve(_series(sigma=True))


#: every public figure function, its input, and how it draws into the caller's axes or figure
_DRAWERS = {
    "fit": (lambda c: ((c["fits"],), {}), ("ax", "fig")),
    "comparison": (lambda c: ((c["fits"],), {}), ("fig",)),
    "doubling_times": (lambda c: ((c["fits"],), {}), ("ax",)),
    "forecast": (lambda c: ((_forecast_ds(),), {"series": c["fits"].series}), ("ax", "fig")),
    "phase": (lambda c: ((_sweep_ds(), "p", "beta"), {}), ("ax",)),
    "loop_diagnostics": (lambda c: ((_trajectory(True),), {}), ("fig",)),
    "amdahl_speedup": (lambda c: ((), {}), ("ax",)),
    "assumptions": (lambda c: ((c["report"],), {}), ("fig",)),
    "sensitivity": (lambda c: ((_sobol_df(), _tornado_df()), {}), ("fig",)),
    "backtest": (lambda c: ((_backtest_obj(),), {}), ("fig",)),
    "distinguishability": (lambda c: ((_confusion(),), {}), ("ax",)),
    "robustness": (lambda c: ((c["spec_curve"],), {}), ("ax", "fig")),
}


def test_the_contract_covers_every_figure_function():
    assert set(_DRAWERS) == {n for n in figures.__all__ if n not in ("save", "COLUMN_WIDTHS")}


@pytest.mark.parametrize(("name", "target"), [(n, t) for n, (_, targets) in _DRAWERS.items() for t in (*targets, None)])
def test_every_figure_function_draws_into_the_callers_axes_or_figure_and_returns_it(
    name, target, fits, report, spec_curve
):
    """Issue 13: the README says figures take ax/fig, yet figures.fit(fits, ax=ax) raised
    TypeError.  Each function draws into the axes (one panel) or the figure (several panels)
    it is given, adds no figure of its own, and returns the Figure drawn."""
    make, _ = _DRAWERS[name]
    args, kw = make({"fits": fits, "report": report, "spec_curve": spec_curve})
    draw = getattr(figures, name)
    before = plt.get_fignums()
    if target == "ax":
        fig = plt.figure(figsize=(7.2, 3.6))
        ax = fig.add_subplot()
        out = draw(*args, ax=ax, **kw)
        assert out is fig
        # drawn in the axes given (or in axes inset in them), not in new axes beside them
        assert any(a.has_data() or a.images or a.collections for a in (ax, *ax.child_axes))
        assert set(fig.axes) <= {ax, *ax.child_axes}
    elif target == "fig":
        fig = plt.figure(figsize=(7.2, 4.0))
        out = draw(*args, fig=fig, **kw)
        assert out is fig and fig.axes
    else:
        out = draw(*args, **kw)
        assert out.axes
    assert isinstance(out, matplotlib.figure.Figure)
    assert len(plt.get_fignums()) == len(before) + 1  # the caller's figure, or one new one


def test_figures_draw_into_given_axes_with_the_legend_beside_them():
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7.2, 3), layout="constrained")
    out = figures.amdahl_speedup(ax=a2)
    assert out is fig and a2.get_legend() is not None and not fig.legends
    assert a1.get_legend() is None and not a1.lines


# ----------------------------------------------------------------- the assumption report
@pytest.fixture(scope="module")
def report(fits):
    """The hyperbolic model wins on the synthetic series: replicates reach singularities."""
    return lsi.assumptions(fits, n_boot=40, seed=1)


@pytest.fixture(scope="module")
def imagenet():
    """ImageNet: replicates in which amplification or efficiency fails first, at t0 = 2010."""
    f = lsi.fit(lsi.datasets.load("imagenet_top1"), t0=2010.0, warn=False)
    return f, lsi.assumptions(f, n_boot=40, seed=2)


def _dates(fig_x):
    """Axis date numbers to decimal years (matplotlib's dates are UTC; decimal years are too)."""
    naive = [d.replace(tzinfo=None) for d in mdates.num2date(np.asarray(fig_x, dtype=float))]
    return lsi.series.decimal_year(naive)


def test_assumptions_probabilities_bars_and_singularities(report):
    fig = figures.assumptions(report)
    axp, axt, axd = fig.axes
    assert [a.get_title(loc="left").split(":")[0] for a in fig.axes] == [
        "how likely",
        "when",
        "the data alone",
    ]
    for k in ("closure", "amplification", "efficiency", "none"):
        (w,) = _gids(fig, f"weight:{k}")
        assert w.get_width() == pytest.approx(report.probabilities[k])
        (b,) = _gids(fig, f"bootstrap:{k}")
        assert b.get_width() == pytest.approx(report.bootstrap_probabilities[k]) and b.get_hatch()
    # every replicate whose best model explodes before failing is a dot in the singularity row,
    # at its singularity date, none of them counted as a failure
    boot = report.bootstrap
    hyp = boot.models.index("hyperbolic")
    rows = np.flatnonzero(boot.best == hyp)
    assert rows.size > 0
    (dots,) = _gids(fig, "singularity")
    assert len(dots.get_xdata()) == rows.size
    fit = [r for r in report.models if r["name"] == "hyperbolic"][0]
    assert np.median(_dates(dots.get_xdata())) == pytest.approx(fit["singularity_time"], abs=1.0)
    assert not _gids(fig, "when:closure") and not _gids(fig, "when:efficiency")
    ticks = [t.get_text() for t in axt.get_yticklabels()]
    assert ticks[-1] == f"singularity\n{rows.size} of {boot.n}"
    assert axt.get_yticklabels()[-1].get_fontstyle() == "italic"
    assert _gids(fig, "model:hyperbolic")  # the fit's own singularity date, a diamond
    assert not _gids(fig, "model:linear")  # weight below min_weight
    # the model-agnostic check: the acceleration and its interval, zero marked
    acc = report.data["acceleration"]
    (eb,) = [c for c in _gids(fig, "acceleration") if hasattr(c, "get_xdata")]
    assert eb.get_xdata()[0] == pytest.approx(acc["value"])
    labels = _labels(fig)
    assert "bootstrap: share of 40 replicates" in labels
    assert "finite-time singularity first (not a failure)" in labels
    # "none" is split by the models that carry it, with their Akaike weights
    (split,) = _gids(fig, "none-breakdown")
    carriers = report.none_breakdown
    small = 0.01 * len(report.models)  # the carriers below 0.01 are left out
    assert carriers and sum(carriers.values()) == pytest.approx(report.probabilities["none"], abs=small)
    for name in list(carriers)[:3]:
        assert name in split.get_text()
    _assert_readable(fig)
    narrow = figures.assumptions(report, width="single", data=False)
    assert len(narrow.axes) == 2
    _assert_readable(narrow)


def _assert_replicates_match_the_report(fig, rep):
    """Per outcome, one dot a replicate with that first failure, at the report's dates."""
    n = rep.bootstrap.n
    for k, q in rep.failure_times.items():
        (dots,) = _gids(fig, f"when:{k}")
        t = _dates(dots.get_xdata())
        assert len(t) == round(rep.bootstrap_probabilities[k] * n)
        assert np.quantile(t, [0.05, 0.5, 0.95]) == pytest.approx(
            [q["time_q05"], q["time_q50"], q["time_q95"]], abs=1e-3
        )


def test_assumptions_failure_dates_match_the_report(imagenet):
    f, rep = imagenet
    assert set(rep.failure_times) >= {"amplification", "efficiency"}
    fig = figures.assumptions(rep, fits=f)
    _assert_replicates_match_the_report(fig, rep)
    (med,) = _gids(fig, "range:efficiency:median")
    assert _dates(med.get_xdata())[0] == pytest.approx(rep.failure_times["efficiency"]["time_q50"], abs=1e-3)
    _assert_readable(fig)


def test_assumptions_without_the_fits_draws_every_replicate_at_the_reports_t0(imagenet):
    f, rep = imagenet
    # the report records t0 = 2010 and its replicates: the figure needs nothing else, and
    # does not guess t0 from the first observation (which is not 2010)
    assert rep.t0 == 2010.0 != f.series.t[0]
    fig = figures.assumptions(rep)  # no warning: LsiWarnings are errors here
    _assert_replicates_match_the_report(fig, rep)
    assert fig.axes[1].get_title(loc="left") == f"when: in {rep.bootstrap.n} bootstrap replicates"


def test_assumptions_without_a_bootstrap_shows_the_fits_alone(fits):
    rep = lsi.assumptions(fits, n_boot=0)
    fig = figures.assumptions(rep, min_weight=0.0)
    assert _gids(fig, "weight:none") and not _gids(fig, "bootstrap:")
    assert fig.axes[1].get_title(loc="left") == "when: in each model's fit (no bootstrap)"
    # with no threshold every converged model with a date is a diamond: linear fails at t0
    (lin,) = _gids(fig, "model:linear")
    assert _dates(lin.get_xdata())[0] == pytest.approx(fits["linear"].t0, abs=1e-6)
    assert "bootstrap: share of 0 replicates" not in _labels(fig)
    _assert_readable(fig)
    with pytest.raises(ParameterValueError, match="lsi.assumptions"):
        figures.assumptions(fits)
    with pytest.raises(ParameterValueError, match="min_weight"):
        figures.assumptions(rep, min_weight=2)


def test_assumptions_model_names_do_not_overlap(report):
    import dataclasses

    base = report.models[0]
    close = [2021.0, 2021.3, 2021.5, 2024.0, 2029.7, 2029.9]  # crowded in one row, two at the edge
    models = [
        {
            **base,
            "name": f"model{i}",
            "weight": 0.1,
            "converged": True,
            "first_failure": "efficiency",
            "failure_time": t,
            "singularity_time": math.nan,
        }
        for i, t in enumerate(close)
    ]
    rep = dataclasses.replace(report, models=models, bootstrap=None, bootstrap_probabilities=None)
    for width in ("double", "single"):
        fig = figures.assumptions(rep, width=width)
        assert len(_gids(fig, "model:")) == len(close)
        labels = _gids(fig, "model-label")
        text = " ".join(t.get_text() for t in labels)
        assert all(f"model{i} (0.10)" in text for i in range(len(close)))  # every model named once
        fig.canvas.draw()
        boxes = [t.get_window_extent() for t in labels]
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
        marks = [m.get_window_extent() for m in _gids(fig, "model:")]
        assert not any(b.overlaps(m) for b in boxes for m in marks)
        _assert_readable(fig)


# ----------------------------------------------------------------- sensitivity
def _sobol_df():
    import pandas as pd

    rows = []
    vals = {"p": (0.10, 0.55), "beta": (0.30, 0.70), "a": (0.01, 0.04)}
    for out, scale in (("lnC_end", 1.0), ("first_failure:closure", 0.8)):
        for prm, (s1, st) in vals.items():
            rows.append(
                {
                    "output": out,
                    "parameter": prm,
                    "first_order": s1 * scale,
                    "first_order_low": s1 * scale - 0.05,
                    "first_order_high": s1 * scale + 0.05,
                    "total_order": st * scale,
                    "total_order_low": st * scale - 0.1,
                    "total_order_high": st * scale + 0.1,
                }
            )
    rows[2]["first_order_low"] = rows[2]["first_order_high"] = math.nan  # a constant output
    return pd.DataFrame(rows)


def _tornado_df():
    import pandas as pd

    df = pd.DataFrame(
        {
            "parameter": ["p", "beta", "delta"],
            "low": [0.7, 0.0, 0.0],
            "high": [0.99, 0.6, 0.2],
            "output_low": [2.4, 10.0, 9.1],
            "output_high": [9.2, 2.4, 1.4],
            "output_base": [3.8, 3.8, 3.8],
            "swing": [6.8, 7.6, 7.7],
        }
    )
    df.attrs["output"] = "lnC_end"
    return df


def test_sensitivity_sobol_bars_intervals_and_tornado():
    sob, tor = _sobol_df(), _tornado_df()
    fig = figures.sensitivity(sob, tor)
    assert len(fig.axes) == 3  # two outputs and the tornado
    a1, a2, at = fig.axes
    # parameters by their largest total-order index, most important on top, in every panel
    ticks = [t.get_text() for t in a1.get_yticklabels()]
    assert ticks == [r"$\beta$ complexity brake", "$p$ automatable share", "$a$ elasticity"]
    for _, r in sob.iterrows():
        (b1,) = _gids(fig, f"first_order:{r.output}:{r.parameter}")
        (bt,) = _gids(fig, f"total_order:{r.output}:{r.parameter}")
        assert b1.get_width() == pytest.approx(r.first_order)
        assert bt.get_width() == pytest.approx(r.total_order) and bt.get_hatch()
        (ci,) = _gids(fig, f"interval:total_order:{r.output}:{r.parameter}")
        assert list(ci.get_xdata()) == pytest.approx([r.total_order_low, r.total_order_high])
    assert not _gids(fig, "interval:first_order:lnC_end:a")  # NaN interval: no line, and a note
    assert "no bar for an interval: the output did not vary" in _labels(fig)
    assert a2.get_title(loc="left") == "closure fails first (0/1)"
    # tornado: bars from the base, largest swing on top
    assert [t.get_text() for t in at.get_yticklabels()][0] == r"$\delta$ efficiency loss"
    for _, r in tor.iterrows():
        (lo,) = _gids(fig, f"tornado:low:{r.parameter}")
        (hi,) = _gids(fig, f"tornado:high:{r.parameter}")
        assert lo.get_x() == pytest.approx(3.8) and lo.get_width() == pytest.approx(r.output_low - 3.8)
        assert hi.get_x() == pytest.approx(3.8) and hi.get_width() == pytest.approx(r.output_high - 3.8)
    assert _gids(fig, "tornado:base")[0].get_xdata()[0] == pytest.approx(3.8)
    assert at.get_xlabel().startswith("capability at the end")
    _assert_readable(fig)
    for kw in ({"width": "single"}, {}):
        _assert_readable(figures.sensitivity(sob, **kw))
        _assert_readable(figures.sensitivity(tornado_df=tor, **kw))
    with pytest.raises(ParameterValueError, match="sobol_df"):
        figures.sensitivity()
    with pytest.raises(ParameterValueError, match="total_order"):
        figures.sensitivity(sob.drop(columns="total_order"))
    with pytest.raises(ParameterValueError, match="swing|output_base"):
        figures.sensitivity(tornado_df=tor.drop(columns="output_base"))


def test_sensitivity_from_a_real_sobol_analysis():
    from lsi.sensitivity import sobol

    df = sobol(
        "loop",
        {"p": (0.6, 1.0), "beta": (0.0, 0.8)},
        until=30.0,
        g0=0.2,
        delta=0.05,
        output=["lnC_end", "t_closure"],
        n=64,
        n_resamples=50,
    )
    fig = figures.sensitivity(df)
    assert len(fig.axes) == 2
    assert len(_gids(fig, "first_order:")) == 4
    _assert_readable(fig)


# ----------------------------------------------------------------- backtest
def _backtest_obj():
    import pandas as pd

    from lsi.backtest import Backtest

    rows = []
    rng = np.random.default_rng(0)
    spec = {  # model: (crps scale, coverage, bias, origins)
        "naive": (0.4, 0.9, 0.0, (2024.0, 2024.5, 2025.0)),
        "exponential": (1.0, 0.5, -1.0, (2024.0, 2024.5, 2025.0)),
        "hyperbolic": (0.8, 0.8, 0.5, (2024.0, 2024.5, 2025.0)),
        "logistic": (8.0, 0.2, -2.0, (2024.0,)),
    }
    for m, (sc, cov, bias, origins) in spec.items():
        for o in origins:
            for h in range(3):
                rows.append(
                    {
                        "origin": o,
                        "model": m,
                        "t": o + 0.2 * (h + 1),
                        "covered": bool(rng.uniform() < cov),
                        "crps": sc * (1 + 0.3 * h),
                        "interval_score": 5 * sc * (1 + 0.3 * h),
                        "error": bias + 0.1 * h,
                    }
                )
    df = pd.DataFrame(rows)
    # a forecast singularity before the last point of one origin: an infinite score
    k = df.index[(df.model == "hyperbolic") & (df.origin == 2025.0)][-1]
    df.loc[k, ["crps", "interval_score"]] = np.inf
    df.loc[k, "error"] = -50.0
    return Backtest(df, np.array([2024.0, 2024.5, 2025.0]), 0.9, "log", "synthetic")


def test_backtest_scores_coverage_error_and_baseline():
    bt = _backtest_obj()
    df = bt.scores
    fig = figures.backtest(bt)
    axs, axc, axe = fig.axes
    ticks = [t.get_text() for t in axs.get_yticklabels()]
    # best (lowest mean CRPS) on top; hyperbolic's mean is infinite: last
    assert ticks == ["naive: last local trend", "Exponential", "Logistic (1/3)", "Hyperbolic"]
    assert axs.get_xscale() == "log" and axs.get_xlabel() == "CRPS (ln units)"
    g = df.groupby("model")
    for m in ("naive", "exponential", "logistic"):
        (bar,) = _gids(fig, f"score:{m}")
        assert bar.get_x() + bar.get_width() == pytest.approx(g["crps"].mean()[m])
        (cov,) = _gids(fig, f"coverage:{m}")
        assert cov.get_width() == pytest.approx(g["covered"].mean()[m])
        (b,) = _gids(fig, f"bias:{m}")
        assert b.get_width() == pytest.approx(g["error"].mean()[m])
        (pts,) = _gids(fig, f"origin-score:{m}")
        assert len(pts.get_xdata()) == df[df.model == m].origin.nunique()
    # the infinite mean: a hatched bar to the edge, and the origin's score a triangle there
    (inf_bar,) = _gids(fig, "score:hyperbolic")
    assert inf_bar.get_hatch() and inf_bar.get_x() + inf_bar.get_width() == pytest.approx(axs.get_xlim()[1])
    assert _gids(fig, "beyond:hyperbolic")
    assert any(lab.startswith("beyond the axis: Hyperbolic (inf") for lab in _labels(fig))
    assert _gids(fig, "nominal")[0].get_xdata()[0] == 0.9
    assert _gids(fig, "baseline")[0].get_xdata()[0] == pytest.approx(g["crps"].mean()["naive"])
    assert len(_gids(fig, "naive-row")) == 3
    assert "(k/3): scored at k origins (see Backtest.skipped)" in _labels(fig)
    _assert_readable(fig)
    narrow = figures.backtest(bt, score="interval_score", width="single")
    assert narrow.axes[0].get_xlabel() == "interval score (ln units)"
    assert [t.get_text() for t in narrow.axes[0].get_yticklabels()][0] == "naive"
    _assert_readable(narrow)
    with pytest.raises(ParameterValueError, match="score"):
        figures.backtest(bt, score="brier")
    with pytest.raises(UnknownModelError, match="gompertz"):
        figures.backtest(bt, models=["gompertz"])
    with pytest.raises(ParameterValueError, match="lsi.backtest"):
        figures.backtest(df)


def test_backtest_of_a_real_run():
    from lsi.backtest import backtest

    t = np.linspace(2015, 2025, 20)
    y = np.exp(0.6 * (t - 2015) + np.random.default_rng(2).normal(0, 0.1, 20))
    bt = backtest(lsi.Series(t, y), ["exponential", "linear"], origins=[2021, 2023], n_boot=30)
    fig = figures.backtest(bt)
    names = set(bt.scores["model"])
    assert {g.get_gid().split(":", 1)[1] for g in _gids(fig, "score:")} == names
    _assert_readable(fig)


# ----------------------------------------------------------------- saving
def test_save_writes_print_ready_reproducible_files(tmp_path, fits):
    fig = figures.comparison(fits)
    pdf = figures.save(fig, tmp_path / "sub" / "c.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"/Type3" not in data  # TrueType, not Type 3 fonts
    assert figures.save(fig, tmp_path / "c2.pdf").read_bytes() == data
    svg = figures.save(fig, tmp_path / "c.svg")
    assert svg.read_text().lstrip().startswith("<?xml")
    assert figures.save(fig, tmp_path / "c2.svg").read_bytes() == svg.read_bytes()
    png = figures.save(fig, tmp_path / "c.png", dpi=100)
    w, h = plt.imread(png).shape[1::-1]
    assert w == round(3.5 * 100) and h == round(fig.get_figheight() * 100)
    assert figures.save(fig, tmp_path / "x", format="svg").suffix == ".svg"
    with pytest.raises(ParameterValueError, match="format"):
        figures.save(fig, tmp_path / "c.docx")
    with pytest.raises(ParameterValueError, match="dpi"):
        figures.save(fig, tmp_path / "c.png", dpi=0)
    with pytest.raises(ValueError, match="width"):
        figures.fit(fits, width="triple")


def test_save_all_writes_the_set_and_the_forecast_when_available(tmp_path, fits, monkeypatch):
    import lsi.calibration
    from lsi.fitting import FitCollection

    calls = {}
    shared = {}  # the bootstrap each computation was given

    def fake_forecast(self, until, level=0.9, **kw):
        calls["forecast"] = (until, level)
        shared["forecast"] = kw.get("bootstrap")
        return _forecast_ds()

    def fake_reach(self, level, **kw):
        calls["reach"] = level
        shared["reach"] = kw.get("bootstrap")
        return {"averaged": {"value": 2026.0, "lower": 2025.5, "upper": None}, "exponential": None}

    def fake_calibrated_base(fits_, until, level=0.9, **kw):  # the forecast calibrated_forecast widens
        return fake_forecast(fits_, until, level, **kw)

    drawn = {}
    real_assumptions, real_backtest = figures.assumptions, figures.backtest

    def spy_assumptions(rep, **kw):
        drawn["assumptions"] = (rep.n_boot, rep.bootstrap is not None, kw.get("fits") is fits)
        return real_assumptions(rep, **kw)

    def spy_backtest(bt, **kw):
        drawn["backtest"] = (sorted(set(bt.scores["model"])), bt.level)
        return real_backtest(bt, **kw)

    monkeypatch.setattr(figures, "assumptions", spy_assumptions)
    monkeypatch.setattr(figures, "backtest", spy_backtest)
    monkeypatch.setattr(FitCollection, "forecast", fake_forecast)
    monkeypatch.setattr(FitCollection, "time_to_reach", fake_reach)
    monkeypatch.setattr(lsi.calibration, "forecast", fake_calibrated_base)
    drawn_forecast = {}
    real_forecast = figures.forecast

    def spy_forecast(ds, *a, **kw):
        drawn_forecast["ds"] = ds
        return real_forecast(ds, *a, **kw)

    monkeypatch.setattr(figures, "forecast", spy_forecast)
    written, skipped = paper_figures.save_all(
        fits, tmp_path, format="png", dpi=40, reach=1e4, n_boot=20, backtest_boot=20
    )
    assert set(written) == {"fit", "comparison", "doubling_times", "assumptions", "backtest", "forecast"}
    assert set(skipped) == {"sensitivity"}
    assert calls == {"forecast": (pytest.approx(fits.series.t[-1] + 3), 0.9), "reach": 1e4}
    assert drawn["assumptions"] == (20, True, True)
    models, level = drawn["backtest"]
    assert set(models) <= set(fits) | {"averaged", "bootstrap_mixture", "naive", "stacked"} and "naive" in models
    assert level == 0.9
    assert all(p.exists() and p.stat().st_size > 0 for p in written.values())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".lsi-tmp-")]  # written as a set
    # one bootstrap, the report's, behind the assumptions, the forecast and the reaching dates
    assert shared["forecast"] is shared["reach"] and shared["forecast"].n == 20
    # the forecast drawn is the calibrated one
    ds = drawn_forecast["ds"]
    assert "prediction_default" in ds and ds.attrs["calibration"] == "conformal drift"
    drawn.clear()
    written, skipped = paper_figures.save_all(fits, tmp_path / "b", format="svg", n_boot=0)
    assert drawn == {"assumptions": (0, False, True)}
    assert "n_boot = 0" in skipped["backtest"]
    assert set(written) == {"fit", "comparison", "doubling_times", "assumptions", "forecast"}
    with pytest.raises(ParameterValueError, match="n_boot"):
        paper_figures.save_all(fits, tmp_path / "c", n_boot=-1)
    # a report already made (lsi report) is drawn as it is, its bootstrap not recomputed
    drawn.clear()
    shared.clear()
    rep = lsi.assumptions(fits, n_boot=12, seed=3)
    paper_figures.save_all(fits, tmp_path / "d", format="png", dpi=40, n_boot=0, report=rep)
    assert drawn == {"assumptions": (12, True, True)}
    assert shared["forecast"] is rep.bootstrap and "reach" not in shared  # no reach asked
    # too short to calibrate on: the default band, and the figure says why
    short = lsi.fit(_series(n=5), ["exponential"], noise="log", warn=False)
    paper_figures.save_all(short, tmp_path / "e", format="png", dpi=40, n_boot=0)
    ds = drawn_forecast["ds"]
    assert "prediction_default" not in ds and ds.attrs["calibration_note"].startswith("not calibrated: ")
    # the default band when asked for
    paper_figures.save_all(fits, tmp_path / "f", format="png", dpi=40, n_boot=0, calibrated=False)
    assert "prediction_default" not in drawn_forecast["ds"]
    with pytest.raises(ParameterValueError, match="backtest_boot"):
        paper_figures.save_all(fits, tmp_path / "g", backtest_boot=-1)


@pytest.mark.filterwarnings("ignore::lsi.exceptions.LsiWarning")
def test_cli_figures(tmp_path, capsys, monkeypatch):
    import functools

    from lsi.cli import main
    from lsi.fitting import FitCollection

    # the command's bootstraps (200 replicates) and its forecast at a test's size
    monkeypatch.setattr(FitCollection, "forecast", lambda self, until, level=0.9: _forecast_ds())
    monkeypatch.setattr(
        paper_figures, "save_all", functools.partial(paper_figures.save_all, n_boot=20, backtest_boot=20)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(
            [
                "figures",
                "imagenet_top1",
                "--out",
                str(tmp_path),
                "--format",
                "png",
                "--dpi",
                "50",
                "--bootstrap",
                "20",
                "--backtest",
                "20",
                "--json",
            ]
        )
    out, err = capsys.readouterr()
    assert code == 0
    d = json.loads(out)
    assert set(d["written"]) == {"fit", "comparison", "doubling_times", "assumptions", "backtest", "forecast"}
    assert all(Path(p).exists() for p in d["written"].values())
    assert "sensitivity" in d["skipped"]


# ----------------------------------------------------------------- image baselines (text-free)
def _text_free(fig):
    for ax in fig.axes:
        for loc in ("left", "center", "right"):
            ax.set_title("", loc=loc)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.xaxis.set_major_formatter(matplotlib.ticker.NullFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.yaxis.set_major_formatter(matplotlib.ticker.NullFormatter())
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        for t in list(ax.texts):
            if t.get_text():
                t.remove()


def _compare(fig, name, tmp_path, tol=2.0):
    from matplotlib.testing.compare import compare_images

    _text_free(fig)
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=60)
    expected = BASELINE / f"{name}.png"
    if os.environ.get("LSI_GENERATE_BASELINES"):
        BASELINE.mkdir(exist_ok=True)
        expected.write_bytes(actual.read_bytes())
    if not expected.exists():
        pytest.fail(f"no baseline {expected}; run with LSI_GENERATE_BASELINES=1 to create it")
    err = compare_images(str(expected), str(actual), tol=tol)
    assert err is None, err


def _fixed_axes():
    fig = plt.figure(figsize=(3.5, 2.6))
    return fig, fig.add_axes([0.05, 0.05, 0.9, 0.9])


def test_image_amdahl_speedup(tmp_path):
    fig, ax = _fixed_axes()
    figures.amdahl_speedup(p=[0.5, 0.9, 0.99, 1.0], a=1.0, ax=ax)
    _compare(fig, "amdahl_speedup", tmp_path)


def test_image_phase(tmp_path):
    fig, ax = _fixed_axes()
    figures.phase(_sweep_ds(), "p", "beta", ax=ax)
    _compare(fig, "phase", tmp_path)


def test_image_doubling_times_unbounded(tmp_path):
    t = np.linspace(2000, 2012, 36)
    y = np.exp(
        np.where(t < 2006, 0.02 * (t - 2000), 0.5 * (t - 2006) + 0.12) + np.random.default_rng(3).normal(0, 0.2, t.size)
    )
    fig, ax = _fixed_axes()
    figures.doubling_times(lsi.Series(t, y), window=12, noise="log", ax=ax)
    _compare(fig, "doubling_times_local", tmp_path)


def _fixed_figure(w=7.2, h=3.0):
    return plt.figure(figsize=(w, h))


def test_image_assumptions(tmp_path, report):
    fig = _fixed_figure()
    figures.assumptions(report, fig=fig)
    _compare(fig, "assumptions", tmp_path)


def test_image_sensitivity(tmp_path):
    fig = _fixed_figure(7.2, 3.6)
    figures.sensitivity(_sobol_df(), _tornado_df(), fig=fig)
    _compare(fig, "sensitivity", tmp_path)


def test_image_backtest(tmp_path):
    fig = _fixed_figure(7.2, 2.2)
    figures.backtest(_backtest_obj(), fig=fig)
    _compare(fig, "backtest", tmp_path)
