"""Optax workflows: calibration against fresh Monte Carlo, constrained design."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spinjax as sj
from spinjax import tuning
from spinjax.statistics import fit_logistic
from spinjax.sweeps import PULSE_START, SweepConfig, run_trials
from spinjax.waveforms import DEFAULT_RISE_TIME

PULSE = 0.5e-9
MC = SweepConfig(relax_ns=0.5, noise="three_point")
T_READ = PULSE_START + PULSE + DEFAULT_RISE_TIME + 0.5e-9


def test_calibrated_current_is_i50_of_a_fresh_monte_carlo_sweep():
    n_cal = 256
    cal = tuning.calibrate_current(
        lambda i: sj.sot_mtj_neuron(current=sj.Pulse(i, PULSE, start=PULSE_START)),
        t_read=T_READ, current0=50e-6, n_trials=n_cal, steps=30, noise="three_point",
        dtype=jnp.float32)
    # Fresh sweep (new key) around the calibrated current: log-logistic fit of I50.
    grid = cal.value * np.array([0.7, 0.85, 1.0, 1.15, 1.3])
    n = 600
    k = run_trials(MC, 1.2e-9, PULSE, np.repeat(grid, n), np.arange(len(grid) * n),
                   jax.random.key(12345)).reshape(len(grid), n).sum(1)
    fit = fit_logistic(np.log(grid), k, np.full(len(grid), n))
    i50 = np.exp(fit["x50"])
    # The calibration's own uncertainty: its P on n_cal fixed trials is binomial,
    # se_P = 0.5 / sqrt(n_cal), i.e. se(ln I) = se_P / (dP/d ln I) = se_P * 4 * log_width.
    se_cal = 0.5 / np.sqrt(n_cal) * 4 * fit["width"]
    se = np.hypot(fit["x50_err"], se_cal)
    assert abs(np.log(cal.value / i50)) < 3 * se, (cal.value, i50, se)


def test_design_respects_constraints_and_hits_target():
    curves = [  # log-logistic fits of a default sweep (models.json of `spinjax sweep`)
        dict(thickness_nm=t, pulse_ns=p, i50_uA=i, log_width=w)
        for t, p, i, w in [(0.8, 0.2, 123.5, 0.215), (0.8, 0.5, 44.2, 0.171),
                           (0.8, 1.0, 22.2, 0.167), (1.2, 0.2, 212.9, 0.175),
                           (1.2, 0.5, 76.5, 0.142), (1.2, 1.0, 39.3, 0.126),
                           (1.5, 0.2, 282.5, 0.159), (1.5, 0.5, 102.5, 0.131),
                           (1.5, 1.0, 52.6, 0.114)]]
    model = tuning.fit_switching_model(curves)
    for c in curves:  # the physics-feature model reproduces the sweep within 10 %
        system = sj.sot_mtj_neuron(thickness=c["thickness_nm"] * 1e-9)
        assert float(model.i50(system, c["pulse_ns"] * 1e-9)) == pytest.approx(
            c["i50_uA"] * 1e-6, rel=0.10)
    design = tuning.design_neuron(model, target_i50=60e-6, max_log_width=0.15,
                                  delta_floor=25.0, thickness_bounds=(0.8e-9, 1.6e-9),
                                  pulse_bounds=(0.2e-9, 1.5e-9), steps=300)
    assert design.delta >= 25.0 - 1e-6
    assert 0.8e-9 <= design.thickness <= 1.6e-9 and 0.2e-9 <= design.pulse_width <= 1.5e-9
    assert design.i50 == pytest.approx(60e-6, rel=0.02)
    assert design.log_width <= 0.15 + 0.005
    assert design.history[-1]["loss"] < design.history[0]["loss"]
