"""Effective-field terms of a macrospin.

Each term is an `eqx.Module` with

- `field(m, t, magnet)`: its contribution to H_eff [A/m] (a `Vec3`) for unit magnetization `m`
  (a `Vec3` of one device);
- `energy_density(m, t, magnet)`: the matching energy density [J/m^3], with
  `H = -(1 / (mu0 Ms)) dE/dm`;
- `max_field(magnet)`: an upper bound on |H| [A/m], used to reject unstable time steps.

A new term is a new subclass; the LLG builder sums whatever terms a system holds. The thermal
field is not a term here: it is the diffusion of the SDE (see `spinjax.llg`).
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._vector import Vec3, as_vec3
from ._checks import check_finite
from .constants import MU0
from .magnet import FreeLayer
from .waveforms import AbstractWaveform, Constant


class AbstractField(eqx.Module):
    """An effective-field contribution."""

    @abc.abstractmethod
    def field(self, m: Vec3, t, magnet: FreeLayer) -> Vec3:
        """H [A/m] at unit magnetization `m` and time `t` [s]."""

    @abc.abstractmethod
    def energy_density(self, m: Vec3, t, magnet: FreeLayer) -> Float[Array, ""]:
        """Energy density [J/m^3]."""

    @abc.abstractmethod
    def max_field(self, magnet: FreeLayer) -> Float[Array, ""]:
        """Upper bound on |H| [A/m] over all m and t."""


class UniaxialAnisotropy(AbstractField):
    """Uniaxial anisotropy E/V = -K (m·u)^2 along unit `axis`.

    **Arguments:**

    - `K`: anisotropy constant [J/m^3]; positive for an easy axis, negative for a hard axis.
      `None` uses the material's `anisotropy`.
    - `axis`: 3-vector (normalised here), default z.

    H = (2 K / (mu0 Ms)) (m·u) u; H_k = 2K/(mu0 Ms).
    """

    K: Float[Array, ""] | None = None
    axis: Float[Array, "3"] = (0.0, 0.0, 1.0)

    def __check_init__(self):
        if self.K is not None:
            check_finite("K", self.K, unit="J/m^3")
        axis = jnp.asarray(self.axis)
        if axis.shape[-1:] != (3,):
            raise ValueError(f"axis must be a 3-vector, got shape {axis.shape}")

    def _k(self, magnet):
        return magnet.material.anisotropy if self.K is None else self.K

    def field(self, m, t, magnet):
        u = as_vec3(self.axis).normalized()
        return u * ((2.0 * self._k(magnet) / (MU0 * magnet.Ms)) * m.dot(u))

    def energy_density(self, m, t, magnet):
        u = as_vec3(self.axis).normalized()
        return -self._k(magnet) * m.dot(u) ** 2

    def max_field(self, magnet):
        return 2.0 * jnp.abs(self._k(magnet)) / (MU0 * magnet.Ms)


class ShapeAnisotropy(AbstractField):
    """Demagnetizing field of a uniformly magnetized body, H = -Ms N m.

    N = diag(N_xx, N_yy, N_zz) from the free layer's geometry (default), or given explicitly by
    `factors` (3 numbers summing to 1). E/V = (mu0 Ms^2 / 2) sum_i N_i m_i^2.
    """

    factors: Float[Array, "3"] | None = None

    def __check_init__(self):
        if self.factors is not None:
            check_finite("factors", self.factors)

    def _n(self, magnet):
        if self.factors is None:
            return magnet.geometry.demag_factors()
        return jnp.asarray(self.factors)

    def field(self, m, t, magnet):
        return m * as_vec3(self._n(magnet) * -magnet.Ms)

    def energy_density(self, m, t, magnet):
        return 0.5 * MU0 * magnet.Ms**2 * as_vec3(self._n(magnet)).dot(m * m)

    def max_field(self, magnet):
        return magnet.Ms * jnp.max(jnp.abs(self._n(magnet)))


class Zeeman(AbstractField):
    """Applied field H(t) = `H` * `waveform(t)`.

    **Arguments:**

    - `H`: field vector [A/m] (mu0 H = 1 mT is H ≈ 795.8 A/m).
    - `waveform`: dimensionless time dependence, default constant 1.
    """

    H: Float[Array, "3"]
    waveform: AbstractWaveform = Constant(1.0)

    def __check_init__(self):
        check_finite("H", self.H, unit="A/m")
        if jnp.shape(self.H)[-1:] != (3,):
            raise ValueError(f"H must be a 3-vector in A/m, got shape {jnp.shape(self.H)}")

    def field(self, m, t, magnet):
        return as_vec3(self.H) * self.waveform(t)

    def energy_density(self, m, t, magnet):
        return -MU0 * magnet.Ms * m.dot(self.field(m, t, magnet))

    def max_field(self, magnet):
        return as_vec3(self.H).norm() * self.waveform.max_abs()
