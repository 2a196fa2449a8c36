"""Core finite-difference micromagnetics: fields, demag, DMI boundary, bad input (SP4: see
test_micromag_sp4.py).

Tolerances are set by the discretization error of each check (stated per test), not by
echoing the implementation.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spinjax import FreeLayer, HeavyMetal, Material, Rectangle, SpinOrbitTorque as MacroSOT
from spinjax.constants import MU0
from spinjax.micromag import (Demag, Exchange, InterfacialDMI, Mesh, Micromagnet,
                              SpinOrbitTorque, UniaxialAnisotropy, Zeeman, dipole_tensor,
                              ZhangLiTorque, disk_mask, ellipse_mask, newell_tensor, relax,
                              run, run_thermal)
from spinjax.waveforms import Constant

MS = 8.0e5
A_EX = 1.3e-11


# --- fields = -grad(energy) -----------------------------------------------------------------
def _irregular_system():
    # A 3D grid with holes, unequal cell sizes and every field term: exercises free faces of
    # the grid and of the mask along all axes.
    mask = np.ones((6, 5, 2), bool)
    mask[0, 0, :] = False
    mask[3, 2, 1] = False
    mask[5, 4, 0] = False
    mesh = Mesh((6, 5, 2), (2e-9, 3e-9, 1.5e-9), mask=mask)
    fields = (Exchange(), UniaxialAnisotropy(3e5, (0.3, 0.2, 1.0)),
              Zeeman(jnp.array([1e4, -2e4, 3e4])), InterfacialDMI(3e-3),
              Demag())
    return Micromagnet(mesh, MS, A_EX, 0.1, fields=fields)


def test_fields_are_minus_energy_gradient():
    # H = -(1/(mu0 Ms V)) dE/dm cell by cell, for an arbitrary (not unit) m: every term is a
    # polynomial in m, so this holds to rounding (1e-12 relative). The DMI term is checked
    # with and without the Rohart–Thiaville surface term on the y faces.
    system = _irregular_system()
    mesh = system.mesh
    m = jax.random.normal(jax.random.key(0), (3,) + mesh.shape) * mesh.weights()[None]
    for term in system.fields + (InterfacialDMI(3e-3, edge_axes=(0,)),
                                 Exchange(stencil="multilinear")):
        h = term.field(m, 0.0, system)
        grad = jax.grad(lambda m: term.energy(m, 0.0, system))(m)
        h_from_e = -grad / (MU0 * MS * mesh.cell_volume)
        scale = jnp.max(jnp.abs(h))
        assert scale > 0, type(term).__name__
        np.testing.assert_allclose(h, h_from_e, atol=1e-12 * scale, rtol=0,
                                   err_msg=type(term).__name__)
        # Nothing leaks into the masked-out cells.
        assert float(jnp.max(jnp.abs(h * (1 - mesh.weights())[None]))) == 0.0


def test_interior_exchange_and_dmi_match_continuum_formulas():
    # A Néel spiral m = (sin kx, 0, cos kx) along x: the 3-point Laplacian is exactly
    # -(2 - 2 cos kd)/d^2 m, and physics.md §3's H_DMI = -(2D/(mu0 Ms)) (dmz/dx, 0, -dmx/dx)
    # is reproduced by central differences up to the factor sin(kd)/(kd).
    n, d, k, D = 40, 1e-9, 2 * np.pi / 20e-9, 2e-3
    mesh = Mesh((n, 1, 1), (d, d, d))
    system = Micromagnet(mesh, MS, A_EX, 0.1, fields=())
    x = (np.arange(n) + 0.5) * d
    m = jnp.asarray(np.stack([np.sin(k * x), 0 * x, np.cos(k * x)])[:, :, None, None])
    inner = slice(1, n - 1)
    h_ex = Exchange().field(m, 0.0, system)
    lap = -(2 - 2 * np.cos(k * d)) / d**2 * np.asarray(m)
    np.testing.assert_allclose(h_ex[:, inner], (2 * A_EX / (MU0 * MS) * lap)[:, inner],
                               rtol=0, atol=1e-9 * float(jnp.max(jnp.abs(h_ex))))
    h_dmi = InterfacialDMI(D, edge_axes=(0,)).field(m, 0.0, system)
    dmx, dmz = k * np.cos(k * x), -k * np.sin(k * x)
    spec = -(2 * D / (MU0 * MS)) * np.stack([dmz, 0 * x, -dmx]) * np.sin(k * d) / (k * d)
    np.testing.assert_allclose(h_dmi[:, inner, 0, 0], spec[:, inner], rtol=0,
                               atol=1e-9 * np.max(np.abs(spec)))


def test_multilinear_exchange_stencil_and_spectrum():
    # In a film it is the 9-point stencil (1/3h^2)[[1,1,1],[1,-8,1],[1,1,1]] of bilinear
    # elements with lumped mass. With Neumann faces the modes cos(pi k (i + 1/2) / n) are
    # exact eigenvectors of both stencils, with eigenvalues (a = 2 - 2 cos(pi k / n),
    # mu = (4 + 2 cos(pi k / n)) / 6, h = 1) nearest a_x + a_y and multilinear
    # a_x mu_y + a_y mu_x: the largest is ~4/h^2 instead of ~8/h^2. The unmasked fast path
    # equals the masked stencil with an all-True mask (3D, unequal cells), and a profile
    # varying along x only gets exactly the nearest-neighbour field.
    coeff, n = 2 * A_EX / (MU0 * MS), 24
    mesh = Mesh((n, n, 1), (1.0, 1.0, 1.0))
    system = Micromagnet(mesh, MS, A_EX, 0.1, fields=())
    delta = jnp.zeros((3, n, n, 1)).at[0, 12, 12, 0].set(1.0)
    lap = Exchange(stencil="multilinear").field(delta, 0.0, system)[0, 11:14, 11:14, 0] / coeff
    np.testing.assert_allclose(3 * lap, [[1, 1, 1], [1, -8, 1], [1, 1, 1]], atol=1e-12)
    i = np.arange(n) + 0.5
    for kx, ky in ((n - 1, 0), (n - 1, n - 1), (3, 5)):
        mode = np.cos(np.pi * kx * i / n)[:, None] * np.cos(np.pi * ky * i / n)[None, :]
        v = jnp.asarray(np.stack([mode, 0 * mode, 0 * mode])[..., None])
        ax, ay = (2 - 2 * np.cos(np.pi * k / n) for k in (kx, ky))
        mux, muy = ((4 + 2 * np.cos(np.pi * k / n)) / 6 for k in (kx, ky))
        for stencil, lam in (("nearest", ax + ay), ("multilinear", ax * muy + ay * mux)):
            h = Exchange(stencil=stencil).field(v, 0.0, system) / coeff
            np.testing.assert_allclose(h, -lam * v, rtol=0, atol=1e-12)
        if (kx, ky) == (n - 1, 0):
            assert 3.9 < ax * muy + ay * mux < 4.0
        if (kx, ky) == (n - 1, n - 1):
            assert 7.9 < ax + ay < 8.0

    shape, cell = (6, 5, 3), (2e-9, 3e-9, 1.5e-9)
    m = jax.random.normal(jax.random.key(1), (3,) + shape)
    ml = Exchange(stencil="multilinear")
    h_fast = ml.field(m, 0.0, Micromagnet(Mesh(shape, cell), MS, A_EX, 0.1))
    full = Mesh(shape, cell, mask=np.ones(shape, bool))
    h_mask = ml.field(m, 0.0, Micromagnet(full, MS, A_EX, 0.1))
    np.testing.assert_allclose(h_fast, h_mask, rtol=0, atol=1e-12 * float(jnp.max(h_fast)))
    m_x = jnp.broadcast_to(m[:, :, :1, :1], m.shape)
    np.testing.assert_allclose(ml.field(m_x, 0.0, Micromagnet(full, MS, A_EX, 0.1)),
                               Exchange().field(m_x, 0.0, Micromagnet(full, MS, A_EX, 0.1)),
                               rtol=0, atol=1e-12 * float(jnp.max(h_fast)))
    with pytest.raises(ValueError, match="stencil"):
        Exchange(stencil="9-point")


# --- demag ----------------------------------------------------------------------------------
def _demag_factors(mesh):
    system = Micromagnet(mesh, MS, A_EX, 0.1, fields=(Demag(),))
    out = []
    for axis in range(3):
        m = mesh.uniform(np.eye(3)[axis])
        e = system.energy(0.0, m)
        out.append(float(e / (0.5 * MU0 * MS**2 * mesh.volume())))
    return np.array(out)


@pytest.mark.parametrize("shape, cell", [((1, 1, 1), (2e-9, 2e-9, 2e-9)),
                                         ((4, 4, 4), (1e-9, 1e-9, 1e-9)),
                                         ((64, 64, 1), (2e-9, 2e-9, 1e-9)),
                                         ((50, 12, 1), (10e-9, 125e-9 / 12, 3e-9))])
def test_demag_of_uniform_prism_matches_aharoni(shape, cell):
    # Newell's tensor is exact for uniformly magnetized cells, so the energy of a uniformly
    # magnetized prism gives its demag factors to rounding plus the far-field dipole cutoff
    # (6e-8 absolute on N_xx of the 64 x 64 film, whose far cells are beyond 40 cell sizes):
    # compared with Aharoni's closed form at 1e-6 relative or 2e-7 absolute.
    mesh = Mesh(shape, cell)
    n = _demag_factors(mesh)
    expected = np.asarray(Rectangle(*mesh.size).demag_factors())
    np.testing.assert_allclose(n, expected, rtol=1e-6, atol=2e-7)
    if shape[0] == shape[1] == shape[2]:
        np.testing.assert_allclose(n, 1 / 3, rtol=1e-12)
    if shape == (64, 64, 1):
        assert n[2] > 0.97


def test_newell_far_field_approaches_dipole():
    # At the cutoff distance the Newell tensor and the point dipole agree to O((d/r)^2).
    cell = (5e-9, 5e-9, 3e-9)
    for r in (30, 40):
        pos = (np.array(r * 5e-9), np.array(7 * 5e-9), np.array(0.0))
        a = np.array([float(v) for v in newell_tensor(*pos, *cell)])
        b = np.array([float(v) for v in dipole_tensor(*pos, *cell)])
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-3 * np.max(np.abs(b)))


def test_demag_of_masked_disk_is_in_plane_symmetric():
    # A thin disk: N_xx = N_yy by symmetry, N_zz close to 1 (thin film), sum = 1 exactly.
    shape, cell = (24, 24, 1), (2e-9, 2e-9, 2e-9)
    mesh = Mesh(shape, cell, mask=disk_mask(shape, cell, 46e-9))
    n = _demag_factors(mesh)
    np.testing.assert_allclose(n[0], n[1], rtol=1e-10)
    np.testing.assert_allclose(n.sum(), 1.0, rtol=1e-6)
    assert 0.85 < n[2] < 0.95


# --- DMI edge canting -----------------------------------------------------------------------
def test_dmi_edge_canting_matches_rohart_thiaville():
    # 1D PMA strip (no demag) with interfacial DMI. Continuum solution near the edge x = L:
    # tan(theta/2) = tan(theta_e/2) exp(-(L - x)/Delta), Delta = sqrt(A/K), with the boundary
    # condition dtheta/dx = D/(2A) at the edge, i.e. sin(theta_e) = D / (2 sqrt(A K)).
    # Cells of 0.5 nm = Delta/7.7: the discrete profile agrees to ~0.2 %; tolerance 1 %.
    # The y faces of the one-cell-wide strip either continue the film (edge_axes=(0,)), or
    # carry the Rohart–Thiaville ghost term as well, which for m in the xz plane adds the
    # uniaxial K_s = D^2 / (2A) (two faces of -(D^2/4A) (1 - m_x^2)): checked the same way.
    A, Ku, Ms, d, n = 1.5e-11, 1.0e6, 1.0e6, 0.5e-9, 60
    mesh = Mesh((n, 1, 1), (d, d, d))
    x = (np.arange(n) + 0.5) * d
    length = n * d

    def relaxed(D, edge_axes):
        system = Micromagnet(mesh, Ms, A, 0.5, fields=(
            Exchange(), UniaxialAnisotropy(Ku), InterfacialDMI(D, edge_axes=edge_axes)))
        # Stop at max |m x H| < 10 A/m: 1e-7 of the exchange field at this cell size.
        return relax(system, mesh.uniform((0.0, 0.0, 1.0)), tol=10.0, t_max=0.2e-9)

    Ds = jnp.array([2e-3, 3e-3])
    cases = [(Ds, jax.vmap(lambda D: relaxed(D, (0,)))(Ds), Ku),       # vmap over D
             (Ds[1:], relaxed(Ds[1], (0, 1))[None], Ku + 3e-3**2 / (2 * A))]
    for Dvals, ms, k_eff in cases:
        for D, m in zip(np.asarray(Dvals), ms):
            m = np.asarray(m[:, :, 0, 0])
            np.testing.assert_allclose(np.sum(m * m, axis=0), 1.0, rtol=1e-10)
            np.testing.assert_allclose(m[1], 0.0, atol=1e-10)  # a Néel (xz-plane) canting
            theta = np.arctan2(m[0], m[2])
            theta_e = np.arcsin(D / (2 * np.sqrt(A * k_eff)))
            delta = np.sqrt(A / k_eff)
            analytic = 2 * np.arctan(np.tan(theta_e / 2) * np.exp(-(length - x) / delta))
            # Right edge tilts toward +x (dm_x/dx = +D/2A > 0 with n = +x), left toward -x.
            np.testing.assert_allclose(theta[-8:], analytic[-8:], rtol=1e-2)
            np.testing.assert_allclose(theta[:8], -analytic[::-1][:8], rtol=1e-2)
            # Slope at the surface from a quadratic through the last 4 cells: D / (2A).
            slope = np.polyfit(x[-4:] - length, theta[-4:], 2)[1]
            np.testing.assert_allclose(slope, D / (2 * A), rtol=3e-2)


# --- spin-orbit torque ----------------------------------------------------------------------
def test_uniform_sot_matches_macrospin():
    # A uniformly magnetized film under a uniform current density feels, per cell, the same
    # Gilbert-form torque as the macrospin SpinOrbitTorque for the current j w t_HM.
    lx, ly, t_fm, t_hm, theta_sh, j = 40e-9, 20e-9, 1.2e-9, 2e-9, 0.3, 5e10
    mesh = Mesh((4, 2, 1), (lx / 4, ly / 2, t_fm))
    sot = SpinOrbitTorque(theta_sh, jnp.array([j, 0.0, 0.0]), field_like_ratio=0.2)
    system = Micromagnet(mesh, 1e6, A_EX, 0.01, torques=(sot,))
    direction = np.array([0.3, 0.5, 0.8]) / np.linalg.norm([0.3, 0.5, 0.8])
    t_mm = sot.torque(mesh.uniform(direction), 0.0, system)
    layer = FreeLayer(Material(Ms=1e6, alpha=0.01), Rectangle(lx, ly, t_fm))
    macro = MacroSOT(HeavyMetal(theta_sh, t_hm, 200e-8), Constant(j * ly * t_hm),
                     current_axis=0, field_like_ratio=0.2)
    from spinjax import Vec3
    t_ms = macro.torque(Vec3(*map(float, direction)), 0.0, layer)
    expected = np.array([t_ms.x, t_ms.y, t_ms.z])
    np.testing.assert_allclose(np.asarray(t_mm[:, 0, 0, 0]), expected, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(t_mm), np.broadcast_to(
        expected[:, None, None, None], t_mm.shape), rtol=1e-10)


def test_zhang_li_torque_on_a_spiral_and_a_uniform_state():
    # Néel spiral along x, j along x: interior torque = -u dm/dx (central differences give
    # the factor sin(kd)/(kd)) plus beta m x (u dm/dx); u = -P mu_B j / (q Ms). A uniform
    # state in a masked disk feels no torque at all (edges included).
    from spinjax.constants import ELEMENTARY_CHARGE, MU_B
    n, d, k, j, p, beta = 40, 1e-9, 2 * np.pi / 20e-9, 1e12, 0.6, 0.05
    mesh = Mesh((n, 1, 1), (d, d, d))
    zl = ZhangLiTorque(p, jnp.array([j, 0.0, 0.0]), beta=beta)
    system = Micromagnet(mesh, MS, A_EX, 0.1, torques=(zl,))
    x = (np.arange(n) + 0.5) * d
    m = np.stack([np.sin(k * x), 0 * x, np.cos(k * x)])
    u = -p * MU_B * j / (ELEMENTARY_CHARGE * MS)
    u_dm = u * k * np.stack([np.cos(k * x), 0 * x, -np.sin(k * x)]) * np.sin(k * d) / (k * d)
    expected = -u_dm + beta * np.cross(m, u_dm, axis=0)
    got = zl.torque(jnp.asarray(m)[:, :, None, None], 0.0, system)[:, :, 0, 0]
    np.testing.assert_allclose(got[:, 1:-1], expected[:, 1:-1], rtol=0,
                               atol=1e-9 * np.max(np.abs(expected)))
    shape, cell = (10, 10, 1), (2e-9, 2e-9, 1e-9)
    disk = Mesh(shape, cell, mask=disk_mask(shape, cell, 18e-9))
    system = Micromagnet(disk, MS, A_EX, 0.1, torques=(ZhangLiTorque(p, jnp.array([j, j, 0.0]),
                                                                     beta=beta),))
    t_uniform = system.torques[0].torque(disk.uniform((0.3, 0.4, 0.5)), 0.0, system)
    assert float(jnp.max(jnp.abs(t_uniform))) == 0.0


def test_zhang_li_moves_a_wall_at_u_when_beta_equals_alpha():
    # 1D PMA strip with an up/down Néel-profile wall, no demag: with beta = alpha the LLG with
    # Zhang–Li STT is solved exactly by the translated profile m0(x - u t), so the wall moves
    # by u t (1 % tolerance for the discrete gradient). Without a transverse (hard-axis)
    # anisotropy the Walker field is zero and the 1D model gives a rigidly precessing wall with
    # dq/dt = u (1 + alpha beta) / (1 + alpha^2) for any beta (Thiaville et al., EPL 69, 990
    # (2005)): checked at beta = 0 with 2 % tolerance (measured 0.9 % low at d = Delta/4).
    from spinjax.constants import ELEMENTARY_CHARGE, MU_B
    A, Ku, Ms, alpha, d, n = 1.5e-11, 8e5, 1e6, 0.1, 1e-9, 120
    delta = np.sqrt(A / Ku)
    mesh = Mesh((n, 1, 1), (d, d, d))
    x = (np.arange(n) + 0.5) * d
    theta = 2 * np.arctan(np.exp((x - n * d / 2) / delta))
    m0 = jnp.asarray(np.stack([np.sin(theta), 0 * x, np.cos(theta)])[:, :, None, None])
    p, j, t1 = 0.5, -2e12, 0.2e-9
    u = -p * MU_B * j / (ELEMENTARY_CHARGE * Ms)   # +58 m/s along +x

    def displacement(beta):
        system = Micromagnet(mesh, Ms, A, alpha, fields=(Exchange(), UniaxialAnisotropy(Ku)),
                             torques=(ZhangLiTorque(p, jnp.array([j, 0.0, 0.0]), beta=beta),))
        traj = run(system, m0, t1, jnp.array([0.0, t1]), rtol=1e-8, atol=1e-8)
        # m_z = -tanh((x - q)/Delta) in a strip of length L: <m_z> = (2 q - L) / L.
        return n * d * float(traj.m_mean[-1, 2] - traj.m_mean[0, 2]) / 2

    np.testing.assert_allclose(displacement(jnp.asarray(alpha)), u * t1, rtol=1e-2)
    np.testing.assert_allclose(displacement(jnp.asarray(0.0)), u * t1 / (1 + alpha**2),
                               rtol=2e-2)


# muMAG standard problem 4 (fields 1 and 2, reduced resolution): tests/test_micromag_sp4.py.


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("cell, match", [((0.0, 1e-9, 1e-9), "dx = 0 m"),
                                         ((1e-9, -2e-9, 1e-9), "dy = -2e-09 m"),
                                         ((1e-9, 1e-9, float("nan")), "dz"),
                                         ((1e-9, 1e-9), "3-tuple")])
def test_bad_cell_sizes(cell, match):
    with pytest.raises(ValueError, match=match):
        Mesh((4, 4, 1), cell)


def test_bad_mesh_inputs():
    cell = (1e-9, 1e-9, 1e-9)
    with pytest.raises(ValueError, match="shape"):
        Mesh((4, 0, 1), cell)
    with pytest.raises(ValueError, match="mask is empty"):
        Mesh((4, 4, 1), cell, mask=np.zeros((4, 4, 1), bool))
    with pytest.raises(ValueError, match="mask has shape"):
        Mesh((4, 4, 1), cell, mask=np.ones((4, 4, 2), bool))
    with pytest.raises(ValueError, match="boolean"):
        Mesh((4, 4, 1), cell, mask=np.ones((4, 4, 1)))
    with pytest.raises(ValueError, match="contains no cell"):
        ellipse_mask((4, 4, 1), cell, 0.1e-9, 0.1e-9)
    with pytest.raises(ValueError, match="diameter_x"):
        ellipse_mask((4, 4, 1), cell, -1e-9, 2e-9)


def test_bad_system_inputs():
    mesh = Mesh((4, 3, 1), (1e-9, 1e-9, 1e-9))
    with pytest.raises(ValueError, match="Ms = -1"):
        Micromagnet(mesh, -1.0, A_EX, 0.1)
    with pytest.raises(ValueError, match="A = 0"):
        Micromagnet(mesh, MS, 0.0, 0.1)
    with pytest.raises(ValueError, match="H must be"):
        Zeeman(jnp.ones(2))
    with pytest.raises(ValueError, match="edge_axes"):
        InterfacialDMI(1e-3, edge_axes=(2,))
    with pytest.raises(ValueError, match="current_density"):
        SpinOrbitTorque(0.1, jnp.ones((2, 4, 3, 1)))
    system = Micromagnet(mesh, MS, A_EX, 0.1, fields=(Exchange(),))
    with pytest.raises(ValueError, match=r"m0 has shape \(3, 4, 3\)"):
        run(system, jnp.ones((3, 4, 3)), 1e-10)
    with pytest.raises(ValueError, match="t1 = 0 s"):
        run(system, mesh.uniform((1.0, 0.0, 0.0)), 0.0)
    with pytest.raises(ValueError, match="save_at spans"):
        run(system, mesh.uniform((1.0, 0.0, 0.0)), 1e-10, jnp.array([0.0, 2e-10]))
    with pytest.raises(ValueError, match="direction"):
        mesh.uniform((0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="polarization"):
        ZhangLiTorque(1.5, jnp.array([1e12, 0.0, 0.0]))


# --- thermal field --------------------------------------------------------------------------
def test_single_cell_thermal_field_gives_boltzmann():
    # One 3 nm cell with uniaxial anisotropy, Delta = Ku V / (k_B T) = 3, alpha = 0.1:
    # <m_z^2> over an ensemble must approach the Boltzmann value
    # int c^2 exp(Delta c^2) dc / int exp(Delta c^2) dc = 0.6263 (c = cos theta), far from the
    # isotropic 1/3. Relaxation time 1/(alpha gamma H_K) = 49 ps; samples from 0.3 to 0.6 ns
    # (6 windows of 50 ps, weakly correlated) of 1500 trajectories: standard error ~0.004,
    # asserted at 0.02 (the Heun bias at gamma H_K dt = 0.04 is ~1e-3).
    from spinjax.constants import K_B
    d, temperature, delta = 3e-9, 300.0, 3.0
    mesh = Mesh((1, 1, 1), (d, d, d))
    ku = delta * K_B * temperature / d**3
    system = Micromagnet(mesh, MS, A_EX, 0.1, fields=(UniaxialAnisotropy(ku),),
                         temperature=temperature)
    keys = jax.random.split(jax.random.key(7), 1500)
    m0 = mesh.uniform((0.0, 0.0, 1.0))
    ts, means, _ = jax.vmap(lambda k: run_thermal(system, m0, 0.6e-9, 2e-13, k,
                                                  save_every=250))(keys)
    assert ts.shape == (1500, 12)
    mz2 = np.asarray(means[:, 6:, 2]) ** 2
    c = np.linspace(-1.0, 1.0, 200001)
    p = np.exp(delta * c**2)
    expected = np.sum(c**2 * p) / np.sum(p)
    assert abs(mz2.mean() - expected) < 0.02, (mz2.mean(), expected)
    # At T = 0 the same run stays exactly on the easy axis.
    cold = Micromagnet(mesh, MS, A_EX, 0.1, fields=(UniaxialAnisotropy(ku),))
    _, means0, _ = run_thermal(cold, m0, 1e-11, 2e-13, keys[0], save_every=50)
    np.testing.assert_allclose(means0[-1], [0.0, 0.0, 1.0], atol=1e-14)


# --- gradients ------------------------------------------------------------------------------
@pytest.mark.slow  # ~25-40 s on 2 cores; runs with `pytest -m slow`
def test_run_is_differentiable():
    # A small masked ellipse (exchange + Zeeman; demag's gradient is covered above):
    # d<m_x>(t)/dH_x by reverse-mode autodiff through the adaptive solve (diffrax's
    # RecursiveCheckpointAdjoint) matches a central finite difference; tight tolerances keep
    # the step sequence smooth in H (agreement 1e-4 relative). jax.vmap over samples is covered
    # by the DMI (relax) and thermal (run_thermal) tests.
    shape, cell = (8, 4, 1), (5e-9, 5e-9, 3e-9)
    mesh = Mesh(shape, cell, mask=ellipse_mask(shape, cell, 40e-9, 20e-9))
    m0 = mesh.uniform((1.0, 0.3, 0.0))
    ts = jnp.array([0.05e-9])

    def mx(hx):
        zeeman = Zeeman(jnp.stack([hx, jnp.asarray(1e3), jnp.asarray(0.0)]))
        system = Micromagnet(mesh, MS, A_EX, 0.1, fields=(Exchange(), zeeman))
        return run(system, m0, 0.05e-9, ts, rtol=1e-10, atol=1e-10).m_mean[-1, 0]

    h0, dh = -2e4, 20.0
    grad = jax.grad(mx)(jnp.asarray(h0))
    fd = (mx(jnp.asarray(h0 + dh)) - mx(jnp.asarray(h0 - dh))) / (2 * dh)
    assert abs(float(grad)) > 0
    np.testing.assert_allclose(grad, fd, rtol=1e-4)
