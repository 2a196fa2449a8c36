"""Domain-wall synapse and integrate-and-fire neuron of physics.md 5c (PMA FM on HM, DMI Néel wall).

Both devices are a free layer (FL) strip of length L = 80 nm and width 20 nm, CoFe 0.6 nm on Pt
(the Ta(3)/Pt(3)/CoFe(0.6)/MgO(1.8)/Ta(2) stack of 5c), with one up/down Néel wall at position
q in [0, L] (q = 0: the whole FL "down"). A read MTJ on the FL, pinned layer up, sees the part
x < q in P and the rest in AP.

Physics model in the loop: the collective-coordinate (q, phi) wall of `spinjax.domainwall`
(`solve_wall` for programming pulses, `solve_wall_thermal` for the stochastic neuron), driven
by the spin-orbit torque of the current in the Pt, with j = I / (w t_Pt).

Material (`DWSynapse` defaults; all leaves, change them freely): round values representative of
Pt/CoFe/MgO films as analysed with the 1D model by Emori et al., Nat. Mater. 12, 611 (2013) and
Martinez et al., JAP 115, 213909 (2014): Ms = 0.7 MA/m, A = 10 pJ/m, K_eff = 0.17 MJ/m^3
(Delta = 7.7 nm), alpha = 0.3, theta_SH(Pt) = 0.07, D = -0.5 mJ/m^2 (left-handed Néel walls,
so with theta_SH > 0 walls move *along* the current, as Emori observed in Pt/CoFe). They are
not a fit to one sample. Pt(3 nm) resistivity 40 µOhm·cm (thin-film value; the Ta seed, ~5x
more resistive, is neglected): R_HM = rho L / (w t_Pt) = 533 Ohm under the FL.

Consequences worth knowing (computed by the model, checked in tests/test_devices_dw.py):

- Below SOT saturation (j_D ≈ 5e11 A/m^2 here) a pulse moves the wall by dx = mu j t with
  mu = (pi/2) gamma Delta hbar theta_SH / (2 e mu0 Ms t_FM alpha) ≈ 3.8e-10 m^3/(A s) (for
  K_D = 0; the strip's own K_D changes it by a few %): dx per unit charge density.
- At 300 K the wall of a 20 nm x 0.6 nm strip is a light particle: its long-time diffusion
  constant (Einstein relation with the steady mobility) is D_q = k_B T gamma Delta /
  (2 mu0 Ms w t alpha) ≈ 1e-6 m^2/s, i.e. ~45 nm in 1 ns. A synapse of this size keeps its
  weight only with pinning (not modelled by default; `pinning` takes any
  `spinjax.domainwall.AbstractPinning`), and the IF neuron is strongly stochastic.
"""

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .._checks import check_range, is_concrete
from ..constants import ELEMENTARY_CHARGE, GAMMA, HBAR, K_B, MU0
from ..domainwall import (AbstractPinning, DomainWallStrip, solve_wall, solve_wall_thermal)
from ..readout import MagneticTunnelJunction, divider_read
from ..waveforms import DEFAULT_RISE_TIME, Constant, Pulse, PulseTrain

PULSE_START = 0.1e-9
"""Start (rising half-maximum) of a programming pulse in a deterministic solve [s]."""

SOLVE_TIME = 10e-9
"""Duration of every deterministic solve [s]: pulses end before it, the wall is at rest then
(after a pulse phi relaxes in ~0.1 ns and the wall stops). One value, so one compilation."""

_CHUNK = 16          # deterministic solves are run in padded batches of this size
_THERMAL_CHUNK = 256  # thermal trajectories per padded batch


# --- shared helpers (also used by dw_neuron) --------------------------------------------------
def _as_array_leaves(module):
    # Python floats would be static under filter_jit (one compile per value).
    return jax.tree_util.tree_map(
        lambda x: jnp.asarray(x, float) if isinstance(x, (float, int)) and not isinstance(
            x, bool) else x, module)


def up_fraction(q, length, delta):
    """Fraction of [0, L] on the up (x < q) side of a Walker wall at q [m], width delta [m].

    The rigid profile has m_z = -tanh((x - q)/delta), so the integral of (1 + m_z)/2 over the
    strip is (delta/2)[softplus(2q/delta) - softplus(2(q - L)/delta)]: exactly q/L for a wall
    away from the ends (the MTJ conductance is linear in m_z, so the wall adds nothing there),
    with a correction of order delta/L near them. Smooth and differentiable.
    """
    a = 2.0 / delta
    return (jax.nn.softplus(a * q) - jax.nn.softplus(a * (q - length))) / (a * length)


def _pad(x, chunk):
    x = jnp.asarray(x)
    n = x.shape[0]
    m = -(-n // chunk) * chunk
    if m == n:
        return x, n
    return jnp.concatenate([x, jnp.repeat(x[-1:], m - n, axis=0)]), n


@eqx.filter_jit
def _pulse_positions(base, amps, widths, q0, phi0, save_at, rtol):
    """q at `save_at` (k,) [s] for pulses Pulse(amps[i], widths[i], PULSE_START) [A/m^2, s]
    started at q0[i]; base: a DomainWallStrip (its current is replaced)."""

    def one(j, w, q):
        model = eqx.tree_at(lambda s: s.current, base, Pulse(j, w, PULSE_START))
        return solve_wall(model, SOLVE_TIME, q, phi0, save_at, rtol=rtol, atol=rtol).q

    return jax.lax.map(lambda c: jax.vmap(one)(*c), (amps, widths, q0))


def pulse_positions(base: DomainWallStrip, amps, widths, q0, save_at, rtol=1e-6):
    """Deterministic wall positions [m] at the 5 times `save_at` [s] for a batch of pulses.

    `amps` current densities [A/m^2], `widths` [s], `q0` [m], all (n,); returns (n, 5).
    Batched in padded chunks of 16 so that every call shares one compilation.
    """
    base = _as_array_leaves(base.with_wall_anisotropy())
    amps, widths, q0 = jnp.broadcast_arrays(jnp.asarray(amps, float),
                                            jnp.asarray(widths, float), jnp.asarray(q0, float))
    amps, widths, q0 = (jnp.atleast_1d(a) for a in (amps, widths, q0))
    save_at = jnp.asarray(save_at, float)
    if save_at.shape != (5,):
        raise ValueError(f"save_at must hold 5 times, got shape {save_at.shape}")
    n = amps.shape[0]
    cols = []
    for a in (amps, widths, q0):
        p, _ = _pad(a, _CHUNK)
        cols.append(p.reshape(-1, _CHUNK))
    phi0 = base.rest_angle()
    q = _pulse_positions(base, *cols, phi0, save_at, jnp.asarray(rtol, float))
    return q.reshape(-1, 5)[:n]


@eqx.filter_jit
def _thermal_positions(base, amps, widths, q0, keys, phi0, t1, dt, save_every):
    def one(j, w, q, k):
        model = eqx.tree_at(lambda s: s.current, base, Pulse(j, w, PULSE_START))
        return solve_wall_thermal(model, t1, dt, k, q, phi0, save_every=save_every).q

    return jax.lax.map(lambda c: jax.vmap(one)(*c), (amps, widths, q0, keys))


def thermal_positions(base: DomainWallStrip, amps, widths, q0, key, t1: float, dt: float,
                      save_every: int):
    """Thermal wall trajectories q(t) [m] saved every `save_every` steps of `dt` up to `t1`.

    Trajectory i is driven by Pulse(amps[i] [A/m^2], widths[i] [s], PULSE_START) from q0[i];
    its noise depends only on (`key`, i) (`jax.random.fold_in`), not on the batching.
    Returns (n, t1 / (dt save_every)).
    """
    base = _as_array_leaves(base.with_wall_anisotropy())
    amps, widths, q0 = jnp.broadcast_arrays(jnp.asarray(amps, float),
                                            jnp.asarray(widths, float), jnp.asarray(q0, float))
    n = amps.shape[0]
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(n))
    cols = []
    for a in (amps, widths, q0, keys):
        p, _ = _pad(a, _THERMAL_CHUNK)
        cols.append(p.reshape((-1, _THERMAL_CHUNK) + p.shape[1:]))
    phi0 = base.rest_angle()
    q = _thermal_positions(base, *cols, phi0, float(t1), float(dt), int(save_every))
    return q.reshape((-1,) + q.shape[2:])[:n]


def einstein_diffusion(strip: DomainWallStrip) -> Float[Array, ""]:
    """Long-time thermal diffusion constant of a free wall, D = k_B T mu_F [m^2/s].

    mu_F = gamma Delta / (2 mu0 Ms S alpha) is the steady velocity per unit force of the wall
    (v = gamma Delta Hz / alpha for the force 2 mu0 Ms S Hz, below Walker breakdown), so by the
    Einstein relation D = k_B T gamma Delta / (2 mu0 Ms S alpha). Valid for times longer than
    the phi relaxation time (~0.1 ns with DMI).
    """
    return (K_B * strip.temperature * GAMMA * strip.wall_width()
            / (2.0 * MU0 * strip.Ms * strip.cross_section() * strip.alpha))


# --- the synapse -------------------------------------------------------------------------------
class DWSynapse(eqx.Module):
    """Domain-wall synapse (physics.md 5c): the wall position q sets the read conductance

        G_eq(q) = G_P x/L + G_AP (1 - x/L) + G_DW,     x = q (the P part under the MTJ),

    and a programming current I through the Pt moves the wall by dx ∝ I t (SOT, below
    saturation), along the current (I > 0 potentiates). G_DW comes from the wall profile
    (`up_fraction`): zero away from the ends. The wall is confined to [0, L], so G saturates at
    G_AP (q = 0) and G_P (q = L).

    **Arguments** (SI; every float is a differentiable leaf):

    - `length`, `width`, `thickness`: FL strip L, w, t_FM [m], > 0 (80 nm, 20 nm, 0.6 nm).
    - `Ms` [A/m], `A` [J/m], `K_eff` [J/m^3] (> 0: PMA), `alpha`, `D` [J/m^2],
      `spin_hall_angle`: the wall model (see the module docstring for the values' origin).
    - `hm_thickness` [m], `hm_resistivity` [Ohm m]: the Pt write path under the FL.
    - `junction`: read MTJ over the FL (R_P 0.5 MOhm, R_AP 1 MOhm: RA = 800 Ohm um^2 over
      1600 nm^2 for the 1.8 nm MgO, TMR 100 %, pinned up). A high RA keeps the read current
      (~0.1 µA at 0.1 V) far below programming currents, so reads do not move the wall.
    - `read_voltage` [V] in (0, 1] (tunnel-barrier breakdown ~1 V), `read_time` [s], > 0.
    - `temperature` [K], >= 0 (used by thermal runs only); `pinning`: extra
      `AbstractPinning` potentials (default none).

    **Example:**

    ```python
    syn = DWSynapse()
    q1 = syn.program(40e-9, 6e-6, 1e-9)          # 6 µA for 1 ns: dx ≈ +37 nm
    syn.conductance(q1), syn.programming_energy(6e-6, 1e-9)   # [S], [J]
    cal = calibrate_synapse(syn)                 # dx(j t) surrogate, with its error
    ```
    """

    length: Float[Array, ""] = 80e-9
    width: Float[Array, ""] = 20e-9
    thickness: Float[Array, ""] = 0.6e-9
    Ms: Float[Array, ""] = 7e5
    A: Float[Array, ""] = 1e-11
    K_eff: Float[Array, ""] = 1.7e5
    alpha: Float[Array, ""] = 0.3
    D: Float[Array, ""] = -0.5e-3
    spin_hall_angle: Float[Array, ""] = 0.07
    hm_thickness: Float[Array, ""] = 3e-9
    hm_resistivity: Float[Array, ""] = 4e-7
    junction: MagneticTunnelJunction = MagneticTunnelJunction(
        r_parallel=5e5, r_antiparallel=1e6, pinned=(0.0, 0.0, 1.0))
    read_voltage: Float[Array, ""] = 0.1
    read_time: Float[Array, ""] = 1e-9
    temperature: Float[Array, ""] = 300.0
    pinning: tuple[AbstractPinning, ...] = ()

    def __check_init__(self):
        for name in ("length", "width", "thickness", "hm_thickness"):
            check_range(name, getattr(self, name), low=0.0, high=1e-5, unit="m")
        check_range("hm_resistivity", self.hm_resistivity, low=0.0, high=1e-4, unit="Ohm m")
        check_range("read_voltage", self.read_voltage, low=0.0, high=1.0, high_inclusive=True,
                    unit="V")
        check_range("read_time", self.read_time, low=0.0, unit="s")
        if not isinstance(self.junction, MagneticTunnelJunction):
            raise TypeError("junction must be a spinjax.readout.MagneticTunnelJunction")
        self.strip()   # validates Ms, A, K_eff, alpha, D, theta_SH, temperature, pinning

    # --- physics ----------------------------------------------------------------------------
    def strip(self, current=Constant(0.0), length=None) -> DomainWallStrip:
        """The 1D wall model of the FL, `current` a waveform of the Pt current density
        [A/m^2]; `length` [m] overrides L (a long strip measures bulk motion)."""
        return DomainWallStrip(
            Ms=self.Ms, A=self.A, alpha=self.alpha, D=self.D,
            length=self.length if length is None else length, width=self.width,
            thickness=self.thickness, K_eff=self.K_eff, current=current,
            spin_hall_angle=self.spin_hall_angle, pinning=self.pinning,
            temperature=self.temperature, wall_type=1)

    def current_density(self, current) -> Float[Array, "..."]:
        """Pt current density j = I / (w t_Pt) [A/m^2] for a current I [A]."""
        return jnp.asarray(current) / (self.width * self.hm_thickness)

    def hm_resistance(self) -> Float[Array, ""]:
        """R_HM = rho L / (w t_Pt) [Ohm] of the Pt under the FL (533 Ohm by default)."""
        return self.hm_resistivity * self.length / (self.width * self.hm_thickness)

    def mobility(self) -> Float[Array, ""]:
        """Linear SOT mobility dx / (j t) = (pi/2) gamma Delta hbar theta / (2 e mu0 Ms t alpha)
        [m^3/(A s)] of the chiral wall (K_D = 0, far below saturation): analytic reference."""
        s = self.strip()
        return (0.5 * jnp.pi * GAMMA * s.wall_width() * HBAR * self.spin_hall_angle
                / (2.0 * ELEMENTARY_CHARGE * MU0 * self.Ms * self.thickness * self.alpha))

    def program(self, q, current, width, rtol=1e-6) -> Float[Array, "..."]:
        """Wall positions [m] after programming pulses, from the deterministic 1D model (T = 0).

        **Arguments:** `q`: start positions [m] in [0, L]; `current`: pulse currents [A] in the
        Pt (> 0 moves the wall to larger q, i.e. potentiates); `width`: pulse widths [s] in
        (0, 5 ns] (trapezoids with 10 ps edges). Broadcast to one batch of n pulses.

        **Returns:** positions (n,) [m], in [0, L] (the wall stops at the ends).
        """
        q, current, width = (jnp.atleast_1d(jnp.asarray(a, float))
                             for a in jnp.broadcast_arrays(q, current, width))
        check_range("width", width, low=0.0, high=5e-9, high_inclusive=True, unit="s")
        check_range("q", q, low=0.0, high=float(self.length) * (1 + 1e-9), low_inclusive=True,
                    unit="m") if is_concrete(self.length) else None
        save = jnp.full(5, SOLVE_TIME)
        return pulse_positions(self.strip(), self.current_density(current), width, q, save,
                               rtol)[:, -1]

    def stdp_current(self, dt_spike, i0, tau) -> Float[Array, "..."]:
        """STDP programming current I(dt) = sign(dt) i0 exp(-|dt| / tau) [A].

        dt = t_post - t_pre [s] (> 0: pre before post, potentiation); the exponential is the
        subthreshold transistor of 5c driven by the decaying pre-synaptic trace. dt = 0 gives 0.
        """
        check_range("i0", i0, low=0.0, high=1e-3, unit="A")
        check_range("tau", tau, low=0.0, unit="s")
        dt_spike = jnp.asarray(dt_spike, float)
        return jnp.sign(dt_spike) * i0 * jnp.exp(-jnp.abs(dt_spike) / tau)

    def stdp_update(self, q, dt_spike, i0, tau, width=1e-9):
        """Physics STDP: the pulse I(dt) (`stdp_current`) of `width` [s] applied at q [m].

        **Returns:** `(q_new [m], dG [S])`, each (n,).
        """
        current = self.stdp_current(dt_spike, i0, tau)
        q_new = self.program(q, current, width)
        return q_new, self.conductance(q_new) - self.conductance(q)

    def conductance(self, q, bias=0.0) -> Float[Array, "..."]:
        """G_eq(q) [S] between the read terminals at MTJ bias `bias` [V] (bias-dependent TMR)."""
        g_p = 1.0 / self.junction.resistance(jnp.array([0.0, 0.0, 1.0]), bias)
        g_ap = 1.0 / self.junction.resistance(jnp.array([0.0, 0.0, -1.0]), bias)
        f = up_fraction(jnp.asarray(q, float), self.length, self.strip().wall_width())
        return g_p * f + g_ap * (1.0 - f)

    def wall_conductance(self, q) -> Float[Array, "..."]:
        """G_DW(q) = G_eq - [G_P q/L + G_AP (1 - q/L)] [S]: the wall-profile term (zero in the
        middle of the strip, O(Delta/L) at the ends)."""
        g_p = 1.0 / self.junction.r_parallel
        g_ap = 1.0 / self.junction.r_antiparallel
        x = jnp.asarray(q, float) / self.length
        return self.conductance(q) - (g_p * x + g_ap * (1.0 - x))

    # --- energies ---------------------------------------------------------------------------
    def programming_energy(self, current, width) -> Float[Array, "..."]:
        """Joule energy of a programming pulse in the Pt, I^2 R_HM (t - t_rise/3) [J]."""
        return Pulse(jnp.asarray(current, float), width).integral_of_square() \
            * self.hm_resistance()

    def read_energy(self, q) -> Float[Array, "..."]:
        """Energy of one read, V_read^2 G_eq(q, V_read) t_read [J]."""
        return self.read_voltage**2 * self.conductance(q, self.read_voltage) * self.read_time


class SynapseSurrogate(eqx.Module):
    """Calibrated fast model of `DWSynapse` programming: the saturating SOT law

        dx(j, t) = v_sat t s / sqrt(1 + s^2),     s = mobility j / v_sat,

    (linear, dx = mobility j t, far below saturation; the chiral-wall steady velocity law of
    `DomainWallStrip.sot_velocity`), then q clipped to [0, L]. Differentiable in all leaves.

    - `mobility`: dx / (j t) [m^3/(A s)]; `v_sat`: saturation velocity [m/s];
    - `device`: the `DWSynapse` (geometry and read conductance).
    """

    mobility: Float[Array, ""]
    v_sat: Float[Array, ""]
    device: DWSynapse

    def __check_init__(self):
        check_range("mobility", self.mobility, low=0.0, unit="m^3/(A s)")
        check_range("v_sat", self.v_sat, low=0.0, unit="m/s")

    def displacement(self, current_density, duration) -> Float[Array, "..."]:
        """dx [m] of a pulse of Pt current density j [A/m^2] lasting `duration` [s]."""
        s = self.mobility * jnp.asarray(current_density) / self.v_sat
        return self.v_sat * duration * s / jnp.sqrt(1.0 + s**2)

    def program(self, q, current, width) -> Float[Array, "..."]:
        """New position [m] after a pulse of `current` [A] for `width` [s] (clipped to [0, L])."""
        dx = self.displacement(self.device.current_density(current), width)
        return jnp.clip(q + dx, 0.0, self.device.length)

    def conductance_change(self, q, current, width) -> Float[Array, "..."]:
        """dG [S] of a pulse at position q [m]."""
        return self.device.conductance(self.program(q, current, width)) \
            - self.device.conductance(q)


@dataclasses.dataclass(frozen=True)
class SynapseCalibration:
    """`SynapseSurrogate` fitted to 1D-model pulses, with the data and its error.

    `currents` [A], `widths` [s], `dx` [m] (physics); `rms_rel_error`, `max_rel_error`:
    |surrogate - physics| / |physics| over the calibration pulses.
    """

    surrogate: SynapseSurrogate
    currents: np.ndarray
    widths: np.ndarray
    dx: np.ndarray
    rms_rel_error: float
    max_rel_error: float


def fit_sot_law(j, t, dx):
    """Closed-form fit of dx = v t s / sqrt(1 + s^2), s = mu j / v, to (j, t, dx).

    (j t / dx)^2 = 1/mu^2 + j^2 / v^2 is linear in j^2: least squares for (1/mu^2, 1/v^2).
    **Returns:** `(mu [m^3/(A s)], v_sat [m/s])` (v_sat = inf if no saturation is seen).
    """
    j, t, dx = (np.abs(np.asarray(a, float)) for a in (j, t, dx))
    j_s = float(np.max(j))                      # scale j for conditioning
    y = (j * t / dx) ** 2
    a = np.stack([np.ones_like(j), (j / j_s) ** 2], axis=1)
    w = 1.0 / y    # relative (not absolute) residuals
    coef, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
    mu = 1.0 / math.sqrt(coef[0])
    v = j_s / math.sqrt(coef[1]) if coef[1] > 0 else math.inf
    return mu, v


def calibrate_synapse(synapse: DWSynapse, currents=None, widths=None) -> SynapseCalibration:
    """Fit the `SynapseSurrogate` of `synapse` to deterministic 1D-model pulses.

    Pulses start at L/2 in a strip 20 L long (no end effects), so dx is the bulk response.
    Default grid: 8 currents from 0.5 to 40 µA (j from 8e9 to 7e11 A/m^2, past the SOT
    saturation j_D ≈ 5e11) x 2 widths (0.3, 1 ns).

    **Returns:** a `SynapseCalibration`.
    """
    if currents is None:
        c = np.geomspace(0.5e-6, 40e-6, 8)
        currents = np.concatenate([c, c])
        widths = np.concatenate([np.full(8, 0.3e-9), np.full(8, 1e-9)])
    currents, widths = np.broadcast_arrays(np.asarray(currents, float),
                                           np.asarray(widths, float))
    long = 20.0 * float(synapse.length)
    q0 = 0.5 * long
    q = pulse_positions(synapse.strip(length=long), synapse.current_density(currents), widths,
                        jnp.full(currents.shape, q0), jnp.full(5, SOLVE_TIME))[:, -1]
    dx = np.asarray(q) - q0
    mu, v = fit_sot_law(np.asarray(synapse.current_density(currents)), widths, dx)
    sur = SynapseSurrogate(jnp.asarray(mu), jnp.asarray(v), synapse)
    pred = np.asarray(sur.displacement(synapse.current_density(currents), widths))
    rel = np.abs(pred - dx) / np.abs(dx)
    return SynapseCalibration(surrogate=sur, currents=currents, widths=widths, dx=dx,
                              rms_rel_error=float(np.sqrt(np.mean(rel**2))),
                              max_rel_error=float(np.max(rel)))


# --- the integrate-and-fire neuron -----------------------------------------------------------
_GAP = 2 * DEFAULT_RISE_TIME


class IFStep(eqx.Module):
    """Result of a sequence of DW IF neuron steps (per trial, per step).

    - `fired`: (n, steps) bool; `q`: wall position at the end of each step [m];
    - `energy`: energy of each step [J] (input and leak pulses and read, or the reset pulse
      in the refractory step after a spike).
    """

    fired: Bool[Array, "n steps"]
    q: Float[Array, "n steps"]
    energy: Float[Array, "n steps"]


class DWIFNeuron(eqx.Module):
    """Domain-wall integrate-and-fire neuron (physics.md 5c) with thermal noise.

    The wall starts at q = 0. One network step of `step_time` is a pulse train in the Pt
    (10 ps edges, 20 ps gaps): an input slot of `input_width` carrying I_k - I_leak (I_k >= 0
    the summed synaptic current: integrate, dx ∝ I t below saturation), then a leak slot
    carrying -`leak_current` for the rest of the step (leak: the reverse current pulls the
    wall back each step). A read MTJ at the far edge covers [L - `read_region`, L]; the
    neuron fires when the wall reaches it (checked every `save_every` solver steps). The step
    after a spike is refractory: both slots carry -`reset_current` (the reverse reset pulse
    that drives the wall back to q = 0) and the input is ignored.

    The physics is `solve_wall_thermal` at `track.temperature` (300 K). The reset pulse
    saturates the SOT and tilts phi; when it ends, phi relaxes and carries the wall back into
    the track by up to ~Delta (pi/2) / alpha ≈ 40 nm, so after a reset q is 0–70 nm (the
    surrogate takes q = 0; the difference is inside its reported error).

    Track length: 5c gives 80 nm x 20 nm for the FL. A wall in that strip at 300 K diffuses
    ~45 nm in 1 ns (see the module docstring), and the largest steady SOT force does only
    ~11 k_B T of work over 60 nm, so an 80 nm neuron fires at random (tested:
    consecutive and sparse inputs fire alike). The default track is therefore the same stack
    and width, 240 nm long, which integrates 3-4 input pulses well above the thermal noise.

    **Arguments:**

    - `track`: strip, Pt and MTJ (a `DWSynapse`; default 5c stack, 240 nm long).
    - `step_time` [s] (static): must hold the input slot plus >= 0.1 ns of leak slot.
    - `input_width` [s], > 0.
    - `leak_current`, `reset_current` [A], in [0, 1 mA).
    - `read_region` [m], in (0, L).
    - `read_voltage` [V] in (0, 1]: the far-edge MTJ's divider supply (reference in AP), read
      continuously; its energy counts per step.
    - `dt` [s] (static): Heun step; `save_every` (static): steps between fire checks.

    **Example:**

    ```python
    neuron = DWIFNeuron()
    a = 70e-6
    out = neuron.run(jnp.array([a, a, a, a, 0, 0, 0, 0]), jax.random.key(0), n_trials=200)
    out.fired.any(axis=1).mean()      # ≈ 0.9: four pulses in a row fire it
    cal = calibrate_if_neuron(neuron, jax.random.key(1))
    ```
    """

    track: DWSynapse = DWSynapse(length=240e-9)
    step_time: float = eqx.field(static=True, default=1e-9)
    input_width: Float[Array, ""] = 0.4e-9
    leak_current: Float[Array, ""] = 10e-6
    reset_current: Float[Array, ""] = 200e-6
    read_region: Float[Array, ""] = 20e-9
    read_voltage: Float[Array, ""] = 0.1
    dt: float = eqx.field(static=True, default=1e-12)
    save_every: int = eqx.field(static=True, default=5)

    def __check_init__(self):
        check_range("step_time", self.step_time, low=0.0, high=100e-9, unit="s")
        check_range("input_width", self.input_width, low=0.0, unit="s")
        check_range("leak_current", self.leak_current, low=0.0, high=1e-3, low_inclusive=True,
                    unit="A")
        check_range("reset_current", self.reset_current, low=0.0, high=1e-3,
                    low_inclusive=True, unit="A")
        check_range("read_voltage", self.read_voltage, low=0.0, high=1.0, high_inclusive=True,
                    unit="V")
        if is_concrete((self.read_region, self.track.length)):
            check_range("read_region", self.read_region, low=0.0,
                        high=float(np.max(self.track.length)), unit="m")
        if is_concrete(self.input_width):
            need = float(np.max(self.input_width)) + 0.1e-9 + 3 * _GAP
            if self.step_time < need:
                raise ValueError(
                    f"step_time = {self.step_time:g} s is outside the allowed range "
                    f"[input_width + 0.1 ns leak slot + 3 gaps = {need:g}, inf) s: the input "
                    f"and leak pulses would overlap")
        check_range("dt", self.dt, low=0.0, high=self.step_time / 50.0, unit="s")
        if int(self.save_every) < 1:
            raise ValueError(f"save_every = {self.save_every!r} is outside the allowed range "
                             f"[1, inf)")

    def slots(self):
        """(starts [s], widths [s]) of the input and leak pulses within a step."""
        return _slots(self, self.step_time)

    def fire_position(self) -> Float[Array, ""]:
        """q [m] at which the wall enters the read region (L - read_region)."""
        return self.track.length - self.read_region

    # --- physics ----------------------------------------------------------------------------
    def run(self, inputs, key, n_trials: int | None = None, q0=0.0) -> IFStep:
        """Thermal 1D-model run of input sequences: the physics model in the loop.

        **Arguments:**

        - `inputs`: input currents [A] per step, in [0, 1 mA): shape (steps,) (repeated for
          `n_trials` trials) or (n, steps), one sequence per trial.
        - `key`: PRNG key; trial i's noise depends only on (key, i) and the step index.
        - `q0`: start position [m] (default 0: at rest after a reset).

        **Returns:** an `IFStep`.
        """
        inputs = jnp.asarray(inputs, float)
        check_range("inputs", inputs, low=0.0, high=1e-3, low_inclusive=True, unit="A")
        if inputs.ndim == 1:
            if n_trials is None:
                raise ValueError("give n_trials for a single (steps,) input sequence")
            inputs = jnp.broadcast_to(inputs, (int(n_trials),) + inputs.shape)
        if inputs.ndim != 2:
            raise ValueError(f"inputs must have shape (steps,) or (n, steps), got "
                             f"{inputs.shape}")
        n = inputs.shape[0]
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(n))
        strip = self.track.strip().with_wall_anisotropy()
        phi0 = strip.rest_angle()
        cols = [_pad(a, _THERMAL_CHUNK)[0] for a in (inputs, keys)]
        cols = [c.reshape((-1, _THERMAL_CHUNK) + c.shape[1:]) for c in cols]
        fired, q = _if_run(_as_array_leaves(self), _as_array_leaves(strip), cols[0], cols[1],
                           jnp.asarray(q0, float), phi0, float(self.step_time), self.dt,
                           self.save_every)
        fired = fired.reshape(-1, inputs.shape[1])[:n]
        q = q.reshape(-1, inputs.shape[1])[:n]
        prev = jnp.concatenate([jnp.zeros((n, 1), bool), fired[:, :-1]], axis=1)
        return IFStep(fired=fired, q=q, energy=self.step_energy(inputs, prev))

    def firing_probability(self, inputs, key, n_trials: int):
        """P(at least one spike during `inputs` (steps,)) from `n_trials` thermal runs.
        **Returns:** `(p, k, n)`."""
        out = self.run(inputs, key, n_trials)
        k = int(np.sum(np.any(np.asarray(out.fired), axis=1)))
        return k / n_trials, k, n_trials

    # --- energies ---------------------------------------------------------------------------
    def step_energy(self, inputs, reset=False) -> Float[Array, "..."]:
        """Energy of one step [J]: the Pt pulses I^2 R_HM t (input slot (I - I_leak)^2, leak
        slot I_leak^2; in a refractory step I_reset^2 over both slots) plus the far-edge read,
        V^2 / (R + R_ref) over the step (R_ref = R_AP, wall away: R = R_AP)."""
        _, widths = self.slots()
        r = self.track.hm_resistance()
        inputs = jnp.asarray(inputs, float)
        e = (Pulse(inputs - self.leak_current, widths[0]).integral_of_square()
             + Pulse(self.leak_current, widths[1]).integral_of_square()) * r
        e_reset = (Pulse(self.reset_current, widths[0]).integral_of_square()
                   + Pulse(self.reset_current, widths[1]).integral_of_square()) * r
        _, _, e_read = divider_read(self.track.junction, jnp.array([[0.0, 0.0, -1.0]]),
                                    v_supply=self.read_voltage, read_time=self.step_time)
        return jnp.where(reset, e_reset, e) + e_read[0]


def _slots(dev, step_time):
    t_i = jnp.asarray(dev.input_width, float)
    s_leak = _GAP + t_i + _GAP
    return jnp.stack([_GAP + 0.0 * t_i, s_leak]), jnp.stack([t_i, step_time - s_leak - _GAP])


@eqx.filter_jit
def _if_run(dev, strip, inputs, keys, q0, phi0, step_time, dt, save_every):
    starts, widths = _slots(dev, step_time)
    x_fire = strip.length - dev.read_region

    def trial(seq, key):
        def step(carry, xs):
            q, phi, refractory = carry
            i_in, k = xs
            amps = jnp.where(refractory > 0, -dev.reset_current * jnp.ones(2),
                             jnp.stack([i_in - dev.leak_current, -dev.leak_current]))
            train = PulseTrain(dev.track.current_density(amps), widths, starts)
            model = eqx.tree_at(lambda s: s.current, strip, train)
            traj = solve_wall_thermal(model, step_time, dt, jax.random.fold_in(key, k), q,
                                      phi, save_every=save_every)
            fired = jnp.any(traj.q >= x_fire) & (refractory == 0)
            return (traj.q[-1], traj.phi[-1], fired.astype(float)), (fired, traj.q[-1])

        _, (fired, q) = jax.lax.scan(step, (q0, phi0, jnp.asarray(0.0)),
                                     (seq, jnp.arange(seq.shape[0])))
        return fired, q

    return jax.lax.map(lambda c: jax.vmap(trial)(*c), (inputs, keys))


class IFSurrogate(eqx.Module):
    """Calibrated fast model of `DWIFNeuron`: a stochastic integrate-and-fire on q [m].

    Per step with input current I [A] (not refractory):

        q_mid = q + dx_in(I) + sigma_in xi_1,          (input slot; fire if q_mid >= b)
        q'    = q_mid - leak + sigma_leak xi_2,         (leak slot;  fire if q' >= b)

    dx_in(I) = v_sat t_in s / sqrt(1 + s^2), s = mobility (I - I_leak) / (w t_HM v_sat) (the
    SOT law; gain per unit charge mobility / (w t_HM) [m/C] at small I), noise
    sigma^2 = 2 D_eff t for each slot's duration, q reflected at 0 and clipped at L, and a
    crossing of b = L - read_region between two samples counted with the Brownian-bridge
    probability exp(-2 (b - a)(b - c) / sigma^2). A spike makes the next step refractory and
    puts q back to 0. `mobility`, `v_sat`, `leak` [m per step] and `d_eff` [m^2/s] are
    fitted to the thermal 1D model by `calibrate_if_neuron`. Differentiable in all leaves;
    `fire_probability` is the smooth single-step form for network training.
    """

    mobility: Float[Array, ""]
    v_sat: Float[Array, ""]
    leak: Float[Array, ""]
    d_eff: Float[Array, ""]
    device: DWIFNeuron

    def _drift_in(self, current):
        d = self.device
        j = d.track.current_density(jnp.asarray(current) - d.leak_current)
        s = self.mobility * j / self.v_sat
        return self.v_sat * d.input_width * s / jnp.sqrt(1.0 + s**2)

    def _sigmas(self):
        _, widths = self.device.slots()
        t_in = widths[0] + 2 * _GAP
        return (jnp.sqrt(2.0 * self.d_eff * t_in),
                jnp.sqrt(2.0 * self.d_eff * (self.device.step_time - t_in)))

    def fire_probability(self, q, current) -> Float[Array, "..."]:
        """Smooth P(fire in the input slot) = Phi((q + dx_in(I) - b) / sigma_in): the
        differentiable forward for networks (ignores the bridge and leak-slot terms)."""
        s_in, _ = self._sigmas()
        z = (q + self._drift_in(current) - self.device.fire_position()) / s_in
        return jax.scipy.stats.norm.cdf(z)

    def run(self, inputs, key, q0=0.0):
        """Sample one input sequence (steps,) [A]. **Returns:** `(fired (steps,), q (steps,))`.
        vmap over keys (and inputs) for many trials."""
        inputs = jnp.asarray(inputs, float)
        b = self.device.fire_position()
        length = self.device.track.length
        s_in, s_leak = self._sigmas()

        def bridge(a, c, s):
            return jnp.where((a < b) & (c < b),
                             jnp.exp(-2.0 * (b - a) * (b - c) / s**2), 1.0)

        def step(carry, xs):
            q, refractory = carry
            i_in, k = xs
            z = jax.random.normal(jax.random.fold_in(key, k), (2,))
            u = jax.random.uniform(jax.random.fold_in(key, k + 2**20), (2,))
            mid = jnp.clip(jnp.abs(q + self._drift_in(i_in) + s_in * z[0]), 0.0, length)
            end = jnp.clip(jnp.abs(mid - self.leak + s_leak * z[1]), 0.0, length)
            fired = (u[0] < bridge(q, mid, s_in)) | (u[1] < bridge(mid, end, s_leak))
            fired = fired & (refractory == 0)
            q_next = jnp.where(refractory > 0, 0.0, end)
            return (q_next, fired.astype(float)), (fired, q_next)

        _, (fired, q) = jax.lax.scan(step, (jnp.asarray(q0, float), jnp.asarray(0.0)),
                                     (inputs, jnp.arange(inputs.shape[0])))
        return fired, q

    def firing_probability(self, inputs, key, n_trials: int) -> float:
        """Monte Carlo P(at least one spike) of the surrogate for `inputs` (steps,)."""
        keys = jax.random.split(key, n_trials)
        return float(_surrogate_fire_fraction(self, jnp.asarray(inputs, float), keys))


@eqx.filter_jit
def _surrogate_fire_fraction(sur, inputs, keys):
    fired, _ = jax.vmap(lambda k: sur.run(inputs, k))(keys)
    return jnp.mean(jnp.any(fired, axis=1))


@dataclasses.dataclass(frozen=True)
class IFCalibration:
    """`IFSurrogate` fitted to thermal 1D-model sequences, with data and error.

    - `levels` [A]: input currents of the calibration steps; `mean_dx`, `std_dx` [m]: mean
      and spread of the one-step displacement per level (interior steps only);
    - `rms_error` [m]: RMS of |surrogate mean - physics mean| over the levels;
    - `d_einstein` [m^2/s]: the Einstein-relation diffusion constant, for comparison with
      the fitted `surrogate.d_eff`;
    - `check_inputs` (4, 8) [A], `p_physics`, `p_surrogate`: P(spike) of four check
      sequences on the real track; `p_error`: their largest difference (the surrogate's
      reported error in probability, 64-trial sampling noise included).
    """

    surrogate: IFSurrogate
    levels: np.ndarray
    mean_dx: np.ndarray
    std_dx: np.ndarray
    count: np.ndarray
    rms_error: float
    d_einstein: float
    check_inputs: np.ndarray
    p_physics: np.ndarray
    p_surrogate: np.ndarray
    p_error: float


def calibrate_if_neuron(neuron: DWIFNeuron, key, *, levels=None,
                        n_trials: int = 256) -> IFCalibration:
    """Fit the `IFSurrogate` of `neuron` to its thermal physics.

    Runs `n_trials` 8-step sequences whose steps draw their input at random from `levels`
    (default 0, 20, 40, 60, 80 µA) with the wall started in the middle of the track, and
    keeps the one-step transitions that stay inside (q_k and q_{k+1} more than 3 sigma from
    the ends, no spike or refractory step): the bulk map. The mean displacement per level
    is fitted (least squares) with the SOT law minus a constant leak; D_eff is the pooled
    residual variance / (2 step_time).

    **Returns:** an `IFCalibration`.
    """
    from scipy.optimize import least_squares

    levels = np.asarray([0.0, 20e-6, 40e-6, 60e-6, 80e-6] if levels is None else levels, float)
    steps = 8
    idx = np.asarray(jax.random.randint(jax.random.fold_in(key, 1), (n_trials, steps), 0,
                                        len(levels)))
    # Bulk map: the same neuron on a track 20x longer, started in its middle, so that no step
    # touches an end or the read region (8 steps move the wall < 1 µm).
    length = 20.0 * float(neuron.track.length)
    bulk = eqx.tree_at(lambda d: d.track.length, neuron, jnp.asarray(length))
    out = bulk.run(jnp.asarray(levels)[idx], key, q0=0.5 * length)
    q = np.concatenate([np.full((n_trials, 1), 0.5 * length), np.asarray(out.q)], axis=1)
    dx = np.diff(q, axis=1)
    lev = idx
    ok = (np.abs(q[:, 1:] - 0.5 * length) < 0.45 * length) & ~np.asarray(out.fired)
    mean = np.array([dx[ok & (lev == i)].mean() for i in range(len(levels))])
    std = np.array([dx[ok & (lev == i)].std(ddof=1) for i in range(len(levels))])
    count = np.array([np.sum(ok & (lev == i)) for i in range(len(levels))])
    strip = neuron.track.strip()
    x0 = np.array([float(neuron.track.mobility()) * 1e10,
                   float(strip.dmi_saturation_velocity()) / 100,
                   max(-mean[0], 1e-9) * 1e9])       # starting values: the analytic law

    def model(p, lv):
        sur = IFSurrogate(jnp.asarray(p[0] * 1e-10), jnp.asarray(p[1] * 100),
                          jnp.asarray(p[2] * 1e-9), jnp.asarray(1e-6), neuron)
        return np.asarray(sur._drift_in(lv)) - p[2] * 1e-9

    fit = least_squares(lambda p: (model(p, levels) - mean) * 1e9 * np.sqrt(count), x0,
                        bounds=([1e-3, 1e-2, 0.0], [1e3, 1e3, 1e3]))
    p = fit.x
    resid = dx[ok] - model(p, levels)[lev[ok]]
    d_eff = float(np.var(resid) / (2.0 * neuron.step_time))
    sur = IFSurrogate(jnp.asarray(p[0] * 1e-10), jnp.asarray(p[1] * 100),
                      jnp.asarray(p[2] * 1e-9), jnp.asarray(d_eff), neuron)
    err = model(p, levels) - mean
    # Probability-level error on the real track: P(spike) of check sequences, surrogate vs
    # physics (64 trials each, the 3-sigma binomial noise ~0.15 is part of it).
    a, b = levels[-2], levels[-1]
    checks = np.array([[b, b, b, 0, 0, 0, 0, 0], [a, 0, a, 0, a, 0, a, 0],
                       [a, a, a, a, 0, 0, 0, 0], [b, 0, 0, 0, b, 0, 0, 0]])
    p_phys = [neuron.firing_probability(c, jax.random.fold_in(key, 7 + i), 64)[0]
              for i, c in enumerate(checks)]
    p_sur = [sur.firing_probability(jnp.asarray(c), jax.random.fold_in(key, 17 + i), 4000)
             for i, c in enumerate(checks)]
    return IFCalibration(surrogate=sur, levels=levels, mean_dx=mean, std_dx=std, count=count,
                         rms_error=float(np.sqrt(np.mean(err**2))),
                         d_einstein=float(einstein_diffusion(neuron.track.strip())),
                         check_inputs=checks, p_physics=np.asarray(p_phys),
                         p_surrogate=np.asarray(p_sur),
                         p_error=float(np.max(np.abs(np.subtract(p_phys, p_sur)))))
