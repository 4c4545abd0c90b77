r"""The numpy engine's march: Chebyshev panels in :math:`y`, all cells of a chunk at once.

:func:`march` advances every cell of a :class:`~.cells.Cells` record panel by panel from
:math:`y = 0` (see :mod:`lsi.quadrature` for the method), keeps the accepted panels that
contain a query (a level, a value of :math:`\tau`, a crossing of :math:`\rho` or
:math:`\eta`), and solves all queries together afterwards on the panels' Chebyshev series.
The integrand and the diagnostics are those of :mod:`lsi.loopmath`; the tables are those of
:mod:`.panels`.
"""

from __future__ import annotations

import numpy as np

from .. import loopmath
from .cells import Cells
from .maps import level_of_y, y_of_level
from .panels import CCW, EPS, MAX_ITER, NOISE, RTOL, SERIES, SNODES, TAIL, N, U, first_width

__all__ = ["march", "ceiling_first", "x_of_y", "y_of_x", "psi", "rho_x", "initial_width"]


# --------------------------------------------------------------------------------------
# the integrand and the maps, for the cells i of a record
# --------------------------------------------------------------------------------------


def x_of_y(m: Cells, y: np.ndarray, i: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
    """x(y) and F(x(y)); y has shape (k, m) with one row per cell index in i."""
    fin = m.fin[i]
    nf = int(np.count_nonzero(fin))
    if nf == 0:
        return y, np.ones_like(y)
    if nf < fin.shape[0] and fin[:nf].all():
        # cells with a ceiling come first (the callers order them so): map those only
        x, f = y.copy(), np.ones_like(y)
        idx = np.asarray(np.arange(m.n)[i])[:nf]
        x[:nf], f[:nf] = x_of_y(m, y[:nf], idx)
        return x, f
    x, f = level_of_y(y, m.L[i][:, None], m.nu[i][:, None], m.zeta0[i][:, None])
    if nf == fin.shape[0]:
        return x, f
    return np.where(fin[:, None], x, y), np.where(fin[:, None], f, 1.0)


def y_of_x(m: Cells, x: np.ndarray, i: np.ndarray | slice) -> np.ndarray:
    """y(x) = G(x) - G(0); +inf at or above the ceiling; x has shape (k,) or (k, m)."""
    sh = (slice(None),) + (None,) * (x.ndim - 1)
    y = y_of_level(x, m.L[i][sh], m.nu[i][sh], m.zeta0[i][sh])
    return np.where(m.fin[i][sh], y, x)


def psi(m: Cells, x: np.ndarray, i: np.ndarray | slice) -> np.ndarray:
    """ln h(x) = ln D(x) - lam ln S(x) - ln g0, for x of shape (k, m)."""
    col = (i, None)
    lnS = loopmath.log_speedup(x, m.p[col], m.a[col])
    return loopmath.log_brake(x, m.beta[col], m.gamma[col]) - m.lam[col] * lnS - m.logg0[col]


def rho_x(m: Cells, x: np.ndarray, i) -> tuple[np.ndarray, np.ndarray]:
    """rho(x) and d rho / dx for x of shape (k,)."""
    a, lam, beta, gamma = m.a[i], m.lam[i], m.beta[i], m.gamma[i]
    k = loopmath.closure_from_logit(x, m.logit_p[i], a)
    return loopmath.returns_from_closure(k, x, a, lam, beta, gamma), loopmath.returns_slope(k, a, lam, beta, gamma)


def initial_width(m: Cells) -> np.ndarray:
    """Width in y of every cell's first panel (:func:`.panels.first_width`)."""
    return first_width(m.p, m.a, m.lam, m.beta, m.bg2, m.nu_f, m.L)


def ceiling_first(m: Cells, idx: np.ndarray) -> np.ndarray:
    """Order cell indices with the finite-ceiling cells first (see :func:`x_of_y`)."""
    return idx[np.argsort(~m.fin[idx], kind="stable")]


# --------------------------------------------------------------------------------------
# panel series and the march
# --------------------------------------------------------------------------------------

_MM_BLOCK = 512


def _mm(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``a @ m`` for a tall ``a`` and a small ``m``, as a stack of 512-row products.

    One tall product makes OpenBLAS start its threads, which costs far more than the
    product itself (and collapses when the machine is busy); blocks of 512 rows stay on one
    thread.
    """
    a = np.ascontiguousarray(a)
    n = a.shape[0]
    out = np.empty((n, m.shape[1]))
    nb = n // _MM_BLOCK
    cut = nb * _MM_BLOCK
    if nb:
        np.matmul(
            a[:cut].reshape(nb, _MM_BLOCK, a.shape[1]),
            m,
            out=out[:cut].reshape(nb, _MM_BLOCK, m.shape[1]),
        )
    if cut < n:
        out[cut:] = a[cut:] @ m
    return out


def _series(hh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For panels' node values hh (q, N+1): the Chebyshev coefficients of the interpolant
    (q, N+1), of its antiderivative from s = -1 (q, N+2), and that antiderivative at the
    nodes (q, N+1), by one matrix product."""
    cbp = _mm(hh, SERIES)
    return cbp[:, : N + 1], cbp[:, N + 1 : 2 * N + 3], cbp[:, 2 * N + 3 :]


def _cheb_eval(c: np.ndarray, b: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Antiderivative (from -1) and value of the series (c, b) at s in [-1, 1]."""
    s = np.clip(s, -1.0, 1.0)
    t = np.empty((N + 2, s.shape[0]))  # T_0 .. T_{N+1} by the three-term recurrence
    t[0] = 1.0
    t[1] = s
    s2 = 2.0 * s
    for k in range(2, N + 2):
        np.multiply(s2, t[k - 1], out=t[k])
        t[k] -= t[k - 2]
    return np.einsum("ik,ki->i", b, t), np.einsum("ik,ki->i", c, t[: N + 1])


def _bracketed_newton(fun, lo, hi, x0, xtol, maxit=100, newton_stop=0.0):
    """Solve g(x) = 0 for increasing g with g(lo) <= 0 <= g(hi), vectorised.

    ``fun(x, idx)`` returns ``(g, dg/dx)`` for the elements ``idx``.  A Newton step that
    leaves the bracket is replaced by the secant point of the bracket's ends where both
    values are known, else by bisection.  An element has converged when its step is below
    ``xtol``, or when a Newton step was below ``newton_stop``: the error after such a step
    is of order ``newton_stop**2`` times |g''/(2 g')|, which on a panel variable s in
    [-1, 1] is O(1).  Returns the roots and a boolean array, True where not converged.
    """
    x = np.clip(x0, lo, hi).astype(float)
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    n = x.shape[0]
    g_lo = np.full(n, np.nan)
    g_hi = np.full(n, np.nan)
    act = np.arange(n)
    for _ in range(maxit):
        if act.size == 0:
            break
        xa = x[act]
        g, d = fun(xa, act if act.size < n else slice(None))  # a slice avoids gathers
        neg = g < 0
        lo[act[neg]] = xa[neg]
        g_lo[act[neg]] = g[neg]
        hi[act[~neg]] = xa[~neg]
        g_hi[act[~neg]] = g[~neg]
        nstep = g / d
        xn = xa - nstep
        la, ha = lo[act], hi[act]
        out = ~((xn > la) & (xn < ha))
        nstep = np.abs(nstep)
        # converged: the Newton step is below tolerance (even if rounding puts it on the
        # bracket's end), or small enough that the next one would be
        conv = (nstep <= xtol[act]) | (g == 0) | (~out & (nstep <= newton_stop))
        xn = np.where(conv, np.clip(xn, la, ha), xn)
        out &= ~conv
        if out.any():
            gl, gh = g_lo[act], g_hi[act]
            sec = la - gl * (ha - la) / (gh - gl)
            sec = np.where((sec > la) & (sec < ha), sec, 0.5 * (la + ha))
            xn = np.where(out, sec, xn)
        conv |= (ha - la <= xtol[act]) | (np.abs(xn - xa) <= xtol[act])
        xn = np.where(g == 0, xa, xn)
        x[act] = xn
        act = act[~conv]
    failed = np.zeros(x.shape[0], dtype=bool)
    failed[act] = True
    return x, failed


class _Panels:
    """Accepted panels that contain a pending query, kept for the batch solve after the march.

    Each stored panel has an id; the queries (``hits``) refer to their panel by id, so a
    panel holding several queries is stored once.
    """

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.count = 0
        self.hits: dict[str, list[tuple[np.ndarray, ...]]] = {"y": [], "t": [], "r": [], "e": []}

    def store(self, *fields: np.ndarray) -> np.ndarray:
        """Store panels (fields are per-panel arrays); returns their ids."""
        ids = self.count + np.arange(fields[0].shape[0])
        self.count += fields[0].shape[0]
        self.parts.append(fields)
        return ids

    def stacked(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate([p[i] for p in self.parts]) for i in range(len(self.parts[0])))

    def hit(self, kind: str, *fields: np.ndarray) -> None:
        if fields[0].size:
            self.hits[kind].append(fields)

    def hits_of(self, kind: str) -> tuple[np.ndarray, ...] | None:
        parts = self.hits[kind]
        if not parts:
            return None
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(len(parts[0])))


def march(
    m: Cells,
    y_stop: np.ndarray,
    tau_stop: np.ndarray,
    yq: np.ndarray | None = None,
    tq: np.ndarray | None = None,
    rho_min: np.ndarray | None = None,
    eta_min: np.ndarray | None = None,
    max_iter: int = MAX_ITER,
) -> dict[str, np.ndarray]:
    """March Chebyshev panels in y from y = 0 for every cell of ``m`` (none closed-form).

    A cell stops at the first panel end with ``y >= y_stop`` or ``tau >= tau_stop``.
    Resolved inside the panel that contains each of them:

    * ``yq`` (n, Q): levels in y -> ``tau_yq`` (+inf if beyond the stop);
    * ``tq`` (n, R): values of tau -> ``y_tq`` (NaN if beyond the stop);
    * ``rho_min`` (n,), NaN = no search: the level where rho(x) goes below rho_min ->
      ``x_rho``, ``tau_rho`` (NaN if beyond the stop); the caller ensures rho(0) > rho_min;
    * ``eta_min`` (n,), NaN = no search: the level where F (1 - delta tau) goes below
      eta_min -> ``x_eta``, ``tau_eta``; the caller ensures eta(0) > eta_min.

    The panels that contain a query are kept and all queries are solved together after the
    march (safeguarded Newton on the panel's Chebyshev series, started from the node
    interval that brackets the root).
    """
    n = m.n
    yq = np.zeros((n, 0)) if yq is None else yq
    tq = np.zeros((n, 0)) if tq is None else tq
    rho_min = np.full(n, np.nan) if rho_min is None else rho_min
    eta_min = np.full(n, np.nan) if eta_min is None else eta_min
    tau_yq = np.full(yq.shape, np.inf)
    tau_yq[yq == 0] = 0.0
    pend_y = np.isfinite(yq) & (yq != 0)
    y_tq = np.full(tq.shape, np.nan)
    y_tq[tq == 0] = 0.0
    pend_t = np.isfinite(tq) & (tq != 0)
    pend_r = np.isfinite(rho_min)
    pend_e = np.isfinite(eta_min)
    out: dict[str, np.ndarray] = {
        "x_rho": np.full(n, np.nan),
        "tau_rho": np.full(n, np.nan),
        "x_eta": np.full(n, np.nan),
        "tau_eta": np.full(n, np.nan),
    }
    fail = np.zeros(n, dtype=bool)
    panels = _Panels()

    y = np.zeros(n)
    tau = np.zeros(n)
    tail_done = np.zeros(n, dtype=bool)
    w = initial_width(m)
    act = np.flatnonzero((y_stop > 0) & (tau_stop > 0))
    it = 0
    while act.size and it < max_iter:
        it += 1
        ya, wa = y[act], w[act]
        yy = ya[:, None] + wa[:, None] * U[None, :]
        xx, ff = x_of_y(m, yy, act)
        ps = psi(m, xx, act)
        hh = np.exp(ps)
        integ = 0.5 * wa * (hh @ CCW)
        err = (
            0.5 * wa * (np.abs(hh @ TAIL[:, 0]) + np.abs(hh @ TAIL[:, 1]) + np.abs(hh @ TAIL[:, 2]))
        )  # matrix-vector products: a (k, 17) x (17, 3) product would start BLAS threads
        # tolerance: relative to the panel's own integral (so l stays accurate where growth
        # is fast), but never below the rounding already in tau, nor below what rounding
        # in the node values (and in the nodes y themselves, far out) lets the tail resolve
        slope = np.abs(ps[:, -1] - ps[:, 0]) / wa  # end values: a cheap, adequate estimate
        hmax = np.maximum(np.maximum(hh[:, 0], hh[:, -1]), hh[:, N // 2])
        noise = NOISE * 0.5 * wa * hmax * (1.0 + slope * (np.abs(ya) + wa))
        tol = np.maximum(np.maximum(RTOL * integ, EPS * tau[act]), noise)
        ratio = err / tol
        ratio[(err == 0) & (tol == 0)] = 0.0  # underflow: the panel adds nothing to tau
        good = np.isfinite(integ) & np.isfinite(err) & (integ >= 0)
        ok = good & (ratio <= 1.0)
        factor = np.clip(0.85 * ratio ** (-1.0 / N), 0.2, 5.0)
        factor = np.where(err <= noise, np.maximum(factor, 1.5), factor)
        factor = np.where(good, factor, 0.2)
        acc = np.flatnonzero(ok)
        if acc.size:
            ia = act[acc]
            ta = tau[ia]
            tb = ta + integ[acc]
            yb = ya[acc] + wa[acc]
            # which accepted panels hold a pending query (each kind; rows of ``acc``)
            ry = qy = rt = qt = sel_r = sel_e = np.zeros(0, dtype=np.intp)
            if yq.shape[1]:
                ry, qy = np.nonzero(pend_y[ia] & (yq[ia] <= yb[:, None]))
                pend_y[ia[ry], qy] = False
            if tq.shape[1]:
                rt, qt = np.nonzero(pend_t[ia] & (tq[ia] <= tb[:, None]))
                pend_t[ia[rt], qt] = False
            sel_r = np.flatnonzero(pend_r[ia])
            if sel_r.size:
                rb, _ = rho_x(m, xx[acc[sel_r], -1], ia[sel_r])
                sel_r = sel_r[rb < rho_min[ia[sel_r]]]
                pend_r[ia[sel_r]] = False
            sel_e = np.flatnonzero(pend_e[ia])
            if sel_e.size:
                fb = ff[acc[sel_e], -1]
                gb = fb * (1.0 - m.delta[ia[sel_e]] * tb[sel_e]) - eta_min[ia[sel_e]]
                sel_e = sel_e[gb < 0]
                pend_e[ia[sel_e]] = False
            if ry.size or rt.size or sel_r.size or sel_e.size:
                need = np.zeros(acc.size, dtype=bool)
                need[ry] = need[rt] = need[sel_r] = need[sel_e] = True
                rows = np.flatnonzero(need)
                k = acc[rows]
                pid = np.full(acc.size, -1)
                pid[rows] = panels.store(ya[k], wa[k], ta[rows], hh[k], xx[k, 0], xx[k, -1], ff[k])
                panels.hit("y", ia[ry], qy, pid[ry])
                panels.hit("t", ia[rt], qt, pid[rt])
                panels.hit("r", ia[sel_r], pid[sel_r])
                panels.hit("e", ia[sel_e], pid[sel_e])
            y[ia] = yb
            tau[ia] = tb
            pend = (pend_y, pend_t, pend_r, pend_e)
            _ceiling_tail(m, ia, yb, tb, yq, tq, rho_min, pend, tau_yq, y_tq, tail_done)
        w[act] = wa * factor
        finished = np.zeros(act.size, dtype=bool)
        if acc.size:
            finished[acc] = (
                (y[act[acc]] >= y_stop[act[acc]]) | (tau[act[acc]] >= tau_stop[act[acc]]) | tail_done[act[acc]]
            )
        # A width that no longer moves y is a stall.  If the integrand overflows just
        # beyond y, tau jumps past every finite target there: the trajectory is frozen at y
        # (to relative precision 1e-15), so values of tau resolve to y and levels beyond y
        # are never reached.  Any other stall is a numerical failure.
        stall = (w[act] <= 1e-15 * (1.0 + np.abs(y[act]))) & ~finished
        if stall.any():
            cells = act[stall]
            frozen = np.isinf(integ[stall])
            fz = cells[frozen]
            r, q = np.nonzero(pend_t[fz])
            y_tq[fz[r], q] = y[fz[r]]
            pend_t[fz] = False
            pend_y[fz] = False
            pend_r[fz] = False
            pend_e[fz] = False
            fail[cells[~frozen]] = True
        act = act[~(finished | stall)]
    deferred = np.zeros(n, dtype=bool)
    if max_iter < MAX_ITER:
        deferred[act] = True  # the caller redoes these cells with the full budget
    else:
        fail[act] = True

    if panels.count:
        _solve_hits(m, panels, yq, tq, rho_min, eta_min, tau_yq, y_tq, out, fail)
    out.update(tau_yq=tau_yq, y_tq=y_tq, fail=fail, deferred=deferred)
    return out


def _solve_hits(m, panels, yq, tq, rho_min, eta_min, tau_yq, y_tq, out, fail) -> None:
    """Solve every query gathered by :func:`march` inside its stored panel, in one batch."""
    pya, pwa, pta, phh, pxa, pxb, pff = panels.stacked()
    pc, pb, ppn = _series(phh)
    # ---- levels in y: one evaluation of the antiderivative each
    h = panels.hits_of("y")
    if h is not None:
        cell, q, pid = h
        s = 2.0 * (yq[cell, q] - pya[pid]) / pwa[pid] - 1.0
        part, _ = _cheb_eval(pc[pid], pb[pid], s)
        tau_yq[cell, q] = pta[pid] + 0.5 * pwa[pid] * part
    # ---- values of tau: invert the antiderivative
    h = panels.hits_of("t")
    if h is not None:
        cell, q, pid = h
        r = (tq[cell, q] - pta[pid]) / (0.5 * pwa[pid])  # target on [-1, 1]
        s, bad = _invert_panel(phh[pid], pc[pid], pb[pid], ppn[pid], r)
        y_tq[cell, q] = pya[pid] + pwa[pid] * 0.5 * (s + 1.0)
        fail[cell[bad]] = True
    # ---- returns: a root of rho in x, then its tau
    h = panels.hits_of("r")
    if h is not None:
        cell, pid = h
        xa, xb = pxa[pid], pxb[pid]
        thr = rho_min[cell]
        # with beta gamma = 0, rho = lam a kappa - beta: kappa* = (rho_min + beta)/(lam a)
        # and x = (logit p - logit kappa*)/a in closed form; otherwise safeguarded Newton
        la = m.lam[cell] * m.a[cell]
        ks = (thr + m.beta[cell]) / la
        x_cf = loopmath.closure_level_from_logit(ks, m.logit_p[cell], m.a[cell])
        plain = (m.bg2[cell] == 0) & (ks > 0) & (ks < 1) & np.isfinite(x_cf)
        xr = np.clip(x_cf, xa, xb)
        bad = np.zeros(cell.size, dtype=bool)
        newt = np.flatnonzero(~plain)
        if newt.size:
            cn = cell[newt]

            def g_rho(x, k):
                r_, dr_ = rho_x(m, x, cn[k])
                return thr[newt[k]] - r_, -dr_

            lo, hi = xa[newt], xb[newt]
            xr[newt], bad[newt] = _bracketed_newton(g_rho, lo, hi, 0.5 * (lo + hi), 1e-14 * (1.0 + np.abs(hi)))
        yr = y_of_x(m, xr, cell)
        s = np.clip(2.0 * (yr - pya[pid]) / pwa[pid] - 1.0, -1.0, 1.0)
        part, _ = _cheb_eval(pc[pid], pb[pid], s)
        out["x_rho"][cell] = xr
        out["tau_rho"][cell] = pta[pid] + 0.5 * pwa[pid] * part
        fail[cell[bad]] = True
    # ---- efficiency: F(y) (1 - delta tau(y)) = eta_min inside the panel
    h = panels.hits_of("e")
    if h is not None:
        cell, pid = h
        ya, wa, ta = pya[pid], pwa[pid], pta[pid]
        thr, dl = eta_min[cell], m.delta[cell]
        hw = 0.5 * wa
        s = np.zeros(cell.size)
        bad = np.zeros(cell.size, dtype=bool)
        fin = m.fin[cell]
        # no friction: F(x) = eta_min, i.e. y = (zeta0 - logit eta_min)/nu, in closed form
        k1 = np.flatnonzero(fin & (dl == 0))
        if k1.size:
            c1 = cell[k1]
            ye = (m.zeta0[c1] - (np.log(thr[k1]) - np.log1p(-thr[k1]))) / m.nu[c1]
            s[k1] = 2.0 * (ye - ya[k1]) / wa[k1] - 1.0
        # no ceiling: 1 - delta tau = eta_min, a value of tau to invert
        k2 = np.flatnonzero(~fin)
        if k2.size:
            r2 = ((1.0 - thr[k2]) / dl[k2] - ta[k2]) / hw[k2]
            p2 = pid[k2]
            s[k2], bad[k2] = _invert_panel(phh[p2], pc[p2], pb[p2], ppn[p2], r2)
        # both: safeguarded Newton on F(y(s)) (1 - delta tau(s)) - eta_min
        k3 = np.flatnonzero(fin & (dl > 0))
        if k3.size:
            p3 = pid[k3]
            s[k3], bad[k3] = _eta_root(m, cell[k3], ya[k3], wa[k3], ta[k3], pc[p3], pb[p3], ppn[p3], pff[p3], thr[k3])
        s = np.clip(s, -1.0, 1.0)
        part, _ = _cheb_eval(pc[pid], pb[pid], s)
        xe, _ = x_of_y(m, (ya + hw * (s + 1.0))[:, None], cell)
        out["x_eta"][cell] = xe[:, 0]
        out["tau_eta"][cell] = ta + hw * part
        fail[cell[bad]] = True


def _ceiling_tail(m, ia, yb, tb, yq, tq, rho_min, pend, tau_yq, y_tq, done) -> None:
    r"""Finish, in closed form, the cells whose panel ended in the ceiling's tail.

    Beyond ``yb``, :math:`L - x(y) \approx e^{\zeta_0 - \nu y}/\nu`; once
    :math:`|\rho(L)| (L - x) < 10^{-17}`, :math:`h(x(y)) = h(L)` to double precision and
    :math:`\tau(y) = \tau(y_b) + h(L)(y - y_b)` exactly, so the remaining levels and values
    of tau are resolved at once instead of by panels whose width grows five-fold per step
    (for a fast loop that meets its ceiling, :math:`h(L)` is tiny and y runs to 1e12).
    Cells still searching for a crossing that may lie in the tail keep marching.  Writes the
    results into ``tau_yq``, ``y_tq`` and ``done``; ``pend`` holds the pending-query masks.
    """
    pend_y, pend_t, pend_r, pend_e = pend
    fin = np.flatnonzero(m.fin[ia])
    if fin.size == 0:
        return
    cells = ia[fin]
    zb = m.zeta0[cells] - m.nu[cells] * yb[fin]
    xl = m.L[cells]
    rl, _ = rho_x(m, xl, cells)
    ok = zb < np.log(1e-17 * m.nu[cells] / (np.abs(rl) + 1e-300))
    ok &= ~pend_e[cells] & ~(pend_r[cells] & (rl < rho_min[cells]))
    if not ok.any():
        return
    cells, y0, t0_ = cells[ok], yb[fin][ok], tb[fin][ok]
    hl = np.exp(psi(m, xl[ok][:, None], cells)[:, 0])
    pend_r[cells] = False  # rho(L) >= rho_min: no crossing below the ceiling
    r, q = np.nonzero(pend_y[cells])
    tau_yq[cells[r], q] = t0_[r] + hl[r] * (yq[cells[r], q] - y0[r])
    pend_y[cells[r], q] = False
    r, q = np.nonzero(pend_t[cells])
    with np.errstate(divide="ignore"):
        y_tq[cells[r], q] = y0[r] + (tq[cells[r], q] - t0_[r]) / hl[r]
    pend_t[cells[r], q] = False
    done[cells] = True


def _eta_root(m, cell, ya, wa, ta, c, b, pn, fn, thr) -> tuple[np.ndarray, np.ndarray]:
    """s in [-1, 1] where F(y(s)) (1 - delta tau(s)) falls through eta_min in the panel.

    ``c``, ``b``, ``pn`` are the panel series (:func:`_series`), ``fn`` F at the nodes.
    """
    sub = m.take(cell)
    dl, nuf = m.delta[cell], m.nu_f[cell]
    hw = 0.5 * wa
    gn = fn * (1.0 - dl[:, None] * (ta[:, None] + hw[:, None] * pn)) - thr[:, None]
    j = np.clip((gn >= 0).sum(axis=1) - 1, 0, N - 1)  # g falls through 0 in [s_j, s_j+1]
    rows = np.arange(cell.size)
    lo, hi = SNODES[j], SNODES[j + 1]
    g_lo, g_hi = gn[rows, j], gn[rows, j + 1]
    s0 = lo + (hi - lo) * g_lo / np.where(g_lo - g_hi > 0, g_lo - g_hi, 1.0)

    def g_eta(s, k):
        part, val = _cheb_eval(c[k], b[k], s)
        _, fv = x_of_y(sub, (ya[k] + hw[k] * (s + 1.0))[:, None], k)
        fv = fv[:, 0]
        e = 1.0 - dl[k] * (ta[k] + hw[k] * part)
        g = fv * e - thr[k]
        dg = hw[k] * (-nuf[k] * fv * (1.0 - fv) * e - fv * dl[k] * val)
        return -g, -dg

    return _bracketed_newton(g_eta, lo, hi, s0, np.full(cell.size, 1e-14), newton_stop=1e-9)


def _invert_panel(hh, c, b, pn, r) -> tuple[np.ndarray, np.ndarray]:
    """s in [-1, 1] with P(s) = r, P the antiderivative (from -1) of the interpolant of hh.

    ``c``, ``b``, ``pn`` are the panel series (:func:`_series`).  Starts from the node
    interval that brackets r, refined by a Newton step on the cubic Hermite interpolant
    there, and polishes with safeguarded Newton steps on the series (P' = interpolant).
    """
    j = np.clip((pn <= r[:, None]).sum(axis=1) - 1, 0, N - 1)
    rows = np.arange(r.size)
    lo, hi = SNODES[j], SNODES[j + 1]
    p_lo, p_hi = pn[rows, j], pn[rows, j + 1]
    dp = p_hi - p_lo
    u = np.clip((r - p_lo) / np.where(dp > 0, dp, 1.0), 0.0, 1.0)
    # one Newton step on the cubic Hermite interpolant of P on the node interval (P and
    # P' = h are known at both nodes): the start is then good to ~1e-7
    ds = hi - lo
    d_lo, d_hi = hh[rows, j] * ds, hh[rows, j + 1] * ds  # dP/du at both ends
    u2, u3 = u * u, u * u * u
    herm = (2 * u3 - 3 * u2 + 1) * p_lo + (u3 - 2 * u2 + u) * d_lo + (-2 * u3 + 3 * u2) * p_hi + (u3 - u2) * d_hi
    dherm = (6 * u2 - 6 * u) * (p_lo - p_hi) + (3 * u2 - 4 * u + 1) * d_lo + (3 * u2 - 2 * u) * d_hi
    un = u - (herm - r) / np.where(dherm > 0, dherm, np.inf)
    u = np.where((un >= 0) & (un <= 1), un, u)
    s0 = lo + ds * u
    # the bracket from the nodes holds if P is monotone there; widen to the panel if not
    widen = ~((p_lo <= r) & (r <= p_hi))
    lo = np.where(widen, -1.0, lo)
    hi = np.where(widen, 1.0, hi)

    def g(s, k):
        part, val = _cheb_eval(c[k], b[k], s)
        return part - r[k], val

    return _bracketed_newton(g, lo, hi, s0, np.full(r.size, 1e-14), newton_stop=1e-9)
