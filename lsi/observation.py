"""Observation (noise) models: how an observed value relates to capability C(t).

``additive``
    ``y = C + e``, ``e ~ N(0, s^2)``.  Residuals in data units.
``log``
    ``ln y = ln C + e``: multiplicative noise, for quantities that span orders of
    magnitude (time horizons, training compute).  Needs ``y > 0``.
``logit``
    For bounded scores ``y`` in (0, 1): the capability is the odds
    ``C = y / (1 - y)`` and ``logit y = ln C + e``.  A benchmark saturating at 100 %
    is then exponential growth of the odds, not a sigmoid in capability: a model
    only shows a ceiling if the odds themselves level off.

Every model is fitted in the transformed space ``z``; log-likelihoods are reported
as densities of the observed ``y`` (the Jacobian of the transform included), so
they are comparable across noise models on the same data.

Each noise model is one small class (:class:`AdditiveNoise`, :class:`LogNoise`,
:class:`LogitNoise`) behind the abstract :class:`Noise`; :func:`get_noise` finds one
by name and refuses names it does not know.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from scipy import special, stats

from .exceptions import BoundWarning, ObservationError

if TYPE_CHECKING:  # pragma: no cover
    from .series import Series

__all__ = ["Noise", "AdditiveNoise", "LogNoise", "LogitNoise", "NOISE_MODELS", "get_noise", "default_noise"]


class Noise(ABC):
    """One observation model: the transform to the space where residuals are Gaussian,
    its inverse and Jacobian, and the checks the data must pass.

    Instances hold no state: two instances of one class are equal, and ``name`` says
    which model it is (``"additive"``, ``"log"`` or ``"logit"``).
    """

    __slots__ = ()

    #: the model's name, as :func:`get_noise` accepts it and as results report it
    name: ClassVar[str]
    #: True when the model enters through ln C (log and logit noise)
    uses_log_capability: ClassVar[bool] = True

    # ------------------------------------------------------------ transforms
    @abstractmethod
    def transform(self, y: np.ndarray) -> np.ndarray:
        """Data units -> the space where residuals are Gaussian."""

    @abstractmethod
    def to_data(self, z: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`transform`."""

    @abstractmethod
    def log_jacobian(self, y: np.ndarray) -> float:
        """sum ln |dz/dy|: turns a density of z into a density of y."""

    def capability_from_data(self, y: np.ndarray) -> np.ndarray:
        """The capability a data value stands for (the odds for logit noise)."""
        return np.asarray(y, dtype=float)

    def data_from_capability(self, C: np.ndarray) -> np.ndarray:
        """The data value a capability stands for (inverse of :meth:`capability_from_data`)."""
        return np.asarray(C, dtype=float)

    # ------------------------------------------------------------ validation
    @abstractmethod
    def validate(self, series: Series) -> None:
        """Raise :class:`ObservationError` when the data cannot come from this model;
        warn when a bounded series nears its bound."""

    @abstractmethod
    def _sigma(self, sigma: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A standard deviation in data units carried into the transformed space."""

    @abstractmethod
    def _check_interval(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """Raise when an interval's ends lie outside this model's domain."""

    def point_sigma(self, series: Series) -> np.ndarray | None:
        """Per-point standard deviation in the transformed space, from ``sigma`` or an interval.

        ``sigma`` (data units) is propagated with the derivative of the transform;
        an interval ``[lower, upper]`` at level ``ci_level`` becomes
        ``(T(upper) - T(lower)) / (2 z)`` with ``z`` the normal quantile, which keeps
        asymmetric intervals in data units symmetric in log space.
        """
        if series.sigma is not None:
            return self._sigma(series.sigma, series.y)
        if series.lower is not None and series.upper is not None:
            z = stats.norm.ppf(0.5 + series.ci_level / 2)
            lo, hi = series.lower, series.upper
            self._check_interval(lo, hi)
            width = (self.transform(hi) - self.transform(lo)) / (2 * z)
            if np.any(width <= 0):
                i = int(np.flatnonzero(width <= 0)[0])
                raise ObservationError(
                    f"the interval at t = {series.t[i]:.3f} has zero width; drop lower/upper or fix it"
                )
            return width
        return None

    # ------------------------------------------------------------ identity
    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash((Noise, self.name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class AdditiveNoise(Noise):
    """``y = C + e``: residuals in data units."""

    __slots__ = ()
    name = "additive"
    uses_log_capability = False

    def transform(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=float)

    def to_data(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=float)

    def log_jacobian(self, y: np.ndarray) -> float:
        return 0.0

    def validate(self, series: Series) -> None:
        y = series.y
        if np.all((y >= 0) & (y <= 1)) and np.max(y) > 0.9:
            warnings.warn(
                f"the values lie in [0, 1] and reach {np.max(y):.3f}: if this is a bounded score, a "
                "benchmark saturating at 100% is not evidence of a sigmoid in capability; consider "
                "noise='logit'",
                BoundWarning,
                stacklevel=4,
            )

    def _sigma(self, sigma: np.ndarray, y: np.ndarray) -> np.ndarray:
        return sigma.copy()

    def _check_interval(self, lower: np.ndarray, upper: np.ndarray) -> None:
        return None  # every real interval is usable in data units


class LogNoise(Noise):
    """``ln y = ln C + e``: multiplicative noise, for positive values."""

    __slots__ = ()
    name = "log"

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(y)

    def to_data(self, z: np.ndarray) -> np.ndarray:
        return np.exp(np.asarray(z, dtype=float))

    def log_jacobian(self, y: np.ndarray) -> float:
        y = np.asarray(y, dtype=float)
        return float(-np.sum(np.log(y)))

    def validate(self, series: Series) -> None:
        y = series.y
        bad = y <= 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ObservationError(
                f"log noise needs positive values, but {int(bad.sum())} are <= 0 (first: {y[i]} at t = "
                f"{series.t[i]:.3f}); drop them or use noise='additive'"
            )

    def _sigma(self, sigma: np.ndarray, y: np.ndarray) -> np.ndarray:
        return sigma / y

    def _check_interval(self, lower: np.ndarray, upper: np.ndarray) -> None:
        if np.any(lower <= 0):
            raise ObservationError(
                "an interval's lower bound is <= 0, which log noise cannot use; drop lower/upper or give sigma instead"
            )


class LogitNoise(Noise):
    """``logit y = ln C + e`` for scores in (0, 1); the capability is the odds ``y / (1 - y)``."""

    __slots__ = ()
    name = "logit"

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return special.logit(y)

    def to_data(self, z: np.ndarray) -> np.ndarray:
        return special.expit(np.asarray(z, dtype=float))

    def log_jacobian(self, y: np.ndarray) -> float:
        y = np.asarray(y, dtype=float)
        return float(-np.sum(np.log(y * (1 - y))))

    def capability_from_data(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        return y / (1 - y)

    def data_from_capability(self, C: np.ndarray) -> np.ndarray:
        C = np.asarray(C, dtype=float)
        return C / (1 + C)

    def validate(self, series: Series) -> None:
        y = series.y
        bad = (y <= 0) | (y >= 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            hint = " (percentages? divide by 100)" if np.nanmax(y) > 1 else ""
            raise ObservationError(
                f"logit noise needs scores strictly inside (0, 1), but {int(bad.sum())} are not (first: "
                f"{y[i]} at t = {series.t[i]:.3f}){hint}; rescale the scores or use noise='additive'"
            )
        near = (y > 0.95) | (y < 0.05)
        if near.any():
            warnings.warn(
                f"{int(near.sum())} of {y.size} scores lie within 0.05 of the bounds 0 and 1 (max "
                f"{np.max(y):.3f}); their logits carry large leverage and the score's ceiling is the "
                "benchmark's, not evidence that capability saturates",
                BoundWarning,
                stacklevel=4,
            )

    def _sigma(self, sigma: np.ndarray, y: np.ndarray) -> np.ndarray:
        return sigma / (y * (1 - y))

    def _check_interval(self, lower: np.ndarray, upper: np.ndarray) -> None:
        if np.any(lower <= 0) | np.any(upper >= 1):
            raise ObservationError(
                "an interval reaches 0 or 1, which logit noise cannot use; drop lower/upper or give sigma"
            )


#: every noise model, by name
_MODELS: dict[str, type[Noise]] = {cls.name: cls for cls in (AdditiveNoise, LogNoise, LogitNoise)}
NOISE_MODELS = tuple(_MODELS)
#: other names users reach for
_ALIASES = {"multiplicative": "log", "gaussian": "additive", "normal": "additive", "bounded": "logit"}


def get_noise(name: str | Noise) -> Noise:
    """A noise model by name (``additive``, ``log`` or ``logit``; a :class:`Noise` passes through).

    Raises
    ------
    ObservationError
        For a name that is none of these (or their aliases ``multiplicative``,
        ``gaussian``, ``normal``, ``bounded``).
    """
    if isinstance(name, Noise):
        return name
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _MODELS:
        raise ObservationError(f"unknown noise model {name!r}; choose from {', '.join(NOISE_MODELS)}")
    return _MODELS[key]()


def default_noise(series: Series) -> Noise:
    """The series' recommended noise model (``meta['noise']``), else ``log`` for positive
    values and ``additive`` otherwise."""
    rec = series.meta.get("noise") if series.meta else None
    if rec:
        return get_noise(rec)
    return LogNoise() if np.all(series.y > 0) else AdditiveNoise()
