"""Strict JSON values: what every ``to_dict()`` of lsi hands to :func:`json.dumps`.

JSON has no NaN or infinity, and the standard library does not know numpy scalars.
:func:`strict` turns a nested structure of mappings, lists and numbers into one that
``json.dumps(..., allow_nan=False)`` accepts: numpy scalars become Python numbers, and a
non-finite float becomes ``None`` (an undefined or unbounded number: the keys around it say
which).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["strict"]


def strict(obj: Any) -> Any:
    """``obj`` with mapping keys as strings, tuples as lists, numpy scalars as Python numbers
    and non-finite floats as None.

    Examples
    --------
    >>> strict({"a": float("nan"), 1: (2.0, float("inf"))})
    {'a': None, '1': [2.0, None]}
    """
    if isinstance(obj, Mapping):
        return {str(k): strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [strict(v) for v in obj]
    if type(obj).__module__ == "numpy" and getattr(obj, "ndim", None) == 0:
        obj = obj.item()  # a numpy scalar
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
