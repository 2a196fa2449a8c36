"""Clock-driven spiking layer with on-chip STDP: stochastic MTJ neurons on a spintronic crossbar.

The Diehl & Cook (2015) architecture of physics.md 7 with device physics in the loop. One image
is `n_steps` time steps of `step_time` (Table II: 340 x 0.5 ns), a `lax.scan`:

1. rate coding: input i spikes with probability `max_rate` x intensity_i (Table II: up to
   0.064 per step);
2. a spike holds its crossbar row at `row_voltage` for `pulse_steps` steps (the post-synaptic
   voltage pulse of duration tau_0);
3. column currents from Kirchhoff's law with the neuron's finite input conductance
   (`spinjax.circuits.crossbar.kirchhoff_currents`, physics.md 6), times a fixed per-device
   variation factor, minus the homeostatic offset theta_j (and, with a `BiasRamp`, a
   common bias that searches each presentation's operating point);
4. each neuron writes / reads / resets (`snn_neurons`); neurons held by lateral inhibition
   are not written;
5. a spike of any neuron inhibits all the others for exactly `inhibition_steps` steps;
6. when learning: STDP traces and the weight change (`stdp.STDP`), programmed into the
   synapses (`stdp.MultiLevelSynapses`, `stdp.BinaryMTJSynapses`) with its energy; the
   spiking neuron's theta rises by `theta_plus` (homeostasis: an opposing bias current, so a
   neuron that fires often becomes harder to fire), and decays with `tau_theta`.

The network is a pytree: `jax.vmap` over images (inference, `respond`), over layer states
(independent replicas with their own device variation, `respond` with stacked states) and
`jax.jit` over everything. Learning is sequential in the images (`train_stdp`).
"""

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from .._checks import check_range
from ..circuits.crossbar import kirchhoff_currents
from .snn_neurons import AbstractSpikingNeuron, MTJSpikingNeuron
from .stdp import STDP, AbstractSynapses, MultiLevelSynapses, hash_uniform


class Homeostasis(eqx.Module):
    """Adaptive threshold: theta_j [A] is subtracted from neuron j's column current (an
    opposing bias current in the heavy metal); it starts at `theta_rest`, rises by
    `theta_plus` at each of its spikes during learning and relaxes back to `theta_rest` as
    exp(-1/tau_theta) per step. Held fixed at test time.

    A common `theta_rest` sharpens the competition of stochastic neurons: with the
    switching probability a steep function of the current, subtracting a bias turns a small
    relative difference of two column currents into a large one.

    At inference the learned part can be scaled: neuron j is biased with theta_rest +
    `inference_scale` (theta_j - theta_rest). The learned offsets record how often each
    neuron won during training (they equalise its share of the images); kept in full at test
    time they also penalise a neuron whose prototype is simply common, so a partial offset
    can classify better. Choose it on training data (`benchmarks/snn_mnist.py` does).

    **Arguments:** `theta_plus` [A], >= 0 (0 switches adaptation off); `tau_theta`
    [time steps], > 0 (`jnp.inf`: no decay); `theta_rest` [A], >= 0; `inference_scale`,
    in [0, 1] (1: the full learned offsets at test time, as in Diehl & Cook).
    """

    theta_plus: Float[Array, ""] = 0.2e-6
    tau_theta: Float[Array, ""] = 1e7
    theta_rest: Float[Array, ""] = 0.0
    inference_scale: Float[Array, ""] = 1.0

    def __check_init__(self):
        check_range("theta_plus", self.theta_plus, low=0.0, low_inclusive=True, unit="A")
        check_range("theta_rest", self.theta_rest, low=0.0, low_inclusive=True, unit="A")
        check_range("inference_scale", self.inference_scale, low=0.0, high=1.0,
                    low_inclusive=True, high_inclusive=True)
        if not bool(jnp.all(jnp.asarray(self.tau_theta) == jnp.inf)):
            check_range("tau_theta", self.tau_theta, low=0.0, unit="steps")


class BiasRamp(eqx.Module):
    """Search for each presentation's operating point with a common bias current.

    A bias current b(t) opposing every neuron's column current starts at `start` and is
    stepped down by `rate` each time step until the first spike is read; from then on it is
    held (a counter-driven DAC in the column periphery). A negative b adds current.

    Why: the stochastic neuron's P(fire) rises as a power of its net current in the tail
    (P ~ (I / I50)^(1 / log_width)), so the neuron that fires first is drawn with odds
    ~ (I_1 / I_2)^(1/w), a soft winner-take-all. Images drive the columns with different
    strengths; a fixed bias leaves weak images silent and lets strong ones fire many
    neurons at once. The ramp finds, per image, the bias at which the best-driven neuron
    has just started to fire, where the competition is sharpest, and the first spike stops
    it.

    With `burst` > 0 the bias is lowered by that much at the spike that ends a search, so
    the winner goes on firing (and inhibiting the others) instead of sitting at the edge of
    its switching curve.

    **Arguments:** `start` [A], in (-1, 1) (either sign); `rate` [A per time step], in
    (0, 1); `burst` [A], >= 0.
    """

    start: Float[Array, ""] = 100e-6
    rate: Float[Array, ""] = 1e-6
    burst: Float[Array, ""] = 0.0

    def __check_init__(self):
        check_range("start", self.start, low=-1.0, high=1.0, unit="A")
        check_range("rate", self.rate, low=0.0, high=1.0, unit="A per step")
        check_range("burst", self.burst, low=0.0, high=1.0, low_inclusive=True, unit="A")

    def initial(self, dtype):
        """(bias [A], searching) at the start of a presentation."""
        return jnp.asarray(self.start, dtype), jnp.ones((), bool)

    def advance(self, bias, searching, spiked):
        """The bias of the next step: one `rate` lower while searching (no spike yet); `burst`
        lower at the spike that ends the search; then held."""
        found = searching & spiked
        searching = searching & ~spiked
        bias = jnp.where(searching, bias - self.rate, jnp.where(found, bias - self.burst, bias))
        return bias, searching


class LayerState(eqx.Module):
    """What a layer learns and keeps: weights `w` (n_in, n_out) in [0, 1] on the synapse
    states, homeostatic offsets `theta` (n_out,) [A], and the fixed device-to-device
    conductance factors `gain` (n_in, n_out) of this chip (1 without variation)."""

    w: Float[Array, "n_in n_out"]
    theta: Float[Array, " n_out"]
    gain: Float[Array, "n_in n_out"]


class ImageRecord(eqx.Module):
    """What one image presentation produced.

    - `counts` (n_out,): spikes of each neuron;
    - `max_p`: largest firing probability P(net current) of any neuron in any step (inhibition
      and refractoriness ignored): the "maximum switching probability" of the source paper;
    - `energy_neuron`, `energy_read`, `energy_program` [J]: neuron write / read / reset,
      Joule heat in the synapses during the row pulses, STDP programming;
    - `spikes` (n_steps, n_out) bool and `inputs` (n_steps, n_in) bool when recorded, else None.
    """

    counts: Int[Array, " n_out"]
    max_p: Float[Array, ""]
    energy_neuron: Float[Array, ""]
    energy_read: Float[Array, ""]
    energy_program: Float[Array, ""]
    spikes: Bool[Array, "n_steps n_out"] | None = None
    inputs: Bool[Array, "n_steps n_in"] | None = None

    @property
    def energy(self) -> Float[Array, "..."]:
        """Total energy of the presentation [J]."""
        return self.energy_neuron + self.energy_read + self.energy_program


class SpikingLayer(eqx.Module):
    """One excitatory layer with lateral inhibition, homeostasis and STDP (see the module
    docstring for the time step).

    **Arguments:**

    - `neuron`: an `AbstractSpikingNeuron` (default `MTJSpikingNeuron()`, the 5a surrogate).
    - `synapses`: `MultiLevelSynapses` (default: 4 bits, R_max 3.7 MΩ, ratio 20) or
      `BinaryMTJSynapses`.
    - `stdp`: the `STDP` rule (default Table II: eta 0.03 / 0.01, tau 4.5 / 5 steps).
    - `homeostasis`: `Homeostasis`.
    - `n_steps`: time steps per image (static, >= 1; Table II: 340).
    - `max_rate`: input spike probability per step at full intensity, in [0, 1]
      (Table II: 0.064).
    - `pulse_steps`: duration tau_0 of a row's voltage pulse after an input spike [steps]
      (static, >= 1; Table II: 50).
    - `inhibition_steps`: tau_inh [steps] (static, >= 0; Table II: 50).
    - `row_voltage`: amplitude of the row pulse [V], in (0, 1].
    - `neuron_conductance`: G_s of the neuron's write path [S], > 0 (1/400 Ω: the 5a heavy
      metal).
    - `step_time`: duration of one step [s], > 0 (Table II: 0.5 ns); `read_time`: how long
      the row voltages drive the columns each step [s] (the neuron's write pulse), > 0.
    - `variation`: sigma of the log-normal device-to-device conductance factor, in [0, 2).
    - `trace_floor`: STDP traces below it are set to 0 (event-driven in spirit: steps with no
      spike and no live post trace skip the plasticity update), in [0, 1). Static.
    - `plasticity`: `"online"` (default: every STDP event programs the synapses in its
      time step, as in the source paper) or `"image"` (the STDP changes of one presentation
      are summed, with the weights of its start, and programmed once after it: fewer
      programming pulses, ~10x faster simulation; the difference is second order in eta).
      Static.
    - `max_pre_events`, `max_post_events`: static sizes of the event-driven STDP update
      (input and neuron spikes per step handled by gathering rows / columns); a step with
      more events falls back to the dense update, so they only tune speed.
    - `w_init`: initial weights are uniform in [0, w_init] (on the synapse levels), in (0, 1].
    - `column_mean`: when set, after each training image every neuron's weights are scaled
      to this mean (Diehl & Cook's weight normalisation, here a re-programming of the column
      that is charged as programming energy), in (0, 1]; None = off.
    - `input_total`: when set, the row voltage of each image is scaled by input_total /
      sum(intensities) (capped at 1 V): every image drives the columns with the same total
      input, so digits with few pixels (a "1") compete on equal terms with wide ones (a
      "0"); the row driver's gain set per image. > 0; None = off.
    - `bias_ramp`: a `BiasRamp` (common bias stepped down each step until the first spike,
      then held), in training and inference; None (default) = off.
    - `prototype_bias`: at inference only, column j is also biased by prototype_bias x
      (G_max - G_min) x sum_i w_ij^2 / 2 [A]. With c_j = prototype_bias x w_j read as a
      prototype in row-voltage units, the column current minus this bias is, up to terms
      common to all columns, (G_max - G_min) / prototype_bias x (c_j . v - |c_j|^2 / 2): the
      crossbar's dot product becomes a nearest-prototype (Euclidean) readout. The controller
      sets these biases from the programmed levels once after learning, like theta. [V],
      >= 0; None (default) = off. Choose it on training data (`benchmarks/snn_mnist.py`).
    - `min_spikes`: input-scaling homeostasis (Diehl & Cook): an image that makes fewer than
      this many spikes is presented again with the row voltage raised by `voltage_boost`
      (> 1), at most `max_tries` times in all (learning continues meanwhile, energies add
      up). Static integers; `min_spikes = 0` (default) switches it off.
    """

    neuron: AbstractSpikingNeuron = MTJSpikingNeuron()
    synapses: AbstractSynapses = MultiLevelSynapses()
    stdp: STDP = STDP()
    homeostasis: Homeostasis = Homeostasis()
    n_steps: int = eqx.field(static=True, default=340)
    max_rate: Float[Array, ""] = 0.064
    pulse_steps: int = eqx.field(static=True, default=50)
    inhibition_steps: int = eqx.field(static=True, default=50)
    row_voltage: Float[Array, ""] = 0.1
    neuron_conductance: Float[Array, ""] = 1.0 / 400.0
    step_time: Float[Array, ""] = 0.5e-9
    read_time: Float[Array, ""] = 0.5e-9
    variation: Float[Array, ""] = 0.0
    trace_floor: float = eqx.field(static=True, default=1e-3)
    plasticity: str = eqx.field(static=True, default="online")
    max_pre_events: int = eqx.field(static=True, default=32)
    max_post_events: int = eqx.field(static=True, default=4)
    w_init: Float[Array, ""] = 0.3
    column_mean: Float[Array, ""] | None = None
    input_total: Float[Array, ""] | None = None
    bias_ramp: BiasRamp | None = None
    prototype_bias: Float[Array, ""] | None = None
    min_spikes: int = eqx.field(static=True, default=0)
    voltage_boost: Float[Array, ""] = 1.25
    max_tries: int = eqx.field(static=True, default=4)

    def __check_init__(self):
        for name, low in (("n_steps", 1), ("pulse_steps", 1), ("inhibition_steps", 0),
                          ("min_spikes", 0), ("max_tries", 1), ("max_pre_events", 1),
                          ("max_post_events", 1)):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= low):
                raise ValueError(f"{name} = {value!r} is outside the allowed range: an integer "
                                 f">= {low} [steps]")
        check_range("max_rate", self.max_rate, low=0.0, high=1.0, low_inclusive=True,
                    high_inclusive=True, unit="per step")
        check_range("row_voltage", self.row_voltage, low=0.0, high=1.0, high_inclusive=True,
                    unit="V")
        check_range("neuron_conductance", self.neuron_conductance, low=0.0, unit="S")
        check_range("step_time", self.step_time, low=0.0, unit="s")
        check_range("read_time", self.read_time, low=0.0, unit="s")
        check_range("variation", self.variation, low=0.0, low_inclusive=True, high=2.0)
        if self.plasticity not in ("online", "image"):
            raise ValueError(f"plasticity = {self.plasticity!r}; allowed: 'online', 'image'")
        if self.input_total is not None:
            check_range("input_total", self.input_total, low=0.0)
        check_range("voltage_boost", self.voltage_boost, low=1.0)
        check_range("trace_floor", self.trace_floor, low=0.0, low_inclusive=True, high=1.0)
        check_range("w_init", self.w_init, low=0.0, high=1.0, high_inclusive=True)
        if self.column_mean is not None:
            check_range("column_mean", self.column_mean, low=0.0, high=1.0, high_inclusive=True)
        if self.prototype_bias is not None:
            check_range("prototype_bias", self.prototype_bias, low=0.0, low_inclusive=True,
                        unit="V")

    # --- state ----------------------------------------------------------------------------
    def init(self, key, n_in: int, n_out: int) -> LayerState:
        """A fresh layer: random weights, theta = 0, one chip's variation factors."""
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} = {value!r} must be an integer >= 1")
        kw, kg = jax.random.split(key)
        w = self.synapses.init(kw, (n_in, n_out), self.w_init)
        gain = jnp.exp(self.variation * jax.random.normal(kg, (n_in, n_out)))
        return LayerState(w=w, theta=jnp.full(n_out, self.homeostasis.theta_rest), gain=gain)

    def inference_offsets(self, state: LayerState) -> Float[Array, " n_out"]:
        """Per-column bias currents [A] at inference: the scaled homeostatic offsets
        (`Homeostasis.inference_scale`) plus the `prototype_bias` term (without a `BiasRamp`'s
        common bias)."""
        hom = self.homeostasis
        offset = hom.theta_rest + hom.inference_scale * (state.theta - hom.theta_rest)
        if self.prototype_bias is not None:
            delta_g = self.synapses.g_max - self.synapses.g_min
            offset = offset + self.prototype_bias * delta_g * 0.5 * jnp.sum(state.w**2, axis=0)
        return offset

    def conductance(self, state: LayerState) -> Float[Array, "n_in n_out"]:
        """Actual device conductances [S] of `state` (levels times variation)."""
        return self.synapses.conductance(state.w) * state.gain

    # --- one image ------------------------------------------------------------------------
    def run(self, state: LayerState, image, key, learn: bool = False,
            record: bool = False):
        """Present one image with the input-scaling retries of `min_spikes` (see the class
        docstring); the recorded rasters are those of the last try.
        **Returns:** `(state, ImageRecord)`."""
        if self.min_spikes == 0 or self.max_tries == 1:
            return self.present(state, image, key, learn, record)

        def again(c):
            s, r, tries = c
            k = jnp.where(tries == 0, 0, 1000 + tries)        # try 0 uses `key` itself
            s, r2 = self.present(s, image, _fold(key, k), learn, record,
                                 scale=self.voltage_boost**tries)
            r2 = eqx.tree_at(lambda x: (x.energy_neuron, x.energy_read, x.energy_program), r2,
                             (r.energy_neuron + r2.energy_neuron, r.energy_read + r2.energy_read,
                              r.energy_program + r2.energy_program))
            return s, r2, tries + 1

        def weak(c):
            return (c[2] == 0) | ((jnp.sum(c[1].counts) < self.min_spikes)
                                  & (c[2] < self.max_tries))

        # One compiled presentation: the first try runs inside the loop too.
        shapes = jax.eval_shape(lambda: self.present(state, image, key, learn, record)[1])
        zero = jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), shapes)
        state, rec, _ = jax.lax.while_loop(weak, again, (state, zero, jnp.asarray(0)))
        return state, rec

    def present(self, state: LayerState, image, key, learn: bool = False,
                record: bool = False, scale=1.0):
        """Present one image (n_in,) with intensities in [0, 1] for `n_steps` steps, once.

        **Arguments:** `learn` (static): STDP and homeostasis on; `record` (static): keep the
        spike rasters; `scale`: factor on the row voltage. **Returns:** `(state,
        ImageRecord)`.
        """
        n_in, n_out = state.w.shape
        seeds = jax.random.bits(key, (self.n_steps, 3), jnp.uint32)
        nkeys = jax.random.split(jax.random.fold_in(key, 1), self.n_steps)
        decay_theta = jnp.exp(-1.0 / self.homeostasis.tau_theta)
        g_s = self.neuron_conductance
        dtype = state.w.dtype
        prob = (self.max_rate * image).astype(jnp.float32)
        if self.input_total is not None:
            scale = jnp.minimum(scale * self.input_total / jnp.maximum(jnp.sum(image), 1e-9),
                                1.0 / self.row_voltage)

        hom = self.homeostasis
        ramp = self.bias_ramp
        test_offset = None if learn else self.inference_offsets(state)

        def step(carry, xs):
            w, theta, rows, x_pre, y_post, inh, nstate, counts, max_p, energies, ramp_c = carry
            seed, nkey = xs
            pre = hash_uniform(seed[0], (n_in,)) < prob
            rows = jnp.where(pre, self.pulse_steps, rows)
            v = jnp.where(rows > 0, self.row_voltage * scale, 0.0).astype(dtype)
            g = self.synapses.conductance(w) * state.gain
            col = jnp.sum(g, axis=0)
            i = kirchhoff_currents(g, v, g_s)
            blocked = inh > 0
            offset = theta if learn else test_offset
            if ramp is not None:
                offset = offset + ramp_c[0]
            nstate, spike, p, e_neuron = self.neuron.step(nstate, i - offset, blocked, nkey)
            if ramp is not None:
                ramp_c = ramp.advance(*ramp_c, jnp.any(spike))
            # Joule heat in the devices: sum_ij G_ij (V_i - V_j)^2 t, V_j = I_j / G_s.
            v_col = i / g_s
            e_read = (v**2 @ jnp.sum(g, axis=1) - 2.0 * jnp.sum(i * (1.0 + col / g_s) * v_col)
                      + v_col**2 @ col) * self.read_time
            others = (jnp.sum(spike) - spike) > 0
            inh = jnp.where(others, self.inhibition_steps, jnp.maximum(inh - 1, 0))
            e_prog = jnp.zeros((), dtype)
            out = {"spikes": spike, "inputs": pre} if record else {}
            if learn:
                x_pre, y_old = self.stdp.advance(x_pre, y_post, pre, self.trace_floor)
                active = jnp.any(spike) | (jnp.any(pre) & jnp.any(y_old > 0))
                if self.plasticity == "image":        # program once, after the image
                    out.update(x=x_pre.astype(jnp.float32), pre=pre, post=spike,
                               y=y_old.astype(jnp.float32))
                    active = jnp.zeros((), bool)

                def plastic(w):
                    return self._plasticity(w, x_pre, y_old, pre, spike, seed)

                w, e_prog = jax.lax.cond(active, plastic,
                                         lambda w: (w, jnp.zeros((), dtype)), w)
                y_post = jnp.where(spike, 1.0, y_old)
                rest = hom.theta_rest
                theta = rest + (theta - rest) * decay_theta + hom.theta_plus * spike
            energies = energies + jnp.stack([jnp.sum(e_neuron), e_read, e_prog]).astype(dtype)
            carry = (w, theta, jnp.maximum(rows - 1, 0), x_pre, y_post, inh, nstate,
                     counts + spike, jnp.maximum(max_p, jnp.max(p)), energies, ramp_c)
            return carry, out

        carry = (state.w, state.theta, jnp.zeros(n_in, jnp.int32), jnp.zeros(n_in, dtype),
                 jnp.zeros(n_out, dtype), jnp.zeros(n_out, jnp.int32),
                 self.neuron.init(n_out, jax.random.fold_in(key, 2)),
                 jnp.zeros(n_out, jnp.int32), jnp.zeros((), dtype), jnp.zeros(3, dtype),
                 ramp.initial(dtype) if ramp is not None else ())
        carry, ys = jax.lax.scan(step, carry, (seeds, nkeys))
        w, theta, *_, counts, max_p, energies, _ = carry
        if learn and self.plasticity == "image":
            # sum_t x_pre(t) post(t) and sum_t pre(t) y_post(t): two matrix products.
            a_ltp = ys["x"].T @ ys["post"].astype(jnp.float32)
            a_ltd = ys["pre"].astype(jnp.float32).T @ ys["y"]
            dw = self.stdp.accumulated(w, a_ltp.astype(dtype), jnp.sum(ys["post"], axis=0),
                                       a_ltd.astype(dtype))
            seed = jax.random.bits(jax.random.fold_in(key, 4), (), jnp.uint32)
            w, e_img = self.synapses.apply(w, dw, seed)
            w = w.astype(dtype)
            energies = energies.at[2].add(e_img.astype(dtype))
        if learn and self.column_mean is not None:
            seed = jax.random.bits(jax.random.fold_in(key, 3), (), jnp.uint32)
            w, e_norm = self.synapses.normalize(w, self.column_mean, seed)
            w = w.astype(dtype)
            energies = energies.at[2].add(e_norm.astype(dtype))
        rec = ImageRecord(counts=counts, max_p=max_p, energy_neuron=energies[0],
                          energy_read=energies[1], energy_program=energies[2],
                          spikes=ys.get("spikes"), inputs=ys.get("inputs"))
        return LayerState(w=w, theta=theta, gain=state.gain), rec

    def _plasticity(self, w, x_pre, y_old, pre, spike, seed):
        """STDP of one step, event-driven: potentiate the columns of the (at most
        `max_post_events`) neurons that spiked, then depress the rows of the (at most
        `max_pre_events`) inputs that spiked; the dense update when there are more events."""
        n_in, n_out = w.shape
        dtype = w.dtype

        def dense(w):
            dw = self.stdp.update(w, x_pre, y_old, pre, spike)
            w_new, e = self.synapses.apply(w, dw, seed[1])
            return w_new.astype(dtype), e.astype(dtype)

        def sparse(w):
            cols = jnp.nonzero(spike, size=self.max_post_events, fill_value=n_out)[0]
            w_c = w.at[:, cols].get(mode="fill", fill_value=0.0)
            dw = self.stdp.potentiation(w_c, x_pre) * (cols < n_out)[None, :]
            w_c, e_ltp = self.synapses.apply(w_c, dw, seed[1])
            w = w.at[:, cols].set(w_c.astype(dtype), mode="drop")
            rows = jnp.nonzero(pre, size=self.max_pre_events, fill_value=n_in)[0]
            w_r = w.at[rows].get(mode="fill", fill_value=0.0)
            dw = self.stdp.depression(w_r, y_old) * (rows < n_in)[:, None]
            w_r, e_ltd = self.synapses.apply(w_r, dw, seed[2])
            w = w.at[rows].set(w_r.astype(dtype), mode="drop")
            return w, (e_ltp + e_ltd).astype(dtype)

        few = ((jnp.sum(spike) <= self.max_post_events)
               & (jnp.sum(pre) <= self.max_pre_events))
        return jax.lax.cond(few, sparse, dense, w)

    def image_time(self) -> Float[Array, ""]:
        """Simulated time of one image presentation, n_steps x step_time [s]."""
        return self.n_steps * self.step_time


# --- drivers ----------------------------------------------------------------------------------
def _fold(key, k):
    """fold_in with k = 0 meaning the key itself (traced k)."""
    return jax.lax.cond(k == 0, lambda: key, lambda: jax.random.fold_in(key, k))


def check_images(images, n_in: int) -> np.ndarray:
    """Validate images: shape (n, n_in) (or (n_in,)) with intensities in [0, 1].

    Raises ValueError naming `images` and the allowed range or shape."""
    images = np.asarray(images)
    if images.ndim == 1:
        images = images[None]
    if images.ndim != 2 or images.shape[1] != n_in:
        raise ValueError(f"images has shape {images.shape}; expected (n_images, {n_in}) "
                         f"(one intensity per input row of the layer; flatten 2-D images)")
    check_range("images", images, low=0.0, high=1.0, low_inclusive=True, high_inclusive=True)
    return images


@eqx.filter_jit
def _train_chunk(layer, state, images, keys):
    def one(s, xs):
        return layer.run(s, xs[0], xs[1], learn=True)
    return jax.lax.scan(one, state, (images, keys))


@eqx.filter_jit
def _respond_chunk(layer, state, images, keys):
    def one_state(s):
        return jax.vmap(lambda im, k: layer.run(s, im, k)[1])(images, keys)
    if state.w.ndim == 3:                       # replicas: (R, n_in, n_out)
        return jax.vmap(one_state)(state)
    return one_state(state)


def _image_keys(key, index):
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.asarray(index))


def _cat(records, axis):
    return jax.tree_util.tree_map(lambda *a: np.concatenate(a, axis=axis), *records)


def train_stdp(layer: SpikingLayer, state: LayerState, images, key, *, epochs: int = 1,
               chunk: int = 50, shuffle: bool = True, progress: bool = True,
               learning_rate_scale=None):
    """Unsupervised STDP training, one image after another.

    **Arguments:**

    - `images`: (n, n_in) intensities in [0, 1].
    - `key`: PRNG key; image j of epoch e uses fold_in(fold_in(key, e), j), so results do
      not depend on `chunk`.
    - `epochs` (>= 1), `chunk`: images per compiled call (a tqdm bar ticks per chunk),
      `shuffle`: a new order each epoch (else the given order).
    - `learning_rate_scale`: None, or one factor >= 0 per epoch on the STDP rates eta_+ and
      eta_- (an annealing schedule, e.g. (1, 0.3): the last epoch refines the prototypes
      with smaller steps); the scaled rates must stay in [0, 1].

    **Returns:** `(state, ImageRecord)` with records stacked over all presentations
    (epochs x n, in presentation order).
    """
    images = check_images(images, state.w.shape[0])
    if not (isinstance(epochs, int) and epochs >= 1):
        raise ValueError(f"epochs = {epochs!r} must be an integer >= 1")
    layers = [layer] * epochs
    if learning_rate_scale is not None:
        factors = np.asarray(learning_rate_scale, float)
        if factors.shape != (epochs,):
            raise ValueError(f"learning_rate_scale has {factors.size} factors; expected one "
                             f"per epoch ({epochs})")
        check_range("learning_rate_scale", factors, low=0.0, low_inclusive=True)
        layers = [dataclasses.replace(layer, stdp=dataclasses.replace(
            layer.stdp, eta_plus=layer.stdp.eta_plus * float(f),
            eta_minus=layer.stdp.eta_minus * float(f))) for f in factors]
    from tqdm.auto import tqdm

    n = len(images)
    records = []
    with tqdm(total=epochs * n, desc="STDP", unit="img", disable=not progress) as bar:
        for e in range(epochs):
            ekey = jax.random.fold_in(key, e)
            order = (np.asarray(jax.random.permutation(jax.random.fold_in(key, 2**31 + e), n))
                     if shuffle else np.arange(n))
            for start in range(0, n, chunk):
                idx = order[start:start + chunk]
                keys = _image_keys(ekey, np.arange(start, start + len(idx)))
                state, rec = _train_chunk(layers[e], state, jnp.asarray(images[idx]), keys)
                records.append(jax.device_get(rec))
                bar.update(len(idx))
    return state, _cat(records, 0)


def respond(layer: SpikingLayer, state: LayerState, images, key, *, presentations: int = 1,
            chunk: int = 250, progress: bool = False):
    """Inference (no plasticity, theta fixed): spike counts of every neuron for every image,
    `vmap` over images; over replicas too when `state` is stacked (leaves with a leading
    replica axis, e.g. `jax.vmap(layer.init, (0, None, None))(keys, n_in, n_out)`).

    `presentations` (>= 1): each image is shown that many times, independently, and the
    counts and energies [J] are summed (max_p: the largest). A stochastic layer's decision
    is a draw; repeating it trades time and energy for accuracy.

    **Returns:** an `ImageRecord` with leaves of shape (n_images, ...) — or (replicas,
    n_images, ...). Image j uses the key fold_in(key, j) in the first presentation and
    fold_in(fold_in(key, 2**30 + k), j) in presentation k > 0.
    """
    images = check_images(images, state.w.shape[-2])
    if not (isinstance(presentations, int) and presentations >= 1):
        raise ValueError(f"presentations = {presentations!r} must be an integer >= 1")
    from tqdm.auto import tqdm

    n = len(images)
    total = None
    for k in range(presentations):
        pkey = key if k == 0 else jax.random.fold_in(key, 2**30 + k)
        records = []
        for start in tqdm(range(0, n, chunk), desc="respond", disable=not progress):
            idx = np.arange(start, min(start + chunk, n))
            rec = _respond_chunk(layer, state, jnp.asarray(images[idx]), _image_keys(pkey, idx))
            records.append(jax.device_get(rec))
        rec = _cat(records, 1 if state.w.ndim == 3 else 0)
        total = rec if total is None else ImageRecord(
            counts=total.counts + rec.counts, max_p=np.maximum(total.max_p, rec.max_p),
            energy_neuron=total.energy_neuron + rec.energy_neuron,
            energy_read=total.energy_read + rec.energy_read,
            energy_program=total.energy_program + rec.energy_program)
    return total


def row_drive_targets(layer: SpikingLayer, images) -> Float[Array, "n n_in"]:
    """Each image's mean row drive under rate coding, 1 - (1 - max_rate x)^pulse_steps (the
    fraction of steps its row pulse is on), scaled to the column mean `layer.column_mean`
    (0.1 if None) and clipped to [0, 1]: the image as a weight column (dimensionless)."""
    on = 1.0 - (1.0 - layer.max_rate * jnp.asarray(images)) ** layer.pulse_steps
    mean = 0.1 if layer.column_mean is None else layer.column_mean
    return jnp.clip(on * (mean / jnp.maximum(jnp.mean(on, axis=1, keepdims=True), 1e-9)),
                    0.0, 1.0)


@eqx.filter_jit
def _program_means(synapses, w, targets, winners, key):
    def one(c, xs):
        w, n, energy = c
        u, j, k = xs
        valid = j >= 0
        j = jnp.maximum(j, 0)
        n = n.at[j].add(valid.astype(n.dtype))
        col = w[:, j]
        seed = jax.random.bits(k, (), jnp.uint32)
        new, e = synapses.apply(col, (u - col) / jnp.maximum(n[j], 1).astype(w.dtype), seed)
        w = w.at[:, j].set(jnp.where(valid, new.astype(w.dtype), col))
        return (w, n, energy + jnp.where(valid, e, 0.0)), None

    keys = jax.random.split(key, len(winners))
    init = (w, jnp.zeros(w.shape[1], jnp.int32), jnp.zeros((), w.dtype))
    (w, n, energy), _ = jax.lax.scan(one, init, (targets.astype(w.dtype), winners, keys))
    return w, n, energy


def consolidate(layer: SpikingLayer, state: LayerState, images, key, *,
                presentations: int = 1, chunk: int = 250, progress: bool = False):
    """Unsupervised consolidation after STDP: program each neuron's weights to the mean of
    the images it wins (one step of Lloyd's k-means algorithm, on the network's own
    partition).

    STDP leaves each prototype a recency-weighted, contrast-enhanced copy of its images;
    read out with `SpikingLayer.prototype_bias` (a nearest-prototype readout), the means
    classify better (README, SNN section).

    1. Inference with `layer`'s test protocol (`respond`, `presentations` summed): the
       winner of an image is its neuron with the most spikes (ties: the lower index); silent
       images are skipped.
    2. The images are replayed in order. The winner j of image k has its column programmed
       toward the image's `row_drive_targets` by 1 / n_j of the gap, n_j counting the images
       j has won so far, through the synapses' own programming (levels and their rounding).
       After its last image a column holds the mean of its images' targets, up to the level
       noise of stochastic rounding.

    **Arguments:** `images` (n, n_in) in [0, 1]; `key`; `presentations` (>= 1); `chunk`,
    `progress` as for `respond`. The thresholds theta and the variation factors are kept.

    **Returns:** `(state, winners (n,) ints with -1 for silent images, programming energy
    [J], total)`.
    """
    if state.w.ndim != 2:
        raise ValueError("consolidate takes one layer state (no replica axis); got weights of "
                         f"shape {state.w.shape}")
    images = check_images(images, state.w.shape[0])
    counts = respond(layer, state, images, jax.random.fold_in(key, 0),
                     presentations=presentations, chunk=chunk, progress=progress).counts
    winners = np.where(counts.sum(1) > 0, np.argmax(counts, axis=1), -1).astype(np.int32)
    w, _, energy = _program_means(layer.synapses, state.w,
                                  row_drive_targets(layer, images.astype(np.float32)),
                                  jnp.asarray(winners), jax.random.fold_in(key, 1))
    return LayerState(w=w, theta=state.theta, gain=state.gain), winners, float(energy)


def assign_labels(counts, labels, n_classes: int) -> np.ndarray:
    """Label each neuron with the class it responds to most (mean spike count per class),
    from training-set responses `counts` (n, n_out) and `labels` (n,). A neuron that never
    fired gets -1 and takes no part in the vote. **Returns:** (n_out,) ints."""
    counts = np.asarray(counts, float)
    labels = np.asarray(labels)
    rates = np.stack([counts[labels == c].mean(0) if np.any(labels == c)
                      else np.zeros(counts.shape[1]) for c in range(n_classes)])
    return np.where(counts.sum(0) > 0, np.argmax(rates, axis=0), -1)


def classify(counts, assignments, n_classes: int) -> np.ndarray:
    """Vote: each class scores the mean spike count of the neurons labelled with it; the
    image gets the best-scoring class. **Returns:** (n,) predicted labels."""
    counts = np.asarray(counts, float)
    scores = np.stack([counts[:, assignments == c].mean(1) if np.any(assignments == c)
                       else np.full(len(counts), -1.0) for c in range(n_classes)], axis=1)
    return np.argmax(scores, axis=1)


def images_per_second(layer, state, images, key, *, chunk: int = 250) -> float:
    """Simulated images per second of inference (compile excluded, best of 2)."""
    import time

    images = jnp.asarray(check_images(images, state.w.shape[-2])[:chunk])
    keys = _image_keys(key, np.arange(len(images)))
    jax.block_until_ready(_respond_chunk(layer, state, images, keys))
    best = math.inf
    for _ in range(2):
        t = time.perf_counter()
        jax.block_until_ready(_respond_chunk(layer, state, images, keys))
        best = min(best, time.perf_counter() - t)
    return len(images) / best
