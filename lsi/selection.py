"""Model comparison: log-likelihood, AICc, BIC, Akaike weights, stacking weights, identifiability."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["gaussian_loglik", "aicc", "bic", "akaike_weights", "stacking_weights", "identifiability"]


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
    [0.874, 0.126]
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
