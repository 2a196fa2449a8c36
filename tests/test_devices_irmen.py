"""The IRMEN magnetoelectric CeNN cell (physics.md 5d): transfer function, noise, memory,
surrogate, response time, energies.

Statistical tolerances: reads are averages of continuous variables; means are compared with
>= 4 standard errors (a correct model fails with probability < 1e-4 per comparison), standard
deviations with their relative standard error 1 / sqrt(2 (n - 1)). All Monte Carlo runs share
one compiled read (chunks of 4096 trials), one compiled hold and one deterministic solve.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spinjax.constants import K_B, MU0
from spinjax.devices import (IRMENCell, boltzmann_moments, calibrate_surrogate,
                             response_times, transfer_monte_carlo)
from spinjax.statistics import wilson_interval

NM = 1e-9
CELL = IRMENCell()                                 # crystalline anisotropy only (5d)
SHAPE = IRMENCell(shape_anisotropy=True)           # + demagnetizing field of the prism
INPUTS = np.linspace(-1.5, 1.5, 13)                # in units of V_sat
N = 128


@pytest.fixture(scope="module")
def calibration():
    data = transfer_monte_carlo(CELL, jax.random.key(0), lengths=np.array([17, 34, 60]) * NM,
                                inputs=INPUTS, n_trials=N)
    return data, calibrate_surrogate(data, CELL)


def test_physics_chain_numbers():
    # 5d: V = 1530-5400 nm^3 for 17-60 nm at 90 nm^2; K V / k_B T = 16-59.
    for length, volume, delta in ((17, 1530, 16.6), (60, 5400, 58.7)):
        cell = CELL.with_length(length * NM)
        np.testing.assert_allclose(cell.volume(), volume * 1e-27, rtol=1e-12)
        np.testing.assert_allclose(cell.thermal_stability(),
                                   4.5e4 * volume * 1e-27 / (K_B * 300.0), rtol=1e-9)
        np.testing.assert_allclose(cell.thermal_stability(), delta, atol=0.05)
        # With the prism's demag field the barrier is 8-17x larger: 5d counts K only.
        assert float(SHAPE.with_length(length * NM).thermal_stability()) > 8 * delta
    # ME field: B = (10/c) V / t_ME = 6.67 mT per mV; knee at mu0 H_k = 2K/Ms = 52.9 mT.
    np.testing.assert_allclose(MU0 * CELL.me_field(1e-3), 10 / 299792458 * 1e-3 / 5e-9,
                               rtol=1e-12)
    np.testing.assert_allclose(CELL.saturation_voltage(),
                               2 * 4.5e4 / 1.7e6 / (10 / 299792458 / 5e-9), rtol=1e-12)
    np.testing.assert_allclose(CELL.ideal_transfer(jnp.array([-1.0, 0.002, 1.0])),
                               [-1.0, 0.002 / float(CELL.saturation_voltage()), 1.0])
    # Shape anisotropy: the knee moves with the aspect ratio (longer: higher V_sat).
    v17, v60 = (float(SHAPE.with_length(x * NM).saturation_voltage()) for x in (17, 60))
    assert 0.05 < v17 < v60 < 0.15
    # Read chain: I_d = 100 mV / 20 kOhm = 5 µA, I_s = 4 µA, I_c = (6/17) I_s, V_out = I_c R_s.
    c17 = CELL.with_length(17 * NM)
    np.testing.assert_allclose(c17.drive_current(), 5e-6, rtol=1e-12)
    np.testing.assert_allclose(c17.output_voltage(), 0.8 * 5e-6 * 6 / 17 * 20e3, rtol=1e-12)
    np.testing.assert_allclose(c17.output_voltage(-0.5) / c17.output_voltage(1.0), -0.5)
    np.testing.assert_allclose(c17.ota_current(jnp.array([-2.0, 0.3, 1.5])),
                               [-1e-6, 0.3e-6, 1e-6])
    np.testing.assert_allclose(c17.charge(5e-3), 5e-18, rtol=1e-12)
    assert float(c17.charge_retention(12.5e-9)) > 1 - 1e-4


def test_boltzmann_moments_against_brute_force_quadrature():
    # Independent reference: 2-D midpoint sum over the sphere of exp(delta m_x^2 + 2 delta h
    # m_y), no Bessel reduction.
    th = (np.arange(1200) + 0.5) * np.pi / 1200
    ph = (np.arange(2400) + 0.5) * 2 * np.pi / 2400
    t, p = np.meshgrid(th, ph, indexing="ij")
    mx, my = np.sin(t) * np.cos(p), np.cos(t)
    for h, delta in ((0.0, 16.6), (0.6, 16.6), (1.0, 58.7), (1.4, 133.9)):
        logw = delta * mx**2 + 2 * delta * h * my + np.log(np.sin(t))
        w = np.exp(logw - logw.max())
        mean = np.sum(w * my) / w.sum()
        var = np.sum(w * (my - mean) ** 2) / w.sum()
        m, v = boltzmann_moments(h, delta)
        np.testing.assert_allclose([m, v], [mean, var], rtol=2e-3, atol=1e-6)
    # Limits: -> clip(h) for a large barrier; at h = 0, <m_y^2> = (1 - <m_x^2>)/2 =
    # (1 + 1/(2 Delta)) / (2 Delta) + O(Delta^-3) (from ln Z = Delta - ln 2 Delta + 1/(2 Delta)):
    # the harmonic 1/(2 Delta) plus the first anharmonic correction.
    np.testing.assert_allclose(boltzmann_moments(jnp.array([-2.0, 0.5, 2.0]), 1e4)[0],
                               [-1.0, 0.5, 1.0], atol=2e-4)
    np.testing.assert_allclose(boltzmann_moments(0.0, 58.7)[1],
                               (1 + 1 / (2 * 58.7)) / (2 * 58.7), rtol=1e-3)


def test_equilibrium_sampler_is_boltzmann():
    # Metropolis sample vs the exact moments at h = 0 and at the knee h = 0.9 (where the
    # harmonic approximation fails). 4096 samples: SE(mean) = sd / 64; SE(var)/var = 2.2 %.
    cell = CELL.with_length(17 * NM)
    delta = float(cell.thermal_stability())
    for h, key in ((0.0, 1), (0.9, 2)):
        v = jnp.full(4096, h * float(cell.saturation_voltage()))
        m = np.asarray(cell.equilibrium_states(v, jax.random.key(key)))
        mean, var = (float(a) for a in boltzmann_moments(h, delta))
        assert abs(m[:, 1].mean() - mean) < 4 * math.sqrt(var / 4096)
        np.testing.assert_allclose(m[:, 1].var(), var, rtol=5 * math.sqrt(2 / 4096))


def test_transfer_function_is_saturated_linear(calibration):
    data, _ = calibration
    se = data.std / math.sqrt(N)
    for i, delta in enumerate(data.barrier):
        exact = np.asarray(boltzmann_moments(np.clip(INPUTS, -3, 3), delta)[0])
        # The read's mean is the static thermal average of the hard-axis M-H curve (float32,
        # dt = 0.5 ps: integration error < 0.005).
        assert np.all(np.abs(data.mean[i] - exact) < 4 * se[i] + 0.005), (i, data.mean[i])
    big = data.mean[-1]  # 60 nm, Delta = 59
    assert np.all(np.diff(big) > -4 * np.max(se[-1]))         # monotone
    slope = np.polyfit(INPUTS[4:9], big[4:9], 1)[0]           # |x| <= 0.5
    assert abs(slope - 1.0) < 0.08, slope                     # exact: 1 + 1/Delta = 1.017
    assert big[0] < -0.97 and big[-1] > 0.97                  # saturation at ±1
    assert np.all(np.abs(data.mean[:, [0, -1]]) < 1.0)


def test_shape_anisotropy_moves_the_knee_with_aspect_ratio():
    # At the same absolute input the short (17 nm, aspect 1.8) magnet is further along its
    # M-H curve than the long one (60 nm, aspect 6.3); without shape anisotropy both are
    # saturated beyond 7.9 mV.
    volts = np.array([-0.15, -0.05, 0.0, 0.03, 0.05, 0.1, 0.15])
    data = transfer_monte_carlo(SHAPE, jax.random.key(3), lengths=np.array([17, 60]) * NM,
                                voltages=volts, n_trials=N)
    for i in range(2):
        exact = np.asarray(boltzmann_moments(volts / data.v_sat[i], data.barrier[i])[0])
        assert np.all(np.abs(data.mean[i] - exact) < 4 * data.std[i] / math.sqrt(N) + 0.005)
    np.testing.assert_allclose(data.mean[:, 4], np.clip(0.05 / data.v_sat, -1, 1), atol=0.03)
    assert data.mean[0, 4] > data.mean[1, 4] + 0.3
    # Shape anisotropy makes the read far less noisy (Delta ~ 130-990, fast precession).
    assert np.max(data.std) < 0.05


def test_error_grows_for_short_magnets(calibration):
    data, _ = calibration
    err = data.rms_error()
    assert err[0] > err[1] > err[2], err
    # Noise in the linear range scales as Delta^-1/2 (FDT, same precession for all lengths
    # without shape anisotropy): sd(17 nm) / sd(60 nm) = sqrt(58.7 / 16.6) = 1.88. Pooled
    # over 5 inputs x 128 reads, the ratio's relative SE is ~4 %.
    linear = slice(4, 9)
    ratio = np.sqrt(np.mean(data.std[0, linear] ** 2) / np.mean(data.std[2, linear] ** 2))
    assert abs(ratio - math.sqrt(data.barrier[2] / data.barrier[0])) < 0.2, ratio
    assert 0.10 < err[0] < 0.17 and 0.05 < err[2] < 0.10


def test_surrogate_is_calibrated_and_predicts_held_out_lengths(calibration):
    data, cal = calibration
    sur = cal.surrogate
    # kappa scales the physics barrier: the fit must find ≈ 1. Means fit within noise:
    # chi^2 against 36 dof below dof + 5 sqrt(2 dof).
    assert abs(float(sur.kappa) - 1.0) < 0.1
    assert cal.chi2 < cal.dof + 5 * math.sqrt(2 * cal.dof)
    assert cal.mean_max_error < 0.05 and cal.std_rel_error < 0.2
    # Held-out lengths and inputs, fresh key.
    x = np.array([-1.2, -0.7, -0.3, 0.1, 0.45, 0.8, 1.05, 1.3])
    ho = transfer_monte_carlo(CELL, jax.random.key(4), lengths=np.array([24, 48]) * NM,
                              inputs=x, n_trials=N)
    for i, length in enumerate(ho.lengths):
        v = jnp.asarray(ho.voltages[i])
        mean, std = np.asarray(sur.mean(v, length)), np.asarray(sur.std(v, length))
        assert np.all(np.abs(mean - ho.mean[i]) < 4 * ho.std[i] / math.sqrt(N)
                      + cal.mean_max_error)
        assert np.all(np.abs(std / ho.std[i] - 1) < 3 * cal.std_rel_error
                      + 4 / math.sqrt(2 * (N - 1)))
        np.testing.assert_allclose(sur.rms_error(length, x), ho.rms_error()[i], rtol=0.1)
    # Differentiable in input voltage and magnet length (finite differences).
    f = lambda v, l: sur.mean(v, l) + sur.std(v, l)  # noqa: E731
    gv, gl = jax.grad(f, argnums=(0, 1))(3e-3, 30e-9)
    np.testing.assert_allclose(gv, (f(3e-3 + 1e-7, 30e-9) - f(3e-3 - 1e-7, 30e-9)) / 2e-7,
                               rtol=1e-4)
    np.testing.assert_allclose(gl, (f(3e-3, 30e-9 + 1e-12) - f(3e-3, 30e-9 - 1e-12)) / 2e-12,
                               rtol=1e-4)


@pytest.mark.slow  # ~25-40 s on 2 cores; runs with `pytest -m slow`
def test_state_survives_12_ns_and_50_reads():
    # 17 nm (smallest barrier, 16.6 k_B T), 50 reads of 200 ps every 250 ps (12.5 ns hold),
    # worst-case read torque: the whole injected spin current (4 µA) polarized against the
    # state. Binary states at ±1.5 V_sat: every read decodes the stored sign in all 128
    # trials (95 % Wilson lower bound > 0.97); an analog state at 0.5 V_sat keeps its
    # value: the mean of the first 10 reads equals that of the last 10 within 4 SE.
    cell = CELL.with_length(17 * NM)
    vs = float(cell.saturation_voltage())
    v = jnp.concatenate([jnp.full(64, 1.5 * vs), jnp.full(64, -1.5 * vs), jnp.full(64, 0.5 * vs)])
    reads = np.asarray(cell.hold_and_read(v, jax.random.key(5), torque_fraction=1.0))
    assert reads.shape == (192, 50)
    sign = np.sign(np.asarray(v[:128]))[:, None]
    kept = int(np.sum(np.all(reads[:128] * sign > 0, axis=1)))
    assert kept == 128 and wilson_interval(kept, 128)[0] > 0.97
    analog = reads[128:]
    first, last = analog[:, :10].mean(1), analog[:, -10:].mean(1)
    assert abs(first.mean() - last.mean()) < 4 * np.std(first - last) / 8
    assert abs(analog.mean() - float(boltzmann_moments(0.5, cell.thermal_stability())[0])) \
        < 4 * analog[:, 0].std() / 8 + 0.01
    # The torque model has teeth: at 40x (160 µA of spin current, > 10x the instability
    # current of the held state) the reads of the stored state come out wrong.
    hot = np.asarray(cell.hold_and_read(v, jax.random.key(6), torque_fraction=40.0))
    assert np.mean(np.all(hot[:128] * sign > 0, axis=1)) < 0.1


def test_magnet_response_time():
    # Step 0 -> 0.5 V_sat (deterministic, T = 0). The output rings about its new value and
    # decays with the small-oscillation time tau = 2 (1 + a^2) / (a gamma (H_a + H_b)):
    # settling to ±10 % takes ≈ tau ln 10. Crystalline only (alpha = 0.01): ~30 ns, far from
    # 5d's 1.5 ns; with shape anisotropy (stiffer, H_1 ~ 15x) it is ~2 ns.
    for cell, t1, lo, hi in ((CELL, 45e-9, 20e-9, 40e-9), (SHAPE, 45e-9, 1e-9, 3e-9)):
        v = 0.5 * float(cell.saturation_voltage())
        ts, y = cell.step_response(v, t1)
        rise, settle = response_times(ts, y, 0.5)
        expected = float(cell.ring_down_time(v)) * math.log(10)
        assert lo < settle < hi and abs(settle / expected - 1) < 0.15, (settle, expected)
        assert rise < 0.3e-9
        np.testing.assert_allclose(y[-1], 0.5, atol=0.05)


def test_energies():
    cell = CELL.with_length(17 * NM)
    vs = float(cell.saturation_voltage())
    np.testing.assert_allclose(cell.write_energy(vs), 1e-15 * vs**2, rtol=1e-12)  # 0.06 aJ
    i_c = 0.8 * 5e-6 * 6 / 17
    np.testing.assert_allclose(cell.read_energy(),
                               0.1 * 5e-6 * 200e-12 + i_c**2 * 20e3 * 200e-12, rtol=1e-12)
    np.testing.assert_allclose(cell.output_energy(), 1e-6 * 0.5 * 200e-12, rtol=1e-12)
    np.testing.assert_allclose(cell.evaluation_energy(vs), cell.write_energy(vs)
                               + cell.read_energy() + cell.output_energy(), rtol=1e-12)
    assert 1e-16 < float(cell.evaluation_energy(vs)) < 3e-16


@pytest.mark.parametrize("kwargs, match", [
    (dict(length=-17e-9), "length"),
    (dict(length=0.0), "length"),
    (dict(width=0.0), "width"),
    (dict(thickness=-1e-9), "thickness"),
    (dict(capacitance=0.0), "capacitance"),
    (dict(capacitance=-1e-15), "capacitance"),
    (dict(me_thickness=0.0), "me_thickness"),
    (dict(me_coefficient=-1e-8), "me_coefficient"),
    (dict(spin_injection=1.5), "spin_injection"),
    (dict(drive_voltage=0.2), "drive_voltage"),
    (dict(ota_max_current=2e-6), "ota_max_current"),
    (dict(read_time=0.0), "read_time"),
    (dict(source_resistance=0.0), "source_resistance"),
    (dict(temperature=-1.0), "temperature"),
    (dict(length=8e-9, shape_anisotropy=True), "length"),
])
def test_bad_cell_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        IRMENCell(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"voltage = 0.7 V is outside the allowed range \[-0.5"):
        CELL.write_energy(0.7)
    with pytest.raises(ValueError, match="voltages"):
        CELL.read(jnp.array([0.0, -0.6]), jax.random.key(0))
    with pytest.raises(ValueError, match="lengths"):
        transfer_monte_carlo(CELL, jax.random.key(0), lengths=[0.0], inputs=[0.0], n_trials=4)
    with pytest.raises(ValueError, match="read_period"):
        CELL.hold_and_read(jnp.zeros(2), jax.random.key(0), read_period=100e-12)
    with pytest.raises(ValueError, match="torque_fraction"):
        CELL.hold_and_read(jnp.zeros(2), jax.random.key(0), torque_fraction=-1.0)
