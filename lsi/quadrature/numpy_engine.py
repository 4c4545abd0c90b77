"""The numpy engine of :func:`lsi.quadrature.solve`: every cell of a chunk at once.

It is the reference implementation of the fast path, and the engine used when numba is not
installed or a call has few cells.  Cells of the closed-form class are finished in closed
form (:mod:`.maps`); every other cell is marched (:func:`.march.march`), and the crossings,
the times and which assumption fails first are assembled from the march's answers.
"""

from __future__ import annotations

import numpy as np

from .. import loopmath
from .cells import Cells
from .engines import RunChunk
from .maps import level_closed_form, tau_closed_form
from .march import ceiling_first, march, x_of_y, y_of_x
from .output import RESULT_FLOAT_KEYS, TIE_TOLERANCE, empty_result
from .panels import FIRST_PASS, MAX_ITER

__all__ = ["NAME", "solve_valid", "schedule", "start_crossings"]

NAME = "numpy"


def start_crossings(m: Cells, kmin, rmin, emin):
    """Which diagnostics are strictly below (or at and strictly falling) at l = 0."""
    p, a = m.p, m.a
    k_dec = (p > 0) & (p < 1) & (a > 0)
    k_start = (p < kmin) | ((p == kmin) & k_dec)
    rho0 = m.lam * a * p - m.beta
    r_dec = k_dec | (m.bg2 > 0)
    r_start = (rho0 < rmin) | ((rho0 == rmin) & r_dec)
    eta0 = loopmath.ceiling_factor_from_log(0.0, m.L, m.nu)
    e_dec = m.fin | (m.delta > 0)
    e_start = (eta0 < emin) | ((eta0 == emin) & e_dec)
    # interior searches (the crossing, if any, lies at some l > 0)
    k_search = ~k_start & k_dec & (kmin > 0)
    kappa_inf = np.where(p == 1, 1.0, np.where(a == 0, p, 0.0))
    rho_inf = np.where(m.bg2 > 0, -np.inf, m.lam * a * kappa_inf - m.beta)
    r_search = ~r_start & r_dec & (rho_inf < rmin)
    e_search = ~e_start & e_dec & (emin > 0)
    return (k_start, r_start, e_start), (k_search, r_search, e_search)


def solve_valid(m: Cells, t0, until, kmin, rmin, emin, lm, max_iter: int = MAX_ITER) -> dict[str, np.ndarray]:
    """solve() for a 1-D batch of valid cells (``_deferred``: cells to redo, see march)."""
    n, nm = m.n, lm.shape[0]
    res = empty_result(n, nm)
    deferred = np.zeros(n, dtype=bool)
    ttarget = loopmath.friction_free_time(until - t0, m.delta)
    (k_start, r_start, e_start), (k_search, r_search, e_search) = start_crossings(m, kmin, rmin, emin)
    # closure level in closed form (only where k_search)
    with np.errstate(all="ignore"):
        lk = np.where(
            k_search,
            loopmath.closure_level(kmin, m.p, m.a),
            np.nan,
        )
    lk = np.where(k_search, np.maximum(lk, 0.0), np.nan)

    tau_k = np.full(n, np.nan)
    tau_m = np.full((n, nm), np.nan)
    l_end = np.full(n, np.nan)
    l_r = np.full(n, np.nan)
    tau_r = np.full(n, np.nan)
    l_e = np.full(n, np.nan)
    tau_e = np.full(n, np.nan)
    tau_inf = np.full(n, np.inf)
    fail = np.zeros(n, dtype=bool)

    # ---- closed-form class
    cf = np.flatnonzero(m.cf)
    if cf.size:
        c, g0, dl = m.c[cf], m.g0[cf], m.delta[cf]
        tinf = np.where(c > 0, 1.0 / np.where(c > 0, c * g0, 1.0), np.inf)
        tau_inf[cf] = tinf
        l_end[cf] = level_closed_form(ttarget[cf], c, g0)
        tau_m[cf] = tau_closed_form(lm[None, :], c[:, None], g0[:, None])
        # closure and returns are constant here (k_search, r_search are False)
        es = e_search[cf]
        with np.errstate(all="ignore"):
            te = np.where(es & (dl > 0), (1.0 - emin[cf]) / np.where(dl > 0, dl, 1.0), np.nan)
        te = np.where(te < tinf, te, np.nan)
        tau_e[cf] = te
        l_e[cf] = level_closed_form(te, c, g0)

    # ---- general cells: one march each
    gen = ceiling_first(m, np.flatnonzero(~m.cf))
    if gen.size:
        sub = m.take(gen)
        yk = y_of_x(sub, np.nan_to_num(lk[gen], nan=0.0), slice(None))
        yk = np.where(k_search[gen], yk, np.nan)
        ym = y_of_x(sub, np.broadcast_to(lm[None, :], (gen.size, nm)).copy(), slice(None))
        yq = np.concatenate([yk[:, None], ym], axis=1)
        rmin_g = np.where(r_search[gen], rmin[gen], np.nan)
        emin_g = np.where(e_search[gen], emin[gen], np.nan)
        tt = ttarget[gen]
        r = march(
            sub,
            np.full(gen.size, np.inf),
            tt,
            yq=yq,
            tq=tt[:, None],
            rho_min=rmin_g,
            eta_min=emin_g,
            max_iter=max_iter,
        )
        deferred[gen] = r["deferred"]
        tau_k[gen] = r["tau_yq"][:, 0]
        tau_m[gen] = r["tau_yq"][:, 1:]
        xe, _ = x_of_y(sub, r["y_tq"], slice(None))
        l_end[gen] = xe[:, 0]
        l_r[gen], tau_r[gen] = r["x_rho"], r["tau_rho"]
        l_e[gen], tau_e[gen] = r["x_eta"], r["tau_eta"]
        fail[gen] = r["fail"]

    # ---- assemble times (a crossing counts when reached at or before `until`)
    def timed(tau_x):
        sh = (slice(None),) + (None,) * (tau_x.ndim - 1)
        reach = tau_x <= ttarget[sh]
        return np.where(reach, t0[sh] + loopmath.elapsed_time(tau_x, m.delta[sh]), np.nan), reach

    t_k, reach_k = timed(tau_k)
    res["t_closure"] = np.where(k_start, t0, t_k)
    res["l_closure"] = np.where(k_start, 0.0, np.where(reach_k, lk, np.nan))
    t_r, reach_r = timed(tau_r)
    res["t_amplification"] = np.where(r_start, t0, t_r)
    res["l_amplification"] = np.where(r_start, 0.0, np.where(reach_r, l_r, np.nan))
    t_e, reach_e = timed(tau_e)
    res["t_efficiency"] = np.where(e_start, t0, t_e)
    res["l_efficiency"] = np.where(e_start, 0.0, np.where(reach_e, l_e, np.nan))
    t_m, _ = timed(tau_m)
    res["t_reach"] = np.where(lm[None, :] <= 0, t0[:, None], t_m)
    sing = tau_inf <= ttarget
    res["t_singularity"] = np.where(sing, t0 + loopmath.elapsed_time(tau_inf, m.delta), np.nan)
    res["lnC_end"] = np.where(sing, np.inf, l_end)

    times = np.stack([res["t_closure"], res["t_amplification"], res["t_efficiency"]], axis=1)
    any_cross = np.isfinite(times).any(axis=1)
    masked = np.where(np.isfinite(times), times, np.inf)
    first = np.where(any_cross, np.argmin(masked, axis=1), 3)
    tfirst = np.where(any_cross, masked.min(axis=1), np.nan)
    before_sing = ~(res["t_singularity"] < tfirst)
    res["first_failure"] = np.where(any_cross & before_sing, first, 3).astype(np.int8)
    near = np.isfinite(times) & (times <= tfirst[:, None] + TIE_TOLERANCE)
    res["tied"] = (near.sum(axis=1) >= 2) & (res["first_failure"] < 3)

    # numerical failure: the march gave up, or lnC_end is not a number
    fail |= np.isnan(res["lnC_end"])
    if fail.any():
        for k in RESULT_FLOAT_KEYS:
            res[k][fail] = np.nan
        res["t_reach"][fail] = np.nan
        res["first_failure"][fail] = -1
        res["tied"][fail] = False
        res["status"][fail] = 2
    res["_deferred"] = deferred
    return res


def schedule(size: int, chunk: int, run: RunChunk) -> None:
    """Chunks one after the other, in two passes.

    A first pass gives each cell a few dozen panels (:data:`~.panels.FIRST_PASS`); the few
    cells that need more (a quasi-singular loop crossing a deep valley of the integrand) are
    redone together with the full budget, so that each chunk's march is not held up by its
    slowest cells.
    """
    redo = []
    for i0 in range(0, size, chunk):
        sl = slice(i0, min(size, i0 + chunk))
        redo.append(i0 + np.flatnonzero(run(sl, FIRST_PASS)))
    redo_idx = np.concatenate(redo) if redo else np.zeros(0, dtype=np.intp)
    for i0 in range(0, redo_idx.size, chunk):
        run(redo_idx[i0 : i0 + chunk], MAX_ITER)
