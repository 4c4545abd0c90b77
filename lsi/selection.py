"""Model comparison: log-likelihood, AICc, BIC, Akaike weights, stacking weights, identifiability."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "gaussian_loglik",
    "aicc",
    "bic",
    "akaike_weights",
    "stacking_weights",
    "weights_before",
    "identifiability",
    "STACKING_PRIOR",
    "MIN_STACKING_PAIRS",
]

#: the stacking weights' Dirichlet prior, in past origins' worth of evidence spread evenly over
#: the components (:func:`weights_before`)
STACKING_PRIOR = 1.0
#: fewest earlier pairs from which stacking weights are fitted (fewer: equal weights)
MIN_STACKING_PAIRS = 3


def gaussian_loglik(rss: float, n: int, sigma: np.ndarray | None, log_jacobian: float = 0.0) -> float:
    """Gaussian log-likelihood of the residuals.

    With per-point ``sigma`` (whitened residuals, ``rss`` = chi-square) the noise
    scale is known; without it the maximum-likelihood variance ``rss / n`` is used.
    ``log_jacobian`` turns the density of the transformed data into that of the data.
    """
    if sigma is not None:
        ll = -0.5 * rss - float(np.sum(np.log(sigma))) - 0.5 * n * math.log(2 * math.pi)
    else:
        if rss <= 0:
            return math.inf
        ll = -0.5 * n * (math.log(2 * math.pi * rss / n) + 1.0)
    return ll + log_jacobian


def aicc(loglik: float, k: int, n: int) -> float:
    """Akaike information criterion with the small-sample correction (inf when n <= k + 1)."""
    if n - k - 1 <= 0:
        return math.inf
    return -2 * loglik + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def bic(loglik: float, k: int, n: int) -> float:
    """Bayesian information criterion."""
    return -2 * loglik + k * math.log(n)


def akaike_weights(scores: np.ndarray) -> np.ndarray:
    """exp(-delta/2) normalised; non-finite scores get weight 0."""
    scores = np.asarray(scores, dtype=float)
    w = np.zeros_like(scores)
    ok = np.isfinite(scores)
    if not ok.any():
        return w
    d = scores[ok] - scores[ok].min()
    e = np.exp(-0.5 * d)
    w[ok] = e / e.sum()
    return w


def stacking_weights(
    log_density: np.ndarray,
    groups: np.ndarray | None = None,
    *,
    prior: float = 0.0,
    tol: float = 1e-10,
    max_iter: int = 10000,
) -> np.ndarray:
    """Weights of the mixture of fixed predictive densities that maximise its log score.

    ``log_density[i, k]`` is the log predictive density component ``k`` gave observation
    ``i`` before seeing it (leave-future-out); the weights maximise
    ``sum_i c_i log(sum_k w_k exp(log_density[i, k])) + (prior / K) sum_k log w_k`` over the
    simplex: stacking of predictive distributions (Yao, Vehtari, Simpson and Gelman 2018),
    with ``c_i = 1`` or, given ``groups``, ``1 / (size of i's group)`` (each group, such as
    the points forecast from one origin, counts once), and a symmetric Dirichlet prior worth
    ``prior`` groups spread evenly over the ``K`` components (0: none).  The problem is
    concave, and the fixed-point iteration of a mixture's weights (EM with the components
    held), ``w_k <- (sum_i c_i r_ik + prior / K) / (sum_i c_i + prior)`` with
    ``r_ik = w_k p_ik / sum_j w_j p_ij``, climbs to its maximum from equal weights; it stops
    when no weight moves by more than ``tol``.  A component with a NaN or ``+inf`` log
    density at any observation (not defined there) gets weight 0; with no observation, or
    none usable, the weights are equal.

    Examples
    --------
    Two components, the first far better on every observation:

    >>> lp = np.log(np.array([[0.4, 0.01], [0.3, 0.02], [0.5, 0.01]]))
    >>> [round(float(w), 3) for w in stacking_weights(lp)]
    [1.0, 0.0]
    >>> [round(float(w), 3) for w in stacking_weights(lp, prior=1.0)]
    [0.871, 0.129]
    """
    lp = np.asarray(log_density, dtype=float)
    if lp.ndim != 2:
        raise ValueError("log_density must be (observations, components)")
    k = lp.shape[1]
    w = np.zeros(k)
    if k == 0:
        return w
    usable = ~np.any(np.isnan(lp) | np.isposinf(lp), axis=0)
    if lp.shape[0] == 0 or not usable.any():
        return np.full(k, 1.0 / k)
    x = lp[:, usable]
    if groups is None:
        c = np.ones(x.shape[0])
    else:
        _, inv, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
        c = 1.0 / counts[inv]
    # each observation scaled by its best component: exp() cannot underflow to all zeros
    top = np.max(x, axis=1, keepdims=True)
    rows = np.isfinite(top[:, 0])
    if not rows.any():
        w[usable] = 1.0 / usable.sum()
        return w
    p = np.exp(x[rows] - top[rows])
    c = c[rows]
    m = p.shape[1]
    v = np.full(m, 1.0 / m)
    for _ in range(max_iter):
        r = p * v
        r /= r.sum(axis=1, keepdims=True)
        new = (c @ r + prior / m) / (c.sum() + prior)
        done = float(np.max(np.abs(new - v))) <= tol
        v = new
        if done:
            break
    w[usable] = v / v.sum()
    return w


def weights_before(
    scored: Sequence[tuple[float, float, Mapping[str, float]]], names: Sequence[str], before: float
) -> dict[str, float]:
    """Stacking weights of the components ``names`` for a forecast from ``before``.

    ``scored`` holds ``(origin, time, {component: log predictive density})`` for every pair
    scored so far; the weights come from the pairs forecast from origins before ``before`` of
    points observed by then (leave-future-out), by :func:`stacking_weights` with each origin
    counting once and the prior :data:`STACKING_PRIOR`.  A component not scored at some of
    those pairs (a model an early origin left too few points for) leaves them out; while fewer
    than :data:`MIN_STACKING_PAIRS` pairs are left, the component missing from the most
    pairs is dropped (weight 0).  With fewer pairs than that in all, the weights are equal.

    Examples
    --------
    >>> scored = [(1.0, 2.0, {"a": -1.0, "b": -3.0}), (1.0, 3.0, {"a": -1.0, "b": -3.0}),
    ...           (2.0, 3.0, {"a": -1.0, "b": -3.0}), (3.0, 4.0, {"a": -9.0, "b": -1.0})]
    >>> {k: round(v, 2) for k, v in weights_before(scored, ["a", "b"], 3.5).items()}
    {'a': 0.81, 'b': 0.19}
    >>> weights_before(scored, ["a", "b"], 2.0)  # one earlier pair: too few
    {'a': 0.5, 'b': 0.5}
    """
    every = list(names)
    names = list(names)
    past = [(o, lp) for o, t, lp in scored if o < before and t <= before]
    rows: list[tuple[float, list[float]]] = []
    while names:
        rows = [(o, [lp[k] for k in names]) for o, lp in past if all(k in lp for k in names)]
        if len(rows) >= MIN_STACKING_PAIRS or len(names) == 1:
            break
        names.remove(max(names, key=lambda k: sum(k not in lp for _, lp in past)))
    if len(rows) < MIN_STACKING_PAIRS:
        return {k: 1.0 / len(every) for k in every}
    w = stacking_weights(
        np.array([r for _, r in rows], dtype=float), np.array([o for o, _ in rows]), prior=STACKING_PRIOR
    )
    out = dict.fromkeys(every, 0.0)
    out.update(zip(names, w.tolist(), strict=True))
    return out


def identifiability(
    names: list[str],
    values: np.ndarray,
    cov: np.ndarray | None,
    at_bound: list[str],
    max_corr: float = 0.9999,
) -> list[str]:
    """Reasons the parameters are not identifiable (empty when they are).

    Flags a singular or non-finite covariance, a correlation above ``max_corr`` in
    absolute value, and parameters that ended on a bound of their range.
    """
    issues: list[str] = []
    for name in at_bound:
        issues.append(f"{name} ran to an end of its range (the data prefer a limiting case)")
    if cov is None or not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        issues.append("the covariance matrix is singular")
        return issues
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    for i, j in zip(*np.nonzero(np.triu(np.abs(corr) > max_corr, k=1)), strict=True):
        issues.append(f"corr({names[i]}, {names[j]}) = {corr[i, j]:+.4f}")
    return issues
