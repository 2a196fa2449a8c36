"""The IRMEN magnetoelectric CeNN cell of physics.md 5d: ME write, macrospin, IREE read-out.

Physics chain of one cell (SI units throughout; every number below is a default leaf of
`IRMENCell` and can be changed, batched or differentiated):

1. **State.** The state is the charge Q = C V on the magnetoelectric (ME) capacitor,
   C = 1 fF. The read path (drive current through the ferromagnet into the spin–orbit layer)
   has no galvanic connection to the capacitor plates, so a read does not consume Q; Q decays
   only through the capacitor's leakage resistance (`leak_resistance`, assumed 1e12 Ω:
   tau = R C = 1 ms, i.e. a 5 nm multiferroic film leaking ~1 A/m^2 at 1 V over 100 nm x
   100 nm; the retention of the charge over a 12 ns hold is exp(-12 ns / 1 ms) ≈ 1 - 1e-5,
   so the hold simulations keep V constant).
2. **ME field.** B_ME = alpha_ME E with alpha_ME = 10/c [s/m] and E = V / t_ME. t_ME is not
   in physics.md; we take t_ME = 5 nm, the ME (BiFeO3) layer thickness of the MESO benchmark
   (Manipatruni et al., Nature 565, 35 (2019)), which also gives C ≈ 1 fF for a
   ~100 nm x 100 nm capacitor of relative permittivity ~54. Then
   mu0 H_ME = B_ME = 6.67 mT per mV. The field acts along the magnet's **hard axis** y (its
   width), perpendicular to the easy axis x (its length): the hard-axis M–H curve of a
   uniaxial (Stoner–Wohlfarth) magnet is exactly saturated-linear,
   m_y = clip(H / H_1, -1, 1), which is the transfer function of 5d. (Along the easy axis the
   M–H curve would be a square hysteresis loop, not a saturated-linear one.)
3. **Magnet.** Macrospin (thermal sLLG, `spinjax.simulate`) of `IRMEN_MAGNET`
   (Ms = 1.7 MA/m, alpha = 0.01, K = 4.5e4 J/m^3 along its length x), a rectangular prism
   `length` x `width` x `thickness` with a fixed square cross-section of 90 nm^2
   (9.49 nm x 9.49 nm): V = 1530 nm^3 at 17 nm and 5400 nm^3 at 60 nm, as in 5d.
   *Shape anisotropy.* K V / (k_B T) = 16.6 at 17 nm and 58.7 at 60 nm (T = 300 K): these
   are exactly the 16–59 k_B T of 5d, so physics.md's thermal stabilities count the
   crystalline anisotropy only. The demagnetizing field of such a needle
   (`Rectangle` demag factors, Aharoni) adds (mu0 Ms^2 / 2)(N_y - N_x) ≈ 0.32–0.72 MJ/m^3,
   7–16 times K, and would give Delta ≈ 134–991. Default `shape_anisotropy=False`
   reproduces 5d (the magnet's demag energy is taken as compensated, e.g. by an interface
   anisotropy, or neglected as the source does); `shape_anisotropy=True` adds the
   `ShapeAnisotropy` term with the prism's factors, which raises the hard-axis field
   H_1 = 2 K_1 / (mu0 Ms), K_1 = K + (mu0 Ms^2 / 2)(N_y - N_x), and so the saturation voltage,
   and makes the transfer function depend on the aspect ratio.
4. **Read-out (inverse Rashba–Edelstein).** A read pulse (`read_time` = 200 ps) applies the
   drive voltage V_d (< 100 mV; default 100 mV) across the drive path FM -> spin–orbit layer
   -> ground. The drive path is dominated by the resistive spin–orbit layer, taken as the
   same 20 kΩ quoted as the source resistance (`drive_resistance`): I_d = V_d / R_d = 5 µA.
   The FM injects a spin current I_s = eta I_d (eta = 0.8) polarized along m; the IREE
   converts its y-polarized part into a charge current along the magnet's length,
   I_c = (lambda / L) I_s m_y (lambda = 6 nm the spin conversion length; a 2-D charge current
   density lambda j_s collected over the magnet's length L). The layer is a current source
   I_c with source resistance R_s = 20 kΩ: the output node (the high-impedance OTA input)
   sees V_out = I_c R_s. Normalised output y = V_out / V_out(m_y = +1) = m_y, averaged over
   the read pulse (the OTA's bandwidth ~ 1 / t_read: a read is the time average of m_y over
   the pulse, taken by the trapezoid rule on 51 samples, 4 ps apart). The OTA turns y into
   I_out = I_max clip(y, -1, 1), I_max = 1 µA, injected into the next cell.
5. **Read torque.** The injected spin current is polarized along m itself (the magnet is
   its own polarizer), so its damping-like torque -m x (m x m) vanishes: an IREE read exerts
   no spin-transfer torque to first order. Residual torques (back-flow, the direct
   Rashba–Edelstein spin accumulation of the output current) are smaller than the injected
   spin current by the conversion ratio. `hold_and_read` can add a worst-case read torque:
   a Slonczewski torque of spin current `torque_fraction` x eta x I_d during every read
   pulse, polarized *against* the stored state (torque_fraction = 1: the whole injected spin
   current acting to flip the magnet).
6. **Energies.** Write: C V^2 (drawn from the supply to charge the capacitor to V; half is
   stored). Read: V_d I_d t_read (drive) + I_c(+1)^2 R_s t_read (IREE source loss).
   Output: I_max V_syn t_read (the OTA delivering at most 1 µA from the 500 mV synapse supply
   during the read). `evaluation_energy` sums the three.
7. **Inputs.** |V| <= 500 mV, the synapse supply: the ME capacitor is charged by the
   synapse/OTA network, which cannot exceed its rails.

Numbers (defaults, T = 300 K): V_sat = mu0 H_k t_ME / alpha_ME = 7.94 mV crystalline-only
(independent of length); with shape anisotropy 64 mV (17 nm) to 134 mV (60 nm).
The magnet's response to an input step is a damped precession about the new equilibrium
(ring-down time 2 (1 + alpha^2) / (alpha gamma (H_a + H_b)) with H_a, H_b the stiffness
fields; ~12 ns crystalline-only at alpha = 0.01, 0.64–1.3 ns with shape anisotropy);
`step_response` measures it.

Monte Carlo protocol of a read (`transfer_monte_carlo`): each trial's magnet starts in
thermal equilibrium at its input field (Boltzmann sample: Metropolis chain on the unit sphere
on the macrospin's energy, started at the Stoner–Wohlfarth minimum, 400 steps), then the
thermal sLLG runs over the read pulse (float32, Stratonovich Heun, dt = 0.5 ps). This is the
steady-state transfer function of a cell whose input has settled, read once.
"""

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import scipy.optimize
from jaxtyping import Array, Float

from .._checks import check_range, is_concrete
from ..constants import GAMMA, K_B, MU0
from ..fields import ShapeAnisotropy, UniaxialAnisotropy, Zeeman
from ..geometry import Rectangle
from ..llg import Macrospin
from ..magnet import FreeLayer
from ..materials import IRMEN_MAGNET, Material
from ..solve import simulate
from ..torques import SlonczewskiTorque
from .._vector import Vec3
from ..waveforms import DEFAULT_RISE_TIME, AbstractWaveform

SPEED_OF_LIGHT = 299_792_458.0
"""c [m/s]."""

SYNAPSE_SUPPLY = 0.5
"""Synapse supply of physics.md 5d [V]: the largest |input voltage| a cell can be charged to."""

CROSS_SECTION_SIDE = math.sqrt(90e-18)
"""Side of the fixed square cross-section, sqrt(90 nm^2) ≈ 9.487 nm [m]."""

_METROPOLIS_STEPS = 400
_READ_SAMPLES = 51
_CHUNK = 4096


class IRMENCell(eqx.Module):
    """Magnetoelectric CeNN cell with inverse Rashba–Edelstein read-out (physics.md 5d).

    See the module docstring for the physics chain and every modelling choice.

    **Arguments** (SI units; allowed ranges are checked at construction):

    - `length`: magnet length along its easy axis x [m], in (0, 1 µm) (5d: 17–60 nm); with
      `shape_anisotropy` it must exceed `width` and `thickness`.
    - `width`, `thickness`: cross-section [m], each in (0, 1 µm) (default 9.487 nm, 90 nm^2).
    - `material`: the magnet (`IRMEN_MAGNET`: Ms = 1.7 MA/m, alpha = 0.01, K = 4.5e4 J/m^3).
    - `shape_anisotropy`: static bool, add the prism's demagnetizing field (default False:
      crystalline anisotropy only, the reading consistent with 5d's 16–59 k_B T).
    - `capacitance`: ME capacitance C [F], in (0, 1 pF) (5d: 1 fF).
    - `me_coefficient`: alpha_ME [s/m], in (0, 1e-6) (5d: 10/c).
    - `me_thickness`: t_ME [m], in (0, 1 µm) (default 5 nm, MESO).
    - `spin_injection`: eta, in (0, 1] (5d: 0.8).
    - `conversion_length`: spin conversion length lambda [m], in (0, 1 µm) (5d: 6 nm).
    - `source_resistance`: IREE source resistance R_s [Ω], > 0 (5d: 20 kΩ).
    - `drive_resistance`: drive-path resistance R_d [Ω], > 0 (default 20 kΩ, see docstring).
    - `drive_voltage`: V_d [V], in (0, 0.1] (5d: < 100 mV).
    - `read_time`: read pulse [s], in (0, 10 ns] (5d: ~200 ps).
    - `ota_max_current`: I_max [A], in (0, 1 µA] (5d: at most 1 µA).
    - `synapse_supply`: V_syn [V], in (0, 0.5] (5d: ± 500 mV).
    - `leak_resistance`: ME capacitor leakage [Ω], > 0 (default 1e12 Ω, assumed).
    - `temperature`: T [K], in [0, 1000).
    - `dt`: static sLLG step [s], in (0, 2 ps] (default 0.5 ps).

    **Example:**

    ```python
    cell = IRMENCell(length=17e-9)
    cell.thermal_stability()        # ≈ 16.6
    cell.saturation_voltage()       # ≈ 7.94e-3 V
    y = cell.read(jnp.array([-4e-3, 0.0, 4e-3]), jax.random.key(0))   # ≈ (-0.5, 0, 0.5) + noise
    cell.evaluation_energy(4e-3)    # write + read + output [J]
    ```
    """

    length: Float[Array, ""] = 60e-9
    width: Float[Array, ""] = CROSS_SECTION_SIDE
    thickness: Float[Array, ""] = CROSS_SECTION_SIDE
    material: Material = IRMEN_MAGNET
    shape_anisotropy: bool = eqx.field(static=True, default=False)
    capacitance: Float[Array, ""] = 1e-15
    me_coefficient: Float[Array, ""] = 10.0 / SPEED_OF_LIGHT
    me_thickness: Float[Array, ""] = 5e-9
    spin_injection: Float[Array, ""] = 0.8
    conversion_length: Float[Array, ""] = 6e-9
    source_resistance: Float[Array, ""] = 20e3
    drive_resistance: Float[Array, ""] = 20e3
    drive_voltage: Float[Array, ""] = 0.1
    read_time: Float[Array, ""] = 200e-12
    ota_max_current: Float[Array, ""] = 1e-6
    synapse_supply: Float[Array, ""] = SYNAPSE_SUPPLY
    leak_resistance: Float[Array, ""] = 1e12
    temperature: Float[Array, ""] = 300.0
    dt: float = eqx.field(static=True, default=0.5e-12)

    def __check_init__(self):
        check_range("length", self.length, low=0.0, high=1e-6, unit="m")
        check_range("width", self.width, low=0.0, high=1e-6, unit="m")
        check_range("thickness", self.thickness, low=0.0, high=1e-6, unit="m")
        check_range("capacitance", self.capacitance, low=0.0, high=1e-12, unit="F")
        check_range("me_coefficient", self.me_coefficient, low=0.0, high=1e-6, unit="s/m")
        check_range("me_thickness", self.me_thickness, low=0.0, high=1e-6, unit="m")
        check_range("spin_injection", self.spin_injection, low=0.0, high=1.0,
                    high_inclusive=True)
        check_range("conversion_length", self.conversion_length, low=0.0, high=1e-6, unit="m")
        check_range("source_resistance", self.source_resistance, low=0.0, unit="Ohm")
        check_range("drive_resistance", self.drive_resistance, low=0.0, unit="Ohm")
        check_range("drive_voltage", self.drive_voltage, low=0.0, high=0.1,
                    high_inclusive=True, unit="V")
        check_range("read_time", self.read_time, low=0.0, high=10e-9, high_inclusive=True,
                    unit="s")
        check_range("ota_max_current", self.ota_max_current, low=0.0, high=1e-6,
                    high_inclusive=True, unit="A")
        check_range("synapse_supply", self.synapse_supply, low=0.0, high=SYNAPSE_SUPPLY,
                    high_inclusive=True, unit="V")
        check_range("leak_resistance", self.leak_resistance, low=0.0, unit="Ohm")
        check_range("temperature", self.temperature, low=0.0, low_inclusive=True, high=1000.0,
                    unit="K")
        check_range("dt", self.dt, low=0.0, high=2e-12, high_inclusive=True, unit="s")
        if self.shape_anisotropy and is_concrete((self.length, self.width, self.thickness)):
            side = np.maximum(np.asarray(self.width), np.asarray(self.thickness))
            if np.any(np.asarray(self.length) <= side):
                raise ValueError(
                    f"length = {float(np.min(self.length)):.4g} m must exceed the cross-section "
                    f"(max(width, thickness) = {float(np.max(side)):.4g} m) with "
                    "shape_anisotropy=True: allowed range (max(width, thickness), 1e-06) m, "
                    "so that the easy axis lies along the length")

    # --- inputs -----------------------------------------------------------------------------
    def check_voltage(self, voltage, name="voltage"):
        """Validate input voltage(s) [V]: |V| <= the 500 mV synapse supply."""
        return check_range(name, voltage, low=-SYNAPSE_SUPPLY, high=SYNAPSE_SUPPLY,
                           low_inclusive=True, high_inclusive=True, unit="V")

    def with_length(self, length) -> "IRMENCell":
        """The same cell with magnet `length` [m] (any shape: batched lengths allowed)."""
        return eqx.tree_at(lambda c: c.length, self, jnp.asarray(length))

    # --- the physics chain --------------------------------------------------------------------
    def charge(self, voltage) -> Float[Array, "..."]:
        """State charge Q = C V [C] on the ME capacitor."""
        return self.capacitance * jnp.asarray(voltage)

    def charge_retention(self, time) -> Float[Array, "..."]:
        """Fraction Q(t) / Q(0) = exp(-t / (R_leak C)) of the charge left after `time` [s]."""
        return jnp.exp(-jnp.asarray(time) / (self.leak_resistance * self.capacitance))

    def me_field(self, voltage) -> Float[Array, "..."]:
        """ME field H_ME = alpha_ME (V / t_ME) / mu0 [A/m] along the hard axis y."""
        return self.me_coefficient * jnp.asarray(voltage) / self.me_thickness / MU0

    def geometry(self) -> Rectangle:
        """The magnet: a `Rectangle` prism length x width x thickness (x, y, z)."""
        return Rectangle(self.length, self.width, self.thickness)

    def volume(self) -> Float[Array, "..."]:
        """Magnet volume [m^3]."""
        return self.length * self.width * self.thickness

    def demag_factors(self) -> Float[Array, "3"]:
        """Demagnetizing factors (N_x, N_y, N_z) of the prism (zeros without shape anisotropy)."""
        if not self.shape_anisotropy:
            return jnp.zeros(3)
        return self.geometry().demag_factors()

    def hard_axis_field(self) -> Float[Array, ""]:
        """H_1 = 2 K_1 / (mu0 Ms) [A/m], K_1 = K + (mu0 Ms^2/2)(N_y - N_x): the field along y
        that saturates the magnet (the M–H curve's knee)."""
        ms, k = self.material.Ms, self.material.anisotropy
        n = self.demag_factors()
        k1 = k + 0.5 * MU0 * ms**2 * (n[1] - n[0])
        return 2.0 * k1 / (MU0 * ms)

    def saturation_voltage(self) -> Float[Array, ""]:
        """V_sat = mu0 H_1 t_ME / alpha_ME [V]: input voltage of normalised output 1."""
        return MU0 * self.hard_axis_field() * self.me_thickness / self.me_coefficient

    def ideal_transfer(self, voltage) -> Float[Array, "..."]:
        """Zero-temperature hard-axis M–H curve, y = clip(V / V_sat, -1, 1)."""
        return jnp.clip(jnp.asarray(voltage) / self.saturation_voltage(), -1.0, 1.0)

    def macrospin(self, voltage=0.0) -> Macrospin:
        """The sLLG model (`spinjax.Macrospin`) at input `voltage` [V]."""
        return Macrospin(
            FreeLayer(self.material, self.geometry()),
            fields=(UniaxialAnisotropy(axis=jnp.array([1.0, 0.0, 0.0])),
                    ShapeAnisotropy(factors=self.demag_factors()),
                    Zeeman(H=jnp.stack([0.0 * self.me_field(voltage), self.me_field(voltage),
                                        0.0 * self.me_field(voltage)]))),
            temperature=self.temperature)

    def thermal_stability(self) -> Float[Array, ""]:
        """Delta = E_B / (k_B T) at zero input (16.6–58.7 for 17–60 nm, crystalline only)."""
        return self.macrospin().thermal_stability()

    def ring_down_time(self, voltage=0.0) -> Float[Array, ""]:
        """Small-oscillation decay time 2 (1 + alpha^2) / (alpha gamma (H_a + H_b)) [s] about
        the equilibrium at `voltage` (below saturation: H_a = H_1 (1 - h^2) in the x–y plane,
        H_b = H_1 + (N_z - N_y) Ms toward z, h = V / V_sat)."""
        h = jnp.clip(jnp.asarray(voltage) / self.saturation_voltage(), -1.0, 1.0)
        n = self.demag_factors()
        h1 = self.hard_axis_field()
        hb = h1 + (n[2] - n[1]) * self.material.Ms
        alpha = self.material.alpha
        return 2.0 * (1.0 + alpha**2) / (alpha * GAMMA * (h1 * (1.0 - h**2) + hb))

    def drive_current(self) -> Float[Array, ""]:
        """Read drive current I_d = V_d / R_d [A] (5 µA by default)."""
        return self.drive_voltage / self.drive_resistance

    def spin_current(self) -> Float[Array, ""]:
        """Spin current injected into the spin–orbit layer, I_s = eta I_d [A]."""
        return self.spin_injection * self.drive_current()

    def charge_current(self, m_y=1.0) -> Float[Array, "..."]:
        """IREE charge current I_c = (lambda / L) I_s m_y [A]."""
        return self.conversion_length / self.length * self.spin_current() * jnp.asarray(m_y)

    def output_voltage(self, m_y=1.0) -> Float[Array, "..."]:
        """Open-circuit output V_out = I_c R_s [V] (the state-(+1) value for m_y = 1)."""
        return self.charge_current(m_y) * self.source_resistance

    def ota_current(self, y) -> Float[Array, "..."]:
        """OTA output I_out = I_max clip(y, -1, 1) [A] for normalised output(s) `y`."""
        return self.ota_max_current * jnp.clip(jnp.asarray(y), -1.0, 1.0)

    # --- energies ---------------------------------------------------------------------------
    def write_energy(self, voltage) -> Float[Array, "..."]:
        """C V^2 [J]: energy drawn to charge the ME capacitor to `voltage` [V]."""
        voltage = self.check_voltage(voltage)
        return self.capacitance * jnp.asarray(voltage) ** 2

    def read_energy(self) -> Float[Array, ""]:
        """Energy of one read [J]: drive V_d I_d t_read + IREE source loss I_c(+1)^2 R_s t_read."""
        drive = self.drive_voltage * self.drive_current() * self.read_time
        source = self.charge_current(1.0) ** 2 * self.source_resistance * self.read_time
        return drive + source

    def output_energy(self) -> Float[Array, ""]:
        """Upper bound of the OTA's output energy per read, I_max V_syn t_read [J]."""
        return self.ota_max_current * self.synapse_supply * self.read_time

    def evaluation_energy(self, voltage) -> Float[Array, "..."]:
        """Write + read + output energy of one evaluation at input `voltage` [J]."""
        return self.write_energy(voltage) + self.read_energy() + self.output_energy()

    # --- Monte Carlo in the loop --------------------------------------------------------------
    def equilibrium_states(self, voltages, key, trial_index=None, lengths=None):
        """Boltzmann samples of m at each input voltage [V] (N,) (and magnet length [m]).

        Metropolis on the unit sphere on the macrospin's energy E(m) / (k_B T), 400 steps of
        isotropic proposals m' = (m + s g)/|m + s g| (symmetric), s = (2 Delta_1)^(-1/2) the
        hard-axis thermal tilt, from the Stoner–Wohlfarth minimum on a random side of the easy
        axis. Exact in the limit (unlike the harmonic sample of `Macrospin.equilibrium_states`,
        which fails at the knee of the M–H curve where the stiffness vanishes).
        **Returns:** (N, 3).
        """
        voltages = jnp.atleast_1d(jnp.asarray(voltages))
        n = voltages.shape[0]
        lengths = jnp.broadcast_to(self.length if lengths is None else lengths, (n,))
        index = jnp.arange(n) if trial_index is None else jnp.asarray(trial_index)
        system, axes = self._trial_system(lengths, voltages, jnp.zeros((n, 3)), 0.0, None)
        return _boltzmann(system, axes, self._start_states(lengths, voltages, key, index),
                          _trial_keys(key, index))

    def read(self, voltages, key, trial_index=None, lengths=None):
        """One read of N cells at input `voltages` [V] (N,) in thermal equilibrium.

        Physics in the loop: Boltzmann start at each cell's ME field, then the thermal sLLG
        over the read pulse; the read is the pulse-average of m_y (normalised output y).
        `lengths` [m] (N,) overrides the magnet length per cell. **Returns:** y, (N,).
        """
        voltages = jnp.atleast_1d(jnp.asarray(voltages, float))
        self.check_voltage(voltages, "voltages")
        n = voltages.shape[0]
        lengths = jnp.broadcast_to(jnp.asarray(self.length if lengths is None else lengths,
                                               float), (n,))
        index = jnp.arange(n) if trial_index is None else jnp.asarray(trial_index)
        out = []
        for s in range(0, n, _CHUNK):
            sl = slice(s, min(s + _CHUNK, n))
            out.append(self._read_chunk(_padded(lengths[sl], _CHUNK),
                                        _padded(voltages[sl], _CHUNK),
                                        _padded(index[sl], _CHUNK), key)[: sl.stop - s])
        return jnp.concatenate(out)

    def _read_chunk(self, lengths, voltages, index, key):
        system, axes = self._trial_system(lengths, voltages, jnp.zeros((lengths.shape[0], 3)),
                                          0.0, None)
        m0 = _boltzmann(system, axes,
                        self._start_states(lengths, voltages, jax.random.fold_in(key, 1), index),
                        _trial_keys(jax.random.fold_in(key, 1), index))
        # Last sample a hair inside t1: float32 rounding of t1 must not put it outside.
        save = jnp.linspace(0.0, float(self.read_time) * (1 - 1e-6), _READ_SAMPLES)
        kw = dict(key=jax.random.fold_in(key, 0), trial_index=index) \
            if float(self.temperature) > 0 else {}
        traj = simulate(system, m0, t1=float(self.read_time), dt=self.dt, save_at=save,
                        system_axes=axes, dtype=jnp.float32, **kw)
        return _trapezoid_mean(traj.m[..., 1])

    def _start_states(self, lengths, voltages, key, index):
        # Stoner–Wohlfarth minimum at the input field, on a random side of the easy axis.
        v_sat = jax.vmap(lambda l: self.with_length(l).saturation_voltage())(lengths)
        h = jnp.clip(voltages / v_sat, -1.0, 1.0)
        side = jnp.where(jax.vmap(lambda i: jax.random.bernoulli(
            jax.random.fold_in(jax.random.fold_in(key, 7), i)))(index), 1.0, -1.0)
        return jnp.stack([side * jnp.sqrt(jnp.clip(1.0 - h**2, 0.0)), h, 0.0 * h], axis=-1)

    def _trial_system(self, lengths, voltages, pinned, torque_current, pulses):
        """One Macrospin whose leaves carry per-trial values, and its `system_axes`."""
        n = lengths.shape[0]
        factors = (jax.vmap(lambda l: self.with_length(l).demag_factors())(lengths)
                   if self.shape_anisotropy else jnp.zeros((n, 3)))
        hy = self.me_field(voltages)
        fields = (UniaxialAnisotropy(axis=jnp.array([1.0, 0.0, 0.0])),
                  ShapeAnisotropy(factors=factors),
                  Zeeman(H=jnp.stack([0.0 * hy, hy, 0.0 * hy], axis=-1)))
        torques = ()
        if pulses is not None:
            offset, period, count = pulses
            train = ReadPulses(torque_current, self.read_time, period, offset, count)
            torques = (SlonczewskiTorque(self.spin_injection, train, pinned=pinned),)
        system = Macrospin(FreeLayer(self.material, Rectangle(lengths, self.width,
                                                              self.thickness)),
                           fields=fields, torques=torques, temperature=self.temperature)
        axes = jtu.tree_map(lambda _: None, system)
        where = [lambda s: s.magnet.geometry.length_x, lambda s: s.fields[1].factors,
                 lambda s: s.fields[2].H]
        if torques:
            where.append(lambda s: s.torques[0].pinned)
        for w in where:
            axes = eqx.tree_at(w, axes, 0, is_leaf=lambda x: x is None)
        return system, axes

    def hold_and_read(self, voltages, key, *, n_reads: int = 50, read_period=250e-12,
                      torque_fraction=0.0, trial_index=None):
        """Hold N stored states for n_reads x read_period and read each one `n_reads` times.

        Cells start in equilibrium at their input `voltages` [V] (N,); the ME field stays on
        (the charge is held); read pulses of `read_time` are centred in each period. During
        every pulse a worst-case read torque acts: spin current `torque_fraction` x eta x I_d
        polarized against the stored state (-sign(V) y); 0 (default) is the physical value
        (see the module docstring). **Returns:** reads y, (N, n_reads).
        """
        voltages = jnp.atleast_1d(jnp.asarray(voltages, float))
        self.check_voltage(voltages, "voltages")
        check_range("torque_fraction", torque_fraction, low=0.0, low_inclusive=True,
                    high=1000.0)
        n_reads = int(n_reads)
        if n_reads < 1:
            raise ValueError(f"n_reads = {n_reads} must be an integer >= 1")
        period, t_read = float(read_period), float(self.read_time)
        if period < t_read + 2 * 10e-12:
            raise ValueError(f"read_period = {period:g} s must exceed read_time + 2 edge "
                             f"times = {t_read + 20e-12:g} s")
        n = voltages.shape[0]
        index = jnp.arange(n) if trial_index is None else jnp.asarray(trial_index)
        lengths = jnp.broadcast_to(jnp.asarray(self.length, float), (n,))
        starts = (period - t_read) / 2 + period * jnp.arange(n_reads)
        against = jnp.where(voltages >= 0, -1.0, 1.0)
        pinned = jnp.stack([0.0 * voltages, against, 0.0 * voltages], axis=-1)
        current = torque_fraction * self.drive_current()
        system, axes = self._trial_system(lengths, voltages, pinned, current,
                                          ((period - t_read) / 2, period, n_reads))
        plain, plain_axes = self._trial_system(lengths, voltages, pinned, 0.0, None)
        m0 = _boltzmann(plain, plain_axes,
                        self._start_states(lengths, voltages, jax.random.fold_in(key, 1), index),
                        _trial_keys(jax.random.fold_in(key, 1), index))
        k = 9
        frac = jnp.linspace(0.0, 1.0, k)
        save = (starts[:, None] + t_read * frac[None, :]).reshape(-1)
        traj = simulate(system, m0, t1=period * n_reads, dt=self.dt, save_at=save,
                        system_axes=axes, key=jax.random.fold_in(key, 0), trial_index=index,
                        dtype=jnp.float32)
        my = traj.m[..., 1].reshape(n, n_reads, k)
        return _trapezoid_mean(my)

    def step_response(self, voltage, t1, *, key=None, n_trials: int = 256, n_save: int = 600,
                      initial_voltage=0.0):
        """Normalised output m_y(t) after the input steps from `initial_voltage` to `voltage`.

        The ME capacitor is charged at t = 0 (the OTA's <= 1 µA into 1 fF slews 1 mV/ps, a
        step on the magnet's time scale). Deterministic (T = 0 macrospin, adaptive Tsit5) when
        `key` is None, else the thermal mean of `n_trials` sLLG runs started in equilibrium.
        **Returns:** `(ts [s], y(ts))` numpy arrays.
        """
        self.check_voltage(voltage)
        self.check_voltage(initial_voltage, "initial_voltage")
        save = jnp.linspace(0.0, float(t1) * (1 - 1e-6), int(n_save))
        lengths = jnp.full((1 if key is None else n_trials,), float(self.length))
        n = lengths.shape[0]
        v1 = jnp.full((n,), float(voltage))
        system, axes = self._trial_system(lengths, v1, jnp.zeros((n, 3)), 0.0, None)
        if key is None:
            cold = eqx.tree_at(lambda s: s.temperature, system, 0.0)
            h0 = float(jnp.clip(initial_voltage / self.saturation_voltage(), -1.0, 1.0))
            m0 = jnp.array([[math.sqrt(max(1.0 - h0**2, 0.0)), h0, 0.0]])
            traj = simulate(cold, m0, t1=float(t1), save_at=save, system_axes=axes)
            return np.asarray(traj.ts), np.asarray(traj.m[0, :, 1])
        v0 = jnp.full((n,), float(initial_voltage))
        index = jnp.arange(n)
        m0 = self.equilibrium_states(v0, key, index, lengths)
        traj = simulate(system, m0, t1=float(t1), dt=self.dt, save_at=save, system_axes=axes,
                        key=jax.random.fold_in(key, 0), trial_index=index, dtype=jnp.float32)
        return np.asarray(traj.ts), np.asarray(jnp.mean(traj.m[..., 1], axis=0))


class ReadPulses(AbstractWaveform):
    """`count` equal trapezoidal pulses, `amplitude` for `width` [s], one every `period` [s]
    from `offset` [s]; edges of `rise_time` [s] as in `spinjax.Pulse`. O(1) per evaluation
    (only the nearest pulse is evaluated), unlike a general `PulseTrain`."""

    amplitude: Float[Array, ""]
    width: Float[Array, ""]
    period: Float[Array, ""]
    offset: Float[Array, ""] = 0.0
    count: int = eqx.field(static=True, default=1)
    rise_time: Float[Array, ""] = DEFAULT_RISE_TIME

    def __check_init__(self):
        check_range("width", self.width, low=0.0, unit="s")
        check_range("rise_time", self.rise_time, low=0.0, unit="s")
        if is_concrete((self.period, self.width, self.rise_time)):
            check_range("period", self.period,
                        low=float(np.max(np.asarray(self.width) + np.asarray(self.rise_time))),
                        unit="s")

    def __call__(self, t):
        k = jnp.clip(jnp.round((t - self.offset - 0.5 * self.width) / self.period), 0,
                     self.count - 1)
        u = t - self.offset - k * self.period
        ramp = lambda z: jnp.clip(z / self.rise_time + 0.5, 0.0, 1.0)  # noqa: E731
        return self.amplitude * (ramp(u) - ramp(u - self.width))

    def max_abs(self):
        return jnp.abs(self.amplitude)


def response_times(ts, y, final, band=0.1):
    """Rise and settling times of a step response y(ts) toward `final`.

    **Returns:** `(rise, settle)` [s]: first time y reaches 90 % of `final`; last time
    |y - final| exceeds `band` |final| (the output is then inside the band for good).
    """
    ts, y = np.asarray(ts), np.asarray(y)
    reached = np.nonzero(np.sign(final) * y >= 0.9 * abs(final))[0]
    rise = float(ts[reached[0]]) if reached.size else float("nan")
    outside = np.nonzero(np.abs(y - final) > band * abs(final))[0]
    settle = float(ts[min(outside[-1] + 1, len(ts) - 1)]) if outside.size else float(ts[0])
    return rise, settle


# --- helpers ------------------------------------------------------------------------------------
def _padded(x, size):
    x = jnp.asarray(x)
    if x.shape[0] == size:
        return x
    return jnp.concatenate([x, jnp.broadcast_to(x[-1:], (size - x.shape[0],) + x.shape[1:])])


def _trial_keys(key, index):
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(index)


def _trapezoid_mean(y):
    """Time average over the last axis of equally spaced samples (trapezoid rule)."""
    return (jnp.sum(y, axis=-1) - 0.5 * (y[..., 0] + y[..., -1])) / (y.shape[-1] - 1)


@eqx.filter_jit
def _boltzmann(system, axes, m_start, keys):
    """Metropolis chains (one per trial) on the Boltzmann law of `system`'s energy."""

    def chain(sys, m, key):
        beta = 1.0 / (K_B * jnp.maximum(sys.temperature, 1e-30))
        energy = lambda v: sys.energy(0.0, Vec3.from_array(v)) * beta  # noqa: E731
        # Hard-axis stiffness: K_1 V / k_B T, from the field terms' zero-field Hessian.
        lam = jnp.linalg.eigvalsh(sys._stiffness(m.dtype))
        delta1 = sys.magnet.volume * (lam[1] - lam[0]) * beta
        step = 1.0 / jnp.sqrt(2.0 * jnp.maximum(delta1, 1.0))

        def body(i, carry):
            m, e = carry
            k1, k2 = jax.random.split(jax.random.fold_in(key, i))
            prop = m + step * jax.random.normal(k1, (3,), m.dtype)
            prop = prop / jnp.linalg.norm(prop)
            e_new = energy(prop)
            accept = jnp.log(jax.random.uniform(k2, (), m.dtype)) < e - e_new
            return jnp.where(accept, prop, m), jnp.where(accept, e_new, e)

        m_out, _ = jax.lax.fori_loop(0, _METROPOLIS_STEPS, body, (m, energy(m)))
        hot = sys.temperature > 0
        return jnp.where(hot, m_out, m)

    return jax.vmap(chain, in_axes=(axes, 0, 0))(system, m_start, keys)


# --- Monte Carlo statistics, surrogate and calibration -------------------------------------------
@dataclasses.dataclass(frozen=True)
class TransferStatistics:
    """Monte Carlo of the normalised read output y over magnet lengths and inputs.

    - `lengths` (L,) [m]; `voltages` (L, V) [V]; `outputs` (L, V, trials) normalised reads;
    - `v_sat` (L,) [V], `barrier` (L,) (Delta = E_B / k_B T), `ideal` (L, V) = clip(V / V_sat).
    """

    lengths: np.ndarray
    voltages: np.ndarray
    outputs: np.ndarray
    v_sat: np.ndarray
    barrier: np.ndarray
    ideal: np.ndarray

    @property
    def mean(self):
        return self.outputs.mean(-1)

    @property
    def std(self):
        return self.outputs.std(-1, ddof=1)

    @property
    def n_trials(self) -> int:
        return self.outputs.shape[-1]

    def rms_error(self):
        """RMS deviation of single reads from the ideal curve over inputs and trials (L,)."""
        return np.sqrt(np.mean((self.outputs - self.ideal[..., None]) ** 2, axis=(1, 2)))

    def bias_rms(self):
        """RMS over inputs of the thermal-mean output's deviation from the ideal curve (L,)."""
        return np.sqrt(np.mean((self.mean - self.ideal) ** 2, axis=1))

    def noise_rms(self):
        """RMS over inputs of the read-to-read standard deviation (L,)."""
        return np.sqrt(np.mean(self.outputs.var(-1), axis=1))


def transfer_monte_carlo(cell: IRMENCell, key, *, lengths, n_trials: int, inputs=None,
                         voltages=None) -> TransferStatistics:
    """Read `n_trials` cells at each (length, input): the transfer function with its noise.

    Give either `inputs` (V,), in units of each length's saturation voltage, or `voltages`
    (V,) [V]. Trial keys derive from the global trial index (chunk-independent).
    """
    lengths = np.atleast_1d(np.asarray(lengths, float))
    check_range("lengths", lengths, low=0.0, high=1e-6, unit="m")
    if (inputs is None) == (voltages is None):
        raise ValueError("give exactly one of inputs (in units of V_sat) or voltages [V]")
    if int(n_trials) < 2:
        raise ValueError(f"n_trials = {n_trials} must be an integer >= 2")
    cells = [cell.with_length(length) for length in lengths]
    v_sat = np.array([float(c.saturation_voltage()) for c in cells])
    barrier = np.array([float(c.thermal_stability()) for c in cells])
    if inputs is not None:
        v = v_sat[:, None] * np.asarray(inputs, float)[None, :]
    else:
        v = np.broadcast_to(np.asarray(voltages, float), (len(lengths), len(voltages))).copy()
    cell.check_voltage(v, "voltages")
    n_v = v.shape[1]
    per_trial_v = np.repeat(v.reshape(-1), n_trials)
    per_trial_l = np.repeat(np.repeat(lengths, n_v), n_trials)
    y = cell.read(jnp.asarray(per_trial_v), key, lengths=jnp.asarray(per_trial_l))
    ideal = np.clip(v / v_sat[:, None], -1.0, 1.0)
    return TransferStatistics(lengths=lengths, voltages=v,
                              outputs=np.asarray(y, float).reshape(len(lengths), n_v, n_trials),
                              v_sat=v_sat, barrier=barrier, ideal=ideal)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(512)


def boltzmann_moments(h, delta):
    """Exact thermal mean and variance of m_y for a hard-axis field h = H / H_1 [1] on a
    uniaxial magnet of barrier `delta` = K_1 V / (k_B T), with transverse stiffness isotropic
    (crystalline-only, or a square cross-section).

    E / k_B T = -delta m_x^2 - 2 delta h m_y. With u = m_y the azimuthal integral is
    closed-form, ∫ exp(delta (1 - u^2) cos^2 phi) dphi = 2 pi exp(a) I0(a), a = delta (1 - u^2)/2,
    leaving a 1-D integral in u (512-node Gauss–Legendre; exp-scaled Bessel i0e for range).
    The Stoner–Wohlfarth analogue of the Langevin function: -> clip(h, -1, 1) as delta -> inf.
    **Returns:** `(mean, variance)`, broadcast over h and delta; differentiable.
    """
    h, delta = jnp.broadcast_arrays(jnp.asarray(h), jnp.asarray(delta))
    h, delta = h[..., None], delta[..., None]
    u = jnp.asarray(_GL_NODES).reshape((1,) * (h.ndim - 1) + (-1,))
    w = jnp.asarray(_GL_WEIGHTS).reshape(u.shape)
    a = 0.5 * delta * (1.0 - u**2)
    logw = 2.0 * delta * h * u + 2.0 * a + jnp.log(jax.scipy.special.i0e(a))
    p = w * jnp.exp(logw - jnp.max(logw, axis=-1, keepdims=True))
    p = p / jnp.sum(p, axis=-1, keepdims=True)
    mean = jnp.sum(p * u, axis=-1)
    return mean, jnp.sum(p * (u - mean[..., None]) ** 2, axis=-1)


class IRMENSurrogate(eqx.Module):
    """Differentiable transfer function of one IRMEN read, with a length-dependent noise.

    With h = V / V_sat(L), Delta_1(L) = mu0 Ms V H_1 / (2 k_B T) and H_1 from the physics of
    `cell` (its `length` replaced by the `length` argument of each method):

        mean(V, L) = <m_y>(h, kappa Delta_1)                 (`boltzmann_moments`)
        std(V, L)  = noise_scale * sd(h, kappa Delta_1) * sqrt(G)

    The mean is the exact static thermal average of the hard-axis M–H curve (a smooth
    saturated-linear, Langevin-like curve: slope 1 + O(1/Delta) in the middle, knee rounded
    over O(Delta^-1/2), saturation approached as 1 - O(1/(Delta (h - 1)))); `kappa` ≈ 1 tests
    it. sd is the static thermal standard deviation of m_y (the same integral). A read averages
    m_y over T = `read_time`; G is the fraction of the variance that survives the average.
    Below saturation m_y fluctuates to first order in the precessing tilt, autocorrelation
    e^{-Gamma t} cos(omega t): G = g(Gamma - i omega), with
    g(s) = (2 / T^2) Re[T / s - (1 - e^{-s T}) / s^2] (exact window average),
    omega = gamma sqrt(H_a H_b) and Gamma = alpha gamma (H_a + H_b) / 2 the local precession
    frequency and decay rate about the Stoner–Wohlfarth equilibrium (H_a = H_1 |1 - h^2|,
    H_b = H_1 + (N_z - N_y) Ms). In saturation m_y = 1 - theta^2 / 2 is second order in the
    tilts (H_a = H_1 (|h| - 1), H_b = H_1 |h| + (N_z - N_y) Ms): a part `c_sat` relaxes
    without precessing, G = c_sat g(2 Gamma) + (1 - c_sat) g(2 Gamma - 2 i omega).
    Fitted (`calibrate_surrogate`): `kappa`, `noise_scale`, `c_sat`.
    """

    cell: IRMENCell
    kappa: Float[Array, ""] = 1.0
    noise_scale: Float[Array, ""] = 1.0
    c_sat: Float[Array, ""] = 0.5

    def __check_init__(self):
        check_range("kappa", self.kappa, low=0.0, high=100.0)
        check_range("noise_scale", self.noise_scale, low=0.0, low_inclusive=True, high=100.0)
        check_range("c_sat", self.c_sat, low=0.0, low_inclusive=True, high=1.0,
                    high_inclusive=True)

    def _physics(self, voltage, length):
        cell = self.cell.with_length(length)
        h1 = cell.hard_axis_field()
        ms = cell.material.Ms
        delta = MU0 * ms * cell.volume() * h1 / (2.0 * K_B * cell.temperature)
        h = jnp.asarray(voltage) / cell.saturation_voltage()
        n = cell.demag_factors()
        ah = jnp.abs(h)
        inside = ah < 1.0
        h_a = jnp.where(inside, h1 * jnp.abs(1.0 - h**2), h1 * (ah - 1.0))
        h_b = jnp.where(inside, h1 + (n[2] - n[1]) * ms, h1 * ah + (n[2] - n[1]) * ms)
        omega = GAMMA * jnp.sqrt(h_a * h_b)
        rate = cell.material.alpha * GAMMA * 0.5 * (h_a + h_b)
        t = cell.read_time

        def g(s):  # surviving variance fraction of e^{-s tau} correlations averaged over t
            s = s * t + 1e-9  # dimensionless
            return 2.0 * jnp.real(1.0 / s - (1.0 - jnp.exp(-s)) / s**2)

        lin = g(rate - 1j * omega)
        sat = self.c_sat * g(2 * rate + 0j) + (1 - self.c_sat) * g(2 * rate - 2j * omega)
        return h, delta, jnp.where(inside, lin, sat)

    def mean(self, voltage, length):
        """Thermal-mean normalised output at `voltage` [V] for magnet `length` [m] (scalar)."""
        h, delta, _ = self._physics(voltage, length)
        return boltzmann_moments(h, self.kappa * delta)[0]

    def std(self, voltage, length):
        """Read-to-read standard deviation of the normalised output."""
        h, delta, surviving = self._physics(voltage, length)
        var = boltzmann_moments(h, self.kappa * delta)[1]
        return self.noise_scale * jnp.sqrt(var * surviving)

    def sample(self, key, voltage, length):
        """Noisy reads (Gaussian) for `voltage` [V] (any shape) at `length` [m]."""
        voltage = jnp.asarray(voltage)
        return (self.mean(voltage, length)
                + self.std(voltage, length) * jax.random.normal(key, voltage.shape))

    def rms_error(self, length, inputs=None):
        """Predicted RMS deviation of reads from the ideal curve, inputs (in units of V_sat)
        uniform in [-1.5, 1.5] by default (the metric of `TransferStatistics.rms_error`)."""
        inputs = jnp.linspace(-1.5, 1.5, 25) if inputs is None else jnp.asarray(inputs)
        v = inputs * self.cell.with_length(length).saturation_voltage()
        ideal = jnp.clip(inputs, -1.0, 1.0)
        return jnp.sqrt(jnp.mean((self.mean(v, length) - ideal) ** 2 + self.std(v, length) ** 2))


@dataclasses.dataclass(frozen=True)
class TransferCalibration:
    """A fitted `IRMENSurrogate` with its calibration data and errors.

    - `surrogate`; `data` (the `TransferStatistics` it was fitted to);
    - `mean_rms_error`, `mean_max_error`: |surrogate mean - MC mean| over the calibration
      points (normalised output units); `std_rel_error`: RMS relative error of the std;
    - `chi2`, `dof`: goodness of fit of the means against their standard errors.
    """

    surrogate: IRMENSurrogate
    data: TransferStatistics
    mean_rms_error: float
    mean_max_error: float
    std_rel_error: float
    chi2: float
    dof: int


def calibrate_surrogate(data: TransferStatistics, cell: IRMENCell) -> TransferCalibration:
    """Fit `IRMENSurrogate` to physics Monte Carlo `data` (weighted least squares).

    Residuals: (mean_model - mean_MC) / SE_mean and (std_model - std_MC) / SE_std over all
    (length, input) points, SE_mean = std / sqrt(n) (floored at 1e-3), SE_std = std /
    sqrt(2 (n - 1)) (floored at 1e-3).
    """
    n = data.n_trials
    se_mean = np.maximum(data.std / np.sqrt(n), 1e-3)
    se_std = np.maximum(data.std / np.sqrt(2 * (n - 1)), 1e-3)
    lengths = jnp.asarray(data.lengths)
    volts = jnp.asarray(data.voltages)

    def make(theta):
        return IRMENSurrogate(cell, kappa=jnp.exp(theta[0]), noise_scale=jnp.exp(theta[1]),
                              c_sat=jax.nn.sigmoid(theta[2]))

    def model(theta):
        sur = make(theta)
        mean = jax.vmap(lambda v, l: sur.mean(v, l))(volts, lengths)
        std = jax.vmap(lambda v, l: sur.std(v, l))(volts, lengths)
        return mean, std

    @jax.jit
    def residuals(theta):
        mean, std = model(theta)
        return jnp.concatenate([((mean - data.mean) / se_mean).reshape(-1),
                                ((std - data.std) / se_std).reshape(-1)])

    jac = jax.jit(jax.jacfwd(residuals))
    theta0 = np.array([0.0, 0.0, 0.0])
    fit = scipy.optimize.least_squares(lambda t: np.asarray(residuals(jnp.asarray(t))), theta0,
                                       jac=lambda t: np.asarray(jac(jnp.asarray(t))))
    theta = fit.x
    sur = IRMENSurrogate(cell, kappa=float(np.exp(theta[0])),
                         noise_scale=float(np.exp(theta[1])),
                         c_sat=float(jax.nn.sigmoid(theta[2])))
    mean, std = (np.asarray(a) for a in model(jnp.asarray(theta)))
    resid = mean - data.mean
    chi2 = float(np.sum((resid / se_mean) ** 2))
    return TransferCalibration(
        surrogate=sur, data=data, mean_rms_error=float(np.sqrt(np.mean(resid**2))),
        mean_max_error=float(np.max(np.abs(resid))),
        std_rel_error=float(np.sqrt(np.mean((std / data.std - 1.0) ** 2))),
        chi2=chi2, dof=int(resid.size - len(theta)))
