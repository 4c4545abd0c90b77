"""lsi: lossy self-improvement.

Fit growth models to AI capability histories, compare them honestly, forecast with
honest bands, sweep a mechanistic model of the AI R&D loop, and say which assumption
of recursive self-improvement fails first.

``import lsi`` is cheap: every name below, and every submodule, loads on first use
(numpy, scipy, sympy, lmfit, pandas, xarray and matplotlib with it).  The layers and what
each module owns are in ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    # ``name as name`` marks a re-export for the type checker (and for ruff, which cannot read
    # the __all__ built below)
    from . import backtest as backtest
    from . import datasets as datasets
    from . import diagnostics as diagnostics
    from . import figures as figures
    from . import forecast as forecast
    from . import intervals as intervals
    from . import models as models
    from . import observation as observation
    from . import quadrature as quadrature
    from . import report as report
    from .assessment import AssumptionReport as AssumptionReport
    from .assessment import assumptions as assumptions
    from .fitting import fit as fit
    from .results import FitCollection as FitCollection
    from .results import FitResult as FitResult
    from .series import Series as Series
    from .sweeps import sample as sample
    from .sweeps import sweep as sweep
    from .verdict import Answer as Answer
    from .verdict import answer as answer

#: public name -> (module, attribute): loaded on first use
_EXPORTS: dict[str, tuple[str, str]] = {
    "AssumptionReport": ("assessment", "AssumptionReport"),
    "assumptions": ("assessment", "assumptions"),
    "Answer": ("verdict", "Answer"),
    "answer": ("verdict", "answer"),
    "FitCollection": ("results", "FitCollection"),
    "FitResult": ("results", "FitResult"),
    "Series": ("series", "Series"),
    "fit": ("fitting", "fit"),
    "sample": ("sweeps", "sample"),
    "sweep": ("sweeps", "sweep"),
}

#: submodules reachable as ``lsi.<name>`` without an import statement
_SUBMODULES = (
    "backtest",
    "assessment",
    "bootstrap",
    "datasets",
    "diagnostics",
    "figures",
    "forecast",
    "intervals",
    "loopmath",
    "models",
    "observation",
    "profile",
    "quadrature",
    "report",
    "results",
    "sensitivity",
    "sweeps",
    "robustness",
    "distinguishability",
    "dependence",
    "calibration",
    "verdict",
)

__all__ = ["__version__", *_EXPORTS, "datasets", "models"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value  # the next access is a plain attribute
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lsi' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
