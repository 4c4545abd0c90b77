"""Noise models: one small class each behind lsi.observation.Noise, unknown names refused."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from scipy import stats

import lsi
from lsi.exceptions import BoundWarning, LsiError, ObservationError
from lsi.observation import (
    NOISE_MODELS,
    AdditiveNoise,
    LogitNoise,
    LogNoise,
    Noise,
    default_noise,
    get_noise,
)

Y = np.array([0.1, 0.25, 0.5, 0.8])


def test_names_and_aliases_give_one_class_each():
    assert NOISE_MODELS == ("additive", "log", "logit")
    for name, cls in (("additive", AdditiveNoise), ("log", LogNoise), ("logit", LogitNoise)):
        n = get_noise(name)
        assert type(n) is cls and isinstance(n, Noise) and n.name == name
        assert get_noise(f"  {name.upper()} ") == n and get_noise(n) is n
    for alias, name in (
        ("multiplicative", "log"),
        ("gaussian", "additive"),
        ("normal", "additive"),
        ("bounded", "logit"),
    ):
        assert get_noise(alias).name == name


@pytest.mark.parametrize("bad", ["logg", "", "poisson", 3])
def test_unknown_names_are_refused_with_one_line(bad):
    with pytest.raises(ObservationError) as info:
        get_noise(bad)
    msg = str(info.value)
    assert isinstance(info.value, LsiError) and isinstance(info.value, ValueError)
    assert "\n" not in msg and repr(bad) in msg and "additive, log, logit" in msg


def test_the_base_is_abstract_and_instances_are_values():
    with pytest.raises(TypeError):
        Noise()  # type: ignore[abstract]
    n = get_noise("log")
    with pytest.raises(AttributeError):
        n.name = "additive"  # type: ignore[misc]
    assert n == LogNoise() and n != LogitNoise() and len({n, LogNoise(), AdditiveNoise()}) == 2
    assert pickle.loads(pickle.dumps(n)) == n  # bootstrap workers receive it
    assert repr(n) == "LogNoise()"


def test_additive():
    n = get_noise("additive")
    assert not n.uses_log_capability
    np.testing.assert_array_equal(n.transform(Y), Y)
    np.testing.assert_array_equal(n.to_data(Y), Y)
    np.testing.assert_array_equal(n.capability_from_data(Y), Y)
    np.testing.assert_array_equal(n.data_from_capability(Y), Y)
    assert n.log_jacobian(Y) == 0.0
    s = lsi.Series([2020, 2021, 2022, 2023], Y, sigma=[0.1] * 4)
    sig = n.point_sigma(s)
    np.testing.assert_array_equal(sig, s.sigma)
    assert sig is not s.sigma
    n.validate(lsi.Series([2020, 2021, 2022], [-1.0, 0.0, 3.0]))  # any real value
    with pytest.warns(BoundWarning, match="consider noise='logit'"):
        n.validate(lsi.Series([2020, 2021, 2022], [0.2, 0.5, 0.95]))


def test_log():
    n = get_noise("log")
    assert n.uses_log_capability
    np.testing.assert_allclose(n.transform(Y), np.log(Y))
    np.testing.assert_allclose(n.to_data(np.log(Y)), Y)
    np.testing.assert_array_equal(n.capability_from_data(Y), Y)
    assert n.log_jacobian(Y) == pytest.approx(-np.sum(np.log(Y)))
    s = lsi.Series([2020, 2021, 2022, 2023], Y, sigma=[0.01] * 4)
    np.testing.assert_allclose(n.point_sigma(s), 0.01 / Y)
    # an asymmetric interval in data units is symmetric in log space
    s = lsi.Series([2020, 2021, 2022, 2023], Y, lower=Y / 2, upper=Y * 2, ci_level=0.9)
    np.testing.assert_allclose(n.point_sigma(s), 2 * math.log(2) / (2 * stats.norm.ppf(0.95)))
    with pytest.raises(ObservationError, match="log noise needs positive values, but 1 are <= 0"):
        n.validate(lsi.Series([2020, 2021, 2022], [1.0, 0.0, 3.0]))
    with pytest.raises(ObservationError, match="lower bound is <= 0"):
        n.point_sigma(lsi.Series([2020, 2021], [1.0, 2.0], lower=[0.0, 1.0], upper=[2.0, 3.0]))
    with pytest.raises(ObservationError, match="zero width"):
        n.point_sigma(lsi.Series([2020, 2021], [1.0, 2.0], lower=[0.5, 2.0], upper=[2.0, 2.0]))


def test_logit():
    n = get_noise("logit")
    assert n.uses_log_capability
    odds = Y / (1 - Y)
    np.testing.assert_allclose(n.transform(Y), np.log(odds))
    np.testing.assert_allclose(n.to_data(np.log(odds)), Y)
    np.testing.assert_allclose(n.capability_from_data(Y), odds)
    np.testing.assert_allclose(n.data_from_capability(odds), Y)
    assert n.log_jacobian(Y) == pytest.approx(-np.sum(np.log(Y * (1 - Y))))
    s = lsi.Series([2020, 2021, 2022, 2023], Y, sigma=[0.01] * 4)
    np.testing.assert_allclose(n.point_sigma(s), 0.01 / (Y * (1 - Y)))
    with pytest.raises(ObservationError, match=r"strictly inside \(0, 1\).*percentages\? divide by 100"):
        n.validate(lsi.Series([2020, 2021, 2022], [10.0, 50.0, 80.0]))
    with pytest.warns(BoundWarning, match="within 0.05 of the bounds"):
        n.validate(lsi.Series([2020, 2021, 2022], [0.2, 0.5, 0.97]))
    with pytest.raises(ObservationError, match="reaches 0 or 1"):
        n.point_sigma(lsi.Series([2020, 2021], [0.3, 0.6], lower=[0.1, 0.4], upper=[0.5, 1.0]))


def test_no_uncertainty_gives_no_point_sigma():
    s = lsi.Series([2020, 2021, 2022], [0.2, 0.4, 0.6])
    assert all(get_noise(name).point_sigma(s) is None for name in NOISE_MODELS)


def test_default_noise():
    assert default_noise(lsi.Series([2020, 2021], [1.0, 2.0])) == LogNoise()
    assert default_noise(lsi.Series([2020, 2021], [-1.0, 2.0])) == AdditiveNoise()
    assert default_noise(lsi.Series([2020, 2021], [0.2, 0.4], meta={"noise": "logit"})) == LogitNoise()
    with pytest.raises(ObservationError, match="unknown noise model 'odds'"):
        default_noise(lsi.Series([2020, 2021], [0.2, 0.4], meta={"noise": "odds"}))
