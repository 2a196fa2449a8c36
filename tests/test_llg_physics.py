"""Macrospin LLG against analytic physics: norm and energy, Kittel, Boltzmann, Sun threshold."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spinjax as sj
from spinjax.constants import ELEMENTARY_CHARGE, GAMMA, HBAR, K_B, MU0


def _neuron(**kw):
    return sj.sot_mtj_neuron(temperature=0.0, **kw)


def test_norm_conserved_and_energy_non_increasing():
    system = _neuron()
    m0 = jnp.array([0.5, 0.8, 0.3])
    ts = jnp.linspace(0.0, 10e-9, 400)
    traj = sj.simulate(system, m0, t1=10e-9, save_at=ts)
    norms = jnp.linalg.norm(traj.m, axis=-1)
    assert float(jnp.max(jnp.abs(norms - 1.0))) < 1e-6
    energy = jax.vmap(lambda m: system.energy(0.0, sj.Vec3.from_array(m)))(traj.m)
    # Damping only removes energy; allow rounding of the (1e-19 J) energy at 1e-12 relative.
    increases = jnp.diff(energy)
    assert float(jnp.max(increases)) <= 1e-12 * float(jnp.max(jnp.abs(energy)))
    assert float(energy[-1]) < float(energy[0])


def test_small_angle_precession_at_kittel_frequency():
    h_applied = 20e-3 / MU0  # 20 mT along the easy axis y
    base = _neuron()
    system = eqx.tree_at(lambda s: s.fields, base,
                         base.fields + (sj.Zeeman(jnp.array([0.0, h_applied, 0.0])),))
    n = system.magnet.geometry.demag_factors()
    ms = system.magnet.Ms
    omega = GAMMA * jnp.sqrt((h_applied + (n[0] - n[1]) * ms) * (h_applied + (n[2] - n[1]) * ms))
    f_kittel = float(omega) / (2 * math.pi)

    t1 = 2e-9
    ts = jnp.linspace(0.0, t1, 8001)
    traj = sj.simulate(system, jnp.array([0.02, 1.0, 0.0]), t1=t1, save_at=ts, rtol=1e-9,
                       atol=1e-12)
    mx = np.asarray(traj.m[:, 0])
    t = np.asarray(ts)
    # Upward zero crossings of m_x, located by linear interpolation.
    idx = np.nonzero((mx[:-1] < 0) & (mx[1:] >= 0))[0]
    crossings = t[idx] - mx[idx] * (t[idx + 1] - t[idx]) / (mx[idx + 1] - mx[idx])
    f_measured = (len(crossings) - 1) / (crossings[-1] - crossings[0])
    # Damping shifts the frequency by O(alpha^2) = 1.5e-4; interpolation error is < 1e-4.
    assert f_measured == pytest.approx(f_kittel, rel=0.01)


def _boltzmann_cdf(u, delta):
    # p(m_z) ∝ exp(Delta m_z^2) on [-1, 1] (sin(theta) is the Jacobian of d cos(theta)).
    grid = np.linspace(-1.0, 1.0, 20001)
    pdf = np.exp(delta * grid**2)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(grid))])
    return np.interp(u, grid, cdf / cdf[-1])


@pytest.mark.parametrize("noise,dtype", [("gaussian", jnp.float64), ("three_point", jnp.float32)])
def test_thermal_equilibrium_is_boltzmann(noise, dtype):
    # Uniaxial magnet (axial symmetry), Delta = 5 at 300 K. Devices start half up, half down,
    # so the symmetric double well is populated correctly without waiting for hops; after
    # ~6 intra-well relaxation times each device is one independent sample.
    delta = 5.0
    material = sj.Material(Ms=1.0e6, alpha=0.1)
    geometry = sj.EllipticCylinder(20e-9, 20e-9, 2e-9)
    k_u = delta * K_B * 300.0 / geometry.volume
    system = sj.Macrospin(sj.FreeLayer(material, geometry),
                          fields=(sj.UniaxialAnisotropy(K=k_u, axis=(0.0, 0.0, 1.0)),),
                          temperature=300.0)
    assert float(system.thermal_stability()) == pytest.approx(delta, rel=1e-6)
    n = 4000
    m0 = jnp.zeros((n, 3)).at[:, 2].set(jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0))
    traj = sj.simulate(system, m0, t1=5e-9, dt=1e-12, key=jax.random.key(7), noise=noise,
                       dtype=dtype)
    mz = np.sort(np.asarray(traj.m[:, 2], np.float64))
    cdf = _boltzmann_cdf(mz, delta)
    ecdf_hi = np.arange(1, n + 1) / n
    ecdf_lo = np.arange(0, n) / n
    ks = max(np.max(ecdf_hi - cdf), np.max(cdf - ecdf_lo))
    # Kolmogorov–Smirnov at a false-alarm rate of 1e-3: D_crit = 1.95 / sqrt(n) = 0.031.
    # The O(dt) bias of the scheme (gamma H_k dt = 0.012 rad) is far below this.
    assert ks < 1.95 / math.sqrt(n)


def _sun_critical_current(system):
    # Sun, PRB 62, 570 (2000); SOT form in Liu et al., Science 336, 555 (2012):
    # I_s,c = (2q/hbar) alpha mu0 Ms V (H_1 + H_2)/2 with the two transverse stiffness fields
    # H_1 = (N_x - N_y) Ms (in-plane) and H_2 = (N_z - N_y) Ms (out-of-plane), i.e.
    # H_k + M_eff/2 with M_eff = (N_z - N_x) Ms. Charge current: divide by theta L / t_HM.
    layer = system.magnet
    n = layer.geometry.demag_factors()
    h1 = (n[0] - n[1]) * layer.Ms
    h2 = (n[2] - n[1]) * layer.Ms
    i_spin = 2 * ELEMENTARY_CHARGE / HBAR * layer.alpha * MU0 * layer.moment * (h1 + h2) / 2
    return float(i_spin / system.torques[0].efficiency(layer)), float(h1 + h2)


def _switching_times(ratios, t1):
    system = _neuron()
    i_c, _ = _sun_critical_current(system)
    batched, axes = sj.vary(system, lambda s: s.torques[0].current.value,
                            jnp.asarray(ratios) * i_c)
    ts = jnp.linspace(0.0, t1, 3001)
    tilt = math.radians(2.0)
    m0 = jnp.array([math.sin(tilt), math.cos(tilt), 0.0])
    traj = sj.simulate(batched, m0, t1=t1, save_at=ts, system_axes=axes, rtol=1e-8, atol=1e-10)
    my = np.asarray(traj.m[:, :, 1])
    switched = my < 0.0
    first = np.where(switched.any(axis=1), np.argmax(switched, axis=1), -1)
    return np.where(first >= 0, np.asarray(ts)[first], np.inf), my[:, -1]


def test_zero_temperature_sot_threshold_matches_sun_formula():
    # Sun's current is the linear-stability threshold of the P state: 10 % below it a tilted
    # magnet relaxes back, 10 % above it the precession cone grows. (Complete reversal of this
    # in-plane disk needs ~1.2 I_c: between I_c and that current the torque sustains a stable
    # large-angle precession, the regime of spin-torque oscillators.)
    ratios = [0.9, 1.1]
    system = _neuron()
    i_c, _ = _sun_critical_current(system)
    batched, axes = sj.vary(system, lambda s: s.torques[0].current.value,
                            jnp.asarray(ratios) * i_c)
    t1 = 60e-9
    ts = jnp.linspace(0.0, t1, 6001)
    tilt = math.radians(2.0)
    m0 = jnp.array([math.sin(tilt), math.cos(tilt), 0.0])
    traj = sj.simulate(batched, m0, t1=t1, save_at=ts, system_axes=axes, rtol=1e-8, atol=1e-10)
    deviation = 1.0 - np.asarray(traj.m[:, :, 1])  # 1 - m_y, cone size
    start = 1.0 - math.cos(tilt)
    late = deviation[:, -1000:].max(axis=1)  # over the last 10 ns: several precession periods
    assert late[0] < 0.1 * start  # decays below threshold
    assert late[1] > 10.0 * start  # grows above threshold


def test_switching_time_scales_inversely_with_overdrive():
    ratios = np.array([1.5, 2.0, 3.0, 5.0])
    t_sw, _ = _switching_times(ratios, t1=20e-9)
    assert np.all(np.isfinite(t_sw))
    x = 1.0 / (ratios - 1.0)
    slope, intercept = np.polyfit(x, t_sw, 1)
    residual = t_sw - (slope * x + intercept)
    r2 = 1 - np.sum(residual**2) / np.sum((t_sw - t_sw.mean()) ** 2)
    assert r2 > 0.99
    # Linear growth rate of the precession cone: alpha gamma (H1 + H2)/2 (I/Ic - 1) / (1 + a^2)
    # from the 2-degree tilt to O(1) angle: slope ≈ ln(1 / 0.035) / (alpha gamma (H1+H2)/2).
    system = _neuron()
    _, h_sum = _sun_critical_current(system)
    rate = float(system.magnet.alpha) * GAMMA * h_sum / 2
    expected = math.log(1.0 / math.radians(2.0)) / rate
    assert 0.5 * expected < slope < 2.0 * expected
