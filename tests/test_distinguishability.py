"""Distinguishability (lsi.distinguishability.confusion): the confusion matrix against an
independent simulation written here, its bookkeeping, the verdict's words for each branch of
the rule, reproducibility, and the figure."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import optimize

import lsi
from lsi import distinguishability as dist
from lsi.exceptions import ParameterValueError, UnknownModelError

# ---------------------------------------------------------------- designs with a known truth


def _hyperbolic_series(n: int, span: float, noise: float, seed: int, q: float = 1.5, e: float = 0.5) -> lsi.Series:
    """A hyperbolic history, ln C = -ln(1 - tau / (q span)) / e, with log-normal noise: the
    singularity lies at ``q`` times the span after the first point."""
    rng = np.random.default_rng(seed)
    t = np.linspace(2015.0, 2015.0 + span, n)
    tau = t - t[0]
    lnC = -np.log1p(-tau / (q * span)) / e
    return lsi.Series(t, np.exp(lnC + rng.normal(0, noise, n)), name="sim-hyperbolic")


def _fit(series: lsi.Series, models=("exponential", "hyperbolic")) -> lsi.FitCollection:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lsi.fit(series, models=list(models), noise="log", warn=False)


# ---------------------------------------------------------------- an independent simulation


def _aicc(rss: float, n: int, k: int) -> float:
    """AICc of a Gaussian fit with the noise scale estimated (k counts it)."""
    ll = -0.5 * n * (math.log(2 * math.pi * rss / n) + 1.0)
    return -2 * ll + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _fit_exponential(tau: np.ndarray, ly: np.ndarray) -> tuple[float, np.ndarray]:
    """ln C = c + g tau by ordinary least squares: the residual sum of squares and the fitted curve."""
    X = np.column_stack([np.ones_like(tau), tau])
    beta, *_ = np.linalg.lstsq(X, ly, rcond=None)
    fitted = X @ beta
    return float(np.sum((ly - fitted) ** 2)), fitted


def _hyperbolic_curve(tau: np.ndarray, ly: np.ndarray) -> np.ndarray:
    """The fitted hyperbolic curve (the best singularity of the profile, then (c, b) by least squares)."""
    span = float(tau[-1])
    q = span + span * np.logspace(-4, 4, 161)
    prof = _profile_rss(tau, ly, q)
    i = int(np.argmin(prof))
    lo, hi = math.log(q[max(i - 1, 0)] - span), math.log(q[min(i + 1, q.size - 1)] - span)
    res = optimize.minimize_scalar(
        lambda x: float(_profile_rss(tau, ly, np.array([span + math.exp(x)]))[0]),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-10},
    )
    qb = span + math.exp(res.x)
    h = -np.log1p(-tau / qb)
    b = max(float(np.cov(h, ly, bias=True)[0, 1] / np.var(h)), 0.0)
    return ly.mean() + b * (h - h.mean())


def _profile_rss(tau: np.ndarray, ly: np.ndarray, q: np.ndarray) -> np.ndarray:
    """For each singularity time q, the least-squares fit of ln C = c + b h(tau), h = -ln(1 - tau / q),
    with b = 1 / e >= 0 (a hyperbolic, e > 0): its residual sum of squares."""
    h = -np.log1p(-tau[None, :] / q[:, None])  # (m, n)
    hm = h.mean(axis=1, keepdims=True)
    ym = ly.mean()
    sxx = np.sum((h - hm) ** 2, axis=1)
    sxy = np.sum((h - hm) * (ly - ym)[None, :], axis=1)
    b = np.clip(sxy / sxx, 0.0, None)
    resid = (ly - ym)[None, :] - b[:, None] * (h - hm)
    return np.sum(resid**2, axis=1)


def _fit_hyperbolic(tau: np.ndarray, ly: np.ndarray) -> float:
    """The hyperbolic model's residual sum of squares by variable projection: for a fixed
    singularity the model is linear in (ln C0, 1/e), so the singularity is searched on a grid
    and refined by Brent's method (scipy.optimize.minimize_scalar), in ln(q - tau_max)."""
    span = float(tau[-1])
    grid = span + span * np.logspace(-4, 4, 161)
    prof = _profile_rss(tau, ly, grid)
    i = int(np.argmin(prof))
    lo, hi = math.log(grid[max(i - 1, 0)] - span), math.log(grid[min(i + 1, grid.size - 1)] - span)

    def f(x: float) -> float:
        return float(_profile_rss(tau, ly, np.array([span + math.exp(x)]))[0])

    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    return min(float(res.fun), float(prof[i]))


def _independent_rates(series: lsi.Series, n: int, seed: int) -> dict[str, dict[str, float]]:
    """P(selected | true) for exponential vs hyperbolic, simulated with plain numpy from fits made
    here (the noise scale sqrt(rss / (n - k)) of the true fit) and fitted by linear least squares
    and a profile over the singularity."""
    rng = np.random.default_rng(seed)
    tau = series.t - series.t[0]
    ly = np.log(series.y)
    npts = tau.size
    rss_e, fit_e = _fit_exponential(tau, ly)
    fit_h = _hyperbolic_curve(tau, ly)
    rss_h = _fit_hyperbolic(tau, ly)
    assert float(np.sum((ly - fit_h) ** 2)) == pytest.approx(rss_h, rel=1e-6)
    truth = {
        "exponential": (fit_e, math.sqrt(rss_e / (npts - 2))),
        "hyperbolic": (fit_h, math.sqrt(rss_h / (npts - 3))),
    }
    out: dict[str, dict[str, float]] = {}
    for name, (curve, sd) in truth.items():
        wins = {"exponential": 0, "hyperbolic": 0}
        for _ in range(n):
            sim = curve + rng.normal(0, sd, npts)
            a_e = _aicc(_fit_exponential(tau, sim)[0], npts, 3)
            a_h = _aicc(_fit_hyperbolic(tau, sim), npts, 4)
            wins["hyperbolic" if a_h < a_e else "exponential"] += 1
        out[name] = {k: v / n for k, v in wins.items()}
    return out


@pytest.mark.slow
def test_confusion_matches_an_independent_simulation():
    # a short hyperbolic history whose curvature the noise half hides: neither model is sure
    series = _hyperbolic_series(n=12, span=6.0, noise=0.12, seed=3)
    fits = _fit(series)
    n_lsi, n_ind = 300, 1000
    c = dist.confusion(fits, n=n_lsi, seed=11)
    ind = _independent_rates(series, n_ind, seed=12)
    checked = 0
    for true in ("exponential", "hyperbolic"):
        for sel in ("exponential", "hyperbolic"):
            p_lsi = c.probability(sel, true)
            p_ind = ind[true][sel]
            se = math.sqrt(p_lsi * (1 - p_lsi) / n_lsi + p_ind * (1 - p_ind) / n_ind)
            assert abs(p_lsi - p_ind) <= 3.5 * se + 0.01, (true, sel, p_lsi, p_ind, se)
            checked += 1
    assert checked == 4
    # the design is informative for the test: the confusions are neither 0 nor 1
    assert 0.01 < c.probability("hyperbolic", "exponential") < 0.6
    assert 0.2 < c.probability("exponential", "hyperbolic") < 0.8


# ---------------------------------------------------------------- bookkeeping


@pytest.fixture(scope="module")
def small():
    series = _hyperbolic_series(n=14, span=6.0, noise=0.1, seed=5)
    fits = _fit(series, ("exponential", "hyperbolic", "logistic"))
    return fits, dist.confusion(fits, n=40, seed=2)


def test_rows_sum_to_one_and_errors_are_binomial(small):
    fits, c = small
    p = c.probabilities
    assert p.shape == (len(c.true_models), len(c.models))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert np.all(c.counts.sum(axis=1) == c.n_valid)
    assert np.allclose(c.stderr, np.sqrt(p * (1 - p) / c.n_valid[:, None]))
    assert c.failures == {m: c.n - int(v) for m, v in zip(c.true_models, c.n_valid, strict=True)}
    # the AICc of every refit is kept, and the counts are its argmin
    best = np.argmin(c.aicc, axis=2)
    for i in range(len(c.true_models)):
        assert np.array_equal(np.bincount(best[i], minlength=len(c.models)), c.counts[i])


def test_to_dict_is_strict_json(small):
    _, c = small
    d = c.to_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    assert back["true_models"] == list(c.true_models)
    assert back["leading_pair"]["sentence"] == c.sentence()
    assert back["threshold"] == dist.CANNOT_TELL
    for t in c.true_models:
        assert math.isclose(sum(back["probabilities"][t].values()), 1.0)


def test_default_models_are_the_leading_pair_and_the_exponential_hyperbolic_pair():
    series = _hyperbolic_series(n=16, span=6.0, noise=0.08, seed=8)
    fits = _fit(series, ("linear", "exponential", "hyperbolic", "logistic", "breakpoint"))
    conv = sorted((r for r in fits.values() if r.converged), key=lambda r: -r.weight)
    expected = {conv[0].name, conv[1].name, "exponential", "hyperbolic"}
    assert set(dist._default_true(fits)) == expected
    c = dist.confusion(fits, n=4, seed=0)
    assert set(c.true_models) == expected
    assert c.true_models[0] == conv[0].name  # leading model first
    assert (c.leader, c.rival) == (conv[0].name, conv[1].name)
    # every converged model is refitted and can win
    assert set(c.models) == {r.name for r in fits.values() if r.converged}


def test_models_override_and_refusals(small):
    fits, _ = small
    c = dist.confusion(fits, models=["logistic", "exponential"], n=5, seed=0)
    assert set(c.true_models) == {"logistic", "exponential"}
    with pytest.raises(UnknownModelError, match="not in the collection"):
        dist.confusion(fits, models=["gompertz"], n=5)
    with pytest.raises(ParameterValueError, match="positive integer"):
        dist.confusion(fits, n=0)
    with pytest.raises(UnknownModelError, match="was not simulated"):
        c.probability("hyperbolic", "hyperbolic")


def test_a_model_that_did_not_converge_cannot_be_true():
    series = _hyperbolic_series(n=14, span=6.0, noise=0.1, seed=5)
    fits = _fit(series, ("exponential", "hyperbolic", "gompertz"))
    bad = [r.name for r in fits.values() if not r.converged]
    if not bad:
        pytest.skip("every model converged on this series")
    with pytest.raises(ParameterValueError, match="did not converge"):
        dist.confusion(fits, models=bad, n=3)
    c = dist.confusion(fits, n=3)
    assert not set(bad) & set(c.true_models) and not set(bad) & set(c.models)


# ---------------------------------------------------------------- designs and words


@pytest.mark.slow
def test_a_long_precise_series_tells_the_models_apart():
    series = _hyperbolic_series(n=60, span=8.0, noise=0.03, seed=1, q=1.3)
    fits = _fit(series)
    c = dist.confusion(fits, n=60, seed=4)
    diag = np.array([c.probability(m, m) for m in c.true_models])
    assert np.all(diag >= 0.9), diag
    v = c.pair()
    assert v.status == "tell"
    assert c.sentence().startswith(f"these data tell {v.a} from {v.b}: with the {v.b} model true")


def test_a_short_noisy_series_cannot_tell_them_apart():
    series = _hyperbolic_series(n=7, span=5.0, noise=0.3, seed=2)
    fits = _fit(series)
    c = dist.confusion(fits, n=60, seed=4)
    v = c.pair()
    assert v.status == "cannot tell"
    assert v.p_a_given_b >= dist.CANNOT_TELL
    assert c.sentence().startswith(f"these data cannot tell {v.a} from {v.b}")
    assert f"{v.p_a_given_b:.0%} of the time" in c.sentence()


@pytest.mark.slow
def test_metr_cannot_tell_its_leading_pair_apart():
    # METR's time horizons: a breakpoint leads, but with a breakpoint true the hyperbolic model
    # wins most of the series; the exponential/hyperbolic pair is told apart
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = lsi.fit(lsi.datasets.load("metr_horizons"))
    c = dist.confusion(fits)
    assert c.n == dist.DEFAULT_N
    assert c.true_models[:2] == ("breakpoint", "hyperbolic") and "exponential" in c.true_models
    v = c.pair()
    assert v.status == "cannot tell" and (v.a, v.b) == ("hyperbolic", "breakpoint")
    assert v.p_a_given_b > 0.35
    assert c.sentence().startswith("these data cannot tell hyperbolic from breakpoint: with the breakpoint model true")
    assert c.pair("hyperbolic", "exponential").status in ("tell", "barely")
    assert json.dumps(c.to_dict(), allow_nan=False)


def _made(counts, n_valid=None, true=("a_model", "b_model"), models=("a_model", "b_model")) -> dist.Confusion:
    counts = np.asarray(counts, dtype=int)
    nv = counts.sum(axis=1) if n_valid is None else np.asarray(n_valid)
    return dist.Confusion(
        true_models=tuple(true),
        models=tuple(models),
        counts=counts,
        n_valid=nv,
        refit_failures=np.zeros_like(counts),
        n=int(max(nv.max(), 1)),
        noise_scale={m: 0.1 for m in true},
        weights={m: 0.5 for m in models},
        leader=true[0],
        rival=true[1] if len(true) > 1 else None,
        seed=0,
        noise="log",
        n_points=10,
    )


def test_every_branch_of_the_rule_has_its_sentence():
    # tell: both confusions and the upper end of their 95% interval below 20%
    c = _made([[97, 3], [5, 95]], true=("a_model", "b_model"))
    v = c.pair()
    assert v.status == "tell" and (v.a, v.b) == ("a_model", "b_model") and v.upper_a_given_b < 0.2
    assert c.sentence() == (
        "these data tell a_model from b_model: with the b_model model true, the a_model model wins 5% "
        "of the time (5 of 100 simulated series); with the a_model model true, the b_model model wins 3%"
    )
    assert _made([[100, 0], [0, 100]]).sentence() == (
        "these data tell a_model from b_model: with the b_model model true, the a_model model wins in none "
        "of 100 simulated series; with the a_model model true, the b_model model never wins"
    )
    # barely: the estimate below 20%, its interval reaching it
    v = _made([[95, 5], [15, 85]]).pair()
    assert v.status == "barely" and v.p_a_given_b == pytest.approx(0.15) and v.upper_a_given_b >= 0.2
    assert v.sentence.startswith("these data only barely tell a_model from b_model")
    assert "close to the 20%" in v.sentence
    # cannot tell, quoting the larger confusion first (here b wins when a is true)
    v = _made([[55, 45], [10, 90]]).pair()
    assert v.status == "cannot tell" and (v.a, v.b) == ("b_model", "a_model")
    assert v.sentence.startswith(
        "these data cannot tell b_model from a_model: with the a_model model true, the b_model model still wins 45%"
    )
    # the threshold itself counts as cannot tell
    assert _made([[80, 20], [0, 100]]).pair().status == "cannot tell"
    # no usable series for one model
    v = _made([[0, 0], [10, 90]], n_valid=[0, 100]).pair()
    assert v.status == "undetermined" and "no refit converged" in v.sentence
    # a single model
    v = _made([[10]], true=("a_model",), models=("a_model",)).pair()
    assert v.status == "single" and "no rival" in v.sentence
    assert json.dumps(_made([[10]], true=("a_model",), models=("a_model",)).to_dict(), allow_nan=False)


def test_the_parts_of_a_sentence_are_checked():
    assert dist._percent(0.0) == "0%" and dist._percent(0.004) == "<1%" and dist._percent(0.996) == ">99%"
    assert dist._percent(1.0) == "100%" and dist._percent(0.404) == "40%" and dist._percent(0.005) == "<1%"
    for bad in (math.nan, -0.1, 1.2, math.inf):
        with pytest.raises(ValueError):
            dist._percent(bad)
    with pytest.raises(ValueError):
        dist._model_name("<script>")
    with pytest.raises(ValueError):
        dist._pair_sentence("maybe", "a", "b", 0.1, 10, 0.1, 10)


# ---------------------------------------------------------------- reproducibility and noise


def test_a_seed_reproduces_the_result(small):
    fits, c = small
    again = dist.confusion(fits, n=40, seed=2)
    assert np.array_equal(again.counts, c.counts)
    assert np.array_equal(again.aicc, c.aicc)
    other = dist.confusion(fits, n=40, seed=3)
    assert not np.array_equal(other.aicc, c.aicc)
    # the series simulated from a model do not depend on which other models are simulated
    one = dist.confusion(fits, models=["hyperbolic"], n=40, seed=2)
    i = c.true_models.index("hyperbolic")
    assert np.array_equal(one.aicc[0], c.aicc[i])


@pytest.mark.slow
def test_a_seed_and_process_count_reproduce_the_result(small):
    fits, _ = small
    a = dist.confusion(fits, n=40, seed=5, processes=2)
    b = dist.confusion(fits, n=40, seed=5, processes=2)
    assert np.array_equal(a.aicc, b.aicc) and np.array_equal(a.counts, b.counts)


def test_the_work_is_shared_by_a_plan_of_counts_alone():
    procs, sizes = dist._plan(150, 8, 1)
    assert procs == 1 and sum(sizes) == 150 and max(sizes) <= dist._CHUNK
    procs, sizes = dist._plan(150, 8, 2)
    assert procs == 2 and sum(sizes) == 150 and len(sizes) % 2 == 0
    half = len(sizes) // 2
    assert sum(sizes[:half]) > sum(sizes[half:])  # the calling process works while the worker starts
    assert dist._plan(150, 8, 2) == (procs, sizes)
    assert dist._plan(3, 8, 5)[0] == 3  # never more processes than series


def test_noise_scale_without_uncertainties_is_corrected_for_degrees_of_freedom(small):
    fits, c = small
    for m in c.true_models:
        r = fits[m]
        resid = np.log(r.series.y) - r.model.lnC_theta(r.series.t - r.t0, r.theta)
        k = len(r.free)
        assert c.noise_scale[m] == pytest.approx(math.sqrt(np.sum(resid**2) / (r.n - k)), rel=1e-9)
        assert c.noise_scale[m] > math.sqrt(np.sum(resid**2) / r.n)  # above maximum likelihood


def _series_with_sigma(seed: int = 4) -> lsi.Series:
    rng = np.random.default_rng(seed)
    t = np.linspace(2016.0, 2025.0, 15)
    sig = np.full(t.size, 0.08)
    ly = 0.2 + 0.55 * (t - t[0]) + 0.04 * (t - t[0]) ** 2 + rng.normal(0, 0.15, t.size)
    y = np.exp(ly)
    return lsi.Series(t, y, sigma=sig * y, name="with-sigma")


def test_with_uncertainties_the_scatter_makes_the_chi_square_its_degrees_of_freedom():
    series = _series_with_sigma()
    fits = _fit(series, ("exponential", "hyperbolic"))
    c = dist.confusion(fits, n=5, seed=0)
    sig = fits.noise.point_sigma(series)
    for m in c.true_models:
        r = fits[m]
        s = c.noise_scale[m]
        assert s >= r.extra_scatter - 1e-12
        resid = np.log(series.y) - r.model.lnC_theta(series.t - r.t0, r.theta)
        chi2 = float(np.sum(resid**2 / (sig**2 + s**2)))
        if s > r.extra_scatter + 1e-9:
            assert chi2 == pytest.approx(r.n - len(r.free), rel=1e-6)


def test_a_refit_scores_the_data_as_the_fit_does():
    # on the observed series, a refit from the fit's own parameters reaches the fit's AICc,
    # the extra scatter re-estimated by maximum likelihood as lsi.fit estimates it
    series = _series_with_sigma()
    fits = _fit(series, ("exponential", "hyperbolic", "logistic", "breakpoint"))
    sig = fits.noise.point_sigma(series)
    z = np.log(series.y)
    lj = fits.noise.log_jacobian(series.y)
    for r in fits.values():
        if not r.converged:
            continue
        st = dist._setup(r, sig)
        rf = dist._Refit(st, dist._Start(st.warm, False), series.t, series.y, z, sig, lj)
        a = rf.polish()
        assert a <= r.aicc + 0.02, (r.name, a, r.aicc)
        assert a >= r.aicc - 0.5, (r.name, a, r.aicc)


# ---------------------------------------------------------------- the figure


def test_figure_draws_the_matrix(small):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import lsi.figures

    _, c = small
    fig = lsi.figures.distinguishability(c)
    ax = fig.axes[0]
    cells = {t.get_gid(): t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("cell:")}
    assert len(cells) >= len(c.true_models) ** 2
    for t in c.true_models:
        k = c.counts[c.true_models.index(t), c.models.index(t)]
        p = c.probability(t, t)
        assert cells[f"cell:{t}:{t}"].startswith("0" if k == 0 else f"{p:.0%}")
    assert {p.get_gid() for p in ax.patches} >= {f"diagonal:{t}" for t in c.true_models}
    assert ax.get_xlabel() == "model selected (lowest AICc)"
    assert c.pair().a in ax.get_title(loc="left") and c.pair().b in ax.get_title(loc="left")
    plt.close(fig)
    fig2, ax2 = plt.subplots()
    assert lsi.figures.distinguishability(c, ax=ax2) is fig2
    plt.close(fig2)
    with pytest.raises(ParameterValueError, match="Confusion"):
        lsi.figures.distinguishability(object())
