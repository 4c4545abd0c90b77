"""Intervals, including the right ones for inverse quantities.

Doubling times, singularity dates and times to reach a level are *inverse*
quantities: a doubling time is ``ln 2 / r``.  Their intervals are derived from the
interval of the rate ``r`` (where the delta method is sound) and then inverted.
When the rate's interval reaches zero the inverse quantity is unbounded above, and
is reported so (``upper = None``) rather than flipped or clipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "quantile", "wald", "inverse", "DAYS"]

#: days per year: doubling times are computed in years and shown and written in days
DAYS = 365.25


@dataclass(frozen=True)
class Interval:
    """A point value with an interval; ``None`` bounds mean unbounded."""

    value: float | None
    lower: float | None
    upper: float | None
    level: float

    def to_dict(self, *, scale: float = 1.0, unit: str | None = None) -> dict[str, float | str | None]:
        """``value``, ``lower``, ``upper`` (None: undefined or unbounded), times ``scale``, and the
        ``unit`` when one is named."""
        out: dict[str, float | str | None] = {
            k: None if (x := _f(v)) is None else x * scale
            for k, v in (("value", self.value), ("lower", self.lower), ("upper", self.upper))
        }
        if unit is not None:
            out["unit"] = unit
        return out

    def to_days(self) -> dict[str, float | str | None]:
        """A duration in years as JSON, in days (the unit every output of lsi gives durations in)."""
        return self.to_dict(scale=DAYS, unit="days")

    @property
    def bounded(self) -> bool:
        return self.lower is not None and self.upper is not None

    def format(self, fmt: str = "{:.3g}", scale: float = 1.0) -> str:
        def f(x):
            return "unbounded" if x is None else fmt.format(x * scale)

        if self.value is None:
            return "undefined"
        if self.lower is None and self.upper is None:
            return f"{fmt.format(self.value * scale)} (no interval)"
        return f"{fmt.format(self.value * scale)} [{f(self.lower)}, {f(self.upper)}]"


def _f(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def quantile(level: float, dof: float | None = None) -> float:
    """Two-sided critical value: Student t with ``dof`` degrees of freedom, or normal."""
    from scipy import stats  # scipy.stats costs half a second: load it when first needed

    p = 0.5 + level / 2
    if dof is None or not np.isfinite(dof):
        return float(stats.norm.ppf(p))
    return float(stats.t.ppf(p, max(dof, 1)))


def wald(value: float, se: float, q: float, level: float) -> Interval:
    """value +- q se (None bounds when se is not finite)."""
    if not np.isfinite(se):
        return Interval(float(value), None, None, level)
    return Interval(float(value), float(value - q * se), float(value + q * se), level)


def inverse(rate: float, se: float, q: float, level: float, numerator: float = 1.0, offset: float = 0.0) -> Interval:
    """Interval of ``offset + numerator / rate`` from the Wald interval of ``rate``.

    ``value`` is None when ``rate <= 0`` (the quantity is undefined: no doubling, no
    singularity); ``upper`` is None when the rate's interval reaches zero.

    Examples
    --------
    >>> inverse(0.5, 0.1, 1.96, 0.95, numerator=math.log(2)).format("{:.2f}")
    '1.39 [0.94, 2.72]'
    >>> inverse(0.5, 0.3, 1.96, 0.95).upper is None
    True
    """
    if not np.isfinite(rate) or rate <= 0:
        return Interval(None, None, None, level)
    value = offset + numerator / rate
    if not np.isfinite(se):
        return Interval(value, None, None, level)
    lo_rate, hi_rate = rate - q * se, rate + q * se
    lower = offset + numerator / hi_rate
    upper = offset + numerator / lo_rate if lo_rate > 0 else None
    return Interval(value, lower, upper, level)
