r"""Regime change as a rival explanation: an exponential with one breakpoint.

Published analyses of AI capability histories (METR's time horizons, Epoch's
capabilities index) report faster growth after 2023/2024.  A hyperbolic fit reads
that acceleration as the self-improvement loop amplifying itself; a single,
exogenous jump in the growth rate (more investment, a new training paradigm)
explains it just as well without any loop.  :class:`Breakpoint` puts that rival on
the same footing as the other models, so a model comparison weighs "the loop
amplifies" against "the rate jumped once" rather than against a single exponential.

The break date is a non-regular parameter: the log-likelihood is continuous but
only piecewise smooth in it.  The model's :meth:`Breakpoint.guess` therefore scans a
grid of candidate dates inside the data (two-segment log-linear regressions, all at
once) so the fitter starts in the global basin, and :func:`lsi.profile.break_date` gives the
break an interval by profile likelihood (or, on request, the Wald interval from the
covariance).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .base import ClosedFormModel, Crossings, Definition, ParamSpec, register

__all__ = ["Breakpoint"]


class step(sp.Function):
    r"""The unit step: 1 for ``x > 0``, 0 for ``x <= 0`` (so ``tau = tb`` belongs to the first regime).

    Its derivative is taken as zero, the derivative almost everywhere: the one the
    fitter's Jacobian and the delta method need (a Dirac delta has no numeric value).
    Compiles to ``numpy.heaviside(x, 0)``.
    """

    @classmethod
    def eval(cls, x):
        if x.is_extended_positive:
            return sp.S.One
        if x.is_extended_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def _numpycode(self, printer):
        return f"{printer._module_format('numpy.heaviside')}({printer._print(self.args[0])}, 0.0)"


class ramp(sp.Function):
    r"""``max(x, 0)``, whose derivative is :class:`step`.  Compiles to ``numpy.maximum(x, 0)``.

    Written as a function of its own (not ``Max`` or ``Piecewise``) so that the
    compiled model is plain ufuncs (fast in the fitter's hot loop) and every
    derivative sympy takes of it stays finite.
    """

    @classmethod
    def eval(cls, x):
        if x.is_extended_nonnegative:
            return x
        if x.is_extended_negative:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        return step(self.args[0])

    def _numpycode(self, printer):
        return f"{printer._module_format('numpy.maximum')}({printer._print(self.args[0])}, 0.0)"


def _two_segment_rss(
    tau: np.ndarray, ly: np.ndarray, cand: np.ndarray, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Least squares of ``ly`` on ``[1, min(tau, tb), max(tau - tb, 0)]`` for every ``tb`` in ``cand``.

    ``w`` are optional weights of the residuals (1/sigma).  Returns the (weighted)
    residual sums of squares, shape (m,), and the coefficients ``(ln C0, g1, g2)``,
    shape (m, 3); rows whose design is singular get ``inf``.

    Notes
    -----
    The design spans the same space as ``[1, tau, h]`` with :math:`h = (\tau - t_b)_+`
    (since :math:`\min(\tau, t_b) = \tau - h`), so by Frisch-Waugh-Lovell

    .. math::
        \mathrm{RSS}(t_b) = \mathrm{RSS}_0 - \frac{(h^\top W r_0)^2}{h^\top M h},

    where :math:`r_0` are the residuals of one straight line (computed once, as
    residuals) and :math:`M` projects out ``[1, tau]``.  Every sum over the points
    after a break is a suffix sum of the sorted data, and every sum over the points
    before it a prefix sum, so the scan costs O(n + m) memory and O(n + m log n)
    time, not the (m, n, 3) design of a direct solve (7 GB at 10k points).

    For accuracy the hinge is taken on the smaller side of the break: since
    :math:`h = (\tau - t_b) + g` with :math:`g = (t_b - \tau)_+` and ``M`` removes the
    line, :math:`Mh = Mg`; and each side's sums are taken about the data's end on
    that side (the last time for ``h``, the first for ``g``), so no sum of squares
    is the difference of two numbers far larger than itself.  Rows are refused
    (``inf``) where a direct solve refused them: when Hadamard's ratio of the
    ``[1, min(tau, tb), max(tau - tb, 0)]`` normal matrix, det / prod(diag), is not
    above 1e-10 (its determinant equals that of ``[1, tau - mean, h]``, the change
    of columns having determinant 1).
    """
    tau = np.asarray(tau, dtype=float)
    cand = np.atleast_1d(np.asarray(cand, dtype=float))
    ly = np.asarray(ly, dtype=float)
    W = np.ones_like(tau) if w is None else np.asarray(w, dtype=float) ** 2
    order = np.argsort(tau, kind="stable")
    ts, ys, Ws = tau[order], ly[order], W[order]
    rss = np.full(cand.size, np.inf)
    coef = np.full((cand.size, 3), np.nan)
    if ts.size == 0:
        return rss, coef

    def suffix(x: np.ndarray) -> np.ndarray:
        """``out[k] = sum(x[k:])``, ``out[n] = 0``, at the sorted positions ``k`` of the breaks."""
        out = np.zeros(x.size + 1)
        out[:-1] = np.cumsum(x[::-1])[::-1]
        return out[k]

    def prefix(x: np.ndarray) -> np.ndarray:
        """``out[k] = sum(x[:k])``, ``out[0] = 0``, at the sorted positions ``k`` of the breaks."""
        out = np.zeros(x.size + 1)
        out[1:] = np.cumsum(x)
        return out[k]

    with np.errstate(all="ignore"):
        # numpy scalars: a degenerate series divides by zero quietly and its rows are refused below
        S0 = np.sum(Ws)
        mean_t = np.sum(Ws * ts) / S0
        mean_y = np.sum(Ws * ys) / S0
        t = ts - mean_t
        St2 = np.sum(Ws * t * t)
        slope = np.sum(Ws * t * (ys - mean_y)) / St2
        r0 = ys - mean_y - slope * t
        rss0 = np.sum(Ws * r0 * r0)
        # the points after a break are ts[k:], k = the number of times <= tb
        k = np.searchsorted(ts, cand, side="right")
        d = cand - mean_t

        # after the break: h = s - e >= 0, s = ts - ts[-1] <= 0, e = tb - ts[-1]
        s = ts - ts[-1]
        e = cand - ts[-1]
        sw, ss, ss2 = suffix(Ws), suffix(Ws * s), suffix(Ws * s * s)
        h1 = ss - e * sw  # sum W h
        h2 = ss2 - 2.0 * e * ss + e * e * sw  # sum W h^2
        ht = (ss2 - e * ss) + (ts[-1] - mean_t) * h1  # sum W t h
        hr = suffix(Ws * s * r0) - e * suffix(Ws * r0)  # sum W h r0
        # before the break: g = f - q >= 0, q = ts - ts[0] >= 0, f = tb - ts[0]
        q = ts - ts[0]
        f = cand - ts[0]
        pw, pq, pq2 = prefix(Ws), prefix(Ws * q), prefix(Ws * q * q)
        g1s = f * pw - pq  # sum W g
        g2s = f * f * pw - 2.0 * f * pq + pq2  # sum W g^2
        gt = (f * pq - pq2) + (ts[0] - mean_t) * g1s  # sum W t g
        gr = f * prefix(Ws * r0) - prefix(Ws * q * r0)  # sum W g r0

        use_g = k < ts.size - k  # the hinge on the side with fewer points
        f1 = np.where(use_g, g1s, h1)
        ft = np.where(use_g, gt, ht)
        fr = np.where(use_g, gr, hr)
        fmf = np.where(use_g, g2s, h2) - f1 * f1 / S0 - ft * ft / St2  # = h'Mh
        gamma = fr / fmf  # g2 - g1, the same for either hinge
        # a direct solve's diagonal: sum W, sum W min(tau, tb)^2 (tau as given), sum W h^2
        x1sq = prefix(Ws * ts * ts) + cand * cand * sw
        ratio = St2 * fmf / (x1sq * h2)
        ok = np.isfinite(ratio) & (ratio > 1e-10)
        if ok.any():
            gm = gamma[ok]
            q = fr[ok] * gm  # what the break explains beyond the line
            rss[ok] = np.maximum(rss0 - q, 0.0)
            # y = mean_y + slope t + gamma (f - f1/S0 - ft/St2 t), and h = f + (t - d) when f = g
            slope_f = slope - gm * ft[ok] / St2
            level_f = mean_y - gm * f1[ok] / S0
            ug = use_g[ok]
            g1 = np.where(ug, slope_f - gm, slope_f)
            level = np.where(ug, level_f + gm * d[ok], level_f)
            coef[ok, 0] = level - g1 * mean_t
            coef[ok, 1] = g1
            coef[ok, 2] = g1 + gm
            # rounding bound of the sums: rss0 - q cancels when the break explains nearly all of
            # the line's residuals, and h'Mh when the hinge is nearly a line over the data
            f2 = np.where(use_g, g2s, h2)[ok]
            size = f2 + f1[ok] ** 2 / S0 + ft[ok] ** 2 / St2
            err = 8.0 * np.finfo(float).eps
            err *= rss0 + (q * size + np.abs(fr[ok]) * np.sqrt(f2 * rss0)) / fmf[ok]
            rough = np.flatnonzero(ok)[~(err <= _RSS_RTOL * rss[ok])]
            if rough.size and np.isfinite(rss0):
                _polish(tau, ly, W, cand, coef, rss, rough)
    return rss, coef


#: relative accuracy of the scan's residual sums below which a row is recomputed from its residuals
_RSS_RTOL = 1e-11
#: most points x rows recomputed at once, and in all (then the rest keep their bound)
_POLISH_BLOCK = 1 << 20
_POLISH_BUDGET = 1 << 26


def _polish(
    tau: np.ndarray,
    ly: np.ndarray,
    W: np.ndarray,
    cand: np.ndarray,
    coef: np.ndarray,
    rss: np.ndarray,
    rows: np.ndarray,
) -> None:
    """Recompute ``rss[rows]`` as the sum of the squared residuals at ``coef[rows]``.

    At the least-squares coefficients the sum is stationary, so an error in the
    coefficients changes it only to second order: the sums' rounding is gone.
    Rows go smallest residual sum first, in blocks of bounded memory, up to a
    bounded amount of work in all (a pathological series keeps its rounding bound
    elsewhere rather than costing n x m time).
    """
    n = max(tau.size, 1)
    rows = rows[np.argsort(rss[rows], kind="stable")][: max(_POLISH_BUDGET // n, 1)]
    step = max(_POLISH_BLOCK // n, 1)
    for lo in range(0, rows.size, step):
        r = rows[lo : lo + step]
        tb = cand[r, None]
        fitted = coef[r, :1] + coef[r, 1:2] * np.minimum(tau, tb) + coef[r, 2:] * np.maximum(tau - tb, 0.0)
        rss[r] = np.sum(W * (ly - fitted) ** 2, axis=1)


def _local_minima(values: np.ndarray, k: int) -> list[int]:
    """Indices of up to ``k`` local minima of ``values`` (finite ones), smallest first."""
    v = np.where(np.isfinite(values), values, np.inf)
    if v.size == 0:
        return []
    left = np.ones(v.size, dtype=bool)
    right = np.ones(v.size, dtype=bool)
    left[1:] = v[1:] <= v[:-1]
    right[:-1] = v[:-1] <= v[1:]
    idx = np.flatnonzero(np.isfinite(v) & left & right)
    # a stable sort: ties keep the order of their dates
    idx = idx[np.argsort(v[idx], kind="stable")]
    return [int(i) for i in idx[:k]]


@register
class Breakpoint(ClosedFormModel):
    r"""Exponential growth with one breakpoint: an exogenous jump in the growth rate.

    .. math::
        \ln C(t) = \ln C_0 + g_1 \min(\tau, t_b) + g_2 \max(\tau - t_b, 0), \qquad \tau = t - t_0,

    the solution of :math:`dC/dt = g(\tau)\,C` with :math:`g = g_1` before the break
    (:math:`\tau \le t_b`) and :math:`g_2` after it.  ``tb`` is the break in years after
    ``t0`` (the break date is ``t0 + tb``).  The doubling time is :math:`\ln 2/g_1` before
    the break and :math:`\ln 2/g_2` after it (at the last observation, when the break
    lies inside the data).  The time to reach a level ``L`` is
    :math:`\ln(L/C_0)/g_1` when :math:`\ln(L/C_0) \le g_1 t_b` and
    :math:`t_b + (\ln(L/C_0) - g_1 t_b)/g_2` otherwise.

    Loop-model embedding: two exponential regimes (``p = 1``, :math:`\lambda a = \beta`
    in each), the second with a larger (or smaller) ``g0``: the jump is exogenous.  No
    assumption of the loop fails, and an acceleration fitted this way is *not* evidence
    of self-amplification; on a history where it rivals the hyperbolic model, the data
    cannot tell "the loop amplifies" from "the rate jumped once".

    The break date is fitted globally: :meth:`guess` scans candidate dates inside the
    data with two-segment log-linear regressions; :func:`lsi.profile.break_date` gives its interval.

    Examples
    --------
    >>> import numpy as np, lsi
    >>> m = lsi.models.get("breakpoint")
    >>> p = {"C0": 1.0, "g1": 0.5, "g2": 1.5, "tb": 2.0}
    >>> np.round(m.log_capability(p, [0.0, 2.0, 3.0]), 6).tolist()
    [0.0, 1.0, 2.5]
    >>> float(m.growth_rate(p, 3.0))
    1.5
    """

    name = "breakpoint"
    title = "Exponential with a breakpoint"
    #: the break date enters the likelihood through kinks at the data: it is searched,
    #: not differentiated; intervals of the other parameters are conditional on it
    irregular = ("tb",)
    #: a searched change point costs about three ordinary parameters in AIC (Ninomiya 2005,
    #: Statist. Probab. Lett. 72, 237-247); measured here: with one, the breakpoint beats a
    #: true exponential in 25% of 40-point series, with three in 5%, detection unchanged
    extra_penalty = 2
    param_specs = (
        ParamSpec("C0", 0.0, math.inf, "data units", "capability at t0"),
        ParamSpec("g1", 0.0, math.inf, "1/yr", "growth rate of ln C before the break"),
        ParamSpec("g2", 0.0, math.inf, "1/yr", "growth rate of ln C after the break"),
        ParamSpec("tb", 0.0, math.inf, "yr", "break, in years after t0 (break date t0 + tb)"),
    )
    embedding = (
        "two exponential regimes (p = 1, lam*a = beta in each): an exogenous jump in g0 at t0 + tb; "
        "no loop assumption fails, and the acceleration is not evidence of self-amplification"
    )
    mechanism = "none"
    #: the likelihood has several local optima in ``tb``: refits from a warm start (the
    #: bootstrap) should also try :meth:`guess` (see :func:`lsi.forecast.predictive`)
    multimodal = True

    @classmethod
    def define(cls, C, tau, level, C0, g1, g2, tb):
        L = sp.log(level / C0)
        lnC = sp.log(C0) + g1 * tau + (g2 - g1) * ramp(tau - tb)
        return Definition(
            ode=(g1 + (g2 - g1) * step(tau - tb)) * C,
            solution=sp.exp(lnC),
            log_solution=lnC,
            inverse=L / g1 - (1 / g1 - 1 / g2) * ramp(L - g1 * tb),
        )

    def candidates(self, tau: np.ndarray, n_grid: int = 120) -> np.ndarray:
        """Candidate breaks (years after t0) inside the data.

        Each segment keeps at least two distinct observation times: the candidates
        run from the second to the second-to-last distinct time, on a uniform grid
        of ``n_grid`` points plus the observation times themselves (the profile is
        smooth between observations and kinked at them).
        """
        u = np.unique(np.asarray(tau, dtype=float))
        if u.size < 4:
            return np.array([max(float(np.median(u)) if u.size else 1.0, 1e-6)])
        lo, hi = u[1], u[-2]
        grid = np.union1d(np.linspace(lo, hi, n_grid), u[(u >= lo) & (u <= hi)])
        grid = grid[grid > 0]
        return grid if grid.size else np.array([max(float(hi), 1e-6)])

    def scan(self, tau: np.ndarray, lnC: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        """Weighted residual sums of squares of ``ln C`` over the candidate breaks.

        Each candidate break is scored by a (weighted) two-segment log-linear
        regression; the minimum bounds from above what the fitter can reach.
        """
        tau = np.asarray(tau, dtype=float)
        rss, _ = _two_segment_rss(tau, np.asarray(lnC, dtype=float), self.candidates(tau), w)
        return rss

    def guess(self, tau, y):
        """Starts at the best local minima of the two-segment profile over candidate breaks.

        Every candidate break is scored at once by a two-segment log-linear
        regression; the three best local minima (best first) become starting
        points, so the fitter's local search starts in the global basin of the
        objective, which is only piecewise smooth in the break.
        """
        tau = np.asarray(tau, dtype=float)
        ly = np.log(np.asarray(y, dtype=float))
        span = max(float(np.ptp(tau)), 1e-9)
        overall = max(abs(float(np.ptp(ly))) / span, 1e-3)
        floor = 1e-3 * overall

        def start(b: np.ndarray, tb: float) -> dict[str, float]:
            return {
                "C0": math.exp(float(b[0])),
                "g1": max(float(b[1]), floor),
                "g2": max(float(b[2]), floor),
                "tb": float(tb),
            }

        cand = self.candidates(tau)
        rss, coef = _two_segment_rss(tau, ly, cand)
        picks = _local_minima(rss, 3)
        if picks:
            return [start(coef[i], cand[i]) for i in picks]
        # too few distinct times for two segments: one log-linear trend, break mid-way
        if tau.size >= 2 and np.ptp(tau) > 0:
            g, c = np.polyfit(tau, ly, 1)
        else:
            g, c = overall, float(np.mean(ly))
        tb = max(float(np.median(tau)), 1e-6)
        return [{"C0": math.exp(float(c)), "g1": max(float(g), floor), "g2": max(float(g), floor), "tb": tb}]

    def loop_params(self, cols):
        return None  # an exogenous jump in the growth rate: the loop has no part in it

    def crossings(self, theta, t0, th, horizon) -> Crossings:
        none = np.full(theta.shape[0], np.nan)
        return Crossings(none, none.copy(), none.copy(), none.copy())
