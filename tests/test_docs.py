"""The documentation builds without a single warning (``sphinx -W``), gallery included."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
NEEDED = ("sphinx", "numpydoc", "myst_parser", "pydata_sphinx_theme")


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in NEEDED),
    reason="the docs extra is not installed (pip install '.[docs]')",
)
def test_docs_build_without_warnings(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        str(DOCS),
        str(tmp_path / "html"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    problems = "\n".join(line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line)
    assert proc.returncode == 0, f"the docs build reported:\n{problems or proc.stderr[-3000:]}"
    html = tmp_path / "html"
    for page in ("index", "quickstart", "mathematics", "gallery", "datasets", "api"):
        assert (html / f"{page}.html").exists(), page
    gallery = (html / "gallery.html").read_text()
    assert gallery.count("<img") >= 5, "the gallery shows the example figures"
    api = (html / "api.html").read_text()
    for module, name in (
        ("lsi.fitting", "fit"),
        ("lsi.figures", "forecast"),
        ("lsi.series", "Series"),
    ):
        page = module.replace(".", "_")
        assert f"reference/{page}.html" in api, f"the API index links {module}"
        assert f'id="{module}.{name}"' in (html / "reference" / f"{page}.html").read_text(), name
