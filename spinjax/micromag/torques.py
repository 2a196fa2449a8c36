"""Spin torques on a mesh (Gilbert-form contributions to dm/dt [rad/s]).

Each torque is an `eqx.Module` with `torque(m, t, magnet)` returning T of shape (3, nx, ny, nz);
`spinjax.micromag.Micromagnet` converts the sum of field and spin torques to Landau–Lifshitz
form in one place, dm/dt = (T + alpha m x T) / (1 + alpha^2), as the macrospin does.
"""

import abc

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_finite, check_range
from ..constants import ELEMENTARY_CHARGE, GAMMA, HBAR, MU0, MU_B
from ..waveforms import AbstractWaveform, Constant
from ._ops import as_field, bonds, cross, shift_next, shift_prev


class AbstractMicromagTorque(eqx.Module):
    """A spin-torque contribution on a mesh."""

    @abc.abstractmethod
    def torque(self, m, t, magnet) -> Float[Array, "3 nx ny nz"]:
        """Gilbert-form torque [rad/s] at magnetization `m` and time `t` [s]."""


class SpinOrbitTorque(AbstractMicromagTorque):
    """Spin-orbit torque from a spin-Hall heavy metal under the film (physics.md §2).

    A charge current density j(r, t) = `current_density` * `waveform(t)` [A/m^2] flows in
    the heavy metal, in-plane. It injects spins polarized along sigma = j_hat x z into the film
    of thickness `thickness` (default: the mesh's nz dz) with the field-like amplitude

        H_SH = hbar theta_SH |j| / (2 q mu0 Ms t_FM)      [A/m]

    and torque T = -gamma H_SH [m x (m x sigma) + xi m x sigma], xi = `field_like_ratio`.
    The damping-like part pulls m toward sigma. Since sigma |j| = j x z the torque is linear in
    j, so a spatially resolved j needs no normalisation. This is the macrospin `SpinOrbitTorque`
    per cell: gamma H_SH = mu_B theta_SH j / (q Ms t_FM) = I_s / (q N_s) for a uniform current.

    **Arguments:**

    - `spin_hall_angle`: theta_SH (dimensionless, in [-1, 1]).
    - `current_density`: in-plane j [A/m^2], a 3-vector (uniform; its z component must be 0)
      or an array (3, nx, ny, nz) (spatially resolved).
    - `waveform`: dimensionless time dependence (default constant 1).
    - `field_like_ratio`: xi, in (-100, 100).
    - `thickness`: t_FM [m] > 0, or None for the mesh thickness.
    """

    spin_hall_angle: Float[Array, ""]
    current_density: Float[Array, "3 ..."]
    waveform: AbstractWaveform = Constant(1.0)
    field_like_ratio: Float[Array, ""] = 0.0
    thickness: Float[Array, ""] | None = None

    def __check_init__(self):
        check_range("spin_hall_angle", self.spin_hall_angle, low=-1.0, high=1.0,
                    low_inclusive=True, high_inclusive=True)
        check_range("field_like_ratio", self.field_like_ratio, low=-100.0, high=100.0)
        check_finite("current_density", self.current_density, unit="A/m^2")
        shape = np.shape(self.current_density)
        if len(shape) not in (1, 4) or shape[0] != 3:
            raise ValueError(f"current_density must be a 3-vector or an array (3, nx, ny, nz) "
                             f"in A/m^2, got shape {shape}")
        if self.thickness is not None:
            check_range("thickness", self.thickness, low=0.0, unit="m")

    def _t_fm(self, magnet):
        if self.thickness is not None:
            return self.thickness
        return magnet.mesh.size[2]

    def torque(self, m, t, magnet):
        j = as_field(self.current_density, m.shape[1:]).astype(m.dtype)
        zhat = jnp.zeros_like(j).at[2].set(1.0)
        # sigma |j| = j x z; coefficient gamma hbar theta / (2 q mu0 Ms t_FM) [rad/s per A/m^2].
        c = (GAMMA * HBAR * self.spin_hall_angle
             / (2.0 * ELEMENTARY_CHARGE * MU0 * magnet.Ms * self._t_fm(magnet)))
        s = cross(j, zhat) * (c * self.waveform(t))
        m_x_s = cross(m, s)
        return -(cross(m, m_x_s) + self.field_like_ratio * m_x_s)


class ZhangLiTorque(AbstractMicromagTorque):
    """Zhang–Li spin-transfer torque of a current flowing in the magnet itself.

    Gilbert form (Zhang & Li, PRL 93, 127204 (2004); Thiaville et al., EPL 69, 990 (2005)):

        T = -(u·grad) m + beta m x (u·grad) m,      u = -(P mu_B / (q Ms)) j     [m/s]

    with j(r, t) = `current_density` * `waveform(t)` [A/m^2] and `beta` the non-adiabatic
    parameter. u points along the electron flow (against j), so with beta = alpha a wall moves
    rigidly at velocity u. Unlike mumax3, u carries no 1/(1 + beta^2) factor. Gradients are
    central differences over magnetic neighbours; a missing neighbour (free surface) is replaced
    by the cell itself (Neumann), i.e. a one-sided difference of half weight.

    **Arguments:**

    - `polarization`: P in [0, 1].
    - `current_density`: j [A/m^2], a 3-vector (uniform) or an array (3, nx, ny, nz).
    - `beta`: non-adiabatic parameter, finite (default 0).
    - `waveform`: dimensionless time dependence (default constant 1).
    """

    polarization: Float[Array, ""]
    current_density: Float[Array, "3 ..."]
    beta: Float[Array, ""] = 0.0
    waveform: AbstractWaveform = Constant(1.0)

    def __check_init__(self):
        check_range("polarization", self.polarization, low=0.0, high=1.0, low_inclusive=True,
                    high_inclusive=True)
        check_finite("beta", self.beta)
        check_finite("current_density", self.current_density, unit="A/m^2")
        shape = np.shape(self.current_density)
        if len(shape) not in (1, 4) or shape[0] != 3:
            raise ValueError(f"current_density must be a 3-vector or an array (3, nx, ny, nz) "
                             f"in A/m^2, got shape {shape}")

    def velocity(self, magnet, dtype=None):
        """Spin-drift velocity u [m/s], shape (3, nx, ny, nz) at t = 0 (times the waveform)."""
        j = as_field(self.current_density, magnet.mesh.shape)
        if dtype is not None:
            j = j.astype(dtype)
        return -(self.polarization * MU_B / (ELEMENTARY_CHARGE * magnet.Ms)) * j

    def torque(self, m, t, magnet):
        u = self.velocity(magnet, m.dtype) * self.waveform(t)
        w = magnet.mesh.weights(m.dtype)
        u_grad_m = jnp.zeros_like(m)
        for axis, d in enumerate(magnet.mesh.cell):
            b_next, b_prev = bonds(w, axis)
            ax = axis + 1
            m_next = b_next[None] * shift_next(m, ax) + (w - b_next)[None] * m
            m_prev = b_prev[None] * shift_prev(m, ax) + (w - b_prev)[None] * m
            u_grad_m = u_grad_m + u[axis][None] * (m_next - m_prev) / (2.0 * d)
        return -u_grad_m + self.beta * cross(m, u_grad_m)
