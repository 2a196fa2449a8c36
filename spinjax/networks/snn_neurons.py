"""Spiking neurons for the clock-driven SNN engine (`spinjax.networks.snn`).

Every neuron is written for a layer of n neurons and one time step:

    state = neuron.init(n, key)
    state, spike, p_fire, energy = neuron.step(state, current, blocked, key)

`current` (n,) [A] is the column current of the crossbar minus the homeostatic offset,
`blocked` (n,) bool marks neurons held by lateral inhibition (no write this step), `p_fire`
is the probability the neuron had to fire (for monitoring; 0/1 for deterministic neurons)
and `energy` (n,) [J] what the step cost. Each neuron does its own write / read / reset cycle
and refractory period (`refractory` steps after a spike in which it cannot fire).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .. import presets
from .._checks import check_range
from ..devices import DWIFNeuron, IFSurrogate, SOTMTJNeuron
from ..surrogates import SwitchingSigmoid

DEFAULT_SWITCHING = SwitchingSigmoid(i50=57e-6, log_width=0.15, pulse_width=0.5e-9,
                                     barrier_kT=21.0)
"""The 5a SOT-MTJ neuron's P(fire | I) for a 0.5 ns write from rest (1.2 nm CoFe, Delta = 21):
fitted by `spinjax.devices.calibrate_neuron` (README: I50 = 57 µA, log-width 0.15)."""


class NeuronState(eqx.Module):
    """State of a layer of neurons: `refractory` steps left (n,) and the device state
    `x` (wall position q [m] (n,), magnetization m (n, 3), membrane v (n,), or none)."""

    refractory: Int[Array, " n"]
    x: Array | None = None


def _check_refractory(refractory):
    if not (isinstance(refractory, int) and refractory >= 0):
        raise ValueError(f"refractory = {refractory!r} is outside the allowed range: an "
                         f"integer number of steps >= 0")


def _after_spike(state, spike, refractory):
    return jnp.where(spike, refractory, jnp.maximum(state.refractory - 1, 0))


class AbstractSpikingNeuron(eqx.Module):
    """Interface: `init(n, key) -> NeuronState`, `step(state, current, blocked, key) ->
    (state, spike (n,) bool, p_fire (n,), energy (n,) [J])`."""

    refractory: eqx.AbstractVar[int]

    def init(self, n: int, key=None) -> NeuronState:
        return NeuronState(jnp.zeros(n, jnp.int32))

    def step(self, state, current, blocked, key):
        raise NotImplementedError


class MTJSpikingNeuron(AbstractSpikingNeuron):
    """SOT-MTJ stochastic neuron, surrogate mode (physics.md 5a, 7): each step the column
    current writes the free layer for t_PW and the neuron fires with the calibrated
    switching probability P(I); read; a neuron that fired is reset to P (refractory).

    **Arguments:**

    - `switching`: P(fire | I) (`SwitchingSigmoid`, default `DEFAULT_SWITCHING`).
    - `device`: the `SOTMTJNeuron` whose write / read / reset energies are charged
      (default 0.5 ns pulse, R_HM = 400 Ω, 150 µA reset).
    - `refractory`: steps after a spike in which the neuron is held in reset (static, >= 0).
    """

    switching: SwitchingSigmoid = DEFAULT_SWITCHING
    device: SOTMTJNeuron = SOTMTJNeuron(pulse_width=0.5e-9)
    refractory: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        _check_refractory(self.refractory)

    def energies(self):
        """(R_HM [Ohm], read energy [J], reset energy [J]) of one step's operations."""
        return self.device.hm_resistance(), self.device.read_energy(), \
            self.device.reset_energy()

    def probability(self, current) -> Float[Array, "..."]:
        """P(fire) for write current(s) `current` [A] (0 for I <= 0)."""
        return self.switching.probability(current)

    def step(self, state, current, blocked, key):
        """One write / read / reset step of n neurons (see the module docstring)."""
        p = self.probability(current)
        p_eff = jnp.where(blocked | (state.refractory > 0), 0.0, p)
        spike = jax.random.uniform(key, current.shape, p.dtype) < p_eff
        r_hm, e_read, e_reset = self.energies()
        write = jnp.where(blocked, 0.0, jnp.maximum(current, 0.0) ** 2 * r_hm
                          * self.device.pulse_width)
        energy = write + e_read + jnp.where(spike, e_reset, 0.0)
        return NeuronState(_after_spike(state, spike, self.refractory)), spike, p, energy


class SLLGSpikingNeuron(AbstractSpikingNeuron):
    """SOT-MTJ neuron with the thermal sLLG macrospin in the loop (`SOTMTJNeuron.step`:
    write, free relaxation for the rest of `device.step_time`, divider read, reset pulse).
    Slow (~1e4 sLLG steps per network step): for validating the surrogate on small nets.
    The magnetization carries over between steps, so sub-threshold writes integrate and leak.

    **Arguments:** `device` (`SOTMTJNeuron`; default 0.5 ns pulse in a 1 ns step, dt = 0.5 ps
    — the sLLG step; 0.1 ps in the device tests), `refractory` (static, >= 0).
    """

    device: SOTMTJNeuron = SOTMTJNeuron(pulse_width=0.5e-9, step_time=1e-9, dt=0.5e-12)
    refractory: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        _check_refractory(self.refractory)

    def init(self, n: int, key=None) -> NeuronState:
        """n neurons at thermal rest in P (needs `key`)."""
        if key is None:
            m = jnp.broadcast_to(jnp.asarray(presets.P_STATE, float), (n, 3))
        else:
            m = self.device.rest_states(key, n)
        return NeuronState(jnp.zeros(n, jnp.int32), m)

    def step(self, state, current, blocked, key):
        """One sLLG write / relax / read / reset step; p_fire is the spike itself."""
        hold = blocked | (state.refractory > 0)
        out = self.device.step(state.x, jnp.where(hold, 0.0, jnp.maximum(current, 0.0)), key)
        spike = out.spike & (state.refractory == 0)
        return (NeuronState(_after_spike(state, spike, self.refractory), out.m), spike,
                spike.astype(current.dtype), out.energy)


DEFAULT_IF_SURROGATE = IFSurrogate(
    mobility=jnp.asarray(3.874e-10), v_sat=jnp.asarray(197.3), leak=jnp.asarray(1.851e-8),
    d_eff=jnp.asarray(7.81e-7), device=DWIFNeuron())
"""`IFSurrogate` of the default 240 nm `DWIFNeuron`, fitted by
`calibrate_if_neuron(DWIFNeuron(), jax.random.key(22))` (this repository, 2026-11-23)."""


class DWIFSpikingNeuron(AbstractSpikingNeuron):
    """Domain-wall integrate-and-fire neuron (physics.md 5c), surrogate mode: the wall moves
    by dx(I) plus thermal noise each input slot, leaks back each leak slot, fires when it
    reaches the read MTJ and is reset to q = 0 (`spinjax.devices.IFSurrogate`, one step of
    its `run`, crossings between samples counted with the Brownian-bridge probability).

    **Arguments:** `surrogate` (`IFSurrogate`, default `DEFAULT_IF_SURROGATE`),
    `refractory` (static, >= 1: the reset step).
    """

    surrogate: IFSurrogate = DEFAULT_IF_SURROGATE
    refractory: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        _check_refractory(self.refractory)

    def init(self, n: int, key=None) -> NeuronState:
        """n walls at q = 0."""
        return NeuronState(jnp.zeros(n, jnp.int32), jnp.zeros(n))

    def step(self, state, current, blocked, key):
        """One input slot + leak slot of n walls; p_fire is the smooth input-slot
        probability `IFSurrogate.fire_probability`."""
        sur = self.surrogate
        dev = sur.device
        b = dev.fire_position()
        length = dev.track.length
        s_in, s_leak = sur._sigmas()
        i_in = jnp.where(blocked, 0.0, jnp.maximum(current, 0.0))
        kz, ku = jax.random.split(key)
        z = jax.random.normal(kz, (2,) + current.shape, current.dtype)
        u = jax.random.uniform(ku, (2,) + current.shape, current.dtype)
        q = state.x

        def bridge(a, c, s):
            return jnp.where((a < b) & (c < b), jnp.exp(-2.0 * (b - a) * (b - c) / s**2), 1.0)

        mid = jnp.clip(jnp.abs(q + sur._drift_in(i_in) + s_in * z[0]), 0.0, length)
        end = jnp.clip(jnp.abs(mid - sur.leak + s_leak * z[1]), 0.0, length)
        ready = state.refractory == 0
        spike = ((u[0] < bridge(q, mid, s_in)) | (u[1] < bridge(mid, end, s_leak))) & ready
        q_next = jnp.where(spike | ~ready, 0.0, end)
        energy = dev.step_energy(i_in, reset=~ready)
        p = sur.fire_probability(q, i_in)
        return (NeuronState(_after_spike(state, spike, max(self.refractory, 1)), q_next),
                spike, p, energy)


class LIFSpikingNeuron(AbstractSpikingNeuron):
    """Deterministic leaky integrate-and-fire neuron (physics.md 7), the CMOS-style reference:

        v <- v exp(-1 / tau_mem) + I / i_unit,   spike if v >= 1, then v = 0,

    i.e. a current `i_unit` held for one step charges the membrane from rest to threshold.
    Its energy is not modelled (0 J): compare device energies against a circuit of your own.

    **Arguments:** `tau_mem` [time steps], > 0 (`jnp.inf`: IF, no leak); `i_unit` [A], > 0;
    `refractory` (static, >= 0).
    """

    tau_mem: Float[Array, ""] = 20.0
    i_unit: Float[Array, ""] = 200e-6
    refractory: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        if not bool(jnp.all(jnp.asarray(self.tau_mem) == jnp.inf)):   # inf: no leak (IF)
            check_range("tau_mem", self.tau_mem, low=0.0, unit="steps")
        check_range("i_unit", self.i_unit, low=0.0, unit="A")
        _check_refractory(self.refractory)

    def init(self, n: int, key=None) -> NeuronState:
        """n membranes at rest (v = 0)."""
        return NeuronState(jnp.zeros(n, jnp.int32), jnp.zeros(n))

    def step(self, state, current, blocked, key):
        """Integrate, fire at v >= 1, reset; blocked or refractory neurons do not integrate."""
        hold = blocked | (state.refractory > 0)
        v = state.x * jnp.exp(-1.0 / self.tau_mem) + jnp.where(hold, 0.0, current / self.i_unit)
        spike = (v >= 1.0) & (state.refractory == 0)
        v = jnp.where(spike | hold, jnp.where(spike, 0.0, jnp.maximum(v, 0.0)), v)
        return (NeuronState(_after_spike(state, spike, self.refractory), v), spike,
                spike.astype(current.dtype), jnp.zeros_like(current))


__all__ = ["AbstractSpikingNeuron", "NeuronState", "MTJSpikingNeuron", "SLLGSpikingNeuron",
           "DWIFSpikingNeuron", "LIFSpikingNeuron", "DEFAULT_SWITCHING", "DEFAULT_IF_SURROGATE"]
