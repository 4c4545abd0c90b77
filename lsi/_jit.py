"""The fast path of :mod:`lsi.quadrature`, compiled with numba (the ``lsi[fast]`` extra).

:func:`solve_valid` does what :func:`lsi.quadrature._solve_valid` does (the closed forms, the
march of Chebyshev panels with the same acceptance rule, the same root finders inside the
panels, the crossing times and which assumption fails first), one cell at a time in compiled
code instead of all cells of a chunk at once in numpy.  The numpy version spends most of its
time gathering, masking and scattering arrays, which a per-cell loop does not need; what is
left is the integrand's exponentials and logarithms.  Both engines are kept: the numpy one is
the reference this one is tested against (``tests/test_jit.py``: equal to rounding on random
and on hard cells) and the one used when numba is not installed.

This module is imported only when the compiled engine is asked for (see
:func:`lsi.quadrature.resolve_engine`).  The first call in a fresh install compiles it (a few
seconds); numba caches the machine code next to this file.
"""

from __future__ import annotations

import math
import os

import numba
import numpy as np

from . import quadrature as _q

_N = _q._N
_NOISE = _q._NOISE
_EPS = _q._EPS
_U = _q._U
_CCW = _q._CCW
_TAIL = np.ascontiguousarray(_q._TAIL)
_CMAT_T = np.ascontiguousarray(_q._CMAT_T)
_INT = np.ascontiguousarray(_q._INT)  # series -> series of its antiderivative from s = -1
_TNODES = np.ascontiguousarray(_q._TNODES)  # T_k at the nodes, k = 0 .. N + 1
_SNODES = _q._SNODES

_jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)

# constants of one cell (attributes of quadrature._Loop), in this order, as columns of one array
_COLS = (
    "p", "a", "lam", "beta", "gamma", "nu", "delta", "logg0", "logit_p", "bg2", "L", "zeta0", "nu_f", "fin",
    "g0", "c", "cf",
)  # fmt: skip
(_P, _A, _LAM, _BETA, _GAMMA, _NU, _DELTA, _LOGG0, _LOGIT_P, _BG2, _L, _ZETA0, _NU_F, _FIN, _G0, _C, _CF) = range(
    len(_COLS)
)
# columns of the float results, in quadrature._RESULT_FLOAT_KEYS order
(_R_LNC, _R_TK, _R_LK, _R_TR, _R_LR, _R_TE, _R_LE, _R_TS) = range(8)
_TIE = _q.TIE_TOLERANCE

_NEWTON_MAXIT = 100


@_jit
def _x_of_y(k, y):
    """x(y) and F(x(y)) for one cell (see :meth:`lsi.quadrature._Loop.x_of_y`)."""
    if k[_FIN] == 0.0:
        return y, 1.0
    nu = k[_NU]
    z = k[_ZETA0] - nu * y
    e = math.exp(-abs(z))
    x = k[_L] - (max(z, 0.0) + math.log1p(e)) / nu
    f = (1.0 if z >= 0 else e) / (1.0 + e)
    return x, f


@_jit
def _y_of_x(k, x):
    if k[_FIN] == 0.0:
        return x
    nu = k[_NU]
    d = nu * (k[_L] - x)
    if not d > 0:
        return math.inf
    zeta = d + math.log(-math.expm1(-d))
    return (k[_ZETA0] - zeta) / nu


@_jit
def _psi(k, x):
    """ln h(x) (see :meth:`lsi.quadrature._Loop.psi`)."""
    p = k[_P]
    ax = k[_A] * x
    if p == 1.0:
        s = -ax
    else:
        s = math.log((1.0 - p) + p * math.exp(-ax))
    return x * (k[_BETA] + k[_BG2] * x) + k[_LAM] * s - k[_LOGG0]


@_jit
def _expit(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@_jit
def _rho_x(k, x):
    la = k[_LAM] * k[_A]
    kap = _expit(k[_LOGIT_P] - k[_A] * x)
    r = la * kap - k[_BETA] * (1.0 + k[_GAMMA] * x)
    dr = -la * k[_A] * kap * (1.0 - kap) - 2.0 * k[_BG2]
    return r, dr


@_jit
def _initial_width(k):
    rho0 = k[_LAM] * k[_A] * k[_P] - k[_BETA]
    f0 = -math.expm1(-k[_NU_F] * k[_L]) if k[_FIN] != 0.0 else 1.0
    scale = 0.25 * abs(rho0) * f0 + 0.5 * k[_A] + k[_NU_F] / 3 + math.sqrt(0.5 * k[_BG2]) + 1e-3
    return 1.0 / scale


@_jit
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


@_jit
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


@_jit
def _newton(kind, lo, hi, x0, xtol, newton_stop, k, c, b, r, ya, hw, ta, thr):
    """Scalar :func:`lsi.quadrature._bracketed_newton`; returns (root, not converged)."""
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


@_jit
def _invert_panel(k, hh, c, b, pn, r):
    """s in [-1, 1] where the panel's antiderivative equals r (see quadrature._invert_panel)."""
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


@_jit
def _series(hh, c, b):
    """Chebyshev coefficients of the panel's interpolant (c) and of its antiderivative
    from s = -1 (b), from the node values hh (see quadrature._series)."""
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


@_jit
def _at_nodes(b, pn):
    """The antiderivative at the nodes (needed only to bracket an inversion)."""
    for j in range(_N + 1):
        v = 0.0
        for kk in range(_N + 2):
            v += b[kk] * _TNODES[kk, j]
        pn[j] = v


@_jit
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
                        x_cf = (k[_LOGIT_P] - (math.log(ks) - math.log1p(-ks))) / k[_A]
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
            # the ceiling's tail, finished in closed form (see quadrature._ceiling_tail)
            tail_done = False
            if k[_FIN] != 0.0:
                zb = k[_ZETA0] - k[_NU] * yb
                rl, _ = _rho_x(k, k[_L])
                if (
                    zb < math.log(1e-17 * k[_NU] / (abs(rl) + 1e-300))
                    and not pend_e
                    and not (pend_r and rl < rho_min)
                ):
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
        if w <= 1e-15 * (1.0 + abs(y)):  # a stall (see quadrature._march)
            if math.isinf(integ):  # frozen at y by an overflowing integrand just beyond it
                for i in range(nr):
                    if pend_t[i]:
                        y_tq[i] = y
            else:
                res[4] = 1.0
            return
    if max_iter < _q._MAX_ITER:
        res[5] = 1.0
    else:
        res[4] = 1.0


@_jit
def _cf_tau(x, c, g0):
    if c == 0:
        return x / g0
    return -math.expm1(-c * x) / (c * g0)


@_jit
def _cf_l(tau, c, g0):
    if c == 0:
        return tau * g0
    u = c * g0 * tau
    return -math.log1p(-u) / c if u < 1 else math.inf


@_jit
def _t_of_tau(tau, t0, delta):
    d = delta * tau
    if not (d < 1 and math.isfinite(tau)):
        return math.nan
    return t0 - math.log1p(-d) / delta if delta > 0 else t0 + tau


@_jit
def _timed(tau, ttarget, t0, delta):
    """(time, reached) of a friction-free time tau, reached when tau <= ttarget."""
    if tau <= ttarget:
        return _t_of_tau(tau, t0, delta), True
    return math.nan, False


@_jit
def _solve_cell(
    k, t0, until, kmin, rmin, emin, lm, out, t_reach, flags, yq, tq, tau_yq, y_tq, mres, work, pend_y, pend_t
):
    """One cell of quadrature._solve_valid: writes out (the float results), t_reach and
    flags = (first_failure, tied, status)."""
    p, a, dl = k[_P], k[_A], k[_DELTA]
    fin = k[_FIN] != 0.0
    nm = lm.shape[0]
    dt = until - t0
    ttarget = -math.expm1(-dl * dt) / dl if dl > 0 else dt
    # which diagnostics cross at l = 0, and which are searched for inside (_start_crossings)
    k_dec = p > 0 and p < 1 and a > 0
    k_start = p < kmin or (p == kmin and k_dec)
    rho0 = k[_LAM] * a * p - k[_BETA]
    r_start = rho0 < rmin or (rho0 == rmin and (k_dec or k[_BG2] > 0))
    eta0 = -math.expm1(-k[_NU_F] * k[_L]) if fin else 1.0
    e_start = eta0 < emin or (eta0 == emin and (fin or dl > 0))
    k_search = (not k_start) and k_dec and kmin > 0
    kappa_inf = 1.0 if p == 1 else (p if a == 0 else 0.0)
    rho_inf = -math.inf if k[_BG2] > 0 else k[_LAM] * a * kappa_inf - k[_BETA]
    r_search = (not r_start) and (k_dec or k[_BG2] > 0) and rho_inf < rmin
    e_search = (not e_start) and (fin or dl > 0) and emin > 0
    lk = math.nan
    if k_search:
        lk = math.log(p * (1.0 - kmin) / (kmin * (1.0 - p))) / a
        if lk < 0:
            lk = 0.0
    tau_inf = math.inf
    fail = False
    if k[_CF] != 0.0:  # closed form: p = 1, no ceiling, beta gamma = 0
        c, g0 = k[_C], k[_G0]
        if c > 0:
            tau_inf = 1.0 / (c * g0)
        l_end = _cf_l(ttarget, c, g0)
        for j in range(nm):
            tau_yq[1 + j] = _cf_tau(lm[j], c, g0)
        tau_k = math.nan
        l_r = tau_r = math.nan
        te = (1.0 - emin) / dl if (e_search and dl > 0) else math.nan
        tau_e = te if te < tau_inf else math.nan
        l_e = _cf_l(tau_e, c, g0)
    else:
        yq[0] = _y_of_x(k, lk if k_search else 0.0) if k_search else math.nan
        for j in range(nm):
            yq[1 + j] = _y_of_x(k, lm[j])
        tq[0] = ttarget
        _march_cell(
            k, math.inf, ttarget, yq, tq, rmin if r_search else math.nan, emin if e_search else math.nan,
            _q._MAX_ITER, _q._RTOL, tau_yq, y_tq, mres, work[0], work[1], work[2], work[3], work[4], work[5],
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


@_jit
def _solve_block(kon, t0, until, kmin, rmin, emin, lm, out, t_reach, flags):
    """Solve every cell of a block, one after the other."""
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


def threads() -> int:
    """Threads the compiled solver may use: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def solve_valid(m, t0, until, kmin, rmin, emin, lm, max_iter=None) -> dict[str, np.ndarray]:
    """Same contract and result as :func:`lsi.quadrature._solve_valid`, compiled; runs on
    the calling thread without the GIL (:func:`lsi.quadrature.solve` runs chunks in parallel).

    ``max_iter`` is accepted for the same signature; every cell gets the full panel budget.
    """
    n = m.n
    kon = np.empty((n, len(_COLS)))
    for j, name in enumerate(_COLS):
        kon[:, j] = getattr(m, name)
    # where there is no ceiling, L and zeta0 are not used; keep them finite
    kon[:, _L] = np.where(m.fin, m.L, 0.0)
    kon[:, _ZETA0] = np.where(m.fin, m.zeta0, 0.0)
    out = np.empty((n, 8))
    t_reach = np.empty((n, lm.shape[0]))
    flags = np.empty((n, 3), dtype=np.int8)
    args = [np.ascontiguousarray(v, dtype=float) for v in (t0, until, kmin, rmin, emin, lm)]
    _solve_block(kon, *args, out, t_reach, flags)
    res = {key: out[:, i].copy() for i, key in enumerate(_q._RESULT_FLOAT_KEYS)}
    res["t_reach"] = t_reach
    res["first_failure"] = flags[:, 0].copy()
    res["tied"] = flags[:, 1] != 0
    res["status"] = flags[:, 2].copy()
    res["_deferred"] = np.zeros(n, dtype=bool)
    return res
