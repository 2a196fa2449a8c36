"""The stochastic Landau–Lifshitz–Gilbert equation of one macrospin.

Drift (physics.md §1), written for one device; batching comes from `vmap` in `spinjax.solve`:

    T      = -gamma m x H_eff + sum of spin torques          (Gilbert form)
    dm/dt  = (T + alpha m x T) / (1 + alpha^2)               (Landau–Lifshitz form)

Thermal field (Brown): white noise h in H_eff with <h_i(t) h_j(s)> = 2 D delta_ij delta(t-s),
D = alpha k_B T / (gamma mu0 Ms V). It enters through both precession and damping, so the
diffusion is g(m) dW = -gamma sqrt(2D) (m x dW + alpha m x (m x dW)) / (1 + alpha^2), to be
integrated in the Stratonovich sense. This is the Gilbert-form noise of García-Palacios &
Lázaro (PRB 58, 14937, 1998), whose stationary law is Boltzmann; physics.md writes the
variance with an extra 1/(1+alpha^2), a 1.5e-4 relative difference at alpha = 0.0122 that the
fluctuation–dissipation tests here could not resolve: we keep the form the FDT derives.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._vector import Vec3
from ._checks import check_range
from .constants import ELEMENTARY_CHARGE, GAMMA, HBAR, K_B, MU0
from .fields import AbstractField
from .magnet import FreeLayer
from .torques import AbstractTorque


class Macrospin(eqx.Module):
    """A single-domain magnet with its field terms, torques and temperature.

    **Arguments:**

    - `magnet`: the `FreeLayer` (material and geometry).
    - `fields`: tuple of `AbstractField` terms summed into H_eff.
    - `torques`: tuple of `AbstractTorque` terms (spin-orbit, spin-transfer, ...).
    - `temperature`: T [K], >= 0; the thermal field is active when a PRNG key is given to
      `spinjax.simulate`.

    **Example:**

    ```python
    layer = FreeLayer(COFE, EllipticCylinder(40e-9, 100e-9, 1.2e-9))
    system = Macrospin(layer, fields=(ShapeAnisotropy(),), temperature=300.0)
    system.thermal_stability()   # ≈ 21
    ```
    """

    magnet: FreeLayer
    fields: tuple[AbstractField, ...] = ()
    torques: tuple[AbstractTorque, ...] = ()
    temperature: Float[Array, ""] = 0.0

    def __check_init__(self):
        check_range("temperature", self.temperature, low=0.0, low_inclusive=True, unit="K")
        for f in self.fields:
            if not isinstance(f, AbstractField):
                raise TypeError(f"fields must hold AbstractField terms, got {type(f).__name__}")
        for tq in self.torques:
            if not isinstance(tq, AbstractTorque):
                raise TypeError(f"torques must hold AbstractTorque terms, got {type(tq).__name__}")

    # --- fields and energy -------------------------------------------------------------------
    def effective_field(self, t, m: Vec3) -> Vec3:
        """Deterministic H_eff [A/m] at time `t` [s] and unit magnetization `m`."""
        h = Vec3.zeros_like(m)
        for f in self.fields:
            h = h + f.field(m, t, self.magnet)
        return h

    def energy_density(self, t, m) -> Float[Array, ""]:
        """Energy density of all field terms [J/m^3]."""
        e = jnp.zeros_like(m.x)
        for f in self.fields:
            e = e + f.energy_density(m, t, self.magnet)
        return e

    def energy(self, t, m) -> Float[Array, ""]:
        """Magnetic energy E(m) = V * energy density [J], `m` a `Vec3`."""
        return self.magnet.volume * self.energy_density(t, m)

    def _stiffness(self, dtype=float):
        # Quadratic part of the zero-field energy density, e(m) = m^T Q m [J/m^3]; the field
        # terms need not be quadratic, their Hessian at m = 0 is what sets the barrier.
        def e(m):
            return self.energy_density(0.0, Vec3.from_array(m))

        return 0.5 * jax.hessian(e)(jnp.zeros(3, dtype))

    def energy_barrier(self) -> Float[Array, ""]:
        """Zero-field barrier E_B [J] between the easy axis and the saddle.

        For a quadratic (anisotropy + demag) energy e = m^T Q m, the minimum lies along the
        eigenvector of the smallest eigenvalue and the saddle along the middle one:
        E_B = V (lambda_2 - lambda_1). Linear terms (applied fields) are left out.
        """
        lam = jnp.linalg.eigvalsh(self._stiffness())
        return self.magnet.volume * (lam[1] - lam[0])

    def thermal_stability(self) -> Float[Array, ""]:
        """Delta = E_B / (k_B T), dimensionless; requires T > 0."""
        return self.energy_barrier() / (K_B * self.temperature)

    def anisotropy_field(self) -> Float[Array, ""]:
        """Effective anisotropy field H_k = 2 E_B / (mu0 Ms V) [A/m]."""
        return 2.0 * self.energy_barrier() / self.magnet.mu0_moment

    def stiffness_fields(self) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """Zero-field stiffness fields (H_1, H_2) [A/m] for small tilts from the easy axis.

        H_i = 2 (lambda_{i+1} - lambda_1) / (mu0 Ms) from the eigenvalues of the quadratic
        energy: H_1 toward the saddle (in-plane hard axis), H_2 toward the hardest axis.
        For the 5a disk H_1 = (N_x - N_y) Ms and H_2 = (N_z - N_y) Ms.
        """
        lam = jnp.linalg.eigvalsh(self._stiffness())
        scale = 2.0 / (MU0 * self.magnet.Ms)
        return scale * (lam[1] - lam[0]), scale * (lam[2] - lam[0])

    def equilibrium_states(self, key, n: int, direction=None) -> Float[Array, "n 3"]:
        """`n` unit vectors drawn from the Boltzmann distribution around an easy direction.

        Harmonic (small-angle) approximation, valid for Delta >> 1: the two tilts along the
        stiffness eigenvectors are independent Gaussians of variance k_B T / (mu0 Ms V H_i)
        (equipartition with the `stiffness_fields` H_1, H_2). This is the state of a device
        that has sat at temperature T: an sLLG run started exactly on the axis needs ~one
        `relaxation_time` before its fluctuations reach this spread.

        **Arguments:** `key`, `n`; `direction`: a 3-vector on the side of the easy axis to
        sample (default: the `easy_axis` as returned).

        **Returns:** array (n, 3).
        """
        q = self._stiffness()
        lam, vecs = jnp.linalg.eigh(q)
        axis = vecs[:, 0]
        if direction is not None:
            axis = axis * jnp.sign(jnp.dot(axis, jnp.asarray(direction, axis.dtype)))
        h = 2.0 * (lam[1:] - lam[0]) / (MU0 * self.magnet.Ms)
        sigma = jnp.sqrt(K_B * self.temperature / (self.magnet.mu0_moment * h))
        tilt = jax.random.normal(key, (n, 2), axis.dtype) * sigma[None, :]
        m = (axis[None, :] + tilt[:, :1] * vecs[None, :, 1] + tilt[:, 1:] * vecs[None, :, 2])
        return m / jnp.linalg.norm(m, axis=-1, keepdims=True)

    def critical_spin_current(self) -> Float[Array, ""]:
        """Zero-temperature instability threshold of the easy-axis state [A of spin current].

        Sun, PRB 62, 570 (2000): I_s,c = (2 q / hbar) alpha mu0 Ms V (H_1 + H_2) / 2 for a
        damping-like torque collinear with the easy axis (H_k + M_eff/2 in Sun's notation).
        Divide by a torque's spin-injection efficiency for a charge current.
        """
        h1, h2 = self.stiffness_fields()
        return (2.0 * ELEMENTARY_CHARGE / HBAR * self.magnet.alpha * self.magnet.mu0_moment
                * 0.5 * (h1 + h2))

    def relaxation_time(self) -> Float[Array, ""]:
        """Small-angle relaxation time (1 + alpha^2) / (alpha gamma (H_1 + H_2) / 2) [s]."""
        h1, h2 = self.stiffness_fields()
        alpha = self.magnet.alpha
        return (1.0 + alpha**2) / (alpha * GAMMA * 0.5 * (h1 + h2))

    def easy_axis(self) -> Float[Array, "3"]:
        """Unit easy axis (sign arbitrary): eigenvector of the lowest zero-field energy."""
        _, vecs = jnp.linalg.eigh(self._stiffness())
        return vecs[:, 0]

    # --- the SDE -----------------------------------------------------------------------------
    def _to_landau_lifshitz(self, torque, m):
        alpha = self.magnet.alpha
        return (torque + m.cross(torque) * alpha) / (1.0 + alpha**2)

    def _spin_torque(self, t, m):
        torque = Vec3.zeros_like(m)
        for tq in self.torques:
            torque = torque + tq.torque(m, t, self.magnet)
        return torque

    def drift(self, t, m: Vec3) -> Vec3:
        """Deterministic dm/dt [1/s] at time `t` [s]."""
        torque = m.cross(self.effective_field(t, m)) * -GAMMA + self._spin_torque(t, m)
        return self._to_landau_lifshitz(torque, m)

    def noise_amplitude(self) -> Float[Array, ""]:
        """sqrt(2D) = sqrt(2 alpha k_B T / (gamma mu0 Ms V)) [A/m · s^(1/2)].

        Thermal field over a step dt: H_th = sqrt(2D / dt) G, G standard normal.
        """
        m = self.magnet
        return jnp.sqrt(2.0 * m.alpha * K_B * self.temperature / (GAMMA * m.mu0_moment))

    def diffusion(self, t, m: Vec3, dw: Vec3) -> Vec3:
        """Stratonovich diffusion g(m) dW [1], for a Wiener increment `dw` [s^(1/2)]."""
        torque = m.cross(dw) * (-GAMMA * self.noise_amplitude())
        return self._to_landau_lifshitz(torque, m)

    def increment(self, t, m: Vec3, dt, dw: Vec3) -> Vec3:
        """drift(t, m) dt + diffusion(t, m, dw) in one pass [1].

        Both parts are linear in a Gilbert-form torque, so the field and the thermal kick are
        added before the cross products: half the arithmetic of evaluating them apart.
        """
        h = self.effective_field(t, m) * dt + dw * self.noise_amplitude()
        torque = m.cross(h) * -GAMMA + self._spin_torque(t, m) * dt
        return self._to_landau_lifshitz(torque, m)

    def max_rate(self) -> Float[Array, ""]:
        """Upper bound on the deterministic angular speed |dm/dt| [rad/s]."""
        h = sum((f.max_field(self.magnet) for f in self.fields), jnp.zeros(()))
        rate = GAMMA * h
        for tq in self.torques:
            rate = rate + tq.max_rate(self.magnet)
        return rate
