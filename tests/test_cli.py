"""The lsi command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings

import pytest

from lsi.cli import main


def run(capsys, *argv):
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # the CLI turns lsi warnings into one stderr line each
        code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_json_schema_on_shipped_dataset(capsys):
    code, out, err = run(capsys, "fit", "metr_horizons", "--all-rows", "--models", "all", "--noise", "log", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["n"] == 17 and d["noise"] == "log"
    names = [m["name"] for m in d["models"]]
    assert set(names) >= {"linear", "exponential", "hyperbolic", "brake", "logistic", "richards", "gompertz", "amdahl"}
    assert sum(m["weight"] for m in d["models"]) == pytest.approx(1.0)
    for m in d["models"]:
        assert isinstance(m["converged"], bool)
        assert set(m["params"]) >= {"C0"}
        for p in m["params"].values():
            assert isinstance(p["value"], float)
            assert p["stderr"] is None or isinstance(p["stderr"], float)
        for key in ("rss", "loglik", "aicc", "bic", "weight"):
            assert m[key] is None or isinstance(m[key], float)
        assert isinstance(m["n_params"], int)
        assert len(m["fitted"]) == 17
        for key in ("doubling_time", "singularity_time"):
            v = m[key]
            assert v is None or set(v) == {"value", "lower", "upper", "unit"}
    hyp = next(m for m in d["models"] if m["name"] == "hyperbolic")
    assert hyp["singularity_time"] is not None
    exp = next(m for m in d["models"] if m["name"] == "exponential")
    assert exp["singularity_time"] is None
    assert exp["doubling_time"]["unit"] == "days" and 0 < exp["doubling_time"]["value"] < 2 * 365.25
    for line in err.splitlines():  # warnings are one line each
        assert line.startswith("lsi: warning:")


def test_fit_csv_and_table(tmp_path, capsys):
    p = tmp_path / "h.csv"
    p.write_text("t,y\n" + "\n".join(f"{2020 + i / 4},{2 ** (i / 4) * (1 + 0.01 * (-1) ** i)}" for i in range(20)))
    code, out, err = run(capsys, "fit", str(p), "--models", "exponential,logistic")
    assert code == 0
    assert "exponential" in out and "logistic" in out and "AICc" in out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["fit", "no_such_dataset"], "neither a CSV file nor a shipped dataset"),
        (["fit", "metr_horizons", "--models", "sigmoid"], "unknown model 'sigmoid'"),
        (["fit", "metr_horizons", "--noise", "logit"], "strictly inside (0, 1)"),
        (["fit", "/nonexistent/file.csv"], "no such file"),
    ],
)
def test_errors_are_one_line_and_exit_2(capsys, argv, match):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert match in err
    errors = [line for line in err.splitlines() if not line.startswith("lsi: warning:")]
    assert errors == [errors[0]] and errors[0].startswith("lsi: error:")


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "lsi", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("lsi ")


#: the science stack: none of it may load for --help or an argument error
HEAVY = ("numpy", "scipy", "pandas", "matplotlib", "xarray", "lmfit", "sympy")


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--help"], 0),
        (["fit", "--help"], 0),
        (["forecast", "--help"], 0),
        (["report", "--help"], 0),
        (["fit"], 2),  # the source is missing
        (["forecast", "metr_horizons"], 2),  # --until is missing
        (["report", "metr_horizons", "--bootstrap", "many"], 2),
        (["no-such-command"], 2),
    ],
)
def test_help_and_argument_errors_do_not_import_the_science_stack(argv, code):
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "lsi", *argv], capture_output=True, text=True)
    assert run.returncode == code
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "lsi" in imported
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


@pytest.mark.parametrize(
    ("command", "level"),
    [("fit", 0.95), ("compare", 0.95), ("report", 0.95), ("figures", 0.95), ("forecast", 0.9), ("backtest", 0.9)],
)
def test_level_help_states_each_commands_real_default(capsys, command, level):
    from lsi.cli import build_parser

    extra = {"forecast": ["--until", "2030"], "figures": ["--out", "x"]}.get(command, [])
    args = build_parser().parse_args([command, "metr_horizons", *extra])
    assert args.level == level
    assert f"--level LEVEL interval level (default {level:g})" in _help(capsys, command)


def test_every_option_has_help():
    from lsi.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    for name, p in sub.choices.items():
        for action in p._actions:
            assert action.help, f"lsi {name} {'/'.join(action.option_strings) or action.dest} has no help"
    text = " ".join(sub.choices["sweep"].format_help().split())
    for option in ("--kappa-min", "--rho-min", "--eta-min", "--seed"):
        assert re.search(rf"{option} \S+ \w+ threshold|{option} \S+ seed of", text), option
    assert "(default 0.5" in text and "(default 0:" in text


def test_the_cli_bootstrap_default_is_the_library_one():
    from lsi import bootstrap, cli

    assert cli.DEFAULT_N == bootstrap.DEFAULT_N


# ---------------------------------------------------------------- one line for every failure
def _growth_csv(path, n=24, rate=0.7, header="t,y"):
    """An exponential history with a little deterministic scatter, as a CSV."""
    import math

    rows = [f"{2015 + i / 2:g},{math.exp(rate * i / 2) * (1 + 0.04 * math.sin(3 * i)):.6g}" for i in range(n)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def _one_error(code, out, err, match=None):
    assert code == 2, err
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if not line.startswith("lsi: warning:")]
    assert len(lines) == 1 and lines[0].startswith("lsi: error:"), err
    if match is not None:
        assert match in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["report", "H", "--seed", "-1"], "--seed -1: a seed is a whole number >= 0 (e.g. --seed 0)"),
        (["forecast", "H", "--until", "2030", "--seed", "x"], "--seed 'x': a seed is a whole number"),
        (["report", "H", "--horizon", "nan"], "--horizon nan: a date must be a finite decimal year"),
        (["report", "H", "--horizon", "2016"], "horizon = 2016.000 is not after the last observation"),
        (["forecast", "H", "--until", "inf"], "--until inf"),
        (["forecast", "H", "--until", "2030", "--step", "0"], "--step 0: a step must be a positive"),
        (["forecast", "H", "--until", "2030", "--step", "1e-9"], "give --step"),
        (["fit", "H", "--level", "1"], "--level 1: a level is a probability strictly between 0 and 1"),
        (["fit", "H", "--t0", "inf"], "--t0 inf: a time origin must be a finite number"),
        (["report", "H", "--bootstrap", "-1"], "--bootstrap -1: the number of bootstrap replicates"),
        (["backtest", "H", "--n-boot", "-1"], "--n-boot -1"),
        (["backtest", "H", "--naive-points", "2"], "--naive-points 2"),
        (["forecast", "H", "--until", "2030", "--n", "5"], "--n 5"),
        (["figures", "H", "--out", "OUT", "--bootstrap", "-1"], "--bootstrap -1"),
        (["sweep", "--until", "40", "--param", "g0=0.1:1:3", "--chunks", "0"], "--chunks 0"),
        (["sweep", "--until", "nan", "--param", "g0=0.1:1:3"], "--until nan"),
    ],
)
def test_wrong_values_are_one_line_naming_the_option_and_the_fix(capsys, tmp_path, argv, match):
    src = str(_growth_csv(tmp_path / "h.csv"))
    argv = [src if a == "H" else str(tmp_path / "out") if a == "OUT" else a for a in argv]
    _one_error(*run(capsys, *argv), match=match)
    assert not (tmp_path / "out").exists()


def test_nothing_silently_dropped_param_fixed_reach(capsys, tmp_path):
    src = str(_growth_csv(tmp_path / "h.csv"))
    sweep = ["sweep", "--until", "40", "--fixed", "a=1"]
    _one_error(*run(capsys, *sweep, "--param", "p=0.5:1:3", "--param", "p=0.6:1:3"), match="p is already given")
    _one_error(*run(capsys, *sweep, "--param", "g0=0.1:1:3", "--fixed", "g0=0.5"), match="g0 is already given")
    _one_error(*run(capsys, *sweep, "--fixed", "g0=nan"), match="--fixed g0=nan: the value must be a number")
    # a level <= 0 cannot be reached on log noise: refused with the reason, never ignored
    line = _one_error(*run(capsys, "forecast", src, "--until", "2030", "--reach", "0"))
    assert "--reach 0: a level <= 0 cannot be reached on log noise" in line
    _one_error(*run(capsys, "figures", src, "--out", str(tmp_path / "f"), "--reach", "-3"), match="--reach -3")
    assert not (tmp_path / "f").exists()


def test_out_is_checked_before_the_long_work(capsys, tmp_path, monkeypatch):
    import lsi.fitting

    def no_fit(*a, **k):  # the work must not start
        raise AssertionError("fitted before --out was checked")

    monkeypatch.setattr(lsi.fitting, "fit", no_fit)
    src = str(_growth_csv(tmp_path / "h.csv"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out, match in [
        (str(blocker), "a file of that name is there"),
        (str(blocker / "sub"), "is a file, not a folder"),
        ("/proc/lsi-out", "/proc holds the kernel's state"),
        ("/sys/lsi-out", "/sys holds the kernel's state"),
    ]:
        for cmd in (["report", src, "--out", out], ["figures", src, "--out", out]):
            _one_error(*run(capsys, *cmd), match=match)
    assert blocker.read_text() == "x"
    _one_error(*run(capsys, "sweep", "--until", "40", "--param", "g0=0.1:1:3", "--out", str(tmp_path)), "folder")


def test_unwritable_out_folder_is_one_line(capsys, tmp_path, monkeypatch):
    src = str(_growth_csv(tmp_path / "h.csv"))
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if str(p) == str(locked) else real(p, mode, **k))
    _one_error(*run(capsys, "report", src, "--out", str(locked / "rep")), match="permission denied")
    assert list(locked.iterdir()) == []


def test_a_folder_or_device_as_source_is_one_line(capsys, tmp_path):
    _one_error(*run(capsys, "fit", str(tmp_path)), match="it is a folder")
    _one_error(*run(capsys, "fit", "/dev/null"), match="not a regular file")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # reading it would block for ever
    _one_error(*run(capsys, "fit", str(fifo)), match="not a regular file")
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    _one_error(*run(capsys, "fit", str(loop)), match="cannot read")


def test_fallbacks_os_error_memory_interrupt(capsys, monkeypatch):
    import errno

    from lsi import cli

    def boom(exc):
        def cmd(args):
            raise exc

        return cmd

    cases = [
        (OSError(errno.EIO, "Input/output error", "/data/x.csv"), 2, "lsi: error: /data/x.csv: input/output error"),
        (MemoryError(), 2, "lsi: error: out of memory"),
        (KeyboardInterrupt(), 130, "lsi: interrupted"),
        (UserWarning("a warning made an error"), 2, "lsi: error: a warning made an error (UserWarning, an error"),
    ]
    for exc, code, first in cases:
        monkeypatch.setattr(cli, "_cmd_datasets", boom(exc))
        got, out, err = run(capsys, "datasets")
        assert got == code and out == "" and "Traceback" not in err
        assert err.splitlines() == [err.splitlines()[0]] and err.startswith(first), err


def test_a_closed_pipe_ends_quietly(capsys, monkeypatch):
    from lsi import cli

    def cmd(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "_cmd_datasets", cmd)
    assert run(capsys, "datasets") == (141, "", "")


def test_messages_stay_one_printable_line(capsys):
    code, out, err = run(capsys, "fit", "no\nsuch\x1b[31m.csv")
    line = _one_error(code, out, err)
    assert "\x1b" not in err and "\\x1b" in line


def test_warnings_are_lines_and_notes_come_after_success(capsys):
    import io

    from lsi.cli import _warning_line

    buf = io.StringIO()
    _warning_line("invalid value\nencountered", RuntimeWarning, "f.py", 1, file=buf)
    assert buf.getvalue() == "lsi: warning: RuntimeWarning: invalid value\\nencountered\n"
    # a failure: the one error line, no note; a success: the note at the end
    code, out, err = run(capsys, "fit", "metr_horizons", "--models", "sigmoid")
    assert _one_error(code, out, err).startswith("lsi: error: unknown model 'sigmoid'")
    assert "note" not in err


# ---------------------------------------------------------------- columns of a raw CSV
EPOCH = """Model,Release date,ECI Score,Organization
GPT-3,2020-05-28,100.2,OpenAI
Gopher,2021-12-08,104.9,DeepMind
PaLM,2022-04-04,112.3,Google
GPT-3.5,2022-11-30,118.0,OpenAI
GPT-4,2023-03-14,131.5,OpenAI
Claude 3 Opus,2024-03-04,139.8,Anthropic
GPT-4o,2024-05-13,142.1,OpenAI
o1,2024-12-05,150.6,OpenAI
o3,2025-04-16,157.3,OpenAI
"""


def test_column_options_read_a_raw_epoch_csv(capsys, tmp_path):
    src = tmp_path / "epoch_capabilities.csv"
    src.write_text(EPOCH)
    line = _one_error(*run(capsys, "fit", str(src), "--models", "exponential"))
    assert "name it with --time ..." in line and "'Release date'" in line  # the option, not time=
    code, out, err = run(
        capsys,
        *("fit", str(src), "--time", "Release date", "--value", "ECI Score", "--label", "Model"),
        *("--models", "exponential,linear", "--json"),
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["n"] == 9 and {m["name"] for m in d["models"]} == {"exponential", "linear"}
    # options for a shipped dataset are refused, not ignored
    line = _one_error(*run(capsys, "fit", "metr_horizons", "--time", "date", "--dropna"))
    assert "--time, --dropna: column and date options apply to a CSV file" in line


def test_date_options_and_messages_in_the_command_lines_words(capsys, tmp_path):
    src = tmp_path / "dmy.csv"
    src.write_text("date,value\n" + "\n".join(f"{d:02d}/03/{2010 + d},{2.0**d}" for d in range(1, 14)) + "\n")
    line = _one_error(*run(capsys, "fit", str(src), "--models", "exponential"))
    assert "--dayfirst or --monthfirst" in line and "dayfirst=" not in line
    code, out, err = run(capsys, "fit", str(src), "--models", "exponential", "--dayfirst", "--json")
    assert code == 0, err
    code, out, err = run(capsys, "fit", str(src), "--models", "exponential", "--date-format", "%d/%m/%Y")
    assert code == 0, err
    # month first: 13/03/2023 cannot be read so, and the refusal names the option
    assert "13/03/2023" in _one_error(*run(capsys, "fit", str(src), "--models", "exponential", "--monthfirst"))
    serial = tmp_path / "serial.csv"
    serial.write_text("date,value\n" + "\n".join(f"{45000 + 60 * i},{1.1**i}" for i in range(12)) + "\n")
    line = _one_error(*run(capsys, "fit", str(serial), "--models", "exponential"))
    assert "--date-unit excel" in line
    code, out, err = run(capsys, "fit", str(serial), "--models", "exponential", "--date-unit", "excel")
    assert code == 0, err
    blank = _growth_csv(tmp_path / "blank.csv")
    blank.write_text(blank.read_text().replace("\n2016,", "\n,", 1))
    assert "--dropna" in _one_error(*run(capsys, "fit", str(blank), "--models", "exponential"))
    code, out, err = run(capsys, "fit", str(blank), "--models", "exponential", "--dropna")
    assert code == 0 and "lsi: warning: dropped 1 of 24 rows" in err


# ---------------------------------------------------------------- sweep, figures, forecast
def test_sweep_out_is_written_whole_with_any_netcdf_writer(capsys, tmp_path, monkeypatch):
    from lsi.quadrature import output

    monkeypatch.setattr(output, "netcdf_engine", lambda: "scipy")  # the writer of a plain install
    out = tmp_path / "sweep.nc"
    argv = ["sweep", "--param", "g0=0.1:1:4", "--param", "p=0.5:1:3", "--fixed", "a=1", "--until", "40"]
    code, text, err = run(capsys, *argv, "--out", str(out), "--json")
    assert code == 0, err
    assert json.loads(text)["cells"] == 12
    ds = output.read_netcdf(out)
    assert ds["first_failure"].shape == (4, 3) and list(ds.attrs["first_failure_legend"])
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.nc"]


def test_sweep_out_full_disk_leaves_nothing(capsys, tmp_path, monkeypatch):
    import errno

    import xarray as xr

    def full(self, path, *a, **k):
        with open(path, "wb") as fh:
            fh.write(b"CDF\x01 half")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    out = tmp_path / "sweep.nc"
    argv = ["sweep", "--param", "g0=0.1:1:3", "--fixed", "a=1", "--until", "40", "--out", str(out)]
    _one_error(*run(capsys, *argv), match="no space left on the device")
    assert list(tmp_path.iterdir()) == []


def test_figures_help_names_every_figure_and_bootstrap_is_passed(capsys, tmp_path, monkeypatch):
    import inspect

    from lsi import cli, paper_figures

    text = _help(capsys, "figures")
    for name in cli.FIGURES:
        assert name in text, name
    assert "--bootstrap BOOTSTRAP bootstrap replicates" in text and f"(default {cli.DEFAULT_N}, as lsi report" in text
    params = inspect.signature(paper_figures.save_all).parameters
    assert "n_boot" in params and "seed" in params
    seen = {}

    def save_all(fits, directory, **kw):
        seen.update(kw)
        return {}, {}

    monkeypatch.setattr(paper_figures, "save_all", save_all)
    src = str(_growth_csv(tmp_path / "h.csv"))
    code, out, err = run(capsys, "figures", src, "--out", str(tmp_path / "f"), "--models", "exponential", "--json")
    assert code == 0, err
    assert seen["n_boot"] == cli.DEFAULT_N and seen["seed"] == 0
    run(
        capsys,
        "figures",
        src,
        "--out",
        str(tmp_path / "f"),
        "--models",
        "exponential",
        "--bootstrap",
        "0",
        "--seed",
        "7",
        "--until",
        "2030-01-01",
    )
    assert seen["n_boot"] == 0 and seen["seed"] == 7 and seen["until"] == pytest.approx(2030.0)


def test_every_command_documents_seed_and_thresholds(capsys):
    for command in ("report", "forecast", "backtest", "figures", "sweep"):
        assert re.search(r"--seed SEED seed of", _help(capsys, command)), command
    for command in ("report", "sweep"):
        text = _help(capsys, command)
        for option in ("--kappa-min", "--rho-min", "--eta-min"):
            assert re.search(rf"{option} \S+ \w+ threshold", text), (command, option)


def test_forecast_band_is_calibrated_by_default_and_says_so(capsys, tmp_path):
    src = str(_growth_csv(tmp_path / "h.csv"))
    argv = ["forecast", src, "--models", "exponential", "--until", "2029", "--n", "40"]
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["band"] == "calibrated"
    cal = d["calibration"]
    assert set(cal) >= {"method", "past_coverage", "kappa", "note"} and isinstance(cal["note"], str)
    for band in [*d["models"], d["averaged"], d["stacked"]]:
        assert "unbounded_from" in band and band["unbounded_from"] is None  # no singularity here
        assert "kappa" in band and "past_coverage" in band
    # the default band: the exponential and the naive local trend, stacked by their past forecasts
    assert d["default_band"] == "stacked"
    assert set(cal["stacking"]) == {"exponential", "naive"}
    assert sum(cal["stacking"].values()) == pytest.approx(1.0)
    code, out, err = run(capsys, *argv, "--json", "--uncalibrated")
    assert code == 0, err
    plain = json.loads(out)
    assert plain["band"] == "uncalibrated" and plain["calibration"] is None
    assert plain["default_band"] == "averaged" and "stacked" not in plain
    assert plain["models"][0]["unbounded_from"] is None
    code, out, err = run(capsys, *argv)
    assert code == 0 and "band: calibrated on the series' own past forecasts" in out
    assert re.search(r"the default band is\s+the\s+row\s+stacked", out)
    code, out, err = run(capsys, *argv, "--uncalibrated")
    assert code == 0 and "band: uncalibrated" in out


def test_forecast_unbounded_from_past_a_singularity(capsys):
    argv = ["forecast", "metr_horizons", "--models", "hyperbolic", "--until", "2029", "--n", "40", "--json"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    d = json.loads(out)
    hyp = d["models"][0]
    t = hyp["unbounded_from"]
    assert t is not None and t > 2025.9
    assert all(u is None for x, u in zip(hyp["time"], hyp["upper"], strict=True) if x >= t)


# ---------------------------------------------------------------- an interrupt
@pytest.mark.parametrize("after", [2.0, 7.0])
def test_sigint_is_one_line_and_exit_130_and_leaves_no_half_report(tmp_path, after):
    import signal
    import time

    out = tmp_path / "rep"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lsi", "report", "metr_horizons", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(after)
    if proc.poll() is not None:
        pytest.skip("the report finished before the interrupt")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr
    # warnings said before the interrupt stay; then exactly one line
    lines = [line for line in stderr.splitlines() if not line.startswith("lsi: warning:")]
    assert lines == ["lsi: interrupted"], stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_sweep_counts_a_lazy_grid_blockwise_and_honours_max_memory(capsys, tmp_path):
    base = ["sweep", "--param", "p=0.5:1:7", "--param", "beta=0:1:6", "--fixed", "g0=0.5", "--fixed", "a=1"]
    base += ["--until", "30", "--json"]
    code, out, _ = run(capsys, *base)
    assert code == 0
    eager = json.loads(out)
    code, out, _ = run(capsys, *base, "--chunks", "5", "--out", str(tmp_path / "s.nc"))
    assert code == 0
    lazy = json.loads(out)
    assert lazy["first_failure"] == eager["first_failure"] and lazy["cells"] == eager["cells"] == 42
    code, _, err = run(capsys, *base, "--max-memory", "1kB")
    assert code == 2 and "max_memory" in err and "chunks" in err and len(err.strip().splitlines()) == 1


def test_figures_draw_the_backtest_only_when_asked(capsys, tmp_path, monkeypatch):
    from lsi import paper_figures

    calls = []

    def fake_save_all(fits, out, **kw):
        calls.append(kw["backtest_boot"])
        return {}, {"backtest": "n_boot = 0 (or backtest_boot = 0): ..."}

    monkeypatch.setattr(paper_figures, "save_all", fake_save_all)
    code, out, _ = run(
        capsys, "figures", "metr_horizons", "--out", str(tmp_path / "f"), "--models", "exponential", "--json"
    )
    assert code == 0 and calls == [0]
    assert "--backtest" in json.loads(out)["skipped"]["backtest"]
    code, _, _ = run(
        capsys, "figures", "metr_horizons", "--out", str(tmp_path / "g"), "--models", "exponential", "--backtest", "50"
    )
    assert code == 0 and calls == [0, 50]
