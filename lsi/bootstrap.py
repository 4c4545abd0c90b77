"""The case-resampling bootstrap over refits: :func:`bootstrap` and :class:`Bootstrap`.

Every model of a fitted collection is refitted to copies of the series resampled with
replacement: independent cases (``scheme="case"``, the default), or contiguous runs of
observations in time order (``scheme="block"``, the moving-block bootstrap, which keeps the
dependence between neighbouring residuals that case resampling destroys).  A refit starts
from the original fit (a warm start) and is solved, and verified to be at a minimum, by the
same least-squares machinery as the fit itself (:mod:`lsi.leastsq`); a warm start that stops
away from a minimum falls back to the model's cold starts (:attr:`Bootstrap.fallback` records
where).  Models whose objective has several local optima (``multimodal``: the break date of
the breakpoint model) are also refitted from their own global starts.  The resampling is drawn
up front and the work is spread over spawn-safe worker processes (:mod:`lsi.workers`), so a
seed and a process count give the same replicates every time.

Use it through :meth:`lsi.results.FitCollection.bootstrap`, which keeps the replicates on the
collection so that every later analysis shares them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import leastsq, selection
from .exceptions import ParameterValueError, SeriesError, check_seed

if TYPE_CHECKING:  # pragma: no cover
    from .results import FitCollection, FitResult
    from .workers import Job

__all__ = ["Bootstrap", "bootstrap", "moving_blocks"]


@dataclass(frozen=True)
class Bootstrap:
    """Refits of every model of a collection to resampled data.

    Attributes
    ----------
    models : list of str
    theta : dict of str -> ndarray, shape (n, k)
        Parameter vectors of each model in each replicate (``param_specs`` order).
    aicc : ndarray, shape (n, n_models)
        AICc of each model in each replicate (inf where a refit failed).
    converged : ndarray of bool, shape (n, n_models)
    indices : ndarray, shape (n, n_points)
        The resampled observation indices of each replicate.
    seed : int or None
    scheme : {"case", "block"}
        How the observations were resampled.
    block_length : int or None
        Length of the moving blocks (``scheme="block"``).
    fallback : ndarray of bool, shape (n, n_models)
        Where the warm start stopped away from a minimum and the model's cold starts were
        needed (every refit is verified; :func:`lsi.leastsq.solve`).
    """

    models: list[str]
    theta: dict[str, np.ndarray]
    aicc: np.ndarray
    converged: np.ndarray
    indices: np.ndarray
    seed: int | None
    scheme: str = "case"
    block_length: int | None = None
    fallback: np.ndarray | None = None

    def fallback_share(self) -> dict[str, float]:
        """Per model, the share of its converged refits that needed the cold starts."""
        if self.fallback is None:
            return {}
        out = {}
        for j, m in enumerate(self.models):
            c = self.converged[:, j]
            out[m] = float(np.mean(self.fallback[c, j])) if c.any() else math.nan
        return out

    @property
    def n(self) -> int:
        return int(self.aicc.shape[0])

    @property
    def best(self) -> np.ndarray:
        """Index (into ``models``) of the lowest-AICc converged model in each replicate; -1 if none."""
        a = np.where(self.converged, self.aicc, np.inf)
        b = np.argmin(a, axis=1)
        return np.where(np.isfinite(a[np.arange(a.shape[0]), b]), b, -1)

    def selection_probabilities(self) -> dict[str, float]:
        """Fraction of replicates in which each model has the lowest AICc."""
        b = self.best
        ok = b >= 0
        return {m: float(np.mean(b[ok] == i)) if ok.any() else math.nan for i, m in enumerate(self.models)}


#: bootstrap replicates of every command and function by default (report, figures, forecasts):
#: the Monte Carlo standard error of a probability is then at most 0.029, and the report prints it
DEFAULT_N = 300


def bootstrap(
    fits: FitCollection,
    n: int = DEFAULT_N,
    *,
    seed: int | None = 0,
    progress: bool | None = None,
    processes: int | None = None,
    global_starts: bool = True,
    scheme: str = "case",
    block_length: int | None = None,
) -> Bootstrap:
    """Case-resampling bootstrap: resample the observations with replacement, refit every model.

    Each refit starts from the original fit (a warm start) with the model's analytic
    Jacobian, so a replicate costs a fraction of a cold fit; a refit that fails from the
    warm start is retried from the model's own guess.  A model that did not converge on
    the data itself carries no weight and is not refit (its replicates are recorded as
    not converged).  Fixed parameters stay fixed; an extra scatter estimated on the
    original data is kept at its value.

    Parameters
    ----------
    fits : FitCollection
    n : int
        Number of replicates.
    seed : int, optional
        Seed of the resampling (reproducible by default).
    progress : bool, optional
        Show progress (default: only on a terminal).
    processes : int, optional
        Worker processes (default: two on a multi-core POSIX machine for n >= 200,
        else one).  Results do not depend on it: the resampling is drawn up front.
    global_starts : bool
        For models whose objective has several local optima (``multimodal = True``: the
        break date of the breakpoint model), also refit each replicate from the model's
        own global starts when they promise a better optimum, keeping the better fit.
        Warm starts alone stay stuck in the original basin in about a third of the METR
        replicates.
    scheme : {"case", "block"}
        ``"case"``: resample single observations independently (right when the residuals
        are independent).  ``"block"``: the moving-block bootstrap; each replicate joins
        blocks of ``block_length`` consecutive observations (in time order), started at
        uniformly drawn positions, cut to the series' length (for residuals that are
        autocorrelated; :mod:`lsi.dependence` chooses the length from the data).
    block_length : int, optional
        Length of the blocks for ``scheme="block"`` (default: the cube root of the number
        of points, rounded); between 1 (case resampling) and the number of points.
    """
    from . import workers
    from .progress import Progress

    job = plan(fits, n, seed=seed, global_starts=global_starts, scheme=scheme, block_length=block_length)
    procs = workers.default_processes(n) if processes is None else max(1, int(processes))
    units = list(job.units or [])
    with Progress(n, "bootstrap", enabled=progress) as bar:
        parts = workers.run(job.task, job.shared, job.items, processes=procs, progress=lambda i: bar.update(units[i]))
    return job.finish(parts)


def plan(
    fits: FitCollection,
    n: int = DEFAULT_N,
    *,
    seed: int | None = 0,
    global_starts: bool = True,
    scheme: str = "case",
    block_length: int | None = None,
) -> Job:
    """The bootstrap of :func:`bootstrap` as a :class:`lsi.workers.Job` (the resampling drawn, the
    refits not yet made), to run beside other work in one pool (:func:`lsi.workers.run_jobs`)."""
    from .workers import Job

    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ParameterValueError(f"n = {n!r} bootstrap replicates; give a whole number of at least 1")
    series = fits.series
    names = [r.name for r in fits.values()]
    check_seed(seed)
    rng = np.random.default_rng(seed)
    npts = len(series)
    if scheme == "case":
        block_length = None
        idx = np.sort(rng.integers(0, npts, size=(n, npts)), axis=1)
    elif scheme == "block":
        block_length = max(1, round(npts ** (1 / 3))) if block_length is None else int(block_length)
        if not 1 <= block_length <= npts:
            raise ParameterValueError(f"block_length = {block_length}; give a length between 1 and {npts} (the points)")
        idx = np.sort(moving_blocks(rng, n, npts, block_length), axis=1)
    else:
        raise ParameterValueError(f"scheme = {scheme!r}; choose 'case' or 'block'")
    chunks = np.array_split(idx, max(1, -(-n // _CHUNK)))

    def finish(parts: list[Any]) -> Bootstrap:
        theta = {k: np.concatenate([p[0][k] for p in parts]) for k in names}
        aicc = np.concatenate([p[1] for p in parts])
        conv = np.concatenate([p[2] for p in parts])
        fell = np.concatenate([p[3] for p in parts])
        return Bootstrap(names, theta, aicc, conv, idx, seed, scheme, block_length, fell)

    return Job(_refit_task, (fits, global_starts), chunks, finish, units=[len(c) for c in chunks], name="bootstrap")


def moving_blocks(rng: np.random.Generator, n: int, npts: int, length: int) -> np.ndarray:
    """Indices of ``n`` moving-block resamples of ``npts`` points in time order: blocks of
    ``length`` consecutive indices, each started uniformly in ``0 .. npts - length``, joined
    and cut to ``npts`` (shape ``(n, npts)``)."""
    k = -(-npts // length)
    starts = rng.integers(0, npts - length + 1, size=(n, k))
    return (starts[:, :, None] + np.arange(length)).reshape(n, k * length)[:, :npts]


#: replicates per unit of work handed to a process
_CHUNK = 25


@dataclass(frozen=True)
class _Refit:
    """What a bootstrap replicate keeps of a refit."""

    theta: np.ndarray
    aicc: float
    converged: bool
    fallback: bool = False  # the warm start failed verification and the cold starts were used


def refit(
    r: FitResult,
    lay: leastsq.Layout,
    tau: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    sig: np.ndarray | None,
    log_jacobian: float,
    starts: list[dict[str, float]] | None,
    extra_params: int,
) -> _Refit:
    """Refit ``r``'s model to data ``y`` (``z`` in the noise model's space) at ``tau`` (one
    replicate): its parameters and AICc."""
    model = r.model
    n = tau.size
    k_total = int(lay.free.size) + (0 if sig is not None else 1) + extra_params
    if n < k_total + 2:
        raise SeriesError(f"{model.name} needs at least {k_total + 2} points; the replicate has {n}")
    cap = np.exp(z) if r.noise.uses_log_capability else y
    with np.errstate(all="ignore"):
        cold = model.guess(tau, cap) if np.all(cap > 0) else model.guess(tau, np.clip(cap, 1e-12, None))
    w = np.ones(n) if sig is None else 1.0 / sig
    # a warm start that stops away from a minimum, or runs to a limit, is checked against the
    # model's best cold start (on METR and Moore that start alone finds every better optimum)
    sol = leastsq.solve(
        model,
        lay,
        tau,
        z,
        w,
        r.noise.uses_log_capability,
        cold if starts is None else starts,
        fallback=cold if starts is None else cold[:1],
    )
    theta = sol.theta
    ll = selection.gaussian_loglik(sol.rss, n, sig, log_jacobian)
    ok = sol.converged and bool(np.all(np.isfinite(theta))) and bool(np.all(np.abs(theta[lay.free]) < 1e100))
    return _Refit(theta, selection.aicc(ll, k_total, n) + 2 * model.extra_penalty, ok, sol.fallback)


def _global_refit(r: FitResult, rb: _Refit, lay, tau, y, z, sig, log_jacobian, extra) -> _Refit:
    """For a model whose objective has several local optima (``multimodal``, e.g. the break date
    of the breakpoint model), refit a replicate from the model's own global starts unless the
    model's scan of those starts shows the warm-started optimum is already best."""
    model = r.model
    if rb.converged and r.noise.uses_log_capability and np.all(np.isfinite(rb.theta)):
        w = np.ones_like(z) if sig is None else 1.0 / sig
        with np.errstate(all="ignore"):
            rss = float(np.sum((w * (z - model.lnC_theta(tau, rb.theta))) ** 2))
            scanned = model.scan(tau, z, w)
        if scanned is not None:
            best = float(np.min(scanned))
            if np.isfinite(rss) and best >= rss * (1 - 1e-9) - 1e-12:
                return rb
    cap = np.exp(z) if r.noise.uses_log_capability else np.clip(y, 1e-300, None)
    with np.errstate(all="ignore"):
        starts = model.guess(tau, cap)
    if np.all(np.isfinite(rb.theta)):
        starts = starts + [dict(zip(model.param_names, rb.theta, strict=True))]
    g = refit(r, lay, tau, y, z, sig, log_jacobian, starts, extra)
    return g if g.converged and (not rb.converged or g.aicc < rb.aicc) else rb


def _refit_task(shared: tuple[FitCollection, bool], idx: np.ndarray):
    """Refit every model to the replicates ``idx`` (rows of resampled indices)."""
    fits, global_starts = shared
    series, noise = fits.series, fits.noise
    results = list(fits.values())
    n = idx.shape[0]
    z_all = noise.transform(series.y)
    sig_all = noise.point_sigma(series)
    theta = {r.name: np.full((n, len(r.model.param_specs)), np.nan) for r in results}
    aicc = np.full((n, len(results)), np.inf)
    conv = np.zeros((n, len(results)), dtype=bool)
    fell = np.zeros((n, len(results)), dtype=bool)
    setups: list[tuple[FitResult, Any, list[dict[str, float]]]] = []
    for r in results:
        fixed = {
            k: {"value": float(v), "vary": False}
            for k, v, vary in zip(r.model.param_names, r.theta, r.vary, strict=True)
            if not vary
        }
        warm = [dict(zip(r.model.param_names, r.theta, strict=True))]
        setups.append((r, leastsq.layout(r.model, fixed), warm))
    for b in range(n):
        ii = idx[b]
        tau_all = series.t[ii]
        y = series.y[ii]
        z = z_all[ii]
        log_jac = noise.log_jacobian(y)
        for j, (r, lay, warm) in enumerate(setups):
            if not r.converged:  # no weight on the data: its replicates are not refit
                continue
            tau = tau_all - r.t0
            sig = None
            extra = 0
            if sig_all is not None:
                sig = sig_all[ii]
                if r.extra_scatter:
                    sig = np.sqrt(sig**2 + r.extra_scatter**2)
                extra = 1 if r.extra_scatter is not None else 0
            try:
                rb = refit(r, lay, tau, y, z, sig, log_jac, warm, extra)
                if global_starts and r.model.multimodal:
                    rb = _global_refit(r, rb, lay, tau, y, z, sig, log_jac, extra)
            except (SeriesError, ParameterValueError, ArithmeticError, ValueError):
                continue  # this model's refit failed: recorded as not converged
            theta[r.name][b] = rb.theta
            aicc[b, j] = rb.aicc
            conv[b, j] = rb.converged
            fell[b, j] = rb.fallback
    return theta, aicc, conv, fell
