"""The compiled engine of :func:`lsi.quadrature.solve` (numba; the ``lsi[fast]`` extra).

:func:`solve_valid` does what :func:`.numpy_engine.solve_valid` does (the closed forms, the
march of Chebyshev panels with the same acceptance rule, the same root finders inside the
panels, the crossing times and which assumption fails first), one cell at a time in compiled
code instead of all cells of a chunk at once in numpy.  The numpy engine spends most of its
time gathering, masking and scattering arrays, which a per-cell loop does not need; what is
left is the integrand's exponentials and logarithms.  Both engines are kept: the numpy one is
the reference this one is tested against (``tests/test_jit.py``: equal to rounding on random
and on hard cells) and the one used when numba is not installed.

Both engines read the same record (:class:`.cells.Cells`, packed here into one row per cell),
the same tables (:mod:`.panels`) and the same formulas: the loop model's factors of
:mod:`lsi.loopmath` and the maps of :mod:`.maps` are compiled here from their own source
(``loopmath.select`` becomes a scalar branch and ``loopmath.expit`` its two-branch form).

This module is imported only when the compiled engine is chosen (see
:func:`lsi.quadrature.driver.resolve_engine`).  The first call in a fresh install compiles it
(a few seconds); numba caches the machine code next to this file.  numba's cache checks only
this file, so the cached entry point carries a hash of the other sources it compiles in
(:data:`SOURCE_KEY`): editing :mod:`lsi.loopmath` or a table recompiles it.
"""

from __future__ import annotations

import hashlib
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np
from numba.extending import overload, register_jitable

from .. import loopmath
from . import cells, maps, output, panels
from .cells import Cells
from .engines import JIT_MIN_CELLS, RunChunk
from .maps import level_closed_form, level_of_y, tau_closed_form, y_of_level
from .output import RESULT_FLOAT_KEYS, TIE_TOLERANCE
from .panels import MAX_ITER, first_width

__all__ = ["NAME", "SOURCE_KEY", "solve_valid", "schedule", "threads"]

NAME = "numba"

# ---------------------------------------------------------------------------------------
# the shared formulas, compiled: loopmath's two primitives on scalars, then every function
# of loopmath, maps and panels that the code below calls
# ---------------------------------------------------------------------------------------


@overload(loopmath.select)
def _select_scalar(condition, if_true, if_false):
    def impl(condition, if_true, if_false):
        return if_true if condition else if_false

    return impl


@overload(loopmath.expit)
def _expit_scalar(z):
    def impl(z):
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    return impl


# compiled into the entry point that calls them (not cached apart: see SOURCE_KEY)
_inner = register_jitable(error_model="numpy")

for _fn in (
    loopmath.log_speedup,
    loopmath.log_brake,
    loopmath.ceiling_factor_from_log,
    loopmath.friction_free_time,
    loopmath.elapsed_time,
    loopmath.closure_from_logit,
    loopmath.closure_level,
    loopmath.closure_level_from_logit,
    loopmath.logit,
    loopmath.returns_from_closure,
    loopmath.returns_slope,
    level_of_y,
    y_of_level,
    tau_closed_form,
    level_closed_form,
    first_width,
):
    _inner(_fn)


def _source_key() -> int:
    digest = hashlib.sha256()
    for mod in (loopmath, maps, panels, output, cells):
        digest.update(Path(str(mod.__file__)).read_bytes())
    return int(digest.hexdigest()[:15], 16)


#: a hash of the sources compiled into the entry point besides this file
SOURCE_KEY = _source_key()

# the tables, as C-ordered private copies (numba freezes them into the machine code)
_N = panels.N
_NOISE = panels.NOISE
_EPS = panels.EPS
_RTOL = panels.RTOL
_MAX_ITER = MAX_ITER
_U = np.array(panels.U)
_CCW = np.array(panels.CCW)
_TAIL = np.array(panels.TAIL, order="C")
_CMAT_T = np.array(panels.CMAT_T, order="C")
_INT = np.array(panels.INT, order="C")  # series -> series of its antiderivative from s = -1
_TNODES = np.array(panels.TNODES, order="C")  # T_k at the nodes, k = 0 .. N + 1
_SNODES = np.array(panels.SNODES)

# columns of a cell's row (the fields of the Cells record)
(_P, _A, _LAM, _BETA, _GAMMA, _NU, _DELTA, _LOGG0, _LOGIT_P, _BG2, _L, _ZETA0, _NU_F, _FIN, _G0, _C, _CF) = (
    Cells.FIELDS.index(name)
    for name in (
        "p", "a", "lam", "beta", "gamma", "nu", "delta", "logg0", "logit_p", "bg2", "L", "zeta0", "nu_f", "fin",
        "g0", "c", "cf",
    )
)  # fmt: skip
# columns of the float results, in RESULT_FLOAT_KEYS order
(_R_LNC, _R_TK, _R_LK, _R_TR, _R_LR, _R_TE, _R_LE, _R_TS) = (
    RESULT_FLOAT_KEYS.index(name)
    for name in (
        "lnC_end", "t_closure", "l_closure", "t_amplification", "l_amplification", "t_efficiency", "l_efficiency",
        "t_singularity",
    )
)  # fmt: skip
_TIE = TIE_TOLERANCE

_NEWTON_MAXIT = 100


@_inner
def _x_of_y(k, y):
    """x(y) and F(x(y)) for one cell (see :func:`.maps.level_of_y`)."""
    if k[_FIN] == 0.0:
        return y, 1.0
    return level_of_y(y, k[_L], k[_NU], k[_ZETA0])


@_inner
def _y_of_x(k, x):
    """y(x) for one cell (see :func:`.maps.y_of_level`)."""
    if k[_FIN] == 0.0:
        return x
    return y_of_level(x, k[_L], k[_NU], k[_ZETA0])


@_inner
def _psi(k, x):
    """ln h(x) (see :func:`.march.psi`)."""
    return loopmath.log_brake(x, k[_BETA], k[_GAMMA]) - k[_LAM] * loopmath.log_speedup(x, k[_P], k[_A]) - k[_LOGG0]


@_inner
def _rho_x(k, x):
    """rho(x) and d rho / dx for one cell."""
    a, lam, beta, gamma = k[_A], k[_LAM], k[_BETA], k[_GAMMA]
    kap = loopmath.closure_from_logit(x, k[_LOGIT_P], a)
    return loopmath.returns_from_closure(kap, x, a, lam, beta, gamma), loopmath.returns_slope(kap, a, lam, beta, gamma)


@_inner
def _initial_width(k):
    return first_width(k[_P], k[_A], k[_LAM], k[_BETA], k[_BG2], k[_NU_F], k[_L])


@_inner
def _cheb_eval(c, b, s):
    """Antiderivative (from -1) and value of the panel series at s (clipped to [-1, 1])."""
    s = min(max(s, -1.0), 1.0)
    t_prev, t_cur = 1.0, s
    part = b[0] + b[1] * s
    val = c[0] + c[1] * s
    s2 = 2.0 * s
    for j in range(2, _N + 2):
        t_next = s2 * t_cur - t_prev
        part += b[j] * t_next
        if j <= _N:
            val += c[j] * t_next
        t_prev, t_cur = t_cur, t_next
    return part, val


# kinds of scalar root problem solved by _newton
_K_TAU, _K_RHO, _K_ETA = 0, 1, 2


@_inner
def _g(kind, s, k, c, b, r, ya, hw, ta, thr):
    """The function (increasing in s) whose root is sought, and its derivative."""
    if kind == _K_TAU:  # antiderivative of the panel = r
        part, val = _cheb_eval(c, b, s)
        return part - r, val
    if kind == _K_RHO:  # rho(x) = thr, in x
        rv, dr = _rho_x(k, s)
        return thr - rv, -dr
    # efficiency: F(y(s)) (1 - delta tau(s)) = thr
    part, val = _cheb_eval(c, b, s)
    _, fv = _x_of_y(k, ya + hw * (s + 1.0))
    e = 1.0 - k[_DELTA] * (ta + hw * part)
    g = fv * e - thr
    dg = hw * (-k[_NU_F] * fv * (1.0 - fv) * e - fv * k[_DELTA] * val)
    return -g, -dg


@_inner
def _newton(kind, lo, hi, x0, xtol, newton_stop, k, c, b, r, ya, hw, ta, thr):
    """Scalar form of the numpy engine's bracketed Newton (:mod:`.march`); returns (root, not converged)."""
    x = min(max(x0, lo), hi)
    g_lo = math.nan
    g_hi = math.nan
    for _ in range(_NEWTON_MAXIT):
        g, d = _g(kind, x, k, c, b, r, ya, hw, ta, thr)
        if g < 0:
            lo, g_lo = x, g
        else:
            hi, g_hi = x, g
        nstep = g / d
        xn = x - nstep
        out = not (xn > lo and xn < hi)
        nstep = abs(nstep)
        conv = (nstep <= xtol) or (g == 0) or ((not out) and nstep <= newton_stop)
        if conv:
            xn = min(max(xn, lo), hi)
            out = False
        if out:
            sec = lo - g_lo * (hi - lo) / (g_hi - g_lo)
            xn = sec if (sec > lo and sec < hi) else 0.5 * (lo + hi)
        conv = conv or (hi - lo <= xtol) or (abs(xn - x) <= xtol)
        if g == 0:
            xn = x
        x = xn
        if conv:
            return x, False
    return x, True


@_inner
def _invert_panel(k, hh, c, b, pn, r):
    """s in [-1, 1] where the panel's antiderivative equals r (as in the numpy engine)."""
    cnt = 0
    for j in range(_N + 1):
        if pn[j] <= r:
            cnt += 1
    j = min(max(cnt - 1, 0), _N - 1)
    lo, hi = _SNODES[j], _SNODES[j + 1]
    p_lo, p_hi = pn[j], pn[j + 1]
    dp = p_hi - p_lo
    u = min(max((r - p_lo) / (dp if dp > 0 else 1.0), 0.0), 1.0)
    ds = hi - lo
    d_lo, d_hi = hh[j] * ds, hh[j + 1] * ds
    u2 = u * u
    u3 = u2 * u
    herm = (2 * u3 - 3 * u2 + 1) * p_lo + (u3 - 2 * u2 + u) * d_lo + (-2 * u3 + 3 * u2) * p_hi + (u3 - u2) * d_hi
    dherm = (6 * u2 - 6 * u) * (p_lo - p_hi) + (3 * u2 - 4 * u + 1) * d_lo + (3 * u2 - 2 * u) * d_hi
    un = u - (herm - r) / (dherm if dherm > 0 else math.inf)
    if un >= 0 and un <= 1:
        u = un
    s0 = lo + ds * u
    if not (p_lo <= r and r <= p_hi):
        lo, hi = -1.0, 1.0
    return _newton(_K_TAU, lo, hi, s0, 1e-14, 1e-9, k, c, b, r, 0.0, 0.0, 0.0, 0.0)


@_inner
def _series(hh, c, b):
    """Chebyshev coefficients of the panel's interpolant (c) and of its antiderivative
    from s = -1 (b), from the node values hh (as in the numpy engine)."""
    for i in range(_N + 1):
        c[i] = 0.0
    for j in range(_N + 1):
        h = hh[j]
        for i in range(_N + 1):
            c[i] += h * _CMAT_T[j, i]
    b[0] = 0.0
    for i in range(1, _N + 2):  # _INT is bidiagonal but for its first column
        b[i] = 0.0
    for kk in range(_N + 1):
        ck = c[kk]
        b[0] += ck * _INT[kk, 0]
        if kk >= 2:
            b[kk - 1] += ck * _INT[kk, kk - 1]
        b[kk + 1] += ck * _INT[kk, kk + 1]


@_inner
def _at_nodes(b, pn):
    """The antiderivative at the nodes (needed only to bracket an inversion)."""
    for j in range(_N + 1):
        v = 0.0
        for kk in range(_N + 2):
            v += b[kk] * _TNODES[kk, j]
        pn[j] = v


@_inner
def _march_cell(
    k, y_stop, tau_stop, yq, tq, rho_min, eta_min, max_iter, rtol, tau_yq, y_tq, res, hh, xx, ff, ps, c, b, pn,
    pend_y, pend_t,
):  # fmt: skip
    """March one cell; writes tau_yq, y_tq and res = (x_rho, tau_rho, x_eta, tau_eta,
    fail, deferred).  hh .. pend_t are work arrays."""
    nq, nr = yq.shape[0], tq.shape[0]
    res[0] = res[1] = res[2] = res[3] = math.nan
    res[4] = res[5] = 0.0
    for i in range(nq):
        tau_yq[i] = 0.0 if yq[i] == 0 else math.inf
        pend_y[i] = math.isfinite(yq[i]) and yq[i] != 0
    for i in range(nr):
        y_tq[i] = 0.0 if tq[i] == 0 else math.nan
        pend_t[i] = math.isfinite(tq[i]) and tq[i] != 0
    pend_r = not math.isnan(rho_min)
    pend_e = not math.isnan(eta_min)
    if not (y_stop > 0 and tau_stop > 0):
        return
    y = 0.0
    tau = 0.0
    w = _initial_width(k)
    j0 = 0  # node 0 is the last panel's node 0 (rejected) or node N (accepted): reuse it
    for _ in range(max_iter):
        for j in range(j0, _N + 1):
            xj, fj = _x_of_y(k, y + w * _U[j])
            xx[j], ff[j] = xj, fj
            ps[j] = _psi(k, xj)
            hh[j] = math.exp(ps[j])
        integ = 0.0
        t0 = t1 = t2 = 0.0
        for j in range(_N + 1):
            integ += hh[j] * _CCW[j]
            t0 += hh[j] * _TAIL[j, 0]
            t1 += hh[j] * _TAIL[j, 1]
            t2 += hh[j] * _TAIL[j, 2]
        integ *= 0.5 * w
        err = 0.5 * w * (abs(t0) + abs(t1) + abs(t2))
        slope = abs(ps[_N] - ps[0]) / w
        hmax = max(max(hh[0], hh[_N]), hh[_N // 2])
        noise = _NOISE * 0.5 * w * hmax * (1.0 + slope * (abs(y) + w))
        tol = max(max(rtol * integ, _EPS * tau), noise)
        ratio = err / tol
        if err == 0 and tol == 0:
            ratio = 0.0
        good = math.isfinite(integ) and math.isfinite(err) and integ >= 0
        ok = good and ratio <= 1.0
        factor = 0.85 * ratio ** (-1.0 / _N)
        factor = min(max(factor, 0.2), 5.0)
        if err <= noise:
            factor = max(factor, 1.5)
        if not good:
            factor = 0.2
        finished = False
        if ok:
            ta = tau
            tb = ta + integ
            yb = y + w
            hw = 0.5 * w
            have_series = have_pn = False
            for i in range(nq):
                if pend_y[i] and yq[i] <= yb:
                    pend_y[i] = False
                    if not have_series:
                        _series(hh, c, b)
                        have_series = True
                    part, _ = _cheb_eval(c, b, 2.0 * (yq[i] - y) / w - 1.0)
                    tau_yq[i] = ta + hw * part
            for i in range(nr):
                if pend_t[i] and tq[i] <= tb:
                    pend_t[i] = False
                    if not have_series:
                        _series(hh, c, b)
                        have_series = True
                    if not have_pn:
                        _at_nodes(b, pn)
                        have_pn = True
                    s, bad = _invert_panel(k, hh, c, b, pn, (tq[i] - ta) / hw)
                    y_tq[i] = y + w * 0.5 * (s + 1.0)
                    if bad:
                        res[4] = 1.0
            if pend_r:
                rb, _ = _rho_x(k, xx[_N])
                if rb < rho_min:
                    pend_r = False
                    if not have_series:
                        _series(hh, c, b)
                        have_series = True
                    xa, xb = xx[0], xx[_N]
                    la = k[_LAM] * k[_A]
                    ks = (rho_min + k[_BETA]) / la
                    x_cf = math.nan
                    if ks > 0 and ks < 1:
                        x_cf = loopmath.closure_level_from_logit(ks, k[_LOGIT_P], k[_A])
                    if k[_BG2] == 0 and math.isfinite(x_cf):
                        xr = min(max(x_cf, xa), xb)
                    else:
                        xr, bad = _newton(
                            _K_RHO, xa, xb, 0.5 * (xa + xb), 1e-14 * (1.0 + abs(xb)), 0.0,
                            k, c, b, 0.0, 0.0, 0.0, 0.0, rho_min,
                        )  # fmt: skip
                        if bad:
                            res[4] = 1.0
                    yr = _y_of_x(k, xr)
                    s = min(max(2.0 * (yr - y) / w - 1.0, -1.0), 1.0)
                    part, _ = _cheb_eval(c, b, s)
                    res[0] = xr
                    res[1] = ta + hw * part
            if pend_e:
                gb = ff[_N] * (1.0 - k[_DELTA] * tb) - eta_min
                if gb < 0:
                    pend_e = False
                    if not have_series:
                        _series(hh, c, b)
                        have_series = True
                    if not have_pn:
                        _at_nodes(b, pn)
                        have_pn = True
                    thr, dl = eta_min, k[_DELTA]
                    fin = k[_FIN] != 0.0
                    if fin and dl == 0:  # F(x) = eta_min in closed form
                        ye = (k[_ZETA0] - (math.log(thr) - math.log1p(-thr))) / k[_NU]
                        s = 2.0 * (ye - y) / w - 1.0
                    elif not fin:  # 1 - delta tau = eta_min: a value of tau to invert
                        s, bad = _invert_panel(k, hh, c, b, pn, ((1.0 - thr) / dl - ta) / hw)
                        if bad:
                            res[4] = 1.0
                    else:  # both: Newton on F (1 - delta tau) from the bracketing nodes
                        cnt = 0
                        for j in range(_N + 1):
                            if ff[j] * (1.0 - dl * (ta + hw * pn[j])) - thr >= 0:
                                cnt += 1
                        j = min(max(cnt - 1, 0), _N - 1)
                        lo, hi = _SNODES[j], _SNODES[j + 1]
                        g_lo = ff[j] * (1.0 - dl * (ta + hw * pn[j])) - thr
                        g_hi = ff[j + 1] * (1.0 - dl * (ta + hw * pn[j + 1])) - thr
                        s0 = lo + (hi - lo) * g_lo / (g_lo - g_hi if g_lo - g_hi > 0 else 1.0)
                        s, bad = _newton(_K_ETA, lo, hi, s0, 1e-14, 1e-9, k, c, b, 0.0, y, hw, ta, thr)
                        if bad:
                            res[4] = 1.0
                    s = min(max(s, -1.0), 1.0)
                    part, _ = _cheb_eval(c, b, s)
                    xe, _ = _x_of_y(k, y + hw * (s + 1.0))
                    res[2] = xe
                    res[3] = ta + hw * part
            y = yb
            tau = tb
            # the ceiling's tail, finished in closed form (as in the numpy engine)
            tail_done = False
            if k[_FIN] != 0.0:
                zb = k[_ZETA0] - k[_NU] * yb
                rl, _ = _rho_x(k, k[_L])
                if zb < math.log(1e-17 * k[_NU] / (abs(rl) + 1e-300)) and not pend_e and not (pend_r and rl < rho_min):
                    hl = math.exp(_psi(k, k[_L]))
                    pend_r = False
                    for i in range(nq):
                        if pend_y[i]:
                            tau_yq[i] = tb + hl * (yq[i] - yb)
                            pend_y[i] = False
                    for i in range(nr):
                        if pend_t[i]:
                            y_tq[i] = yb + (tq[i] - tb) / hl
                            pend_t[i] = False
                    tail_done = True
            finished = y >= y_stop or tau >= tau_stop or tail_done
            xx[0], ff[0], ps[0], hh[0] = xx[_N], ff[_N], ps[_N], hh[_N]
        j0 = 1
        w = w * factor
        if finished:
            return
        if w <= 1e-15 * (1.0 + abs(y)):  # a stall (as in the numpy engine)
            if math.isinf(integ):  # frozen at y by an overflowing integrand just beyond it
                for i in range(nr):
                    if pend_t[i]:
                        y_tq[i] = y
            else:
                res[4] = 1.0
            return
    if max_iter < _MAX_ITER:
        res[5] = 1.0
    else:
        res[4] = 1.0


@_inner
def _t_of_tau(tau, t0, delta):
    return t0 + loopmath.elapsed_time(tau, delta)


@_inner
def _timed(tau, ttarget, t0, delta):
    """(time, reached) of a friction-free time tau, reached when tau <= ttarget."""
    if tau <= ttarget:
        return _t_of_tau(tau, t0, delta), True
    return math.nan, False


@_inner
def _solve_cell(
    k, t0, until, kmin, rmin, emin, lm, out, t_reach, flags, yq, tq, tau_yq, y_tq, mres, work, pend_y, pend_t
):
    """One cell of the numpy engine's solve_valid: writes out (the float results), t_reach and
    flags = (first_failure, tied, status)."""
    p, a, dl = k[_P], k[_A], k[_DELTA]
    fin = k[_FIN] != 0.0
    nm = lm.shape[0]
    dt = until - t0
    ttarget = loopmath.friction_free_time(dt, dl)
    # which diagnostics cross at l = 0, and which are searched for inside (as numpy_engine.start_crossings)
    k_dec = p > 0 and p < 1 and a > 0
    k_start = p < kmin or (p == kmin and k_dec)
    rho0 = k[_LAM] * a * p - k[_BETA]
    r_start = rho0 < rmin or (rho0 == rmin and (k_dec or k[_BG2] > 0))
    eta0 = loopmath.ceiling_factor_from_log(0.0, k[_L], k[_NU])
    e_start = eta0 < emin or (eta0 == emin and (fin or dl > 0))
    k_search = (not k_start) and k_dec and kmin > 0
    kappa_inf = 1.0 if p == 1 else (p if a == 0 else 0.0)
    rho_inf = -math.inf if k[_BG2] > 0 else k[_LAM] * a * kappa_inf - k[_BETA]
    r_search = (not r_start) and (k_dec or k[_BG2] > 0) and rho_inf < rmin
    e_search = (not e_start) and (fin or dl > 0) and emin > 0
    lk = math.nan
    if k_search:
        lk = loopmath.closure_level(kmin, p, a)
        if lk < 0:
            lk = 0.0
    tau_inf = math.inf
    fail = False
    if k[_CF] != 0.0:  # closed form: p = 1, no ceiling, beta gamma = 0
        c, g0 = k[_C], k[_G0]
        if c > 0:
            tau_inf = 1.0 / (c * g0)
        l_end = level_closed_form(ttarget, c, g0)
        for j in range(nm):
            tau_yq[1 + j] = tau_closed_form(lm[j], c, g0)
        tau_k = math.nan
        l_r = tau_r = math.nan
        te = (1.0 - emin) / dl if (e_search and dl > 0) else math.nan
        tau_e = te if te < tau_inf else math.nan
        l_e = level_closed_form(tau_e, c, g0)
    else:
        yq[0] = _y_of_x(k, lk if k_search else 0.0) if k_search else math.nan
        for j in range(nm):
            yq[1 + j] = _y_of_x(k, lm[j])
        tq[0] = ttarget
        _march_cell(
            k, math.inf, ttarget, yq, tq, rmin if r_search else math.nan, emin if e_search else math.nan,
            _MAX_ITER, _RTOL, tau_yq, y_tq, mres, work[0], work[1], work[2], work[3], work[4], work[5],
            work[6], pend_y, pend_t,
        )  # fmt: skip
        tau_k = tau_yq[0]
        l_end, _ = _x_of_y(k, y_tq[0])
        l_r, tau_r, l_e, tau_e = mres[0], mres[1], mres[2], mres[3]
        fail = mres[4] != 0.0
    # times (a crossing counts when reached at or before `until`)
    t_k, reach = _timed(tau_k, ttarget, t0, dl)
    out[_R_TK] = t0 if k_start else t_k
    out[_R_LK] = 0.0 if k_start else (lk if reach else math.nan)
    t_r, reach = _timed(tau_r, ttarget, t0, dl)
    out[_R_TR] = t0 if r_start else t_r
    out[_R_LR] = 0.0 if r_start else (l_r if reach else math.nan)
    t_e, reach = _timed(tau_e, ttarget, t0, dl)
    out[_R_TE] = t0 if e_start else t_e
    out[_R_LE] = 0.0 if e_start else (l_e if reach else math.nan)
    for j in range(nm):
        t_m, _ = _timed(tau_yq[1 + j], ttarget, t0, dl)
        t_reach[j] = t0 if lm[j] <= 0 else t_m
    sing = tau_inf <= ttarget
    out[_R_TS] = _t_of_tau(tau_inf, t0, dl) if sing else math.nan
    out[_R_LNC] = math.inf if sing else l_end
    # which fails first; ties
    first = 3
    tfirst = math.inf
    for i, col in enumerate((_R_TK, _R_TR, _R_TE)):
        if math.isfinite(out[col]) and out[col] < tfirst:
            first, tfirst = i, out[col]
    if first < 3 and out[_R_TS] < tfirst:
        first = 3
    near = 0
    if first < 3:
        for col in (_R_TK, _R_TR, _R_TE):
            if math.isfinite(out[col]) and out[col] <= tfirst + _TIE:
                near += 1
    flags[0], flags[1], flags[2] = first, 1 if near >= 2 else 0, 0
    if fail or math.isnan(out[_R_LNC]):
        for i in range(8):
            out[i] = math.nan
        for j in range(nm):
            t_reach[j] = math.nan
        flags[0], flags[1], flags[2] = -1, 0, 2


def _make_entry(source_key: int):
    """The compiled entry point; ``source_key`` is part of numba's cache key (see SOURCE_KEY)."""

    @numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)
    def solve_block(kon, t0, until, kmin, rmin, emin, lm, out, t_reach, flags):
        """Solve every cell of a block, one after the other."""
        if source_key < 0:  # never: the key is here to be part of the cache key
            return
        nq = lm.shape[0] + 1
        work = np.empty((7, _N + 2))
        yq = np.empty(nq)
        tq = np.empty(1)
        tau_yq = np.empty(nq)
        y_tq = np.empty(1)
        mres = np.empty(6)
        pend_y = np.empty(nq, dtype=np.bool_)
        pend_t = np.empty(1, dtype=np.bool_)
        for i in range(kon.shape[0]):
            _solve_cell(
                kon[i], t0[i], until[i], kmin[i], rmin[i], emin[i], lm, out[i], t_reach[i], flags[i],
                yq, tq, tau_yq, y_tq, mres, work, pend_y, pend_t,
            )  # fmt: skip

    return solve_block


_solve_block = _make_entry(SOURCE_KEY)


def threads() -> int:
    """Threads the compiled solver may use: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def schedule(size: int, chunk: int, run: RunChunk) -> None:
    """Chunks in parallel threads, single-threaded each.

    The compiled solver releases the GIL, and numpy does for most of its work around it.  A
    thread gets blocks of at least :data:`~.engines.JIT_MIN_CELLS` cells, about four blocks per
    thread, at most ``chunk`` cells each; every cell gets the full panel budget at once.
    """
    nt = min(threads(), max(1, size // JIT_MIN_CELLS))
    step = int(min(chunk, max(JIT_MIN_CELLS, -(-size // (4 * nt)))))
    starts = range(0, size, step)
    if nt <= 1:
        for i0 in starts:
            run(slice(i0, min(size, i0 + step)), MAX_ITER)
    else:
        with ThreadPoolExecutor(nt) as pool:
            list(pool.map(lambda i0: run(slice(i0, min(size, i0 + step)), MAX_ITER), starts))


def solve_valid(
    m: Cells,
    t0: np.ndarray,
    until: np.ndarray,
    kmin: np.ndarray,
    rmin: np.ndarray,
    emin: np.ndarray,
    lm: np.ndarray,
    max_iter: int = MAX_ITER,
) -> dict[str, np.ndarray]:
    """Same contract and result as :func:`.numpy_engine.solve_valid`, compiled; runs on the
    calling thread without the GIL (:func:`schedule` runs chunks in parallel).

    ``max_iter`` is accepted for the same signature; every cell gets the full panel budget.
    """
    n = m.n
    kon = np.empty((n, len(Cells.FIELDS)))
    for j, name in enumerate(Cells.FIELDS):
        kon[:, j] = getattr(m, name)
    out = np.empty((n, len(RESULT_FLOAT_KEYS)))
    t_reach = np.empty((n, lm.shape[0]))
    flags = np.empty((n, 3), dtype=np.int8)
    args = [np.ascontiguousarray(v, dtype=float) for v in (t0, until, kmin, rmin, emin, lm)]
    _solve_block(kon, *args, out, t_reach, flags)
    res = {key: out[:, i].copy() for i, key in enumerate(RESULT_FLOAT_KEYS)}
    res["t_reach"] = t_reach
    res["first_failure"] = flags[:, 0].copy()
    res["tied"] = flags[:, 1] != 0
    res["status"] = flags[:, 2].copy()
    res["_deferred"] = np.zeros(n, dtype=bool)
    return res
