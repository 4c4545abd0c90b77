"""Tests of lsi.datasets: loading, metadata, fidelity to the sources, published headlines."""

from __future__ import annotations

import ast
import doctest
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import lsi
from lsi import datasets
from lsi.exceptions import SeriesError

REFERENCE = Path(__file__).parents[2] / "shared" / "data"

NAMES = [
    "epoch_compute",
    "gpqa_diamond",
    "imagenet_top1",
    "metr_horizons",
    "metr_horizons_v1_0",
    "moore_transistors",
    "us_patents",
]


def _reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data folder {REFERENCE} is absent")
    return REFERENCE


def _read_reference(fname: str, like: pd.DataFrame) -> pd.DataFrame:
    """Read a reference CSV the way lsi.datasets.table reads its own: text stays text."""
    text_cols = {c: str for c in like.columns if like[c].dtype == object or str(like[c].dtype) == "str"}
    path = _reference_dir() / fname
    head = pd.read_csv(path, nrows=0).columns
    dtypes = {c: str for c in head if c in text_cols or c not in like.columns}
    if "is_sota" in head:
        dtypes["is_sota"] = bool
    return pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])


# ---------------------------------------------------------------- selections
# Each rule re-implements, independently of the package, the selection documented in
# info(name)["selection"]: reference file, rows kept and columns kept.
def _select_all(df: pd.DataFrame) -> pd.DataFrame:
    return df


def _select_epoch(df: pd.DataFrame) -> pd.DataFrame:
    notable = df["notability_criteria"].fillna("").str.strip() != ""
    return df[notable & df["training_compute_flop"].notna()]


def _select_gpqa(df: pd.DataFrame) -> pd.DataFrame:
    keep = (df["benchmark"] == "GPQA diamond") & df["model_release_date"].notna()
    cols = [
        "model_version_id",
        "model",
        "model_release_date",
        "score",
        "scores_detail",
        "task_version",
        "run_id",
    ]
    return df.loc[keep, cols]


SELECTIONS = {
    "metr_horizons": ("metr_time_horizons_v1_1_2026-01-30.csv", _select_all),
    "metr_horizons_v1_0": ("metr_time_horizons_v1_0.csv", _select_all),
    "epoch_compute": ("epoch_ai_models_compute.csv", _select_epoch),
    "imagenet_top1": ("imagenet_top1_sota_2012_2019.csv", _select_all),
    "gpqa_diamond": ("epoch_benchmark_runs.csv", _select_gpqa),
    "us_patents": ("us_patents_1963_2019.csv", _select_all),
    "moore_transistors": ("moore_transistors_karlrupp.csv", _select_all),
}


# ------------------------------------------------------------ the OLS checks
def _days(dates: pd.Series) -> np.ndarray:
    return pd.to_datetime(dates).map(pd.Timestamp.toordinal).to_numpy(dtype=float)


def _doubling_days(df: pd.DataFrame) -> float:
    """METR's method: OLS of ln(p50 minutes) on release date in days; doubling = ln 2 / slope."""
    fit = stats.linregress(_days(df["release_date"]), np.log(df["p50_minutes"].to_numpy(dtype=float)))
    return float(np.log(2.0) / fit.slope)


def _decimal_years(dates: pd.Series) -> np.ndarray:
    ts = pd.to_datetime(dates)
    length = np.where(ts.dt.is_leap_year, 366.0, 365.0)
    return ts.dt.year.to_numpy() + (ts.dt.day_of_year.to_numpy() - 1) / length


def _epoch_growth(df: pd.DataFrame) -> tuple[int, float, float, float, float]:
    """Epoch's method: OLS of log10 FLOP on decimal years; n, factor/yr, 90% CI, R^2."""
    notable = df["notability_criteria"].fillna("").str.strip() != ""
    keep = notable & df["training_compute_flop"].notna() & (pd.to_datetime(df["publication_date"]) >= "2010-01-01")
    sub = df[keep]
    fit = stats.linregress(_decimal_years(sub["publication_date"]), np.log10(sub["training_compute_flop"].to_numpy()))
    z = stats.norm.ppf(0.95)
    lo, hi = fit.slope - z * fit.stderr, fit.slope + z * fit.stderr
    return len(sub), 10**fit.slope, 10**lo, 10**hi, fit.rvalue**2


# ------------------------------------------------------------------- basics
def test_list_is_sorted_and_has_the_contract_names():
    assert datasets.list() == sorted(datasets.list())
    assert datasets.list() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_dataset_loads_as_a_clean_series(name):
    s = datasets.load(name)
    meta = datasets.info(name)
    assert isinstance(s, lsi.Series)
    assert s.name == name and s.units == meta["units"] and s.units
    assert len(s) == meta["n_rows"] == len(datasets.table(name))
    assert np.all(np.isfinite(s.t)) and np.all(np.isfinite(s.y))
    assert np.all(np.diff(s.t) >= 0)
    assert s.meta["citation"] and s.meta["source"] and s.meta["licence"] and s.meta["selection"]
    assert s.meta["repository"] and s.meta["commit"]
    assert s.meta["noise"] in datasets.NOISE_MODELS
    if s.meta["noise"] == "logit":
        assert np.all((s.y >= 0) & (s.y <= 1))
    if s.meta["noise"] == "log":
        assert np.all(s.y > 0)
    if s.lower is not None:
        assert meta["ci_level"] is not None and s.ci_level == meta["ci_level"]
        assert np.all(s.lower <= s.y) and np.all(s.y <= s.upper)
    else:
        assert meta["ci_level"] is None
    if s.labels is not None:
        assert len(s.labels) == len(s)


@pytest.mark.parametrize("name", NAMES)
def test_csv_header_carries_the_citation(name):
    head = datasets.header(name)
    meta = datasets.info(name)
    assert list(head) == list(datasets.HEADER_KEYS)
    for key in datasets.HEADER_KEYS:
        assert head[key] == str(meta[key])


def test_metadata_is_url_free_and_fresh():
    for name in NAMES:
        flat = repr(datasets.info(name))
        assert "http" not in flat and "www." not in flat
    meta = datasets.info("metr_horizons")
    meta["citation"] = "changed"
    meta["columns"]["value"] = "changed"
    assert datasets.info("metr_horizons")["citation"] != "changed"
    s = datasets.load("metr_horizons")
    s.meta["columns"]["value"] = "changed"
    assert datasets.load("metr_horizons").meta["columns"]["value"] == "p50_minutes"
    t = datasets.table("metr_horizons")
    t.loc[0, "p50_minutes"] = -1.0
    assert datasets.table("metr_horizons").loc[0, "p50_minutes"] > 0


def test_files_are_package_resources_and_small():
    files = [datasets.info(n)["file"] for n in NAMES]
    root = resources.files("lsi.datasets")
    total = sum(len(root.joinpath(f).read_bytes()) for f in files)
    assert total < 300_000


def test_unknown_name_gives_one_clear_line():
    with pytest.raises(SeriesError) as err:
        datasets.load("metr")
    msg = str(err.value)
    assert "\n" not in msg
    assert "'metr'" in msg and "lsi.Series.from_csv" in msg
    assert all(n in msg for n in NAMES)
    assert isinstance(err.value, ValueError)
    for call in (datasets.info, datasets.table):
        with pytest.raises(SeriesError, match="unknown dataset"):
            call("nope")


def test_unknown_option_gives_one_clear_line():
    with pytest.raises(SeriesError) as err:
        datasets.load("metr_horizons", sota=True)
    msg = str(err.value)
    assert "\n" not in msg and "sota_only" in msg
    with pytest.raises(SeriesError, match="no option"):
        datasets.load("moore_transistors", since="2000")
    with pytest.raises(SeriesError, match="metric"):
        datasets.load("metr_horizons", metric="p90")


def test_options():
    v10 = datasets.table("metr_horizons_v1_0")
    sota = datasets.load("metr_horizons_v1_0", sota_only=True)
    assert len(sota) == int(v10["is_sota"].sum()) == 17
    assert sota.meta["options_used"] == {"sota_only": True}
    p80 = datasets.load("metr_horizons", metric="p80")
    tab = datasets.table("metr_horizons")
    np.testing.assert_array_equal(p80.y, tab["p80_minutes"].to_numpy())
    np.testing.assert_array_equal(p80.lower, tab["p80_ci_low_minutes"].to_numpy())
    assert p80.meta["columns"]["value"] == "p80_minutes"
    assert len(datasets.load("epoch_compute", since="2010-01-01")) == 428
    assert len(datasets.load("imagenet_top1", extra_training_data=False)) == 16
    front = datasets.load("gpqa_diamond", frontier=True)
    assert np.all(np.diff(front.y) > 0) and len(front) < len(datasets.load("gpqa_diamond"))
    grants = datasets.load("us_patents", measure="grants")
    assert grants.y[-1] == 391103 and grants.units == "patent grants"


def test_imagenet_is_a_fraction_of_the_published_percent():
    s = datasets.load("imagenet_top1")
    pct = datasets.table("imagenet_top1")["top1_accuracy_pct"]
    np.testing.assert_allclose(s.y * 100, pct, rtol=0, atol=1e-12)
    # the nearest float to the published decimal, not 87.4 / 100 = 0.8740000000000001
    assert s.y.tolist() == [float(f"{p:g}e-2") for p in pct]


def test_metr_is_sota_follows_metrs_rule():
    for name in ("metr_horizons", "metr_horizons_v1_0"):
        df = datasets.table(name)
        best = df.groupby("release_date")["p50_minutes"].max().sort_index().cummax()
        rule = df["p50_minutes"].to_numpy() >= best.loc[df["release_date"]].to_numpy()
        np.testing.assert_array_equal(rule, df["is_sota"].to_numpy())


def test_patent_rate_is_grants_over_population():
    df = datasets.table("us_patents")
    rate = (df["patent_grants"] / df["us_population_worldbank"] * 1e6).round(3)
    np.testing.assert_allclose(rate, df["grants_per_million_people"], rtol=0, atol=5e-10)


def test_docstring_examples_run():
    result = doctest.testmod(datasets, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------- where the metadata is written
def _registry() -> dict:
    return json.loads(resources.files("lsi.datasets").joinpath("registry.json").read_text("utf-8"))


INFO_KEYS = [
    "name", "file", "title", "description", "source", "citation", "repository", "commit",
    "source_path", "licence", "units", "noise", "ci_level", "interval", "selection", "columns",
    "options", "n_rows", "published", "caveats", "releases", "trend_convention",
]  # fmt: skip


def test_metadata_is_written_once():
    """The CSV header and registry.json never state the same key; together they give info()."""
    registry = _registry()
    assert sorted(registry["datasets"]) == NAMES
    for name, entry in registry["datasets"].items():
        assert not set(entry) & {*datasets.HEADER_KEYS, "name", "file", "releases"}, name
        assert list(datasets.info(name)) == INFO_KEYS
    listed = [n for names in registry["releases"].values() for n in names]
    assert len(listed) == len(set(listed)) and set(listed) <= set(NAMES)


def test_releases_of_one_table():
    for name in NAMES:
        releases = datasets.info(name)["releases"]
        assert name in releases
        assert all(datasets.info(r)["releases"] == releases for r in releases)
        # releases of one table have the same columns, read the same way
        assert all(list(datasets.table(r).columns) == list(datasets.table(name).columns) for r in releases)
        assert all(datasets.info(r)["columns"] == datasets.info(name)["columns"] for r in releases)
    assert datasets.info("metr_horizons")["releases"] == ["metr_horizons_v1_0", "metr_horizons"]
    assert datasets.info("moore_transistors")["releases"] == ["moore_transistors"]


def test_trend_convention_selects_the_rows_the_source_fits():
    for name in ("metr_horizons", "metr_horizons_v1_0"):
        convention = datasets.info(name)["trend_convention"]
        assert convention["options"] == {"sota_only": True} and "is_sota" in convention["description"]
        s = datasets.load(name, **convention["options"])
        tab = datasets.table(name)
        assert s.labels == tuple(tab.loc[tab["is_sota"], "model_id"])
    for name in ("epoch_compute", "gpqa_diamond", "imagenet_top1", "moore_transistors", "us_patents"):
        assert datasets.info(name)["trend_convention"] is None


def test_import_needs_no_science_stack():
    """numpy, pandas and lsi.series load inside the functions that read the CSVs."""
    tree = ast.parse(Path(datasets.__file__).read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name for n in top for a in n.names} | {n.module or "" for n in top if isinstance(n, ast.ImportFrom)}
    assert not names & {"numpy", "pandas", "series", "Series", "decimal_year"}


# ------------------------------------------------------- fidelity to sources
@pytest.mark.parametrize("name", NAMES)
def test_shipped_table_matches_the_reference_copy(name):
    shipped = datasets.table(name)
    fname, select = SELECTIONS[name]
    ref = select(_read_reference(fname, shipped)).reset_index(drop=True)
    assert list(ref.columns) == list(shipped.columns)
    pd.testing.assert_frame_equal(shipped, ref, check_exact=True, check_dtype=False)


# ------------------------------------------------------ published headlines
def _metr_headlines(v10: pd.DataFrame, v11: pd.DataFrame) -> None:
    paper = v10[v10["is_sota"] & (v10["release_date"] <= "2025-03-01")]
    assert len(paper) == 11
    d = _doubling_days(paper)
    assert 171 <= d <= 249  # Kwa et al. 2025: 212 days, 95% CI 171-249
    assert d == pytest.approx(212.18, abs=0.01)
    assert round(_doubling_days(v11[v11["is_sota"]]), 3) == 196.475
    recent = v11[v11["is_sota"] & (v11["release_date"] >= "2023-01-01")]
    d23 = _doubling_days(recent)
    assert round(d23, 3) == 130.801 and 107.334 <= d23 <= 161.422


def _epoch_headline(df: pd.DataFrame) -> None:
    n, factor, lo, hi, r2 = _epoch_growth(df)
    assert n == 428
    assert 4.3 <= factor <= 5.2  # Epoch: 4.7x/year, 90% CI 4.3-5.2
    assert round(factor, 1) == 4.7 and round(r2, 2) == 0.60
    assert lo == pytest.approx(4.24, abs=0.01) and hi == pytest.approx(5.17, abs=0.01)


def test_published_headlines_from_shipped_tables():
    _metr_headlines(datasets.table("metr_horizons_v1_0"), datasets.table("metr_horizons"))
    _epoch_headline(datasets.table("epoch_compute"))


def test_published_headlines_from_reference_copies():
    ref = _reference_dir()
    _metr_headlines(
        pd.read_csv(ref / "metr_time_horizons_v1_0.csv"),
        pd.read_csv(ref / "metr_time_horizons_v1_1_2026-01-30.csv"),
    )
    _epoch_headline(pd.read_csv(ref / "epoch_ai_models_compute.csv"))


def test_headline_from_the_loaded_series():
    """The same Epoch number from load(): the Series carries what a fit needs."""
    s = datasets.load("epoch_compute", since="2010-01-01")
    fit = stats.linregress(s.t, np.log10(s.y))
    assert 4.3 <= 10**fit.slope <= 5.2
    horizon = datasets.load("metr_horizons_v1_0", sota_only=True).until("2025-03-01")
    fit = stats.linregress(horizon.t, np.log(horizon.y))
    assert 171 <= np.log(2) / fit.slope * 365.25 <= 249
