"""The SOT-MTJ stochastic spiking neuron of physics.md 5a, with its surrogate and energies.

One network time step (`SOTMTJNeuron.step`):

1. write: the input current flows through the heavy metal for `pulse_width`; the free layer
   may switch P -> AP. The rest of the clock period (`step_time`) the magnet relaxes freely:
   an excitation that did not switch it decays with the relaxation time (~0.8 ns for the
   1.2 nm layer), which is the neuron's leak;
2. read: the MTJ in a divider with a reference MTJ fixed in AP drives an inverter; a node
   voltage above threshold is a spike (`spinjax.readout.divider_read`);
3. reset: a neuron that spiked gets `reset_current` in the reverse direction for
   `reset_width` (refractory reset to P).

The physics model is the thermal sLLG macrospin (`spinjax.presets.sot_mtj_neuron`); the
surrogate is a `SwitchingSigmoid` P(I) fitted to Monte Carlo runs of that model by
`calibrate_neuron`.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .. import presets
from .._checks import check_range
from ..readout import MagneticTunnelJunction, divider_read
from ..statistics import fit_logistic, wilson_interval
from ..surrogates import SwitchingSigmoid
from ..solve import simulate
from ..torques import SlonczewskiTorque
from ..waveforms import DEFAULT_RISE_TIME, Constant, Pulse
from ._sot_mtj import PULSE_START, easy_axis_component, run_trains


class NeuronStep(eqx.Module):
    """Result of one network time step of N neurons.

    - `m`: magnetization after the step (N, 3);
    - `spike`: whether each neuron fired (N,);
    - `energy`: energy spent per neuron [J] (N,): write + read + reset if it fired.
    """

    m: Float[Array, "n 3"]
    spike: Bool[Array, " n"]
    energy: Float[Array, " n"]


class SOTMTJNeuron(eqx.Module):
    """Stochastic spiking neuron: SOT write, divider + inverter read, reset (physics.md 5a).

    **Arguments:**

    - `thickness`: free-layer thickness [m], in (0, 10 nm) (0.8/1.2/1.5 nm: Delta ≈ 10/20/30).
    - `pulse_width`: write pulse t_PW [s], > 0 (5a: 0.2, 0.5, 1 ns).
    - `step_time`: network clock period [s]; the write pulse starts 10 ps into it and the
      magnet relaxes for the rest. Must exceed the pulse by at least 2 edge times.
    - `reset_current`: reset current [A], >= 0 (5a: 150 µA), applied for `reset_width` [s].
    - `read_voltage`: divider supply [V], in (0, 5] (5a: 1 V); `read_time`: read duration [s].
    - `temperature`: T [K], >= 0.
    - `junction`: the read MTJ (`MagneticTunnelJunction`, 5a: 1.21 MΩ / 2.5 MΩ, pinned +y).
    - `dt`: sLLG time step [s] (static; 0.1 ps resolves the 10 ps pulse edges).

    **Example:**

    ```python
    neuron = SOTMTJNeuron(pulse_width=0.5e-9)
    p, k, n = neuron.firing_probability(jnp.array([60e-6, 80e-6, 100e-6]), jax.random.key(0),
                                        n_trials=1000)
    neuron.energy(80e-6, spiked=True)   # write + read + reset [J]
    ```
    """

    thickness: Float[Array, ""] = 1.2e-9
    pulse_width: Float[Array, ""] = 0.5e-9
    step_time: Float[Array, ""] = 2e-9
    reset_current: Float[Array, ""] = 150e-6
    reset_width: Float[Array, ""] = 1e-9
    read_voltage: Float[Array, ""] = 1.0
    read_time: Float[Array, ""] = 0.1e-9
    temperature: Float[Array, ""] = 300.0
    junction: MagneticTunnelJunction = MagneticTunnelJunction()
    dt: float = eqx.field(static=True, default=1e-13)

    def __check_init__(self):
        check_range("thickness", self.thickness, low=0.0, high=10e-9, unit="m")
        check_range("pulse_width", self.pulse_width, low=0.0, unit="s")
        check_range("step_time", self.step_time,
                    low=float(np.max(PULSE_START + np.asarray(self.pulse_width)
                                     + 2 * DEFAULT_RISE_TIME)), unit="s")
        check_range("reset_current", self.reset_current, low=0.0, low_inclusive=True, unit="A")
        check_range("reset_width", self.reset_width, low=0.0, unit="s")
        check_range("read_voltage", self.read_voltage, low=0.0, high=5.0, high_inclusive=True,
                    unit="V")
        check_range("read_time", self.read_time, low=0.0, unit="s")
        check_range("temperature", self.temperature, low=0.0, low_inclusive=True, unit="K")
        check_range("dt", self.dt, low=0.0, high=1e-12, unit="s")

    # --- physics ----------------------------------------------------------------------------
    def macrospin(self, current=0.0):
        """The sLLG model (`spinjax.Macrospin`) with `current` [A or waveform] in the HM."""
        return presets.sot_mtj_neuron(thickness=self.thickness, current=current,
                                      temperature=self.temperature)

    def hm_resistance(self) -> Float[Array, ""]:
        """Resistance of the heavy-metal write path [Ohm] (400 Ω for the 5a geometry)."""
        system = self.macrospin()
        return system.torques[0].hm_resistance(system.magnet)

    def barrier(self) -> Float[Array, ""]:
        """Thermal stability E_B / (k_B T) of the free layer (dimensionless)."""
        return self.macrospin().thermal_stability()

    def rest_states(self, key, n: int) -> Float[Array, "n 3"]:
        """`n` magnetizations in thermal equilibrium around P (Boltzmann, harmonic limit).

        A neuron at rest has thermal tilts of ~(2 Delta)^(-1/2) rad; starting a write exactly
        on the easy axis instead would need ~one relaxation time (0.8 ns) of thermal
        kicks before the spin-orbit torque, proportional to the tilt, can act, and understates
        P(fire) at short pulses several-fold.
        """
        return self.macrospin().equilibrium_states(key, n, direction=presets.P_STATE)

    def _run(self, m0, amplitudes, widths, starts, t1, key, trial_index):
        return run_trains(self.thickness, self.temperature, m0, amplitudes, widths, starts,
                          t1=t1, key=key, trial_index=trial_index, dt=self.dt)

    def read(self, m):
        """Divider + inverter read of magnetizations `m` (N, 3).

        **Returns:** `(v_node [V], spike (bool), energy [J])`, each (N,).
        """
        return divider_read(self.junction, m, v_supply=self.read_voltage,
                            read_time=self.read_time)

    def step(self, m, current, key, trial_index=None) -> NeuronStep:
        """One network time step (write, relax, read, reset) of N neurons in the loop.

        **Arguments:**

        - `m`: magnetizations at the start of the step (N, 3) (the P state is (0, 1, 0)).
        - `current`: write currents [A] (N,); positive drives P -> AP.
        - `key`: PRNG key of this time step; `trial_index`: (N,) global neuron indices
          (default arange(N)) so that results do not depend on batching.

        **Returns:** a `NeuronStep`.
        """
        m = jnp.asarray(m, float)
        current = jnp.asarray(current, float)
        n = current.shape[0]
        if m.shape != (n, 3):
            raise ValueError(f"m has shape {m.shape}; expected (N, 3) = ({n}, 3) for "
                             f"{n} currents")
        index = jnp.arange(n) if trial_index is None else jnp.asarray(trial_index)
        width = jnp.broadcast_to(self.pulse_width, (n, 1))
        m = self._run(m, current[:, None], width, jnp.full((n, 1), PULSE_START),
                      self.step_time, jax.random.fold_in(key, 0), index)
        _, spike, read_energy = self.read(m)
        reset_amp = jnp.where(spike, -self.reset_current, 0.0)[:, None]
        t_reset = PULSE_START + self.reset_width + 2 * DEFAULT_RISE_TIME + 0.2e-9
        m_reset = self._run(m, reset_amp, jnp.broadcast_to(self.reset_width, (n, 1)),
                            jnp.full((n, 1), PULSE_START), t_reset,
                            jax.random.fold_in(key, 1), index)
        m = jnp.where(spike[:, None], m_reset, m)
        energy = (self.write_energy(current) + read_energy
                  + jnp.where(spike, self.reset_energy(), 0.0))
        return NeuronStep(m=m, spike=spike, energy=energy)

    def firing_probability(self, currents, key, n_trials: int, pulse_width=None):
        """Monte Carlo P(fire) of a neuron at rest in P for one write pulse of each current [A].

        Switched = ended on the AP side of the easy axis one relaxation period after the pulse
        (`step_time`). **Returns:** `(p, k, n)` numpy arrays: fraction, count, trials.
        """
        currents = jnp.atleast_1d(jnp.asarray(currents, float))
        width = self.pulse_width if pulse_width is None else pulse_width
        amp = jnp.repeat(currents, n_trials)
        n = amp.shape[0]
        m = self._run(self.rest_states(jax.random.fold_in(key, 2**31 - 1), n), amp[:, None],
                      jnp.full((n, 1), width), jnp.full((n, 1), PULSE_START),
                      PULSE_START + width + max(float(self.step_time - self.pulse_width), 0.5e-9),
                      key, jnp.arange(n))
        k = np.asarray(easy_axis_component(m) < 0).reshape(len(currents), n_trials).sum(1)
        return k / n_trials, k, np.full(len(currents), n_trials)

    def train_firing_probability(self, amplitude, n_pulses: int, interval, key,
                                 n_trials: int, settle=1e-9):
        """P(switched) after `n_pulses` write pulses of `amplitude` [A] every `interval` [s].

        `interval` is start-to-start (>= pulse_width + 2 edge times); the switch is judged
        `settle` [s] after the last pulse. Shows the leaky integration of 5a: sub-threshold
        pulses close together switch the magnet, the same pulses spread apart do not.
        **Returns:** `(p, k, n)`.
        """
        interval = float(interval)
        min_interval = float(self.pulse_width) + 2 * DEFAULT_RISE_TIME
        if interval < min_interval:
            raise ValueError(f"interval = {interval:g} s makes the pulses overlap: allowed is "
                             f">= pulse_width + 2 rise times = {min_interval:g} s")
        if int(n_pulses) < 1:
            raise ValueError(f"n_pulses = {n_pulses!r} must be an integer >= 1")
        starts = PULSE_START + interval * jnp.arange(int(n_pulses), dtype=float)
        shape = (n_trials, int(n_pulses))
        m = self._run(self.rest_states(jax.random.fold_in(key, 2**31 - 1), n_trials),
                      jnp.full(shape, amplitude, float),
                      jnp.full(shape, self.pulse_width), jnp.broadcast_to(starts, shape),
                      float(starts[-1]) + float(self.pulse_width) + settle, key,
                      jnp.arange(n_trials))
        k = int(np.sum(np.asarray(easy_axis_component(m) < 0)))
        return k / n_trials, k, n_trials

    def read_current(self, m=presets.P_STATE) -> Float[Array, ""]:
        """Current through the neuron MTJ during a read [A]: V / (R(m, V_bias) + R_ref)."""
        v_node, _, _ = self.read(jnp.atleast_2d(jnp.asarray(m, float)))
        return (self.read_voltage - v_node[0]) / self.junction.r_antiparallel

    def read_disturb_probability(self, key, n_trials: int, polarization=0.6,
                                 read_current=None):
        """Monte Carlo probability that one read flips a neuron at rest in P [1].

        The read current flows through the MTJ stack for `read_time` and exerts a Slonczewski
        spin-transfer torque of spin polarization `polarization` from the pinned layer; the
        worst case, current toward AP, is simulated together with the thermal field.
        `read_current` [A] overrides the divider's (to map the disturb versus current).

        **Returns:** `(p, k, n)`: fraction, count and trials.
        """
        current = self.read_current() if read_current is None else read_current
        sot = presets.sot_mtj_neuron(thickness=self.thickness, temperature=self.temperature)
        stt = SlonczewskiTorque(polarization, Constant(-jnp.asarray(current, float)),
                                pinned=presets.P_STATE)
        system = eqx.tree_at(lambda s: s.torques, sot, sot.torques + (stt,))
        m0 = self.rest_states(jax.random.fold_in(key, 2**31 - 1), n_trials)
        m = simulate(system, m0, t1=self.read_time, dt=self.dt, key=key).m
        k = int(np.sum(np.asarray(easy_axis_component(m) < 0)))
        return k / n_trials, k, n_trials

    def critical_read_current(self, polarization=0.6) -> Float[Array, ""]:
        """Zero-temperature STT instability current of the P state through the MTJ [A]:
        the macrospin's critical spin current over the polarization (Sun 2000)."""
        return self.macrospin().critical_spin_current() / polarization

    # --- energies ---------------------------------------------------------------------------
    def write_energy(self, current) -> Float[Array, "..."]:
        """Joule energy of the write pulse in the HM, I^2 R_HM t_PW [J] (trapezoid-exact)."""
        return Pulse(jnp.asarray(current, float), self.pulse_width).integral_of_square() \
            * self.hm_resistance()

    def reset_energy(self) -> Float[Array, ""]:
        """Joule energy of one reset pulse, I_reset^2 R_HM t_reset [J]."""
        return Pulse(self.reset_current, self.reset_width).integral_of_square() \
            * self.hm_resistance()

    def read_energy(self, m=presets.P_STATE) -> Float[Array, ""]:
        """Energy of one divider read, V^2 / (R + R_ref) t_read [J], for state `m`."""
        return self.read(jnp.atleast_2d(jnp.asarray(m, float)))[2][0]

    def energy(self, current, spiked) -> Float[Array, "..."]:
        """Energy of one time step [J]: write + read (in P) + reset if `spiked`."""
        return (self.write_energy(current) + self.read_energy()
                + jnp.where(spiked, self.reset_energy(), 0.0))


@dataclasses.dataclass(frozen=True)
class SurrogateCalibration:
    """A fitted surrogate with the Monte Carlo data it was fitted to and its error.

    - `surrogate`: the fast model (e.g. a `SwitchingSigmoid`);
    - `inputs`, `k`, `n`: calibration inputs and Monte Carlo counts (numpy);
    - `rms_error`, `max_error`: RMS and largest |surrogate - Monte Carlo| over the calibration
      points (probability units), the error the surrogate reports;
    - `deviance`, `dof`: goodness of fit of the binomial likelihood.
    """

    surrogate: eqx.Module
    inputs: np.ndarray
    k: np.ndarray
    n: np.ndarray
    rms_error: float
    max_error: float
    deviance: float
    dof: int


def calibrate_neuron(neuron: SOTMTJNeuron, key, *, currents=None, n_trials: int = 500,
                     pilot_trials: int = 64) -> SurrogateCalibration:
    """Fit the `SwitchingSigmoid` surrogate P(I) of `neuron` to its sLLG Monte Carlo.

    Without `currents`, a pilot scan of `pilot_trials` per current over 10 µA..2 mA (log grid)
    finds the transition and 12 currents spanning it are run with `n_trials` each.
    The fit is maximum likelihood in ln I (the log-logistic of `spinjax sweep`).

    **Returns:** a `SurrogateCalibration` (surrogate, data, RMS and max error).
    """
    if currents is None:
        pilot = np.geomspace(10e-6, 2e-3, 24)
        p, _, _ = neuron.firing_probability(pilot, jax.random.fold_in(key, 1), pilot_trials)
        lo = pilot[max(int(np.argmax(p > 0.02)) - 1, 0)]
        hi = pilot[min(int(np.argmax(p > 0.98)) + 1, len(pilot) - 1)] if np.any(p > 0.98) \
            else pilot[-1]
        currents = np.geomspace(lo, hi, 12)
    currents = np.asarray(currents, float)
    p, k, n = neuron.firing_probability(currents, key, n_trials)
    fit = fit_logistic(np.log(currents), k, n)
    sig = SwitchingSigmoid(i50=jnp.asarray(np.exp(fit["x50"])),
                           log_width=jnp.asarray(fit["width"]),
                           pulse_width=jnp.asarray(neuron.pulse_width),
                           barrier_kT=neuron.barrier())
    resid = np.asarray(sig.probability(currents)) - p
    return SurrogateCalibration(surrogate=sig, inputs=currents, k=k, n=n,
                       rms_error=float(np.sqrt(np.mean(resid**2))),
                       max_error=float(np.max(np.abs(resid))),
                       deviance=float(fit["deviance"]), dof=int(fit["dof"]))


def agreement(surrogate_p, k, n, model_error: float, confidence: float = 0.997):
    """True where a surrogate probability lies within `model_error` of the Wilson interval
    (at `confidence`, default ~3 sigma) of a Monte Carlo count k out of n.

    The surrogate-vs-physics criterion: the surrogate is right within its reported error,
    up to the sampling error of the physics Monte Carlo it is compared with.
    """
    lo, hi = wilson_interval(np.asarray(k), np.asarray(n), confidence=confidence)
    surrogate_p = np.asarray(surrogate_p)
    return (surrogate_p >= lo - model_error) & (surrogate_p <= hi + model_error)
