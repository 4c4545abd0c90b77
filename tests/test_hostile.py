"""Hostile input on the command line: every bad file, CSV, date, option, output path or name
gets one line and exit status 2, never a traceback, and leaves no file behind.

What standard error may hold when a command fails (the contract of ``lsi.cli``):

- ``lsi: warning: ...`` lines, said as they arise before the failure (a warning is never the
  failure itself), and
- exactly one ``lsi: error: ...`` line, last; nothing on standard output.

An interrupt is the one line ``lsi: interrupted`` and exit status 130 (``test_cli.py`` sends
a real SIGINT to ``lsi report``).  Most cases run ``main([...])`` in this process, which must
not leak a traceback either; a few run the installed entry point in a subprocess.  Every case
fails before any long work, or fits one model with no bootstrap, so the suite is fast.
"""

from __future__ import annotations

import errno
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from lsi.cli import main
from lsi.files import TEMP_PREFIX


# ---------------------------------------------------------------- the files
def _rows(n: int = 24, rate: float = 0.7) -> list[tuple[float, float]]:
    return [(2015 + i / 2, math.exp(rate * i / 2) * (1 + 0.04 * math.sin(3 * i))) for i in range(n)]


def _table(header: str, cells: list[str]) -> str:
    return header + "\n" + "\n".join(cells) + "\n"


GOOD = [f"{t:g},{y:.6g}" for t, y in _rows()]
DATES = [f"{int(t)}-{1 + 6 * (i % 2):02d}-01" for i, (t, _) in enumerate(_rows())]

#: file name -> text (str) or bytes
FILES: dict[str, str | bytes] = {
    "ok.csv": _table("t,y", GOOD),
    "empty.csv": "",
    "comments.csv": "# title: nothing\n# source: nowhere\n",
    "header_only.csv": "t,y\n",
    "binary.csv": bytes(range(256)) * 8,
    "utf16.csv": _table("t,y", GOOD).encode("utf-16"),
    "prose.csv": "This is not a table.\nIt is a letter, with a comma.\n",
    "one_column.csv": _table("t", [row.split(",")[0] for row in GOOD]),
    "repeated_header.csv": _table("t,y,y", [f"{row},1" for row in GOOD]),
    "no_value.csv": _table("t,score", GOOD),
    "no_time.csv": _table("when,y", GOOD),
    "text_value.csv": _table("t,y", [*GOOD[:5], "2017.5,abc", *GOOD[6:]]),
    "text_sigma.csv": _table("t,y,sigma", [f"{row},high" for row in GOOD]),
    "blank_time.csv": _table("t,y", [*GOOD[:3], ",5", *GOOD[4:]]),
    "blank_value.csv": _table("t,y", [*GOOD[:3], "2016.5,", *GOOD[4:]]),
    "nan_value.csv": _table("t,y", [*GOOD[:3], "2016.5,nan", *GOOD[4:]]),
    "inf_value.csv": _table("t,y", [*GOOD[:3], "2016.5,inf", *GOOD[4:]]),
    "nan_time.csv": _table("t,y", [*GOOD[:3], "nan,5", *GOOD[4:]]),
    "negative.csv": _table("t,y", [f"{t:g},{-y:.6g}" for t, y in _rows()]),
    "zeros.csv": _table("t,y", [f"{t:g},0" for t, _ in _rows()]),
    "lower_only.csv": _table("t,y,lower", [f"{row},0.5" for row in GOOD]),
    "upper_only.csv": _table("t,y,upper", [f"{row},9e9" for row in GOOD]),
    "two_time_columns.csv": _table("date,t,y", [f"{d},{row}" for d, row in zip(DATES, GOOD, strict=True)]),
    "ragged.csv": _table("t,y", [*GOOD[:4], "2017,3,4,5,6", *GOOD[5:]]),
    "unbalanced_quote.csv": _table("t,y", ['"2015,1', *GOOD[1:]]),
    "two_points.csv": _table("t,y", GOOD[:2]),
    "nul_bytes.csv": _table("t,y", [*GOOD[:3], "2016.5,4\x00", *GOOD[4:]]),
    "negative_sigma.csv": _table("t,y,sigma", [f"{row},-0.1" for row in GOOD]),
    "huge_times.csv": _table("t,y", ["1e30,1", "1e30,2", "1.0000000000000001e30,3", "1e30,4", "1e30,5"]),
    "mixed_dates.csv": _table("date,value", ["2015.5,1", "2016-07-02,2", "2017-01-01,4", "2018-01-01,8"]),
    "day_month.csv": _table("date,value", [f"{d:02d}/03/{2010 + d},{2.0**d}" for d in range(1, 14)]),
    "excel_serials.csv": _table("date,value", [f"{45000 + 60 * i},{1.1**i:.4f}" for i in range(12)]),
    "unix_times.csv": _table("date,value", [f"{1.6e9 + 3e6 * i:.0f},{1.1**i:.4f}" for i in range(12)]),
    "impossible_day.csv": _table("date,value", ["2023-02-30,1", "2023-03-01,2", "2023-04-01,3", "2023-05-01,4"]),
    "far_dates.csv": _table("date,value", [f"{10**6 + i}-01-01,{i + 1}" for i in range(6)]),
    "iso_dates.csv": _table("date,value", [f"{d},{y:.6g}" for d, (_, y) in zip(DATES, _rows(), strict=True)]),
    "logit_scores.csv": _table("t,y", [f"{t:g},{0.1 + 0.03 * i:.3f}" for i, (t, _) in enumerate(_rows())]),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    for name, content in FILES.items():
        if isinstance(content, bytes):
            (d / name).write_bytes(content)
        else:
            (d / name).write_text(content, encoding="utf-8")
    os.mkfifo(d / "pipe.csv")
    (d / "loop.csv").symlink_to(d / "loop.csv")
    (d / "dangling.csv").symlink_to(d / "no-such-target.csv")
    (d / "a_folder.csv").mkdir()
    (d / "blocker").write_text("a file where a folder is expected\n")
    return d


# ---------------------------------------------------------------- the cases
# {d}: the folder of the files above; {out}: a fresh empty folder for the case's outputs
ONE = ["--models", "exponential"]  # a fit of one model, when a case needs a fit at all
OK = "{d}/ok.csv"

CASES: list[tuple[str, list[str], str]] = [
    # --- bad files
    ("missing file", ["fit", "{d}/missing.csv"], "no such file"),
    ("folder as source", ["fit", "{d}"], "it is a folder"),
    ("folder named .csv", ["fit", "{d}/a_folder.csv"], "it is a folder"),
    ("device as source", ["fit", "/dev/null"], "not a regular file"),
    ("endless device", ["report", "/dev/zero"], "not a regular file"),
    ("named pipe", ["fit", "{d}/pipe.csv"], "not a regular file"),
    ("symlink loop", ["fit", "{d}/loop.csv"], "cannot read"),
    ("dangling symlink", ["fit", "{d}/dangling.csv"], "no such file"),
    ("path under a file", ["fit", "{d}/blocker/x.csv"], ""),
    ("kernel file", ["fit", "/proc/version"], ""),
    ("system file", ["fit", "/etc/passwd"], "as CSV"),
    ("not a dataset", ["fit", "no_such_dataset"], "neither a CSV file nor a shipped dataset"),
    ("dataset in capitals", ["fit", "METR_HORIZONS"], "neither a CSV file nor a shipped dataset"),
    ("empty source", ["fit", ""], "neither a CSV file nor a shipped dataset"),
    ("dash as source", ["fit", "-"], "neither a CSV file nor a shipped dataset"),
    # --- bad CSV contents
    ("empty file", ["fit", "{d}/empty.csv"], "no header or rows"),
    ("comments only", ["fit", "{d}/comments.csv"], "no header or rows"),
    ("header only", ["fit", "{d}/header_only.csv"], ""),
    ("binary", ["fit", "{d}/binary.csv"], "not UTF-8"),
    ("utf-16", ["fit", "{d}/utf16.csv"], "not UTF-8"),
    ("prose", ["fit", "{d}/prose.csv"], "no time column"),
    ("one column", ["fit", "{d}/one_column.csv"], "no value column"),
    ("repeated header", ["fit", "{d}/repeated_header.csv"], "repeats the column name 'y'"),
    ("no value column", ["fit", "{d}/no_value.csv"], "no value column"),
    ("no time column", ["fit", "{d}/no_time.csv"], "no time column"),
    ("text value", ["fit", "{d}/text_value.csv"], "holds non-numbers"),
    ("text sigma", ["fit", "{d}/text_sigma.csv"], "holds non-numbers"),
    ("blank time", ["fit", "{d}/blank_time.csv"], "--dropna"),
    ("blank value", ["fit", "{d}/blank_value.csv"], "--dropna"),
    ("nan value", ["fit", "{d}/nan_value.csv"], ""),
    ("inf value", ["fit", "{d}/inf_value.csv"], ""),
    ("nan time", ["fit", "{d}/nan_time.csv"], ""),
    ("negative on log noise", ["fit", "{d}/negative.csv", "--noise", "log"], ""),
    ("zeros on logit noise", ["fit", "{d}/zeros.csv", "--noise", "logit"], "strictly inside (0, 1)"),
    ("above one on logit noise", ["fit", OK, "--noise", "logit"], "strictly inside (0, 1)"),
    ("lower without upper", ["fit", "{d}/lower_only.csv"], "--upper"),
    ("upper without lower", ["fit", "{d}/upper_only.csv"], "--lower"),
    ("two time columns", ["fit", "{d}/two_time_columns.csv"], "--time"),
    ("ragged rows", ["fit", "{d}/ragged.csv"], ""),
    ("unbalanced quote", ["fit", "{d}/unbalanced_quote.csv"], ""),
    ("two points", ["fit", "{d}/two_points.csv", *ONE], ""),
    ("nul byte", ["fit", "{d}/nul_bytes.csv"], ""),
    ("negative sigma", ["fit", "{d}/negative_sigma.csv"], "sigma"),
    ("times that collapse", ["fit", "{d}/huge_times.csv"], ""),
    # --- bad dates
    ("decimal years beside dates", ["fit", "{d}/mixed_dates.csv"], "mix decimal years"),
    ("day or month first", ["fit", "{d}/day_month.csv"], "--dayfirst or --monthfirst"),
    ("spreadsheet serials", ["fit", "{d}/excel_serials.csv"], "--date-unit excel"),
    ("unix timestamps", ["fit", "{d}/unix_times.csv"], "--date-unit"),
    ("impossible day", ["fit", "{d}/impossible_day.csv"], ""),
    ("dates far in the future", ["fit", "{d}/far_dates.csv"], ""),
    ("date format that does not match", ["fit", "{d}/iso_dates.csv", "--date-format", "%d/%m/%Y"], ""),
    ("date unit on dates", ["fit", "{d}/iso_dates.csv", "--date-unit", "s"], "--date-unit"),
    ("unknown date unit", ["fit", "{d}/unix_times.csv", "--date-unit", "fortnight"], "--date-unit"),
    ("both day orders", ["fit", "{d}/day_month.csv", "--dayfirst", "--monthfirst"], "not allowed with"),
    ("column option on a dataset", ["fit", "metr_horizons", "--time", "date"], "apply to a CSV file"),
    ("date option on a dataset", ["fit", "metr_horizons", "--dayfirst"], "apply to a CSV file"),
    ("missing named column", ["fit", OK, "--time", "Release date"], "no column 'Release date'"),
    ("one column for two roles", ["fit", OK, "--time", "y"], ""),
    # --- bad options
    ("negative seed", ["report", OK, "--seed", "-1"], "--seed -1"),
    ("text seed", ["forecast", OK, "--until", "2030", "--seed", "abc"], "--seed 'abc'"),
    ("fractional seed", ["backtest", OK, "--seed", "1.5"], "--seed '1.5'"),
    ("negative sobol seed", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--sobol", "--seed=-3"], "--seed"),
    ("level zero", ["fit", OK, "--level", "0"], "--level 0"),
    ("level one", ["forecast", OK, "--until", "2030", "--level", "1"], "--level 1"),
    ("level nan", ["fit", OK, "--level", "nan"], "--level nan"),
    ("level negative", ["backtest", OK, "--level=-0.5"], "--level -0.5"),
    ("level as percent", ["report", OK, "--level", "95"], "--level 95"),
    ("horizon nan", ["report", OK, "--horizon", "nan"], "--horizon nan"),
    ("horizon inf", ["report", OK, "--horizon", "inf"], "--horizon inf"),
    ("horizon far", ["report", OK, "--horizon", "1e9"], "--horizon 1e9"),
    ("horizon before the data", ["report", OK, *ONE, "--horizon", "2016"], "not after the last observation"),
    ("horizon not a date", ["report", OK, "--horizon", "soon"], "--horizon 'soon'"),
    ("until nan", ["forecast", OK, "--until", "nan"], "--until nan"),
    ("until inf", ["forecast", OK, "--until", "inf"], "--until inf"),
    ("until far", ["forecast", OK, "--until", "1e9"], "--until 1e9"),
    ("until before the data", ["forecast", OK, "--until", "2020"], "until = 2020.000 is not after"),
    ("until not a date", ["forecast", OK, "--until", "tomorrow"], "--until 'tomorrow'"),
    ("until empty", ["forecast", OK, "--until", ""], "--until is empty"),
    ("figures until before the data", ["figures", OK, "--out", "{out}/f", "--until", "2001"], "not after"),
    ("step zero", ["forecast", OK, "--until", "2030", "--step", "0"], "--step 0"),
    ("step negative", ["forecast", OK, "--until", "2030", "--step=-1"], "--step -1"),
    ("step tiny", ["forecast", OK, "--until", "2030", "--step", "1e-9"], "give --step"),
    ("step nan", ["forecast", OK, "--until", "2030", "--step", "nan"], "--step nan"),
    ("bootstrap negative", ["report", OK, "--bootstrap", "-1"], "--bootstrap -1"),
    ("bootstrap not whole", ["report", OK, "--bootstrap", "1e3"], "--bootstrap '1e3'"),
    ("bootstrap beyond reason", ["report", OK, "--bootstrap", "1000000000"], "at most 100_000"),
    ("figures bootstrap negative", ["figures", OK, "--out", "{out}/f", "--bootstrap", "-5"], "--bootstrap -5"),
    ("n zero", ["forecast", OK, "--until", "2030", "--n", "0"], "--n 0"),
    ("n too few", ["forecast", OK, "--until", "2030", "--n", "10"], "--n 10"),
    ("n-boot negative", ["backtest", OK, "--n-boot", "-1"], "--n-boot -1"),
    ("naive points too few", ["backtest", OK, "--naive-points", "2"], "--naive-points 2"),
    ("backtest horizon zero", ["backtest", OK, "--horizon", "0"], "--horizon 0"),
    ("backtest t0", ["backtest", OK, "--t0", "2015"], "does not take --t0"),
    ("backtest origin text", ["backtest", OK, *ONE, "--origins", "abc"], "origins"),
    ("t0 nan", ["fit", OK, "--t0", "nan"], "--t0 nan"),
    ("t0 inf", ["report", OK, "--t0", "inf"], "--t0 inf"),
    ("t0 far away", ["fit", OK, *ONE, "--t0", "1e9"], "t0"),
    ("reach zero", ["forecast", OK, "--until", "2030", "--reach", "0"], "--reach 0: a level <= 0 cannot be reached"),
    ("reach negative", ["forecast", OK, "--until", "2030", "--reach=-5"], "--reach -5"),
    ("reach nan", ["forecast", OK, "--until", "2030", "--reach", "nan"], "--reach nan"),
    (
        "reach above one on logit",
        ["forecast", "{d}/logit_scores.csv", "--noise", "logit", "--until", "2030", "--reach", "2"],
        "strictly inside (0, 1)",
    ),
    ("figures reach zero", ["figures", OK, "--out", "{out}/f", "--reach", "0"], "--reach 0"),
    ("unknown model", ["fit", OK, "--models", "sigmoid"], "unknown model 'sigmoid'"),
    ("no model", ["fit", OK, "--models", ","], "models is empty"),
    ("unknown noise", ["fit", OK, "--noise", "gaussian"], "--noise: invalid choice"),
    ("unknown check", ["report", OK, "--checks", "vibes"], "--checks vibes"),
    ("threshold nan", ["report", OK, "--kappa-min", "nan"], "--kappa-min nan"),
    ("threshold out of range", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--kappa-min", "5"], "kappa_min"),
    ("dpi zero", ["figures", OK, "--out", "{out}/f", "--dpi", "0"], "--dpi 0"),
    ("dpi huge", ["figures", OK, "--out", "{out}/f", "--dpi", "100000"], "--dpi 100000"),
    ("unknown format", ["figures", OK, "--out", "{out}/f", "--format", "gif"], "--format"),
    ("unknown width", ["figures", OK, "--out", "{out}/f", "--width", "triple"], "--width"),
    ("figures without out", ["figures", OK], "--out"),
    ("unknown option", ["fit", OK, "--frobnicate"], "unrecognized arguments: --frobnicate"),
    ("unknown command", ["frobnicate"], "invalid choice: 'frobnicate'"),
    ("no source", ["report"], "required: source"),
    ("option without value", ["forecast", OK, "--until"], "--until: expected one argument"),
    ("param twice", ["sweep", "--until", "9", "--param", "p=0.5:1:3", "--param", "p=0.1"], "p is already given"),
    ("param and fixed", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--fixed", "g0=1"], "g0 is already"),
    ("fixed nan", ["sweep", "--until", "9", "--fixed", "g0=nan"], "--fixed g0=nan"),
    ("fixed text", ["sweep", "--until", "9", "--fixed", "g0=fast"], "--fixed g0=fast"),
    ("param without value", ["sweep", "--until", "9", "--param", "g0"], "NAME=VALUE"),
    ("param without name", ["sweep", "--until", "9", "--param", "=0.5"], "name is missing"),
    ("bad grid", ["sweep", "--until", "9", "--param", "g0=0:1"], "cannot read the grid"),
    ("grid of no cells", ["sweep", "--until", "9", "--param", "g0=0:1:0"], "count 0"),
    ("unknown parameter", ["sweep", "--until", "9", "--param", "bogus=1"], "no parameter 'bogus'"),
    ("sweep until nan", ["sweep", "--until", "nan", "--param", "g0=0.1:1:3"], "--until nan"),
    ("sweep until before t0", ["sweep", "--until", "-5", "--param", "g0=0.1:1:3"], "not after t0"),
    ("sweep t0 inf", ["sweep", "--until", "9", "--t0", "inf", "--param", "g0=0.1:1:3"], "--t0 inf"),
    ("chunks zero", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--chunks", "0"], "--chunks 0"),
    ("multiple nan", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--multiple", "nan"], "--multiple nan"),
    ("multiple below one", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--multiple", "0.5"], "multiples"),
    ("sobol n not a power of 2", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--sobol", "--n", "3"], "power"),
    ("sobol without a range", ["sweep", "--until", "9", "--fixed", "g0=0.5", "--sobol"], "--sobol needs"),
    ("unknown engine", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--engine", "gpu"], "--engine"),
    # --- bad paths for --out
    ("report out at a file", ["report", OK, "--out", "{d}/ok.csv"], "a file of that name is there"),
    ("report out under a file", ["report", OK, "--out", "{d}/blocker/rep"], "is a file, not a folder"),
    ("report out in /proc", ["report", OK, "--out", "/proc/lsi-report"], "/proc holds the kernel's state"),
    ("report out in /sys", ["report", OK, "--out", "/sys/lsi-report"], "/sys holds the kernel's state"),
    ("figures out at a file", ["figures", OK, "--out", "{d}/ok.csv"], "a file of that name is there"),
    ("figures out in /proc", ["figures", OK, "--out", "/proc/self/lsi"], "/proc"),
    ("sweep out at a folder", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--out", "{out}"], "it is a folder"),
    (
        "sweep out in a missing folder",
        ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--out", "{out}/no/such/s.nc"],
        "does not exist",
    ),
    (
        "sweep out under a file",
        ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--out", "{d}/blocker/s.nc"],
        "is a file, not a folder",
    ),
    ("sweep out in /sys", ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--out", "/sys/s.nc"], "/sys"),
    (
        "sweep out name too long",
        ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--out", "{out}/" + "n" * 300],
        "the name is too long for the file system",
    ),
    # --- hostile names
    ("newline in a name", ["fit", "{d}/two\nlines.csv"], "no such file"),
    ("terminal escape in a name", ["fit", "\x1b[2J\x1b[31mred"], "neither a CSV file"),
    ("very long name", ["fit", "x" * 5000 + ".csv"], ""),
    ("quotes in a name", ["fit", '{d}/it\'s "quoted".csv'], "no such file"),
    ("markdown in a name", ["fit", "# Title <img src=x onerror=alert(1)>"], "neither a CSV file"),
    ("option-like model list", ["fit", OK, "--models", "--json"], "--models: expected one argument"),
    ("newline in --out", ["report", OK, "--out", "{d}/blocker/new\nline"], "is a file, not a folder"),
]


def _fill(argv: list[str], d: Path, out: Path) -> list[str]:
    return [a.replace("{d}", str(d)).replace("{out}", str(out)) for a in argv]


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_the_suite_is_large_and_every_case_distinct():
    assert len(CASES) >= 80
    assert len({name for name, _, _ in CASES}) == len(CASES)
    assert len({tuple(argv) for _, argv, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("argv", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input_is_one_line_and_exit_2(capsys, data, tmp_path, argv, match):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    before = _listing(data)
    ok_text = (data / "ok.csv").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # as on the command line: lsi warnings are lines
        code = main(_fill(argv, data, out_dir))
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    errors = [line for line in lines if not line.startswith("lsi: warning:")]
    assert len(errors) == 1 and errors[0].startswith("lsi: error: "), err
    assert errors[0] == lines[-1]  # the error line is the last
    assert all(c.isprintable() for c in errors[0])
    assert match in errors[0], errors[0]
    # nothing written, nothing left behind
    assert _listing(data) == before
    assert (data / "ok.csv").read_text() == ok_text
    assert list(out_dir.iterdir()) == []
    assert not [p for p in Path(tmp_path).rglob(TEMP_PREFIX + "*")]


# ---------------------------------------------------------------- faults
def test_unwritable_out_folder(capsys, data, tmp_path, monkeypatch):
    """A folder without write permission (mocked: the suite may run as root, who may write anywhere)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if str(p) == str(locked) else real(p, mode, **k))
    for argv in (
        ["report", str(data / "ok.csv"), "--out", str(locked / "rep")],
        ["figures", str(data / "ok.csv"), "--out", str(locked / "figs")],
        ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--out", str(locked / "s.nc")],
    ):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("lsi: error: cannot write") and "permission denied" in err
        assert err.count("\n") == 1
    assert list(locked.iterdir()) == []


def test_unreadable_source(capsys, data, monkeypatch):
    """A file without read permission (mocked, as above)."""
    source = data / "ok.csv"
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if str(p) == str(source) else real(p, mode, **k))
    code = main(["fit", str(source)])
    err = capsys.readouterr().err
    assert code == 2 and err == f"lsi: error: cannot read {source}: permission denied; check the file's " + (
        "permissions or copy it somewhere you can read\n"
    )


@pytest.mark.parametrize("code_", [errno.ENOSPC, errno.EROFS, errno.EIO])
def test_a_disk_that_fails_while_writing_leaves_nothing(capsys, tmp_path, monkeypatch, code_):
    import xarray as xr

    def failing(self, path, *a, **k):
        Path(path).write_bytes(b"CDF\x01 a part")
        raise OSError(code_, os.strerror(code_), str(path))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", failing)
    target = tmp_path / "s.nc"
    code = main(["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--out", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"lsi: error: cannot write {target}") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def test_a_disk_that_fails_while_writing_a_report_keeps_the_previous_one(capsys, data, tmp_path, monkeypatch):
    pytest.importorskip("jinja2")
    pytest.importorskip("markdown_it")
    import lsi.report

    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.md").write_text("the previous report\n")

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(lsi.report, "_figures", full)
    argv = ["report", str(data / "ok.csv"), *ONE, "--bootstrap", "0", "--checks", "none", "--out", str(out)]
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("lsi: warning:")]
    assert code == 2 and len(lines) == 1 and "no space left" in lines[0], err
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]
    assert (out / "report.md").read_text() == "the previous report\n"
    assert not list(tmp_path.glob(TEMP_PREFIX + "*"))


def test_legitimate_inputs_still_succeed(capsys, data, tmp_path):
    """The suite's neighbours that are fine: the same files and options, used rightly."""
    good = [
        ["fit", str(data / "day_month.csv"), *ONE, "--dayfirst"],
        ["fit", str(data / "excel_serials.csv"), *ONE, "--date-unit", "excel"],
        ["fit", str(data / "unix_times.csv"), *ONE, "--date-unit", "s"],
        ["fit", str(data / "blank_time.csv"), *ONE, "--dropna"],
        ["fit", str(data / "iso_dates.csv"), *ONE, "--date-format", "%Y-%m-%d"],
        ["fit", str(data / "negative.csv"), *ONE, "--noise", "additive"],
        ["sweep", "--until", "9", "--param", "g0=0.1:1:3", "--out", str(tmp_path / "s.nc")],
    ]
    for argv in good:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, (argv, err)
        assert "lsi: error" not in err and "Traceback" not in err
    assert (tmp_path / "s.nc").is_file()


# ---------------------------------------------------------------- the real entry point
@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["report", "{d}/ok.csv", "--seed", "-1"], "--seed -1"),
        (["fit", "/dev/null"], "not a regular file"),
        (["fit", "{d}/binary.csv"], "not UTF-8"),
        (["forecast", "{d}/ok.csv", "--until", "nan"], "--until nan"),
        (["report", "{d}/ok.csv", "--out", "/proc/x"], "/proc"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_the_installed_command_gives_one_line(data, tmp_path, argv, match):
    run = subprocess.run(
        [sys.executable, "-m", "lsi", *_fill(argv, data, tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2
    assert run.stdout == "" and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("lsi: error: ") and match in run.stderr
