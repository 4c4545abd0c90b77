r"""Elementwise maps both engines share: the regularising variable and the closed forms.

With a ceiling the quadrature runs in :math:`y = G(l) - G(0)`, :math:`G(x) = x - \ln F(x)/\nu`
(the antiderivative of :math:`1/F`), which removes the logarithmic singularity of
:math:`\tau` at the ceiling exactly.  Its inverse is closed form:

.. math::

    l(y) = L - \frac{\operatorname{softplus}(\zeta_0 - \nu y)}{\nu}, \quad
    F(l(y)) = \operatorname{expit}(\zeta_0 - \nu y), \quad \zeta_0 = \ln(K^\nu - 1),

with :math:`L = \ln K`.  Without a ceiling :math:`y = l` (the callers skip these maps).

Where there is no ceiling, :math:`\beta\gamma = 0` and either ``p = 1`` or a constant speed-up,
the integrand is :math:`e^{-c x}/g_0` and :math:`\tau` is closed form
(:func:`tau_closed_form`, :func:`level_closed_form`).

Like :mod:`lsi.loopmath`, these functions work on numpy arrays and compile with numba.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..loopmath import select

__all__ = ["level_of_y", "y_of_level", "tau_closed_form", "level_closed_form"]


def level_of_y(y: Any, log_ceiling: Any, nu: Any, zeta0: Any) -> tuple[Any, Any]:
    r"""The level :math:`l(y)` and :math:`F(l(y))`, for cells with a ceiling."""
    z = zeta0 - nu * y
    e = np.exp(-np.abs(z))
    x = log_ceiling - (np.maximum(z, 0.0) + np.log1p(e)) / nu  # L - softplus(z)/nu
    f = select(z >= 0, 1.0, e) / (1.0 + e)  # expit(z)
    return x, f


def y_of_level(x: Any, log_ceiling: Any, nu: Any, zeta0: Any) -> Any:
    r""":math:`y(l) = G(l) - G(0)` for cells with a ceiling; ``inf`` at or above it."""
    d = nu * (log_ceiling - x)
    zeta = d + np.log(-np.expm1(-d))
    return select(d > 0, (zeta0 - zeta) / nu, np.inf)


def tau_closed_form(x: Any, c: Any, g0: Any) -> Any:
    r""":math:`\tau(x) = (1 - e^{-c x}) / (c g_0)`, :math:`x / g_0` when :math:`c = 0`."""
    return select(c == 0, x / g0, -np.expm1(-c * x) / (c * g0))


def level_closed_form(tau: Any, c: Any, g0: Any) -> Any:
    r"""The inverse of :func:`tau_closed_form`; ``inf`` at or past :math:`\tau(\infty) = 1/(c g_0)`."""
    u = c * g0 * tau
    return select(c == 0, tau * g0, select(u < 1, -np.log1p(-u) / c, np.inf))
