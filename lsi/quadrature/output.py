"""The result of :func:`lsi.quadrature.solve`: its keys, legends and empty form.

Every engine fills the same dictionary: the float results of :data:`RESULT_FLOAT_KEYS` (one
value per cell), ``t_reach`` (a row of times per cell, one per multiple of C0), and the codes
``first_failure`` (into :data:`FAILURE_CODES`), ``tied`` and ``status`` (into
:data:`STATUS_CODES`).
"""

from __future__ import annotations

import numpy as np

from ..loopmath import FAILURES

__all__ = ["FAILURE_CODES", "STATUS_CODES", "TIE_TOLERANCE", "RESULT_FLOAT_KEYS", "empty_result"]

#: Legend of ``solve(...)["first_failure"]`` (``-1`` marks a cell whose status is not ok).
FAILURE_CODES: tuple[str, ...] = FAILURES

#: Legend of ``solve(...)["status"]``.
STATUS_CODES: tuple[str, ...] = ("ok", "invalid_parameters", "numerical_failure")

#: Two crossings closer than this (years) to the first one are reported as tied.
TIE_TOLERANCE: float = 1e-9

#: The float results, one value per cell, in the order the compiled engine stores them.
RESULT_FLOAT_KEYS: tuple[str, ...] = (
    "lnC_end",
    "t_closure",
    "l_closure",
    "t_amplification",
    "l_amplification",
    "t_efficiency",
    "l_efficiency",
    "t_singularity",
)


def empty_result(n: int, nm: int) -> dict[str, np.ndarray]:
    """The result for ``n`` cells and ``nm`` multiples before anything is solved: NaN
    everywhere, ``first_failure`` -1, ``tied`` False, ``status`` 0."""
    res = {k: np.full(n, np.nan) for k in RESULT_FLOAT_KEYS}
    res["t_reach"] = np.full((n, nm), np.nan)
    res["first_failure"] = np.full(n, -1, dtype=np.int8)
    res["tied"] = np.zeros(n, dtype=bool)
    res["status"] = np.zeros(n, dtype=np.int8)
    return res
