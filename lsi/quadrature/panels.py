r"""Chebyshev--Lobatto panels: the tables and constants both engines march with.

A panel of width :math:`w` in the regularised variable :math:`y` carries the integrand at
:data:`N` + 1 Chebyshev--Lobatto nodes :math:`y + w\,U_j`.  From the node values the tables give
the panel's integral (Clenshaw--Curtis weights :data:`CCW`), its Chebyshev tail (:data:`TAIL`,
the acceptance test), the coefficients of the interpolant (:data:`CMAT_T`) and of its
antiderivative from the panel's left end (:data:`INT`), and that antiderivative at the nodes
(:data:`PNODES`).  A panel is accepted when its tail is below :data:`RTOL` of its own integral,
or below the rounding already in :math:`\tau` (:data:`EPS`) or in the node values (:data:`NOISE`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import loopmath

__all__ = [
    "N",
    "RTOL",
    "MAX_ITER",
    "FIRST_PASS",
    "EPS",
    "NOISE",
    "DEFAULT_CHUNK",
    "U",
    "CMAT_T",
    "CCW",
    "TAIL",
    "INT",
    "TNODES",
    "PNODES",
    "SNODES",
    "SERIES",
    "first_width",
]

N = 16  #: polynomial degree of a panel (N + 1 nodes)
RTOL = 1e-12  #: accepted when the Chebyshev tail is below RTOL x the panel's integral
MAX_ITER = 3000  #: panel attempts per cell (numpy: per chunk) before a cell is declared a failure
FIRST_PASS = 24  #: numpy engine: cells needing more panels are redone together after all chunks
EPS = float(np.finfo(float).eps)
NOISE = 64.0 * EPS  #: rounding level of the Chebyshev tail, relative to max |h| x width
DEFAULT_CHUNK = 16384  #: cells processed at once


def _cheb_tables(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    j = np.arange(n + 1)
    theta = np.pi * (1.0 - j / n)  # ascending nodes s_j = cos(theta_j), s_0 = -1, s_n = 1
    s = np.cos(theta)
    s[0], s[-1] = -1.0, 1.0
    k = np.arange(n + 1)
    tk = np.cos(np.outer(k, theta))
    half = np.ones(n + 1)
    half[0] = half[-1] = 0.5
    cmat = (2.0 / n) * tk * half[None, :]  # coefficients c = cmat @ f
    cmat[0] *= 0.5
    cmat[-1] *= 0.5
    mom = np.zeros(n + 1)
    mom[0::2] = 2.0 / (1.0 - k[0::2] ** 2)
    weights = mom @ cmat  # Clenshaw-Curtis weights on [-1, 1]
    tail = np.asfortranarray(cmat[-3:].T)  # (n + 1, 3): the last three coefficients
    return (s + 1.0) / 2.0, cmat.T.copy(), weights, tail


def _integration_matrix(n: int) -> np.ndarray:
    """(n+1, n+2): Chebyshev coefficients of the antiderivative that vanishes at s = -1."""
    m = np.zeros((n + 1, n + 2))
    m[0, 1] = 1.0  # int T0 = T1
    m[1, 2] = 0.25  # int T1 = T2 / 4 (+ const)
    for k in range(2, n + 1):
        m[k, k + 1] = 0.5 / (k + 1)
        m[k, k - 1] = -0.5 / (k - 1)
    sign = (-1.0) ** np.arange(n + 2)
    m[:, 0] -= m @ sign  # fix the constant so that the antiderivative is 0 at s = -1
    return m


#: U: the nodes on [0, 1] (ascending); CMAT_T: node values -> Chebyshev coefficients, transposed;
#: CCW: Clenshaw-Curtis weights on [-1, 1]; TAIL: node values -> the last three coefficients
U, CMAT_T, CCW, TAIL = _cheb_tables(N)
#: series of the interpolant -> series of its antiderivative from s = -1 (N + 2 terms)
INT = _integration_matrix(N)
#: T_k(s_j), k = 0 .. N + 1, at the nodes s_j
TNODES = np.cos(np.outer(np.arange(N + 2, dtype=float), np.pi * (1.0 - np.arange(N + 1) / N)))
#: node values -> the antiderivative at the nodes
PNODES = CMAT_T @ INT @ TNODES
#: the nodes on [-1, 1]
SNODES = 2.0 * U - 1.0
#: node values -> (coefficients of the interpolant, of its antiderivative, the antiderivative at the nodes)
SERIES = np.hstack([CMAT_T, CMAT_T @ INT, PNODES])

for _table in (U, CMAT_T, CCW, TAIL, INT, TNODES, PNODES, SNODES, SERIES):
    _table.flags.writeable = False  # shared by both engines: read-only


def first_width(p: Any, a: Any, lam: Any, beta: Any, bg2: Any, nu_f: Any, log_ceiling: Any) -> Any:
    r"""Width in :math:`y` of a cell's first panel, elementwise.

    The inverse of a rough rate of change of :math:`\ln h` near :math:`l = 0`:
    :math:`|\rho(0)| F(0)/4 + a/2 + \nu/3 + \sqrt{\beta\gamma}/2 + 10^{-3}` (``nu_f``: :math:`\nu`
    where there is a ceiling, else 0; ``bg2`` :math:`= \beta\gamma/2`).
    """
    rho0 = lam * a * p - beta
    f0 = loopmath.ceiling_factor_from_log(0.0, log_ceiling, nu_f)
    scale = 0.25 * np.abs(rho0) * f0 + 0.5 * a + nu_f / 3 + np.sqrt(0.5 * bg2) + 1e-3
    return 1.0 / scale
