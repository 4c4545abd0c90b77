"""The reference path: the loop model's ODE integrated with :func:`scipy.integrate.solve_ivp`.

:func:`solve_reference` gives the results of :func:`lsi.quadrature.solve` for one parameter
set without any of the quadrature: it is the independent check of both engines (the tests
compare them on random cells).  Its factors are written out in scalar ``math`` here, in log
space, so that an ODE right-hand side evaluated thousands of times per cell stays cheap.
scipy is imported when the function is first called.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..exceptions import ParameterValueError
from .output import RESULT_FLOAT_KEYS, TIE_TOLERANCE
from .validation import complete, problems

__all__ = ["solve_reference"]


def solve_reference(
    t0: float,
    until: float,
    *,
    kappa_min: float = 0.5,
    rho_min: float = 0.0,
    eta_min: float = 0.5,
    multiples: Iterable[float] = (),
    rtol: float = 1e-11,
    atol: float = 1e-12,
    method: str = "DOP853",
    **params: Any,
) -> dict[str, np.ndarray]:
    r"""The same results as :func:`~lsi.quadrature.solve` for ONE parameter set, by integrating the ODE.

    The ODE :math:`dl/dt = r(t, l) = g_0 S^\lambda F E / D` is integrated in the plane
    :math:`(t, l)` with :func:`scipy.integrate.solve_ivp` (``method``, ``rtol``, ``atol``),
    along the curve's own "arc" parameter :math:`\sigma = (t - t_0) + l`:

    .. math::

        \frac{dt}{d\sigma} = \frac{1}{1 + r}, \qquad \frac{dl}{d\sigma} = \frac{r}{1 + r},

    so that neither a near-blow-up (huge :math:`r`, where :math:`l(t)` is too steep for
    floating-point times) nor a stall (tiny :math:`r`) slows the solver or spoils :math:`l`.
    Crossings, multiples, the horizon and blow-up are events located on the dense output.
    Nothing of the quadrature is reused: this is the independent check of the fast path.

    A finite-time singularity (possible only when ``p = 1``, no ceiling,
    :math:`\beta\gamma = 0` and :math:`c = \lambda a - \beta > 0`, where
    :math:`dl/dt = g_0 e^{c l} E(t)`) is followed to :math:`l_{big} = 12 \ln 10 / c`; the
    rest of the way is the exact tail
    :math:`\int_{l_{big}}^\infty e^{-c x}/g_0\,dx = e^{-c l_{big}}/(c g_0)` of friction-free
    time, converted to a time with :math:`\int E\,dt`.

    Parameters
    ----------
    t0, until : float
        Start and end (decimal years).
    kappa_min, rho_min, eta_min : float
        Thresholds, as in :func:`~lsi.quadrature.solve`.
    multiples : sequence of float
        Values of :math:`C/C_0 \ge 1`.
    rtol, atol : float
        Tolerances of ``solve_ivp``.
    method : str
        ``solve_ivp`` method (``"DOP853"``; ``"LSODA"`` or ``"Radau"`` for stiff cases).
    **params
        Scalar loop-model parameters.

    Returns
    -------
    dict
        Same keys as :func:`~lsi.quadrature.solve`, with 0-d arrays (``t_reach`` has shape ``(M,)``);
        ``status`` 2 if the solver failed.

    Examples
    --------
    >>> r = solve_reference(0.0, 3.0, g0=1.0, a=1.0, beta=0.5)  # hyperbolic, t* = 2
    >>> round(float(r["t_singularity"]), 8)
    2.0
    """
    from scipy import integrate

    full = complete(params)
    mult = np.asarray(list(multiples), dtype=float).reshape(-1)
    if mult.size and not np.all(np.isfinite(mult) & (mult >= 1)):
        raise ParameterValueError(f"multiples contain {mult.tolist()!r}; each multiple must be a finite number >= 1")
    vals = {}
    for k, v in full.items():
        if v.size != 1:
            raise ParameterValueError(f"{k} has shape {v.shape}; solve_reference takes one parameter set (scalars)")
        vals[k] = float(v.reshape(()))
    nm = mult.size
    out: dict[str, Any] = {k: math.nan for k in RESULT_FLOAT_KEYS}
    out["t_reach"] = np.full(nm, np.nan)
    out["first_failure"] = -1
    out["tied"] = False
    out["status"] = 0

    def finish(d):
        r = {k: np.asarray(d[k], dtype=float) for k in RESULT_FLOAT_KEYS}
        r["t_reach"] = np.asarray(d["t_reach"], dtype=float)
        r["first_failure"] = np.asarray(d["first_failure"], dtype=np.int8)
        r["tied"] = np.asarray(d["tied"], dtype=bool)
        r["status"] = np.asarray(d["status"], dtype=np.int8)
        return r

    bad, _ = problems({k: np.asarray(v) for k, v in vals.items()})
    t0, until = float(t0), float(until)
    thresholds = (float(kappa_min), float(rho_min), float(eta_min))
    if (
        bool(bad)
        or not (math.isfinite(t0) and math.isfinite(until) and until >= t0)
        or any(math.isnan(x) for x in thresholds)
    ):
        out["status"] = 1
        return finish(out)
    kmin, rmin, emin = thresholds
    g0, p, a, lam = vals["g0"], vals["p"], vals["a"], vals["lam"]
    beta, gamma, ceiling, nu, delta = (
        vals["beta"],
        vals["gamma"],
        vals["ceiling"],
        vals["nu"],
        vals["delta"],
    )
    horizon = until - t0
    L = math.log(ceiling)
    fin = math.isfinite(L)
    log1mp = math.log1p(-p) if p < 1 else -math.inf
    logp = math.log(p) if p > 0 else -math.inf
    logg0 = math.log(g0)

    def logsum(u: float, v: float) -> float:  # ln(e^u + e^v)
        if u == -math.inf:
            return v
        if v == -math.inf:
            return u
        hi_, lo_ = (u, v) if u >= v else (v, u)
        return hi_ + math.log1p(math.exp(lo_ - hi_))

    def ceil_f(lv):
        if not fin:
            return 1.0
        return max(0.0, -math.expm1(nu * (lv - L)))

    def log_rate(s, lv):
        # ln(g0 S^lam F E / D), with ln S = -ln((1-p) + p e^{-a lv}); s = t - t0
        f = ceil_f(lv)
        if f <= 0.0:
            return -math.inf
        ls = -logsum(log1mp, logp - a * lv)
        ld = beta * (lv + 0.5 * gamma * lv * lv)
        return logg0 + lam * ls - ld - delta * s + math.log(f)

    def expit(z):
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def rhs(sigma, y):
        lr = log_rate(y[0], y[1])
        return [expit(-lr), expit(lr)]  # dt/dsigma = 1/(1+r), dl/dsigma = r/(1+r)

    def kap(lv):
        if p == 1:
            return 1.0
        if p == 0:
            return 0.0
        if a == 0 or lv == 0:
            return p
        return expit(logp - log1mp - a * lv)

    def rh(lv):
        return lam * a * kap(lv) - beta * (1.0 + gamma * lv)

    def et(s, lv):
        return ceil_f(lv) * math.exp(-delta * s)

    c = lam * a - beta
    singular_class = p == 1 and not fin and beta * gamma == 0 and c > 0
    constant = {
        "k": not (0 < p < 1 and a > 0),
        "r": not ((0 < p < 1 and a > 0) or beta * gamma > 0),
        "e": not (fin or delta > 0),
    }
    diag0 = {"k": kap(0.0) - kmin, "r": rh(0.0) - rmin, "e": et(0.0, 0.0) - emin}
    starts = {k: diag0[k] < 0 or (diag0[k] == 0 and not constant[k]) for k in diag0}

    events = []
    names = []

    def add(fun, direction, name, terminal=False):
        def ev(sigma, y, fun=fun):
            return fun(y[0], y[1])

        # solve_ivp reads an event's direction and terminal flag as attributes of the function
        event: Any = ev
        event.direction = direction
        event.terminal = terminal
        events.append(ev)
        names.append(name)

    if not starts["k"] and not constant["k"]:
        add(lambda s, lv: kap(lv) - kmin, -1, "k")
    if not starts["r"] and not constant["r"]:
        add(lambda s, lv: rh(lv) - rmin, -1, "r")
    if not starts["e"] and not constant["e"]:
        add(lambda s, lv: et(s, lv) - emin, -1, "e")
    lmult = [math.log(x) for x in mult]
    for j, lj in enumerate(lmult):
        if lj > 0:
            add(lambda s, lv, lj=lj: lv - lj, 1, ("m", j))
    add(lambda s, lv: s - horizon, 1, "end", terminal=True)
    # e^{-c l_big} = 1e-12: the analytic tail beyond is tiny and exact
    l_big = 12.0 * math.log(10.0) / c if singular_class else math.inf
    if singular_class:
        add(lambda s, lv: lv - l_big, 1, "big", terminal=True)

    found: dict[Any, tuple[float, float]] = {}
    l_end_val = 0.0
    if horizon > 0:
        # sigma = s + lv, so the end lies before horizon + (largest lv) + 1
        l_cap = L if fin else (l_big if singular_class else 1e12)
        sol = integrate.solve_ivp(
            rhs,
            (0.0, horizon + l_cap + 1.0),
            [0.0, 0.0],
            method=method,
            rtol=rtol,
            atol=atol,
            events=events,
        )
        if sol.status < 0:
            out["status"] = 2
            return finish(out)
        for name, ye in zip(names, sol.y_events, strict=True):
            if len(ye):
                found[name] = (t0 + float(ye[0][0]), float(ye[0][1]))
        if "end" in found:
            l_end_val = found["end"][1]
        elif "big" not in found:
            out["status"] = 2
            return finish(out)

    def t_of_tau(tt):
        if delta == 0:
            return t0 + tt
        if delta * tt >= 1:
            return math.nan
        return t0 - math.log1p(-delta * tt) / delta

    def tau_of_t(tt):
        return (tt - t0) if delta == 0 else -math.expm1(-delta * (tt - t0)) / delta

    tail_sing = math.nan
    if "big" in found:
        # analytic tail beyond l_big: tau(lv) - tau(l_big) = (e^{-c l_big} - e^{-c lv})/(c g0)
        tb, lb = found["big"]
        tau_b = tau_of_t(tb)
        tau_inf = tau_b + math.exp(-c * lb) / (c * g0)
        target = tau_of_t(until)
        ts = t_of_tau(tau_inf)
        if math.isfinite(ts) and ts <= until:
            tail_sing = ts
            l_end_val = math.inf
        else:
            u = math.exp(-c * lb) - c * g0 * (target - tau_b)
            l_end_val = -math.log(u) / c if u > 0 else math.inf
        for j, lj in enumerate(lmult):
            if lj > lb and ("m", j) not in found:
                tj = t_of_tau(tau_b + (math.exp(-c * lb) - math.exp(-c * lj)) / (c * g0))
                if math.isfinite(tj) and tj <= until:
                    found[("m", j)] = (tj, lj)
        if "e" in names and "e" not in found and delta > 0:
            tau_e = (1.0 - emin) / delta
            if tau_b < tau_e < tau_inf and tau_e <= target:
                te_ = t_of_tau(tau_e)
                le_ = -math.log(math.exp(-c * lb) - c * g0 * (tau_e - tau_b)) / c
                found["e"] = (te_, le_)

    out["lnC_end"] = l_end_val
    out["t_singularity"] = tail_sing
    for key, name in (("closure", "k"), ("amplification", "r"), ("efficiency", "e")):
        if starts[name]:
            out[f"t_{key}"], out[f"l_{key}"] = t0, 0.0
        elif name in found:
            out[f"t_{key}"], out[f"l_{key}"] = found[name]
    for j, lj in enumerate(lmult):
        if lj <= 0:
            out["t_reach"][j] = t0
        elif ("m", j) in found:
            out["t_reach"][j] = found[("m", j)][0]
    times = [out["t_closure"], out["t_amplification"], out["t_efficiency"]]
    fin_times = [(tt, i) for i, tt in enumerate(times) if math.isfinite(tt)]
    if fin_times and not (tail_sing < min(fin_times)[0]):
        tfirst, ifirst = min(fin_times)
        out["first_failure"] = ifirst
        out["tied"] = sum(tt <= tfirst + TIE_TOLERANCE for tt, _ in fin_times) >= 2
    else:
        out["first_failure"] = 3
    return finish(out)
