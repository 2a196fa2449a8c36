"""The 1D (q, phi) domain-wall model: analytic limits, micromagnetics, thermal, gradients.

Parameters are Pt/Co-like: Ms = 1.1 MA/m, A = 16 pJ/m, K_eff = 0.45 MJ/m^3 (Delta = 5.96 nm),
D = 1.2 mJ/m^2 (H_DMI = 1.46e5 A/m, v_D = 301 m/s), alpha = 0.3, theta_SH = 0.1,
t_FM = 0.8 nm (j_D = 1.47e12 A/m^2). Compile time dominates: each group of checks runs as one
vmapped solve of one model structure.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spinjax.constants import GAMMA, K_B, MU0
from spinjax.domainwall import (DomainWallStrip, HarmonicPinning, PeriodicPinning, solve_wall,
                                solve_wall_thermal, wall_displacement)
from spinjax.micromag import (Demag, Exchange, InterfacialDMI, Mesh, Micromagnet,
                              SpinOrbitTorque, UniaxialAnisotropy, ZhangLiTorque, relax, run)
from spinjax.waveforms import Constant, Pulse, PulseTrain

MS, A_EX, K_EFF, D_DMI, ALPHA, THETA, T_FM, WIDTH = (1.1e6, 1.6e-11, 4.5e5, 1.2e-3, 0.3, 0.1,
                                                     0.8e-9, 20e-9)


def strip(**kw):
    """The test strip; every float is an array leaf so that batches share one compile."""
    p = dict(Ms=MS, A=A_EX, alpha=ALPHA, D=D_DMI, length=2e-6, width=WIDTH, thickness=T_FM,
             K_eff=K_EFF, shape_anisotropy=0.0, current=Constant(0.0), spin_hall_angle=THETA,
             polarization=0.0, beta=0.0, Hz=0.0)
    p.update(kw)
    return DomainWallStrip(**p)


# --- 1. analytic limits of the 1D model -----------------------------------------------------
def test_analytic_limits():
    k_d = 2e5                                    # Bloch-favouring wall anisotropy for Walker
    h_w = ALPHA * k_d / (MU0 * MS)               # alpha H_K / 2
    # Columns: D, K_D, j, theta_SH, P, beta, Hz.
    cases = np.array([
        [0.0, k_d, 0.0, 0.0, 0.0, 0.0, 0.5 * h_w],     # 0 field, below Walker
        [0.0, k_d, 0.0, 0.0, 0.0, 0.0, 2.0 * h_w],     # 1 field, precessional
        [D_DMI, 0.0, 5e11, THETA, 0.0, 0.0, 0.0],      # 2 SOT, chiral wall
        [D_DMI, 0.0, 3e12, THETA, 0.0, 0.0, 0.0],      # 3 SOT, near saturation
        [D_DMI, 0.0, 3e13, THETA, 0.0, 0.0, 0.0],      # 4 SOT, saturated (j = 20 j_D)
        [D_DMI, 3e4, 1.5e12, THETA, 0.0, 0.0, 0.0],    # 5 SOT with wall anisotropy
        [D_DMI, 0.0, 1e12, 0.0, 0.6, 0.05, 0.0],       # 6 Zhang-Li, beta != alpha
        [D_DMI, 0.0, 1e12, 0.0, 0.6, ALPHA, 0.0],      # 7 Zhang-Li, beta = alpha
    ])

    def build(c):
        return strip(D=c[0], shape_anisotropy=c[1], current=Constant(c[2]),
                     spin_hall_angle=c[3], polarization=c[4], beta=c[5], Hz=c[6])

    t1 = 2e-9
    ts = jnp.linspace(0.0, t1, 401)
    traj = jax.vmap(lambda c: solve_wall(build(c), t1, 1e-6, save_at=ts))(jnp.asarray(cases))
    q, phi, ts = np.asarray(traj.q), np.asarray(traj.phi), np.asarray(ts)
    # Late-time velocity over [1.5, 2] ns: transients decay at >= 1.4e10 /s (tau <= 70 ps),
    # so e^-20 after 1.5 ns; the solver (rtol 1e-7 on q in nm) adds < 1e-5 relative.
    v = (q[:, -1] - q[:, -101]) / (ts[-1] - ts[-101])
    models = [build(jnp.asarray(c)) for c in cases]
    delta = float(models[0].wall_width())

    np.testing.assert_allclose(float(models[0].walker_field()), h_w, rtol=1e-6)
    np.testing.assert_allclose(v[0], GAMMA * delta * cases[0, 6] / ALPHA, rtol=1e-4)

    # Above Walker (D = 0): average over whole precession periods (phi advances by pi) of
    # v = gamma Delta / (1 + alpha^2) (alpha Hz + (Hz - sqrt(Hz^2 - H_W^2)) / alpha)
    # (Schryer & Walker, JAP 45, 5406 (1974)). Crossing times interpolated between saves 5 ps
    # apart: < 1e-4.
    hz = cases[1, 6]
    expected = GAMMA * delta / (1 + ALPHA**2) * (ALPHA * hz + (hz - np.sqrt(hz**2 - h_w**2))
                                                 / ALPHA)
    late = ts > 0.5e-9
    levels = phi[1, late][0] + np.pi * np.arange(1, int((phi[1, -1] - phi[1, late][0]) / np.pi))
    assert levels.size >= 6   # many periods, and the wall precesses at all (|dphi| >> pi)
    t_cross = np.interp(levels, phi[1, late], ts[late])
    q_cross = np.interp(levels, phi[1, late], q[1, late])
    v_mean = (q_cross[-1] - q_cross[0]) / (t_cross[-1] - t_cross[0])
    np.testing.assert_allclose(v_mean, expected, rtol=1e-3)
    assert v_mean < 0.5 * GAMMA * delta * hz / ALPHA  # far below the steady-state line

    # SOT-driven chiral wall: closed form (K_D = 0), saturation at v_D; with K_D the
    # steady-state root solver. Walls move against j for D theta_SH > 0.
    # With s = j / j_D: v = -v_D s / sqrt(1 + s^2), v_D = pi gamma D / (2 mu0 Ms).
    v_d = np.pi * GAMMA * D_DMI / (2 * MU0 * MS)
    np.testing.assert_allclose(float(models[4].dmi_saturation_velocity()), v_d, rtol=1e-12)
    j_d = float(models[2].sot_saturation_current_density())
    for i in (2, 3, 4):
        s = cases[i, 2] / j_d
        np.testing.assert_allclose(v[i], -v_d * s / np.sqrt(1 + s**2), rtol=1e-4)
        np.testing.assert_allclose(v[i], float(models[i].sot_velocity(cases[i, 2])), rtol=1e-4)
        np.testing.assert_allclose(float(models[i].steady_state()[0]), v[i], rtol=1e-4)
    assert 0.998 * v_d < -v[4] < v_d                     # saturated at v_D
    v5, phi5 = models[5].steady_state()
    np.testing.assert_allclose(v[5], float(v5), rtol=1e-4)
    np.testing.assert_allclose(phi[5, -1], float(phi5), atol=1e-5)
    assert abs(float(v5) / float(models[5].sot_velocity(1.5e12)) - 1) > 0.01  # K_D matters

    # Zhang-Li: v = (beta / alpha) u below Walker, u itself for beta = alpha.
    u = float(models[6].spin_drift_velocity(1e12))
    np.testing.assert_allclose(u, -31.58, rtol=1e-3)   # -P mu_B j / (q Ms)
    np.testing.assert_allclose(v[6], 0.05 / ALPHA * u, rtol=1e-4)
    np.testing.assert_allclose(v[7], u, rtol=1e-4)


# --- wall shape anisotropy vs micromagnetic demag ------------------------------------------
def test_wall_anisotropy_matches_newell_demag():
    # K_D = (E_Néel - E_Bloch) / (2 Delta w t) from spinjax.micromag's Newell demag of the two
    # ideal profiles on an n x 1 x 1 mesh (uniform across w x t, as the model assumes), for
    # narrow (Néel-favouring) to wide strips. Scale: K_T = (mu0 Ms^2/2) t ln2 / (pi Delta) =
    # 22.5 kJ/m^3. The mesh (dx = Delta/12, 480 nm long) differs from the formula by 0.6 % of
    # K_T, falling as dx^2 (0.15 % at dx = Delta/24); tolerance 2.5 % of K_T. The prism
    # approximation is off by > 100 % of K_T at every width here: the test tells them apart.
    dx, n = 0.5e-9, 960
    delta = np.sqrt(A_EX / K_EFF)
    x = (np.arange(n) + 0.5) * dx
    theta = 2 * np.arctan(np.exp((x - n * dx / 2) / delta))
    k_t = 0.5 * MU0 * MS**2 * T_FM * np.log(2) / (np.pi * delta)
    for width in (10e-9, 100e-9, 1e-6):
        mesh = Mesh((n, 1, 1), (dx, width, T_FM))
        system = Micromagnet(mesh, MS, A_EX, ALPHA, fields=(Demag(),))
        energy = {}
        for name, phi in (("neel", 0.0), ("bloch", np.pi / 2)):
            m = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi),
                          np.cos(theta)])
            energy[name] = float(system.energy(0.0, jnp.asarray(m)[:, :, None, None]))
        k_mm = (energy["neel"] - energy["bloch"]) / (2 * delta * width * T_FM)
        model = strip(width=width, shape_anisotropy=None)
        assert abs(float(model.wall_anisotropy()) - k_mm) < 0.025 * k_t, (width, k_mm)
        assert abs(float(model.prism_wall_anisotropy()) - k_mm) > 1.0 * k_t
    # Thin-film limit (Tarasenko et al. 1998).
    wide = strip(width=1e-3, thickness=1e-12, shape_anisotropy=None)
    np.testing.assert_allclose(float(wide.wall_anisotropy()),
                               0.5 * MU0 * MS**2 * 1e-12 * np.log(2) / (np.pi * delta),
                               rtol=2e-3)


# --- 2 and 3. against micromagnetics ---------------------------------------------------------
# 1D micromagnetic strip (n x 1 x 1 cells of 1.5 nm = Delta/4 along x, one cell across the
# 20 nm width and the 0.8 nm thickness). Both models use the same thin-film effective
# anisotropy K_eff = Ku - mu0 Ms^2/2 and no Demag: for t = 0.8 nm << Delta the film's demag
# field is local to O(t/Delta), and dropping it also removes the wall's Bloch-Néel anisotropy,
# so the 1D model gets shape_anisotropy = 0. The DMI edge condition acts on the x ends only
# (edge_axes=(0,)), as for a strip uniform across its width. The comparison then tests the
# rigid-profile reduction (and the signs of DMI, SOT and Zhang-Li) with no geometric
# approximation in between.
MM_CELL, MM_N = 1.5e-9, 200
MM_T1 = 0.4e-9
# (theta_SH, P, j): SOT only below saturation (j_D = 1.47e12), SOT + Zhang-Li, Zhang-Li only.
MM_CASES = np.array([[THETA, 0.0, 2.5e11], [THETA, 0.0, 7.5e11], [THETA, 0.0, 1.5e12],
                     [THETA, 0.5, 1.5e12], [0.0, 0.5, 1.5e12]])
MM_BETA = 0.1


def _walls(m, x, dx):
    """Zero crossings of m_z (interpolated) and the in-plane angle there: [(x, phi, Q)]."""
    mz = m[2, :, 0, 0]
    out = []
    for i in np.where(np.sign(mz[:-1]) != np.sign(mz[1:]))[0]:
        f = mz[i] / (mz[i] - mz[i + 1])
        mxy = (1 - f) * m[:2, i, 0, 0] + f * m[:2, i + 1, 0, 0]
        out.append((x[i] + f * dx, np.arctan2(mxy[1], mxy[0]), 1 if mz[i] > 0 else -1))
    return out


@pytest.fixture(scope="module")
def micromag_walls():
    mesh = Mesh((MM_N, 1, 1), (MM_CELL, WIDTH, T_FM))
    x = (np.arange(MM_N) + 0.5) * MM_CELL
    delta = np.sqrt(A_EX / K_EFF)
    # Up / down / up with two Bloch walls (phi = +pi/2): DMI must turn them Néel, the up/down
    # wall to phi = 0 and the down/up one to phi = pi (rest angles of the 1D model).
    theta = (2 * np.arctan(np.exp((x - 150e-9) / delta))
             - 2 * np.arctan(np.exp((x - 250e-9) / delta)))
    m0 = jnp.asarray(np.stack([0 * x, np.sin(theta), np.cos(theta)])[:, :, None, None])
    fields = (Exchange(), UniaxialAnisotropy(K_EFF), InterfacialDMI(D_DMI, edge_axes=(0,)))
    m_rel = relax(Micromagnet(mesh, MS, A_EX, ALPHA, fields=fields), m0, tol=5.0, t_max=0.5e-9)
    ts = jnp.linspace(0.0, MM_T1, 5)

    def one(c):
        j = jnp.stack([c[2], 0.0, 0.0])
        torques = (SpinOrbitTorque(c[0], j, thickness=T_FM),
                   ZhangLiTorque(c[1], j, beta=MM_BETA))
        system = Micromagnet(mesh, MS, A_EX, ALPHA, fields=fields, torques=torques)
        return run(system, m_rel, MM_T1, ts, save_fields=True, rtol=1e-6, atol=1e-6).m

    ms = np.asarray(jax.vmap(one)(jnp.asarray(MM_CASES)))
    walls = [[_walls(m, x, MM_CELL) for m in case] for case in ms]
    return np.asarray(ts), _walls(np.asarray(m_rel), x, MM_CELL), walls


def _one_d(case, wall_type, q0, phi0, ts):
    model = strip(length=MM_N * MM_CELL, current=Constant(case[2]), spin_hall_angle=case[0],
                  polarization=case[1], beta=MM_BETA, wall_type=wall_type)
    return solve_wall(model, MM_T1, q0, phi0, save_at=ts), model


def test_relaxed_micromagnetic_walls_have_the_1d_rest_angles(micromag_walls):
    _, relaxed, _ = micromag_walls
    assert [w[2] for w in relaxed] == [1, -1]
    for q_pos, phi, wall_type in relaxed:
        rest = float(strip(wall_type=wall_type).rest_angle())
        # Angles compared modulo 2 pi; the relaxation stops at |m x H| < 5 A/m << H_DMI.
        assert abs(np.angle(np.exp(1j * (phi - rest)))) < 1e-3
    np.testing.assert_allclose(float(strip(wall_type=1).rest_angle()), 0.0, atol=1e-9)
    np.testing.assert_allclose(abs(float(strip(wall_type=-1).rest_angle())), np.pi, atol=1e-9)


def test_sot_velocity_micromagnetics_vs_1d(micromag_walls):
    ts, relaxed, walls = micromag_walls
    window = slice(2, None)   # velocity over [0.2, 0.4] ns: the phi transient (~70 ps) is over
    for c, case in enumerate(MM_CASES):
        for w, (q0, phi0, wall_type) in enumerate(relaxed):
            q_mm = np.array([walls[c][k][w][0] for k in range(len(ts))])
            phi_mm = walls[c][-1][w][1]
            traj, model = _one_d(case, wall_type, q0, phi0, jnp.asarray(ts))
            v_mm = (q_mm[-1] - q_mm[window.start]) / (ts[-1] - ts[window.start])
            q1 = np.asarray(traj.q)
            v_1d = (q1[-1] - q1[window.start]) / (ts[-1] - ts[window.start])
            # Measured agreement is 0.5 % (Delta/dx = 4: the discrete exchange and DMI shift
            # Delta and H_DMI by O((dx/Delta)^2 / 12) ~ 0.5 %; the profile hardly distorts
            # below j_D). 5 % leaves room for that and stays far below the 15 % spec.
            np.testing.assert_allclose(v_mm, v_1d, rtol=0.05, err_msg=f"case {case}, Q={wall_type}")
            assert abs(np.angle(np.exp(1j * (phi_mm - float(traj.phi[-1]))))) < 0.05
            # SOT only: the closed-form steady velocity as well. The phi transient (rate
            # 1.4e10 /s, starting from q' = alpha^2 v / (1 + alpha^2)) still lowers the mean
            # over [0.2, 0.4] ns by ~2 % at the lowest j; 5 % covers it.
            if case[1] == 0.0:
                np.testing.assert_allclose(v_mm, float(model.sot_velocity(case[2])), rtol=0.05)
    # Both walls move together, against the current (D theta_SH > 0).
    q_end = np.array([[walls[c][-1][w][0] - walls[c][0][w][0] for w in range(2)]
                      for c in range(len(MM_CASES))])
    assert np.all(q_end < 0)
    np.testing.assert_allclose(q_end[:, 0], q_end[:, 1], rtol=0.03)


def test_spin_hall_assist_beats_zhang_li_alone(micromag_walls):
    # Same j = 1.5e12 A/m^2, P = 0.5, beta = 0.1: Zhang-Li alone moves the wall at
    # (beta/alpha) u ≈ -13 m/s, with the SOT of theta_SH = 0.1 at ≈ -250 m/s. Demand a factor
    # > 10 in both models (measured ≈ 18).
    ts, relaxed, walls = micromag_walls
    q0 = relaxed[0][0]
    dq_mm = {c: walls[c][-1][0][0] - walls[c][0][0][0] for c in (3, 4)}
    dq_1d = {}
    for c in (3, 4):
        traj, _ = _one_d(MM_CASES[c], 1, q0, relaxed[0][1], jnp.asarray(ts))
        dq_1d[c] = float(traj.q[-1] - traj.q[0])
    for dq in (dq_mm, dq_1d):
        assert dq[3] < 0 and dq[4] < 0
        assert dq[3] / dq[4] > 10.0
    np.testing.assert_allclose(dq_mm[4], dq_1d[4], rtol=0.05)


# --- 4. displacement ∝ j t, and 6. gradients ---------------------------------------------
def _pulse_displacement(j, width, D, rtol):
    model = strip(D=D, current=Pulse(j, width, 0.1e-9))
    return wall_displacement(model, 3.6e-9, 1e-6, rtol=rtol, atol=rtol)


def _batch_displacement(js, widths, ds, rtol=1e-7):
    # One compile serves every batch of this shape (rtol is traced by solve_wall).
    return np.asarray(jax.vmap(_pulse_displacement, in_axes=(0, 0, 0, None))(
        jnp.asarray(js), jnp.asarray(widths), jnp.asarray(ds), rtol))


def test_displacement_proportional_to_charge():
    js = jnp.array([1e11, 2e11, 3e11, 1e11])
    widths = jnp.array([3e-9, 1.5e-9, 1e-9, 1.5e-9])
    dx = _batch_displacement(js, widths, jnp.full(4, D_DMI))
    model = strip()
    # Below saturation dx = v(j) t with v = -(pi/2) gamma Delta H_SH cos(phi*) / alpha; the
    # non-linearity 1 - cos(phi*) ≈ (j/j_D)^2 / 2 is < 2.1 % at j = 3e11 (j_D = 1.47e12).
    # Pulse edges: phi relaxes back to 0 after the pulse, so the total displacement is
    # (Delta/alpha) ∫R2 dt exactly (no inertial remainder); R2 ∝ cos(phi(t)) exceeds its
    # steady value only during the ~70 ps turn of phi: (1 - cos phi*) x 70 ps / t ≈ 0.2 %
    # of dx at 3e11 for 1 ns; tolerance 0.5 %.
    assert np.all(dx < 0)
    np.testing.assert_allclose(dx[:3], dx[0], rtol=0.025)                # equal j t
    np.testing.assert_allclose(dx[1] / dx[3], 2.0, rtol=0.01)             # linear in j
    for k in range(4):
        expected = float(model.sot_velocity(js[k])) * float(widths[k])
        np.testing.assert_allclose(dx[k], expected, rtol=5e-3)


@pytest.mark.slow  # ~25-40 s on 2 cores; runs with `pytest -m slow`
def test_gradients_match_finite_differences():
    # Tight solver tolerances make the solve a smooth function of the parameters to ~1e-10
    # relative, so central differences with a 1e-4 relative step are good to ~1e-7
    # (truncation O(h^2) ~ 1e-8); tolerance 1e-5.
    j, w, d, rtol = 2e11, 1.5e-9, D_DMI, 1e-10
    grad = jax.grad(lambda a, b: _pulse_displacement(a, w, b, rtol), argnums=(0, 1))(j, d)
    hj, hd = 1e-4 * j, 1e-4 * d
    f = _batch_displacement([j + hj, j - hj, j, j], [w] * 4, [d, d, d + hd, d - hd], rtol)
    np.testing.assert_allclose(float(grad[0]), (f[0] - f[1]) / (2 * hj), rtol=1e-5)
    np.testing.assert_allclose(float(grad[1]), (f[2] - f[3]) / (2 * hd), rtol=1e-5)
    assert float(grad[0]) < 0 and float(grad[1]) < 0   # larger j, D: farther against j


# --- 5. thermal: Boltzmann statistics in a harmonic well -----------------------------------
def test_thermal_wall_in_harmonic_well_is_boltzmann():
    temp, k_d, sigma_q = 300.0, 2e4, 5e-9
    stiffness = K_B * temp / sigma_q**2
    model = strip(length=1e-6, shape_anisotropy=k_d, temperature=temp,
                  pinning=(HarmonicPinning(stiffness, 500e-9),))
    # Step: the fastest rate |lambda| of the linearised (q, phi) drift sets the Heun bias of
    # the stationary variance, -(|lambda| dt)^2 / 4 (Ornstein-Uhlenbeck); keep it < 1e-3.
    jac = jax.jacfwd(lambda y: jnp.stack(model.rates(0.0, y[0], y[1])))(jnp.array([500e-9, 0.0]))
    lam = np.linalg.eigvals(np.asarray(jac))
    dt = 1e-12
    assert np.abs(lam).max() * dt < 0.06
    n_walls = 2000
    keys = jax.random.split(jax.random.key(7), n_walls)
    traj = jax.vmap(lambda k: solve_wall_thermal(model, 5e-9, dt, k, 500e-9, 0.0,
                                                 save_every=100))(keys)
    # The walls start at the energy minimum; the variance approaches its stationary value as
    # 1 - exp(-2 rate t) for the slowest rate (6.8e9 /s): discarding 1 ns leaves < 1e-5.
    rate_min = (-lam.real).min()
    assert rate_min > 0 and np.exp(-2 * rate_min * 1e-9) < 1e-5
    q = np.asarray(traj.q[:, 10:]) - 500e-9
    phi = np.asarray(traj.phi[:, 10:])
    # 40 samples per wall 100 ps apart, 80000 in all; neighbours correlate by
    # rho = exp(-rate_min 100 ps) ≈ 0.5, so the sample variance has the error of
    # 80000 (1 - rho^2) / (1 + rho^2) ≈ 47000 independent samples, sqrt(2 / 47000) = 0.7 %:
    # tolerance 3 % (> 4 sigma). The mean, with (1 - rho) / (1 + rho) ≈ 1/3 of the samples,
    # is known to 5 nm / sqrt(26000) = 0.03 nm: tolerance 0.15 nm.
    np.testing.assert_allclose(np.var(q), sigma_q**2, rtol=0.03)
    assert abs(np.mean(q)) < 0.15e-9
    # phi: Boltzmann law exp(-S sigma(phi) / k_B T), sigma = 2 Delta K_D cos^2 - pi D cos,
    # by quadrature. <1 - cos phi> ≈ 0.034 with sample std ≈ 0.05 (phi relaxes faster than
    # q): relative error < 1 % for > 26000 effective samples; tolerance 4 %.
    grid = np.linspace(-np.pi, np.pi, 20001)
    e = np.asarray(jax.vmap(lambda p: model.energy(500e-9, p))(jnp.asarray(grid)))
    w = np.exp(-(e - e.min()) / (K_B * temp))
    expected = np.sum((1 - np.cos(grid)) * w) / np.sum(w)
    np.testing.assert_allclose(np.mean(1 - np.cos(phi)), expected, rtol=0.04)

    # Batching does not change a wall's path: noise is a function of (key, step) only.
    single = solve_wall_thermal(model, 5e-9, dt, keys[3], 500e-9, 0.0, save_every=100)
    np.testing.assert_allclose(np.asarray(single.q), np.asarray(traj.q[3]), rtol=1e-12)


# --- pinning and strip ends ------------------------------------------------------------------
def test_periodic_pinning_and_strip_ends():
    # Below the depinning field the wall stops in the pinning landscape; above it, it moves.
    # A wall driven into an end stays at q = L (clipped) and comes back with reverse current.
    pin = PeriodicPinning(2e-21, 20e-9, 0.0)
    h_dep = float(pin.depinning_field(strip()))
    np.testing.assert_allclose(h_dep, np.pi * 2e-21 / (2 * MU0 * MS * WIDTH * T_FM * 20e-9))
    ts = jnp.array([0.0, 1e-9, 2e-9, 3e-9])
    length = 300e-9

    def run_case(c):
        current = PulseTrain(jnp.stack([c[1], -c[1]]), jnp.array([1.2e-9, 0.5e-9]),
                             jnp.array([0.0, 1.5e-9]))
        model = strip(length=length, Hz=c[0], pinning=(pin,), current=current)
        return solve_wall(model, 3e-9, 100e-9, 0.0, save_at=ts).q

    # The SOT moves walls against j here: j < 0 drives the wall to +x, into the end.
    cases = jnp.array([[0.8 * h_dep, 0.0], [2.0 * h_dep, 0.0], [0.0, -3e12]])
    q = np.asarray(jax.vmap(run_case)(cases))
    # Pinned: the wall settles (relaxation time ~0.2 ns) at rest within the first period.
    assert abs(q[0, -1] - q[0, -2]) < 1e-12
    assert 0 < q[0, -1] - 100e-9 < 5e-9
    # Depinned: free motion would be gamma Delta Hz / alpha ≈ 60 nm/ns; the washboard slows it.
    assert q[1, -1] - q[1, -2] > 20e-9
    # SOT at -3e12 (v ≈ +270 m/s) reaches the end (200 nm away) before 1 ns, stays there
    # to 1.2 ns, then the reverse pulse (0.5 ns) brings it back by ~130 nm.
    np.testing.assert_allclose(q[2, 1], length, rtol=0, atol=1e-15)
    assert q[2, 3] < length - 100e-9


# --- 7. bad inputs ---------------------------------------------------------------------------
@pytest.mark.parametrize("kw, match", [
    (dict(alpha=0.0), r"alpha = 0 is outside the allowed range \(0, 10\)"),
    (dict(alpha=-0.1), r"alpha"),
    (dict(width=-20e-9), r"width = -2e-08 m is outside the allowed range \(0, inf\) m"),
    (dict(thickness=0.0), r"thickness = 0 m is outside the allowed range \(0, inf\)"),
    (dict(length=float("inf")), r"length = inf m is outside the allowed range"),
    (dict(Ms=-1.0), r"Ms = -1 A/m is outside the allowed range \(0, inf\)"),
    (dict(A=0.0), r"A = 0 J/m is outside the allowed range \(0, inf\)"),
    (dict(K_eff=-1e5), r"K_eff = -100000 J/m\^3 is outside the allowed range \(0, inf\)"),
    (dict(K_eff=None, Ku=5e5), r"K_eff = Ku - mu0 Ms\^2/2 .* is outside the allowed range"),
    (dict(Ku=1.2e6), r"exactly one of Ku"),
    (dict(D=float("nan")), r"D = nan J/m\^2 is outside"),
    (dict(spin_hall_angle=1.5), r"spin_hall_angle = 1.5 is outside the allowed range \[-1, 1\]"),
    (dict(polarization=1.2), r"polarization = 1.2 is outside the allowed range \[0, 1\]"),
    (dict(temperature=-1.0), r"temperature = -1 K is outside the allowed range \[0, inf\)"),
    (dict(wall_type=0), r"wall_type = 0 is not allowed: \+1 \(up/down\) or -1"),
])
def test_bad_model_inputs(kw, match):
    with pytest.raises(ValueError, match=match):
        strip(**kw)


def test_bad_pinning_and_solver_inputs():
    with pytest.raises(ValueError, match=r"stiffness = -1 J/m\^2 is outside the allowed range "
                                         r"\[0, inf\)"):
        HarmonicPinning(-1.0)
    with pytest.raises(ValueError, match=r"period = 0 m is outside the allowed range \(0, inf\)"):
        PeriodicPinning(1e-20, 0.0)
    with pytest.raises(TypeError, match="pinning must be a tuple of AbstractPinning"):
        strip(pinning=(lambda q: q,))
    model = strip(length=1e-6)
    with pytest.raises(ValueError, match=r"t1 = -1e-09 s is outside the allowed range \(0, inf\)"):
        solve_wall(model, -1e-9, 0.5e-6)
    with pytest.raises(ValueError, match=r"q0 = 2e-06 m is outside the allowed range \[0, "
                                         r"length = 1e-06\] m"):
        solve_wall(model, 1e-9, 2e-6)
    with pytest.raises(ValueError, match=r"q0 = -1e-09 m is outside the allowed range \[0, inf\)"):
        solve_wall(model, 1e-9, -1e-9)
    with pytest.raises(ValueError, match=r"dt = 0 s is outside the allowed range \(0, inf\)"):
        solve_wall_thermal(model, 1e-9, 0.0, jax.random.key(0), 0.5e-6)
