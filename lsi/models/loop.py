r"""The mechanistic loop model, whose factors are the three assumptions of RSI.

.. math::
    \frac{d\ell}{dt} = g_0\, \frac{S(\ell)^{\lambda}}{D(\ell)}\, F(\ell)\, E(t), \qquad \ell = \ln(C/C_0)

with the Amdahl speed-up :math:`S = 1/((1-p) + p e^{-a\ell})`, the complexity brake
:math:`D = e^{\beta(\ell + \gamma\ell^2/2)}`, the resource ceiling
:math:`F = \max(0, 1 - (C/K)^\nu)` and organisational friction :math:`E = e^{-\delta(t-t_0)}`.
It has no closed form; its right-hand side is separable, so the time to reach any
level is a one-dimensional integral evaluated by :mod:`lsi.quadrature`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from .. import loopmath, quadrature
from ..exceptions import ParameterValueError
from ..loopmath import PARAMS as LOOP_PARAMS
from .base import Crossings, Definition, GrowthModel, ParamSpec, register

__all__ = ["Loop", "LOOP_PARAMS"]


@register
class Loop(GrowthModel):
    r"""The loop model (docs/mathematics.md, "The loop model"); every other model is a special case.

    .. math::
        \frac{d\ell}{dt} = g_0\,\frac{\left[(1-p) + p e^{-a\ell}\right]^{-\lambda}}
        {e^{\beta(\ell + \gamma\ell^2/2)}}\,\max\!\left(0, 1 - (C/K)^{\nu}\right) e^{-\delta (t-t_0)}

    Parameters (``C0`` aside) default to the values under which every assumption
    holds (``p = 1, lam = 1, beta = gamma = 0, ceiling = inf, delta = 0``, with
    ``a = 0``: exponential growth at rate ``g0``); a fit varies only ``C0`` and ``g0``
    unless told otherwise.  Its embedding is itself.
    """

    name = "loop"
    title = "Loop model"
    closed_form = False
    mechanism = "loop"
    embedding = "itself: every assumption can fail"
    param_specs = (
        ParamSpec("C0", 0.0, math.inf, "data units", "capability at t0"),
        ParamSpec("g0", 0.0, math.inf, "1/yr", "growth rate of ln C at t0"),
        ParamSpec(
            "p",
            0.0,
            1.0,
            "",
            "automatable share of R&D work",
            default=1.0,
            vary=False,
            closed_min=True,
            closed_max=True,
        ),
        ParamSpec(
            "a",
            0.0,
            math.inf,
            "",
            "elasticity of AI research speed to capability",
            default=0.0,
            vary=False,
            closed_min=True,
        ),
        ParamSpec("lam", 0.0, 1.0, "", "parallel-research efficiency", default=1.0, vary=False, closed_max=True),
        ParamSpec("beta", 0.0, math.inf, "", "complexity brake at t0", default=0.0, vary=False, closed_min=True),
        ParamSpec("gamma", 0.0, math.inf, "", "stiffening of the brake", default=0.0, vary=False, closed_min=True),
        ParamSpec(
            "ceiling",
            1.0,
            math.inf,
            "",
            "resource ceiling K/C0 (inf: none)",
            default=math.inf,
            vary=False,
            closed_max=True,
        ),
        ParamSpec("nu", 0.0, math.inf, "", "shape of the ceiling", default=1.0, vary=False),
        ParamSpec("delta", 0.0, math.inf, "1/yr", "efficiency lost per year", default=0.0, vary=False, closed_min=True),
    )

    @classmethod
    def define(cls, C, tau, level, C0, g0, p, a, lam, beta, gamma, ceiling, nu, delta):
        # the same factors as lsi.loopmath, in sympy (the tests check the two agree)
        ell = sp.log(C / C0)
        S = 1 / ((1 - p) + p * sp.exp(-a * ell))
        D = sp.exp(beta * (ell + gamma * ell**2 / 2))
        F = sp.Max(0, 1 - (C / (C0 * ceiling)) ** nu)
        E = sp.exp(-delta * tau)
        return Definition(ode=C * g0 * S**lam / D * F * E)

    # ------------------------------------------------------------ helpers
    def _loop_params(self, theta: np.ndarray) -> dict[str, float]:
        return {k: float(v) for k, v in zip(LOOP_PARAMS, theta[1:], strict=True)}

    @staticmethod
    def _fd(fun, theta: np.ndarray, shape) -> np.ndarray:
        """Central finite differences of ``fun(theta)`` in every parameter (no closed form)."""
        out = np.zeros((theta.size,) + tuple(shape))
        for i, v in enumerate(theta):
            if not np.isfinite(v):
                continue
            h = 1e-6 * max(abs(v), 1e-4)
            up, dn = theta.copy(), theta.copy()
            up[i] += h
            dn[i] -= h
            if i in (2, 4) and up[i] > 1.0:  # p and lam are at most 1: one-sided there
                up[i] = v
                out[i] = (fun(up) - fun(dn)) / h
                continue
            if i in (2, 3, 5, 6, 9) and dn[i] < 0:  # p, a, beta, gamma, delta are at least 0
                dn[i] = v
                out[i] = (fun(up) - fun(dn)) / h
                continue
            out[i] = (fun(up) - fun(dn)) / (2 * h)
        return out

    # ------------------------------------------------------------ numerics on theta
    def lnC_theta(self, tau, theta):
        tau = np.asarray(tau, dtype=float)
        lp = self._loop_params(np.asarray(theta, dtype=float))
        return math.log(theta[0]) + quadrature.lnC_at(tau, 0.0, invalid="nan", **lp)

    def lnC_jac_theta(self, tau, theta):
        tau = np.asarray(tau, dtype=float)
        return self._fd(lambda th: self.lnC_theta(tau, th), np.asarray(theta, dtype=float), tau.shape)

    def C_theta(self, tau, theta):
        return np.exp(self.lnC_theta(tau, theta))

    def C_jac_theta(self, tau, theta):
        return self.lnC_jac_theta(tau, theta) * self.C_theta(tau, theta)

    def _rate_from_l(self, l, tau, lp):
        with np.errstate(all="ignore"):
            return loopmath.growth_rate(l, tau, *(lp[k] for k in LOOP_PARAMS))

    def rate_theta(self, tau, theta):
        theta = np.asarray(theta, dtype=float)
        tau = np.asarray(tau, dtype=float)
        l = self.lnC_theta(tau, theta) - math.log(theta[0])
        return self._rate_from_l(l, tau, self._loop_params(theta))

    def rate_grad_theta(self, tau, theta):
        tau = np.asarray(tau, dtype=float)
        return self._fd(lambda th: self.rate_theta(tau, th), np.asarray(theta, dtype=float), tau.shape)

    def inverse_theta(self, level, theta):
        theta = np.asarray(theta, dtype=float)
        level = np.asarray(level, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            l = np.log(level / theta[0])
        return quadrature.time_at(l, 0.0, invalid="nan", **self._loop_params(theta))

    def inverse_grad_theta(self, level, theta):
        level = np.asarray(level, dtype=float)
        return self._fd(lambda th: self.inverse_theta(level, th), np.asarray(theta, dtype=float), level.shape)

    def event_tau_theta(self, event, theta):
        if event != "singularity":
            return None
        theta = np.asarray(theta, dtype=float)

        def tau_s(th):
            lp = self._loop_params(th)
            tinf = float(quadrature.tau_infinity(invalid="nan", **lp))
            d = lp["delta"]
            if not np.isfinite(tinf):
                return math.inf
            if d == 0:
                return tinf
            return -math.log1p(-d * tinf) / d if d * tinf < 1 else math.inf

        v = tau_s(theta)
        if not np.isfinite(v):
            return None
        grad = self._fd(lambda th: np.asarray(tau_s(th)), theta, ())
        return v, grad.reshape(-1)

    def loop_params(self, cols):
        return {k: cols[k] for k in LOOP_PARAMS}

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        # no closed form: the quadrature path, vectorised over the draws
        n = theta.shape[0]
        lp = self.loop_params(self.columns(theta))
        end = horizon if np.isfinite(horizon) else t0 + 1e3
        res = quadrature.solve(t0, end, kappa_min=th.kappa_min, rho_min=th.rho_min, eta_min=th.eta_min, **lp)
        tk, tr, te, ts = (
            np.asarray(res[k], dtype=float).reshape(n)
            for k in ("t_closure", "t_amplification", "t_efficiency", "t_singularity")
        )
        return Crossings(tk, tr, te, ts)

    def guess(self, tau, y):
        ly = np.log(y)
        A = np.vstack([tau, np.ones_like(tau)]).T
        (g, c), *_ = np.linalg.lstsq(A, ly, rcond=None)
        g = float(g) if g > 0 else max(float(np.ptp(ly)) / max(float(np.ptp(tau)), 1e-9), 1e-3)
        return [{"C0": math.exp(float(c)), "g0": g}]

    # ------------------------------------------------------------ trajectory
    def trajectory(
        self,
        params: Mapping[str, Any],
        until: float,
        *,
        t0: float = 0.0,
        n: int = 401,
        thresholds: Any = None,
    ):
        """The path, the three diagnostics and their crossings for one parameter set.

        Parameters
        ----------
        params : mapping or lmfit.Parameters
            Loop parameters (``C0`` optional, default 1; others default to the
            all-assumptions-hold values; ``g0`` required).
        until : float
            End of the trajectory (same units as ``t0``).
        t0 : float
            Time origin.
        n : int
            Number of time points.
        thresholds : lsi.diagnostics.Thresholds or mapping, optional

        Returns
        -------
        xarray.Dataset
            Coordinate ``time``; variables ``lnC`` (ln C/C0), ``kappa``, ``rho``, ``eta``,
            ``speedup`` (S), ``growth_rate`` (d ln C/dt) and the growth accounting
            (``elasticity``, ``closure_part``, ``returns_part``, ``friction_part``);
            attrs: the parameters, thresholds, ``t_closure``, ``t_amplification``,
            ``t_efficiency``, ``t_singularity`` (NaN where none before ``until``),
            ``l_*`` the ln C/C0 at each crossing, ``first_failure`` and ``tied``.

        Examples
        --------
        >>> import lsi
        >>> ds = lsi.models.Loop().trajectory({"g0": 0.5, "p": 0.9, "a": 1.0}, until=20)
        >>> ds.attrs["first_failure"]
        'closure'
        """
        import xarray as xr

        th = loopmath.thresholds(thresholds)
        values = dict(params.valuesdict()) if hasattr(params, "valuesdict") else dict(params)
        values.setdefault("C0", 1.0)
        if "g0" not in values:
            raise ParameterValueError("trajectory needs g0 (the growth rate of ln C at t0)")
        theta = self.theta(values)
        lp: dict[str, Any] = self._loop_params(theta)  # Any: as **params beside the typed keywords
        until = float(until)
        if not until > t0:
            raise ParameterValueError(f"until = {until} is not after t0 = {t0}; give a later end")
        if n < 2:
            raise ParameterValueError(f"n = {n} time points; give at least 2")
        res = quadrature.solve(t0, until, kappa_min=th.kappa_min, rho_min=th.rho_min, eta_min=th.eta_min, **lp)
        ts = float(np.asarray(res["t_singularity"]).reshape(-1)[0])
        t_end = until if not np.isfinite(ts) else t0 + (ts - t0) * (1 - 1e-6)
        time = np.linspace(t0, t_end, n)
        l = quadrature.lnC_at(time, t0, **lp)
        with np.errstate(all="ignore"):
            kap = loopmath.closure(l, lp["p"], lp["a"])
            rh = loopmath.returns(l, lp["p"], lp["a"], lp["lam"], lp["beta"], lp["gamma"])
            eta = loopmath.ceiling_factor(l, lp["ceiling"], lp["nu"]) * loopmath.friction(time - t0, lp["delta"])
            S = loopmath.speedup(l, lp["p"], lp["a"])
        rate = self._rate_from_l(l, time - t0, lp)
        acc = loopmath.growth_accounting(l, time, t0=t0, **lp)
        attrs: dict[str, Any] = {f"param_{k}": float(v) for k, v in zip(self.param_names, theta, strict=True)}
        attrs.update(th.as_dict())
        attrs["t0"] = float(t0)
        attrs["until"] = until
        for key in (
            "t_closure",
            "t_amplification",
            "t_efficiency",
            "t_singularity",
            "l_closure",
            "l_amplification",
            "l_efficiency",
        ):
            attrs[key] = float(np.asarray(res[key]).reshape(-1)[0])
        attrs["first_failure"] = loopmath.FAILURES[int(np.asarray(res["first_failure"]).reshape(-1)[0])]
        attrs["tied"] = int(bool(np.asarray(res["tied"]).reshape(-1)[0]))
        attrs["r_takeoff"] = float(lp["lam"] * lp["a"] / lp["beta"]) if lp["beta"] > 0 else math.inf
        coords = {"time": ("time", time, {"units": "same as t0"})}
        data = {
            "lnC": ("time", l, {"long_name": "ln(C/C0)"}),
            "kappa": ("time", kap, {"long_name": "closure"}),
            "rho": ("time", rh, {"long_name": "returns"}),
            "eta": ("time", eta, {"long_name": "efficiency"}),
            "speedup": ("time", S, {"long_name": "Amdahl speed-up S"}),
            "growth_rate": ("time", rate, {"long_name": "d ln C / dt", "units": "per unit time"}),
            "elasticity": ("time", acc["total"], {"long_name": "d ln(dl/dt) / dl"}),
            "closure_part": ("time", acc["closure"]),
            "returns_part": ("time", acc["returns"]),
            "friction_part": ("time", acc["friction"]),
        }
        return xr.Dataset(data, coords=coords, attrs=attrs)
