import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spinjax as sj
from spinjax.constants import K_B, MU0


def test_cylinder_of_unit_aspect_ratio_matches_tabulated_factor():
    # Magnetometric N_zz of a cylinder with length = diameter: 0.3116 (Chen, Brug & Goldfarb,
    # IEEE Trans. Magn. 27, 3601 (1991), Table I); the quadrature is accurate to ~1e-5.
    n = sj.EllipticCylinder(50e-9, 50e-9, 50e-9).demag_factors()
    assert float(n[2]) == pytest.approx(0.3116, abs=2e-4)
    assert float(n[0]) == pytest.approx(float(n[1]), abs=1e-12)


@pytest.mark.parametrize("shape", [(40e-9, 100e-9, 1.2e-9), (30e-9, 30e-9, 3e-9), (80e-9, 20e-9, 5e-9)])
def test_factors_sum_to_one(shape):
    for geometry in (sj.EllipticCylinder(*shape), sj.Rectangle(*shape)):
        assert float(jnp.sum(geometry.demag_factors())) == pytest.approx(1.0, abs=1e-9)


def test_cube_and_thin_film_limits():
    np.testing.assert_allclose(sj.Rectangle(1.0, 1.0, 1.0).demag_factors(), 1 / 3, atol=1e-12)
    n = sj.EllipticCylinder(100e-9, 100e-9, 1e-12).demag_factors()
    assert float(n[2]) > 0.9999


def test_neuron_disk_matches_physics_reference():
    # physics.md §1 quotes N ≈ (0.013, 0.049, 0.94) (long, short, normal) and E_B ≈ 20 k_B T
    # for the 100 x 40 x 1.2 nm disk, to two digits (the long axis is y here). The independent
    # scipy integral below pins the third digit: N_zz = 0.9348.
    g = sj.EllipticCylinder(40e-9, 100e-9, 1.2e-9)
    n = g.demag_factors()
    np.testing.assert_allclose(n, [0.049, 0.013, 0.94], atol=0.006)
    barrier = 0.5 * MU0 * 1e6**2 * (n[0] - n[1]) * g.volume / (K_B * 300.0)
    assert 19.0 < float(barrier) < 22.0


def test_barriers_of_three_thicknesses():
    deltas = [float(sj.sot_mtj_neuron(thickness=t).thermal_stability())
              for t in (0.8e-9, 1.2e-9, 1.5e-9)]
    np.testing.assert_allclose(deltas, [10, 20, 30], rtol=0.08)


def test_demag_factors_are_differentiable():
    def nx(t):
        return sj.EllipticCylinder(40e-9, 100e-9, t).demag_factors()[0]

    t = 1.2e-9
    grad = jax.grad(nx)(t)
    fd = (nx(t * 1.001) - nx(t * 0.999)) / (0.002 * t)
    assert float(grad) == pytest.approx(float(fd), rel=1e-4)


def test_elliptic_cylinder_against_adaptive_scipy_integral():
    # Same Fourier-space formula, evaluated independently with scipy's exact J1 and adaptive
    # quadrature per half-period of the integrand.
    special = pytest.importorskip("scipy.special")
    integrate = pytest.importorskip("scipy.integrate")
    a, b, t = 20e-9, 50e-9, 1.2e-9
    n_panels = 600
    k_max = n_panels * np.pi

    def f_of_s(s):
        def f(k):
            return special.j1(k) ** 2 * -np.expm1(-k * s) / k**2
        total = sum(integrate.quad(f, i * np.pi, (i + 1) * np.pi)[0] for i in range(n_panels))
        return total + 1 / (2 * np.pi * k_max**2)

    gx, gw = np.polynomial.legendre.leggauss(24)
    psi, w = np.pi / 4 * (gx + 1), np.pi / 4 * gw
    rho = np.sqrt(np.cos(psi) ** 2 / a**2 + np.sin(psi) ** 2 / b**2)
    fs = np.array([f_of_s(r * t) for r in rho])
    n_zz = 4 / (np.pi * t) * np.sum(w * fs / rho)
    cos2 = np.cos(psi) ** 2 / (a * rho) ** 2
    n_xx = 2 / np.pi * np.sum(w * cos2) - 4 / (np.pi * t) * np.sum(w * cos2 * fs / rho)
    ours = sj.EllipticCylinder(2 * a, 2 * b, t).demag_factors()
    np.testing.assert_allclose(ours, [n_xx, 1 - n_xx - n_zz, n_zz], atol=2e-5)
