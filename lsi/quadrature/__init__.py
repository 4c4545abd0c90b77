r"""The separable loop model, solved by vectorised quadrature.

The loop model (docs/mathematics.md, "The loop model") is one ODE for :math:`l = \ln(C/C_0)`,

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
at once, and the same march compiled with numba and run cell by cell on every core (the
``lsi[fast]`` extra; about 2.5-3x faster on random cells).  They agree to rounding.

The independent check is :func:`solve_reference`, which integrates the ODE in :math:`(t, l)`
with :func:`scipy.integrate.solve_ivp` and events.

Layout
------
One module per job; each imports only from the ones above it in this list.

* :mod:`lsi.loopmath` (outside the package): the factors and diagnostics, written once;
* :mod:`.validation`: parameter names, defaults, ranges and the checks;
* :mod:`.cells`: the validated parameter record both engines read (per-cell constants);
* :mod:`.panels`: the Chebyshev tables and constants both engines march with;
* :mod:`.maps`: the regularising variable and the closed forms, shared by both engines;
* :mod:`.output`: the result's keys and legends;
* :mod:`.engines`: what an engine is (the protocol ``solve()`` calls);
* :mod:`.march` and :mod:`.numpy_engine`: the numpy engine (the reference);
* :mod:`.numba_engine`: the compiled engine, loaded only when it is chosen;
* :mod:`.elementwise`: ``tau``, ``time_at``, ``lnC_at``, ``eta``, ``integrand``, ``kappa``, ``rho``;
* :mod:`.driver`: ``solve()``, engine selection, chunks and failure isolation;
* :mod:`.reference`: ``solve_reference`` (scipy's ``solve_ivp``, imported when first called).

Examples
--------
>>> import numpy as np
>>> from lsi import quadrature as q
>>> r = q.solve(2025.0, 2035.0, g0=0.7, p=[0.9, 0.99, 1.0], a=1.0, beta=0.3, ceiling=1e6)
>>> [q.FAILURE_CODES[i] for i in r["first_failure"]]
['closure', 'closure', 'efficiency']
"""

from __future__ import annotations

from .driver import resolve_engine, solve
from .elementwise import eta, integrand, kappa, lnC_at, rho, tau, tau_infinity, time_at
from .engines import ENGINES, JIT_MIN_CELLS
from .output import FAILURE_CODES, STATUS_CODES, TIE_TOLERANCE
from .reference import solve_reference
from .validation import DEFAULTS, PARAMS, check_params

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
