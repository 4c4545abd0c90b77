"""The lsi command line."""

from __future__ import annotations

import json
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
            assert v is None or set(v) == {"value", "lower", "upper"}
    hyp = next(m for m in d["models"] if m["name"] == "hyperbolic")
    assert hyp["singularity_time"] is not None
    exp = next(m for m in d["models"] if m["name"] == "exponential")
    assert exp["singularity_time"] is None
    assert 0 < exp["doubling_time"]["value"] < 2  # years
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
