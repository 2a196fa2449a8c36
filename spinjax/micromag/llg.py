"""The Landau–Lifshitz–Gilbert equation on a finite-difference mesh.

Same convention as the macrospin (`spinjax.llg`), cell by cell:

    T      = -gamma m x H_eff + sum of spin torques          (Gilbert form) [rad/s]
    dm/dt  = (T + alpha m x T) / (1 + alpha^2)               (Landau–Lifshitz form)

with gamma = `spinjax.constants.GAMMA`. Magnetization arrays are (3, nx, ny, nz), unit length in
magnetic cells and zero outside the mask.
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._checks import check_range
from ..constants import GAMMA, K_B, MU0
from ._ops import cross, dot
from .fields import AbstractMicromagField
from .mesh import Mesh
from .torques import AbstractMicromagTorque


class Micromagnet(eqx.Module):
    """A magnetic film or body on a mesh: material, field terms, torques, temperature.

    **Arguments:**

    - `mesh`: the `Mesh` (shape, cell sizes, optional mask).
    - `Ms`: saturation magnetization [A/m], > 0.
    - `A`: exchange stiffness [J/m], > 0 (used by `Exchange` and the DMI boundary condition).
    - `alpha`: Gilbert damping, > 0.
    - `fields`: tuple of `AbstractMicromagField` terms summed into H_eff.
    - `torques`: tuple of `AbstractMicromagTorque` terms.
    - `temperature`: T [K] >= 0; the per-cell thermal field acts in `run_thermal`.

    **Example:**

    ```python
    mesh = Mesh((100, 25, 1), (5e-9, 5e-9, 3e-9))
    sp4 = Micromagnet(mesh, Ms=8e5, A=1.3e-11, alpha=0.02, fields=(Exchange(), Demag()))
    m = relax(sp4, mesh.uniform((1.0, 0.25, 0.1)))
    ```
    """

    mesh: Mesh
    Ms: Float[Array, ""]
    A: Float[Array, ""]
    alpha: Float[Array, ""]
    fields: tuple[AbstractMicromagField, ...] = ()
    torques: tuple[AbstractMicromagTorque, ...] = ()
    temperature: Float[Array, ""] = 0.0

    def __check_init__(self):
        if not isinstance(self.mesh, Mesh):
            raise TypeError(f"mesh must be a spinjax.micromag.Mesh, got {type(self.mesh).__name__}")
        check_range("Ms", self.Ms, low=0.0, unit="A/m")
        check_range("A", self.A, low=0.0, unit="J/m")
        check_range("alpha", self.alpha, low=0.0)
        check_range("temperature", self.temperature, low=0.0, low_inclusive=True, unit="K")
        for f in self.fields:
            if not isinstance(f, AbstractMicromagField):
                raise TypeError(f"fields must hold AbstractMicromagField terms, got "
                                f"{type(f).__name__}")
        for tq in self.torques:
            if not isinstance(tq, AbstractMicromagTorque):
                raise TypeError(f"torques must hold AbstractMicromagTorque terms, got "
                                f"{type(tq).__name__}")

    def effective_field(self, t, m) -> Float[Array, "3 nx ny nz"]:
        """H_eff [A/m] at time `t` [s] for magnetization `m` (3, nx, ny, nz)."""
        h = jnp.zeros_like(m)
        for f in self.fields:
            h = h + f.field(m, t, self)
        return h

    def energy_density(self, t, m) -> Float[Array, "nx ny nz"]:
        """Energy density of all field terms per cell [J/m^3]."""
        e = jnp.zeros(m.shape[1:], m.dtype)
        for f in self.fields:
            e = e + f.energy_density(m, t, self)
        return e

    def energy(self, t, m) -> Float[Array, ""]:
        """Total magnetic energy [J]."""
        return self.mesh.cell_volume * jnp.sum(self.energy_density(t, m))

    def mean_m(self, m) -> Float[Array, "3"]:
        """Average of m over the magnetic cells (dimensionless), shape (3,)."""
        w = self.mesh.weights(m.dtype)
        return jnp.sum(m * w[None], axis=(1, 2, 3)) / jnp.sum(w)

    def gilbert_torque(self, t, m) -> Float[Array, "3 nx ny nz"]:
        """T = -gamma m x H_eff + spin torques [rad/s]."""
        torque = -GAMMA * cross(m, self.effective_field(t, m))
        for tq in self.torques:
            torque = torque + tq.torque(m, t, self)
        return torque

    def drift(self, t, m) -> Float[Array, "3 nx ny nz"]:
        """Deterministic dm/dt [1/s] (Landau–Lifshitz form) at time `t` [s]."""
        torque = self.gilbert_torque(t, m)
        return (torque + self.alpha * cross(m, torque)) / (1.0 + self.alpha**2)

    def relaxation_drift(self, t, m) -> Float[Array, "3 nx ny nz"]:
        """Precession-free damping flow dm/dt = -gamma m x (m x H_eff) [1/s] (for `relax`).

        Its fixed points are the equilibria of the energy (m x H_eff = 0), and the energy
        decreases monotonically along it: dE/dt = -mu0 Ms V gamma sum |m x H_eff|^2.
        """
        h = self.effective_field(t, m)
        return -GAMMA * cross(m, cross(m, h))

    def max_torque(self, t, m) -> Float[Array, ""]:
        """max over cells of |m x H_eff| [A/m]: zero at equilibrium."""
        mxh = cross(m, self.effective_field(t, m))
        return jnp.sqrt(jnp.max(dot(mxh, mxh)))

    def noise_amplitude(self) -> Float[Array, ""]:
        """sqrt(2 D) = sqrt(2 alpha k_B T / (gamma mu0 Ms V_cell)) [A/m · s^(1/2)] per cell.

        The thermal field over a step dt is H_th = sqrt(2D/dt) G with G standard normal, one
        independent 3-vector per cell (Brown; the Gilbert-form noise of `spinjax.llg`).
        """
        return jnp.sqrt(2.0 * self.alpha * K_B * self.temperature
                        / (GAMMA * MU0 * self.Ms * self.mesh.cell_volume))

    def increment(self, t, m, dt, dw) -> Float[Array, "3 nx ny nz"]:
        """Stratonovich increment drift dt + diffusion dW [1] over a step `dt` [s].

        `dw`: Wiener increments [s^(1/2)], shape (3, nx, ny, nz). Field and thermal kick are
        added before the cross products, as in the macrospin `Macrospin.increment`.
        """
        h = self.effective_field(t, m) * dt + self.noise_amplitude() * dw
        torque = -GAMMA * cross(m, h)
        for tq in self.torques:
            torque = torque + tq.torque(m, t, self) * dt
        return (torque + self.alpha * cross(m, torque)) / (1.0 + self.alpha**2)
