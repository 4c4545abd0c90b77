r"""The separable loop model, solved by vectorised quadrature.

The loop model (DESIGN.md, section 2) is one ODE for :math:`l = \ln(C/C_0)`,

.. math::

    \frac{dl}{dt} = g_0 \, \frac{S(l)^\lambda}{D(l)} \, F(l) \, E(t),

with the Amdahl speed-up :math:`S(l) = 1/((1-p) + p e^{-a l})`, the complexity brake
:math:`D(l) = \exp(\beta (l + \gamma l^2/2))`, the resource ceiling
:math:`F(l) = \max(0, 1 - (e^l/K)^\nu)` (:math:`K` = ``ceiling`` :math:`= K/C_0`) and the
friction :math:`E(t) = e^{-\delta (t - t_0)}`.  The right-hand side separates, so

.. math::

    \tau(l) = \int_0^l \frac{D(x)}{g_0 S(x)^\lambda F(x)}\,dx = \int_{t_0}^{t} E(s)\,ds,
    \qquad
    t(l) = t_0 - \frac{\ln(1 - \delta \tau(l))}{\delta}
    \quad (t_0 + \tau(l) \text{ when } \delta = 0),

and a level :math:`l` is reached only if :math:`\delta\,\tau(l) < 1`.  Levels above the
friction limit :math:`l_{max}` (:math:`\delta \tau(l_{max}) = 1`) or at or above the ceiling
:math:`\ln K` are never reached.

The three diagnostics of section 3 are, along a trajectory,

.. math::

    \kappa(l) = \frac{p e^{-a l}}{(1-p) + p e^{-a l}}, \quad
    \rho(l) = \lambda a \kappa(l) - \beta (1 + \gamma l), \quad
    \eta = F(l) E(t) = F(l) (1 - \delta \tau(l)),

all non-increasing, so each goes strictly below its threshold at most once.

Numerical method (the fast path)
--------------------------------
The integrand is written :math:`h(x)/F(x)` with :math:`h = D/(g_0 S^\lambda)` smooth.  The
logarithmic singularity of :math:`\tau` at the ceiling is removed *exactly* by the change of
variable :math:`y = G(x) - G(0)`, where :math:`G(x) = x - \ln F(x)/\nu` is the antiderivative of
:math:`1/F` (:math:`\int dx/(1-e^{\nu(x-L)}) = x - \ln(1-e^{\nu(x-L)})/\nu`, :math:`L = \ln K`).
Then :math:`d\tau/dy = h(x(y))`, which is smooth, bounded and tends to :math:`h(L)` as
:math:`y \to \infty`, with the closed-form inverse

.. math::

    x(y) = L - \frac{\operatorname{softplus}(\zeta_0 - \nu y)}{\nu}, \quad
    F(x(y)) = \operatorname{expit}(\zeta_0 - \nu y), \quad
    \zeta_0 = \ln(K^\nu - 1).

(:math:`y = x` when there is no ceiling.)  :math:`\tau(y)` is built by an adaptive march of
Chebyshev--Lobatto panels (degree 16) in :math:`y`, all cells at once; each panel is
accepted when its Chebyshev tail is below ``1e-12`` of the panel's own integral (or below
the rounding already in :math:`\tau`), so the integral is resolved relative to the local
growth rate and the error in :math:`l` stays small where growth is fast.  Inside a panel
the Chebyshev series is integrated exactly, so :math:`\tau` is available at any point
(levels, crossings) and is inverted by safeguarded Newton steps using
:math:`d\tau/dy = h`.  Far into the ceiling's tail :math:`h(x(y)) = h(L)` to double
precision and :math:`\tau` is finished in closed form.

When :math:`p = 1`, :math:`K = \infty` and :math:`\beta\gamma = 0` (note: :math:`\beta = 0`
switches the brake off whatever :math:`\gamma`) the integrand is
:math:`e^{-(\lambda a - \beta) x}/g_0` and everything is closed form, including the
finite-time singularity :math:`\tau(\infty) = 1/(g_0 (\lambda a - \beta))` when
:math:`\lambda a > \beta`; in every other case :math:`\tau(\infty) = \infty`.  The same
holds with :math:`e^{\beta x}/g_0` where the speed-up is constant, :math:`S = 1`
(:math:`p = 0` or :math:`a = 0`).

Accuracy and cost: against :func:`solve_ivp` at its tightest the fast path agrees to about
1e-11 in :math:`\ln C` and in years on random cells (``benchmarks/bench_quadrature.py``);
a typical cell takes 2-3 panels.  A quasi-singular cell (:math:`p = 1`,
:math:`\lambda a > \beta`, tiny :math:`\beta\gamma`), whose integrand falls through a
valley of many orders of magnitude, takes a few dozen; a level beyond the largest float
is a numerical failure (status 2), not an answer.

The march runs in one of two engines (``solve(engine=...)``): numpy, all cells of a chunk
at once, and :mod:`lsi._jit`, the same march compiled with numba and run cell by cell on every
core (the ``lsi[fast]`` extra; about 2.5-3x faster on random cells).  They agree to rounding.

The independent check is :func:`solve_reference`, which integrates the ODE in :math:`(t, l)`
with :func:`scipy.integrate.solve_ivp` and events.

Examples
--------
>>> import numpy as np
>>> from lsi import quadrature as q
>>> r = q.solve(2025.0, 2035.0, g0=0.7, p=[0.9, 0.99, 1.0], a=1.0, beta=0.3, ceiling=1e6)
>>> [q.FAILURE_CODES[i] for i in r["first_failure"]]
['closure', 'closure', 'efficiency']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy import integrate as _integrate
from scipy import special as _special

from .exceptions import ParameterValueError, UnknownParameterError

__all__ = [
    "PARAMS",
    "DEFAULTS",
    "FAILURE_CODES",
    "STATUS_CODES",
    "ENGINES",
    "JIT_MIN_CELLS",
    "resolve_engine",
    "TIE_TOLERANCE",
    "check_params",
    "integrand",
    "tau",
    "tau_infinity",
    "time_at",
    "lnC_at",
    "kappa",
    "rho",
    "eta",
    "solve",
    "solve_reference",
]

#: Names of the loop-model parameters, in their canonical order.
PARAMS: tuple[str, ...] = ("g0", "p", "a", "lam", "beta", "gamma", "ceiling", "nu", "delta")

#: Defaults for the parameters that have an "all assumptions hold" value (DESIGN.md table);
#: ``nu = 1`` (a logistic ceiling) only matters when ``ceiling`` is finite.  ``g0`` and ``a``
#: have no default and must always be given.
DEFAULTS: dict[str, float] = {
    "p": 1.0,
    "lam": 1.0,
    "beta": 0.0,
    "gamma": 0.0,
    "ceiling": math.inf,
    "nu": 1.0,
    "delta": 0.0,
}

#: Legend of ``solve(...)["first_failure"]`` (``-1`` marks a cell whose status is not ok).
FAILURE_CODES: tuple[str, ...] = ("closure", "amplification", "efficiency", "none")

#: Legend of ``solve(...)["status"]``.
STATUS_CODES: tuple[str, ...] = ("ok", "invalid_parameters", "numerical_failure")

#: Two crossings closer than this (years) to the first one are reported as tied.
TIE_TOLERANCE: float = 1e-9

DEFAULT_CHUNK = 16384

_RESULT_FLOAT_KEYS = (
    "lnC_end",
    "t_closure",
    "l_closure",
    "t_amplification",
    "l_amplification",
    "t_efficiency",
    "l_efficiency",
    "t_singularity",
)

# --------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------


def _finite(v: np.ndarray) -> np.ndarray:
    return np.isfinite(v)


_RULES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "g0": (
        lambda v: ~((v > 0) & _finite(v)),
        "is not a finite number > 0; g0 is the growth rate of ln C at t0 (per year)",
    ),
    "p": (
        lambda v: ~((v >= 0) & (v <= 1)),
        "is outside [0, 1]; the automatable share of R&D must be a fraction",
    ),
    "a": (
        lambda v: ~((v >= 0) & _finite(v)),
        "is not a finite number >= 0; the elasticity of AI research speed to capability "
        "cannot be negative",
    ),
    "lam": (
        lambda v: ~((v > 0) & (v <= 1)),
        "is outside (0, 1]; parallel-research efficiency is a fraction and cannot be 0",
    ),
    "beta": (
        lambda v: ~((v >= 0) & _finite(v)),
        "is not a finite number >= 0; the complexity brake cannot be negative (use 0 for none)",
    ),
    "gamma": (
        lambda v: ~((v >= 0) & _finite(v)),
        "is not a finite number >= 0; the stiffening of the brake cannot be negative",
    ),
    "ceiling": (
        lambda v: ~(v > 1),
        "is not > 1; the resource ceiling K/C0 must exceed the start (use inf for none)",
    ),
    "nu": (
        lambda v: ~((v > 0) & _finite(v)),
        "is not a finite number > 0; the shape of the ceiling must be positive (1 is logistic)",
    ),
    "delta": (
        lambda v: ~((v >= 0) & _finite(v)),
        "is not a finite number >= 0; the efficiency lost per year cannot be negative",
    ),
}


def _as_float_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ParameterValueError(
            f"{name} = {value!r} is not a number or an array of numbers; give floats"
        ) from exc
    return arr


def _complete(params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Fill defaults, reject unknown or missing names, convert to float arrays."""
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise UnknownParameterError(
            f"unknown loop-model parameter(s) {', '.join(map(repr, unknown))}; "
            f"the parameters are {', '.join(PARAMS)}"
        )
    full = dict(DEFAULTS)
    full.update(params)
    missing = [k for k in PARAMS if k not in full]
    if missing:
        raise ParameterValueError(
            f"missing loop-model parameter(s) {', '.join(missing)}; give them as keyword "
            f"arguments (e.g. g0=0.7, a=1.0); only {', '.join(DEFAULTS)} have defaults"
        )
    return {k: _as_float_array(k, full[k]) for k in PARAMS}


def _describe(name: str, arr: np.ndarray, bad: np.ndarray, reason: str) -> str:
    flat = np.flatnonzero(bad.ravel())
    first = arr.ravel()[flat[0]] if arr.size == bad.size else arr.ravel()[0]
    line = f"{name} = {float(first)!r} {reason}"
    if bad.size > 1:
        where = tuple(int(i) for i in np.unravel_index(flat[0], bad.shape))
        line += f" ({flat.size} of {bad.size} values are bad; the first at index {where})"
    return line


def _problems(full: Mapping[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """Cell-wise invalid mask (broadcast shape) and one message line per bad parameter."""
    shape = np.broadcast_shapes(*(v.shape for v in full.values()))
    bad_all = np.zeros(shape, dtype=bool)
    lines = []
    for name in PARAMS:
        if name not in full:
            continue
        rule, reason = _RULES[name]
        v = full[name]
        with np.errstate(invalid="ignore"):
            bad = np.asarray(rule(v))
        if bad.any():
            lines.append(_describe(name, np.broadcast_to(v, bad.shape), bad, reason))
            bad_all |= bad
    return bad_all, lines


def check_params(**params: Any) -> None:
    """Validate loop-model parameters (scalars or arrays that broadcast together).

    Parameters
    ----------
    **params
        Any of :data:`PARAMS`; names not given take :data:`DEFAULTS` (``g0`` and ``a`` are
        required).  The allowed ranges are ``g0 > 0``, ``0 <= p <= 1``, ``a >= 0``,
        ``0 < lam <= 1``, ``beta >= 0``, ``gamma >= 0``, ``ceiling > 1`` (``inf`` allowed),
        ``nu > 0``, ``delta >= 0``; NaN is never allowed and only ``ceiling`` may be infinite.

    Raises
    ------
    UnknownParameterError
        A name is not one of :data:`PARAMS`.
    ParameterValueError
        A parameter is missing, is not numeric, does not broadcast, or lies outside its range.
        The message has one line per bad parameter, naming the first bad value and how many
        values are bad.

    Examples
    --------
    >>> check_params(g0=0.7, a=1.0, p=0.9)
    >>> check_params(g0=0.7, a=1.0, p=1.3)
    Traceback (most recent call last):
    ...
    lsi.exceptions.ParameterValueError: p = 1.3 is outside [0, 1]; the automatable share ...
    """
    full = _complete(params)
    try:
        _, lines = _problems(full)
    except ValueError as exc:  # shapes do not broadcast
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in full.items())
        raise ParameterValueError(
            f"parameter arrays do not broadcast together: {shapes}; give arrays of "
            "compatible shapes"
        ) from exc
    if lines:
        raise ParameterValueError("\n".join(lines))


def _prepare(
    params: Mapping[str, Any], invalid: str, extra: Mapping[str, Any] | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Complete, broadcast and validate; return (arrays of the broadcast shape, bad mask)."""
    if invalid not in ("raise", "nan"):
        raise ParameterValueError(f"invalid = {invalid!r} is not one of 'raise', 'nan'")
    full = _complete(params)
    extra_arr = {k: _as_float_array(k, v) for k, v in (extra or {}).items()}
    try:
        shape = np.broadcast_shapes(*(v.shape for v in (*full.values(), *extra_arr.values())))
    except ValueError as exc:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in {**full, **extra_arr}.items())
        raise ParameterValueError(
            f"arrays do not broadcast together: {shapes}; give arrays of compatible shapes"
        ) from exc
    bad, lines = _problems(full)
    if lines and invalid == "raise":
        raise ParameterValueError("\n".join(lines))
    out = {k: np.broadcast_to(v, shape) for k, v in {**full, **extra_arr}.items()}
    return out, np.broadcast_to(bad, shape)


# --------------------------------------------------------------------------------------
# per-cell constants and the integrand in the y variable
# --------------------------------------------------------------------------------------


class _Loop:
    """Constants of the loop model for a 1-D batch of *valid* cells."""

    def __init__(self, g0, p, a, lam, beta, gamma, ceiling, nu, delta):
        self.g0, self.p, self.a, self.lam = g0, p, a, lam
        self.beta, self.gamma, self.nu, self.delta = beta, gamma, nu, delta
        self.n = g0.shape[0]
        self.logp = np.log(p)
        self.log1mp = np.log1p(-p)
        self.logit_p = self.logp - self.log1mp
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

    def take(self, idx: np.ndarray) -> _Loop:
        sub = object.__new__(_Loop)
        for k, v in self.__dict__.items():
            sub.__dict__[k] = v[idx] if isinstance(v, np.ndarray) else v
        sub.n = idx.shape[0] if idx.dtype != bool else int(idx.sum())
        return sub

    # -- maps between l (= x) and the regularised variable y ----------------------------
    def x_of_y(self, y: np.ndarray, i: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """x(y) and F(x(y)); y has shape (k, m) with one row per cell index in i."""
        fin = self.fin[i]
        nf = int(np.count_nonzero(fin))
        if nf == 0:
            return y, np.ones_like(y)
        if nf < fin.shape[0] and fin[:nf].all():
            # cells with a ceiling come first (the callers order them so): map those only
            x, f = y.copy(), np.ones_like(y)
            idx = np.asarray(np.arange(self.n)[i])[:nf]
            x[:nf], f[:nf] = self.x_of_y(y[:nf], idx)
            return x, f
        nu = self.nu[i][:, None]
        z = self.zeta0[i][:, None] - nu * y
        e = np.exp(-np.abs(z))
        x = self.L[i][:, None] - (np.maximum(z, 0.0) + np.log1p(e)) / nu  # L - softplus(z)/nu
        f = np.where(z >= 0, 1.0, e) / (1.0 + e)  # expit(z)
        if nf == fin.shape[0]:
            return x, f
        return np.where(fin[:, None], x, y), np.where(fin[:, None], f, 1.0)

    def y_of_x(self, x: np.ndarray, i: np.ndarray | slice) -> np.ndarray:
        """y(x) = G(x) - G(0); +inf at or above the ceiling; x has shape (k,) or (k, m)."""
        sh = (slice(None),) + (None,) * (x.ndim - 1)
        fin = self.fin[i][sh]
        L, nu = self.L[i][sh], self.nu[i][sh]
        d = nu * (L - x)
        zeta = d + np.log(-np.expm1(-d))
        y = (self.zeta0[i][sh] - zeta) / nu
        y = np.where(d > 0, y, np.inf)
        return np.where(fin, y, x)

    def psi(self, x: np.ndarray, i: np.ndarray | slice) -> np.ndarray:
        """ln h(x) = ln D(x) - ln S(x)^lam - ln g0, for x of shape (k, m)."""
        beta = self.beta[i][:, None]
        bg2 = self.bg2[i][:, None]
        p = self.p[i][:, None]
        ax = self.a[i][:, None] * x
        # ln((1-p) + p e^{-a x}): both terms >= 0, so no cancellation; exact -a x at p = 1
        s = np.log((1.0 - p) + p * np.exp(-ax))
        if (p == 1).any():
            s = np.where(p == 1, -ax, s)
        return x * (beta + bg2 * x) + self.lam[i][:, None] * s - self.logg0[i][:, None]

    def rho_x(self, x: np.ndarray, i) -> tuple[np.ndarray, np.ndarray]:
        """rho(x) and d rho / dx for x of shape (k,)."""
        la = self.lam[i] * self.a[i]
        k = _special.expit(self.logit_p[i] - self.a[i] * x)
        r = la * k - self.beta[i] * (1.0 + self.gamma[i] * x)
        dr = -la * self.a[i] * k * (1.0 - k) - 2.0 * self.bg2[i]
        return r, dr

    def initial_width(self) -> np.ndarray:
        rho0 = self.lam * self.a * self.p - self.beta
        f0 = np.where(self.fin, -np.expm1(-self.nu_f * np.where(self.fin, self.L, 1.0)), 1.0)
        scale = (
            0.25 * np.abs(rho0) * f0 + 0.5 * self.a + self.nu_f / 3 + np.sqrt(0.5 * self.bg2) + 1e-3
        )
        return 1.0 / scale


# --------------------------------------------------------------------------------------
# Chebyshev-Lobatto panels
# --------------------------------------------------------------------------------------

_N = 16  # polynomial degree of a panel (N + 1 nodes)
_RTOL = 1e-12  # accepted when the Chebyshev tail is below _RTOL x the panel's integral
_MAX_ITER = 3000  # panel attempts per chunk before the stragglers are declared failures
_FIRST_PASS = 24  # solve(): cells needing more panels are redone together after all chunks
_EPS = float(np.finfo(float).eps)
_NOISE = 64.0 * _EPS  # rounding level of the Chebyshev tail, relative to max |h| x width


def _cheb_tables(n: int):
    j = np.arange(n + 1)
    theta = np.pi * (1.0 - j / n)  # ascending nodes s_j = cos(theta_j), s_0 = -1, s_n = 1
    s = np.cos(theta)
    s[0], s[-1] = -1.0, 1.0
    k = np.arange(n + 1)
    tk = np.cos(np.outer(k, theta))
    half = np.ones(n + 1)
    half[0] = half[-1] = 0.5
    cmat = (2.0 / n) * tk * half[None, :]  # coefficients c = cmat @ f
    cmat[0] *= 0.5
    cmat[-1] *= 0.5
    mom = np.zeros(n + 1)
    mom[0::2] = 2.0 / (1.0 - k[0::2] ** 2)
    weights = mom @ cmat  # Clenshaw-Curtis weights on [-1, 1]
    tail = np.asfortranarray(cmat[-3:].T)  # (n + 1, 3): the last three coefficients
    return (s + 1.0) / 2.0, cmat.T.copy(), weights, tail


_U, _CMAT_T, _CCW, _TAIL = _cheb_tables(_N)
_KK = np.arange(_N + 2, dtype=float)


def _integration_matrix(n: int) -> np.ndarray:
    """(n+1, n+2): Chebyshev coefficients of the antiderivative that vanishes at s = -1."""
    m = np.zeros((n + 1, n + 2))
    m[0, 1] = 1.0  # int T0 = T1
    m[1, 2] = 0.25  # int T1 = T2 / 4 (+ const)
    for k in range(2, n + 1):
        m[k, k + 1] = 0.5 / (k + 1)
        m[k, k - 1] = -0.5 / (k - 1)
    sign = (-1.0) ** np.arange(n + 2)
    m[:, 0] -= m @ sign  # fix the constant so that the antiderivative is 0 at s = -1
    return m


_INT = _integration_matrix(_N)
_TNODES = np.cos(np.outer(_KK, np.pi * (1.0 - np.arange(_N + 1) / _N)))  # T_k(s_j)
_PNODES = _CMAT_T @ _INT @ _TNODES  # node values -> antiderivative at the nodes
_SNODES = 2.0 * _U - 1.0


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


_SERIES = np.hstack([_CMAT_T, _CMAT_T @ _INT, _PNODES])  # node values -> (c, b, P at nodes)


def _series(hh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For panels' node values hh (q, N+1): the Chebyshev coefficients of the interpolant
    (q, N+1), of its antiderivative from s = -1 (q, N+2), and that antiderivative at the
    nodes (q, N+1), by one matrix product."""
    cbp = _mm(hh, _SERIES)
    return cbp[:, : _N + 1], cbp[:, _N + 1 : 2 * _N + 3], cbp[:, 2 * _N + 3 :]


def _cheb_eval(c: np.ndarray, b: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Antiderivative (from -1) and value of the series (c, b) at s in [-1, 1]."""
    s = np.clip(s, -1.0, 1.0)
    t = np.empty((_N + 2, s.shape[0]))  # T_0 .. T_{N+1} by the three-term recurrence
    t[0] = 1.0
    t[1] = s
    s2 = 2.0 * s
    for k in range(2, _N + 2):
        np.multiply(s2, t[k - 1], out=t[k])
        t[k] -= t[k - 2]
    return np.einsum("ik,ki->i", b, t), np.einsum("ik,ki->i", c, t[: _N + 1])


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


def _march(
    m: _Loop,
    y_stop: np.ndarray,
    tau_stop: np.ndarray,
    yq: np.ndarray | None = None,
    tq: np.ndarray | None = None,
    rho_min: np.ndarray | None = None,
    eta_min: np.ndarray | None = None,
    max_iter: int = _MAX_ITER,
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
    out = {
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
    w = m.initial_width()
    act = np.flatnonzero((y_stop > 0) & (tau_stop > 0))
    it = 0
    while act.size and it < max_iter:
        it += 1
        ya, wa = y[act], w[act]
        yy = ya[:, None] + wa[:, None] * _U[None, :]
        xx, ff = m.x_of_y(yy, act)
        ps = m.psi(xx, act)
        hh = np.exp(ps)
        integ = 0.5 * wa * (hh @ _CCW)
        err = (
            0.5
            * wa
            * (np.abs(hh @ _TAIL[:, 0]) + np.abs(hh @ _TAIL[:, 1]) + np.abs(hh @ _TAIL[:, 2]))
        )  # matrix-vector products: a (k, 17) x (17, 3) product would start BLAS threads
        # tolerance: relative to the panel's own integral (so l stays accurate where growth
        # is fast), but never below the rounding already in tau, nor below what rounding
        # in the node values (and in the nodes y themselves, far out) lets the tail resolve
        slope = np.abs(ps[:, -1] - ps[:, 0]) / wa  # end values: a cheap, adequate estimate
        hmax = np.maximum(np.maximum(hh[:, 0], hh[:, -1]), hh[:, _N // 2])
        noise = _NOISE * 0.5 * wa * hmax * (1.0 + slope * (np.abs(ya) + wa))
        tol = np.maximum(np.maximum(_RTOL * integ, _EPS * tau[act]), noise)
        ratio = err / tol
        ratio[(err == 0) & (tol == 0)] = 0.0  # underflow: the panel adds nothing to tau
        good = np.isfinite(integ) & np.isfinite(err) & (integ >= 0)
        ok = good & (ratio <= 1.0)
        factor = np.clip(0.85 * ratio ** (-1.0 / _N), 0.2, 5.0)
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
                rb, _ = m.rho_x(xx[acc[sel_r], -1], ia[sel_r])
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
                (y[act[acc]] >= y_stop[act[acc]])
                | (tau[act[acc]] >= tau_stop[act[acc]])
                | tail_done[act[acc]]
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
    if max_iter < _MAX_ITER:
        deferred[act] = True  # the caller redoes these cells with the full budget
    else:
        fail[act] = True

    if panels.count:
        _solve_hits(m, panels, yq, tq, rho_min, eta_min, tau_yq, y_tq, out, fail)
    out.update(tau_yq=tau_yq, y_tq=y_tq, fail=fail, deferred=deferred)
    return out


def _solve_hits(m, panels, yq, tq, rho_min, eta_min, tau_yq, y_tq, out, fail) -> None:
    """Solve every query gathered by :func:`_march` inside its stored panel, in one batch."""
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
        x_cf = (m.logit_p[cell] - (np.log(ks) - np.log1p(-ks))) / m.a[cell]
        plain = (m.bg2[cell] == 0) & (ks > 0) & (ks < 1) & np.isfinite(x_cf)
        xr = np.clip(x_cf, xa, xb)
        bad = np.zeros(cell.size, dtype=bool)
        newt = np.flatnonzero(~plain)
        if newt.size:
            cn = cell[newt]

            def g_rho(x, k):
                r_, dr_ = m.rho_x(x, cn[k])
                return thr[newt[k]] - r_, -dr_

            lo, hi = xa[newt], xb[newt]
            xr[newt], bad[newt] = _bracketed_newton(
                g_rho, lo, hi, 0.5 * (lo + hi), 1e-14 * (1.0 + np.abs(hi))
            )
        yr = m.y_of_x(xr, cell)
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
            s[k3], bad[k3] = _eta_root(
                m, cell[k3], ya[k3], wa[k3], ta[k3], pc[p3], pb[p3], ppn[p3], pff[p3], thr[k3]
            )
        s = np.clip(s, -1.0, 1.0)
        part, _ = _cheb_eval(pc[pid], pb[pid], s)
        xe, _ = m.x_of_y((ya + hw * (s + 1.0))[:, None], cell)
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
    rl, _ = m.rho_x(xl, cells)
    ok = zb < np.log(1e-17 * m.nu[cells] / (np.abs(rl) + 1e-300))
    ok &= ~pend_e[cells] & ~(pend_r[cells] & (rl < rho_min[cells]))
    if not ok.any():
        return
    cells, y0, t0_ = cells[ok], yb[fin][ok], tb[fin][ok]
    hl = np.exp(m.psi(xl[ok][:, None], cells)[:, 0])
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
    j = np.clip((gn >= 0).sum(axis=1) - 1, 0, _N - 1)  # g falls through 0 in [s_j, s_j+1]
    rows = np.arange(cell.size)
    lo, hi = _SNODES[j], _SNODES[j + 1]
    g_lo, g_hi = gn[rows, j], gn[rows, j + 1]
    s0 = lo + (hi - lo) * g_lo / np.where(g_lo - g_hi > 0, g_lo - g_hi, 1.0)

    def g_eta(s, k):
        part, val = _cheb_eval(c[k], b[k], s)
        _, fv = sub.x_of_y((ya[k] + hw[k] * (s + 1.0))[:, None], k)
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
    j = np.clip((pn <= r[:, None]).sum(axis=1) - 1, 0, _N - 1)
    rows = np.arange(r.size)
    lo, hi = _SNODES[j], _SNODES[j + 1]
    p_lo, p_hi = pn[rows, j], pn[rows, j + 1]
    dp = p_hi - p_lo
    u = np.clip((r - p_lo) / np.where(dp > 0, dp, 1.0), 0.0, 1.0)
    # one Newton step on the cubic Hermite interpolant of P on the node interval (P and
    # P' = h are known at both nodes): the start is then good to ~1e-7
    ds = hi - lo
    d_lo, d_hi = hh[rows, j] * ds, hh[rows, j + 1] * ds  # dP/du at both ends
    u2, u3 = u * u, u * u * u
    herm = (
        (2 * u3 - 3 * u2 + 1) * p_lo
        + (u3 - 2 * u2 + u) * d_lo
        + (-2 * u3 + 3 * u2) * p_hi
        + (u3 - u2) * d_hi
    )
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


# --------------------------------------------------------------------------------------
# closed forms for p = 1, no ceiling, beta * gamma = 0
# --------------------------------------------------------------------------------------


def _cf_tau(x, c, g0):
    """tau(x) = (1 - e^{-c x}) / (c g0), x / g0 when c = 0."""
    with np.errstate(all="ignore"):
        v = -np.expm1(-c * x) / (c * g0)
    return np.where(c == 0, x / g0, v)


def _cf_l(tau_, c, g0):
    """Inverse of :func:`_cf_tau`; +inf at or past tau(inf) = 1/(c g0)."""
    with np.errstate(all="ignore"):
        u = c * g0 * tau_
        v = np.where(u < 1, -np.log1p(-u) / c, np.inf)
    return np.where(c == 0, tau_ * g0, v)


def _t_of_tau(tau_, t0, delta):
    """t(tau) = t0 - ln(1 - delta tau)/delta (t0 + tau when delta = 0); NaN if never."""
    with np.errstate(all="ignore"):
        d = delta * tau_
        t = np.where(delta > 0, t0 - np.log1p(-d) / np.where(delta > 0, delta, 1.0), t0 + tau_)
        return np.where((d < 1) & np.isfinite(tau_), t, np.nan)


def _tau_of_t(t, t0, delta):
    """tau at time t: (1 - e^{-delta (t - t0)})/delta, t - t0 when delta = 0; NaN if t < t0."""
    with np.errstate(all="ignore"):
        dt = t - t0
        v = np.where(delta > 0, -np.expm1(-delta * dt) / np.where(delta > 0, delta, 1.0), dt)
        return np.where(dt >= 0, v, np.nan)


# --------------------------------------------------------------------------------------
# elementwise public functions
# --------------------------------------------------------------------------------------


def kappa(l: Any, p: Any, a: Any) -> np.ndarray:  # noqa: E741 - l is ln(C/C0)
    r"""Closure of the loop, :math:`\kappa(l) = p e^{-a l} / ((1-p) + p e^{-a l})`.

    :math:`\kappa = d\ln S / d\ln m` is the share of the R&D cycle's time that the AI part
    takes; the loop is closed while :math:`\kappa \ge 1/2` (Amdahl's knee).  It equals ``p``
    at ``l = 0``, is constant when ``p`` is 0 or 1 or ``a = 0``, and otherwise falls
    strictly to 0.

    Parameters
    ----------
    l : array_like
        Log capability :math:`\ln(C/C_0)`.
    p, a : array_like
        Automatable share and research-speed elasticity; broadcast with ``l``.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> float(kappa(0.0, 0.8, 1.0))
    0.8
    >>> round(float(kappa(np.log(4.0), 0.8, 1.0)), 12)  # e^{a l} = p/(1-p): the knee
    0.5
    """
    x, p, a = (np.asarray(v, dtype=float) for v in (l, p, a))
    with np.errstate(all="ignore"):
        z = np.log(p) - np.log1p(-p) - a * x
        k = _special.expit(z)
        k = np.where(a == 0, p, k)
        k = np.where(p == 1, 1.0, np.where(p == 0, 0.0, k))
    return k


def rho(l: Any, p: Any, a: Any, lam: Any, beta: Any, gamma: Any) -> np.ndarray:  # noqa: E741
    r"""Returns to capability, :math:`\rho(l) = \lambda a \kappa(l) - \beta (1 + \gamma l)`.

    :math:`\rho = d \ln(S^\lambda / D)/dl`: positive while each doubling comes faster than
    the last (friction aside).  With ``p = 1`` it is the takeoff exponent
    :math:`\lambda a - \beta`.

    Examples
    --------
    >>> float(rho(0.0, 1.0, 1.0, 1.0, 0.4, 0.0))
    0.6
    """
    x, p, a, lam, beta, gamma = (np.asarray(v, dtype=float) for v in (l, p, a, lam, beta, gamma))
    return lam * a * kappa(x, p, a) - beta * (1.0 + gamma * x)


def _elementwise(l_like: Any, params: Mapping[str, Any], invalid: str, extra=None):
    arrs, bad = _prepare(params, invalid, {"__l": l_like, **(extra or {})})
    shape = bad.shape
    flat = {k: np.ascontiguousarray(v).reshape(-1) for k, v in arrs.items()}
    return flat, bad.reshape(-1), shape


def integrand(l: Any, *, invalid: str = "raise", **params: Any) -> np.ndarray:  # noqa: E741
    r"""The integrand :math:`d\tau/dl = D(l) / (g_0 S(l)^\lambda F(l))`.

    It is :math:`1/(dl/dt)` at :math:`E = 1`: years per unit of log capability.  It is
    ``+inf`` at and above the ceiling (:math:`F = 0`).

    Parameters
    ----------
    l : array_like
        Log capability; broadcast with the parameters.
    invalid : {"raise", "nan"}
        What to do with parameter values outside their ranges: raise
        :class:`~lsi.exceptions.ParameterValueError`, or return NaN in those cells.
    **params
        Loop-model parameters (see :data:`PARAMS`, :data:`DEFAULTS`).

    Examples
    --------
    >>> float(integrand(0.0, g0=2.0, a=1.0))
    0.5
    """
    flat, bad, shape = _elementwise(l, params, invalid)
    x = flat["__l"]
    with np.errstate(all="ignore"):
        m = _Loop(*(flat[k] for k in PARAMS))
        psi = m.psi(x[:, None], slice(None))[:, 0]
        f = np.where(m.fin, -np.expm1(m.nu * (x - m.L)), 1.0)
        out = np.where(f > 0, np.exp(psi) / f, np.inf)
    out[bad | np.isnan(x)] = np.nan
    return out.reshape(shape)


def _ceiling_first(m: _Loop, idx: np.ndarray) -> np.ndarray:
    """Order cell indices with the finite-ceiling cells first (see :meth:`_Loop.x_of_y`)."""
    return idx[np.argsort(~m.fin[idx], kind="stable")]


def _chunked(fun: Callable, n: int, *args: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fun(m_sub, *args_sub) -> (values, fail)`` over chunks of DEFAULT_CHUNK cells."""
    vals = np.full(n, np.nan)
    fail = np.zeros(n, dtype=bool)
    for i0 in range(0, n, DEFAULT_CHUNK):
        sl = slice(i0, min(n, i0 + DEFAULT_CHUNK))
        vals[sl], fail[sl] = fun(*(a[sl] for a in args))
    return vals, fail


def _tau_flat(x: np.ndarray, m: _Loop) -> tuple[np.ndarray, np.ndarray]:
    """tau(x) for valid cells (1-D); returns (tau, numerical failure mask)."""
    out = np.full(m.n, np.nan)
    fail = np.zeros(m.n, dtype=bool)
    ok = x >= 0
    cf = m.cf & ok
    out[cf] = _cf_tau(x[cf], m.c[cf], m.g0[cf])
    gen = _ceiling_first(m, np.flatnonzero(~m.cf & ok))
    if gen.size:
        sub = m.take(gen)
        yv = sub.y_of_x(x[gen], slice(None))
        res = np.full(gen.size, np.inf)
        idx = np.flatnonzero(np.isfinite(yv))

        def run(ii):
            s2 = sub.take(ii)
            r = _march(s2, yv[ii], np.full(ii.size, np.inf), yq=yv[ii][:, None])
            return r["tau_yq"][:, 0], r["fail"]

        if idx.size:
            res[idx], f = _chunked(run, idx.size, idx)
            fail[gen[idx[f]]] = True
        out[gen] = res
    return out, fail


def tau(l: Any, *, invalid: str = "raise", **params: Any) -> np.ndarray:  # noqa: E741
    r"""Friction-free time to reach a level, :math:`\tau(l) = \int_0^l D/(g_0 S^\lambda F)\,dx`.

    Computed by the regularised Chebyshev-panel quadrature described in the module
    docstring (closed form when ``p = 1``, no ceiling and ``beta * gamma = 0``).

    Parameters
    ----------
    l : array_like
        Log capability :math:`l \ge 0` (NaN for ``l < 0``: the model starts at ``l = 0``).
    invalid : {"raise", "nan"}
        Raise on parameters outside their ranges, or return NaN in those cells.
    **params
        Loop-model parameters, broadcast with ``l``.

    Returns
    -------
    numpy.ndarray
        :math:`\tau(l)`; ``+inf`` at and above the ceiling :math:`\ln K`, and for
        ``l = inf`` unless :math:`\tau(\infty)` is finite (:func:`tau_infinity`).

    Examples
    --------
    >>> float(tau(1.0, g0=0.5, a=1.0, beta=1.0))  # exponential: tau = l / g0
    2.0
    """
    flat, bad, shape = _elementwise(l, params, invalid)
    x = flat["__l"]
    with np.errstate(all="ignore"):
        out = np.full(x.shape, np.nan)
        good = np.flatnonzero(~bad & ~np.isnan(x))
        if good.size:
            m = _Loop(*(flat[k][good] for k in PARAMS))
            val, fail = _tau_flat(x[good], m)
            val[fail] = np.nan
            out[good] = val
    return out.reshape(shape)


def tau_infinity(*, invalid: str = "raise", **params: Any) -> np.ndarray:
    r""":math:`\tau(\infty)`: finite only for a finite-time singularity.

    :math:`\tau(\infty) = 1/(g_0 (\lambda a - \beta))` when ``p = 1``, ``ceiling = inf``,
    :math:`\beta\gamma = 0` and :math:`\lambda a > \beta`; ``+inf`` otherwise (with ``p < 1``
    the integrand tends to a positive constant or grows; a finite ceiling makes it diverge
    like :math:`1/(\nu(\ln K - x))`; :math:`\beta\gamma > 0` makes it grow like a Gaussian).

    Examples
    --------
    >>> float(tau_infinity(g0=1.0, a=1.0, beta=0.5))
    2.0
    """
    arrs, bad = _prepare(params, invalid)
    with np.errstate(all="ignore"):
        c = arrs["lam"] * arrs["a"] - arrs["beta"]
        sing = (
            (arrs["p"] == 1)
            & np.isinf(arrs["ceiling"])
            & (arrs["beta"] * arrs["gamma"] == 0)
            & (c > 0)
        )
        out = np.where(sing, 1.0 / (arrs["g0"] * c), np.inf)
    return np.where(bad, np.nan, out)[()]


def time_at(l: Any, t0: Any, *, invalid: str = "raise", **params: Any) -> np.ndarray:  # noqa: E741
    r"""Time at which the trajectory reaches level :math:`l`.

    .. math:: t(l) = t_0 - \ln(1 - \delta \tau(l))/\delta \quad (t_0 + \tau(l),\ \delta = 0).

    Returns
    -------
    numpy.ndarray
        ``t(l)``; **NaN** where the level is never reached in finite time: at or above the
        ceiling, at or above the friction limit (:math:`\delta\tau(l) \ge 1`), or ``l < 0``.
        For ``l = inf`` it is the singularity time where one exists, else NaN.

    Examples
    --------
    >>> float(time_at(np.log(2.0), 2020.0, g0=np.log(2.0), a=1.0, beta=1.0))
    2021.0
    """
    flat, bad, shape = _elementwise(l, params, invalid, {"__t0": t0})
    x = flat["__l"]
    with np.errstate(all="ignore"):
        out = np.full(x.shape, np.nan)
        good = np.flatnonzero(~bad & ~np.isnan(x) & np.isfinite(flat["__t0"]))
        if good.size:
            m = _Loop(*(flat[k][good] for k in PARAMS))
            val, fail = _tau_flat(x[good], m)
            val[fail] = np.nan
            out[good] = _t_of_tau(val, flat["__t0"][good], m.delta)
    return out.reshape(shape)


def lnC_at(t: Any, t0: Any, *, invalid: str = "raise", **params: Any) -> np.ndarray:
    r"""Log capability :math:`l(t) = \ln(C(t)/C_0)` (the inverse of :func:`time_at`).

    Solves :math:`\tau(l) = \int_{t_0}^t E = (1 - e^{-\delta(t-t_0)})/\delta` for :math:`l`.

    Returns
    -------
    numpy.ndarray
        ``l(t)``; ``+inf`` at and after a finite-time singularity; NaN for ``t < t0`` (the
        model starts at ``t0``).  ``t = inf`` gives the limit: the friction limit
        :math:`l_{max}` when :math:`\delta > 0`, else the ceiling :math:`\ln K` (or ``inf``).

    Examples
    --------
    >>> round(float(lnC_at(2021.0, 2020.0, g0=1.0, a=0.0)), 12)  # exponential growth
    1.0
    """
    flat, bad, shape = _elementwise(t, params, invalid, {"__t0": t0})
    tt = flat["__l"]
    with np.errstate(all="ignore"):
        out = np.full(tt.shape, np.nan)
        good = np.flatnonzero(~bad & ~np.isnan(tt) & np.isfinite(flat["__t0"]))
        if good.size:
            m = _Loop(*(flat[k][good] for k in PARAMS))
            ttau = _tau_of_t(tt[good], flat["__t0"][good], m.delta)
            val, fail = _l_of_tau_flat(ttau, m)
            val[fail] = np.nan
            out[good] = val
    return out.reshape(shape)


def _l_of_tau_flat(ttau: np.ndarray, m: _Loop) -> tuple[np.ndarray, np.ndarray]:
    """l with tau(l) = ttau for valid cells (1-D); returns (l, numerical failure mask)."""
    out = np.full(m.n, np.nan)
    fail = np.zeros(m.n, dtype=bool)
    ok = ttau >= 0
    cf = m.cf & ok
    out[cf] = _cf_l(ttau[cf], m.c[cf], m.g0[cf])
    gen = ~m.cf & ok
    lim = gen & np.isinf(ttau)
    out[lim] = np.where(m.fin, m.L, np.inf)[lim]
    idx = _ceiling_first(m, np.flatnonzero(gen & np.isfinite(ttau)))

    def run(ii):
        sub = m.take(ii)
        r = _march(sub, np.full(ii.size, np.inf), ttau[ii], tq=ttau[ii][:, None])
        xv, _ = sub.x_of_y(r["y_tq"], slice(None))
        return xv[:, 0], r["fail"]

    if idx.size:
        out[idx], f = _chunked(run, idx.size, idx)
        fail[idx[f]] = True
    return out, fail


def eta(
    l: Any,  # noqa: E741 - l is ln(C/C0), as in the design notes
    t0: Any = None,
    *,
    invalid: str = "raise",
    **params: Any,
) -> np.ndarray:
    r"""Efficiency along the trajectory at level :math:`l`: :math:`\eta = F(l)(1-\delta\tau(l))`.

    :math:`\eta = F(l) E(t(l))` and :math:`E(t(l)) = 1 - \delta \tau(l)`, so the value
    depends on the level alone; ``t0`` is accepted for symmetry with :func:`time_at` and
    does not change the result.

    Returns
    -------
    numpy.ndarray
        :math:`\eta`; NaN where the level is never reached (at or above the ceiling or the
        friction limit) or ``l < 0``.

    Examples
    --------
    >>> round(float(eta(np.log(5.0), g0=1.0, a=1.0, beta=1.0, ceiling=10.0)), 12)  # 1 - 5/10
    0.5
    """
    flat, bad, shape = _elementwise(l, params, invalid)
    x = flat["__l"]
    with np.errstate(all="ignore"):
        out = np.full(x.shape, np.nan)
        good = np.flatnonzero(~bad & ~np.isnan(x))
        if good.size:
            m = _Loop(*(flat[k][good] for k in PARAMS))
            val, fail = _tau_flat(x[good], m)
            f = np.where(m.fin, -np.expm1(m.nu * (x[good] - m.L)), 1.0)
            e = 1.0 - m.delta * val
            res = np.where((e > 0) & (f > 0) & np.isfinite(val), f * e, np.nan)
            res[fail] = np.nan
            out[good] = res
    return out.reshape(shape)


# --------------------------------------------------------------------------------------
# solve: every diagnostic for every cell, in chunks
# --------------------------------------------------------------------------------------


#: Engines of :func:`solve` (see its ``engine`` argument).
ENGINES: tuple[str, ...] = ("auto", "numpy", "numba")

#: ``engine="auto"`` uses the compiled engine from this many cells on.
JIT_MIN_CELLS = 2048


_JIT_UNAVAILABLE: list[str] = []  # why the compiled engine could not be loaded, once known


def _compiled_solver() -> Callable | None:
    """The compiled cell solver of :mod:`lsi._jit`, or None when it cannot be loaded (numba
    not installed, or unable to set up here, e.g. no writable cache directory)."""
    if _JIT_UNAVAILABLE:
        return None
    try:
        from . import _jit
    except ImportError:
        _JIT_UNAVAILABLE.append("needs numba, which is not installed; install it with pip install 'lsi[fast]'")
        return None
    except RuntimeError as exc:  # numba's own set-up errors
        _JIT_UNAVAILABLE.append(f"could not be set up ({exc})")
        return None
    return _jit.solve_valid


def resolve_engine(engine: str, size: int) -> str:
    """The engine (``"numpy"`` or ``"numba"``) that :func:`solve` runs for ``size`` cells.

    Raises :class:`ParameterValueError` for an unknown engine, or for ``"numba"`` when numba
    is not installed.
    """
    if engine not in ENGINES:
        raise ParameterValueError(f"engine = {engine!r} is not one of {', '.join(map(repr, ENGINES))}")
    if engine == "numpy":
        return "numpy"
    if _compiled_solver() is None:
        if engine == "numba":
            raise ParameterValueError(f"engine='numba' {_JIT_UNAVAILABLE[0]}; or use engine='numpy'")
        return "numpy"
    return "numpy" if engine == "auto" and size < JIT_MIN_CELLS else "numba"


def _empty_result(n: int, nm: int) -> dict[str, np.ndarray]:
    res = {k: np.full(n, np.nan) for k in _RESULT_FLOAT_KEYS}
    res["t_reach"] = np.full((n, nm), np.nan)
    res["first_failure"] = np.full(n, -1, dtype=np.int8)
    res["tied"] = np.zeros(n, dtype=bool)
    res["status"] = np.zeros(n, dtype=np.int8)
    return res


def _start_crossings(m: _Loop, kmin, rmin, emin):
    """Which diagnostics are strictly below (or at and strictly falling) at l = 0."""
    p, a = m.p, m.a
    k_dec = (p > 0) & (p < 1) & (a > 0)
    k_start = (p < kmin) | ((p == kmin) & k_dec)
    rho0 = m.lam * a * p - m.beta
    r_dec = k_dec | (m.bg2 > 0)
    r_start = (rho0 < rmin) | ((rho0 == rmin) & r_dec)
    eta0 = np.where(m.fin, -np.expm1(-m.nu_f * np.where(m.fin, m.L, 1.0)), 1.0)
    e_dec = m.fin | (m.delta > 0)
    e_start = (eta0 < emin) | ((eta0 == emin) & e_dec)
    # interior searches (the crossing, if any, lies at some l > 0)
    k_search = ~k_start & k_dec & (kmin > 0)
    kappa_inf = np.where(p == 1, 1.0, np.where(a == 0, p, 0.0))
    rho_inf = np.where(m.bg2 > 0, -np.inf, m.lam * a * kappa_inf - m.beta)
    r_search = ~r_start & r_dec & (rho_inf < rmin)
    e_search = ~e_start & e_dec & (emin > 0)
    return (k_start, r_start, e_start), (k_search, r_search, e_search)


def _solve_valid(
    m: _Loop, t0, until, kmin, rmin, emin, lm, max_iter: int = _MAX_ITER
) -> dict[str, np.ndarray]:
    """solve() for a 1-D batch of valid cells (``_deferred``: cells to redo, see _march)."""
    n, nm = m.n, lm.shape[0]
    res = _empty_result(n, nm)
    deferred = np.zeros(n, dtype=bool)
    ttarget = _tau_of_t(until, t0, m.delta)
    (k_start, r_start, e_start), (k_search, r_search, e_search) = _start_crossings(
        m, kmin, rmin, emin
    )
    # closure level in closed form (only where k_search)
    with np.errstate(all="ignore"):
        lk = np.where(
            k_search,
            np.log(m.p * (1.0 - kmin) / (kmin * (1.0 - m.p))) / m.a,
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
        l_end[cf] = _cf_l(ttarget[cf], c, g0)
        tau_m[cf] = _cf_tau(lm[None, :], c[:, None], g0[:, None])
        # closure and returns are constant here (k_search, r_search are False)
        es = e_search[cf]
        with np.errstate(all="ignore"):
            te = np.where(es & (dl > 0), (1.0 - emin[cf]) / np.where(dl > 0, dl, 1.0), np.nan)
        te = np.where(te < tinf, te, np.nan)
        tau_e[cf] = te
        l_e[cf] = _cf_l(te, c, g0)

    # ---- general cells: one march each
    gen = _ceiling_first(m, np.flatnonzero(~m.cf))
    if gen.size:
        sub = m.take(gen)
        yk = sub.y_of_x(np.nan_to_num(lk[gen], nan=0.0), slice(None))
        yk = np.where(k_search[gen], yk, np.nan)
        ym = sub.y_of_x(np.broadcast_to(lm[None, :], (gen.size, nm)).copy(), slice(None))
        yq = np.concatenate([yk[:, None], ym], axis=1)
        rmin_g = np.where(r_search[gen], rmin[gen], np.nan)
        emin_g = np.where(e_search[gen], emin[gen], np.nan)
        tt = ttarget[gen]
        r = _march(
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
        xe, _ = sub.x_of_y(r["y_tq"], slice(None))
        l_end[gen] = xe[:, 0]
        l_r[gen], tau_r[gen] = r["x_rho"], r["tau_rho"]
        l_e[gen], tau_e[gen] = r["x_eta"], r["tau_eta"]
        fail[gen] = r["fail"]

    # ---- assemble times (a crossing counts when reached at or before `until`)
    def timed(tau_x):
        sh = (slice(None),) + (None,) * (tau_x.ndim - 1)
        reach = tau_x <= ttarget[sh]
        return np.where(reach, _t_of_tau(tau_x, t0[sh], m.delta[sh]), np.nan), reach

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
    res["t_singularity"] = np.where(sing, _t_of_tau(tau_inf, t0, m.delta), np.nan)
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
        for k in _RESULT_FLOAT_KEYS:
            res[k][fail] = np.nan
        res["t_reach"][fail] = np.nan
        res["first_failure"][fail] = -1
        res["tied"][fail] = False
        res["status"][fail] = 2
    res["_deferred"] = deferred
    return res


def _solve_flat(
    cols: dict[str, np.ndarray], lm: np.ndarray, max_iter: int = _MAX_ITER, solver: Callable | None = None
) -> dict[str, np.ndarray]:
    """solve() for 1-D arrays of any cells; invalid cells are marked, never raised.

    ``solver`` solves the valid cells (:func:`_solve_valid` when None)."""
    n = cols["g0"].shape[0]
    res = _empty_result(n, lm.shape[0])
    res["_deferred"] = np.zeros(n, dtype=bool)
    with np.errstate(all="ignore"):
        bad, _ = _problems({k: cols[k] for k in PARAMS})
        t0, until = cols["t0"], cols["until"]
        bad = bad | ~np.isfinite(t0) | ~np.isfinite(until) | ~(until >= t0)
        for k in ("kappa_min", "rho_min", "eta_min"):
            bad |= np.isnan(cols[k])
        res["status"][bad] = 1
        good = np.flatnonzero(~bad)
        if good.size == 0:
            return res
        m = _Loop(*(cols[k][good] for k in PARAMS))
        try:
            sub = (solver or _solve_valid)(
                m,
                t0[good],
                until[good],
                cols["kappa_min"][good],
                cols["rho_min"][good],
                cols["eta_min"][good],
                lm,
                max_iter,
            )
        except Exception:  # noqa: BLE001 - isolate the bad cell instead of failing the call
            if good.size == 1:
                res["status"][good] = 2
                return res
            half = good.size // 2
            parts = [good[:half], good[half:]]
            for part in parts:
                sub_cols = {k: v[part] for k, v in cols.items()}
                r = _solve_flat(sub_cols, lm, max_iter, solver)
                for k, v in r.items():
                    res[k][part] = v
            return res
        for k, v in sub.items():
            res[k][good] = v
    return res


def solve(
    t0: Any,
    until: Any,
    *,
    kappa_min: Any = 0.5,
    rho_min: Any = 0.0,
    eta_min: Any = 0.5,
    multiples: Iterable[float] = (),
    chunk: int = DEFAULT_CHUNK,
    engine: str = "auto",
    **params: Any,
) -> dict[str, np.ndarray]:
    r"""Solve the loop model and its three diagnostics for every parameter cell.

    Each cell's trajectory starts at :math:`l = 0` at ``t0`` and is followed to ``until``.
    The diagnostics :math:`\kappa(l)`, :math:`\rho(l)` and :math:`\eta = F(l)E(t)` are
    non-increasing along it, so each *crosses* (goes strictly below its threshold) at most
    once; a diagnostic that is already below at ``t0``, or exactly at its threshold and
    strictly falling, crosses at ``t0`` (``l = 0``).  The closure crossing is closed form,
    :math:`l_\kappa = \ln(p(1-\kappa_{min})/(\kappa_{min}(1-p)))/a`; the others are located
    inside the quadrature panels (see the module docstring).

    Parameters
    ----------
    t0, until : array_like
        Start and end times (decimal years); ``until >= t0``, both finite.
    kappa_min, rho_min, eta_min : array_like
        Thresholds of closure, returns and efficiency (defaults 0.5, 0, 0.5).
    multiples : sequence of float
        Values of :math:`C/C_0 \ge 1` whose reaching times are reported in ``t_reach``.
    chunk : int
        Cells processed at once; the working memory is about 4 kB per cell of a chunk
        (60 MB at the default 16384), on top of the outputs (67 bytes per cell plus 8 per
        multiple) and the caller's inputs.
    engine : {"auto", "numpy", "numba"}
        Who marches the panels.  ``"numpy"``: all cells of a chunk at once in numpy (the
        reference).  ``"numba"``: the same algorithm compiled, one cell at a time on every
        CPU the process may use (:mod:`lsi._jit`; needs the ``lsi[fast]`` extra; the first
        call in a fresh install compiles it, a few seconds, cached afterwards).  ``"auto"``
        (default): numba when it is installed and the call has at least
        :data:`JIT_MIN_CELLS` cells, else numpy.  The two agree to rounding (about 1e-13).
    **params
        Loop-model parameters (:data:`PARAMS`; :data:`DEFAULTS` for those not given), all
        broadcast together with ``t0``, ``until`` and the thresholds.

    Returns
    -------
    dict of numpy.ndarray
        Over the broadcast shape:

        ``lnC_end``
            :math:`l` at ``until``; ``inf`` if a singularity comes first.
        ``t_closure``, ``t_amplification``, ``t_efficiency``
            Crossing times; NaN where there is no crossing at or before ``until``.
        ``l_closure``, ``l_amplification``, ``l_efficiency``
            ln(C/C0) at each crossing; NaN where there is none.
        ``t_singularity``
            Time of a finite-time singularity at or before ``until``, else NaN.
        ``t_reach``
            Shape ``(*shape, len(multiples))``: time at which :math:`C/C_0` reaches each
            multiple; NaN if not by ``until`` (or never).
        ``first_failure``
            int8 index into :data:`FAILURE_CODES` of the earliest crossing; 3 ("none") when
            there is none or a singularity comes first; -1 where ``status != 0``.
        ``tied``
            True when two or more crossings lie within :data:`TIE_TOLERANCE` of the first.
        ``status``
            int8 index into :data:`STATUS_CODES`: 0 ok, 1 invalid parameters (or ``t0``,
            ``until``, thresholds) in that cell, 2 numerical failure; such cells hold NaN.

    Raises
    ------
    UnknownParameterError, ParameterValueError
        Only for problems with the call itself (unknown names, missing ``g0``/``a``,
        arrays that do not broadcast, bad ``multiples``); bad *values* are marked per cell.

    Examples
    --------
    Gompertz embedding: efficiency halves at :math:`t_0 + \ln 2/g`.

    >>> r = solve(2020.0, 2030.0, g0=0.5, a=1.0, beta=1.0, delta=0.5)
    >>> round(float(r["t_efficiency"]), 9), FAILURE_CODES[int(r["first_failure"])]
    (2021.386294361, 'efficiency')
    """
    full = _complete(params)
    mult = _as_float_array("multiples", list(multiples)).reshape(-1)
    ok_mult = np.isfinite(mult) & (mult >= 1)
    if not ok_mult.all():
        raise ParameterValueError(
            f"multiples contain {float(mult[~ok_mult][0])!r}; each multiple of C0 must be a "
            "finite number >= 1"
        )
    lm = np.log(mult)
    if not isinstance(chunk, int | np.integer) or chunk < 1:
        raise ParameterValueError(f"chunk = {chunk!r} is not a positive integer")
    extra = {
        "t0": _as_float_array("t0", t0),
        "until": _as_float_array("until", until),
        "kappa_min": _as_float_array("kappa_min", kappa_min),
        "rho_min": _as_float_array("rho_min", rho_min),
        "eta_min": _as_float_array("eta_min", eta_min),
    }
    arrays = {**full, **extra}
    try:
        shape = np.broadcast_shapes(*(v.shape for v in arrays.values()))
    except ValueError as exc:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in arrays.items())
        raise ParameterValueError(
            f"arrays do not broadcast together: {shapes}; give arrays of compatible shapes"
        ) from exc
    size = int(np.prod(shape, dtype=np.int64))
    views = {k: np.broadcast_to(v, shape) for k, v in arrays.items()}
    nm = lm.shape[0]
    out = _empty_result(size, nm)
    solver = _compiled_solver() if resolve_engine(engine, size) == "numba" else None

    def run(idx: np.ndarray | slice, max_iter: int) -> np.ndarray:
        cols = {k: np.asarray(v.flat[idx], dtype=float) for k, v in views.items()}
        with np.errstate(all="ignore"):
            r = _solve_flat(cols, lm, max_iter, solver)
        deferred = r.pop("_deferred")
        for k, v in r.items():
            out[k][idx] = v
        return deferred

    if solver is not None:
        # compiled: chunks in parallel threads (the compiled solver releases the GIL, and
        # numpy does for most of its work around it), single-threaded each
        from . import _jit

        nt = min(_jit.threads(), max(1, size // JIT_MIN_CELLS))
        step = int(min(int(chunk), max(JIT_MIN_CELLS, -(-size // (4 * nt)))))
        starts = range(0, size, step)
        if nt <= 1:
            for i0 in starts:
                run(slice(i0, min(size, i0 + step)), _MAX_ITER)
        else:
            with ThreadPoolExecutor(nt) as pool:
                list(pool.map(lambda i0: run(slice(i0, min(size, i0 + step)), _MAX_ITER), starts))
    else:
        # a first pass gives each cell a few dozen panels; the few cells that need more (a
        # quasi-singular loop crossing a deep valley of the integrand) are redone together,
        # so that each chunk's march is not held up by its slowest cells
        redo = []
        for i0 in range(0, size, int(chunk)):
            sl = slice(i0, min(size, i0 + int(chunk)))
            redo.append(i0 + np.flatnonzero(run(sl, _FIRST_PASS)))
        redo_idx = np.concatenate(redo) if redo else np.zeros(0, dtype=np.intp)
        for i0 in range(0, redo_idx.size, int(chunk)):
            run(redo_idx[i0 : i0 + int(chunk)], _MAX_ITER)
    final = {k: v.reshape(shape) for k, v in out.items() if k != "t_reach"}
    final["t_reach"] = out["t_reach"].reshape(shape + (nm,))
    return final


# --------------------------------------------------------------------------------------
# reference: the ODE in (t, l) with solve_ivp and events
# --------------------------------------------------------------------------------------


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
    r"""The same results as :func:`solve` for ONE parameter set, by integrating the ODE.

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
        Thresholds, as in :func:`solve`.
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
        Same keys as :func:`solve`, with 0-d arrays (``t_reach`` has shape ``(M,)``);
        ``status`` 2 if the solver failed.

    Examples
    --------
    >>> r = solve_reference(0.0, 3.0, g0=1.0, a=1.0, beta=0.5)  # hyperbolic, t* = 2
    >>> round(float(r["t_singularity"]), 8)
    2.0
    """
    full = _complete(params)
    mult = np.asarray(list(multiples), dtype=float).reshape(-1)
    if mult.size and not np.all(np.isfinite(mult) & (mult >= 1)):
        raise ParameterValueError(
            f"multiples contain {mult.tolist()!r}; each multiple must be a finite number >= 1"
        )
    vals = {}
    for k, v in full.items():
        if v.size != 1:
            raise ParameterValueError(
                f"{k} has shape {v.shape}; solve_reference takes one parameter set (scalars)"
            )
        vals[k] = float(v.reshape(()))
    nm = mult.size
    out: dict[str, Any] = {k: math.nan for k in _RESULT_FLOAT_KEYS}
    out["t_reach"] = np.full(nm, np.nan)
    out["first_failure"] = -1
    out["tied"] = False
    out["status"] = 0

    def finish(d):
        r = {k: np.asarray(d[k], dtype=float) for k in _RESULT_FLOAT_KEYS}
        r["t_reach"] = np.asarray(d["t_reach"], dtype=float)
        r["first_failure"] = np.asarray(d["first_failure"], dtype=np.int8)
        r["tied"] = np.asarray(d["tied"], dtype=bool)
        r["status"] = np.asarray(d["status"], dtype=np.int8)
        return r

    bad, _ = _problems({k: np.asarray(v) for k, v in vals.items()})
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

        ev.direction = direction
        ev.terminal = terminal
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
        sol = _integrate.solve_ivp(
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
