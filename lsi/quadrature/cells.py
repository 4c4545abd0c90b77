r"""The validated parameter record both engines read: per-cell constants of the loop model.

A :class:`Cells` holds, for a 1-D batch of *valid* cells (see :mod:`.validation`), the nine
parameters and the transformed constants the quadrature needs, each computed once per cell:
:math:`\ln g_0`, :math:`\operatorname{logit} p`, :math:`\ln K`, :math:`\zeta_0 = \ln(K^\nu - 1)`
and the closed-form class.  The numpy engine works on it directly; the compiled engine packs
its fields (:data:`Cells.FIELDS`) into one array, a row per cell.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import loopmath

__all__ = ["Cells"]


class Cells:
    r"""Constants of the loop model for a 1-D batch of valid cells.

    Attributes are float arrays of length :attr:`n` unless said otherwise.

    Attributes
    ----------
    g0, p, a, lam, beta, gamma, nu, delta
        The parameters (``ceiling`` is held as its logarithm ``L``).
    logg0, logit_p
        :math:`\ln g_0` and :math:`\ln p - \ln(1-p)` (:math:`\pm\infty` at ``p`` = 1, 0).
    bg2
        :math:`\beta\gamma/2`, the curvature of :math:`\ln D`.
    L, fin
        :math:`\ln K` (``inf`` without a ceiling) and whether it is finite (bool).
    zeta0, nu_f
        :math:`\zeta_0 = \ln(K^\nu - 1)` (``inf`` without a ceiling) and :math:`\nu` where there
        is a ceiling, else 0.
    c, cf
        The closed-form class (bool ``cf``): no ceiling, :math:`\beta\gamma = 0` and either
        ``p = 1`` or a constant speed-up (``p = 0`` or ``a = 0``); there the integrand is
        :math:`e^{-c x}/g_0` with :math:`c = \lambda a - \beta` at ``p = 1`` and :math:`-\beta`
        otherwise.
    """

    #: the per-cell arrays, in the order the compiled engine packs them
    FIELDS: tuple[str, ...] = (
        "p", "a", "lam", "beta", "gamma", "nu", "delta", "logg0", "logit_p", "bg2", "L", "zeta0", "nu_f", "fin",
        "g0", "c", "cf",
    )  # fmt: skip

    g0: np.ndarray
    p: np.ndarray
    a: np.ndarray
    lam: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    nu: np.ndarray
    delta: np.ndarray
    logg0: np.ndarray
    logit_p: np.ndarray
    bg2: np.ndarray
    L: np.ndarray
    fin: np.ndarray
    zeta0: np.ndarray
    nu_f: np.ndarray
    c: np.ndarray
    cf: np.ndarray
    n: int

    def __init__(self, g0, p, a, lam, beta, gamma, ceiling, nu, delta):
        self.g0, self.p, self.a, self.lam = g0, p, a, lam
        self.beta, self.gamma, self.nu, self.delta = beta, gamma, nu, delta
        self.n = g0.shape[0]
        self.logit_p = loopmath.logit(p)
        self.logg0 = np.log(g0)
        self.bg2 = 0.5 * beta * gamma
        self.L = np.log(ceiling)
        self.fin = np.isfinite(self.L)
        nl = nu * np.where(self.fin, self.L, 1.0)
        # zeta0 = ln(K^nu - 1), written so that it neither overflows nor cancels
        self.zeta0 = np.where(self.fin, nl + np.log(-np.expm1(-nl)), np.inf)
        self.nu_f = np.where(self.fin, nu, 0.0)
        # closed form without a ceiling and with beta gamma = 0: the integrand is
        # e^{-c x}/g0, with c = lam a - beta at p = 1, and c = -beta where S = 1 (p = 0 or a = 0)
        self.c = np.where(p == 1, lam * a, 0.0) - beta
        self.cf = ((p == 1) | (p == 0) | (a == 0)) & ~self.fin & (self.bg2 == 0)

    @classmethod
    def from_columns(cls, columns: dict[str, np.ndarray], rows: Any = slice(None)) -> Cells:
        """The record of ``columns[name][rows]`` for the nine parameters (:data:`~lsi.loopmath.PARAMS`)."""
        return cls(*(columns[k][rows] for k in loopmath.PARAMS))

    def take(self, idx: np.ndarray) -> Cells:
        """The record of the cells ``idx`` (integer indices or a boolean mask)."""
        sub = object.__new__(Cells)
        for k, v in self.__dict__.items():
            sub.__dict__[k] = v[idx] if isinstance(v, np.ndarray) else v
        sub.n = idx.shape[0] if idx.dtype != bool else int(idx.sum())
        return sub
