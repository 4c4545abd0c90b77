"""Sphinx extension of the lsi docs: the gallery from ``examples/`` and the API module list.

At ``builder-inited`` it

1. runs every script in ``examples/`` (in parallel, with ``MPLBACKEND=Agg``), writing its
   PNG into ``_generated/gallery/``; a script is rerun only when it, lsi's figure code or
   lsi's version changed (a hash kept beside the image).  A script that fails is a Sphinx
   warning, so ``-W`` fails the build.
2. writes ``_generated/gallery.md``: per example its title (the docstring's first line),
   caption (the rest, without the ``Run:`` line), image and source.
3. writes a page per public module of lsi into ``reference/`` (reST, ``automodule``) and their
   toctree into ``_generated/api.md``.

Set ``LSI_GALLERY_RERUN=1`` to rerun every script.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import os
import pkgutil
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sphinx.util import logging

logger = logging.getLogger(__name__)

#: the order of the API reference; modules not listed follow alphabetically
API_ORDER = [
    "lsi.series",
    "lsi.datasets",
    "lsi.observation",
    "lsi.models",
    "lsi.models.base",
    "lsi.models.phenomenological",
    "lsi.models.regime",
    "lsi.models.loop",
    "lsi.symbolic",
    "lsi.loopmath",
    "lsi.quadrature",
    "lsi.leastsq",
    "lsi.fitting",
    "lsi.results",
    "lsi.selection",
    "lsi.intervals",
    "lsi.bootstrap",
    "lsi.profile",
    "lsi.forecast",
    "lsi.backtest",
    "lsi.diagnostics",
    "lsi.assessment",
    "lsi.sweeps",
    "lsi.sensitivity",
    "lsi.figures",
    "lsi.paper_figures",
    "lsi.summary",
    "lsi.report",
    "lsi.workers",
    "lsi.progress",
    "lsi.exceptions",
    "lsi.cli",
]


def _script_info(path: Path) -> dict[str, Any]:
    tree = ast.parse(path.read_text())
    doc = ast.get_docstring(tree) or path.stem
    has_doc = (
        bool(tree.body)
        and isinstance(tree.body[0], ast.Expr)
        and isinstance(getattr(tree.body[0], "value", None), ast.Constant)
    )
    body_from = (tree.body[0].end_lineno or 0) + 2 if has_doc else 1
    lines = doc.strip().splitlines()
    caption = "\n".join(x for x in lines[1:] if not x.strip().startswith("Run:")).strip()
    return {
        "path": path,
        "title": lines[0].strip().rstrip("."),
        "caption": caption,
        "body_from": body_from,
    }


def _stamp(path: Path) -> str:
    import lsi

    h = hashlib.sha256(path.read_bytes())
    root = Path(lsi.__file__).parent
    for figure_code in sorted((root / "figures").glob("*.py")):
        h.update(figure_code.read_bytes())
    h.update(lsi.__version__.encode())
    return h.hexdigest()


def _run(info: dict[str, Any], out: Path) -> tuple[dict[str, Any], str | None]:
    path: Path = info["path"]
    png = out / f"{path.stem}.png"
    stamp_file = out / f"{path.stem}.stamp"
    stamp = _stamp(path)
    if (
        png.exists()
        and stamp_file.exists()
        and stamp_file.read_text() == stamp
        and not os.environ.get("LSI_GALLERY_RERUN")
    ):
        return info, None
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, str(path), str(out)], capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0 or not png.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return info, f"example {path.name} failed: " + " | ".join(tail)
    stamp_file.write_text(stamp)
    return info, None


def _gallery(app: Any) -> None:
    src = Path(app.srcdir)
    examples = Path(app.config.lsi_gallery_examples)
    out = src / "_generated" / "gallery"
    out.mkdir(parents=True, exist_ok=True)
    infos = [_script_info(p) for p in sorted(examples.glob("*.py")) if not p.name.startswith("_")]
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        results = list(pool.map(lambda i: _run(i, out), infos))
    order = [
        "fit_metr",
        "model_comparison",
        "doubling_times",
        "forecast_metr",
        "backtest_metr",
        "assumptions_metr",
        "phase_diagram",
        "sensitivity_loop",
        "loop_diagnostics",
        "amdahl_speedup",
    ]
    results.sort(
        key=lambda r: (
            order.index(r[0]["path"].stem) if r[0]["path"].stem in order else 99,
            r[0]["path"].stem,
        )
    )
    parts = []
    for info, error in results:
        if error:
            logger.warning(error)
            continue
        stem = info["path"].stem
        rel = os.path.relpath(info["path"], src)
        parts.append(
            f"## {info['title']}\n\n{info['caption']}\n\n"
            f"```{{image}} _generated/gallery/{stem}.png\n"
            f":alt: {info['title']}\n:width: 100%\n```\n\n"
            f"Source, `examples/{stem}.py`:\n\n"
            f"```{{literalinclude}} {rel}\n:language: python\n:lines: {info['body_from']}-\n```\n"
        )
    (src / "_generated" / "gallery.md").write_text("\n".join(parts) or "No examples could be built.\n")


def _api(app: Any) -> None:
    """One page per public module in ``reference/`` and their toctree in ``_generated/``."""
    import lsi

    found = ["lsi"]
    for mod in pkgutil.walk_packages(lsi.__path__, prefix="lsi."):
        if any(part.startswith("_") for part in mod.name.split(".")):
            continue
        found.append(mod.name)
    found = sorted(
        set(found) - {"lsi"},
        key=lambda n: (API_ORDER.index(n) if n in API_ORDER else 999, n),
    )
    ref = Path(app.srcdir) / "reference"
    ref.mkdir(exist_ok=True)
    pages = []
    for name in found:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # an optional dependency is missing: say so, do not fail
            logger.info(f"lsi api: skipping {name}: {exc}")
            continue
        # reStructuredText, not MyST: section titles inside docstrings stay implicit targets,
        # so two modules' "Examples" sections are not duplicate labels
        stem = name.replace(".", "_")  # dots in document names confuse Sphinx's file lookup
        page = ref / f"{stem}.rst"
        text = f"``{name}``\n{'=' * (len(name) + 4)}\n\n.. automodule:: {name}\n"
        if not page.exists() or page.read_text() != text:  # keep mtimes: no needless rebuilds
            page.write_text(text)
        pages.append(f"reference/{stem}")
    for stale in ref.iterdir():
        if stale.suffix != ".rst" or f"reference/{stale.stem}" not in pages:
            stale.unlink()
    toc = "```{toctree}\n:maxdepth: 1\n\n" + "\n".join(pages) + "\n```\n"
    (Path(app.srcdir) / "_generated" / "api.md").write_text(toc)


_LITERAL = re.compile(r"(``.+?``|:\w+:`[^`]+`|`[^`]+`)")
_BARS = re.compile(r"(?<!\\)\|(?=[^|\s])([^|]*?[^|\s])\|")


def _escape_bars(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """``|x|`` in lsi docstrings means an absolute value, never an RST substitution:
    escape the bars outside literals, roles and table rows so they print as written."""
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if "|" not in line or stripped.startswith(("|", "+", ">>>", "...")):
            continue
        pieces = _LITERAL.split(line)
        for j in range(0, len(pieces), 2):  # even pieces lie outside literals and roles
            pieces[j] = _BARS.sub(r"\\|\1\\|", pieces[j])
        lines[i] = "".join(pieces)


def _builder_inited(app: Any) -> None:
    (Path(app.srcdir) / "_generated").mkdir(exist_ok=True)
    _api(app)
    _gallery(app)


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("lsi_gallery_examples", "", "env")
    app.connect("builder-inited", _builder_inited)
    app.connect("autodoc-process-docstring", _escape_bars)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
