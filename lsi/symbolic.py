"""From one sympy definition to every numeric function a model needs.

A model writes its mathematics once, as sympy expressions in the capability ``C``,
the time since the origin ``tau = t - t0`` and its parameters (``C0`` first).  This
module turns that into vectorised numpy functions: ``ln C(tau)``, ``C(tau)``, the
growth rate ``d ln C / dt``, their gradients with respect to the parameters (the
fitter's Jacobian and the delta method's gradients), the inverse ``tau(C)`` and
the derived event times.  Compilation is lazy and cached per model class, so
importing lsi stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import scipy.special
import sympy as sp

__all__ = ["wrightomega", "Compiled", "compile_expr", "CompiledModel"]


class wrightomega(sp.Function):
    r"""Wright omega function, :math:`\omega(z) = W_0(e^z)`, the solution of
    :math:`\omega + \ln\omega = z`.

    It writes the Amdahl-capped model's closed form without overflowing for
    shares ``p`` near 1 (``W_0`` of a huge exponential).  Its derivative is
    :math:`\omega / (1 + \omega)`.
    """

    def fdiff(self, argindex=1):
        w = wrightomega(self.args[0])
        return w / (1 + w)

    def _eval_evalf(self, prec):
        z = self.args[0]._to_mpmath(prec)
        with mpmath.workprec(prec):
            return sp.Float._new(mpmath.lambertw(mpmath.exp(z)).real._mpf_, prec)


_MODULES: list = [{"wrightomega": scipy.special.wrightomega}, "numpy"]


@dataclass(frozen=True)
class Compiled:
    """A compiled scalar expression and its gradient with respect to the parameters."""

    value: Callable[..., np.ndarray]
    grad: Callable[..., np.ndarray]
    expr: sp.Expr
    #: the bare lambdified functions (no broadcasting, no error-state handling): the
    #: fitter's hot loop calls these under one ``np.errstate`` of its own
    raw_value: Callable[..., object] | None = None
    raw_grad: Callable[..., object] | None = None


def _broadcaster(fn: Callable[..., Any], n_out: int | None) -> Callable[..., np.ndarray]:
    def call(x, *theta):
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            out = fn(x, *theta)
        if n_out is None:
            if type(out) is np.ndarray and out.shape == x.shape:
                return out
            return np.broadcast_to(np.asarray(out, dtype=float), x.shape).copy()
        res = np.empty((n_out,) + x.shape)
        for i, o in enumerate(out):
            res[i] = o
        return res

    return call


def compile_expr(expr: sp.Expr, x: sp.Symbol, theta: Sequence[sp.Symbol]) -> Compiled:
    """Compile ``expr(x; theta)`` and its gradient in ``theta`` to numpy functions.

    Both functions take ``(x, *theta)`` and broadcast over ``x``; the gradient
    returns an array of shape ``(len(theta),) + x.shape``.
    """
    value = sp.lambdify([x, *theta], expr, modules=_MODULES, cse=True)
    grads = [sp.diff(expr, s) for s in theta]
    grad = sp.lambdify([x, *theta], grads, modules=_MODULES, cse=True)
    return Compiled(_broadcaster(value, None), _broadcaster(grad, len(theta)), expr, value, grad)


class CompiledModel:
    """Numeric functions of one closed-form model, built lazily from its definition.

    Attributes are created on first access: ``lnC``, ``C``, ``rate`` (``d ln C/dt``
    as a function of ``tau``), ``inverse`` (``tau`` at which ``C`` reaches a level),
    ``inflection`` and ``singularity`` (``tau`` of each event, as functions of the
    parameters only, evaluated with a dummy ``x``).
    """

    def __init__(self, definition, symbols: dict[str, sp.Symbol], tau: sp.Symbol, level: sp.Symbol):
        self._d = definition
        self._theta = list(symbols.values())
        self._tau = tau
        self._level = level
        self._cache: dict[str, Compiled | None] = {}

    # built by __getattr__ on first access; declared here for the type checker
    lnC: Compiled
    C: Compiled
    rate: Compiled
    inverse: Compiled | None
    inflection: Compiled | None
    singularity: Compiled | None

    def _get(self, key: str) -> Compiled | None:
        if key not in self._cache:
            self._cache[key] = self._build(key)
        return self._cache[key]

    def _build(self, key: str) -> Compiled | None:
        d, tau, theta = self._d, self._tau, self._theta
        if key == "lnC":
            return compile_expr(d.log_solution, tau, theta)
        if key == "C":
            return compile_expr(d.solution, tau, theta)
        if key == "rate":
            return compile_expr(sp.diff(d.log_solution, tau), tau, theta)
        if key == "inverse":
            return None if d.inverse is None else compile_expr(d.inverse, self._level, theta)
        if key == "inflection":
            return None if d.inflection_tau is None else compile_expr(d.inflection_tau, tau, theta)
        if key == "singularity":
            return None if d.singularity_tau is None else compile_expr(d.singularity_tau, tau, theta)
        raise KeyError(key)

    def __getattr__(self, key: str) -> Compiled | None:
        if key.startswith("_"):
            raise AttributeError(key)
        return self._get(key)
