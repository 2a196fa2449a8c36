"""The SOT-MTJ neuron device family surrogate (physics.md 5a): shipped calibration, physics
trends, gradients for device-network co-optimisation, input checks, one fresh sLLG check.

Statistical tolerances: counts are binomial; margins are chosen so that a correct model fails
with probability < 1e-4 (>= 4 standard errors, or the 3-sigma Wilson interval widened by the
family's stated error) at the stated trial numbers.
"""

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spinjax.devices import (FamilyCalibration, SOTMTJNeuron, SOTNeuronFamily, agreement,
                             fit_family)

CAL = FamilyCalibration.load_default()
FAMILY = SOTNeuronFamily.load_default()


def test_shipped_family_reproduces_its_calibration_points():
    fam = CAL.family
    assert eqx.tree_equal(fam, FAMILY)
    # The calibrated box is the 5a design space (0.8-1.5 nm, 0.2-1 ns) at 300 K.
    np.testing.assert_allclose(fam.thickness_range, (0.8e-9, 1.5e-9))
    np.testing.assert_allclose(fam.pulse_width_range, (0.2e-9, 1.0e-9))
    assert fam.temperature == 300.0
    # The stated probability error is what the family makes on its own calibration data,
    # and it is small.
    resid = np.concatenate([
        np.asarray(fam.probability(c.inputs, t, pw)) - c.k / c.n
        for t, pw, c in zip(CAL.thickness, CAL.pulse_width, CAL.calibrations)])
    np.testing.assert_allclose(np.sqrt(np.mean(resid**2)), fam.rms_error, rtol=1e-6)
    np.testing.assert_allclose(np.max(np.abs(resid)), fam.max_error, rtol=1e-6)
    assert fam.rms_error < 0.03 and fam.max_error < 0.12
    for t, pw, c in zip(CAL.thickness, CAL.pulse_width, CAL.calibrations):
        assert np.all(agreement(fam.probability(c.inputs, t, pw), c.k, c.n, fam.max_error))
    # i50 and log_width at every grid point within 4 Monte Carlo standard errors of the
    # per-point fit (the polynomial order was chosen to fit within the errors).
    i50_grid = np.array([float(c.surrogate.i50) for c in CAL.calibrations])
    w_grid = np.array([float(c.surrogate.log_width) for c in CAL.calibrations])
    pull_i50 = np.log(np.asarray(fam.i50(CAL.thickness, CAL.pulse_width)) / i50_grid) \
        / CAL.ln_i50_err
    pull_w = np.log(np.asarray(fam.log_width(CAL.thickness, CAL.pulse_width)) / w_grid) \
        / CAL.ln_log_width_err
    assert np.max(np.abs(pull_i50)) < 4, pull_i50
    assert np.max(np.abs(pull_w)) < 4, pull_w
    # i50 is known to ~1 % at each point (< 1 % from the Fisher information, up to 1.5 %
    # with the dispersion factor of the worst log-logistic fit), and the family reproduces
    # it to 1.3 %.
    assert np.max(CAL.ln_i50_err) < 0.02
    np.testing.assert_allclose(fam.i50(CAL.thickness, CAL.pulse_width), i50_grid, rtol=0.02)
    # Refitting the stored data gives back the shipped coefficients.
    refit = fit_family(CAL.thickness, CAL.pulse_width, CAL.calibrations)
    np.testing.assert_allclose(refit.family.i50_coeffs, fam.i50_coeffs, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(refit.family.log_width_coeffs, fam.log_width_coeffs, rtol=1e-8,
                               atol=1e-10)


def test_trends_i50_rises_with_thickness_and_falls_with_pulse_width():
    t = jnp.linspace(0.8e-9, 1.5e-9, 15)[:, None]
    pw = jnp.geomspace(0.2e-9, 1.0e-9, 15)[None, :]
    i50 = np.asarray(FAMILY.i50(t, pw))
    assert np.all(np.diff(i50, axis=0) > 0)   # thicker: higher barrier, higher current
    assert np.all(np.diff(i50, axis=1) < 0)   # longer pulse: less current
    # Shorter pulses broaden the curve (5a); the barrier grows with thickness (10 -> 30 kT).
    w = np.asarray(FAMILY.log_width(1.2e-9, pw[0]))
    assert w[0] > w[-1]
    np.testing.assert_allclose([FAMILY.barrier(t) for t in (0.8e-9, 1.2e-9, 1.5e-9)],
                               [10, 20, 30], rtol=0.1)
    # probability is the SwitchingSigmoid of sigmoid().
    sig = FAMILY.sigmoid(1.1e-9, 0.7e-9)
    currents = jnp.array([0.0, 20e-6, 40e-6, 80e-6])
    np.testing.assert_allclose(FAMILY.probability(currents, 1.1e-9, 0.7e-9),
                               sig.probability(currents), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sig.probability(sig.i50), 0.5)
    # Write energy: SOTMTJNeuron's, I^2 R_HM (t_PW - t_rise / 3) with R_HM = 400 Ohm.
    np.testing.assert_allclose(FAMILY.write_energy(jnp.array([0.0, 80e-6]), 0.5e-9),
                               [0.0, (80e-6) ** 2 * 400 * (0.5e-9 - 10e-12 / 3)], rtol=1e-12)


def _central_difference(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("t, pw", [(0.9e-9, 0.3e-9), (1.1e-9, 0.7e-9), (1.4e-9, 0.25e-9)])
def test_gradients_match_central_differences(t, pw):
    t, pw = jnp.asarray(t), jnp.asarray(pw)
    h_t, h_pw = 1e-4 * t, 1e-4 * pw
    for f in (FAMILY.i50, FAMILY.log_width,
              lambda a, b: FAMILY.probability(50e-6, a, b)):
        g_t, g_pw = jax.grad(f, argnums=(0, 1))(t, pw)
        np.testing.assert_allclose(g_t, _central_difference(lambda a: f(a, pw), t, h_t),
                                   rtol=1e-5)
        np.testing.assert_allclose(g_pw, _central_difference(lambda b: f(t, b), pw, h_pw),
                                   rtol=1e-5)
    # Physical signs: d i50 / d t_FL > 0, d i50 / d t_PW < 0.
    g_t, g_pw = jax.grad(FAMILY.i50, argnums=(0, 1))(t, pw)
    assert g_t > 0 and g_pw < 0
    # The exact parts: barrier(thickness) and write_energy(current, pulse_width).
    np.testing.assert_allclose(jax.grad(FAMILY.barrier)(t),
                               _central_difference(FAMILY.barrier, t, h_t), rtol=1e-6)
    e = lambda b: FAMILY.write_energy(80e-6, b)  # noqa: E731
    np.testing.assert_allclose(jax.jit(jax.grad(e))(pw), _central_difference(e, pw, h_pw),
                               rtol=1e-6)
    # Through the SwitchingSigmoid that sigmoid() hands to a network.
    g = jax.grad(lambda a: FAMILY.sigmoid(a, pw).i50)(t)
    np.testing.assert_allclose(g, jax.grad(FAMILY.i50)(t, pw), rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: FAMILY.i50(0.5e-9, 0.5e-9), r"thickness = 5e-10 m is outside the allowed range "
                                         r"\[8e-10, 1.5e-09\] m"),
    (lambda: FAMILY.log_width(1.6e-9, 0.5e-9), "thickness"),
    (lambda: FAMILY.sigmoid(1.2e-9, 2e-9), r"pulse_width = 2e-09 s is outside the allowed "
                                           r"range \[2e-10, 1e-09\] s"),
    (lambda: FAMILY.probability(50e-6, 1.2e-9, 0.1e-9), "pulse_width"),
    (lambda: FAMILY.probability(-1e-6, 1.2e-9, 0.5e-9), "current"),
    (lambda: FAMILY.probability(jnp.nan, 1.2e-9, 0.5e-9), "current"),
    (lambda: FAMILY.write_energy(-1e-6, 0.5e-9), "current"),
    (lambda: FAMILY.write_energy(80e-6, 5e-9), "pulse_width"),
])
def test_bad_inputs_raise_naming_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_inputs_raise_under_jit():
    # Traced values are checked at run time (eqx.error_if) with the same parameter name.
    with pytest.raises(Exception, match="thickness"):
        jax.jit(lambda a, b: FAMILY.i50(a, b))(0.5e-9, 0.5e-9).block_until_ready()
    with pytest.raises(Exception, match="pulse_width"):
        jax.jit(jax.grad(FAMILY.i50, argnums=1))(1.2e-9, 3e-9).block_until_ready()
    # float32 copies of the range ends are inside.
    assert np.isfinite(float(FAMILY.i50(jnp.float32(0.8e-9), jnp.float32(1e-9))))


def test_json_round_trip(tmp_path):
    path = FAMILY.to_json(tmp_path / "family.json")
    assert eqx.tree_equal(SOTNeuronFamily.from_json(path), FAMILY)
    back = FamilyCalibration.from_json(CAL.to_json(tmp_path / "cal.json"))
    assert eqx.tree_equal(back.family, FAMILY)
    np.testing.assert_array_equal(back.calibrations[3].k, CAL.calibrations[3].k)
    with pytest.raises(ValueError, match="format"):
        SOTNeuronFamily.from_dict({"format": "something else"})
    with pytest.raises(ValueError, match="i50_coeffs"):
        dataclasses.replace(FAMILY, i50_coeffs=jnp.zeros(1))


@pytest.mark.slow  # ~15 s, most of it compiling the sLLG solve (2-core CPU)
def test_family_predicts_fresh_sllg_at_a_held_out_design():
    # 1.1 nm / 0.7 ns is on neither grid axis. 3 currents at the family's P = 0.2, 0.5, 0.8,
    # 150 fresh sLLG trials each: the family must lie in the 3-sigma Wilson interval widened
    # by its stated max error.
    t, pw = 1.1e-9, 0.7e-9
    i50, w = float(FAMILY.i50(t, pw)), float(FAMILY.log_width(t, pw))
    currents = i50 * np.exp(w * np.array([math.log(0.25), 0.0, math.log(4.0)]))
    neuron = SOTMTJNeuron(thickness=t, pulse_width=pw)
    p, k, n = neuron.firing_probability(currents, jax.random.key(77), 150)
    p_fam = np.asarray(FAMILY.probability(currents, t, pw))
    np.testing.assert_allclose(p_fam, [0.2, 0.5, 0.8], atol=1e-9)
    assert np.all(agreement(p_fam, k, n, FAMILY.max_error)), (p, p_fam)
