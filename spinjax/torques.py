"""Spin torques on a macrospin.

Each torque is an `eqx.Module` with `torque(m, t, magnet)`, returning its Gilbert-form
contribution T to dm/dt [rad/s]. The LLG builder (`spinjax.llg`) converts the sum of all
Gilbert-form torques (field torques included) to Landau–Lifshitz form in one place:

    dm/dt = (T + alpha m x T) / (1 + alpha^2).

For a damping-like torque T = a (-m x (m x p)) this reproduces the spin-torque term of
physics.md §1, with a = |I_s| / (q N_s) the spin-current rate per spin.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._vector import Vec3, as_vec3
from ._checks import check_range
from .constants import ELEMENTARY_CHARGE
from .magnet import FreeLayer
from .materials import HeavyMetal
from .waveforms import AbstractWaveform


class AbstractTorque(eqx.Module):
    """A spin-torque contribution."""

    @abc.abstractmethod
    def torque(self, m: Vec3, t, magnet: FreeLayer) -> Vec3:
        """Gilbert-form torque dm/dt [rad/s] at unit magnetization `m`, time `t` [s]."""

    @abc.abstractmethod
    def max_rate(self, magnet: FreeLayer) -> Float[Array, ""]:
        """Upper bound on |T| [rad/s], used to reject unstable time steps."""


def _spin_torque(m, p, rate, field_like_ratio):
    # Damping-like a(-m x (m x p)) pulls m toward p; field-like acts as a field along p.
    m_cross_p = m.cross(p)
    return (m.cross(m_cross_p) + m_cross_p * field_like_ratio) * -rate


class SpinOrbitTorque(AbstractTorque):
    """Spin-orbit torque from a spin-Hall heavy metal under the free layer (physics.md §2).

    The charge current I_q(t) = `current(t)` [A] flows along in-plane axis `current_axis`
    (0 = x, 1 = y). It injects a spin current

        I_s = theta_SH (L / t_HM) I_q

    with L the free-layer extent along the current (the strip is as wide as the layer),
    polarized along sigma = j x z. Torque: a [-m x (m x sigma) - xi m x sigma] with
    a = I_s / (q N_s) and xi = `field_like_ratio`.
    """

    heavy_metal: HeavyMetal
    current: AbstractWaveform
    current_axis: int = eqx.field(static=True, default=0)
    field_like_ratio: Float[Array, ""] = 0.0

    def __check_init__(self):
        if self.current_axis not in (0, 1):
            raise ValueError(f"current_axis = {self.current_axis} must be 0 (x) or 1 (y)")
        check_range("field_like_ratio", self.field_like_ratio, low=-100.0, high=100.0)

    def polarization(self) -> Vec3:
        """Unit spin polarization sigma = j x z (-y for current along x, +x along y)."""
        return Vec3(0.0, -1.0, 0.0) if self.current_axis == 0 else Vec3(1.0, 0.0, 0.0)

    def efficiency(self, magnet):
        """Spin-to-charge current ratio theta_SH L / t_HM (dimensionless)."""
        length = magnet.geometry.extent(self.current_axis)
        return self.heavy_metal.spin_hall_angle * length / self.heavy_metal.thickness

    def hm_resistance(self, magnet):
        """Resistance of the heavy-metal segment under the layer [Ohm]."""
        g = magnet.geometry
        along = g.extent(self.current_axis)
        across = g.extent(1 - self.current_axis)
        return self.heavy_metal.resistance(along, across)

    def _rate_per_ampere(self, magnet):
        return self.efficiency(magnet) / (ELEMENTARY_CHARGE * magnet.n_spins)

    def torque(self, m, t, magnet):
        rate = self._rate_per_ampere(magnet) * self.current(t)
        return _spin_torque(m, self.polarization(), rate, self.field_like_ratio)

    def max_rate(self, magnet):
        return (jnp.abs(self._rate_per_ampere(magnet) * self.current.max_abs())
                * (1.0 + jnp.abs(self.field_like_ratio)))


class SlonczewskiTorque(AbstractTorque):
    """Spin-transfer torque from a pinned layer with fixed unit direction `pinned`.

    A charge current I(t) = `current(t)` [A] through the stack carries a spin current
    I_s = P I along `pinned` (positive current favours the parallel state). Torque:
    a [-m x (m x p) - xi m x p] with a = P I / (q N_s) and xi = `field_like_ratio`.
    """

    polarization: Float[Array, ""]
    current: AbstractWaveform
    pinned: Float[Array, "3"] = (0.0, 0.0, 1.0)
    field_like_ratio: Float[Array, ""] = 0.0

    def __check_init__(self):
        check_range("polarization", self.polarization, low=0.0, high=1.0, high_inclusive=True)
        check_range("field_like_ratio", self.field_like_ratio, low=-100.0, high=100.0)

    def torque(self, m, t, magnet):
        rate = self.polarization * self.current(t) / (ELEMENTARY_CHARGE * magnet.n_spins)
        p = as_vec3(self.pinned).normalized()
        return _spin_torque(m, p, rate, self.field_like_ratio)

    def max_rate(self, magnet):
        return (jnp.abs(self.polarization * self.current.max_abs()
                        / (ELEMENTARY_CHARGE * magnet.n_spins))
                * (1.0 + jnp.abs(self.field_like_ratio)))
