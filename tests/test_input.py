"""The data boundary: times are never guessed, nothing is silently dropped or changed, columns
are chosen by name, and every wrong argument to fit() gets one line from an lsi exception."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import lmfit
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lsi
from lsi.exceptions import LsiError, ParameterValueError, SeriesError, SeriesWarning, UnknownParameterError
from lsi.series import DATE_UNITS, from_decimal_year, to_decimal_years


def one_line(exc_info) -> str:
    text = str(exc_info.value)
    assert "\n" not in text and text
    return text


def csv(tmp_path, text: str, name: str = "h.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---------------------------------------------------------------- times are never guessed
def test_decimal_year_text_is_a_decimal_year_not_year_dot_month(tmp_path):
    assert to_decimal_years(["2015.5", "2016.25"]).tolist() == [2015.5, 2016.25]
    assert to_decimal_years("2030.5").tolist() == [2030.5]
    assert lsi.Series(["2015.5", "2016", "2017.75"], [1, 2, 3]).t.tolist() == [2015.5, 2016.0, 2017.75]
    s = lsi.Series.from_csv(csv(tmp_path, "date,value\n2015.5,1\n2016.5,2\n2017.5,4\n"))
    assert s.t.tolist() == [2015.5, 2016.5, 2017.5]


@pytest.mark.parametrize(
    ("times", "match"),
    [
        (["2015.5", "2016-07-02"], "mix decimal years"),
        ([2015.5, "2016-07-02"], "mix decimal years"),
        ([2015.5, dt.date(2016, 7, 2)], "mix decimal years"),
        (["2016-07-02", "5 January 2017"], "mix date formats"),
        (["2016-07-02", "03/04/2017"], "mix date formats"),
        (["01/03/2015", "02/03/2016", "13/03/2017"], "day/month or month/day"),
        (["01/03/2015", "02/03/2016"], "dayfirst=True or False"),
        (["01/03/15", "02/03/16"], "two-digit year"),
        (["2020-01-05T12:00+02:00", "2021-01-05"], "some times carry a time zone"),
        (["yesterday", "today"], "without guessing"),
        (["2020-01-01", None], "missing"),
        (["2020-13-45", "2021-01-01"], "not a date"),
        ([True, False], "boolean"),
    ],
)
def test_times_that_would_need_a_guess_are_refused_with_one_line(times, match):
    with pytest.raises(SeriesError, match=match) as info:
        to_decimal_years(times)
    one_line(info)
    with pytest.raises(SeriesError, match=match):
        lsi.Series(times, np.arange(1.0, len(times) + 1))


def test_day_month_order_is_read_as_stated():
    d = ["01/03/2015", "13/03/2017"]
    first = to_decimal_years(d, dayfirst=True)
    assert first.tolist() == to_decimal_years(["2015-03-01", "2017-03-13"]).tolist()
    assert to_decimal_years(d, date_format="%d/%m/%Y").tolist() == first.tolist()
    us = to_decimal_years(["01/03/2015", "12/25/2016"], dayfirst=False)
    assert us.tolist() == to_decimal_years(["2015-01-03", "2016-12-25"]).tolist()
    with pytest.raises(SeriesError, match="not a date with dayfirst=False") as info:
        to_decimal_years(d, dayfirst=False)
    one_line(info)
    with pytest.raises(SeriesError, match="date_format"):
        to_decimal_years(["2015-03-01", "x"], date_format="%Y-%m-%d")
    # a stated format reads number-like text too
    assert to_decimal_years(["20230224"], date_format="%Y%m%d").tolist() == to_decimal_years(["2023-02-24"]).tolist()
    s = lsi.Series(["01.03.2015", "13.03.2017", "14.03.2018"], [1, 2, 3], dayfirst=True)
    assert s.t[0] == to_decimal_years("2015-03-01")[0]


def test_unambiguous_text_dates_are_read():
    assert to_decimal_years(["2020/03/01"]).tolist() == to_decimal_years(["2020-03-01"]).tolist()
    assert to_decimal_years(["5 January 2020"]).tolist() == to_decimal_years(["2020-01-05"]).tolist()
    assert to_decimal_years(["2020-07"]).tolist() == to_decimal_years(["2020-07-01"]).tolist()


@pytest.mark.parametrize(
    ("values", "unit", "hint"),
    [
        ([1.6e9, 1.65e9, 1.7e9], "s", "Unix timestamps: pass date_unit='s'"),
        ([1.6e12, 1.65e12, 1.7e12], "ms", "date_unit='ms'"),
        ([44000, 45000, 45500.5], "excel", "spreadsheet serial days: pass date_unit='excel'"),
        ([20200101, 20210615, 20220301], None, "date_format='%Y%m%d'"),
    ],
)
def test_numeric_date_columns_that_are_not_years_are_refused_until_declared(tmp_path, values, unit, hint):
    df = pd.DataFrame({"date": values, "value": [1.0, 2.0, 4.0]})
    with pytest.raises(SeriesError, match="not decimal years") as info:
        lsi.Series.from_pandas(df)
    assert hint in one_line(info)
    body = "date,value\n" + "".join(f"{v!r},{i + 1}\n" for i, v in enumerate(values))
    with pytest.raises(SeriesError, match="not decimal years"):
        lsi.Series.from_csv(csv(tmp_path, body))
    if unit is not None:
        s = lsi.Series.from_pandas(df, date_unit=unit)
        stamps = (
            pd.to_datetime(values, unit=unit)
            if unit != "excel"
            else pd.Timestamp("1899-12-30") + pd.to_timedelta(values, unit="D")
        )
        assert np.allclose(s.t, to_decimal_years(pd.DatetimeIndex(stamps)), rtol=0, atol=1e-9)
        assert 2000 < s.t[0] < 2030
    else:
        s = lsi.Series.from_pandas(df, date_format="%Y%m%d")
        assert s.t[0] == 2020.0
    # decimal years stay decimal years when said so
    assert lsi.Series.from_pandas(df, date_unit="year").t.tolist() == [float(v) for v in values]


def test_excel_serial_and_unix_time_convert_exactly():
    assert to_decimal_years([45000], date_unit="excel").tolist() == to_decimal_years(["2023-03-15"]).tolist()
    assert to_decimal_years([0], date_unit="s").tolist() == [1970.0]
    assert to_decimal_years([86400 * 1000], date_unit="ms").tolist() == to_decimal_years(["1970-01-02"]).tolist()
    with pytest.raises(SeriesError, match="1900-03-01"):
        to_decimal_years([30], date_unit="excel")
    with pytest.raises(SeriesError, match="choose one of"):
        to_decimal_years([1.0], date_unit="fortnights")
    with pytest.raises(SeriesError, match="applies to numbers"):
        to_decimal_years(["2020-01-01"], date_unit="s")
    assert set(DATE_UNITS) == {"year", "s", "ms", "us", "ns", "excel"}


def test_time_zones_become_utc_with_a_warning():
    with pytest.warns(SeriesWarning, match="converted to UTC"):
        t = to_decimal_years(["2020-01-01T02:00:00+02:00", "2021-01-01T00:00:00Z"])
    assert t.tolist() == [2020.0, 2021.0]
    idx = pd.DatetimeIndex(["2020-01-01 00:00"]).tz_localize("Etc/GMT+5")  # UTC-5
    with pytest.warns(SeriesWarning, match="UTC"):
        t = to_decimal_years(idx)
    assert t[0] == to_decimal_years(["2020-01-01T05:00"])[0]
    aware = [dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))]
    with pytest.warns(SeriesWarning, match="UTC"):
        t = to_decimal_years(aware)
    assert t[0] == to_decimal_years(["2019-12-31T23:00"])[0]
    df = pd.DataFrame({"date": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01"]).tz_localize("UTC"), "y": 1})
    with pytest.warns(SeriesWarning, match="UTC"):
        s = lsi.Series.from_pandas(df)
    assert s.t.tolist() == [2020.0, 2021.0, 2022.0]


def test_naive_dates_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_decimal_years(["2020-01-01", "2021-06-30T12:00"])
        to_decimal_years(pd.DatetimeIndex(["2020-01-01"]))


def test_to_decimal_years_accepts_every_time_kind():
    want = 2024.5
    for value in (
        2024.5,
        [2024.5],
        "2024.5",
        "2024-07-02",
        dt.date(2024, 7, 2),
        dt.datetime(2024, 7, 2),
        pd.Timestamp("2024-07-02"),
        pd.DatetimeIndex(["2024-07-02"]),
        pd.Series(pd.to_datetime(["2024-07-02"])),
        np.datetime64("2024-07-02"),
        np.array(["2024-07-02"], dtype="datetime64[s]"),
        np.array(["2024-07-02"]),
    ):
        got = to_decimal_years(value)
        assert got.shape == (1,) and got[0] == want, value


# ---------------------------------------------------------------- exact round trips
def test_round_trip_gives_back_the_same_dates():
    s = lsi.Series(["2023-02-24", "2023-06-01", "2024-02-29"], [1.0, 2.0, 3.0])
    got = s.to_pandas()["date"]
    assert [str(d) for d in got] == ["2023-02-24 00:00:00", "2023-06-01 00:00:00", "2024-02-29 00:00:00"]
    # every day of 1900-2100
    days = pd.date_range("1900-01-01", "2100-12-31", freq="D")
    back = from_decimal_year(to_decimal_years(days))
    assert (back == days).all()


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2300, 12, 31)))
def test_round_trip_is_exact_to_the_millisecond(when):
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    back = from_decimal_year(to_decimal_years([when]))[0]
    assert back == pd.Timestamp(when)


def test_from_decimal_year_outside_the_calendar_is_nat():
    got = from_decimal_year([2020.0, 1e30, np.nan])
    assert str(got[0]) == "2020-01-01 00:00:00" and pd.isna(got[1]) and pd.isna(got[2])


# ---------------------------------------------------------------- nothing silently dropped
def test_lower_without_upper_is_an_error(tmp_path):
    for cols in ("date,value,lower", "date,value,upper"):
        p = csv(tmp_path, f"{cols}\n2020-01-01,1,0.5\n2021-01-01,2,1.5\n2022-01-01,4,3\n")
        with pytest.raises(SeriesError, match="bound but no column") as info:
            lsi.Series.from_csv(p)
        one_line(info)
    df = pd.DataFrame({"t": [2020, 2021, 2022], "y": [1.0, 2, 4], "lo": [0.5, 1, 3]})
    with pytest.raises(SeriesError, match="upper="):
        lsi.Series.from_pandas(df, lower="lo")


def test_two_candidate_time_columns_must_be_chosen(tmp_path):
    p = csv(tmp_path, "date,t,value\n2020-01-01,2020.5,1\n2021-01-01,2021.5,2\n2022-01-01,2022.5,4\n")
    with pytest.raises(SeriesError, match="'date', 't'") as info:
        lsi.Series.from_csv(p)
    assert "time=" in one_line(info)
    assert lsi.Series.from_csv(p, time="t").t.tolist() == [2020.5, 2021.5, 2022.5]
    assert lsi.Series.from_csv(p, time="date").t.tolist() == [2020.0, 2021.0, 2022.0]
    p2 = csv(tmp_path, "t,value,y\n2020,1,5\n2021,2,6\n2022,4,7\n", "v.csv")
    with pytest.raises(SeriesError, match="value="):
        lsi.Series.from_csv(p2)


def test_repeated_header_is_an_error(tmp_path):
    p = csv(tmp_path, "date,value,value\n2020-01-01,1,9\n2021-01-01,2,8\n2022-01-01,4,7\n")
    with pytest.raises(SeriesError, match="repeats the column name 'value'") as info:
        lsi.Series.from_csv(p)
    one_line(info)
    df = pd.DataFrame([[2020, 1.0, 9.0], [2021, 2.0, 8.0], [2022, 4.0, 7.0]], columns=["t", "value", "value"])
    with pytest.raises(SeriesError, match="repeats"):
        lsi.Series.from_pandas(df)


def test_times_that_collapse_as_floats_are_an_error(tmp_path):
    with pytest.raises(SeriesError, match="times must be distinct") as info:
        lsi.Series([10**30, 10**30 + 1, 10**30 + 2], [1.0, 2.0, 3.0])
    one_line(info)
    p = csv(tmp_path, "t,value\n1e30,1\n1000000000000000000000000000001,2\n1000000000000000000000000000002,3\n")
    with pytest.raises(SeriesError, match="times must be distinct"):
        lsi.Series.from_csv(p, date_unit="year")
    with pytest.raises(SeriesError, match="times must be distinct"):
        to_decimal_years(np.array([2**60, 2**60 + 1]))
    # a time given twice is legitimate and kept
    assert len(lsi.Series(["2020-01-01", "2020-01-01", "2021-01-01"], [1.0, 2.0, 3.0])) == 3


def test_text_in_a_numeric_column_is_one_line(tmp_path):
    p = csv(tmp_path, "date,value,sigma\n2020-01-01,1,0.1\n2021-01-01,2,abc\n2022-01-01,4,0.3\n")
    with pytest.raises(SeriesError, match="sigma column 'sigma' holds non-numbers .'abc' at row 2") as info:
        lsi.Series.from_csv(p)
    one_line(info)


def test_unreadable_sources_are_one_line(tmp_path):
    with pytest.raises(SeriesError, match="is a folder") as info:
        lsi.Series.from_csv(tmp_path)
    one_line(info)
    p = tmp_path / "latin.csv"
    p.write_bytes("date,value\n2020-01-01,1\n2021-01-01,\xe9\n".encode("latin-1"))
    with pytest.raises(SeriesError, match="UTF-8"):
        lsi.Series.from_csv(p)
    with pytest.raises(SeriesError, match="no header"):
        lsi.Series.from_csv(csv(tmp_path, "", "empty.csv"))


def test_a_shipped_csv_with_its_comment_header_reads(tmp_path):
    from importlib import resources

    text = resources.files("lsi.datasets").joinpath("moore_transistors.csv").read_text()
    s = lsi.Series.from_csv(csv(tmp_path, text, "m.csv"), time="decimal_year", value="transistors_thousands")
    assert len(s) == len(lsi.datasets.load("moore_transistors"))


# ---------------------------------------------------------------- columns and blank rows
EPOCH_LIKE = (
    "Model,Publication date,Training compute (FLOP),Organization\n"
    "A,2019-02-14,1.2e21,X\n"
    "B,,3.0e22,Y\n"
    "C,2021-06-01,,Z\n"
    "D,2022-03-15,4.1e23,X\n"
    "E,2023-01-10,2.0e24,Y\n"
)


def test_a_raw_csv_is_read_by_naming_its_columns(tmp_path):
    p = csv(tmp_path, EPOCH_LIKE)
    with pytest.raises(SeriesError, match="no time column"):
        lsi.Series.from_csv(p)
    kw = dict(time="Publication date", value="Training compute (FLOP)", label="Model")
    with pytest.raises(SeriesError, match="2 of 5 rows have a blank") as info:
        lsi.Series.from_csv(p, **kw)
    assert "rows 2, 3" in one_line(info) and "dropna=True" in str(info.value)
    with pytest.warns(SeriesWarning, match="dropped 2 of 5 rows .*rows 2, 3"):
        s = lsi.Series.from_csv(p, dropna=True, **kw)
    assert s.labels == ("A", "D", "E")
    assert s.y.tolist() == [1.2e21, 4.1e23, 2.0e24]
    # names match regardless of case and surrounding spaces when unambiguous
    with pytest.warns(SeriesWarning):
        s2 = lsi.Series.from_csv(p, dropna=True, time=" publication DATE ", value="training compute (flop)")
    assert s2.t.tolist() == s.t.tolist()


def test_an_lmarena_like_table_reads_with_column_names():
    df = pd.DataFrame(
        {
            "model": ["a", "b", "c", "d"],
            "release": ["2023-03-14", "2023-11-06", "2024-05-13", "2024-12-05"],
            "elo": [1150.0, 1200.0, 1260.0, 1300.0],
            "ci_low": [1140.0, 1190.0, 1250.0, 1290.0],
            "ci_high": [1160.0, 1210.0, 1270.0, 1310.0],
        }
    )
    s = lsi.Series.from_pandas(df, time="release", value="elo", lower="ci_low", upper="ci_high", label="model")
    assert s.lower.tolist() == [1140.0, 1190.0, 1250.0, 1290.0] and s.labels == ("a", "b", "c", "d")
    with pytest.raises(SeriesError, match="no column 'when'"):
        lsi.Series.from_pandas(df, time="when", value="elo")
    with pytest.raises(SeriesError, match="both as time and as value"):
        lsi.Series.from_pandas(df, time="elo", value="elo")


def test_blank_cells_in_a_dataframe_are_refused_then_dropped_on_request():
    df = pd.DataFrame({"t": [2020.0, np.nan, 2022.0, 2023.0], "value": [1.0, 2.0, 3.0, None]})
    with pytest.raises(SeriesError, match="2 of 4 rows have a blank 't', 'value' .rows 2, 4.") as info:
        lsi.Series.from_pandas(df)
    one_line(info)
    with pytest.warns(SeriesWarning, match="dropped 2 of 4"):
        s = lsi.Series.from_pandas(df, dropna=True)
    assert s.t.tolist() == [2020.0, 2022.0]
    with pytest.raises(SeriesError, match="dropna must be"):
        lsi.Series.from_pandas(df, dropna="yes")


def test_a_dataframe_indexed_by_date_uses_its_index():
    dates = pd.date_range("2016-01-01", periods=6, freq="YS")
    df = pd.DataFrame({"value": [1.0, 2.1, 3.9, 8.2, 15.8, 33.0]}, index=dates)
    assert lsi.Series.from_pandas(df).t.tolist() == [2016.0, 2017.0, 2018.0, 2019.0, 2020.0, 2021.0]
    assert len(lsi.fit(df, "exponential", warn=False).series) == 6


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["2020-01-01", "2021.5", "", "13/01/2020", "01/02/2020", "x", "1.6e9", "2022-07", "NA"]),
            st.sampled_from(["1", "2.5", "", "abc", "-3", "1e400", "nan", "0"]),
            st.sampled_from(["", "0.1", "-1", "z"]),
        ),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
)
def test_any_csv_gives_a_series_or_one_lsi_line(tmp_path_factory, rows, with_sigma):
    path = tmp_path_factory.mktemp("csv") / "h.csv"
    head = "date,value,sigma\n" if with_sigma else "date,value\n"
    body = "".join(f"{t},{v},{s}\n" if with_sigma else f"{t},{v}\n" for t, v, s in rows)
    path.write_text(head + body)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeriesWarning)
        for dropna in (False, True):
            try:
                s = lsi.Series.from_csv(path, dropna=dropna)
            except SeriesError as exc:
                assert "\n" not in str(exc) and str(exc)
            else:
                assert len(s) >= 1 and np.all(np.isfinite(s.t)) and np.all(np.isfinite(s.y))


# ---------------------------------------------------------------- fit(): the API boundary
@pytest.fixture(scope="module")
def series():
    t = np.linspace(2015, 2024, 20)
    y = 2 * np.exp(0.5 * (t - 2015)) * np.exp(np.random.default_rng(0).normal(0, 0.05, 20))
    return lsi.Series(t, y)


def _tied():
    p = lmfit.Parameters()
    p.add("g", value=0.5)
    p.add("C0", expr="g * 4")
    return p


BAD_CALLS = [
    ({"models": 3}, "models = 3"),
    ({"models": None}, "models = None"),
    ({"models": [3]}, "models.0. = 3"),
    ({"models": {"exponential": 1}}, "params="),
    ({"level": "0.9"}, "level = '0.9'"),
    ({"level": 1.5}, "in .0, 1."),
    ({"level": True}, "level = True"),
    ({"level": math.nan}, "level = nan"),
    ({"t0": "soon"}, "t0 = 'soon'"),
    ({"t0": [2015, 2016]}, "t0 = .2015, 2016. .list."),
    ({"t0": math.inf}, "t0 = inf"),
    ({"t0": 1e9}, "t0 within or near the data"),
    ({"params": {"exponential": {"g": "fast"}}}, "must be a finite number"),
    ({"params": {"exponential": {"g": {"value": "x"}}}}, "'value'. = 'x'"),
    ({"params": {"exponential": {"g": {"min": "0"}}}}, "'min'. = '0'"),
    ({"params": {"exponential": {"g": {"min": 2, "max": 1}}}}, "min = 2 >= max = 1"),
    ({"params": {"exponential": {"g": {"min": -5, "max": -1}}}}, "own range"),
    ({"params": {"exponential": {"g": {"value": 0.5, "vary": "no"}}}}, "'vary'. = 'no'"),
    ({"params": {"exponential": {"C0": {"expr": "g * 4"}}}}, "expr"),
    ({"params": {"exponential": _tied()}}, "lmfit expression 'g . 4'"),
    ({"params": {"exponential": [1]}}, "lmfit.Parameters or a dict"),
    ({"params": {"g": {"min": 2, "max": 1}}}, "keyed by model"),
    ({"max_nfev": 0}, "max_nfev = 0"),
    ({"max_nfev": -1}, "max_nfev = -1"),
    ({"max_nfev": 2.5}, "max_nfev = 2.5"),
    ({"max_nfev": True}, "max_nfev = True"),
    ({"extra_scatter": "yes"}, "extra_scatter"),
    ({"warn": "no"}, "warn"),
    ({"noise": 3}, "unknown noise model"),
    ({"errors": 3}, "errors = 3"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_CALLS, ids=[str(k) for k, _ in BAD_CALLS])
def test_wrong_fit_arguments_get_one_lsi_line(series, kwargs, match):
    kwargs = {"models": "exponential", **kwargs}
    with pytest.raises(LsiError, match=match) as info:
        lsi.fit(series, **kwargs)
    one_line(info)
    # every lsi error also is the builtin it refines, so plain except clauses keep working
    assert isinstance(info.value, ValueError | KeyError)


def test_good_arguments_of_every_accepted_kind(series):
    f = lsi.fit(series, "exponential", t0="2016-01-01", level=0.9, max_nfev=np.int64(2000), warn=False)
    assert f["exponential"].t0 == 2016.0
    from lsi.models.phenomenological import Exponential

    assert "exponential" in lsi.fit(series, Exponential, warn=False)
    assert "exponential" in lsi.fit(series, ("exponential",), warn=False)
    # an lmfit Parameters without ties is honoured
    p = lmfit.Parameters()
    p.add("g", value=0.4, min=0.1, max=2.0)
    p.add("C0", value=2.0)
    assert lsi.fit(series, "exponential", params={"exponential": p}, warn=False)["exponential"].converged
    # bounds a start lies inside are fine
    lsi.fit(series, "exponential", params={"exponential": {"g": {"value": 0.5, "min": 0.1, "max": 1}}}, warn=False)


def test_fit_accepts_a_dataframe(series):
    df = pd.DataFrame({"date": from_decimal_year(series.t), "value": series.y})
    f = lsi.fit(df, "exponential", warn=False)
    assert np.allclose(f.series.t, series.t, atol=1e-9)
    ps = pd.Series(series.y, index=pd.Index(series.t, name="t"))
    assert len(lsi.fit(ps, "exponential", warn=False).series) == len(series)
    with pytest.raises(SeriesError, match="lsi.Series or a pandas DataFrame"):
        lsi.fit({"t": [1, 2, 3]}, "exponential")


def test_default_noise_turning_additive_is_said(series):
    rng = np.random.default_rng(1)
    y = 1.0 + 2.0 * (series.t - 2015) + rng.normal(0, 0.3, series.t.size)
    y[3] = 0.0
    s = lsi.Series(series.t, y)
    assert np.any(s.y <= 0)
    with pytest.warns(SeriesWarning, match="noise: additive .chosen because .* <= 0") as rec:
        f = lsi.fit(s, "linear")
    assert f.noise.name == "additive" and len(rec) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lsi.fit(s, "linear", noise="additive")
        lsi.fit(series, "exponential")  # positive data: log noise, nothing to say


def test_parameter_errors_still_name_the_model_and_the_parameter(series):
    with pytest.raises(UnknownParameterError, match="no parameter 'r'"):
        lsi.fit(series, "exponential", params={"exponential": {"r": 1}})
    with pytest.raises(ParameterValueError, match="outside its bounds"):
        lsi.fit(series, "exponential", params={"exponential": {"g": {"value": 5.0, "max": 1.0}}})
