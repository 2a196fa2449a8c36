"""Free-layer shapes: volume, lateral extent and demagnetizing factors.

All lengths are in metres. Demagnetizing factors are magnetometric (volume-averaged) and sum to 1;
they are computed from the leaves, never stored, and are differentiable in every length.
"""

import abc
import functools

import equinox as eqx
import jax
import jax.scipy.special
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._checks import check_range

# Quadrature for the elliptic-cylinder integral F(s) (see `EllipticCylinder`): Gauss–Legendre
# panels of width pi over kappa in [0, _KAPPA_MAX] resolve the oscillation of J1(kappa)^2
# (period pi); the remaining tail is added analytically from J1^2 ~ (1 - sin 2k)/(pi k).
_KAPPA_MAX = 160 * np.pi
_NODES_PER_PANEL = 8
_PSI_NODES = 48


def _bessel_j1(x: np.ndarray) -> np.ndarray:
    """J1(x) from its integral representation, trapezoid rule over one full period.

    The trapezoid rule is spectrally accurate for periodic integrands; 2048 points resolve
    arguments up to ~1000 to machine precision.
    """
    tau = np.linspace(-np.pi, np.pi, 2048, endpoint=False)
    return np.mean(np.cos(tau[None, :] - x[:, None] * np.sin(tau[None, :])), axis=1)


@functools.lru_cache(maxsize=1)
def _kappa_quadrature():
    gx, gw = np.polynomial.legendre.leggauss(_NODES_PER_PANEL)
    n_panels = int(round(_KAPPA_MAX / np.pi))
    left = np.arange(n_panels) * np.pi
    kappa = (left[:, None] + 0.5 * np.pi * (gx[None, :] + 1.0)).reshape(-1)
    weight = np.tile(0.5 * np.pi * gw, n_panels)
    # weight * J1(k)^2 / k^2, the parameter-independent part of the integrand.
    return kappa, weight * _bessel_j1(kappa) ** 2 / kappa**2


@functools.lru_cache(maxsize=1)
def _psi_quadrature():
    gx, gw = np.polynomial.legendre.leggauss(_PSI_NODES)
    psi = 0.25 * np.pi * (gx + 1.0)  # [0, pi/2]
    return psi, 0.25 * np.pi * gw


def _tail(u):
    """pi K^2 ∫_K^∞ J1^2 (1 - e^{-k s}) / k^2 dk with J1^2 -> 1/(pi k), u = K s: 1/2 - E_3(u).

    E_3(u) = (e^{-u} (1 - u) + u^2 E_1(u)) / 2 is the generalized exponential integral.
    """
    e3 = 0.5 * (jnp.exp(-u) * (1.0 - u) + u**2 * jax.scipy.special.exp1(u))
    return 0.5 - e3


def _elliptic_cylinder_factors(a, b, t):
    """Demagnetizing factors of a uniformly magnetized elliptic cylinder.

    Semi-axes `a` (x), `b` (y), thickness `t` (z). Fourier-space formulation of Beleggia et al.,
    J. Phys. D 38, 3333 (2005): with the shape amplitude of the ellipse and the substitution
    k = (kappa cos psi / a, kappa sin psi / b),

        N_zz = (1 / (pi t)) ∫_0^{2pi} dpsi F(rho t) / rho,
        N_xx = (1 / 2pi) ∫ dpsi cos^2 phi  -  (1 / (pi t)) ∫ dpsi cos^2 phi F(rho t) / rho,

    with rho(psi)^2 = cos^2 psi / a^2 + sin^2 psi / b^2, cos^2 phi = cos^2 psi / (a rho)^2 and
    F(s) = ∫_0^∞ J1(kappa)^2 (1 - exp(-kappa s)) / kappa^2 dkappa. N_yy = 1 - N_xx - N_zz.
    """
    kappa, kernel = _kappa_quadrature()
    psi, wpsi = _psi_quadrature()
    dtype = jnp.result_type(a, b, t, float)
    kappa = jnp.asarray(kappa, dtype)
    kernel = jnp.asarray(kernel, dtype)
    cos2 = jnp.asarray(np.cos(psi) ** 2, dtype)
    sin2 = jnp.asarray(np.sin(psi) ** 2, dtype)
    wpsi = jnp.asarray(wpsi, dtype)

    rho = jnp.sqrt(cos2 / a**2 + sin2 / b**2)  # (n_psi,)
    s = rho * t
    f = jnp.sum(kernel[None, :] * -jnp.expm1(-kappa[None, :] * s[:, None]), axis=1)
    f = f + _tail(_KAPPA_MAX * s) / (jnp.pi * _KAPPA_MAX**2)
    cos2phi = cos2 / (a * rho) ** 2
    # Four quadrants by symmetry: ∫_0^{2pi} = 4 ∫_0^{pi/2}.
    n_zz = 4.0 / (jnp.pi * t) * jnp.sum(wpsi * f / rho)
    n_xx = 4.0 / (2.0 * jnp.pi) * jnp.sum(wpsi * cos2phi) - 4.0 / (jnp.pi * t) * jnp.sum(
        wpsi * cos2phi * f / rho
    )
    return jnp.stack([n_xx, 1.0 - n_xx - n_zz, n_zz])


def _prism_factor_z(a, b, c):
    """Aharoni's closed form for N_zz of a rectangular prism of half-sides a, b, c.

    A. Aharoni, J. Appl. Phys. 83, 3432 (1998), eq. (1).
    """
    r = jnp.sqrt(a**2 + b**2 + c**2)
    rab = jnp.sqrt(a**2 + b**2)
    rbc = jnp.sqrt(b**2 + c**2)
    rac = jnp.sqrt(a**2 + c**2)
    pi_n = (
        (b**2 - c**2) / (2 * b * c) * jnp.log((r - a) / (r + a))
        + (a**2 - c**2) / (2 * a * c) * jnp.log((r - b) / (r + b))
        + b / (2 * c) * jnp.log((rab + a) / (rab - a))
        + a / (2 * c) * jnp.log((rab + b) / (rab - b))
        + c / (2 * a) * jnp.log((rbc - b) / (rbc + b))
        + c / (2 * b) * jnp.log((rac - a) / (rac + a))
        + 2 * jnp.arctan(a * b / (c * r))
        + (a**3 + b**3 - 2 * c**3) / (3 * a * b * c)
        + (a**2 + b**2 - 2 * c**2) / (3 * a * b * c) * r
        + c / (a * b) * (rac + rbc)
        - (rab**3 + rbc**3 + rac**3) / (3 * a * b * c)
    )
    return pi_n / jnp.pi


class AbstractGeometry(eqx.Module):
    """A free-layer shape with lateral sizes `length_x`, `length_y` and `thickness` [m]."""

    length_x: eqx.AbstractVar[Float[Array, ""]]
    length_y: eqx.AbstractVar[Float[Array, ""]]
    thickness: eqx.AbstractVar[Float[Array, ""]]

    @property
    @abc.abstractmethod
    def area(self) -> Float[Array, ""]:
        """Area of the film plane [m^2]."""

    @abc.abstractmethod
    def demag_factors(self) -> Float[Array, "3"]:
        """Magnetometric demagnetizing factors (N_xx, N_yy, N_zz), dimensionless, sum 1."""

    @property
    def volume(self) -> Float[Array, ""]:
        """Volume [m^3]."""
        return self.area * self.thickness

    def extent(self, axis: int) -> Float[Array, ""]:
        """Length of the layer along in-plane axis 0 (x) or 1 (y) [m]."""
        if axis not in (0, 1):
            raise ValueError(f"axis = {axis} must be 0 (x) or 1 (y)")
        return self.length_x if axis == 0 else self.length_y

    def __check_init__(self):
        check_range("length_x", self.length_x, low=0.0, unit="m")
        check_range("length_y", self.length_y, low=0.0, unit="m")
        check_range("thickness", self.thickness, low=0.0, unit="m")


class EllipticCylinder(AbstractGeometry):
    """Elliptic disk: full axes `length_x`, `length_y` in the plane, `thickness` along z [m].

    Demagnetizing factors from the Fourier-space integral of Beleggia et al., J. Phys. D 38,
    3333 (2005), evaluated by fixed Gauss–Legendre quadrature (accurate to ~1e-5, smooth and
    differentiable in all three lengths).

    **Example:** the 100 nm x 40 nm x 1.2 nm disk of the SOT-MTJ neuron (long axis along y)
    `EllipticCylinder(40e-9, 100e-9, 1.2e-9).demag_factors()` ≈ (0.049, 0.013, 0.94).
    """

    length_x: Float[Array, ""]
    length_y: Float[Array, ""]
    thickness: Float[Array, ""]

    @property
    def area(self):
        return jnp.pi / 4.0 * self.length_x * self.length_y

    def demag_factors(self):
        return _elliptic_cylinder_factors(self.length_x / 2, self.length_y / 2, self.thickness)


class Rectangle(AbstractGeometry):
    """Rectangular prism `length_x` x `length_y` x `thickness` [m].

    Demagnetizing factors from Aharoni's closed form, J. Appl. Phys. 83, 3432 (1998).
    """

    length_x: Float[Array, ""]
    length_y: Float[Array, ""]
    thickness: Float[Array, ""]

    @property
    def area(self):
        return self.length_x * self.length_y

    def demag_factors(self):
        a, b, c = self.length_x / 2, self.length_y / 2, self.thickness / 2
        return jnp.stack([_prism_factor_z(b, c, a), _prism_factor_z(c, a, b),
                          _prism_factor_z(a, b, c)])
