"""Domain-wall devices (physics.md 5b, 5c): DWM step neuron, DW synapse, DW IF neuron.

Compile time dominates: the deterministic solves of all three devices share one compiled
function (`pulse_positions`, padded batches of 16, one save grid of 5 times), the 5b thermal
runs another (padded batches of 256), the IF neuron a third. Statistical tolerances: binomial
counts are compared through 3-sigma Wilson intervals (`agreement`), or with margins of >= 4
standard errors at the stated trial numbers (a correct model fails with probability < 1e-4).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spinjax.devices import (DWIFNeuron, DWMStepNeuron, DWSynapse, StepNeuronSurrogate,
                             agreement, calibrate_if_neuron, calibrate_step_neuron,
                             calibrate_synapse, einstein_diffusion, hardest_case,
                             resolution_monte_carlo)
from spinjax.devices.dw_synapse import SOLVE_TIME, pulse_positions

NEURON = DWMStepNeuron()
SYN = DWSynapse()
IF = DWIFNeuron()
UA = 1e-6


# --- 5b: DWM step neuron -----------------------------------------------------------------------
def test_threshold_current_hits_design_point_and_scales_with_write_time():
    times = np.array([0.5, 1.0, 2.0, 4.0, 8.0]) * 1e-9
    i_th = NEURON.threshold_current(times)
    # Design point of 5b: ~2 µA for 1 ns (current density I / (w t) ≈ 5 MA/cm^2).
    assert 1.6 * UA < i_th[1] < 2.4 * UA
    j = float(NEURON.current_density(i_th[1]))
    assert 3e10 < j < 6e10
    # Constant mobility: I_th t is constant for long windows (4 and 8 ns agree to 5 %, the
    # residual is the 0.1 ns of phi turning at the pulse start); short windows need more
    # than 1/t because the wall nears its SOT saturation (j_D ≈ 1.4e11 A/m^2).
    np.testing.assert_allclose(i_th[3] * times[3], i_th[4] * times[4], rtol=0.05)
    assert i_th[0] * times[0] > 1.2 * i_th[1] * times[1]
    # Analytic long-window limit: L = v(j) t with the chiral-wall law (K_D = 0; the strip's
    # K_D = -1.6e4 J/m^3 is 1 % of the DMI term): 10 % tolerance.
    v = float(NEURON.strip().sot_velocity(NEURON.current_density(i_th[4])))
    np.testing.assert_allclose(abs(v) * times[4], float(NEURON.length), rtol=0.1)


@pytest.fixture(scope="module")
def step_calibration():
    currents = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]) * UA
    return calibrate_step_neuron(NEURON, jax.random.key(10), currents, n_trials=200)


def test_sign_of_net_current_is_written(step_calibration):
    # Strong currents (3x the threshold) write d2 by their sign from the opposite state, and
    # push the wall against the end when it is already there: Y = sign(I) for all 128.
    n = 64
    i = jnp.concatenate([jnp.full(n, 6 * UA), jnp.full(n, -6 * UA)])
    for y0 in (-1.0, 1.0):
        out = NEURON.evaluate(i, jax.random.key(int(y0 + 2)), y0=y0)
        np.testing.assert_array_equal(np.asarray(out.y), np.sign(np.asarray(i)))
    # Thermal switching statistics: monotone in I (up to sampling), rare at I = 0 (the wall
    # diffuses ~40 nm in 1 ns but must pass mid-d2), certain at 6 µA.
    p = step_calibration.k / step_calibration.n
    assert p[0] < 0.3 and p[-1] > 0.97
    assert np.all(np.diff(p) > -0.1)


def test_step_surrogate_predicts_held_out_currents(step_calibration):
    sur = step_calibration.surrogate
    assert 1.0 * UA < float(sur.i50) < 2.5 * UA
    assert step_calibration.rms_error < 0.06
    held_out = np.array([0.75, 1.75, 2.5, 3.5]) * UA
    _, k, n = NEURON.write_probability(held_out, jax.random.key(11), 200)
    assert np.all(agreement(sur.probability(held_out), k, n, step_calibration.max_error))
    # Network forward: smooth soft sign, differentiable, vmappable over devices.
    g = jax.grad(lambda a: sur.expected_output(3 * UA, 0.0) + 0 * a)(1.0)
    assert np.isfinite(g)
    di50 = jax.grad(lambda s: s.expected_output(3 * UA, -1.0))(sur).i50
    assert float(di50) < 0          # a higher threshold lowers E[Y]
    batch = jax.vmap(lambda i50: StepNeuronSurrogate(i50, sur.width).expected_output(
        jnp.array([-5 * UA, 5 * UA])))(jnp.array([1.0, 2.0]) * UA)
    assert batch.shape == (2, 2) and np.all(np.sign(batch) == [-1, 1])


def test_read_through_mtj_on_d2():
    v, y, e = NEURON.read(jnp.array([0.0, 0.5, 1.0]) * NEURON.length)
    np.testing.assert_array_equal(np.asarray(y)[[0, 2]], [-1.0, 1.0])
    assert float(v[0]) < float(v[1]) < float(v[2])
    # The read current (V / (R + R_ref) ≈ 60 nA) must not disturb the write: < 5 % of I_th.
    i_read = float(NEURON.read_voltage) / (5e6 + 12.5e6)
    assert i_read < 0.05 * 2 * UA
    assert 0 < float(e[0]) < 1e-16


def test_resolution_drops_with_inputs_and_variation_flips_decisions():
    n = [5, 10, 15, 20, 25, 30, 40]
    res = resolution_monte_carlo(n, jax.random.key(12), variation=0.1, n_trials=4000)
    r = 1 / 20
    np.testing.assert_allclose(res["nominal"][[0, 4]], [(1 - r) / ((1 + r) * 5),
                                                       (1 - r) / ((1 + r) * 25)], rtol=1e-12)
    # Below 5 % beyond ~20 inputs (physics.md 5b: ~25).
    assert res["median"][2] > 0.05 and res["median"][4] < 0.05
    # 10 % variation: dV_G spreads by ~0.1 / sqrt(N) (p95 - p05 ≈ 3.3 sigma), so from ~25
    # inputs on a few % of the hardest decisions come out wrong whatever the resolution.
    spread = res["p95"] - res["p05"]
    sigma = 0.1 * np.sqrt((1 + r**2) / np.asarray(n)) / (1 + r)
    np.testing.assert_allclose(spread, 3.29 * sigma, rtol=0.15)
    assert res["error_rate"][0] == 0 and res["error_rate"][4] > 0.01
    assert np.all(np.diff(res["error_rate"]) > -0.005)
    # The direct metric on the same configuration.
    gp, gm = hardest_case(25)
    dvg = DWMStepNeuron.resolution(gp, gm, np.ones(25), 0.05)
    np.testing.assert_allclose(float(dvg), res["nominal"][4], rtol=1e-12)


def test_energy_per_operation_and_cmos_comparison():
    np.testing.assert_allclose(NEURON.write_resistance(), 60.0, rtol=1e-12)
    gp, gm = hardest_case(25, g_on=40e-6)
    x = np.ones(25)
    e = NEURON.energy_per_operation(gp, gm, x, 0.05)
    i_sum = float(NEURON.net_current(gp, gm, x, 0.05))
    np.testing.assert_allclose(i_sum, 0.05 * (40e-6 - 2e-6), rtol=1e-12)
    e_syn = 0.05**2 * np.sum(gp + gm) * 1e-9        # dV x sum |I| x t_w
    e_inv = 1e-15 * 1.0 + 1e-6 * 1.0 * 0.2e-9       # C V^2 + I_sc V t_read
    _, _, e_read = NEURON.read(jnp.array([30e-9]))
    np.testing.assert_allclose(float(e), e_syn + i_sum**2 * 60 * 1e-9 + float(e_read[0])
                               + e_inv, rtol=1e-9)
    cmp = NEURON.cmos_comparison(n_inputs=25, dv=0.05, min_current=4 * UA)
    assert cmp["total"] < 0.1 * cmp["cmos_energy"]
    assert cmp["edp_ratio"] > 100 and cmp["loading"] < 0.2
    np.testing.assert_allclose(cmp["edp"], cmp["total"] * 1.2e-9, rtol=1e-12)


# --- 5c: DW synapse ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synapse_calibration():
    return calibrate_synapse(SYN)


def test_synapse_dx_proportional_to_jt_below_saturation(synapse_calibration):
    cal = synapse_calibration
    # Low-current mobility = the analytic chiral-wall value within 3 % (the strip's K_D is
    # ~7 % of the DMI energy and shifts phi* slightly).
    np.testing.assert_allclose(float(cal.surrogate.mobility), float(SYN.mobility()), rtol=0.03)
    assert cal.max_rel_error < 0.1
    # Proportionality: equal j t (0.3 ns vs 1 ns at 1/0.3 of the current) gives equal dx to
    # 2 % at the low currents (rows 0-3 vs 8-11 of the grid are not equal j t; compare the
    # per-unit-jt displacement instead).
    j = np.asarray(SYN.current_density(cal.currents))
    per_jt = cal.dx / (j * cal.widths)
    np.testing.assert_allclose(per_jt[[0, 1, 2, 8, 9, 10]], per_jt[0], rtol=0.02)
    assert per_jt[7] < 0.8 * per_jt[0]                # 40 µA: saturating
    # Held-out pulses on the real 80 nm strip, from its middle, small enough to stay inside.
    cur = np.array([1.5, -3.0, 4.5, -7.0]) * UA
    wid = np.array([0.5, 0.7, 0.25, 0.4]) * 1e-9
    q0 = 0.5 * float(SYN.length)
    q_phys = np.asarray(SYN.program(q0, cur, wid))
    q_sur = np.asarray(cal.surrogate.program(q0, cur, wid))
    np.testing.assert_allclose(q_sur - q0, q_phys - q0, rtol=cal.max_rel_error + 0.02)


def test_synapse_conductance_confinement_and_stdp(synapse_calibration):
    L = float(SYN.length)
    g_p, g_ap = 1 / 5e5, 1 / 1e6
    g = np.asarray(SYN.conductance(jnp.array([0.0, 0.25, 0.5, 1.0]) * L))
    # G_eq = G_P x/L + G_AP (1 - x/L) + G_DW; G_DW vanishes in the bulk (the profile tail
    # beyond the strip end is ~exp(-2 q / Delta) = 0.5 % at q = 20 nm), O(Delta/L) at ends.
    np.testing.assert_allclose(g[1:3], [g_p * 0.25 + g_ap * 0.75, g_p * 0.5 + g_ap * 0.5],
                               rtol=1e-3)
    assert abs(g[0] - g_ap) < 0.05 * (g_p - g_ap) and abs(g[3] - g_p) < 0.05 * (g_p - g_ap)
    # Confinement: a pulse that would move the wall 3 L leaves it at L; G saturates at G_P.
    # STDP in the same batch: I(dt) = sign(dt) i0 exp(-|dt| / tau), i0 = 3 µA (j = 5e10,
    # j/j_D = 0.1: 0.5 % non-linearity), tau = 20 ns.
    tau, i0 = 20e-9, 3 * UA
    dts = np.array([5, 10, 20, 40, -5, -10, -20]) * 1e-9
    cur = np.concatenate([[40 * UA], np.asarray(SYN.stdp_current(dts, i0, tau))])
    q0 = np.full(8, 0.5 * L)
    q = np.asarray(SYN.program(q0, cur, 1e-9))
    assert q[0] == pytest.approx(L, abs=1e-12)
    dg = np.asarray(SYN.conductance(q) - SYN.conductance(q0))[1:]
    assert np.all(np.sign(dg) == np.sign(dts))           # potentiate pre->post, else depress
    # dG ∝ exp(-dt/tau): the log-slope is -1/tau within 2 %, and causal/anti-causal agree.
    slope = np.polyfit(np.abs(dts[:4]), np.log(np.abs(dg[:4])), 1)[0]
    np.testing.assert_allclose(slope, -1 / tau, rtol=0.02)
    np.testing.assert_allclose(dg[4:], -dg[:3], rtol=0.01)
    # Energies: I^2 R_HM (t - t_rise/3), R_HM = rho L / (w t_Pt) = 533 Ohm; read V^2 G t.
    np.testing.assert_allclose(SYN.hm_resistance(), 4e-7 * 80e-9 / (20e-9 * 3e-9), rtol=1e-12)
    np.testing.assert_allclose(SYN.programming_energy(6 * UA, 1e-9),
                               (6 * UA) ** 2 * 533.333333 * (1e-9 - 10e-12 / 3), rtol=1e-6)
    e_read = float(SYN.read_energy(0.5 * L))
    assert 0.1**2 / 1e6 * 1e-9 < e_read < 0.1**2 / 5e5 * 1e-9


# --- 5c: DW integrate-and-fire neuron ---------------------------------------------------------
A_IN = 70 * UA
SEQS = np.array([[A_IN] * 4 + [0] * 4,                                   # integrate
                 [A_IN, 0, 0, A_IN, 0, 0, A_IN, 0],                      # sparse
                 [A_IN] + [0] * 7,                                       # single pulse
                 [0.0] * 8])                                             # rest


def test_if_neuron_integrates_leaks_fires_and_resets():
    n = 64
    out = IF.run(np.repeat(SEQS, n, axis=0), jax.random.key(20))
    fired = np.asarray(out.fired).reshape(4, n, 8)
    p = fired.any(axis=2).mean(axis=1)
    # Measured ≈ (0.89, 0.06, 0.0x, 0): 4 pulses in a row fire, the same pulses spread out or
    # a single one do not (the leak, 10 µA, pulls the wall back ~55 nm per step), rest never.
    # Margins >= 4 binomial standard errors at n = 64.
    assert p[0] > 0.7 and p[1] < 0.25 and p[2] < 0.2 and p[3] < 0.08
    first = np.argmax(fired[0], axis=1)[fired[0].any(axis=1)]
    assert np.all(first >= 1)                            # integration: never on pulse 1
    # Reset: the refractory step after a spike (-200 µA) drives the wall back to the start.
    # It arrives at q = 0 with phi tilted by the saturated SOT; when the pulse ends phi
    # relaxes and carries the wall back in by up to ~Delta (pi/2) / alpha ≈ 40 nm (measured
    # 0-70 nm, median ~20 nm), so "back to the start" means the first third of the track.
    q = np.asarray(out.q).reshape(4, n, 8)[0]
    rows, cols = np.nonzero(fired[0][:, :-1])
    after = q[rows, cols + 1]
    assert len(rows) > 20 and np.all(after < 0.35 * 240e-9) and np.median(after) < 35e-9
    # Without leak the sparse pulses integrate and fire.
    no_leak = DWIFNeuron(leak_current=0.0)
    p_sparse, _, _ = no_leak.firing_probability(SEQS[1], jax.random.key(21), 256)
    assert p_sparse > 0.8
    # Energy per step: the input and leak pulses in the Pt plus the read; reset steps more.
    e = np.asarray(out.energy).reshape(4, n, 8)
    assert np.all(e[3] == e[3, 0, 0]) and e[0, 0, 0] > e[3, 0, 0]
    assert 1e-17 < e[3, 0, 0] < 1e-14


def test_if_surrogate_matches_physics_on_held_out_sequences():
    cal = calibrate_if_neuron(IF, jax.random.key(22))
    sur = cal.surrogate
    # Diffusion: the calibrated D is of the order of the Einstein value k_B T mu_F (the drive
    # and the 1 ns steps, ~10 phi relaxation times, lower it somewhat); mean map within 3 nm.
    assert 0.5 < float(sur.d_eff) / cal.d_einstein < 1.2
    assert cal.d_einstein == pytest.approx(float(einstein_diffusion(IF.track.strip())))
    assert cal.rms_error < 3e-9 and cal.p_error < 0.25
    held_out = np.array([[50e-6, 50e-6, 50e-6, 50e-6, 50e-6, 0, 0, 0],
                         [80e-6, 0, 80e-6, 0, 0, 0, 0, 0],
                         [30e-6] * 8,
                         [60e-6, 60e-6, 0, 0, 60e-6, 60e-6, 0, 0]])
    n = 64
    out = IF.run(np.repeat(held_out, n, axis=0), jax.random.key(23))
    k = np.asarray(out.fired).reshape(4, n, 8).any(axis=2).sum(axis=1)
    p_sur = np.array([sur.firing_probability(jnp.asarray(s), jax.random.key(24 + i), 4000)
                      for i, s in enumerate(held_out)])
    assert np.all(agreement(p_sur, k, np.full(4, n), cal.p_error)), (p_sur, k / n)
    # Differentiable single-step forward for networks.
    g = jax.grad(lambda q: sur.fire_probability(q, 60e-6))(150e-9)
    assert float(g) > 0


# --- shared solve, vmap over devices ------------------------------------------------------------
def test_devices_vmap_over_parameters():
    # Two synapses with different theta_SH in one batch of the shared compiled solve: dx
    # scales with theta_SH below saturation (within 2 %).
    strips = [DWSynapse(spin_hall_angle=t).strip(length=1.6e-6) for t in (0.05, 0.1)]
    dx = [float(pulse_positions(s, 5e10, 1e-9, 0.8e-6, jnp.full(5, SOLVE_TIME))[0, -1]) - 0.8e-6
          for s in strips]
    np.testing.assert_allclose(dx[1] / dx[0], 2.0, rtol=0.02)
    g = jax.vmap(lambda q: SYN.conductance(q))(jnp.linspace(0, 80e-9, 5))
    assert g.shape == (5,) and np.all(np.diff(np.asarray(g)) > 0)


# --- bad inputs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: DWMStepNeuron(length=-60e-9), "length"),
    (lambda: DWMStepNeuron(write_time=20e-9), "write_time"),
    (lambda: DWMStepNeuron(read_voltage=2.0), "read_voltage"),
    (lambda: DWMStepNeuron(write_resistivity=-1.0), "write_resistivity"),
    (lambda: DWMStepNeuron(K_eff=-1e5), "K_eff"),
    (lambda: DWSynapse(width=-20e-9), "width"),
    (lambda: DWSynapse(hm_resistivity=0.0), "hm_resistivity"),
    (lambda: DWSynapse(read_voltage=1.5), "read_voltage"),
    (lambda: DWIFNeuron(step_time=0.3e-9), "overlap"),
    (lambda: DWIFNeuron(read_region=300e-9), "read_region"),
    (lambda: DWIFNeuron(leak_current=-1e-6), "leak_current"),
    (lambda: NEURON.net_current(np.ones(3), np.ones(3), np.ones(3), 0.5), "dv"),
    (lambda: NEURON.net_current(-np.ones(3), np.ones(3), np.ones(3), 0.05), "g_plus"),
    (lambda: NEURON.evaluate(jnp.array([1e-6]), jax.random.key(0), y0=0.5), "y0"),
    (lambda: SYN.stdp_current(1e-9, 3e-6, -1e-9), "tau"),
    (lambda: SYN.program(40e-9, 1e-6, 10e-9), "width"),
    (lambda: IF.run(jnp.array([-1e-6, 0.0]), jax.random.key(0), 2), "inputs"),
    (lambda: hardest_case(0), "n_inputs"),
])
def test_bad_inputs_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()
