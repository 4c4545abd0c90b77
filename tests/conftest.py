"""Shared fixtures: typical parameters per model, simulated series, the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import lsi

# CI runs the property tests on a fixed set of examples, so a run is reproducible; locally they
# keep exploring (and remember what they found in .hypothesis/)
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

#: a parameter set per model inside its regime of interest; tau runs over [0, TAU_MAX]
TYPICAL = {
    "linear": {"C0": 2.0, "b": 1.5},
    "exponential": {"C0": 1.5, "g": 0.7},
    "hyperbolic": {"C0": 1.2, "g": 0.3, "e": 0.5},  # singularity at tau = 6.08
    "brake": {"C0": 2.0, "g": 0.8, "b": 0.6},
    "logistic": {"C0": 1.0, "g": 0.9, "K": 50.0},
    "richards": {"C0": 1.0, "g": 0.9, "K": 50.0, "v": 2.5},
    "gompertz": {"C0": 1.0, "g": 0.5, "K": 50.0},
    "amdahl": {"C0": 1.0, "g0": 0.5, "p": 0.9, "a": 0.8},
}
TAU_MAX = 5.0


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


def simulate(
    model: str,
    params: dict,
    n: int = 40,
    span: float = 6.0,
    noise: float = 0.05,
    seed: int = 0,
    noise_model: str = "log",
    t0: float = 2020.0,
) -> lsi.Series:
    """A series from a model with Gaussian noise in the noise model's space."""
    rng = np.random.default_rng(seed)
    t = np.linspace(t0, t0 + span, n)
    m = lsi.models.get(model)
    lnC = m.log_capability(params, t, t0)
    if noise_model == "log":
        y = np.exp(lnC + rng.normal(0, noise, n))
    elif noise_model == "additive":
        y = np.exp(lnC) + rng.normal(0, noise, n)
    else:
        from scipy.special import expit

        y = expit(lnC + rng.normal(0, noise, n))
    return lsi.Series(t, y, name=f"sim-{model}")


def run_doctests(*modules: str) -> tuple[int, int]:
    """(examples attempted, examples failed) of the docstrings of the named modules."""
    import doctest
    import importlib

    attempted = failed = 0
    for name in modules:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
        attempted, failed = attempted + result.attempted, failed + result.failed
    return attempted, failed
