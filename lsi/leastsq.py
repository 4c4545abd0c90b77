"""The least-squares problem of one model on one series, and its solution.

This is the one place that drives the optimiser.  A model's parameters are laid out
(:func:`layout`: bounds, which vary, fixed values, user starts), the whitened
residuals in the noise model's space are minimised by MINPACK's Levenberg-Marquardt
(``scipy.optimize.leastsq``) on the model's analytic Jacobian (derived from its
sympy definition), and bounds are enforced by smooth transforms (as lmfit does), so
a fit costs a few dozen vectorised evaluations.

:func:`solve` returns a :class:`Solution`: the best point over the starting points,
whether it converged, and what the statistics of a result need (the whitened
residuals and the Jacobian at the optimum).  The fit driver (:mod:`lsi.fitting`)
turns it into a :class:`lsi.results.FitResult`; the bootstrap (:mod:`lsi.bootstrap`)
keeps only the parameter vector and the score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .exceptions import ParameterValueError

if TYPE_CHECKING:  # pragma: no cover
    from .models.base import GrowthModel

__all__ = [
    "Bounds",
    "Layout",
    "Problem",
    "Solution",
    "layout",
    "user_settings",
    "solve",
    "gradient",
    "at_bound",
    "PENALTY",
    "GRADIENT_TOL",
]

#: residual given to a point whose prediction is not finite
PENALTY = 1e10


# ---------------------------------------------------------------- bound transforms
class Bounds:
    """Smooth maps between an unconstrained u and a parameter in its open range.

    ``(lo, inf)``: theta = lo + e^u; ``(-inf, hi)``: theta = hi - e^u; ``(lo, hi)``:
    a scaled logistic; unbounded: identity.  Scalar loops: vectors are tiny.
    """

    def __init__(self, lo: np.ndarray, hi: np.ndarray):
        self.lo = [float(x) for x in lo]
        self.hi = [float(x) for x in hi]
        self.kind = [
            3 if math.isfinite(a) and math.isfinite(b) else 1 if math.isfinite(a) else 2 if math.isfinite(b) else 0
            for a, b in zip(self.lo, self.hi, strict=True)
        ]

    def to_theta(self, u: np.ndarray) -> np.ndarray:
        exp = math.exp
        out = []
        for k, a, b, x in zip(self.kind, self.lo, self.hi, u.tolist(), strict=True):
            if k == 1:
                out.append(a + (exp(x) if x < 709 else math.inf))
            elif k == 0:
                out.append(x)
            elif k == 2:
                out.append(b - (exp(x) if x < 709 else math.inf))
            else:
                out.append(a + (b - a) * (1.0 / (1.0 + exp(-x)) if x > -709 else 0.0))
        return np.array(out)

    def to_u(self, theta: np.ndarray) -> np.ndarray:
        out = np.empty(len(self.kind))
        for i, (k, a, b, x) in enumerate(zip(self.kind, self.lo, self.hi, theta, strict=True)):
            x = float(x)
            try:
                if k == 0:
                    out[i] = x
                elif k == 1:
                    out[i] = math.log(x - a)
                elif k == 2:
                    out[i] = math.log(b - x)
                else:
                    f = (x - a) / (b - a)
                    out[i] = math.log(f / (1.0 - f))
            except (ValueError, ZeroDivisionError):
                out[i] = math.nan
        return out

    def dtheta_du(self, theta: np.ndarray) -> np.ndarray:
        out = np.empty(len(self.kind))
        for i, (k, a, b, x) in enumerate(zip(self.kind, self.lo, self.hi, theta, strict=True)):
            x = float(x)
            if k == 0:
                out[i] = 1.0
            elif k == 1:
                out[i] = x - a
            elif k == 2:
                out[i] = x - b
            else:
                out[i] = (x - a) * (b - x) / (b - a)
        return out


# ---------------------------------------------------------------- the parameter layout
@dataclass(frozen=True)
class Layout:
    """Which of a model's parameters vary, their ranges, fixed values and user starts."""

    names: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    vary: np.ndarray
    fixed: np.ndarray  # values of the fixed parameters (NaN for varied ones without a default)
    user_start: Mapping[str, float]

    @property
    def free(self) -> np.ndarray:
        """Indices of the varied parameters."""
        return np.flatnonzero(self.vary)


def user_settings(model: GrowthModel, given: Any) -> dict[str, dict[str, Any]]:
    """Normalise user parameter settings to {name: {value, vary, min, max}}."""
    import lmfit

    if given is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    if isinstance(given, lmfit.Parameters):
        for k, p in given.items():
            model.spec(k)
            out[k] = {"value": p.value, "vary": p.vary, "min": p.min, "max": p.max}
        return out
    if not isinstance(given, Mapping):
        raise ParameterValueError(
            f"params for {model.name!r} must be lmfit.Parameters or a dict of name -> value; got {type(given).__name__}"
        )
    for k, v in given.items():
        model.spec(k)
        if isinstance(v, lmfit.Parameter):
            out[k] = {"value": v.value, "vary": v.vary, "min": v.min, "max": v.max}
        elif isinstance(v, Mapping):
            bad = set(v) - {"value", "vary", "min", "max"}
            if bad:
                raise ParameterValueError(
                    f"{model.name}.{k}: unknown setting {sorted(bad)[0]!r}; use value, vary, min or max"
                )
            out[k] = dict(v)
        else:
            out[k] = {"value": float(v), "vary": False}
    return out


def layout(model: GrowthModel, user: Mapping[str, Mapping[str, Any]]) -> Layout:
    """The model's parameter layout with the user's settings (from :func:`user_settings`) applied."""
    specs = model.param_specs
    names = tuple(s.name for s in specs)
    lo = np.array([s.min for s in specs], dtype=float)
    hi = np.array([s.max for s in specs], dtype=float)
    vary = np.array([s.vary for s in specs])
    fixed = np.array([np.nan if s.default is None else s.default for s in specs], dtype=float)
    user_start: dict[str, float] = {}
    for k, setting in user.items():
        i = names.index(k)
        if "min" in setting and setting["min"] is not None and np.isfinite(setting["min"]):
            lo[i] = max(lo[i], float(setting["min"]))
        if "max" in setting and setting["max"] is not None and np.isfinite(setting["max"]):
            hi[i] = min(hi[i], float(setting["max"]))
        if "vary" in setting:
            vary[i] = bool(setting["vary"])
        if "value" in setting and setting["value"] is not None and np.isfinite(setting["value"]):
            v = float(setting["value"])
            if vary[i]:
                if not (lo[i] < v < hi[i]):
                    raise ParameterValueError(
                        f"{model.name}: start {k} = {v!r} is outside its bounds ({lo[i]}, {hi[i]}); "
                        "give a start strictly inside them"
                    )
                user_start[k] = v
            else:
                model.spec(k).check(v, model.name)
                fixed[i] = v
    for i, s in enumerate(specs):
        if not vary[i] and np.isnan(fixed[i]):
            raise ParameterValueError(f"{model.name}: {s.name} is fixed but has no value; give it a value")
    return Layout(names, lo, hi, vary, fixed, user_start)


# ---------------------------------------------------------------- the problem
@dataclass
class Problem:
    """The whitened least-squares problem for one model on one series.

    ``z`` are the data in the noise model's space, ``w`` the weights ``1/sigma`` (ones when
    sigma is unknown), ``use_log`` whether the model's ln C (else C) is compared with ``z``.
    """

    model: GrowthModel
    tau: np.ndarray
    z: np.ndarray
    w: np.ndarray
    use_log: bool
    free: np.ndarray  # indices into theta of the varied parameters
    theta_fixed: np.ndarray
    bounds: Bounds
    nfev: int = 0
    _value: Any = field(init=False, repr=False)
    _grad: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.neg_w = -self.w
        # the model's bare compiled functions where it has them: the hot loop runs under one errstate
        self._value = self.model.fast_value(self.use_log)
        self._grad = self.model.fast_jacobian(self.use_log)

    def theta_of(self, u: np.ndarray) -> np.ndarray:
        th = self.theta_fixed.copy()
        th[self.free] = self.bounds.to_theta(u)
        return th

    def predict(self, theta: np.ndarray, tau: np.ndarray | None = None) -> np.ndarray:
        return self._value(self.tau if tau is None else tau, theta)

    def jac_theta(self, theta: np.ndarray) -> np.ndarray:
        """d zhat / d theta_free, shape (k_free, n)."""
        return self._grad(self.tau, theta)[self.free]

    def residuals(self, u: np.ndarray) -> np.ndarray:
        self.nfev += 1
        r = self.z - self._value(self.tau, self.theta_of(u))
        r *= self.w
        if not np.isfinite(r).all():
            r[~np.isfinite(r)] = PENALTY
        return r

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        theta = self.theta_of(u)
        J = self._grad(self.tau, theta)
        if J.shape[0] != self.free.size:
            J = J[self.free]
        J *= self.bounds.dtheta_du(theta[self.free])[:, None]
        J *= self.neg_w
        if not np.isfinite(J).all():
            J[~np.isfinite(J)] = 0.0
        return J


@dataclass(frozen=True)
class Solution:
    """The best point found for one problem over its starting points."""

    problem: Problem
    theta: np.ndarray
    rss: float
    residuals: np.ndarray  # whitened, at ``theta``
    converged: bool  # MINPACK succeeded and the point is verified a minimum
    status: int  # MINPACK's ier
    message: str
    maxfev: int
    gradient: float = math.nan  # the largest scaled gradient of a parameter not at a limit
    fallback: bool = False  # the cold starts were needed


def _inside(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Move starting values that sit on or outside a bound just inside it."""
    x = np.array(x, dtype=float)
    if np.all((x > lo) & (x < hi)):
        return x
    span = np.where(np.isfinite(hi - lo), hi - lo, np.maximum(np.abs(x), 1.0))
    eps = 1e-6 * span
    with np.errstate(invalid="ignore"):
        x = np.where(np.isfinite(lo) & (x <= lo), lo + eps, x)
        x = np.where(np.isfinite(hi) & (x >= hi), hi - eps, x)
    return x


def _minpack(fun, jac, u0: np.ndarray, maxfev: int):
    """MINPACK's Levenberg-Marquardt with an analytic Jacobian (rows = parameters), tight
    tolerances (NIST's certified digits need them); returns (u, residuals, message, status)."""
    from scipy import optimize

    with np.errstate(all="ignore"):  # overflow in a trial step is handled by the penalty
        u, _cov, info, msg, ier = optimize.leastsq(
            fun, u0, Dfun=jac, col_deriv=True, full_output=True, ftol=1e-13, xtol=1e-13, gtol=0.0, maxfev=maxfev
        )
    return u, info["fvec"], msg, ier


#: a free parameter this far out in its unconstrained coordinate has run to a limit of its
#: range (within e^-25 of a bound, or e^25 beyond the bound's scale): its gradient is not
#: required to vanish, and the other parameters are polished with it held there
LIMIT_U = 25.0
#: the largest scaled gradient :math:`|J_i \cdot r| / (\|J_i\| \|r\|)` of a free parameter
#: at an accepted minimum (the cosine between the residuals and that parameter's direction)
GRADIENT_TOL = 1e-4
#: starts scattered about a point at a limit when no other starts were given
JITTER = 6


def _candidates(prob: Problem, lay: Layout, starts: list[dict[str, float]], user: bool) -> list[np.ndarray]:
    """Starting points in the unconstrained coordinates that give finite predictions."""
    names, free, lo, hi = lay.names, lay.free, lay.lo, lay.hi
    out = []
    for st in starts:
        th = lay.fixed.copy()
        for i in free:
            given = st.get(names[i], np.nan)
            th[i] = lay.user_start.get(names[i], given) if user else given
        th[free] = _inside(th[free], lo[free], hi[free])
        if not np.all(np.isfinite(th[free])):
            continue
        u0 = prob.bounds.to_u(th[free])
        if not np.all(np.isfinite(u0)):
            continue
        with np.errstate(all="ignore"):
            r0 = prob.residuals(u0)
        if np.any(r0 == PENALTY):
            continue
        out.append(u0)
    return out


def _minimise(
    prob: Problem, candidates: list[np.ndarray], maxfev: int
) -> tuple[bool, float, np.ndarray, str, int, np.ndarray]:
    """MINPACK from every candidate; the best (converged first, then the smallest RSS)."""
    best = None
    for u0 in candidates:
        u, fvec, msg, ier = _minpack(prob.residuals, prob.jacobian, u0, maxfev)
        rss = float(np.sum(fvec**2))
        ok = ier in (1, 2, 3, 4) and rss < PENALTY
        cand = (ok, rss, u, msg if isinstance(msg, str) else str(msg), int(ier), fvec)
        if best is None or (not cand[0], cand[1]) < (not best[0], best[1]):
            best = cand
    assert best is not None
    return best


def _polish(prob: Problem, u: np.ndarray, rss: float, r: np.ndarray, hold: np.ndarray, maxfev: int):
    """Minimise over the parameters not in ``hold`` with those held where they are."""
    keep = ~hold
    if not keep.any():
        return u, rss, r

    def res_fixed(v):
        uu = u.copy()
        uu[keep] = v
        return prob.residuals(uu)

    def jac_fixed(v):
        uu = u.copy()
        uu[keep] = v
        return prob.jacobian(uu)[keep]

    v, fvec, _msg, ier = _minpack(res_fixed, jac_fixed, u[keep], maxfev)
    rss2 = float(np.sum(fvec**2))
    if ier in (1, 2, 3, 4) and rss2 <= rss:
        u = u.copy()
        u[keep] = v
        return u, rss2, fvec
    return u, rss, r


def gradient(prob: Problem, theta: np.ndarray, skip: np.ndarray | None = None) -> tuple[float, int]:
    r"""The largest scaled gradient over the free parameters not in ``skip``, and which one.

    The scaled gradient of parameter i is :math:`|J_i \cdot r| / (\|J_i\| \|r\|)`, the cosine
    between the whitened residuals and the direction in which that parameter moves the fit
    (in the parameter itself, so the bound transforms do not hide it).  It is 0 at a minimum
    and does not depend on the parameter's units; an exact fit (residuals below 1e-8 of the
    data, where the model's own rounding dominates them) counts as a minimum.
    """
    with np.errstate(all="ignore"):
        J = prob.jac_theta(theta) * prob.w
        r = prob.w * (prob.z - prob.predict(theta))
        rn = float(np.linalg.norm(r))
        if not np.isfinite(rn):
            return math.inf, -1
        if rn <= 1e-8 * max(float(np.linalg.norm(prob.w * prob.z)), 1e-300):
            # an exact fit: residuals this small are dominated by the rounding of the model's
            # own evaluation, whose direction says nothing about a minimum
            return 0.0, -1
        jn = np.linalg.norm(J, axis=1)
        cos = np.abs(J @ r) / (jn * rn)
    cos = np.where(np.isnan(cos) & (jn == 0), 0.0, cos)  # a parameter with no effect
    cos = np.where(np.isfinite(cos), cos, math.inf)
    if skip is not None:
        cos = np.where(skip, 0.0, cos)
    i = int(np.argmax(cos)) if cos.size else -1
    return (float(cos[i]) if cos.size else 0.0), i


def _settle(prob: Problem, lay: Layout, model: GrowthModel, u, rss, r, maxfev):
    """Polish a MINPACK solution and verify it is a minimum.

    Returns (u, rss, r, gradient, which, limit).  A parameter that stays non-stationary after
    a fresh restart cannot improve the fit by any step MINPACK finds: it is creeping along a
    flat, curved valley, typically towards a limit of the model (a logistic ceiling running to
    infinity is the exponential; a Richards shape running to infinity).  It is held where it
    is, the others are polished and verified, and ``limit`` is True: such a point is accepted
    only as the best that other starts (the caller's ``fallback``) can find.
    """
    names, free = lay.names, lay.free
    irregular = np.array([names[i] in model.irregular for i in free], dtype=bool)
    hold = irregular | ~np.isfinite(u) | (np.abs(u) > LIMIT_U) & (np.array(prob.bounds.kind) != 0)
    restarted = False
    for _ in range(free.size + 2):
        if hold.any() and not hold.all():
            # a parameter at a limit of its range (or a break date, which has kinks) can stop the
            # search short of the other parameters' optimum: polish them with it held there
            u, rss, r = _polish(prob, u, rss, r, hold, maxfev)
        g, which = gradient(prob, prob.theta_of(u), hold)
        if g <= GRADIENT_TOL or which < 0:
            break
        if not restarted:  # a fresh start from here (MINPACK's trust region starts anew)
            restarted = True
            u2, fvec2, _msg, ier2 = _minpack(prob.residuals, prob.jacobian, u, maxfev)
            rss2 = float(np.sum(fvec2**2))
            th2 = prob.theta_of(u2)[free]
            # a restart that only runs a parameter off to infinity along a valley is not taken
            sane = bool(np.all(np.isfinite(th2)) and np.all(np.abs(th2) < 1e100))
            if ier2 in (1, 2, 3, 4) and sane and rss2 < rss * (1 - 1e-10):
                u, rss, r = u2, rss2, fvec2
                continue
        hold = hold.copy()
        hold[which] = True
    return u, rss, r, g, which, bool((hold & ~irregular).any())


def solve(
    model: GrowthModel,
    lay: Layout,
    tau: np.ndarray,
    z: np.ndarray,
    w: np.ndarray,
    use_log: bool,
    starts: list[dict[str, float]],
    max_nfev: int | None = None,
    fallback: list[dict[str, float]] | None = None,
    compare: bool = False,
    vouch: bool = True,
) -> Solution:
    """Minimise the whitened residuals from every usable start, and verify the best is a minimum.

    MINPACK's own success is not enough: it stops when its steps become tiny, which happens
    short of the optimum where the trust region collapses (a kink, a region of non-finite
    predictions, a parameter drifting to a limit of its range).  So the best point is
    polished (the other parameters re-optimised with any parameter that ran to a limit, or
    an irregular one such as a break date, held where it is) and then verified: every other
    free parameter's scaled gradient (:func:`gradient`) must be below :data:`GRADIENT_TOL`,
    after at most one fresh restart.  If the point fails, or a parameter ran to a limit (a
    valley at infinity that only other starts can tell from the optimum), and ``fallback``
    starts are given (the model's own cold starts, for a warm or user start), they are tried
    too and the best verified point wins; with ``compare=True`` they are always tried (a
    user's start can sit on a plateau, a stationary point far from the optimum); with
    ``vouch=False`` a point at a limit is accepted without them (for warm starts that follow
    a verified fit closely, such as the extra-scatter profile).
    ``converged`` means MINPACK succeeded AND the point passed; a point that did not pass is
    reported as the best found, with the reason.

    Starts that give non-finite predictions are dropped; if none is left a one-line
    :class:`ParameterValueError` says so.
    """
    free = lay.free
    k_free = int(free.size)
    bounds = Bounds(lay.lo[free], lay.hi[free])
    prob = Problem(model, tau, z, w, use_log, free, lay.fixed.copy(), bounds)
    if not starts:
        raise ParameterValueError(f"{model.name}: an empty list of starting points; give at least one")
    maxfev = max_nfev or 400 * (k_free + 1)
    candidates = _candidates(prob, lay, starts, user=True)
    used_fallback = False
    if not candidates and fallback:
        candidates, used_fallback, fallback = _candidates(prob, lay, fallback, user=False), True, None
    if not candidates:
        raise ParameterValueError(
            f"{model.name}: no starting point gives finite predictions on these data; pass params= with a start"
        )
    ok, rss, u, msg, ier, r = _minimise(prob, candidates, maxfev)
    g, which, limit = math.inf, -1, False
    if ok:
        u, rss, r, g, which, limit = _settle(prob, lay, model, u, rss, r, maxfev)
    if ok and limit and vouch and not fallback:
        # a point in a flat valley towards a limit, with no other starts to vouch for it: starts
        # scattered about it (fixed, reproducible draws) look for a lower part of the valley
        rng = np.random.default_rng(0)
        theta0 = prob.theta_of(u)
        fallback = [
            {lay.names[i]: float(theta0[i] * math.exp(rng.normal(0.0, 0.5))) for i in free} for _ in range(JITTER)
        ]
    if (compare or not ok or g > GRADIENT_TOL or (limit and vouch)) and fallback:
        extra = _candidates(prob, lay, fallback, user=False)
        if extra:
            ok2, rss2, u2, msg2, ier2, r2 = _minimise(prob, extra, maxfev)
            g2, which2 = math.inf, -1
            if ok2:
                u2, rss2, r2, g2, which2, _ = _settle(prob, lay, model, u2, rss2, r2, maxfev)
            verified2, verified = ok2 and g2 <= GRADIENT_TOL, ok and g <= GRADIENT_TOL
            if (not verified2, not ok2, rss2) < (not verified, not ok, rss):
                ok, rss, u, msg, ier, r, g, which = ok2, rss2, u2, msg2, ier2, r2, g2, which2
            used_fallback = True
    verified = ok and g <= GRADIENT_TOL
    if ok and not verified:
        what = lay.names[free[which]] if which >= 0 else "the parameters"
        msg = (
            f"stopped away from a minimum (scaled gradient {g:.2g} in {what}, above {GRADIENT_TOL:g}); "
            "the best point found is reported"
        )
    return Solution(
        problem=prob,
        theta=prob.theta_of(u),
        rss=rss,
        residuals=r,
        converged=verified,
        status=ier,
        message=msg,
        maxfev=maxfev,
        gradient=g,
        fallback=used_fallback,
    )


def at_bound(names: list[str], J: np.ndarray, r: np.ndarray, zw: np.ndarray) -> list[str]:
    """Free parameters whose optimum lies on (or beyond) an end of their range.

    At an interior optimum the (whitened) residual vector ``r`` is orthogonal to
    every row of the Jacobian ``J`` in the parameters themselves; a parameter pushed
    against a bound, or running off to infinity, keeps a clear angle (the score
    test's direction).
    """
    rn = float(np.linalg.norm(r))
    if rn <= 1e-10 * max(float(np.linalg.norm(zw)), 1e-300):
        return []  # an exact fit: no residual direction to test
    with np.errstate(all="ignore"):
        cos = np.abs(J @ r) / (np.linalg.norm(J, axis=1) * rn)
    cos = np.where(np.isfinite(cos), cos, np.inf)
    if not np.any(cos > 1e-4):
        return []
    # the parameter that runs off most clearly; the others merely follow it
    return [names[int(np.argmax(cos))]]
