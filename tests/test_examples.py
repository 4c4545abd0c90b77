"""Smoke tests: every script in examples/ runs and writes its figure (a script that cannot
run fails; none is skipped)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def test_there_are_examples():
    names = {p.stem for p in SCRIPTS}
    assert {
        "fit_metr",
        "model_comparison",
        "doubling_times",
        "forecast_metr",
        "phase_diagram",
        "loop_diagnostics",
        "amdahl_speedup",
    } <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_example_runs_and_writes_its_figure(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    png = tmp_path / f"{script.stem}.png"
    assert png.exists() and png.stat().st_size > 10_000
    assert (tmp_path / f"{script.stem}.pdf").exists()
    assert proc.stdout.strip().endswith(str(png))
    doc = ast.get_docstring(ast.parse(script.read_text()))
    assert doc and len(doc.splitlines()[0]) < 100, "the docstring's first line is the gallery title"
