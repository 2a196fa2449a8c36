"""Binomial statistics and switching-curve fits for Monte Carlo sweeps."""

import math

import numpy as np


def wilson_interval(n_success, n_trials, confidence: float = 0.95):
    """Wilson score interval for a binomial proportion.

    **Arguments:** counts (arrays broadcast), `confidence` in (0, 1).

    **Returns:** `(low, high)` arrays in [0, 1]. Unlike the normal approximation it stays inside
    [0, 1] and keeps its coverage at p near 0 or 1, where switching curves spend most points.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence = {confidence} is outside the allowed range (0, 1)")
    k = np.asarray(n_success, float)
    n = np.asarray(n_trials, float)
    if np.any(n <= 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= n_success <= n_trials and n_trials > 0")
    z = _normal_quantile(0.5 + confidence / 2.0)
    p = k / n
    denom = 1.0 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _normal_quantile(q: float) -> float:
    # Inverse of the standard normal CDF by bisection on math.erf (no scipy needed).
    lo, hi = -10.0, 10.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def fit_logistic(x, n_success, n_trials):
    """Maximum-likelihood fit of P(x) = 1 / (1 + exp(-(x - x50) / width)) to binomial counts.

    Newton's method on the binomial log-likelihood in (x50, log width), started from the
    moment estimate. The covariance is the inverse observed Fisher information.

    **Returns:** dict with `x50`, `width`, their standard errors `x50_err`, `width_err`,
    `deviance` and `dof` (goodness of fit: deviance ~ chi^2 with dof degrees of freedom).
    """
    x = np.asarray(x, float)
    k = np.asarray(n_success, float)
    n = np.asarray(n_trials, float)
    if x.shape != k.shape or x.shape != n.shape or x.ndim != 1:
        raise ValueError("x, n_success and n_trials must be 1-D arrays of equal length")
    p_hat = k / n
    if not (np.any(p_hat < 0.5) and np.any(p_hat > 0.5)):
        raise ValueError("the data never cross P = 0.5: extend the grid to fit a switching curve")
    scale = max(np.ptp(x), 1e-300)
    xs = (x - x.min()) / scale  # fit in [0, 1] for conditioning
    mid = np.interp(0.5, *zip(*sorted(zip(p_hat, xs))))
    theta = np.array([mid, math.log(0.1)])

    def nll_grad_hess(th):
        c, logw = th
        w = math.exp(logw)
        z = (xs - c) / w
        p = 1.0 / (1.0 + np.exp(-z))
        p = np.clip(p, 1e-15, 1 - 1e-15)
        nll = -np.sum(k * np.log(p) + (n - k) * np.log1p(-p))
        r = k - n * p  # d loglik / dz
        dz = np.stack([-np.ones_like(z) / w, -z])  # dz/dc, dz/dlogw
        grad = -dz @ r
        info = (dz * (n * p * (1 - p))) @ dz.T
        return nll, grad, info

    nll, grad, info = nll_grad_hess(theta)
    for _ in range(100):
        step = np.linalg.solve(info + 1e-12 * np.eye(2), grad)
        t = 1.0
        while t > 1e-8:
            trial = theta - t * step
            new = nll_grad_hess(trial)
            if new[0] <= nll:
                break
            t *= 0.5
        theta, (nll, grad, info) = trial, new
        if np.max(np.abs(t * step)) < 1e-12:
            break
    cov = np.linalg.inv(info)
    w = math.exp(theta[1])
    p = 1.0 / (1.0 + np.exp(-(xs - theta[0]) / w))
    with np.errstate(divide="ignore", invalid="ignore"):
        dev_terms = np.where(k > 0, k * np.log(k / (n * p)), 0.0) + np.where(
            n - k > 0, (n - k) * np.log((n - k) / (n * (1 - p))), 0.0)
    return {
        "x50": float(x.min() + theta[0] * scale),
        "width": float(w * scale),
        "x50_err": float(math.sqrt(cov[0, 0]) * scale),
        "width_err": float(w * math.sqrt(cov[1, 1]) * scale),
        "deviance": float(2 * np.sum(dev_terms)),
        "dof": int(len(x) - 2),
    }
