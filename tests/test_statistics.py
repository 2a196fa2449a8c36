import numpy as np
import pytest

from spinjax.statistics import fit_logistic, wilson_interval


def test_wilson_interval_reference_values():
    # Reference values: Wilson (1927) score interval, z = 1.959964.
    lo, hi = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    np.testing.assert_allclose(lo, [0.0, 0.236593, 0.722467], atol=1e-6)
    np.testing.assert_allclose(hi, [0.277533, 0.763407, 1.0], atol=1e-6)


def test_wilson_interval_coverage():
    # Coverage of nominal 95 % intervals at p = 0.1, n = 200, over 4000 replicates: the
    # standard error of the coverage estimate is 0.0034, so [0.93, 0.97] is > 5 sigma wide.
    rng = np.random.default_rng(1)
    k = rng.binomial(200, 0.1, size=4000)
    lo, hi = wilson_interval(k, np.full_like(k, 200))
    coverage = np.mean((lo <= 0.1) & (0.1 <= hi))
    assert 0.93 < coverage < 0.97


def test_logistic_fit_recovers_parameters_within_errors():
    rng = np.random.default_rng(0)
    x = np.linspace(20.0, 120.0, 16)
    n = np.full(x.shape, 500)
    pulls = []
    for _ in range(20):
        k = rng.binomial(n, 1 / (1 + np.exp(-(x - 70.0) / 9.0)))
        fit = fit_logistic(x, k, n)
        pulls.append([(fit["x50"] - 70.0) / fit["x50_err"], (fit["width"] - 9.0) / fit["width_err"]])
    pulls = np.asarray(pulls)
    # Pulls of a correct ML fit are ~N(0, 1): every |pull| < 4 and the spread is near 1.
    assert np.all(np.abs(pulls) < 4)
    assert 0.6 < pulls.std(axis=0).min() and pulls.std(axis=0).max() < 1.5


def test_fit_and_interval_reject_bad_input():
    with pytest.raises(ValueError, match="never cross P = 0.5"):
        fit_logistic(np.arange(3.0), np.zeros(3), np.full(3, 10))
    with pytest.raises(ValueError, match="n_success <= n_trials"):
        wilson_interval(np.array([11]), np.array([10]))
    with pytest.raises(ValueError, match="confidence = 1.5"):
        wilson_interval(1, 2, confidence=1.5)
